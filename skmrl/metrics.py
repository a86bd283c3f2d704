"""Retrieval metrics with the BEIR / ``pytrec_eval`` definitions, and top-k ranking by cosine.

* :func:`ndcg_at_k`: normalised discounted cumulative gain of the first ``k`` results, with graded
  gains (the gain of a document is its relevance grade) and a ``log2(rank + 1)`` discount, over
  the ideal ranking of the judged documents.
* :func:`recall_at_k`: the share of a query's relevant documents (grade ``> 0``) found in the
  first ``k`` results.
* :func:`cosine_top_k`: the ``k`` documents of highest cosine similarity to each query, from two
  float32 matrices, in blocks of bounded memory (never a full ``n_queries x n_docs`` matrix of
  float64).

Relevance judgements (``qrels``) are a mapping ``query id -> {document id: grade}`` (the BEIR
layout; :func:`skmrl.datasets.load_beir` reads it), rankings a mapping ``query id -> document ids,
best first``. Both metrics are means over the queries of ``qrels``; a query with no relevant
document scores 0 for both (as in ``pytrec_eval``) and still counts in the mean.

Rankings are scored as given: unlike BEIR's ``EvaluateRetrieval.evaluate``, whose default
``ignore_identical_ids=True`` drops a retrieved document whose id equals the query's, nothing is
dropped here. That changes nothing where query and document ids differ (the DBpedia subset of
the shared data), but on a corpus that holds its queries (BEIR's Quora, ArguAna) each query
finds itself first: remove ``qid`` from its ranking before scoring to get BEIR's figures.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skmrl._search import chunked_topk
from skmrl._vector_checks import stack_vector_column
from skmrl.base import _float_vectors, prefix_normalize

__all__ = ["cosine_top_k", "ndcg_at_k", "recall_at_k"]

#: Bytes of one block of float32 similarities in :func:`cosine_top_k` (16 MiB); the peak memory
#: of the ranking is about 3 blocks beside the normalised copies of the two matrices.
BLOCK_BYTES = 2**24


# -- metrics --------------------------------------------------------------------------------------
def ndcg_at_k(
    qrels: Mapping[str, Mapping[str, int]], ranked: Mapping[str, Sequence[str]], k: int = 10
) -> float:
    """Mean nDCG@k over the queries of ``qrels`` (the BEIR / ``pytrec_eval`` ``ndcg_cut_k``).

    For one query, ``DCG@k = sum(grade(d_i) / log2(i + 1) for i = 1..k)`` over its first ``k``
    ranked documents ``d_i`` (an unjudged document has grade 0; negative grades count as 0), and
    ``nDCG@k = DCG@k / IDCG@k`` where ``IDCG@k`` is the DCG of the judged documents sorted by
    grade. A query without any positive grade scores 0.

    Parameters
    ----------
    qrels : mapping of str to mapping of str to int
        ``query id -> {document id: relevance grade}``.
    ranked : mapping of str to sequence of str
        ``query id -> document ids``, best first; every query of ``qrels`` needs one (it may be
        empty); the rankings of other queries are ignored. Only the first ``k`` are read. Ids
        of another type than the judged ones (row numbers from ``kneighbors`` against str ids,
        ``(id, score)`` pairs), which could never match, raise a ``TypeError`` instead of
        scoring 0; so does a ranking that has no order: a dict of scores (BEIR's results,
        ``{doc id: score}``: sort its ids by score first) or a set.
    k : int, default=10
        Cut-off.

    Returns
    -------
    float

    Examples
    --------
    >>> from skmrl.metrics import ndcg_at_k
    >>> qrels = {"q": {"a": 2, "b": 1, "c": 0}}
    >>> ndcg_at_k(qrels, {"q": ["a", "b", "c"]}, k=3)  # the ideal order
    1.0
    >>> # (1 / log2(2) + 2 / log2(3)) / (2 / log2(2) + 1 / log2(3))
    >>> round(ndcg_at_k(qrels, {"q": ["b", "a", "c"]}, k=3), 4)
    0.8597
    """
    return _mean_score("ndcg", qrels, ranked, k)


def recall_at_k(
    qrels: Mapping[str, Mapping[str, int]], ranked: Mapping[str, Sequence[str]], k: int = 100
) -> float:
    """Mean recall@k over the queries of ``qrels`` (the BEIR / ``pytrec_eval`` ``recall_k``).

    For one query: the number of relevant documents (grade ``> 0``) among its first ``k`` ranked
    documents, divided by its number of relevant documents; 0 when it has none.

    Parameters
    ----------
    qrels : mapping of str to mapping of str to int
        ``query id -> {document id: relevance grade}``.
    ranked : mapping of str to sequence of str
        ``query id -> document ids``, best first (see :func:`ndcg_at_k`).
    k : int, default=100
        Cut-off.

    Returns
    -------
    float

    Examples
    --------
    >>> from skmrl.metrics import recall_at_k
    >>> qrels = {"q1": {"a": 1, "b": 2, "c": 0}, "q2": {"c": 1}}
    >>> recall_at_k(qrels, {"q1": ["a", "x"], "q2": ["x", "y"]}, k=2)  # (1/2 + 0/1) / 2
    0.25
    """
    return _mean_score("recall", qrels, ranked, k)


def _ndcg(grades: Mapping[str, int], top: Sequence[str], k: int) -> float:
    ideal = sorted((max(int(g), 0) for g in grades.values()), reverse=True)[:k]
    gains = [max(int(grades.get(d, 0)), 0) for d in top[:k]]
    # the discounts of the ranks there are (k=10**12 asked for terabytes of them)
    discount = 1.0 / np.log2(np.arange(2, max(len(ideal), len(gains)) + 2))
    idcg = float(np.dot(ideal, discount[: len(ideal)]))
    if idcg <= 0:
        return 0.0
    return float(np.dot(gains, discount[: len(gains)])) / idcg


def _recall(grades: Mapping[str, int], top: Sequence[str], k: int) -> float:
    relevant = {d for d, g in grades.items() if g > 0}
    if not relevant:
        return 0.0
    return sum(d in relevant for d in top) / len(relevant)


def _mean_score(
    kind: str, qrels: Any, ranked: Any, k: Any, *, qrels_checked: bool = False
) -> float:
    """The mean over the queries of ``qrels`` of the metric ``kind`` (``"ndcg"`` or
    ``"recall"``).

    ``qrels_checked=True`` skips :func:`_check_qrels`, for a caller that has checked these
    judgements once and scores many rankings against them: ``dim_curve``'s retrieval scores two
    metrics at every dim, and checking a million judgements at each took 0.35 s, 17 times for 8
    dims, against one check of its input.
    """
    metric = {"ndcg": _ndcg, "recall": _recall}[kind]
    return float(np.mean(_per_query(qrels, ranked, k, metric, qrels_checked)))


def _per_query(
    qrels: Any, ranked: Any, k: Any, metric: Any, qrels_checked: bool = False
) -> np.ndarray:
    """``metric(grades, top_k_ids, k)`` for each query of ``qrels``, after checking the input
    (the judgements unless ``qrels_checked``)."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    k = int(k)
    if not qrels_checked:
        _check_qrels(qrels)
    if not isinstance(ranked, Mapping):
        raise TypeError(
            f"ranked must be a dict of query id -> document ids, got {type(ranked).__name__}"
        )
    out = np.empty(len(qrels))
    tops = []
    for i, (qid, grades) in enumerate(qrels.items()):
        if qid not in ranked:
            raise ValueError(f"ranked has no ranking for query {qid!r} of qrels")
        docs = ranked[qid]
        if isinstance(docs, str):
            raise TypeError(f"ranked[{qid!r}] must be a sequence of document ids, not a str")
        if isinstance(docs, Mapping):  # its order is how it was filled, not by score
            raise TypeError(
                f"ranked[{qid!r}] is a dict (document id -> score, as BEIR's results are), whose "
                "order is not a ranking: pass the ids best first, such as "
                "sorted(scores, key=scores.get, reverse=True)"
            )
        if isinstance(docs, (set, frozenset)):
            raise TypeError(
                f"ranked[{qid!r}] is a set, which has no order: pass the document ids best first"
            )
        try:
            top = list(docs)[:k]
        except TypeError:  # None, a number
            raise TypeError(
                f"ranked[{qid!r}] must be a sequence of document ids, best first, got "
                f"{type(docs).__name__}"
            ) from None
        try:
            distinct = set(top)
        except TypeError:  # a list per rank (a row of kneighbors' pairs), a dict
            bad = next(d for d in top if not _hashable(d))
            raise TypeError(
                f"ranked[{qid!r}] holds {bad!r} ({type(bad).__name__}), which is no document "
                "id: a ranking is a flat sequence of ids, best first"
            ) from None
        if len(distinct) != len(top):
            twice = next(d for d in top if top.count(d) > 1)
            raise ValueError(f"ranked[{qid!r}] lists document {twice!r} more than once")
        out[i] = metric(grades, top, k)
        tops.append(top)
    _check_id_types(qrels, tops)
    return out


