"""The full-size caches: compute once, LRU bound, a disk layer shared between processes."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing

import numpy as np
import pytest

from skmrl.cache import (
    EmbeddingCache,
    cached_fit_state,
    clear_caches,
    clear_disk_cache,
    disk_cache_info,
    hash_texts,
)


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


def test_memory_bound_drops_least_recently_used():
    row_bytes = 4 * 4
    cache, enc = EmbeddingCache(max_bytes=3 * row_bytes), _Encoder()
    cache.get_or_compute("fp", ["a", "b", "c"], enc)
    cache.get_or_compute("fp", ["a"], enc)  # touch "a": "b" is now the oldest
    cache.get_or_compute("fp", ["d"], enc)
    assert len(cache) == 3
    cache.get_or_compute("fp", ["a", "c", "d"], enc)
    assert enc.calls[-1] == ["d"]  # a, c, d all hits
    cache.get_or_compute("fp", ["b"], enc)
    assert enc.calls[-1] == ["b"]  # b was evicted


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
    with pytest.warns(RuntimeWarning, match=r"disk cache of vectors .* cannot be used"):
        out = EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=tmp_path)
    assert out.shape == (1, 4) and enc.calls == [["x"]]
    assert path.read_bytes() == before  # left alone
    assert disk_cache_info(tmp_path)["error"]
    clear_disk_cache(tmp_path)  # what the warning suggests
    EmbeddingCache().get_or_compute("fp", ["x"], enc, memory=tmp_path)
    assert disk_cache_info(tmp_path)["n_vectors"] == 1


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


def test_hash_texts_separates_documents_and_labels():
    assert hash_texts(["ab", "c"]) != hash_texts(["a", "bc"])
    assert hash_texts(["a"]) != hash_texts(["a", ""])
    assert hash_texts(["a", "b"], [0, 1]) != hash_texts(["a", "b"], [1, 0])
    assert hash_texts(["a", "b"], ["x", "y"]) == hash_texts(["a", "b"], np.array(["x", "y"]))
