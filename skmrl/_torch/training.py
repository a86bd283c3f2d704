"""Full Matryoshka fine-tuning of a transformers encoder: a hand-written training loop.

:func:`finetune_encoder` trains a copy of an encoder so that every prefix of its pooled vector
(``dims``, the full size always included) is a good embedding. Three objectives, chosen by the
data given:

* ``texts`` only: unsupervised self-distillation. The frozen original is the teacher: its
  full-size vectors are computed once; each student prefix learns the teacher's in-batch cosine
  similarities (MSE plus a listwise KL term:
  :func:`~skmrl._torch.losses.similarity_distillation_loss`).
  Batches are made of small groups of teacher nearest neighbours, so that every text has close
  and distant texts beside it and the listwise term has a ranking to learn.
* ``texts`` and ``labels``: one linear head per prefix on the normalised prefix, cross-entropy
  summed over prefixes (:class:`~skmrl._torch.losses.NestedHeads`; the heads are discarded), plus
  ``distill_weight`` times the self-distillation term, which keeps the general similarity
  structure that a few thousand labelled texts would otherwise erode.
* ``pairs`` and ``scores``: nested CoSENT (:func:`~skmrl._torch.losses.cosent_loss`) over the
  prefixes: each prefix's cosines should rank the pairs as the gold scores do.

With ``layers`` (2D Matryoshka: 2DMSE, Li et al. 2024; Starbucks, Zhuang et al. 2024), the same
nested loss is also applied to the pooled output of each chosen layer, from the one forward pass
(a :func:`~skmrl._torch.layers.layer_view` records every layer's output), so that a shallower
sub-network gives good embeddings at every prefix too; the teacher is the frozen full-depth
model's full-size vectors.

Why a loop of our own rather than a generic trainer: on a small CPU the cost of one step is the
encoder's matrix products, and everything around them matters: texts are tokenized once and
batched by length (padding is the main waste: STS sentences range from 5 to 60 tokens), a batch
of pairs is one forward pass of both sides, and torch runs with the number of threads measured to
be fastest (see :data:`DEFAULT_THREADS`), AdamW is the fused kernel. ``dtype=torch.bfloat16``
on the CPU (an opt-in: reduced precision) trained MiniLM 1.8x faster than float32 on the same
machine (100 against 56 sentences/s, same loss curve). Pure torch and numpy: no scikit-learn here.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from skmrl._threads import ForkSafeLock
from skmrl._torch.batching import GROUP_SIZE, length_batches, nearest_neighbours, neighbour_batches
from skmrl._torch.device import grad_enabled, torch_thread_block
from skmrl._torch.encoder import POOLINGS, collate, encode, pool, tokenize
from skmrl._torch.layers import layer_count, layer_outputs, layer_view
from skmrl._torch.losses import (
    NestedHeads,
    cosent_loss,
    nested_loss,
    similarity_distillation_loss,
)
from skmrl._validation import check_pairs

__all__ = [
    "DEFAULT_DISTILL_WEIGHT",
    "DEFAULT_THREADS",
    "FineTuneResult",
    "finetune_encoder",
]

#: Torch intra-op threads while training on the CPU when ``threads=None``. Measured on the
#: 2-core AMD EPYC this project runs on, beside another engineer's two busy processes (load
#: average 4-5): all-MiniLM-L6-v2, MRL(CoSENT), 256 STSb train pairs, 32 pairs a batch, rounds
#: alternating: 1 thread 37.4 and 52.4 sentences/s, 2 threads 27.1 and 25.3. Two threads wait on
#: each other at every operation of a small step, which costs most when the cores are shared.
DEFAULT_THREADS = 1
#: Weight of the self-distillation term beside the nested classification heads (``labels``).
#: Measured on TREC-6 (MiniLM, 1,000 training questions, one epoch, held-out accuracy of a
#: logistic regression on 1,000 other questions at 8/16/32/384 dims; STSb dev Spearman beside):
#: original 0.380/0.394/0.536/0.800 (STSb 66.4/75.7/81.3/86.7); weight 0: 0.396/0.435/0.618/
#: 0.839 (65.7/75.0/80.8/86.8); 0.3: 0.440/0.467/0.618/0.846 (64.8/73.8/79.9/86.7); 1.0:
#: 0.440/0.470/0.601/0.837 (64.9/73.6/79.8/86.7). One seed: 0.3 was best or tied at every size;
#: the full-size STS structure was kept by all three.
DEFAULT_DISTILL_WEIGHT = 0.3


@dataclass
class FineTuneResult:
    """What :func:`finetune_encoder` returns.

    Attributes
    ----------
    model : torch.nn.Module
        The trained copy, in eval mode, with ``requires_grad`` False, on the training device.
    losses : list of float
        The training loss of each optimiser step (with ``accumulation_steps``, the mean of its
        batches' losses weighted by their rows).
    sentences_per_second : float
        Texts through the encoder (forward and backward) per second of the training loop.
    seconds : float
        Wall time of the whole call (teacher encoding and neighbour search included).
    n_steps : int
        Optimiser steps taken.
    objective : str
        ``"distillation"``, ``"classification"`` or ``"cosent"``.
    threads : int or None
        Torch threads used on the CPU (``None`` on other devices).
    """

    model: Any
    losses: list[float] = field(default_factory=list)
    sentences_per_second: float = 0.0
    seconds: float = 0.0
    n_steps: int = 0
    objective: str = ""
    threads: int | None = None


# ----------------------------------------------------------------------------- checks


def _as_texts(values: Any, name: str) -> list[str]:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of strings, not one string")
    out = list(values)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {type(t).__name__} ({t!r}), not a string")
    return out


def _check_inputs(
    texts: Any, labels: Any, pairs: Any, scores: Any
) -> tuple[str, list[str], np.ndarray | None]:
    """Resolve the objective: (objective, texts, label codes or the scores' ranks).

    With pairs, the texts are all the first sides, then all the second sides.
    """
    if texts is None and pairs is None:
        raise ValueError(
            "nothing to train on: pass texts= (self-distillation), texts= and labels= "
            "(nested classification heads), or pairs= and scores= (nested CoSENT)"
        )
    if texts is not None and pairs is not None:
        raise ValueError(
            "pass either texts= (with optional labels=) or pairs= and scores=, not both"
        )
    if pairs is not None:
        if labels is not None:
            raise ValueError("labels= goes with texts=; pairs= takes scores=")
        if scores is None:
            raise ValueError("pairs= needs scores= (one similarity score per pair, any scale)")
        first, second = check_pairs(pairs, name="pairs")
        score_arr = np.asarray(scores, dtype=np.float64).ravel()
        if len(score_arr) != len(first):
            raise ValueError(f"got {len(first)} pairs but {len(score_arr)} scores")
        if len(first) < 2:
            raise ValueError(f"need at least 2 pairs to rank, got {len(first)}")
        if not np.isfinite(score_arr).all():
            raise ValueError("scores must be finite numbers")
        if np.ptp(score_arr) == 0:
            raise ValueError("all scores are equal: CoSENT has no order to learn")
        # CoSENT reads only the scores' order, and the training's float32 copy of them lost it
        # at scales float32 does not hold (1e39: inf; 1e-46: 0; 0.3 and 0.1 + 0.2: one value),
        # training nothing with a loss of 0: their ranks (0, 1, ...) keep it at any scale.
        ranks = np.unique(score_arr, return_inverse=True)[1].reshape(-1)
        return "cosent", first + second, ranks.astype(np.float64)
    if scores is not None:
        raise ValueError("scores= goes with pairs=; texts= takes labels= (or nothing)")
    texts = _as_texts(texts, "texts")
    if len(texts) < 2:
        raise ValueError(f"need at least 2 texts to train on, got {len(texts)}")
    if labels is None:
        return "distillation", texts, None
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(texts):
        raise ValueError(f"got {len(texts)} texts but labels of shape {labels.shape}")
    classes, codes = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        only = classes[:1].tolist()[0]  # a Python value: 1, not np.int64(1)
        raise ValueError(f"labels hold a single class ({only!r}): nothing to separate")
    return "classification", texts, codes.astype(np.int64)


def _without_tokenless(
    objective: str,
    texts: list[str],
    ids: list[np.ndarray],
    lengths: np.ndarray,
    targets: np.ndarray | None,
) -> tuple[list[str], list[np.ndarray], np.ndarray, np.ndarray | None]:
    """The training rows whose texts have a token, with a warning naming those left out.

    A tokenizer that adds no special tokens (GPT-2's, a byte-level BPE without a
    post-processor) gives an empty text no token at all. :func:`encode` gives such a text the
    zero vector; in training, a batch of them alone failed deep in the model (a tensor of
    width 0), and beside other texts each added a zero vector to the loss. They are left out
    (a pair, where either side has no token), and what remains is checked again as the inputs
    were.
    """
    n_rows = len(texts) // 2 if objective == "cosent" else len(texts)
    has_token = lengths > 0
    if objective == "cosent":
        has_token = has_token[:n_rows] & has_token[n_rows:]
    if has_token.all():
        return texts, ids, lengths, targets
    keep = np.flatnonzero(has_token)
    what = "pairs" if objective == "cosent" else "texts"
    n_left = n_rows - len(keep)
    if objective == "cosent":
        both = np.concatenate([keep, keep + n_rows])
    else:
        both = keep
    texts = [texts[i] for i in both]
    ids = [ids[i] for i in both]
    lengths = lengths[both]
    if targets is not None:
        targets = targets[keep]
    if len(keep) < 2:
        raise ValueError(
            f"{n_left} of the {n_rows} {what} have no token under this tokenizer (empty texts: "
            f"it adds no special tokens), which leaves {len(keep)} to train on: at least 2 "
            "are needed"
        )
    if objective == "classification":
        classes, codes = np.unique(targets, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{n_left} of the {n_rows} texts have no token under this tokenizer (empty "
                "texts: it adds no special tokens), and the texts left hold a single class: "
                "nothing to separate"
            )
        targets = codes.astype(np.int64)
    if objective == "cosent" and np.ptp(targets) == 0:
        raise ValueError(
            f"{n_left} of the {n_rows} pairs have a text with no token under this tokenizer "
            "(an empty text: it adds no special tokens), and the pairs left have equal "
            "scores: CoSENT has no order to learn"
        )
    import warnings

    from skmrl._warn import caller_stacklevel

    warnings.warn(
        f"{n_left} of the {n_rows} {what} have no token under this tokenizer (empty texts: it "
        "adds no special tokens) and are left out of the training; encoding gives such a "
        "text the zero vector",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return texts, ids, lengths, targets


def _check_dims(dims: Any, hidden_size: int) -> list[int]:
    if isinstance(dims, int | np.integer):
        dims = [dims]
    try:
        out = sorted({int(d) for d in dims})
    except TypeError as exc:
        raise TypeError(f"dims must be a sequence of ints, got {dims!r}") from exc
    if not out:
        raise ValueError("dims must not be empty")
    if out[0] < 1 or out[-1] > hidden_size:
        raise ValueError(f"dims must lie in [1, {hidden_size}] (the model's size), got {out}")
    if out[-1] != hidden_size:
        out.append(hidden_size)  # the full size is always trained, so that it is kept
    return out


def _check_positive(**values: Any) -> None:
    for name, v in values.items():
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


# ----------------------------------------------------------------------------- training


def _embed(model: Any, input_ids: torch.Tensor, mask: Any, pooling: str) -> torch.Tensor:
    hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    return pool(hidden.float(), mask, pooling)


def _embed_layers(
    view: Any, layers: list[int], input_ids: torch.Tensor, mask: Any, pooling: str
) -> list[torch.Tensor]:
    """Pooled outputs of ``layers`` (1-based) of an every-layer view, from one forward pass."""
    hidden = layer_outputs(view, input_ids, mask)
    return [pool(hidden[k - 1].float(), mask, pooling) for k in layers]


def _check_layers(layers: Any, depth: int | None) -> list[int] | None:
    """Sorted unique layers to train, the full depth included; ``None`` when not given."""
    if layers is None:
        return None
    if depth is None:
        raise ValueError("layers=: cannot tell this model's number of layers from its config")
    if isinstance(layers, int | np.integer):
        layers = [layers]
    try:
        values = [int(k) for k in layers]
    except TypeError as exc:
        raise TypeError(f"layers must be a sequence of ints, got {layers!r}") from exc
    out = sorted(set(values))
    if not out:
        raise ValueError("layers must not be empty")
    if out[0] < 1 or out[-1] > depth:
        raise ValueError(f"layers must lie in [1, {depth}] (the model's depth), got {values}")
    if out[-1] != depth:
        out.append(depth)  # the full depth is always trained, so that it is kept
    return out


#: Held by each seeded training (:func:`_seeded`): torch's generators are the process's. A
#: child forked during another thread's training gets it unlocked.
_SEEDED_LOCK = ForkSafeLock()


@contextlib.contextmanager
def _seeded(seed: int, device: str) -> Iterator[None]:
    """Seed the CPU's generator and the training device's for the block, then restore both.

    Only those two: ``torch.manual_seed`` reseeds every GPU (and MPS), and restoring only the
    one trained on left the others reseeded (a fine-tuning on ``cuda:1``, or on the CPU of a
    GPU machine, reset the random state of ``cuda:0``).

    One block at a time in the process: dropout and the heads draw from those generators,
    which every thread shares, so two trainings in threads at once (joblib's threading
    backend) drew from each other's seeded streams, giving other weights than the same seed
    alone, and each restored the state the other had saved.
    """
    dev = torch.device(device)
    gpu = []
    if dev.type == "cuda":
        gpu = [dev.index if dev.index is not None else torch.cuda.current_device()]
    with _SEEDED_LOCK, torch.random.fork_rng(devices=gpu):
        mps_state = torch.mps.get_rng_state() if dev.type == "mps" else None
        torch.random.default_generator.manual_seed(seed)
        if gpu:
            with torch.cuda.device(gpu[0]):
                torch.cuda.manual_seed(seed)
        if mps_state is not None:
            torch.mps.manual_seed(seed)
        try:
            yield
        finally:
            if mps_state is not None:
                torch.mps.set_rng_state(mps_state)


def _lr_lambda(warmup: int, total: int) -> Any:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def _diverged(what: str, learning_rate: float) -> None:
    """Refuse a training that diverged: its encoder would give NaN vectors."""
    raise FloatingPointError(
        f"fine-tuning diverged ({what}), so the encoder would give NaN vectors; lower the "
        f"learning rate (learning_rate={learning_rate!r})"
    )


def step_size_overflowed(exc: BaseException) -> bool:
    """Whether ``exc``, raised by an optimiser's step, is Adam's step size overflowing float32.

    The unfused Adam and AdamW (the adaptor's always; AdamW on MPS, and on the CPU before
    torch 2.4) turn the step size, ``lr / (1 - beta1**t)``, into a float32 scalar: a learning
    rate over ~3e37 raises torch's "value cannot be converted to type float without overflow"
    (the fused kernel makes the weights NaN instead). A training that diverged, for the caller
    to say so.
    """
    return isinstance(exc, RuntimeError) and "without overflow" in str(exc)


def _check_skipped_steps(losses: list[float]) -> None:
    """After fp16 training with a gradient scaler, which skips every step whose loss or
    gradients are not finite: refuse a training whose loss was not finite at any step (the
    encoder came back unchanged, silently), and warn of the steps whose loss was not finite.
    The steps the scaler skips while it lowers its scale (finite loss, gradients past fp16's
    range) are its normal working and not counted.

    Examples
    --------
    >>> from skmrl._torch.training import _check_skipped_steps
    >>> _check_skipped_steps([0.5, 0.4, 0.3])
    >>> _check_skipped_steps([float("nan")] * 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FloatingPointError: fine-tuning in float16 overflowed at every one of its 3 steps ...
    """
    bad = [x for x in losses if not math.isfinite(x)]
    if losses and len(bad) == len(losses):
        raise FloatingPointError(
            f"fine-tuning in float16 overflowed at every one of its {len(losses)} steps (the loss "
            f"was {bad[0]}), so nothing was trained: use precision='bf16' on a GPU that has it, "
            "or precision='fp32'"
        )
    if bad:
        import warnings

        from skmrl._warn import caller_stacklevel

        warnings.warn(
            f"fine-tuning in float16 overflowed at {len(bad)} of its {len(losses)} steps (a "
            "non-finite loss), which were skipped and trained nothing; precision='bf16' on a "
            "GPU that has it, or precision='fp32', avoids that",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),  # the user's call, however deep skmrl's route
        )


def _grad_scaler(device_type: str, dtype: Any) -> Any:
    """The gradient scaler of a training in ``dtype`` on ``device_type``: fp16 on CUDA has one
    (its small gradients would underflow to zero without), and nothing else needs one.

    ``torch.amp.GradScaler`` came with torch 2.3; torch 2.2 (which skmrl accepts) has only
    ``torch.cuda.amp.GradScaler``, the same scaler under its older name.
    """
    if device_type != "cuda" or dtype != torch.float16:
        return None
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()  # torch < 2.3


def _param_groups(model: Any, weight_decay: float, learning_rate: float) -> list[dict[str, Any]]:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        # No weight decay on biases and normalisation weights (the usual transformers recipe).
        (no_decay if p.ndim < 2 or "LayerNorm" in name or "norm" in name else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay, "lr": learning_rate},
        {"params": no_decay, "weight_decay": 0.0, "lr": learning_rate},
    ]


def _adamw(groups: list[dict[str, Any]], learning_rate: float, device_type: str) -> Any:
    """AdamW, fused where torch has the kernel: on the CPU one fused pass over each tensor
    instead of a dozen elementwise ones (the optimiser step took a fifth of a CoSENT step of
    MiniLM with 32 STSb pairs; fused, it trained 12-28% more sentences per second).

    The fused try gets copies of ``groups``: torch writes its defaults into each group it is
    given before it checks them, so a refused ``fused=True`` (torch 2.2 on the CPU) would stay
    in the groups and make the plain optimiser fused too, failing at its first step."""
    if device_type in ("cpu", "cuda"):
        try:
            return torch.optim.AdamW([dict(g) for g in groups], lr=learning_rate, fused=True)
        except (RuntimeError, TypeError, ValueError):  # older torch: CUDA-only or absent
            pass
    return torch.optim.AdamW(groups, lr=learning_rate)


def finetune_encoder(
    model: Any,
    tokenizer: Any,
    *,
    texts: Sequence[str] | None = None,
    labels: Sequence[Any] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    scores: Sequence[float] | None = None,
    dims: Sequence[int],
    pooling: str = "mean",
    max_length: int = 256,
    epochs: int = 1,
    learning_rate: float = 2e-5,
    batch_size: int = 32,
    accumulation_steps: int = 1,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.01,
    max_grad_norm: float = 1.0,
    device: str = "cpu",
    dtype: Any = None,
    seed: int = 0,
    progress: bool | None = None,
    threads: int | None = None,
    distill_weight: float = DEFAULT_DISTILL_WEIGHT,
    head_learning_rate: float = 1e-3,
    dim_weights: Sequence[float] | None = None,
    layers: Sequence[int] | None = None,
    layer_weights: Sequence[float] | None = None,
) -> FineTuneResult:
    """Fine-tune a copy of an encoder so that every prefix in ``dims`` is a good embedding.

    ``model`` itself is never modified (it is the frozen teacher of the self-distillation
    objectives); a deep copy is trained and returned.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The encoder (e.g. ``skmrl.models.load_model().model``), on ``device`` or the CPU.
    tokenizer : transformers fast tokenizer
        Its tokenizer.
    texts : sequence of str, optional
        Texts for self-distillation (alone) or classification (with ``labels``).
    labels : sequence, optional
        One class label per text (any values; at least two classes).
    pairs : sequence of (str, str), optional
        Text pairs for nested CoSENT, with ``scores``.
    scores : sequence of float, optional
        One similarity score per pair, any scale (only the order matters).
    dims : sequence of int
        The prefix sizes to train; the model's full size is added when missing, so that the
        full-size embedding is trained (and kept) too.
    pooling : {"mean", "cls"}, default="mean"
        As in :func:`skmrl._torch.encoder.encode`.
    max_length : int, default=256
        Texts are truncated to this many tokens.
    epochs : int, default=1
    learning_rate : float, default=2e-5
        AdamW's peak learning rate for the encoder.
    batch_size : int, default=32
        Texts per batch (pairs per batch with ``pairs``); at least 2.
    accumulation_steps : int, default=1
        Batches per optimiser step. Their losses are averaged, each weighted by its number of
        rows (texts, or pairs), so that for a loss that is a mean over examples (the heads'
        cross-entropy) the step is that of one batch holding all their rows; the in-batch
        terms (CoSENT, self-distillation) still compare only the rows of each batch.
    warmup_ratio : float, default=0.1
        Share of the optimiser steps with a linear warm-up; a linear decay to 0 follows.
    weight_decay : float, default=0.01
        AdamW weight decay (not on biases and layer norms).
    max_grad_norm : float, default=1.0
        Gradients are clipped to this global norm (``0`` or ``None``: no clipping).
    device : str, default="cpu"
        A concrete device for training (``"cpu"``, ``"cuda:0"``, ...).
    dtype : torch.dtype, optional
        Autocast dtype: ``torch.float16`` (CUDA only, with a gradient scaler) or
        ``torch.bfloat16`` (CUDA, MPS, or the CPU as an opt-in). ``None``: float32.
    seed : int, default=0
        Seeds batch order, dropout and the heads; on the CPU the same seed (and threads) gives
        bit-identical weights. The global random state is left as it was.
    progress : bool or None, default=None
        Show a tqdm bar with the loss; ``None``: when stderr is a terminal or in a notebook.
    threads : int, optional
        Torch threads while training on the CPU (restored afterwards); default
        :data:`DEFAULT_THREADS`.
    distill_weight : float, default=DEFAULT_DISTILL_WEIGHT
        With ``labels``: weight of the self-distillation term beside the heads' cross-entropy.
    head_learning_rate : float, default=1e-3
        With ``labels``: learning rate of the (new, randomly initialised) heads.
    dim_weights : sequence of float, optional
        Weight of each prefix's loss, in the order of the (sorted, full size included) dims;
        default 1 each. Measured with self-distillation (MiniLM, 3,000 STSb train sentences,
        2 epochs, dims 8..256 + 384; STSb dev Spearman at 8/16/32/64/384, original
        66.4/75.7/81.3/83.9/86.7): equal weights 69.6/76.8/80.6/82.9/85.6; the full size
        weighted 6 (as much as the six prefixes) 68.9/76.6/80.8/83.4/86.2: weight the full
        size up where keeping it matters more than the shortest prefixes.
    layers : sequence of int, optional
        2D Matryoshka: also train the pooled output of these layers (1-based; the full depth
        is added when missing), each at every prefix of ``dims``, against the same targets
        (the full-depth teacher, the labels, the scores). Default: the last layer only.
    layer_weights : sequence of float, optional
        Weight of each layer's nested loss, in the order of the (sorted, full depth included)
        layers; default 1 each.

    Returns
    -------
    FineTuneResult

    Raises
    ------
    ValueError
        Nothing to train on, pairs without scores, lengths that differ, fewer than two texts or
        pairs, a single class, equal scores, bad dims or hyperparameters; float16 on the CPU or
        on MPS.
    FloatingPointError
        The training diverged (a learning rate too high): raised at the first step whose loss
        is not finite or whose step size overflows float32, or after training when a weight
        is not.
    """
    t_start = time.perf_counter()
    objective, all_texts, targets = _check_inputs(texts, labels, pairs, scores)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling!r} is not understood; expected one of {POOLINGS}")
    hidden_size = int(model.config.hidden_size)
    dims = _check_dims(dims, hidden_size)
    _check_positive(
        epochs=epochs, batch_size=batch_size, accumulation_steps=accumulation_steps,
        max_length=max_length,
    )  # fmt: skip
    if batch_size < 2:
        raise ValueError(f"batch_size must be at least 2 (in-batch losses), got {batch_size}")
    if not (learning_rate > 0 and head_learning_rate > 0):
        raise ValueError("learning rates must be positive")
    if not 0 <= warmup_ratio < 1:
        raise ValueError(f"warmup_ratio must lie in [0, 1), got {warmup_ratio!r}")
    if dim_weights is not None and len(dim_weights) != len(dims):
        raise ValueError(f"got {len(dim_weights)} dim_weights for dims {dims}")
    depth = layer_count(model)
    layers = _check_layers(layers, depth)
    if layer_weights is not None:
        if layers is None:
            raise ValueError("layer_weights goes with layers=")
        if len(layer_weights) != len(layers):
            raise ValueError(f"got {len(layer_weights)} layer_weights for layers {layers}")
        layer_w = [float(w) for w in layer_weights]
    else:
        layer_w = [1.0] * len(layers or ())
    device_type = torch.device(device).type
    if dtype is not None and dtype not in (torch.float16, torch.bfloat16):
        raise ValueError(f"dtype must be None, torch.float16 or torch.bfloat16, got {dtype!r}")
    if device_type == "cpu" and dtype == torch.float16:
        raise ValueError("float16 on the CPU is emulated and slow: use torch.bfloat16 or None")
    if device_type == "mps" and dtype == torch.float16:
        # fp16 training needs a gradient scaler (small gradients underflow to zero in fp16),
        # and torch's on MPS has failed or trained nothing (float64 in unscale_, pytorch#142397;
        # fp16 gradients zeroed by its MPS kernel, #184286; fused Adam ignoring the steps it
        # skips, #186360). Unscaled, the training lost its small gradients silently.
        raise ValueError(
            "float16 training on MPS has no working gradient scaler, so small gradients would "
            "underflow to zero silently: use torch.bfloat16 or None (precision='bf16' or "
            "'fp32'; fp16 is fine for encoding on MPS)"
        )
    if threads is not None:
        _check_positive(threads=threads)

    ids, lengths = tokenize(all_texts, tokenizer, max_length)
    all_texts, ids, lengths, targets = _without_tokenless(
        objective, all_texts, ids, lengths, targets
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rng = np.random.default_rng(seed)

    # The teacher: the frozen original's full-size vectors, once, before training.
    teacher_unit = neighbours = None
    if objective != "cosent":
        teacher_device = str(next(model.parameters()).device)
        was_training = model.training
        model.eval()  # a model passed in train mode would give dropout-noised targets
        try:
            vectors = encode(
                all_texts, model, tokenizer, device=teacher_device, pooling=pooling,
                max_length=max_length,
                # the teacher's own device decides its precision (a CPU teacher beside a GPU
                # student in fp32: fp16 is emulated, and slow, on the CPU)
                dtype=dtype if torch.device(teacher_device).type != "cpu" else None,
                progress=progress,
            )  # fmt: skip
        finally:
            model.train(was_training)
        teacher_unit = F.normalize(torch.from_numpy(vectors), dim=1)
        if objective == "distillation":
            neighbours = nearest_neighbours(teacher_unit, 2 * GROUP_SIZE)
        teacher_unit = teacher_unit.to(device)

    n_rows = len(all_texts) // 2 if objective == "cosent" else len(all_texts)
    pair_lengths = (
        np.maximum(lengths[:n_rows], lengths[n_rows:]) if objective == "cosent" else lengths
    )

    def epoch_batches() -> list[np.ndarray]:
        if objective == "distillation":
            return neighbour_batches(neighbours, lengths, batch_size, rng)
        return length_batches(pair_lengths, batch_size, rng)

    n_threads = (threads or DEFAULT_THREADS) if device_type == "cpu" else None
    with contextlib.ExitStack() as stack:
        stack.enter_context(_seeded(seed, device))
        stack.enter_context(grad_enabled())
        if n_threads is not None:  # counted with other threads' blocks (one_torch_thread)
            stack.enter_context(torch_thread_block(n_threads))

        student = copy.deepcopy(model).to(device)
        student.requires_grad_(True)
        student.train()
        # Every layer's output from one pass (shares the student's modules and parameters).
        view = layer_view(student, depth, every_layer=True) if layers is not None else None

        def embed(input_ids: torch.Tensor, mask: Any) -> list[torch.Tensor]:
            if view is None:
                return [_embed(student, input_ids, mask, pooling)]
            return _embed_layers(view, layers, input_ids, mask, pooling)

        weights_by_layer = layer_w or [1.0]
        groups = _param_groups(student, weight_decay, learning_rate)
        heads = None
        if objective == "classification":
            heads = NestedHeads(dims, int(targets.max()) + 1, dim_weights).to(device)
            groups.append({"params": list(heads.parameters()), "lr": head_learning_rate,
                           "weight_decay": 0.0})  # fmt: skip
        optimizer = _adamw(groups, learning_rate, device_type)
        plan = [epoch_batches() for _ in range(epochs)]
        n_micro = sum(len(p) for p in plan)
        total_steps = sum(math.ceil(len(p) / accumulation_steps) for p in plan)
        warmup = math.ceil(warmup_ratio * total_steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(warmup, total_steps))
        scaler = _grad_scaler(device_type, dtype)
        params = [p for g in optimizer.param_groups for p in g["params"]]
        score_t = None
        if targets is not None:
            # float32 scores (MPS has no float64), in a copy (torch warns on read-only arrays,
            # a pandas column under copy-on-write); labels are codes skmrl made
            score_t = torch.as_tensor(
                targets.astype(np.float32) if targets.dtype.kind == "f" else targets,
                device=device,
            )

        autocast = (
            torch.autocast(device_type=device_type, dtype=dtype)
            if dtype is not None
            else contextlib.nullcontext()
        )

        def embed_fp32(input_ids: torch.Tensor, mask: Any) -> list[torch.Tensor]:
            """The encoder runs in the reduced precision; the losses on its output in float32
            (in bf16, the distillation loss at cosines near 1 was 4% off)."""
            with autocast:
                out = embed(input_ids, mask)
            return [e.float() for e in out]

        def loss_of(rows: np.ndarray) -> torch.Tensor:
            rows_t = torch.from_numpy(rows).to(device)
            if objective == "cosent":
                both = np.concatenate([rows, rows + n_rows])
                input_ids, mask = collate(ids, lengths, both, pad_id, device)
                gold = score_t[rows_t].float()
                total = None
                for w, emb in zip(weights_by_layer, embed_fp32(input_ids, mask), strict=True):
                    a, b = emb[: len(rows)], emb[len(rows) :]
                    term = w * nested_loss(cosent_loss, (a, b), dims, dim_weights, gold)
                    total = term if total is None else total + term
                return total
            input_ids, mask = collate(ids, lengths, rows, pad_id, device)
            t = teacher_unit[rows_t]
            target = t @ t.T
            total = None
            for w, emb in zip(weights_by_layer, embed_fp32(input_ids, mask), strict=True):
                term = nested_loss(similarity_distillation_loss, emb, dims, dim_weights, target)
                if objective == "classification":
                    ce = heads.loss(emb, score_t[rows_t])
                    term = ce + distill_weight * term if distill_weight else ce
                total = w * term if total is None else total + w * term
            return total

        from skmrl._progress import show_progress

        bar = None
        if show_progress(progress):
            from tqdm.auto import tqdm

            bar = tqdm(total=n_micro, desc="fine-tuning", unit="batch", leave=False)
        losses: list[float] = []
        n_sentences = 0
        t_train = time.perf_counter()
        try:
            for epoch_plan in plan:
                for start in range(0, len(epoch_plan), accumulation_steps):
                    chunk = epoch_plan[start : start + accumulation_steps]
                    chunk_rows = sum(len(rows) for rows in chunk)
                    step_loss = 0.0
                    for rows in chunk:
                        # Each batch weighs its share of the step's rows (batch sizes differ
                        # by a row or two): for a mean over examples, k batches then step as
                        # one batch of all their rows would.
                        loss = loss_of(rows) * (len(rows) / chunk_rows)
                        (scaler.scale(loss) if scaler is not None else loss).backward()
                        step_loss += float(loss.detach())
                        n_sentences += len(rows) * (2 if objective == "cosent" else 1)
                        if bar is not None:
                            bar.update(1)
                    if scaler is not None:
                        scaler.unscale_(optimizer)
                    if max_grad_norm:
                        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
                    try:
                        if scaler is not None:
                            scaler.step(optimizer)
                            scaler.update()
                        else:
                            optimizer.step()
                    except RuntimeError as exc:
                        if not step_size_overflowed(exc):
                            raise
                        _diverged(
                            f"the step size overflowed at step {len(losses) + 1}", learning_rate
                        )
                    optimizer.zero_grad(set_to_none=True)
                    scheduler.step()
                    losses.append(step_loss)
                    if bar is not None:
                        bar.set_postfix(loss=f"{step_loss:.4f}", refresh=False)
                    # A gradient scaler skips the steps whose gradients overflow; without one,
                    # a non-finite loss has already made the weights NaN.
                    if scaler is None and not math.isfinite(step_loss):
                        _diverged(f"the loss was {step_loss} at step {len(losses)}", learning_rate)
        finally:
            if bar is not None:
                bar.close()
        train_seconds = time.perf_counter() - t_train
        if scaler is not None:
            _check_skipped_steps(losses)
        if not all(bool(torch.isfinite(p).all()) for p in student.parameters()):
            _diverged("the trained weights hold NaN or infinity", learning_rate)
        # Finite weights can still be huge (learning_rate=1e7: about 5e6) and give NaN vectors,
        # which fit returned without a word: a few training texts are encoded, in the
        # training's precision and threads, as transform will.
        student.eval()
        rows = np.arange(min(len(all_texts), batch_size))
        with torch.inference_mode(), autocast:
            out = _embed(student, *collate(ids, lengths, rows, pad_id, device), pooling)
        if not bool(torch.isfinite(out).all()):
            _diverged("the trained encoder gives NaN or infinite vectors", learning_rate)

    student.eval()
    student.requires_grad_(False)
    return FineTuneResult(
        model=student,
        losses=losses,
        sentences_per_second=n_sentences / max(train_seconds, 1e-9),
        seconds=time.perf_counter() - t_start,
        n_steps=len(losses),
        objective=objective,
        threads=n_threads,
    )
