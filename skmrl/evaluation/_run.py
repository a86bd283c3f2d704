""":func:`dim_curve`: the quality of one embedder at every ``dim``, for about one encoding."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Collection, Mapping, Sequence
from typing import Any, overload

import numpy as np

from skmrl import _frames
from skmrl._validation import (
    check_documents,
    check_label_count,
    check_pair_scores,
    check_pairs,
    holds_text,
)
from skmrl._vector_checks import check_not_written_vectors, check_vector_pairs, holds_vector_pairs

from ._classification import (
    _check_clusterer,
    _check_response,
    _check_scores_target,
    _classification_fold,
)
from ._common import (
    _check_dim_estimator,
    _check_dims,
    _check_dims_before_fit,
    _check_layers,
    _Fold,
    _is_embedder,
    _learns_from_texts,
    _run_fold,
    _Steps,
    _warn_gathered,
)
from ._curve import DimCurve
from ._depth import DepthDimCurves
from ._retrieval import _as_retrieval_set, _metric_names, _retrieval_scores
from ._sts import _sts_fold

__all__ = ["TASKS", "dim_curve"]

TASKS = ("classification", "sts", "retrieval")

#: The fewest pairs an STS test fold may hold: Spearman's correlation of 1 pair is NaN, of 2 it is
#: -1 or 1, and a curve of such folds means nothing.
_MIN_STS_TEST_PAIRS = 3


# Overloads: without `layers` the result is a DimCurve (curve.smallest_dim(), curve.scores), with
# them a DepthDimCurves (grid.cheapest()); the union made a type checker refuse both.
@overload
def dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Collection[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    layers: None = None,
    groups: Any = None,
) -> DimCurve: ...
@overload
def dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Collection[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    layers: Sequence[int],
    groups: Any = None,
) -> DepthDimCurves: ...
@overload
def dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Collection[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    layers: Sequence[int] | None = None,
    groups: Any = None,
) -> DimCurve | DepthDimCurves: ...
def dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Collection[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    layers: Sequence[int] | None = None,
    groups: Any = None,
) -> DimCurve | DepthDimCurves:
    """Score an embedder at several sizes ``dim`` for the cost of about one encoding.

    In each cross-validation fold the embedder is cloned, fitted once at full size (on the fold's
    training part, with its labels: an embedder that learns from ``y``, such as
    ``MatryoshkaEmbedder(fine_tune="adaptor")``, learns inside the fold), and each part of the
    fold is encoded once at full size; every ``dim`` is then a slice of those vectors,
    re-normalised (what ``set_params(dim=k).transform`` returns). With the skmrl caches, texts
    shared by several folds are encoded once in all by a frozen encoder. Retrieval has no folds:
    the embedder is fitted once on the corpus, and the corpus and the queries are each encoded
    once.

    Parameters
    ----------
    embedder : skmrl embedder or MatryoshkaAdaptor
        Any estimator with a ``dim`` parameter whose ``dim=k`` output is the first ``k`` full-size
        columns (every skmrl embedder; ``MatryoshkaAdaptor`` on precomputed vectors ``X``). Its
        own ``dim`` is ignored. An adaptor (``MatryoshkaAdaptor``, or a ``fine_tune``
        embedder's) fitted on fewer vectors than its size warns once for the curve, giving
        the folds' counts (``n_jobs`` workers' too), not once per fold.
    X : iterable of str, array of shape (n_samples, n_features), pairs, or (queries, corpus)
        Classification: the documents (vectors for ``MatryoshkaAdaptor``). STS: a sequence of
        ``(text_a, text_b)`` pairs (or an array or DataFrame of 2 columns, a pair per row); for
        ``MatryoshkaAdaptor``, pairs of vectors (from an API, or another embedder's
        ``embed_full``): an array of shape ``(n_pairs, 2, n_features)``, two matrices ``(A, B)``
        of shape ``(n_pairs, n_features)`` (or two columns holding a vector per cell,
        ``(df["a"], df["b"])``), a sequence of ``(vector_a, vector_b)``, or a DataFrame of 2
        columns holding a vector per cell; every vector of one length, finite.
        Vectors given to an skmrl embedder, or texts given to ``MatryoshkaAdaptor``, are a
        ``TypeError`` saying what to pass.
        Retrieval: ``(queries, corpus)``, two dicts of id -> text
        (id -> vector for ``MatryoshkaAdaptor``), or the :class:`~skmrl.datasets.BeirData`
        that :func:`~skmrl.datasets.load_beir` returns (then without ``y``).
    y : array-like of shape (n_samples,), or dict
        Classification: the class labels (required), or with a regressor as ``estimator`` the
        targets (numbers). STS: the gold similarity scores.
        Retrieval: the relevance judgements (qrels), a dict of query id -> {document id: int
        grade}; every query needs some, and every id must be in ``X`` (else a ``ValueError``
        saying which). A query whose grades are all 0 scores 0, as in ``pytrec_eval``.
    dims : list of int, optional
        Sizes to score, each in ``1..max_dim_`` of the fitted embedder (a size above it is
        refused before any fit where the size is known unfitted: an skmrl embedder's
        ``max_dim``, a ``MatryoshkaEmbedder``'s model's ``hidden_size``; else after the first
        fold's fit). Default: the powers of two from 8 below ``max_dim_``, and ``max_dim_`` (the
        full size), of the embedder fitted on the first fold. Where an embedder's size depends
        on its data (``TfidfBaseline``: the rank of the fold's TF-IDF matrix, on small data) and
        a later fold's comes out smaller, the default sizes above it are left out with a
        ``UserWarning``; sizes given here are scored in every fold or refused.
    task : {"classification", "sts", "retrieval"}, default="classification"
        ``"classification"``: ``estimator`` is trained on the training part of each fold at each
        size and scored on the held-out part. ``"sts"``: the Spearman correlation between the
        cosine similarity of each pair and its gold score (no estimator). The embedder is then
        fitted on the unique texts of the pairs (first sentences, then second ones, each once),
        never on the scores. An embedder whose fitted state does
        not depend on the texts (``MatryoshkaEmbedder(fine_tune=None)``) is fitted once and
        scored on all pairs (the usual STS figure; ``std`` is 0). Any other (TF-IDF, Word2Vec,
        an adaptor) is scored on ``cv`` folds of pairs, fitted on the texts of the other pairs
        less those that are also in a test pair (STS data repeat sentences across pairs), so
        that it never sees a test sentence; ``cv=None`` fits it once on the texts of all pairs
        instead (transductive: no score is used, but the test texts are). Pairs of vectors are
        folded alike, a vector being the same sentence as another when their numbers are equal:
        ``MatryoshkaAdaptor`` is fitted on the unique vectors of the training pairs less those
        of the test pairs; given the vectors that ``MatryoshkaEmbedder(fine_tune="adaptor")``
        computes, it scores what that embedder scores on the texts. ``method="prefix"`` learns
        nothing: as a frozen encoder, it is scored once on all pairs.
        ``"retrieval"``: the embedder is fitted once on the corpus texts (never the queries or
        the judgements; a frozen encoder just loads), and at each size the corpus is ranked for
        every query by the cosine of the re-normalised prefixes
        (:func:`skmrl.metrics.cosine_top_k`). The curve's score is ``scoring`` (nDCG@10 by
        default); nDCG@10 and recall@100 are always recorded in the curve's ``metrics``
        (:class:`DimCurve`), and :meth:`DimCurve.to_markdown` shows both. There are no folds
        (``std`` is 0).
    estimator : classifier, regressor or clusterer, default=LogisticRegression(max_iter=2000)
        Classification only (a regressor, such as ``Ridge``, is scored the same way on numeric
        ``y``, by its R2 unless ``scoring`` says otherwise); cloned for each fold and size, and
        fitted with one BLAS thread
        (``threadpoolctl``): on vectors of at most ``max_dim_`` columns threads gain nothing,
        and on busy cores they made these fits up to 30 times slower. A clusterer with
        ``predict`` (``KMeans``; a mixture model, ``GaussianMixture``, alike) clusters the
        training part, assigns the held-out part to its
        clusters, and ``scoring`` compares them with ``y``: it must be a clustering metric
        (``"adjusted_rand_score"``, ``"v_measure_score"``...), else a ``ValueError``. An
        embedder that learns from ``y`` (``fine_tune="adaptor"``) then warns: its clusters are
        not what unlabelled texts would get.
    cv : int, cross-validation splitter or iterable, default=5
        Classification: an int is ``StratifiedKFold(cv, shuffle=True, random_state=0)``
        (``KFold``, shuffled alike, for a regressor, as scikit-learn splits them); ``None`` is
        scikit-learn's own default, 5 folds in the data's order (unshuffled). STS:
        an int is ``KFold(cv, shuffle=True, random_state=0)`` over pairs; ``None`` is one fit
        on all pairs; a splitter gets the gold scores as ``y`` (as ``cross_validate`` gives
        them), and one that stratifies by class (``StratifiedKFold``) is refused for
        continuous scores. Retrieval: no cross-validation; leave ``cv`` at its default or pass
        ``None`` (any other value is an error rather than silently ignored).
    scoring : str or callable, optional
        Classification: a scikit-learn scorer name or ``scorer(estimator, X, y)``, one only
        (a list or dict of them is refused: a curve holds one score); default the estimator's
        ``score`` (accuracy). The curve's ``scoring`` is the name, the callable's
        ``__name__``, or for a ``make_scorer`` scorer its score function's (``"neg_"`` before it
        when the scorer negates a loss, ``greater_is_better=False``). Retrieval:
        ``"ndcg@k"`` or ``"recall@k"`` for any ``k >= 1``; default ``"ndcg@10"``. STS: none
        (Spearman).
    n_jobs : int, optional
        Folds run in parallel with joblib (``-1``: all cores). The in-memory vector cache is per
        process: use ``memory=`` on the embedder to share vectors between workers. Not used
        by retrieval (one fit).
    progress : bool, optional
        One ``tqdm.auto`` bar (in a notebook too) over every (fold, dim) step: a step is one
        size scored in one fold (folds run with ``n_jobs`` advance it a fold at a time);
        :func:`compare` shows one bar for all its embedders. ``None``: shown when stderr is
        a terminal or in a Jupyter notebook. ``False`` silences the embedder's own training
        and encoding bars too, unless its ``progress=True``.
    layers : list of int, optional
        Also score the encoder's depth (2D Matryoshka): the embedder must have an ``n_layers``
        parameter (:class:`~skmrl.MatryoshkaEmbedder`), and each depth must lie in
        ``1..max_layers_``. In each fold the embedder is fitted once, with
        ``cache_layers=True``: one forward pass per text caches the pooled output of every
        layer, so each depth costs a cache lookup, and every (depth, dim) a slice. The encoding
        time of each depth (its first layers only, without the cache) is measured on a seeded
        sample of at most 256 of the texts. A step of the progress bar is then one (depth, dim)
        in one fold. With ``fine_tune="full"``, depths that its training left out (not in
        ``matryoshka_layers``) are scored with a ``UserWarning`` naming them: their prefixes
        were never trained.
    groups : array-like of shape (n_samples,), optional
        Group labels of the samples (classification) or of the pairs (STS), for a group
        splitter as ``cv`` (``GroupKFold``, ``StratifiedGroupKFold``, ``LeaveOneGroupOut``):
        passed to ``cv.split``, as ``cross_validate`` does. An int ``cv`` ignores groups, so
        it is an error with them; so is retrieval, which has no folds.

    Returns
    -------
    DimCurve, or DepthDimCurves with ``layers``

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.evaluation import dim_curve
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> curve = dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[2, 4, 8, 16], cv=4)
    >>> curve.dims.tolist()
    [2, 4, 8, 16]
    >>> curve.scores.shape  # 4 folds x 4 dims, from 4 fits of the embedder
    (4, 4)
    >>> curve.smallest_dim(tolerance=0.05) <= 16
    True

    Retrieval, with the queries' relevant documents known:

    >>> queries = {"q1": "a hungry cat and a mouse", "q2": "interest rates at the bank"}
    >>> corpus = dict(enumerate(CORPUS))  # document ids 0..39
    >>> qrels = {"q1": {5: 2, 1: 1}, "q2": {20: 2, 25: 1, 26: 1}}
    >>> curve = dim_curve(TfidfBaseline(), (queries, corpus), qrels, task="retrieval", dims=[2, 16])
    >>> curve.scoring, curve.scores.shape, sorted(curve.metrics)
    ('ndcg@10', (1, 2), ['ndcg@10', 'recall@100'])
    >>> round(float(curve.mean[1]), 4)  # at 16 dims the relevant documents come first
    1.0

    STS on precomputed vectors (an API's, say): ``(A, B)``, the vectors of each pair's first and
    second sentence, and the pairs' gold similarity scores; here made up, pairs of vectors
    further apart having lower scores:

    >>> import numpy as np
    >>> from skmrl import MatryoshkaAdaptor
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(60, 16)).astype("float32")
    >>> apart = rng.uniform(0, 2, 60)
    >>> B = A + apart[:, None] * rng.normal(size=(60, 16)).astype("float32")
    >>> gold = 5 - 2.5 * apart
    >>> curve = dim_curve(MatryoshkaAdaptor(), (A, B), gold, task="sts", dims=[4, 16], cv=3)
    >>> curve.scores.shape  # 3 folds x 2 dims: an adaptor fitted on each fold's other pairs
    (3, 2)
    >>> bool(curve.mean[1] > curve.mean[0] > 0.5)  # Spearman against the gold scores
    True

    Depth and size together, for the price of one every-layer encoding per text:

    >>> from skmrl import MatryoshkaEmbedder
    >>> grid = dim_curve(MatryoshkaEmbedder(), CORPUS, LABELS, dims=[8, 384], cv=4, layers=[3, 6])
    >>> grid.layers.tolist(), grid.dims.tolist(), grid.mean.shape
    ([3, 6], [8, 384], (2, 2))
    >>> sorted(grid.encode_seconds_per_1000)  # each depth timed apart
    [3, 6]
    >>> depth, dim = grid.cheapest(tolerance=0.05)  # set_params(n_layers=depth, dim=dim)
    """
    return _dim_curve(
        embedder,
        X,
        y,
        dims=dims,
        task=task,
        estimator=estimator,
        cv=cv,
        scoring=scoring,
        n_jobs=n_jobs,
        progress=progress,
        layers=layers,
        groups=groups,
    )


def _dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Collection[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    layers: Sequence[int] | None = None,
    groups: Any = None,
    _clip_dims: bool = False,
    _steps: Any = None,
    _sts_folds: bool = False,
) -> DimCurve | DepthDimCurves:
    """:func:`dim_curve`; ``_clip_dims=True`` drops the dims above the fitted ``max_dim_``;
    ``_steps`` is the progress bar of a :func:`compare` (else the curve makes its own);
    ``_sts_folds=True`` scores an STS embedder on the ``cv`` folds even when it does not learn
    from the texts (a :func:`compare` beside one that does)."""
    from joblib import Parallel, delayed

    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    _check_dim_estimator(embedder, "embedder")
    embedder = _silenced(embedder, progress)
    requested = dims
    if dims is not None:  # types now, the range after the first fit; read once (a generator)
        dims = _check_dims(dims, None)
    depths = _check_layers(embedder, layers)  # [None] without layers
    _check_dims_before_fit(embedder, dims, _clip_dims)  # where the size is known unfitted
    if isinstance(cv, bool):  # an int to Python: check_cv made it 1 fold ("n_splits=1")
        raise TypeError(
            f"cv must be a number of folds (an int >= 2), a splitter or an iterable of splits, "
            f"got cv={cv} (a bool)"
        )
    if groups is not None and task == "retrieval":
        raise ValueError("task='retrieval' has no folds: no groups")
    if task == "retrieval":
        return _retrieval_curve(
            embedder, X, y, dims, estimator, cv, scoring, progress, _clip_dims, _steps, depths
        )

    if task == "classification":
        from sklearn.base import is_classifier, is_regressor
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import check_scoring
        from sklearn.model_selection import KFold, StratifiedKFold, check_cv
        from sklearn.utils.validation import column_or_1d

        from skmrl._training_checks import check_class_labels

        if y is None:
            raise ValueError("task='classification' needs the class labels y")
        if not (isinstance(X, np.ndarray) or _frames.is_frame_or_series(X)):
            if isinstance(X, str | bytes | Mapping) or X is None or _frames.is_lazy_frame(X):
                raise TypeError(f"X must be a collection of documents, got {_frames.type_of(X)}")
            X = list(X)
        check_label_count(y, len(X), "samples")  # a generator, a number, a bare str: one line
        if len(X) == 0:
            raise ValueError("X holds no samples: there is nothing to fit and score")
        if holds_text(X):  # every document, once: each fold's fit named a position in its fold
            check_documents(X)  # (None at X[39] was "position 19"), after minutes of fitting
        elif _is_embedder(embedder) and _numeric_ndim(X) == 2:
            # vectors to a text embedder: each fold's fit refused its own rows ("got an array of
            # shape (30, 8)" of 40 given) with a ValueError; as STS says it, before any fit
            raise TypeError(
                f"task='classification': X holds vectors (shape {np.shape(X)}), and "
                f"{type(embedder).__name__} embeds texts: pass the documents, or score the "
                "vectors with MatryoshkaAdaptor()"
            )
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:  # a column: raveled once, warned as scikit-learn
            y = column_or_1d(y, warn=True)  # does (each fold's fit at each dim warned)
        estimator = LogisticRegression(max_iter=2000) if estimator is None else estimator
        regression = is_regressor(estimator)
        if regression:
            y = _check_targets(y, estimator)
        else:
            # the default advice (fine_tune='pca', which ignores y) fails alike: the estimator,
            # a classifier, is what cannot take a regression target
            regressor = (
                f"estimator {type(estimator).__name__} is a classifier: for a regression target "
                "pass a regressor, such as estimator=Ridge() (scored by R^2 by default)"
            )
            classes, codes = check_class_labels(
                y, len(y), single_class="a classifier needs at least 2 classes to be scored",
                continuous=regressor if is_classifier(estimator) else None,
            )  # fmt: skip
        groups = _check_groups(groups, cv, len(y), "samples")
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
            if cv < 2:
                raise ValueError(f"cv must be at least 2 folds, got {cv}")
            if regression:  # not stratified, as scikit-learn splits a regressor's data
                cv = KFold(int(cv), shuffle=True, random_state=0)
            else:
                counts = np.bincount(codes)
                if counts.min() < cv:
                    i = int(np.argmin(counts))
                    small = classes[i : i + 1].tolist()[0]  # 'b', not np.str_('b')
                    raise ValueError(
                        f"class {small!r} has {counts.min()} samples, fewer than the cv={cv} "
                        "folds of stratified cross-validation: lower cv"
                    )
                cv = StratifiedKFold(int(cv), shuffle=True, random_state=0)
        else:
            cv = check_cv(cv, y, classifier=not regression)
        splits = _as_indices(cv.split(np.zeros((len(y), 1)), y, groups))
        if isinstance(scoring, (list, tuple, set, frozenset, dict)):
            # check_scoring would make a multi-metric scorer, whose dict of scores fails deep in
            # the folds ("float() argument must be ... not 'dict'")
            raise ValueError(
                f"one scorer only: a curve holds one score per dim, got scoring={scoring!r} (a "
                f"{type(scoring).__name__}); pass one name or callable, one curve per metric"
            )
        _check_clusterer(estimator, scoring, embedder)
        scorer = check_scoring(estimator, scoring=scoring)
        _check_response(estimator, scorer, scoring)
        _check_scores_target(estimator, scorer, scoring, y)
        score_name = _scorer_name(scoring, estimator)

        def run(i: int, train: np.ndarray, test: np.ndarray, fold_dims: Any, clip=False, tick=None):
            return _classification_fold(
                embedder, X, y, train, test, fold_dims, estimator, scorer, i, clip, tick,
                depths, i == 0 and depths != [None],
            )  # fmt: skip

    else:
        from sklearn.model_selection import KFold

        if estimator is not None or scoring is not None:
            raise ValueError("task='sts' scores the cosine with Spearman: no estimator or scoring")
        a, b = _check_sts_pairs(X, embedder)
        if y is None:
            raise ValueError("task='sts' needs the gold similarity scores y")
        y = check_pair_scores(y, len(a), name="y", pairs="X")
        if len(y) and np.all(y == y[0]):
            raise ValueError(
                f"task='sts': every gold score in y is {y[0]:g}, and Spearman's correlation with "
                "a constant is undefined (every fold would score NaN): pass the pairs' own "
                "similarity scores"
            )
        every = np.arange(len(a))
        groups = _check_groups(groups, cv, len(a), "pairs")
        if cv is None or not (_sts_folds or _learns_from_texts(embedder)):
            splits = [(every, every)]
        else:
            if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
                if len(a) < 2 * _MIN_STS_TEST_PAIRS:
                    raise ValueError(
                        f"cv={cv}: {len(a)} pairs are too few for folds (2 test folds of "
                        f"{_MIN_STS_TEST_PAIRS} pairs need {2 * _MIN_STS_TEST_PAIRS}); pass "
                        "cv=None to score all pairs once"
                    )
                if not 2 <= cv <= len(a) // _MIN_STS_TEST_PAIRS:
                    raise ValueError(
                        f"cv must be between 2 and {len(a) // _MIN_STS_TEST_PAIRS} for {len(a)} "
                        f"pairs (each test fold needs {_MIN_STS_TEST_PAIRS} pairs for Spearman's "
                        f"correlation, which is NaN or +-1 on fewer), got {cv}"
                    )
                cv = KFold(int(cv), shuffle=True, random_state=0)
            splits = _as_indices(_sts_splits(cv, y, groups))
            small = min(len(test) for _, test in splits)
            if small < _MIN_STS_TEST_PAIRS:
                raise ValueError(
                    f"cv makes a test fold of {small} pair(s): Spearman's correlation needs "
                    f"{_MIN_STS_TEST_PAIRS} pairs (it is NaN or +-1 on fewer); use fewer folds"
                )
        score_name = "spearman"

        def run(i: int, train: np.ndarray, test: np.ndarray, fold_dims: Any, clip=False, tick=None):
            return _sts_fold(
                embedder, a, b, y, train, test, fold_dims, i, clip, tick,
                depths, i == 0 and depths != [None],
            )  # fmt: skip

    results: list[Any] = [None] * len(splits)  # a _Fold each
    per_fold = len(depths)  # steps per dim of a fold
    steps = _steps if _steps is not None else _Steps(progress, f"dim_curve ({task})")
    try:
        # The first fold fixes the dims (the default ones depend on the fitted max_dim_).
        # With _clip_dims (compare), the sizes above the first fold's max_dim_ are dropped,
        # and those above a later fold's after it (_common_dims).
        if dims is not None and not _clip_dims:
            steps.add(len(splits) * per_fold * len(_check_dims(dims, None)))
            results[0] = _run_fold(run, 0, *splits[0], dims, _clip_dims, steps.tick)
        else:  # the bar learns the sizes from the first fold
            results[0] = _run_fold(run, 0, *splits[0], dims, _clip_dims)
            steps.add(len(splits) * per_fold * len(results[0].dims))
            steps.tick(per_fold * len(results[0].dims))
        dims = results[0].dims
        # An embedder's size can depend on its fold's data (TfidfBaseline's is the rank of the
        # fold's TF-IDF matrix): sizes the user did not name are dropped where a later fold is
        # smaller (_common_dims), instead of failing on a size nobody asked for.
        clip_later = _clip_dims or requested is None
        # In-process folds tick per size; folds in worker processes, per fold.
        in_process = n_jobs in (None, 1)
        rest = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_run_fold)(
                run, i, train, test, dims, clip_later, steps.tick if in_process else None
            )
            for i, (train, test) in enumerate(splits[1:], 1)
        )
        for i, res in enumerate(rest, 1):
            results[i] = res
            steps.tick(per_fold * (len(dims) - (len(res.dims) if in_process else 0)))
    finally:
        if _steps is None:
            steps.close()
    _warn_gathered(results)  # once for the curve, not once per fold (or lost in a worker)
    results = _common_dims(results)
    dims = results[0].dims
    curves = [
        DimCurve(
            dims=np.asarray(dims),
            scores=np.array([r.scores[j] for r in results]),
            fit_seconds=float(sum(r.fit_seconds for r in results)),  # shared by the depths
            encode_seconds=float(sum(r.encode_seconds[j] for r in results)),
            task=task,
            scoring=score_name,
        )
        for j in range(len(depths))
    ]
    return _result(depths, curves, results[0])


def _numeric_ndim(X: Any) -> int | None:
    """The dimensions of ``X`` read as numbers (2: a matrix of vectors), or ``None`` where it
    does not read as numbers (texts, ragged rows)."""
    try:
        return np.asarray(X, dtype=float).ndim
    except (TypeError, ValueError):
        return None


def _check_sts_pairs(X: Any, embedder: Any) -> tuple[Any, Any]:
    """STS's ``X`` as the pairs' first and second texts (lists of str), or vectors (2-D arrays),
    as the embedder takes them: an error naming what to pass when an skmrl embedder (texts) gets
    vectors, or ``MatryoshkaAdaptor`` (vectors) gets texts. Any other estimator with a ``dim``
    gets what ``X`` holds."""
    if holds_vector_pairs(X):  # failed as "X[0] must hold two strings", bad pairs
        if _is_embedder(embedder):
            raise TypeError(
                f"task='sts': X holds pairs of vectors, and {type(embedder).__name__} embeds "
                "texts: pass the sentence pairs [(text_a, text_b), ...], or score the vectors "
                "with MatryoshkaAdaptor()"
            )
        return check_vector_pairs(X)
    if _takes_vectors(embedder):
        if not _holds_text_pairs(X):  # (n, 2 * D) vectors, a frame of 3 columns: say which
            return check_vector_pairs(X)
        check_not_written_vectors(X)
        raise TypeError(
            f"task='sts': X holds pairs of texts, and {type(embedder).__name__} takes vectors: "
            "pass the pairs' vectors (an array of shape (n_pairs, 2, n_features), two "
            "matrices (A, B), or [(vector_a, vector_b), ...]: A = "
            "MatryoshkaEmbedder().fit(texts).embed_full(texts_a), say), or score "
            "MatryoshkaEmbedder(fine_tune='adaptor') on the texts"
        )
    return check_pairs(X)


def _as_indices(splits: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each ``(train, test)`` of ``splits`` as arrays of row positions. An iterable of splits
    may give boolean masks, as ``cross_val_score`` takes them: a list ``X`` was indexed with
    their booleans ("list indices must be integers ... not numpy.bool"), and a test fold's size
    was the mask's length."""
    out = []
    for train, test in splits:
        train, test = np.asarray(train), np.asarray(test)
        out.append(
            (
                np.flatnonzero(train) if train.dtype == bool else train,
                np.flatnonzero(test) if test.dtype == bool else test,
            )
        )
    return out


