"""TfidfBaseline: TF-IDF at dim=None, nested LSA at dim=k, one SVD per fold in a grid."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from skmrl import TfidfBaseline, clear_caches
from skmrl.base import prefix_normalize

from ._corpus import CORPUS


def test_dim_none_is_scikit_learns_tfidf():
    est = TfidfBaseline(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit(CORPUS)
    ref = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit(CORPUS)
    out = est.transform(CORPUS)
    assert out.shape == (len(CORPUS), len(ref.vocabulary_))
    np.testing.assert_allclose(out.toarray(), ref.transform(CORPUS).toarray(), atol=1e-6)
    assert list(est.get_feature_names_out()) == list(ref.get_feature_names_out())
    assert "the cat" in est.vectorizer_.vocabulary_


def test_lsa_is_a_prefix_of_one_truncated_svd():
    est = TfidfBaseline(dim=5, max_dim=20, random_state=0).fit(CORPUS)
    tfidf = TfidfVectorizer().fit_transform(CORPUS)
    svd = TruncatedSVD(n_components=20, random_state=0).fit(tfidf)
    expected = prefix_normalize(svd.transform(tfidf), 5)
    # The SVD runs in float64 (as this float64 reference does), so the two differ only by the
    # float32 rounding of the output (~1e-7, measured 9e-8); in float32 the randomized SVD's
    # rounding depended on BLAS threads and load and reached 1.05e-5 on a clean clone.
    np.testing.assert_allclose(est.transform(CORPUS), expected, atol=1e-6)
    assert np.all(np.diff(est.singular_values_) <= 1e-6)  # ordered: prefixes are lower ranks


def test_max_dim_is_capped_by_the_rank():
    docs = ["red apple", "green apple", "red car", "red apple"]  # 3 distinct rows: rank 3
    est = TfidfBaseline(max_dim=256).fit(docs)
    assert est.max_dim_ == 3
    with pytest.raises(ValueError, match=r"\[1, 3\]"):
        est.set_params(dim=4).transform(docs)


def test_dim_above_the_rank_names_the_rank():
    one_doc = r"dim=2 is out of range: the TF-IDF matrix of the training documents has rank 1, "
    with pytest.raises(ValueError, match=one_doc + r"so their LSA has 1 component, .*\[1, 1\]$"):
        TfidfBaseline(dim=2).fit(["the cat sat on the mat the cat"])
    est = TfidfBaseline().fit(["red apple", "green apple", "red car"])
    est.set_params(dim=4)
    with pytest.raises(ValueError, match=r"has rank 3, so their LSA has 3 components, fewer "):
        est.transform(["red car"])
    with pytest.raises(ValueError, match=r"has rank 3"):
        est.get_feature_names_out()
    # Where max_dim is the limit, the rank is not named.
    with pytest.raises(ValueError, match=r"^dim=3 is out of range: expected None \(full size\)"):
        TfidfBaseline(dim=3, max_dim=2).fit(["red apple", "green pear", "blue car"])


def test_vectorizer_options_are_used():
    est = TfidfBaseline(stop_words="english", max_features=10).fit(CORPUS)
    vocab = est.vectorizer_.vocabulary_
    assert len(vocab) == 10
    assert "the" not in vocab


@pytest.mark.parametrize("bad", [0, -1, 2.5, "64", True])
def test_bad_max_dim(bad):
    with pytest.raises(ValueError, match="max_dim must be an int >= 1"):
        TfidfBaseline(max_dim=bad).fit(CORPUS)


@pytest.mark.parametrize(
    ("bad", "error"), [(-1, ValueError), (2**32, ValueError), ("a", TypeError), (1.5, TypeError)]
)
def test_bad_random_state_is_refused_in_fit_whatever_the_corpus(bad, error):
    # A small corpus (exact SVD) took any random_state silently; a larger one failed after the
    # TF-IDF, deep in TruncatedSVD's parameter validation.
    match = r"random_state must be None, an int in \[0, 2\*\*32 - 1\] or a RandomState"
    with pytest.raises(error, match=match):
        TfidfBaseline(dim=2, random_state=bad).fit(CORPUS)


def test_empty_vocabulary_error_is_sklearns_clear_one():
    with pytest.raises(ValueError, match="empty vocabulary"):
        TfidfBaseline(stop_words="english").fit(["the", "and", "of"])


def test_disk_cache_restores_the_fitted_state(tmp_path, monkeypatch):
    fits = []
    original = TfidfBaseline._fit_full
    monkeypatch.setattr(
        TfidfBaseline, "_fit_full", lambda self, *a: fits.append(1) or original(self, *a)
    )
    first = TfidfBaseline(dim=4, memory=tmp_path).fit(CORPUS)
    clear_caches()  # as if in another process: only the disk layer is left
    second = TfidfBaseline(dim=8, memory=str(tmp_path)).fit(CORPUS)
    assert len(fits) == 1
    np.testing.assert_allclose(
        prefix_normalize(second.transform(CORPUS), 4), first.transform(CORPUS), atol=1e-6
    )
    # Another parameter that changes the fitted state misses the cache.
    TfidfBaseline(dim=4, memory=tmp_path, sublinear_tf=True).fit(CORPUS)
    assert len(fits) == 2


def test_grid_search_over_dim_on_bbc_news(bbc_news, monkeypatch):
    """Pipeline + GridSearchCV over dim on real text: picks a dim, scores far above chance."""
    texts, labels = bbc_news
    fits = []
    original = TfidfBaseline._fit_full
    monkeypatch.setattr(
        TfidfBaseline, "_fit_full", lambda self, *a: fits.append(1) or original(self, *a)
    )
    pipe = Pipeline(
        [("tfidfbaseline", TfidfBaseline(max_dim=64, min_df=2)), ("clf", LogisticRegression())]
    )
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [2, 8, 64]}, cv=cv).fit(texts, labels)
    scores = dict(
        zip(
            [p["tfidfbaseline__dim"] for p in grid.cv_results_["params"]],
            grid.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    assert grid.best_params_["tfidfbaseline__dim"] in (8, 64)
    assert scores[64] > 0.93  # 5 topics: chance is about 0.23
    assert scores[2] < scores[64]  # a 2-dim LSA loses information
    assert len(fits) == 3 + 1  # one TF-IDF + SVD per fold, plus the refit; not one per grid point


def test_lsa_does_not_depend_on_blas_threads():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        one = TfidfBaseline(dim=8, max_dim=20).fit(CORPUS).transform(CORPUS)
    clear_caches()
    with threadpool_limits(2):
        two = TfidfBaseline(dim=8, max_dim=20).fit(CORPUS).transform(CORPUS)
    np.testing.assert_allclose(one, two, atol=1e-6)


def test_one_word_vocabulary_gives_the_one_component_it_has():
    """TruncatedSVD refuses a one-column matrix; LSA falls back to the rank the data allows."""
    docs = ["spam spam", "spam", "spam spam spam"]
    est = TfidfBaseline(max_dim=64).fit(docs)
    assert est.max_dim_ == 1
    np.testing.assert_allclose(est.set_params(dim=1).transform(["spam", "eggs"]), [[1.0], [0.0]])
    with pytest.raises(ValueError, match=r"dim=2 is out of range.*\[1, 1\]"):
        est.set_params(dim=2).transform(docs)


def test_exact_svd_of_a_small_corpus_matches_arpack():
    """A corpus smaller than max_dim takes the exact dense SVD: the LSA of an exact solver."""
    est = TfidfBaseline(dim=6, max_dim=len(CORPUS)).fit(CORPUS)
    assert est.max_dim_ == len(CORPUS)
    tfidf = TfidfVectorizer().fit_transform(CORPUS)
    svd = TruncatedSVD(n_components=10, algorithm="arpack").fit(tfidf)
    np.testing.assert_allclose(est.singular_values_[:10], svd.singular_values_, rtol=1e-5)
    expected = prefix_normalize(svd.transform(tfidf), 6)
    np.testing.assert_allclose(est.transform(CORPUS), expected, atol=1e-5)


def test_pandas_output_of_the_sparse_tfidf_is_a_clear_error():
    est = TfidfBaseline().set_output(transform="pandas").fit(CORPUS)
    with pytest.raises(ValueError, match=r"dim=None\) returns the sparse TF-IDF matrix.*dim=k"):
        est.transform(CORPUS[:2])
    frame = est.set_params(dim=3).transform(CORPUS[:2])
    assert list(frame.columns) == ["tfidfbaseline0", "tfidfbaseline1", "tfidfbaseline2"]


def test_column_transformer_with_pandas_output_keeps_rows_together():
    """A shuffled frame's rows stay whole: fit_transform's DataFrame was indexed 0..n-1, so
    the ColumnTransformer joined each text's vector to another row's passthrough columns."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer

    df = pd.DataFrame({"text": CORPUS, "row": np.arange(len(CORPUS))}).sample(
        frac=1, random_state=0
    )
    ct = ColumnTransformer(
        [("emb", TfidfBaseline(dim=4), "text"), ("row", "passthrough", ["row"])]
    ).set_output(transform="pandas")
    out = ct.fit_transform(df)
    assert list(out.index) == list(df.index)
    np.testing.assert_array_equal(out["row__row"], df["row"])
    expected = TfidfBaseline(dim=4).fit(df["text"]).transform(df["text"])
    np.testing.assert_allclose(out.iloc[:, :4], expected, atol=1e-6)
