"""Device and precision resolution: ``device="auto"|"cpu"|"cuda"|"cuda:N"|"mps"``.

Parameters are checked for form without torch (:func:`check_device_spec`,
:func:`check_precision_spec`, usable in ``fit`` before anything heavy happens); they are resolved
against the hardware only when work starts (:func:`resolve_device`, :func:`resolve_precision`).
"""

from __future__ import annotations

import contextlib
import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from skmrl._threads import ForkSafeLock

__all__ = [
    "PRECISIONS",
    "autocast_dtype",
    "available_devices",
    "check_device_spec",
    "check_precision_spec",
    "grad_enabled",
    "one_torch_thread",
    "resolve_device",
    "resolve_precision",
    "torch_thread_block",
    "torch_threads",
]

#: Accepted values of ``precision``.
PRECISIONS = ("auto", "fp32", "fp16", "bf16")

_DEVICE_RE = re.compile(r"^(auto|cpu(:\d+)?|mps(:0)?|cuda(:\d+)?)$")
_DEVICE_FORMS = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


def check_device_spec(device: Any) -> str:
    """Check the form of a ``device`` parameter (no hardware probing, no torch import).

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (case-insensitive).

    Returns
    -------
    str
        The normalised spelling, e.g. ``"cuda:0"``.

    Raises
    ------
    TypeError
        When ``device`` is not a string or :class:`torch.device` (an int, torch's GPU index,
        is named in its ``"cuda:N"`` form).
    ValueError
        When the string is not one of the accepted forms.

    Examples
    --------
    >>> from skmrl._torch.device import check_device_spec
    >>> check_device_spec("CUDA:1")
    'cuda:1'
    >>> check_device_spec("mps:0")  # str(tensor.device) on a Mac
    'mps'
    >>> check_device_spec("cpu:0")  # torch.device("cpu", 0): the CPU
    'cpu'
    >>> check_device_spec("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device='gpu' is not understood; expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'
    """
    if type(device).__name__ == "device" and type(device).__module__.startswith("torch"):
        device = str(device)
    if not isinstance(device, str):
        # an int is torch's (and transformers pipelines') GPU index: say how to write it here
        index = isinstance(device, int) and not isinstance(device, bool)
        hint = ""
        if index and device >= 0:
            hint = f"; for GPU {device}, device='cuda:{device}'"
        elif index and device == -1:  # transformers pipelines' CPU
            hint = "; for the CPU, device='cpu'"
        raise TypeError(
            f"device must be a string ({_DEVICE_FORMS}) or a torch.device, got "
            f"{type(device).__name__} ({device!r}){hint}"
        )
    spec = device.strip().lower()
    if not _DEVICE_RE.match(spec):
        raise ValueError(f"device={device!r} is not understood; expected {_DEVICE_FORMS}")
    # "mps:0" is how torch names a tensor's device on a Mac (str(tensor.device)): the one MPS;
    # "cpu:0" (torch.device("cpu", 0)) is the CPU to torch, whatever its index
    if spec.startswith("cpu:"):
        return "cpu"
    return "mps" if spec == "mps:0" else spec


def check_precision_spec(precision: Any) -> str:
    """Check a ``precision`` parameter: one of ``"auto"``, ``"fp32"``, ``"fp16"``, ``"bf16"``.

    Examples
    --------
    >>> from skmrl._torch.device import check_precision_spec
    >>> check_precision_spec("bf16")
    'bf16'
    """
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(
            f"precision={precision!r} is not understood; expected one of "
            + ", ".join(repr(p) for p in PRECISIONS)
        )
    return precision


@contextlib.contextmanager
def grad_enabled() -> Iterator[None]:
    """Autograd on for a training block, whatever the caller's mode: a fit under the user's
    ``torch.no_grad()`` or ``torch.inference_mode()`` (or after ``torch.set_grad_enabled(False)``)
    failed 13-19 frames deep in autograd, "element 0 of tensors does not require grad"."""
    import torch

    with torch.inference_mode(False), torch.enable_grad():
        yield


