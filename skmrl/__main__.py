"""``python -m skmrl``: the ``skmrl`` command, as ``python -m skmrl.cli``."""

import sys

from skmrl.cli import main

if __name__ == "__main__":  # not when a doctest collector imports this module
    sys.exit(main())
