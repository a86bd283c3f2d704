"""Depth (2D Matryoshka): layer views of a transformers encoder that run its first ``k`` layers.

A *layer view* (:func:`layer_view`) is a shallow copy of the module tree down to the list of
transformer layers, whose list is cut to ``k`` (and, with ``every_layer``, whose layers record
their outputs, read back by :func:`layer_outputs`). The view shares every parameter and module
below the list with the model (the oneDNN-packed copy included, which is packed first and then
viewed), so it is cheap and always current. Layer outputs are recorded by wrappers in the view,
never by forward hooks on the model (transformers' ``output_hidden_states`` installs hooks on
the shared layers for good, which would turn the oneDNN path off for every later encoding).
:func:`truncated_copy` is the standalone shallow network, for saving. Used by
:func:`skmrl._torch.encoder.encode` (``n_layers``, ``every_layer``) and by fine-tuning with
``layers``.
"""

from __future__ import annotations

import copy
import functools
import threading
import weakref
from typing import Any

import numpy as np

from skmrl._threads import ForkSafeLock

__all__ = [
    "UnreadableLayersError",
    "check_n_layers",
    "check_readable_depth",
    "layer_count",
    "layer_outputs",
    "layer_view",
    "truncated_copy",
]

_LAYER_COUNT_KEYS = ("num_hidden_layers", "n_layers", "num_layers")
_VIEWS_LOCK = ForkSafeLock()
# model -> {(n_layers, every_layer, training): view}. A view holds the model's submodules,
# never the model.
_VIEWS: weakref.WeakKeyDictionary[Any, dict[tuple[int, bool, bool], Any]] = (
    weakref.WeakKeyDictionary()
)


class UnreadableLayersError(ValueError):
    """The layers of a model cannot be read apart: it has no single list of layers to cut
    (ALBERT shares one layer), or its output is not its last layer's (a final norm: T5,
    ModernBERT). Its full depth is the model itself; a shallower one is not supported."""


def layer_count(model: Any) -> int | None:
    """The number of transformer layers of ``model`` (from its config), or ``None``.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.layers import layer_count
    >>> layer_count(load_model().model)
    6
    """
    config = getattr(model, "config", None)
    for key in _LAYER_COUNT_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def check_n_layers(n_layers: Any, model: Any) -> int:
    """``n_layers`` resolved against ``model``'s depth (``None``: all); a ``ValueError`` else."""
    depth = layer_count(model)
    if n_layers is None:
        if depth is None:
            raise ValueError("cannot tell this model's number of layers from its config")
        return depth
    if depth is None:
        raise ValueError(
            f"n_layers={n_layers!r}: cannot tell this model's number of layers from its config"
        )
    if isinstance(n_layers, bool) or not isinstance(n_layers, int | np.integer):
        raise TypeError(f"n_layers must be None or an int, got {n_layers!r}")
    if not 1 <= int(n_layers) <= depth:
        raise ValueError(
            f"n_layers={int(n_layers)} is out of range: this model has {depth} layers, so "
            f"expected None or an int in [1, {depth}]"
        )
    return int(n_layers)


def _layer_list_path(model: Any) -> list[str]:
    """Attribute path from ``model`` to the ``ModuleList`` of its transformer layers."""
    import torch

    depth = layer_count(model)
    found = [
        name
        for name, module in model.named_modules()
        if name and isinstance(module, torch.nn.ModuleList) and len(module) == depth
    ]
    if len(found) != 1:
        raise UnreadableLayersError(
            f"cannot choose the depth of a {type(model).__name__}: expected one list of "
            f"{depth} layers in it, found {len(found)} ({', '.join(found) or 'none'})"
        )
    return found[0].split(".")


