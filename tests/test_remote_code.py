"""Model folders that hold their own Python code (an ``auto_map`` in config.json, as
nomic-embed-text, jina-embeddings and gte-*-v1.5 have): refused in one line without
``trust_remote_code=True``, never with transformers' interactive prompt; run with it, through
fitting, pickles, fine-tuning, saving and the command line. Small random models, no network."""

from __future__ import annotations

import builtins
import json
import pickle
import warnings
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
    with pytest.warns(UserWarning, match="names its own code, which was not trusted"):
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
    # a class: "got a loaded type: save it with model.save_pretrained(folder)"
    for cls in (transformers.BertModel, MatryoshkaEmbedder):
        with pytest.raises(TypeError, match=rf"^model must .* got the class {cls.__name__}$"):
            MatryoshkaEmbedder(model=cls).fit(TEXTS)


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
    # without the flag: one line, in the command's spelling, with the option checks (exit 2;
    # in this process: no second start)
    args = ["embed", str(tmp_path / "t.txt"), "-o", str(tmp_path / "w.npy"), "--model"]
    with pytest.raises(SystemExit) as exc:
        main([*args, custom_bert, "--device", "cpu", "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        f"skmrl embed: error: argument --model: model={custom_bert!r} holds custom code"
    )
    assert "runs only with --trust-remote-code, and that runs" in err[-1]
    assert not (tmp_path / "w.npy").exists()


# A custom fast tokenizer that reverses each text's words: other token ids than the tokenizer
# transformers loads without trust, so which one ran shows in the vectors.
_TOKENIZATION = """from transformers import PreTrainedTokenizerFast


class XTokenizerFast(PreTrainedTokenizerFast):
    def __call__(self, text, *args, **kwargs):
        def reverse(t):
            return " ".join(t.split()[::-1])

        text = [reverse(t) for t in text] if isinstance(text, list) else reverse(text)
        return super().__call__(text, *args, **kwargs)
"""


def save_custom_tokenizer_bert(folder: Path) -> str:
    """A random BERT without custom model code whose tokenizer_config.json names its own
    tokenizer (``auto_map`` ``AutoTokenizer``): untrusted, transformers loads its own."""
    save_random_bert(folder)
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["auto_map"] = {"AutoTokenizer": [None, "tokenization_x.XTokenizerFast"]}
    config["tokenizer_class"] = "XTokenizerFast"
    path.write_text(json.dumps(config))
    (folder / "tokenization_x.py").write_text(_TOKENIZATION)
    return str(folder)


def test_a_custom_tokenizer_is_in_the_identity(tmp_path, no_prompt):
    # Only the model's and its config's classes were in the identity: a trusted load (the
    # folder's XTokenizerFast) and an untrusted one (transformers' tokenizer) had one identity,
    # so one's vectors, cached in the process or on disk (memory=), were served to the other.
    folder = save_custom_tokenizer_bert(tmp_path / "custom-tokenizer")
    trusted = load_model(folder, trust_remote_code=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = load_model(folder)
    assert type(trusted.tokenizer).__name__ == "XTokenizerFast"
    assert type(plain.tokenizer).__name__ != "XTokenizerFast"
    assert trusted.identity != plain.identity
    # and the untrusted load says which code it left out
    [warned] = [str(w.message) for w in caught]
    assert (
        f"{type(plain.tokenizer).__name__} ran in place of tokenization_x.py (the auto_map of "
        "tokenizer_config.json)"
    ) in warned
    memory = tmp_path / "memory"
    texts = ["cats run here", "dogs fell there"]
    out = {}
    for trust in (True, False):
        emb = MatryoshkaEmbedder(folder, device="cpu", trust_remote_code=trust, memory=memory)
        out[trust] = emb.fit(texts).transform(texts)
    assert np.abs(out[True] - out[False]).max() > 1e-3
    clear_model_cache()  # from the disk cache now
    again = MatryoshkaEmbedder(folder, device="cpu", memory=memory).fit(texts).transform(texts)
    np.testing.assert_allclose(again, out[False], atol=1e-6)
    assert no_prompt == []


def test_an_edited_helper_file_is_a_new_identity(tmp_path, no_prompt):
    # modeling_x.py imports helper_x.py (as jina-embeddings-v3's modeling_lora.py imports other
    # files): only the class's file was hashed, so an edited helper kept the identity, and
    # memory= served the vectors of the old code to a new process.
    import inspect

    from skmrl.models import weights_identity

    folder = Path(save_custom_code_bert(tmp_path / "helper-model"))
    (folder / "helper_x.py").write_text("def post(h):\n    return h\n")
    modeling = (folder / "modeling_x.py").read_text()
    modeling = modeling.replace(
        "from .configuration_x import XConfig",
        "from .configuration_x import XConfig\nfrom .helper_x import post",
    ).replace(
        "        return out",
        "        out['last_hidden_state'] = post(out['last_hidden_state'])\n        return out",
    )
    (folder / "modeling_x.py").write_text(modeling)
    loaded = load_model(str(folder), trust_remote_code=True)
    # the folder transformers loaded the class from: the class file and what it imports
    helper = Path(inspect.getfile(type(loaded.model))).parent / "helper_x.py"
    assert helper.is_file()
    before = helper.read_bytes()
    try:
        helper.write_text("def post(h):\n    return h.roll(3, -1)\n")
        edited = weights_identity(loaded.model, loaded.tokenizer)
    finally:
        helper.write_bytes(before)
    assert edited != loaded.identity
    assert weights_identity(loaded.model, loaded.tokenizer) == loaded.identity  # stable
    assert no_prompt == []


def test_a_jina_like_folder_warns_once_that_its_code_was_not_run(tmp_path, no_prompt):
    # transformers' BertModel ran in place of the folder's code without a word when the
    # weights fit (the missing-weights warning alone named the code, when they did not).
    folder = save_custom_code_bert(tmp_path / "jina-like", model_type="bert")
    with pytest.warns(UserWarning) as caught:
        MatryoshkaEmbedder(model=folder, device="cpu").fit(TEXTS)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert messages[0].startswith(
        f"model={folder!r} names its own code, which was not trusted, so not run: "
        "transformers' BertModel ran in place of configuration_x.py, modeling_x.py (the "
        "auto_map of config.json)"
    )
    assert "trust_remote_code=True runs the model's own code" in messages[0]
    assert caught[0].filename == __file__
    with warnings.catch_warnings():  # once per model
        warnings.simplefilter("error")
        clear_model_cache()
        MatryoshkaEmbedder(model=folder, device="cpu").fit(TEXTS)
        # trusted: its code runs, nothing to say
        MatryoshkaEmbedder(model=folder, device="cpu", trust_remote_code=True).fit(TEXTS)
    assert no_prompt == []


def test_code_of_another_repository_missing_offline_is_said(tmp_path, monkeypatch, no_prompt):
    # "could not load ... We couldn't connect to 'https://huggingface.co' ... A model folder
    # holds config.json, the weights ... and the tokenizer files", of a folder that held them.
    from skmrl.models import ModelNotFoundError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = Path(save_random_bert(tmp_path / "remote-code"))
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "other-org/other-repo--modeling_x.XModel"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotFoundError) as caught:
        load_model(str(folder), trust_remote_code=True)
    message = str(caught.value)
    assert message.startswith(
        f"could not load model={str(folder)!r}: the auto_map of its config names code kept in "
        "another repository, other-org/other-repo (modeling_x.py), which the local Hugging "
        "Face cache does not hold"
    )
    assert "HF_HUB_OFFLINE=0" in message and "A model folder holds" not in message


def test_a_model_without_custom_code_is_loaded_once_for_both_settings(tmp_path):
    # The process cache was keyed on trust_remote_code even for a model that names no code of
    # its own: MiniLM (or any folder) was loaded twice, for the same classes.
    folder = save_random_bert(tmp_path / "plain")
    assert load_model(folder) is load_model(folder, trust_remote_code=True)


def test_the_commands_refuse_untrusted_code_with_their_options(custom_bert, tmp_path, capsys):
    # sweep trained and scored word2vec first, embed read the texts, finetune described its
    # plan: then the library refused. Now: with the other option checks, before any work.
    from skmrl.cli import main

    (tmp_path / "t.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text(
        "text,label\n" + "".join(f"{t},{i % 2}\n" for i, t in enumerate(TEXTS * 4)),
        encoding="utf-8",
    )
    data = str(tmp_path / "t.csv")
    commands = {
        "embed": ["embed", str(tmp_path / "t.txt"), "-o", str(tmp_path / "v.npy")],
        "sweep": ["sweep", data, "--text-col", "text", "--label-col", "label", "--dims", "8"],
        "finetune": ["finetune", data, "--text-col", "text", "--method", "pca", "-o",
                     str(tmp_path / "out")],
    }  # fmt: skip
    for name, args in commands.items():
        with pytest.raises(SystemExit) as exc:
            main([*args, "--model", custom_bert, "--no-progress"])
        assert exc.value.code == 2, name
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == (
            f"skmrl {name}: error: argument --model: model={custom_bert!r} holds custom code "
            "(the auto_map of config.json names configuration_x.py, modeling_x.py), which skmrl "
            "runs only with --trust-remote-code, and that runs the model's own Python code on "
            "this machine: pass it only for a model you trust"
        ), name
    assert not (tmp_path / "v.npy").exists() and not (tmp_path / "out").exists()
    # the library's rule: a model whose model_type transformers knows is not refused
    from skmrl.cli._common import custom_code_problem

    jina_like = save_custom_code_bert(tmp_path / "jina-like", model_type="bert")
    assert custom_code_problem(jina_like, False) is None
    assert custom_code_problem(custom_bert, True) is None
    assert custom_code_problem(save_custom_tokenizer_bert(tmp_path / "tok"), False) is None


def test_custom_code_that_needs_a_package_not_installed_is_said_in_one_line(tmp_path, no_prompt):
    # nomic-embed's code imports einops: trusted without it installed, the load ended in
    # transformers' ImportError 14 frames deep.
    import shutil

    folder = tmp_path / "needs-a-package"
    shutil.copytree(save_custom_code_bert(tmp_path / "base"), folder)
    modeling = (folder / "modeling_x.py").read_text()
    (folder / "modeling_x.py").write_text("import skmrl_no_such_package\n" + modeling)
    with pytest.raises(
        FileNotFoundError, match=r"its own code .* needs a package that is not installed: .*"
        r"skmrl_no_such_package"
    ) as info:  # fmt: skip
        MatryoshkaEmbedder(str(folder), trust_remote_code=True, device="cpu").fit(TEXTS)
    assert info.value.__cause__ is None and info.value.__context__ is not None


def test_an_import_error_that_is_not_the_codes_keeps_its_own_words(custom_bert, no_prompt):
    # Every ImportError of a trusted load was said to be the model's code needing a package:
    # attn_implementation="flash_attention_2" without flash-attn installed too.
    with pytest.raises(ImportError) as info:
        load_model(custom_bert, device="cpu", trust_remote_code=True,
                   attn_implementation="flash_attention_2")  # fmt: skip
    assert "its own code" not in str(info.value) and "FlashAttention" in str(info.value)
