"""Choosing ``dim``: the quality of an embedder at every size, for the cost of one encoding.

:func:`dim_curve` fits the embedder once per cross-validation fold at full size, encodes each
fold once, and slices every ``dim`` from those full-size vectors (contract 3 of docs/design.md:
``dim=k`` is the first ``k`` full-size columns, re-normalised), so the whole curve costs about one
encoding of the data. :class:`DimCurve` holds the result (scores, bytes per vector, timings) and
picks the smallest good size; :func:`smallest_dim_refit` does the same inside ``GridSearchCV``.
:func:`compare` draws the curves of several embedders on the same folds (:class:`Comparison`).
"""

from __future__ import annotations

import numbers
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Comparison", "DimCurve", "compare", "dim_curve", "smallest_dim_refit"]

TASKS = ("classification", "sts")


# -- the result ------------------------------------------------------------------------------------
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
        ``"classification"`` or ``"sts"``.
    scoring : str
        Name of the score (``"accuracy"``, the scorer's name, or ``"spearman"``).

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
    mean: np.ndarray = field(init=False)
    std: np.ndarray = field(init=False)
    bytes_per_vector: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.dims = np.asarray(self.dims, dtype=np.int64)
        self.scores = np.atleast_2d(np.asarray(self.scores, dtype=np.float64))
        if self.scores.shape[1] != len(self.dims):
            raise ValueError(
                f"scores has {self.scores.shape[1]} columns but there are {len(self.dims)} dims"
            )
        self.mean = self.scores.mean(axis=0)
        self.std = self.scores.std(axis=0)
        self.bytes_per_vector = {
            "float32": 4 * self.dims,
            "int8": self.dims.copy(),
            "binary": -(-self.dims // 8),
        }

    def smallest_dim(self, tolerance: float = 0.01) -> int:
        """The smallest ``dim`` whose mean score is within ``tolerance`` of the best mean.

        Parameters
        ----------
        tolerance : float, default=0.01
            Absolute, in the score's units: with accuracy, ``0.01`` is one percentage point
            (``best - 0.01``), not 1% of the best.

        Returns
        -------
        int
        """
        if not tolerance >= 0:
            raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
        finite = np.isfinite(self.mean)
        if not finite.any():
            raise ValueError("no dim has a finite mean score")
        best = self.mean[finite].max()
        ok = finite & (self.mean >= best - tolerance)
        return int(self.dims[ok].min())

    def to_frame(self) -> Any:
        """The curve as a pandas DataFrame, one row per ``dim``.

        Returns
        -------
        pandas.DataFrame
            Columns ``dim``, ``mean``, ``std``, ``bytes_float32``, ``bytes_int8``,
            ``bytes_binary``.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in the dev extra
            raise ImportError(
                "DimCurve.to_frame needs pandas (pip install pandas); "
                "DimCurve.to_markdown needs nothing"
            ) from exc
        return pd.DataFrame(
            {
                "dim": self.dims,
                "mean": self.mean,
                "std": self.std,
                **{f"bytes_{k}": v for k, v in self.bytes_per_vector.items()},
            }
        )

    def to_markdown(self, digits: int = 4) -> str:
        """The curve as a Markdown table (no dependency).

        Parameters
        ----------
        digits : int, default=4
            Decimals of the scores.

        Returns
        -------
        str
        """
        head = [
            "dim",
            self.scoring,
            "std",
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
        from skmrl.plotting import _pyplot, draw_dim_curves

        plt = _pyplot("DimCurve.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
        label = kwargs.pop("label", "")
        draw_dim_curves(ax, {label: self}, **kwargs)
        return ax


# -- GridSearchCV: the smallest dim within tolerance ----------------------------------------------
def smallest_dim_refit(
    param: str, tolerance: float = 0.01, *, metric: str = "score"
) -> Callable[[dict], int]:
    """A ``refit=`` callable for ``GridSearchCV``: the smallest ``dim`` within ``tolerance``.

    Among the candidates whose mean test score is at least ``best - tolerance`` (absolute, in
    the score's units), it picks the one with the smallest value of ``param``; among those with
    that value (other parameters varying), the best scored. ``best_index_`` and the refitted
    ``best_estimator_`` follow it (``best_score_`` is not defined with a callable ``refit``).

    Parameters
    ----------
    param : str
        The grid's name of ``dim``, such as ``"tfidfbaseline__dim"``.
    tolerance : float, default=0.01
        Absolute: with accuracy, 0.01 is one percentage point.
    metric : str, default="score"
        Which ``mean_test_<metric>`` to read: ``"score"`` for a single scorer, else the name of
        one of a multi-metric ``scoring``.

    Returns
    -------
    callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.evaluation import smallest_dim_refit
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> pipe = make_pipeline(TfidfBaseline(), LogisticRegression(max_iter=2000))
    >>> grid = GridSearchCV(
    ...     pipe,
    ...     {"tfidfbaseline__dim": [2, 4, 8, 16]},
    ...     cv=4,
    ...     refit=smallest_dim_refit("tfidfbaseline__dim", tolerance=0.05),
    ... ).fit(CORPUS, LABELS)
    >>> grid.best_params_
    {'tfidfbaseline__dim': 8}
    """
    if not (isinstance(tolerance, numbers.Real) and tolerance >= 0):
        raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
    key = f"mean_test_{metric}"

    def refit(cv_results: dict) -> int:
        if key not in cv_results:
            found = sorted(k for k in cv_results if k.startswith("mean_test_"))
            raise ValueError(f"cv_results has no {key!r} (it has {found}); set metric=")
        if f"param_{param}" not in cv_results:
            found = sorted(k[6:] for k in cv_results if k.startswith("param_"))
            raise ValueError(f"the grid has no parameter {param!r} (it has {found})")
        scores = np.asarray(cv_results[key], dtype=np.float64)
        values = [None if v is np.ma.masked else v for v in cv_results[f"param_{param}"]]
        if any(v is None or not isinstance(v, numbers.Integral) for v in values):
            raise ValueError(f"every candidate's {param} must be an int to order them by size")
        ok = np.isfinite(scores) & (scores >= np.nanmax(scores) - tolerance)
        smallest = min(int(v) for v, good in zip(values, ok, strict=True) if good)
        same = [i for i, v in enumerate(values) if ok[i] and int(v) == smallest]
        return int(max(same, key=lambda i: scores[i]))

    refit.__name__ = f"smallest_dim_refit({param!r}, tolerance={tolerance})"
    return refit


# -- the curve ------------------------------------------------------------------------------------
def _take(X: Any, idx: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[i] for i in idx]


def _is_embedder(est: Any) -> bool:
    from skmrl.base import BaseEmbedder

    return isinstance(est, BaseEmbedder)


def _full_vectors(emb: Any, X: Any) -> tuple[np.ndarray | None, Callable[[int], np.ndarray]]:
    """Encode ``X`` once at full size; return a function giving the vectors at any ``dim``."""
    from skmrl.base import prefix_normalize

    if _is_embedder(emb):
        full = emb.embed_full(X)
    elif hasattr(emb, "transform_full"):  # MatryoshkaAdaptor
        full = emb.transform_full(X)
    else:  # any other transformer with a `dim` parameter: set it and transform
        return None, lambda k: emb.set_params(dim=k).transform(X)
    normalize = getattr(emb, "normalize", True)
    return full, lambda k: prefix_normalize(full, k, normalize)


def _check_dims(dims: Any, max_dim: int | None, where: str = "", clip: bool = False) -> list[int]:
    """Validate ``dims`` (sorted, unique); ``max_dim=None`` checks types and ``>= 1`` only.

    ``clip=True`` drops the sizes above ``max_dim`` instead of refusing them (not all of them).
    """
    if dims is None:
        assert max_dim is not None
        out = [2**p for p in range(3, max(3, max_dim.bit_length())) if 2**p < max_dim]
        return [*out, max_dim]
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        dims = [dims]
    try:
        values = list(dims)
    except TypeError:
        raise TypeError(f"dims must be a list of ints or None, got {dims!r}") from None
    if not values:
        raise ValueError("dims is empty")
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"dims must hold ints, got {v!r} ({type(v).__name__})")
    if max_dim is None:
        bad = [int(v) for v in values if v < 1]
        if bad:
            raise ValueError(f"dims {bad} must be >= 1")
        return sorted({int(v) for v in values})
    if clip:
        kept = [v for v in values if v <= max_dim]
        if not kept:
            raise ValueError(
                f"every one of dims {sorted(int(v) for v in values)} is above max_dim_={max_dim} "
                f"of the embedder {where}"
            )
        values = kept
    bad = [int(v) for v in values if not 1 <= v <= max_dim]
    if bad:
        raise ValueError(f"dims {bad} are outside 1..max_dim_={max_dim} of the embedder {where}")
    return sorted({int(v) for v in values})


def _fitted_max_dim(emb: Any) -> int:
    max_dim = getattr(emb, "max_dim_", None)
    if max_dim is None:
        raise ValueError(f"{type(emb).__name__} has no max_dim_ after fit: pass dims= explicitly")
    return int(max_dim)


def _progress(progress: bool | None, total: int, desc: str) -> Any:
    show = sys.stderr.isatty() if progress is None else bool(progress)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="fold", disable=not show, leave=False)


def _classification_fold(
    embedder, X, y, train, test, dims, estimator, scorer, fold, clip=False
) -> tuple[list[float], int, float, float]:
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    emb = clone(embedder).set_params(dim=None)
    X_train, y_train, X_test, y_test = _take(X, train), y[train], _take(X, test), y[test]
    t0 = time.perf_counter()
    emb.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    max_dim = _fitted_max_dim(emb)
    dims = _check_dims(dims, max_dim, f"fitted on fold {fold}", clip)
    t0 = time.perf_counter()
    _, at_train = _full_vectors(emb, X_train)
    _, at_test = _full_vectors(emb, X_test)
    enc_s = time.perf_counter() - t0
    scores = []
    # One BLAS thread for the estimator: on at most max_dim_ columns threads gain nothing, and
    # with the cores busy (another process, or n_jobs folds) OpenBLAS's threads made the 35 fits
    # of a 7-dim BBC News curve take 27 s instead of about 1 s on 2 cores
    # (benchmarks/curve_cost.py).
    with threadpool_limits(limits=1, user_api="blas"):
        for k in dims:
            model = clone(estimator).fit(at_train(k), y_train)
            scores.append(float(scorer(model, at_test(k), y_test)))
    return scores, dims, fit_s, enc_s


def _check_pairs(X: Any) -> tuple[list[str], list[str]]:
    if isinstance(X, str) or X is None:
        raise TypeError(f"X must be a sequence of (text_a, text_b) pairs, got {type(X).__name__}")
    a, b = [], []
    for i, pair in enumerate(X):
        if isinstance(pair, str) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"X[{i}] must be a pair (text_a, text_b), got {pair!r}")
        if not (isinstance(pair[0], str) and isinstance(pair[1], str)):
            raise TypeError(f"X[{i}] must hold two strings, got {pair!r}")
        a.append(pair[0])
        b.append(pair[1])
    if not a:
        raise ValueError("X holds no pairs")
    return a, b


def _sts_fold(embedder, a, b, y, fit_idx, test, dims, fold, clip=False):
    from scipy.stats import spearmanr
    from sklearn.base import clone

    from skmrl.base import prefix_normalize

    emb = clone(embedder).set_params(dim=None)
    fit_texts = list(dict.fromkeys([a[i] for i in fit_idx] + [b[i] for i in fit_idx]))
    t0 = time.perf_counter()
    emb.fit(fit_texts)  # never the gold scores
    fit_s = time.perf_counter() - t0
    dims = _check_dims(dims, _fitted_max_dim(emb), f"fitted on fold {fold}", clip)
    t0 = time.perf_counter()
    full_a, at_a = _full_vectors(emb, [a[i] for i in test])
    full_b, at_b = _full_vectors(emb, [b[i] for i in test])
    enc_s = time.perf_counter() - t0
    scores = []
    for k in dims:
        if full_a is None:
            va, vb = at_a(k), at_b(k)
            va, vb = prefix_normalize(va, None), prefix_normalize(vb, None)
        else:  # cosine needs unit vectors whatever `normalize` says
            va, vb = prefix_normalize(full_a, k), prefix_normalize(full_b, k)
        cos = np.einsum("ij,ij->i", va, vb, dtype=np.float64)
        scores.append(float(spearmanr(cos, y[test]).statistic))
    return scores, dims, fit_s, enc_s


def _learns_from_texts(embedder: Any) -> bool:
    """Whether the embedder's fitted state depends on the texts it is fitted on."""
    if _is_embedder(embedder):
        return embedder._fit_data_key([], None) is not None
    return True


def dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Sequence[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> DimCurve:
    """Score an embedder at several sizes ``dim`` for the cost of about one encoding.

    In each cross-validation fold the embedder is cloned, fitted once at full size (on the fold's
    training part, with its labels: an embedder that learns from ``y``, such as
    ``MatryoshkaEmbedder(fine_tune="adaptor")``, learns inside the fold), and each part of the
    fold is encoded once at full size; every ``dim`` is then a slice of those vectors,
    re-normalised (what ``set_params(dim=k).transform`` returns). With the skmrl caches, texts
    shared by several folds are encoded once in all by a frozen encoder.

    Parameters
    ----------
    embedder : skmrl embedder or MatryoshkaAdaptor
        Any estimator with a ``dim`` parameter whose ``dim=k`` output is the first ``k`` full-size
        columns (every skmrl embedder; ``MatryoshkaAdaptor`` on precomputed vectors ``X``). Its
        own ``dim`` is ignored.
    X : iterable of str, array of shape (n_samples, n_features), or sequence of pairs
        Classification: the documents (vectors for ``MatryoshkaAdaptor``). STS: a sequence of
        ``(text_a, text_b)`` pairs.
    y : array-like of shape (n_samples,)
        Classification: the class labels (required). STS: the gold similarity scores.
    dims : list of int, optional
        Sizes to score, each in ``1..max_dim_`` of the fitted embedder. Default: the powers of
        two from 8 below ``max_dim_``, and ``max_dim_`` (the full size).
    task : {"classification", "sts"}, default="classification"
        ``"classification"``: ``estimator`` is trained on the training part of each fold at each
        size and scored on the held-out part. ``"sts"``: the Spearman correlation between the
        cosine similarity of each pair and its gold score (no estimator). The embedder is then
        fitted on the unique texts of the pairs (first sentences, then second ones, each once),
        never on the scores. An embedder whose fitted state does
        not depend on the texts (``MatryoshkaEmbedder(fine_tune=None)``) is fitted once and
        scored on all pairs (the usual STS figure; ``std`` is 0). Any other (TF-IDF, Word2Vec,
        an adaptor) is scored on ``cv`` folds of pairs, fitted on the texts of the other pairs,
        so that it never sees a test sentence; ``cv=None`` fits it once on the texts of all
        pairs instead (transductive: no score is used, but the test texts are).
    estimator : classifier, default=LogisticRegression(max_iter=2000)
        Classification only; cloned for each fold and size, and fitted with one BLAS thread
        (``threadpoolctl``): on vectors of at most ``max_dim_`` columns threads gain nothing,
        and on busy cores they made these fits up to 30 times slower.
    cv : int, cross-validation splitter or iterable, default=5
        Classification: an int is ``StratifiedKFold(cv, shuffle=True, random_state=0)``. STS:
        an int is ``KFold(cv, shuffle=True, random_state=0)`` over pairs; ``None`` is one fit
        on all pairs.
    scoring : str or callable, optional
        Classification only: a scikit-learn scorer name or ``scorer(estimator, X, y)``; default
        the estimator's ``score`` (accuracy).
    n_jobs : int, optional
        Folds run in parallel with joblib (``-1``: all cores). The in-memory vector cache is per
        process: use ``memory=`` on the embedder to share vectors between workers.
    progress : bool, optional
        A ``tqdm.auto`` bar over the folds (in a notebook too); ``None``: shown when stderr is a
        terminal.

    Returns
    -------
    DimCurve

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
    )


def _dim_curve(
    embedder: Any,
    X: Any,
    y: Any = None,
    *,
    dims: Sequence[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    _clip_dims: bool = False,
) -> DimCurve:
    """:func:`dim_curve`; ``_clip_dims=True`` drops the dims above the fitted ``max_dim_``."""
    from joblib import Parallel, delayed

    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    if not hasattr(embedder, "get_params") or "dim" not in embedder.get_params(deep=False):
        raise TypeError(
            f"embedder must be an estimator with a `dim` parameter (a skmrl embedder or "
            f"MatryoshkaAdaptor), got {type(embedder).__name__}"
        )
    if dims is not None:
        _check_dims(dims, None)  # types now; the range after the first fit

    if task == "classification":
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import check_scoring
        from sklearn.model_selection import StratifiedKFold, check_cv

        from skmrl.adaptor import check_class_labels

        if y is None:
            raise ValueError("task='classification' needs the class labels y")
        if not isinstance(X, np.ndarray) and not hasattr(X, "iloc"):
            if isinstance(X, str) or X is None:
                raise TypeError(f"X must be a collection of documents, got {type(X).__name__}")
            X = list(X)
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
        classes, codes = check_class_labels(y, len(y))
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
            if cv < 2:
                raise ValueError(f"cv must be at least 2 folds, got {cv}")
            counts = np.bincount(codes)
            if counts.min() < cv:
                small = classes[int(np.argmin(counts))]
                raise ValueError(
                    f"class {small!r} has {counts.min()} samples, fewer than the cv={cv} "
                    "folds of stratified cross-validation: lower cv"
                )
            cv = StratifiedKFold(int(cv), shuffle=True, random_state=0)
        else:
            cv = check_cv(cv, y, classifier=True)
        splits = list(cv.split(np.zeros((len(y), 1)), y))
        estimator = LogisticRegression(max_iter=2000) if estimator is None else estimator
        scorer = check_scoring(estimator, scoring=scoring)
        score_name = "accuracy" if scoring is None else getattr(scoring, "__name__", str(scoring))

        def run(i: int, train: np.ndarray, test: np.ndarray, fold_dims: Any, clip=False):
            return _classification_fold(
                embedder, X, y, train, test, fold_dims, estimator, scorer, i, clip
            )

    else:
        from sklearn.model_selection import KFold, check_cv

        if estimator is not None or scoring is not None:
            raise ValueError("task='sts' scores the cosine with Spearman: no estimator or scoring")
        a, b = _check_pairs(X)
        if y is None:
            raise ValueError("task='sts' needs the gold similarity scores y")
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 or len(y) != len(a):
            raise ValueError(f"X has {len(a)} pairs but y has shape {y.shape}")
        every = np.arange(len(a))
        if cv is None or not _learns_from_texts(embedder):
            splits = [(every, every)]
        else:
            if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
                if not 2 <= cv <= len(a):
                    raise ValueError(f"cv must be between 2 and the {len(a)} pairs, got {cv}")
                cv = KFold(int(cv), shuffle=True, random_state=0)
            splits = list(check_cv(cv).split(every))
        score_name = "spearman"

        def run(i: int, train: np.ndarray, test: np.ndarray, fold_dims: Any, clip=False):
            return _sts_fold(embedder, a, b, y, train, test, fold_dims, i, clip)

    results: list[Any] = [None] * len(splits)
    with _progress(progress, len(splits), f"dim_curve ({task})") as bar:
        # The first fold fixes the dims (the default ones depend on the fitted max_dim_).
        # With _clip_dims (compare), the sizes above the first fold's max_dim_ are dropped.
        results[0] = run(0, *splits[0], dims, _clip_dims)
        bar.update(1)
        dims = results[0][1]
        rest = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(run)(i, train, test, dims) for i, (train, test) in enumerate(splits[1:], 1)
        )
        for i, res in enumerate(rest, 1):
            results[i] = res
            bar.update(1)
    return DimCurve(
        dims=np.asarray(dims),
        scores=np.array([r[0] for r in results]),
        fit_seconds=float(sum(r[2] for r in results)),
        encode_seconds=float(sum(r[3] for r in results)),
        task=task,
        scoring=score_name,
    )


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
            Columns ``embedder``, ``dim``, ``mean``, ``std``, ``bytes_float32``,
            ``fit_seconds`` and ``encode_seconds`` (the embedder's totals over its folds,
            repeated on each of its rows).
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in the dev extra
            raise ImportError(
                "Comparison.to_frame needs pandas (pip install pandas); "
                "Comparison.to_markdown needs nothing"
            ) from exc
        frames = [
            pd.DataFrame(
                {
                    "embedder": name,
                    "dim": c.dims,
                    "mean": c.mean,
                    "std": c.std,
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
        embedder's :meth:`smallest_dims` for ``tolerance``.

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
        chosen = self.smallest_dims(tolerance)
        lines.append(
            "| "
            + " | ".join([f"smallest dim within {tolerance:g} of the best"])
            + " | "
            + " | ".join(str(chosen[n]) for n in names)
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
        from skmrl.plotting import _pyplot, draw_dim_curves

        plt = _pyplot("Comparison.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
        draw_dim_curves(ax, self.curves)
        return ax


def compare(
    embedders: dict[str, Any],
    X: Any,
    y: Any = None,
    *,
    dims: Sequence[int] | None = None,
    task: str = "classification",
    estimator: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> Comparison:
    """Score several embedders at several sizes ``dim``, on the same folds: one table.

    One :func:`dim_curve` per embedder, each with the same arguments. An int ``cv`` is a
    shuffled splitter with a fixed seed, and an iterable of splits is read once and reused, so
    every embedder is scored on the same folds; each curve is the one :func:`dim_curve` alone
    would return.

    Parameters
    ----------
    embedders : dict of str to estimator
        Names (shown in the table and the plot's legend) and embedders, each an estimator with a
        ``dim`` parameter as :func:`dim_curve` takes.
    X, y
        As in :func:`dim_curve`.
    dims : list of int, optional
        Sizes to score. Each embedder is scored at those it supports: the sizes above the
        ``max_dim_`` it has once fitted (on the first fold) are skipped for that embedder only
        (``TfidfBaseline(max_dim=64)`` skips 128; its column in :meth:`Comparison.to_markdown`
        is blank there); an error when an embedder supports none of them. Default: each
        embedder's own default sizes (powers of two from 8, and its full size).
    task, estimator, cv, scoring, n_jobs, progress
        As in :func:`dim_curve`.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from skmrl import TfidfBaseline, Word2VecEmbedder
    >>> from skmrl.evaluation import compare
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> comp = compare(
    ...     {"tf-idf": TfidfBaseline(), "word2vec": Word2VecEmbedder(max_dim=16)},
    ...     CORPUS,
    ...     LABELS,
    ...     dims=[4, 8, 16, 24],
    ...     cv=3,
    ... )
    >>> {name: curve.dims.tolist() for name, curve in comp.curves.items()}  # 24 > max_dim=16
    {'tf-idf': [4, 8, 16, 24], 'word2vec': [4, 8, 16]}
    >>> comp.to_frame().columns.tolist()
    ['embedder', 'dim', 'mean', 'std', 'bytes_float32', 'fit_seconds', 'encode_seconds']
    >>> sorted(comp.smallest_dims(tolerance=0.05))
    ['tf-idf', 'word2vec']
    """
    from collections.abc import Mapping

    if not isinstance(embedders, Mapping):
        raise TypeError(
            f"embedders must be a dict of names to embedders, got {type(embedders).__name__}"
        )
    if not embedders:
        raise ValueError("embedders is empty: give at least one {name: embedder}")
    for name, emb in embedders.items():
        if not isinstance(name, str):
            raise TypeError(f"embedder names must be str, got {name!r} ({type(name).__name__})")
        if not hasattr(emb, "get_params") or "dim" not in emb.get_params(deep=False):
            raise TypeError(
                f"embedders[{name!r}] must be an estimator with a `dim` parameter (a skmrl "
                f"embedder or MatryoshkaAdaptor), got {type(emb).__name__}"
            )
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    if dims is not None:
        dims = _check_dims(dims, None)
    # Iterables read once (a generator of texts, pairs or splits) are read here, for all.
    if not isinstance(X, np.ndarray) and not hasattr(X, "iloc"):
        if isinstance(X, str) or X is None:
            raise TypeError(f"X must be a collection of documents or pairs, got {type(X).__name__}")
        X = list(X)
    if cv is not None and not isinstance(cv, numbers.Integral) and not hasattr(cv, "split"):
        cv = list(cv)
    curves = {
        name: _dim_curve(
            emb,
            X,
            y,
            dims=dims,
            task=task,
            estimator=estimator,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            progress=progress,
            _clip_dims=dims is not None,
        )
        for name, emb in embedders.items()
    }
    return Comparison(curves)
