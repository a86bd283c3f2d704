"""The ``skmrl`` command.

``skmrl demo`` (:mod:`skmrl.cli.demo`): accuracy against ``dim`` on BBC News (5-fold CV,
LogisticRegression) for each embedder (TfidfBaseline's LSA, Word2VecEmbedder, MatryoshkaEmbedder,
and MatryoshkaEmbedder with a supervised adaptor side by side), from one ``GridSearchCV`` over
``dim`` per embedder, with the time each grid took.

``skmrl finetune`` (:mod:`skmrl.cli.finetune`): make an encoder Matryoshka from a CSV file (texts,
texts with labels, or scored sentence pairs) and save it as a model folder.

``skmrl cache info`` and ``skmrl cache clear`` (:mod:`skmrl.cli.cache`): what skmrl's disk cache
holds, and emptying it.

Every argument is checked before any work starts (no dataset or model is loaded for a bad one),
and a bad one ends in a one-line argparse error and exit status 2. This package imports neither
torch nor scikit-learn itself: the subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from skmrl import __version__
from skmrl.cli import cache, demo, finetune

__all__ = ["main"]

#: ``skmrl --help``'s description (plain text: argparse prints it as is).
_DESCRIPTION = (
    "skmrl: text embeddings as scikit-learn transformers, with the embedding size (dim) as a "
    "hyperparameter. 'skmrl demo' compares the embedders' accuracy against dim on BBC News; "
    "'skmrl finetune' makes an encoder Matryoshka from a CSV file and saves it; "
    "'skmrl cache' shows or empties the disk cache of encoded vectors."
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skmrl", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"skmrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parser(sub)
    finetune.add_parser(sub)
    cache.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skmrl`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a bad argument (argparse exits with it itself),
        1 when the work could not be done, 130 when interrupted.

    Examples
    --------
    >>> from skmrl.cli import main
    >>> main(["demo", "--only", "TfidfBaseline", "--dims", "8", "16"])  # doctest: +SKIP
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
