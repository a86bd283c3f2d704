"""Vectors held in a DataFrame column (a cell per row, as an embeddings API's results are kept)
are taken wherever skmrl takes vectors: stacked in one place, ``stack_vector_column``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmrl import MatryoshkaAdaptor, MatryoshkaSearch
from skmrl._vector_checks import check_vector_pairs, holds_vector_pairs, stack_vector_column

Z = np.random.default_rng(0).normal(size=(30, 8))


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(list(Z)),
        pd.Series([row.tolist() for row in Z], index=range(100, 130)),
        pd.Series([tuple(row) for row in Z]),
        pd.DataFrame({"embedding": list(Z)}),
        pd.Series(list(Z)).to_numpy(),
    ],
    ids=["arrays", "lists", "tuples", "one-column-frame", "object-array"],
)
def test_a_column_of_vectors_is_stacked(column):
    stacked = stack_vector_column(column)
    assert stacked.dtype == np.float64
    np.testing.assert_array_equal(stacked, Z)


def test_float32_cells_stay_float32_and_other_input_is_left_alone():
    stacked = stack_vector_column(pd.Series(list(Z.astype(np.float32))))
    assert stacked.dtype == np.float32
    assert stack_vector_column(pd.Series(list(Z.astype(np.int64)))).dtype == np.float64
    texts = pd.Series(["a cat", "a dog"])  # texts are no vectors: the caller says so
    for X in (Z, Z.tolist(), texts, pd.DataFrame(Z), pd.Series([1.0, 2.0])):
        assert stack_vector_column(X) is X


@pytest.mark.parametrize(
    ("column", "error", "match"),
    [
        (
            pd.Series([[1.0, 2.0], [3.0, 4.0], [5.0]], index=[10, 11, 12]),
            ValueError,
            r"^X holds vectors of different lengths: row 2 \(index 12\) is of length 1, the "
            r"rows before it of length 2$",
        ),
        (pd.Series([[1.0, 2.0], None]), ValueError, r"^X: row 1 holds no vector \(None\); drop"),
        (pd.Series([np.nan, [1.0, 2.0]]), ValueError, r"^X: row 0 holds no vector \(nan\)"),
        (pd.Series([[1.0, 2.0], "a cat"]), TypeError, r"^X: row 1 holds a str \('a cat'\), not a"),
        (pd.Series([[1.0, 2.0], ["a", "b"]]), TypeError, r"row 1 holds a list of <U1 of shape"),
        (pd.Series([[1.0, 2.0], [[1.0], [2.0]]]), TypeError, r"row 1 .* not a 1-D vector"),
        (pd.Series([[], []]), ValueError, r"^X holds vectors of 0 numbers$"),
        (pd.Series([], dtype=object), ValueError, r"^X is an empty column: it holds no vectors$"),
        (
            pd.DataFrame({"emb_a": list(Z), "emb_b": list(Z)}),
            ValueError,
            r"^X has 2 columns, of which \['emb_a', 'emb_b'\] hold vectors: pass one column of "
            r"vectors, e.g. df\['emb_a'\]$",
        ),
    ],
    ids=["ragged", "none", "nan", "text", "strings", "2-d", "zero-length", "empty", "two"],
)
def test_bad_columns_of_vectors_get_one_line_errors(column, error, match):
    with pytest.raises(error, match=match):
        stack_vector_column(column)


def test_search_takes_a_column_of_vectors_for_the_corpus_and_the_queries():
    """MatryoshkaSearch(embedder=None) refused df["embedding"] with "stack them first"."""
    frame = pd.DataFrame({"embedding": list(Z)})
    stacked = MatryoshkaSearch(shortlist_dim=4, device="cpu").fit(Z)
    search = MatryoshkaSearch(shortlist_dim=4, device="cpu").fit(frame["embedding"])
    np.testing.assert_array_equal(search.vectors_, stacked.vectors_)
    for queries in (frame["embedding"][:5], frame[["embedding"]][:5]):
        _, rows = search.kneighbors(queries, 1)
        assert rows[:, 0].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"^queries: row 1 holds no vector"):
        search.kneighbors(pd.Series([Z[0], None]), 1)
    with pytest.raises(TypeError, match="X holds texts, but embedder=None takes vectors"):
        MatryoshkaSearch(device="cpu").fit(pd.Series(["a cat", "a dog"]))


def test_sts_takes_two_columns_of_vectors_as_pairs():
    """dim_curve(MatryoshkaAdaptor(), (df["a"], df["b"]), task="sts") was refused with "X[0]
    must be a pair (vector_a, vector_b), got a Series of 12 rows"."""
    from skmrl.evaluation import dim_curve

    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 20, 8))
    gold = rng.uniform(0, 5, 20)
    frame = pd.DataFrame({"emb_a": list(A), "emb_b": [tuple(v) for v in B]})
    for X in ((frame["emb_a"], frame["emb_b"]), (frame[["emb_a"]], B), frame):
        assert holds_vector_pairs(X)
        a, b = check_vector_pairs(X)
        np.testing.assert_array_equal(a, A)
        np.testing.assert_array_equal(b, B)
    with pytest.raises(ValueError, match=r"^X\[1\] holds vectors of different lengths: row 3"):
        check_vector_pairs((frame["emb_a"], pd.Series([*B[:3].tolist(), [1.0], *B[4:]])))
    ad = MatryoshkaAdaptor(method="pca")
    by_columns = dim_curve(ad, (frame["emb_a"], frame["emb_b"]), gold, task="sts", dims=[2, 8])
    by_arrays = dim_curve(ad, (A, B), gold, task="sts", dims=[2, 8])
    np.testing.assert_allclose(by_columns.scores, by_arrays.scores)


