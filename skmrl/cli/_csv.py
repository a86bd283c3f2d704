"""Parsing a CSV file into a :class:`Table`, and checking its shape.

A CSV file is read whole (:func:`skmrl.cli._file_text.read_text_file`) and parsed with the
standard library's ``csv`` (comma-separated; tab-separated when named ``.tsv`` or ``.tab``, with
no quoting: a quote mark is part of the text, as in the STS Benchmark's files), and checked
before any model or dataset is loaded: a row wider than the header, a stray quote mark that
swallowed the lines after it, a ``.tsv`` file written with CSV quoting, a header that reads as
one column holding another separator. A problem raises :class:`~skmrl.cli._refused.Refused`,
which names the argument at fault (as argparse does) and, when a cell is at fault, its row and
line. Nothing here imports torch, scikit-learn, numpy or pandas.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from skmrl.cli._file_text import _csv_lines, _sep_line, read_text_file
from skmrl.cli._refused import Refused

#: The csv module's default field limit (128 KiB) is too small for long documents.
_FIELD_LIMIT = 2**27
#: Files of other formats, by extension: what they are, and the pandas call that reads them.
_OTHER_FORMATS = {
    ".json": ("JSON", "read_json({})"),
    ".jsonl": ("JSON Lines", "read_json({}, lines=True)"),
    ".ndjson": ("JSON Lines", "read_json({}, lines=True)"),
    ".parquet": ("Parquet", "read_parquet({})"),
    ".xlsx": ("Excel", "read_excel({})"),
    ".xls": ("Excel", "read_excel({})"),
}
#: Separators a one-column header may hold when the file is not comma-separated.
_OTHER_SEPARATORS = {"\t": "tabs", ";": "semicolons", "|": "pipes", ",": "commas"}


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


def refuse_other_format(path_arg: str, argument: str) -> None:
    """Refuse a file of another format (JSON Lines, Parquet, Excel: by its extension) with the
    pandas line that converts it to CSV; nothing for any other file."""
    suffix = Path(path_arg).suffix.lower()
    if suffix in _OTHER_FORMATS and Path(path_arg).expanduser().is_file():
        kind, loader = _OTHER_FORMATS[suffix]
        shown = repr(path_arg)
        raise Refused(
            argument,
            f"{shown} is a {kind} file; skmrl reads CSV files (comma-separated, or tab-separated "
            f"named .tsv): convert it, e.g. pandas.{loader.format(shown)}.to_csv('data.csv', "
            "index=False)",
        )


def read_table(
    path_arg: str, limit: int | None, argument: str = "DATA", header_check: bool = True
) -> Table:
    """Read the whole file (the first ``limit`` rows); a file that is not a CSV is refused.

    A row that repeats the header row is warned about, unless ``header_check`` is False: for a
    caller that cuts the rows itself and warns about those it keeps
    (:func:`warn_repeated_header`).

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
    refuse_other_format(path_arg, argument)
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
        warn_repeated_header(table)
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


def warn_repeated_header(table: Table) -> None:
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
    """Refuse a .tsv file that looks CSV-quoted, which no quoting would read wrongly: a header
    whose every name is quoted (R's ``write.table(sep="\\t")``, pandas' ``QUOTE_ALL``: its texts
    were read with their quote marks, and the "did you mean" of a column named ``text`` offered
    ``'"text"'``), a row short of fields (a quoted text over several lines), or a field quoted
    whole with its own quote marks doubled inside, as CSV escapes them."""
    width = len(table.header)
    if table.header and all(len(c) > 1 and c[0] == c[-1] == '"' for c in table.header):
        names = ", ".join(repr(c) for c in table.header[:3]) + (", ..." if width > 3 else "")
        raise Refused(
            argument,
            f"the header of {table.shown} has its names in quote marks ({names}): " + _CSV_QUOTED,
        )

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


def is_number(value: str) -> bool:
    """Whether ``value`` reads as a number (``"3"``, ``"-1.5e3"``, ``"inf"``)."""
    try:
        float(value)
    except ValueError:
        return False
    return True
