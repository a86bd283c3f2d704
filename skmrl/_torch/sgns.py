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

The nested loss: the vectors are cut into segments at the nesting boundaries (e.g. 8, 16, 32, 64,
128). Per-segment partial scores are cumsummed into the scores of each prefix, each prefix gets its
own logistic error, and the errors are reverse-cumsummed into one coefficient per segment (the
gradient of the sum of the prefix losses), divided by the number of prefixes that contain the
segment so that every coordinate takes steps of word2vec's size. The cost is that of a plain loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["train_word2vec"]

#: Centre tokens per block, and negatives shared per block (see the module docstring).
BLOCK = 16
BLOCK_NEGATIVES = 16
#: Cap of ``lr * (pairs updating a row in one step)``: a frequent word's summed update is scaled
#: down to this step mass, since summing many gradients taken at one point overshoots.
MAX_STEP_MASS = 8.0


def _segments(nested_dims: Sequence[int], dim: int) -> list[tuple[int, int]]:
    bounds = sorted({int(d) for d in nested_dims if 0 < d < dim} | {dim})
    starts = [0, *bounds[:-1]]
    return list(zip(starts, bounds, strict=True))


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
    progress : callable, optional
        Called with the number of raw corpus tokens processed after each step.
    """
    dev = torch.device(device)
    n_tok = len(tokens)
    dim = w_in.shape[1]
    segs = _segments(nested_dims, dim)
    n_seg = len(segs)
    # Each segment's step is divided by the number of prefixes that contain it.
    seg_scale = torch.tensor(
        [1.0 / (n_seg - s) for s in range(n_seg)], dtype=torch.float32, device=dev
    ).view(n_seg, 1, 1, 1)

    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed))
    win_t = torch.from_numpy(np.ascontiguousarray(w_in, dtype=np.float32)).to(dev).clone()
    wout_t = torch.from_numpy(np.ascontiguousarray(w_out, dtype=np.float32)).to(dev).clone()
    tok_t = torch.from_numpy(np.asarray(tokens, dtype=np.int64)).to(dev)
    doc_t = torch.from_numpy(np.asarray(doc_ids, dtype=np.int64)).to(dev)
    keep_t = torch.from_numpy(np.asarray(keep_proba, dtype=np.float32)).to(dev)
    neg_cum = torch.from_numpy(np.cumsum(np.asarray(counts, dtype=np.float64) ** 0.75)).to(dev)
    neg_cum = (neg_cum / neg_cum[-1]).to(torch.float32)
    n_words = win_t.shape[0]

    L, W, K = BLOCK, int(window), BLOCK_NEGATIVES
    span = L + 2 * W
    rel = torch.arange(span, device=dev).view(span, 1) - W - torch.arange(L, device=dev).view(1, L)
    abs_rel = rel.abs().view(1, span, L)
    halo = torch.arange(span, device=dev).view(1, span)
    blocks_per_step = max(1, int(batch_words) // L)
    neg_weight = float(negative) / K
    total = max(1, epochs * n_tok)
    done = 0

    for _epoch in range(epochs):
        keep = torch.rand(n_tok, generator=gen, device=dev) < keep_t[tok_t]
        t = tok_t[keep]
        d = doc_t[keep]
        n = int(t.shape[0])
        n_blocks = max(1, math.ceil(n / L))
        pad_right = n_blocks * L - n + W
        # Padding tokens get document id -1: they pair with nothing.
        t = torch.cat([t.new_zeros(W), t, t.new_zeros(pad_right)])
        d = torch.cat([d.new_full((W,), -1), d, d.new_full((pad_right,), -1)])
        raw_per_block = n_tok / n_blocks
        for b0 in range(0, n_blocks, blocks_per_step):
            nb = min(blocks_per_step, n_blocks - b0)
            lr = alpha - (alpha - min_alpha) * min(1.0, done / total)
            starts = (torch.arange(b0, b0 + nb, device=dev) * L).view(nb, 1)
            in_pos = starts + halo  # (nb, span) positions in the padded stream
            ctr_pos = in_pos[:, W : W + L]
            in_idx = t[in_pos].reshape(-1)
            ctr_idx = t[ctr_pos].reshape(-1)
            in_doc = d[in_pos]
            ctr_doc = d[ctr_pos]
            reduced = torch.randint(1, W + 1, (nb, 1, L), generator=gen, device=dev)
            mask = (
                (abs_rel >= 1)
                & (abs_rel <= reduced)
                & (in_doc.unsqueeze(2) == ctr_doc.unsqueeze(1))
                & (ctr_doc.unsqueeze(1) >= 0)
            ).to(torch.float32)  # (nb, span, L)
            u = torch.rand(nb * K, generator=gen, device=dev)
            neg_idx = torch.searchsorted(neg_cum, u).clamp_(max=n_words - 1)

            I = win_t.index_select(0, in_idx).view(nb, span, dim)  # noqa: E741
            O = wout_t.index_select(0, ctr_idx).view(nb, L, dim)  # noqa: E741
            N = wout_t.index_select(0, neg_idx).view(nb, K, dim)
            if sg:
                d_in, d_out, d_neg = _sg_step(I, O, N, mask, segs, seg_scale, neg_weight)
            else:
                d_in, d_out, d_neg = _cbow_step(I, O, N, mask, segs, seg_scale, neg_weight)
            # Damp the summed step of rows that many pairs update at once (frequent words):
            # their step mass ``lr * pairs`` is capped at MAX_STEP_MASS (see the module docstring).
            in_pairs = mask.sum(2).reshape(-1)
            out_pairs = mask.sum(1).reshape(-1)
            neg_pairs = (in_pairs.view(nb, span).sum(1, keepdim=True) * neg_weight).expand(nb, K)
            in_mass = torch.bincount(in_idx, in_pairs, minlength=n_words)
            out_mass = torch.bincount(ctr_idx, out_pairs, minlength=n_words)
            out_mass += torch.bincount(neg_idx, neg_pairs.reshape(-1), minlength=n_words)
            in_rate = lr / (in_mass * (lr / MAX_STEP_MASS)).clamp_(min=1.0)
            out_rate = lr / (out_mass * (lr / MAX_STEP_MASS)).clamp_(min=1.0)
            d_in = d_in.view(-1, dim).mul_(in_rate[in_idx].unsqueeze(1))
            d_out = d_out.view(-1, dim).mul_(out_rate[ctr_idx].unsqueeze(1))
            d_neg = d_neg.view(-1, dim).mul_(out_rate[neg_idx].unsqueeze(1))
            win_t.index_add_(0, in_idx, d_in)
            wout_t.index_add_(0, ctr_idx, d_out)
            wout_t.index_add_(0, neg_idx, d_neg)
            step_raw = round(raw_per_block * (b0 + nb)) - round(raw_per_block * b0)
            done += step_raw
            if progress is not None:
                progress(step_raw)
    return win_t.cpu().numpy(), wout_t.cpu().numpy()


def _nested_coefficients(
    partial: list[torch.Tensor], target: float, weight: torch.Tensor | None, seg_scale: torch.Tensor
) -> torch.Tensor:
    """Per-segment gradient coefficients from per-segment partial scores.

    ``partial[s]`` holds the score contributions of segment ``s``; the scores of prefix ``p`` are
    their cumulative sum. The log-likelihood gradient of prefix ``p`` with respect to its score is
    ``target - sigmoid(score_p)``; segment ``s`` belongs to prefixes ``s..S-1``, so its coefficient
    is the reverse cumulative sum of those errors (times ``weight``, then ``seg_scale``).
    """
    scores = torch.stack(partial).cumsum_(0)
    err = torch.sigmoid(scores).neg_()
    if target:
        err.add_(target)
    if weight is not None:
        err.mul_(weight)
    coef = err.flip(0).cumsum(0).flip(0)
    return coef.mul_(seg_scale)


def _sg_step(I, O, N, mask, segs, seg_scale, neg_weight):  # noqa: E741
    """Skip-gram: inputs are context words, outputs the centre word and the block's negatives."""
    pos = [torch.bmm(I[..., a:b], O[..., a:b].transpose(1, 2)) for a, b in segs]
    neg = [torch.bmm(I[..., a:b], N[..., a:b].transpose(1, 2)) for a, b in segs]
    pairs = mask.sum(2, keepdim=True)  # (nb, span, 1): pairs each input row is in
    g_pos = _nested_coefficients(pos, 1.0, mask, seg_scale)  # (S, nb, span, L)
    g_neg = _nested_coefficients(neg, 0.0, pairs * neg_weight, seg_scale)  # (S, nb, span, K)
    d_in = torch.empty_like(I)
    d_out = torch.empty_like(O)
    d_neg = torch.empty_like(N)
    for s, (a, b) in enumerate(segs):
        d_in[..., a:b] = torch.baddbmm(torch.bmm(g_pos[s], O[..., a:b]), g_neg[s], N[..., a:b])
        d_out[..., a:b] = torch.bmm(g_pos[s].transpose(1, 2), I[..., a:b])
        d_neg[..., a:b] = torch.bmm(g_neg[s].transpose(1, 2), I[..., a:b])
    return d_in, d_out, d_neg


