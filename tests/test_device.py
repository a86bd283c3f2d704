"""Device and precision resolution (skmrl._torch.device), on this machine's real hardware."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from skmrl._torch.device import (  # noqa: E402
    autocast_dtype,
    available_devices,
    check_device_spec,
    check_precision_spec,
    resolve_device,
    resolve_precision,
)

from ._interleave import crossed_blocks  # noqa: E402


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("auto", "auto"), ("CPU", "cpu"), (" cuda ", "cuda"), ("cuda:1", "cuda:1"), ("mps", "mps")],
)
def test_device_forms(spec, expected):
    assert check_device_spec(spec) == expected


def test_torch_device_objects_are_accepted():
    assert check_device_spec(torch.device("cpu")) == "cpu"
    assert check_device_spec(torch.device("cuda", 1)) == "cuda:1"
    # A tensor's device on a Mac is torch.device("mps", 0), "mps:0" as a string: it was
    # refused as "not understood", so device=tensor.device failed there. It is the one MPS.
    assert check_device_spec(torch.device("mps", 0)) == "mps"
    assert check_device_spec("MPS:0") == "mps"
    with pytest.raises(ValueError, match="expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"):
        check_device_spec("mps:1")
    # torch.device("cpu", 0), a valid torch.device, was refused as "not understood": the CPU
    assert check_device_spec(torch.device("cpu", 0)) == "cpu"
    assert check_device_spec("cpu:1") == "cpu"


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "cuda0", "tpu", "", "cpu:", "cpux"])
def test_bad_device_strings(spec):
    with pytest.raises(ValueError, match="expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"):
        check_device_spec(spec)


@pytest.mark.parametrize("spec", [None, 0, 1.5, ["cpu"]])
def test_non_string_devices(spec):
    with pytest.raises(TypeError, match="device must be a string"):
        check_device_spec(spec)


def test_an_int_device_is_named_in_its_cuda_form():
    # device=0 (torch's and transformers pipelines' GPU index) was refused as "must be a
    # string", which did not say how to write GPU 0, nor that a torch.device is taken too.
    with pytest.raises(
        TypeError, match=r"or a torch\.device, got int \(1\); for GPU 1, device='cuda:1'"
    ):
        check_device_spec(1)
    with pytest.raises(TypeError) as info:
        check_device_spec(True)  # a bool is no GPU index
    assert "for GPU" not in str(info.value)
    # -1 is transformers pipelines' CPU
    with pytest.raises(TypeError, match=r"got int \(-1\); for the CPU, device='cpu'$"):
        check_device_spec(-1)
    with pytest.raises(TypeError) as info:
        check_device_spec(-2)
    assert "for the CPU" not in str(info.value) and "for GPU" not in str(info.value)


def test_auto_picks_cuda_then_mps_then_cpu():
    available = available_devices()
    assert available[0] == "cpu"
    resolved = resolve_device("auto")
    if torch.cuda.is_available():
        assert resolved == "cuda:0"
    elif "mps" in available:
        assert resolved == "mps"
    else:
        assert resolved == "cpu"


def test_unavailable_devices_list_what_is_available():
    missing = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match=r"not available on this machine; available: 'cpu'"):
        resolve_device(missing)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            resolve_device("cuda")
    if "mps" not in available_devices():
        with pytest.raises(ValueError, match="not available"):
            resolve_device("mps")


def test_precision():
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert autocast_dtype("fp32") is None
    assert autocast_dtype("fp16") is torch.float16
    for bad in ["fp8", "FP32", None, 16]:
        with pytest.raises(ValueError, match="precision"):
            check_precision_spec(bad)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_precision_auto_is_half():
    assert resolve_device("cuda") == "cuda:0"
    assert resolve_precision("auto", "cuda:0") in ("fp16", "bf16")


def test_auto_precision_takes_fp16_where_bf16_is_only_emulated(monkeypatch):
    # torch's is_bf16_supported() says True on any CUDA GPU (emulation included): a T4 or a
    # V100 got slow emulated bf16 by default instead of fp16.
    import contextlib

    import torch

    from skmrl._torch.device import resolve_precision

    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    for native, expected in ((False, "fp16"), (True, "bf16")):
        monkeypatch.setattr(
            torch.cuda,
            "is_bf16_supported",
            lambda including_emulation=True, native=native: native or including_emulation,
        )
        assert resolve_precision("auto", "cuda:0") == expected


def test_bf16_warns_on_a_gpu_that_emulates_it(monkeypatch):
    # precision="bf16" on a T4 or a V100 (bf16 emulated: slow) said nothing, where the same
    # choice on a CPU that emulates bf16 warns. The question is asked of the GPU used (cuda:1
    # here), not of the current one.
    import contextlib
    import warnings

    native_on = {"cuda:0": True, "cuda:1": False}
    current = ["cuda:0"]

    @contextlib.contextmanager
    def on_device(device):
        before, current[0] = current[0], str(device)
        try:
            yield
        finally:
            current[0] = before

    def is_bf16_supported(including_emulation=True):
        return including_emulation or native_on[current[0]]

    monkeypatch.setattr(torch.cuda, "device", on_device)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    with pytest.warns(UserWarning, match=r"precision='bf16': this GPU \(cuda:1\) has no native"):
        assert resolve_precision("bf16", "cuda:1") == "bf16"
    assert resolve_precision("auto", "cuda:1") == "fp16"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("bf16", "cuda:0") == "bf16"
        assert resolve_precision("auto", "cuda:0") == "bf16"
        assert resolve_precision("fp16", "cuda:1") == "fp16"


def test_bf16_warns_on_a_cpu_that_emulates_it():
    # With oneDNN held to AVX2 (as on a CPU without AVX-512), bf16 ran 3-7x slower than fp32,
    # and precision="bf16" said nothing about it.
    import os
    import platform
    import subprocess
    import sys

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("ONEDNN_MAX_CPU_ISA=AVX2 stands for a CPU without bf16 on x86 only")
    code = (
        "import torch, warnings\n"
        "from skmrl._torch.device import resolve_precision\n"
        "print(torch.ops.mkldnn._is_mkldnn_bf16_supported())\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    assert resolve_precision('bf16', 'cpu') == 'bf16'\n"
        "    assert resolve_precision('fp32', 'cpu') == 'fp32'\n"
        "print(len(caught), caught[0].message if caught else '')\n"
    )
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    native, warned = result.stdout.splitlines()
    if native == "True":
        pytest.skip("this torch ignores ONEDNN_MAX_CPU_ISA")
    assert warned.startswith("1 precision='bf16': this CPU has no native bf16 support")
    assert "use precision='fp32'" in warned


def test_bf16_is_quiet_on_a_cpu_with_it():
    import warnings

    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("this CPU has no native bf16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("bf16", "cpu") == "bf16"


def _new_thread_torch_threads() -> int:
    """torch's thread count in a thread started now (what new threads begin with)."""
    import threading

    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


