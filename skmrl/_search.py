"""Search kernels of :class:`skmrl.retrieval.MatryoshkaSearch`: quantization and chunked top-k.

NumPy only (no scikit-learn, no torch): the CPU path. ``skmrl/_torch/search.py`` is the same on
a torch device.

* int8: each column is mapped linearly from its calibrated ``[min, max]`` onto the 256 codes
  ``-128..127`` (the scheme of sentence-transformers' ``quantize_embeddings``); a document is
  stored as its codes and stands for ``offset + scale * code``, so a query scores
  ``q . offset + (q * scale) . code``: :func:`int8_scores` in float32, or
  ``skmrl._torch.search.int8_scorer`` in int8 arithmetic (the MatryoshkaSearch CPU path).
* binary: the sign bits of a vector packed into 64-bit words; two vectors are compared by the
  Hamming distance of their bits (XOR, then a population count).
* top-k: scores are computed for one chunk of documents at a time (never a full
  ``n_queries x n_docs`` matrix), and only the scores above each query's current ``k``-th best
  are merged into its running top ``k``; after the first chunks that threshold discards nearly
  every document at the cost of one comparison.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "binarize",
    "binary_prefix",
    "chunked_topk",
    "dequantize_int8",
    "fit_int8_ranges",
    "hamming_scores",
    "int8_scores",
    "quantize_int8",
    "unpack_binary",
]

#: Documents scored per chunk: a (1,024 queries x chunk) float32 score block is 64 MiB.
DOC_CHUNK = 16384


def fit_int8_ranges(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calibrate int8 quantization on ``X``: per column, ``offset`` and ``scale``.

    A value ``x`` of column ``j`` is stored as ``round((x - offset[j]) / scale[j])`` clipped to
    ``-128..127``, so that the column's minimum maps to -128 and its maximum to 127. A column
    that is constant over ``X`` gets ``scale=0`` and ``offset`` its value: its codes are 0 and it
    is stored exactly. (A scale of 1 there would stand for a range of 255, and the int8 scorer,
    which quantizes each query's ``q * scale`` with one step per query, would then round every
    other dimension of a query away.)

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Calibration vectors (the corpus).

    Returns
    -------
    offset, scale : ndarray of shape (n_features,), float32
        A constant column gets ``scale=0`` and is stored exactly (its value is its offset).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._search import fit_int8_ranges, quantize_int8
    >>> X = np.array([[-1.0, 0.5], [1.0, 0.5]], dtype=np.float32)
    >>> offset, scale = fit_int8_ranges(X)
    >>> quantize_int8(X, offset, scale).tolist()
    [[-128, 0], [127, 0]]
    """
    X = np.asarray(X, dtype=np.float32)
    low = X.min(axis=0).astype(np.float64)
    high = X.max(axis=0).astype(np.float64)
    scale = (high - low) / 255.0
    offset = low + 128.0 * scale  # low itself where the column is constant (scale 0)
    return offset.astype(np.float32), scale.astype(np.float32)


#: Rows quantized at a time by :func:`quantize_int8`.
QUANTIZE_CHUNK = 65536


