"""Model folders that hold their own Python code (an ``auto_map`` in config.json, as
nomic-embed-text, jina-embeddings and gte-*-v1.5 have): refused in one line without
``trust_remote_code=True``, never with transformers' interactive prompt; run with it, through
fitting, pickles, fine-tuning, saving and the command line. Small random models, no network."""

from __future__ import annotations

import builtins
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from skmrl import MatryoshkaEmbedder  # noqa: E402
from skmrl.models import clear_model_cache, load_model  # noqa: E402

from ._models import save_random_bert  # noqa: E402

TEXTS = ["a cat sat on the mat", "the dog ran home", "stocks fell sharply"]

_CONFIGURATION = """from transformers import BertConfig


class XConfig(BertConfig):
    model_type = "{model_type}"
"""
# The custom model reverses each token vector: its vectors differ from transformers' BertModel
# on the same weights, so which code ran shows in them.
_MODELING = """from transformers import BertModel

from .configuration_x import XConfig


class XModel(BertModel):
    config_class = XConfig

    def forward(self, *args, **kwargs):
        out = super().forward(*args, **kwargs)
        out["last_hidden_state"] = out["last_hidden_state"].flip(-1)
        return out
"""


def save_custom_code_bert(folder: Path, model_type: str = "xbert") -> str:
    """A random BERT whose config.json names custom code (``auto_map``) held in the folder.

    ``model_type="xbert"``, unknown to transformers, needs the code (as nomic's ``nomic_bert``);
    ``"bert"`` does not: without trust transformers runs its own BertModel (as jina v2).
    """
    save_random_bert(folder)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "configuration_x.XConfig", "AutoModel": "modeling_x.XModel"}
    config["model_type"] = model_type
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_x.py").write_text(_CONFIGURATION.format(model_type=model_type))
    (folder / "modeling_x.py").write_text(_MODELING)
    return str(folder)


@pytest.fixture(scope="module")
def custom_bert(tmp_path_factory) -> str:
    return save_custom_code_bert(tmp_path_factory.mktemp("xbert"))


@pytest.fixture
def no_prompt(monkeypatch):
    """Record every call of ``input``: transformers' "Do you wish to run the custom code?"."""
    asked: list[str] = []

    def refuse(prompt: str = "") -> str:
        asked.append(prompt)
        raise AssertionError("asked on stdin")  # transformers turns this into its ValueError

    monkeypatch.setattr(builtins, "input", refuse)
    return asked