def test_one_torch_thread_blocks_of_two_threads_that_overlap_restore_the_count():
    # Thread A runs a one-thread block (an adaptor's training, MatryoshkaSearch's threads over
    # query batches, word2vec, an encoding's workers), thread B starts and runs one while A's
    # runs, A's ends first, then B's. B began with A's 1 (torch sets the count of threads
    # started later too) and restored it: every thread started since ran one torch thread.
    from skmrl._torch.device import one_torch_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen: dict[str, int] = {}

    def inside_b():
        seen["b"] = torch.get_num_threads()  # still one within B's block

    try:
        crossed_blocks(one_torch_thread, inside_b)
        assert seen == {"b": 1}
        assert _new_thread_torch_threads() == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_half_precision_on_mps_asks_torch_for_autocast(monkeypatch):
    # pyproject admits torch 2.2, whose torch.autocast refuses device_type="mps" (RuntimeError,
    # deep in the first forward pass), and a release (or a macOS before 14) that knows MPS but
    # not the dtype warns and runs in fp32; both are now refused before any work, naming the
    # way out. The torches imitated here do not touch the installed one's MPS autocast.
    import types
    import warnings

    from skmrl._torch.device import _mps_autocast_problem

    real = torch.autocast
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("auto", "mps") == "fp32"  # nothing to ask
        if _mps_autocast_problem("bf16") is None:  # the installed torch autocasts on MPS
            assert resolve_precision("bf16", "mps") == "bf16"

    def old_torch(device_type, dtype=None, **kwargs):
        if device_type == "mps":
            raise RuntimeError("User specified an unsupported autocast device_type 'mps'")
        return real(device_type, dtype=dtype, **kwargs)

    monkeypatch.setattr(torch, "autocast", old_torch)
    with pytest.raises(ValueError, match=r"precision='fp16' on MPS: .*unsupported autocast"):
        resolve_precision("fp16", "mps")
    assert resolve_precision("bf16", "cpu") == "bf16"  # other devices are not asked

    def bf16_only(device_type, dtype=None, **kwargs):
        if device_type != "mps":
            return real(device_type, dtype=dtype, **kwargs)
        if dtype is not torch.bfloat16:  # what such a torch does: warn, disable autocast
            warnings.warn(
                "In MPS autocast, but the target dtype is not supported. Disabling autocast.\n"
                "MPS Autocast only supports dtype of torch.bfloat16 currently.",
                UserWarning,
                stacklevel=2,
            )
        return types.SimpleNamespace(_enabled=dtype is torch.bfloat16)

    monkeypatch.setattr(torch, "autocast", bf16_only)
    assert resolve_precision("bf16", "mps") == "bf16"
    with pytest.raises(ValueError, match=r"fp16.*Autocast only supports.*'fp32' or 'auto'"):
        resolve_precision("fp16", "mps")
