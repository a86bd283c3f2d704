""":func:`compare`: the curves of several embedders on the same folds."""

from __future__ import annotations

import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

from skmrl import _frames

from ._common import (
    _check_dim_estimator,
    _check_dims,
    _check_dims_before_fit,
    _DimsAboveSize,
    _learns_from_texts,
    _Steps,
)
from ._curve import Comparison
from ._retrieval import _as_retrieval_set
from ._run import TASKS, _dim_curve

__all__ = ["compare"]


def compare(
    embedders: dict[str, Any],
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
    groups: Any = None,
) -> Comparison:
    """Score several embedders at several sizes ``dim``, on the same folds: one table.

    One :func:`dim_curve` per embedder, each with the same arguments. An int ``cv`` is a
    shuffled splitter with a fixed seed, a splitter splits once for all (one that shuffles
    without a seed, such as ``KFold(shuffle=True)``, too), and an iterable of splits is read
    once and reused, so every embedder is scored on the same folds; each curve is the one
    :func:`dim_curve` alone would return, but for one case: with ``task="sts"``, an embedder
    that does not learn from the texts (a frozen encoder), which :func:`dim_curve` alone scores
    once on all pairs, is scored on the same ``cv`` folds as the others when one of them learns
    (an adaptor, TF-IDF), so that a column is not a mean over folds beside a single score. With
    ``task="retrieval"`` every embedder ranks the same corpus for the same queries (there are
    no folds).

    Parameters
    ----------
    embedders : dict of str to estimator
        Names (shown in the table and the plot's legend) and embedders, each an estimator with a
        ``dim`` parameter as :func:`dim_curve` takes.
    X, y
        As in :func:`dim_curve`.
    dims : list of int, optional
        Sizes to score. Each embedder is scored at those it supports: the sizes above the
        ``max_dim_`` it has once fitted (in any fold) are skipped for that embedder only
        (``TfidfBaseline(max_dim=64)`` skips 128; its column in :meth:`Comparison.to_markdown`
        is blank there); an error naming the embedder when it supports none of them. Default: each
        embedder's own default sizes (powers of two from 8, and its full size).
    task, estimator, cv, scoring, n_jobs, progress, groups
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
        _check_dim_estimator(emb, f"embedders[{name!r}]")
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    if dims is not None:
        dims = _check_dims(dims, None)
        for name, emb in embedders.items():  # each one's size, where known unfitted
            try:
                _check_dims_before_fit(emb, dims, clip=True)
            except _DimsAboveSize as exc:
                raise _DimsAboveSize(f"embedders[{name!r}]: {exc}") from None
    if task == "retrieval":
        _as_retrieval_set(X, y)  # bad input fails here, before the first embedder is fitted
    # Iterables read once (a generator of texts, pairs or splits) are read here, for all.
    elif not (isinstance(X, np.ndarray) or _frames.is_frame_or_series(X)):
        if isinstance(X, str) or X is None or _frames.is_lazy_frame(X):
            raise TypeError(
                f"X must be a collection of documents or pairs, got {_frames.type_of(X)}"
            )
        X = list(X)
    if cv is not None and not isinstance(cv, numbers.Integral) and not hasattr(cv, "split"):
        cv = list(cv)
    elif hasattr(cv, "split") and task != "retrieval":  # unseeded shuffles differ at each call
        cv = _SameSplits(cv)
    # STS: a frozen encoder is scored once on all pairs by dim_curve; beside an embedder that
    # learns from the texts (scored on folds) it is scored on the same folds, to compare alike.
    sts_folds = task == "sts" and any(_learns_from_texts(e) for e in embedders.values())
    steps = _Steps(progress, "compare")  # one bar over every embedder's folds and sizes
    # One step held back for each embedder until its curve is done: a curve's steps are
    # counted once its first fold has run (the sizes it supports), so without it the bar read
    # 100% at the end of each embedder, through the next one's first fit and encoding.
    steps.add(len(embedders))
    try:
        curves = {}
        for name, emb in embedders.items():
            steps.bar.set_postfix_str(name)
            try:
                curves[name] = _dim_curve(
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
                    groups=groups,
                    _clip_dims=dims is not None,
                    _steps=steps,
                    _sts_folds=sts_folds,
                )
            except _DimsAboveSize as exc:  # of which embedder: it said "the embedder"
                raise _DimsAboveSize(f"embedders[{name!r}]: {exc}") from None
            steps.add(-1)
    finally:
        steps.close()
    return Comparison(curves)


class _SameSplits:
    """A cross-validation splitter that splits once and gives those folds on every call.

    ``compare`` scores every embedder on the same folds: a splitter that shuffles without a
    fixed seed (``KFold(shuffle=True)``, or a ``RandomState`` object) would give each embedder
    other folds, as ``GridSearchCV`` avoids by splitting once for all its candidates. The data
    are the same for every embedder, so the first call's folds hold for all.
    """

    def __init__(self, cv: Any) -> None:
        self.cv = cv
        self._splits: list[Any] | None = None

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        if self._splits is None:
            self._splits = list(self.cv.split(X, y, groups))
        return iter(self._splits)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        if self._splits is not None:
            return len(self._splits)
        return self.cv.get_n_splits(X, y, groups)
