"""``skmrl cache info`` and ``skmrl cache clear``: what the disk cache holds, and emptying it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from skmrl.cli._common import cache_folder

_DESCRIPTION = (
    "Show or empty skmrl's disk cache: the encoded vectors and fitted states stored under a "
    "memory= folder (the demo's --cache-dir). The default folder is $SKMRL_CACHE_DIR, else "
    "$XDG_CACHE_HOME/skmrl, else ~/.cache/skmrl."
)

#: Whether this is Windows, where a file that a process holds open cannot be removed.
_WINDOWS = os.name == "nt"


def _human_bytes(n: int) -> str:
    """A size for people: ``'0 B'``, ``'12.3 KiB'``, ``'4.0 GiB'``."""
    if n < 1024:
        return f"{n} B"
    size, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f} {unit}"


def _cache_location(args: argparse.Namespace) -> Path:
    parser: argparse.ArgumentParser = args.parser
    folder = cache_folder(args.cache_dir)
    if folder is None:
        parser.error("argument --cache-dir: name a folder ('none' turns the cache off)")
    if folder.exists() and not folder.is_dir():
        parser.error(f"argument --cache-dir: {str(folder)!r} is not a folder")
    return folder


def _describe(info: dict, folder: Path) -> list[str]:
    """The lines of ``skmrl cache info`` for an existing folder."""
    from skmrl._cache_dirs import clear_command

    lines = [
        f"  vectors:       {info['n_vectors']:,} from {info['n_fingerprints']:,} "
        f"encoder setting(s), {_human_bytes(info.get('vector_bytes', 0))} "
        f"(bound {_human_bytes(info['max_bytes'])})",
        f"  fitted states: {info['n_fit_states']:,}, {_human_bytes(info.get('fit_bytes', 0))}",
        f"  total:         {_human_bytes(info['bytes'])} of skmrl's; "
        f"{info['n_files']:,} file(s) in the folder",
    ]
    for what, key in (("vector store", "error"), ("fitted states' folder", "fit_error")):
        error = info.get(key)
        if error:  # e.g. a file in the place of its folder: each fit works without it
            text = error.lower()
            denied = any(word in text for word in ("readonly", "read-only", "permission"))
            # clear would fail too where denied; a link to a missing target is the user's own
            hint = (
                ""
                if denied or "is a link to" in text
                else f" ('{clear_command(folder)}' removes it)"
            )
            lines.append(f"  error: the {what} cannot be used: {error}{hint}")
    return lines


def _read_info(folder: Path, command: str) -> dict | None:
    """``disk_cache_info(folder)``, or None after saying why it cannot be read; ``clear`` does
    not read the bound (a bad ``$SKMRL_DISK_CACHE_MAX_BYTES`` does not bear on clearing)."""
    from skmrl.cache import _disk_cache_info

    try:
        return _disk_cache_info(folder, bound=command != "clear")
    except (OSError, ValueError) as exc:  # e.g. a bad $SKMRL_DISK_CACHE_MAX_BYTES
        print(f"skmrl cache {command}: error: {exc}", file=sys.stderr)
        return None


def _cache_info(args: argparse.Namespace) -> int:
    folder = _cache_location(args)
    info = _read_info(folder, "info")
    if info is None:
        return 1
    if not info["exists"]:
        print(f"skmrl disk cache: {folder} (does not exist: nothing is cached there)")
        return 0
    print(f"skmrl disk cache: {folder}")
    print("\n".join(_describe(info, folder)))
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _cache_clear(args: argparse.Namespace) -> int:
    from skmrl._cache_dirs import _FITS_DIR
    from skmrl._vector_store import STORE_DIR
    from skmrl.cache import clear_disk_cache

    folder = _cache_location(args)
    info = _read_info(folder, "clear")
    if info is None:
        return 1
    if not info["exists"]:
        print(f"nothing to clear: {folder} does not exist")
        return 0
    blocked = info.get("error") or info.get("fit_error")  # a file in a cache's place, say
    if not (info["n_vectors"] or info["n_fit_states"] or info["bytes"] or blocked):
        print(f"nothing to clear: no skmrl cache in {folder}")
        return 0
    what = (
        f"{info['n_vectors']:,} vector(s) and {info['n_fit_states']:,} fitted state(s) "
        f"({_human_bytes(info['bytes'])})"
    )
    # a file or link in the place of a cache's folder is removed too: name it (a user's own
    # file there was removed under "0 vector(s) ... (0 B)")
    blocking = [
        str(path)
        for path in (Path(folder) / STORE_DIR, Path(folder) / _FITS_DIR)
        if not path.is_dir() and (path.is_symlink() or path.exists())
    ]
    if blocking:
        what += " and " + ", ".join(f"{p!r}" for p in blocking) + ", in the place of its folder"
    if not args.yes and sys.stdin.isatty() and not _confirm(f"Remove {what} from {folder}?"):
        print("nothing removed")
        return 1
    try:
        n_vectors = clear_disk_cache(folder)
    except OSError as exc:  # a file it may not remove, or on Windows one held open elsewhere
        hint = ""
        if isinstance(exc, PermissionError) and _WINDOWS:
            hint = (
                "; on Windows a file that a process has open cannot be removed: close the "
                "Python sessions that use this folder (memory=) and clear again"
            )
        # files removed before the one that failed stay removed: say so, and where to look
        print(
            f"skmrl cache clear: error: {exc}{hint} (the cache may be cleared in part: "
            f"'skmrl cache info --cache-dir {folder}' shows what is left)",
            file=sys.stderr,
        )
        return 1
    removed = f"{n_vectors:,} vector(s) and {info['n_fit_states']:,} fitted state(s) "
    removed += f"({_human_bytes(info['bytes'])})"
    if blocking:
        removed += " and " + ", ".join(f"{p!r}" for p in blocking)
    print(f"removed {removed} from {folder}")
    return 0


def _add_cache_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="the cache folder (default: $SKMRL_CACHE_DIR, else $XDG_CACHE_HOME/skmrl, "
        "else ~/.cache/skmrl)",
    )


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl cache info|clear`` on the subparsers ``sub``."""
    cache = sub.add_parser(
        "cache",
        help="show or empty the disk cache of vectors and fitted states",
        description=_DESCRIPTION,
    )
    cache_sub = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = cache_sub.add_parser(
        "info",
        help="what the cache holds: vectors, fitted states, size on disk",
        description="Show what skmrl's disk cache holds: the stored vectors and the models they "
        "come from, the fitted states, and their size on disk.",
    )
    _add_cache_dir(info)
    info.set_defaults(func=_cache_info, parser=info)
    clear = cache_sub.add_parser(
        "clear",
        help="remove the cached vectors and fitted states",
        description="Remove skmrl's cached vectors and fitted states from the cache folder "
        "(other files there are kept). Asks first when run in a terminal, unless --yes.",
    )
    _add_cache_dir(clear)
    clear.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    clear.set_defaults(func=_cache_clear, parser=clear)
    return cache
