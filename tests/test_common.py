"""The contracts of DESIGN.md, checked on every embedder (add new ones to ALL_EMBEDDERS)."""

from __future__ import annotations

import copy
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skmrl import MatryoshkaEmbedder, TfidfBaseline, Word2VecEmbedder
from skmrl.base import prefix_normalize

from ._corpus import CORPUS, LABELS


def _tfidf() -> TfidfBaseline:
    return TfidfBaseline(max_dim=16)


def _word2vec() -> Word2VecEmbedder:
    return Word2VecEmbedder(max_dim=16, min_count=1, epochs=20, random_state=0, device="cpu")


def _matryoshka() -> MatryoshkaEmbedder:
    return MatryoshkaEmbedder(device="cpu", max_length=64)


#: Factories of unfitted embedders set up for CORPUS; every contract test runs on each.
ALL_EMBEDDERS = [
    pytest.param(_tfidf, id="TfidfBaseline"),
    pytest.param(_word2vec, id="Word2VecEmbedder"),
    pytest.param(_matryoshka, id="MatryoshkaEmbedder"),
]

DATA_FREE_CHECKS = [
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
    check_estimator_repr,
    check_do_not_raise_errors_in_init_or_set_params,
]

_FITTED: dict[str, object] = {}


def _fitted(make):
    """One fitted embedder per factory for the whole module (fitting can be slow)."""
    key = make.__name__ if hasattr(make, "__name__") else repr(make)
    if key not in _FITTED:
        _FITTED[key] = make().fit(CORPUS)
    return _FITTED[key]


def _fitted_copy(make):
    """An independent copy of the fitted embedder (``clone`` would drop the fitted state)."""
    return copy.deepcopy(_fitted(make))


def _dense_full(est) -> np.ndarray:
    """The full-size dense output (``dim=max_dim_``)."""
    return clone(est).set_params(dim=est.max_dim_).fit(CORPUS).transform(CORPUS)


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_sklearn_data_free_checks(make, check):
    est = make()
    check(type(est).__name__, est)


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_tags_declare_string_input(make):
    tags = make().__sklearn_tags__()
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ("one document", TypeError, "single str"),
        (None, TypeError, "None"),
        (["fine", 42], TypeError, "position 1"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "shape"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, "2 columns"),
    ],
)
@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_bad_input_raises_clear_errors_in_fit_and_transform(make, X, error, match):
    with pytest.raises(error, match=match):
        make().fit(X)
    with pytest.raises(error, match=match):
        _fitted(make).transform(X)


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_bad_memory_is_rejected_in_fit(make):
    with pytest.raises(TypeError, match=r"memory must be None, a folder path or a joblib\.Memory"):
        make().set_params(memory=3.5).fit(CORPUS)


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_empty_corpus_in_fit(make):
    with pytest.raises(ValueError, match="empty corpus"):
        make().fit([])


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_output_is_float32_c_contiguous_of_shape_n_by_dim(make):
    est = _fitted_copy(make)
    for dim in (1, 3, est.max_dim_):
        out = est.set_params(dim=dim).transform(CORPUS[:7])
        assert isinstance(out, np.ndarray)
        assert out.dtype == np.float32
        assert out.flags.c_contiguous
        assert out.shape == (7, dim)
        assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
        empty = est.transform([])
        assert empty.shape == (0, dim) and empty.dtype == np.float32


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_same_output_for_every_accepted_input_type(make):
    est = _fitted_copy(make).set_params(dim=4)
    docs = CORPUS[:5]
    expected = est.transform(docs)
    for X in (
        tuple(docs),
        np.array(docs, dtype=object),
        pd.Series(docs, index=range(100, 105)),
        pd.DataFrame({"text": docs}),
        iter(docs),
    ):
        np.testing.assert_array_equal(est.transform(X), expected)