def _cbow_step(I, O, N, mask, segs, seg_scale, neg_weight):  # noqa: E741
    """CBOW: the input is the mean of the context vectors; outputs as in skip-gram.

    As in word2vec.c and gensim (``cbow_mean=1``), every context word receives the whole error of
    the mean vector. The block's negatives are weighted by ``negative / n_neg`` per centre.
    """
    n_ctx = mask.sum(1)  # (nb, L)
    has_ctx = (n_ctx > 0).to(I.dtype)
    avg = mask / n_ctx.clamp(min=1).unsqueeze(1)  # (nb, span, L)
    H = torch.bmm(avg.transpose(1, 2), I)  # (nb, L, dim): mean context vector per centre
    pos = [(H[..., a:b] * O[..., a:b]).sum(-1, keepdim=True) for a, b in segs]  # (nb, L, 1)
    neg = [torch.bmm(H[..., a:b], N[..., a:b].transpose(1, 2)) for a, b in segs]  # (nb, L, K)
    g_pos = _nested_coefficients(pos, 1.0, has_ctx.unsqueeze(2), seg_scale)
    g_neg = _nested_coefficients(neg, 0.0, has_ctx.unsqueeze(2) * neg_weight, seg_scale)
    d_h = torch.empty_like(H)
    d_out = torch.empty_like(O)
    d_neg = torch.empty_like(N)
    for s, (a, b) in enumerate(segs):
        d_h[..., a:b] = torch.baddbmm(g_pos[s] * O[..., a:b], g_neg[s], N[..., a:b])
        d_out[..., a:b] = g_pos[s] * H[..., a:b]
        d_neg[..., a:b] = torch.bmm(g_neg[s].transpose(1, 2), H[..., a:b])
    d_in = torch.bmm(mask, d_h)  # each context word gets its centres' errors
    return d_in, d_out, d_neg
