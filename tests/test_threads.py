"""skmrl used from several threads at once (a web server's threads, joblib's threading backend,
dask's threaded scheduler): the results are those of one thread.

Where a race decides the outcome, the test forces the interleaving (events, a function patched
to wait inside the critical section), so that it never passes by luck on code that has it.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from skmrl import MatryoshkaEmbedder, TfidfBaseline, clear_caches
from skmrl.cache import cached_fit_state
from skmrl.models import load_model

from ._interleave import crossed_blocks

WORDS = "the quick brown fox jumps over a lazy dog and runs away from the old cat".split()


def _long_texts(n: int, seed: int) -> list[str]:
    """Texts of 30-80 words: longer than the shorter max_length below."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(30, 80)))) for _ in range(n)]


def _hold_first_call(tokenizer, monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Make the tokenizer's first call wait, once it has set its truncation and before it
    tokenizes, until a second call has set its own (at most 1.5 s: in vain where calls are
    serialised). Returns the events (first call set, second call set)."""
    original = tokenizer.set_truncation_and_padding
    calls = itertools.count()
    first_set, second_set = threading.Event(), threading.Event()

    def held(*args, **kwargs):
        original(*args, **kwargs)
        if next(calls) == 0:
            first_set.set()
            second_set.wait(timeout=1.5)
        else:
            second_set.set()

    monkeypatch.setattr(tokenizer, "set_truncation_and_padding", held)
    return first_set, second_set


def test_two_embedders_sharing_a_tokenizer_keep_their_own_max_length(tiny_bert, monkeypatch):
    """Two embedders of one model share its tokenizer (skmrl.models loads it once), whose
    truncation transformers sets on the object before each call. Thread A's call is held
    between setting its truncation (max_length=8) and tokenizing until thread B has set its own
    (64): unserialised, A tokenized with B's 64 and cached those vectors as its own."""
    texts_a, texts_b = _long_texts(20, 0), _long_texts(20, 1)
    short = MatryoshkaEmbedder(model=tiny_bert, max_length=8, progress=False).fit(texts_a)
    long = MatryoshkaEmbedder(model=tiny_bert, max_length=64, progress=False).fit(texts_b)
    want_a, want_b = short.transform(texts_a), long.transform(texts_b)
    clear_caches()  # encode again, in two threads

    a_set, b_set = _hold_first_call(load_model(tiny_bert).tokenizer, monkeypatch)
    got: dict[str, np.ndarray] = {}
    thread = threading.Thread(target=lambda: got.update(a=short.transform(texts_a)))
    thread.start()
    try:
        assert a_set.wait(timeout=30)
        got["b"] = long.transform(texts_b)
    finally:
        b_set.set()
        thread.join()
    np.testing.assert_array_equal(got["a"], want_a)
    np.testing.assert_array_equal(got["b"], want_b)


def test_a_fit_reading_the_tokenizer_leaves_another_threads_truncation(
    tiny_bert, tmp_path, monkeypatch
):
    """fit asks the tokenizer of a sentence-transformers model with do_lower_case whether it
    lowercases (a call without truncation, which turns it off on the shared object); held as
    above, another thread's encoding at max_length=8 tokenized every token of its texts."""
    folder = tmp_path / "st-model"
    shutil.copytree(tiny_bert, folder)
    (folder / "modules.json").write_text(
        json.dumps([{"type": "sentence_transformers.models.Transformer", "path": ""}])
    )
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 64, "do_lower_case": True})
    )
    texts = _long_texts(20, 0)
    short = MatryoshkaEmbedder(model=str(folder), max_length=8, progress=False).fit(texts)
    want = short.transform(texts)
    clear_caches()

    a_set, b_set = _hold_first_call(load_model(str(folder)).tokenizer, monkeypatch)
    got: dict[str, np.ndarray] = {}
    thread = threading.Thread(target=lambda: got.update(a=short.transform(texts)))
    thread.start()
    try:
        assert a_set.wait(timeout=30)
        MatryoshkaEmbedder(model=str(folder), max_length=64).fit(texts)
    finally:
        b_set.set()
        thread.join()
    np.testing.assert_array_equal(got["a"], want)


