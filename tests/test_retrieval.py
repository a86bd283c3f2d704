"""MatryoshkaSearch and its kernels: exactness, quantization round trips, errors, persistence."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors

from skmrl import MatryoshkaAdaptor, TfidfBaseline, Word2VecEmbedder, _search
from skmrl.base import prefix_normalize
from skmrl.retrieval import MatryoshkaSearch

from ._corpus import CORPUS

QUANTIZE = [None, "int8", "binary"]


def _corpus(n: int = 600, d: int = 48, seed: int = 0) -> np.ndarray:
    """Clustered random vectors: real neighbour structure, no ties in the cosines."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((12, d))
    X = centres[rng.integers(0, 12, n)] + 0.5 * rng.standard_normal((n, d))
    return X.astype(np.float32)


def _brute(docs: np.ndarray, queries: np.ndarray, k: int, dim: int | None = None):
    nn = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute")
    nn.fit(prefix_normalize(docs, dim))
    return nn.kneighbors(prefix_normalize(queries, dim))


# -- kernels ------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunked_topk_equals_a_full_sort(chunk):
    rng = np.random.default_rng(1)
    S = rng.standard_normal((9, 300)).astype(np.float32)
    scores, idx = _search.chunked_topk(lambda a, b: S[:, a:b], 9, 300, k=25, chunk_size=chunk)
    expected = np.argsort(-S, axis=1, kind="stable")[:, :25]
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(scores, np.take_along_axis(S, expected, 1))


@pytest.mark.parametrize("chunk", [1, 16, 31, 200])
def test_chunked_topk_with_ties_keeps_the_lower_indices(chunk):
    rng = np.random.default_rng(2)
    S = rng.integers(0, 5, (6, 200)).astype(np.float32)  # many ties, as Hamming distances have
    scores, idx = _search.chunked_topk(lambda a, b: S[:, a:b], 6, 200, k=30, chunk_size=chunk)
    expected = np.argsort(-S, axis=1, kind="stable")[:, :30]  # equal scores: lower index first
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(scores, np.take_along_axis(S, expected, 1))


def test_int8_round_trip_is_within_half_a_step():
    X = _corpus()
    offset, scale = _search.fit_int8_ranges(X)
    codes = _search.quantize_int8(X, offset, scale)
    assert codes.dtype == np.int8
    assert (codes.min(axis=0) == -128).all() and (codes.max(axis=0) == 127).all()
    error = np.abs(_search.dequantize_int8(codes, offset, scale) - X)
    assert (error <= scale / 2 + 1e-6).all()
    # A constant column is kept exactly (code 0, scale 0: the value is the offset); values
    # outside the calibrated range are clipped.
    Y = np.array([[0.5, -1.0], [0.5, 1.0]], dtype=np.float32)
    o, s = _search.fit_int8_ranges(Y)
    assert _search.dequantize_int8(_search.quantize_int8(Y, o, s), o, s)[:, 0].tolist() == [0.5] * 2
    assert s[0] == 0.0
    assert _search.quantize_int8(np.array([[0.5, 9.0], [3.0, -9.0]]), o, s).tolist() == [
        [0, 127],
        [0, -128],
    ]


def test_int8_quantization_takes_no_float_copies_of_the_corpus(monkeypatch):
    # Each step of quantize_int8 made a float32 copy of the whole shortlist, four alive at once:
    # MatryoshkaSearch(quantize="int8", shortlist_dim=384).fit of a million vectors peaked at
    # 7.3 GB for a 1.8 GB index. It now quantizes a chunk of rows at a time, in place.
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 64)).astype(np.float32)
    X[:, 3] = 0.25  # a constant column: codes 0
    offset, scale = _search.fit_int8_ranges(X)
    whole = _search.quantize_int8(X, offset, scale)
    monkeypatch.setattr(_search, "QUANTIZE_CHUNK", 1000, raising=False)
    tracemalloc.start()
    try:
        codes = _search.quantize_int8(X, offset, scale)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(codes, whole)
    assert (codes[:, 3] == 0).all()
    assert peak < X.nbytes, (peak, X.nbytes)  # the old code: 3.0 times X; now 0.36


