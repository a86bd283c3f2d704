"""The search kernels of ``skmrl/_search.py`` on a torch device (a GPU): scoring and top-k.

The shortlist arrays are moved to the device once (:func:`to_device`); each call scores one batch
of queries against the documents chunk by chunk and keeps a running top ``k`` with
``torch.topk``, so no ``n_queries x n_docs`` matrix is ever built. Ties are settled as on the CPU
(``skmrl._search.chunked_topk``): equal scores by document row, and of documents tied at the cut
the lower rows are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from skmrl._threads import ForkSafeLock

__all__ = ["device_topk", "int8_scorer", "to_device"]

#: Documents scored per chunk on the device.
DOC_CHUNK = 262144


def int8_scorer(
    queries: np.ndarray, codes: np.ndarray, offset: np.ndarray, scale: np.ndarray
) -> tuple[Callable[[int, int], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """Rank int8 document ``codes`` for float ``queries`` by int8 matrix products.

    A document stands for ``offset + scale * code`` (``skmrl._search``'s scheme), so
    ``q . doc = q . offset + (q * scale) . code``. The second term runs in integers: each row of
    ``q * scale`` is quantized symmetrically to int8 with its own step (``max |.| / 127``), and
    ``torch._int_mm`` multiplies int8 by int8 into int32 (VNNI instructions on x86: 5x faster
    than a float32 product of the same shape on a CPU that has them). Without them it is 9-18x
    slower (AVX2 only), so where it is (:func:`_int_mm_is_fast`, timed once) the same integer
    products are computed as float products of the codes: exact, so the ranking is the same
    either way. A query's float score is ``step * product + q . offset`` with ``step > 0``, so
    the products rank a query's documents as the scores do, and are ranked as they are (no
    float conversion of the block). Where ``torch._int_mm`` is missing, and for a shortlist of
    one dimension (which it multiplies wrong on the CPU), float scores from
    ``skmrl._search.int8_scores`` are used.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, dim), float32
    codes : ndarray of shape (n_docs, dim), int8
    offset, scale : ndarray of shape (dim,), float32

    Returns
    -------
    score : callable
        ``score(start, stop)``: ranking scores against documents ``start..stop-1``, shape
        ``(n_queries, stop - start)`` (int32 products, or float32 scores in the fallback), as
        ``skmrl._search.chunked_topk`` takes them.
    to_float : callable
        Turns a block of ``score``'s output into float32 scores (approximate dot products).
    """
    import torch

    from skmrl import _search

    q = np.asarray(queries, dtype=np.float32)
    # torch._int_mm on the CPU returns uninitialised values for an inner size of 1 (torch 2.13:
    # [[127]] x [[127, 127, 127]] gave [-1192210640, 32666, ...]): a 1-dim shortlist is scored
    # in float.
    if codes.shape[1] < 2 or not _has_int_mm():
        return (
            lambda a, b: _search.int8_scores(q, codes[a:b], offset, scale),
            lambda S: S,
        )
    scaled = q * scale
    step = np.abs(scaled).max(axis=1) / 127.0
    step[step == 0] = 1.0
    q_codes = torch.from_numpy(np.rint(scaled / step[:, None]).astype(np.int8))
    base = (q @ offset)[:, None]
    if _int_mm_is_fast():
        docs = torch.from_numpy(codes)  # shares the memory: no copy of the shortlist

        def score(a: int, b: int) -> np.ndarray:
            # Into a NumPy block, as the float route's: one torch allocated was memory that
            # tracemalloc (the retrieval benchmark's peak) did not see, half of this route's.
            out = np.empty((len(q_codes), b - a), dtype=np.int32)
            torch._int_mm(q_codes, docs[a:b].T, out=torch.from_numpy(out))
            return out

    else:
        # Every partial sum is an integer of at most 127 * 128 * dim: exact in float32 up to
        # 2**24 (1,032 dims), in float64 beyond.
        exact = np.float32 if 127 * 128 * codes.shape[1] <= 2**24 else np.float64
        q_exact = q_codes.numpy().astype(exact)

        def score(a: int, b: int) -> np.ndarray:
            return q_exact @ codes[a:b].astype(exact).T

    def to_float(S: np.ndarray) -> np.ndarray:
        return (S.astype(np.float32) * step[:, None].astype(np.float32) + base).astype(np.float32)

    return score, to_float


_INT_MM: list[bool] = []
_INT_MM_FAST: list[bool] = []
#: One probe at a time: four threads asking at once ran it four times, each timing the others.
_PROBE_LOCK = ForkSafeLock()


def _int_mm_is_fast() -> bool:
    """Whether ``torch._int_mm`` is usable (:func:`_has_int_mm`) and faster here than the same
    products as float32 (timed once, best of 3, on 256 x 64 by 64 x 4,096: 0.3 s without VNNI,
    where ``torch._int_mm`` took 50 ms a product against 16 ms; with 32 queries it was the faster
    one, 3 ms against 16, so the probe has a query batch's size)."""
    if not _has_int_mm():
        return False
    with _PROBE_LOCK:
        if not _INT_MM_FAST:
            _INT_MM_FAST.append(_time_int_mm())
    return _INT_MM_FAST[0]


def _time_int_mm() -> bool:
    """Whether ``torch._int_mm`` is the faster of the two here (see :func:`_int_mm_is_fast`)."""
    import time

    import torch

    rng = np.random.default_rng(0)
    a = rng.integers(-127, 128, (256, 64), dtype=np.int8)
    d = rng.integers(-127, 128, (4096, 64), dtype=np.int8)
    ta, td = torch.from_numpy(a), torch.from_numpy(d)

    def best(product: Callable[[], Any]) -> float:
        product()  # warm-up
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            product()
            times.append(time.perf_counter() - t0)
        return min(times)

    in_int = best(lambda: torch._int_mm(ta, td.T))
    in_float = best(lambda: a.astype(np.float32) @ d.astype(np.float32).T)
    return in_int < in_float


def _has_int_mm() -> bool:
    """Whether ``torch._int_mm`` exists and multiplies int8 on the CPU correctly (tried once)."""
    if not _INT_MM:
        import torch

        try:
            a = torch.tensor([[1, -2], [3, 4]], dtype=torch.int8)
            ok = torch._int_mm(a, a.T).tolist() == [[5, -5], [-5, 25]]
        except (AttributeError, RuntimeError, TypeError):
            ok = False
        _INT_MM.append(ok)
    return _INT_MM[0]


def to_device(kind: str, arrays: dict[str, np.ndarray], device: str) -> dict[str, Any]:
    """Copy a shortlist (``kind`` ``"float"``, ``"int8"`` or ``"binary"``) to ``device``."""
    import torch

    out = {}
    for name, value in arrays.items():
        if kind == "binary" and name == "data":
            value = value.view(np.int64)  # torch has no uint64; the bits are the same
        out[name] = torch.from_numpy(np.ascontiguousarray(value)).to(device)
    return out


#: Bytes of unpacked float32 signs per chunk of a binary shortlist on the device.
_SIGNS_BYTES = 2**28


def _unpack_signs(words: Any) -> Any:
    """``+1/-1`` float32 of every bit of int64 words: shape (n, 64 * n_words).

    The bits are taken byte by byte (a uint8 intermediate, 1 byte a bit, where shifting the
    int64 words took 8: 2 GB for 262,144 documents of 1,024 bits); the bit order is the same
    for queries and documents, and irrelevant to a Hamming distance."""
    import torch

    octets = words.contiguous().view(torch.uint8)  # (n, 8 * n_words)
    shifts = torch.arange(8, device=words.device, dtype=torch.uint8)
    bits = (octets.unsqueeze(-1) >> shifts) & 1
    return bits.reshape(len(words), -1).to(torch.float32) * 2 - 1


def device_topk(
    kind: str, store: dict[str, Any], queries: np.ndarray, k: int, chunk_size: int = DOC_CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best documents of each query on the device; scores as ``skmrl._search`` gives.

    Parameters
    ----------
    kind : {"float", "int8", "binary"}
        How ``store["data"]`` holds the documents: normalised float32 vectors, int8 codes (with
        ``store["offset"]`` and ``store["scale"]``), or packed sign bits.
    store : dict
        The arrays from :func:`to_device`.
    queries : ndarray
        float32 vectors (``"float"``/``"int8"``) or uint64 packed bits (``"binary"``).
    k : int
    chunk_size : int

    Returns
    -------
    scores : ndarray of shape (n_queries, k), float32, each row best first
    indices : ndarray of shape (n_queries, k), int64
    """
    import torch

    data = store["data"]
    device = data.device
    if kind == "binary":
        q = _unpack_signs(torch.from_numpy(queries.view(np.int64)).to(device))
        n_bits = q.shape[1]
    else:
        q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(device)
    if kind == "int8":
        q_scaled = q * store["scale"]
        q_offset = (q @ store["offset"]).unsqueeze(1)
    n_docs = len(data)
    if kind == "binary":  # each chunk is unpacked to float32 signs: keep that under 256 MiB
        chunk_size = max(1, min(chunk_size, _SIGNS_BYTES // (4 * n_bits)))
    best_s = torch.full((len(q), k), -torch.inf, device=device)
    best_i = torch.full((len(q), k), n_docs, dtype=torch.int64, device=device)  # after any row
    with torch.inference_mode():
        for start in range(0, n_docs, chunk_size):
            block = data[start : start + chunk_size]
            if kind == "float":
                S = q @ block.T
            elif kind == "int8":
                S = q_scaled @ block.to(torch.float32).T + q_offset
            else:  # minus the Hamming distance: (dot of the signs - n_bits) / 2
                S = (q @ _unpack_signs(block).T - n_bits) / 2
            s, i = _topk_lower_first(S, min(k, S.shape[1]))
            # Best first, equal scores by document: the earlier chunks' documents come first.
            best_s, best_i = _by_score_then_index(
                torch.cat([best_s, s], dim=1), torch.cat([best_i, i + start], dim=1)
            )
            best_s, best_i = best_s[:, :k], best_i[:, :k]
    return best_s.cpu().numpy(), best_i.cpu().numpy()


def _by_score_then_index(s: Any, i: Any) -> tuple[Any, Any]:
    """Each row sorted best first, equal scores by index (the order ``skmrl._search`` gives)."""
    import torch

    by_index = torch.argsort(i, dim=1)
    s, i = torch.gather(s, 1, by_index), torch.gather(i, 1, by_index)
    by_score = torch.sort(s, dim=1, descending=True, stable=True).indices
    return torch.gather(s, 1, by_score), torch.gather(i, 1, by_score)


def _topk_lower_first(S: Any, k: int) -> tuple[Any, Any]:
    """The ``k`` best columns of each row of ``S``, of columns tied at the cut the lower ones.

    ``torch.topk`` keeps an arbitrary one of tied columns; Hamming distances tie often. In the
    rows where a tie straddles the cut, the columns above the cut are kept with the first tied
    ones (no sort of the row), as ``skmrl._search.chunked_topk`` does on the CPU. Unsorted.
    """
    import torch

    s, i = torch.topk(S, k, dim=1, sorted=False)
    kth = s.min(dim=1, keepdim=True).values
    straddle = ((S == kth).sum(dim=1) > (s == kth).sum(dim=1)).nonzero().flatten()
    if len(straddle):
        rows, cut = S[straddle], kth[straddle]
        above, tied = rows > cut, rows == cut
        room = k - above.sum(dim=1, keepdim=True)  # at least 1: the cut is the k-th best
        keep = above | (tied & (tied.cumsum(dim=1, dtype=torch.int32) <= room))
        cols = keep.nonzero()[:, 1].view(len(straddle), k)  # k per row, in column order
        s[straddle], i[straddle] = torch.gather(rows, 1, cols), cols
    return s, i
