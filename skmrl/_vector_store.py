"""The disk vector store: one SQLite database of float32 vectors per ``memory=`` folder.

``<memory>/skmrl-embeddings/vectors.sqlite3`` holds vectors keyed by ``(fingerprint, SHA-1 of
the text)``, in WAL mode (readers never wait for the writer; writers take short turns), bounded
by a size past which the least recently used vectors are evicted.
:class:`skmrl.cache.EmbeddingCache` reads and writes it; :func:`skmrl.cache.disk_cache_info` and
:func:`skmrl.cache.clear_disk_cache` describe and remove it. Each process and thread has its own
connection (:func:`open_store`): SQLite connections are never shared, and a forked child opens
its own.
"""

from __future__ import annotations

import atexit
import math
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from skmrl._cache_dirs import _cache_folder_problem, _warn_unusable

#: A read refreshes a stored vector's last-use time only when it is older than this (seconds).
DISK_TOUCH_INTERVAL_S = 3600

STORE_DIR = "skmrl-embeddings"  # also held the one-.npy-per-vector layout of skmrl <= 0.x
_STORE_FILE = "vectors.sqlite3"
_APPLICATION_ID = 0x736B6D72  # "skmr": marks the database as skmrl's
_SCHEMA_VERSION = 1
_PAGE_SIZE = 16384  # 10 rows of 384 float32 a page (4 KiB pages would waste a quarter)
_BUSY_TIMEOUT_S = 120.0  # how long a writer waits for its turn before giving up
_READ_CHUNK = 500  # keys per SELECT ... IN (...)
_WIDTH_SAMPLE = 1001  # rows whose most common length is a fingerprint's vector width
_WRITE_CHUNK_BYTES = 8 << 20  # vector bytes per write transaction (short turns for others)
_EVICT_TO = 0.9  # eviction frees down to this fraction of max_bytes, so it runs seldom
_ROW_OVERHEAD = 1.25  # bytes on disk per byte of vector (key, time, index; measured 1.12)
#: The file is given back its free pages (see :meth:`VectorStore.reclaim`) once it is more than
#: this many times the bound and they are more than the bound and this many bytes.
_RECLAIM_FACTOR = 2
_RECLAIM_MIN_BYTES = 1 << 20
_RECLAIM_BUSY_MS = 200  # a reclaim that would wait longer for others' locks gives up


