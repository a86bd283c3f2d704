"""Figures for choosing ``dim`` and for looking at embeddings (the ``plot`` extra: matplotlib).

Import from this module: ``from skmrl.plotting import plot_dim_curves`` (the functions are not
re-exported from ``skmrl``). Importing it loads neither matplotlib nor torch; each function imports
matplotlib when called and raises an :class:`ImportError` naming ``pip install 'skmrl[plot]'`` when
it is missing.

- :func:`plot_dim_curves`: score against ``dim`` (log2 axis, error bars, one line per embedder),
  with the bytes of one float32 vector on a second x-axis on top.
- :func:`plot_depth_dim`: the score over the encoder's depth and the size (2D Matryoshka) as a
  heatmap, each depth labelled with its encoding time, the cheapest good cell marked.
- :func:`plot_document_map`: a 2-D map of documents (t-SNE, or UMAP) coloured by label, one panel
  per embedder, to show keyword clusters (TF-IDF) beside meaning clusters (an encoder).
- :func:`plot_similarity_heatmap`: the cosine similarities of a handful of sentences under each
  embedder.

Each function returns the matplotlib ``Figure``, or the ``Axes`` it was given with ``ax=``. In a
Jupyter notebook, a call left as a cell's last line shows the figure twice (once drawn at the end
of the cell, once as the cell's value, as with any pyplot figure returned there): assign it
(``fig = plot_dim_curves(...)``) or end the line with ``;``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skmrl._progress import check_progress, progress_bar
from skmrl._validation import check_seed

__all__ = [
    "plot_depth_dim",
    "plot_dim_curves",
    "plot_document_map",
    "plot_similarity_heatmap",
]

_MAX_TICK_CHARS = 30
_MAX_ANNOTATED = 10
#: Labelled sizes that fit across a curve's x axis, evenly spaced in log2 (a label's width).
_DIM_LABELS = 20
#: Markers and line styles of the curves, one per round of the colour cycle.
_MARKERS = ("o", "s", "^", "D", "v")
_LINESTYLES = ("-", "--", ":", "-.")
#: Legend entries drawn inside the axes; more go beside them.
_LEGEND_INSIDE = 8
#: Sizes of a depth x size heatmap drawn at full width with each cell's value; more share
#: that width, their values left to the colours.
_MAX_HEATMAP_COLUMNS = 16
#: Rows of a document map's legend of labels, in as many columns as it takes.
_LEGEND_ROWS = 16
#: The ``gid`` of what :func:`draw_dim_curves` draws once per axes however many curves it gets
#: (the bytes axis on top, the legend entry of the rings): found again, not drawn twice.
_BYTES_AXIS = "skmrl-bytes-per-vector"
_RING_ENTRY = "skmrl-smallest-dim-ring"


def _pyplot(what: str) -> Any:
    """``matplotlib.pyplot``, or one ImportError naming the ``plot`` extra (missing, or older
    than the extra's 3.7, whose legend placements ``plot_document_map`` uses)."""
    from skmrl._extras import MATPLOTLIB_MIN, PLOT_INSTALL, import_optional

    return import_optional("matplotlib.pyplot", what, PLOT_INSTALL, min_version=MATPLOTLIB_MIN)


def _check_axes(ax: Any) -> None:
    """A ``TypeError`` unless ``ax`` is one matplotlib Axes: the array of them that
    ``plt.subplots(1, 2)`` returns failed deep in the drawing with an AttributeError."""
    from matplotlib.axes import Axes

    if isinstance(ax, Axes):
        return
    if isinstance(ax, np.ndarray | Sequence) and not isinstance(ax, str):
        held = "an array" if isinstance(ax, np.ndarray) else f"a {type(ax).__name__}"
        raise TypeError(
            f"ax must be one matplotlib Axes, got {held} of {np.size(ax)} (plt.subplots(1, 2) "
            "returns an array of Axes): pass one of them, such as axes[0]"
        )
    raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")


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
    >>> from skmrl.plotting import _score_label
    >>> _score_label([DimCurve(dims=[8], scores=[[0.5], [0.7]])])
    'accuracy (mean ± std over 2 folds)'
    >>> _score_label([DimCurve(dims=[8], scores=[[0.5]], scoring="ndcg@10")])
    'ndcg@10'
    """
    curves = list(curves)
    name = " / ".join(dict.fromkeys(c.scoring for c in curves))
    folds = sorted({int(c.scores.shape[0]) for c in curves})
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
    >>> from skmrl.plotting import _labelled_dims
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
        style = {
            "marker": _MARKERS[turn % len(_MARKERS)],
            "linestyle": _LINESTYLES[turn % len(_LINESTYLES)],
            "capsize": 3,
            **errorbar_kwargs,
        }
        drawn = ax.errorbar(curve.dims, curve.mean, yerr=curve.std, label=name or None, **style)
        if tolerance is not None:
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
    ax.set_ylabel(_score_label(named.values()))
    ax.grid(True, alpha=0.3)
    if tops:
        (top,) = tops
    else:
        top = ax.secondary_xaxis("top", functions=(lambda d: 4 * d, lambda b: b / 4))
        top.set_gid(_BYTES_AXIS)
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
            figsize=(1.1 * columns + 3.0, 0.55 * len(grid.layers) + 2.0), layout="constrained"
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
    if tolerance is None:
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
        loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False, fontsize="small", ncols=2
    )


# -- helpers shared by the map and the heatmap ----------------------------------------------------
def _is_vectors(value: Any) -> bool:
    """Whether ``value`` is a matrix of vectors (numpy array or scipy sparse), not an embedder."""
    import scipy.sparse as sp

    return isinstance(value, np.ndarray) or sp.issparse(value)


def _check_embedders(embedders: Any, *, vectors: bool = False) -> dict[str, Any]:
    """``embedders`` as a dict of str to embedder (or, with ``vectors=True``, to a 2-D matrix)."""
    if not isinstance(embedders, Mapping):
        raise TypeError(
            f"embedders must be a dict of name to embedder, got {type(embedders).__name__}"
        )
    if not embedders:
        raise ValueError("embedders is empty: give at least one, e.g. {'tf-idf': TfidfBaseline()}")
    for name, emb in embedders.items():
        if vectors and _is_vectors(emb):
            if emb.ndim != 2:
                raise ValueError(
                    f"embedders[{name!r}] must be vectors of shape (n_samples, n_features), got "
                    f"shape {emb.shape}"
                )
        elif not hasattr(emb, "transform"):
            what = "has no transform method and is not an array of vectors" if vectors else ""
            raise TypeError(f"embedders[{name!r}] {what or 'has no transform method'}")
    return {str(name): emb for name, emb in embedders.items()}


def _fitted(emb: Any, X: Any) -> Any:
    """``emb`` if fitted, else a fitted clone (the caller's object is left as it was)."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(emb)
    except NotFittedError:
        return clone(emb).fit(X)
    return emb


def _arrays_out() -> Any:
    """Arrays from the transforms a figure makes, whatever scikit-learn's global
    ``transform_output`` says: under ``set_config(transform_output="pandas")`` t-SNE returned a
    DataFrame, which the scatter's ``xy[mask, 0]`` cannot index, and ``TfidfBaseline(dim=None)``
    refused to return its sparse matrix. An estimator's own ``set_output`` still applies."""
    from sklearn import config_context

    return config_context(transform_output="default")


def _axes_list(ax: Any, n: int) -> list[Any]:
    axes = list(np.ravel(ax)) if isinstance(ax, (Sequence, np.ndarray)) else [ax]
    if len(axes) != n:
        raise ValueError(f"ax must hold one Axes per embedder ({n}), got {len(axes)}")
    return axes


def _to_dense(Z: Any) -> np.ndarray:
    import scipy.sparse as sp

    return np.asarray(Z.toarray() if sp.issparse(Z) else Z, dtype=np.float64)


# -- 2-D map of documents -------------------------------------------------------------------------
def _project(Z: Any, method: str, random_state: Any) -> np.ndarray:
    import scipy.sparse as sp

    n = Z.shape[0]
    if sp.issparse(Z) or Z.shape[1] > 50:  # sparse TF-IDF: LSA to 50 dims first (t-SNE is dense)
        from sklearn.decomposition import TruncatedSVD

        k = min(50, Z.shape[1] - 1, n - 1)
        if k >= 2:
            Z = TruncatedSVD(n_components=k, random_state=random_state).fit_transform(Z)
    Z = _to_dense(Z)
    if method == "umap":
        import umap

        return umap.UMAP(n_components=2, random_state=random_state).fit_transform(Z)
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    perplexity = min(30.0, (n - 1) / 3)
    # PCA can draw no 2-D start from 1-D vectors (dim=1): a random start there
    init = "pca" if Z.shape[1] >= 2 else "random"
    tsne = TSNE(n_components=2, init=init, perplexity=perplexity, random_state=random_state)
    # One OpenMP thread: once torch (its own libgomp) has run, as after fitting a
    # Word2VecEmbedder, scikit-learn's OpenMP threads in t-SNE contend with it on a 2-core machine:
    # a 20-point map took 23 s instead of 0.06 s. At max_points=2000 one thread costs little.
    with threadpool_limits(limits=1, user_api="openmp"):
        return tsne.fit_transform(Z)


def plot_document_map(
    embedders: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    method: str = "tsne",
    random_state: Any = 0,
    ax: Any = None,
    max_points: int = 2000,
    progress: bool | None = None,
) -> Any:
    """Map documents to 2-D under each embedder, coloured by label, one panel per embedder.

    Put TF-IDF beside an encoder to see keyword clusters against meaning clusters. Each embedder
    encodes ``X`` (an unfitted one is cloned and fitted on ``X`` without the labels, so the map
    shows what it learned unsupervised), or its vectors are given already computed, and the
    vectors are projected to 2-D by scikit-learn's
    :class:`~sklearn.manifold.TSNE` (``init="pca"``, ``"random"`` for 1-D vectors,
    ``perplexity=min(30, (n - 1) / 3)``) or by
    ``umap.UMAP``. Sparse output (``TfidfBaseline(dim=None)``) and vectors wider than 50 are
    first reduced to 50 dimensions by :class:`~sklearn.decomposition.TruncatedSVD`.

    Parameters
    ----------
    embedders : dict of str to embedder or array
        Fitted or unfitted transformers (``TfidfBaseline``, ``Word2VecEmbedder``, ...), or the
        vectors of ``X`` an embedder already gave (a numpy array or scipy sparse matrix with one
        row per document: nothing is encoded again); the names are the panel titles.
    X : sequence of str
        The documents.
    y : array-like of shape (n_samples,)
        Their labels, which colour the points (one legend for the figure).
    method : {"tsne", "umap"}, default="tsne"
        ``"umap"`` needs ``umap-learn`` (``pip install umap-learn``).
    random_state : int, RandomState or None, default=0
        Seeds the subsample, the SVD and the projection.
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per embedder; a new figure, sized by the number of panels, when omitted.
    max_points : int, default=2000
        At most this many documents are drawn (a random subsample, taken before encoding).
    progress : bool or None, default=None
        A ``tqdm.auto`` bar over the panels (a t-SNE map of 2,000 documents takes about 10 s
        on one core), beside the embedders' own bars; ``None``: when stderr is a terminal or in
        a notebook.

    Returns
    -------
    matplotlib Figure, or the given Axes when ``ax`` is given.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.plotting import plot_document_map
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> fig = plot_document_map(
    ...     {"tf-idf": TfidfBaseline(), "LSA, dim=8": TfidfBaseline(dim=8)}, CORPUS, LABELS
    ... )
    >>> [a.get_title() for a in fig.axes]
    ['tf-idf', 'LSA, dim=8']
    >>> vectors = TfidfBaseline(dim=8).fit_transform(CORPUS)  # vectors you already have
    >>> fig = plot_document_map({"LSA, dim=8": vectors}, CORPUS, LABELS)
    """
    from sklearn.utils import check_random_state

    named = _check_embedders(embedders, vectors=True)
    if method not in ("tsne", "umap"):
        raise ValueError(f"method must be 'tsne' or 'umap', got {method!r}")
    if not (isinstance(max_points, numbers.Integral) and max_points >= 3):
        raise ValueError(f"max_points must be an int >= 3, got {max_points!r}")
    check_progress(progress)
    check_seed(random_state)
    if X is None or isinstance(X, str) or not hasattr(X, "__iter__"):
        raise TypeError(f"X must be a sequence of documents, got {type(X).__name__}")
    docs = list(X)
    if y is None or isinstance(y, str) or not hasattr(y, "__len__"):
        raise TypeError(f"y must hold one label per document, got {type(y).__name__}")
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError(f"y must hold one label per document (1-D), got shape {labels.shape}")
    if len(labels) != len(docs):
        raise ValueError(
            f"X and y must have the same length, got {len(docs)} documents and {len(labels)} labels"
        )
    if len(docs) < 3:
        raise ValueError(f"a map needs at least 3 documents, got {len(docs)}")
    for name, emb in named.items():
        if _is_vectors(emb) and emb.shape[0] != len(docs):
            raise ValueError(
                f"embedders[{name!r}] holds {emb.shape[0]} vectors for {len(docs)} documents"
            )
        if _is_vectors(emb):
            values = emb if isinstance(emb, np.ndarray) else emb.data  # sparse: stored values
            if values.dtype.kind not in "biuf":
                raise TypeError(
                    f"embedders[{name!r}] must be vectors of numbers, got dtype {values.dtype}"
                )
            if not np.isfinite(values).all():
                rows = np.flatnonzero(~np.isfinite(_to_dense(emb)).all(axis=1))
                raise ValueError(
                    f"embedders[{name!r}] holds NaN or infinite values (row {int(rows[0])} "
                    f"first, {len(rows)} rows in all): a map needs finite vectors"
                )
    if method == "umap":
        try:
            import umap  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "method='umap' needs umap-learn: pip install umap-learn (or use method='tsne')"
            ) from exc
    plt = _pyplot("plot_document_map")

    rng = check_random_state(random_state)
    if len(docs) > max_points:
        keep = np.sort(rng.choice(len(docs), size=max_points, replace=False))
        docs, labels = [docs[i] for i in keep], labels[keep]
        named = {name: emb[keep] if _is_vectors(emb) else emb for name, emb in named.items()}
    classes = list(dict.fromkeys(labels.tolist()))
    try:
        classes = sorted(classes)
    except TypeError:
        pass
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    colours = {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
    # past tab20's 20 colours, each round of them another marker: class 21 is not class 1's twin
    markers = {c: _MARKERS[(i // cmap.N) % len(_MARKERS)] for i, c in enumerate(classes)}

    fig = None
    n = len(named)
    if ax is None:
        fig, axes = plt.subplots(
            1, n, figsize=(4.2 * n + 1.6, 4.4), layout="constrained", squeeze=False
        )
        axes = list(axes[0])
    else:
        axes = _axes_list(ax, n)
    seed = rng.randint(np.iinfo(np.int32).max) if random_state is None else random_state
    points = {}
    with progress_bar(progress, n, "document map", "panel") as bar:
        for name, emb in named.items():
            bar.set_postfix_str(name)
            with _arrays_out():
                Z = emb if _is_vectors(emb) else _fitted(emb, docs).transform(docs)
                points[name] = _project(Z, method, seed)
            bar.update()
    for a, (name, xy) in zip(axes, points.items(), strict=True):
        for c in classes:
            mask = labels == c
            a.scatter(
                xy[mask, 0], xy[mask, 1], s=14, color=colours[c], marker=markers[c],
                label=str(c), alpha=0.85,
            )  # fmt: skip
        a.set_title(name)
        a.set_xticks([])
        a.set_yticks([])
        a.set_xlabel(f"{'t-SNE' if method == 'tsne' else 'UMAP'} 1")
        a.set_ylabel(f"{'t-SNE' if method == 'tsne' else 'UMAP'} 2")
    handles, names = axes[0].get_legend_handles_labels()
    if fig is not None:
        # centred: "upper" would meet a figure title (suptitle) added afterwards
        # a column per 16 labels: one column of 25 ran past the figure's top and bottom
        columns = -(-len(names) // _LEGEND_ROWS)
        fig.legend(handles, names, title="label", loc="outside right center", ncols=columns)
        return fig
    axes[-1].legend(handles, names, title="label", fontsize="small")
    return ax


# -- cosine-similarity heatmap --------------------------------------------------------------------
def _cosine(Z: Any) -> np.ndarray:
    from sklearn.preprocessing import normalize

    Z = normalize(_to_dense(Z))
    return Z @ Z.T


def _short(text: str, width: int = _MAX_TICK_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def plot_similarity_heatmap(
    embedders: Mapping[str, Any],
    sentences: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Heatmaps of the cosine similarity of a handful of sentences under each embedder.

    One panel per embedder, on one colour scale from -1 to 1 with a shared colour bar; each cell
    shows its value when there are at most 10 sentences. An unfitted embedder is cloned and fitted
    on ``sentences``.

    Parameters
    ----------
    embedders : dict of str to embedder
        Fitted or unfitted transformers; the names are the panel titles.
    sentences : sequence of str
        The sentences, compared pairwise.
    labels : sequence of str, optional
        Tick labels, one per sentence; by default the sentences cut to 30 characters.
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per embedder; a new figure, sized by the number of panels and sentences, when
        omitted.

    Returns
    -------
    matplotlib Figure, or the given Axes when ``ax`` is given.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.plotting import plot_similarity_heatmap
    >>> from skmrl.utils._corpus import CORPUS
    >>> tfidf = TfidfBaseline(dim=8).fit(CORPUS)
    >>> fig = plot_similarity_heatmap({"LSA, dim=8": tfidf}, CORPUS[:3] + CORPUS[10:13])
    >>> len(fig.axes[0].texts)  # one value per cell
    36
    """
    named = _check_embedders(embedders)
    if sentences is None or isinstance(sentences, str) or not hasattr(sentences, "__iter__"):
        raise TypeError(f"sentences must be a sequence of str, got {type(sentences).__name__}")
    sentences = list(sentences)
    if len(sentences) < 2:
        raise ValueError(f"give at least 2 sentences, got {len(sentences)}")
    if isinstance(labels, str):  # read as one label per character
        raise TypeError(f"labels must be a sequence of str, one per sentence, got {labels!r}")
    ticks = [_short(s) for s in (sentences if labels is None else labels)]
    if len(ticks) != len(sentences):
        raise ValueError(f"labels has {len(ticks)} entries for {len(sentences)} sentences")
    plt = _pyplot("plot_similarity_heatmap")

    m, n = len(sentences), len(named)
    fig = None
    if ax is None:
        side = max(3.0, 0.42 * m)
        fig, axes = plt.subplots(
            1, n, figsize=(n * (side + 2.4) + 1.0, side + 2.4), layout="constrained", squeeze=False
        )
        axes = list(axes[0])
    else:
        axes = _axes_list(ax, n)
    image = None
    for i, (a, (name, emb)) in enumerate(zip(axes, named.items(), strict=True)):
        with _arrays_out():
            S = _cosine(_fitted(emb, sentences).transform(sentences))
        image = a.imshow(S, cmap="RdBu_r", vmin=-1, vmax=1)
        a.set_xticks(range(m), ticks, rotation=60, ha="right", rotation_mode="anchor")
        a.set_yticks(range(m), ticks if i == 0 else [""] * m)
        a.set_title(name)
        if m <= _MAX_ANNOTATED:
            for r in range(m):
                for c in range(m):
                    a.text(
                        c,
                        r,
                        f"{S[r, c]:.2f}",
                        ha="center",
                        va="center",
                        fontsize="x-small",
                        color="white" if abs(S[r, c]) > 0.6 else "black",
                    )
    owner = fig if fig is not None else axes[0].figure
    owner.colorbar(image, ax=axes, label="cosine similarity", shrink=0.8)
    return ax if fig is None else fig