def test_sts_takes_the_array_of_a_frame_of_two_vector_columns_as_pairs():
    """df[["a", "b"]].to_numpy() (an array of objects, a pair per row, as the frame's rows are)
    was refused with "must have shape (n_pairs, 2, n_features), got (20, 2); two matrices A and
    B, a pair per row, go as (A, B)", advice that does not fit cells holding vectors. It now
    scores as the frame does; an array of 2 columns of texts is still texts."""
    from skmrl.evaluation import dim_curve

    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 20, 8))
    gold = rng.uniform(0, 5, 20)
    X = pd.DataFrame({"emb_a": list(A), "emb_b": list(B)}).to_numpy()
    assert X.dtype == object and X.shape == (20, 2) and holds_vector_pairs(X)
    for rows in (20, 2):  # 2 rows are 2 pairs, not two matrices (A, B)
        a, b = check_vector_pairs(X[:rows])
        np.testing.assert_array_equal(a, A[:rows])
        np.testing.assert_array_equal(b, B[:rows])
    ad = MatryoshkaAdaptor(method="pca")
    np.testing.assert_allclose(
        dim_curve(ad, X, gold, task="sts", dims=[2, 8]).scores,
        dim_curve(ad, (A, B), gold, task="sts", dims=[2, 8]).scores,
    )
    assert not holds_vector_pairs(np.array([["a cat", "a dog"]], dtype=object))


def test_cosine_top_k_takes_columns_of_vectors():
    """skmrl.metrics.cosine_top_k refused df["embedding"] with "must be a 2-D array of
    numbers"."""
    from skmrl.metrics import cosine_top_k

    frame = pd.DataFrame({"embedding": list(Z)})
    scores, rows = cosine_top_k(frame["embedding"][:4], frame[["embedding"]], 2)
    expected = cosine_top_k(Z[:4], Z, 2)
    np.testing.assert_array_equal(rows, expected[1])
    np.testing.assert_array_equal(scores, expected[0])
    with pytest.raises(ValueError, match=r"^corpus holds vectors of different lengths: row 1"):
        cosine_top_k(Z[:1], pd.Series([[1.0, 2.0], [1.0]]), 1)


def test_a_one_column_frame_of_texts_is_called_texts_where_vectors_are_due():
    """df[["text"]] (a ColumnTransformer's list selector on the wrong column) where vectors are
    due failed with "could not convert string to float: 'a cat'"; it is now called texts, with
    the message that says to embed them (a column of texts is never stacked as vectors)."""
    texts = pd.DataFrame({"text": ["a cat", "a dog", "a cow"]})
    with pytest.raises(TypeError, match="X holds texts, but embedder=None takes vectors"):
        MatryoshkaSearch(device="cpu").fit(texts)
    with pytest.raises(TypeError, match=r"MatryoshkaAdaptor takes dense vectors .* not texts"):
        MatryoshkaAdaptor().fit(texts)


