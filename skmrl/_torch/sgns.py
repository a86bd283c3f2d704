"""Word2vec training in torch: skip-gram / CBOW, negative sampling, a nested (Matryoshka) loss.

No autograd, no optimizer: the gradients of the negative-sampling loss are computed by hand and
applied as sparse row updates (``index_add_``), as in word2vec.c and gensim, but on blocks of
tokens so that the arithmetic is batched matrix products.

Layout of one step. The kept tokens of an epoch (after frequent-word subsampling) form one stream
(documents end to end; pairs never cross a document boundary). The stream is cut into blocks of
``block`` consecutive centre tokens; block ``k`` reads the input vectors of its tokens and
``window`` tokens of halo on each side, ``I`` of shape ``(block + 2 window, D)``, and the output
vectors of its centres, ``O`` of shape ``(block, D)``. The positive scores of every (context,
centre) pair of the block are the banded entries of ``I @ O.T`` (a mask keeps the pairs within each
centre's randomly reduced window, as word2vec does). Negatives are drawn from the unigram^0.75
distribution and shared by the block: ``n_neg`` output vectors ``N`` per block, scored against
every input row by ``I @ N.T``; each input row's negative term is weighted by ``negative *
pairs(row) / n_neg``, so that its expected gradient equals word2vec's (``negative`` fresh negatives
per pair).

The output rows of a block (its ``block`` centres, then its ``n_neg`` negatives) are scored
together, as one matrix ``R`` of shape ``(block + n_neg, D)``: a step is a few batched products.

Each row's summed update of a step is scaled down where many pairs make it (its step mass,
``lr * pairs``, is capped), or where it would move the row's scores by many logits (``lr *
sum |error| * |other row|^2`` is capped): summing many gradients taken at one point overshoots,
and without the second cap vectors grew without end in large steps or without subsampling.

The nested loss: the vectors are cut into segments at the nesting boundaries (e.g. 8, 16, 32, 64,
128). Per-segment partial scores are summed into the scores of each prefix (a product with a
lower-triangular matrix of ones), each prefix gets its own logistic error, and the errors are
summed back into one coefficient per segment (the gradient of the sum of the prefix losses; an
upper-triangular product), divided by the number of prefixes that contain the segment so that
every coordinate takes steps of word2vec's size. The cost is that of a plain loss.

Threads. On the CPU a step's blocks are split between ``workers`` threads (torch releases the GIL
inside its kernels, and each thread runs its kernels on itself, one intra-op thread each). All of
them read the tables as they were at the start of the step; their gradients are joined in block
order, and the input and output tables are then updated by one thread each. So the result does
not depend on the number of threads (no Hogwild races): a fixed seed gives the same vectors with
1 or 2 threads. Each step ends with a join, and the step-level work (indices, masks, step sizes)
runs on one thread.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from skmrl._torch.losses import default_matryoshka_dims

__all__ = ["train_word2vec", "train_word_vectors"]

#: Centre tokens per step by default, on any device. A GPU had 32,768, which diverged on TREC
#: and BBC News (every document one vector, or a FloatingPointError after every epoch), and
#: trains worse where the step bounds below keep it finite: on BBC News (5 epochs, 32 dims)
#: 0.833 accuracy at 32 dims against 0.916, 0.903 at 8,192 (0.68, 0.828 and 0.854 at 8 dims).
#: A GPU's speed at 1,024 is not measured (none was at hand).
DEFAULT_BATCH_WORDS = 1024
#: Centre tokens per block, and negatives shared per block (see the module docstring).
BLOCK = 16
BLOCK_NEGATIVES = 16
#: Cap of ``lr * (pairs updating a row in one step)``: a frequent word's summed update is scaled
#: down to this step mass, since summing many gradients taken at one point overshoots.
MAX_STEP_MASS = 8.0
#: Cap of ``lr * (an estimate of how far a row's summed step moves its scores)``, the sum over
#: the row's pairs of ``|logistic error| * |other row|^2`` (the full-size scores' change per
#: unit of step, cross terms left out): a row's summed step is scaled down so that it moves
#: its scores by about this many logits at most (a review measured up to 13 with sample=0, 2.5
#: at the defaults), a bound that the pair count alone misses once vectors grow. Without it,
#: steps of 8,192 or 32,768 centre tokens, or a corpus without subsampling (``sample=0``),
#: grew the vectors without end (norms of 1e12 to inf; on TREC at 32,768 every document one
#: vector).
#: At 8 the default training keeps its accuracy (5-fold, LogisticRegression): TREC at dims
#: 8/16/64 0.531/0.590/0.700 (0.531/0.590/0.701 without it), BBC News (5 epochs, 32 dims) at
#: 8/32 0.854/0.916 (0.850/0.914); TREC trains with sample=0 (0.526/0.596/0.698) and in steps
#: of 32,768 (0.518/0.602/0.681). Bounding by the curvature (sigmoid') instead left sample=0
#: diverging on a corpus of 17 words, and cost BBC 1.5 points at 8 dims where it held.
MAX_STEP_SHIFT = 8.0
#: A table whose largest entry grows past this many times its start (and past 1,000) has
#: diverged: training stops at the end of that epoch, not after every epoch.
_DIVERGED_GROWTH = 1e3
#: A thread gets at least this many blocks of a step (fewer are not worth a thread).
MIN_BLOCKS_PER_THREAD = 8
#: Most threads that ``workers=None`` trains with (more split a step too finely to gain).
MAX_DEFAULT_WORKERS = 4


def _segments(nested_dims: Sequence[int], dim: int) -> list[tuple[int, int]]:
    bounds = sorted({int(d) for d in nested_dims if 0 < d < dim} | {dim})
    starts = [0, *bounds[:-1]]
    return list(zip(starts, bounds, strict=True))


def train_word_vectors(
    tokens: np.ndarray,
    doc_ids: np.ndarray,
    keep_proba: np.ndarray,
    counts: np.ndarray,
    w_in: np.ndarray,
    w_out: np.ndarray,
    *,
    epochs: int,
    nested_dims: Collection[int] | None,
    device: str,
    batch_size: int | None,
    workers: int | None,
    progress: bool | None,
    **settings: Any,
) -> np.ndarray:
    """:func:`train_word2vec` as ``Word2VecEmbedder`` runs it: its defaults, a progress bar, and
    one intra-op torch thread per training thread on the CPU. Returns the trained input table.

    Parameters
    ----------
    epochs : int
        Passes over the corpus.
    nested_dims : sequence of int, optional
        Default: 8, 16, 32, ... below the table's size, and its size.
    device : str
        A device spec (``"auto"`` too).
    batch_size : int, optional
        Centre tokens per step (default: ``DEFAULT_BATCH_WORDS``, on any device).
    workers : int, optional
        Training threads on the CPU (default: torch's intra-op threads, at most
        ``MAX_DEFAULT_WORKERS``).
    progress : bool or None
        Show a progress bar (``None``: when stderr is a terminal or in Jupyter).
    **settings
        The rest of :func:`train_word2vec`'s settings, passed as they are (``sg``, ``window``,
        ``negative``, ``alpha``, ``min_alpha``, ``seed``).

    Raises
    ------
    FloatingPointError
        When training diverged (non-finite vectors).
    """
    from skmrl._progress import show_progress
    from skmrl._torch.device import one_torch_thread, resolve_device, torch_threads

    dev = resolve_device(device)
    max_dim = w_in.shape[1]
    # Threads that train on the CPU: by default torch's intra-op threads (the cores, or what
    # joblib leaves each worker of GridSearchCV(n_jobs=k)), at most MAX_DEFAULT_WORKERS.
    if workers is None:
        workers = min(torch_threads(), MAX_DEFAULT_WORKERS)
    if nested_dims is None:
        nested_dims = default_matryoshka_dims(max_dim)
    batch = batch_size or DEFAULT_BATCH_WORDS
    bar = None
    if show_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * len(tokens), unit="word", desc="word2vec", leave=False)
    # On CPU, each training thread runs torch with one intra-op thread: a step is many small
    # operations, for which intra-op threads cost more in synchronisation than they gain
    # (5x slower on a busy 2-core machine); parallelism comes from the workers' threads.
    try:
        with one_torch_thread(dev == "cpu"), torch.inference_mode():
            w_in, _ = train_word2vec(  # raises FloatingPointError at the epoch that diverged
                tokens,
                doc_ids,
                keep_proba,
                counts,
                w_in,
                w_out,
                epochs=epochs,
                batch_words=int(batch),
                nested_dims=[int(d) for d in nested_dims],
                device=dev,
                workers=int(workers),
                progress=None if bar is None else bar.update,
                **settings,
            )
    finally:
        if bar is not None:
            bar.close()
    return w_in


def train_word2vec(
    tokens: np.ndarray,
    doc_ids: np.ndarray,
    keep_proba: np.ndarray,
    counts: np.ndarray,
    w_in: np.ndarray,
    w_out: np.ndarray,
    *,
    sg: bool,
    window: int,
    negative: int,
    alpha: float,
    min_alpha: float,
    epochs: int,
    batch_words: int,
    nested_dims: Sequence[int],
    device: str,
    seed: int,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Train word vectors in place of copies of ``w_in`` / ``w_out``; return them as numpy.

    Parameters
    ----------
    tokens, doc_ids : int arrays of shape (n_tokens,)
        The corpus as vocabulary ids (out-of-vocabulary words removed) and the document of each.
    keep_proba : float array of shape (V,)
        Probability of keeping each word at each epoch (frequent-word subsampling).
    counts : float array of shape (V,)
        Word counts; negatives are drawn with probability proportional to ``counts ** 0.75``.
    w_in, w_out : float32 arrays of shape (V, D)
        Initial input and output tables.
    workers : int, default=1
        Threads that compute each step (the result does not depend on it; see the module
        docstring). The caller sets torch's intra-op threads (one per worker is best on the CPU).
    progress : callable, optional
        Called with the number of raw corpus tokens processed after each step.
    """
    dev = torch.device(device)
    n_tok = len(tokens)
    dim = w_in.shape[1]
    segs = _segments(nested_dims, dim)
    n_seg = len(segs)
    # Prefix scores from segment scores (lower triangle), and segment coefficients from prefix
    # errors (upper triangle), each segment's divided by the number of prefixes containing it.
    ones = torch.ones(n_seg, n_seg, dtype=torch.float32, device=dev)
    to_prefix = torch.tril(ones)
    # float32 throughout, whatever torch's default dtype (set_default_dtype(torch.float64) made
    # these float64, and training failed in torch: "expected m1 and m2 to have the same dtype")
    f32 = torch.float32
    scale = torch.tensor([1.0 / (n_seg - s) for s in range(n_seg)], dtype=f32, device=dev)
    scale = scale.view(n_seg, 1)
    to_segment = torch.triu(ones) * scale

    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed))
    win_t = torch.from_numpy(np.ascontiguousarray(w_in, dtype=np.float32)).to(dev).clone()
    wout_t = torch.from_numpy(np.ascontiguousarray(w_out, dtype=np.float32)).to(dev).clone()
    tok_t = torch.from_numpy(np.asarray(tokens, dtype=np.int64)).to(dev)
    doc_t = torch.from_numpy(np.asarray(doc_ids, dtype=np.int64)).to(dev)
    keep_t = torch.from_numpy(np.asarray(keep_proba, dtype=np.float32)).to(dev)
    # The unigram^0.75 distribution in float64, sent as float32: MPS has no float64 (a float64
    # tensor sent there is a TypeError, and device="auto" picks MPS on a Mac).
    cum = np.cumsum(np.asarray(counts, dtype=np.float64) ** 0.75)
    neg_cum = torch.from_numpy((cum / cum[-1]).astype(np.float32)).to(dev)
    n_words = win_t.shape[0]

    L, W, K = BLOCK, int(window), BLOCK_NEGATIVES
    span = L + 2 * W
    rel = torch.arange(span, device=dev).view(span, 1) - W - torch.arange(L, device=dev).view(1, L)
    abs_rel = rel.abs().view(1, span, L)
    not_self = abs_rel >= 1
    halo = torch.arange(span, device=dev).view(1, span)
    blocks_per_step = max(1, int(batch_words) // L)
    neg_weight = float(negative) / K
    # 1 for the centre columns of R, 0 for the negatives: the logistic target of each score.
    target = torch.cat(
        [torch.ones(L, dtype=f32, device=dev), torch.zeros(K, dtype=f32, device=dev)]
    )
    eye = torch.eye(L, dtype=f32, device=dev)
    total = max(1, epochs * n_tok)
    done = 0
    grads = _sg_grads if sg else _cbow_grads
    ctx = (segs, to_prefix, to_segment, target, eye, neg_weight)
    workers = max(1, int(workers)) if dev.type == "cpu" else 1
    pool = None
    if workers > 1:  # the calling thread is one of the workers
        pool = ThreadPoolExecutor(workers - 1, initializer=torch.set_num_threads, initargs=(1,))

    start = max(_largest(win_t), _largest(wout_t), 1.0)
    try:
        for epoch in range(epochs):
            # Subsampling, reduced windows and negatives of the whole epoch, drawn at once.
            keep = torch.rand(n_tok, generator=gen, device=dev) < keep_t[tok_t]
            t = tok_t[keep]
            d = doc_t[keep]
            n = int(t.shape[0])
            n_blocks = max(1, math.ceil(n / L))
            pad_right = n_blocks * L - n + W
            # Padding tokens get document id -1: they pair with nothing.
            t = torch.cat([t.new_zeros(W), t, t.new_zeros(pad_right)])
            d = torch.cat([d.new_full((W,), -1), d, d.new_full((pad_right,), -1)])
            reduced_all = torch.randint(1, W + 1, (n_blocks, 1, L), generator=gen, device=dev)
            u = torch.rand(n_blocks * K, generator=gen, device=dev)
            neg_all = torch.searchsorted(neg_cum, u).clamp_(max=n_words - 1).view(n_blocks, K)
            raw_per_block = n_tok / n_blocks
            for b0 in range(0, n_blocks, blocks_per_step):
                nb = min(blocks_per_step, n_blocks - b0)
                lr = alpha - (alpha - min_alpha) * min(1.0, done / total)
                in_pos = (torch.arange(b0, b0 + nb, device=dev) * L).view(nb, 1) + halo
                in_idx = t[in_pos]  # (nb, span)
                in_doc = d[in_pos]
                ctr_doc = in_doc[:, W : W + L]
                out_idx = torch.cat([in_idx[:, W : W + L], neg_all[b0 : b0 + nb]], 1)
                mask = (
                    not_self
                    & (abs_rel <= reduced_all[b0 : b0 + nb])
                    & (in_doc.unsqueeze(2) == ctr_doc.unsqueeze(1))
                    & (ctr_doc.unsqueeze(1) >= 0)
                ).to(torch.float32)  # (nb, span, L)
                d_in, d_out, shift_in, shift_out = _split_grads(
                    pool, workers, grads, win_t, wout_t, in_idx, out_idx, mask, ctx
                )
                # Damp the summed step of rows that many pairs update at once (frequent words):
                # their step mass ``lr * pairs`` is capped at MAX_STEP_MASS, and the logits it
                # moves their scores by, ``lr * shift``, at MAX_STEP_SHIFT.
                in_pairs = mask.sum(2)  # (nb, span)
                neg_pairs = (in_pairs.sum(1, keepdim=True) * neg_weight).expand(nb, K)
                out_pairs = torch.cat([mask.sum(1), neg_pairs], 1)  # (nb, L + K)
                in_idx = in_idx.reshape(-1)
                out_idx = out_idx.reshape(-1)
                in_rate = _entry_rates(in_idx, in_pairs.reshape(-1), shift_in, lr, n_words)
                out_rate = _entry_rates(out_idx, out_pairs.reshape(-1), shift_out, lr, n_words)
                # One thread per table: each table's updates keep one order.
                job = None
                if pool is not None:
                    job = pool.submit(_no_grad, _apply, win_t, in_idx, d_in, in_rate)
                else:
                    _apply(win_t, in_idx, d_in, in_rate)
                _apply(wout_t, out_idx, d_out, out_rate)
                if job is not None:
                    job.result()
                step_raw = round(raw_per_block * (b0 + nb)) - round(raw_per_block * b0)
                done += step_raw
                if progress is not None:
                    progress(step_raw)
            _check_not_diverged(win_t, wout_t, start, epoch, epochs, batch_words, alpha)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return win_t.cpu().numpy(), wout_t.cpu().numpy()


def _check_not_diverged(
    win_t: torch.Tensor,
    wout_t: torch.Tensor,
    start: float,
    epoch: int,
    epochs: int,
    batch_words: int,
    alpha: float,
) -> None:
    """A ``FloatingPointError`` when a table holds a non-finite entry or one grown past
    ``_DIVERGED_GROWTH`` times its largest at the start: checked after each epoch, so a run
    that diverged stops there (it trained every epoch, then said "lower alpha or batch_size"
    of settings at their defaults)."""
    entries = (_largest(win_t), _largest(wout_t))  # each: max(1.0, nan) is 1.0 in Python
    if all(math.isfinite(e) and e <= _DIVERGED_GROWTH * start for e in entries):
        return
    finite = all(math.isfinite(e) for e in entries)
    grown = f"{max(entries):.3g}" if finite else "a non-finite value"
    raise FloatingPointError(
        f"word2vec training diverged in epoch {epoch + 1} of {epochs} (a vector entry reached "
        f"{grown}): lower batch_size (it was {batch_words}; the default is "
        f"{DEFAULT_BATCH_WORDS}) or alpha (it was {alpha:g})"
    )


def _largest(table: torch.Tensor) -> float:
    """The largest absolute entry of ``table``, in one pass without a copy (``abs()`` copied the
    table: about 1 s per epoch for a million words, and the table's memory again); NaN where
    the table holds one."""
    low, high = torch.aminmax(table)
    return max(float(high), -float(low))


def _no_grad(fn, *args):
    """Run ``fn`` in inference mode (a thread-local setting: each pool thread enters it)."""
    with torch.inference_mode():
        return fn(*args)


def _entry_rates(
    idx: torch.Tensor, pairs: torch.Tensor, shift: torch.Tensor, lr: float, n_words: int
) -> torch.Tensor:
    """The learning rate of each of a step's updates (rows ``idx``, weighing ``pairs`` pairs
    each and moving their scores by ``shift`` per unit of step): ``lr``, damped where the rows'
    summed step mass ``lr * pairs`` passes MAX_STEP_MASS, or their summed score shift
    ``lr * shift`` passes MAX_STEP_SHIFT.

    A bincount over the whole vocabulary is fastest while it is not much larger than the step;
    beside a vectors file of millions of words it made each step's cost grow with the
    vocabulary (epochs 3-4x slower with 2M words), so there the masses are summed over the
    rows the step touches. Both sum in the order of ``idx``: the rates are the same.
    """
    if n_words <= _BINCOUNT_MAX_RATIO * idx.numel():
        mass = torch.bincount(idx, pairs, minlength=n_words)
        moved = torch.bincount(idx, shift, minlength=n_words)
        row = idx
    else:  # row: each update's place among the rows the step touches
        rows, row = torch.unique(idx, return_inverse=True)
        mass = torch.zeros(len(rows), dtype=pairs.dtype, device=pairs.device)
        mass.index_add_(0, row, pairs)
        moved = torch.zeros(len(rows), dtype=shift.dtype, device=shift.device)
        moved.index_add_(0, row, shift)
    damp = torch.maximum(mass * (lr / MAX_STEP_MASS), moved * (lr / MAX_STEP_SHIFT))
    return (lr / damp.clamp_(min=1.0))[row]


#: Vocabulary size, per update of a step, up to which the step's rates come from a bincount
#: over every word (past it, from the rows the step touches: see ``_entry_rates``).
_BINCOUNT_MAX_RATIO = 8


def _apply(table: torch.Tensor, idx: torch.Tensor, delta: torch.Tensor, rate: torch.Tensor) -> None:
    """Add each update ``delta`` times its rate (one per entry of ``idx``) to its row."""
    table.index_add_(0, idx, delta.mul_(rate.unsqueeze(1)))


def _split_grads(pool, workers, grads, win_t, wout_t, in_idx, out_idx, mask, ctx):
    """The step's gradients, its blocks split between ``workers`` threads, joined in order."""
    nb = in_idx.shape[0]
    n_parts = max(1, min(workers, nb // MIN_BLOCKS_PER_THREAD))
    if pool is None or n_parts == 1:
        return grads(win_t, wout_t, in_idx, out_idx, mask, ctx)
    bounds = [round(nb * i / n_parts) for i in range(n_parts + 1)]
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    jobs = [
        pool.submit(_no_grad, grads, win_t, wout_t, in_idx[p], out_idx[p], mask[p], ctx)
        for p in parts[1:]
    ]
    first = grads(win_t, wout_t, in_idx[parts[0]], out_idx[parts[0]], mask[parts[0]], ctx)
    results = [first] + [job.result() for job in jobs]
    return tuple(torch.cat([r[i] for r in results]) for i in range(4))


def _nested_grads(X, R, weight, ctx):
    """Gradients of the nested loss for scores ``X @ R.T`` (inputs ``X``, outputs ``R``).

    ``weight`` (nb, rows of X, rows of R) weighs each score's logistic error (0: no pair); the
    first ``L`` columns of ``R`` are positives, the rest negatives. Returns ``d_X`` and ``d_R``,
    and how far each row's step moves its scores per unit (``shift_X``, ``shift_R``).
    """
    segs, to_prefix, to_segment, target, _, _ = ctx
    n_seg = len(segs)
    partial = torch.stack([torch.bmm(X[..., a:b], R[..., a:b].transpose(1, 2)) for a, b in segs])
    shape = partial.shape
    scores = (to_prefix @ partial.view(n_seg, -1)).view(shape)
    err = torch.sigmoid(scores).neg_().add_(target).mul_(weight)
    # How far each row's step moves its full-size scores per unit of step: |error| * weight,
    # times the squared norms of the other side's rows (_entry_rates bounds it)
    size = err[-1].abs()  # (nb, rows of X, rows of R)
    coef = (to_segment @ err.view(n_seg, -1)).view(shape)
    d_x = torch.cat([torch.bmm(coef[s], R[..., a:b]) for s, (a, b) in enumerate(segs)], -1)
    d_r = torch.cat(
        [torch.bmm(coef[s].transpose(1, 2), X[..., a:b]) for s, (a, b) in enumerate(segs)], -1
    )
    shift_x = torch.bmm(size, R.pow(2).sum(-1, keepdim=True)).squeeze(2)  # (nb, rows of X)
    shift_r = torch.bmm(size.transpose(1, 2), X.pow(2).sum(-1, keepdim=True)).squeeze(2)
    return d_x, d_r, shift_x, shift_r


def _sg_grads(win_t, wout_t, in_idx, out_idx, mask, ctx):
    """Skip-gram: inputs are the context words, outputs the centre words and the negatives."""
    nb, span = in_idx.shape
    neg_weight = ctx[5]
    I = win_t.index_select(0, in_idx.reshape(-1)).view(nb, span, -1)  # noqa: E741
    R = wout_t.index_select(0, out_idx.reshape(-1)).view(nb, out_idx.shape[1], -1)
    pairs = mask.sum(2, keepdim=True) * neg_weight  # (nb, span, 1)
    n_neg = out_idx.shape[1] - mask.shape[2]
    weight = torch.cat([mask, pairs.expand(nb, span, n_neg)], 2)
    d_in, d_r, s_in, s_r = _nested_grads(I, R, weight, ctx)
    return d_in.view(nb * span, -1), d_r.view(-1, d_r.shape[-1]), s_in.reshape(-1), s_r.reshape(-1)


def _cbow_grads(win_t, wout_t, in_idx, out_idx, mask, ctx):
    """CBOW: the input is the mean of the context vectors; outputs as in skip-gram.

    As in word2vec.c and gensim (``cbow_mean=1``), every context word receives the whole error of
    the mean vector. The block's negatives are weighted by ``negative / n_neg`` per centre. The
    centre scores are the diagonal of ``H @ O.T`` (the weight masks the rest).
    """
    nb, span = in_idx.shape
    L = mask.shape[2]
    eye, neg_weight = ctx[4], ctx[5]
    I = win_t.index_select(0, in_idx.reshape(-1)).view(nb, span, -1)  # noqa: E741
    R = wout_t.index_select(0, out_idx.reshape(-1)).view(nb, out_idx.shape[1], -1)
    n_ctx = mask.sum(1)  # (nb, L)
    has_ctx = (n_ctx > 0).to(I.dtype).unsqueeze(2)  # (nb, L, 1)
    avg = mask / n_ctx.clamp(min=1).unsqueeze(1)  # (nb, span, L)
    H = torch.bmm(avg.transpose(1, 2), I)  # (nb, L, dim): mean context vector per centre
    n_neg = out_idx.shape[1] - L
    weight = torch.cat([eye * has_ctx, (has_ctx * neg_weight).expand(nb, L, n_neg)], 2)
    d_h, d_r, s_h, s_r = _nested_grads(H, R, weight, ctx)
    d_in = torch.bmm(mask, d_h)  # each context word gets its centres' errors
    s_in = torch.bmm(mask, s_h.unsqueeze(2)).squeeze(2)  # and their score shifts
    return d_in.view(nb * span, -1), d_r.view(-1, d_r.shape[-1]), s_in.reshape(-1), s_r.reshape(-1)
