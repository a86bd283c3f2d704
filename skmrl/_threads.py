"""One BLAS thread for blocks that several threads may run at once.

threadpoolctl's ``threadpool_limits(1, user_api="blas")`` saves the BLAS libraries' thread counts,
sets 1, and sets the saved counts back at its end. Those counts are the process's (OpenBLAS,
MKL and BLIS keep one for every thread), so two such blocks of two threads that overlapped
crossed: the second saved the first's 1 and, ending last, set it back for good (four
``MatryoshkaAdaptor`` fits from a pool of two threads left NumPy's OpenBLAS at one thread for
the rest of the process). :func:`one_blas_thread` counts the blocks in progress instead: the
first sets 1, the last to end restores the counts from before the first (a
:class:`ProcessSetting`, the mechanism of every such process-wide setting). OpenMP's count is
each thread's own, so ``threadpool_limits(1, user_api="openmp")`` needs no such care.

:func:`one_blas_openmp_thread` adds one OpenMP thread for the calling thread, the pair that the
adaptor's fit and a search's threads take.

:class:`ForkSafeLock` is a lock that a forked child gets anew, unlocked: every lock of skmrl
that outlives a call is one, since a child forked while another thread held a plain lock (a
model loading, a fit, an encoding) waited on it for ever. :class:`KeyedLocks` gives each key
its own lock (threads computing the same fitted state, or building the same encoder, wait for
the first).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any

__all__ = [
    "ForkSafeLock",
    "KeyedLocks",
    "ProcessSetting",
    "one_blas_openmp_thread",
    "one_blas_thread",
]


class ForkSafeLock:
    """A lock (``with lock:``) that a child forked while another thread held it gets unlocked.

    A child of ``fork`` (``multiprocessing``'s start method on Linux before Python 3.14, a
    DataLoader's workers) has only the thread that forked, so a lock another thread held at the
    fork would stay locked there for ever, and the child would wait on it for ever. Every
    lock of skmrl that outlives a call is one of these.

    Parameters
    ----------
    reentrant : bool, default=False
        A ``threading.RLock`` (a thread may take it again within its own block) instead of a
        ``threading.Lock``.

    Examples
    --------
    >>> from skmrl._threads import ForkSafeLock
    >>> lock = ForkSafeLock()
    >>> with lock:
    ...     lock.locked()
    True
    """

    def __init__(self, reentrant: bool = False) -> None:
        self._new = threading.RLock if reentrant else threading.Lock
        self._lock = self._new()
        # the locks each thread holds, innermost last: a child forked inside a block gets a
        # new, unlocked ``_lock``, and each block's end (in the child too) releases the lock
        # that block took
        self._held = threading.local()
        if hasattr(os, "register_at_fork"):  # a weak reference: a lock of an object can go
            os.register_at_fork(after_in_child=functools.partial(_renew, weakref.ref(self)))

    def _renew(self) -> None:
        self._lock = self._new()

    def locked(self) -> bool:
        """Whether a thread holds the lock (for a re-entrant one, Python 3.14's
        ``RLock.locked``, read here without it)."""
        lock = self._lock
        if hasattr(lock, "locked"):
            return lock.locked()
        if not lock.acquire(blocking=False):
            return True
        held = getattr(self._held, "locks", None)  # this thread's own blocks, if any
        lock.release()
        return bool(held and held[-1] is lock)

    def __enter__(self) -> ForkSafeLock:
        lock = self._lock
        lock.acquire()
        held = getattr(self._held, "locks", None)
        if held is None:
            held = self._held.locks = []
        held.append(lock)
        return self

    def __exit__(self, *exc: object) -> None:
        self._held.locks.pop().release()


def _renew(ref: weakref.ref[ForkSafeLock]) -> None:
    """In a forked child: a new, unlocked lock for ``ref``'s ForkSafeLock, if it still exists."""
    lock = ref()
    if lock is not None:
        lock._renew()


class KeyedLocks:
    """One lock per key (``with locks(key):``): threads computing the same thing wait for the
    first, other keys run side by side.

    A key's lock (re-entrant) is made at its first use and dropped once no thread holds or
    waits for it. A forked child starts with none (those of the parent's other threads would
    stay held there for ever).

    Examples
    --------
    >>> from skmrl._threads import KeyedLocks
    >>> building = KeyedLocks()
    >>> with building("model a"), building("model a"):  # re-entrant
    ...     len(building)
    1
    >>> len(building)
    0
    """

    def __init__(self) -> None:
        self._lock = ForkSafeLock()
        #: key -> [lock, threads using it]
        self._locks: dict[Hashable, list[Any]] = {}
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=functools.partial(_forget_keys, weakref.ref(self)))

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.contextmanager
    def __call__(self, key: Hashable) -> Iterator[None]:
        with self._lock:
            entry = self._locks.setdefault(key, [threading.RLock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if not entry[1] and self._locks.get(key) is entry:  # not a fork's new entry
                    del self._locks[key]


def _forget_keys(ref: weakref.ref[KeyedLocks]) -> None:
    """In a forked child: no key's lock of ``ref``'s KeyedLocks, if it still exists."""
    locks = ref()
    if locks is not None:
        locks._locks.clear()


class ProcessSetting:
    """A process-wide setting that blocks of several threads change, and the last one restores.

    ``apply()`` changes the setting and returns what sets it back. The first block in progress
    applies it; the last to end sets back what the first found. A block that simply set back
    what it found when it began crossed with an overlapping one: the second found the first's
    change and, ending last, kept it for good.

    Parameters
    ----------
    apply : callable
        Changes the setting; returns a callable with no argument that restores it.

    Examples
    --------
    >>> from skmrl._threads import ProcessSetting
    >>> state = {"verbose": True}
    >>> def quiet():
    ...     before = state["verbose"]
    ...     state["verbose"] = False
    ...     return lambda: state.update(verbose=before)
    >>> quietly = ProcessSetting(quiet)
    >>> with quietly(), quietly():
    ...     state["verbose"]
    False
    >>> state["verbose"]
    True
    """

    def __init__(self, apply: Callable[[], Callable[[], object]]) -> None:
        self._apply = apply
        self._lock = ForkSafeLock()
        self._blocks = 0
        self._restore: Callable[[], object] | None = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if not self._blocks:
                self._restore = self._apply()
            self._blocks += 1
        try:
            yield
        finally:
            with self._lock:
                self._blocks -= 1
                if not self._blocks:
                    restore, self._restore = self._restore, None
                    restore()


def _one_blas_thread() -> Callable[[], object]:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas").restore_original_limits


_ONE_BLAS_THREAD = ProcessSetting(_one_blas_thread)


def one_blas_thread() -> contextlib.AbstractContextManager[None]:
    """Run the block with one BLAS thread (in the whole process), then restore the counts.

    Blocks of several threads may overlap: the BLAS libraries keep one thread while any runs,
    and the last to end restores the counts from before the first began.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skmrl._threads import one_blas_thread
    >>> with one_blas_thread():
    ...     {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} <= {1}
    True
    """
    return _ONE_BLAS_THREAD()


@contextlib.contextmanager
def one_blas_openmp_thread() -> Iterator[None]:
    """:func:`one_blas_thread`, and one OpenMP thread for the calling thread, in one block.

    For work that runs many small native operations, or in several threads side by side (the
    adaptor's fit, a search's threads), where more native threads cost more than they gain.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skmrl._threads import one_blas_openmp_thread
    >>> with one_blas_openmp_thread():
    ...     {i["num_threads"] for i in threadpool_info()} <= {1}
    True
    """
    from threadpoolctl import threadpool_limits

    with one_blas_thread(), threadpool_limits(limits=1, user_api="openmp"):
        yield
