"""The CLI's input files as other tools write them (:mod:`skmrl.cli._file_text`,
:mod:`skmrl.cli._csv`, :mod:`skmrl.cli._columns`): labels spelt like a missing value or written
two ways, Excel's files (a Windows code page with ``;``, a workbook under a ``.csv`` name, a
``sep=`` first line), a space after each comma, two files joined.

A file that would be read wrongly is refused in one line with a fix to paste; one that is read
as written, but may not mean what it says, is read with a warning that says how to change it.
"""

from __future__ import annotations

import warnings
import zipfile

import pytest

from skmrl.cli._columns import label_cells
from skmrl.cli._csv import read_table
from skmrl.cli._refused import Refused
from skmrl.cli._texts import read_texts

from .conftest import assert_refused


def _write(path, text: str):
    path.write_text(text, encoding="utf-8", newline="")
    return path


# -- 1. a class spelt None or NA ------------------------------------------------------------------
def test_a_label_spelt_none_or_na_is_a_class_with_one_warning(tmp_path):
    # An intent "None" (or a region "NA") was refused as a missing value, with no way round it:
    # dropping its rows deleted a class.
    path = _write(
        tmp_path / "intents.csv",
        "text,intent\nhi,greet\nnothing,None\nbye,greet\nmeh,None\nzip,NA\n",
    )
    table = read_table(str(path), None)
    with pytest.warns(UserWarning) as caught:
        labels = label_cells(table, "intent", "hint")
    assert labels == ["greet", "None", "greet", "None", "NA"]
    [warning] = [str(w.message) for w in caught]
    assert "'None' in 2 row(s), 'NA' in 1 row(s): taken as a class" in warning
    assert "keep_default_na=False" in warning and "!= 'None'" in warning


def test_a_float_missing_value_in_a_label_column_and_none_in_a_text_column_stay_refused(tmp_path):
    path = _write(tmp_path / "nan.csv", "text,intent\nhi,greet\nbye,nan\n")
    with pytest.raises(Refused, match=r"'nan' in column 'intent': a missing value, not a label"):
        label_cells(read_table(str(path), None), "intent", "hint")
    path = _write(tmp_path / "none-text.csv", "text,intent\nhi,greet\nNone,x\n")
    with pytest.raises(Refused, match=r"'None' in column 'text': a missing value, not a text"):
        read_texts(str(path), "text", False, None)


def test_every_spelling_pandas_reads_as_missing_is_missing(tmp_path):
    # "n/a" (and "#NA", "-NaN", "1.#QNAN") were read as a text and as a class without a word,
    # where pandas.read_csv reads them as NaN, as it does "N/A"
    from pandas._libs.parsers import STR_NA_VALUES

    from skmrl.cli._columns import MISSING_MARKERS

    assert STR_NA_VALUES - {""} <= MISSING_MARKERS
    path = _write(tmp_path / "na-text.csv", "text,intent\nhi,greet\nn/a,x\n")
    with pytest.raises(Refused, match=r"'n/a' in column 'text': a missing value, not a text"):
        read_texts(str(path), "text", False, None)
    path = _write(tmp_path / "na-label.csv", "text,intent\nhi,greet\nbye,-1.#QNAN\n")
    with pytest.raises(Refused, match=r"'-1.#QNAN' in column 'intent': a missing value"):
        label_cells(read_table(str(path), None), "intent", "hint")
    path = _write(tmp_path / "na-class.csv", "text,intent\nhi,greet\nbye,n/a\nyo,greet\n")
    with pytest.warns(UserWarning, match=r"'n/a' in 1 row\(s\): taken as a class"):
        assert label_cells(read_table(str(path), None), "intent", "hint")[1] == "n/a"


def test_sweep_warns_about_a_class_spelt_none_and_reads_on(skmrl_cmd, tmp_path):
    # the reviewer's run: refused "row 2 ... has 'None' in column 'intent': a missing value";
    # now the class is read (the run then stops at --folds, before any model is loaded)
    rows = "".join(f"t{i},{'None' if i % 2 else 'greet'}\n" for i in range(4))
    _write(tmp_path / "intents.csv", "text,intent\n" + rows)
    out = skmrl_cmd(
        "sweep", "intents.csv", "--text-col", "text", "--label-col", "intent",
        "--embedder", "tfidf", timeout=120,
    )  # fmt: skip
    assert "skmrl sweep: warning: column 'intent' has 'None' in 2 row(s)" in out.stderr
    assert_refused(out, "sweep", "--folds")