def _sts_splits(cv: Any, y: np.ndarray, groups: np.ndarray | None) -> list[Any]:
    """The folds of the pairs: ``cv.split`` with the gold scores as ``y``, as ``cross_validate``
    gives them. A scikit-learn splitter that stratifies by class (``StratifiedKFold``) failed
    inside scikit-learn with a TypeError for the ``y`` it was not given; it now gets the
    scores, and a ``ValueError`` before any fit says why it cannot split them: continuous
    scores are no classes, and integer ones (0 to 5) must each be in every fold."""
    from sklearn.model_selection import (
        RepeatedStratifiedKFold,
        StratifiedGroupKFold,
        StratifiedKFold,
        StratifiedShuffleSplit,
        check_cv,
    )
    from sklearn.utils.multiclass import type_of_target

    from ._compare import _SameSplits

    splitter = cv.cv if isinstance(cv, _SameSplits) else cv  # compare's, splitting once
    stratified = (
        StratifiedKFold, StratifiedGroupKFold, StratifiedShuffleSplit, RepeatedStratifiedKFold
    )  # fmt: skip
    every = np.arange(len(y))
    if not isinstance(splitter, stratified):
        return list(check_cv(cv).split(every, y, groups))
    name = type(splitter).__name__
    advice = "pass a splitter of pairs, such as KFold(5, shuffle=True) (an int cv is one)"
    if type_of_target(y) == "continuous":
        raise ValueError(
            f"task='sts': cv={name} stratifies by class, and the gold scores y are continuous, "
            f"no classes: {advice}"
        )
    try:
        return list(check_cv(cv).split(every, y, groups))
    except ValueError as exc:
        raise ValueError(
            f"task='sts': cv={name} stratifies the pairs by their gold scores y, taken as "
            f"classes, and cannot split them: {exc} Or {advice}"
        ) from exc


