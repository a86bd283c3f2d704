"""The fitted-state cache behind :func:`skmrl.cache.cached_fit_state`: its layers and locks.

The most recently used states stay in memory (``_FIT_STATES``), bounded by a count and by the
bytes they hold (:mod:`skmrl._state_size` measures them; the caller passes both bounds, so that
``skmrl.cache.DEFAULT_MAX_FIT_BYTES`` is read at each fit); with ``memory=``, a pickled copy is
kept through :class:`joblib.Memory` under ``<memory>/skmrl-fits``. One thread computes a key's
state at a time (:func:`_fitting`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skmrl._cache_dirs import (
    _FITS_DIR,
    _MAX_BYTES_ENV,
    _cache_folder_problem,
    _warn_unusable,
    check_memory,
)
from skmrl._state_size import state_footprint
from skmrl._threads import ForkSafeLock, KeyedLocks
from skmrl._warn import caller_stacklevel

__all__ = [
    "_clear_fit_states",
    "_fit_state",
    "_fitting",
    "_keep_state",
    "_memory_state",
]

_FIT_STATES: OrderedDict[str, dict[str, Any]] = OrderedDict()
#: key -> the state's footprint (its own bytes, its large buffers by address), for the byte bound
_FIT_FOOTPRINTS: dict[str, tuple[int, dict[int, int]]] = {}
_FIT_LOCK = ForkSafeLock()
#: One thread computes a key's state at a time (see :func:`_fitting`).
_FIT_KEYS = KeyedLocks()


def _fitting(key: str) -> contextlib.AbstractContextManager[None]:
    """Hold ``key``'s own lock: threads fitting the same state at once wait for the first one's
    (a GridSearchCV over dim under joblib's threading backend fitted each fold once per grid
    point in flight) instead of each computing it. Keys of other states run side by side; a
    state computed within another's (fine-tuned weights within fine_tune="full+adaptor") is
    under a key of its own, never the outer one, so the waits cannot go round in a circle. A
    child forked while another thread fitted starts with no key's lock (it waited for ever)."""
    return _FIT_KEYS(key)


def _clear_fit_states() -> None:
    """Forget every in-process fitted state (:func:`skmrl.cache.clear_caches`)."""
    with _FIT_LOCK:
        _FIT_STATES.clear()
        _FIT_FOOTPRINTS.clear()


def _memory_state(key: str) -> dict[str, Any] | None:
    """The state stored in memory under ``key`` (marked as the most recently used), or None."""
    with _FIT_LOCK:
        state = _FIT_STATES.get(key)
        if state is not None:
            _FIT_STATES.move_to_end(key)
        return state


def _fit_state(
    key: str, compute: Callable[[], dict[str, Any]], memory: Any, disk_bound: Callable[[], int]
) -> dict[str, Any]:
    """:func:`cached_fit_state` under ``key``'s lock: the state another thread stored while
    this one waited, else the disk's, else ``compute()``'s (stored in memory here, so that a
    thread waiting for ``key`` finds it). ``disk_bound()`` is the disk layer's bound in bytes,
    asked for only once a state is written there."""
    state = _memory_state(key)
    if state is not None:
        return state
    location = check_memory(memory)
    problem = None if location is None else _cache_folder_problem(location / _FITS_DIR)
    if problem:  # a file at skmrl-fits: joblib failed deep inside with NotADirectoryError
        _warn_unusable(
            "fitted states",
            location / _FITS_DIR,
            location,
            problem,
            instead="the estimator is fitted without it",
        )
    if location is None or problem:
        state = compute()
    else:
        import joblib

        store = joblib.Memory(location / _FITS_DIR, verbose=0)
        cached = store.cache(_compute_state, ignore=["compute"])
        stored = cached.check_call_in_cache(key, compute)
        state = _read_state(cached, key, compute) if stored else None
        if state is None:  # a new state is written: the least recently used go past the bound
            try:
                state = cached(key, compute)
            except BaseException:  # Ctrl-C while pickling
                _remove_partial_write(cached, key, compute)
                raise
            if not cached.check_call_in_cache(key, compute):  # joblib warned why (CacheWarning)
                _remove_partial_write(cached, key, compute)  # a full disk, which joblib survives
                warnings.warn(
                    f"skmrl: this fitted state could not be written to {location} (a full disk, "
                    "say: joblib's CacheWarning gives the error); another process or a later "
                    "run will fit it again",
                    RuntimeWarning,
                    stacklevel=caller_stacklevel(),
                )
            else:
                bound = disk_bound()
                store.reduce_size(bytes_limit=bound)
                if not cached.check_call_in_cache(key, compute):  # larger than the bound alone
                    warnings.warn(
                        f"this fitted state is larger than the disk cache's bound ({bound:,} "
                        f"bytes, ${_MAX_BYTES_ENV}), so it was not kept in {location}: another "
                        f"process or a later run will fit it again. Raise ${_MAX_BYTES_ENV} to "
                        "keep it",
                        UserWarning,
                        stacklevel=caller_stacklevel(),
                    )
    with _FIT_LOCK:
        _FIT_STATES[key] = state
    return state


