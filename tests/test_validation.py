"""Every bad input gets a clear error that names the problem (and the position)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmrl._validation import check_dim, check_documents

DOCS = ["a cat", "", "a dog"]


@pytest.mark.parametrize(
    "X",
    [
        DOCS,
        tuple(DOCS),
        np.array(DOCS),
        np.array(DOCS, dtype=object),
        np.array(DOCS).reshape(-1, 1),
        pd.Series(DOCS, index=[10, 20, 30]),
        pd.DataFrame({"text": DOCS}),
        (d for d in DOCS),
    ],
    ids=["list", "tuple", "ndarray", "object-array", "column", "series", "dataframe", "gen"],
)
def test_accepted_inputs_become_a_list_of_str(X):
    docs = check_documents(X)
    assert docs == DOCS
    assert all(type(d) is str or isinstance(d, str) for d in docs)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ("a cat", TypeError, r"got a single str; wrap it in a list"),
        (None, TypeError, r"got None"),
        (b"bytes", TypeError, r"bytes"),
        (["a", 3, "b"], TypeError, r"position 1 .*type int"),
        (["a", "b", {"x": 1}], TypeError, r"position 2 .*type dict"),
        (["a", None], ValueError, r"position 1 .*missing value"),
        (["a", float("nan")], ValueError, r"position 1 .*missing value"),
        (pd.Series(["a", np.nan, "c"]), ValueError, r"position 1 .*missing value"),
        # a nullable "string" column's missing value is pd.NA (it was "has type NAType")
        (pd.Series(["a", None, "c"], dtype="string"), ValueError, r"position 1 .*missing value"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, r"shape \(2, 2\)"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, r"DataFrame with 2 columns"),
        ([["a", "b"], ["c", "d"]], ValueError, r"position 0 .*2-D"),
        ({"a": 1}, TypeError, r"dict"),
        ({"a", "b"}, TypeError, r"set"),
        (42, TypeError, r"got int"),
        (np.array("a cat"), TypeError, r"0-d array"),
    ],
)
def test_bad_inputs_raise_clear_errors(X, error, match):
    with pytest.raises(error, match=match):
        check_documents(X)


def test_empty_corpus_is_an_error_only_in_fit():
    assert check_documents([]) == []
    with pytest.raises(ValueError, match="empty corpus"):
        check_documents([], fit=True)


def test_sparse_input_is_rejected():
    sp = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="sparse matrix"):
        check_documents(sp.csr_matrix(np.eye(2)))


@pytest.mark.parametrize("dim", [None, 1, 7, np.int64(384)])
def test_check_dim_accepts_valid_values(dim):
    assert check_dim(dim, 384) == (None if dim is None else int(dim))


@pytest.mark.parametrize(
    ("dim", "error", "match"),
    [
        (0, ValueError, r"dim=0 is out of range: expected None \(full size\) or an int in \[1,"),
        (385, ValueError, r"\[1, 384\]"),
        (-3, ValueError, r"out of range"),
        (2.0, TypeError, r"float"),
        ("8", TypeError, r"str"),
        (True, TypeError, r"bool"),
    ],
)
def test_check_dim_rejects_bad_values(dim, error, match):
    with pytest.raises(error, match=match):
        check_dim(dim, 384)


def test_warnings_point_past_scikit_learns_machinery_at_the_callers_line():
    # A warning from a fit inside a Pipeline inside a GridSearchCV used to point at
    # sklearn/pipeline.py: the user's line is the one that called the search.
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skmrl import Word2VecEmbedder

    docs = ["the cat sat", "a dog barked", "the cat purred", "a dog growled"] * 3
    labels = [0, 1] * 6
    pipe = make_pipeline(Word2VecEmbedder(max_dim=7, epochs=1, min_count=1), LogisticRegression())
    grid = GridSearchCV(pipe, {"word2vecembedder__dim": [2, 4]}, cv=2)
    with pytest.warns(UserWarning, match="word2vec trains on only") as caught:
        grid.fit(docs, labels)
    assert {w.filename for w in caught} == {__file__}


def test_a_frame_of_two_vector_pairs_is_read_as_pairs():
    """A DataFrame of 2 rows (two pairs of vectors, one per row) failed with a bare
    ``KeyError: 0``: ``len(X) == 2`` took it for two matrices ``(A, B)`` and ``X[0]`` looked up
    a column named 0. Its rows are pairs, as in a frame of any other length."""
    from skmrl._vector_checks import check_vector_pairs

    A, B = np.random.default_rng(0).normal(size=(2, 2, 4))
    a, b = check_vector_pairs(pd.DataFrame({"emb_a": list(A), "emb_b": list(B)}))
    np.testing.assert_array_equal(a, A)
    np.testing.assert_array_equal(b, B)


def test_a_pair_without_a_vector_is_named_as_missing():
    """A frame of vector pairs with a missing cell (None, NaN: a row the API did not embed)
    failed with "X[1] must hold vectors of numbers, got an array of object"."""
    from skmrl._vector_checks import check_vector_pairs

    A = np.ones((3, 4))
    for cell in (None, np.nan):
        frame = pd.DataFrame({"emb_a": list(A), "emb_b": [A[0], cell, A[2]]})
        with pytest.raises(ValueError, match=r"^X\[1\] holds no vector \((None|nan)\); drop"):
            check_vector_pairs(frame)