def test_int8_codes_are_0_in_a_column_without_a_scale_nan_included():
    # A column whose range is NaN or undefined (a NaN, or both infinities, in the corpus) has
    # no scale, and its codes were 0; quantizing in chunks zeroed only the columns of scale <= 0,
    # which a NaN scale is not, and cast NaN to int8 (an undefined value, and a warning).
    import warnings

    X = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 5.0]], dtype=np.float32)
    offset = np.array([0.5, 2.0, np.nan], dtype=np.float32)
    scale = np.array([0.01, 0.0, np.nan], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast"
        codes = _search.quantize_int8(X, offset, scale)
    assert codes.tolist() == [[-50, 0, 0], [50, 0, 0]]


def test_int8_scores_are_dot_products_with_the_dequantized_vectors():
    X = _corpus()
    offset, scale = _search.fit_int8_ranges(X)
    codes = _search.quantize_int8(X, offset, scale)
    Q = X[:5] * 0.3
    expected = Q @ _search.dequantize_int8(codes, offset, scale).T
    np.testing.assert_allclose(_search.int8_scores(Q, codes, offset, scale), expected, atol=1e-4)


def test_int8_products_approximate_the_float_scores():
    from skmrl._torch import search as torch_search

    X = prefix_normalize(_corpus(), 32)
    offset, scale = _search.fit_int8_ranges(X)
    codes = _search.quantize_int8(X, offset, scale)
    Q = prefix_normalize(_corpus(30, d=48, seed=8), 32)
    expected = _search.int8_scores(Q, codes, offset, scale)
    score, to_float = torch_search.int8_scorer(Q, codes, offset, scale)
    raw = score(100, 400)
    # torch._int_mm multiplies int8 on the CPU since torch 2.4; before (pyproject admits 2.2),
    # the shortlist is ranked by NumPy's float scores
    fast = torch.__version__ >= "2.4"
    assert torch_search._has_int_mm() == fast  # the int8 path in use is the fast one there
    # ranked as int32 products there, or as the same integers in float32 where they are faster
    assert raw.dtype == (np.int32 if torch_search._int_mm_is_fast() else np.float32)
    assert raw.shape == (30, 300)
    got = to_float(raw)
    assert got.dtype == np.float32
    # each query's products rank its documents as its float scores do
    for r, g in zip(raw, got, strict=True):
        np.testing.assert_array_equal(np.argsort(r, kind="stable"), np.argsort(g, kind="stable"))
    # the query's own rounding: one int8 step of its largest scaled component per dimension
    np.testing.assert_allclose(got, expected[:, 100:400], atol=0.02)
    assert np.corrcoef(got.ravel(), expected[:, 100:400].ravel())[0, 1] > 0.999


@pytest.mark.parametrize("d", [64, 1100])
def test_int8_products_are_the_same_integers_in_float(d, monkeypatch):
    """Without VNNI (AVX2 only) torch._int_mm was 9-18x slower than a float32 product, and the
    int8 shortlist 4x slower than exact search (62 against 249 queries/s): where it is slower,
    the same integer products are computed as float products of the codes, exact in float32
    up to 1,032 dims and in float64 beyond, so the shortlist is the same either way."""
    from skmrl._torch import search as torch_search

    if not torch_search._has_int_mm():
        pytest.skip("torch._int_mm is not usable on this CPU: both routes are the float scores")
    rng = np.random.default_rng(d)
    X = rng.uniform(-1, 1, (500, d)).astype(np.float32)
    X[0] = 1.0  # codes of 127 in every dimension
    offset, scale = _search.fit_int8_ranges(X)
    codes = _search.quantize_int8(X, offset, scale)
    Q = rng.standard_normal((40, d)).astype(np.float32)
    Q[0] = 1.0  # query codes near 127 too: sums near 127 * 127 * d, past 2**24 at 1,100 dims
    products = {}
    for fast in (True, False):
        monkeypatch.setattr(torch_search, "_INT_MM_FAST", [fast])
        score = torch_search.int8_scorer(Q, codes, offset, scale)[0]
        raw = score(0, 500)
        products[fast] = raw
        if not fast:
            assert raw.dtype == (np.float32 if d <= 1032 else np.float64)
    np.testing.assert_array_equal(products[False], products[True].astype(np.int64))
    # large sums, as integers: past 2**24 at 1,100 dims, where float32 is exact only by luck
    assert np.abs(products[True]).max() > (2**24 if d > 1032 else 100 * 127 * d)


def test_the_int8_products_are_memory_that_tracemalloc_sees(monkeypatch):
    """The retrieval benchmark's peak search memory is tracemalloc's: torch._int_mm's int32
    blocks, allocated by torch, were not in it (a 200k-document int8 search read 25.8 MiB, its
    float route 53.9 MiB). They are now written into NumPy blocks."""
    import tracemalloc

    from skmrl._torch import search as torch_search

    if not torch_search._has_int_mm():
        pytest.skip("torch._int_mm is not usable on this CPU: the float route is NumPy's")
    monkeypatch.setattr(torch_search, "_INT_MM_FAST", [True])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 32)).astype(np.float32)
    offset, scale = _search.fit_int8_ranges(X)
    codes = _search.quantize_int8(X, offset, scale)
    score = torch_search.int8_scorer(X[:64], codes, offset, scale)[0]
    tracemalloc.start()
    try:
        raw = score(0, 20_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raw.dtype == np.int32 and raw.shape == (64, 20_000)
    assert peak >= raw.nbytes  # 5 MiB: before, a few KiB


def test_the_int8_speed_probe_runs_once_for_threads_that_ask_together(monkeypatch):
    """Four threads asking at once ran the timing four times, each under the others' load."""
    import threading
    import time

    from skmrl._torch import search as torch_search

    if not torch_search._has_int_mm():
        pytest.skip("torch._int_mm is not usable on this CPU: nothing is timed")
    probes = []

    def probe():
        probes.append(1)
        time.sleep(0.2)
        return True

    monkeypatch.setattr(torch_search, "_INT_MM_FAST", [])
    monkeypatch.setattr(torch_search, "_time_int_mm", probe)
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(torch_search._int_mm_is_fast()))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert probes == [1] and answers == [True] * 4


def test_an_int8_shortlist_of_one_dimension_ranks_by_it():
    """torch._int_mm returns uninitialised values for an inner size of 1 on the CPU: with
    shortlist_dim=1 and quantize="int8" the shortlist was noise, and the neighbours wrong."""
    from skmrl._torch.search import int8_scorer

    X = _corpus(300, d=8)
    Q = _corpus(20, d=8, seed=3)
    # a 1-dim prefix is the sign of the first feature, which int8 codes keep exactly: the
    # shortlist is the float32 one's (the first 150 documents of the query's sign)
    funnel = {
        quantize: MatryoshkaSearch(shortlist_dim=1, shortlist_size=150, quantize=quantize)
        .set_params(device="cpu")
        .fit(X)
        for quantize in (None, "int8")
    }
    np.testing.assert_array_equal(
        funnel["int8"].kneighbors(Q, 10, return_distance=False),
        funnel[None].kneighbors(Q, 10, return_distance=False),
    )
    index = funnel["int8"]
    q = prefix_normalize(Q, 1)
    score, to_float = int8_scorer(q, index.shortlist_, index.int8_offset_, index.int8_scale_)
    expected = _search.int8_scores(q, index.shortlist_, index.int8_offset_, index.int8_scale_)
    np.testing.assert_allclose(to_float(score(0, 300)), expected, atol=1e-6)


