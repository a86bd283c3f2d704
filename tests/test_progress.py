"""progress=None's rule (skmrl._progress): a bar in a terminal or a Jupyter notebook, not in logs.

A Jupyter kernel is recognised as tqdm.autonotebook recognises it (``ipykernel`` imported, and
IPython's shell has a kernel); these tests stand one up in ``sys.modules``, since no notebook
runs here, and check that a real fit then shows its bar on a stderr that is no terminal.
"""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

from skmrl import MatryoshkaAdaptor
from skmrl._progress import in_notebook, show_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _kernel(monkeypatch, *, has_kernel: bool = True) -> None:
    shell = types.SimpleNamespace(kernel=object()) if has_kernel else types.SimpleNamespace()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))


def test_given_values_win(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert show_progress(False) is False
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert show_progress(True) is True


@pytest.mark.parametrize(
    ("stderr", "kernel", "expected"),
    [
        (_Terminal, None, True),  # a terminal
        (io.StringIO, None, False),  # a log file or a pipe
        (io.StringIO, "notebook", True),  # a Jupyter notebook: the kernel's stream
        (io.StringIO, "terminal IPython", False),  # IPython without a kernel, stderr redirected
    ],
)
def test_none_means_someone_is_watching(monkeypatch, stderr, kernel, expected):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    if kernel is not None:
        _kernel(monkeypatch, has_kernel=kernel == "notebook")
    monkeypatch.setattr(sys, "stderr", stderr())
    assert in_notebook() is (kernel == "notebook")
    assert show_progress(None) is expected


def test_a_closed_stderr_shows_nothing(monkeypatch):
    closed = io.StringIO()
    closed.close()
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stderr", closed)
    assert show_progress(None) is False


def test_no_stderr_at_all_shows_nothing_even_when_asked(monkeypatch):
    # Windows' pythonw (or a service) has sys.stderr None: progress=True crashed the fit in
    # tqdm ("'NoneType' object has no attribute 'write'").
    import skmrl._warn
    from skmrl import Word2VecEmbedder
    from skmrl._progress import progress_bar

    # The few-tokens warning is given once per parameter setting in the process: an earlier
    # test's Word2VecEmbedder(max_dim=8, epochs=1) (tests/test_polars.py's) had given it.
    monkeypatch.setattr(skmrl._warn, "_WARNED", set())
    monkeypatch.setattr(sys, "stderr", None)
    assert show_progress(True) is False and show_progress(None) is False
    with progress_bar(True, 2, "steps", "step") as bar:
        bar.update(2)
    Z = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    assert MatryoshkaAdaptor(epochs=1, progress=True).fit_transform(Z).shape == (60, 8)
    with pytest.warns(UserWarning, match="tokens"):  # a small corpus: the usual warning
        fitted = Word2VecEmbedder(max_dim=8, epochs=1, progress=True).fit(["a b c d e"] * 40)
    assert fitted.transform(["a b"]).shape == (1, 8)


def test_a_fit_in_a_notebook_shows_its_bar(monkeypatch, tqdm_bars):
    Z = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    MatryoshkaAdaptor(epochs=1, random_state=1).fit(Z)
    assert tqdm_bars == []  # not a terminal, not a notebook: no bar
    _kernel(monkeypatch)
    MatryoshkaAdaptor(epochs=1, random_state=2).fit(Z)
    assert [bar.desc for bar in tqdm_bars] == ["fitting adaptor"]
    assert tqdm_bars[0].n == tqdm_bars[0].total > 0


def test_a_curve_bar_in_a_notebook_draws_its_total(monkeypatch, bbc_news):
    # In a kernel tqdm.auto is tqdm.notebook, whose widget keeps the maximum it was made with:
    # a curve's bar is made before its total is known, and it was a full block that never moved.
    pytest.importorskip("ipywidgets")  # tqdm.notebook draws with it (not a dependency)
    import tqdm.auto
    import tqdm.notebook

    from skmrl import TfidfBaseline, compare

    made: list = []

    class Widget(tqdm.notebook.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Widget)
    texts, labels = bbc_news
    rows = np.random.default_rng(0).permutation(len(texts))[:150]
    texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    embedders = {"16": TfidfBaseline(max_dim=16), "8": TfidfBaseline(max_dim=8)}
    result = compare(embedders, texts, labels, cv=3, progress=True)
    (bar,) = made
    widget = bar.container.children[1]
    assert bar.n == bar.total == 3 * sum(len(c.dims) for c in result.curves.values())
    assert (widget.value, widget.max, widget.bar_style) == (bar.total, bar.total, "")


def test_a_compare_bar_reads_100_percent_only_at_the_end(monkeypatch, bbc_news):
    # Each embedder's steps are counted once its first fold has run, so the bar read 15/15
    # (100%) when the first embedder was done, all through the second one's first fold.
    import tqdm.auto

    from skmrl import TfidfBaseline, compare

    seen: list = []  # (n, total) after each step

    class Recording(tqdm.auto.tqdm):
        def update(self, n=1):
            out = super().update(n)
            seen.append((self.n, self.total))
            return out

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    texts, labels = bbc_news
    rows = np.random.default_rng(1).permutation(len(texts))[:120]
    texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    embedders = {"16": TfidfBaseline(max_dim=16), "8": TfidfBaseline(max_dim=8)}
    result = compare(embedders, texts, labels, dims=[4, 8, 16], cv=3, progress=True)
    assert [len(c.dims) for c in result.curves.values()] == [3, 2]
    assert seen and all(n < total for n, total in seen)  # never done before the end
    assert seen[-1] == (3 * 5, 3 * 5 + 1)  # the last step; then the step held back goes


def _draws_a_bar_on_a_terminal(seed: int) -> bool:
    """Whether a default fit (``progress=None``) draws its bar on a terminal's stderr, here."""
    terminal, stderr = _Terminal(), sys.stderr
    Z = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    sys.stderr = terminal
    try:
        MatryoshkaAdaptor(epochs=1, random_state=seed).fit(Z)  # a seed of its own: no cache hit
    finally:
        sys.stderr = stderr
    return "fitting adaptor" in terminal.getvalue()


def test_worker_processes_draw_no_bar():
    # GridSearchCV(n_jobs=2)'s workers inherit the terminal: each drew its bars at the first
    # line as if alone, and the bars of the workers overwrote one another there.
    from joblib import Parallel, delayed

    assert _draws_a_bar_on_a_terminal(10)
    in_workers = Parallel(n_jobs=2)(delayed(_draws_a_bar_on_a_terminal)(s) for s in (11, 12))
    assert in_workers == [False, False]


def _fit_with_progress(kind: str, progress: object) -> None:
    from skmrl import MatryoshkaEmbedder, MatryoshkaSearch, Word2VecEmbedder
    from skmrl.evaluation import dim_curve

    texts = ["a cat sat", "a dog ran", "the cat ran", "the dog sat"] * 5
    Z = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    if kind == "word2vec":
        Word2VecEmbedder(max_dim=8, epochs=1, progress=progress).fit(texts)
    elif kind == "matryoshka":
        MatryoshkaEmbedder(model="no/such-model", progress=progress).fit(texts)
    elif kind == "adaptor":
        MatryoshkaAdaptor(method="pca", progress=progress).fit(Z)
    elif kind == "search":
        MatryoshkaSearch(shortlist_dim=4, progress=progress).fit(Z).kneighbors(Z[:2], 3)
    else:
        dim_curve(MatryoshkaAdaptor(method="pca"), Z, [0, 1] * 10, dims=[2], progress=progress)


@pytest.mark.filterwarnings("ignore:word2vec trains on only")
@pytest.mark.parametrize("kind", ["word2vec", "matryoshka", "adaptor", "search", "curve"])
def test_progress_is_checked_alike_everywhere(kind):
    # Word2VecEmbedder, MatryoshkaSearch and dim_curve took any value ("no" showed a bar); the
    # check is one function now, in fit and wherever a bar is drawn.
    with pytest.raises(TypeError, match=r"progress must be None, True or False, got 'no'"):
        _fit_with_progress(kind, "no")
    if kind != "matryoshka":  # no model to load: the check above is what ran before loading
        _fit_with_progress(kind, np.False_)  # a NumPy bool (from a grid) is a bool


def test_a_search_checks_progress_set_after_fit():
    from skmrl import MatryoshkaSearch

    Z = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    search = MatryoshkaSearch(shortlist_dim=4).fit(Z)
    with pytest.raises(TypeError, match="progress must be"):
        search.set_params(progress="no").kneighbors(Z[:2], 3)
