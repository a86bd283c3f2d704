"""skmrl.metrics: nDCG@k and recall@k (BEIR / pytrec_eval definitions) and cosine top-k."""

from __future__ import annotations

import datetime
import math
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from skmrl.metrics import cosine_top_k, ndcg_at_k, recall_at_k


# -- an independent, slow reference ---------------------------------------------------------------
def _ref_ndcg(qrels, ranked, k):
    per_query = []
    for qid, grades in qrels.items():
        dcg = 0.0
        for rank, doc in enumerate(ranked[qid][:k], start=1):
            dcg += max(grades.get(doc, 0), 0) / math.log2(rank + 1)
        ideal = sorted((max(g, 0) for g in grades.values()), reverse=True)[:k]
        idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
        per_query.append(dcg / idcg if idcg > 0 else 0.0)
    return sum(per_query) / len(per_query)


def _ref_recall(qrels, ranked, k):
    per_query = []
    for qid, grades in qrels.items():
        relevant = [d for d, g in grades.items() if g > 0]
        found = [d for d in ranked[qid][:k] if d in relevant]
        per_query.append(len(found) / len(relevant) if relevant else 0.0)
    return sum(per_query) / len(per_query)


# -- hand-computed values -------------------------------------------------------------------------
def test_ndcg_on_a_three_document_toy_by_hand():
    qrels = {"q": {"d1": 2, "d2": 1, "d3": 0}}
    # ideal DCG@3 = 2/log2(2) + 1/log2(3) = 2 + 0.6309298 = 2.6309298
    assert ndcg_at_k(qrels, {"q": ["d1", "d2", "d3"]}, k=3) == 1.0
    # d3 (grade 0), d2 (1), d1 (2): 0 + 1/log2(3) + 2/log2(4) = 0.6309298 + 1 = 1.6309298
    assert ndcg_at_k(qrels, {"q": ["d3", "d2", "d1"]}, k=3) == pytest.approx(1.6309298 / 2.6309298)
    # k=1: only d2 is read (1) against the ideal d1 (2)
    assert ndcg_at_k(qrels, {"q": ["d2", "d1", "d3"]}, k=1) == pytest.approx(0.5)
    # an unjudged document has gain 0: x, d1 -> 2/log2(3) over the same ideal
    assert ndcg_at_k(qrels, {"q": ["x", "d1"]}, k=3) == pytest.approx(1.2618595 / 2.6309298)


def test_recall_by_hand_and_the_mean_over_queries():
    qrels = {"q1": {"a": 1, "b": 2, "c": 0, "d": 1}, "q2": {"e": 1}}
    ranked = {"q1": ["c", "b", "x", "a"], "q2": ["e"]}
    # q1: 3 relevant (c has grade 0), b in the top 2 -> 1/3; q2: 1/1
    assert recall_at_k(qrels, ranked, k=2) == pytest.approx((1 / 3 + 1) / 2)
    assert recall_at_k(qrels, ranked, k=4) == pytest.approx((2 / 3 + 1) / 2)


def test_a_query_without_relevant_documents_scores_zero_and_counts():
    qrels = {"q1": {"a": 1}, "q2": {"b": 0}}  # q2 is judged, nothing is relevant
    ranked = {"q1": ["a"], "q2": ["b"]}
    assert ndcg_at_k(qrels, ranked) == 0.5
    assert recall_at_k(qrels, ranked) == 0.5
    # an empty ranking is allowed and scores 0
    assert ndcg_at_k({"q1": {"a": 1}}, {"q1": []}) == 0.0
    # rankings of queries not in qrels are ignored
    assert recall_at_k({"q1": {"a": 1}}, {"q1": ["a"], "other": ["z"]}) == 1.0


def test_k_larger_than_the_ranking_and_the_corpus():
    qrels = {"q": {"a": 1, "b": 1, "c": 3}}
    ranked = {"q": ["c", "b"]}
    assert ndcg_at_k(qrels, ranked, k=1000) == pytest.approx(_ref_ndcg(qrels, ranked, 1000))
    assert recall_at_k(qrels, ranked, k=1000) == pytest.approx(2 / 3)
    # nDCG@1000: the ideal list is the 3 judged documents only
    ideal = 3 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(qrels, ranked, k=1000) == pytest.approx((3 + 1 / math.log2(3)) / ideal)


