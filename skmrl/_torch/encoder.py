"""Batched sentence encoding with a transformers model: the hot loop of MatryoshkaEmbedder.

Texts are tokenized once (fast tokenizer, truncated to ``max_length``), sorted by token length and
cut into batches bounded both in rows (``batch_size``) and in padded tokens (a token budget), so
that short texts are never padded to the length of long ones and each forward pass is one large,
dense matrix product. The forward passes run under :func:`torch.inference_mode` (and autocast for
fp16/bf16); token vectors are pooled (attention-mask weighted mean, or the first token) in float32
and written back in the caller's order. On CUDA an out-of-memory error halves the batch and
retries. On the CPU, batches run side by side in one thread per core (see ``workers``), and
float32 models run their linear layers through oneDNN (see :mod:`skmrl._torch.onednn`).

Depth (2D Matryoshka): ``encode(..., n_layers=k)`` pools the output of the encoder's layer ``k``
and runs only its first ``k`` layers; ``every_layer=True`` pools the output of every layer
``1..k`` from the one forward pass. Both run a *layer view* of the model
(:func:`layer_view`): a shallow copy of the module tree down to the list of transformer layers,
whose list is cut to ``k`` (and, for ``every_layer``, whose layers record their outputs). The
view shares every parameter and module below the list with the model (the oneDNN-packed copy
included, which is packed first and then viewed), so it is cheap and always current. Layer
outputs are recorded by wrappers in the view, never by forward hooks on the model (transformers'
``output_hidden_states`` installs hooks on the shared layers for good, which would turn the
oneDNN path off for every later encoding).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import sys
import threading
import weakref
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = [
    "POOLINGS",
    "collate",
    "encode",
    "layer_count",
    "layer_outputs",
    "layer_view",
    "make_batches",
    "pool",
    "tokenize",
    "truncated_copy",
]

#: Accepted values of ``pooling``.
POOLINGS = ("mean", "cls")
#: Padded tokens per batch row allowed by the token budget: ``budget = batch_size * this``.
TOKENS_PER_ROW = 64
#: A progress bar appears (with ``progress=None``) only past this many batches.
_PROGRESS_MIN_BATCHES = 8


def make_batches(lengths: np.ndarray, batch_size: int, token_budget: int) -> list[np.ndarray]:
    """Group text indices into length-sorted batches.

    Each batch holds at most ``batch_size`` texts, and at most ``token_budget`` tokens once padded
    to its longest text (a single text longer than the budget gets a batch of its own).

    Parameters
    ----------
    lengths : ndarray of int, shape (n_texts,)
        Token count of each text.
    batch_size : int
        Largest number of texts in a batch.
    token_budget : int
        Largest ``rows * padded_length`` of a batch.

    Returns
    -------
    list of ndarray of int
        Indices into ``lengths``; together a permutation of ``range(n_texts)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.encoder import make_batches
    >>> [b.tolist() for b in make_batches(np.array([5, 2, 9, 2, 3]), 2, 100)]
    [[1, 3], [4, 0], [2]]
    >>> [b.tolist() for b in make_batches(np.array([5, 2, 9, 2, 3]), 8, 10)]
    [[1, 3, 4], [0], [2]]
    """
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    batches: list[np.ndarray] = []
    start, n = 0, len(order)
    while start < n:
        stop = start + 1
        # Ascending lengths: the padded length of rows [start, stop] is sorted_lengths[stop].
        while (
            stop < n
            and stop - start < batch_size
            and (stop - start + 1) * int(sorted_lengths[stop]) <= token_budget
        ):
            stop += 1
        batches.append(order[start:stop])
        start = stop
    return batches


def _progress_bar(total: int, n_batches: int, progress: bool | None) -> Any:
    show = progress if progress is not None else sys.stderr.isatty()
    if not show or n_batches <= _PROGRESS_MIN_BATCHES:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="encoding", unit="text", leave=False)


def _is_oom(exc: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, oom)


def encode(
    texts: Sequence[str],
    model: Any,
    tokenizer: Any,
    *,
    device: str = "cpu",
    pooling: str = "mean",
    max_length: int = 256,
    batch_size: int = 64,
    dtype: Any = None,
    progress: bool | None = None,
    workers: int | None = None,
    n_layers: int | None = None,
    every_layer: bool = False,
) -> np.ndarray:
    """Encode texts into pooled, unnormalised float32 vectors.

    Parameters
    ----------
    texts : sequence of str
        The texts, in the caller's order.
    model : transformers.PreTrainedModel
        An encoder in eval mode, on ``device``.
    tokenizer : transformers fast tokenizer
        Its tokenizer.
    device : str, default="cpu"
        The model's device.
    pooling : {"mean", "cls"}, default="mean"
        Attention-mask weighted mean of the token vectors, or the first (``[CLS]``) token.
    max_length : int, default=256
        Texts are truncated to this many tokens (special tokens included).
    batch_size : int, default=64
        Largest number of texts per forward pass; a batch also holds at most
        ``batch_size * 64`` padded tokens.
    dtype : torch.dtype, optional
        Autocast to this dtype (``torch.float16`` / ``torch.bfloat16``); ``None``: float32.
    progress : bool or None, default=None
        Show a tqdm bar (only when there are more than a few batches); ``None``: when stderr is
        a terminal.
    workers : int, optional
        Threads that run batches side by side, each with one torch thread. Default: on the CPU,
        ``torch.get_num_threads()`` workers (the same number of cores as one batch at a time
        with that many torch threads, but no per-operation synchronisation between threads,
        which costs a lot on small matrices and on cores shared with other processes); on GPUs,
        one. While they run, ``torch.set_num_threads(1)`` holds for the whole process.
    n_layers : int, optional
        Pool the output of layer ``n_layers`` (``1..``:func:`layer_count`), running only the
        first ``n_layers`` layers; ``None``: the model's output (every layer).
    every_layer : bool, default=False
        Return the pooled output of every layer ``1..n_layers`` (all layers when ``n_layers``
        is ``None``), from one forward pass.

    Returns
    -------
    ndarray of shape (len(texts), hidden_size), float32
        Or, with ``every_layer=True``, of shape (n_layers, len(texts), hidden_size): entry
        ``i`` is layer ``i + 1``'s (the last one is what ``n_layers=None`` returns).

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.encoder import encode
    >>> m = load_model()
    >>> encode(["a cat", "a dog"], m.model, m.tokenizer).shape
    (2, 384)
    >>> encode(["a cat", "a dog"], m.model, m.tokenizer, n_layers=3).shape  # 3 of 6 layers
    (2, 384)
    >>> encode(["a cat", "a dog"], m.model, m.tokenizer, every_layer=True).shape
    (6, 2, 384)
    """
    import torch

    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling!r} is not understood; expected one of {POOLINGS}")
    depth = check_n_layers(n_layers, model) if every_layer or n_layers is not None else None
    n_out = depth if every_layer else 1
    hidden = int(model.config.hidden_size)
    out = np.empty((n_out, len(texts), hidden), dtype=np.float32)
    if not len(texts):
        return out if every_layer else out[0]
    ids, lengths = tokenize(texts, tokenizer, max_length)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # Longest batches first: on a GPU an out-of-memory error shows at once, and parallel CPU
    # workers finish together (the short batches fill in at the end).
    queue = deque(reversed(make_batches(lengths, batch_size, batch_size * TOKENS_PER_ROW)))
    bar = _progress_bar(len(texts), len(queue), progress)
    device_type = torch.device(device).type
    if device_type == "cpu" and dtype is None:
        from skmrl._torch.onednn import packed_for_inference

        model = packed_for_inference(model)  # float32 products through oneDNN: ~2x faster
    if depth is not None and (every_layer or depth != layer_count(model)):
        model = layer_view(model, depth, every_layer=every_layer)
    lock = threading.Lock()

    def drain() -> None:
        # inference_mode and autocast are thread-local: enter them in each worker.
        autocast = (
            torch.autocast(device_type=device_type, dtype=dtype)
            if dtype is not None
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            while True:
                with lock:
                    if not queue:
                        return
                    rows = queue.popleft()
                try:
                    pooled = _forward(model, ids, lengths, rows, pad_id, pooling, device)
                except Exception as exc:
                    if not (_is_oom(exc) and len(rows) > 1):
                        raise
                    # Out of GPU memory: free what we can, split the batch and carry on.
                    del exc
                    torch.cuda.empty_cache()
                    half = len(rows) // 2
                    with lock:
                        queue.appendleft(rows[half:])
                        queue.appendleft(rows[:half])
                    continue
                out[:, rows] = pooled
                if bar is not None:
                    bar.update(len(rows))

    if workers is None:
        workers = torch.get_num_threads() if device_type == "cpu" else 1
    workers = max(1, min(int(workers), len(queue) // 2))
    try:
        if workers == 1:
            drain()
        else:
            _drain_in_parallel(drain, workers)
    finally:
        if bar is not None:
            bar.close()
    return out if every_layer else out[0]


def _drain_in_parallel(drain: Any, workers: int) -> None:
    """Run ``drain`` in ``workers`` threads with one torch (intra-op) thread each."""
    from skmrl._torch.device import one_torch_thread

    with (
        one_torch_thread(),
        ThreadPoolExecutor(workers, thread_name_prefix="skmrl-encode") as pool,
    ):
        for future in [pool.submit(drain) for _ in range(workers)]:
            future.result()


def _forward(
    model: Any,
    ids: list[list[int]],
    lengths: np.ndarray,
    rows: np.ndarray,
    pad_id: int,
    pooling: str,
    device: str,
) -> np.ndarray:
    import torch

    input_ids, mask = collate(ids, lengths, rows, pad_id, device)
    pooled = [pool(h.float(), mask, pooling) for h in layer_outputs(model, input_ids, mask)]
    return torch.stack(pooled).cpu().numpy()


def tokenize(texts: Sequence[str], tokenizer: Any, max_length: int) -> tuple[list, np.ndarray]:
    """Token ids of each text (truncated to ``max_length``, no padding) and their lengths.

    Used by encoding and by training (:mod:`skmrl._torch.training`), which batch the ids
    themselves with :func:`collate`.
    """
    ids = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        return_attention_mask=False,
        return_token_type_ids=False,
    )["input_ids"]
    return ids, np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))


def collate(
    ids: list[list[int]], lengths: np.ndarray, rows: np.ndarray, pad_id: int, device: str
) -> tuple[Any, Any]:
    """The padded ``input_ids`` of ``rows`` on ``device``, and their attention mask.

    The mask is ``None`` when no row is padded (all-ones masks are neither built nor applied).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.encoder import collate
    >>> ids, lengths = [[5, 6, 7], [8]], np.array([3, 1])
    >>> input_ids, mask = collate(ids, lengths, np.array([0, 1]), 0, "cpu")
    >>> input_ids.tolist(), mask.tolist()
    ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])
    >>> collate(ids, lengths, np.array([1]), 0, "cpu")[1] is None
    True
    """
    import torch

    row_lengths = lengths[rows]
    width = int(row_lengths.max())
    batch = np.full((len(rows), width), pad_id, dtype=np.int64)
    for r, i in enumerate(rows.tolist()):
        batch[r, : row_lengths[r]] = ids[i]
    input_ids = torch.from_numpy(batch).to(device, non_blocking=True)
    if row_lengths.min() == width:
        return input_ids, None
    mask = np.arange(width)[None, :] < row_lengths[:, None]
    return input_ids, torch.from_numpy(mask.astype(np.int64)).to(device, non_blocking=True)


def pool(hidden: Any, mask: Any, pooling: str) -> Any:
    """Pool token vectors into one vector per text (differentiable; used in training too).

    Parameters
    ----------
    hidden : Tensor of shape (batch, tokens, hidden_size)
        The encoder's last hidden state.
    mask : Tensor of shape (batch, tokens) or None
        The attention mask (1 for real tokens); ``None`` when no row is padded.
    pooling : {"mean", "cls"}
        Attention-mask weighted mean of the token vectors, or the first token.

    Returns
    -------
    Tensor of shape (batch, hidden_size)

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.encoder import pool
    >>> h = torch.tensor([[[1.0], [3.0], [100.0]]])
    >>> pool(h, torch.tensor([[1, 1, 0]]), "mean")
    tensor([[2.]])
    >>> pool(h, None, "cls")
    tensor([[1.]])
    """
    if pooling == "cls":
        return hidden[:, 0]
    if mask is None:
        return hidden.mean(dim=1)
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


# -- depth: layer views ------------------------------------------------------------------------
_LAYER_COUNT_KEYS = ("num_hidden_layers", "n_layers", "num_layers")
_VIEWS_LOCK = threading.Lock()
# model -> {(n_layers, every_layer, training): view}. A view holds the model's submodules,
# never the model.
_VIEWS: weakref.WeakKeyDictionary[Any, dict[tuple[int, bool, bool], Any]] = (
    weakref.WeakKeyDictionary()
)


def layer_count(model: Any) -> int | None:
    """The number of transformer layers of ``model`` (from its config), or ``None``.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.encoder import layer_count
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
        raise ValueError(
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
    returns. Views are made once per (model, n_layers, every_layer, training mode). Forward
    hooks of the model and of the modules above the list are shared (instrumentation sees the
    view's passes).

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
    >>> from skmrl._torch.encoder import layer_outputs, layer_view
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
        if every_layer:
            view._skmrl_tap = tap = _LayerTap()
            layers = [_tapped_class()(layer, tap) for layer in layers]
        parent._modules[path[-1]] = torch.nn.ModuleList(layers)
        views[key] = view
        return view


def truncated_copy(model: Any, n_layers: int) -> Any:
    """A standalone copy of ``model`` with only its first ``n_layers`` layers (for saving).

    Its config says ``n_layers`` layers, so ``save_pretrained`` writes a folder that loads to
    the shallow network.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.encoder import layer_count, truncated_copy
    >>> layer_count(truncated_copy(load_model().model, 2))
    2
    """
    import torch

    depth = check_n_layers(n_layers, model)
    path = _layer_list_path(model)
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
    the model's last hidden state. Differentiable (training uses it too).
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
        raise ValueError(
            f"cannot read the layers of a {type(model).__name__}: its output is not its last "
            "layer's output (a final normalisation, say), so n_layers is not supported for it"
        )
    outputs[-1] = last
    return outputs


def _same(a: Any, b: Any) -> bool:
    import torch

    return a.shape == b.shape and bool(torch.equal(a, b))
