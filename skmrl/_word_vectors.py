"""Word vectors: the :class:`WordVectors` table and the readers of pretrained vector files.

Public through :mod:`skmrl.word2vec`: ``from skmrl.word2vec import WordVectors, load_word_vectors``.
"""

from __future__ import annotations

import io
import itertools
import numbers
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skmrl._compression import compression_of
from skmrl._progress import check_progress, progress_bar
from skmrl._validation import check_dim, is_lfs_pointer
from skmrl._vocab import _token_coverage
from skmrl._warn import caller_stacklevel, first_warning

__all__ = ["WordVectors", "load_word_vectors"]

#: A vectors file that holds fewer of the corpus's token occurrences than this share warns.
MIN_VECTORS_COVERAGE = 0.5
#: Files smaller than this are read without a bar (about 1 s of reading).
_PROGRESS_MIN_BYTES = 16 * 2**20
#: Lines or entries read between two updates of the bar.
_PROGRESS_EVERY = 4096
#: ``load_word_vectors``' ``unicode_errors``: the error handlers of ``bytes.decode`` it takes.
_UNICODE_ERRORS = ("strict", "ignore", "replace")
#: Said where a word is not UTF-8: word2vec.c cuts long words at a byte, mid-character.
_UNICODE_HINT = (
    "; where words are cut mid-character (word2vec.c cuts long words at a byte), "
    "load_word_vectors(path, unicode_errors='replace') or 'ignore' reads them"
)


class _FieldCountError(ValueError):
    """A line of a text file with another count of numbers than the file's size."""


