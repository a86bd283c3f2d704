"""Reading an input file's bytes as text, and the way out for a file that is not UTF-8 CSV.

An input file (a CSV file, or the ``.txt`` file of ``skmrl embed`` and ``skmrl bench``) is read
whole, in UTF-8 or in UTF-16 after its byte-order mark (as :mod:`skmrl.datasets` reads them). A
file that is none (missing, a folder, an Excel workbook, compressed, UTF-32, UTF-16 without its
mark, a Windows code page, binary) raises :class:`~skmrl.cli._refused.Refused` with the way out:
the pandas line that converts it, its separator named when Excel's ``sep=`` line or a first line
without commas shows it. Nothing here imports torch, scikit-learn, numpy or pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from skmrl._compression import compression_name, compression_of
from skmrl.cli._refused import Refused

#: The command that decompresses a file, by its kind (:func:`skmrl._compression.compression_of`;
#: what the file is: :func:`skmrl._compression.compression_name`).
_DECOMPRESS = {
    "gzip": "gunzip -c",
    "zip": "unzip -p",
    "bzip2": "bunzip2 -c",
    "xz": "unxz -c",
    "zstd": "unzstd -c",
}
#: A line with its end ("\r\n", "\r" or "\n"), or the last line without one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def refuse_compressed(path_arg: str, argument: str, what: str) -> None:
    """Refuse a gzip, bzip2, xz or zstd file with the command that decompresses it, reading its
    first bytes only (a multi-GB ``.gz`` was read whole to be refused); nothing for any other
    file, for a zip archive (an Excel workbook, a Word or OpenDocument file is one: telling
    them apart takes the whole file, and "unzip -p" would give their XML), or for a file that
    cannot be read (its reader says why)."""
    path = Path(path_arg).expanduser()
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return
    compressed = compression_of(head)
    if compressed not in (None, "zip"):
        _refuse_compressed(compressed, path, repr(path_arg), argument, what)


def _refuse_compressed(compressed: str, path: Path, shown: str, argument: str, what: str) -> None:
    """The refusal of a file compressed as ``compressed`` (a key of ``_DECOMPRESS``), with the
    command that decompresses it to a file named after it."""
    kind, command = compression_name(compressed), _DECOMPRESS[compressed]
    plain = path.name
    for suffix in (".gz", ".zip", ".bz2", ".xz", ".zst"):
        plain = plain.removesuffix(suffix)
    plain = plain if plain != path.name and Path(plain).suffix else "plain-" + plain
    raise Refused(
        argument,
        f"{shown} is not {what}: it is {kind}; skmrl reads plain text: decompress it first "
        f"(e.g. {command} {shown} > {plain!r})",
    )


def read_text_file(path_arg: str, argument: str, what: str = "a CSV file") -> str:
    """The whole text of ``path_arg``; a missing or binary file is refused.

    The text is UTF-8 (a byte-order mark, which Excel's "CSV UTF-8" writes, dropped) or UTF-16
    after its byte-order mark (Excel's "Unicode Text"), the two :mod:`skmrl.datasets` reads too
    (it also falls back to Windows-1252, for the public files it knows). A file in another encoding
    (UTF-16 without its mark, UTF-32, a Windows code page) is refused with the way out.

    Examples
    --------
    >>> from skmrl.cli._file_text import read_text_file
    >>> from skmrl.cli._refused import Refused
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
    refuse_compressed(path_arg, argument, what)  # from its first bytes, not read whole
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
    compressed = compression_of(raw[:16])  # a zip archive: the others were refused above
    if compressed is not None:
        _refuse_compressed(compressed, path, shown, argument, what)
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


def _csv_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, one at a time, split at ``"\\r\\n"``, ``"\\r"`` and
    ``"\\n"`` as ``io.StringIO(text, newline="")`` splits them for the csv module.

    Not a StringIO: it copies the text at 4 bytes a character, whatever the text, and the reader
    and the stray-quote check each held one, so a 93 MB file took 900 MB to read (a list of its
    rows takes 100 MB).

    Examples
    --------
    >>> from skmrl.cli._file_text import _csv_lines
    >>> list(_csv_lines("a,b\\r\\nc\\rd\\n\\ne"))
    ['a,b\\r\\n', 'c\\r', 'd\\n', '\\n', 'e']
    """
    return (match.group() for match in _LINE.finditer(text))
