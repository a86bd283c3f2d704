"""A process forked while another thread holds one of skmrl's locks (multiprocessing's fork
start method, a DataLoader's workers) must not wait for ever on it: no thread of the child
releases it."""

import multiprocessing
import os
import threading

import pytest

from skmrl.cache import cached_fit_state, clear_caches

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="no fork on this platform"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def _in_child(target):
    """Run ``target`` in a forked child: its exit code, or None when it hung (10 s)."""
    child = multiprocessing.get_context("fork").Process(target=target)
    child.start()
    child.join(10)
    if child.is_alive():
        child.kill()
        child.join()
        return None
    return child.exitcode


def _fit_other_state():
    assert cached_fit_state("fork test", lambda: {"a_": 2})["a_"] == 2


def test_a_child_forked_during_another_threads_fit_fits_the_same_state():
    # the per-key fit lock (a2be668) held by the parent's fitting thread: the child hung
    clear_caches()
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(20)
        return {"a_": 1}

    thread = threading.Thread(target=lambda: cached_fit_state("fork test", slow))
    thread.start()
    try:
        assert started.wait(10)
        assert _in_child(_fit_other_state) == 0
    finally:
        release.set()
        thread.join()
    assert cached_fit_state("fork test", slow)["a_"] == 1
    clear_caches()


def _take(module, name):
    def target():
        with getattr(module, name):
            pass

    return target


@pytest.mark.parametrize("where", ["training._SEEDED_LOCK", "encoder.TOKENIZER_LOCK"])
def test_a_child_forked_while_a_thread_trains_or_tokenizes_can_do_so(where):
    # a seeded training (17f298c) or a tokenizer call (a1622c8) in another thread of the parent
    from skmrl._torch import encoder, training

    module_name, name = where.split(".")
    module = {"training": training, "encoder": encoder}[module_name]
    held, release = threading.Event(), threading.Event()

    def hold():
        with getattr(module, name):
            held.set()
            release.wait(20)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        assert _in_child(_take(module, name)) == 0
    finally:
        release.set()
        thread.join()


def test_a_child_forked_inside_a_block_of_its_own_thread_leaves_the_block():
    # ForkSafeLock (6225768) renewed its lock in the child, and the block's end in the child
    # released the new, unlocked one: "RuntimeError: release unlocked lock". The module-level
    # locks it replaced released the lock their block took.
    from skmrl._threads import ForkSafeLock

    lock = ForkSafeLock()

    def target():
        with lock:
            pass

    pid = None
    try:
        with lock:
            pid = os.fork()
    except BaseException:
        if pid == 0:  # the child failed to leave the block: it must not go on running pytest
            os._exit(2)
        raise
    if pid == 0:  # the child: it left the block above; it takes the lock again
        code = 3
        try:
            target()
            code = 0 if not lock.locked() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not lock.locked()


_PLAIN_LOCKS = (type(threading.Lock()), type(threading.RLock()))


def _skmrl_locks() -> dict:
    """Every lock of skmrl that outlives a call, by name: those of every module's namespace and
    of the skmrl objects there (the shared embedding cache's, a ProcessSetting's), found, so
    that a lock added later is checked too."""
    import importlib
    import pkgutil

    import skmrl
    from skmrl._threads import ForkSafeLock

    kinds = (ForkSafeLock, *_PLAIN_LOCKS)
    locks = {}
    for info in pkgutil.walk_packages(skmrl.__path__, "skmrl."):
        if info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an extra that is not installed
            continue
        for name, value in vars(module).items():
            if isinstance(value, kinds):
                locks[f"{info.name}.{name}"] = value
            elif type(value).__module__.startswith("skmrl") and not isinstance(value, type):
                for attribute, inner in vars(value).items() if hasattr(value, "__dict__") else ():
                    if isinstance(inner, kinds):
                        locks[f"{info.name}.{name}.{attribute}"] = inner
    return locks


def test_every_lock_of_skmrl_is_fork_safe():
    # models._LOAD_LOCK is held while a model loads (a second or more), the embedding cache's
    # while vectors are stored: a child forked then by another thread waited for ever on its
    # first model or its first encoding
    locks = _skmrl_locks()
    assert {
        "skmrl.models._LOAD_LOCK",
        "skmrl._fit_cache._FIT_LOCK",
        "skmrl.cache._EMBEDDING_CACHE._lock",
        "skmrl._threads._ONE_BLAS_THREAD._lock",
    } <= set(locks)
    plain = sorted(name for name, lock in locks.items() if isinstance(lock, _PLAIN_LOCKS))
    assert not plain, f"make these skmrl._threads.ForkSafeLock: {plain}"


def test_a_child_forked_while_threads_hold_every_lock_takes_each():
    locks = _skmrl_locks()
    release = threading.Event()
    holders = []
    for lock in locks.values():
        held = threading.Event()

        def hold(lock=lock, held=held):
            with lock:
                held.set()
                release.wait(20)

        holders.append(threading.Thread(target=hold))
        holders[-1].start()
        assert held.wait(10)

    def take_each():
        for lock in locks.values():
            with lock:
                pass

    try:
        assert _in_child(take_each) == 0
    finally:
        release.set()
        for thread in holders:
            thread.join()


def test_a_reentrant_fork_safe_lock_forked_between_two_blocks_of_one_thread():
    # the child's inner block takes the new lock and its outer block still releases the old one
    from skmrl._threads import ForkSafeLock

    lock = ForkSafeLock(reentrant=True)
    pid = None
    try:
        with lock:
            pid = os.fork()
            if pid == 0:
                with lock:  # the renewed lock
                    pass
    except BaseException:
        if pid == 0:
            os._exit(2)
        raise
    if pid == 0:
        os._exit(0 if not lock.locked() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not lock.locked()
    with lock, lock:  # re-entrant in the parent
        assert lock.locked()