def _keep_state(key: str, state: dict[str, Any], max_entries: int, max_bytes: int) -> None:
    """Mark ``key``'s state as the most recently used, then drop the least recently used states
    past ``max_entries`` or ``max_bytes`` (never the newest)."""
    footprint = None if key in _FIT_FOOTPRINTS else state_footprint(state)  # outside the lock
    with _FIT_LOCK:
        if _FIT_STATES.get(key) is not state:  # cleared meanwhile (clear_caches)
            return
        _FIT_STATES.move_to_end(key)
        if footprint is not None:
            _FIT_FOOTPRINTS[key] = footprint
        while len(_FIT_STATES) > 1 and (
            len(_FIT_STATES) > max_entries or _held_bytes() > max_bytes
        ):
            oldest, _ = _FIT_STATES.popitem(last=False)
            _FIT_FOOTPRINTS.pop(oldest, None)


def _held_bytes() -> int:
    """The memory the in-process fitted states hold, each shared buffer counted once (under
    ``_FIT_LOCK``)."""
    buffers: dict[int, int] = {}
    own = 0
    for key in _FIT_STATES:
        footprint = _FIT_FOOTPRINTS.get(key)
        if footprint is None:  # another thread's state, its footprint on the way
            continue
        own += footprint[0]
        for address, nbytes in footprint[1].items():
            buffers[address] = max(buffers.get(address, 0), nbytes)
    return own + sum(buffers.values())


def _remove_partial_write(cached: Any, key: str, compute: Callable[[], Any]) -> None:
    """Remove what this thread left of a write of ``key``'s state that failed or was
    interrupted: joblib writes ``output.pkl.<uuid>-<pid>-<thread id>`` and renames it into
    place, and on a full disk (or Ctrl-C) leaves the partial file behind. Other processes'
    files, being written now, are theirs."""
    try:  # joblib's private layout (1.4-1.6): a cleanup, never a failure of the fit itself
        if hasattr(cached, "_get_args_id"):
            func_id, args_id = cached.func_id, cached._get_args_id(key, compute)
        else:  # joblib 1.3 has neither, only both at once
            func_id, args_id = cached._get_output_identifiers(key, compute)
        folder = Path(cached.store_backend.location, func_id, args_id)
    except Exception:
        return
    ours = {str(os.getpid()), str(id(threading.current_thread()))}
    for partial in folder.glob("output.pkl.*"):  # older joblib: output.pkl.thread-<id>-pid-<pid>
        if ours <= set(partial.name.split("-")):
            with contextlib.suppress(OSError):
                partial.unlink()


def _read_state(
    cached: Any, key: str, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any] | None:
    """The state stored under ``key``, its entry marked as used now; ``None`` when its file
    cannot be read (damaged: with a warning, the entry removed) or another process evicted it
    since the check, so that the caller fits it again.

    joblib's ``reduce_size`` evicts the entries whose ``output.pkl`` was read longest ago, by
    the file's access time; a read refreshes that at most once a day on a ``relatime`` mount
    (Linux's default), so a state read a second ago could go before an older, unread one.
    """
    ref = cached.call_and_shelve(key, compute)  # computes only if evicted since the check
    output = Path(ref.store_backend.location, ref.func_id, ref.args_id, "output.pkl")
    try:
        state = ref.get()
    except Exception as exc:  # a truncated or damaged pickle: whatever unpickling raises
        if output.is_file():  # not one that another process evicted since the check
            cause = exc.__cause__ or exc  # joblib wraps some in a KeyError
            warnings.warn(
                f"skmrl: the fitted state cached in {output.parent} cannot be read (a damaged "
                f"or truncated file: {type(cause).__name__}); it is fitted again and stored anew",
                RuntimeWarning,
                stacklevel=caller_stacklevel(),
            )
            with contextlib.suppress(OSError):
                ref.clear()
        return None
    with contextlib.suppress(OSError):  # another process evicted it meanwhile: nothing to mark
        os.utime(output, (time.time(), output.stat().st_mtime))
    return state


def _compute_state(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # ``key`` alone names the cache entry: joblib ignores ``compute`` when hashing.
    return compute()


# joblib names the disk entries' folder after the function's module and name
# (``<memory>/skmrl-fits/skmrl/cache/_compute_state/``): it was defined in skmrl.cache, and the
# states that users' disk caches hold stay found under that name.
_compute_state.__module__ = "skmrl.cache"