def _second_call_awaited(function):
    """``function`` counting its calls, the first of which waits (at most 1.5 s) for a second
    call to begin: a second thread that is not made to wait for the first one's result calls
    it meanwhile. Returns the wrapper and its list of calls."""
    calls: list[int] = []
    second = threading.Event()

    def wrapper(*args, **kwargs):
        calls.append(len(calls))
        if len(calls) == 1:
            second.wait(timeout=1.5)
        else:
            second.set()
        return function(*args, **kwargs)

    return wrapper, calls


def test_threads_fitting_one_state_at_once_compute_it_once():
    """A second thread asking for a state while the first computes it gets the first one's
    (GridSearchCV over dim under joblib's threading backend fitted each fold once per grid
    point in flight: 9 fits where one thread makes 3)."""
    compute, calls = _second_call_awaited(lambda: {"max_dim_": 4})
    got: list[dict] = []
    threads = [
        threading.Thread(target=lambda: got.append(cached_fit_state("threads-key", compute)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert got[0] is got[1]


def test_two_threads_fitting_alike_share_one_fit(monkeypatch):
    """The same through an estimator: two threads fitting one setting on one corpus fit once
    and share the fitted state, as two fits in turn do."""
    fit_full, calls = _second_call_awaited(TfidfBaseline._fit_full)
    monkeypatch.setattr(TfidfBaseline, "_fit_full", fit_full)
    texts = _long_texts(30, 0)
    embedders = [TfidfBaseline(max_dim=8), TfidfBaseline(max_dim=8, dim=4)]
    threads = [threading.Thread(target=e.fit, args=(texts,)) for e in embedders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert embedders[0].components_ is embedders[1].components_


def _new_thread_torch_threads() -> int:
    """torch's thread count in a thread started now (what new threads begin with)."""
    import torch

    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


def _in_a_thread_first_using_torch_in_another_threads_block(work):
    """Run ``work()`` in a thread whose first torch call fell in another thread's one-thread
    block (so that it took that block's 1), after that block has ended; returns the thread's
    count at that first call and what ``work`` returned."""
    import torch

    from skmrl._torch.device import one_torch_thread

    a_in, a_release, b_seen = threading.Event(), threading.Event(), threading.Event()
    out: dict = {}

    def a():
        with one_torch_thread():
            a_in.set()
            a_release.wait(30)

    def b():
        assert a_in.wait(30)
        out["first"] = torch.get_num_threads()
        b_seen.set()
        blocker.join(30)  # A's block has ended: no block is in progress
        out["work"] = work()

    blocker, thread = threading.Thread(target=a), threading.Thread(target=b)
    blocker.start()
    thread.start()
    try:
        b_seen.wait(30)
    finally:
        a_release.set()
        thread.join(60)
    return out["first"], out["work"]


@pytest.fixture
def two_torch_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_block_in_a_thread_started_in_another_block_restores_two(two_torch_threads):
    """Such a thread ran a one-thread block of its own (an adaptor's fit, word2vec, a parallel
    encoding) alone: it saved its 1 as the count to restore, so it and every thread started
    since ran one torch thread (4 threads fitting adaptors from a pool of 2 left the process so
    in 1 of 3 runs)."""
    import torch

    from skmrl._torch.device import one_torch_thread

    def work():
        with one_torch_thread():
            pass
        return torch.get_num_threads()

    first, after = _in_a_thread_first_using_torch_in_another_threads_block(work)
    assert first == 1  # what torch gave the thread
    assert after == 2
    assert _new_thread_torch_threads() == 2
    assert torch.get_num_threads() == 2


def test_an_encoding_in_a_thread_started_in_another_block_uses_the_cores(
    tiny_bert, two_torch_threads
):
    """Such a thread encoding alone chose torch.get_num_threads() workers: 1, without the
    parallel workers and their block, so it kept one torch thread for good."""
    import torch

    from skmrl._torch.encoder import encode

    loaded = load_model(tiny_bert)
    texts = _long_texts(40, 0)

    def work():
        encode(texts, loaded.model, loaded.tokenizer, batch_size=4, progress=False)
        return torch.get_num_threads()

    first, after = _in_a_thread_first_using_torch_in_another_threads_block(work)
    assert first == 1
    assert after == 2


def test_two_fine_tunings_in_threads_give_their_seeds_weights(tiny_bert, monkeypatch):
    """fine_tune="full" seeds torch's generator, which every thread shares (dropout draws from
    it). The first training is held, seeded, until the second has reached the same point (at
    most 1.5 s): unserialised, each drew from the other's seeded stream, and gave other weights
    than its seed alone, and the process's generator was left as the other had seeded it."""
    import torch

    import skmrl._torch.training as training

    texts = _long_texts(40, 0)

    def fit(seed: int) -> MatryoshkaEmbedder:
        return MatryoshkaEmbedder(
            tiny_bert, fine_tune="full", device="cpu", epochs=1, random_state=seed
        ).fit(texts)

    want = [fit(seed).transform(texts) for seed in (0, 1)]
    clear_caches()
    state = torch.random.get_rng_state()

    lr_lambda, calls = _second_call_awaited(training._lr_lambda)
    monkeypatch.setattr(training, "_lr_lambda", lr_lambda)
    got: dict[int, np.ndarray] = {}
    threads = [
        threading.Thread(target=lambda s=seed: got.update({s: fit(s).transform(texts)}))
        for seed in (0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 2
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert torch.equal(torch.random.get_rng_state(), state)


_OVERLAPPING_ADAPTOR_FITS = """
import itertools, threading
import numpy as np
import threadpoolctl
import skmrl._torch.adaptor as torch_adaptor
from skmrl import MatryoshkaAdaptor

def blas_threads():
    return sorted({i["num_threads"] for i in threadpoolctl.threadpool_info()
                   if i["user_api"] == "blas"})

a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
pca_basis, calls = torch_adaptor.pca_basis, itertools.count()

def held(*args, **kwargs):  # within each fit's one-thread block: A begins, B begins, A ends
    if next(calls) == 0:
        a_in.set()
        assert b_in.wait(30)
    else:
        b_in.set()
        assert a_out.wait(30)
    return pca_basis(*args, **kwargs)

torch_adaptor.pca_basis = held
Z = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)

def fit(learning_rate, done=None):
    try:
        MatryoshkaAdaptor(epochs=1, n_neighbors=0, learning_rate=learning_rate).fit(Z)
    finally:
        if done is not None:
            done.set()

print("before", blas_threads())
a = threading.Thread(target=fit, args=(1e-3, a_out))
b = threading.Thread(target=fit, args=(2e-3,))
a.start()
assert a_in.wait(30)
b.start()
a.join()
b.join()
print("after", blas_threads())
"""


def test_adaptor_fits_in_threads_that_overlap_restore_the_blas_threads():
    """An adaptor's fit runs with one BLAS thread, a count of the whole process. Fit A began,
    then fit B, A ended, then B: B had saved A's 1 and set it back at its end, leaving NumPy's
    BLAS at one thread for the rest of the process (4 fits from a pool of 2 threads did so).
    In a new process, with 2 BLAS threads: OpenBLAS 0.3.31 lets threads set its count only
    until the main thread has set it (as other tests' threadpool_limits do)."""
    pytest.importorskip("threadpoolctl")
    pytest.importorskip("torch")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    run = subprocess.run(
        [sys.executable, "-c", _OVERLAPPING_ADAPTOR_FITS],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    if lines["before"] != "[2]":
        pytest.skip(f"no BLAS library that threadpoolctl sees at 2 threads: {lines['before']}")
    assert lines["after"] == "[2]"


def test_a_training_on_three_threads_beside_a_one_thread_block_restores_two(
    tiny_bert, two_torch_threads, monkeypatch
):
    """finetune_encoder(threads=3) set torch's count itself and restored what it saw: thread
    T's training sets 3 (for threads started later too), thread A's one-thread block begins
    and saves that 3 as the count to restore, T ends (restoring 2), then A ends, leaving every
    thread started since at 3 torch threads."""
    import torch

    import skmrl._torch.training as training
    from skmrl._torch.device import one_torch_thread

    loaded = load_model(tiny_bert)
    t_in, a_in, t_out = threading.Event(), threading.Event(), threading.Event()
    lr_lambda = training._lr_lambda

    def held(*args, **kwargs):  # within the training's thread count
        t_in.set()
        assert a_in.wait(30)
        return lr_lambda(*args, **kwargs)

    monkeypatch.setattr(training, "_lr_lambda", held)
    errors: list[BaseException] = []

    def t():
        try:
            training.finetune_encoder(
                loaded.model, loaded.tokenizer, texts=_long_texts(8, 0), dims=[4],
                max_length=16, batch_size=4, threads=3, progress=False,
            )  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            t_out.set()

    def a():
        try:
            assert t_in.wait(30)
            with one_torch_thread():
                a_in.set()
                assert t_out.wait(60)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            a_in.set()

    threads = [threading.Thread(target=f) for f in (t, a)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not errors
    assert _new_thread_torch_threads() == 2
    assert torch.get_num_threads() == 2


def test_an_adaptor_fit_leaves_a_seeded_stream_in_another_thread(monkeypatch):
    """fit_rotation made its layer within torch.random.fork_rng, which restores the process's
    generator at its end: a seeded training in another thread (dropout draws from that
    generator) that drew meanwhile was rewound and drew the same numbers again. The fit is
    held in the layer's construction until the other thread has drawn."""
    import torch
    from torch import nn

    from skmrl._torch.adaptor import fit_rotation

    a_in, b_drew = threading.Event(), threading.Event()
    reset, calls = nn.Linear.reset_parameters, itertools.count()

    def held(self):
        if next(calls) == 0:
            a_in.set()
            b_drew.wait(timeout=1.5)  # in vain where the fit no longer waits here
        return reset(self)

    monkeypatch.setattr(nn.Linear, "reset_parameters", held)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        want = torch.rand(2, 4)
    Z = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    errors: list[BaseException] = []

    def a():
        try:
            fit_rotation(Z, [4], epochs=1, n_neighbors=0, progress=False)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            a_in.set()

    thread = threading.Thread(target=a)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        thread.start()
        try:
            a_in.wait(timeout=30)
            first = torch.rand(4)
        finally:
            b_drew.set()
            thread.join(60)
        second = torch.rand(4)
    assert not errors
    torch.testing.assert_close(torch.stack([first, second]), want, rtol=0, atol=0)


def test_a_save_beside_a_load_gives_the_users_transformers_logging_back():
    # Both silence transformers (its verbosity and progress bars are the process's) and each
    # set back what it found when it began: a save whose block began within a load's, and ended
    # after it, found the load's silence and kept it, so the user's transformers warnings and
    # bars were gone for the rest of the process. The blocks are interleaved with events.
    from transformers.utils import logging as hf_logging

    from skmrl._model_checks import quiet_transformers

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_info()
    hf_logging.enable_progress_bar()

    def inside_the_save():  # the load's block has ended
        assert hf_logging.get_verbosity() == hf_logging.ERROR  # still silenced

    try:
        crossed_blocks(quiet_transformers, inside_the_save)  # a load, then a save
        assert hf_logging.get_verbosity() == hf_logging.INFO
        assert hf_logging.is_progress_bar_enabled()
    finally:
        hf_logging.set_verbosity(verbosity)
        (hf_logging.enable_progress_bar if bars else hf_logging.disable_progress_bar)()


@pytest.mark.parametrize("case", ["hub bars off", "hub bars on alone", "a group off", "unset"])
def test_a_quiet_block_gives_back_the_hub_bars_and_the_logger_level_as_found(case):
    # transformers' disable/enable_progress_bar switch huggingface_hub's bars for the process:
    # a user's hub bars turned off came back on (and on ones, off), a group turned off was
    # forgotten; and the logger's level left unset (following the root's) came back as WARNING
    import importlib
    import logging

    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as hf_logging

    from skmrl._model_checks import quiet_transformers

    states = importlib.import_module("huggingface_hub.utils.tqdm").progress_bar_states
    logger = logging.getLogger("transformers")
    saved = dict(states), hf_logging.is_progress_bar_enabled(), logger.level
    try:
        if case == "hub bars off":
            hub_utils.disable_progress_bars()
        elif case == "hub bars on alone":
            hf_logging.disable_progress_bar()
            hub_utils.enable_progress_bars()
        elif case == "a group off":
            hub_utils.disable_progress_bars("huggingface_hub.http_get")
        else:
            logger.setLevel(logging.NOTSET)
        before = dict(states), hf_logging.is_progress_bar_enabled(), logger.level
        with quiet_transformers():
            assert hf_logging.get_verbosity() == hf_logging.ERROR
        assert (dict(states), hf_logging.is_progress_bar_enabled(), logger.level) == before
    finally:
        states.clear()
        states.update(saved[0])
        (hf_logging.enable_progress_bar if saved[1] else hf_logging.disable_progress_bar)()
        states.clear()
        states.update(saved[0])
        logger.setLevel(saved[2])


def test_two_threads_first_using_one_fine_tuned_encoder_build_it_once(tiny_bert, monkeypatch):
    """Two threads first transforming one fine-tuned estimator each built its encoder (the
    model's memory twice, two objects for one identity); the first build now waits at its end
    (at most 1.5 s) for a second one to begin, which only unserialised builds do."""
    from skmrl import _model_identity
    from skmrl.models import load_fine_tuned

    base = load_model(tiny_bert, device="cpu")
    weights = {name: t.clone() for name, t in base.model.state_dict().items()}
    register, calls = _second_call_awaited(_model_identity.register_fine_tuned)
    monkeypatch.setattr(_model_identity, "register_fine_tuned", register)
    got: list = []
    threads = [
        threading.Thread(target=lambda: got.append(load_fine_tuned(base, weights, "one identity")))
        for _ in range(2)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(calls) == 1
        assert len(got) == 2 and got[0] is got[1]
    finally:
        _model_identity.forget_fine_tuned()


def test_a_thread_limit_of_the_users_holds_through_encoding_and_fits(tiny_bert, two_torch_threads):
    """threadpoolctl's threadpool_limits(1), scikit-learn's way against oversubscription, sets
    the main thread's torch count to 1, which was taken for another block's leftover: the
    encoding ran 2 workers, and the count was 2 after it and after a fit, inside the limit."""
    import warnings

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    from skmrl import MatryoshkaAdaptor
    from skmrl._torch.encoder import encode

    if not any(info["user_api"] == "openmp" for info in threadpool_info()):
        pytest.skip("torch runs without OpenMP here: threadpool_limits does not reach it")
    loaded = load_model(tiny_bert)
    with threadpool_limits(limits=1):
        if torch.get_num_threads() != 1:
            pytest.skip("threadpool_limits does not set torch's count here")
        encode(_long_texts(20, 0), loaded.model, loaded.tokenizer, batch_size=4, progress=False)
        assert torch.get_num_threads() == 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few vectors
            MatryoshkaAdaptor(epochs=1).fit(np.random.default_rng(0).normal(size=(40, 8)))
        assert torch.get_num_threads() == 1
        assert _new_thread_torch_threads() == 2  # what threads take is left as it was
    assert torch.get_num_threads() == 2


def test_the_main_threads_first_fit_during_another_threads_keeps_the_cores():
    """The main thread's first torch call, during another thread's one-thread block, takes
    that block's 1: kept as the user's own limit, the main thread ran one thread for good."""
    code = (
        "import threading, warnings\n"
        "import numpy as np\n"
        "warnings.simplefilter('ignore')\n"
        "from skmrl import MatryoshkaAdaptor\n"
        "from skmrl._torch.device import one_torch_thread\n"
        "inside, release = threading.Event(), threading.Event()\n"
        "def other():\n"
        "    with one_torch_thread():\n"
        "        inside.set()\n"
        "        release.wait(60)\n"
        "t = threading.Thread(target=other)\n"
        "t.start()\n"
        "inside.wait(60)\n"
        "X = np.random.default_rng(0).normal(size=(200, 16)).astype('float32')\n"
        "MatryoshkaAdaptor(epochs=1).fit(X)\n"  # the main thread's first torch work
        "release.set()\n"
        "t.join()\n"
        "import torch\n"
        "out = []\n"
        "n = threading.Thread(target=lambda: out.append(torch.get_num_threads()))\n"
        "n.start(); n.join()\n"
        "print(torch.get_num_threads(), out[0])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    main, new_thread = proc.stdout.split()
    if new_thread == "1":
        pytest.skip("one core: a thread takes one torch thread anyway")
    assert main == new_thread