def _holds_text_pairs(X: Any) -> bool:
    """Whether STS's ``X`` holds texts (looking at its first pair, or a frame's first cell): a
    vector-taking estimator says to pass vectors then, and else what is wrong with the pairs."""
    if _frames.is_dataframe(X):
        return (
            X.shape[1] > 0
            and len(X) > 0
            and isinstance(next(iter(_frames.column(X, 0))), str | bytes)
        )
    return holds_text(X)


def _takes_vectors(embedder: Any) -> bool:
    """Whether the estimator takes vectors, never texts (``MatryoshkaAdaptor``)."""
    from skmrl.adaptor import MatryoshkaAdaptor

    return isinstance(embedder, MatryoshkaAdaptor)


def _silenced(embedder: Any, progress: bool | None) -> Any:
    """``embedder``, or with ``progress=False`` a clone whose own bars are off too where they
    were left to ``None`` (shown when watched): ``dim_curve(progress=False)`` silenced its own
    bar only, and the embedder's training and encoding bars still drew in each fold. An
    embedder's ``progress=True`` is kept: the user asked for it."""
    from sklearn.base import clone

    params = embedder.get_params(deep=False)
    if progress is not False or "progress" not in params or params["progress"] is not None:
        return embedder
    return clone(embedder).set_params(progress=False)