class _LayerTap:
    """Where the layers of an every-layer view record their outputs (one list per thread)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def start(self) -> None:
        self.local.outputs = []

    def take(self) -> list[Any]:
        outputs, self.local.outputs = self.local.outputs, None
        return outputs


@functools.cache
def _tapped_class() -> type:
    import torch

    class _Tapped(torch.nn.Module):
        """A transformer layer that records its output hidden states in ``tap``."""

        def __init__(self, layer: Any, tap: _LayerTap) -> None:
            super().__init__()
            self.layer = layer
            self.tap = tap

        def __getattr__(self, name: str) -> Any:
            # The encoder may read its layers' attributes (ModernBERT: each layer's
            # attention_type): the wrapped layer's, where the wrapper has none.
            try:
                return super().__getattr__(name)
            except AttributeError:
                layer = self.__dict__.get("_modules", {}).get("layer")
                if layer is None or name.startswith("__"):
                    raise
                return getattr(layer, name)

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            out = self.layer(*args, **kwargs)
            outputs = getattr(self.tap.local, "outputs", None)
            if outputs is not None:
                outputs.append(out[0] if isinstance(out, tuple) else out)
            return out

    return _Tapped


def layer_view(model: Any, n_layers: int, *, every_layer: bool = False) -> Any:
    """A view of ``model`` that runs only its first ``n_layers`` layers (weights shared).

    The module tree is copied shallowly from the root down to the list of layers, and the list
    is cut; everything below it (the layers, embeddings, every parameter) is the model's own,
    so the view follows in-place changes of the weights and costs no memory. With
    ``every_layer``, each layer of the view records its output, which :func:`layer_outputs`
    returns; without it, a view shallower than the model records its last layer's output, for
    :func:`layer_outputs` to check that the model's output is that of its last layer (a model
    with a final norm is refused, whichever the view). Views are made once per (model,
    n_layers, every_layer, training mode). Forward hooks of the model and of the modules above
    the list are shared (instrumentation sees the view's passes).

    Parameters
    ----------
    model : torch.nn.Module
        A transformers encoder (its config names the number of layers).
    n_layers : int
        Layers to keep, ``1..layer_count(model)``.
    every_layer : bool, default=False
        Record every layer's output.

    Returns
    -------
    torch.nn.Module
        Called as ``model`` is; use :func:`layer_outputs` to run it.

    Examples
    --------
    >>> import torch
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.layers import layer_outputs, layer_view
    >>> model = load_model().model
    >>> view = layer_view(model, 2, every_layer=True)
    >>> ids = torch.tensor([[101, 7592, 102]])
    >>> [tuple(h.shape) for h in layer_outputs(view, ids, None)]
    [(1, 3, 384), (1, 3, 384)]
    >>> layer_view(model, 2, every_layer=True) is view
    True
    """
    import torch

    depth = check_n_layers(n_layers, model)
    # A view copies the training flag of the modules it copies: one per mode.
    key = (depth, bool(every_layer), bool(model.training))
    with _VIEWS_LOCK:
        views = _VIEWS.get(model)
        if views is None:
            views = _VIEWS[model] = {}
        view = views.get(key)
        if view is not None:
            return view
        path = _layer_list_path(model)
        view = copy.copy(model)
        view._modules = dict(view._modules)
        parent = view
        for name in path[:-1]:
            child = copy.copy(parent._modules[name])
            child._modules = dict(child._modules)
            parent._modules[name] = child
            parent = child
        layers = list(parent._modules[path[-1]])[:depth]
        # A shallower view records its last layer's output too: the model's own output may
        # not be its last layer's (a final norm: T5, ModernBERT), and layer_outputs refuses
        # such a model rather than pool layer k through the norm.
        tapped = depth if every_layer else 1 if depth < layer_count(model) else 0
        if tapped:
            view._skmrl_tap = tap = _LayerTap()
            cut = depth - tapped
            layers = layers[:cut] + [_tapped_class()(layer, tap) for layer in layers[cut:]]
        parent._modules[path[-1]] = torch.nn.ModuleList(layers)
        views[key] = view
        return view


def check_readable_depth(model: Any, n_layers: int) -> None:
    """Refuse, with an :class:`UnreadableLayersError`, a depth below ``model``'s own that
    cannot be read: no single list of layers (ALBERT), or an output that is not the last
    layer's (a final norm: T5, ModernBERT). Which it is holds for every shallower depth of a
    model alike: one token pair runs through a view once per model and process, as encoding
    would run it (milliseconds); the full depth is always readable."""
    import torch

    if n_layers >= (layer_count(model) or n_layers):
        return
    with _VIEWS_LOCK:
        known = _READABLE.get(model)
    if known is None:
        probe = torch.zeros((1, 2), dtype=torch.long, device=next(model.parameters()).device)
        try:
            with torch.inference_mode():
                layer_outputs(layer_view(model, n_layers), probe, None)
            known = ""
        except UnreadableLayersError as exc:
            known = str(exc)
        with _VIEWS_LOCK:
            _READABLE[model] = known
    if known:
        raise UnreadableLayersError(known)


#: model -> why its shallower depths cannot be read ("" where they can): check_readable_depth's
#: probe, once per model.
_READABLE: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def truncated_copy(model: Any, n_layers: int) -> Any:
    """A standalone copy of ``model`` with only its first ``n_layers`` layers (for saving).

    Its config says ``n_layers`` layers, so ``save_pretrained`` writes a folder that loads to
    the shallow network. A model whose output is not its last layer's (a final norm), whose
    layer ``n_layers`` :func:`layer_outputs` refuses to read, is refused here too.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.layers import layer_count, truncated_copy
    >>> layer_count(truncated_copy(load_model().model, 2))
    2
    """
    import torch

    depth = check_n_layers(n_layers, model)
    path = _layer_list_path(model)
    check_readable_depth(model, depth)
    out = copy.deepcopy(model)
    parent = out
    for name in path[:-1]:
        parent = getattr(parent, name)
    setattr(parent, path[-1], torch.nn.ModuleList(list(getattr(parent, path[-1]))[:depth]))
    config = out.config
    for key in _LAYER_COUNT_KEYS:
        if isinstance(getattr(config, key, None), int):
            setattr(config, key, depth)
            break
    return out


def layer_outputs(model: Any, input_ids: Any, mask: Any) -> list[Any]:
    """Hidden states of ``model`` (or of a :func:`layer_view`) for one batch.

    Returns the output of every layer of an every-layer view, in order, else a list holding
    the model's last hidden state. Differentiable (training uses it too). A view of a model
    whose output is not its last layer's (a final normalisation) is refused with an
    :class:`UnreadableLayersError`.
    """
    tap = getattr(model, "_skmrl_tap", None)
    if tap is None:
        return [model(input_ids=input_ids, attention_mask=mask).last_hidden_state]
    tap.start()
    try:
        last = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    finally:
        outputs = tap.take()
    if not outputs or (outputs[-1] is not last and not _same(outputs[-1], last)):
        raise UnreadableLayersError(
            f"cannot read the layers of a {type(model).__name__}: its output is not its last "
            "layer's output (a final normalisation, say), so n_layers is not supported for it"
        )
    outputs[-1] = last
    return outputs


def _same(a: Any, b: Any) -> bool:
    import torch

    return a.shape == b.shape and bool(torch.equal(a, b))
