"""The code of the documentation pages runs as written.

Each page's Python blocks (``.. code-block:: python`` in ``.rst``, a ```` ```python ```` fence in
``.md``) are read from the page itself when the test runs, and run in order in one namespace, as
a reader pasting them one after the other would, in a temporary folder: a page that drifts from
the library fails here, naming the page and the line of the failing block (the traceback gives
the page's own line numbers). The docstrings' examples run as doctests, and ``examples/`` in the
gallery (``tests/test_examples.py``); these blocks are not run anywhere else.

What a page leaves to the reader is given to it before its first block (``Page.given``): their
own vectors, a CSV file, the data folder a block names. These are documented where they are
made, and they are small: ``search.rst``'s corpus is the first 500 documents of the shared DBpedia
subset, so that its blocks run in seconds.

Shell blocks are not run as a whole (most of their commands take minutes); the commands listed
in ``Page.commands`` are, in the page's order among its Python blocks (``cli.rst``'s Python block
reads the files its ``skmrl embed`` line writes). Each listed command must be on the page, word
for word, so a changed command is noticed here.

The pages that encode texts with MiniLM are marked slow; ``estimators.rst`` and ``design.md`` run
in every selection (under a second). Two things keep the slow pages to about 1 min 45 s in all on
a 2-core CPU, where they took 6 minutes: the pages share the in-process caches, as one reader's
session does, and their BBC News is a 500-article sample (:func:`_bbc_news_sample`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import skmrl.datasets
from skmrl.cache import clear_caches

from .conftest import SHARED_DATA
from .test_docs import load_docs_helpers

ROOT = Path(__file__).resolve().parents[1]
_LOAD_BBC_NEWS = skmrl.datasets.load_bbc_news


@dataclass(frozen=True)
class Block:
    """One code block of a page: its language, the page line of its first line, its code."""

    language: str
    line: int
    code: str


def code_blocks(path: Path) -> list[Block]:
    """Every code block of an ``.rst`` (``.. code-block:: LANG``) or ``.md`` (a ```` ```LANG ````
    fence, indented in a list item too) page, in page order, dedented.

    Parameters
    ----------
    path : pathlib.Path
        The page.

    Returns
    -------
    list of Block
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if path.suffix == ".md":
            opening = re.match(r"^(\s*)```(\w+)\s*$", lines[i])
        else:
            opening = re.match(r"^(\s*)\.\. code-block:: (\w+)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        indent, language = opening.groups()
        i += 1
        if path.suffix == ".md":
            start = i
            while not lines[i].strip().startswith("```"):
                i += 1
            body = lines[start:i]
            i += 1
        else:  # the directive's options (":caption: ..."), then the indented body
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith(":")):
                i += 1
            start = i
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
            ):
                i += 1
            body = lines[start:i]
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(Block(language.lower(), start + 1, code))
    return blocks


def shell_commands(code: str) -> list[str]:
    """The commands of a shell block: one per line, ``\\`` continuations joined, without their
    trailing ``# comment``."""
    lines = re.sub(r"\\\n\s*", "", code).splitlines()
    return [c for c in (re.sub(r"\s+#\s.*$", "", line).strip() for line in lines) if c]


def run_page(
    page: Path, namespace: dict, commands: tuple[str, ...] = (), cwd: Path | None = None
) -> None:
    """Run the Python blocks of ``page`` in order in ``namespace``, and its shell commands listed
    in ``commands`` where they stand (in ``cwd``, this interpreter's ``skmrl`` and ``python``
    first on ``PATH``); fail naming the page and the line of the block that broke."""
    name = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page
    blocks = code_blocks(page)
    on_page = {c for b in blocks if b.language in ("sh", "bash") for c in shell_commands(b.code)}
    missing = [c for c in commands if c not in on_page]
    assert not missing, f"{name} no longer shows these commands: {missing}"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for block in blocks:
        if block.language == "python":
            padded = "\n" * (block.line - 1) + block.code  # tracebacks give the page's lines
            try:
                exec(compile(padded, str(name), "exec"), namespace)
            except Exception:
                raise AssertionError(
                    f"{name}, block at line {block.line} failed:\n{traceback.format_exc()}"
                ) from None
        elif block.language in ("sh", "bash"):
            for command in shell_commands(block.code):
                if command in commands:
                    out = subprocess.run(
                        command,
                        shell=True,
                        cwd=cwd,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        capture_output=True,
                        text=True,
                        timeout=600,
                    )
                    assert out.returncode == 0, (
                        f"{name}, block at line {block.line}: `{command}` exited with status "
                        f"{out.returncode}:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
                    )