@pytest.mark.parametrize("d", [1, 8, 63, 64, 65, 130])
def test_binary_round_trip(d):
    X = np.random.default_rng(d).standard_normal((20, d)).astype(np.float32)
    X[0, 0] = 0.0  # zero is not positive: bit 0
    words = _search.binarize(X)
    assert words.dtype == np.uint64 and words.shape == (20, (d + 63) // 64)
    np.testing.assert_array_equal(_search.unpack_binary(words, d), np.where(X > 0, 1.0, -1.0))
    for n in {1, 7, d // 2 or 1, d - 1 or 1, d}:  # a prefix's bits are the first bits
        np.testing.assert_array_equal(_search.binary_prefix(words, n), _search.binarize(X[:, :n]))


def test_hamming_scores_count_differing_signs():
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((7, 100)), rng.standard_normal((30, 100))
    expected = -((A[:, None, :] > 0) != (B[None, :, :] > 0)).sum(axis=2)
    got = _search.hamming_scores(_search.binarize(A), _search.binarize(B))
    np.testing.assert_array_equal(got, expected)
    words = _search.binarize(A)
    bits = [[bin(int(w)).count("1") for w in row] for row in words]
    assert _search._popcount(words).tolist() == bits
    assert _search._popcount_table(words).tolist() == bits  # the NumPy < 2.0 route


@pytest.mark.parametrize("kind", ["float", "int8", "binary"])
def test_torch_kernels_give_the_numpy_results(kind):
    from skmrl._torch.search import device_topk, to_device

    X = prefix_normalize(_corpus(), 32)
    Q = X[:40] + 0.1
    arrays = {"data": X}
    if kind == "int8":
        offset, scale = _search.fit_int8_ranges(X)
        arrays = {"data": _search.quantize_int8(X, offset, scale), "offset": offset, "scale": scale}
        score = lambda a, b: _search.int8_scores(Q, arrays["data"][a:b], offset, scale)  # noqa: E731
    elif kind == "binary":
        arrays = {"data": _search.binarize(X)}
        Q = _search.binarize(Q)
        score = lambda a, b: _search.hamming_scores(Q, arrays["data"][a:b])  # noqa: E731
    else:
        score = lambda a, b: Q @ X[a:b].T  # noqa: E731
    expected_s, expected_i = _search.chunked_topk(score, len(Q), len(X), 15, chunk_size=100)
    got_s, got_i = device_topk(kind, to_device(kind, arrays, "cpu"), Q, 15, chunk_size=100)
    np.testing.assert_allclose(got_s, expected_s, atol=1e-4)
    # Hamming distances tie, at the cut too: the device keeps the lower rows, as the CPU does
    # (it kept arbitrary ones, so a binary shortlist on a GPU differed from the CPU's)
    np.testing.assert_array_equal(got_i, expected_i)


@pytest.mark.parametrize("chunk", [7, 100, 10_000])
def test_torch_kernel_orders_duplicate_documents_by_row(chunk):
    from skmrl._torch.search import device_topk, to_device

    # A corpus of duplicates (each document 20 times, shuffled): exact search on a GPU
    # returned arbitrary copies in arbitrary order, where the CPU gives the lowest rows first.
    # Small integers: every dot product is exact, so copies tie whatever the chunking.
    rng = np.random.default_rng(0)
    X = np.repeat(rng.integers(-3, 4, (50, 16)), 20, axis=0)[rng.permutation(1000)]
    X = X.astype(np.float32)
    Q = rng.integers(-3, 4, (5, 16)).astype(np.float32)
    expected_s, expected_i = _search.chunked_topk(lambda a, b: Q @ X[a:b].T, 5, 1000, 7)
    got_s, got_i = device_topk("float", to_device("float", {"data": X}, "cpu"), Q, 7, chunk)
    np.testing.assert_array_equal(got_i, expected_i)
    np.testing.assert_allclose(got_s, expected_s, atol=1e-6)


def test_torch_binary_kernel_bounds_its_unpacked_chunk(monkeypatch):
    import torch

    from skmrl._torch import search as torch_search

    # Each chunk of a binary shortlist is unpacked to float32 signs; by 262,144 documents of
    # 1,024 bits that took 2 GB of int64 shifts plus 1 GB of floats per query batch, on a GPU.
    # The signs now come byte by byte, and the chunk is cut to keep them under a bound: here a
    # bound of 7 documents of 192 bits, with the same results as the NumPy Hamming scores.
    rng = np.random.default_rng(1)
    words = rng.integers(0, 2**63, (300, 3), dtype=np.uint64) * np.uint64(2)
    words[::3] += np.uint64(1)
    signs = torch_search._unpack_signs(torch.from_numpy(words.view(np.int64))).numpy()
    bits = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")
    np.testing.assert_array_equal(signs, bits.astype(np.float32) * 2 - 1)
    Q = words[:9] ^ rng.integers(0, 2**20, (9, 3), dtype=np.uint64)
    expected_s, expected_i = _search.chunked_topk(
        lambda a, b: _search.hamming_scores(Q, words[a:b]), 9, 300, 12
    )
    monkeypatch.setattr(torch_search, "_SIGNS_BYTES", 7 * 4 * 192)
    chunks = []
    unpack = torch_search._unpack_signs
    monkeypatch.setattr(torch_search, "_unpack_signs", lambda w: chunks.append(len(w)) or unpack(w))
    store = torch_search.to_device("binary", {"data": words}, "cpu")
    got_s, got_i = torch_search.device_topk("binary", store, Q, 12)
    assert max(chunks[1:]) == 7, chunks  # the first call unpacks the queries
    np.testing.assert_array_equal(got_i, expected_i)
    np.testing.assert_allclose(got_s, expected_s)


# -- MatryoshkaSearch ---------------------------------------------------------------------------
def test_exact_search_equals_brute_force_cosine():
    X = _corpus()
    Q = _corpus(50, seed=9)
    dist, idx = MatryoshkaSearch(shortlist_dim=None, device="cpu").fit(X).kneighbors(Q, 10)
    ref_dist, ref_idx = _brute(X, Q, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, atol=1e-5)
    assert dist.dtype == np.float32 and idx.dtype == np.int64
    # rerank_dim: exact search on a prefix
    _, idx16 = (
        MatryoshkaSearch(shortlist_dim=None, rerank_dim=16, device="cpu").fit(X).kneighbors(Q, 5)
    )
    np.testing.assert_array_equal(idx16, _brute(X, Q, 5, dim=16)[1])


@pytest.mark.parametrize("shortlist_dim", [None, 8])
def test_distances_are_clipped_to_sklearns_range(shortlist_dim):
    """A vector's cosine with itself rounds a little above 1: 1 - cos was -2.4e-7 where
    scikit-learn's cosine distance is 0 (it clips to [0, 2])."""
    X = np.random.default_rng(0).standard_normal((500, 32)).astype(np.float32)
    search = MatryoshkaSearch(shortlist_dim=shortlist_dim, shortlist_size=20, device="cpu")
    dist, idx = search.fit(X).kneighbors(X, 1)
    assert idx[:, 0].tolist() == list(range(500))
    assert dist.min() >= 0.0 and dist.max() < 1e-6
    far, _ = search.kneighbors(-X, 1)  # the opposite vectors: distance about 2, not above
    assert far.max() <= 2.0


def test_vectors_may_come_from_a_generator():
    X = _corpus(100, d=16)
    search = MatryoshkaSearch(shortlist_dim=None, device="cpu").fit(row for row in X)
    assert search.n_samples_fit_ == 100
    np.testing.assert_array_equal(
        search.kneighbors(iter(X[:3]), 1, return_distance=False)[:, 0], [0, 1, 2]
    )


def test_vectors_written_as_text_are_not_called_texts():
    """A CSV file's column of vectors, read back as strings ("[0.12, -0.5, ...]"), was refused
    with "X holds texts ... pass an embedder to search texts"; the message now says they are
    vectors written as text, to parse, for the corpus and for the queries."""
    X = _corpus(20, d=4)
    written = [str(row.tolist()) for row in X]
    search = MatryoshkaSearch(shortlist_dim=2, device="cpu")
    with pytest.raises(TypeError, match=r"^X holds vectors written as text .*json\.loads"):
        search.fit(pd.Series(written))
    search.fit(X)
    with pytest.raises(TypeError, match=r"^queries holds vectors written as text"):
        search.kneighbors(written[:2], 1)
    with pytest.raises(TypeError, match="X holds texts, but embedder=None takes vectors"):
        search.fit(["a cat", "a dog"])


@pytest.mark.parametrize("quantize", QUANTIZE)
def test_funnel_equals_exact_when_the_shortlist_covers_the_corpus(quantize):
    X = _corpus(300)
    Q = _corpus(40, seed=5)
    exact = MatryoshkaSearch(shortlist_dim=None, device="cpu").fit(X).kneighbors(Q, 10)
    funnel = MatryoshkaSearch(shortlist_dim=8, shortlist_size=300, quantize=quantize, device="cpu")
    dist, idx = funnel.fit(X).kneighbors(Q, 10)
    np.testing.assert_array_equal(idx, exact[1])
    np.testing.assert_allclose(dist, exact[0], atol=1e-6)
    # shortlist_size above the corpus size is clipped to it
    big = MatryoshkaSearch(shortlist_dim=8, shortlist_size=10_000, quantize=quantize, device="cpu")
    np.testing.assert_array_equal(big.fit(X).kneighbors(Q, 10, return_distance=False), exact[1])


@pytest.mark.parametrize("quantize", QUANTIZE)
def test_the_rerank_orders_identical_documents_by_row(quantize):
    """Identical documents tie: the lower row first, and the lower row kept at the cut. The
    rerank's batched BLAS products rounded a candidate at the end of a block (and rows by their
    alignment) differently, so a copy could come before its original, or be kept without it."""
    X = _corpus(299)
    X[1::2] = X[0:-1:2]  # row 2j + 1 is a copy of row 2j
    Q = _corpus(40, seed=5)
    search = MatryoshkaSearch(shortlist_dim=8, shortlist_size=299, quantize=quantize)
    dist, idx = search.set_params(device="cpu").fit(X).kneighbors(Q, 299)
    rank = np.argsort(idx, axis=1)  # rank[q, row]: where row comes in q's answer
    np.testing.assert_array_equal(rank[:, 1:-1:2], rank[:, 0:-1:2] + 1)
    np.testing.assert_array_equal(
        np.take_along_axis(dist, rank[:, 0:-1:2], 1), np.take_along_axis(dist, rank[:, 1::2], 1)
    )
    for k in (1, 7):  # a copy comes right after its original, which is kept at the cut
        kept = search.kneighbors(Q, k, return_distance=False)
        copies = kept % 2 == 1
        assert not copies[:, 0].any()
        np.testing.assert_array_equal(kept[:, :-1][copies[:, 1:]], kept[:, 1:][copies[:, 1:]] - 1)


@pytest.mark.parametrize(
    ("quantize", "decay", "shortlist_dim", "min_recall"),
    [(None, 0.9, 32, 0.95), ("int8", 0.9, 32, 0.95), ("binary", 1.0, 64, 0.6)],
)
def test_funnel_finds_the_exact_neighbours(quantize, decay, shortlist_dim, min_recall):
    """recall@10 of the funnel against exact search, on Gaussian vectors whose variance decays
    along the dimensions (as a Matryoshka embedding's does; measured 1.0, 1.0 and 0.87-0.90 for
    float, int8 and binary; chance is 0.2). Sign bits need all 64 dims of isotropic vectors."""
    rng = np.random.default_rng(0)
    X, Q = (rng.standard_normal((n, 64)) * decay ** np.arange(64) for n in (2000, 100))
    exact = MatryoshkaSearch(shortlist_dim=None, device="cpu").fit(X).kneighbors(Q, 10, False)
    search = MatryoshkaSearch(
        shortlist_dim=shortlist_dim, shortlist_size=400, quantize=quantize, device="cpu"
    )
    idx = search.fit(X).kneighbors(Q, 10, return_distance=False)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, exact, strict=True)])
    assert recall >= min_recall, recall
    bytes_per_doc = search.shortlist_bytes_ / len(X)
    assert bytes_per_doc == {None: 4, "int8": 1, "binary": 1 / 8}[quantize] * shortlist_dim