def quantize_int8(X: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The int8 codes of ``X`` under the ranges of :func:`fit_int8_ranges` (clipped); 0 in a
    column of ``scale`` 0 (constant when calibrated).

    :data:`QUANTIZE_CHUNK` rows at a time, in place: whole, each step (the difference, the
    quotient, the rounding, the clipping) made a float32 copy of ``X``, four of them alive at
    once (1.5 GB each for a million 384-dim vectors, for 0.4 GB of codes).
    """
    X = np.asarray(X, dtype=np.float32)
    codes = np.empty(X.shape, dtype=np.int8)
    scaled = scale > 0  # not ``scale <= 0`` below: a NaN scale is neither, and gets code 0
    for start in range(0, len(X), QUANTIZE_CHUNK):
        block = X[start : start + QUANTIZE_CHUNK] - offset
        np.divide(block, scale, out=block, where=scaled)
        block[:, ~scaled] = 0.0
        np.rint(block, out=block)
        np.clip(block, -128, 127, out=block)
        codes[start : start + QUANTIZE_CHUNK] = block
    return codes


def dequantize_int8(codes: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The float32 vectors that int8 ``codes`` stand for: ``offset + scale * code``."""
    return (offset + scale * codes.astype(np.float32)).astype(np.float32)


def binarize(X: np.ndarray) -> np.ndarray:
    """Pack the sign bits (``x > 0``) of each row into 64-bit words.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, ceil(n_features / 64)), uint64
        Padding bits are 0 in every row, so they never add to a Hamming distance.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._search import binarize, unpack_binary
    >>> bits = binarize(np.array([[0.3, -1.0, 2.0]]))
    >>> bits.shape, unpack_binary(bits, 3).tolist()
    ((1, 1), [[1.0, -1.0, 1.0]])
    """
    X = np.asarray(X)
    n, d = X.shape
    n_bytes = 8 * ((d + 63) // 64)
    packed = np.zeros((n, n_bytes), dtype=np.uint8)
    packed[:, : (d + 7) // 8] = np.packbits(X > 0, axis=1)
    return packed.view(np.uint64)


def binary_prefix(words: np.ndarray, n_features: int) -> np.ndarray:
    """The packed sign bits of the first ``n_features`` features, from those of more features.

    Equal to ``binarize(X[:, :n_features])`` for ``words = binarize(X)``: a prefix's signs are
    the first bits of the whole vector's (re-normalising a prefix does not change a sign); the
    later bits are cleared and the words past ``ceil(n_features / 64)`` dropped.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._search import binarize, binary_prefix
    >>> X = np.array([[0.3, -1.0, 2.0, 0.5]])
    >>> bool((binary_prefix(binarize(X), 3) == binarize(X[:, :3])).all())
    True
    """
    n_words = (n_features + 63) // 64
    mask = np.zeros(8 * n_words, dtype=np.uint8)
    mask[: n_features // 8] = 0xFF
    if n_features % 8:  # np.packbits puts the first feature in a byte's highest bit
        mask[n_features // 8] = (0xFF << (8 - n_features % 8)) & 0xFF
    return np.ascontiguousarray(words[:, :n_words]) & mask.view(np.uint64)


def unpack_binary(words: np.ndarray, n_features: int) -> np.ndarray:
    """The ``+1/-1`` float32 vectors of packed sign bits (the inverse of :func:`binarize`)."""
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=1)[:, :n_features]
    return bits.astype(np.float32) * 2.0 - 1.0


def int8_scores(
    queries: np.ndarray, codes: np.ndarray, offset: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Dot products of float ``queries`` with the dequantized int8 ``codes``, float32.

    Equal to ``queries @ dequantize_int8(codes, offset, scale).T`` up to float rounding,
    without building the dequantized block's offsets.
    """
    q = np.asarray(queries, dtype=np.float32)
    S = (q * scale) @ codes.astype(np.float32).T
    S += (q @ offset)[:, None]
    return S


def hamming_scores(query_words: np.ndarray, doc_words: np.ndarray) -> np.ndarray:
    """Minus the Hamming distance between packed sign bits, int32 (higher is closer).

    Parameters
    ----------
    query_words : ndarray of shape (n_queries, n_words), uint64
    doc_words : ndarray of shape (n_docs, n_words), uint64

    Returns
    -------
    ndarray of shape (n_queries, n_docs), int32
    """
    dist = np.zeros((len(query_words), len(doc_words)), dtype=np.uint16)
    for w in range(query_words.shape[1]):  # one word at a time keeps the block 2-D
        dist += _popcount(query_words[:, w, None] ^ doc_words[None, :, w])
    return -dist.astype(np.int32)


#: Set bits of each byte value (NumPy < 2.0 has no ``bitwise_count``).
_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 of a 2-D array, uint8."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    return _popcount_table(words)


def _popcount_table(words: np.ndarray) -> np.ndarray:
    """:func:`_popcount` by a byte table (for NumPy < 2.0)."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(*words.shape, 8)
    return _BYTE_BITS[as_bytes].sum(axis=-1, dtype=np.uint8)


def chunked_topk(
    score_chunk: Callable[[int, int], np.ndarray],
    n_queries: int,
    n_docs: int,
    k: int,
    chunk_size: int = DOC_CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest scores of each query over ``n_docs`` documents scored chunk by chunk.

    Parameters
    ----------
    score_chunk : callable
        ``score_chunk(start, stop)`` returns the scores of every query against documents
        ``start..stop-1``, shape ``(n_queries, stop - start)``, float or integer (int8
        products are ranked in int32, unconverted); higher is better.
    n_queries, n_docs, k : int
        ``k <= n_docs``.
    chunk_size : int
        Documents per call of ``score_chunk``.

    Returns
    -------
    scores : ndarray of shape (n_queries, k)
        In the dtype of the scores; each row sorted from best to worst.
    indices : ndarray of shape (n_queries, k), int64
        Equal scores are ordered by document index, and of several documents tied at the
        ``k``-th score the lower indices are kept: for the same scores, the result does not
        depend on ``chunk_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._search import chunked_topk
    >>> S = np.array([[0.1, 0.9, 0.5, 0.7]], dtype=np.float32)
    >>> scores, idx = chunked_topk(lambda a, b: S[:, a:b], 1, 4, k=2, chunk_size=2)
    >>> idx.tolist(), scores.astype(float).round(2).tolist()
    ([[1, 3]], [[0.9, 0.7]])
    """
    best_s = best_i = None
    pending_s: list[np.ndarray] = []
    pending_i: list[np.ndarray] = []
    pending = 0
    threshold = None
    for start in range(0, n_docs, chunk_size):
        stop = min(start + chunk_size, n_docs)
        S = np.asarray(score_chunk(start, stop))
        if S.dtype.kind not in "fi":
            S = S.astype(np.float32)
        if threshold is None:  # fewer than k documents kept so far
            if best_s is None and S.shape[1] > k:
                # The first chunk: its k-th best score per query comes from a partition of
                # the scores (values only: no index array of the chunk's size).
                kth = np.partition(S, S.shape[1] - k, axis=1)[:, S.shape[1] - k]
                cand_s, cand_i = _gather(S, S >= kth[:, None], start)
            else:  # every document is a candidate
                cand_s = S
                cand_i = np.broadcast_to(np.arange(start, stop, dtype=np.int64), S.shape)
            if best_s is not None:
                cand_s = np.concatenate([best_s, cand_s], axis=1)
                cand_i = np.concatenate([best_i, cand_i], axis=1)
            best_s, best_i = _select_top(cand_s, cand_i, k)
            if best_s.shape[1] == k:
                threshold = best_s.min(axis=1)[:, None]  # rows are unsorted: min is k-th
            continue
        # Only the scores above each query's k-th best so far. Candidates wait until there
        # are about k of them, then are merged at once (one merge per chunk made the merges
        # cost more than the scoring for k = 1,000); the threshold is tightened at each merge.
        cand_s, cand_i = _gather(S, S > threshold, start)
        if cand_s.shape[1]:
            pending_s.append(cand_s)
            pending_i.append(cand_i)
            pending += cand_s.shape[1]
        if pending >= k or (stop == n_docs and pending):
            best_s, best_i = _select_top(
                np.concatenate([best_s, *pending_s], axis=1),
                np.concatenate([best_i, *pending_i], axis=1),
                k,
            )
            threshold = best_s.min(axis=1)[:, None]
            pending_s, pending_i, pending = [], [], 0
    # Sort each row by score, then by index (lexsort's last key is the primary one).
    order = np.lexsort((best_i, -best_s.astype(np.float64)), axis=1)
    return np.take_along_axis(best_s, order, 1), np.take_along_axis(best_i, order, 1)


def _select_top(s: np.ndarray, i: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` best entries (unsorted): higher score first, then the lower index.

    ``argpartition`` picks them; in the rare rows where a tie at the ``k``-th score straddles
    the cut (the partition would keep an arbitrary one of the tied), the row is sorted.
    """
    n = s.shape[1]
    if n <= k:
        return s, i
    keep = np.argpartition(s, n - k, axis=1)[:, n - k :]
    sel_s, sel_i = np.take_along_axis(s, keep, 1), np.take_along_axis(i, keep, 1)
    kth = sel_s.min(axis=1, keepdims=True)
    bad = np.flatnonzero((s == kth).sum(axis=1) > (sel_s == kth).sum(axis=1))
    if bad.size:
        order = np.lexsort((i[bad], -s[bad].astype(np.float64)), axis=1)[:, :k]
        sel_s[bad] = np.take_along_axis(s[bad], order, 1)
        sel_i[bad] = np.take_along_axis(i[bad], order, 1)
    return sel_s, sel_i


def _gather(S: np.ndarray, mask: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """The scores of ``S`` where ``mask`` holds, per row, padded to one width with the lowest
    value of ``S``'s dtype, and their document indices (``start`` + column; padding: the
    largest int64)."""
    n_rows, n_cols = S.shape
    flat = _true_positions(mask)  # row-major: each row's columns in order
    rows, cols = np.divmod(flat, n_cols)
    counts = np.bincount(rows, minlength=n_rows)
    width = int(counts.max())
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(rows.size) - starts[rows]
    low = -np.inf if S.dtype.kind == "f" else np.iinfo(S.dtype).min
    cand_s = np.full((n_rows, width), low, dtype=S.dtype)
    cand_i = np.full((n_rows, width), np.iinfo(np.int64).max, dtype=np.int64)
    cand_s[rows, pos] = S[rows, cols]
    cand_i[rows, pos] = cols + start
    return cand_s, cand_i


def _true_positions(mask: np.ndarray) -> np.ndarray:
    """Flat positions of the ``True`` cells of a C-contiguous bool array, ascending.

    The mask is mostly ``False``: it is scanned 8 cells at a time as uint64 words, and only the
    words that hold a ``True`` are expanded (``np.flatnonzero`` would test every cell).
    """
    flat = mask.reshape(-1)
    n8 = flat.size - flat.size % 8
    words = np.flatnonzero(flat[:n8].view(np.uint64))
    cells = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    hits = cells[flat[cells]]
    tail = n8 + np.flatnonzero(flat[n8:])
    return np.concatenate([hits, tail]) if tail.size else hits
