"""Figures for choosing ``dim``: the score against ``dim`` (:func:`plot_dim_curves`) and over
the encoder's depth and ``dim`` (:func:`plot_depth_dim`), and the drawings behind them that
``DimCurve.plot``, ``Comparison.plot`` and ``DepthDimCurves.plot`` use (:func:`draw_dim_curves`,
:func:`draw_depth_dim`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import _MARKERS, _check_axes, _pyplot

#: Line styles of the curves, one per round of the colour cycle (with the markers).
_LINESTYLES = ("-", "--", ":", "-.")
#: Labelled sizes that fit across a curve's x axis, evenly spaced in log2 (a label's width).
_DIM_LABELS = 20
#: Legend entries drawn inside the axes; more go beside them.
_LEGEND_INSIDE = 8
#: Sizes of a depth x size heatmap drawn at full width with each cell's value; more share
#: that width, their values left to the colours.
_MAX_HEATMAP_COLUMNS = 16
#: The ``gid`` of what :func:`draw_dim_curves` draws once per axes however many curves it gets
#: (the bytes axis on top, the legend entry of the rings): found again, not drawn twice.
_BYTES_AXIS = "skmrl-bytes-per-vector"
_RING_ENTRY = "skmrl-smallest-dim-ring"


def _check_tolerance(tolerance: Any) -> None:
    """``tolerance=`` of the figures that mark the chosen size: None, or what the curves' own
    check takes (the chosen size is picked with it)."""
    from skmrl.evaluation._curve import _check_tolerance as check

    if tolerance is not None:
        check(tolerance)


# -- score against dim ----------------------------------------------------------------------------
def _as_curves(curves: Any) -> dict[str, Any]:
    from skmrl.evaluation import DimCurve

    if isinstance(curves, DimCurve):
        return {"": curves}
    if hasattr(curves, "curves") and isinstance(curves.curves, Mapping):  # a Comparison
        curves = curves.curves
    if not isinstance(curves, Mapping):
        raise TypeError(
            "curves must be a Comparison, a dict of name to DimCurve or one DimCurve, "
            f"got {type(curves).__name__}"
        )
    if not curves:
        raise ValueError("curves is empty: give at least one DimCurve")
    for name, curve in curves.items():
        if not isinstance(curve, DimCurve):
            raise TypeError(f"curves[{name!r}] must be a DimCurve, got {type(curve).__name__}")
    named: dict[str, Any] = {}
    given: dict[str, Any] = {}  # each label's name as given
    for name, curve in curves.items():
        label = str(name)
        if label in named:
            raise ValueError(
                f"curves {given[label]!r} and {name!r} have the same label {label!r}: "
                "one would hide the other; rename one"
            )
        named[label], given[label] = curve, name
    return named


def plot_dim_curves(
    curves: Any, *, ax: Any = None, title: str | None = None, tolerance: float | None = None
) -> Any:
    """Plot the score against ``dim`` of one or several embedders.

    One line per embedder with the standard deviation over the folds as error bars, ``dim`` on a
    log2 x-axis whose ticks are the measured sizes, and the bytes of one float32 vector
    (``4 * dim``) on a second x-axis on top. With ``tolerance``, each line's chosen size (its
    :meth:`~skmrl.evaluation.DimCurve.smallest_dim`) is ringed, and the legend says so.

    Parameters
    ----------
    curves : Comparison, dict of str to DimCurve, or DimCurve
        What :func:`skmrl.evaluation.compare` or :func:`skmrl.evaluation.dim_curve` returned.
        The names label the lines in the legend (a single ``DimCurve`` gets no legend).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Title of the axes.
    tolerance : float, optional
        Ring each line's smallest ``dim`` whose mean score is within ``tolerance`` (absolute, in
        the score's units: 0.01 is one point of accuracy) of its best mean score.

    Returns
    -------
    matplotlib Figure, or the given Axes when ``ax`` is given.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.evaluation import dim_curve
    >>> from skmrl.plotting import plot_dim_curves
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> curve = dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[2, 4, 8, 16], cv=4)
    >>> fig = plot_dim_curves({"tf-idf": curve}, title="LSA size", tolerance=0.05)
    >>> fig.axes[0].get_xlabel()
    'embedding size (dim)'
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['tf-idf', 'smallest dim within 0.05 of the best']
    """
    plt = _pyplot("plot_dim_curves")
    named = _as_curves(curves)
    _check_tolerance(tolerance)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    draw_dim_curves(ax, named, tolerance=tolerance)
    if title is not None:
        ax.set_title(title)
    return ax if fig is None else fig


def _score_label(curves: Any) -> str:
    """The y label of curves against ``dim``: the score's name, and what the points and the
    error bars are when some curve has several folds (a figure in a report says it itself).

    Examples
    --------
    >>> from skmrl.evaluation import DimCurve
    >>> from skmrl.plotting._curves import _score_label
    >>> _score_label([DimCurve(dims=[8], scores=[[0.5], [0.7]])])
    'accuracy (mean ± std over 2 folds)'
    >>> _score_label([DimCurve(dims=[8], scores=[[0.5]], scoring="ndcg@10")])
    'ndcg@10'
    """
    return _label_of([(c.scoring, int(c.scores.shape[0])) for c in curves])


def _label_of(scored: Sequence[tuple[str, int]]) -> str:
    """:func:`_score_label` of curves given as ``(scoring, number of folds)``."""
    name = " / ".join(dict.fromkeys(scoring for scoring, _ in scored))
    folds = sorted({n for _, n in scored})
    if folds[-1] == 1:  # one evaluation each (retrieval, a frozen encoder's STS): no error bars
        return name
    return f"{name} (mean ± std over {' or '.join(map(str, folds))} folds)"


def _labelled_dims(dims: np.ndarray) -> np.ndarray:
    """The sizes (increasing) whose ticks get a label: all of them while the labels have room
    on a log2 axis, else the smallest, the powers of two between and the largest, each at least
    1/:data:`_DIM_LABELS` of the axis from the next.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.plotting._curves import _labelled_dims
    >>> _labelled_dims(np.array([8, 16, 32, 384])).tolist()
    [8, 16, 32, 384]
    >>> _labelled_dims(np.arange(8, 385, 8)).tolist()
    [8, 16, 32, 64, 128, 256, 384]
    """
    dims = np.asarray(dims)
    logs = np.log2(dims)
    gap = (logs[-1] - logs[0]) / _DIM_LABELS
    if len(dims) <= 2 or np.diff(logs).min() >= gap:
        return dims
    kept = [int(dims[0])]
    for power in 2 ** np.arange(int(logs[0]) + 1, int(np.ceil(logs[-1]))):
        if np.log2(power) - np.log2(kept[-1]) >= gap and logs[-1] - np.log2(power) >= gap:
            kept.append(int(power))
    return np.array([*kept, int(dims[-1])])


def draw_dim_curves(
    ax: Any, named: Mapping[str, Any], *, tolerance: float | None = None, **errorbar_kwargs: Any
) -> None:
    """Draw curves (name -> DimCurve) on ``ax``: the one drawing behind :func:`plot_dim_curves`,
    ``DimCurve.plot`` and ``Comparison.plot``. Empty names get no legend entry;
    ``errorbar_kwargs`` go to every ``ax.errorbar``; with ``tolerance``, each curve's
    ``smallest_dim(tolerance)`` is ringed in the curve's colour.

    Curves drawn on ``ax`` before (``curve.plot(ax=ax)`` twice) stay in the legend and keep
    their sizes' ticks, and the bytes axis on top is the one drawn with them: the legend and
    the ticks showed the last curve's alone, and a second bytes axis overlapped the first."""
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, NullFormatter

    _check_axes(ax)
    tops = [a for a in ax.child_axes if a.get_gid() == _BYTES_AXIS]
    before = ax.xaxis.get_minor_locator()  # every size drawn on ax so far, when tops
    drawn_dims = np.zeros(0, dtype=np.int64)
    if tops and isinstance(before, FixedLocator):
        drawn_dims = np.asarray(before.locs).astype(np.int64)
    old_legend = ax.get_legend()
    # Past the colour cycle's length (10 by default) colours come round again: each round gets
    # another marker and line style, so that the 11th line is not the 1st one's twin.
    colours = max(1, len(mpl.rcParams["axes.prop_cycle"].by_key().get("color", [])))
    for i, (name, curve) in enumerate(named.items()):
        turn = i // colours
        defaults = {
            "marker": _MARKERS[turn % len(_MARKERS)],
            "linestyle": _LINESTYLES[turn % len(_LINESTYLES)],
            "capsize": 3,
        }
        # A format string (fmt="s--") or the alias ls= says the marker and line style: the
        # defaults passed beside it as keywords won over it (matplotlib lets keywords win).
        if "fmt" in errorbar_kwargs:
            del defaults["marker"], defaults["linestyle"]
        elif "ls" in errorbar_kwargs:
            del defaults["linestyle"]
        style = {**defaults, **errorbar_kwargs}
        drawn = ax.errorbar(curve.dims, curve.mean, yerr=curve.std, label=name or None, **style)
        if tolerance is not None and np.isfinite(curve.mean).any():  # else no size to ring
            chosen = curve.smallest_dim(tolerance)
            at = int(np.flatnonzero(curve.dims == chosen)[0])
            ax.plot(
                [chosen], [curve.mean[at]], linestyle="none", marker="o", markersize=14,
                markerfacecolor="none", markeredgewidth=2, color=drawn.lines[0].get_color(),
            )  # fmt: skip
    dims = np.unique(np.concatenate([drawn_dims, *(np.asarray(c.dims) for c in named.values())]))
    ax.set_xscale("log", base=2)
    shown = _labelled_dims(dims)  # every measured size keeps a tick; the labels need room
    ax.set_xticks(shown, [str(int(d)) for d in shown])
    ax.set_xticks(dims, minor=True)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("embedding size (dim)")
    if tops:
        (top,) = tops
    else:
        top = ax.secondary_xaxis("top", functions=(lambda d: 4 * d, lambda b: b / 4))
        top.set_gid(_BYTES_AXIS)
    # The y label names the scores of every curve on ax, those drawn before too (kept on the
    # bytes axis, drawn once per ax): a second curve.plot(ax=ax) labelled the axis with its
    # own scoring alone, under a first curve of another
    scored = getattr(top, "_skmrl_scored", [])
    scored += [(c.scoring, int(c.scores.shape[0])) for c in named.values()]
    top._skmrl_scored = scored
    ax.set_ylabel(_label_of(scored))
    ax.grid(True, alpha=0.3)
    top.set_xticks(4 * shown, [str(int(b)) for b in 4 * shown])
    top.set_xticks(4 * dims, minor=True)
    top.xaxis.set_minor_formatter(NullFormatter())
    top.set_xlabel("bytes per vector (float32)")
    if tolerance is not None:  # one legend entry for the rings, in a neutral colour, last
        (ring,) = ax.plot(
            [], [], linestyle="none", marker="o", markersize=10, markerfacecolor="none",
            markeredgewidth=2, color="0.3", label=f"smallest dim within {tolerance:g} of the best",
        )  # fmt: skip
        ring.set_gid(_RING_ENTRY)
    # Every labelled curve on ax (those drawn before too), then the rings' entry, once each
    entries, labels = ax.get_legend_handles_labels()
    is_ring = [isinstance(e, Line2D) and e.get_gid() == _RING_ENTRY for e in entries]
    rings = {label: e for e, label, ring in zip(entries, labels, is_ring, strict=True) if ring}
    handles = [e for e, ring in zip(entries, is_ring, strict=True) if not ring]
    handles += rings.values()
    if handles:
        titled = old_legend is not None and old_legend.get_title().get_text() == "embedder"
        title = "embedder" if any(named) or titled else None
        if len(handles) > _LEGEND_INSIDE:  # a long legend beside the axes, not over the lines
            ax.legend(
                handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.02, 1),
                fontsize="small",
            )  # fmt: skip
        else:
            ax.legend(handles=handles, title=title)