def test_metrics_equal_the_slow_reference_on_random_judgements():
    rng = np.random.default_rng(0)
    docs = [f"d{i}" for i in range(60)]
    qrels, ranked = {}, {}
    for q in range(30):
        judged = rng.choice(docs, size=rng.integers(1, 15), replace=False)
        qrels[f"q{q}"] = {d: int(rng.integers(0, 4)) for d in judged}
        ranked[f"q{q}"] = list(rng.permutation(docs)[: rng.integers(0, 60)])
    for k in (1, 3, 10, 100):
        assert ndcg_at_k(qrels, ranked, k) == pytest.approx(_ref_ndcg(qrels, ranked, k), abs=1e-12)
        assert recall_at_k(qrels, ranked, k) == pytest.approx(
            _ref_recall(qrels, ranked, k), abs=1e-12
        )


def test_ids_of_another_type_than_the_judged_ones_are_refused():
    """Row numbers from kneighbors against BEIR's str ids scored a silent 0."""
    qrels = {"q1": {"0": 1, "3": 2}, "q2": {"7": 1}}
    rows = {"q1": np.array([0, 3, 5]), "q2": [7, 1]}
    for metric in (ndcg_at_k, recall_at_k):
        # numpy 1.x writes an int64's repr as 0, numpy 2 as np.int64(0)
        with pytest.raises(TypeError, match=r"ids such as (np\.int64\(0\)|0) \(int64\) and qrels"):
            metric(qrels, rows, 3)
        # the same ids as str score, and NumPy's str_ and int64 equal Python's str and int
        assert metric(qrels, {q: [str(d) for d in r] for q, r in rows.items()}, 3) > 0.5
        assert metric(qrels, {q: np.array(r).astype(str) for q, r in rows.items()}, 3) > 0.5
        assert metric({"q": {0: 1}}, {"q": np.array([0, 1])}, 2) == 1.0
        # a legitimate 0 (same types, no hit), a mix that matches, and empty rankings pass
        assert metric(qrels, {"q1": ["9"], "q2": ["8"]}, 3) == 0.0
        assert metric(qrels, {"q1": [1, "3"], "q2": [7]}, 3) > 0
        assert metric(qrels, {"q1": [], "q2": []}, 3) == 0.0
        # other id types keep their own equality (pd.Timestamp equals datetime): a miss is a 0
        stamp = {"q": {datetime.datetime(2024, 1, 1): 1}}
        assert metric(stamp, {"q": [datetime.datetime(2024, 1, 2)]}, 1) == 0.0
        assert metric(stamp, {"q": [pd.Timestamp("2024-01-02")]}, 1) == 0.0
        assert metric(stamp, {"q": [pd.Timestamp("2024-01-01")]}, 1) == 1.0


def test_metric_errors():
    qrels = {"q": {"a": 1}}
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        ndcg_at_k(qrels, {"q": ["a"]}, k=0)
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        recall_at_k(qrels, {"q": ["a"]}, k=2.0)
    with pytest.raises(ValueError, match="no ranking for query 'q'"):
        ndcg_at_k(qrels, {"other": ["a"]})
    with pytest.raises(ValueError, match="qrels is empty"):
        ndcg_at_k({}, {})
    with pytest.raises(TypeError, match=r"qrels\['q'\]\['a'\] must be an int"):
        ndcg_at_k({"q": {"a": 1.5}}, {"q": ["a"]})
    with pytest.raises(TypeError, match=r"qrels\['q'\] must be a dict"):
        recall_at_k({"q": ["a"]}, {"q": ["a"]})
    with pytest.raises(TypeError, match="not a str"):
        recall_at_k(qrels, {"q": "a"})
    with pytest.raises(ValueError, match="lists document 'a' more than once"):
        ndcg_at_k(qrels, {"q": ["a", "b", "a"]})
    with pytest.raises(TypeError, match="ranked must be a dict"):
        ndcg_at_k(qrels, [["a"]])