def available_devices() -> list[str]:
    """The devices torch can use here, e.g. ``["cpu", "cuda:0", "cuda:1"]``.

    Examples
    --------
    >>> from skmrl._torch.device import available_devices
    >>> "cpu" in available_devices()
    True
    """
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(device: Any) -> str:
    """Resolve a ``device`` parameter against the hardware present.

    ``"auto"`` picks the first CUDA GPU, then Apple's MPS, then the CPU. ``"cuda"`` means
    ``"cuda:0"``.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    str
        A concrete device: ``"cpu"``, ``"cuda:N"`` or ``"mps"``.

    Raises
    ------
    ValueError
        When the device is not available here (the message lists what is).

    Examples
    --------
    >>> from skmrl._torch.device import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    spec = check_device_spec(device)
    available = available_devices()
    if spec == "auto":
        for candidate in available:
            if candidate.startswith("cuda"):
                return candidate
        return "mps" if "mps" in available else "cpu"
    if spec == "cuda":
        spec = "cuda:0"
    if spec not in available:
        raise ValueError(
            f"device={device!r} is not available on this machine; available: "
            + ", ".join(repr(d) for d in available)
            + " (or 'auto' to pick the best of them)"
        )
    return spec


def resolve_precision(precision: str, device: str) -> str:
    """Resolve ``precision`` for a concrete device.

    ``"auto"`` gives ``"bf16"`` on a CUDA GPU that supports it, else ``"fp16"`` on CUDA, and
    ``"fp32"`` on the CPU and on MPS. ``"fp16"`` on the CPU is refused: CPUs have no fast float16
    matrix kernels, and all-MiniLM-L6-v2 encoded 7.5x slower in fp16 than in bf16 (4x slower
    than fp32) on a 2-core AMD EPYC; bf16 is the CPU's reduced precision. ``"bf16"`` on a CPU
    that torch's oneDNN cannot run it on natively (no AVX-512 on x86: most laptops, AMD before
    Zen 4) warns: it is emulated there, and all-MiniLM-L6-v2 encoded 3-7x slower than in fp32
    with oneDNN held to AVX2 on the same EPYC. ``"bf16"`` on a CUDA GPU that only emulates it
    (before Ampere: a T4, a V100) warns too: ``"fp16"`` (or ``"auto"``) is the fast reduced
    precision there.

    Raises
    ------
    ValueError
        For ``"fp16"`` on the CPU, and for ``"bf16"`` or ``"fp16"`` on MPS with a torch that
        cannot autocast to it there (torch 2.2 has no autocast on MPS).

    Warns
    -----
    UserWarning
        For ``"bf16"`` on a CPU or a CUDA GPU without native bf16 support.

    Examples
    --------
    >>> from skmrl._torch.device import resolve_precision
    >>> resolve_precision("auto", "cpu")
    'fp32'
    >>> resolve_precision("fp16", "cpu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: precision='fp16' on the CPU is emulated and about 7x slower than bf16 ...
    """
    precision = check_precision_spec(precision)
    if precision == "fp16" and device == "cpu":
        raise ValueError(
            "precision='fp16' on the CPU is emulated and about 7x slower than bf16 (4x slower "
            "than fp32): use precision='bf16' (reduced precision on the CPU), 'fp32' or 'auto'; "
            "fp16 is for GPUs"
        )
    if precision == "bf16" and device == "cpu" and not _cpu_has_bf16():
        from skmrl._warn import caller_stacklevel

        warnings.warn(
            "precision='bf16': this CPU has no native bf16 support (torch's oneDNN needs "
            "AVX-512 on x86), so bf16 is emulated and encoding is several times slower than "
            "in fp32 (3-7x for all-MiniLM-L6-v2); use precision='fp32' or 'auto'",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    if precision == "bf16" and device.startswith("cuda") and not _cuda_has_bf16(device):
        from skmrl._warn import caller_stacklevel

        warnings.warn(
            f"precision='bf16': this GPU ({device}) has no native bf16 support (it came with "
            "Ampere; a T4 or a V100 emulates it), so bf16 is emulated and slow there; use "
            "precision='fp16' or 'auto' (which picks fp16 on such a GPU)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    if precision in ("bf16", "fp16") and device == "mps":
        problem = _mps_autocast_problem(precision)
        if problem is not None:
            import torch

            raise ValueError(
                f"precision={precision!r} on MPS: torch {torch.__version__} cannot autocast "
                f"to {precision} on this Mac ({problem}); use precision='fp32' or 'auto', or a "
                "torch (and macOS) that autocasts to it on MPS"
            )
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        # emulated bf16 (any GPU before Ampere: a T4, a V100) is slow: fp16 there
        return "bf16" if _cuda_has_bf16(device) else "fp16"
    return "fp32"


def _mps_autocast_problem(precision: str) -> str | None:
    """Why this torch cannot autocast to ``precision`` on MPS, or ``None`` when it can.

    pyproject admits torch 2.2, whose ``torch.autocast`` refuses ``device_type="mps"`` with a
    RuntimeError (autocast on MPS came with later releases, bf16 before fp16); a release that
    knows MPS but not the dtype warns and runs the block in fp32. Asked of ``torch.autocast``
    itself, which needs no MPS device to answer.
    """
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cast = torch.autocast(device_type="mps", dtype=autocast_dtype(precision))
        except RuntimeError as exc:
            return str(exc)
    if not getattr(cast, "_enabled", True):
        said = " ".join(str(w.message) for w in caught).replace("\n", " ").strip()
        return said or "autocast disabled"
    return None


def _cuda_has_bf16(device: str) -> bool:
    """Whether CUDA GPU ``device`` (``"cuda:N"``) runs bf16 natively, not by emulation."""
    import torch

    with torch.cuda.device(device):  # the question is about this GPU, not the current one
        try:
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:  # a torch without the argument checks for native support only
            return bool(torch.cuda.is_bf16_supported())


def _cpu_has_bf16() -> bool:
    """Whether torch runs bf16 natively on this CPU (oneDNN's own test: AVX-512 on x86, the
    bf16 extension on Arm); ``True`` when torch cannot tell."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def autocast_dtype(precision: str) -> Any:
    """The torch dtype to autocast to for a resolved precision (``None`` for fp32)."""
    import torch

    return {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


# torch_thread_block blocks in progress, in all threads, and torch's count before the first began.
# torch.set_num_threads sets the calling thread's count and the one that threads take at their
# first torch call: a block that simply restored what it saw when it began, in a thread started
# during another thread's block, saw that block's 1 and set it back for the whole process after
# the other had restored 2 (every thread started since ran one torch thread). The last block to
# end restores the count from before the first, as a thread started then would have taken it
# (not the count of the thread that begins it, which may be such a 1); a thread's outermost
# block gives it that count back too. The lock is fork-safe: a child forked while another thread
# held it (a DataLoader's worker, multiprocessing's fork) would wait on it for ever.
_ONE_THREAD_LOCK = ForkSafeLock()
_torch_blocks = 0
_torch_threads_before = 1
_THREAD = threading.local()  # .blocks: this thread's torch_thread_block blocks in progress


#: Whether the main thread's torch count is its own: decided when skmrl first sees the main
#: thread, as whether no block was then in progress in another thread (its first torch call
#: may have come during one, and taken that block's 1; else its count is the user's).
_main_count_own: bool | None = None


def _own_main_thread_count() -> bool:
    """Whether the calling thread is the main thread, with a count of its own: a 1 there is a
    limit of the user's (``torch.set_num_threads(1)``, threadpoolctl's ``threadpool_limits``),
    to keep, not another thread's block left over. Called under ``_ONE_THREAD_LOCK``."""
    global _main_count_own
    if threading.current_thread() is not threading.main_thread():
        return False
    if _main_count_own is None:
        _main_count_own = _torch_blocks == 0
    return _main_count_own


def _limit_this_thread(n_threads: int) -> None:
    """Give the calling thread ``n_threads`` OpenMP threads (torch's count, with its OpenMP
    backend) without changing the count that threads take: ``torch.set_num_threads`` sets
    both."""
    try:
        from threadpoolctl import ThreadpoolController

        ThreadpoolController().select(user_api="openmp").limit(limits=int(n_threads))
    except Exception:  # no threadpoolctl, or no OpenMP: the count as it is
        pass


def _new_thread_count() -> int:
    """The torch thread count that a thread started now takes (at its first torch call)."""
    import torch

    counts: list[int] = []
    probe = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
    try:
        probe.start()
    except RuntimeError:  # no new thread (at interpreter shutdown): this thread's count
        return torch.get_num_threads()
    probe.join()
    return counts[0]


def torch_threads() -> int:
    """This thread's torch thread count, for a default number of workers.

    A thread whose first torch call fell within another thread's :func:`one_torch_thread`
    block took that block's 1 and kept it (a web server's or a thread pool's thread that
    started encoding while another encoded): outside blocks of its own, such a thread is set
    back to the count a thread started now takes, once no block is in progress.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.device import torch_threads
    >>> torch_threads() == torch.get_num_threads()
    True
    """
    import torch

    own = torch.get_num_threads()
    if own != 1 or getattr(_THREAD, "blocks", 0):
        return own
    with _ONE_THREAD_LOCK:
        if _own_main_thread_count():
            # the main thread's 1 is the user's (torch.set_num_threads(1), or threadpoolctl's
            # threadpool_limits(1) against oversubscription): setting it back overrode it
            return own
        if _torch_blocks:  # its next block, or a later call, sets it back
            return own
        count = _new_thread_count()
        if count != own:
            torch.set_num_threads(count)
        return count


@contextlib.contextmanager
def one_torch_thread(enabled: bool = True) -> Iterator[None]:
    """Run the block with one torch intra-op thread, then restore the previous setting.

    For CPU work made of many small operations (or run in several threads side by side), where
    more intra-op threads cost more in synchronisation than they gain. ``enabled=False``
    leaves the count as it is. See :func:`torch_thread_block`, which this runs with 1.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.device import one_torch_thread
    >>> before = torch.get_num_threads()
    >>> with one_torch_thread():
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if not enabled:
        yield
        return
    with torch_thread_block(1):
        yield


@contextlib.contextmanager
def torch_thread_block(n_threads: int) -> Iterator[None]:
    """Run the block with ``n_threads`` torch intra-op threads, then restore the count.

    torch's count is the calling thread's, but setting it also sets the count that threads
    take at their first torch call. Blocks of several threads may overlap (one thread's
    one-thread encoding or adaptor fit, another's training on 2 threads): each thread's
    outermost block gives it the count from before the first block began (as a thread started
    then took it), the last block to end restores that count for the process, and a block
    within a block of the same thread gives back the count of the enclosing one. A block that
    simply restored what it saw when it began left the process at another block's count for
    good: a thread that first used torch during another's block began with that block's 1,
    and a block begun during a training on 3 threads took 3 as the count to restore.

    Parameters
    ----------
    n_threads : int
        torch's intra-op threads for the calling thread within the block.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.device import torch_thread_block
    >>> before = torch.get_num_threads()
    >>> with torch_thread_block(3):
    ...     torch.get_num_threads()
    3
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    global _torch_blocks, _torch_threads_before
    depth = getattr(_THREAD, "blocks", 0)
    with _ONE_THREAD_LOCK:
        current = torch.get_num_threads()  # torch takes this thread's count now, if not yet
        if _torch_blocks == 0:
            _torch_threads_before = _new_thread_count()
        # the main thread's own count (a threadpool_limits(1) of the user's) is its own; another
        # thread's outermost block gives it the count threads take (see above)
        own = current if depth or _own_main_thread_count() else _torch_threads_before
        _torch_blocks += 1
        torch.set_num_threads(int(n_threads))
    _THREAD.blocks = depth + 1
    try:
        yield
    finally:
        _THREAD.blocks = depth
        with _ONE_THREAD_LOCK:
            _torch_blocks -= 1
            torch.set_num_threads(own if _torch_blocks else _torch_threads_before)
            if not _torch_blocks and own != _torch_threads_before:
                _limit_this_thread(own)  # the main thread under a limit of the user's
