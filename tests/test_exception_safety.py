"""A call that fails half-way (a Ctrl-C in a notebook, an error in batch 7) and is run again.

An exception is injected at a point inside the work (the encoder's batch loop, the adaptor's
and word2vec's training loops, a fitted state's computation) on its Nth call. Afterwards the
same call gives what a clean run gives (no partial entry in a cache), the estimator is either
unfitted (``NotFittedError``) or keeps its earlier fit whole, and the process is as it was
(torch's threads, random state and grad mode, BLAS/OpenMP threads, progress bars, locks).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skmrl import MatryoshkaAdaptor, MatryoshkaEmbedder, MatryoshkaSearch, TfidfBaseline
from skmrl.cache import clear_caches, get_embedding_cache

torch = pytest.importorskip("torch")


def _fail_on_call(monkeypatch, target, name, nth, exc):
    """Make ``target.name`` raise ``exc`` on its ``nth`` call (the others run it)."""
    original = getattr(target, name)
    calls = [0]

    def failing(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth:
            raise exc("injected")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def _process_state():
    from threadpoolctl import threadpool_info
    from tqdm.auto import tqdm

    return {
        "torch threads": torch.get_num_threads(),
        "native threads": sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info()),
        "grad": torch.is_grad_enabled(),
        "rng": torch.random.get_rng_state().clone(),
        "open bars": len(getattr(tqdm, "_instances", ())),
    }


def _assert_restored(before):
    after = _process_state()
    assert torch.equal(after.pop("rng"), before["rng"])
    assert after == {k: v for k, v in before.items() if k != "rng"}


def _assert_locks_free():
    """skmrl's process-wide locks can be taken by another thread (none was left held)."""
    from skmrl import _fit_cache, models
    from skmrl._torch import device, encoder, training

    locks = [_fit_cache._FIT_LOCK, models._LOAD_LOCK, encoder.TOKENIZER_LOCK, training._SEEDED_LOCK]
    locks += [device._ONE_THREAD_LOCK, get_embedding_cache()._lock]
    for lock in locks:
        taken = []

        def take(lock=lock, taken=taken):
            if lock._lock.acquire(timeout=5):
                taken.append(True)
                lock._lock.release()

        thread = threading.Thread(target=take)
        thread.start()
        thread.join(10)
        assert taken, lock
    assert not len(_fit_cache._FIT_KEYS)  # no key's lock left
    assert device._torch_blocks == 0


@pytest.fixture
def texts(bbc_news):
    docs, _ = bbc_news
    return [d[:400] for d in docs[::97][:24]]


def _cases(tiny_bert):
    from skmrl import Word2VecEmbedder
    from skmrl._torch import encoder, losses, sgns

    return {
        "encoder batch": (
            lambda: MatryoshkaEmbedder(
                tiny_bert, dim=16, device="cpu", batch_size=2, progress=True
            ),
            encoder,
            "_forward",
            3,
        ),
        "word2vec training": (
            lambda: Word2VecEmbedder(dim=8, max_dim=16, min_count=1, epochs=2, device="cpu"),
            sgns,
            "_apply",
            3,
        ),
        "tfidf fitted state": (
            lambda: TfidfBaseline(dim=8, max_dim=16),
            TfidfBaseline,
            "_fit_full",
            1,
        ),
        "adaptor training": (
            lambda: MatryoshkaEmbedder(
                tiny_bert, dim=8, device="cpu", fine_tune="adaptor", epochs=1, progress=True
            ),
            losses,
            "nested_loss",
            2,
        ),
    }


@pytest.mark.filterwarnings("ignore:word2vec trains on only:UserWarning")
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize(
    "case", ["encoder batch", "word2vec training", "tfidf fitted state", "adaptor training"]
)
def test_a_failed_fit_transform_runs_again_as_a_clean_one(monkeypatch, tiny_bert, texts, case, exc):
    make, target, name, nth = _cases(tiny_bert)[case]
    clear_caches()
    clean = make().fit(texts).transform(texts)
    clear_caches()
    before = _process_state()
    estimator = make()
    with monkeypatch.context() as patch:
        calls = _fail_on_call(patch, target, name, nth, exc)
        with pytest.raises(exc, match="injected"):
            estimator.fit(texts).transform(texts)
    assert calls[0] >= nth  # word2vec's two tables are updated in two threads
    _assert_restored(before)
    _assert_locks_free()
    if "fingerprint_" not in vars(estimator):  # the fit failed: nothing half-fitted is used
        with pytest.raises(NotFittedError):
            estimator.transform(texts)
    np.testing.assert_array_equal(estimator.fit(texts).transform(texts), clean)
    np.testing.assert_array_equal(make().fit(texts).transform(texts), clean)


