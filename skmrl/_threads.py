"""One BLAS thread for blocks that several threads may run at once.

threadpoolctl's ``threadpool_limits(1, user_api="blas")`` saves the BLAS libraries' thread counts,
sets 1, and sets the saved counts back at its end. Those counts are the process's (OpenBLAS,
MKL and BLIS keep one for every thread), so two such blocks of two threads that overlapped
crossed: the second saved the first's 1 and, ending last, set it back for good (four
``MatryoshkaAdaptor`` fits from a pool of two threads left NumPy's OpenBLAS at one thread for
the rest of the process). :func:`one_blas_thread` counts the blocks in progress instead: the
first sets 1, the last to end restores the counts from before the first. OpenMP's count is
each thread's own, so ``threadpool_limits(1, user_api="openmp")`` needs no such care.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["one_blas_thread"]

_LOCK = threading.Lock()
_blocks = 0
_limits: Any = None  # the first block's threadpool_limits, which the last one ends


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
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
    global _blocks, _limits
    from threadpoolctl import threadpool_limits

    with _LOCK:
        if not _blocks:
            _limits = threadpool_limits(limits=1, user_api="blas")
        _blocks += 1
    try:
        yield
    finally:
        with _LOCK:
            _blocks -= 1
            if not _blocks:
                _limits.restore_original_limits()
                _limits = None