@pytest.mark.parametrize("device_int_mm", [True, False])
def test_int8_shortlist_with_a_constant_dimension(device_int_mm, monkeypatch):
    """A dimension that is 0 in every document (a dead or zero-padded one) while queries have
    values there: it was calibrated with scale 1 (a range of 255 where the others span about
    2), so the int8 scorer's one step per query rounded every other dimension of the query
    away; recall@10 of a 64-dim int8 shortlist of 10 fell from 0.99 to 0.54."""
    from skmrl._torch import search as torch_search

    monkeypatch.setattr(torch_search, "_INT_MM", [device_int_mm and torch_search._has_int_mm()])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 64)).astype(np.float32)
    Q = X[:200] + 0.5 * rng.standard_normal((200, 64)).astype(np.float32)
    X[:, 5] = 0.0
    exact = MatryoshkaSearch(shortlist_dim=None, device="cpu").fit(X).kneighbors(Q, 10, False)
    search = MatryoshkaSearch(shortlist_dim=64, shortlist_size=10, quantize="int8", device="cpu")
    idx = search.fit(X).kneighbors(Q, 10, return_distance=False)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, exact, strict=True)])
    assert recall >= 0.95, recall


def test_search_texts_with_an_embedder():
    emb = TfidfBaseline(max_dim=16, dim=4)  # dim is ignored: the index keeps full size
    search = MatryoshkaSearch(emb, shortlist_dim=4, shortlist_size=len(CORPUS), device="cpu")
    _, idx = search.fit(CORPUS).kneighbors(CORPUS[:3], n_neighbors=2)
    assert idx[:, 0].tolist() == [0, 1, 2]
    full = TfidfBaseline(max_dim=16).fit(CORPUS)
    full.set_params(dim=full.max_dim_)
    ref = _brute(full.transform(CORPUS), full.transform(CORPUS[:3]), 2)
    np.testing.assert_array_equal(idx, ref[1])
    assert emb.get_params()["dim"] == 4 and not hasattr(emb, "max_dim_")  # a clone was fitted
    # scikit-learn's tags say what it takes: texts with an embedder, vectors without
    from sklearn.utils import get_tags

    assert get_tags(search).input_tags.string is True
    assert get_tags(MatryoshkaSearch()).input_tags.string is False


@pytest.mark.parametrize("quantize", QUANTIZE)
def test_save_and_load_give_the_same_results(tmp_path, quantize):
    X, Q = _corpus(), _corpus(20, seed=4)
    search = MatryoshkaSearch(shortlist_dim=16, shortlist_size=50, quantize=quantize, device="cpu")
    before = search.fit(X).kneighbors(Q, 5)
    search.save(tmp_path / "index")
    loaded = MatryoshkaSearch.load(tmp_path / "index")
    assert loaded.get_params() == search.get_params()
    after = loaded.kneighbors(Q, 5)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_array_equal(after[0], before[0])


