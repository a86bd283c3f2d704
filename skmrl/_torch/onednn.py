"""Float32 CPU inference through oneDNN's prepacked linear kernels.

PyTorch runs a float32 ``nn.Linear`` on the CPU through MKL's ``sgemm``. On some processors MKL
leaves much of the vector hardware idle: on the AMD Zen 5 cores this project runs on it reaches
about 105 GFLOP/s per core on the encoder's matrix shapes, where oneDNN (also bundled with every
CPU build of torch, and used by ``torch.compile`` for the same job) reaches about 240 GFLOP/s with
its weight prepacked into its blocked layout. An encoder spends over 80% of its CPU time in these
products, so routing them through oneDNN about halves the time of a forward pass. The
arithmetic stays float32 (only the order of the sums differs: token vectors agree to ~1e-5).

:func:`packed_for_inference` returns a copy of a model whose ``nn.Linear`` layers call oneDNN
with a prepacked weight (and, in BERT-style feed-forward blocks, with the exact-erf GELU fused
into the product). The copy shares every other tensor with the model (embeddings, layer norms,
biases are not duplicated; the packed weights are a copy of the linear weights). It is made once
per model and rebuilt when any of the model's parameters changes in place (fine-tuning, a loaded
state dict), and it is checked against the plain model on a probe batch before it is used; when
oneDNN or its operators are missing, or the check fails, the plain model is returned, so the
result is never wrong, at worst slower. Only on x86-64 (see :func:`available`); set the
environment variable ``SKMRL_ONEDNN=0`` to turn the path off.
"""

from __future__ import annotations

import copy
import logging
import os
import platform
import weakref
from typing import Any

import torch

from skmrl._threads import ForkSafeLock

__all__ = ["available", "packed_for_inference"]

_log = logging.getLogger(__name__)

#: Largest disagreement accepted between the packed and the plain model on the probe batch,
#: relative to the largest value of the plain model's output.
_PROBE_RTOL = 1e-4

_LOCK = ForkSafeLock()
# model -> (parameter versions, packed copy, or None when packing was refused). Never the model
# itself as a value: a value that refers to its key keeps the key alive for good.
_PACKED: weakref.WeakKeyDictionary[Any, tuple[tuple[int, ...], Any]] = weakref.WeakKeyDictionary()