@pytest.mark.parametrize("selector", ["embedding", ["embedding"]], ids=["str", "list"])
def test_adaptor_in_a_column_transformer_on_the_vector_column(selector):
    """A ColumnTransformer hands its transformer df["embedding"] (a str selector) or
    df[["embedding"]] (a list): the user cannot stack inside it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    y = (Z[:, 0] > 0).astype(int)
    frame = pd.DataFrame({"embedding": list(Z), "n_words": np.arange(30)})
    columns = ColumnTransformer([("emb", MatryoshkaAdaptor(dim=4, method="pca"), selector)])
    pipe = make_pipeline(columns, LogisticRegression()).fit(frame, y)
    ref = make_pipeline(MatryoshkaAdaptor(dim=4, method="pca"), LogisticRegression()).fit(Z, y)
    np.testing.assert_allclose(pipe.predict_proba(frame), ref.predict_proba(Z), atol=1e-6)
    assert columns.get_feature_names_out().tolist() == [
        f"emb__matryoshkaadaptor{i}" for i in range(4)
    ]
    # an empty batch is no rows, as of any other kind: it was "an empty column" at transform
    assert columns.transform(frame.iloc[:0]).shape == (0, 4)
    assert pipe[0].transform(frame.iloc[:0]).shape == (0, 4)
    with pytest.raises(ValueError, match=r"^X is an empty column: it holds no vectors$"):
        MatryoshkaAdaptor().fit(frame["embedding"].iloc[:0])  # nothing to fit: refused


def test_a_wide_frame_of_numbers_is_not_looked_into_column_by_column(monkeypatch):
    """A DataFrame of numbers (an API's 3,072-dim vectors, one column each) was looked into
    column by column for vectors, at every fit and transform: MatryoshkaAdaptor.transform of
    one row of 1,536 columns took 46 ms instead of 6. Only its columns of objects are."""
    import skmrl._vector_checks as vector_checks

    looked: list[str] = []
    real = vector_checks._holds_vector_column

    def spy(X):
        looked.append(X.name)
        return real(X)

    monkeypatch.setattr(vector_checks, "_holds_vector_column", spy)
    frame = pd.DataFrame(np.ones((3, 500)), columns=[f"c{j}" for j in range(500)])
    assert stack_vector_column(frame) is frame
    assert looked == []
    frame["embedding"] = [np.ones(4)] * 3
    with pytest.raises(ValueError, match=r"^X has 501 columns, of which \['embedding'\] hold"):
        stack_vector_column(frame)
    assert looked == ["embedding"]


def test_a_column_of_torch_tensors_is_a_column_of_vectors():
    """``list(tensor)`` in a DataFrame's column failed deep in scikit-learn's checks ("only one
    element tensors can be converted to Python scalars"); a list of tensors already worked."""
    torch = pytest.importorskip("torch")
    Z = np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)
    column = pd.DataFrame({"emb": list(torch.from_numpy(Z))})["emb"]
    np.testing.assert_array_equal(stack_vector_column(column), Z)
    expected = MatryoshkaAdaptor(dim=4, method="pca").fit(Z).transform(Z)
    got = MatryoshkaAdaptor(dim=4, method="pca").fit(column).transform(column)
    np.testing.assert_array_equal(got, expected)
    # a dtype numpy cannot read, a tensor that requires grad, a 2-D cell: the row is named
    unreadable = r"row 0 holds a Tensor that numpy cannot read .*t\.detach\(\)\.cpu\(\)"
    for cells in (list(torch.from_numpy(Z).bfloat16()), list(torch.ones(3, 4, requires_grad=True))):
        with pytest.raises(TypeError, match=unreadable):
            MatryoshkaAdaptor(method="pca").fit(pd.Series(cells))
        with pytest.raises(TypeError, match=unreadable):
            MatryoshkaAdaptor(method="pca").fit(cells)
    with pytest.raises(TypeError, match=r"row 0 holds a Tensor of float32 of shape \(1, 16\)"):
        stack_vector_column(pd.Series(list(torch.from_numpy(Z[:, None, :]))))
