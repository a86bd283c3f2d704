"""polars input, as scikit-learn takes it: a Series or a one-column DataFrame of texts (what a
``ColumnTransformer`` hands over for a ``"text"`` or a ``["text"]`` selector), frames of pairs,
``List`` and ``Array`` columns of vectors, and ``set_output(transform="polars")``. pandas is the
reference: the same data gives the same result, or the same message."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmrl import (
    MatryoshkaAdaptor,
    MatryoshkaSearch,
    TfidfBaseline,
    Word2VecEmbedder,
    compare,
    dim_curve,
)
from skmrl._validation import check_documents, check_pairs, holds_text
from skmrl._vector_checks import (
    check_not_written_vectors,
    check_vector_pairs,
    holds_vector_pairs,
    stack_vector_column,
)

from ._corpus import CORPUS, LABELS

pl = pytest.importorskip("polars")

TEXTS = CORPUS[:24]
Y = LABELS[:24]
OTHER = CORPUS[-24:][::-1]  # a second column of texts, for pairs
Z = np.random.default_rng(0).normal(size=(24, 6))


@pytest.fixture
def frame():
    """Texts, a second text column, labels, and vectors as a List and an Array column."""
    return pl.DataFrame({"text": TEXTS, "other": OTHER, "y": Y, "vec": Z.tolist()}).with_columns(
        arr=pl.col("vec").cast(pl.Array(pl.Float32, 6))
    )


def test_texts_from_a_polars_series_or_one_column_frame(frame):
    assert check_documents(frame["text"]) == TEXTS
    assert check_documents(frame.select("text")) == TEXTS
    expected = TfidfBaseline(dim=4).fit_transform(TEXTS)
    np.testing.assert_array_equal(
        TfidfBaseline(dim=4).fit_transform(frame.select("text")), expected
    )
    assert holds_text(frame.select("text")) and holds_text(frame["text"])
    assert not holds_text(frame.select("vec")) and not holds_text(frame.select("text", "other"))


def test_polars_frames_of_several_columns_or_with_nulls_are_refused_as_pandas_ones_are(frame):
    with pytest.raises(
        ValueError, match=r"got a DataFrame with 2 columns \['text', 'other'\]; select"
    ):
        check_documents(frame.select("text", "other"))
    with_null = pl.DataFrame({"text": ["a cat", None]})
    for X in (with_null, with_null["text"]):
        with pytest.raises(
            ValueError, match=r"^document at position 1 of X is a missing value \(None\)"
        ):
            TfidfBaseline(dim=2).fit(X)
    with pytest.raises(TypeError, match=r"^document at position 0 of X has type int \(1\)"):
        check_documents(pl.DataFrame({"n": [1, 2]}))


@pytest.mark.parametrize("selector", ["text", ["text"]])
def test_column_transformer_takes_a_polars_frame(frame, selector):
    expected = TfidfBaseline(dim=4).fit_transform(TEXTS)
    ct = ColumnTransformer([("emb", TfidfBaseline(dim=4), selector)])
    np.testing.assert_array_equal(ct.fit_transform(frame), expected)
    out = ct.set_output(transform="polars").fit_transform(frame)
    assert isinstance(out, pl.DataFrame) and out.columns[0] == "emb__tfidfbaseline0"
    model = make_pipeline(
        ColumnTransformer([("emb", TfidfBaseline(dim=4), selector)]), LogisticRegression()
    )
    assert model.fit(frame, frame["y"]).score(frame, frame["y"]) > 0.5


def test_grid_search_over_dim_on_a_polars_column(frame):
    pipe = make_pipeline(TfidfBaseline(max_dim=8), LogisticRegression())
    search = GridSearchCV(pipe, {"tfidfbaseline__dim": [2, 8]}, cv=2, error_score="raise")
    assert search.fit(frame.select("text"), frame["y"]).best_params_["tfidfbaseline__dim"] in (2, 8)


@pytest.mark.filterwarnings("ignore:word2vec trains on only")
def test_polars_output(frame):
    out = TfidfBaseline(dim=3).set_output(transform="polars").fit_transform(frame.select("text"))
    assert isinstance(out, pl.DataFrame) and out.columns == [
        "tfidfbaseline0",
        "tfidfbaseline1",
        "tfidfbaseline2",
    ]
    w2v = Word2VecEmbedder(dim=4, max_dim=8, epochs=1).set_output(transform="polars")
    assert w2v.fit(frame["text"]).transform(frame.select("text")).shape == (24, 4)
    numbers = pl.DataFrame(Z)
    adaptor = MatryoshkaAdaptor(dim=2, method="pca").set_output(transform="polars").fit(numbers)
    assert isinstance(adaptor.transform(numbers), pl.DataFrame)


def test_sparse_tfidf_refuses_polars_output_saying_why(frame):
    # as it refuses pandas output: scikit-learn's own message did not say to set dim
    est = TfidfBaseline(dim=None).set_output(transform="polars")
    with pytest.raises(ValueError, match=r"transform='polars'\) cannot hold; set dim=k for dense"):
        est.fit_transform(frame["text"])


def test_text_pairs_from_a_polars_frame(frame):
    expected = (TEXTS, OTHER)
    assert check_pairs(frame.select("text", "other")) == expected
    with pytest.raises(
        ValueError,
        match=r"must have 2 columns \(text_a, text_b\), one pair per row; the DataFrame has 3",
    ):
        check_pairs(frame.select("text", "other", "y"))


@pytest.mark.parametrize("column", ["vec", "arr"])
def test_a_polars_column_of_vectors_is_stacked(frame, column):
    for X in (frame[column], frame.select(column)):
        stacked = stack_vector_column(X)
        assert stacked.dtype == (np.float32 if column == "arr" else np.float64)
        np.testing.assert_allclose(stacked, Z, rtol=1e-6)
    pair_frame = frame.select(column, b=column)
    assert holds_vector_pairs(pair_frame) and holds_vector_pairs((frame[column], frame[column]))
    for pairs in (pair_frame, (frame[column], frame[column]), (frame.select(column), Z)):
        a, b = check_vector_pairs(pairs)
        np.testing.assert_allclose(a, Z, rtol=1e-6)
        np.testing.assert_allclose(b, Z, rtol=1e-6)


@pytest.mark.parametrize("dtype", [pl.List(pl.Float64), pl.Array(pl.Float64, 2)])
def test_a_null_row_of_a_polars_vector_column_is_named(dtype):
    # polars reads a null row of an Array column as NaN: it is a row without a vector still
    column = pl.Series("vec", [[1.0, 2.0], None, [3.0, 4.0]], dtype=dtype)
    for X in (column, column.to_frame()):
        with pytest.raises(ValueError, match=r"^X: row 1 holds no vector \(None\); drop or fill"):
            stack_vector_column(X)
    with pytest.raises(ValueError, match=r"of which \['a', 'b'\] hold vectors: pass one column"):
        stack_vector_column(pl.DataFrame({"a": column, "b": column}))


def test_vector_taking_estimators_take_polars_columns(frame):
    expected = MatryoshkaAdaptor(method="pca").fit_transform(Z)
    for X in (frame["vec"], frame.select("vec")):
        np.testing.assert_allclose(
            MatryoshkaAdaptor(method="pca").fit_transform(X), expected, atol=1e-6
        )
    ct = ColumnTransformer([("rot", MatryoshkaAdaptor(dim=2, method="pca"), ["arr"])])
    assert ct.fit_transform(frame).shape == (24, 2)
    search = MatryoshkaSearch(shortlist_dim=2).fit(frame.select("vec"))
    np.testing.assert_array_equal(
        search.kneighbors(frame["vec"], 3, return_distance=False),
        MatryoshkaSearch(shortlist_dim=2).fit(Z).kneighbors(Z, 3, return_distance=False),
    )


def test_vectors_written_as_text_in_a_polars_column_are_refused():
    written = pl.DataFrame({"vec": ["[0.1, 0.2]", "[0.3, 0.4]"]})
    for X in (written, written["vec"]):
        with pytest.raises(TypeError, match="holds vectors written as text"):
            check_not_written_vectors(X)


def test_dim_curve_and_compare_on_polars_input(frame):
    expected = dim_curve(TfidfBaseline(max_dim=8), TEXTS, Y, dims=[2, 8], cv=2, progress=False)
    curve = dim_curve(
        TfidfBaseline(max_dim=8),
        frame.select("text"),
        frame["y"],
        dims=[2, 8],
        cv=2,
        progress=False,
    )
    np.testing.assert_allclose(curve.scores, expected.scores)
    comp = compare(
        {"tfidf": TfidfBaseline(max_dim=8)},
        frame.select("text"),
        frame["y"],
        dims=[2, 8],
        cv=2,
        progress=False,
    )
    np.testing.assert_allclose(comp.curves["tfidf"].scores, expected.scores)
    scores = np.linspace(0, 5, 24)
    sts = dim_curve(
        TfidfBaseline(max_dim=4),
        frame.select("text", "other"),
        pl.Series(scores),
        task="sts",
        dims=[2],
        progress=False,
    )
    pairs = list(zip(TEXTS, OTHER, strict=True))
    np.testing.assert_allclose(
        sts.scores,
        dim_curve(
            TfidfBaseline(max_dim=4), pairs, scores, task="sts", dims=[2], progress=False
        ).scores,
    )
    adaptor = dim_curve(
        MatryoshkaAdaptor(method="pca"), pl.DataFrame(Z), frame["y"], dims=[2], cv=2, progress=False
    )
    np.testing.assert_allclose(
        adaptor.scores,
        dim_curve(
            MatryoshkaAdaptor(method="pca"), pd.DataFrame(Z), Y, dims=[2], cv=2, progress=False
        ).scores,
    )


def test_finetune_takes_pairs_and_scores_from_polars(tiny_bert):
    from skmrl import clear_caches, finetune

    scores = np.linspace(0, 5, 20)
    frame = pl.DataFrame({"a": CORPUS[:20], "b": CORPUS[20:40], "score": scores})
    common = {"dim": 16, "device": "cpu", "epochs": 1}
    expected = finetune(
        tiny_bert, list(zip(CORPUS[:20], CORPUS[20:40], strict=True)), scores, **common
    )
    clear_caches()
    got = finetune(tiny_bert, frame.select("a", "b"), frame["score"], **common)
    np.testing.assert_allclose(got.transform(CORPUS[:5]), expected.transform(CORPUS[:5]), atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda lf: TfidfBaseline(dim=2).fit(lf.select("text")),
        lambda lf: MatryoshkaAdaptor().fit(lf.select("x", "y")),
        lambda lf: dim_curve(TfidfBaseline(), lf.select("text"), [0, 1, 0, 1], dims=[1]),
        lambda lf: compare({"t": TfidfBaseline()}, lf.select("text"), [0, 1, 0, 1], dims=[1]),
        lambda lf: dim_curve(
            TfidfBaseline(), lf.select("text", "other"), [0.1, 0.5, 0.2, 0.3], task="sts", dims=[1]
        ),
        # MatryoshkaSearch on vectors said numpy's "setting an array element with a sequence"
        lambda lf: MatryoshkaSearch(shortlist_dim=None).fit(lf.select("x", "y")),
        lambda lf: (
            MatryoshkaSearch(shortlist_dim=None)
            .fit(np.eye(2))
            .kneighbors(lf.select("x", "y"), n_neighbors=1)
        ),
    ],
    ids=["fit", "vectors", "dim_curve", "compare", "pairs", "search", "queries"],
)
def test_a_polars_lazy_frame_is_refused_saying_to_collect_it(call):
    # A LazyFrame is a query: reading its columns resolves it, which polars warns of
    # (PerformanceWarning) before skmrl's error named only "LazyFrame"; dim_curve and compare
    # failed in polars ("LazyFrame is not subscriptable")
    texts = ["the cat sat", "a dog ran", "the cat ran", "a dog sat"]
    columns = {"text": texts, "other": texts[::-1], "x": [1.0, 2, 3, 4], "y": [0.0, 1, 0, 1]}
    said = r"got a polars LazyFrame \(a query: pass its rows, lf\.collect\(\)\)$"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no PerformanceWarning
        with pytest.raises(TypeError, match=said):
            call(pl.LazyFrame(columns))
