"""The folder of ``memory=``: checking it, the default one, and the disk caches' size bound.

:func:`check_memory` (called first in every ``fit``) creates the folder and checks it is writable,
so that a bad ``memory=`` fails at once with a ``ValueError`` that names it.
:func:`default_cache_dir` is the default folder of skmrl's disk caches, and :func:`_env_disk_bound`
reads their bound from ``$SKMRL_DISK_CACHE_MAX_BYTES`` (without it, ``skmrl.cache``'s
``DEFAULT_DISK_MAX_BYTES``, read there at each use). :func:`_cache_folder_problem` and
:func:`_warn_unusable` are the one check and the one warning of a disk cache's own folder
(``skmrl-embeddings``, ``skmrl-fits``) that cannot be used. The public names are re-exported by
:mod:`skmrl.cache`, whose reference documents them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from skmrl._folders import folder_write_problem
from skmrl._warn import caller_stacklevel, first_warning

__all__ = [
    "_FITS_DIR",
    "_MAX_BYTES_ENV",
    "_cache_folder_problem",
    "_env_disk_bound",
    "_warn_unusable",
    "check_memory",
    "default_cache_dir",
]

_MAX_BYTES_ENV = "SKMRL_DISK_CACHE_MAX_BYTES"
_CACHE_DIR_ENV = "SKMRL_CACHE_DIR"
_FITS_DIR = "skmrl-fits"
_WRITABLE_DIRS: set[tuple[int, str]] = set()  # (pid, folder) already probed by this process


def check_memory(memory: Any, *, create: bool = True) -> Path | None:
    """The folder of a ``memory=`` argument (a path, a joblib.Memory, or None for no disk cache).

    Parameters
    ----------
    memory : None, str, path or joblib.Memory
        Where the disk caches go; ``None`` (or ``joblib.Memory(None)``) means no disk cache.
        A leading ``~`` is the home folder, as joblib.Memory (which keeps the fitted states)
        reads it.
    create : bool, default=True
        Create the folder if needed and check that it is a writable folder (once per process).

    Returns
    -------
    Path or None

    Raises
    ------
    TypeError
        For anything else than the above.
    ValueError
        When the folder cannot be created or is not writable (the message names the reason),
        or, with ``create``, when ``$SKMRL_DISK_CACHE_MAX_BYTES`` is not understood: the disk
        caches read it after their work (a new fitted state, new vectors), so a ``fit`` would
        fail only once it had trained.

    Examples
    --------
    >>> import os, tempfile
    >>> from skmrl.cache import check_memory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(check_memory(os.path.join(tmp, "skmrl-cache")).name)
    skmrl-cache
    >>> check_memory(None) is None
    True
    """
    if memory is None:
        return None
    if isinstance(memory, str | os.PathLike):
        path = Path(memory).expanduser()
    else:
        location = getattr(memory, "location", None)
        if location is None:
            if hasattr(memory, "cache"):  # joblib.Memory(None): caching disabled
                return None
            raise TypeError(
                "memory must be None, a folder path or a joblib.Memory, "
                f"got {type(memory).__name__}"
            )
        path = Path(location).expanduser()
    if create:
        _env_disk_bound()  # a bad bound fails now, not after the training it bounds
        _ensure_writable_dir(path)
    return path


class UnwritableCacheFolder(ValueError):
    """:func:`check_memory`'s error for a folder that cannot be created or written: ``fit``
    refuses it; the vector cache's reads after ``fit`` (an estimator unpickled by another user,
    or on a read-only mount) compute without it, with a warning."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(path, problem)  # its args: pickled from a worker process as made
        self.path, self.problem = path, problem

    def __str__(self) -> str:
        return f"memory={str(self.path)!r}: {self.problem}"


def _ensure_writable_dir(path: Path) -> None:
    token = (os.getpid(), str(path))
    if token in _WRITABLE_DIRS and path.is_dir():  # probed already: one stat per transform
        return
    problem = folder_write_problem(path, "the cache folder")
    if problem:
        raise UnwritableCacheFolder(path, problem)
    _WRITABLE_DIRS.add(token)


def warn_unwritable(exc: UnwritableCacheFolder) -> None:
    """Warn (once) that the vector cache under ``exc.path`` is not used: :func:`_warn_unusable`."""
    _warn_unusable(
        "vectors", exc.path, exc.path, exc.problem,
        instead="vectors are computed without it", read_only=True,
    )  # fmt: skip


