"""The documentation site builds with warnings as errors, and its gallery runs the examples.

How the examples run once, not twice
------------------------------------
The site's gallery (sphinx-gallery) executes every example of ``examples/`` whose needs are met
(``docs/_skmrl_docs.py``: the shared data folder, BBC News, the packaged MiniLM), and writes what
each one printed into its page's source, ``auto_examples/<name>.rst``. So the slow tests build the
site once per test session (the ``docs_build`` fixture, cached in this module), and
``tests/test_examples.py`` checks the key lines of each example's output in that captured stdout
instead of running the script again. Without the ``docs`` extra (no Sphinx), ``test_examples.py``
runs the scripts itself, as before.

The build begins as soon as the session's tests are known (``tests/conftest.py`` calls
:func:`start_build_early` when a selected test needs it), so that it runs in its own process
beside the tests before it: it held the whole suite up for 60-80 s on a 2-core CPU.

The build is ``sphinx-build -W --keep-going -b html`` (what ``make docs`` runs), in a subprocess,
from a copy of ``docs/`` and ``examples/`` in a temporary folder: nothing is written into the
checkout, and no gallery output of an earlier ``make docs`` is reused (sphinx-gallery skips
examples it ran before unchanged; a fresh copy runs them all). ``$SKMRL_DATA`` is set to the data
folder the other tests use, so the copied ``conf.py`` finds it.

The fast tests check that the API reference lists every public name.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

#: What a build needs besides skmrl (the ``docs`` extra).
DOCS_REQUIREMENTS = ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser")

#: The modules the API reference documents, besides the names of ``skmrl`` itself: every name of
#: their ``__all__`` must have a page.
API_MODULES = (
    "skmrl.base",
    "skmrl.tfidf",
    "skmrl.word2vec",
    "skmrl.matryoshka",
    "skmrl.adaptor",
    "skmrl.evaluation",
    "skmrl.plotting",
    "skmrl.datasets",
    "skmrl.metrics",
    "skmrl.retrieval",
    "skmrl.dask",
    "skmrl.cache",
    "skmrl.models",
    "skmrl.utils.estimator_checks",
)


def docs_extra_missing() -> str | None:
    """Which package of the ``docs`` extra is missing, or ``None`` when all are installed."""
    for name in DOCS_REQUIREMENTS:
        if importlib.util.find_spec(name) is None:
            return f"{name} not installed (pip install -e '.[docs]')"
    return None


@dataclass
class DocsBuild:
    """One build of the site: its exit status, its log and where its files are."""

    returncode: int
    log: str
    source: Path  # the copied docs/ folder (auto_examples/*.rst hold the examples' output)
    html: Path  # the built site

    def example_output(self, name: str) -> str:
        """What the example ``name`` printed when the gallery ran it (all its cells, in order).

        Parameters
        ----------
        name : str
            The example's file name, such as ``"grid_search_dim.py"``.

        Returns
        -------
        str
            The captured stdout, dedented; empty when the example printed nothing or was not run.
        """
        return captured_stdout((self.source / "auto_examples" / name).with_suffix(".rst"))

    def example_page(self, name: str) -> str:
        """The generated ``.rst`` source of the example's gallery page (for failure messages)."""
        return (self.source / "auto_examples" / name).with_suffix(".rst").read_text("utf-8")


def captured_stdout(rst: Path) -> str:
    """The stdout blocks sphinx-gallery wrote into an example's page, joined and dedented.

    Each output block is::

        .. rst-class:: sphx-glr-script-out

         .. code-block:: none

            line 1
            line 2

    Parameters
    ----------
    rst : pathlib.Path
        The generated page source.

    Returns
    -------
    str
    """
    lines = rst.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != ".. rst-class:: sphx-glr-script-out":
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or not lines[i].strip().startswith(".. code-block::"):
            continue
        i += 1
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        while block and not block[0].strip():
            block.pop(0)
        indent = min(len(b) - len(b.lstrip()) for b in block if b.strip()) if block else 0
        out.extend(b[indent:] for b in block)
    return "\n".join(out) + ("\n" if out else "")


def _copy_sources(dest: Path) -> Path:
    """Copy docs/ and examples/ side by side under ``dest``, without build outputs."""
    ignore = shutil.ignore_patterns(
        "_build", "auto_examples", "generated", "sg_execution_times.rst", "__pycache__"
    )
    shutil.copytree(DOCS, dest / "docs", ignore=ignore)
    shutil.copytree(EXAMPLES, dest / "examples", ignore=ignore)
    return dest / "docs"