class _NotUTF8Error(ValueError):
    """A word that is not UTF-8, with ``load_word_vectors``' hint (``unicode_errors``);
    ``Word2VecEmbedder``, which reads its file strictly, says what to do there instead."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)  # its args: unpickled (from a worker process) as made
        self.problem = problem

    def __str__(self) -> str:
        return self.problem + _UNICODE_HINT


class WordVectors:
    """A vocabulary and its table of word vectors (what ``Word2VecEmbedder.wv_`` holds).

    Parameters
    ----------
    index_to_key : list of str
        The words, by row of ``vectors``.
    vectors : ndarray of shape (n_words, dim), float32
        One vector per word; every prefix of a row is a (smaller) word vector.
    counts : ndarray of shape (n_words,)
        Occurrences of each word in the training corpus (0 for words known only from a
        pretrained file).

    Raises
    ------
    ValueError
        When ``vectors`` is not 2-D, when the words, the rows of ``vectors`` and the counts
        differ in number, or when a word appears twice.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.word2vec import WordVectors
    >>> wv = WordVectors(["cat", "dog"], np.eye(2, dtype=np.float32), np.array([3, 1]))
    >>> wv["dog"]
    array([0., 1.], dtype=float32)
    >>> "cat" in wv, len(wv)
    (True, 2)
    """

    def __init__(self, index_to_key: list[str], vectors: np.ndarray, counts: np.ndarray) -> None:
        # Checked here: unequal lengths gave a len() with words past the table's rows (a raw
        # IndexError on lookup), and a repeated word was its own nearest neighbour.
        index_to_key = list(index_to_key)
        vectors = np.asarray(vectors)
        counts = np.asarray(counts, dtype=np.int64)
        if vectors.ndim != 2:
            raise ValueError(
                f"vectors must be a 2-D array of shape (n_words, dim), got shape {vectors.shape}"
            )
        if counts.ndim != 1:
            raise ValueError(f"counts must be a 1-D array of shape (n_words,), got {counts.shape}")
        if not len(index_to_key) == len(vectors) == len(counts):
            raise ValueError(
                f"index_to_key, vectors and counts must have one entry per word, got "
                f"{len(index_to_key)} words, {len(vectors)} vector rows and {len(counts)} counts"
            )
        key_to_index: dict[str, int] = {}
        for i, word in enumerate(index_to_key):
            if key_to_index.setdefault(word, i) != i:
                raise ValueError(
                    f"index_to_key repeats the word {word!r} (positions {key_to_index[word]} "
                    f"and {i}); each word must appear once"
                )
        self.index_to_key = index_to_key
        self.key_to_index = key_to_index
        self.vectors = vectors
        self.counts = counts

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.key_to_index[word]]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words)") from None

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, dim={self.vectors.shape[1]})"

    def most_similar(self, word: str, topn: int = 10, dim: int | None = None) -> list[tuple]:
        """The ``topn`` words closest to ``word`` by cosine similarity of ``dim``-prefixes.

        Parameters
        ----------
        word : str
            A vocabulary word.
        topn : int, default=10
            How many neighbours to return.
        dim : int, optional
            Compare the first ``dim`` coordinates only (default: all).

        Returns
        -------
        list of (str, float)
            Neighbours by decreasing similarity, ``word`` itself excluded.
        """
        if isinstance(topn, bool) or not isinstance(topn, numbers.Integral) or topn < 1:
            raise ValueError(f"topn must be a positive int, got {topn!r}")
        dim = check_dim(dim, self.vectors.shape[1])
        query = self[word]
        table = self.vectors if dim is None else self.vectors[:, :dim]
        query = query if dim is None else query[:dim]
        norms = np.linalg.norm(table, axis=1) * np.linalg.norm(query)
        sims = np.divide(table @ query, norms, out=np.zeros(len(table)), where=norms > 0)
        sims[self.key_to_index[word]] = -np.inf
        top = np.argsort(-sims, kind="stable")[: min(int(topn), len(self) - 1)]
        return [(self.index_to_key[i], float(sims[i])) for i in top]


def _parse_floats(fields: Sequence[str], where: str) -> np.ndarray:
    """The numbers of a line, as float32; one beyond float32's range becomes inf, which the
    reader reports as a non-finite value of the line (with no RuntimeWarning before it)."""
    try:
        with np.errstate(over="ignore"):
            return np.asarray([float(x) for x in fields], dtype=np.float32)
    except ValueError:
        bad = next(x for x in fields if not _is_float(x))
        raise ValueError(f"{where}: {bad!r} is not a number") from None


def _n_trailing_numbers(fields: Sequence[str]) -> int:
    """How many fields at the end of a line are numbers, leaving the first for the word."""
    n = 0
    while n < len(fields) - 1 and _is_float(fields[-n - 1]):
        n += 1
    return n


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def load_word_vectors(
    path: str | os.PathLike, *, progress: bool | None = None, unicode_errors: str = "strict"
) -> tuple[list[str], np.ndarray]:
    """Read word vectors in word2vec text, word2vec binary or GloVe text format.

    The format is detected: a first line of two integers ``n_words dim`` is a word2vec header
    (the body is then text if its first line parses as a word and ``dim`` numbers, or as a word
    and two or more numbers of another count, an error that names the line, or if its every
    line is a word and one number, an error that names both sizes; else binary float32);
    otherwise every line is ``word x1 ... xdim`` (GloVe).

    As word2vec and GloVe write them (and gensim reads them), lines end at ``"\\n"`` (or
    ``"\\r\\n"``) and fields are separated by spaces ``" "``: a no-break space, U+2028 or any
    other character inside a word is part of the word. A tab separates fields only where numbers
    follow it (``"cat\\t0.1 0.2"`` is the word ``cat`` and two numbers, ``"a\\tb 0.1 0.2"`` the
    word ``"a\\tb"``). A word may also hold spaces (GloVe 840B has ``". . ."``): the last ``dim``
    fields of a line are its numbers and the fields before them, joined by ``" "``, the word,
    provided the word does not end in a number (``dim`` is the header's, or in GloVe files the
    count of numbers that end the first line). A UTF-8 byte-order mark at the start of the file
    is ignored. Compressed files (gzip, bzip2, xz, zip, zstd) are not read: decompress them first.

    A word that appears more than once keeps its first vector (files are ordered by frequency;
    GloVe 840B repeats some words), as gensim does, with a warning that counts them, once per
    file and process.

    Parameters
    ----------
    path : str or path
        The file.
    progress : bool or None, default=None
        Show a bar of the bytes read, for files of 16 MiB or more (text is read at about 30 MB/s
        on one core: GloVe 6B's 300-dim file, 1 GB, takes half a minute); ``None``: when stderr
        is a terminal or in a notebook.
    unicode_errors : {"strict", "ignore", "replace"}, default="strict"
        What to do with a word that is not UTF-8 (word2vec.c cuts words longer than its limit
        at a byte, which may fall inside a character): ``"strict"`` refuses the file, naming
        the line or entry; ``"ignore"`` drops the bytes that do not decode, ``"replace"`` makes
        them U+FFFD, as gensim's ``unicode_errors`` does. Words that become one keep the first
        vector (see above).

    Returns
    -------
    words : list of str
    vectors : ndarray of shape (n_words, dim), float32

    Raises
    ------
    ValueError
        For a malformed file; the message names the line (or, in binary files, the entry). For
        a compressed file, a fastText model, a pickle, a NumPy array or UTF-16 text, saying so.

    Examples
    --------
    >>> import tempfile, os
    >>> from skmrl.word2vec import load_word_vectors
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "glove.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("cat 0.1 0.2\\ndog 0.3 0.4\\n")
    >>> words, table = load_word_vectors(path)
    >>> words, table.shape
    (['cat', 'dog'], (2, 2))
    """
    check_progress(progress)
    if not isinstance(unicode_errors, str) or unicode_errors not in _UNICODE_ERRORS:
        raise ValueError(
            f"unicode_errors must be 'strict', 'ignore' or 'replace', got {unicode_errors!r}"
        )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"vectors file not found: {path}")
    size = path.stat().st_size
    shown = progress if size >= _PROGRESS_MIN_BYTES else False
    bar = progress_bar(shown, size, "reading vectors", "B", unit_scale=True, unit_divisor=1024)
    with bar:
        words, table, binary, first_line = _read(path, bar, unicode_errors)
    return _first_of_duplicates(path, words, table, binary=binary, first_line=first_line)


def _first_of_duplicates(
    path: Path, words: list[str], table: np.ndarray, *, binary: bool, first_line: int
) -> tuple[list[str], np.ndarray]:
    """``words`` and ``table`` with the first entry of each word only, as gensim keeps them
    (GloVe 840B repeats words: refused, the file could not be read at all). Warns once per file
    and process, naming the first repeated word and where it appears: its entries in a
    ``binary`` file, else its lines, the first word's being ``first_line``."""
    index: dict[str, int] = {}
    keep = [index.setdefault(word, i) == i for i, word in enumerate(words)]
    n_dropped = len(words) - len(index)
    if not n_dropped:
        return words, table
    first = next(i for i, kept in enumerate(keep) if not kept)
    word = words[first]
    where = [i + (1 if binary else first_line) for i, w in enumerate(words) if w == word]
    stat = path.stat()
    key = f"vectors-duplicates|{os.path.realpath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
    if first_warning(key):
        shown = ", ".join(map(str, where[:5])) + (", ..." if len(where) > 5 else "")
        one, noun = ("entry", "entries") if binary else ("line", "lines")
        count = f"{n_dropped} {noun} repeat" if n_dropped > 1 else f"1 {one} repeats"
        warnings.warn(
            f"{path}: {count} a word of an earlier one, the first "
            f"{word!r} ({noun} {shown}); the first vector of each word is kept, as gensim "
            "keeps it. (Warned once per file.)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    kept = np.flatnonzero(keep)
    return [words[i] for i in kept], table[kept]


def _read(path: Path, bar: Any, errors: str) -> tuple[list[str], np.ndarray, bool, int]:
    """:func:`load_word_vectors`' reading, the bytes read counted on ``bar`` (a tqdm): the
    words (repeated words included), their table, whether the file is binary, and the line of
    the first word. ``errors``: how words that are not UTF-8 are decoded (``unicode_errors``)."""
    # Text is read a line at a time: read whole (bytes, then str, then a list of lines), a file
    # took 7 to 11 times the memory of its table (GloVe 840B: 5.6 GB of text, a 2.6 GB table).
    with path.open("rb") as f:
        _check_not_compressed(path, f.read(64))
        f.seek(0)
        first = f.readline().removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        _check_line_ends(path, first)
        header = _split_fields(first.decode("latin-1").rstrip("\r\n"))
        if len(header) == 2 and all(h.isascii() and h.isdigit() for h in header):
            n_words, dim = int(header[0]), int(header[1])
            if n_words < 1 or dim < 1:
                raise ValueError(f"{path}: line 1: header says {n_words} words of dim {dim}")
            blank: list[bytes] = []  # before the first entry: an error in text, skipped in binary
            second = f.readline()
            while second and not second.strip(b" \r\n"):
                blank.append(second)
                second = f.readline()
            bar.update(len(first))
            if _is_text_entry(second, dim):
                raw_lines = itertools.chain(blank, [second], f)
                lines = _lines(path, raw_lines, first_line=2, bar=bar, errors=errors)
                words, table = _read_text(path, lines, first_line=2, dim=dim)
                binary = False
            else:
                body = b"".join(blank) + second + f.read()
                width = _text_width(body)
                if width is None and _is_text_body(body, n_words):
                    # A typo, decimal commas, or a first word of a byte that is not UTF-8:
                    # read as binary, ASCII digits became garbage float32s without an error.
                    lines = _lines(path, io.BytesIO(body), first_line=2, bar=bar, errors=errors)
                    try:
                        words, table = _read_text(path, lines, first_line=2, dim=dim)
                        return words, table, False, 2
                    except _FieldCountError as text_error:
                        # no line of numbers at all: a binary file whose floats' bytes are
                        # digits, points and commas (1e-8 and so on) reads as what it is
                        try:
                            words, table = _read_binary(
                                path, body, n_words, dim, bar=bar, errors=errors
                            )
                        except ValueError:
                            raise text_error from None
                        return words, table, True, 2
                if width is not None and width != dim:
                    numbers = "1 number" if width == 1 else f"{width} numbers"
                    raise ValueError(
                        f"{path}: line 1: header says dim {dim}, but every line after it is a "
                        f"word and {numbers}: a text file whose header is wrong; write "
                        f"{width} as the header's second number"
                    )
                words, table = _read_binary(path, body, n_words, dim, bar=bar, errors=errors)
                binary = True
            if len(words) != n_words:
                raise ValueError(
                    f"{path}: line 1: header announces {n_words} words but the file has "
                    f"{len(words)}"
                )
            return words, table, binary, 2
        lines = _lines(path, itertools.chain([first], f), first_line=1, bar=bar, errors=errors)
        return (*_read_text(path, lines, first_line=1, dim=None), False, 1)


#: Compressed files and archives, by their kind (:func:`skmrl._compression.compression_of`):
#: (what it is, how to unpack it).
_COMPRESSED = {
    "gzip": ("a gzip-compressed file", "decompress it first (gunzip)"),
    "bzip2": ("a bzip2-compressed file", "decompress it first (bunzip2)"),
    "xz": ("an xz-compressed file", "decompress it first (unxz)"),
    "zip": ("a zip archive", "unzip it and give the vectors file it holds"),
    "zstd": ("a zstd-compressed file", "decompress it first (unzstd)"),
}
#: Leading bytes of files that hold vectors in a form this reader does not take: (what it is,
#: what to give instead). They failed as "line 1: not UTF-8 text".
_UTF16_TODO = "save it as UTF-8 (iconv -f UTF-16 -t UTF-8 IN > OUT)"
_OTHER_FORMATS = {
    # fastText's model .bin starts with its magic number, int32 793712314, little-endian
    (793712314).to_bytes(4, "little"): (
        "a fastText model (.bin)",
        "give its .vec text file (fastText publishes both; or write one with fasttext's "
        "get_words and get_word_vector)",
    ),
    b"\x93NUMPY": (
        "a NumPy .npy array",
        "it holds no words: write a word2vec or GloVe text file (a word, then its numbers, "
        "on each line)",
    ),
    # Text saved as UTF-16 (PowerShell's ">", Notepad's "Unicode"): every other byte a NUL,
    # which the "not UTF-8" hint about words cut mid-character did not explain
    b"\xff\xfe": ("UTF-16 text (its byte-order mark)", _UTF16_TODO),
    b"\xfe\xff": ("UTF-16 text (its byte-order mark)", _UTF16_TODO),
    b"\x80": (
        "a Python pickle (a gensim .model or .kv file?)",
        "export it with gensim's KeyedVectors.save_word2vec_format(path) and give that file",
    ),
}


def _check_line_ends(path: Path, first: bytes) -> None:
    """Refuse a file whose lines end at a carriage return alone (classic Mac OS): its first
    line, read up to a newline, is the whole file (no newline ends it), and was read as one
    word holding the others (``"2 2\\rcat 0.1 0.2\\rdog"``). A carriage return inside a line
    that a newline ends stays what it was (part of a word, or the whitespace after a
    number)."""
    if first.endswith(b"\n") or b"\r" not in first.rstrip(b"\r\n"):
        return
    # each piece between carriage returns an entry (a word, then a number last), not a word
    # that holds one ("ca\\rt 0.1 0.2" on a file's only line)
    pieces = [piece.split() for piece in first.rstrip(b"\r\n").split(b"\r") if piece.strip()]
    if len(pieces) > 1 and all(
        len(fields) > 1 and _is_float(fields[-1].decode("latin-1")) for fields in pieces
    ):
        raise ValueError(
            f"{path}: line 1: its lines end at a carriage return alone (an old Mac text file), "
            "not at a newline: convert them first (tr '\\r' '\\n' < IN > OUT)"
        )


def _check_not_compressed(path: Path, head: bytes) -> None:
    """Refuse a compressed file (GoogleNews-vectors-negative300.bin.gz, glove.6B.zip), which
    was read as GloVe text: "line 1: not UTF-8 text", and a Git LFS pointer left in place of
    the file, read as a line of text that is no word and numbers."""
    if is_lfs_pointer(head):
        raise ValueError(
            f"{path} is a Git LFS pointer (a few lines of text), not the vectors: fetch the "
            "file itself (git lfs pull in the repository it comes from) or pass another copy"
        )
    compressed = compression_of(head)
    if compressed is not None:
        what, todo = _COMPRESSED[compressed]
        raise ValueError(
            f"{path}: {what}; {todo}: load_word_vectors reads plain word2vec text or binary and "
            "GloVe text files"
        )
    for magic, (what, todo) in _OTHER_FORMATS.items():
        # a pickle's 0x80 is followed by its protocol (2 to 5); none of these starts UTF-8 text
        if head.startswith(magic) and (
            magic != b"\x80" or head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
        ):
            raise ValueError(
                f"{path}: line 1: not UTF-8 text, nor a word2vec binary file; it looks like "
                f"{what}: {todo}"
            )


def _is_text_entry(line: bytes, dim: int) -> bool:
    """Whether ``line``, the first entry after a word2vec header of size ``dim``, is text: a
    word and ``dim`` numbers, or a word and only numbers, two or more, of another count (a
    header that disagrees with its text body: ``_read_text`` then names the line; read as
    binary, such a file gave "file ends early" or, where the byte counts fitted, garbage
    vectors). Not one number: a binary entry's float bytes read as one now and then (a digit
    then a newline byte make ``word 9\\n``), as two separated by a space almost never.

    Whatever ``unicode_errors`` says, bytes that are not UTF-8 are text only within a word
    without spaces (:func:`_text_fields`): dropped (``"ignore"``), a binary entry's
    ``b"\\x80 1 \\x80 2"`` read as the numbers 1 and 2."""
    fields = _text_fields(line, dim)
    if fields is None:
        return False
    if len(fields) > dim and all(_is_float(x) for x in fields[-dim:]):
        return True
    return len(fields) > 2 and _n_trailing_numbers(fields) == len(fields) - 1


#: A word with bytes that are not UTF-8 (``surrogateescape``): one cut mid-character, or a
#: Latin-1 word (``na\xefve``); never one with a space, nor bytes alone.
_UNDECODED_WORD = re.compile(r"\S*[^\s\udc80-\udcff]\S*")


def _text_fields(line: bytes, dim: int | None = None) -> list[str] | None:
    """The fields of ``line`` as text (:func:`_split_fields`), or None where it is not: bytes
    that are not UTF-8 anywhere but in the first field, or in a first field that holds a space
    or nothing else (a word word2vec.c cut at a byte, or a Latin-1 one, is a word without
    spaces, which ``unicode_errors`` then reads)."""
    text = line.decode("utf-8", "surrogateescape").rstrip("\n").removesuffix("\r")
    fields = _split_fields(text, dim)
    if text.isascii() or not _has_undecoded(text):
        return fields
    if any(_has_undecoded(f) for f in fields[1:]) or not _UNDECODED_WORD.fullmatch(fields[0]):
        return None
    return fields


def _has_undecoded(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


#: A line longer than this is not one of a text body (``_text_width``): a binary body with
#: no newline byte for gigabytes is not decoded whole to say so.
_MAX_TEXT_LINE = 2**20


#: Control characters, which no line of a text vectors file holds (a tab separates fields).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _is_text_body(body: bytes, n_words: int) -> bool:
    """Whether ``body``, the part of a file after a word2vec header of ``n_words`` words, is
    text that ``_is_text_entry`` and ``_text_width`` did not take for it: a number that is not
    one (``0.2x``, decimal commas ``0,1``, a minus sign ``\u22120.1`` pasted from a document),
    or a first word of one byte that is not UTF-8 (Latin-1 ``\xe0``). It is ``n_words``
    lines without control characters, each a word and UTF-8 fields after it, most of which
    look like numbers (:data:`_NUMBER_LIKE`). Read as binary, such a file gave garbage vectors
    without an error where the byte counts fitted; read as text, the line is named.

    A binary entry's float bytes make such a line only where every one is a printable
    character and none a newline; they then look like numbers almost never (4 bytes of digits,
    signs, points or commas, about 1 in 1,600 per float; more than half of them): a file of
    printable floats such as ``333>`` stays binary."""
    n = 0
    fields_seen = numbers = 0
    for raw in _body_lines(body):
        if raw is None:
            return False
        line = raw.removesuffix(b"\r")
        if _CONTROL_BYTES.search(line):
            return False
        fields = line.split()
        if not fields:
            continue
        n += 1
        if n > n_words or len(fields) < 2:
            return False
        try:
            rest = [field.decode("utf-8") for field in fields[1:]]
        except UnicodeDecodeError:
            return False
        fields_seen += len(rest)
        numbers += sum(1 for field in rest if _NUMBER_LIKE.fullmatch(field))
    return n == n_words and 2 * numbers > fields_seen


#: A field that looks like a number, well formed or not (a typo aside): digits with signs,
#: points, commas or an exponent, a Unicode minus included.
_NUMBER_LIKE = re.compile(r"[-+\u2212]?[0-9.,]*[0-9][0-9.,]*(?:[eE][-+\u2212]?[0-9]+)?")


def _body_lines(body: bytes) -> Iterator[bytes | None]:
    """The lines of ``body``, split at newlines (kept apart), then ``None`` in place of one
    longer than :data:`_MAX_TEXT_LINE`, which ends them."""
    pos = 0
    while pos < len(body):
        end = body.find(b"\n", pos)
        end = len(body) if end < 0 else end
        if end - pos > _MAX_TEXT_LINE:
            yield None
            return
        yield body[pos:end]
        pos = end + 1


def _text_width(body: bytes) -> int | None:
    """The count of numbers on each line of ``body``, the part of a file after a word2vec
    header, where every non-blank line is UTF-8 text of a word and the same count of numbers;
    ``None`` otherwise (a binary body: its float bytes make such lines at most by chance, and
    the first line that is not one ends the scan).

    A text file whose header states another size and whose lines hold one number (``"2 2"``,
    then ``"cat 0.10000"``) is not taken for text by ``_is_text_entry`` (a binary entry's
    bytes make one number now and then): read as binary, its ASCII digits became float32s
    (6.4e-10) without an error, where the byte counts fitted. Bytes that are not UTF-8 are
    kept apart, as in ``_is_text_entry``."""
    width = None
    for line in _body_lines(body):
        fields = None if line is None else _text_fields(line)
        if fields is None:
            return None
        if not fields:
            continue
        n = _n_trailing_numbers(fields)
        if n < 1 or (width is not None and n != width):
            return None
        width = n
    return width


def _lines(
    path: Path, raw_lines: Iterable[bytes], first_line: int, bar: Any, errors: str = "strict"
) -> Iterator[str]:
    """The decoded lines of a text file, read in binary: lines end at ``"\\n"`` only (a
    ``"\\r"`` before it is dropped), so U+2028, U+0085 and the other characters that
    ``str.splitlines`` breaks at may be part of a word. Their bytes are counted on ``bar``."""
    done = 0  # bytes not yet counted on the bar
    for lineno, raw in enumerate(raw_lines, start=first_line):
        done += len(raw)
        if lineno % _PROGRESS_EVERY == 0:
            bar.update(done)
            done = 0
        try:
            line = raw.decode("utf-8", errors)
        except UnicodeDecodeError:
            raise _NotUTF8Error(f"{path}: line {lineno}: not UTF-8 text") from None
        yield line.removesuffix("\n").removesuffix("\r")
    bar.update(done)


def _split_fields(line: str, dim: int | None = None) -> list[str]:
    """Fields are separated by ``" "``, as word2vec and GloVe write them (and gensim reads
    them): a no-break space or any other whitespace inside a word belongs to the word.

    A tab also separates fields where numbers follow it (``"cat\\t0.1 0.2"``, which was read
    as the word ``"cat\\t0.1"`` and one number fewer), but only where that gives a word and
    exactly the file's ``dim`` numbers: ``"Route\\t66 0.3 0.4"`` in a file of size 2 is the
    word ``"Route\\t66"``, and a word that is a tab (or a tab and a number) stays that word.
    Where ``dim`` is not known yet (the first line of a file without a header, which sets it)
    the tab separates wherever a word is left before it: such a first line
    ``"Route\\t66 0.3 0.4"`` sets the size 3.
    """
    fields = [field for field in line.split(" ") if field]
    if "\t" not in line:
        return fields
    tabbed = [part for field in fields for part in _split_tabs(field)]
    word = _split_tabs(fields[0])
    if not word or not fields[0].startswith(word[0]):  # the tab split leaves no word
        return fields
    if dim is not None and not (len(tabbed) > dim and _n_trailing_numbers(tabbed) == dim):
        return fields
    return tabbed


def _split_tabs(field: str) -> list[str]:
    """A ``field`` (no spaces in it) cut at the tabs that only numbers (or tabs) follow."""
    pieces = field.split("\t")
    n = 0  # pieces at the end that are numbers or empty (between two tabs, or at the end)
    while n < len(pieces) - 1 and (not pieces[-n - 1] or _is_float(pieces[-n - 1])):
        n += 1
    head = "\t".join(pieces[: len(pieces) - n])
    return [part for part in (head, *pieces[len(pieces) - n :]) if part]


def _read_text(
    path: Path, lines: Iterable[str], *, first_line: int, dim: int | None
) -> tuple[list[str], np.ndarray]:
    """Words and vectors of the ``lines`` of a text file (numbered from ``first_line``). Blank
    lines at the end of the file are ignored; one before another line is an error."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    source = " (as the header says)" if dim is not None else ""
    blank = None  # the first of the blank lines seen since the last word
    for lineno, line in enumerate(lines, start=first_line):
        fields = _split_fields(line, dim)
        if not fields:
            blank = lineno if blank is None else blank
            continue
        if blank is not None:
            raise ValueError(f"{path}: line {blank}: empty line")
        where = f"{path}: line {lineno}"
        if dim is None:  # GloVe: the size is the run of numbers that ends the first line
            dim = _n_trailing_numbers(fields)
            source = f" (as on line {lineno})"
            if dim < 1:
                raise ValueError(f"{where}: expected a word followed by numbers, got {line!r:.60}")
        if len(fields) < dim + 1:
            raise _FieldCountError(
                f"{where}: expected a word and {dim} numbers{source}, got {len(fields) - 1} "
                f"fields after the word {fields[0]!r:.40}"
            )
        if len(fields) > dim + 1 and _is_float(fields[-dim - 1]):
            n = _n_trailing_numbers(fields)
            raise _FieldCountError(
                f"{where}: expected a word and {dim} numbers{source}, got {n} numbers after the "
                f"word {' '.join(fields[:-n])!r:.40} (a word may hold spaces, but not end in a "
                "number)"
            )
        word = " ".join(fields[:-dim])  # GloVe 840B has words with spaces, such as ". . ."
        rows.append(_parse_floats(fields[-dim:], where))
        words.append(word)
    if not rows:
        raise ValueError(f"{path}: the vectors file is empty")
    table = np.vstack(rows).astype(np.float32, copy=False)
    if not np.isfinite(table).all():
        bad = int(np.nonzero(~np.isfinite(table).all(axis=1))[0][0])
        raise ValueError(f"{path}: line {bad + first_line}: non-finite value")
    return words, table


def _read_binary(
    path: Path, body: bytes, n_words: int, dim: int, bar: Any, errors: str = "strict"
) -> tuple[list[str], np.ndarray]:
    width = 4 * dim
    # Each entry is a word of a byte or more, a space and its floats: a header announcing more
    # than the body can hold is said before its table is allocated (a raw MemoryError of
    # terabytes, for a count off by a few digits).
    most = len(body) // (width + 2)
    if n_words > most:
        raise ValueError(
            f"{path}: line 1: header announces {n_words} words of dim {dim}, but the file's "
            f"{len(body)} bytes after it hold at most {most}"
        )
    words: list[str] = []
    table = np.empty((n_words, dim), dtype=np.float32)
    pos = 0
    counted = 0  # bytes of the body counted on the bar
    for i in range(n_words):
        if i % _PROGRESS_EVERY == 0:
            bar.update(pos - counted)
            counted = pos
        while pos < len(body) and body[pos : pos + 1] in (b"\n", b" "):
            pos += 1
        end = body.find(b" ", pos)
        where = f"{path}: entry {i + 1} (line {i + 2} counting the header)"
        if end < 0 or end + 1 + width > len(body):
            raise ValueError(f"{where}: file ends early, expected {n_words} words of dim {dim}")
        # After the first entry, a word that is not one is most often a header whose size is
        # not the vectors': every entry after the first is read from the wrong bytes
        size = f" (or the header's dim {dim} is not the vectors' size)" if i else ""
        try:
            word = body[pos:end].decode("utf-8", errors)
        except UnicodeDecodeError:
            raise _NotUTF8Error(f"{where}: the word is not UTF-8{size}") from None
        if not word or "\n" in word:
            raise ValueError(f"{where}: malformed word {word!r:.40}{size}")
        table[i] = np.frombuffer(body, dtype="<f4", count=dim, offset=end + 1)
        words.append(word)
        pos = end + 1 + width
    bar.update(len(body) - counted)
    if body[pos:].strip():
        raise ValueError(f"{path}: data after the {n_words} words the header announces")
    if not np.isfinite(table).all():
        bad = int(np.nonzero(~np.isfinite(table).all(axis=1))[0][0])
        raise ValueError(f"{path}: entry {bad + 1}: non-finite value")
    return words, table


def _low_coverage(known: int, total: int) -> bool:
    """Whether ``known`` of a corpus's ``total`` tokens are too few words of a vectors file."""
    return total > 0 and known < MIN_VECTORS_COVERAGE * total


def _vectors_coverage_message(
    path: str | os.PathLike,
    pre_words: list[str],
    known: int,
    total: int,
    *,
    skipped: bool,
    cased_tokens: Callable[[], list[list[str]]] | None,
) -> str:
    """Why a vectors file whose ``pre_words`` make only ``known`` of the corpus's ``total``
    tokens is a poor fit: a cased file read with ``lowercase=True``, another tokenizer, another
    language. ``skipped``: the other words are skipped (``epochs=0``), or start from random
    vectors. ``cased_tokens`` gives the corpus tokenized with ``lowercase=False`` (``None``:
    it was): a second pass, made only when the file has cased words, for a hint."""
    rest = "are skipped" if skipped else "start from random vectors"
    hint = ""
    if cased_tokens is not None and any(w != w.lower() for w in pre_words):
        cased, cased_total = _token_coverage(cased_tokens(), set(pre_words))
        if cased * total > known * cased_total:
            hint = (
                f" The file has cased words: with lowercase=False, {cased / cased_total:.1%}"
                " of the tokens would be found."
            )
    return (
        f"only {known / total:.1%} of the {total:,} tokens of the training corpus are words "
        f"of the vectors file {os.fspath(path)}; the others {rest}.{hint} "
        "(Warned once per parameter setting.)"
    )


#: Rows of a vectors table converted to float64 at a time by ``_principal_rotation``.
_ROTATION_CHUNK = 8192


def _principal_rotation(table: np.ndarray) -> np.ndarray:
    """Rotate a table onto its (uncentred) principal axes, by decreasing singular value.

    An orthogonal rotation: every dot product between words is unchanged at full size, and each
    prefix of ``k`` columns is the best rank-``k`` approximation of the table, so that pretrained
    vectors (which are not nested) get meaningful prefixes.

    The axes are the eigenvectors of the ``dim x dim`` Gram matrix ``table.T @ table``, summed
    in float64 a block of rows at a time: an SVD of the whole table made its ``n_words x dim``
    left factor and a float64 copy (five times the table's memory, 10 GB for GloVe 840B's 2.2
    million words; 14-24 s for 50,000 words of 300 dimensions on a busy 2-core machine, where
    this takes 1-4 s).
    """
    n_words, dim = table.shape
    gram = np.zeros((dim, dim), dtype=np.float64)
    for start in range(0, n_words, _ROTATION_CHUNK):
        block = table[start : start + _ROTATION_CHUNK].astype(np.float64)
        gram += block.T @ block
    eigenvalues, axes = np.linalg.eigh(gram)
    # By decreasing eigenvalue (squared singular value); with fewer words than dimensions, the
    # last axes span the null space and their columns are 0.
    axes = axes[:, np.argsort(-eigenvalues, kind="stable")]
    rotated = np.empty((n_words, dim), dtype=np.float32)
    for start in range(0, n_words, _ROTATION_CHUNK):
        block = table[start : start + _ROTATION_CHUNK].astype(np.float64)
        rotated[start : start + _ROTATION_CHUNK] = block @ axes
    return rotated
