"""Blocks of two threads forced to cross, for the tests of process-wide settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any


def crossed_blocks(
    block: Callable[[], AbstractContextManager[Any]],
    inside_second: Callable[[], None] | None = None,
    timeout: float = 10,
) -> None:
    """Run ``with block():`` in two threads, A and B, forced to cross: A enters, B enters, A
    leaves, then B leaves (the order in which a block that restores what it found when it began
    keeps the other's setting for good). ``inside_second`` runs within B's block once A has left.
    An error in either thread is raised here.
    """
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        with block():
            a_in.set()
            assert b_in.wait(timeout)
        a_out.set()

    def b() -> None:
        assert a_in.wait(timeout)
        with block():
            b_in.set()
            assert a_out.wait(timeout)
            if inside_second is not None:
                inside_second()

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(3 * timeout)
    if errors:
        raise errors[0]