def test_files_of_two_saves_are_not_loaded_together(tmp_path):
    # Two saves into one folder at once shared their temporary file names and interleaved their
    # renames: one's search.json could end beside the other's index.npz, and load read the one's
    # parameters over the other's arrays without a word. The files of a save share an id now.
    import json
    import shutil

    X, other = _corpus(), _corpus(seed=9)
    MatryoshkaSearch(shortlist_dim=16, device="cpu").fit(X).save(tmp_path / "a")
    MatryoshkaSearch(shortlist_dim=16, device="cpu").fit(other).save(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["index.npz", "search.json"]
    shutil.copy(tmp_path / "b" / "index.npz", tmp_path / "a" / "index.npz")
    with pytest.raises(ValueError, match=r"index\.npz was written by another save than the sea"):
        MatryoshkaSearch.load(tmp_path / "a")
    # the embedder's file too
    texts = list(CORPUS)
    for name, docs in (("c", texts), ("d", texts[::-1])):
        embedder = TfidfBaseline(max_dim=16)
        MatryoshkaSearch(embedder, shortlist_dim=8, device="cpu").fit(docs).save(tmp_path / name)
    shutil.copy(tmp_path / "d" / "embedder.joblib", tmp_path / "c" / "embedder.joblib")
    with pytest.raises(ValueError, match=r"embedder\.joblib was written by another save"):
        MatryoshkaSearch.load(tmp_path / "c")
    # a folder saved before the id was written still loads
    meta = json.loads((tmp_path / "b" / "search.json").read_text())
    del meta["save_id"]
    (tmp_path / "b" / "search.json").write_text(json.dumps(meta))
    assert MatryoshkaSearch.load(tmp_path / "b").n_samples_fit_ == len(other)


def test_save_load_and_pickle_keep_the_fitted_sizes(tmp_path):
    import pickle

    X, Q = _corpus(), _corpus(20, seed=4)
    search = MatryoshkaSearch(shortlist_dim=16, shortlist_size=50, device="cpu").fit(X)
    search.set_params(shortlist_dim=8, rerank_dim=24)  # served from the 16/48-dim index
    expected = search.kneighbors(Q, 5)
    search.save(tmp_path / "index")
    for copy in (MatryoshkaSearch.load(tmp_path / "index"), pickle.loads(pickle.dumps(search))):
        assert (copy.shortlist_dim_, copy.rerank_dim_, copy.shortlist_.shape) == (16, 48, (600, 16))
        assert (copy.shortlist_dim, copy.rerank_dim) == (8, 24)
        np.testing.assert_array_equal(copy.kneighbors(Q, 5)[1], expected[1])


def test_save_takes_numpy_parameters_and_a_failed_save_leaves_nothing(tmp_path):
    X, Q = _corpus(), _corpus(5, seed=4)
    search = MatryoshkaSearch(
        shortlist_dim=np.int64(8), shortlist_size=np.int32(40), device=np.str_("cpu")
    ).fit(X)
    search.save(tmp_path / "index")  # np.int64 was "not JSON serializable"
    loaded = MatryoshkaSearch.load(tmp_path / "index")
    assert loaded.get_params() == search.get_params()
    assert type(loaded.shortlist_dim) is int and type(loaded.device) is str
    np.testing.assert_array_equal(loaded.kneighbors(Q, 3)[1], search.kneighbors(Q, 3)[1])

    with_embedder = MatryoshkaSearch(TfidfBaseline(max_dim=16), shortlist_dim=4).fit(CORPUS)
    with_embedder.embedder_.unpicklable = lambda: None  # joblib fails after index.npz
    with pytest.raises(Exception, match=r"(?i)pickl"):
        with_embedder.save(tmp_path / "new" / "index")
    assert not (tmp_path / "new").exists()  # nor the parent made for it
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "thesis.tex").write_text("mine")
    with pytest.raises(Exception, match=r"(?i)pickl"):
        with_embedder.save(tmp_path / "new" / ".." / "keep")  # is keep, which was there
    assert (tmp_path / "keep" / "thesis.tex").read_text() == "mine"
    assert not (tmp_path / "new").exists()
    with pytest.raises(Exception, match=r"(?i)pickl"):
        with_embedder.save(tmp_path / "index")  # over the earlier save: left as it was
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == ["index.npz", "search.json"]
    np.testing.assert_array_equal(
        MatryoshkaSearch.load(tmp_path / "index").kneighbors(Q, 3)[1], search.kneighbors(Q, 3)[1]
    )
    with pytest.raises(TypeError, match=r"progress=.* set it to None, a bool"):
        search.set_params(progress=[1]).save(tmp_path / "other")
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("name", ["index.npz", "embedder.joblib", "search.json"])
def test_load_names_a_truncated_file(tmp_path, name):
    """A file cut short (a save killed while the copy ran, a partial download) loaded as
    joblib's bare EOFError (no message at all), zipfile's 'File is not a zip file' or a
    JSONDecodeError, none naming the file; each is one error naming it now."""
    search = MatryoshkaSearch(TfidfBaseline(max_dim=16), shortlist_dim=4).fit(CORPUS)
    search.save(tmp_path / "index")
    file = tmp_path / "index" / name
    data = file.read_bytes()
    for cut in (0, len(data) // 2, len(data) - 1):
        file.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"{name} cannot be read \(.*\): a truncated"):
            MatryoshkaSearch.load(tmp_path / "index")
    file.write_bytes(data)
    MatryoshkaSearch.load(tmp_path / "index")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open descriptors")
def test_a_failed_load_leaves_the_archive_closed(tmp_path):
    # np.load of the path opened index.npz itself and, the archive being cut short, raised
    # before NumPy's NpzFile owned the file: it stayed open while the error lived (and was
    # closed by the collector, "ResourceWarning: unclosed file" under python -X dev).
    MatryoshkaSearch(TfidfBaseline(max_dim=16), shortlist_dim=4).fit(CORPUS).save(tmp_path / "i")
    file = tmp_path / "i" / "index.npz"
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    with pytest.raises(ValueError, match="a truncated") as error:
        MatryoshkaSearch.load(tmp_path / "i")
    targets = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the descriptor listdir used, closed since
            pass
    assert str(file.resolve()) not in targets, error.value


def test_save_resolves_paths_as_the_system_does(tmp_path, monkeypatch):
    # "link/../x" is beside the link's target for the system (and for load); a save that took
    # ".." textually wrote elsewhere. "~" is expanded by save and load alike.
    X = _corpus()
    search = MatryoshkaSearch(shortlist_dim=8).fit(X)
    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "link").symlink_to(tmp_path / "elsewhere" / "sub")
    search.save(tmp_path / "work" / "link" / ".." / "idx")
    assert (tmp_path / "elsewhere" / "idx" / "search.json").is_file()
    MatryoshkaSearch.load(tmp_path / "work" / "link" / ".." / "idx")
    monkeypatch.setenv("HOME", str(tmp_path))
    search.save("~/home-idx")
    assert (tmp_path / "home-idx" / "search.json").is_file()
    MatryoshkaSearch.load("~/home-idx")


def test_save_and_load_with_an_embedder(tmp_path):
    search = MatryoshkaSearch(TfidfBaseline(max_dim=16), shortlist_dim=4, shortlist_size=10)
    before = search.fit(CORPUS).kneighbors(CORPUS[:4], 3)
    search.save(tmp_path / "index")
    after = MatryoshkaSearch.load(tmp_path / "index").kneighbors(CORPUS[:4], 3)
    np.testing.assert_array_equal(after[1], before[1])
    with pytest.raises(FileNotFoundError, match="not a saved MatryoshkaSearch"):
        MatryoshkaSearch.load(tmp_path)