def start_build(dest: Path) -> tuple[subprocess.Popen, Path]:
    """Start building the site as ``make docs`` does, from a fresh copy of the sources under
    ``dest``, in a subprocess that writes its log to ``dest/build.log``.

    Parameters
    ----------
    dest : pathlib.Path
        An empty folder.

    Returns
    -------
    (subprocess.Popen, pathlib.Path)
        The running build, and ``dest``: :func:`finish_build` waits for it.
    """
    source = _copy_sources(dest)
    env = {**os.environ, "SKMRL_DATA": str(SHARED_DATA)}
    with open(dest / "build.log", "wb") as log:  # a file, not a pipe that no one reads meanwhile
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sphinx",
                "-W",
                "--keep-going",
                "-b",
                "html",
                str(source),
                str(dest / "html"),
            ],
            cwd=dest,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_lower_priority if hasattr(os, "nice") else None,
        )
    return proc, dest


def _lower_priority() -> None:
    """In the build's process (POSIX): yield the CPU to the tests that run beside it (they
    took up to twice as long beside a build at the same priority; the build has minutes to spare
    before the first test waits for it)."""
    os.nice(10)


def finish_build(proc: subprocess.Popen, dest: Path, timeout: float = 1200) -> DocsBuild:
    """Wait for a build from :func:`start_build` (killed past ``timeout`` seconds)."""
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    log = (dest / "build.log").read_text(encoding="utf-8", errors="replace")
    return DocsBuild(returncode, log, dest / "docs", dest / "html")


def build_docs(dest: Path) -> DocsBuild:
    """:func:`start_build` in the empty folder ``dest``, then :func:`finish_build`."""
    return finish_build(*start_build(dest))


_BUILDS: dict[str, DocsBuild] = {}
#: The build :func:`start_build_early` began in the background: its process and folder, until
#: the fixture waits for it.
_EARLY: dict[str, tuple[subprocess.Popen, Path]] = {}
_EARLY_PREFIX = "skmrl-docs-build-"


def _needs_build(item: pytest.Item) -> bool:
    """Whether a collected test reads the build (the fixture, or an example's captured output)."""
    return "docs_build" in getattr(item, "fixturenames", ()) or (
        item.path.name == "test_examples.py" and item.name.startswith("test_example_runs")
    )


def start_build_early(session: pytest.Session) -> None:
    """Start the build as soon as the session's tests are known, when one of them needs it.

    The build (1-2 minutes, mostly the gallery running the examples) then runs in its own
    process, on the CPU's other core, beside the tests before it, instead of holding the session
    up at the first test that needs it. Called from ``tests/conftest.py``.
    """
    if session.config.option.collectonly or docs_extra_missing() is not None:
        return
    if "build" in _BUILDS or "build" in _EARLY or not any(map(_needs_build, session.items)):
        return
    _EARLY["build"] = start_build(Path(tempfile.mkdtemp(prefix=_EARLY_PREFIX)))


def stop_early_build() -> None:
    """At the session's end: stop a build that no test waited for (an interrupted run, ``-x``),
    and remove the early build's folder."""
    pending = _EARLY.pop("build", None)
    if pending is not None:
        proc, dest = pending
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    else:
        build = _BUILDS.get("build")
        if build is None or not build.source.parent.name.startswith(_EARLY_PREFIX):
            return  # none, or under pytest's own temporary folders
        dest = build.source.parent
    shutil.rmtree(dest, ignore_errors=True)


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory) -> DocsBuild:
    """The site, built once per test session (also for ``tests/test_examples.py``, which imports
    this fixture: the module-level cache makes both modules share one build); the build that
    :func:`start_build_early` began when the session started, where it did."""
    reason = docs_extra_missing()
    if reason:
        pytest.skip(reason)
    if "build" not in _BUILDS:
        pending = _EARLY.pop("build", None)
        if pending is not None:
            _BUILDS["build"] = finish_build(*pending)
        else:
            _BUILDS["build"] = build_docs(tmp_path_factory.mktemp("docs"))
    return _BUILDS["build"]