# -- 2. labels written two ways -------------------------------------------------------------------
def test_labels_that_read_as_one_number_are_warned_about_not_merged(tmp_path):
    # 0/0.0 and 1/1.0 (a pandas float round trip of part of the file) were 4 classes, silently
    path = _write(tmp_path / "floats.csv", "text,label\na,0\nb,0.0\nc,1\nd,1.0\ne,1\nf,x\n")
    with pytest.warns(UserWarning, match=r"\('0' and '0\.0', '1' and '1\.0'\): they are separate"):
        labels = label_cells(read_table(str(path), None), "label", "hint")
    assert labels == ["0", "0.0", "1", "1.0", "1", "x"]
    # one spelling each: no warning
    path = _write(tmp_path / "ints.csv", "text,label\na,0\nb,1\nc,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        label_cells(read_table(str(path), None), "label", "hint")


# -- 3. a Windows code page with semicolons -------------------------------------------------------
def test_a_cp1252_file_with_semicolons_is_told_the_separator_to_read_it_with(tmp_path):
    # the pandas line without sep=';' read each line as one column
    path = tmp_path / "excel.csv"
    path.write_bytes("text;label\r\ncafé au lait;a\r\nthé;b\r\n".encode("cp1252"))
    with pytest.raises(Refused) as exc:
        read_table(str(path), None)
    assert "read_csv(path, encoding='cp1252', sep=';').to_csv(new_path, index=False)" in str(
        exc.value
    )
    path.write_bytes("text,label\r\ncafé au lait;x,a\r\n".encode("cp1252"))  # commas: no sep
    with pytest.raises(Refused, match=r"encoding='cp1252'\)\.to_csv\(new_path, index=False\)"):
        read_table(str(path), None)


# -- 4. a space after each comma ------------------------------------------------------------------
def test_a_file_with_a_space_after_each_comma_reads_its_quoted_texts(tmp_path):
    # refused as '4 fields ... (a comma in a text that is not quoted?)', and a quoted text
    # without a comma kept its quote marks and a space: ' "hello world"'
    path = _write(
        tmp_path / "spaced.csv",
        'id, text, label\n1, "hello, world", ham\n2, "free prize", spam\n3, ok, ham\n',
    )
    table = read_table(str(path), None)
    assert table.header == ["id", "text", "label"]
    assert table.rows == [
        ["1", "hello, world", "ham"],
        ["2", "free prize", "spam"],
        ["3", "ok", "ham"],
    ]
    # a header without the space after a comma is read as before: a quote after a space is text
    path = _write(tmp_path / "plain.csv", 'id,text\n1, "hi" there\n')
    assert read_table(str(path), None).rows == [["1", ' "hi" there']]


# -- 5. a header row repeated ---------------------------------------------------------------------
def test_a_row_that_repeats_the_header_is_warned_about_with_its_row(tmp_path):
    # two CSV files joined: the second header was embedded as the text "text"
    path = _write(tmp_path / "joined.csv", "text,label\nhello,a\nbye,b\ntext,label\nyo,a\n")
    with pytest.warns(UserWarning, match=r"row 3 \(line 4\) of .* repeats the header row"):
        texts = read_texts(str(path), "text", False, None)
    assert texts.texts == ["hello", "bye", "text", "yo"]


# -- 6. an Excel workbook named .csv --------------------------------------------------------------
def test_an_excel_workbook_named_csv_is_called_one(tmp_path):
    # an .xlsx was told to unzip, an .xls to convert from cp1252
    path = tmp_path / "book.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(Refused, match=r"an Excel workbook \(\.xlsx\).*pandas\.read_excel\("):
        read_table(str(path), None)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(Refused, match=r"an Excel workbook \(\.xls.*pandas\.read_excel\("):
        read_table(str(path), None)
    # a zip archive of a CSV file is still told to decompress
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "text,label\na,b\n")
    with pytest.raises(Refused, match=r"a zip archive.*unzip -p"):
        read_table(str(path), None)


# -- 7. Excel's sep= line, a doubled byte-order mark ----------------------------------------------
def test_excels_sep_line_is_named_with_how_to_drop_it(tmp_path):
    path = _write(tmp_path / "sep.csv", "sep=;\ntext;label\na;b\n")
    with pytest.raises(Refused, match=r"starts with the line 'sep=;', Excel's note.*skiprows=1, "):
        read_table(str(path), None)
    path = _write(tmp_path / "sep.csv", "sep=,\ntext,label\na,b\n")
    with pytest.raises(Refused, match=r"'sep=,'.*read_csv\('.*sep\.csv', skiprows=1\)\.to_csv"):
        read_table(str(path), None)


def test_every_leading_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbftext,label\na,b\n")
    assert read_table(str(path), None).header == ["text", "label"]


# -- regressions of the changes above -------------------------------------------------------------
def test_a_stray_quote_after_a_space_is_read_as_without_the_spaced_reading(tmp_path):
    # 'id, text, label' read with skipinitialspace let the stray quote on line 2 open a quoted
    # text up to line 3's quote mark: 2 rows, silently, where the plain reading read 3
    path = _write(
        tmp_path / "sw5.csv",
        'id, text, label\n1, "Hi there, ham\n2, he said hello", spam\n3, bye, spam\n',
    )
    assert read_table(str(path), None).rows == [
        ["1", ' "Hi there', " ham"],
        ["2", ' he said hello"', " spam"],
        ["3", " bye", " spam"],
    ]
    # a quote left open to the end of the file was refused; the plain reading reads it
    path = _write(
        tmp_path / "sw2.csv", 'id, text, label\n1, "Hi there, ham\n2, good morning, spam\n'
    )
    assert len(read_table(str(path), None).rows) == 2
    # with --limit too: the rows cut at the limit read as the whole file reads them
    assert read_table(str(path), 1).rows == [["1", ' "Hi there', " ham"]]


def test_excels_sep_line_naming_a_tab_says_so(tmp_path):
    # the tab was stripped with the line end: "the line 'sep='", and no sep='\t'
    path = _write(tmp_path / "sept.csv", "sep=\t\ntext\tlabel\na\tb\n")
    with pytest.raises(Refused, match=r"the line 'sep=\\t', .*skiprows=1, sep='\\t'\)"):
        read_table(str(path), None)


def test_a_cp1252_file_after_a_sep_line_is_told_to_skip_it(tmp_path):
    # read_csv(path, encoding='cp1252', sep=';') read the sep= line as the header
    path = tmp_path / "cpsep.csv"
    path.write_bytes("sep=;\r\ntext;label\r\ncafé;a\r\nb;c\r\n".encode("cp1252"))
    with pytest.raises(Refused, match=r"encoding='cp1252', skiprows=1, sep=';'\)\.to_csv\("):
        read_table(str(path), None)
    path.write_bytes("sep=,\r\ntext,label\r\ncafé,a\r\n".encode("cp1252"))
    with pytest.raises(Refused, match=r"encoding='cp1252', skiprows=1\)\.to_csv\("):
        read_table(str(path), None)


def test_a_repeated_header_past_the_limit_is_not_warned_about(tmp_path):
    path = _write(tmp_path / "joined.csv", "text,label\nhello,a\nbye,b\ntext,label\nyo,a\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_texts(str(path), "text", False, 2).texts == ["hello", "bye"]
    with pytest.warns(UserWarning, match=r"row 3 \(line 4\) of .* repeats the header row"):
        read_texts(str(path), "text", False, 3)


def test_labels_read_as_numbers_only_when_written_as_decimals_and_compared_exactly(tmp_path):
    # float() read '1_0' as 10, and two integers past 2**53 as one number
    rows = "a,1_0\nb,10\nc,12345678901234567890\nd,12345678901234567891\ne,inf\nf,Infinity\n"
    path = _write(tmp_path / "labels.csv", "text,label\n" + rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        label_cells(read_table(str(path), None), "label", "hint")


def test_a_compressed_input_of_embed_is_refused_from_its_first_bytes(tmp_path):
    # embed and bench read the whole file to refuse it: a 1.5 GB .gz took 1.5 GB and 11 s
    import gzip
    import tracemalloc

    from skmrl.cli._texts import check_input

    path = tmp_path / "big.csv.gz"
    with open(path, "wb") as file:
        file.write(gzip.compress(b"text\na cat\n"))
        file.truncate(64 * 2**20)  # 64 MiB (sparse): read whole, it is allocated whole
    tracemalloc.start()
    try:
        with pytest.raises(Refused, match=r"is gzip-compressed; .*gunzip -c .* > 'big.csv'"):
            check_input(str(path), "text")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak
    # sweep and finetune (read_table) too: they read 340 MB of a 300 MB .gz to refuse it
    tracemalloc.start()
    try:
        with pytest.raises(Refused, match=r"is gzip-compressed; .*gunzip -c"):
            read_table(str(path), None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_an_office_file_given_to_embed_is_not_called_a_zip_archive(tmp_path):
    # an .xlsm, .docx or .ods is a zip archive: embed said "decompress it first (e.g. unzip -p
    # 'sales.xlsm' > 'plain-sales.xlsm')", which gives its XML
    from skmrl.cli._texts import check_input

    path = tmp_path / "sales.xlsm"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(Refused) as refused:
        check_input(str(path), None)
    assert "unzip" not in refused.value.message
    assert refused.value.message.startswith("expected a .txt file (one text per line)")
    # a zip archive of a CSV file is still one, as the docs say (unzip -p)
    path = tmp_path / "d.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("d.csv", "text\nhi\n")
    with pytest.raises(Refused, match=r"it is a zip archive; .*unzip -p .* > 'd.csv'"):
        check_input(str(path), "text")