# -- what each page needs, and what it leaves to the reader --------------------------------------
def _estimators_vectors(folder: Path) -> dict:
    """The reader's ``vectors`` ((n, D) floats) and ``df`` (an ``embedding`` column of vectors,
    and a ``label`` column): 300 random vectors of 48 dims in 3 classes."""
    import pandas as pd

    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b", "c"], 100)
    vectors = rng.normal(size=(300, 48)) + 2 * (labels == "a")[:, None]
    return {"vectors": vectors, "df": pd.DataFrame({"embedding": list(vectors), "label": labels})}


def _design_embedder(folder: Path) -> dict:
    """The reader's ``MyEmbedder`` (any embedder with a ``max_dim``: ``TfidfBaseline``), and
    ``texts`` and ``labels`` (the checks' own corpus of 40 sentences)."""
    from skmrl import TfidfBaseline
    from skmrl.utils._corpus import CORPUS, LABELS

    return {"MyEmbedder": TfidfBaseline, "texts": list(CORPUS), "labels": list(LABELS)}


def _data_folder(folder: Path) -> dict:
    """``load_trec("data")``: the reader's data folder is the shared one, linked as ``data``."""
    (folder / "data").symlink_to(SHARED_DATA.resolve(), target_is_directory=True)
    return {}


def _search_corpus(folder: Path) -> dict:
    """The reader's ``corpus_texts`` (the first 500 documents of the shared DBpedia subset) and
    ``query_texts`` (its 50 queries); ``pipe``, ``X`` and ``y`` of the Dask grid (MiniLM and a
    LogisticRegression, on 200 TREC questions); and ``corpus-*.csv``, two files of 50 documents
    with an ``id`` and a ``body`` column."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skmrl import MatryoshkaEmbedder
    from skmrl.datasets import load_beir, load_trec

    corpus, queries, _ = load_beir(SHARED_DATA / "retrieval" / "dbpedia")
    corpus_texts = list(corpus.values())[:500]
    X, y = load_trec(SHARED_DATA)
    for part in range(2):
        rows = range(50 * part, 50 * part + 50)
        frame = pd.DataFrame({"id": list(rows), "body": [corpus_texts[i] for i in rows]})
        frame.to_csv(folder / f"corpus-{part}.csv", index=False)
    return {
        "corpus_texts": corpus_texts,
        "query_texts": list(queries.values()),
        "pipe": make_pipeline(MatryoshkaEmbedder(), LogisticRegression(max_iter=2000)),
        "X": X[:200],
        "y": y[:200],
    }


def _cli_files(folder: Path) -> dict:
    """The reader's files of ``cli.rst``'s commands: ``questions.csv`` (300 TREC questions and
    their types), ``sentences.txt`` (100 STS Benchmark sentences) and ``notes.csv`` (a ``body``
    column with an empty cell and a missing one)."""
    import pandas as pd

    from skmrl.datasets import load_sts, load_trec

    questions, types = load_trec(SHARED_DATA)
    pd.DataFrame({"question": questions[:300], "type": types[:300]}).to_csv(
        folder / "questions.csv", index=False
    )
    sentences, _, _ = load_sts(SHARED_DATA, split="dev")
    (folder / "sentences.txt").write_text("\n".join(sentences[:100]) + "\n", encoding="utf-8")
    notes = pd.DataFrame({"body": ["first note", "", "third note", None, "the last one"]})
    notes.to_csv(folder / "notes.csv", index=False)
    return {}


@dataclass(frozen=True)
class Page:
    """A page with Python code: what it needs (``"bbc"``, ``"minilm"``, ``"data"``, ``"dask"``,
    ``"plot"``, ``"parquet"``), whether it is slow, what the reader brings (``given(folder) ->
    names``, files written into ``folder``), and the shell commands that run with its blocks."""

    needs: frozenset[str] = frozenset()
    slow: bool = True
    given: Callable[[Path], dict] | None = None
    commands: tuple[str, ...] = field(default=())


PAGES: dict[str, Page] = {
    "README.md": Page(frozenset({"bbc", "minilm"})),
    "docs/index.md": Page(frozenset({"bbc"})),
    "docs/getting_started.rst": Page(frozenset({"bbc", "minilm"})),
    "docs/estimators.rst": Page(slow=False, given=_estimators_vectors),
    "docs/choosing_dim.rst": Page(frozenset({"bbc", "minilm", "data", "plot"}), given=_data_folder),
    "docs/search.rst": Page(frozenset({"minilm", "data", "dask", "parquet"}), given=_search_corpus),
    "docs/cli.rst": Page(
        frozenset({"minilm", "data"}),
        given=_cli_files,
        commands=(
            "skmrl finetune questions.csv --text-col question --label-col type -o my-minilm",
            "python -c \"from skmrl import MatryoshkaEmbedder; print(MatryoshkaEmbedder(model='my-minilm', dim=16))\"",  # noqa: E501
            "skmrl embed sentences.txt -o vectors.npy --dim 64",
            "skmrl embed notes.csv --text-col body --skip-empty -o notes.npy",
        ),
    ),
    "docs/design.md": Page(slow=False, given=_design_embedder),
}


def _pages() -> list[Path]:
    """README.md and every page of ``docs/`` (its templates and build output aside)."""
    skip = ("_templates", "_build", "auto_examples", "generated")
    pages = [p for p in sorted((ROOT / "docs").rglob("*")) if p.suffix in (".rst", ".md")]
    return [ROOT / "README.md"] + [
        p for p in pages if not set(skip) & set(p.relative_to(ROOT / "docs").parts)
    ]


def _pages_with_python() -> set[str]:
    return {
        str(p.relative_to(ROOT))
        for p in _pages()
        if any(b.language == "python" for b in code_blocks(p))
    }


def test_every_page_with_python_is_run():
    assert _pages_with_python() == set(PAGES), "add the page to PAGES in tests/test_doc_snippets.py"


#: Ways of writing a code block that :func:`code_blocks` does not read as Python: code written
#: so would be left out of the run without a word.
_UNREAD = re.compile(
    r"^\s*(\.\. (code|sourcecode)::"  # other directives than code-block
    r"|\.\. code-block::(?!( \w+\s*$))"  # no language, two spaces, or an odd language name
    r"|\.\. code-block:: (py|python3|pycon|ipython3?)\s*$"
    r"|```(?!(\w*\s*$))"  # ```{code-block} python, ``` python, ```python title=...
    r"|```(py|python3|pycon|ipython3?)\s*$"
    r"|~~~"
    r"|>>> )"  # doctest lines, which nothing runs on these pages
)


def unread_code(path: Path) -> list[str]:
    """The lines of ``path`` that open code :func:`code_blocks` would not run as Python, as
    ``"page:line: text"``."""
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    lines = path.read_text(encoding="utf-8").splitlines()
    return [f"{name}:{i}: {line.strip()}" for i, line in enumerate(lines, 1) if _UNREAD.match(line)]


def test_no_page_writes_python_the_runner_would_miss():
    found = [hit for page in _pages() for hit in unread_code(page) if "{toctree}" not in hit]
    assert not found, (
        "write Python blocks as `.. code-block:: python` or a ```python fence, so that "
        f"tests/test_doc_snippets.py runs them: {found}"
    )


def test_unread_code_finds_the_forms_code_blocks_skips(tmp_path):
    page = tmp_path / "page.rst"
    forms = [
        ".. code:: python",
        ".. sourcecode:: python",
        ".. code-block::  python",
        ".. code-block:: pycon",
        "```py",
        "```{code-block} python",
        "``` python",
        "~~~python",
        ">>> x = 1",
    ]
    page.write_text("\n\n".join([".. code-block:: python", "```python", "```", *forms]), "utf-8")
    assert [hit.split(": ", 1)[1] for hit in unread_code(page)] == forms


def _bbc_news_sample() -> tuple[list[str], np.ndarray]:
    """The pages' BBC News: the first 100 articles of each topic (500, still grouped by topic),
    for the 2,225 of ``load_bbc_news``. The blocks run their own code on it, a third of the
    suite's time less: MiniLM's encoding of the whole corpus took 3-4 minutes of the pages'
    run. What the pages print of the whole corpus, the gallery's examples print
    (``tests/test_examples.py``)."""
    texts, labels = _LOAD_BBC_NEWS()
    keep = np.concatenate([np.flatnonzero(labels == topic)[:100] for topic in np.unique(labels)])
    keep.sort()
    return [texts[i] for i in keep], labels[keep]


@pytest.fixture(scope="module")
def _fresh_caches():
    """The pages share the in-process caches, as one reader's session would (this module's
    stand-in for the suite's fixture of that name, which empties them before each test): the
    pages that encode the same texts with MiniLM encode them once (README.md and
    getting_started.rst share BBC News at the default max_length). Emptied before the first
    page and after the last, so no other test sees them."""
    clear_caches()
    yield
    clear_caches()


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.slow] if p.slow else []) for n, p in PAGES.items()],
)
def test_page_code_runs(name, tmp_path, monkeypatch):
    page = PAGES[name]
    reason = load_docs_helpers().missing(page.needs)
    if reason:
        pytest.skip(reason)
    monkeypatch.chdir(tmp_path)  # files the blocks write (search.save("index/")) go there
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("SKMRL_CACHE_DIR", str(tmp_path / "default-cache"))
    if "bbc" in page.needs:
        monkeypatch.setattr(skmrl.datasets, "load_bbc_news", _bbc_news_sample)
    namespace = {"__name__": "__main__"}
    if page.given is not None:
        namespace.update(page.given(tmp_path))
    try:
        run_page(ROOT / name, namespace, page.commands, cwd=tmp_path)
        for test in [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]:
            test()  # design.md's test of the reader's embedder, as pytest would run it
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        client = namespace.get("client")  # search.rst's dask Client and its LocalCluster
        if client is not None and hasattr(client, "cluster"):
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()


# -- the parser and the runner ---------------------------------------------------------------
def test_code_blocks_reads_rst_and_markdown(tmp_path):
    rst = tmp_path / "page.rst"
    rst.write_text(
        "Title\n=====\n\n.. code-block:: python\n   :caption: one\n\n   x = 1\n\n"
        "   if x:\n       y = 2\n\nText.\n\n* item\n\n  .. code-block:: sh\n\n"
        "     skmrl demo --only tfidf \\\n         --dims 8   # seconds\n\nAfter.\n",
        encoding="utf-8",
    )
    assert code_blocks(rst) == [
        Block("python", 7, "x = 1\n\nif x:\n    y = 2\n"),
        Block("sh", 18, "skmrl demo --only tfidf \\\n    --dims 8   # seconds\n"),
    ]
    assert shell_commands(code_blocks(rst)[1].code) == ["skmrl demo --only tfidf --dims 8"]
    md = tmp_path / "page.md"
    md.write_text(
        "# T\n\n```python\na = 1\n```\n\n- item\n\n  ```python\n  b = a + 1\n  ```\n", "utf-8"
    )
    assert code_blocks(md) == [Block("python", 4, "a = 1\n"), Block("python", 10, "b = a + 1\n")]


def test_run_page_names_the_page_and_line_of_a_broken_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\na = 1\n```\n\n```python\nb = a\nc = missing\n```\n", "utf-8")
    namespace: dict = {}
    with pytest.raises(AssertionError, match=r"page\.md, block at line 6 failed") as error:
        run_page(page, namespace)
    assert namespace["b"] == 1  # the blocks share one namespace, in order
    assert 'page.md", line 7' in str(error.value)  # the traceback's line is the page's
    assert "NameError: name 'missing' is not defined" in str(error.value)


def test_run_page_runs_only_listed_commands_and_checks_they_are_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.rst"
    page.write_text(
        ".. code-block:: sh\n\n   python -c \"open('ran', 'w')\"\n   exit 3\n\n"
        ".. code-block:: python\n\n   import os\n   assert os.path.exists('ran')\n",
        encoding="utf-8",
    )
    run_page(page, {}, ("python -c \"open('ran', 'w')\"",), cwd=tmp_path)  # `exit 3` not run
    with pytest.raises(AssertionError, match="no longer shows"):
        run_page(page, {}, ("python -c 'other'",), cwd=tmp_path)
    with pytest.raises(AssertionError, match="`exit 3` exited with status 3"):
        run_page(page, {}, ("exit 3",), cwd=tmp_path)
