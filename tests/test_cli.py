"""The ``skmrl`` command as a user runs it: the installed console script, in a subprocess.

A bad argument must end in one argparse-style error line and exit status 2 before any work (no
dataset or model loading, nothing on stdout), never in a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import skmrl
from skmrl.cli import main

#: A bad argument is refused before any work: well under this (a loose bound, for loaded CI).
FAST_S = 20.0


def _command() -> list[str]:
    """The installed ``skmrl`` script of this interpreter's environment, else ``python -m``."""
    script = Path(sys.executable).parent / ("skmrl.exe" if os.name == "nt" else "skmrl")
    if script.exists():
        return [str(script)]
    found = shutil.which("skmrl")
    return [found] if found else [sys.executable, "-m", "skmrl.cli"]


@pytest.fixture
def skmrl_cmd(tmp_path):
    """Run ``skmrl ARGS``; the default cache folders point into ``tmp_path``, never ``~``."""
    env = dict(os.environ)
    env["SKMRL_CACHE_DIR"] = str(tmp_path / "default-cache")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")

    def run(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        start = time.perf_counter()
        out = subprocess.run(
            [*_command(), *args],
            capture_output=True,
            text=True,
            env={**env, **kwargs.pop("env", {})},
            timeout=timeout,
            check=False,
            **kwargs,
        )
        out.seconds = time.perf_counter() - start
        return out

    return run


def _assert_refused(out: subprocess.CompletedProcess, argument: str, *phrases: str) -> None:
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith(f"skmrl demo: error: argument {argument}: "), out.stderr
    assert [line for line in lines if "error" in line] == lines[-1:]  # one error line
    for phrase in phrases:
        assert phrase in lines[-1]
    assert out.stdout == ""  # nothing started: no dataset header, no sweep
    assert out.seconds < FAST_S


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
        (["--max-length", "100000"], "--max-length", "[1, 512]"),
    ],
)
def test_demo_refuses_a_bad_number_at_once(skmrl_cmd, args, argument, phrase):
    # the limit of 60 s only bounds a regression that would run the whole demo
    _assert_refused(skmrl_cmd("demo", *args, timeout=60), argument, phrase)


def test_demo_refuses_a_plot_in_a_missing_folder_before_the_run(skmrl_cmd, tmp_path):
    out = skmrl_cmd("demo", "--plot", str(tmp_path / "missing" / "x.png"), timeout=60)
    _assert_refused(out, "--plot", "does not exist")


def test_demo_refuses_a_plot_in_an_unknown_format(skmrl_cmd, tmp_path):
    out = skmrl_cmd("demo", "--plot", str(tmp_path / "x.nope"), timeout=60)
    _assert_refused(out, "--plot", "unknown image format 'nope'")


def test_demo_refuses_a_cache_dir_it_cannot_create(skmrl_cmd, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = skmrl_cmd("demo", "--cache-dir", str(blocker / "cache"), timeout=60)
    _assert_refused(out, "--cache-dir", "cannot create")


def test_version(skmrl_cmd):
    out = skmrl_cmd("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"skmrl {skmrl.__version__}\n"


def test_help_is_plain_text(skmrl_cmd):
    out = skmrl_cmd("--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: skmrl [-h] [--version] COMMAND ...")
    assert "text embeddings as scikit-learn transformers" in out.stdout
    assert "demo" in out.stdout and "cache" in out.stdout
    assert "``" not in out.stdout  # no reST markup


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["demo"], "--max-length TOKENS"),
        (["cache"], "Show or empty"),
        (["cache", "info"], "--cache-dir DIR"),
        (["cache", "clear"], "--yes"),
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


def test_cache_info_and_clear(skmrl_cmd, tmp_path):
    folder = tmp_path / "cache"
    _fill_cache(folder, 7)
    (folder / "mine.txt").write_text("not skmrl's")
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"skmrl disk cache: {folder}\n")
    assert "vectors:       7 from 1 model(s)" in out.stdout
    assert "KiB" in out.stdout and "(bound " in out.stdout

    # not a terminal (stdin is /dev/null): no question asked
    out = skmrl_cmd("cache", "clear", "--cache-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("removed 7 vector(s) and 0 fitted state(s) (")
    assert (folder / "mine.txt").read_text() == "not skmrl's"  # only skmrl's files go
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert "vectors:       0 from 0 model(s)" in out.stdout


def test_cache_commands_on_a_missing_folder_say_so(skmrl_cmd, tmp_path):
    folder = tmp_path / "nope"
    out = skmrl_cmd("cache", "info", "--cache-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"skmrl disk cache: {folder} (does not exist: nothing is cached there)\n"
    out = skmrl_cmd("cache", "clear")  # the default folder, from $SKMRL_CACHE_DIR
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"nothing to clear: {tmp_path / 'default-cache'} does not exist\n"
    assert not folder.exists() and not (tmp_path / "default-cache").exists()


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
    assert "vectors:       60 from 1 model(s)" in out.stdout
    out = skmrl_cmd("cache", "clear", "--yes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("removed 60 vector(s)")