# -- score over (depth, dim) ----------------------------------------------------------------------
def plot_depth_dim(
    grid: Any, *, ax: Any = None, title: str | None = None, tolerance: float | None = 0.01
) -> Any:
    """A heatmap of the mean score over the encoder's depth and the embedding's size.

    Rows are the depths (``n_layers``), labelled with the encoding time per 1,000 texts when
    measured; columns are the sizes (``dim``); each cell shows its mean score (up to 16
    sizes; past them the colours alone, and every few sizes labelled). With
    ``tolerance``, the cells within ``tolerance`` of the best are outlined (dashed), and the
    cheapest of them (:meth:`~skmrl.evaluation.DepthDimCurves.cheapest`: the fewest layers, then the
    smallest size) is marked with a thick border.

    Parameters
    ----------
    grid : DepthDimCurves
        What :func:`skmrl.evaluation.dim_curve` returned with ``layers=``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Title of the axes.
    tolerance : float or None, default=0.01
        Absolute, in the score's units; ``None`` marks nothing.

    Returns
    -------
    matplotlib Figure, or the given Axes when ``ax`` is given.

    Examples
    --------
    >>> from skmrl.evaluation import DepthDimCurves, DimCurve
    >>> from skmrl.plotting import plot_depth_dim
    >>> grid = DepthDimCurves(
    ...     {3: DimCurve(dims=[16, 64], scores=[[0.7, 0.85]]),
    ...      6: DimCurve(dims=[16, 64], scores=[[0.8, 0.86]])},
    ...     encode_seconds_per_1000={3: 1.1, 6: 2.0},
    ... )
    >>> fig = plot_depth_dim(grid, tolerance=0.01)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['3 (1.10 s)', '6 (2.00 s)']
    >>> len(fig.axes[0].texts)  # one value per cell
    4
    """
    from skmrl.evaluation import DepthDimCurves

    if not isinstance(grid, DepthDimCurves):
        raise TypeError(
            "grid must be the DepthDimCurves that dim_curve(..., layers=[...]) returns, got "
            f"{type(grid).__name__}"
        )
    _check_tolerance(tolerance)
    plt = _pyplot("plot_depth_dim")
    fig = None
    if ax is None:
        columns = min(len(grid.dims), _MAX_HEATMAP_COLUMNS)  # 48 sizes made it 56 inches wide
        fig, ax = plt.subplots(
            # at least 5.5 inches: the legend's longest line (the cheapest cell) is about 4 wide,
            # and a grid of 2 sizes cut it at both sides
            figsize=(max(1.1 * columns + 3.0, 5.5), 0.55 * len(grid.layers) + 2.0),
            layout="constrained",
        )
    draw_depth_dim(ax, grid, tolerance=tolerance)
    if title is not None:
        ax.set_title(title)
    return ax if fig is None else fig


