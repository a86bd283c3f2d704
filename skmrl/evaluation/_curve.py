"""The results of :mod:`skmrl.evaluation`: :class:`DimCurve` (one embedder) and :class:`Comparison`
(several)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["Comparison", "DimCurve"]

#: Relative slack of the tolerance test, for float rounding: a mean of fold scores exactly
#: ``tolerance`` below the best (0.94 against 0.95 at 0.01) can come out a unit in the last place
#: under ``best - tolerance``, and was then left out.
_ROUNDING = 1e-12


def _check_tolerance(tolerance: Any) -> float:
    """``tolerance`` as a float, or a ``ValueError``: it must be a real number ``>= 0`` (not a
    bool: ``True`` is no tolerance anyone means).

    A NumPy float narrower than float64 (``np.float32(0.01)``, read from a float32 array) is the
    decimal it stands for, the shortest that its own type reads back (``0.01``), not its binary
    value: ``float(np.float32(0.01))`` is 0.0099999998, a float32 unit under ``0.01``, far more
    than the rounding slack, so a mean exactly 0.01 below the best was left out."""
    if isinstance(tolerance, bool) or not (isinstance(tolerance, numbers.Real) and tolerance >= 0):
        raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
    if isinstance(tolerance, np.floating) and np.finfo(tolerance.dtype).bits < 64:
        return float(np.format_float_scientific(tolerance, unique=True))
    return float(tolerance)


def _within_tolerance(
    scores: np.ndarray, tolerance: Any, what: str, labels: Sequence[Any] | None = None
) -> np.ndarray:
    """Which ``scores`` are finite and at least ``best - tolerance`` (``best``: the largest
    finite one), up to float rounding; a ``ValueError`` when none is finite (``what``: what a
    score belongs to, for the message). With ``labels`` (one per score, flattened), a
    ``UserWarning`` names those left out for a non-finite mean: a fold that scored NaN there
    (a constant Spearman, a failed scorer) takes its size out of the choice, and the best
    among the rest can lie far below what that size scored in the other folds."""
    tolerance = _check_tolerance(tolerance)
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    if not finite.any():
        raise ValueError(f"no {what} has a finite mean score")
    if labels is not None and not finite.all():
        import warnings

        from skmrl._warn import caller_stacklevel

        left_out = [labels[i] for i in np.flatnonzero(~finite.ravel())]
        warnings.warn(
            f"no finite mean score at {what} {', '.join(map(str, left_out))} (a fold scored "
            "NaN or inf there: see scores); left out of the choice",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    best = scores[finite].max()
    slack = _ROUNDING * max(1.0, abs(best), tolerance)
    return finite & (scores >= best - tolerance - slack)


def _pandas(owner: str) -> Any:
    """pandas, for ``<owner>.to_frame``, or an ImportError that says its to_markdown needs none."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is in the dev extra
        raise ImportError(
            f"{owner}.to_frame needs pandas (pip install pandas); {owner}.to_markdown needs nothing"
        ) from exc
    return pd


# -- the result ------------------------------------------------------------------------------------
def _check_curve_dims(dims: Any) -> np.ndarray:
    """A curve's sizes as int64: 1-D, at least one, whole numbers >= 1, increasing. The figures
    and tables trust them: unsorted sizes drew a zigzag line, ``[]`` failed in the plot with an
    IndexError, ``8.5`` became 8 and ``"8"`` was read as a number."""
    values = np.asarray(dims)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"dims must be a 1-D list of at least one size, got {dims!r}")
    if values.dtype.kind == "O" and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    ):  # numbers in an object column: cv_results_' param_*__dim with its None row dropped
        values = values.astype(np.float64)
    if values.dtype.kind not in "iu" and not (
        values.dtype.kind == "f" and np.all(np.isfinite(values) & (values == np.round(values)))
    ):
        raise TypeError(f"dims must hold whole numbers, got {values.tolist()!r}")
    values = values.astype(np.int64)
    if values.min() < 1 or np.any(np.diff(values) <= 0):
        raise ValueError(f"dims must be increasing sizes >= 1, got {values.tolist()}")
    return values


