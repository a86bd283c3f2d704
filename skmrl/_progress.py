"""``progress=None``'s rule, in one place: show a bar when someone is watching.

A person watches a terminal, or a Jupyter notebook (JupyterLab, VS Code, Colab), where
``tqdm.auto`` draws a widget; stderr there is the kernel's stream, which is no terminal, so the
terminal test alone hid every bar in notebooks. Logs, pipes and captured test output get none.
"""

from __future__ import annotations

import sys

__all__ = ["in_notebook", "show_progress"]


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


def show_progress(progress: bool | None) -> bool:
    """``progress`` as given, or for ``None``: when stderr is a terminal or in a notebook.

    Examples
    --------
    >>> from skmrl._progress import show_progress
    >>> show_progress(True), show_progress(False)
    (True, False)
    """
    if progress is not None:
        return bool(progress)
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        terminal = bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed or detached stream
        terminal = False
    return terminal or in_notebook()