def _check_targets(y: np.ndarray, estimator: Any) -> np.ndarray:
    """A regressor's ``y``: one finite number per sample (kept as given, as a regressor in a
    ``GridSearchCV`` gets it)."""
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.number) and np.isfinite(y).all()):
        raise ValueError(
            f"estimator {type(estimator).__name__} is a regressor: y must hold one finite "
            f"number per text, got an array of {y.dtype} of shape {y.shape}"
        )
    return y


def _check_groups(groups: Any, cv: Any, n: int, what: str) -> np.ndarray | None:
    """``groups`` as an array of one label per sample (``what``: ``"samples"`` or ``"pairs"``),
    or ``None``; an error for another length, or with an int ``cv``, whose splitter (stratified
    or plain k-fold) would ignore them."""
    if groups is None:
        return None
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        raise ValueError(
            f"groups= needs a group splitter as cv, such as GroupKFold({cv}) or "
            f"StratifiedGroupKFold({cv}); an int cv splits without them"
        )
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n:
        raise ValueError(
            f"groups must hold one label per {what[:-1]}: {n} {what}, got shape {groups.shape}"
        )
    return groups


def _scorer_name(scoring: Any, estimator: Any) -> str:
    """The curve's name for a classification ``scoring``: by default ``"accuracy"`` for a
    classifier and ``"<Estimator>.score"`` for any other (a regressor's is its R2), a string
    as it is, a callable by its ``__name__``, and a ``make_scorer``
    scorer by its score function's (``"f1_score"``, not the scorer's repr with its arguments),
    ``"neg_"`` before it when the scorer negates a loss (``greater_is_better=False``: its scores
    are ``-log_loss``, and a table headed ``log_loss`` above them read as a negative loss)."""
    if scoring is None:
        from sklearn.base import is_classifier

        return "accuracy" if is_classifier(estimator) else f"{type(estimator).__name__}.score"
    if isinstance(scoring, str):
        return scoring
    name = getattr(scoring, "__name__", None)
    if name is None:  # sklearn's scorers have no __name__; their score function has
        name = getattr(getattr(scoring, "_score_func", None), "__name__", None)
        if name is not None and getattr(scoring, "_sign", 1) < 0:
            name = f"neg_{name}"  # as scikit-learn names its negated losses
    return str(scoring) if name is None else str(name)