def _id_kind(doc: Any) -> str | None:
    """What kind of id ``doc`` is, as far as equality goes: ids of different kinds never match
    (``0 != "0"``), while NumPy's ``int64``/``str_`` equal Python's ``int``/``str``. ``None``
    for any other type, whose equality across types is its own (``pd.Timestamp`` equals
    ``datetime``): such ids are never refused."""
    if isinstance(doc, str):
        return "str"
    if isinstance(doc, bytes):
        return "bytes"
    if isinstance(doc, numbers.Number):
        return "number"
    if isinstance(doc, tuple):  # (id, score) pairs, which match no str or int id
        return "tuple"
    return None


def _hashable(doc: Any) -> bool:
    try:
        hash(doc)
    except TypeError:
        return False
    return True


def _check_id_types(qrels: Mapping[Any, Mapping[Any, Any]], tops: list[list[Any]]) -> None:
    """Refuse rankings whose ids cannot match a judged id by their type: every score would be a
    silent 0 (row numbers from ``kneighbors`` against BEIR's str document ids, say).

    Only when no ranked id matches a judged id of its query; a legitimate score of 0 (ids of the
    same kind that simply miss) passes.
    """
    if any(d in grades for grades, top in zip(qrels.values(), tops, strict=True) for d in top):
        return
    ranked_ids: dict[str | None, Any] = {}
    judged_ids: dict[str | None, Any] = {}
    for top in tops:
        for d in top:
            ranked_ids.setdefault(_id_kind(d), d)
    for grades in qrels.values():
        for d in grades:
            judged_ids.setdefault(_id_kind(d), d)
    kinds = ranked_ids.keys() | judged_ids.keys()
    if not ranked_ids or not judged_ids or ranked_ids.keys() & judged_ids.keys() or None in kinds:
        return
    r, j = next(iter(ranked_ids.values())), next(iter(judged_ids.values()))
    hint = "for row numbers from kneighbors: [doc_ids[i] for i in row]"
    if isinstance(r, tuple):
        hint = "for (id, score) pairs, sorted(scores.items(), ...): [d for d, _ in pairs]"
    raise TypeError(
        f"no ranked document id matches a judged one: ranked holds ids such as {r!r} "
        f"({type(r).__name__}) and qrels ids such as {j!r} ({type(j).__name__}), which are "
        f"never equal; give both the same type ({hint})"
    )


