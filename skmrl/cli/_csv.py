"""Reading the user's input files for the subcommands, and the one-line refusals they can end in.

A CSV file is read whole with the standard library's ``csv`` (comma-separated; tab-separated when
named ``.tsv`` or ``.tab``, with no quoting: a quote mark is part of the text, as in the STS
Benchmark's files), in UTF-8 or in UTF-16 after its byte-order mark (as :mod:`skmrl.datasets`
reads them), and checked before any model or dataset is loaded. A problem raises
:class:`Refused`, which names the argument at fault (as argparse does) and, when a cell is at
fault, its row and line. Nothing here imports torch, scikit-learn, numpy or pandas.

The texts of ``skmrl embed`` and ``skmrl bench`` (:func:`read_texts`) come from a ``.txt`` file
(one per line) or a CSV column. A ``.txt`` file is split into lines as a CSV file is, at
``"\\r\\n"``, ``"\\r"`` and ``"\\n"`` only (and ``"\\r\\r\\n"``, as one line end), so a text
may hold other line separators (a form feed, ``"\\u2028"``); the newline that ends the file ends
its last text. An empty (or whitespace-only) line is refused with its number, unless
``skip_empty``: then it is left out and counted. A CSV file needs ``--text-col``; its empty
cells, and those that stand for a missing value (:data:`MISSING_MARKERS`: ``NaN``, ``None``,
``NA``), are refused or skipped alike. In a label column only an empty cell or a float's missing
value (:data:`NAN_SPELLINGS`: ``nan``, ``<NA>``) is refused: ``None`` or ``NA`` may be a class
(an intent "None", the region "NA"), read as one with a warning.
"""

from __future__ import annotations

import csv
import decimal
import math
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from skmrl._compression import compression_of

#: The csv module's default field limit (128 KiB) is too small for long documents.
_FIELD_LIMIT = 2**27
_SHOWN_COLUMNS = 20
#: Cells that stand for a missing value (what pandas writes or reads as NA), not for a text.
MISSING_MARKERS = frozenset(
    {"nan", "NaN", "NAN", "-nan", "<NA>", "NaT", "None", "null", "NULL", "NA", "N/A", "#N/A"}
)
#: The missing values that only a float or pandas' NA written as text spells (``str(np.nan)``):
#: no class is named so, and a label column refuses them; the other markers (``None``, ``NA``)
#: may be a class's name.
NAN_SPELLINGS = frozenset({"nan", "NaN", "NAN", "-nan", "<NA>", "NaT"})
#: A number written in decimal: a sign, digits with a fraction, an exponent (no ``_``, no ``inf``).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Files of other formats, by extension: what they are, and the pandas call that reads them.
_OTHER_FORMATS = {
    ".json": ("JSON", "read_json({})"),
    ".jsonl": ("JSON Lines", "read_json({}, lines=True)"),
    ".ndjson": ("JSON Lines", "read_json({}, lines=True)"),
    ".parquet": ("Parquet", "read_parquet({})"),
    ".xlsx": ("Excel", "read_excel({})"),
    ".xls": ("Excel", "read_excel({})"),
}
#: Compressed files, by their kind (:func:`skmrl._compression.compression_of`): what they are,
#: and the command that decompresses them.
_COMPRESSED = {
    "gzip": ("gzip-compressed", "gunzip -c"),
    "zip": ("a zip archive", "unzip -p"),
    "bzip2": ("bzip2-compressed", "bunzip2 -c"),
    "xz": ("xz-compressed", "unxz -c"),
    "zstd": ("zstd-compressed", "unzstd -c"),
}
#: Separators a one-column header may hold when the file is not comma-separated.
_OTHER_SEPARATORS = {"\t": "tabs", ";": "semicolons", "|": "pipes", ",": "commas"}
#: A line with its end ("\r\n", "\r" or "\n"), or the last line without one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
#: What ends a line of a .txt file: "\n" after any "\r"s (one line end: "\r\r\n" too), or "\r".
_TXT_LINE_END = re.compile(r"\r*\n|\r")