def _vectors(docs):
    return TfidfBaseline(dim=32, max_dim=32).fit_transform(docs)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_an_adaptor_whose_fit_failed_is_left_as_it_was(monkeypatch, bbc_news, exc):
    """The checks of ``X`` set ``n_features_in_`` before the training: a failed fit left it
    describing the new ``X`` beside the earlier rotation (or beside none)."""
    from skmrl._torch import losses

    Z = _vectors(list(bbc_news[0][:96]))
    wider = np.hstack([Z, Z[:, :8]])
    make = lambda: MatryoshkaAdaptor(dim=8, epochs=2, batch_size=8)  # noqa: E731
    with monkeypatch.context() as patch:
        _fail_on_call(patch, losses, "nested_loss", 2, exc)
        never_fitted = make()
        with pytest.raises(exc, match="injected"):
            never_fitted.fit(Z)
    with pytest.raises(NotFittedError):  # was an AttributeError (max_dim_)
        never_fitted.transform(Z)
    assert "n_features_in_" not in vars(never_fitted)

    adaptor = make().fit(Z)
    expected = adaptor.transform(Z)
    with monkeypatch.context() as patch:
        _fail_on_call(patch, losses, "nested_loss", 2, exc)
        with pytest.raises(exc, match="injected"):
            adaptor.fit(wider)
    assert adaptor.n_features_in_ == Z.shape[1]  # was the failed fit's 40
    np.testing.assert_array_equal(adaptor.transform(Z), expected)
    with pytest.raises(ValueError, match="features"):
        adaptor.transform(wider)
    # a fit refused by its checks (rows of zeros) keeps the earlier fit too
    with pytest.raises(ValueError, match="non-zero rows"):
        adaptor.fit(np.zeros_like(wider))
    np.testing.assert_array_equal(adaptor.transform(Z), expected)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_a_search_whose_refit_failed_keeps_its_earlier_index(monkeypatch, bbc_news, exc):
    """A refit interrupted while embedding the new corpus left the new corpus's embedder beside
    the old corpus's vectors: queries embedded by one were searched in the other, silently."""
    docs, _ = bbc_news
    first, second, queries = list(docs[:80]), list(docs[1000:1080]), list(docs[2000:2005])
    make = lambda: MatryoshkaSearch(TfidfBaseline(max_dim=32), shortlist_dim=8)  # noqa: E731
    expected = make().fit(first).kneighbors(queries, n_neighbors=3)

    search = make().fit(first)
    with monkeypatch.context() as patch:
        _fail_on_call(patch, TfidfBaseline, "_transform_full", 1, exc)
        with pytest.raises(exc, match="injected"):
            search.fit(second)
    got = search.kneighbors(queries, n_neighbors=3)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[0], expected[0])

    never_fitted = make()
    clear_caches()  # else the first corpus's vectors are found in the cache
    with monkeypatch.context() as patch:
        _fail_on_call(patch, TfidfBaseline, "_transform_full", 1, exc)
        with pytest.raises(exc, match="injected"):
            never_fitted.fit(first)
    with pytest.raises(NotFittedError):
        never_fitted.kneighbors(queries)


def test_texts_whose_encoding_failed_are_not_counted_as_computed(tiny_bert, texts, monkeypatch):
    from skmrl._torch import encoder

    clear_caches()
    cache = get_embedding_cache()
    embedder = MatryoshkaEmbedder(tiny_bert, device="cpu", batch_size=2).fit(texts)
    with monkeypatch.context() as patch:
        _fail_on_call(patch, encoder, "_forward", 3, KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            embedder.transform(texts)
    assert (cache.hits, cache.misses, len(cache)) == (0, 0, 0)
    embedder.transform(texts)
    assert (cache.hits, cache.misses) == (0, len(set(texts)))