@pytest.mark.parametrize(
    ("fitted", "changed"),
    [
        ({"shortlist_dim": 32}, {"shortlist_dim": 16}),
        ({"shortlist_dim": 48, "quantize": "binary"}, {"shortlist_dim": 8}),  # same word count
        ({"shortlist_dim": 40, "quantize": "binary"}, {"shortlist_dim": 40}),  # unchanged
        ({"shortlist_dim": 32}, {"rerank_dim": 16}),
        ({"shortlist_dim": 32, "rerank_dim": 40}, {"shortlist_dim": 8, "rerank_dim": 24}),
        ({"shortlist_dim": 32}, {"shortlist_dim": None}),
        ({"shortlist_dim": None, "rerank_dim": 40}, {"rerank_dim": 20}),
        ({"shortlist_dim": 16, "quantize": "int8"}, {"shortlist_size": 60}),
        # exact search sets a quantized shortlist aside (it read quantize_ and refused)
        ({"shortlist_dim": 16, "quantize": "int8"}, {"shortlist_dim": None, "quantize": None}),
        ({"shortlist_dim": 40, "quantize": "binary"}, {"shortlist_dim": None, "quantize": None}),
    ],
)
def test_set_params_after_fit_searches_as_a_refit_does(fitted, changed):
    """A smaller shortlist or rerank size set after fit is a nested prefix of the index: the
    same neighbours as a refit at that size (a binary index fitted at 48 bits once scored
    8-bit queries against its 48-bit documents)."""
    X, Q = _corpus(), _corpus(40, seed=7)
    common = {"shortlist_size": 30, "device": "cpu"}
    search = MatryoshkaSearch(**common, **fitted).fit(X)
    before = search.kneighbors(Q, 5)
    search.set_params(**changed)
    refit = MatryoshkaSearch(**{**common, **fitted, **changed}).fit(X)
    expected = refit.kneighbors(Q, 5)
    dist, idx = search.kneighbors(Q, 5)
    np.testing.assert_array_equal(idx, expected[1])
    np.testing.assert_allclose(dist, expected[0], atol=1e-6)
    assert search.shortlist_dim_ == fitted["shortlist_dim"]  # the index itself is unchanged
    # and back: the stored arrays again
    search.set_params(**{name: {**common, **fitted}.get(name) for name in changed})
    np.testing.assert_array_equal(search.kneighbors(Q, 5)[1], before[1])


@pytest.mark.parametrize(
    ("fitted", "changed", "words"),
    [
        ({"shortlist_dim": 16}, {"shortlist_dim": 32}, "more than the 16 dimensions"),
        ({"shortlist_dim": 16, "rerank_dim": 24}, {"rerank_dim": None}, "rerank_dim=None is more"),
        ({"shortlist_dim": None}, {"shortlist_dim": 16}, "holds no shortlist"),
        ({"shortlist_dim": 16}, {"quantize": "int8"}, "quantize='int8', but"),
        ({"shortlist_dim": 16, "quantize": "int8"}, {"quantize": None}, "quantize=None, but"),
        ({"shortlist_dim": 16, "quantize": "binary"}, {"quantize": "int8"}, "built with"),
        ({"shortlist_dim": 16, "quantize": "int8"}, {"shortlist_dim": 8}, "int8 shortlist"),
        ({"shortlist_dim": 16}, {"embedder": TfidfBaseline()}, "embedder was set"),
    ],
)
def test_set_params_after_fit_that_the_index_cannot_serve_asks_for_a_refit(fitted, changed, words):
    X = _corpus()
    search = MatryoshkaSearch(device="cpu", **fitted).fit(X).set_params(**changed)
    with pytest.raises(ValueError, match=f"{words}.*call fit again"):
        search.kneighbors(X[:3], 2)
    if "embedder" not in changed:  # a refit builds the index the parameters ask for
        assert search.fit(X).kneighbors(X[:3], 2)[1].shape == (3, 2)


def test_another_embedder_after_fit_asks_for_a_refit(tmp_path):
    """set_params(embedder=<another>) or embedder__<param>=... after fit was ignored: the
    queries went on through the fitted clone, so the results were the old embedder's without a
    word. A change the embedder's vectors depend on now asks for fit; its dim (ignored by the
    index) may change, and a runtime parameter applies to the queries."""
    search = MatryoshkaSearch(TfidfBaseline(max_dim=16), shortlist_dim=4, device="cpu")
    expected = search.fit(CORPUS).kneighbors(CORPUS[:3], 3)[1]
    changes = [
        ({"embedder": TfidfBaseline(max_dim=8)}, r"max_dim=8 \(fit used 16\)"),
        ({"embedder__sublinear_tf": True}, r"sublinear_tf=True \(fit used False\)"),
        ({"embedder": Word2VecEmbedder()}, "a Word2VecEmbedder after fit, but the index holds"),
    ]
    for change, words in changes:
        changed = clone(search).fit(CORPUS).set_params(**change)
        with pytest.raises(ValueError, match=f"{words}.*call fit again"):
            changed.kneighbors(CORPUS[:3], 3)
    search.embedder.ngram_range = (1, 2)  # in place, past set_params
    with pytest.raises(ValueError, match=r"ngram_range=\(1, 2\) \(fit used \(1, 1\)\)"):
        search.kneighbors(CORPUS[:3], 3)
    with pytest.raises(ValueError, match="call fit again"):
        search.save(tmp_path / "index")  # the embedder saved would not be the index's
    assert not (tmp_path / "index").exists()
    search.embedder.ngram_range = (1, 1)
    # an equal embedder, dim (ignored: the index keeps full size) and memory (runtime) may change
    search.set_params(embedder=TfidfBaseline(max_dim=16, dim=2))
    search.set_params(embedder__dim=3, embedder__memory=str(tmp_path / "cache"))
    np.testing.assert_array_equal(search.kneighbors(CORPUS[:3], 3)[1], expected)
    assert search.embedder_.memory == str(tmp_path / "cache")  # the queries' embedder uses it
    search.save(tmp_path / "index")
    loaded = MatryoshkaSearch.load(tmp_path / "index")
    np.testing.assert_array_equal(loaded.kneighbors(CORPUS[:3], 3)[1], expected)
    with pytest.raises(ValueError, match=r"max_dim=12 .*call fit again"):
        loaded.set_params(embedder__max_dim=12).kneighbors(CORPUS[:3], 3)
    assert loaded.fit(CORPUS).kneighbors(CORPUS[:3], 3)[1].shape == (3, 3)


