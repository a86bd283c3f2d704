"""skmrl.plotting: the curves, the document map and the similarity heatmap (Agg backend)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from skmrl import TfidfBaseline, Word2VecEmbedder  # noqa: E402
from skmrl.evaluation import Comparison, DimCurve, dim_curve  # noqa: E402
from skmrl.plotting import (  # noqa: E402
    plot_dim_curves,
    plot_document_map,
    plot_similarity_heatmap,
)
from skmrl.utils._corpus import CORPUS, LABELS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def word2vec():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "trains on only ... tokens"
        return Word2VecEmbedder(max_dim=16, random_state=0).fit(CORPUS)


def _comparison() -> Comparison:
    return Comparison(
        {
            "tf-idf": DimCurve(
                dims=[2, 4, 8, 16], scores=[[0.5, 0.7, 0.8, 0.9], [0.4, 0.6, 0.8, 1]]
            ),
            "word2vec": DimCurve(dims=[4, 8, 16, 32], scores=[[0.3, 0.4, 0.5, 0.55]]),
        }
    )


def _png_ok(fig, path) -> None:
    fig.savefig(path)
    assert path.stat().st_size > 5_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- plot_dim_curves ------------------------------------------------------------------------------
def test_import_does_not_load_matplotlib_or_torch():
    code = "import sys, skmrl.plotting; print('matplotlib' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_dim_curves_comparison(tmp_path):
    fig = plot_dim_curves(_comparison(), title="four topics")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "embedding size (dim)"
    assert ax.get_ylabel() == "accuracy (mean ± std over 1 or 2 folds)"
    assert ax.get_title() == "four topics"
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "8", "16", "32"]
    assert len(ax.containers) == 2  # one errorbar per embedder
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tf-idf", "word2vec"]
    (top,) = ax.child_axes  # the secondary x-axis
    assert top.get_xlabel() == "bytes per vector (float32)"
    assert [t.get_text() for t in top.get_xticklabels()] == ["8", "16", "32", "64", "128"]
    _png_ok(fig, tmp_path / "curves.png")


def test_dim_curves_dict_single_curve_and_ax():
    curve = dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[2, 4, 8], cv=4, progress=False)
    fig = plot_dim_curves({"tf-idf": curve})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["tf-idf"]
    _, ax = plt.subplots()
    assert plot_dim_curves(curve, ax=ax) is ax
    assert ax.get_legend() is None  # one unnamed curve: nothing to tell apart
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "8"]


def test_dim_curves_say_what_the_error_bars_are():
    # The label read "accuracy": a figure pasted into a report did not say that the points are
    # means over folds, nor that the bars are their standard deviation (nor over how many).
    curve = dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[2, 8], cv=4, progress=False)
    fig = plot_dim_curves(curve)
    assert fig.axes[0].get_ylabel() == "accuracy (mean ± std over 4 folds)"
    queries = {"q1": "a hungry cat and a mouse", "q2": "interest rates at the bank"}
    qrels = {"q1": {5: 2, 1: 1}, "q2": {20: 2, 25: 1, 26: 1}}
    ranked = dim_curve(
        TfidfBaseline(), (queries, dict(enumerate(CORPUS))), qrels, task="retrieval", dims=[2, 8]
    )
    fig = plot_dim_curves({"tf-idf": ranked})  # one evaluation: no error bars to explain
    assert fig.axes[0].get_ylabel() == "ndcg@10"


def _overlapping(labels) -> bool:
    boxes = sorted((t.get_window_extent() for t in labels if t.get_text()), key=lambda b: b.x0)
    return any(a.x1 > b.x0 for a, b in itertools.pairwise(boxes))


def test_dim_curves_with_many_dims_keep_their_labels_apart(tmp_path):
    # dims=range(8, 385, 8) labelled each of its 48 sizes: the labels ran into one another
    # from 40 up, an unreadable axis (and so did the bytes on top).
    dims = np.arange(8, 385, 8)
    curve = DimCurve(dims=dims, scores=[np.log2(dims) / 9, np.log2(dims) / 10])
    fig = plot_dim_curves({"encoder": curve}, tolerance=0.01)
    ax = fig.axes[0]
    (top,) = ax.child_axes
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["8", "16", "32", "64", "128", "256", "384"]
    assert [t.get_text() for t in top.get_xticklabels()] == [str(4 * int(d)) for d in labels]
    ticks = {*ax.get_xticks().tolist(), *ax.get_xticks(minor=True).tolist()}
    assert ticks == set(dims.tolist())  # every size keeps its tick
    assert not _overlapping(ax.get_xticklabels()) and not _overlapping(top.get_xticklabels())
    _png_ok(fig, tmp_path / "many.png")


def test_dim_curves_errors():
    with pytest.raises(ValueError, match="empty"):
        plot_dim_curves({})
    with pytest.raises(TypeError, match="DimCurve"):
        plot_dim_curves({"a": [0.1, 0.2]})
    with pytest.raises(TypeError, match="Comparison"):
        plot_dim_curves([1, 2])
    curve = _comparison().curves["tf-idf"]
    with pytest.raises(ValueError, match=r"curves 1 and '1' have the same label '1'"):
        plot_dim_curves({1: curve, "1": curve})  # one curve used to hide the other silently


def test_a_format_string_or_ls_sets_the_line_as_errorbar_does():
    # the default marker and linestyle, passed as keywords beside fmt, won over it (with two
    # "redundantly defined" warnings): fmt="s--" drew circles on a solid line
    curve = DimCurve(dims=[8, 16, 32], scores=[[0.8, 0.9, 0.91]])
    for kwargs, marker, style in [
        ({"fmt": "s--"}, "s", "--"),
        ({"ls": ":"}, "o", ":"),
        ({"marker": "x"}, "x", "-"),
        ({"fmt": "s", "ls": "--"}, "s", "--"),  # a KeyError
        ({}, "o", "-"),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            line = curve.plot(**kwargs).lines[0]
        assert (line.get_marker(), line.get_linestyle()) == (marker, style), kwargs
        plt.close("all")


def test_dim_curves_ring_the_smallest_dim_within_tolerance():
    comp = _comparison()
    fig = plot_dim_curves(comp, tolerance=0.15)
    ax = fig.axes[0]
    assert comp.smallest_dims(tolerance=0.15) == {"tf-idf": 8, "word2vec": 8}
    rings = [line for line in ax.lines if line.get_markerfacecolor() == "none" and
             len(line.get_xdata()) == 1]  # fmt: skip
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in rings] == [(8, 0.8), (8, 0.4)]
    # each ring in its curve's colour
    colours = [to_rgba(c.lines[0].get_color()) for c in ax.containers]
    assert [to_rgba(line.get_markeredgecolor()) for line in rings] == colours
    # the rings' legend entry comes after the embedders
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == ["tf-idf", "word2vec", "smallest dim within 0.15 of the best"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "8", "16", "32"]
    fig = plot_dim_curves(comp)  # no tolerance: no rings
    assert not [line for line in fig.axes[0].lines if line.get_markerfacecolor() == "none"]
    with pytest.raises(ValueError, match="tolerance"):
        plot_dim_curves(comp, tolerance=-0.1)


def test_dim_curves_of_more_embedders_than_colours_tell_every_line_apart():
    # The 11th of 15 curves was drawn as the 1st (the 10 colours came round again, each with
    # the same marker and line), and the legend of 15 entries lay over the lines.
    rng = np.random.RandomState(0)
    curves = {f"emb{i}": DimCurve(dims=[8, 16, 32], scores=rng.rand(2, 3)) for i in range(15)}
    ax = plot_dim_curves(curves).axes[0]
    looks = [
        (to_rgba(c.lines[0].get_color()), c.lines[0].get_marker(), c.lines[0].get_linestyle())
        for c in ax.containers
    ]
    assert len(set(looks)) == 15
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.bbox.x1  # beside the axes
    few = plot_dim_curves(dict(itertools.islice(curves.items(), 3))).axes[0]
    assert few.get_legend().get_bbox_to_anchor().x0 <= few.bbox.x1  # inside, as before


def test_dim_curves_drawn_on_one_axes_keep_every_name_size_and_one_bytes_axis():
    # The second curve.plot(ax=ax) left only its own name in the legend and its own sizes
    # labelled, and drew a second bytes axis over the first
    small = DimCurve(dims=[8, 16, 32], scores=[[0.8, 0.9, 0.95]])
    large = DimCurve(dims=[64, 128, 384], scores=[[0.85, 0.9, 0.93]])
    ax = small.plot(label="tfidf")
    assert large.plot(ax=ax, label="minilm") is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tfidf", "minilm"]
    assert ax.get_legend().get_title().get_text() == "embedder"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32", "64", "128", "384"]
    (top,) = ax.child_axes
    assert [t.get_text() for t in top.get_xticklabels()] == [
        "32",
        "64",
        "128",
        "256",
        "512",
        "1536",
    ]
    # with rings: one entry for them, after every curve drawn on the axes
    _, ax = plt.subplots()
    plot_dim_curves({"tfidf": small}, ax=ax, tolerance=0.01)
    plot_dim_curves({"minilm": large}, ax=ax, tolerance=0.01)
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == ["tfidf", "minilm", "smallest dim within 0.01 of the best"]
    assert len(ax.child_axes) == 1


def test_curves_of_two_scorings_on_one_axes_name_both_on_the_y_axis():
    # the second curve.plot(ax=ax) labelled the y axis with its own scoring alone
    accuracy = DimCurve(dims=[8, 16], scores=[[0.8, 0.9], [0.7, 0.9]])
    f1 = DimCurve(dims=[8, 16], scores=[[0.6, 0.7], [0.5, 0.8]], scoring="f1_macro")
    ax = accuracy.plot(label="accuracy")
    f1.plot(ax=ax, label="f1")
    assert ax.get_ylabel() == "accuracy / f1_macro (mean ± std over 2 folds)"
    ndcg = DimCurve(dims=[8, 16], scores=[[0.3, 0.4]], scoring="ndcg@10")
    plot_dim_curves({"ndcg": ndcg}, ax=ax)
    assert ax.get_ylabel() == "accuracy / f1_macro / ndcg@10 (mean ± std over 1 or 2 folds)"
    # the same scoring twice is named once
    ax = accuracy.plot(label="a")
    accuracy.plot(ax=ax, label="b")
    assert ax.get_ylabel() == "accuracy (mean ± std over 2 folds)"


def test_a_curve_without_a_finite_score_is_drawn_without_a_ring():
    nan = DimCurve(dims=[8], scores=[[np.nan]])
    fine = DimCurve(dims=[8, 16], scores=[[0.5, 0.8]])
    fig = plot_dim_curves({"nan": nan, "fine": fine}, tolerance=0.01)
    rings = [line for line in fig.axes[0].lines if line.get_markersize() == 14]
    assert [ring.get_xdata().tolist() for ring in rings] == [[16]]


def test_figures_of_one_axes_refuse_an_array_of_them():
    # plt.subplots(1, 2)[1] failed deep in the drawing: "'numpy.ndarray' object has no attribute"
    from skmrl.evaluation import DepthDimCurves
    from skmrl.plotting import plot_depth_dim

    curve = DimCurve(dims=[8, 16], scores=[[0.5, 0.6]])
    _, axes = plt.subplots(1, 2)
    draws = [
        lambda ax: plot_dim_curves(curve, ax=ax),
        lambda ax: curve.plot(ax=ax),
        lambda ax: Comparison({"a": curve}).plot(ax=ax),
        lambda ax: plot_depth_dim(DepthDimCurves({2: curve}), ax=ax),
    ]
    for draw in draws:
        with pytest.raises(TypeError, match=r"ax must be one matplotlib Axes, got an array of 2"):
            draw(axes)
        with pytest.raises(TypeError, match=r"one matplotlib Axes, got a list of 2 .* axes\[0\]"):
            draw(list(axes))
        with pytest.raises(TypeError, match=r"ax must be a matplotlib Axes, got Figure"):
            draw(axes[0].figure)


def test_depth_dim_heatmap_of_many_sizes_keeps_a_readable_width(tmp_path):
    # 48 sizes made a figure 56 inches wide (5,690 pixels), each cell's value in small type.
    from skmrl.evaluation import DepthDimCurves
    from skmrl.plotting import plot_depth_dim

    dims = np.arange(8, 385, 8)
    rng = np.random.RandomState(0)
    grid = DepthDimCurves({k: DimCurve(dims=dims, scores=rng.rand(2, 48)) for k in (2, 4, 6)})
    fig = plot_depth_dim(grid)
    assert fig.get_size_inches()[0] <= 1.1 * 16 + 3.0
    ax = fig.axes[0]
    assert len(ax.get_xticks()) == 48 and not ax.texts  # every size a tick; no cell values
    fig.canvas.draw()
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    assert [t.get_text() for t in labels] == [str(d) for d in dims[::3]]
    assert not _overlapping(labels)
    _png_ok(fig, tmp_path / "depth.png")


@pytest.mark.parametrize("n_dims", [1, 2, 7])
def test_depth_dim_legend_stays_inside_a_narrow_figure(n_dims):
    # with 2 sizes the figure was 5.2 inches wide and the legend's two columns ran past both
    # of its sides ("within 0.01 of the best" began 18 pixels left of the figure)
    from skmrl.evaluation import DepthDimCurves
    from skmrl.plotting import plot_depth_dim

    dims = [8, 16, 32, 64, 128, 256, 384][:n_dims]
    grid = DepthDimCurves(
        {k: DimCurve(dims=dims, scores=[[0.7 + k / 100 + i / 50 for i in range(n_dims)]])
         for k in (1, 2, 6)}
    )  # fmt: skip
    fig = plot_depth_dim(grid, tolerance=0.01)
    fig.canvas.draw()
    frame = fig.bbox
    for text in fig.axes[0].get_legend().get_texts():
        box = text.get_window_extent()
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (text.get_text(), box, frame)
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, (text.get_text(), box, frame)


def test_sweep_depth_figure_keeps_its_title_whole(tmp_path, monkeypatch):
    # sweep titles the figure with the file's name: on a table of 2 sizes it was wider than
    # the figure, and the saved image read "am150.csv: accuracy ..."
    from skmrl.cli import sweep
    from skmrl.evaluation import DepthDimCurves

    grid = DepthDimCurves({k: DimCurve(dims=[8, 32], scores=[[0.7, 0.8]]) for k in (2, 6)})
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to measure it
    name = "a-rather-long-file-name-of-messages.csv"
    sweep._write_depth_plot(grid, str(tmp_path / "depth.png"), name)
    (fig,) = figures
    title = fig.axes[0].title
    assert title.get_text().startswith(name)
    width = plt.imread(tmp_path / "depth.png").shape[1]  # pixels, at the saved dpi of 120
    fig.canvas.draw()  # at the figure's own dpi
    assert width >= title.get_window_extent().width * 120 / fig.dpi


# -- plot_document_map ----------------------------------------------------------------------------
def test_document_map_panels_colours_legend(tmp_path, word2vec):
    embedders = {"tf-idf": TfidfBaseline(), "word2vec": word2vec}
    fig = plot_document_map(embedders, CORPUS, LABELS)
    assert [a.get_title() for a in fig.axes] == ["tf-idf", "word2vec"]
    classes = sorted(set(LABELS.tolist()))
    for ax in fig.axes:
        assert len(ax.collections) == len(classes)  # one scatter per label
        sizes = [len(c.get_offsets()) for c in ax.collections]
        assert sizes == [int((LABELS == c).sum()) for c in classes]
        colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
        assert len(colours) == len(classes)
        assert all(to_rgba(c)[3] > 0 for c in colours)
    # the same label has the same colour in every panel
    first = [tuple(c.get_facecolor()[0]) for c in fig.axes[0].collections]
    assert first == [tuple(c.get_facecolor()[0]) for c in fig.axes[1].collections]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [str(c) for c in classes]
    assert fig.get_size_inches()[0] > 8  # sized by the number of panels
    _png_ok(fig, tmp_path / "map.png")


def test_document_map_unfitted_is_not_mutated_and_max_points():
    tfidf = TfidfBaseline(dim=8)
    fig = plot_document_map({"lsa": tfidf}, CORPUS, LABELS, max_points=20, random_state=1)
    assert not hasattr(tfidf, "max_dim_")
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 20
    _, ax = plt.subplots()
    assert plot_document_map({"lsa": tfidf}, CORPUS, LABELS, ax=ax, max_points=20) is ax
    assert ax.get_legend() is not None


def test_document_map_shows_a_bar_over_its_panels(capsys, monkeypatch):
    """Each panel is a t-SNE map (about 10 s for 2,000 documents on one core): three panels
    took half a minute without a sign of life."""
    import functools

    import tqdm.std

    eager = functools.partialmethod(tqdm.std.tqdm.__init__, mininterval=0, miniters=1)
    monkeypatch.setattr(tqdm.std.tqdm, "__init__", eager)  # draw every update
    embedders = {"lsa 4": TfidfBaseline(dim=4), "lsa 8": TfidfBaseline(dim=8)}
    fig = plot_document_map(embedders, CORPUS, LABELS, max_points=20, progress=True)
    assert [a.get_title() for a in fig.axes] == ["lsa 4", "lsa 8"]
    err = capsys.readouterr().err
    assert "document map" in err and "2/2" in err and "lsa 8" in err
    plot_document_map(embedders, CORPUS, LABELS, max_points=20, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="progress must be None, True or False"):
        plot_document_map(embedders, CORPUS, LABELS, progress="no")
    plt.close("all")


def test_document_map_takes_vectors_already_computed():
    import scipy.sparse as sp

    tfidf = TfidfBaseline(dim=8).fit(CORPUS)
    dense = tfidf.transform(CORPUS)
    sparse = TfidfBaseline().fit_transform(CORPUS)
    assert sp.issparse(sparse)
    fig = plot_document_map(
        {"vectors": dense, "sparse": sparse, "embedder": tfidf}, CORPUS, LABELS, max_points=25
    )
    assert [a.get_title() for a in fig.axes] == ["vectors", "sparse", "embedder"]
    offsets = [np.concatenate([c.get_offsets() for c in a.collections]) for a in fig.axes]
    assert [len(o) for o in offsets] == [25, 25, 25]  # the vectors are subsampled like X
    # sparse matrices of every format: COO (no rows to index) failed inside scipy, DOK (no
    # .data) with an AttributeError, and LIL was "not vectors of numbers"
    for kind in ("coo", "dok", "lil", "csc"):
        fig = plot_document_map(
            {kind: sparse.asformat(kind)}, CORPUS, LABELS, max_points=25, random_state=0
        )
        np.testing.assert_allclose(
            np.concatenate([c.get_offsets() for c in fig.axes[0].collections]), offsets[1]
        )
    # the same documents from the vectors as from the embedder that gave them
    np.testing.assert_allclose(offsets[0], offsets[2], atol=1e-4)
    with pytest.raises(ValueError, match="holds 39 vectors for 40 documents"):
        plot_document_map({"v": dense[:-1]}, CORPUS, LABELS)
    with pytest.raises(ValueError, match="shape"):
        plot_document_map({"v": dense[:, 0]}, CORPUS, LABELS)
    with pytest.raises(TypeError, match="not an array of vectors"):
        plot_document_map({"v": dense.tolist()}, CORPUS, LABELS)


def test_figures_under_a_global_pandas_output():
    """sklearn.set_config(transform_output="pandas") (a notebook's usual first cell) made
    t-SNE return a DataFrame, which the scatter's xy[mask, 0] could not index (pandas'
    InvalidIndexError, for given vectors too), and TfidfBaseline(dim=None) refuse its sparse
    matrix inside both figures. They draw as under the default output now."""
    import sklearn

    lsa = TfidfBaseline(dim=8).fit(CORPUS)
    vectors = lsa.transform(CORPUS)
    panels = {"vectors": vectors, "lsa": lsa, "tf-idf": TfidfBaseline()}
    expected = plot_document_map(panels, CORPUS, LABELS, max_points=20)
    heat = plot_similarity_heatmap({"tf-idf": TfidfBaseline(), "lsa": lsa}, CORPUS[:5])
    with sklearn.config_context(transform_output="pandas"):
        fig = plot_document_map(panels, CORPUS, LABELS, max_points=20)
        again = plot_similarity_heatmap({"tf-idf": TfidfBaseline(), "lsa": lsa}, CORPUS[:5])
    for a, b in zip(fig.axes, expected.axes, strict=True):
        np.testing.assert_allclose(
            np.concatenate([c.get_offsets() for c in a.collections]),
            np.concatenate([c.get_offsets() for c in b.collections]),
        )
    for a, b in zip(again.axes[:2], heat.axes[:2], strict=True):
        np.testing.assert_allclose(a.images[0].get_array(), b.images[0].get_array())
    # an estimator's own set_output still applies: dense frames are drawn from their values
    framed = TfidfBaseline(dim=8).fit(CORPUS).set_output(transform="pandas")
    fig = plot_document_map({"lsa": framed}, CORPUS, LABELS, max_points=20)
    np.testing.assert_allclose(
        np.concatenate([c.get_offsets() for c in fig.axes[0].collections]),
        np.concatenate([c.get_offsets() for c in expected.axes[1].collections]),
    )


def test_document_map_of_odd_vectors_and_many_labels():
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    docs = [f"doc {i}" for i in range(50)]
    # 1-D vectors (an embedder at dim=1) failed in t-SNE's PCA start, deep in scikit-learn:
    # "n_components=2 must be between 0 and min(n_samples, n_features)=1"
    fig = plot_document_map({"dim=1": rng.rand(50, 1)}, docs, np.arange(50) % 2)
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 50
    # NaN vectors failed in t-SNE ("Input X contains NaN"), not naming the panel
    vectors = rng.rand(50, 4)
    vectors[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"embedders\['v'\] holds NaN or infinite values \(row 7"):
        plot_document_map({"v": vectors}, docs, np.arange(50) % 2)
    with pytest.raises(ValueError, match=r"\(row 3 first, 1 rows in all\)"):
        plot_document_map(
            {"v": sp.csr_matrix(([np.inf], ([3], [0])), shape=(50, 4))}, docs, [0] * 50
        )
    # 25 labels: tab20's colours came round again (label 20 drawn as label 0, same marker),
    # and the legend's one column ran past the figure's top and bottom
    fig = plot_document_map({"v": rng.rand(50, 4)}, docs, np.arange(50) % 25)
    looks = {(tuple(c.get_facecolor()[0]), c.get_paths()[0].vertices.tobytes())
             for c in fig.axes[0].collections}  # fmt: skip
    assert len(looks) == 25
    fig.canvas.draw()
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [str(i) for i in range(25)]
    box, frame = legend.get_window_extent(), fig.bbox
    assert frame.y0 <= box.y0 and box.y1 <= frame.y1


def test_document_map_errors():
    with pytest.raises(ValueError, match="empty"):
        plot_document_map({}, CORPUS, LABELS)
    with pytest.raises(ValueError, match="method"):
        plot_document_map({"t": TfidfBaseline()}, CORPUS, LABELS, method="pca")
    with pytest.raises(ValueError, match="same length"):
        plot_document_map({"t": TfidfBaseline()}, CORPUS, LABELS[:-1])
    # None, a number, 2-D labels and a bad seed failed with "'NoneType' object is not
    # iterable", "got 40 documents and 40 labels" (2-D) or numpy's seed error after the checks
    t = {"t": TfidfBaseline()}
    with pytest.raises(TypeError, match="X must be a sequence of documents, got NoneType"):
        plot_document_map(t, None, LABELS)
    for y in (None, 3):
        with pytest.raises(TypeError, match="y must hold one label per document, got"):
            plot_document_map(t, CORPUS, y)
    with pytest.raises(ValueError, match=r"one label per document \(1-D\), got shape \(40, 2\)"):
        plot_document_map(t, CORPUS, np.c_[LABELS, LABELS])
    for seed, error in ((-1, ValueError), ("0", TypeError)):
        with pytest.raises(error, match="random_state must be None, an int in"):
            plot_document_map(t, CORPUS, LABELS, random_state=seed)
    with pytest.raises(ValueError, match="one Axes per embedder"):
        _, ax = plt.subplots()
        plot_document_map({"a": TfidfBaseline(), "b": TfidfBaseline(dim=4)}, CORPUS, LABELS, ax=ax)


def test_document_map_refuses_one_vector_for_every_document():
    # Texts with no word of a fitted TF-IDF's vocabulary all embed to zero, and scikit-learn's
    # t-SNE died with a segmentation fault on them (the process, a notebook's kernel): no
    # Python error, nothing said.
    import scipy.sparse as sp

    tfidf = TfidfBaseline(dim=None).fit(["the cat sat on the mat", "dogs bark", "stocks fell"])
    unknown = ["zebra quantum", "ufo mango", "kiwi jazz", "lemon yacht", "violin oxygen", "tundra"]
    figures = plt.get_fignums()
    for embedders in (
        {"tf-idf": tfidf},
        {"v": np.zeros((6, 5))},
        {"v": np.tile([0.6, 0.8], (6, 1))},  # all the same, not zero
        {"v": sp.csr_matrix((6, 40))},
    ):
        with pytest.raises(ValueError, match=r"gives every document the same vector"):
            plot_document_map(embedders, unknown, [0, 1] * 3)
    assert plt.get_fignums() == figures  # no figure left open by the refusal
    # two documents apart are a map
    vectors = np.tile([0.6, 0.8], (6, 1))
    vectors[0] = [0.8, 0.6]
    plot_document_map({"v": vectors}, unknown, [0, 1] * 3)


def test_document_map_refuses_missing_labels_and_twin_names():
    # a NaN label matched no class (NaN != NaN): 10 of 30 points were not drawn, and the legend
    # held ten 'nan' entries
    t = {"t": TfidfBaseline(dim=4)}
    y = np.array(LABELS, dtype=object)
    y[[3, 7]] = np.nan
    with pytest.raises(ValueError, match=r"y holds 2 missing labels .*position 3 first"):
        plot_document_map(t, CORPUS, y)
    pd = pytest.importorskip("pandas")
    labels = pd.Series(LABELS, dtype="string").mask(pd.Series(range(40)) == 5)  # pd.NA
    with pytest.raises(ValueError, match=r"y holds 1 missing labels .*position 5 first"):
        plot_document_map(t, CORPUS, labels)
    # 1 and "1" made one panel, the second embedder's, silently
    with pytest.raises(ValueError, match=r"two names that read '1' as panel titles \(1 and '1'\)"):
        plot_document_map({1: TfidfBaseline(), "1": TfidfBaseline(dim=4)}, CORPUS, LABELS)


def test_document_map_takes_a_frame_of_vectors_and_refuses_a_figure_for_ax():
    pd = pytest.importorskip("pandas")
    vectors = TfidfBaseline(dim=8).fit_transform(CORPUS)
    # a DataFrame has a transform method of its own: it was taken for an embedder and failed
    # in check_is_fitted with the whole frame printed
    frame = plot_document_map({"lsa": pd.DataFrame(vectors)}, CORPUS, LABELS)
    array = plot_document_map({"lsa": vectors}, CORPUS, LABELS)
    np.testing.assert_array_equal(
        np.concatenate([c.get_offsets() for c in frame.axes[0].collections]),
        np.concatenate([c.get_offsets() for c in array.axes[0].collections]),
    )
    # a Figure for ax failed deep in the drawing: 'Figure' object has no attribute 'scatter'
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes, got Figure"):
        plot_document_map({"t": TfidfBaseline()}, CORPUS, LABELS, ax=plt.figure())


def test_document_map_umap_missing_says_how(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError
    with pytest.raises(ImportError, match="pip install umap-learn"):
        plot_document_map({"t": TfidfBaseline()}, CORPUS, LABELS, method="umap")


def test_missing_matplotlib_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skmrl\[plot\]'"):
        plot_dim_curves(_comparison())


# -- plot_similarity_heatmap ----------------------------------------------------------------------
def test_similarity_heatmap(tmp_path, word2vec):
    sentences = CORPUS[:3] + CORPUS[10:13]
    fig = plot_similarity_heatmap({"tf-idf": TfidfBaseline(), "word2vec": word2vec}, sentences)
    panels = [a for a in fig.axes if a.get_title()]
    assert [a.get_title() for a in panels] == ["tf-idf", "word2vec"]
    assert len(fig.axes) == 3  # two heatmaps and one shared colour bar
    for ax in panels:
        assert len(ax.texts) == 36
        (image,) = ax.images
        S = image.get_array()
        np.testing.assert_allclose(np.diag(S), 1.0, atol=1e-5)
        np.testing.assert_allclose(S, S.T, atol=1e-6)
    ticks = [t.get_text() for t in panels[0].get_yticklabels()]
    assert len(ticks) == 6 and all(len(t) <= 30 for t in ticks)
    assert ticks[0] == sentences[0]  # short enough to be shown whole
    assert any(t.endswith("\u2026") for t in ticks)  # long ones are cut
    _png_ok(fig, tmp_path / "heatmap.png")


def test_similarity_heatmap_many_sentences_labels_and_ax():
    fig = plot_similarity_heatmap({"t": TfidfBaseline(dim=8)}, CORPUS[:12])
    assert len(fig.axes[0].texts) == 0  # more than 10 sentences: no annotations
    _, ax = plt.subplots()
    names = ["a", "b", "c"]
    assert plot_similarity_heatmap({"t": TfidfBaseline()}, CORPUS[:3], labels=names, ax=ax) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == names


def test_similarity_heatmap_errors():
    with pytest.raises(ValueError, match="empty"):
        plot_similarity_heatmap({}, CORPUS[:3])
    with pytest.raises(ValueError, match="labels"):
        plot_similarity_heatmap({"t": TfidfBaseline()}, CORPUS[:3], labels=["a"])
    for bad, got in (("one sentence", "str"), (None, "NoneType"), (3, "int")):
        with pytest.raises(TypeError, match=f"sentences must be a sequence of str, got {got}$"):
            plot_similarity_heatmap({"t": TfidfBaseline()}, bad)
    # a bare str was one label per character: "abc" labelled 3 sentences a, b and c
    with pytest.raises(TypeError, match="labels must be a sequence of str, one per sentence"):
        plot_similarity_heatmap({"t": TfidfBaseline()}, CORPUS[:3], labels="abc")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.eye(3))  # vectors are not taken here: the sentences are encoded
    with pytest.raises(TypeError, match=r"embedders\['v'\] is a DataFrame of vectors, not an"):
        plot_similarity_heatmap({"v": frame}, CORPUS[:3])
    with pytest.raises(TypeError, match=r"embedders\['o'\] \(of type object\) has no fit and"):
        plot_similarity_heatmap({"o": object()}, CORPUS[:3])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes, got Figure"):
        plot_similarity_heatmap({"t": TfidfBaseline()}, CORPUS[:3], ax=plt.figure())
