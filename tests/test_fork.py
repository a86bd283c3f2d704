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