def _common_dims(results: list[_Fold]) -> list[_Fold]:
    """Keep the sizes that every fold scored (a fold whose embedder came out smaller than the
    first's scores fewer), with a warning naming what was dropped and why."""
    kept = [k for k in results[0].dims if all(k in r.dims for r in results)]
    if kept == results[0].dims:
        return results
    import warnings

    from skmrl._warn import caller_stacklevel

    dropped = [k for k in results[0].dims if k not in kept]
    folds = [i for i, r in enumerate(results) if len(r.dims) < len(results[0].dims)]
    warnings.warn(
        f"dims {dropped} are left out of the curve: the embedder fitted on fold(s) {folds} came "
        "out smaller than the one fitted on fold 0, as the size of some embedders depends on "
        "their training data (TfidfBaseline's is the rank of its fold's TF-IDF matrix)",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return [
        dataclasses.replace(
            r,
            scores=[[s for k, s in zip(r.dims, row, strict=True) if k in kept] for row in r.scores],
            dims=kept,
        )
        for r in results
    ]


def _result(depths: list[int | None], curves: list[DimCurve], first: _Fold) -> Any:
    """One curve without ``layers``; else the curves of every depth with their timings."""
    if depths == [None]:
        return curves[0]
    return DepthDimCurves(
        dict(zip(depths, curves, strict=True)),
        encode_seconds_per_1000=first.seconds_per_1000 or {},
    )


def _retrieval_curve(
    embedder: Any,
    X: Any,
    y: Any,
    dims: Any,
    estimator: Any,
    cv: Any,
    scoring: Any,
    progress: bool | None,
    clip: bool,
    steps: Any,
    depths: list[int | None],
) -> DimCurve | DepthDimCurves:
    """``task="retrieval"``: one fit on the corpus, one encoding, every dim ranked and scored
    (at each depth)."""
    if estimator is not None:
        raise ValueError("task='retrieval' ranks documents by cosine: no estimator")
    default_cv = isinstance(cv, numbers.Integral) and not isinstance(cv, bool) and cv == 5
    if cv is not None and not default_cv:
        raise ValueError(
            "task='retrieval' fits the embedder once on the corpus and scores every query: "
            f"there are no folds; leave cv out (or pass cv=None), got cv={cv!r}"
        )
    names = _metric_names(scoring)
    data = _as_retrieval_set(X, y)
    per_depth, fold = _retrieval_scores(embedder, data, dims, names, clip, progress, steps, depths)
    curves = [
        DimCurve(
            dims=np.asarray(fold.dims),
            scores=np.array([scores[names[0]]]),
            fit_seconds=fold.fit_seconds,
            encode_seconds=fold.encode_seconds[j],
            task="retrieval",
            scoring=names[0],
            metrics={name: np.array([values]) for name, values in scores.items()},
        )
        for j, scores in enumerate(per_depth)
    ]
    return _result(depths, curves, fold)