def test_rankings_that_are_no_sequences_of_ids_are_refused():
    # (id, score) pairs, as sorted(scores.items(), ...) gives them, scored a silent 0 (a tuple
    # equals no str id); None or a list per rank failed with "'NoneType' object is not
    # iterable" or "unhashable type: 'list'", naming no query.
    qrels = {"q": {"a": 1}}
    pairs = sorted({"a": 0.9, "b": 0.1}.items(), key=lambda p: p[1], reverse=True)
    for metric in (ndcg_at_k, recall_at_k):
        with pytest.raises(TypeError, match=r"such as \('a', 0.9\) \(tuple\).*\[d for d, _ in"):
            metric(qrels, {"q": pairs})
        with pytest.raises(TypeError, match=r"ranked\['q'\] must be a sequence .* got NoneType"):
            metric(qrels, {"q": None})
        with pytest.raises(TypeError, match=r"ranked\['q'\] holds \['a', 0.9\] \(list\)"):
            metric(qrels, {"q": [["a", 0.9]]})
        # tuples that are the judged ids themselves still match
        assert metric({"q": {("a", 1): 1}}, {"q": [("b", 2), ("a", 1)]}, 2) > 0


def test_a_ranking_without_an_order_is_refused():
    # BEIR's retrievers return {query id: {doc id: score}}: passed as ranked, the dict's
    # insertion order was read as the ranking, whatever the scores (here nDCG 0.5, recall@1 0,
    # for a relevant document scored best).
    qrels = {"q": {"a": 1}}
    results = {"q": {"b": 0.1, "c": 0.2, "a": 0.9}}
    for metric in (ndcg_at_k, recall_at_k):
        with pytest.raises(TypeError, match=r"ranked\['q'\] is a dict .* sorted\(scores"):
            metric(qrels, results, 1)
        with pytest.raises(TypeError, match=r"ranked\['q'\] is a set, which has no order"):
            metric(qrels, {"q": {"a", "b"}}, 1)
        best_first = {q: sorted(s, key=s.get, reverse=True) for q, s in results.items()}
        assert metric(qrels, best_first, 1) == 1.0


