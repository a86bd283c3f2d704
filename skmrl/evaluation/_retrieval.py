"""``task="retrieval"``: queries against a corpus, scored by nDCG@k and recall@k at every ``dim``.

The embedder is fitted once on the corpus texts (never the queries or the judgements), the corpus
and the queries are each encoded once at full size, and every ``dim`` ranks the corpus by the
cosine of the re-normalised prefixes (:func:`skmrl.metrics.cosine_top_k`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from skmrl.base import _float_vectors
from skmrl.metrics import _check_qrels, _mean_score, cosine_top_k

from ._common import _depth_seconds, _fit_fold, _Fold, _scores_at_depths, _Steps

#: The metrics every retrieval curve records, beside its ``scoring``.
STANDARD_METRICS = ("ndcg@10", "recall@100")

_METRIC = re.compile(r"(ndcg|recall)@([0-9]+)")


@dataclass
class _RetrievalSet:
    """Validated retrieval input: ids and documents in order, and the judgements."""

    query_ids: list[Any]
    queries: Any  # list of str, or an array of vectors
    doc_ids: list[Any]
    corpus: Any
    qrels: dict[Any, dict[Any, int]]


def _parse_metric(name: Any) -> tuple[str, int]:
    """``"ndcg@10"`` -> ``("ndcg", 10)``; a clear error for anything else."""
    match = _METRIC.fullmatch(name.strip().lower()) if isinstance(name, str) else None
    if match is None or int(match.group(2)) < 1:
        raise ValueError(
            "task='retrieval' scores with 'ndcg@k' or 'recall@k' (k >= 1), such as 'ndcg@10' "
            f"(the default) or 'recall@100'; got scoring={name!r}"
        )
    return match.group(1), int(match.group(2))


def _metric_names(scoring: Any) -> list[str]:
    """The curve's score first (default ``ndcg@10``), then the standard metrics not yet named."""
    first = "ndcg@10" if scoring is None else "{}@{}".format(*_parse_metric(scoring))
    return list(dict.fromkeys([first, *STANDARD_METRICS]))


def _documents(mapping: Any, what: str) -> tuple[list[Any], Any]:
    """Ids and documents of ``mapping`` (id -> text, or id -> vector for an adaptor)."""
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"the {what} must be a dict of id -> text, got {type(mapping).__name__} "
            "(for a list of texts, pass dict(enumerate(texts)))"
        )
    if not mapping:
        raise ValueError(f"the {what} is empty")
    ids = list(mapping)
    docs = list(mapping.values())
    is_text = [isinstance(d, str) for d in docs]
    if all(is_text):
        return ids, docs
    if any(is_text):
        bad = ids[is_text.index(False)]
        raise TypeError(f"{what}[{bad!r}] is not a str, unlike the other {what} texts")
    try:  # vectors, for MatryoshkaAdaptor (float64 kept: float32 made rows of 1e-200 zeros)
        vectors = _float_vectors(docs)
    except (TypeError, ValueError):
        vectors = None
    if vectors is None or vectors.ndim != 2:  # numbers, or None everywhere, are no vectors
        raise TypeError(
            f"the {what} must map ids to texts (or to vectors of one length, for an adaptor)"
        )
    return ids, vectors