class StoreError(Exception):
    """The file at the store's path is not (or no longer) a usable skmrl vector store."""


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS fingerprints (id INTEGER PRIMARY KEY, fp TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS vectors (
    fid INTEGER NOT NULL,
    key BLOB NOT NULL,
    atime INTEGER NOT NULL,
    vec BLOB NOT NULL,
    UNIQUE (fid, key)
);
CREATE INDEX IF NOT EXISTS vectors_atime ON vectors (atime);
PRAGMA application_id = {_APPLICATION_ID};
PRAGMA user_version = {_SCHEMA_VERSION};
"""


def _retry_when_locked(step: Callable[[], Any]) -> Any:
    """Run ``step``, retrying for up to the busy timeout while SQLite says locked or busy."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            message = str(exc).lower()
            if ("locked" not in message and "busy" not in message) or (time.monotonic() > deadline):
                raise
        time.sleep(delay)
        delay = min(2 * delay, 0.2)


class VectorStore:
    """One SQLite connection to ``<location>/skmrl-embeddings/vectors.sqlite3``.

    Connections are never shared: :func:`open_store` keeps one per process, thread and file.
    Writes are short ``BEGIN IMMEDIATE`` transactions of batched ``INSERT OR IGNORE``; two
    processes that compute the same vector both insert it and the second insert is a no-op.
    """

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        problem = _cache_folder_problem(path.parent, create=create)
        if problem:  # a file at skmrl-embeddings: said so, not "[Errno 17] File exists"
            raise StoreError(problem)
        if path.is_dir():  # not SQLite's "unable to open database file"
            raise StoreError(f"{str(path)!r} is a folder, not a file")
        uri = path.resolve().as_uri() + ("?mode=rwc" if create else "?mode=rw")
        self.conn = sqlite3.connect(
            uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True
        )
        self._pid = os.getpid()
        try:
            self._setup()
            st = os.stat(path)
        except BaseException:
            self.conn.close()
            raise
        self._identity = (st.st_dev, st.st_ino)
        self._fids: dict[str, int] = {}
        self._widths: dict[int, int] = {}  # fid -> bytes of its vectors (see _width)

    def _header(self) -> tuple[int, int, int]:
        """``(application_id, user_version, number of tables)``, read in one snapshot."""
        self.conn.execute("BEGIN")  # one read transaction: never half of another's schema commit
        try:
            return self._header_in_transaction()
        finally:
            self.conn.execute("COMMIT")

    def _check_header(self, header: tuple[int, int, int]) -> bool:
        """True for skmrl's store, False for an empty file; raise for anything else."""
        app_id, version, n_tables = header
        if (app_id, version) == (_APPLICATION_ID, _SCHEMA_VERSION):
            return True
        if (app_id, version, n_tables) == (0, 0, 0):
            return False
        if (app_id, version) == (0, 0):
            raise StoreError("a foreign SQLite database (it has tables, but not skmrl's)")
        raise StoreError(
            f"not an skmrl vector store of this version (application_id={app_id}, "
            f"user_version={version})"
        )

    def _setup(self) -> None:
        conn = self.conn
        try:
            ready = self._check_header(_retry_when_locked(self._header))
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:  # "file is not a database"
            raise StoreError(str(exc)) from exc
        if not ready:
            conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")  # only before the first table
        # A foreign file was refused above, before anything could change it. Switching a new
        # file to WAL while others do can fail at once with "locked", busy timeout or not.
        mode = _retry_when_locked(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if mode.lower() != "wal":
            raise StoreError(f"cannot switch the database to WAL mode (it stays in {mode!r})")
        conn.execute("PRAGMA synchronous = NORMAL")  # a cache: a crash may lose the last writes
        conn.execute("PRAGMA journal_size_limit = 67108864")  # truncate the WAL back to 64 MiB
        conn.execute("PRAGMA cache_size = -32768")  # 32 MiB of page cache
        if not ready:
            with self._write():  # another process may have created it meanwhile: look again
                if not self._check_header(self._header_in_transaction()):
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)

    def _header_in_transaction(self) -> tuple[int, int, int]:
        conn = self.conn
        return (
            conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0],
        )

    def is_current(self) -> bool:
        """False once the file was removed or replaced (e.g. by :func:`clear_disk_cache`)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def close(self) -> None:
        self.conn.close()

    def __del__(self) -> None:
        # A thread's stores go when the thread ends (its threading.local values are freed in
        # that thread): close the connection there and then. Left to the garbage collector (a
        # connection is in a reference cycle), it is freed later in whichever thread collects,
        # and Python >= 3.13 warns "ResourceWarning: unclosed database". Never in a forked
        # child: the parent's connection is neither used nor closed there (_ABANDONED).
        if getattr(self, "_pid", None) == os.getpid():
            with suppress(sqlite3.Error):  # another thread's (a ProgrammingError): left as is
                self.conn.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlocked upgrade
        try:
            yield
        except BaseException:
            # SQLite may have rolled back already (it does on a full disk, SQLITE_FULL): a
            # ROLLBACK then fails with "no transaction is active", hiding the error that matters
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _fid(self, fingerprint: str, *, create: bool) -> int | None:
        fid = self._fids.get(fingerprint)
        if fid is None:
            sql = "SELECT id FROM fingerprints WHERE fp = ?"
            row = self.conn.execute(sql, (fingerprint,)).fetchone()
            if row is None:
                if not create:
                    return None
                with self._write():
                    self.conn.execute(
                        "INSERT OR IGNORE INTO fingerprints (fp) VALUES (?)", (fingerprint,)
                    )
                row = self.conn.execute(sql, (fingerprint,)).fetchone()
            fid = self._fids[fingerprint] = int(row[0])
        return fid

    def get(self, fingerprint: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vectors among ``keys`` (unique digests); rows of a bad size are skipped,
        and so are the rows of a damaged file that answer for a key not asked for or for a
        key another row answers too (which of them holds its vector is unknown)."""
        fid = self._fid(fingerprint, create=False)
        if fid is None or not keys:
            return {}
        found: dict[bytes, np.ndarray] = {}
        doubtful: set[bytes] = set()
        stale: list[int] = []
        now = int(time.time())
        width = self._width(fid)
        for start in range(0, len(keys), _READ_CHUNK):
            chunk = keys[start : start + _READ_CHUNK]
            asked = set(chunk)
            sql = (
                "SELECT rowid, key, atime, vec FROM vectors "
                f"WHERE fid = ? AND key IN ({','.join('?' * len(chunk))})"
            )
            for rowid, key, atime, vec in self.conn.execute(sql, (fid, *chunk)):
                if not isinstance(vec, bytes) or not vec or len(vec) % 4:
                    continue  # not a float32 vector: recompute it
                if key not in asked or key in found:  # a damaged index or row: recompute it
                    doubtful.add(key)
                    continue
                if len(vec) != width:  # the width of the first row read served a bad row
                    continue
                found[key] = np.frombuffer(vec, dtype=np.float32)
                if atime < now - DISK_TOUCH_INTERVAL_S:
                    stale.append(rowid)
        for key in doubtful:
            found.pop(key, None)
        if stale:
            self._touch(stale, now)
        return found

    def _width(self, fid: int) -> int | None:
        """The bytes of fingerprint ``fid``'s vectors: the most common length among its first
        rows, read once. The first row read set the width before, so a damaged row of another
        size asked alone was served (a vector of half the width)."""
        width = self._widths.get(fid)
        if width is None:
            sql = f"SELECT length(vec) FROM vectors WHERE fid = ? LIMIT {_WIDTH_SAMPLE}"
            lengths = Counter(
                n
                for (n,) in self.conn.execute(sql, (fid,))
                if isinstance(n, int) and n > 0 and n % 4 == 0
            )
            if lengths:
                width = self._widths[fid] = lengths.most_common(1)[0][0]
        return width

    def _touch(self, rowids: list[int], now: int) -> None:
        # Refresh last-use times (the approximate LRU); skipped if the writer is busy.
        self.conn.execute("PRAGMA busy_timeout = 200")
        try:
            with self._write():
                self.conn.executemany(
                    "UPDATE vectors SET atime = ? WHERE rowid = ?", ((now, r) for r in rowids)
                )
        except sqlite3.OperationalError:
            pass
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")

    def put(
        self, fingerprint: str, keys: Sequence[bytes], rows: np.ndarray, max_bytes: int
    ) -> None:
        """Store ``rows`` (float32, one per key) unless present, evicting past ``max_bytes``.

        Room is made before each write transaction (at most a quarter of ``max_bytes``), not
        after the last: the file never shrinks, so a put of many vectors into a full store
        grew it past the bound by their size, for good.
        """
        fid = self._fid(fingerprint, create=True)
        now = int(time.time())
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        row_bytes = max(1, rows.shape[1] * 4)
        per_txn = max(1, min(_WRITE_CHUNK_BYTES, max_bytes // 4) // row_bytes)
        sql = "INSERT OR IGNORE INTO vectors (fid, key, atime, vec) VALUES (?, ?, ?, ?)"
        for start in range(0, len(keys), per_txn):
            stop = min(start + per_txn, len(keys))
            self.evict(max(0, max_bytes - int((stop - start) * row_bytes * _ROW_OVERHEAD)))
            with self._write():
                self.conn.executemany(
                    sql, ((fid, keys[i], now, rows[i].tobytes()) for i in range(start, stop))
                )
        self.evict(max_bytes)
        self.reclaim(max_bytes)  # three PRAGMA reads, unless the file is far past the bound

    def reclaim(self, max_bytes: int) -> bool:
        """Give the file's free pages back to the disk once it is far above ``max_bytes``.

        Eviction frees pages, which SQLite reuses but never returns: a bound lowered from 4 GiB
        to 1 MiB left 20,000 384-d vectors' 33.8 MB file as it was, with 483 vectors in it.
        Past :data:`_RECLAIM_FACTOR` times the bound, with free pages over the bound and
        :data:`_RECLAIM_MIN_BYTES` (after a lowered bound: eviction alone keeps the file near
        it), ``VACUUM`` rewrites the live pages (under the bound; as much temporary space) and
        a checkpoint truncates the file. It gives up quietly (False) when another connection
        holds the write lock for longer than :data:`_RECLAIM_BUSY_MS`, or on any other
        ``OperationalError`` (no room for the rewrite): the next eviction tries again. Readers
        keep reading meanwhile (WAL); writers wait for it (a put that evicted a 337 MB file
        down to 90 MB took 1.9 s with it, 1.5 s without).
        ``auto_vacuum = INCREMENTAL`` would spare the rewrite, but its pointer-map pages count
        against a small bound, and this runs only after the bound is lowered.
        """
        conn = self.conn
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        size = conn.execute("PRAGMA page_count").fetchone()[0] * page
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
        if size <= _RECLAIM_FACTOR * max_bytes or free <= max(max_bytes, _RECLAIM_MIN_BYTES):
            return False
        conn.execute(f"PRAGMA busy_timeout = {_RECLAIM_BUSY_MS}")
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # busy: left to later
        except sqlite3.OperationalError:  # busy, locked, or no room to rewrite it
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        return True

    def used_bytes(self) -> int:
        """Bytes of the database's pages in use (free pages are reused before it grows)."""
        page = self.conn.execute("PRAGMA page_size").fetchone()[0]
        count = self.conn.execute("PRAGMA page_count").fetchone()[0]
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        return (count - free) * page

    def evict(self, max_bytes: int) -> int:
        """Past ``max_bytes``, drop the least recently used vectors down to 90% of it."""
        used = self.used_bytes()
        if used <= max_bytes:
            return 0
        target = int(max_bytes * _EVICT_TO)
        removed = 0
        for _ in range(8):  # pages free up only when empty: it may take a few rounds
            n_rows = self.conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
            if used <= target or n_rows == 0:
                break
            n = min(n_rows, max(1, math.ceil((used - target) / (used / n_rows))))
            with self._write():
                removed += self.conn.execute(
                    "DELETE FROM vectors WHERE rowid IN "
                    "(SELECT rowid FROM vectors ORDER BY atime, rowid LIMIT ?)",
                    (n,),
                ).rowcount
            used = self.used_bytes()
        return removed

    def counts(self) -> tuple[int, int]:
        """``(n_vectors, n_fingerprints)``."""
        return _counts(self.conn)


def _counts(conn: sqlite3.Connection) -> tuple[int, int]:
    """``(n_vectors, n_fingerprints)`` of the store ``conn`` is open on."""
    n = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    n_fp = conn.execute("SELECT count(DISTINCT fid) FROM vectors").fetchone()[0]
    return int(n), int(n_fp)


def is_read_only_error(exc: BaseException, path: Path) -> bool:
    """Whether ``exc`` says this process may not write the store at ``path`` (permissions, a
    read-only mount), rather than that the store is broken.

    On a read-only mount (or an immutable file) SQLite says "unable to open database file",
    as it cannot create the ``-shm`` file beside the store: that store was called broken, its
    vectors counted 0, and ``skmrl cache clear`` advised, which fails there. Such an error is
    read-only where the store at ``path`` or its folder may not be written.
    """
    text = str(exc).lower()
    if isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text:
        return True
    return (
        isinstance(exc, sqlite3.OperationalError)
        and path.is_file()
        and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    )


def read_only_counts(path: Path) -> tuple[int, int]:
    """``(n_vectors, n_fingerprints)`` of a store this process may only read.

    A WAL database cannot be opened ``mode=ro`` where its folder is not writable (SQLite must
    create its ``-shm`` file: "attempt to write a readonly database"); ``immutable=1`` reads
    the file as it is, without locks, which is what a description of another user's cache
    needs. Vectors still in another process's write-ahead log are not counted.
    """
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        return _counts(conn)
    finally:
        conn.close()


_LOCAL = threading.local()
_ABANDONED: list[VectorStore] = []  # connections inherited through fork: never used or closed


def _stores() -> dict[Path, VectorStore]:
    """This thread's open stores; a forked child starts afresh (SQLite forbids sharing)."""
    pid = os.getpid()
    if getattr(_LOCAL, "pid", None) != pid:
        _ABANDONED.extend(getattr(_LOCAL, "stores", {}).values())
        _LOCAL.stores = {}
        _LOCAL.pid = pid
    return _LOCAL.stores


@atexit.register
def _close_at_exit() -> None:
    """Close the exiting thread's stores (those of other threads close as each thread ends).

    At exit the collector would free them during the interpreter's teardown, unclosed (a
    ``ResourceWarning`` on Python >= 3.13), where :meth:`VectorStore.__del__` may no longer find
    the modules it uses.
    """
    stores = _stores()
    while stores:
        _, store = stores.popitem()
        with suppress(sqlite3.Error):
            store.close()


def store_path(location: Path) -> Path:
    return location / STORE_DIR / _STORE_FILE


def open_store(location: Path) -> VectorStore:
    """This thread's connection to the store under ``location`` (created if absent)."""
    stores = _stores()
    path = store_path(location)
    store = stores.get(path)
    if store is not None and store.is_current():
        return store
    if store is not None:
        stores.pop(path).close()
    store = stores[path] = VectorStore(path, create=True)
    return store


def forget_store(location: Path) -> None:
    store = _stores().pop(store_path(location), None)
    if store is not None:
        try:
            store.close()
        except sqlite3.Error:  # pragma: no cover - closing a broken connection
            pass


def warn_unusable(location: Path, exc: BaseException) -> None:
    """Forget this thread's connection to the store under ``location`` and warn (once) that it
    cannot be used: :func:`skmrl._cache_dirs._warn_unusable`, shared with the fitted states."""
    forget_store(location)
    _warn_unusable(
        "vectors",
        store_path(location),
        location,
        str(exc) or type(exc).__name__,
        instead="vectors are computed without it",
        read_only=is_read_only_error(exc, store_path(location)),
    )
