"""TfidfBaseline: TF-IDF at dim=None, nested LSA at dim=k, one SVD per fold in a grid."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
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
    # Where max_dim is the limit, it is named (before the fit), and the rank is not.
    with pytest.raises(ValueError, match=r"^dim=3 is out of range: it is above max_dim=2") as err:
        TfidfBaseline(dim=3, max_dim=2).fit(["red apple", "green pear", "blue car"])
    assert "rank" not in str(err.value)


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


@pytest.mark.slow
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
    # below the range too: the fitted size, not "[1, max_dim]" (as the other embedders say)
    for dim in (0, -3):
        with pytest.raises(ValueError, match=rf"^dim={dim} is out of range: .*an int in \[1, 1\]$"):
            est.set_params(dim=dim).transform(docs)


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


def test_the_sparse_tfidf_error_names_the_global_output_setting():
    """Under sklearn.set_config(transform_output="pandas") the error named set_output, which the
    user never called; it now names the setting that asked for the frame."""
    from sklearn import config_context

    est = TfidfBaseline().fit(CORPUS)
    with config_context(transform_output="pandas"):
        with pytest.raises(ValueError, match=r"set_config\(transform_output='pandas'\) cannot"):
            est.transform(CORPUS[:2])
        est.set_output(transform="pandas")
        with pytest.raises(ValueError, match=r"which set_output\(transform='pandas'\) cannot"):
            est.transform(CORPUS[:2])
        # The advice works: the estimator's own default output beats the global setting.
        assert est.set_output(transform="default").transform(CORPUS[:2]).shape[0] == 2


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


# -- analyzer, token_pattern, strip_accents ------------------------------------------------------

#: Chinese sentences (no spaces between words) about cats, dogs and the weather.
CHINESE = [
    "我喜欢猫",
    "我喜欢狗",
    "猫很可爱",
    "狗很可爱",
    "今天天气很好",
    "明天天气不好",
    "我的猫喜欢睡觉",
    "我的狗喜欢跑步",
    "今天下雨了",
    "明天会下雨吗",
]


@pytest.mark.parametrize(
    "options",
    [
        {"analyzer": "char", "ngram_range": (1, 2)},
        {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 2},
        {"token_pattern": r"(?u)\b\w+\b"},
        {"strip_accents": "unicode"},
        {"strip_accents": "ascii", "lowercase": False},
    ],
    ids=["char", "char_wb", "token_pattern", "unicode", "ascii"],
)
def test_vectorizer_text_options_are_scikit_learns(options):
    docs = [*CORPUS, "Café crème à la gare", "cafe creme, a gare", "I saw a cat"]
    est = TfidfBaseline(**options).fit(docs)
    ref = TfidfVectorizer(**options).fit(docs)
    assert est.get_params()[next(iter(options))] == options[next(iter(options))]  # verbatim
    assert list(est.get_feature_names_out()) == list(ref.get_feature_names_out())
    np.testing.assert_allclose(
        est.transform(docs).toarray(), ref.transform(docs).toarray(), atol=1e-6
    )


def test_character_ngrams_find_the_words_of_text_without_spaces():
    # The default analyzer makes one token of each run of characters: every Chinese sentence
    # is a word of its own, and the LSA of such a vocabulary relates no two sentences.
    words = TfidfBaseline().fit(CHINESE)
    assert sorted(words.get_feature_names_out()) == sorted(CHINESE)
    chars = TfidfBaseline(analyzer="char", ngram_range=(1, 2), dim=4).fit(CHINESE)
    names = set(chars.set_params(dim=None).get_feature_names_out())
    assert {"猫", "狗", "天气", "喜欢", "下雨"} <= names
    lsa = chars.set_params(dim=4).transform(CHINESE)
    sim = lsa @ lsa.T
    # "today the weather is good" is nearer "tomorrow the weather is bad" than "I like cats"
    assert sim[4, 5] > sim[4, 0] + 0.3
    # single characters are words too: a pattern that keeps them finds 猫 in "I like cats"
    single = TfidfBaseline(token_pattern=r"(?u)\b\w+\b").fit(["我 喜欢 猫", "猫 很 可爱"])
    assert "猫" in single.vectorizer_.vocabulary_


@pytest.mark.slow
def test_a_grid_over_analyzer_fits_each_analyzer_on_sms_spam(shared_data, monkeypatch):
    """A grid over analyzer must fit each one (the fit key holds it), and char_wb n-grams
    classify spam in a Pipeline (obfuscated words such as 'FR33' and 'txt' share n-grams)."""
    from sklearn.metrics import f1_score

    from skmrl.datasets import load_sms_spam

    texts, labels = load_sms_spam(shared_data)
    texts, labels = texts[:600], labels[:600]
    fits = []
    original = TfidfBaseline._fit_full
    monkeypatch.setattr(
        TfidfBaseline,
        "_fit_full",
        lambda self, *a: fits.append(self.analyzer) or original(self, *a),
    )
    pipe = Pipeline(
        [
            ("tfidfbaseline", TfidfBaseline(dim=32, max_dim=32, ngram_range=(1, 3))),
            ("clf", LogisticRegression(class_weight="balanced")),
        ]
    )
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = GridSearchCV(
        pipe, {"tfidfbaseline__analyzer": ["word", "char_wb"]}, cv=cv, scoring="f1"
    ).fit(texts, labels)
    assert sorted(fits) == ["char_wb"] * 4 + ["word"] * 3  # 3 folds each, and the refit
    scores = dict(zip(["word", "char_wb"], grid.cv_results_["mean_test_score"], strict=True))
    assert scores["char_wb"] > 0.8  # 15% spam: always "spam" scores F1 0.26
    assert scores["word"] != scores["char_wb"]
    assert grid.best_params_ == {"tfidfbaseline__analyzer": "char_wb"}
    predicted = grid.predict(texts[:300])
    assert f1_score(labels[:300], predicted) > 0.8


def _words(doc: str) -> list[str]:
    return doc.lower().split()


def test_a_callable_analyzer_is_keyed_by_its_code(tmp_path, monkeypatch):
    fits = []
    original = TfidfBaseline._fit_full
    monkeypatch.setattr(
        TfidfBaseline, "_fit_full", lambda self, *a: fits.append(1) or original(self, *a)
    )
    est = TfidfBaseline(dim=4, max_dim=8, analyzer=_words).fit(CORPUS)
    ref = TfidfVectorizer(analyzer=_words).fit(CORPUS)
    assert list(est.set_params(dim=None).get_feature_names_out()) == list(
        ref.get_feature_names_out()
    )
    assert "a" in est.vectorizer_.vocabulary_  # the default token pattern would drop it
    # Another function, or the same code in another lambda: each is its own setting.
    chars = TfidfBaseline(dim=4, max_dim=8, analyzer=lambda d: list(d)).fit(CORPUS)
    assert len(fits) == 2 and chars.fingerprint_ != est.fingerprint_
    again = TfidfBaseline(dim=4, max_dim=8, analyzer=_words).fit(CORPUS)
    assert len(fits) == 2 and again.fingerprint_ == est.fingerprint_
    with pytest.raises(
        ValueError, match=r"changed since fit: analyzer=<function .*\(fit used <function _words"
    ):
        est.set_params(analyzer=lambda d: list(d)).transform(CORPUS[:2])
    est.set_params(analyzer=_words)
    # A lambda's fit goes to the disk cache too (joblib could not pickle the vectorizer that
    # held it: 'Unable to cache to disk: failed to pickle output', and every later fit
    # printed an EOFError traceback while loading what it had written), and comes back with
    # the estimator's own function.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = TfidfBaseline(dim=4, max_dim=8, memory=tmp_path, analyzer=lambda d: d.split())
        expected = first.fit(CORPUS).transform(CORPUS)
        clear_caches()
        second = TfidfBaseline(dim=4, max_dim=8, memory=tmp_path, analyzer=lambda d: d.split())
        np.testing.assert_allclose(second.fit(CORPUS).transform(CORPUS), expected, atol=1e-6)
    assert len(fits) == 3  # the second came from the disk
    assert second.vectorizer_.analyzer is second.analyzer


def test_a_callable_strip_accents_is_used_after_a_cached_fit():
    def no_accents(doc: str) -> str:
        return doc.replace("é", "e")

    docs = ["café au lait", "cafe noir", "thé vert", "the noir"]
    est = TfidfBaseline(dim=2, strip_accents=no_accents).fit(docs)
    np.testing.assert_allclose(est.transform(["café"]), est.transform(["cafe"]), atol=1e-6)
    assert "the" in est.set_params(dim=None).get_feature_names_out()


def test_an_analyzer_changed_after_fit_asks_for_a_refit():
    est = TfidfBaseline(analyzer="char_wb").fit(CORPUS).set_params(analyzer="word")
    with pytest.raises(
        ValueError, match=r"changed since fit: analyzer='word' \(fit used 'char_wb'"
    ):
        est.get_feature_names_out()
    with pytest.raises(ValueError, match="changed since fit: token_pattern="):
        TfidfBaseline(dim=2).fit(CORPUS).set_params(token_pattern=r"\w+").transform(CORPUS[:1])


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        # TfidfVectorizer's own messages, which are clear
        ({"analyzer": "chars"}, ValueError, r"'analyzer' parameter .* must be a str among"),
        ({"strip_accents": "yes"}, ValueError, r"'strip_accents' parameter .* must be a str"),
        ({"token_pattern": 3}, TypeError, r"'token_pattern' parameter .* must be an instance"),
        ({"token_pattern": r"(\w)(\w)"}, ValueError, "More than 1 capturing group"),
        # translated: re.error "missing ), unterminated subpattern at position 0", and
        # "TypeError: first argument must be string or compiled pattern"
        (
            {"token_pattern": "(\\w+"},
            ValueError,
            r"token_pattern='\(\\\\w\+' is not a valid regular",
        ),
        ({"token_pattern": None}, ValueError, r"token_pattern=None leaves analyzer='word' no way"),
    ],
)
def test_bad_text_options_are_refused_in_fit(options, error, match):
    with pytest.raises(error, match=match):
        TfidfBaseline(**options).fit(CORPUS)


def test_token_pattern_is_not_needed_by_the_character_analyzers():
    est = TfidfBaseline(analyzer="char_wb", token_pattern=None).fit(CORPUS)
    assert est.get_params()["token_pattern"] is None
    with pytest.warns(UserWarning, match="'token_pattern' will not be used"):
        TfidfBaseline(analyzer="char", token_pattern="(").fit(CORPUS)


@pytest.mark.parametrize(
    "options",
    [{"analyzer": "char_wb", "ngram_range": (2, 4)}, {"analyzer": _words, "dim": None}],
    ids=["char_wb", "callable"],
)
def test_text_options_keep_the_published_checks(options):
    from skmrl.utils.estimator_checks import check_embedder

    check_embedder(TfidfBaseline(max_dim=16, **options))


class _LabelledTfidf(TfidfBaseline):
    """A user's subclass in scikit-learn's style: its ``fit`` records the classes, then fits."""

    def fit(self, X, y=None):
        self.classes_ = np.unique(y)
        return super().fit(X, y)


def test_a_subclass_keeps_what_its_fit_sets_before_the_state():
    # A refit drops the attributes of an earlier state that the new one lacks; it dropped every
    # fitted attribute outside the state, so a subclass's classes_, set before super().fit, was
    # gone after every fit.
    emb = _LabelledTfidf(max_dim=4).fit(CORPUS, [i % 2 for i in range(len(CORPUS))])
    assert emb.classes_.tolist() == [0, 1]
    emb.set_params(sublinear_tf=True).fit(CORPUS, [i % 3 for i in range(len(CORPUS))])
    assert emb.classes_.tolist() == [0, 1, 2] and emb.sublinear_tf


def test_sparse_output_of_no_documents_has_the_vocabulary_width():
    # dim=None sent [] to TfidfTransformer, which refuses 0 rows ("Found array with 0
    # sample(s)"); every dim and every other embedder gives an empty matrix of its width.
    emb = TfidfBaseline(max_dim=8).fit(CORPUS)
    out = emb.transform([])
    assert sp.issparse(out)
    assert out.shape == (0, len(emb.vectorizer_.vocabulary_))
    assert out.dtype == emb.transform(CORPUS[:1]).dtype
    assert emb.set_params(dim=4).transform([]).shape == (0, 4)


def test_the_empty_vocabulary_of_strip_accents_ascii_names_it():
    # Its advice (a one-character token pattern, or characters) fails after 'ascii' too, which
    # dropped every character of the texts
    chinese = ["我喜欢猫", "我喜欢狗", "猫很可爱"]
    for params in ({}, {"analyzer": "char"}, {"token_pattern": r"(?u)\b\w+\b"}):
        with pytest.raises(ValueError, match=r"empty vocabulary: .*strip_accents='ascii' drops"):
            TfidfBaseline(strip_accents="ascii", **params).fit(chinese)
    assert TfidfBaseline(strip_accents="unicode", analyzer="char").fit(chinese).max_dim_ == 3
    # an ASCII text's empty vocabulary is not for that advice
    with pytest.raises(ValueError, match="empty vocabulary") as info:
        TfidfBaseline(strip_accents="ascii", stop_words="english").fit(["the and of", "it is"])
    assert "strip_accents" not in str(info.value)


def test_stop_words_as_a_set_tuple_or_array():
    # ENGLISH_STOP_WORDS | {"cat"} (a frozenset) and a column's words were refused by
    # scikit-learn's check, which takes a list only
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    for words in (ENGLISH_STOP_WORDS | {"cat"}, ("the", "cat"), np.array(["the", "cat"])):
        vocabulary = TfidfBaseline(stop_words=words).fit(CORPUS).vectorizer_.vocabulary_
        assert "cat" not in vocabulary and "the" not in vocabulary and "mat" in vocabulary


def test_a_stop_words_list_edited_after_fit_changes_no_one_elses_vectors():
    # The shared fitted vectorizer held the user's list and read it at transform: after
    # stops.append("cat"), another estimator with ["the"] got "cat" dropped from the cache
    clear_caches()
    stops = ["the"]
    TfidfBaseline(stop_words=stops).fit(CORPUS)
    stops.append("cat")
    served = TfidfBaseline(stop_words=["the"]).fit(CORPUS)
    clear_caches()
    fresh = TfidfBaseline(stop_words=["the"]).fit(CORPUS)
    assert served.vectorizer_.stop_words == ["the"]
    np.testing.assert_array_equal(
        served.transform(["the cat purred"]).toarray(),
        fresh.transform(["the cat purred"]).toarray(),
    )


def test_every_component_of_a_small_vocabulary_on_a_large_corpus(monkeypatch):
    # Past the dense SVD's size, TruncatedSVD took n_terms - 1 components: a vocabulary of
    # full rank lost one, and a dim of its rank was refused as "rank n_terms - 1"
    import skmrl.tfidf

    docs = [" ".join(words) for words in zip(CORPUS, CORPUS[3:] + CORPUS[:3], strict=True)]
    exact = TfidfBaseline(max_features=12, max_dim=64).fit(docs)
    clear_caches()
    monkeypatch.setattr(skmrl.tfidf, "_EXACT_SVD_MAX_ENTRIES", 10)
    large = TfidfBaseline(max_features=12, max_dim=64).fit(docs)
    assert large.max_dim_ == exact.max_dim_ == 12  # full rank
    np.testing.assert_allclose(large.singular_values_, exact.singular_values_, rtol=1e-5)
    np.testing.assert_allclose(
        large.set_params(dim=12).transform(docs),
        exact.set_params(dim=12).transform(docs),
        atol=1e-5,
    )
    # and a state cached on disk by the earlier decomposition is not served: the key changed
    key = large._fit_key(docs, None)
    monkeypatch.setattr(skmrl.tfidf, "_SVD_REVISION", 1)
    assert large._fit_key(docs, None) != key
