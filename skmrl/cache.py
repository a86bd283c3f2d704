"""Caches of full-size results, keyed by a fingerprint of all that determines them but ``dim``.

Two kinds of result are cached (DESIGN.md, contract 6):

* **embeddings** (:class:`EmbeddingCache`): full-size vectors keyed by ``(fingerprint, text)``,
  where the fingerprint identifies the fitted model (weights, pooling, length...). A grid over
  ``dim`` or over folds then encodes each unique text once.
* **fitted states** (:func:`cached_fit_state`): what ``fit`` learns from data (a TF-IDF + SVD, a
  word-vector table), keyed by the estimator's parameters except ``dim`` and by a hash of the
  training data, so that the grid points of one fold share one fit.

Both live in process memory with a size bound, and optionally on disk under ``memory=`` (a path or
a :class:`joblib.Memory`) so that ``n_jobs>1`` worker processes share them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EmbeddingCache",
    "cached_fit_state",
    "check_memory",
    "clear_caches",
    "get_embedding_cache",
    "hash_texts",
    "text_key",
]

#: Default bound of the in-process embedding cache, in bytes.
DEFAULT_MAX_BYTES = 1 << 30
#: How many fitted states the in-process fit cache keeps.
DEFAULT_MAX_FIT_STATES = 16


def text_key(text: str) -> str:
    """Stable key of one document (a SHA-1 hex digest of its UTF-8 bytes)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def hash_texts(texts: Sequence[str], extra: Any = None) -> str:
    """Hash an ordered corpus (and optionally labels or other data) into a hex digest."""
    h = hashlib.sha1()
    h.update(str(len(texts)).encode())
    for t in texts:
        b = t.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    if extra is not None:
        arr = np.asarray(extra)
        h.update(repr((arr.dtype.str, arr.shape)).encode())
        if arr.dtype == object:
            h.update(repr(arr.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def check_memory(memory: Any) -> Path | None:
    """The folder of a ``memory=`` argument (a path, a joblib.Memory, or None for no disk cache).

    Raises
    ------
    TypeError
        For anything else.

    Examples
    --------
    >>> from skmrl.cache import check_memory
    >>> check_memory("/tmp/skmrl-cache").name
    'skmrl-cache'
    >>> check_memory(None) is None
    True
    """
    if memory is None:
        return None
    if isinstance(memory, str | os.PathLike):
        return Path(memory)
    location = getattr(memory, "location", None)
    if location is None:
        if hasattr(memory, "cache"):  # joblib.Memory(None): caching disabled
            return None
        raise TypeError(
            f"memory must be None, a folder path or a joblib.Memory, got {type(memory).__name__}"
        )
    return Path(location)


class EmbeddingCache:
    """Full-size embeddings keyed by ``(fingerprint, text)``: in memory, optionally on disk.

    The in-memory layer is a least-recently-used map bounded by ``max_bytes``. The disk layer
    (``location``) stores one ``.npy`` file per vector under ``location/skmrl-embeddings/
    <fingerprint>/``, written atomically, so that several processes can share it.

    Parameters
    ----------
    max_bytes : int, default=1 GiB
        Bound of the in-memory layer; the least recently used vectors are dropped past it.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.cache import EmbeddingCache
    >>> cache = EmbeddingCache()
    >>> calls = []
    >>> def encode(texts):
    ...     calls.append(list(texts))
    ...     return np.ones((len(texts), 4), dtype=np.float32)
    >>> cache.get_or_compute("model-a", ["x", "y", "x"], encode).shape
    (3, 4)
    >>> cache.get_or_compute("model-a", ["y", "z"], encode).shape
    (2, 4)
    >>> calls
    [['x', 'y'], ['z']]
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._store: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.RLock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Drop every in-memory vector and reset the hit/miss counters."""
        with self._lock:
            self._store.clear()
            self._nbytes = 0
            self.hits = 0
            self.misses = 0

    def _put(self, key: tuple[str, str], row: np.ndarray) -> None:
        old = self._store.pop(key, None)
        if old is not None:
            self._nbytes -= old.nbytes
        self._store[key] = row
        self._nbytes += row.nbytes
        while self._nbytes > self.max_bytes and self._store:
            _, dropped = self._store.popitem(last=False)
            self._nbytes -= dropped.nbytes

    def get_or_compute(
        self,
        fingerprint: str,
        texts: Sequence[str],
        compute: Callable[[list[str]], np.ndarray],
        *,
        memory: Any = None,
    ) -> np.ndarray:
        """Return the full-size vectors of ``texts``, computing only the missing ones.

        Parameters
        ----------
        fingerprint : str
            Identity of everything that determines a vector except ``dim``.
        texts : sequence of str
            The documents, in the caller's order (duplicates allowed).
        compute : callable
            ``compute(unique_missing_texts) -> ndarray (n, d)``, called at most once.
        memory : str, path or joblib.Memory, optional
            Adds the disk layer under that folder.

        Returns
        -------
        ndarray of shape (len(texts), d), float32
        """
        location = check_memory(memory)
        disk_dir = None if location is None else location / "skmrl-embeddings" / fingerprint
        keys = [text_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        missing: dict[str, str] = {}
        with self._lock:
            for t, k in zip(texts, keys, strict=True):
                if k in found or k in missing:
                    continue
                row = self._store.get((fingerprint, k))
                if row is not None:
                    self._store.move_to_end((fingerprint, k))
                    found[k] = row
                else:
                    missing[k] = t
        if disk_dir is not None and missing:
            for k in list(missing):
                path = disk_dir / f"{k}.npy"
                if path.exists():
                    try:
                        row = np.load(path)
                    except (OSError, ValueError):  # a torn or foreign file: recompute it
                        continue
                    found[k] = row
                    del missing[k]
                    with self._lock:
                        self._put((fingerprint, k), row)
        with self._lock:
            self.hits += len(found)
            self.misses += len(missing)
        if missing:
            new = np.asarray(compute(list(missing.values())), dtype=np.float32)
            if new.ndim != 2 or new.shape[0] != len(missing):
                raise RuntimeError(f"encoder returned shape {new.shape} for {len(missing)} texts")
            if disk_dir is not None:
                disk_dir.mkdir(parents=True, exist_ok=True)
            with self._lock:
                for k, row in zip(missing, new, strict=True):
                    row = row.copy()
                    found[k] = row
                    self._put((fingerprint, k), row)
            if disk_dir is not None:
                for k in missing:
                    _atomic_save(disk_dir / f"{k}.npy", found[k])
        if not keys:
            width = next(iter(found.values())).shape[0] if found else 0
            return np.zeros((0, width), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def _atomic_save(path: Path, row: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, row)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


_EMBEDDING_CACHE = EmbeddingCache()
_FIT_STATES: OrderedDict[str, dict[str, Any]] = OrderedDict()
_FIT_LOCK = threading.Lock()


def get_embedding_cache() -> EmbeddingCache:
    """The process-wide embedding cache that every embedder shares."""
    return _EMBEDDING_CACHE


def clear_caches() -> None:
    """Empty the in-process caches (embeddings and fitted states); disk caches are kept.

    Examples
    --------
    >>> from skmrl.cache import clear_caches
    >>> clear_caches()
    """
    _EMBEDDING_CACHE.clear()
    with _FIT_LOCK:
        _FIT_STATES.clear()


def cached_fit_state(
    key: str,
    compute: Callable[[], dict[str, Any]],
    *,
    memory: Any = None,
    max_entries: int = DEFAULT_MAX_FIT_STATES,
) -> dict[str, Any]:
    """Return the fitted state stored under ``key``, computing and storing it when absent.

    ``compute()`` returns a dict of fitted attributes. The in-process layer keeps the last
    ``max_entries`` states; with ``memory=`` a pickled copy is also kept on disk (through
    :class:`joblib.Memory`), shared by worker processes.
    """
    with _FIT_LOCK:
        state = _FIT_STATES.get(key)
        if state is not None:
            _FIT_STATES.move_to_end(key)
            return state
    location = check_memory(memory)
    if location is None:
        state = compute()
    else:
        import joblib

        store = joblib.Memory(location / "skmrl-fits", verbose=0)
        state = store.cache(_compute_state, ignore=["compute"])(key, compute)
    with _FIT_LOCK:
        _FIT_STATES[key] = state
        while len(_FIT_STATES) > max_entries:
            _FIT_STATES.popitem(last=False)
    return state


def _compute_state(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # ``key`` alone names the cache entry: joblib ignores ``compute`` when hashing.
    return compute()
