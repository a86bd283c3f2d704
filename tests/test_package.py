"""The package as users meet it: a cheap import and the `skmrl` command."""

from __future__ import annotations

import ast
import dataclasses
import importlib.resources
import subprocess
import sys
from pathlib import Path

import pytest

import skmrl
from skmrl.cli import main


def _prints_ok(code: str) -> None:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_import_does_not_load_torch():
    _prints_ok(
        "import sys, skmrl; from skmrl import MatryoshkaEmbedder, Word2VecEmbedder; "
        "MatryoshkaEmbedder(dim=8).get_params(); Word2VecEmbedder(dim=8).get_params(); "
        "assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    )


def test_import_and_the_command_do_not_load_scikit_learn():
    """`skmrl --help`/`--version` start in a fraction of a second: nothing heavy is imported."""
    _prints_ok(
        "import sys, skmrl, skmrl.cli; "
        "heavy = [m for m in ('sklearn', 'torch', 'transformers', 'scipy') if m in sys.modules]; "
        "assert not heavy, heavy; print('ok')"
    )


def test_version_and_public_api():
    assert skmrl.__version__.count(".") == 2
    for name in skmrl.__all__:
        assert getattr(skmrl, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        skmrl.Nope  # noqa: B018


def test_the_package_is_marked_typed():
    """PEP 561's marker: without skmrl/py.typed a user's mypy or pyright ignores every hint
    ("module is installed, but missing library stubs or py.typed marker")."""
    assert (importlib.resources.files("skmrl") / "py.typed").is_file()


def test_the_build_lists_the_typed_marker():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["skmrl"]


def test_type_checkers_see_every_lazy_name():
    """`from skmrl import X` has X's hints under mypy/pyright: the lazy names are also imported
    under `if TYPE_CHECKING:` (a type checker does not run `__getattr__`, so a name missing
    there is Any to it), from the module that `__getattr__` loads it from."""
    tree = ast.parse(Path(skmrl.__file__).read_text(encoding="utf-8"))
    seen = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), ast.unparse(imp)
                seen.update({alias.name: imp.module for alias in imp.names})
    assert seen == skmrl._LAZY


def test_dim_curve_constructor_seen_by_type_checkers_is_the_dataclass_one():
    """DimCurve's `if TYPE_CHECKING:` __init__ (array-likes in, for mypy/pyright) has the
    parameters and defaults of the __init__ the dataclass makes."""
    import skmrl.evaluation._curve as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DimCurve")
    block = next(n for n in cls.body if isinstance(n, ast.If))
    init = block.body[0]
    assert isinstance(init, ast.FunctionDef) and init.name == "__init__"
    args = init.args.args[1:]
    defaults = [dataclasses.MISSING] * (len(args) - len(init.args.defaults))
    defaults += [ast.literal_eval(d) for d in init.args.defaults]
    seen = [(a.arg, d) for a, d in zip(args, defaults, strict=True)]
    fields = [f for f in dataclasses.fields(module.DimCurve) if f.init]
    made = [
        (f.name, ... if f.default_factory is not dataclasses.MISSING else f.default) for f in fields
    ]
    assert seen == made


def test_demo_prints_accuracy_against_dim(capsys, bbc_news, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # --no-plots: this test reads the table; the figures (10 of its 15 s, the map's t-SNE most)
    # are checked by tests/test_cli.py::test_demo_writes_both_figures_and_says_which_dim_it_picks
    args = ["demo", "--only", "TfidfBaseline", "--dims", "4", "32", "--folds", "3", "--no-plots"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "BBC News: 2225 articles, 5 classes" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert float(rows["32"][0]) > 0.9  # accuracy at dim 32
    assert float(rows["4"][0]) < float(rows["32"][0])
    assert "best" in rows


def test_demo_says_in_one_line_which_figure_it_could_not_write(capsys, bbc_news, tmp_path):
    # A full disk (or `ulimit -f`) while saving a figure ended in matplotlib's OSError trace,
    # which names no file; now one line naming the figure, status 1, after the tables.
    import errno
    import os

    from matplotlib.figure import Figure

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    plot = tmp_path / "curves.png"
    args = ["demo", "--only", "TfidfBaseline", "--dims", "4", "--limit", "100", "--folds", "2"]
    args += ["--plot", str(plot), "--depth-plot", "none", "--map", "none"]  # no MiniLM: no cache
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", full_disk)
        assert main(args) == 1
    out, err = capsys.readouterr()
    assert "smallest" in out  # the tables came first
    assert err.strip().splitlines()[-1] == (
        f"skmrl demo: error: cannot write the figure {plot}: File too large"
    )


def test_demo_rejects_unknown_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--folds"])
    assert "expected one argument" in capsys.readouterr().err


def test_demo_rejects_an_unknown_embedder_name_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--only", "bert"])
    assert exc.value.code == 2
    assert "unknown embedder 'bert'; choose from TfidfBaseline" in capsys.readouterr().err


def test_demo_with_no_usable_dim_says_so_instead_of_crashing(capsys, bbc_news):
    # short, case-insensitive names are accepted; no embedder takes dim=10**6
    assert main(["demo", "--only", "TFIDF", "word2vec", "--dims", "1000000"]) == 2
    assert "no embedder accepts any of --dims 1000000" in capsys.readouterr().err


def test_readme_and_docs_point_only_inside_the_repository():
    """The design and contracts live in docs/design.md; no doc points outside the repository."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        assert "../shared/DESIGN.md" not in text, doc.name
        for target in re.findall(r"`((?:docs|skmrl|benchmarks|tests)/[\w./-]+\.(?:md|py))`", text):
            assert (root / target).is_file(), f"{doc.name} names {target}, which is missing"
    assert "docs/design.md" in (root / "README.md").read_text(encoding="utf-8")
