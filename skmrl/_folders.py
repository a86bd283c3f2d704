"""Folders that a writer makes, and taking them back when the write fails.

A save that fails (a full disk, an object that cannot be pickled) should leave the file system
as it found it: the folder it created for the output, and the parents it created for that
folder, are removed; folders that were there before are kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["missing_folders", "remove_made_folders"]


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first: what a
    ``mkdir(parents=True)`` of it would make.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl._folders import missing_folders
    >>> root = Path(tempfile.mkdtemp())
    >>> [p.relative_to(root).as_posix() for p in missing_folders(root / "a" / "b")]
    ['a/b', 'a']
    """
    return [path for path in (folder, *folder.parents) if not path.exists()]


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