def available() -> bool:
    """Whether the packed path applies: an x86-64 torch build with oneDNN's linear operators.

    Other processors are left alone: torch does not use MKL there, and oneDNN was not measured.

    Examples
    --------
    >>> from skmrl._torch.onednn import available
    >>> isinstance(available(), bool)
    True
    """
    if os.environ.get("SKMRL_ONEDNN", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    if not torch.backends.mkldnn.is_available():
        return False
    ops = torch.ops.mkldnn
    try:
        return bool(ops._linear_pointwise and ops._reorder_linear_weight)
    except (AttributeError, RuntimeError):
        return False


def packed_for_inference(model: Any) -> Any:
    """A copy of ``model`` whose linear layers run through oneDNN, or ``model`` itself.

    Only for float32 inference on the CPU (no autograd: the packed layers have no gradient). The
    copy is cached per model and rebuilt when the model's parameters change in place.

    Parameters
    ----------
    model : torch.nn.Module
        A float32 model on the CPU, in eval mode, called as ``model(input_ids=...,
        attention_mask=...)``.

    Returns
    -------
    torch.nn.Module
        The packed copy, or ``model`` when oneDNN is not available, the model has no float32
        CPU linear layer, the copy disagrees with the model on a probe batch, or the model (or
        one of its modules) has forward hooks: instrumentation put on the model sees every
        forward pass, at the plain model's speed.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.onednn import available, packed_for_inference
    >>> model = load_model().model
    >>> fast = packed_for_inference(model)
    >>> (fast is not model) == available()
    True
    >>> packed_for_inference(model) is fast  # made once, then shared
    True
    """
    if not available() or _has_forward_hooks(model):
        return model
    versions = _versions(model)
    with _LOCK:
        cached = _PACKED.get(model)
        if cached is not None and cached[0] == versions:
            packed = cached[1]
        else:
            packed = _build(model)
            _PACKED[model] = (versions, packed)
        return model if packed is None else packed


def _has_forward_hooks(model: Any) -> bool:
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def _versions(model: Any) -> tuple[int, ...]:
    # A tensor's _version counts its in-place changes: an optimiser step or load_state_dict
    # bumps it, so a stale packed copy is never used.
    return tuple(p._version for p in model.parameters())


def _build(model: Any) -> Any:
    """The checked packed copy of ``model``, or None when it cannot (or should not) be used."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears or any(
        m.weight.dtype != torch.float32 or m.weight.device.type != "cpu" for m in linears
    ):
        return None
    try:
        packed = _packed_copy(model, fuse_gelu=True)
        if not _agrees(model, packed):
            packed = _packed_copy(model, fuse_gelu=False)
            if not _agrees(model, packed):
                _log.warning("oneDNN packed linear layers disagree with the model; not used")
                return None
    except Exception as exc:  # an operator refused these shapes, or the model's code cannot
        # run on packed layers (it reads attributes of nn.Linear that they lack, say)
        _log.warning("oneDNN packed linear layers unavailable (%r); not used", exc)
        return None
    return packed


def _packed_copy(model: Any, *, fuse_gelu: bool) -> Any:
    # Copy the module tree only: every parameter and buffer is shared with the model. (It has
    # no forward hooks, see packed_for_inference; hooks added later stay on the model alone.)
    memo = {id(t): t for t in (*model.parameters(), *model.buffers())}
    clone = copy.deepcopy(model, memo)
    for module in list(clone.modules()):
        fused = fuse_gelu and _fuse_gelu(module)
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                gelu = fused and name == "dense"
                setattr(module, name, _PackedLinear(child, "gelu" if gelu else "none"))
    return clone


def _fuse_gelu(module: Any) -> bool:
    """Whether ``module`` is a BERT-style ``dense -> intermediate_act_fn`` with an exact GELU.

    If so, its activation is replaced by the identity (the caller fuses GELU into ``dense``).
    """
    act = getattr(module, "intermediate_act_fn", None)
    if not isinstance(getattr(module, "dense", None), torch.nn.Linear) or act is None:
        return False
    erf_gelu = torch.nn.functional.gelu
    exact = (isinstance(act, torch.nn.GELU) and act.approximate == "none") or (
        type(act).__name__ == "GELUActivation" and getattr(act, "act", None) is erf_gelu
    )
    if exact:
        module.intermediate_act_fn = torch.nn.Identity()
    return exact


def _agrees(model: Any, packed: Any) -> bool:
    vocab = int(getattr(getattr(model, "config", None), "vocab_size", 100) or 100)
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(min(vocab, 1000), (2, 9), generator=generator)
    mask = torch.ones_like(input_ids)
    mask[1, 5:] = 0
    with torch.inference_mode():
        want = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        got = packed(input_ids=input_ids, attention_mask=mask).last_hidden_state
    scale = max(float(want.abs().max()), 1.0)
    error = float((got - want).abs().max())
    return bool(torch.isfinite(got).all()) and error <= _PROBE_RTOL * scale


class _PackedLinear(torch.nn.Module):
    """``nn.Linear`` (optionally followed by an exact GELU) on a oneDNN-prepacked weight."""

    def __init__(self, linear: torch.nn.Linear, attr: str) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self.attr = attr
        self.algorithm = "none" if attr == "gelu" else ""
        packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach())
        self.register_buffer("packed_weight", packed)
        # Shared with the model; ``weight`` is kept for model code that reads it (T5 checks
        # ``wo.weight.dtype``), the products use ``packed_weight``.
        self.weight = linear.weight
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.in_features)
        out = torch.ops.mkldnn._linear_pointwise(
            flat, self.packed_weight, self.bias, self.attr, [], self.algorithm
        )
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, {self.attr}"
