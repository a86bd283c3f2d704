"""The check of ``--data`` that the benchmarks run before any work.

A script that reads the shared data folder calls :func:`check_data` right after parsing its
arguments, with the files it will read: a wrong ``--data`` then fails at once with one line
naming what is missing (or left as a Git LFS pointer), not minutes later with a traceback
from ``skmrl.datasets`` (or from a child process). The scripts import it as
``from _data import check_data``: Python puts the folder of the script it runs first on
``sys.path``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from skmrl.datasets import _check_not_lfs_pointer

#: The files each dataset is read from, under the shared data folder (see its README).
STS_TRAIN = "stsbenchmark/sts-train.csv"
STS_DEV = "stsbenchmark/sts-dev.csv"
TREC = "trec/question_labels.txt"
SMS = "sms-spam/sms-spam.csv"
DBPEDIA = (
    "retrieval/dbpedia/corpus.jsonl",
    "retrieval/dbpedia/queries.jsonl",
    "retrieval/dbpedia/qrels/test.tsv",
)


def check_data(parser: argparse.ArgumentParser, data: Path | None, *files: str) -> None:
    """Exit through ``parser.error`` unless the folder ``data`` holds each of ``files``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser: its usage line and exit status 2 go with the message.
    data : Path or None
        The ``--data`` argument. ``None`` (not given) is refused when ``files`` are needed.
    *files : str
        Paths under ``data`` that the run will read. With none, only ``data`` itself is
        checked: a ``--data`` given to a run that does not read it must still exist.
    """
    if data is None:
        if files:
            parser.error(f"--data DIR is needed (the shared data folder, holding {files[0]})")
        return
    if not data.is_dir():
        parser.error(f"--data {data}: no such folder (pass the shared data folder)")
    missing = [f for f in dict.fromkeys(files) if not (data / f).is_file()]
    if missing:
        parser.error(f"--data {data}: no {', '.join(missing)} there (pass the shared data folder)")
    for f in dict.fromkeys(files):
        with open(data / f, "rb") as file:
            head = file.read(100)
        try:
            _check_not_lfs_pointer(head, data / f)
        except ValueError as exc:
            parser.error(f"--data {data}: {exc}")


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type`` for a count: an int ``>= low`` (the ``skmrl`` command's own check).

    A value below ``low`` (``--repeats 0``, ``--n -5``) then fails at once with argparse's one
    line naming the option (``argument --repeats: expected an int >= 1, got 0``), not with a
    traceback once the run has started (``min() arg is an empty sequence`` after the work, a
    ``ZeroDivisionError``, or a child process's error).

    Parameters
    ----------
    low : int
        The smallest value accepted.

    Returns
    -------
    callable
        ``str -> int``, raising :class:`argparse.ArgumentTypeError` for a non-int or a value
        below ``low``.
    """
    from skmrl.cli._common import int_at_least as cli_int_at_least

    parse = cli_int_at_least(low, f"an int >= {low}")
    parse.__name__ = f"int >= {low}"
    return parse


def device(text: str) -> str:
    """An argparse ``type`` for ``--device``: ``text`` itself, once skmrl can use it here.

    ``gpu``, or ``cuda`` on a machine without one, then fails at once with argparse's one line
    (skmrl's own message: the accepted forms, or the devices available), not with a traceback
    from torch or sentence-transformers once the model is loaded.
    """
    from skmrl._torch.device import resolve_device

    try:
        resolve_device(text)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