@pytest.mark.filterwarnings("ignore:.*no word in the vocabulary")
@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_empty_and_unknown_documents_give_finite_vectors(make):
    est = _fitted_copy(make).set_params(dim=4)
    out = est.transform(["", "zzqx wvvk", CORPUS[0]])
    assert np.isfinite(out).all()
    norms = np.linalg.norm(out, axis=1)
    assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0))


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_nesting_contract(make):
    """dim=k is the first k columns of the full-size output, re-normalised (a property test)."""
    est = _fitted(make)
    full = _dense_full(est)
    unnormalised = clone(est).set_params(dim=est.max_dim_, normalize=False).fit(CORPUS)
    raw = unnormalised.transform(CORPUS)
    np.testing.assert_allclose(prefix_normalize(raw, None), full, atol=1e-6)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        dim=st.integers(1, est.max_dim_),
        rows=st.lists(st.integers(0, len(CORPUS) - 1), min_size=1, max_size=12),
        normalize=st.booleans(),
    )
    def check(dim, rows, normalize):
        docs = [CORPUS[i] for i in rows]
        out = clone(est).set_params(dim=dim, normalize=normalize).fit(CORPUS).transform(docs)
        expected = prefix_normalize(full[rows], dim) if normalize else raw[rows][:, :dim]
        np.testing.assert_allclose(out, expected, atol=1e-5)

    check()


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_dim_out_of_range_names_the_allowed_range(make):
    est = _fitted(make)
    too_big = est.max_dim_ + 1
    with pytest.raises(ValueError, match=rf"dim={too_big} is out of range.*\[1, {est.max_dim_}\]"):
        clone(est).set_params(dim=too_big).fit(CORPUS)
    with pytest.raises(ValueError, match=r"\[1, "):
        _fitted_copy(make).set_params(dim=too_big).transform(CORPUS[:2])
    with pytest.raises(ValueError, match="out of range"):
        make().set_params(dim=0).fit(CORPUS)


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_changing_dim_after_fit_needs_no_refit(make, monkeypatch):
    cls = type(make())
    fits = []
    original = cls._fit_full
    monkeypatch.setattr(cls, "_fit_full", lambda self, *a: fits.append(1) or original(self, *a))
    est = make().set_params(dim=2).fit(CORPUS)
    assert len(fits) == 1
    small = est.transform(CORPUS[:3])
    est.set_params(dim=5)
    bigger = est.transform(CORPUS[:3])
    assert bigger.shape == (3, 5)
    np.testing.assert_allclose(prefix_normalize(bigger, 2), small, atol=1e-5)
    assert len(fits) == 1


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_grid_over_dim_fits_and_encodes_once_per_fold(make, monkeypatch):
    """A 4-value grid over dim costs what a 1-value grid costs: one fit and encoding per fold."""
    cls = type(make())
    fits, encoded = [], []
    fit_full, transform_full = cls._fit_full, cls._transform_full
    monkeypatch.setattr(cls, "_fit_full", lambda self, *a: fits.append(1) or fit_full(self, *a))
    monkeypatch.setattr(
        cls,
        "_transform_full",
        lambda self, docs: encoded.append(len(docs)) or transform_full(self, docs),
    )
    pipe = make_pipeline(make(), LogisticRegression(max_iter=500))
    step = pipe.steps[0][0]
    folds = 3
    grid = GridSearchCV(pipe, {f"{step}__dim": [1, 2, 4, 8]}, cv=folds).fit(CORPUS, LABELS)
    if make()._fit_data_key(CORPUS, None) is not None:  # fits that learn from the data
        assert len(fits) <= folds + 1  # one per fold + the refit, not one per grid point
    else:  # fits that learn nothing (a pretrained model) share one encoding of every text
        assert sum(encoded) == len(set(CORPUS))
    assert sum(encoded) <= (folds + 1) * len(CORPUS)
    assert grid.best_score_ > 0.5  # 4 balanced classes: chance is 0.25


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_clone_pickle_and_joblib_round_trips(make, tmp_path):
    est = _fitted_copy(make).set_params(dim=4)
    expected = est.transform(CORPUS[:6])

    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "max_dim_")

    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(restored.transform(CORPUS[:6]), expected, atol=1e-6)
    assert repr(restored) == repr(est)

    joblib.dump(est, tmp_path / "est.joblib")
    loaded = joblib.load(tmp_path / "est.joblib")
    np.testing.assert_allclose(loaded.transform(CORPUS[:6]), expected, atol=1e-6)


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_feature_names_and_pandas_output(make):
    est = _fitted_copy(make).set_params(dim=3)
    prefix = type(est).__name__.lower()
    names = est.get_feature_names_out()
    assert list(names) == [f"{prefix}0", f"{prefix}1", f"{prefix}2"]
    est.set_output(transform="pandas")
    frame = est.transform(CORPUS[:4])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(names)
    assert frame.shape == (4, 3)
