"""Views of embeddings: documents mapped to 2-D (:func:`plot_document_map`) and the cosine
similarities of a handful of sentences (:func:`plot_similarity_heatmap`), one panel per
embedder."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skmrl._progress import check_progress, progress_bar
from skmrl._validation import check_seed, is_missing

from ._common import _MARKERS, _check_axes, _pyplot

_MAX_TICK_CHARS = 30
_MAX_ANNOTATED = 10
#: Rows of a document map's legend of labels, in as many columns as it takes.
_LEGEND_ROWS = 16


# -- helpers shared by the map and the heatmap ----------------------------------------------------
def _is_vectors(value: Any) -> bool:
    """Whether ``value`` is a matrix of vectors (numpy array or scipy sparse), not an embedder."""
    import scipy.sparse as sp

    return isinstance(value, np.ndarray) or sp.issparse(value)


def _is_array_like(value: Any) -> bool:
    """Whether ``value`` is vectors of another kind (a pandas or polars DataFrame, a torch
    tensor): array-like and no estimator. A DataFrame has a ``transform`` method of its own,
    so it passed for an embedder and failed in scikit-learn's ``check_is_fitted``, its whole
    contents printed in a TypeError."""
    return hasattr(value, "__array__") and not hasattr(value, "fit")


def _check_embedders(embedders: Any, *, vectors: bool = False) -> dict[str, Any]:
    """``embedders`` as a dict of str to embedder (or, with ``vectors=True``, to a 2-D matrix)."""
    if not isinstance(embedders, Mapping):
        raise TypeError(
            f"embedders must be a dict of name to embedder, got {type(embedders).__name__}"
        )
    if not embedders:
        raise ValueError("embedders is empty: give at least one, e.g. {'tf-idf': TfidfBaseline()}")
    named: dict[str, Any] = {}
    keys: dict[str, Any] = {}  # each panel title's key as given
    for name, emb in embedders.items():
        if vectors and _is_array_like(emb) and not _is_vectors(emb):
            emb = np.asarray(emb)
        if vectors and _is_vectors(emb):
            if emb.ndim != 2:
                raise ValueError(
                    f"embedders[{name!r}] must be vectors of shape (n_samples, n_features), got "
                    f"shape {emb.shape}"
                )
        elif _is_array_like(emb):
            raise TypeError(
                f"embedders[{name!r}] is a {type(emb).__name__} of vectors, not an embedder: "
                "give an embedder (with fit and transform), which encodes the sentences"
            )
        elif not (hasattr(emb, "fit") and hasattr(emb, "transform")):
            what = "is not an array of vectors" if vectors else ""
            raise TypeError(
                f"embedders[{name!r}] (of type {type(emb).__name__}) has no fit and transform "
                f"methods{' and ' + what if what else ''}: give an embedder such as TfidfBaseline()"
            )
        if str(name) in keys:
            raise ValueError(
                f"embedders has two names that read {str(name)!r} as panel titles "
                f"({keys[str(name)]!r} and {name!r}): give names that differ as text"
            )
        keys[str(name)] = name
        named[str(name)] = emb
    return named


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
    for a in axes:  # a Figure failed deep in the drawing: 'Figure' object has no attribute ...
        _check_axes(a)
    return axes


def _to_dense(Z: Any) -> np.ndarray:
    import scipy.sparse as sp

    return np.asarray(Z.toarray() if sp.issparse(Z) else Z, dtype=np.float64)


# -- 2-D map of documents -------------------------------------------------------------------------
def _one_vector(Z: Any) -> bool:
    """Whether the rows of ``Z`` (dense or sparse, two or more) are all the same vector:
    scikit-learn's t-SNE, whose PCA start divides by their spread, then dies with a
    segmentation fault (the process, a notebook's kernel), with no Python error."""
    if Z.shape[0] < 2:
        return False
    spread = Z.max(axis=0) - Z.min(axis=0)  # a sparse matrix's too
    return not float(np.abs(_to_dense(spread)).max(initial=0.0)) > 0


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
        vectors of ``X`` an embedder already gave (a numpy array, scipy sparse matrix or pandas
        DataFrame with one row per document: nothing is encoded again); the names are the panel
        titles, and must differ as text.
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
    # A NaN label matched no class (NaN != NaN): its points were not drawn, and each NaN was a
    # legend entry of its own
    missing = [i for i, label in enumerate(labels.tolist()) if is_missing(label)]
    if missing:
        raise ValueError(
            f"y holds {len(missing)} missing labels (None or NaN; position {missing[0]} first): "
            "drop those documents, or give them a label of their own such as 'unlabelled'"
        )
    if len(docs) < 3:
        raise ValueError(f"a map needs at least 3 documents, got {len(docs)}")
    # sparse vectors of any format as CSR: COO has no rows to index (the subsample failed in
    # scipy), DOK no .data and LIL's is an array of lists (read as "not numbers")
    named = {
        name: emb.tocsr() if _is_vectors(emb) and not isinstance(emb, np.ndarray) else emb
        for name, emb in named.items()
    }
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
                if _one_vector(Z):
                    if ax is None:
                        plt.close(fig)  # no empty figure left open by the refusal
                    raise ValueError(
                        f"embedders[{name!r}] gives every document the same vector (all zero, "
                        "say, for texts with no word of its vocabulary): a map of them is one "
                        "point, and t-SNE crashed the process on it; map other documents or "
                        "another embedder"
                    )
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
