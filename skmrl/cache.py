"""Caches of full-size results, keyed by a fingerprint of all that determines them but ``dim``.

Two kinds of result are cached (DESIGN.md, contract 6):

* **embeddings** (:class:`EmbeddingCache`): full-size vectors keyed by ``(fingerprint, text)``,
  where the fingerprint identifies the fitted model (weights, pooling, length...). A grid over
  ``dim`` or over folds then encodes each unique text once.
* **fitted states** (:func:`cached_fit_state`): what ``fit`` learns from data (a TF-IDF + SVD, a
  word-vector table), keyed by the estimator's parameters except ``dim`` and by a hash of the
  training data, so that the grid points of one fold share one fit.

Both live in process memory with a size bound, and optionally on disk under ``memory=`` (a path or
a :class:`joblib.Memory`) so that ``n_jobs>1`` worker processes share them:

* vectors in one SQLite database, ``<memory>/skmrl-embeddings/vectors.sqlite3`` (WAL mode: readers
  never wait for the writer; writers take short turns; ``skmrl/_vector_store.py``), as float32
  blobs keyed by ``(fingerprint, SHA-1 of the text)``. It is bounded by ``max_bytes`` (default
  :data:`DEFAULT_DISK_MAX_BYTES`, or ``$SKMRL_DISK_CACHE_MAX_BYTES``): past it, the least recently
  used vectors are evicted, room being made before each write. "Used" is approximate: a read
  refreshes a vector's time only when it is older than an hour, so that reading (what a grid
  mostly does) seldom writes. The bound is the database file's; SQLite's write-ahead log
  beside it (``vectors.sqlite3-wal``) adds up to a few tens of MB more, whatever the bound.
  SQLite's WAL needs the processes on one machine: a folder on a network file system (NFS, SMB)
  is not supported.
* fitted states through :class:`joblib.Memory` under ``<memory>/skmrl-fits`` (one folder per
  fitted state: small, but a ``fine_tune="full"`` one holds the model's weights), bounded alike
  (``$SKMRL_DISK_CACHE_MAX_BYTES``, a bound of its own): after writing a state, joblib's
  ``reduce_size`` removes the least recently used ones (by the files' access times, which each
  read from disk sets) past it.

:func:`check_memory` (called first in every ``fit``) creates the folder and checks it is writable,
so that a bad ``memory=`` fails at once with a ``ValueError`` that names it.

:func:`disk_cache_info` describes such a folder and :func:`clear_disk_cache` empties it.

This module holds the text keys, the embedding cache, what is on disk and the public entry points;
the ``memory=`` folder settings (:func:`check_memory`, :func:`default_cache_dir`, the reading of
``$SKMRL_DISK_CACHE_MAX_BYTES``) are defined in ``skmrl/_cache_dirs.py``, and the fitted-state
cache's layers and locks in ``skmrl/_fit_cache.py``; both are re-exported or called from here.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import sqlite3
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skmrl._cache_dirs import (
    _FITS_DIR,
    UnwritableCacheFolder,
    _cache_folder_problem,
    _env_disk_bound,
    check_memory,
    default_cache_dir,
    warn_unwritable,
)
from skmrl._fit_cache import _clear_fit_states, _fit_state, _fitting, _keep_state, _memory_state
from skmrl._model_identity import forget_fine_tuned
from skmrl._threads import ForkSafeLock
from skmrl._validation import check_float
from skmrl._vector_store import (
    STORE_DIR,
    StoreError,
    VectorStore,
    forget_store,
    is_read_only_error,
    open_store,
    read_only_counts,
    store_path,
    warn_unusable,
)

__all__ = [
    "DEFAULT_DISK_MAX_BYTES",
    "EmbeddingCache",
    "cached_fit_state",
    "check_memory",
    "clear_caches",
    "clear_disk_cache",
    "default_cache_dir",
    "disk_cache_info",
    "get_embedding_cache",
    "hash_texts",
    "text_key",
]

#: Default bound of the in-process embedding cache, in bytes.
DEFAULT_MAX_BYTES = 1 << 30
#: How many fitted states the in-process fit cache keeps at most.
DEFAULT_MAX_FIT_STATES = 256
#: Bound of the memory the in-process fitted states hold, in bytes (read at each fit, so setting
#: ``skmrl.cache.DEFAULT_MAX_FIT_BYTES`` changes it); the newest state is kept whatever its size.
DEFAULT_MAX_FIT_BYTES = 1 << 30
#: Default bound of the disk vector store, in bytes (4 GiB: about 2.5 million 384-d vectors,
#: 1,700 bytes each with their key and index; eviction trims to 90% of it),
#: and, separately, of the disk fitted states; the environment variable
#: ``SKMRL_DISK_CACHE_MAX_BYTES`` overrides both (e.g. ``500M``, ``8G``).
DEFAULT_DISK_MAX_BYTES = 4 << 30


def _disk_max_bytes() -> int:
    """The disk layers' bound: ``$SKMRL_DISK_CACHE_MAX_BYTES``, else :data:`DEFAULT_DISK_MAX_BYTES`
    (each read at each call: setting either changes the bound)."""
    return _env_disk_bound() or DEFAULT_DISK_MAX_BYTES


def text_key(text: str) -> str:
    """Stable key of one document (a SHA-1 hex digest of its UTF-8 bytes).

    Parameters
    ----------
    text : str
        The document.

    Returns
    -------
    str
        40 hex characters; the same text gives the same key in every process.

    Examples
    --------
    >>> from skmrl.cache import text_key
    >>> text_key("a cat")
    '008bd0f0660ee7b58c0c36db87a4f5deca3a639a'
    """
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _text_digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()


def hash_texts(texts: Sequence[str], extra: Any = None) -> str:
    """Hash an ordered corpus (and optionally labels or other data) into a hex digest.

    Parameters
    ----------
    texts : sequence of str
        The documents, in order (the order and the boundaries between documents count).
    extra : array-like, optional
        Labels or other data hashed with them (their dtype and shape count too).

    Returns
    -------
    str
        A SHA-1 hex digest (40 characters).

    Examples
    --------
    >>> from skmrl.cache import hash_texts
    >>> hash_texts(["a", "bc"]) == hash_texts(["ab", "c"])
    False
    >>> hash_texts(["a", "b"], [0, 1]) == hash_texts(["a", "b"], [1, 0])
    False
    """
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


#: The memory an in-memory entry takes beside its vector's bytes: its key (a tuple and the
#: text's SHA-1), the array's header and the map's slot. On CPython 3.11 (tracemalloc) a cache
#: filled once takes 290-334 bytes an entry, but one that evicts as it goes, the state that the
#: bound is for, 341-404 (mean 366: bounds of 5, 20 and 50 MiB, 4-, 16- and 384-d vectors; the
#: map keeps the slots of evicted entries until it resizes). At 300, a 20 MiB cache of 4-d
#: vectors held 24.0 MiB. The bound counts it: without it, 1 GiB of 384-dim vectors took
#: 1.2 GiB, and of 16-dim ones (64 bytes each) about 4-5.6 GiB.
_ENTRY_BYTES = 370


class EmbeddingCache:
    """Full-size embeddings keyed by ``(fingerprint, text)``: in memory, optionally on disk.

    The in-memory layer is a least-recently-used map bounded by ``max_bytes``. The disk layer
    (``memory=`` of :meth:`get_or_compute`) is one SQLite database per folder,
    ``<memory>/skmrl-embeddings/vectors.sqlite3``, which several processes (``n_jobs>1``) read
    and write at once; see the module's documentation. A store that cannot be used (a corrupt
    or foreign file) gives a warning and the vectors are computed without it.

    Parameters
    ----------
    max_bytes : int, default=1 GiB
        Bound of the in-memory layer; the least recently used vectors are dropped past it.
        Each vector counts its bytes and about 370 more, its key's and the map's.
    disk_max_bytes : int, optional
        Bound of the disk layer, >= 1; default ``$SKMRL_DISK_CACHE_MAX_BYTES`` if set, else
        :data:`DEFAULT_DISK_MAX_BYTES` (4 GiB). Past it, the least recently used vectors are
        evicted (down to 90% of it).

    Attributes
    ----------
    max_bytes : int
        Bound of the in-memory layer, in bytes (settable).
    disk_max_bytes : int or None
        Bound of the disk layer, as given (settable).
    hits : int
        Unique texts found (in memory or on disk) by :meth:`get_or_compute` since the last
        :meth:`clear`.
    misses : int
        Unique texts computed by :meth:`get_or_compute` since the last :meth:`clear`.

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
    >>> cache.hits, cache.misses
    (1, 3)
    """

    def __init__(
        self, max_bytes: int = DEFAULT_MAX_BYTES, disk_max_bytes: int | None = None
    ) -> None:
        self._store: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = ForkSafeLock(reentrant=True)
        self.max_bytes = max_bytes
        self.disk_max_bytes = disk_max_bytes
        self.hits = 0
        self.misses = 0

    @property
    def max_bytes(self) -> int:
        """Bound of the in-memory layer, in bytes; setting it drops the least recently used
        vectors past the new bound at once."""
        return self._max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        # A lowered bound frees memory now, not at the next miss; a bad value fails here, not
        # as a TypeError deep in a later transform.
        bound = check_float("max_bytes", value, 0)
        with self._lock:
            self._max_bytes = int(bound)
            self._trim()

    @property
    def disk_max_bytes(self) -> int | None:
        """Bound of the disk layer, in bytes, or None for the default (settable)."""
        return self._disk_max_bytes

    @disk_max_bytes.setter
    def disk_max_bytes(self, value: int | None) -> None:
        # Checked here, as max_bytes: "1G" or nan failed inside the store's put, after the
        # encoding, and -1 evicted every vector of the shared store (0 meant the default).
        bound = check_float("disk_max_bytes", value, 1, allow_none=True)  # 0.5 became 0
        self._disk_max_bytes = None if bound is None else int(bound)

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Drop every in-memory vector and reset the hit/miss counters."""
        with self._lock:
            self._store.clear()
            self._nbytes = 0
            self.hits = 0
            self.misses = 0

    def _put(self, key: tuple[str, bytes], row: np.ndarray) -> None:
        old = self._store.pop(key, None)
        if old is not None:
            self._nbytes -= old.nbytes + _ENTRY_BYTES
        self._store[key] = row
        self._nbytes += row.nbytes + _ENTRY_BYTES
        self._trim()

    def _trim(self) -> None:
        while self._nbytes > self._max_bytes and self._store:
            _, dropped = self._store.popitem(last=False)
            self._nbytes -= dropped.nbytes + _ENTRY_BYTES

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
            ``compute(unique_missing_texts) -> ndarray (n, d)``, called at most once. When
            every text is new and distinct, the array it returns (float32, owning its data) is
            the result itself, not a copy: it must not keep or change that array afterwards.
        memory : str, path or joblib.Memory, optional
            Adds the disk layer under that folder.

        Returns
        -------
        ndarray of shape (len(texts), d), float32
        """
        try:
            location = check_memory(memory)
        except UnwritableCacheFolder as exc:
            # fit refused the folder; here (transform), the vectors do without it
            warn_unwritable(exc)
            location = None
        keys = [_text_digest(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        missing: dict[bytes, str] = {}
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
        if location is not None and missing:
            try:
                from_disk = open_store(location).get(fingerprint, list(missing))
            except (sqlite3.Error, StoreError, OSError) as exc:
                warn_unusable(location, exc)
                from_disk = {}
            if from_disk:
                with self._lock:
                    for k, row in from_disk.items():
                        found[k] = row
                        del missing[k]
                        self._put((fingerprint, k), row)
        with self._lock:
            self.hits += len(found)
        new = None
        if missing:
            new = np.asarray(compute(list(missing.values())), dtype=np.float32)
            if new.ndim != 2 or new.shape[0] != len(missing):
                raise RuntimeError(f"encoder returned shape {new.shape} for {len(missing)} texts")
            with self._lock:
                # counted once computed: a compute that failed (Ctrl-C) and its rerun counted
                # every text twice
                self.misses += len(missing)
                for k, row in zip(missing, new, strict=True):
                    self._put((fingerprint, k), row.copy())  # the store's own, within its bound
            if location is not None:
                max_bytes = self.disk_max_bytes or _disk_max_bytes()
                try:
                    open_store(location).put(fingerprint, list(missing), new, max_bytes)
                except (sqlite3.Error, StoreError, OSError) as exc:
                    warn_unusable(location, exc)
        if not keys:
            width = next(iter(found.values())).shape[0] if found else 0
            return np.zeros((0, width), dtype=np.float32)
        if new is not None and len(new) == len(keys):
            # Every text computed now, each once: ``new`` holds them in order. The rows were read
            # from it and from copies of it (all of them, where the store keeps a bounded part):
            # a million 384-dim vectors peaked at 3 times their 1.5 GB. A view (one layer of an
            # every-layer encoding) is copied: it would keep the whole of its base alive.
            return new if new.flags.owndata else new.copy()
        if new is not None:
            found.update(zip(missing, new, strict=True))  # views of ``new``, no copies
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


# -- what is on disk -----------------------------------------------------------------------------
def _files_under(folder: Path) -> Iterator[Path]:
    for root, _, files in os.walk(folder):
        for name in files:
            yield Path(root) / name


def _size(paths: Iterator[Path]) -> tuple[int, int]:
    n = total = 0
    for p in paths:
        try:
            total += p.lstat().st_size
        except OSError:  # removed meanwhile
            continue
        n += 1
    return n, total


def disk_cache_info(location: str | os.PathLike) -> dict:
    """Describe the disk caches under a ``memory=`` folder (read only: nothing is created).

    Parameters
    ----------
    location : str or path
        The folder given as ``memory=``.

    Returns
    -------
    dict
        ``location`` (str), ``exists`` (bool), ``store`` (str: the vector database),
        ``n_vectors`` and ``n_fingerprints`` (int: stored vectors, and the distinct encoder
        settings they come from: a model at one depth, pooling, length and precision is one,
        so a depth grid over 6 layers counts 6), ``bytes`` (int: size on disk of skmrl's
        files there, vectors and fitted states), ``vector_bytes`` and ``fit_bytes`` (its two
        parts), ``max_bytes`` (int: the bound of the vector store), ``n_files`` (int: every
        file under ``location``), ``n_fit_states`` (int), ``error`` (str or None: why the
        vector store cannot be used or read) and ``fit_error`` (str or None: why the fitted
        states cannot be stored, such as a file in the place of their folder).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skmrl.cache import EmbeddingCache, clear_disk_cache, disk_cache_info
    >>> tmp = tempfile.TemporaryDirectory()
    >>> disk_cache_info(tmp.name)["n_vectors"]
    0
    >>> _ = EmbeddingCache().get_or_compute(
    ...     "model-a", ["x", "y"], lambda t: np.ones((len(t), 4)), memory=tmp.name
    ... )
    >>> info = disk_cache_info(tmp.name)
    >>> info["n_vectors"], info["n_fingerprints"], info["bytes"] > 0
    (2, 1, True)
    >>> _ = clear_disk_cache(tmp.name); tmp.cleanup()
    """
    return _disk_cache_info(location, bound=True)


def _disk_cache_info(location: str | os.PathLike, *, bound: bool) -> dict:
    """:func:`disk_cache_info`; without ``bound``, ``max_bytes`` is None and
    ``$SKMRL_DISK_CACHE_MAX_BYTES`` is not read (a bad one blocked clearing, which it does not
    bear on)."""
    loc = Path(location).expanduser()
    info: dict[str, Any] = {
        "location": str(loc),
        "exists": loc.is_dir(),
        "store": str(store_path(loc)),
        "n_vectors": 0,
        "n_fingerprints": 0,
        "bytes": 0,
        "vector_bytes": 0,
        "fit_bytes": 0,
        "max_bytes": _disk_max_bytes() if bound else None,
        "n_files": 0,
        "n_fit_states": 0,
        "error": None,
        "fit_error": None,
    }
    if not info["exists"]:
        return info
    info["n_files"] = sum(1 for _ in _files_under(loc))
    _, info["vector_bytes"] = _size(_files_under(loc / STORE_DIR))
    _, info["fit_bytes"] = _size(_files_under(loc / _FITS_DIR))
    info["bytes"] = info["vector_bytes"] + info["fit_bytes"]
    info["n_fit_states"] = sum(1 for p in _files_under(loc / _FITS_DIR) if p.name == "output.pkl")
    # what the caches' own check finds (with its words), nothing created: a file at
    # skmrl-embeddings, a folder at vectors.sqlite3 showed as an empty store, no error
    info["fit_error"] = _cache_folder_problem(loc / _FITS_DIR, create=False)
    info["error"] = _cache_folder_problem(loc / STORE_DIR, create=False)
    if info["error"] is None and store_path(loc).is_dir():
        info["error"] = f"{str(store_path(loc))!r} is a folder, not a file"
    if info["error"] is None and store_path(loc).is_file() and store_path(loc).stat().st_size:
        # (an empty file, from a first creation cut short, holds nothing: opening it wrote the
        # schema into it, where this description creates nothing)
        try:
            store = VectorStore(store_path(loc), create=False)
            try:
                info["n_vectors"], info["n_fingerprints"] = store.counts()
            finally:
                store.close()
        except (sqlite3.Error, StoreError, OSError) as exc:
            info["error"] = str(exc) or type(exc).__name__
            # another user's cache, a read-only mount: count it
            if is_read_only_error(exc, store_path(loc)):
                try:
                    info["n_vectors"], info["n_fingerprints"] = read_only_counts(store_path(loc))
                    info["error"] = None
                except sqlite3.Error:
                    pass
    return info


def clear_disk_cache(location: str | os.PathLike) -> int:
    """Remove skmrl's disk caches (vectors and fitted states) under a ``memory=`` folder.

    Only skmrl's own entries, ``skmrl-embeddings/`` and ``skmrl-fits/``, are removed; anything
    else in the folder is kept. A corrupt or foreign file at the vector store's place is removed
    too (it is in skmrl's folder). Either entry may be a link to a folder (the store on another
    disk): the link is kept and skmrl's files there are removed, the folder's others kept.
    Processes using the store at that moment start a new one.

    Parameters
    ----------
    location : str or path
        The folder given as ``memory=``.

    Returns
    -------
    int
        The number of vectors removed.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skmrl.cache import EmbeddingCache, clear_disk_cache, disk_cache_info
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = EmbeddingCache().get_or_compute(
    ...     "model-a", ["x", "y"], lambda t: np.ones((len(t), 4)), memory=tmp.name
    ... )
    >>> clear_disk_cache(tmp.name)
    2
    >>> disk_cache_info(tmp.name)["n_vectors"]
    0
    >>> tmp.cleanup()
    """
    loc = Path(location).expanduser()
    if not loc.is_dir():
        return 0
    info = _disk_cache_info(loc, bound=False)
    n_old = 0  # vectors of the old layout: skmrl-embeddings/<fingerprint>/<SHA-1>.npy
    forget_store(loc)
    for name in (STORE_DIR, _FITS_DIR):
        target = loc / name
        if target.is_symlink() and target.is_dir():
            # The store moved to another disk: only the link went, and the vectors stayed
            # there while the count said they were removed. skmrl's own entries there go, and
            # the link and the user's other files stay (emptying the folder removed them too).
            for child in target.iterdir():
                old = _old_layout_vectors(child) if name == STORE_DIR else 0
                if old:
                    n_old += old
                    _remove_tree(child)
                elif child.name in _SKMRL_ENTRIES[name]:
                    if child.is_dir() and not child.is_symlink():
                        _remove_tree(child)
                    else:
                        child.unlink(missing_ok=True)
        elif target.is_symlink() or target.is_file():
            target.unlink(missing_ok=True)
        elif target.is_dir():
            if name == STORE_DIR:
                n_old = sum(1 for p in _files_under(target) if p.suffix == ".npy")
            _remove_tree(target)
    return int(info["n_vectors"]) + n_old


def _remove_tree(folder: Path) -> None:
    """``shutil.rmtree(folder)``, where a file already gone is no error: a process using the
    store removes its ``-wal`` and ``-shm`` files when it closes it, which it may do while the
    folder is being removed (about one clear in 250, with two processes encoding beside it:
    "No such file or directory: 'vectors.sqlite3-wal'"), or open it anew and add them (the
    folder is then "not empty": tried again)."""

    def gone_ok(function: Any, path: str, error: Any) -> None:
        error = error if isinstance(error, BaseException) else error[1]
        if not isinstance(error, FileNotFoundError):
            raise error

    for attempt in range(3):  # a process that opens the store anew meanwhile adds files to it
        try:
            if sys.version_info >= (3, 12):
                shutil.rmtree(folder, onexc=gone_ok)
            else:  # Python 3.10 and 3.11
                shutil.rmtree(folder, onerror=gone_ok)
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY or attempt == 2:
                raise


#: skmrl's own entries in its two cache folders: what clearing removes from a folder that one
#: of them links to (the user's other files there are kept).
_SKMRL_ENTRIES = {
    STORE_DIR: {  # the vector database and its journals
        store_path(Path()).name + suffix for suffix in ("", "-wal", "-shm", "-journal")
    },
    _FITS_DIR: {"skmrl", "joblib", ".gitignore"},  # the fitted states' joblib tree
}
_OLD_LAYOUT_FILE = re.compile(r"[0-9a-f]{40}\.npy")
_OLD_LAYOUT_PARTIAL = re.compile(r"tmp\w+\.tmp")  # tempfile.mkstemp's, of a write cut short


def _old_layout_vectors(child: Path) -> int:
    """How many vectors ``child`` holds as a fingerprint's folder of the old layout (a file
    ``<SHA-1 of the text>.npy`` each, and an interrupted write's ``tmp*.tmp``, nothing else);
    0 for anything else."""
    if not child.is_dir() or child.is_symlink():
        return 0
    files = list(_files_under(child))
    if not all(p.parent == child for p in files):
        return 0
    vectors = [p for p in files if _OLD_LAYOUT_FILE.fullmatch(p.name)]
    if all(_OLD_LAYOUT_PARTIAL.fullmatch(p.name) for p in files if p not in vectors):
        return len(vectors)
    return 0


_EMBEDDING_CACHE = EmbeddingCache()


def get_embedding_cache() -> EmbeddingCache:
    """The process-wide embedding cache that every embedder shares.

    Returns
    -------
    EmbeddingCache
        Always the same object; its ``max_bytes`` bounds the memory that cached vectors take.

    Examples
    --------
    >>> from skmrl.cache import get_embedding_cache
    >>> get_embedding_cache() is get_embedding_cache()
    True
    """
    return _EMBEDDING_CACHE


def clear_caches() -> None:
    """Empty the in-process caches (embeddings, fitted states, and the fine-tuned encoders
    built from them); disk caches are kept.

    The fine-tuned encoders (``fine_tune="full"``: up to 8, each the model's size, 91 MB for
    all-MiniLM-L6-v2) are built again from an estimator's weights at its next encoding. The
    pretrained models loaded from their folders stay loaded
    (:func:`skmrl.models.clear_model_cache` forgets them).

    Examples
    --------
    >>> from skmrl.cache import clear_caches
    >>> clear_caches()
    """
    _EMBEDDING_CACHE.clear()
    _clear_fit_states()
    forget_fine_tuned()


def cached_fit_state(
    key: str,
    compute: Callable[[], dict[str, Any]],
    *,
    memory: Any = None,
    max_entries: int = DEFAULT_MAX_FIT_STATES,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Return the fitted state stored under ``key``, computing and storing it when absent.

    ``compute()`` returns a dict of fitted attributes. The in-process layer keeps the most
    recently used states, at most ``max_entries`` of them and ``max_bytes`` of memory (arrays
    and tensors that states share counted once); with ``memory=`` a pickled copy is also kept
    on disk (through :class:`joblib.Memory`), shared by worker processes. A copy on disk that
    cannot be read (a damaged or truncated file) gives a ``RuntimeWarning`` and is computed and
    stored again; one that cannot be written (a full disk) gives a ``RuntimeWarning``, and what
    was written of it is removed. A thread asking for a ``key`` that another thread is
    computing waits for that state (if that computation fails, the waiting thread computes it).

    Parameters
    ----------
    key : str
        Identity of the fitted state: everything that determines it (the estimator's
        parameters but ``dim``, a hash of the training data such as :func:`hash_texts`'s).
    compute : callable
        ``compute() -> dict`` of fitted attributes, called only when ``key`` is in neither layer.
    memory : str, path or joblib.Memory, optional
        Adds the disk layer under that folder (see :func:`check_memory`).
    max_entries : int, default=256
        How many states the in-process layer keeps at most (the least recently used go first).
    max_bytes : int, optional
        The memory the in-process layer's states may hold (default
        :data:`DEFAULT_MAX_FIT_BYTES`, 1 GiB, read at each call); the least recently used go
        first, and the newest state is kept whatever its size. A grid's fits per fold are all
        kept while they fit: with a bound of a count alone (16, before), a GridSearchCV over
        ``dim`` and more settings times folds than that dropped each state before the next
        ``dim`` came back to it, and fitted everything again for each ``dim``.

    Returns
    -------
    dict of str to object
        The state; the same object for every call with ``key`` while it is in memory.

    Examples
    --------
    >>> from skmrl.cache import cached_fit_state, hash_texts
    >>> calls = []
    >>> def fit():
    ...     calls.append(1)
    ...     return {"vocabulary_": ["a", "b"]}
    >>> key = "my-embedder:" + hash_texts(["a b", "b"])
    >>> cached_fit_state(key, fit) is cached_fit_state(key, fit)
    True
    >>> len(calls)
    1
    """
    state = _memory_state(key)
    if state is not None:
        return state
    with _fitting(key):  # threads asking for the same key meanwhile get this state
        state = _fit_state(key, compute, memory, _disk_max_bytes)
    _keep_state(key, state, max_entries, DEFAULT_MAX_FIT_BYTES if max_bytes is None else max_bytes)
    return state