def test_the_depth_of_the_embedder_after_fit_asks_for_a_refit(tiny_bert):
    # n_layers needs no refit of the embedder (a slice of its every-layer pass), but the index
    # holds the vectors of the depth at fit: queries at another depth would be searched silently
    from skmrl import MatryoshkaEmbedder

    embedder = MatryoshkaEmbedder(model=tiny_bert, max_length=32, device="cpu", progress=False)
    search = MatryoshkaSearch(embedder, shortlist_dim=8, device="cpu").fit(CORPUS[:20])
    expected = search.kneighbors(CORPUS[:2], 3)[1]
    search.set_params(embedder__batch_size=4, embedder__dim=8)  # runtime and slice: no refit
    np.testing.assert_array_equal(search.kneighbors(CORPUS[:2], 3)[1], expected)
    assert search.embedder_.batch_size == 4
    search.set_params(embedder__n_layers=1)
    with pytest.raises(ValueError, match=r"n_layers=1 \(fit used None\).*call fit again"):
        search.kneighbors(CORPUS[:2], 3)


@pytest.mark.parametrize(
    ("params", "call", "error", "words"),
    [
        ({}, lambda s, X: s.fit(np.zeros((0, 8))), ValueError, "0 sample"),
        ({}, lambda s, X: s.fit(X).kneighbors(X, n_neighbors=101), ValueError, "100 documents"),
        (
            {"shortlist_size": 5},
            lambda s, X: s.fit(X).kneighbors(X, n_neighbors=10),
            ValueError,
            "raise shortlist_size",
        ),
        ({}, lambda s, X: s.fit(X).kneighbors(X[:, :20]), ValueError, "20 dimensions"),
        ({"quantize": "int4"}, lambda s, X: s.fit(X), ValueError, "quantize must be"),
        (
            {"quantize": "binary", "shortlist_dim": None},
            lambda s, X: s.fit(X),
            ValueError,
            "set shortlist_dim",
        ),
        ({"shortlist_dim": 64}, lambda s, X: s.fit(X), ValueError, "shortlist_dim=64 is out"),
        ({"rerank_dim": 0}, lambda s, X: s.fit(X), ValueError, "rerank_dim=0"),
        ({"device": "tpu"}, lambda s, X: s.fit(X), ValueError, "device"),
        # n_jobs="2" failed in the search with "'<' not supported", 1.5 ran on one thread
        ({"n_jobs": "2"}, lambda s, X: s.fit(X), ValueError, "n_jobs must be"),
        ({"n_jobs": 1.5}, lambda s, X: s.fit(X), ValueError, "n_jobs must be"),
        ({"n_jobs": 0}, lambda s, X: s.fit(X), ValueError, "n_jobs must be"),
        ({}, lambda s, X: s.fit(["a text", "another"]), TypeError, "takes vectors"),
        ({}, lambda s, X: s.fit(np.array(["a text", "another"])), TypeError, "takes vectors"),
        ({}, lambda s, X: s.fit(pd.Series(["a text", "another"])), TypeError, "takes vectors"),
        ({}, lambda s, X: s.fit(t for t in ["a text", "another"]), TypeError, "takes vectors"),
        ({}, lambda s, X: s.fit(X).kneighbors(pd.Series(["a text"])), TypeError, "takes vectors"),
        ({}, lambda s, X: s.fit(X).kneighbors(X, n_neighbors=0), ValueError, "n_neighbors"),
        # NearestNeighbors' kneighbors(None) (the indexed points' own neighbours) failed with
        # "Expected 2D array, got scalar array ... array=nan"
        ({}, lambda s, X: s.fit(X).kneighbors(None), TypeError, "X=None is not supported"),
        # an embedder that is not a skmrl text embedder: named before anything is fitted (the
        # adaptor was told to "pass a single column of text", scikit-learn's vectorizer failed
        # after its fit with "no attribute 'embed_full'")
        (
            {"embedder": MatryoshkaAdaptor()},
            lambda s, X: s.fit(X),
            TypeError,
            "MatryoshkaAdaptor; it takes vectors, not texts: pass its transform_full output",
        ),
        (
            {"embedder": TfidfVectorizer()},
            lambda s, X: s.fit(["a text", "another"]),
            TypeError,
            "skmrl text embedder .* got TfidfVectorizer",
        ),
    ],
)
def test_errors_are_clear(params, call, error, words):
    X = _corpus(100, d=32)
    search = MatryoshkaSearch(shortlist_dim=8, device="cpu").set_params(**params)
    with pytest.raises(error, match=words):
        call(search, X)


def test_a_dict_of_vectors_is_refused_in_one_line():
    # str keys were read as texts ("X holds texts, but embedder=None takes vectors"), int keys
    # failed in numpy ("float() argument must be a string or a real number, not 'dict'")
    vectors = np.random.default_rng(0).normal(size=(6, 8))
    for keys in (range(6), [f"doc{i}" for i in range(6)]):
        with pytest.raises(TypeError, match=r"got a dict of 6 items: pass its vectors as rows"):
            MatryoshkaSearch(shortlist_dim=4).fit(dict(zip(keys, vectors, strict=True)))


def test_the_embedder_s_dim_is_ignored_as_documented():
    # TfidfBaseline(dim=8) on 6 texts failed the fit (rank 6); the index holds full-size vectors
    docs = ["cats purr", "dogs bark", "stocks fell", "markets rallied", "cats and dogs", "rain"]
    search = MatryoshkaSearch(TfidfBaseline(dim=8), shortlist_dim=4).fit(docs)
    plain = MatryoshkaSearch(TfidfBaseline(), shortlist_dim=4).fit(docs)
    assert search.max_dim_ == plain.max_dim_ == 6
    np.testing.assert_array_equal(
        search.kneighbors(["dogs"], n_neighbors=3)[1], plain.kneighbors(["dogs"], n_neighbors=3)[1]
    )


def test_empty_text_corpus_is_refused():
    with pytest.raises(ValueError, match="empty"):
        MatryoshkaSearch(TfidfBaseline()).fit([])


def test_empty_and_sparse_vectors_are_refused_in_one_line():
    # [] was told to reshape a 1-D array (three lines of numpy advice); a DOK matrix, a dict,
    # was told to np.stack its values, which are its nonzero numbers, not vectors
    import scipy.sparse as sp

    for empty in ([], np.empty(0), (v for v in [])):
        with pytest.raises(ValueError, match=r"^X is empty: expected at least one vector$"):
            MatryoshkaSearch(shortlist_dim=None).fit(empty)
    search = MatryoshkaSearch(shortlist_dim=None).fit(np.eye(8))
    with pytest.raises(ValueError, match=r"^queries is empty"):
        search.kneighbors([], n_neighbors=2)
    for kind in ("dok", "csr"):
        X = sp.random(20, 8, density=0.5, format=kind, random_state=0)
        with pytest.raises(TypeError, match=rf"X is a sparse {kind}_matrix: .* X.toarray\(\)"):
            MatryoshkaSearch(shortlist_dim=None).fit(X)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("quantize", QUANTIZE)