def _as_retrieval_set(X: Any, y: Any) -> _RetrievalSet:
    """Check ``X = (queries, corpus), y = qrels`` or ``X = load_beir(...)``, ``y = None``."""
    from skmrl.datasets import BeirData

    if isinstance(X, BeirData):
        if y is not None:
            raise ValueError(
                "X is a BeirData, which holds its judgements (qrels): leave y out, or pass "
                "X=(data.queries, data.corpus), y=data.qrels"
            )
        queries, corpus, qrels = X.queries, X.corpus, X.qrels
    else:
        if (
            isinstance(X, str)
            or not isinstance(X, (tuple, list))
            or len(X) != 2
            or not all(isinstance(m, Mapping) for m in X)
        ):
            held = ""
            if isinstance(X, (tuple, list)) and len(X) == 2:  # (Q, C) arrays, say
                held = (
                    f" holding {type(X[0]).__name__} and {type(X[1]).__name__}: an array's rows "
                    "go as dict(enumerate(vectors)), the qrels naming rows"
                )
            raise TypeError(
                "task='retrieval' takes X=(queries, corpus), two dicts of id -> text (id -> "
                "vector for MatryoshkaAdaptor), and y=qrels (or X=skmrl.datasets.load_beir("
                f"folder)); got X of type {type(X).__name__}{held}"
            )
        if y is None:
            raise ValueError(
                "task='retrieval' needs the relevance judgements y: a dict of query id -> "
                "{document id: grade}"
            )
        queries, corpus = X
        qrels = y
    query_ids, query_docs = _documents(queries, "queries")
    doc_ids, doc_docs = _documents(corpus, "corpus")
    if isinstance(query_docs, np.ndarray) != isinstance(doc_docs, np.ndarray) or (
        isinstance(query_docs, np.ndarray) and query_docs.shape[1] != doc_docs.shape[1]
    ):
        kinds = [
            f"vectors of {d.shape[1]} features" if isinstance(d, np.ndarray) else "texts"
            for d in (query_docs, doc_docs)
        ]
        raise ValueError(
            f"the queries hold {kinds[0]} but the corpus {kinds[1]}: give both alike (texts, "
            "or vectors of one embedder at one size)"
        )
    _check_qrels(qrels)
    unknown = [q for q in qrels if q not in queries]
    if unknown:
        swapped = all(q in corpus for q in unknown)
        hint = ": X must be (queries, corpus), in that order" if swapped else ""
        raise ValueError(
            f"the judgements name {len(unknown)} queries that are not in the queries, such "
            f"as {unknown[0]!r}{hint}"
        )
    for qid, grades in qrels.items():
        missing = [d for d in grades if d not in corpus]
        if missing:
            raise ValueError(
                f"the judgements of query {qid!r} name {len(missing)} documents that are not "
                f"in the corpus, such as {missing[0]!r}"
            )
    unjudged = [q for q in query_ids if not qrels.get(q)]
    if unjudged:
        raise ValueError(
            f"{len(unjudged)} queries have no relevance judgements, such as {unjudged[0]!r}: "
            "keep the judged ones ({q: queries[q] for q in qrels}, as load_beir does)"
        )
    return _RetrievalSet(query_ids, query_docs, doc_ids, doc_docs, dict(qrels))


def _retrieval_scores(
    embedder: Any,
    data: _RetrievalSet,
    dims: Any,
    names: list[str],
    clip: bool,
    progress: bool | None,
    steps: Any,
    depths: list[int | None],
) -> tuple[list[dict[str, list[float]]], _Fold]:
    """Fit on the corpus, encode corpus and queries once, score every ``dim`` (at each depth).

    Returns, per depth, the scores of each metric (one per dim); and the fold (its ``scores``
    hold the first metric's, its ``dims`` the sizes scored)."""
    # the corpus only: never the queries nor the judgements
    emb, dims, fit_s = _fit_fold(
        embedder, depths, (data.corpus,), dims, "fitted on the corpus", clip, first=True
    )
    metrics = [(name, *_parse_metric(name)) for name in names]
    cut_off = max(k for _, _, k in metrics)
    per_depth: list[dict[str, list[float]]] = []
    bar = steps if steps is not None else _Steps(progress, "dim_curve (retrieval)")
    bar.add(len(depths) * len(dims))

    def score_at(corpus_vectors, query_vectors) -> list[float]:
        (_, corpus_at), (_, queries_at) = corpus_vectors, query_vectors
        scores: dict[str, list[float]] = {name: [] for name in names}
        for k in dims:
            _, top = cosine_top_k(queries_at(k), corpus_at(k), cut_off)
            ranked = {
                qid: [data.doc_ids[j] for j in row]
                for qid, row in zip(data.query_ids, top.tolist(), strict=True)
            }
            for name, kind, cut in metrics:  # the judgements were checked once, in the input
                scores[name].append(_mean_score(kind, data.qrels, ranked, cut, qrels_checked=True))
            bar.tick()
        per_depth.append(scores)
        return scores[names[0]]

    try:
        first, enc_s = _scores_at_depths(emb, depths, (data.corpus, data.queries), score_at)
    finally:
        if steps is None:
            bar.close()
    per_1000 = None
    if depths != [None]:
        per_1000 = _depth_seconds(emb, list(data.corpus), depths)  # the corpus: the bulk
    return per_depth, _Fold(first, dims, fit_s, enc_s, per_1000)