def draw_depth_dim(ax: Any, grid: Any, *, tolerance: float | None = None) -> None:
    """Draw the heatmap of :func:`plot_depth_dim` on ``ax`` (also behind
    ``DepthDimCurves.plot``)."""
    from matplotlib.patches import Rectangle

    _check_axes(ax)

    mean = grid.mean
    finite = mean[np.isfinite(mean)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    image = ax.imshow(mean, cmap="viridis", vmin=low, vmax=high, aspect="auto", origin="lower")
    n_layers, n_dims = mean.shape
    mid = (low + high) / 2
    for r in range(n_layers if n_dims <= _MAX_HEATMAP_COLUMNS else 0):  # else no room: colours
        for c in range(n_dims):
            ax.text(
                c, r, f"{mean[r, c]:.3f}", ha="center", va="center", fontsize="small",
                color="black" if mean[r, c] > mid else "white",
            )  # fmt: skip
    step = -(-n_dims // _MAX_HEATMAP_COLUMNS)  # every size a tick; a label on every step-th
    ax.set_xticks(
        range(n_dims), [str(int(d)) if c % step == 0 else "" for c, d in enumerate(grid.dims)]
    )
    seconds = grid.encode_seconds_per_1000
    ax.set_yticks(
        range(n_layers),
        [f"{d} ({seconds[d]:.2f} s)" if d in seconds else str(d) for d in grid.layers.tolist()],
    )
    ax.set_xlabel("embedding size (dim)")
    ax.set_ylabel("layers (encode s / 1,000 texts)" if seconds else "layers (n_layers)")
    ax.figure.colorbar(image, ax=ax, label=f"{grid.scoring} (mean)")
    if tolerance is None or not finite.size:  # no finite cell: none is within any tolerance
        return
    good = grid.within(tolerance)
    for i, (r, c) in enumerate(zip(*np.nonzero(good), strict=True)):
        ax.add_patch(
            Rectangle(
                (c - 0.45, r - 0.45), 0.9, 0.9, fill=False, edgecolor="black", linewidth=1.2,
                linestyle="--", label=f"within {tolerance:g} of the best" if i == 0 else None,
            )
        )  # fmt: skip
    depth, dim = grid.cheapest(tolerance)
    layers = f"{depth} layer" + ("s" if depth != 1 else "")
    r = int(np.flatnonzero(grid.layers == depth)[0])
    c = int(np.flatnonzero(grid.dims == dim)[0])
    ax.add_patch(
        Rectangle(
            (c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=3,
            label=f"cheapest within {tolerance:g} of the best: {layers}, dim {dim}",
        )
    )  # fmt: skip
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False, fontsize="small",
        ncols=2 if n_dims > 4 else 1,  # a narrow grid: one entry under the other
    )  # fmt: skip
