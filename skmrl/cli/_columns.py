"""Choosing the columns of a CSV file's :class:`~skmrl.cli._csv.Table` and reading their cells.

A column named by an argument (``--text-col``, ``--label-col``, ``--score-col``) must be in the
header, once, and no other argument's; a missing one is refused with the one it likely meant.
Its cells are read as texts, class labels or scores: an empty cell, or one that stands for a
missing value (:data:`MISSING_MARKERS`: ``NaN``, ``None``, ``NA``), is refused with its row. In
a label column only an empty cell or a float's missing value (:data:`NAN_SPELLINGS`: ``nan``,
``<NA>``) is refused: ``None`` or ``NA`` may be a class (an intent "None", the region "NA"),
read as one with a warning. Nothing here imports torch, scikit-learn, numpy or pandas.
"""

from __future__ import annotations

import decimal
import math
import re
import warnings

from skmrl.cli._csv import Table, is_number, separator_problem
from skmrl.cli._refused import Refused

_SHOWN_COLUMNS = 20
#: The missing values that only a float or pandas' NA written as text spells (``str(np.nan)``,
#: and the C runtime's ``1.#QNAN``): no class is named so, and a label column refuses them; the
#: other markers (``None``, ``NA``) may be a class's name.
NAN_SPELLINGS = frozenset(
    {"nan", "NaN", "NAN", "-nan", "-NaN", "<NA>", "NaT", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"}
)
#: Cells that stand for a missing value, not for a text: every spelling pandas reads as NA by
#: default (``read_csv``'s ``na_values``; "n/a" was read as a text, and as a class without a
#: warning), and ``NAN`` and ``NaT``, which it writes.
MISSING_MARKERS = NAN_SPELLINGS | frozenset(
    {"None", "null", "NULL", "NA", "N/A", "n/a", "#N/A", "#NA", "#N/A N/A"}
)
#: A number written in decimal: a sign, digits with a fraction, an exponent (no ``_``, no ``inf``).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


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
    >>> from skmrl.cli._columns import close_column
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
    >>> from skmrl.cli._columns import distinct_columns
    >>> from skmrl.cli._refused import Refused
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