def load_docs_helpers():
    """``docs/_skmrl_docs.py`` (what each example needs, its arguments), imported from its path."""
    spec = importlib.util.spec_from_file_location("_skmrl_docs", DOCS / "_skmrl_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- fast checks: the API reference lists every public name -------------------------------------
def _documented_names() -> set[str]:
    """``module.name`` for each entry of an autosummary list in docs/api/index.rst."""
    text = (DOCS / "api" / "index.rst").read_text(encoding="utf-8")
    names: set[str] = set()
    module = "skmrl"
    in_summary = False
    for line in text.splitlines():
        if m := re.match(r"^\.\. currentmodule:: (\S+)$", line):
            module, in_summary = m.group(1), False
        elif line.startswith(".. autosummary::"):
            in_summary = True
        elif in_summary and line.startswith("   ") and not line.strip().startswith(":"):
            if line.strip():
                names.add(f"{module}.{line.strip()}")
        elif in_summary and line.strip() and not line.startswith("   "):
            in_summary = False
    return names


def test_api_reference_lists_every_public_name():
    documented = _documented_names()
    import skmrl

    missing = []
    for name in skmrl.__all__:
        if name == "__version__":
            continue
        obj = getattr(skmrl, name)
        homes = [f"skmrl.{name}"] + [
            f"{mod}.{name}"
            for mod in API_MODULES
            if getattr(importlib.import_module(mod), name, None) is obj
        ]
        if not documented.intersection(homes):
            missing.append(f"skmrl.{name}")
    for mod in API_MODULES:
        module = importlib.import_module(mod)
        for name in module.__all__:
            homes = {f"{mod}.{name}"}
            if getattr(skmrl, name, None) is getattr(module, name):  # documented as skmrl.<name>
                homes.add(f"skmrl.{name}")
            if not documented & homes:
                missing.append(f"{mod}.{name}")
    assert not missing, f"add to docs/api/index.rst: {missing}"


def test_api_reference_names_exist():
    missing = []
    for qualified in sorted(_documented_names()):
        module, _, name = qualified.rpartition(".")
        if not hasattr(importlib.import_module(module), name):
            missing.append(qualified)
    assert not missing, f"docs/api/index.rst lists names that do not exist: {missing}"


def test_every_example_has_a_gallery_header():
    """sphinx-gallery needs a module docstring that opens with an RST title."""
    for path in sorted(EXAMPLES.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False) or ""
        lines = doc.strip("\n").splitlines()
        assert len(lines) >= 2 and lines[1].startswith("===") and len(lines[1]) >= len(lines[0]), (
            f"{path.name}: the docstring must start with a title underlined with '='"
        )
        assert "__doc__" not in path.read_text(encoding="utf-8"), (
            f"{path.name}: the gallery runs examples with __doc__ == ''"
        )


def test_captured_stdout_reads_every_output_block(tmp_path):
    rst = tmp_path / "example.rst"
    rst.write_text(
        "Title\n=====\n\n.. code-block:: Python\n\n    print('a')\n\n"
        ".. rst-class:: sphx-glr-script-out\n\n .. code-block:: none\n\n"
        "    best: 1\n      indented\n\n    after a blank\n\n\n"
        "Text between cells.\n\n"
        ".. rst-class:: sphx-glr-script-out\n\n .. code-block:: none\n\n    second cell\n\n"
        ".. rst-class:: sphx-glr-timing\n",
        encoding="utf-8",
    )
    assert captured_stdout(rst) == "best: 1\n  indented\n\nafter a blank\nsecond cell\n"


# -- the build -----------------------------------------------------------------------------------
@pytest.mark.slow  # runs the examples: about 3 minutes on a 2-core CPU
def test_docs_build_without_warnings(docs_build):
    assert docs_build.returncode == 0, docs_build.log[-6000:]
    html = docs_build.html
    pages = [
        "index.html",
        "getting_started.html",
        "estimators.html",
        "choosing_dim.html",
        "performance.html",
        "cli.html",
        "design.html",
        "api/index.html",
        "api/generated/skmrl.MatryoshkaEmbedder.html",
        "api/generated/skmrl.evaluation.dim_curve.html",
        "auto_examples/index.html",
    ]
    pages += [f"auto_examples/{Path(name).stem}.html" for name in sorted(EXAMPLES.glob("*.py"))]
    missing = [page for page in pages if not (html / page).is_file()]
    assert not missing, missing
    # The API page is built from the docstring: its parameters and inherited methods are there.
    api = (html / "api/generated/skmrl.MatryoshkaEmbedder.html").read_text(encoding="utf-8")
    for anchor in ("skmrl.MatryoshkaEmbedder.fit", "skmrl.MatryoshkaEmbedder.transform"):
        assert f'id="{anchor}"' in api, anchor
    assert "fine_tune" in api
    # design.md is the "design and contracts" page, rendered from Markdown.
    design = (html / "design.html").read_text(encoding="utf-8")
    assert "Contracts every embedder keeps" in design
    # The CLI page shows the installed command's help.
    assert "usage: skmrl demo" in (html / "cli.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_docs_gallery_runs_every_runnable_example(docs_build):
    """Each example whose needs are met printed something in the gallery; the others are listed."""
    helpers = load_docs_helpers()
    for path in sorted(EXAMPLES.glob("*.py")):
        if helpers.missing_needs(path.name) is None:
            assert docs_build.example_output(path.name).strip(), (
                path.name,
                docs_build.example_page(path.name)[-3000:],
            )
