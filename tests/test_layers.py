"""The package's layers, as docs/design.md states them, hold: imports only point down.

Read from the source with :mod:`ast`, nothing imported, so a test fails with the importing file
and the name it imports. An import inside ``if TYPE_CHECKING:`` is for type checkers only and
is not counted; one inside a function runs at call time, so it cannot close a cycle at import
time, but it is still a dependency of the module, and where the design says a module never
imports another, a function's import counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skmrl"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """What ``node`` imports: module names, with ``from skmrl import _frames`` read as the module
    ``skmrl._frames`` (a name that is not a module stays its package)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:
        base = module.split(".")
        if MODULES[module].name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    return {f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names}


_TYPE_CHECKING = {"TYPE_CHECKING", "typing.TYPE_CHECKING"}  # not `if not TYPE_CHECKING:`


def _imports(module: str, *, at_import_time: bool) -> set[str]:
    """Every module that ``module`` imports; with ``at_import_time``, only the imports that run
    when it is imported (not those inside functions)."""
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.If) and ast.unparse(node.test) in _TYPE_CHECKING:
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.update(_imported(module, node))
                continue
            if at_import_time and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])
                elif hasattr(child, "body"):  # except handlers, match cases
                    visit([s for s in ast.iter_child_nodes(child) if isinstance(s, ast.stmt)])

    visit(ast.parse(MODULES[module].read_text(encoding="utf-8")).body)
    return found


def _skmrl_imports(module: str, *, at_import_time: bool = False) -> set[str]:
    return {m for m in _imports(module, at_import_time=at_import_time) if m in MODULES} - {module}


def _below(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


def test_the_reader_sees_imports_in_every_form():
    """The rules below are only as good as this reader: it must see each form skmrl uses."""
    assert "skmrl._frames" in _skmrl_imports("skmrl._validation")  # from skmrl import _frames
    assert "skmrl._search" in _skmrl_imports("skmrl._torch.search")  # the same, in a function
    assert "skmrl._search" not in _skmrl_imports("skmrl._torch.search", at_import_time=True)
    assert "skmrl.models" in _skmrl_imports("skmrl._custom_code")  # inside functions
    assert "skmrl._torch.layers" in _skmrl_imports("skmrl._torch.encoder")  # absolute
    assert "skmrl.cli._common" in _skmrl_imports("skmrl.cli.sweep")  # relative or absolute
    assert "torch" in _imports("skmrl._torch.encoder", at_import_time=False)  # in functions
    # the estimators listed under TYPE_CHECKING in skmrl/__init__.py are names for type checkers
    assert "skmrl.matryoshka" not in _skmrl_imports("skmrl", at_import_time=True)


def test_no_import_cycle_when_the_package_is_imported():
    graph = {m: _skmrl_imports(m, at_import_time=True) for m in MODULES}
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import cycle at import time: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph[module]):
            walk(target, [*path, module])
        done.add(module)

    for module in MODULES:
        walk(module, [])


#: What the torch internals may use (docs/design.md: "_torch uses _search, _progress, _threads,
#: _warn and _validation over _frames, which import neither it nor the rest of skmrl").
TORCH_MAY_USE = {"skmrl._search", "skmrl._progress", "skmrl._threads", "skmrl._warn"}
TORCH_MAY_USE |= {"skmrl._validation", "skmrl._frames"}


@pytest.mark.parametrize("module", _below("skmrl._torch"))
def test_torch_internals_use_no_scikit_learn_and_only_the_modules_below_them(module):
    assert not _sklearn(_imports(module, at_import_time=False)), module
    outside = _skmrl_imports(module) - set(_below("skmrl._torch")) - TORCH_MAY_USE - {"skmrl"}
    assert not outside, f"{module} imports {sorted(outside)}"


def _sklearn(imported: set[str]) -> set[str]:
    return {m for m in imported if m == "sklearn" or m.startswith("sklearn.")}


@pytest.mark.parametrize("module", sorted(TORCH_MAY_USE))
def test_what_the_torch_internals_use_imports_nothing_above_it(module):
    assert not _sklearn(_imports(module, at_import_time=False)), module  # _torch would load it
    outside = _skmrl_imports(module) - TORCH_MAY_USE - {"skmrl"}
    assert not outside, f"{module} imports {sorted(outside)}"


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("skmrl._validation", "skmrl._vector_checks"),
        ("skmrl._frames", "skmrl._vector_checks"),
        ("skmrl._model_checks", "skmrl.models"),
        ("skmrl._model_identity", "skmrl.models"),
        ("skmrl._cache_dirs", "skmrl.cache"),
        ("skmrl._fit_cache", "skmrl.cache"),
    ],
)
def test_a_module_never_imports_the_one_that_uses_it(lower, upper):
    assert upper not in _skmrl_imports(lower), f"{lower} imports {upper}"
    assert lower in _skmrl_imports(upper), f"docs/design.md: {upper} uses {lower}"


@pytest.mark.parametrize(
    "module", ["skmrl._custom_code", "skmrl._model_errors", "skmrl._st_layout"]
)
def test_modules_models_uses_import_it_only_inside_functions(module):
    assert "skmrl.models" in _skmrl_imports(module)
    assert "skmrl.models" not in _skmrl_imports(module, at_import_time=True)


#: The estimators and what is built over them; the layers below never import these.
ABOVE = {"skmrl.tfidf", "skmrl.word2vec", "skmrl.matryoshka", "skmrl.adaptor", "skmrl.retrieval"}
ABOVE |= {"skmrl._finetune", "skmrl.dask", "skmrl.utils.estimator_checks"}
ABOVE |= set(_below("skmrl.evaluation")) | set(_below("skmrl.cli")) | set(_below("skmrl.plotting"))


UNDER = ["skmrl.base", "skmrl.cache", "skmrl._cache_dirs", "skmrl._fit_cache", "skmrl.models"]
UNDER += ["skmrl._model_errors", "skmrl._validation", "skmrl._training_checks"]


@pytest.mark.parametrize("module", UNDER)
def test_the_layers_under_the_estimators_never_import_them(module):
    above = _skmrl_imports(module) & ABOVE
    assert not above, f"{module} imports {sorted(above)}"


def test_nothing_but_the_main_module_imports_the_command():
    importers = {
        m
        for m in MODULES
        if not m.startswith("skmrl.cli") and set(_below("skmrl.cli")) & _skmrl_imports(m)
    }
    assert importers == {"skmrl.__main__"}