# -- cosine top-k ---------------------------------------------------------------------------------
def _ref_top_k(Q, D, k):
    """Full float64 cosine matrix, stable sort: the slow, obvious ranking."""
    Q = Q.astype(np.float64)
    D = D.astype(np.float64)
    Qn = Q / np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-300)
    Dn = D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-300)
    S = Qn @ Dn.T
    order = np.argsort(-S, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(S, order, axis=1), order


@pytest.mark.parametrize("block_bytes", [2**26, 4 * 7, 4 * 300 * 2 + 4])
def test_cosine_top_k_equals_a_full_sort(block_bytes):
    rng = np.random.default_rng(1)
    Q = rng.normal(size=(17, 12)).astype(np.float32)
    D = rng.normal(size=(300, 12)).astype(np.float32) * rng.uniform(0.1, 5, size=(300, 1))
    scores, idx = cosine_top_k(Q, D, k=25, block_bytes=block_bytes)
    ref_s, ref_i = _ref_top_k(Q, D, 25)
    assert idx.shape == scores.shape == (17, 25)
    assert idx.dtype == np.int64 and scores.dtype == np.float32
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(scores, ref_s, atol=1e-6)
    assert (np.diff(scores, axis=1) <= 0).all()


def test_cosine_top_k_breaks_ties_by_corpus_row_across_blocks():
    # Rows 1, 3, 4 and 6 are the same direction (ties); a zero row has similarity 0.
    D = np.array(
        [[0, 1], [1, 0], [0, 2], [2, 0], [3, 0], [0, 0], [1, 0], [-1, 0]], dtype=np.float32
    )
    Q = np.array([[1, 0], [0, 0]], dtype=np.float32)
    for block_bytes in (2**20, 4, 12):
        scores, idx = cosine_top_k(Q, D, k=5, block_bytes=block_bytes)
        assert idx[0].tolist() == [1, 3, 4, 6, 0]  # then the 0-similarity rows: 0 before 2, 5
        assert scores[0].tolist() == [1, 1, 1, 1, 0]
        # a zero query is at 0 from everything: the first 5 rows, in order
        assert idx[1].tolist() == [0, 1, 2, 3, 4] and not scores[1].any()


@pytest.mark.parametrize("scale", [1e-25, 1e25])
def test_cosine_top_k_does_not_depend_on_the_scale_of_the_rows(scale):
    """Cosines ignore a row's length: rows of tiny or huge values were normalised with float32
    norms, which vanished (1e-25: squares below float32's range) or overflowed (1e25), and
    the rows became zero: every similarity 0, the ranking by row number."""
    rng = np.random.default_rng(3)
    Q = rng.normal(size=(5, 12)).astype(np.float32)
    D = rng.normal(size=(60, 12)).astype(np.float32)
    scores, idx = cosine_top_k(Q, D, k=10)
    scaled_s, scaled_i = cosine_top_k(Q * np.float32(scale), D * np.float32(scale), k=10)
    np.testing.assert_array_equal(scaled_i, idx)
    np.testing.assert_allclose(scaled_s, scores, atol=1e-6)
    # float64 rows beyond float32's range: a cast to float32 made them zeros (1e-200) or an
    # error about infinite values (1e300) before they were normalised
    wide = 1e-200 if scale < 1 else 1e300
    wide_s, wide_i = cosine_top_k(Q.astype(np.float64) * wide, D.astype(np.float64) * wide, k=10)
    np.testing.assert_array_equal(wide_i, idx)
    np.testing.assert_allclose(wide_s, scores, atol=1e-6)


def test_cosine_top_k_with_k_larger_than_the_corpus_returns_every_row():
    D = np.eye(3, dtype=np.float32)
    scores, idx = cosine_top_k(np.array([[0.1, 0.2, 0.9]], dtype=np.float32), D, k=100)
    assert idx.tolist() == [[2, 1, 0]] and scores.shape == (1, 3)
    empty_s, empty_i = cosine_top_k(np.zeros((0, 3), np.float32), D, k=2)
    assert empty_s.shape == empty_i.shape == (0, 2)


def test_cosine_top_k_memory_is_bounded_by_the_block():
    rng = np.random.default_rng(2)
    Q = rng.normal(size=(40, 4)).astype(np.float32)
    D = rng.normal(size=(100_000, 4)).astype(np.float32)
    full_matrix = Q.shape[0] * D.shape[0] * 4  # 16 MB of float32 (float64: 32 MB)
    tracemalloc.start()
    try:
        cosine_top_k(Q, D, k=10, block_bytes=2**18)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the normalised copy of the corpus (1.6 MB) and blocks of 256 KB, not the full matrix
    assert peak < full_matrix / 4


def test_cosine_top_k_errors():
    D = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        cosine_top_k(D, D, k=0)
    with pytest.raises(ValueError, match="queries have 2 features but the corpus has 3"):
        cosine_top_k(np.ones((1, 2)), D, k=1)
    with pytest.raises(ValueError, match="corpus must be 2-D"):
        cosine_top_k(D, np.ones(3), k=1)
    with pytest.raises(ValueError, match="queries holds NaN"):
        cosine_top_k(np.full((1, 3), np.nan), D, k=1)
    with pytest.raises(TypeError, match="sparse"):
        from scipy import sparse

        cosine_top_k(sparse.eye(3, format="csr"), D, k=1)
    with pytest.raises(TypeError, match="2-D array of numbers"):
        cosine_top_k([["a", "b", "c"]], D, k=1)
    # complex vectors lost their imaginary parts, with only numpy's ComplexWarning
    with pytest.raises(TypeError, match="2-D array of numbers"):
        cosine_top_k(np.array([[1 + 1j, 0, 0]]), D, k=1)


def test_ndcg_with_a_cut_off_beyond_the_rankings_takes_no_memory_for_it():
    """ndcg_at_k(k=10**12) built the discounts of 10**12 ranks (a MemoryError asking for 7
    TiB); only the ranks there are count, so it equals k=len(ranking)."""
    from skmrl.metrics import ndcg_at_k

    qrels = {"q1": {"a": 2, "b": 1}, "q2": {"c": 1}}
    ranked = {"q1": ["b", "x", "a"], "q2": ["c"]}
    assert ndcg_at_k(qrels, ranked, k=10**12) == ndcg_at_k(qrels, ranked, k=3)