def _check_qrels(qrels: Any) -> None:
    if not isinstance(qrels, Mapping):
        raise TypeError(
            "qrels must be a dict of query id -> {document id: grade}, "
            f"got {type(qrels).__name__}"
        )
    if not qrels:
        raise ValueError("qrels is empty: no query has relevance judgements")
    for qid, grades in qrels.items():
        if not isinstance(grades, Mapping):
            raise TypeError(
                f"qrels[{qid!r}] must be a dict of document id -> grade, "
                f"got {type(grades).__name__}"
            )
        for doc, grade in grades.items():
            if not isinstance(grade, numbers.Integral) or isinstance(grade, bool):
                raise TypeError(
                    f"qrels[{qid!r}][{doc!r}] must be an int relevance grade, got {grade!r}"
                )


# -- ranking --------------------------------------------------------------------------------------
def cosine_top_k(
    queries: Any, corpus: Any, k: int, *, block_bytes: int = BLOCK_BYTES
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` corpus rows of highest cosine similarity to each query row, best first.

    Rows are L2-normalised to float32 (their norms in float64: a row's scale never matters; a
    zero row has similarity 0 to everything), the similarities are computed in float32 blocks
    of at most ``block_bytes`` (blocks of queries, and of documents when one query's row of
    similarities would not fit), and merged into the running top ``k`` by
    ``skmrl._search.chunked_topk`` (the kernel of :class:`skmrl.retrieval.MatryoshkaSearch`):
    the memory is bounded whatever the corpus size.
    The order is deterministic: by similarity, then by corpus row (the lower row first among
    equal similarities). Other block sizes multiply in other shapes, which can round a
    similarity differently in its last bit: documents whose similarities differ by no more
    than that may then come in the other order.

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
        Or one column whose cells each hold a vector (``df["embedding"]``), as for ``corpus``.
    corpus : array-like of shape (n_docs, n_features)
        The documents' vectors, of the queries' length; or one column whose cells each hold
        a vector (``df["embedding"]``), stacked.
    k : int
        Results per query; ``min(k, n_docs)`` are returned.
    block_bytes : int, default=16 MiB
        Largest block of float32 similarities held at once; the ranking's peak memory is about
        three blocks beside the normalised float32 copies of ``queries`` and ``corpus``.

    Returns
    -------
    scores : ndarray of shape (n_queries, min(k, n_docs)), float32
        Cosine similarities, each row decreasing.
    indices : ndarray of shape (n_queries, min(k, n_docs)), int64
        Corpus rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.metrics import cosine_top_k
    >>> corpus = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    >>> scores, idx = cosine_top_k(np.array([[1, 0.2]], dtype=np.float32), corpus, k=2)
    >>> idx.tolist(), scores.astype(float).round(3).tolist()
    ([[0, 2]], [[0.981, 0.832]])
    """
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    if not isinstance(block_bytes, numbers.Integral) or block_bytes < 4:
        raise ValueError(f"block_bytes must be an int >= 4, got {block_bytes!r}")
    Q = _unit_rows(queries, "queries")
    D = _unit_rows(corpus, "corpus")
    if Q.shape[1] != D.shape[1]:
        raise ValueError(
            f"queries have {Q.shape[1]} features but the corpus has {D.shape[1]}: "
            "encode both with the same embedder and dim"
        )
    n_q, n_d = Q.shape[0], D.shape[0]
    kk = min(int(k), n_d)
    scores = np.empty((n_q, kk), dtype=np.float32)
    indices = np.empty((n_q, kk), dtype=np.int64)
    if n_q == 0 or kk == 0:
        return scores, indices
    doc_block = min(n_d, max(1, block_bytes // 4))
    query_block = max(1, block_bytes // (4 * doc_block))
    for q0 in range(0, n_q, query_block):
        q = Q[q0 : q0 + query_block]
        scores[q0 : q0 + query_block], indices[q0 : q0 + query_block] = chunked_topk(
            lambda a, b, q=q: q @ D[a:b].T, len(q), n_d, kk, chunk_size=doc_block
        )
    return scores, indices


def _unit_rows(X: Any, name: str) -> np.ndarray:
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(f"{name} must be a dense array, got a sparse matrix: use .toarray()")
    X = stack_vector_column(X, name=name)  # df["embedding"]: a cell per row
    try:
        X = _float_vectors(X)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array of numbers") from None
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_rows, n_features), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    # Norms in float64: float32 squares overflow above 1e19 and vanish below 1e-19, which
    # made such rows zero (similarity 0 to everything).
    return prefix_normalize(X, None)
