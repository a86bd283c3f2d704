"""The process-wide caches of skmrl.models: loaded models, and the fine-tuned encoders shared by
their weights' identity (kept in skmrl._model_identity, forgotten by clear_model_cache)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from skmrl.models import (  # noqa: E402
    clear_model_cache,
    load_fine_tuned,
    load_model,
    weights_identity,
)


def test_clear_model_cache_forgets_the_shared_fine_tuned_encoders(tiny_bert):
    # "the next use loads it again" holds for fine-tuned encoders too: they are rebuilt from
    # their weights, as in a new process, not served from before the clear.
    base = load_model(tiny_bert)
    weights = {name: t.clone() for name, t in base.model.state_dict().items()}
    identity = weights_identity(base.model, base.tokenizer)
    first = load_fine_tuned(base, weights, identity)
    assert load_fine_tuned(base, weights, identity) is first  # shared
    clear_model_cache()
    again = load_fine_tuned(load_model(tiny_bert), weights, identity)
    assert again is not first


def test_identity_does_not_change_when_the_tokenizer_is_used(tiny_bert):
    # A fast tokenizer's backend keeps the truncation and padding of its last call, and the
    # identity hashed them: after a transform at max_length=8, the same weights had another
    # identity, so a fine-tuned encoder's (its vectors' cache key) hung on what ran before it.
    base = load_model(tiny_bert)
    assert base.tokenizer.backend_tokenizer is not None  # a fast tokenizer: the case at hand
    before = weights_identity(base.model, base.tokenizer)
    assert before == base.identity
    base.tokenizer(["a cat sat on the mat today"], truncation=True, max_length=4, padding=True)
    assert weights_identity(base.model, base.tokenizer) == before
    base.tokenizer(["a cat"], truncation=True, max_length=16, padding="max_length")
    assert weights_identity(base.model, base.tokenizer) == before
