"""What the subcommands share: argparse types and the cache folder they name.

Nothing here imports torch, scikit-learn or numpy.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

#: Positions the packaged all-MiniLM-L6-v2 accepts (the demo's bound of --max-length).
MAX_LENGTH_BOUND = 512
#: ``--cache-dir`` values that turn the disk cache off.
NO_CACHE = ("", "none")


def int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse ``type=``: an int ``>= minimum``, else an error that says why."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {number}")
        return number

    return parse


def positive_float(value: str) -> float:
    """An argparse ``type=``: a finite number ``> 0``."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value!r}")
    return number


def max_length(value: str) -> int:
    """``--max-length`` of the demo: an int in [1, 512]."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not 1 <= number <= MAX_LENGTH_BOUND:
        raise argparse.ArgumentTypeError(
            f"expected an int in [1, {MAX_LENGTH_BOUND}] (the tokens the packaged MiniLM "
            f"accepts), got {value!r}"
        )
    return number


def cache_folder(value: str | None) -> Path | None:
    """The folder ``--cache-dir`` names: None for 'none' or '', the default when not given."""
    if value is not None and value.strip().lower() in NO_CACHE:
        return None
    if value is None:
        from skmrl.cache import default_cache_dir

        return default_cache_dir()
    return Path(value).expanduser()