class Refused(Exception):
    """A bad argument: ``argument`` names it (as argparse does), ``message`` says why.

    Examples
    --------
    >>> from skmrl.cli._csv import Refused
    >>> exc = Refused("--text-col", "no column 'body'")
    >>> f"argument {exc.argument}: {exc.message}"
    "argument --text-col: no column 'body'"
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message


@dataclass
class Table:
    """The rows of the CSV file, as read; ``lines[i]`` is the line where row ``i`` starts."""

    shown: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    limited: bool
    delimiter: str = ","

    def where(self, i: int) -> str:
        """Where row ``i`` is, for a message: ``"row 2 (line 3) of 'data.csv'"``."""
        return f"row {i + 1} (line {self.lines[i]}) of {self.shown}"


def read_text_file(path_arg: str, argument: str, what: str = "a CSV file") -> str:
    """The whole text of ``path_arg``; a missing or binary file is refused.

    The text is UTF-8 (a byte-order mark, which Excel's "CSV UTF-8" writes, dropped) or UTF-16
    after its byte-order mark (Excel's "Unicode Text"), the two :mod:`skmrl.datasets` reads too
    (it also falls back to Latin-1, for the public files it knows). A file in another encoding
    (UTF-16 without its mark, UTF-32, a Windows code page) is refused with the way out.

    Examples
    --------
    >>> from skmrl.cli._csv import Refused, read_text_file
    >>> try:
    ...     read_text_file("no-such-file.csv", "DATA")
    ... except Refused as exc:
    ...     print(exc.argument, exc.message)
    DATA no such file: 'no-such-file.csv'
    """
    path = Path(path_arg).expanduser()
    shown = repr(path_arg)
    if not path.exists():
        raise Refused(argument, f"no such file: {shown}")
    if path.is_dir():
        raise Refused(argument, f"{shown} is a folder, not {what}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Refused(argument, f"cannot read {shown}: {exc.strerror or exc}") from None
    tab = path.suffix.lower() in (".tsv", ".tab")
    workbook = _excel_workbook(raw)
    if workbook is not None:
        # an .xlsx is a zip archive ("unzip -p" gave its XML), an .xls read as cp1252 text
        raise Refused(
            argument,
            f"{shown} is not {what}: it is an Excel workbook ({workbook}); skmrl reads CSV "
            f"files: convert it, e.g. pandas.read_excel({shown}).to_csv("
            f"{path.stem + '-converted.csv'!r}, index=False)",
        )
    compressed = compression_of(raw)
    if compressed is not None:
        kind, command = _COMPRESSED[compressed]
        plain = path.name
        for suffix in (".gz", ".zip", ".bz2", ".xz", ".zst"):
            plain = plain.removesuffix(suffix)
        plain = plain if plain != path.name and Path(plain).suffix else "plain-" + plain
        raise Refused(
            argument,
            f"{shown} is not {what}: it is {kind}; skmrl reads plain text: decompress it first "
            f"(e.g. {command} {shown} > {plain!r})",
        )
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        # UTF-32's marks: the first also opens UTF-16's, which then read as NUL characters
        raise Refused(
            argument,
            f"{shown} is not {what}: it is UTF-32 text; "
            + _save_as_utf8(what, "'utf-32'", tab, sep=_separator(raw, "utf-32", tab)),
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 after its byte-order mark (Excel's "Unicode Text"), as skmrl.datasets reads it
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Refused(
                argument,
                f"{shown} is not {what}: it starts with a UTF-16 byte-order mark but is not "
                f"UTF-16 text ({exc.reason} at offset {exc.start})",
            ) from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Refused(
                argument,
                _utf16_problem(exc.object, shown, what, tab)
                or f"{shown} is not {what}: not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                f"at offset {exc.start}); "
                + _save_as_utf8(
                    what, "'cp1252'", tab, guessed=True, sep=_separator(raw, "cp1252", tab)
                ),
            ) from None
    if "\0" in text:
        raise Refused(
            argument,
            _utf16_problem(text.encode("utf-8"), shown, what, tab)
            or f"{shown} is not {what}: it holds NUL bytes (a binary file?)",
        )
    # a second byte-order mark (a file saved again by a tool that adds one) is no character of
    # the first column's name: "did you mean '\ufefftext'?"
    return text.lstrip("\ufeff")


def _excel_workbook(raw: bytes) -> str | None:
    """What Excel workbook ``raw`` (a file's bytes) is (``".xlsx"``, a zip archive with an
    ``xl/`` folder; ``".xls"``, an OLE2 compound file), or None when it is none."""
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return ".xls, Excel 97-2003"
    if raw.startswith(b"PK\x03\x04"):
        import io
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                if any(name.startswith("xl/") for name in archive.namelist()):
                    return ".xlsx"
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    return None


def _sep_line(line: str) -> str | None:
    """The separator that ``line`` (a file's first line, without its line end) names when it is
    Excel's ``sep=`` line (``"sep=;"``; ``"sep="`` alone a comma), else None. Spaces around it
    are passed over, no other whitespace: ``"sep=\t"`` names a tab, ``"sep= "`` a space."""
    hint = re.fullmatch(r' *"?sep=(.?)"? *', line, flags=re.IGNORECASE | re.DOTALL)
    return None if hint is None else hint.group(1) or ","


def _separator(raw: bytes, encoding: str, tab: bool) -> str | None:
    """The arguments of the pandas line that converts a CSV file not read (``raw`` its bytes, in
    ``encoding``) for its separator: ``", sep=';'"`` for a tab, ``;`` or ``|`` in a first line
    with no comma (as Excel writes a CSV file where the comma is the decimal mark); None for a
    comma, or a tab-separated file (``tab``), whose line says so already. A first line that is
    Excel's ``sep=`` line is skipped (``skiprows=1``), its separator named but for a comma (a
    tab-separated file's read with no quoting, as skmrl reads it)."""
    text = raw[:65536].decode(encoding, errors="replace").lstrip("\ufeff")
    first = next((line for line in _csv_lines(text) if line.strip()), "")
    named = _sep_line(first.rstrip("\r\n"))
    if named is not None:
        if named == "," and not tab:
            return ", skiprows=1"
        quoting = ", quoting=csv.QUOTE_NONE" if named == "\t" else ""
        return f", skiprows=1, sep={named!r}{quoting}"
    if tab or "," in first:
        return None
    return next((f", sep={sep!r}" for sep in ("\t", ";", "|") if sep in first), None)


def _utf16_problem(data: bytes, shown: str, what: str, tab: bool = False) -> str | None:
    """That ``data`` (a file's bytes, which did not start with a byte-order mark) is UTF-16
    text without its mark, with the way out; else None. Read as UTF-8 it has a NUL byte beside
    every ASCII character (a binary file has NUL bytes too, but not at every other byte alone)."""
    head = data[:4096]
    head = head[: len(head) - len(head) % 2]
    odd, even = head[1::2], head[0::2]

    def mostly_nul(part: bytes) -> bool:
        return len(part) > 0 and part.count(0) >= 0.9 * len(part)

    if mostly_nul(odd) and even.count(0) == 0:
        encoding = "utf-16-le"
    elif mostly_nul(even) and odd.count(0) == 0:
        encoding = "utf-16-be"
    else:
        return None
    try:
        head.decode(encoding)
    except UnicodeDecodeError:
        return None
    return (
        f"{shown} is not {what}: it is UTF-16 text without a byte-order mark; "
        f"{_save_as_utf8(what, repr(encoding), tab, sep=_separator(data, encoding, tab))}"
    )


def _save_as_utf8(
    what: str, encoding: str, tab: bool = False, guessed: bool = False, sep: str | None = None
) -> str:
    """The way out for a file in an encoding that is not read: save it as UTF-8, for a CSV file
    with the pandas line that converts it (``encoding``: what its ``encoding=`` says; ``tab``:
    a tab-separated file, which the line reads and writes as skmrl reads it, with
    ``sep='\\t'`` and no quoting: with pandas' CSV quoting a text opening with a quote mark lost
    it, and one holding a quote mark was written quoted, which skmrl then refuses). Excel's
    plain "CSV" writes the Windows code page (cp1252 in Western Europe and the Americas), its
    "CSV UTF-8" UTF-8. ``guessed``: the encoding is a likely one, not one the bytes show
    (cp1252, Excel's plain "CSV" on Windows), and the line says so after it, so that it can
    still be pasted as it is. ``sep``: the read arguments for the file's separator
    (:func:`_separator`: ``", sep=';'"`` for a file named .csv separated by ``;``, as Excel
    writes where the comma is the decimal mark, which the line writes with commas: without it
    pandas read each line as one column; ``", skiprows=1, sep=';'"`` after Excel's ``sep=``
    line, which pandas would read as the header)."""
    read = write = ", sep='\\t', quoting=csv.QUOTE_NONE" if tab else ""
    if sep is not None:
        read = sep
    guess = (
        ", if the file is Excel's plain 'CSV' from Windows (else name its encoding)"
        if guessed
        else ""
    )
    remedy = (
        f" (Excel: save as 'CSV UTF-8'; pandas: read_csv(path, encoding={encoding}{read})"
        f".to_csv(new_path, index=False{write}){guess})"
        if what == "a CSV file"
        else ""
    )
    return f"skmrl reads UTF-8, or UTF-16 that starts with its mark: save it as UTF-8{remedy}"


def read_table(
    path_arg: str, limit: int | None, argument: str = "DATA", header_check: bool = True
) -> Table:
    """Read the whole file (the first ``limit`` rows); a file that is not a CSV is refused.

    A row that repeats the header row is warned about, unless ``header_check`` is False: for a
    caller that cuts the rows itself and warns about those it keeps
    (:func:`_warn_repeated_header`).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl.cli._csv import read_table
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "data.csv"
    ...     _ = path.write_text('text,label\\n"a cat, asleep",pets\\n\\nshares fell,money\\n')
    ...     table = read_table(str(path), None)
    >>> table.header, table.rows, table.lines
    (['text', 'label'], [['a cat, asleep', 'pets'], ['shares fell', 'money']], [2, 4])
    """
    shown = repr(path_arg)
    suffix = Path(path_arg).suffix.lower()
    if suffix in _OTHER_FORMATS and Path(path_arg).expanduser().is_file():
        kind, loader = _OTHER_FORMATS[suffix]
        raise Refused(
            argument,
            f"{shown} is a {kind} file; skmrl reads CSV files (comma-separated, or tab-separated "
            f"named .tsv): convert it, e.g. pandas.{loader.format(shown)}.to_csv('data.csv', "
            "index=False)",
        )
    text = read_text_file(path_arg, argument)
    if not text.strip():
        raise Refused(
            argument, f"{shown} is empty: a CSV file needs a header row naming its columns"
        )
    delimiter = "\t" if Path(path_arg).suffix.lower() in (".tsv", ".tab") else ","
    first = next((line for line in _csv_lines(text) if line.strip()), "").rstrip("\r\n")
    sep = _sep_line(first)
    if sep is not None:
        # Excel's first line naming the separator: read as the header, its one column 'sep='
        sep_arg = "" if sep == "," else f", sep={sep!r}"
        new = Path(path_arg).stem + "-converted.csv"
        raise Refused(
            argument,
            f"{shown} starts with the line {first!r}, Excel's note of its separator, "
            f"not a header row naming the columns: delete that line (pandas: read_csv({shown}, "
            f"skiprows=1{sep_arg}).to_csv({new!r}, index=False))",
        )
    # Tab-separated values have no quoting (a tab or a newline cannot be in a field): read with
    # csv's quoting, a text that starts with '"' swallowed the lines up to the next quote mark.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    # A header with a space after each comma ("id, text, label") is a file written with one
    # after each separator: read without skipinitialspace, a quoted text ('1, "hello, world",
    # ham') was split at its comma (its quote mark opens no quoted field after a space), and one
    # without a comma kept its quote marks and the space
    # Read that way only when it is no worse than the plain reading: as many records, each of
    # the header's width; a stray quote mark after a space ('1, "Hi there, ham') would open a
    # quoted field and swallow the lines after it, which the plain reading reads as rows.
    spaced = delimiter == "," and _spaced(first) and _spaced_reads_better(text)
    reader = csv.reader(
        _csv_lines(text), delimiter=delimiter, quoting=quoting, skipinitialspace=spaced
    )
    previous = csv.field_size_limit(_FIELD_LIMIT)
    header: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    limited = False
    blank = _blank_records(text)
    try:
        while not header:  # blank lines before the header
            record = next(reader)
            header = [] if blank(record, reader.line_num) else [name.strip() for name in record]
        start = reader.line_num + 1
        for record in reader:
            if not blank(record, reader.line_num):  # a blank line is no row
                if limit is not None and len(rows) == limit:
                    limited = True
                    break
                rows.append(record)
                lines.append(start)
            start = reader.line_num + 1
        stray, maybe = (
            (None, None)
            if delimiter == "\t"
            else _stray_quote(text, delimiter, rows, len(header), spaced)
        )
    except csv.Error as exc:
        raise Refused(
            argument, f"{shown} is not a readable CSV file: line {reader.line_num}: {exc}"
        ) from None
    finally:
        csv.field_size_limit(previous)
    table = Table(shown, header, rows, lines, limited, delimiter)
    if stray is not None:
        first, last = stray
        span = "to the end of the file" if last is None else f"up to a quote mark on line {last}"
        raise Refused(
            argument,
            separator_problem(table)
            or f"{shown} is not a readable CSV file: a quoted text opens on line {first} and runs "
            f"{span}, so those lines would be read as one text (a stray quote mark on line "
            f"{first}? a text holding a quote mark must be quoted whole, its quote marks doubled)",
        )
    if maybe is not None:
        first, last = maybe
        warnings.warn(
            f"{shown}: the quoted text on lines {first}-{last} is read as one text, but each of "
            f"its lines reads as a row of the file: if a stray quote mark on line {first} opened "
            "it, those rows are lost (a text holding a quote mark must be quoted whole, its quote "
            "marks doubled)",
            UserWarning,
            stacklevel=2,
        )
    for i, row in enumerate(rows):
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            # a one-column header holding a ';' or a tab says why first: a comma in a text then
            # splits its row, and "an unquoted comma" would blame the wrong thing
            raise Refused(
                argument,
                separator_problem(table)
                or f"{table.where(i)} has {len(row)} fields but the header has {len(header)} "
                + (
                    "(a tab in a text?)"
                    if delimiter == "\t"
                    else "(a comma in a text that is not quoted?)"
                ),
            )
    if delimiter == "\t":
        _check_unquoted(table, argument)
    if header_check:
        _warn_repeated_header(table)
    return table


def _spaced(first: str) -> bool:
    """Whether ``first`` (a CSV file's header line) has a space after each of its commas, and
    at least one comma: ``"id, text, label"``."""
    return "," in first and re.search(r",(?! )", first) is None


def _spaced_reads_better(text: str) -> bool:
    """Whether ``text`` (a CSV file whose header has a space after each comma) is read with csv's
    ``skipinitialspace`` as no worse than without: as many records (blank lines passed over) and
    each of the header's width. Else the plain reading is kept, as files were read before: a
    stray quote mark after a space opens a quoted field only in the spaced reading, which then
    swallows the lines up to the next quote mark (``1, "Hi there, ham``) or to the end."""
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        counts = []
        for spaced in (False, True):
            reader = csv.reader(_csv_lines(text), delimiter=",", skipinitialspace=spaced)
            blank = _blank_records(text)
            records = [len(record) for record in reader if not blank(record, reader.line_num)]
            counts.append(len(records))
            if spaced and any(width != records[0] for width in records):
                return False
    except csv.Error:
        return False
    finally:
        csv.field_size_limit(previous)
    return counts[0] == counts[1]


def _warn_repeated_header(table: Table) -> None:
    """Warn about a row that repeats the header row (two files joined into one): it is read as
    a row of data, its text the column's name, its label one more class."""
    header = table.header
    repeats = [i for i, row in enumerate(table.rows) if [cell.strip() for cell in row] == header]
    if not repeats:
        return
    where = table.where(repeats[0])
    more = len(repeats) - 1
    others = f" (and {more} more row(s): {', '.join(str(i + 1) for i in repeats[1:6])}" + (
        ", ...)" if more > 5 else ")"
    )
    first = header[0]
    warnings.warn(
        f"{where} repeats the header row{others if more else ''}: two files joined into one? "
        "it is read as a row of data; delete that line (pandas: df = read_csv(path); "
        f"df[df[{first!r}] != {first!r}].to_csv(new_path, index=False))",
        UserWarning,
        stacklevel=3,
    )


def _csv_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, one at a time, split at ``"\\r\\n"``, ``"\\r"`` and
    ``"\\n"`` as ``io.StringIO(text, newline="")`` splits them for the csv module.

    Not a StringIO: it copies the text at 4 bytes a character, whatever the text, and the reader
    and the stray-quote check each held one, so a 93 MB file took 900 MB to read (a list of its
    rows takes 100 MB).

    Examples
    --------
    >>> from skmrl.cli._csv import _csv_lines
    >>> list(_csv_lines("a,b\\r\\nc\\rd\\n\\ne"))
    ['a,b\\r\\n', 'c\\r', 'd\\n', '\\n', 'e']
    """
    return (match.group() for match in _LINE.finditer(text))


def _blank_records(text: str) -> Callable[[list[str], int], bool]:
    """A test of whether a record of ``text`` that the csv reader ended on line ``line_num`` is a
    blank line, no row: an empty one, or one of whitespace only with no quote mark (``"  "``
    quoted is a row holding a text of spaces). pandas.read_csv skips both, and a row number
    (``skmrl embed --skip-empty``'s) must count the rows as it does; csv reads the second as a
    row of one field, and before the header it was taken for a header of one column."""
    lines: list[str] = []

    def blank(record: list[str], line_num: int) -> bool:
        if not record:
            return True
        if len(record) > 1 or record[0].strip():
            return False
        if not lines:  # split as the csv reader splits: on \n, \r\n and \r only
            lines.extend(_csv_lines(text))
        return '"' not in lines[line_num - 1]

    return blank


def _stray_quote(
    text: str, delimiter: str, rows: list[list[str]], width: int, spaced: bool = False
) -> tuple[tuple[int, int | None] | None, tuple[int, int] | None]:
    """Where a quote mark opened a quoted field that swallowed the lines after it, within the
    header and ``rows`` (the records read, ``width`` the header's): surely (its first line, the
    line of the quote mark that ended it, None at the end of the file), or None; and maybe (its
    first and last line), or None.

    csv reads such a field without complaint (pandas too, unless it reaches the end of the
    file), and the rows it swallowed are lost. Each record over several lines is read again
    strictly: the field either never ends, or ends at a quote mark inside a later text, which
    no delimiter follows (sure). A quote mark closing a field on its own line without a
    delimiter after it (``"a" b``) is left to csv's leniency, and the lines after it are still
    checked. A field that ends cleanly, at a quote mark that ends a later text (``32"``), may
    have swallowed rows when each of its lines reads as a row of the file
    (:func:`_reads_as_row`); but so may a quoted text (``"Totals:\n2,500 units"`` beside a
    column of numbers), so that is only a maybe, which the caller warns about. ``spaced``: the
    file is read with the csv module's ``skipinitialspace``.
    """
    consumed: list[str] = []  # the lines of the record being read

    def feed() -> Iterator[str]:
        for line in _csv_lines(text):
            consumed.append(line)
            yield line

    # as read_table reads the file
    reader = csv.reader(feed(), delimiter=delimiter, skipinitialspace=spaced)
    blank = _blank_records(text)
    columns: dict[int, tuple[set[str], bool]] = {}
    start, seen = 1, 0
    maybe: tuple[int, int] | None = None
    for record in reader:
        lines, consumed[:] = consumed[:], []
        if not blank(record, reader.line_num):
            seen += 1
            if len(lines) > 1:
                strict = csv.reader(
                    lines, delimiter=delimiter, strict=True, skipinitialspace=spaced
                )
                try:
                    list(strict)
                except csv.Error as exc:
                    if "end of data" in str(exc):
                        return (start, None), maybe
                    if strict.line_num > 1:
                        return (start, start + strict.line_num - 1), maybe
                if (
                    maybe is None
                    and seen > 1
                    and _reads_as_row(lines, record, delimiter, rows, width, columns)
                ):
                    maybe = start, reader.line_num
            if seen > len(rows):
                return None, maybe
        start = reader.line_num + 1
    return None, maybe


def _reads_as_row(
    lines: list[str],
    record: list[str],
    delimiter: str,
    rows: list[list[str]],
    width: int,
    columns: dict[int, tuple[set[str], bool]],
) -> bool:
    """Whether each of ``lines``, which csv read as ``record`` (a field over several lines),
    reads as a row of the file on its own: ``width`` fields (2 or more) when split at the
    delimiter, each but the field over several lines a value of its column in ``rows`` (or a
    number, in a column of numbers), a blank line passed over. Those are rows that a quote mark
    swallowed: a quoted text rarely has such lines (``ham,ok see you`` in a file labelled
    ``ham`` and ``spam``). ``columns`` keeps each column's values and whether they are all
    numbers, once found."""
    if width < 2:
        return False
    quoted = next((j for j, cell in enumerate(record) if "\n" in cell or "\r" in cell), None)
    for line in lines:
        if not line.strip():  # a blank line between the rows swallowed
            continue
        cells = line.rstrip("\r\n").split(delimiter)
        if len(cells) != width:
            return False
        for j, cell in enumerate(cells):
            if j == quoted:
                continue
            if j not in columns:
                values = {row[j].strip() for row in rows if j < len(row)}
                columns[j] = values, bool(values) and all(is_number(value) for value in values)
            values, numbers = columns[j]
            if cell.strip() not in values and not (numbers and is_number(cell)):
                return False
    return True


_CSV_QUOTED = (
    "a .tsv file is read with no quoting (a quote mark is part of the text), and this one looks "
    "written with CSV quoting, as pandas' to_csv(sep='\\t') writes a text holding a quote mark "
    "or a newline: save it as .csv, or with quoting=csv.QUOTE_NONE"
)


def _check_unquoted(table: Table, argument: str) -> None:
    """Refuse a .tsv file that looks CSV-quoted, which no quoting would read wrongly: a row
    short of fields (a quoted text over several lines), or a field quoted whole with its own
    quote marks doubled inside, as CSV escapes them."""
    width = len(table.header)

    def unbalanced(row: list[str]) -> bool:  # the part of a quoted text cut at a newline
        return any(cell.count('"') % 2 for cell in row)

    for i, row in enumerate(table.rows):
        # a short row alone is an empty last cell whose tab an editor dropped; beside a
        # quote mark left open, it is a quoted text cut in two at its newline
        if len(row) < width and (unbalanced(row) or (i > 0 and unbalanced(table.rows[i - 1]))):
            raise Refused(
                argument,
                f"{table.where(i)} has {len(row)} field(s) but the header has {width}: "
                + _CSV_QUOTED,
            )
        for cell in row:
            if len(cell) > 1 and cell[0] == cell[-1] == '"' and '""' in cell[1:-1]:
                raise Refused(argument, f"{table.where(i)} holds {cell[:40]!r}: " + _CSV_QUOTED)


def separator_problem(table: Table) -> str | None:
    """That the file seems to use another separator than the comma, when its header reads as one
    column holding a tab, ``;`` or ``|``; else None.

    Examples
    --------
    >>> from skmrl.cli._csv import Table, separator_problem
    >>> print(separator_problem(Table("'x.csv'", ["text;label"], [], [], False)).split(":")[0])
    'x.csv' seems to be separated by semicolons, not commas
    >>> separator_problem(Table("'x.csv'", ["text", "label"], [], [], False)) is None
    True
    >>> print(separator_problem(Table("'x.tsv'", ["a|b"], [], [], False, chr(9))).split(":")[0])
    'x.tsv' seems to be separated by pipes, not tabs
    """
    header = table.header
    if len(header) != 1:
        return None
    expected = "tabs" if table.delimiter == "\t" else "commas"
    found = [
        name
        for sep, name in _OTHER_SEPARATORS.items()
        if sep in header[0] and sep != table.delimiter
    ]
    if not found:
        return None
    shown = header[0] if len(header[0]) <= 60 else header[0][:57] + "..."
    advice = {
        "tabs": "a tab-separated file must be named .tsv",
        "commas": "a comma-separated file must be named .csv",
    }.get(found[0], "skmrl reads comma-separated files, and tab-separated ones named .tsv")
    return (
        f"{table.shown} seems to be separated by {found[0]}, not {expected}: its header reads "
        f"as the one column {shown!r} ({advice})"
    )


def columns_list(header: list[str]) -> str:
    """The column names for a message: ``"'id', 'text', 'topic'"`` (the first 20, and a count)."""
    shown = ", ".join(repr(name) for name in header[:_SHOWN_COLUMNS])
    more = len(header) - _SHOWN_COLUMNS
    return shown + (f" and {more} more" if more > 0 else "")


def column(table: Table, name: str, argument: str) -> int:
    """The index of column ``name``; a missing or doubled one is refused."""
    found = [i for i, header in enumerate(table.header) if header == name.strip()]
    if not found:
        problem = separator_problem(table)
        close = close_column(name, table.header)
        hint = f" (did you mean {close!r}?)" if close is not None else ""
        raise Refused(
            argument,
            f"no column {name!r}: {problem}"
            if problem
            else f"no column {name!r} in {table.shown}{hint}; its columns are: "
            f"{columns_list(table.header)}",
        )
    if len(found) > 1:
        raise Refused(argument, f"{table.shown} has {len(found)} columns named {name!r}")
    return found[0]


def close_column(name: str, header: list[str]) -> str | None:
    """The column of ``header`` that ``name`` most likely meant: the same name in another case
    (``Text`` for ``text``), else the closest spelling (``question`` for ``questions``), else None.

    The columns are listed beside it, but only the first 20 of a wide file: the one meant may
    not be among them.

    Examples
    --------
    >>> from skmrl.cli._csv import close_column
    >>> close_column("Text", ["id", "text"]), close_column("questions", ["question", "label"])
    ('text', 'question')
    >>> close_column("body", ["id", "text", "topic"]) is None
    True
    """
    import difflib

    wanted = name.strip()
    same = [column for column in header if column.casefold() == wanted.casefold()]
    if same:
        return same[0]
    folded = {column.casefold(): column for column in reversed(header) if column}
    close = difflib.get_close_matches(wanted.casefold(), list(folded), n=1, cutoff=0.8)
    return folded[close[0]] if close else None


def distinct_columns(named: dict[str, str | None]) -> None:
    """Refuse one column named by two arguments (``{"--text-col": "text", ...}``, None for an
    argument not given): the texts as their own labels, or each sentence paired with itself,
    would run and learn nothing.

    Examples
    --------
    >>> from skmrl.cli._csv import Refused, distinct_columns
    >>> try:
    ...     distinct_columns({"--text-col": "text", "--label-col": " text", "--pair-col": None})
    ... except Refused as exc:
    ...     print(exc.argument, exc.message)
    --label-col is the text column 'text' too
    """
    seen: dict[str, str] = {}
    for argument, name in named.items():
        if name is None:
            continue
        if name.strip() in seen:
            what = seen[name.strip()].removeprefix("--").removesuffix("-col")
            raise Refused(argument, f"is the {what} column {name.strip()!r} too")
        seen[name.strip()] = argument


def is_number(value: str) -> bool:
    """Whether ``value`` reads as a number (``"3"``, ``"-1.5e3"``, ``"inf"``)."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def _filled_cell(
    table: Table,
    i: int,
    index: int,
    name: str,
    what: str,
    argument: str,
    remedy: str,
    missing: frozenset[str] = MISSING_MARKERS,
) -> str:
    """Row ``i``'s cell of column ``name`` (at ``index``), as written: refused when the row stops
    before it, when it is empty, or when it stands for a missing value (one of ``missing``:
    :data:`MISSING_MARKERS`, or for a label :data:`NAN_SPELLINGS`); ``what`` (``"text"``,
    ``"label"``) names what the cell should hold, ``remedy`` ends the message (``"fill it in or
    drop the row"``)."""
    row = table.rows[i]
    if index >= len(row):
        raise Refused(
            argument,
            f"{table.where(i)} has no {name!r} field (the row is shorter than the header)",
        )
    cell = row[index]
    if not cell.strip():
        raise Refused(
            argument,
            f"{table.where(i)} has an empty {name!r} cell: every {what} must be non-empty "
            f"({remedy})",
        )
    if cell.strip() in missing:
        raise Refused(
            argument,
            f"{table.where(i)} has {cell.strip()!r} in column {name!r}: a missing value, "
            f"not a {what} ({remedy})",
        )
    return cell


def text_cells(
    table: Table, name: str, argument: str, remedy: str = "fill it in or drop the row"
) -> list[str]:
    """Column ``name``'s texts: every cell must hold some text.

    An empty cell, or one that stands for a missing value (``NaN``, ``None``, ``null``, ``NA``
    and the like: :data:`MISSING_MARKERS`), is refused with its row, and so is a column of
    numbers only (a wrong column named). A single number among texts is a text (``"645"`` is an
    SMS message).
    """
    index = column(table, name, argument)
    texts = [
        _filled_cell(table, i, index, name, "text", argument, remedy)
        for i in range(len(table.rows))
    ]
    if texts and all(is_number(text) for text in texts):
        raise Refused(
            argument,
            f"column {name!r} holds numbers, not text ({table.where(0)}: {texts[0]!r}); "
            f"the columns are: {columns_list(table.header)}",
        )
    return texts


def label_cells(table: Table, name: str, single_class_hint: str) -> list[str]:
    """Column ``name``'s class labels (stripped): at least 2 classes, and every cell a label.

    An empty cell or a float's missing value (:data:`NAN_SPELLINGS`) is refused as in
    :func:`text_cells`: ``"nan"`` is no class. The other spellings of a missing value
    (:data:`MISSING_MARKERS`: ``None``, ``NA``) are classes (an intent "None", the region "NA"),
    with a warning that says how to drop their rows if they mean a missing value; so are labels
    written two ways that read as one number (``0`` and ``0.0``), with a warning that names
    them. ``single_class_hint`` ends the message when there is only one class.
    """
    index = column(table, name, "--label-col")
    labels = [
        _filled_cell(
            table,
            i,
            index,
            name,
            "label",
            "--label-col",
            "fill it in or drop the row",
            NAN_SPELLINGS,
        ).strip()
        for i in range(len(table.rows))
    ]
    _warn_odd_labels(table, name, labels)
    classes = sorted(set(labels))
    if len(classes) < 2:
        rows = f"the first {len(labels)} rows (--limit)" if table.limited else "every row"
        raise Refused(
            "--label-col",
            f"column {name!r} has a single class ({classes[0]!r} in {rows}): labels need at "
            f"least 2 classes; {single_class_hint}",
        )
    return labels


def _warn_odd_labels(table: Table, name: str, labels: list[str]) -> None:
    """Warn about labels read as classes that may not be meant as such: a spelling of a missing
    value (``None``, ``NA``), and two labels that read as one number (``0`` and ``0.0``, as a
    pandas column of floats writes them beside the ints it was read from), which are two classes
    and halve what is learnt of each."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    markers = [label for label in counts if label in MISSING_MARKERS]
    if markers:
        found = ", ".join(f"{label!r} in {counts[label]} row(s)" for label in markers)
        drop = "".join(f" & (df[{name!r}] != {label!r})" for label in markers)[3:]
        warnings.warn(
            f"column {name!r} has {found}: taken as a class (not a missing value); if it "
            "stands for a missing label, drop those rows (pandas: df = read_csv(path, "
            f"keep_default_na=False); df[{drop}].to_csv(new_path, index=False))",
            UserWarning,
            stacklevel=3,
        )
    # exactly, as decimals: float() read '1_0' as 10, and 2**53 + 1 as 2**53; and only what is
    # written as a decimal number ('inf', 'nan' and '1_0' are not)
    numbers: dict[decimal.Decimal, list[str]] = {}
    for label in counts:
        if _DECIMAL.fullmatch(label):
            try:
                value = decimal.Decimal(label)
            except decimal.InvalidOperation:  # an exponent beyond decimal's (over 10**18)
                continue
            numbers.setdefault(value, []).append(label)
    twins = [same for same in numbers.values() if len(same) > 1]
    if twins:
        shown = ", ".join(" and ".join(repr(label) for label in same) for same in twins[:5])
        more = f" and {len(twins) - 5} more" if len(twins) > 5 else ""
        warnings.warn(
            f"column {name!r} has labels written two ways that read as one number ({shown}"
            f"{more}): they are separate classes as written ({len(counts)} classes); if each "
            "number is one class, write it one way (pandas: df = read_csv(path); "
            f"df[{name!r}] = pandas.to_numeric(df[{name!r}]); df.to_csv(new_path, index=False))",
            UserWarning,
            stacklevel=3,
        )


def score_cells(table: Table, name: str) -> list[float]:
    """Column ``name``'s scores: every cell a finite number."""
    index = column(table, name, "--score-col")
    scores = []
    for i, row in enumerate(table.rows):
        cell = row[index].strip() if index < len(row) else ""
        try:
            score = float(cell)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise Refused(
                "--score-col",
                f"{table.where(i)}: the score {cell!r} in column {name!r} is not a number",
            )
        scores.append(score)
    return scores


# -- the texts of embed and bench: a .txt file or a CSV column ------------------------------------
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
    """The kind of ``INPUT`` (from its name) must fit ``--text-col``; nothing is read."""
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if text_col is not None:
            raise Refused("--text-col", f"is for CSV input; {path!r} is a text file (one per line)")
    elif suffix in CSV_SUFFIXES:
        if text_col is None:
            raise Refused("--text-col", f"is required for CSV input: name the column of {path!r}")
    else:
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
    _warn_repeated_header(table)
    remedy = "fill it in, drop the row, or pass --skip-empty to leave it out"
    return Texts(text_cells(table, text_col, "--text-col", remedy), skipped, limited, keep)


def read_texts(path: str, text_col: str | None, skip_empty: bool, limit: int | None) -> Texts:
    """The texts of ``INPUT`` (the first ``limit``); refused when there are none.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl.cli._csv import read_texts
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
