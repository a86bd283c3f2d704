"""Folders that a writer makes: whether one can be made and written to, and taking them back
when the write fails.

A save that fails (a full disk, an object that cannot be pickled) should leave the file system
as it found it: the folder it created for the output, and the parents it created for that
folder, are removed; folders that were there before are kept. Paths are resolved first, as the
system resolves them (``new/../keep`` is ``keep``; ``link/..`` is the parent of the link's
target), so that a folder that exists is never taken for one the write made.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "folder_to_write",
    "folder_write_problem",
    "make_folder",
    "missing_folders",
    "readable_as_other_files",
    "remove_made_folders",
    "resolved",
    "same_file",
]


def resolved(path: str | os.PathLike) -> Path:
    """``path`` with ``~`` expanded, absolute, resolved as the system resolves it (symbolic
    links followed, then ``..``)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def folder_to_write(path: str | os.PathLike) -> Path:
    """The folder a save writes to, :func:`resolved`; an empty ``path`` (an unset variable,
    say) is a ``ValueError``: resolved, it was the current folder, whose files the save wrote
    over.

    Examples
    --------
    >>> from skmrl._folders import folder_to_write
    >>> folder_to_write(" ")
    Traceback (most recent call last):
    ...
    ValueError: path=' ' is empty: give the folder to save to
    """
    if not os.fspath(path).strip():
        raise ValueError(f"path={os.fspath(path)!r} is empty: give the folder to save to")
    return resolved(path)


def same_file(path: str | os.PathLike, other: str | os.PathLike) -> bool:
    """Whether ``path`` and ``other`` name one file or folder: by its identity on the disk when
    both exist, else as resolved (:func:`resolved`).

    Resolved names alone told apart two names of one file: on a case-insensitive file system
    (macOS's and Windows' default) ``Data.csv`` is ``data.csv``, and a hard link or a mounted
    folder is another name of the same file.

    Examples
    --------
    >>> import os, tempfile
    >>> from skmrl._folders import same_file
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     data = os.path.join(folder, "data.csv")
    ...     open(data, "wb").close()
    ...     os.link(data, os.path.join(folder, "link.csv"))
    ...     same_file(data, os.path.join(folder, "link.csv")), same_file(data, folder)
    (True, False)
    """
    try:
        return os.path.samefile(resolved(path), resolved(other))
    except (OSError, ValueError):  # one of them does not exist (yet)
        return resolved(path) == resolved(other)


def missing_folders(folder: str | os.PathLike) -> list[Path]:
    """``folder`` (resolved) and those of its parents that do not exist yet,
    deepest first: what a ``mkdir(parents=True)`` of it would make.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl._folders import missing_folders
    >>> root = Path(tempfile.mkdtemp()).resolve()
    >>> [p.relative_to(root).as_posix() for p in missing_folders(root / "a" / "b")]
    ['a/b', 'a']
    >>> (root / "keep").mkdir()
    >>> missing_folders(root / "new" / ".." / "keep")
    []
    """
    folder = resolved(folder)
    return [path for path in (folder, *folder.parents) if not path.exists()]


def make_folder(folder: str | os.PathLike) -> list[Path]:
    """Create ``folder`` (resolved) and its missing parents; return those it made,
    deepest first, for :func:`remove_made_folders`."""
    made = missing_folders(folder)
    resolved(folder).mkdir(parents=True, exist_ok=True)
    return made


def remove_made_folders(made: list[Path]) -> None:
    """Take back what a failed write made: the output folder (``made[0]``) with whatever was
    written into it, then each parent in ``made[1:]`` while it is still empty (something else
    put there meanwhile is kept, and so are the folders above it)."""
    if not made:
        return
    shutil.rmtree(made[0], ignore_errors=True)
    for folder in made[1:]:
        try:
            folder.rmdir()
        except OSError:
            return


def readable_as_other_files(paths: Iterable[Path]) -> None:
    """Give each file of ``paths`` the mode that ``open()`` gives a new file (``0o666`` less
    the umask), as the folder's other files have.

    For the files that safetensors writes: since 0.8 it writes through a temporary file, which
    is private (``0o600``) and keeps that mode when moved into place (safetensors issue 782).
    A saved model's weights were then readable by their owner alone, though its
    ``config.json`` and tokenizer were not: another user (a service loading the model, a
    colleague, a container run as non-root) found the folder and failed on the weights.
    """
    umask = os.umask(0o077)  # read it; meanwhile, a file another thread makes is private
    os.umask(umask)
    for path in paths:
        os.chmod(path, 0o666 & ~umask)


def folder_write_problem(folder: Path, what: str = "the folder") -> str | None:
    """Why ``folder`` cannot be created and written to, or ``None`` when it can (it is created).

    The check is a real write (a temporary file, removed at once): ``os.access`` is wrong on
    read-only mounts, with ACLs and for root.

    Parameters
    ----------
    folder : Path
        The folder; created (with its parents) when absent.
    what : str, default="the folder"
        How the message names it.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl._folders import folder_write_problem
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     folder_write_problem(Path(f.name) / "sub")
    'cannot create the folder: Not a directory'
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # mkdir(exist_ok=True) raises this only for a non-folder
        return f"cannot create {what}: a file is in the way"
    except OSError as exc:
        return f"cannot create {what}: {exc.strerror or exc}"
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".skmrl-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{what} is not writable: {exc.strerror or exc}"
    return None
