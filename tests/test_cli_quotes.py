"""The CLI's input files read as a user writes them (:mod:`skmrl.cli._csv`,
:mod:`skmrl.cli._texts`, :mod:`skmrl.cli._file_text`): stray quote marks that swallow rows,
``.txt`` files with old Mac line ends, and compressed files.

A file that would be read wrongly (rows lost, texts glued together) is refused in one line that
says where; one that is only unusual is read as the csv module and pandas read it.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import zipfile

import pytest

from skmrl.cli._csv import read_table
from skmrl.cli._refused import Refused
from skmrl.cli._texts import read_texts


def test_a_stray_quote_after_a_lenient_quote_is_still_refused(tmp_path):
    # A one-line text such as '"Hi" there' (a quote mark that csv reads leniently) ended the
    # check at its row: a stray quote mark further on swallowed the rows after it, and skmrl
    # embed wrote 2 vectors for 4 rows.
    path = tmp_path / "m1.csv"
    path.write_text('label,text\nham,"Hi" there\nspam,"free prize\nham,ok see you\nham,call me\n')
    with pytest.raises(Refused, match=r"quoted text opens on line 3 and runs to the end of the "):
        read_texts(str(path), "text", False, None)
    path.write_text('label,text\nham,"Hi" there\nspam,"free prize\nham,ok\nham,He said "hi" x\n')
    with pytest.raises(Refused, match=r"opens on line 3 and runs up to a quote mark on line 5"):
        read_table(str(path), None)
    # the lenient quote alone is read as before
    path.write_text('label,text\nham,"Hi" there\nspam,free prize\n')
    assert read_texts(str(path), "text", False, None).texts == ["Hi there", "free prize"]


@pytest.mark.parametrize(
    ("header", "rows", "first", "last"),
    [
        # the reviewer's file: the quote mark ending '32"' closes the stray quoted field cleanly
        ("label,text", ['spam,"free prize', "ham,ok see you", 'ham,my tv is 32"', "ham,bye"], 2, 4),
        # a blank line among the rows swallowed, and CRLF line ends
        ("label,text", ['spam,"free prize\r', "\r", 'ham,my tv is 32"\r', "ham,call me\r"], 2, 4),
        # only one row swallowed
        ("label,text", ['spam,"free prize', 'ham,my tv is 32"', "ham,call me", "spam,win"], 2, 3),
        # the text first: the closing quote mark has a delimiter after it
        ("text,label", ['"free prize,spam', "ok see you,ham", 'my tv is 32",ham', "go,spam"], 2, 4),
        # a column of numbers (ids) beside the labels
        ("id,label,text", ['1,spam,"win now', "2,ham,ok", '3,ham,a 5"', "4,ham,x"], 2, 4),
    ],
)
def test_a_stray_quote_closed_by_a_quote_ending_a_later_text_is_warned_about(
    tmp_path, header, rows, first, last
):
    # The quoted field opened by a stray quote mark ends at a later text's own quote mark, with a
    # delimiter or the end of the line after it: strict csv sees nothing wrong, and the rows in
    # between were read as part of one text (2 vectors for 4 rows), without a word. Each of its
    # lines reads as a row of the file; so do some quoted texts' (below), so it is warned about,
    # not refused.
    path = tmp_path / "stray.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    with pytest.warns(UserWarning, match=rf"quoted text on lines {first}-{last} is read as one "):
        found = read_texts(str(path), "text", False, None)
    assert len(found.texts) == len(rows) - (last - first)


@pytest.mark.parametrize(
    "content",
    [
        # pandas' to_csv of texts whose second line reads as a row (an id, then text)
        'id,text\n1,"Totals:\n2,500 units"\n2,"a\nb"\n3,x\n',
        'id,text\n1,"The population was\n12,000 people"\n',
        'label,text\nham,"Forwarded:\nham,see you at 5"\nspam,win\n',
    ],
)
def test_quoted_texts_whose_lines_read_as_rows_are_read_not_refused(tmp_path, content):
    # A text over several lines whose every line splits into the header's width, with values of
    # the other columns: as a stray quote mark's swallowed rows would. They were refused with no
    # way round, where pandas reads them; they are read, with a warning.
    path = tmp_path / "texts.csv"
    path.write_text(content)
    with pytest.warns(UserWarning, match="if a stray quote mark on line 2 opened it"):
        found = read_texts(str(path), "text", False, None)
    assert found.texts[0] == content.split('"')[1]


@pytest.mark.parametrize("columns", [["label", "text"], ["text", "label"], ["id", "text", "label"]])
def test_quoted_texts_over_several_lines_are_read(tmp_path, columns):
    # What csv.writer (and pandas' to_csv) writes for texts holding newlines, commas and quote
    # marks: each is one quoted field over several lines, which must be read, not refused.
    texts = [
        "Dear Sir,\nThanks, John",
        "Hi\nfine, see you",
        "one\ntwo\nthree",
        'He said "hi"\nthen left',
        "ok",
        "a,b\r\nc,d",
        "Call me\n1, ok",
        "x\n\ny",
        'my tv is 32"\nok, bye',
    ]
    path = tmp_path / "texts.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i, text in enumerate(texts):
            cells = {"id": str(i), "label": ("ham", "spam")[i % 2], "text": text}
            writer.writerow([cells[name] for name in columns])
    assert read_texts(str(path), "text", False, None).texts == texts
    # after a lenient quote mark too
    with open(path, "a", newline="", encoding="utf-8") as f:
        f.write(",".join({"id": "9", "label": "ham", "text": '"Hi" there'}[c] for c in columns))
        f.write("\n")
    assert read_texts(str(path), "text", False, None).texts[-1] == "Hi there"


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_a_txt_file_is_split_at_every_line_end_a_csv_file_is(tmp_path, end):
    # A .txt file with old Mac line ends ("\r" alone) was one text: it was split at "\n" only,
    # where a CSV file is split at "\r\n", "\r" and "\n".
    path = tmp_path / "texts.txt"
    path.write_bytes(end.join(["a cat", "shares fell", "", "rain\x0cand\u2028snow", ""]).encode())
    found = read_texts(str(path), None, skip_empty=True, limit=None)
    assert found.texts == ["a cat", "shares fell", "rain\x0cand\u2028snow"]
    assert found.rows == [0, 1, 3]  # the empty line is line 3: its 0-based row 2 is skipped
    assert found.skipped == 1
    with pytest.raises(Refused, match=r"line 3 of .* is empty"):
        read_texts(str(path), None, skip_empty=False, limit=None)
    limited = read_texts(str(path), None, skip_empty=True, limit=2)
    assert limited.texts == ["a cat", "shares fell"]
    assert limited.limited
    path.write_bytes(b"one\rtwo\r\nthree\nfour")  # mixed, and no line end at the end
    assert read_texts(str(path), None, False, None).texts == ["one", "two", "three", "four"]
    # what csv.writer writes on Windows to a file opened without newline="": one line end, where
    # split at its "\r" each text was followed by an empty line (refused without --skip-empty)
    path.write_bytes(b"first text\r\r\nsecond text\r\r\n")
    found = read_texts(str(path), None, False, None)
    assert (found.texts, found.rows) == (["first text", "second text"], [0, 1])


def _zip(data: bytes) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "compress", "phrase"),
    [
        ("data.csv.gz", gzip.compress, "it is gzip-compressed; skmrl reads plain text: "),
        ("data.csv", gzip.compress, "it is gzip-compressed"),
        ("data.csv.bz2", bz2.compress, "it is bzip2-compressed"),
        ("data.csv.xz", lzma.compress, "it is xz-compressed"),
        ("data.csv.zip", _zip, "it is a zip archive"),
    ],
)
def test_a_compressed_file_is_told_to_be_decompressed(tmp_path, name, compress, phrase):
    # A gzip file was refused as "not UTF-8 text" with the pandas line that converts a Windows
    # code page, which is no way out for a compressed file.
    path = tmp_path / name
    path.write_bytes(compress(b"text,label\na cat,pets\nshares fell,money\n"))
    with pytest.raises(Refused, match="decompress it first") as refused:
        read_table(str(path), None)
    assert phrase in refused.value.message
    assert "UTF-8" not in refused.value.message
    if name == "data.csv.gz":
        assert refused.value.message.endswith(f"(e.g. gunzip -c {str(path)!r} > 'data.csv')")
    text = tmp_path / "texts.txt"
    text.write_bytes(compress(b"a cat\nshares fell\n"))
    with pytest.raises(Refused, match=rf"is not a text file: {phrase}"):
        read_texts(str(text), None, False, None)


def test_a_text_starting_like_a_compressed_file_is_read(tmp_path):
    # bzip2's mark "BZh" is text: a file starting with it is no bzip2 file without what follows
    path = tmp_path / "data.csv"
    path.write_text("BZh9,label\nBZh91AY,a\n")
    assert read_table(str(path), None).header == ["BZh9", "label"]
