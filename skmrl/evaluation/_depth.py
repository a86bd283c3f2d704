""":class:`DepthDimCurves`: the scores of an encoder over its depth and its size, as returned by
:func:`~skmrl.evaluation.dim_curve` with ``layers=``."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._curve import DimCurve, _pandas, _within_tolerance

__all__ = ["DepthDimCurves"]


def _check_depth(depth: Any, where: str) -> None:
    """A ``TypeError`` unless ``depth`` is an int >= 1 (a key of ``where``)."""
    if not isinstance(depth, numbers.Integral) or isinstance(depth, bool) or depth < 1:
        raise TypeError(f"the keys of {where} must be depths (ints >= 1), got {depth!r}")


@dataclass
class DepthDimCurves:
    """Scores of an encoder at several depths ``n_layers`` and sizes ``dim`` (2D Matryoshka).

    :func:`~skmrl.evaluation.dim_curve` returns one with ``layers=``: a :class:`DimCurve` per
    depth, on the same folds and dims, from one forward pass per text (every layer's vectors
    are cached from it), and the encoding time of each depth, measured apart.

    Attributes
    ----------
    curves : dict of int to DimCurve
        The curve of each depth (``n_layers``), by increasing depth. Their ``fit_seconds`` is
        the same, the fits they share; their ``encode_seconds`` is what each depth's encoding
        cost in the run: the first depth's pass runs every layer, so the others are cache hits
        (close to 0).
    encode_seconds_per_1000 : dict of int to float
        Seconds to encode 1,000 texts at each depth, running only its first layers, without the
        cache: a seeded sample of at most 256 of the texts (for retrieval, of the corpus),
        encoded once at each depth by the first fold's fitted embedder. This is what choosing a
        depth saves at inference.
    layers : ndarray of int, shape (n_layers,)
        The depths, increasing.
    dims : ndarray of int, shape (n_dims,)
        The sizes, increasing (the same at every depth).
    mean, std : ndarray of float, shape (n_layers, n_dims)
        The mean and standard deviation over the folds of every (depth, size).

    Examples
    --------
    >>> from skmrl.evaluation import DepthDimCurves, DimCurve
    >>> grid = DepthDimCurves(
    ...     curves={
    ...         2: DimCurve(dims=[16, 64, 384], scores=[[0.70, 0.80, 0.84]]),
    ...         4: DimCurve(dims=[16, 64, 384], scores=[[0.78, 0.88, 0.895]]),
    ...         6: DimCurve(dims=[16, 64, 384], scores=[[0.80, 0.895, 0.90]]),
    ...     },
    ...     encode_seconds_per_1000={2: 1.2, 4: 2.3, 6: 3.5},
    ... )
    >>> grid.smallest_dims(tolerance=0.01)  # per depth, None: never within 0.01 of the best
    {2: None, 4: 384, 6: 64}
    >>> grid.cheapest(tolerance=0.01)  # the fewest layers first, then the smallest dim
    (4, 384)
    >>> print(grid.to_markdown(digits=3))
    | layers | 16 | 64 | 384 | encode s / 1,000 texts | smallest dim within 0.01 of the best |
    |---:|---:|---:|---:|---:|---:|
    | 2 | 0.700 | 0.800 | 0.840 | 1.20 | - |
    | 4 | 0.780 | 0.880 | 0.895 | 2.30 | 384 |
    | 6 | 0.800 | 0.895 | 0.900 | 3.50 | 64 |
    """

    curves: dict[int, DimCurve]
    encode_seconds_per_1000: dict[int, float] = field(default_factory=dict)
    # What the curves give, left out of ``==`` (arrays made it raise, as DimCurve's did): two
    # grids are equal when their curves and timings are.
    layers: np.ndarray = field(init=False, compare=False)
    dims: np.ndarray = field(init=False, compare=False)
    mean: np.ndarray = field(init=False, compare=False)
    std: np.ndarray = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.curves, Mapping):
            kind = type(self.curves).__name__
            raise TypeError(f"curves must be a dict of depth (int) to DimCurve, got {kind}")
        if not self.curves:
            raise ValueError("a DepthDimCurves needs at least one curve")
        for depth, curve in self.curves.items():
            _check_depth(depth, "curves")
            if not isinstance(curve, DimCurve):
                raise TypeError(f"curves[{depth}] must be a DimCurve, got {type(curve).__name__}")
        self.curves = {int(d): self.curves[d] for d in sorted(self.curves)}
        first = next(iter(self.curves.values()))
        for depth, curve in self.curves.items():
            if not np.array_equal(curve.dims, first.dims):
                raise ValueError(
                    f"every depth needs the same dims: {curve.dims.tolist()} at {depth} layers, "
                    f"{first.dims.tolist()} at {next(iter(self.curves))}"
                )
        seconds = dict(self.encode_seconds_per_1000)
        for depth in seconds:  # int() made 2.5 depth 2, and "2" too
            _check_depth(depth, "encode_seconds_per_1000")
        seconds = {int(d): float(s) for d, s in seconds.items()}
        if seconds and set(seconds) != set(self.curves):
            raise ValueError(
                f"encode_seconds_per_1000 has the depths {sorted(seconds)}, the curves "
                f"{list(self.curves)}"
            )
        self.encode_seconds_per_1000 = {d: seconds[d] for d in self.curves if d in seconds}
        self.layers = np.array(list(self.curves), dtype=np.int64)
        self.dims = first.dims.copy()
        self.mean = np.stack([c.mean for c in self.curves.values()])
        self.std = np.stack([c.std for c in self.curves.values()])

    @property
    def task(self) -> str:
        """``"classification"``, ``"sts"`` or ``"retrieval"``."""
        return next(iter(self.curves.values())).task

    @property
    def scoring(self) -> str:
        """The score's name (``"accuracy"``, ``"spearman"``, ``"ndcg@10"``, ...)."""
        return next(iter(self.curves.values())).scoring

    def within(self, tolerance: float = 0.01) -> np.ndarray:
        """Which cells are within ``tolerance`` of the best mean score of the whole table.

        Parameters
        ----------
        tolerance : float, default=0.01
            Absolute, in the score's units.

        Returns
        -------
        ndarray of bool, shape (n_layers, n_dims)
        """
        cells = [(int(d), int(k)) for d in self.layers for k in self.dims]
        return _within_tolerance(self.mean, tolerance, "(depth, dim)", cells)

    def smallest_dims(self, tolerance: float = 0.01) -> dict[int, int | None]:
        """Each depth's smallest ``dim`` within ``tolerance`` of the best mean score of the whole
        table (``None`` where no size of that depth is).

        Parameters
        ----------
        tolerance : float, default=0.01
            Absolute, in the score's units (0.01 is one point of accuracy).

        Returns
        -------
        dict of int to int or None
        """
        good = self.within(tolerance)
        return {
            int(d): (int(self.dims[row].min()) if row.any() else None)
            for d, row in zip(self.layers, good, strict=True)
        }

    def cheapest(self, tolerance: float = 0.01) -> tuple[int, int]:
        """The cheapest ``(n_layers, dim)`` within ``tolerance`` of the best mean score: the
        fewest layers (encoding time grows with them) and, at that depth, the smallest size.

        Parameters
        ----------
        tolerance : float, default=0.01
            Absolute, in the score's units.

        Returns
        -------
        tuple of (int, int)
            Set them with ``set_params(n_layers=..., dim=...)``.
        """
        for depth, dim in self.smallest_dims(tolerance).items():
            if dim is not None:
                return depth, dim
        raise AssertionError("the best cell is always within the tolerance")  # pragma: no cover

    def to_frame(self) -> Any:
        """The table as a pandas DataFrame, one row per (depth, size).

        Returns
        -------
        pandas.DataFrame
            Columns ``n_layers``, ``dim``, ``mean``, ``std``, the mean of each of the curves'
            ``metrics`` (:class:`DimCurve`; retrieval), ``bytes_float32`` and
            ``encode_seconds_per_1000`` (NaN where not measured).
        """
        pd = _pandas("DepthDimCurves")
        frames = []
        for depth, curve in self.curves.items():
            frame = curve.to_frame().drop(columns=["bytes_int8", "bytes_binary"])
            frame.insert(0, "n_layers", depth)
            frame["encode_seconds_per_1000"] = self.encode_seconds_per_1000.get(depth, np.nan)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def to_markdown(self, digits: int = 4, tolerance: float = 0.01) -> str:
        """One row per depth, one column per ``dim`` (mean scores), the encoding time per 1,000
        texts, and the depth's smallest ``dim`` within ``tolerance`` of the best (``-``: none).

        Parameters
        ----------
        digits : int, default=4
            Decimals of the scores.
        tolerance : float, default=0.01
            Of the last column.

        Returns
        -------
        str
        """
        # A grid without a finite mean has no smallest dim anywhere: "-" in each row (it raised
        # "no (depth, dim) has a finite mean score" and printed nothing, where DimCurve's and
        # Comparison's tables show their NaN cells)
        finite = np.isfinite(self.mean).any()
        chosen = self.smallest_dims(tolerance) if finite else dict.fromkeys(self.layers.tolist())
        head = ["layers", *(str(int(d)) for d in self.dims)]
        timed = bool(self.encode_seconds_per_1000)
        if timed:
            head.append("encode s / 1,000 texts")
        head.append(f"smallest dim within {tolerance:g} of the best")
        lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
        for i, depth in enumerate(self.layers.tolist()):
            row = [str(depth), *(f"{v:.{digits}f}" for v in self.mean[i])]
            if timed:
                row.append(f"{self.encode_seconds_per_1000[depth]:.2f}")
            row.append("-" if chosen[depth] is None else str(chosen[depth]))
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)

    def plot(self, ax: Any = None, tolerance: float | None = 0.01) -> Any:
        """A heatmap of the mean score over (depth, size); see
        :func:`skmrl.plotting.plot_depth_dim`.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when omitted.
        tolerance : float or None, default=0.01
            The cells within ``tolerance`` of the best are outlined and the cheapest of them
            (:meth:`cheapest`) is marked; ``None`` marks nothing.

        Returns
        -------
        matplotlib Axes
        """
        from skmrl.plotting._common import _pyplot
        from skmrl.plotting._curves import draw_depth_dim

        plt = _pyplot("DepthDimCurves.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        draw_depth_dim(ax, self, tolerance=tolerance)
        return ax