def trusted_reference(folder: str, texts: list[str]) -> np.ndarray:
    """Plain transformers with ``trust_remote_code=True``: masked mean of the token vectors,
    L2-normalised (the embedder's default)."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    model = transformers.AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_custom_code_is_refused_in_one_line_without_a_prompt(custom_bert, no_prompt):
    # transformers asked "Do you wish to run the custom code? [y/N]" on stdin (15 s in a
    # terminal, for ever in a notebook), and skmrl then said it "could not load" the folder,
    # listing what a model folder holds, which it held.
    with pytest.raises(ValueError) as caught:
        MatryoshkaEmbedder(model=custom_bert, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert no_prompt == []
    assert "\n" not in message
    assert message == (
        f"model={custom_bert!r} holds custom code (the auto_map of config.json names "
        "configuration_x.py, modeling_x.py), which skmrl runs only with trust_remote_code=True, "
        "and that runs the model's own Python code on this machine: pass it only for a model "
        "you trust"
    )
    with pytest.raises(TypeError, match="trust_remote_code must be a bool"):
        MatryoshkaEmbedder(model=custom_bert, device="cpu", trust_remote_code="yes").fit(TEXTS)


def test_trusted_custom_code_embeds_as_transformers_does(custom_bert, no_prompt):
    emb = MatryoshkaEmbedder(model=custom_bert, device="cpu", trust_remote_code=True)
    assert emb.get_params()["trust_remote_code"] is True
    out = emb.fit(TEXTS).transform(TEXTS)
    assert type(load_model(custom_bert, trust_remote_code=True).model).__name__ == "XModel"
    np.testing.assert_allclose(out, trusted_reference(custom_bert, TEXTS), atol=1e-5)
    # a pickle loads the model again, trusting it as the pickled embedder did
    again = pickle.loads(pickle.dumps(emb))
    clear_model_cache()
    assert again.trust_remote_code is True
    np.testing.assert_allclose(again.transform(TEXTS), out, atol=1e-6)
    assert no_prompt == []


def test_trusted_and_untrusted_loads_of_one_folder_are_not_confused(tmp_path, no_prompt):
    # A folder whose model_type transformers knows ("bert", as jina-embeddings-v2) loads without
    # trust as transformers' BertModel, and with it as the folder's XModel: other vectors of the
    # same weights. Neither load (the process's model cache) nor vectors (the embedding cache,
    # keyed by the model's identity) may be served for the other.
    folder = save_custom_code_bert(tmp_path / "jina-like", model_type="bert")
    plain = MatryoshkaEmbedder(model=folder, device="cpu").fit(TEXTS)
    plain_out = plain.transform(TEXTS)
    trusted = MatryoshkaEmbedder(model=folder, device="cpu", trust_remote_code=True).fit(TEXTS)
    trusted_out = trusted.transform(TEXTS)
    assert plain.model_identity_ != trusted.model_identity_
    np.testing.assert_allclose(trusted_out, trusted_reference(folder, TEXTS), atol=1e-5)
    np.testing.assert_allclose(trusted_out, plain_out[:, ::-1], atol=1e-5)  # XModel reverses
    assert np.abs(trusted_out - plain_out).max() > 1e-2
    # fitted again, each gets its own vectors back
    again = MatryoshkaEmbedder(model=folder, device="cpu").fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(again, plain_out, atol=1e-6)
    # and a fine-tuned state is keyed by it too
    pca = MatryoshkaEmbedder(model=folder, device="cpu", fine_tune="pca")
    trusted_pca = MatryoshkaEmbedder(
        model=folder, device="cpu", fine_tune="pca", trust_remote_code=True
    )
    docs = TEXTS * 12
    assert pca.fit(docs).fingerprint_ != trusted_pca.fit(docs).fingerprint_
    assert no_prompt == []


def test_save_pretrained_keeps_the_custom_code(custom_bert, tmp_path, no_prompt):
    docs = [f"{w} {v}" for w in ("cats", "dogs", "stocks", "rain") for v in ("run", "fell", "sat")]
    docs *= 4
    emb = MatryoshkaEmbedder(
        model=custom_bert, device="cpu", fine_tune="pca", trust_remote_code=True
    ).fit(docs)
    saved = tmp_path / "saved"
    emb.save_pretrained(saved)
    assert (saved / "modeling_x.py").is_file() and (saved / "configuration_x.py").is_file()
    assert json.loads((saved / "config.json").read_text())["auto_map"]["AutoModel"] == (
        "modeling_x.XModel"
    )
    reloaded = MatryoshkaEmbedder(model=saved, device="cpu", trust_remote_code=True).fit(docs)
    np.testing.assert_allclose(reloaded.transform(docs), emb.transform(docs), atol=1e-5)
    with pytest.raises(ValueError, match="holds custom code"):
        MatryoshkaEmbedder(model=saved, device="cpu").fit(docs)
    assert no_prompt == []


def test_a_loaded_model_object_is_refused_by_its_type_in_one_line():
    # The message held the module's repr: "BertModel(\n  (embeddings): ...", hundreds of lines.
    config = transformers.BertConfig(
        hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8
    )
    with pytest.raises(TypeError) as caught:
        MatryoshkaEmbedder(model=transformers.BertModel(config)).fit(TEXTS)
    assert str(caught.value) == (
        "model must be a model folder path or a model name (str), got a loaded BertModel: save "
        "it with model.save_pretrained(folder) (and its tokenizer with "
        "tokenizer.save_pretrained(folder)), then pass model=folder"
    )
    with pytest.raises(TypeError, match=r"^model must be .* \(str\), got list$"):
        MatryoshkaEmbedder(model=["a", "b"]).fit(TEXTS)


@pytest.mark.slow
def test_cli_trust_remote_code(skmrl_cmd, custom_bert, tmp_path, capsys):
    from skmrl.cli import main

    (tmp_path / "t.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    out = skmrl_cmd(
        "embed", "t.txt", "-o", "v.npy", "--model", custom_bert, "--device", "cpu",
        "--trust-remote-code", "--no-progress",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    expected = MatryoshkaEmbedder(model=custom_bert, device="cpu", trust_remote_code=True)
    np.testing.assert_allclose(
        np.load(tmp_path / "v.npy"), expected.fit(TEXTS).transform(TEXTS), atol=1e-5
    )
    # without the flag: one line, in the command's spelling (in this process: no second start)
    args = ["embed", str(tmp_path / "t.txt"), "-o", str(tmp_path / "w.npy"), "--model"]
    assert main([*args, custom_bert, "--device", "cpu", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"skmrl embed: error: model={custom_bert!r} holds custom code")
    assert "runs only with --trust-remote-code, and that runs" in err[-1]
    assert not (tmp_path / "w.npy").exists()