@dataclass
class DimCurve:
    """Scores of one embedder at several sizes ``dim``, as returned by :func:`dim_curve`.

    Attributes
    ----------
    dims : ndarray of int, shape (n_dims,)
        The sizes, increasing.
    mean, std : ndarray of float, shape (n_dims,)
        Mean and standard deviation of the score over the folds at each size (``std`` is 0 when
        there is a single evaluation).
    scores : ndarray of float, shape (n_folds, n_dims)
        The score of each fold at each size.
    bytes_per_vector : dict of str to ndarray of int
        Storage of one vector at each size: ``"float32"`` (``4 * dim``), ``"int8"`` (``dim``)
        and ``"binary"`` (``ceil(dim / 8)``, one bit per coordinate).
    fit_seconds : float
        Wall time spent fitting the embedder, summed over the folds.
    encode_seconds : float
        Wall time spent encoding the texts at full size, summed over the folds.
    task : str
        ``"classification"``, ``"sts"`` or ``"retrieval"``.
    scoring : str
        Name of the score (``"accuracy"``, the scorer's name, ``"spearman"``, or for retrieval
        ``"ndcg@10"``, ``"recall@100"``, ...).
    metrics : dict of str to ndarray of float, shape (n_folds, n_dims) each
        Every score measured, by name, when there are several: a retrieval curve holds
        ``"ndcg@10"`` and ``"recall@100"`` (and its ``scoring``, which equals ``scores``).
        Empty for classification and STS, whose only score is ``scores``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.evaluation import DimCurve
    >>> curve = DimCurve(dims=np.array([8, 16, 32]), scores=np.array([[0.80, 0.91, 0.92]]))
    >>> curve.smallest_dim(tolerance=0.01)
    16
    >>> print(curve.to_markdown())
    | dim | accuracy | std | float32 bytes | int8 bytes | binary bytes |
    |---:|---:|---:|---:|---:|---:|
    | 8 | 0.8000 | 0.0000 | 32 | 8 | 1 |
    | 16 | 0.9100 | 0.0000 | 64 | 16 | 2 |
    | 32 | 0.9200 | 0.0000 | 128 | 32 | 4 |
    """

    dims: np.ndarray
    scores: np.ndarray
    fit_seconds: float = 0.0
    encode_seconds: float = 0.0
    task: str = "classification"
    scoring: str = "accuracy"
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    mean: np.ndarray = field(init=False, compare=False)
    std: np.ndarray = field(init=False, compare=False)
    bytes_per_vector: dict[str, np.ndarray] = field(init=False, compare=False)

    if TYPE_CHECKING:
        # The constructor as type checkers see it (the dataclass makes the real one, with these
        # parameters: tests/test_package.py checks): dims, scores and metrics take any
        # array-like, lists in the examples, which __post_init__ makes arrays; the fields (what
        # users read) stay ndarray. Without it mypy refused DimCurve(dims=[8, 16], ...).
        def __init__(
            self,
            dims: ArrayLike,
            scores: ArrayLike,
            fit_seconds: float = 0.0,
            encode_seconds: float = 0.0,
            task: str = "classification",
            scoring: str = "accuracy",
            metrics: Mapping[str, ArrayLike] = ...,
        ) -> None: ...

    def __post_init__(self) -> None:
        self.dims = _check_curve_dims(self.dims)
        self.scores = np.atleast_2d(np.asarray(self.scores, dtype=np.float64))
        if self.scores.shape[1] != len(self.dims):
            raise ValueError(
                f"scores has {self.scores.shape[1]} columns but there are {len(self.dims)} dims"
            )
        metrics = {}
        for name, values in dict(self.metrics).items():
            values = np.atleast_2d(np.asarray(values, dtype=np.float64))
            if values.shape != self.scores.shape:
                raise ValueError(
                    f"metrics[{name!r}] has shape {values.shape}, unlike scores {self.scores.shape}"
                )
            metrics[str(name)] = values
        self.metrics = metrics
        self.mean = self.scores.mean(axis=0)
        self.std = self.scores.std(axis=0)
        self.bytes_per_vector = {
            "float32": 4 * self.dims,
            "int8": self.dims.copy(),
            "binary": -(-self.dims // 8),
        }

    def __eq__(self, other: object) -> bool:
        """Whether ``other`` is a ``DimCurve`` of the same values: dims, scores (NaN equal to
        NaN, so that a copy equals its curve), timings, task, scoring and metrics. The
        dataclass's own ``==`` compared the arrays as tuples and raised "the truth value of an
        array with more than one element is ambiguous"."""
        if not isinstance(other, DimCurve):
            return NotImplemented
        return (
            (self.fit_seconds, self.encode_seconds, self.task, self.scoring)
            == (other.fit_seconds, other.encode_seconds, other.task, other.scoring)
            and np.array_equal(self.dims, other.dims)
            and np.array_equal(self.scores, other.scores, equal_nan=True)
            and self.metrics.keys() == other.metrics.keys()
            and all(
                np.array_equal(values, other.metrics[name], equal_nan=True)
                for name, values in self.metrics.items()
            )
        )

    def smallest_dim(self, tolerance: float = 0.01) -> int:
        """The smallest ``dim`` whose mean score is within ``tolerance`` of the best mean.

        Parameters
        ----------
        tolerance : float, default=0.01
            Absolute, in the score's units: with accuracy, ``0.01`` is one percentage point
            (``best - 0.01``), not 1% of the best. A mean exactly ``tolerance`` below the best
            is within it, whatever the float rounding of the means. A ``dim`` whose mean is
            NaN (a fold scored NaN there) is left out, with a ``UserWarning``.

        Returns
        -------
        int
        """
        ok = _within_tolerance(self.mean, tolerance, "dim", self.dims.tolist())
        return int(self.dims[ok].min())

    def to_frame(self) -> Any:
        """The curve as a pandas DataFrame, one row per ``dim``.

        Returns
        -------
        pandas.DataFrame
            Columns ``dim``, ``mean``, ``std``, then the mean of each of the curve's ``metrics``
            under its name (a retrieval curve: ``ndcg@10``, ``recall@100``), then ``bytes_float32``,
            ``bytes_int8``, ``bytes_binary``.
        """
        pd = _pandas("DimCurve")
        return pd.DataFrame(
            {
                "dim": self.dims,
                "mean": self.mean,
                "std": self.std,
                **{name: values.mean(axis=0) for name, values in self.metrics.items()},
                **{f"bytes_{k}": v for k, v in self.bytes_per_vector.items()},
            }
        )

    def to_markdown(self, digits: int = 4) -> str:
        """The curve as a Markdown table (no dependency).

        The columns: ``dim``, the mean score (headed by the curve's ``scoring``) and its
        ``std``, the mean of every other of its ``metrics``, and the bytes of one vector.

        Parameters
        ----------
        digits : int, default=4
            Decimals of the scores.

        Returns
        -------
        str

        Examples
        --------
        >>> from skmrl.evaluation import DimCurve
        >>> curve = DimCurve(
        ...     dims=[8, 16],
        ...     scores=[[0.25, 0.5]],
        ...     task="retrieval",
        ...     scoring="ndcg@10",
        ...     metrics={"ndcg@10": [[0.25, 0.5]], "recall@100": [[0.5, 0.75]]},
        ... )
        >>> print(curve.to_markdown(digits=2))
        | dim | ndcg@10 | std | recall@100 | float32 bytes | int8 bytes | binary bytes |
        |---:|---:|---:|---:|---:|---:|---:|
        | 8 | 0.25 | 0.00 | 0.50 | 32 | 8 | 1 |
        | 16 | 0.50 | 0.00 | 0.75 | 64 | 16 | 2 |
        """
        others = {name: v.mean(axis=0) for name, v in self.metrics.items() if name != self.scoring}
        head = [
            "dim",
            self.scoring,
            "std",
            *others,
            "float32 bytes",
            "int8 bytes",
            "binary bytes",
        ]
        lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
        for i, d in enumerate(self.dims):
            row = [
                str(int(d)),
                f"{self.mean[i]:.{digits}f}",
                f"{self.std[i]:.{digits}f}",
                *(f"{v[i]:.{digits}f}" for v in others.values()),
                *(str(int(v[i])) for v in self.bytes_per_vector.values()),
            ]
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Plot the mean score against ``dim`` (log2 axis), with the std as error bars.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when omitted.
        **kwargs
            Passed to ``ax.errorbar`` (``label=``, ``color=``, ...).

        Returns
        -------
        matplotlib Axes
        """
        from skmrl.plotting._common import _pyplot
        from skmrl.plotting._curves import draw_dim_curves

        plt = _pyplot("DimCurve.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
        label = kwargs.pop("label", "")
        draw_dim_curves(ax, {label: self}, **kwargs)
        return ax


# -- several embedders ----------------------------------------------------------------------------
@dataclass
class Comparison:
    """The :class:`DimCurve` of several embedders on the same folds, as returned by :func:`compare`.

    Attributes
    ----------
    curves : dict of str to DimCurve
        One curve per embedder, in the order given to :func:`compare`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.evaluation import Comparison, DimCurve
    >>> comp = Comparison(
    ...     {
    ...         "tf-idf": DimCurve(dims=np.array([8, 16]), scores=np.array([[0.70, 0.80]])),
    ...         "encoder": DimCurve(dims=np.array([8, 16, 32]), scores=[[0.90, 0.95, 0.955]]),
    ...     }
    ... )
    >>> comp.smallest_dims(tolerance=0.01)
    {'tf-idf': 16, 'encoder': 16}
    >>> print(comp.to_markdown(digits=2))
    | dim | tf-idf | encoder |
    |---:|---:|---:|
    | 8 | 0.70 ± 0.00 | 0.90 ± 0.00 |
    | 16 | 0.80 ± 0.00 | 0.95 ± 0.00 |
    | 32 |  | 0.95 ± 0.00 |
    | smallest dim within 0.01 of the best | 16 | 16 |
    """

    curves: dict[str, DimCurve]

    def __post_init__(self) -> None:
        if not isinstance(self.curves, Mapping):  # a list of curves failed on .items()
            raise TypeError(
                "curves must be a dict of name (str) to DimCurve, such as {'tf-idf': curve}, "
                f"got {type(self.curves).__name__}"
            )
        if not self.curves:
            raise ValueError("a Comparison needs at least one curve")
        for name, curve in self.curves.items():
            if not isinstance(name, str):
                raise TypeError(f"curve names must be str, got {name!r}")
            if not isinstance(curve, DimCurve):
                raise TypeError(f"curves[{name!r}] must be a DimCurve, got {type(curve).__name__}")

    @property
    def dims(self) -> np.ndarray:
        """Every ``dim`` of any curve, increasing."""
        return np.unique(np.concatenate([c.dims for c in self.curves.values()]))

    def smallest_dims(self, tolerance: float = 0.01) -> dict[str, int]:
        """Each embedder's smallest ``dim`` within ``tolerance`` of its own best mean score.

        Parameters
        ----------
        tolerance : float, default=0.01
            Absolute, in the score's units (see :meth:`DimCurve.smallest_dim`).

        Returns
        -------
        dict of str to int
        """
        return {name: c.smallest_dim(tolerance) for name, c in self.curves.items()}

    def to_frame(self) -> Any:
        """The curves as one pandas DataFrame in long format, one row per embedder and ``dim``.

        Returns
        -------
        pandas.DataFrame
            Columns ``embedder``, ``dim``, ``mean``, ``std``, the mean of each metric of the
            curves' ``metrics`` (:class:`DimCurve`; retrieval: ``ndcg@10``, ``recall@100``; NaN
            for a curve without it), ``bytes_float32``, ``fit_seconds`` and ``encode_seconds``
            (the embedder's totals over its folds, repeated on each of its rows).
        """
        pd = _pandas("Comparison")
        names = list(dict.fromkeys(m for c in self.curves.values() for m in c.metrics))
        frames = [
            pd.DataFrame(
                {
                    "embedder": name,
                    "dim": c.dims,
                    "mean": c.mean,
                    "std": c.std,
                    **{m: c.metrics[m].mean(axis=0) if m in c.metrics else np.nan for m in names},
                    "bytes_float32": c.bytes_per_vector["float32"],
                    "fit_seconds": c.fit_seconds,
                    "encode_seconds": c.encode_seconds,
                }
            )
            for name, c in self.curves.items()
        ]
        return pd.concat(frames, ignore_index=True)

    def to_markdown(self, digits: int = 4, tolerance: float = 0.01) -> str:
        """One row per ``dim``, one column per embedder (``mean ± std``), and the chosen dims.

        A cell is blank where the embedder has no such ``dim``; the last row holds each
        embedder's :meth:`smallest_dims` for ``tolerance``, or "—" for a curve with no finite
        mean score (every size scored NaN), which has none.

        Parameters
        ----------
        digits : int, default=4
            Decimals of the scores.
        tolerance : float, default=0.01
            Of the last row.

        Returns
        -------
        str
        """
        names = list(self.curves)
        lines = ["| " + " | ".join(["dim", *names]) + " |", "|" + "---:|" * (len(names) + 1)]
        for d in self.dims:
            row = [str(int(d))]
            for c in self.curves.values():
                hit = np.flatnonzero(c.dims == d)
                if hit.size:
                    i = int(hit[0])
                    row.append(f"{c.mean[i]:.{digits}f} ± {c.std[i]:.{digits}f}")
                else:
                    row.append("")
            lines.append("| " + " | ".join(row) + " |")
        tolerance = _check_tolerance(tolerance)
        # A curve without a finite mean has no smallest dim: "—", the others' still shown (it
        # raised "no dim has a finite mean score" for the whole table)
        chosen = {
            name: str(c.smallest_dim(tolerance)) if np.isfinite(c.mean).any() else "—"
            for name, c in self.curves.items()
        }
        lines.append(
            "| "
            + " | ".join([f"smallest dim within {tolerance:g} of the best"])
            + " | "
            + " | ".join(chosen[n] for n in names)
            + " |"
        )
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """One line per embedder: mean score against ``dim`` (log2 axis), std as error bars.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when omitted.

        Returns
        -------
        matplotlib Axes
        """
        from skmrl.plotting._common import _pyplot
        from skmrl.plotting._curves import draw_dim_curves

        plt = _pyplot("Comparison.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
        draw_dim_curves(ax, self.curves)
        return ax