def test_cuda_search_equals_cpu(quantize):
    X, Q = _corpus(5000, d=64), _corpus(300, d=64, seed=3)
    params = {"shortlist_dim": 32, "shortlist_size": 100, "quantize": quantize}
    cpu = MatryoshkaSearch(device="cpu", **params).fit(X).kneighbors(Q, 10)
    gpu = MatryoshkaSearch(device="cuda", **params).fit(X).kneighbors(Q, 10)
    np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-4)
    agree = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(gpu[1], cpu[1], strict=True)])
    assert agree >= 0.99
    if quantize == "binary":  # exact integer scores, ties kept alike: the same shortlist
        np.testing.assert_array_equal(gpu[1], cpu[1])


@pytest.mark.parametrize("quantize", QUANTIZE)
def test_threads_over_batches_give_the_same_results(quantize):
    X, Q = _corpus(800), _corpus(90, seed=6)
    params = {"shortlist_dim": 16, "shortlist_size": 50, "quantize": quantize, "batch_size": 16}
    one = MatryoshkaSearch(device="cpu", **params).fit(X).kneighbors(Q, 5)
    threads_before = torch.get_num_threads()
    two = MatryoshkaSearch(device="cpu", n_jobs=2, **params).fit(X).kneighbors(Q, 5)
    assert torch.get_num_threads() == threads_before  # restored after the search
    np.testing.assert_array_equal(two[1], one[1])
    np.testing.assert_array_equal(two[0], one[0])


@pytest.mark.parametrize("scale", [1e-200, 1e300])
def test_search_on_float64_vectors_beyond_float32s_range(scale):
    """Vectors were cast to float32 before they were normalised: float64 rows of 1e-200
    became zeros (every distance 1, neighbours by row number) and of 1e300 an error about
    infinite values. Only their directions count."""
    rng = np.random.default_rng(0)
    D, Q = rng.normal(size=(50, 8)), rng.normal(size=(4, 8))
    search = MatryoshkaSearch(shortlist_dim=4, device="cpu")
    expected = search.fit(D).kneighbors(Q, 5)
    got = search.fit(D * scale).kneighbors(Q * scale, 5)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], atol=1e-6)


def test_auto_in_any_case_is_the_searchs_own_auto(monkeypatch):
    # device="AUTO" passed the device check (which ignores case and spaces) but not the
    # search's test for "auto", so it went to resolve_device's auto, which picks Apple's MPS
    # where the search's own "auto" keeps to a GPU or the CPU
    import skmrl._torch.device as torch_device

    X = _corpus(200, 96)
    expected = MatryoshkaSearch(device="auto").fit(X).kneighbors(X[:5], 3)
    monkeypatch.setattr(torch_device, "available_devices", lambda: ["cpu", "mps"])
    for device in ("AUTO", " Auto "):
        got = MatryoshkaSearch(device=device).fit(X).kneighbors(X[:5], 3)
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_allclose(got[0], expected[0], atol=1e-6)


def test_queries_are_checked_for_the_corpus_column_names(tmp_path):
    """A frame of queries whose columns were in another order than the corpus's was searched
    by position, for wrong neighbours without a word, where NearestNeighbors refuses it; the
    names are checked as scikit-learn checks them, and kept by save and load."""
    rng = np.random.default_rng(0)
    D = pd.DataFrame(rng.standard_normal((100, 8)), columns=list("abcdefgh"))
    search = MatryoshkaSearch(shortlist_dim=None, device="cpu").fit(D)
    assert search.n_features_in_ == 8
    assert list(search.feature_names_in_) == list("abcdefgh")
    np.testing.assert_array_equal(search.kneighbors(D.iloc[:3], 1)[1].ravel(), [0, 1, 2])
    for index in (search, MatryoshkaSearch.load(_saved(search, tmp_path / "index"))):
        with pytest.raises(ValueError, match="feature names should match"):
            index.kneighbors(D.iloc[:3][list("hgfedcba")], 1)
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            index.kneighbors(D.iloc[:3].to_numpy(), 1)
    with pytest.raises(ValueError, match="queries have 7 dimensions, but the index was built"):
        search.kneighbors(D.iloc[:3, :7], 1)
    # a fit that fails keeps the names of the index it leaves in place
    with pytest.raises(ValueError, match="shortlist_dim"):
        search.set_params(shortlist_dim=99).fit(D.set_axis(list("ABCDEFGH"), axis=1))
    assert list(search.feature_names_in_) == list("abcdefgh")
    # an index saved or pickled before the names were recorded is searched as before, unwarned
    import json
    import pickle
    import warnings

    search.set_params(shortlist_dim=None)
    meta_file = tmp_path / "index" / "search.json"
    meta = json.loads(meta_file.read_text())
    del meta["n_features_in_"], meta["feature_names_in_"]
    meta_file.write_text(json.dumps(meta))
    old = pickle.loads(pickle.dumps(search))
    del old.n_features_in_, old.feature_names_in_
    for index in (MatryoshkaSearch.load(tmp_path / "index"), old):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(index.kneighbors(D.iloc[:3], 1)[1].ravel(), [0, 1, 2])
    # an index of texts has no columns: an earlier fit's on vectors go
    search.set_params(embedder=TfidfBaseline()).fit(list(CORPUS))
    assert not hasattr(search, "n_features_in_")
    assert not hasattr(search, "feature_names_in_")


def _saved(search: MatryoshkaSearch, path) -> str:
    search.save(path)
    return str(path)


_EMBEDDED: list[int] = []  # what _CountedTfidf embedded at full size, a count per call


class _CountedTfidf(TfidfBaseline):
    """A real TfidfBaseline that counts the documents it embeds at full size."""

    def embed_full(self, X):
        docs = list(X)
        _EMBEDDED.append(len(docs))
        return super().embed_full(docs)


@pytest.mark.parametrize("param", ["shortlist_dim", "rerank_dim"])
def test_dims_beyond_the_fitted_size_are_refused_before_the_corpus_is_embedded(param):
    _EMBEDDED.clear()
    dims = {"shortlist_dim": 4, param: 64}  # the default shortlist_dim=64 is out of range too
    search = MatryoshkaSearch(_CountedTfidf(max_dim=8), device="cpu", **dims)
    with pytest.raises(ValueError, match=rf"{param}=64 is out of range.*\[1, 8\]"):
        search.fit(CORPUS)
    assert _EMBEDDED == []  # the error came before the corpus's encoding


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_missing_gpu_is_said_before_the_queries_are_embedded():
    _EMBEDDED.clear()
    search = MatryoshkaSearch(_CountedTfidf(max_dim=8), shortlist_dim=4, device="cuda")
    search.fit(CORPUS)
    assert _EMBEDDED == [len(CORPUS)]
    with pytest.raises(ValueError, match="not available"):
        search.kneighbors(CORPUS[:3], 2)
    assert _EMBEDDED == [len(CORPUS)]  # the queries were not embedded
