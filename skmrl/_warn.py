"""How skmrl warns: at the user's line, once.

A warning points at the first frame outside skmrl and the scikit-learn machinery that called it
(:func:`caller_stacklevel`), whatever route led there; a warning that would repeat at every fold,
grid point or call is given once per process (:func:`first_warning`, under a fork-safe lock).
"""

from __future__ import annotations

import sys
from types import FrameType

from skmrl._threads import ForkSafeLock

__all__ = ["caller_stacklevel", "first_warning"]


#: Packages whose frames a warning passes over to reach the user's line: skmrl's own, the
#: scikit-learn (and joblib) machinery that calls an estimator: a Pipeline, a search, set_output,
#: and the standard library's workers under them (a search's n_jobs=2 fits in a process whose
#: stack starts in multiprocessing: its warnings were put on ``multiprocessing/process.py:108``;
#: with no user frame there, Python names none, ``sys:1``), ``runpy`` among them (loky's worker
#: module runs as ``__main__`` under it).
_PASSED_OVER = frozenset(
    {"skmrl", "sklearn", "joblib", "multiprocessing", "concurrent", "threading", "runpy"}
)


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside skmrl and the
    scikit-learn machinery that called it.

    How deep skmrl's own frames go depends on the route (``fit``, ``fit_transform``, a cached
    state, :func:`skmrl.finetune`), so a fixed ``stacklevel`` would point inside skmrl on some.
    scikit-learn's frames are passed over too (``set_output``'s wrapper, a ``Pipeline``, a
    ``GridSearchCV`` and the joblib calls under it): the warning belongs to whoever called
    them, not to ``sklearn/pipeline.py``.
    """
    frame: FrameType | None = sys._getframe(1)  # the function that warns: stacklevel 1
    level = 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == "__main__":  # a module run with -m, as loky runs its workers' (under
            # runpy): their warnings were put on joblib/externals/loky/.../popen_loky_posix.py
            module = getattr(frame.f_globals.get("__spec__"), "name", None) or module
        if module.partition(".")[0] not in _PASSED_OVER:
            break
        frame = frame.f_back
        level += 1
    return level


#: Keys of the warnings already given in this process (see ``first_warning``).
_WARNED: set[str] = set()


_WARNED_LOCK = ForkSafeLock()


def first_warning(key: str) -> bool:
    """True the first time ``key`` asks in this process (thread-safe): for a warning given once
    per fitted state, parameter setting or file, not at every fold, grid point or call.

    Examples
    --------
    >>> from skmrl._warn import first_warning
    >>> import uuid
    >>> key = uuid.uuid4().hex
    >>> first_warning(key), first_warning(key)
    (True, False)
    """
    with _WARNED_LOCK:
        if key in _WARNED:
            return False
        _WARNED.add(key)
        return True