def default_cache_dir() -> Path:
    """The default folder of skmrl's disk caches (nothing is created).

    ``$SKMRL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/skmrl``, else ``~/.cache/skmrl``. A
    relative ``$XDG_CACHE_HOME`` is ignored, as the XDG Base Directory specification asks (it
    would put a cache in every folder the process starts in).

    Returns
    -------
    Path

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from skmrl.cache import default_cache_dir
    >>> with mock.patch.dict(os.environ, {"SKMRL_CACHE_DIR": "/data/skmrl"}):
    ...     print(default_cache_dir().as_posix())
    /data/skmrl
    """
    env = os.environ.get(_CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).expanduser().is_absolute():
        return Path(xdg).expanduser() / "skmrl"
    return Path.home() / ".cache" / "skmrl"


def clear_command(location: str | os.PathLike) -> str:
    """The command that empties the disk cache under ``location``: ``skmrl cache clear``, with
    ``--cache-dir`` where ``location`` is not the default folder (the bare command, run as
    advised for another folder, emptied the default one and left the broken cache in place).

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from skmrl._cache_dirs import clear_command
    >>> with mock.patch.dict(os.environ, {"SKMRL_CACHE_DIR": "/data/skmrl"}):
    ...     print(clear_command("/data/skmrl"), "|", clear_command("/tmp/my cache"))
    skmrl cache clear | skmrl cache clear --cache-dir '/tmp/my cache'
    """
    import shlex

    from skmrl._folders import same_file

    folder = Path(location).expanduser()
    if same_file(folder, default_cache_dir()):
        return "skmrl cache clear"
    return f"skmrl cache clear --cache-dir {shlex.quote(os.fspath(folder))}"


def _env_disk_bound() -> int | None:
    """``$SKMRL_DISK_CACHE_MAX_BYTES`` (an int, optionally with K, M, G or T), or None when it is
    not set; a value that is not understood is a ``ValueError``."""
    raw = os.environ.get(_MAX_BYTES_ENV, "").strip()
    if not raw:
        return None
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = raw.upper().removesuffix("B").removesuffix("I")
    scale = units.get(text[-1:], 1)
    try:
        value = int(float(text[:-1] if scale > 1 else text) * scale)
    except (ValueError, OverflowError):  # not a number, nan, inf
        value = -1
    if value <= 0:
        raise ValueError(
            f"{_MAX_BYTES_ENV}={raw!r} is not understood; expected a positive number of bytes "
            "such as 4000000000, 500M or 8G"
        )
    return value


def _cache_folder_problem(folder: Path, *, create: bool = True) -> str | None:
    """Why ``folder``, a disk cache's own under ``memory=`` (``skmrl-embeddings``,
    ``skmrl-fits``), cannot hold that cache, or None; with ``create``, it is created if absent.

    A file (or a dangling link) in its place is the usual reason: each cache then works without
    its disk layer, with :func:`_warn_unusable`'s warning, and ``skmrl cache info`` says so.
    """
    if folder.is_dir():
        return None
    if folder.is_symlink() and not folder.exists():
        # a link to a drive not mounted, say: not a file to clear away
        return f"{str(folder)!r} is a link to {os.readlink(folder)!r}, which does not exist"
    if folder.exists():
        if folder.is_dir():  # made meanwhile by another process (it was absent above)
            return None
        return f"{str(folder)!r} is a file, not a folder"
    if not create:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file made there meanwhile, a full disk
        return str(exc) or type(exc).__name__
    return None


def _warn_unusable(
    what: str, path: Path, location: Path, reason: str, *, instead: str, read_only: bool = False
) -> None:
    """Warn, once per process and ``path``, that the disk cache of ``what`` at ``path`` (under
    the ``memory=`` folder ``location``) cannot be used for ``reason``, and that ``instead``
    happens; the remedy is ``skmrl cache clear``, or, where this user may not write it
    (``read_only``), what to change."""
    if not first_warning(f"unusable-cache|{what}|{path}"):
        return
    if path.is_symlink() and not path.exists():  # the user's own link: its target is missing
        remedy = "Make its target a folder (mount its drive, say), or remove the link."
    elif read_only:  # clearing it would fail too: say what to change
        remedy = (
            "This user may not write it: let it be written (the file and its folder), or give "
            "memory= (the CLI's --cache-dir) a folder of its own."
        )
    else:
        remedy = (
            f"skmrl.cache.clear_disk_cache({str(location)!r}) (or `{clear_command(location)}`) "
            "removes it."
        )
    warnings.warn(
        f"skmrl: the disk cache of {what} {path} cannot be used ({reason}); {instead}. {remedy}",
        RuntimeWarning,
        stacklevel=caller_stacklevel(),
    )
