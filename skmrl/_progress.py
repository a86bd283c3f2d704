"""``progress=None``'s rule, in one place: show a bar when someone is watching.

A person watches a terminal, or a Jupyter notebook (JupyterLab, VS Code, Colab), where
``tqdm.auto`` draws a widget; stderr there is the kernel's stream, which is no terminal, so the
terminal test alone hid every bar in notebooks. Logs, pipes and captured test output get none,
and so do worker processes (``GridSearchCV(n_jobs=2)``'s, joblib's, dask's): they inherit the
terminal, and their bars, each drawn at the first line as if alone, overwrote one another there.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["check_progress", "in_notebook", "in_worker_process", "progress_bar", "show_progress"]


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (the test ``tqdm.autonotebook`` makes)."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
    except Exception:  # an IPython too broken to ask is no notebook to draw in
        return False
    return shell is not None and hasattr(shell, "kernel")


def in_worker_process() -> bool:
    """Whether this process was started by another one's ``multiprocessing`` (or loky, which
    joblib and so ``GridSearchCV(n_jobs=...)`` use): a worker, which no one watches.

    Examples
    --------
    >>> from skmrl._progress import in_worker_process
    >>> in_worker_process()
    False
    """
    import multiprocessing

    return multiprocessing.parent_process() is not None


def check_progress(progress: object) -> None:
    """Refuse a ``progress`` that is not ``None`` or a bool (``"no"`` would be truthy).

    Examples
    --------
    >>> from skmrl._progress import check_progress
    >>> check_progress("no")
    Traceback (most recent call last):
    ...
    TypeError: progress must be None, True or False, got 'no'
    """
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")


def show_progress(progress: bool | None) -> bool:
    """``progress`` as given, or for ``None``: when stderr is a terminal or in a notebook,
    except in a worker process. Never where there is no stderr (``sys.stderr is None``, as
    under Windows' ``pythonw`` or a service): a tqdm bar, which writes there, failed with
    ``AttributeError: 'NoneType' object has no attribute 'write'``, ending the fit.

    Examples
    --------
    >>> from skmrl._progress import show_progress
    >>> show_progress(True), show_progress(False)
    (True, False)
    """
    check_progress(progress)
    if sys.stderr is None:  # nowhere to draw
        return False
    if progress is not None:
        return bool(progress)
    if in_worker_process():
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        terminal = bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed or detached stream
        terminal = False
    return terminal or in_notebook()


def progress_bar(progress: bool | None, total: int, desc: str, unit: str, **kwargs: Any) -> Any:
    """A ``tqdm.auto`` bar (a widget in a notebook) that :func:`show_progress` shows or
    disables, cleared when closed (``leave=False``); ``kwargs`` go to ``tqdm``. A disabled bar
    takes every call and draws nothing, so callers update it without asking.

    Examples
    --------
    >>> from skmrl._progress import progress_bar
    >>> with progress_bar(False, 3, "reading", "file") as bar:
    ...     bar.update(3)
    >>> bar.disable
    True
    """
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=desc, unit=unit, leave=False, disable=not show_progress(progress),
        **kwargs,
    )  # fmt: skip
