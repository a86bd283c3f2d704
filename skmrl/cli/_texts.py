"""The texts of ``skmrl embed`` and ``skmrl bench``: a ``.txt`` file, or a CSV file's column.

The texts (:func:`read_texts`) come from a ``.txt`` file (one per line) or a CSV column. A
``.txt`` file is split into lines as a CSV file is, at ``"\\r\\n"``, ``"\\r"`` and ``"\\n"`` only
(and ``"\\r\\r\\n"``, as one line end), so a text may hold other line separators (a form feed,
``"\\u2028"``); the newline that ends the file ends its last text. An empty (or whitespace-only)
line is refused with its number, unless ``skip_empty``: then it is left out and counted. A CSV
file needs ``--text-col``; its empty cells, and those that stand for a missing value
(:data:`~skmrl.cli._columns.MISSING_MARKERS`: ``NaN``, ``None``, ``NA``), are refused or skipped
alike. Nothing here imports torch, scikit-learn, numpy or pandas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from skmrl.cli._columns import MISSING_MARKERS, column, text_cells
from skmrl.cli._csv import read_table, refuse_other_format, warn_repeated_header
from skmrl.cli._file_text import read_text_file, refuse_compressed
from skmrl.cli._refused import Refused

#: What ends a line of a .txt file: "\n" after any "\r"s (one line end: "\r\r\n" too), or "\r".
_TXT_LINE_END = re.compile(r"\r*\n|\r")

#: The suffixes of the two input kinds.
TEXT_SUFFIXES = (".txt",)
CSV_SUFFIXES = (".csv", ".tsv", ".tab")


@dataclass
class Texts:
    """The texts read, how many empty lines or cells were left out, and where each text was.

    ``rows[i]`` is the 0-based row of ``texts[i]`` in the file: its line in a ``.txt`` file, its
    data row in a CSV file (the header and blank lines not counted, as ``pandas.read_csv``
    numbers them), so that texts read with ``skip_empty`` can be joined back to their rows.
    """

    texts: list[str]
    skipped: int
    limited: bool
    rows: list[int]


def check_input(path: str, text_col: str | None) -> None:
    """The kind of ``INPUT`` (from its name) must fit ``--text-col``; nothing is read, but of a
    file of another kind, which is refused with what it is."""
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if text_col is not None:
            raise Refused("--text-col", f"is for CSV input; {path!r} is a text file (one per line)")
    elif suffix in CSV_SUFFIXES:
        if text_col is None:
            raise Refused("--text-col", f"is required for CSV input: name the column of {path!r}")
    else:
        # what the file is, where it says: a compressed file with the command that decompresses
        # it, a JSON Lines or Excel file with the pandas line that converts it (as sweep and
        # finetune say; the docs promise it), read only to be refused
        if Path(path).expanduser().is_file():
            refuse_other_format(path, "INPUT")
            refuse_compressed(path, "INPUT", "a text or CSV file")  # its first bytes only
            if Path(path).suffix.lower() == ".zip":  # a zip archive, or an Office file so named
                read_text_file(path, "INPUT", "a text or CSV file")
        raise Refused(
            "INPUT",
            f"expected a .txt file (one text per line) or a .csv/.tsv file (with --text-col), "
            f"got {path!r}",
        )


def _lines(path: str, skip_empty: bool, limit: int | None) -> Texts:
    text = read_text_file(path, "INPUT", "a text file")
    # split at "\n", "\r\n" and "\r" (old Mac files), as a CSV file is, and at "\r\r\n" (what
    # Python's csv.writer writes on Windows to a file opened without newline=""), which split
    # at its "\r" gave an empty line after each text; the newline that ends the file ends its
    # last line
    lines = _TXT_LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()
    texts: list[str] = []
    rows: list[int] = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if limit is not None and len(texts) == limit:  # lines past the limit are not read
            return Texts(texts, skipped, any(rest.strip() for rest in lines[number - 1 :]), rows)
        if not line.strip():
            if not skip_empty:
                raise Refused(
                    "INPUT",
                    f"line {number} of {path!r} is empty: one text per line (remove empty lines, "
                    "or pass --skip-empty to leave them out)",
                )
            skipped += 1
            continue
        texts.append(line)
        rows.append(number - 1)
    return Texts(texts, skipped, False, rows)


def _cells(path: str, text_col: str, skip_empty: bool, limit: int | None) -> Texts:
    # the rows are cut at the limit below: a repeated header past it is not read, nor warned about
    table = read_table(path, None, "INPUT", header_check=False)
    index = column(table, text_col, "--text-col")

    def has_text(row: list[str]) -> bool:  # a missing value (NaN, None, NA) is no text either
        return index < len(row) and row[index].strip() not in ("", *MISSING_MARKERS)

    skipped = 0
    keep = list(range(len(table.rows)))
    if skip_empty:
        keep = [i for i, row in enumerate(table.rows) if has_text(row)]
        # the empty cells left out before the limit's last text (those past it are not read)
        end = keep[limit - 1] if limit is not None and 0 < limit <= len(keep) else len(table.rows)
        kept = set(keep)
        skipped = sum(1 for i in range(end) if i not in kept)
        table.rows = [table.rows[i] for i in keep]
        table.lines = [table.lines[i] for i in keep]
    limited = False
    if limit is not None and len(table.rows) > limit:
        # a cut only when a text was cut (an empty cell past the limit is not one)
        limited = any(has_text(row) for row in table.rows[limit:])
        table.rows, table.lines, keep = table.rows[:limit], table.lines[:limit], keep[:limit]
    warn_repeated_header(table)
    remedy = "fill it in, drop the row, or pass --skip-empty to leave it out"
    return Texts(text_cells(table, text_col, "--text-col", remedy), skipped, limited, keep)


def read_texts(path: str, text_col: str | None, skip_empty: bool, limit: int | None) -> Texts:
    """The texts of ``INPUT`` (the first ``limit``); refused when there are none.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl.cli._texts import read_texts
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "texts.txt"
    ...     _ = path.write_text("a cat\\n\\nshares fell\\n")
    ...     read_texts(str(path), None, skip_empty=True, limit=None)
    Texts(texts=['a cat', 'shares fell'], skipped=1, limited=False, rows=[0, 2])
    """
    check_input(path, text_col)
    if Path(path).suffix.lower() in TEXT_SUFFIXES:
        found = _lines(path, skip_empty, limit)
    else:
        assert text_col is not None  # check_input
        found = _cells(path, text_col, skip_empty, limit)
    if not found.texts:
        empty = " (every line or cell is empty)" if found.skipped else ""
        raise Refused("INPUT", f"{path!r} holds no text{empty}")
    return found
