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
``1..k`` from the one forward pass. Both run a layer view of the model, which shares its weights
(:mod:`skmrl._torch.layers`).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import warnings
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from skmrl._threads import ForkSafeLock
from skmrl._torch.layers import check_n_layers, layer_count, layer_outputs, layer_view
from skmrl._warn import caller_stacklevel, first_warning

__all__ = [
    "POOLINGS",
    "collate",
    "encode",
    "make_batches",
    "pool",
    "tokenize",
]

#: Accepted values of ``pooling``.
POOLINGS = ("mean", "cls")
#: Padded tokens per batch row allowed by the token budget: ``budget = batch_size * this``.
TOKENS_PER_ROW = 64
#: A progress bar appears (with ``progress=None``) only past this many batches.
_PROGRESS_MIN_BATCHES = 8
#: Texts given to the tokenizer at a time (see :func:`tokenize`).
TOKENIZE_CHUNK = 2048
#: Held around every call of a loaded model's tokenizer, which every estimator and thread of
#: the process shares (skmrl.models). transformers sets a fast tokenizer's truncation on the
#: object before each call (``enable_truncation(max_length)``, or ``no_truncation()``), so two
#: threads calling it with different ``max_length`` could each tokenize with the other's
#: setting: silently other vectors with tokenizers 0.23, "RuntimeError: Already borrowed" with
#: older ones. Tokenizing is a small part of encoding (the forward passes run unlocked).
#: A child forked while another thread tokenized gets it unlocked.
TOKENIZER_LOCK = ForkSafeLock()


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
    from skmrl._progress import show_progress

    if not show_progress(progress) or n_batches <= _PROGRESS_MIN_BATCHES:
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
        ``torch.get_num_threads()`` workers (:func:`~skmrl._torch.device.torch_threads`: the
        same number of cores as one batch at a time with that many torch threads, but no
        per-operation synchronisation between threads, which costs a lot on small matrices and
        on cores shared with other processes); on GPUs, one. While they run,
        ``torch.set_num_threads(1)`` holds for the whole process.
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
    # One layer's vectors are returned as the array they were written into (through a view
    # of it with the layers' axis): out[0] was a view, which EmbeddingCache.get_or_compute
    # copies (a view pins its base), so every new text's vectors were held twice.
    shape = (n_out, len(texts), hidden) if every_layer else (len(texts), hidden)
    result = np.empty(shape, dtype=np.float32)
    out = result if every_layer else result[None]
    if not len(texts):
        return result
    ids, lengths = tokenize(texts, tokenizer, max_length)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # Longest batches first: on a GPU an out-of-memory error shows at once, and parallel CPU
    # workers finish together (the short batches fill in at the end).
    batches = make_batches(lengths, batch_size, batch_size * TOKENS_PER_ROW)
    no_token = lengths == 0
    if no_token.any():
        # A tokenizer that adds no special tokens (GPT-2's, a byte-level BPE without a
        # post-processor) gives an empty text no token: a batch of such texts alone failed
        # deep in the model (a tensor of width 0), and beside other texts each got the zero
        # vector under mean pooling and a pad token's under "cls". The zero vector, always.
        out[:, no_token] = 0.0
        batches = [rows[lengths[rows] > 0] for rows in batches]
        batches = [rows for rows in batches if len(rows)]
    queue = deque(reversed(batches))
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

    def stop() -> None:
        with lock:
            queue.clear()

    if workers is None:
        if device_type == "cpu":
            from skmrl._torch.device import torch_threads

            workers = torch_threads()
        else:
            workers = 1
    workers = max(1, min(int(workers), len(queue) // 2))
    bar = _progress_bar(len(texts), len(queue), progress)  # made here: closed by the finally
    if bar is not None:
        bar.update(int(no_token.sum()))
    try:
        if workers == 1:
            drain()
        else:
            _drain_in_parallel(drain, workers, stop)
    finally:
        if bar is not None:
            bar.close()
    return result


def _drain_in_parallel(drain: Any, workers: int, stop: Any) -> None:
    """Run ``drain`` in ``workers`` threads with one torch (intra-op) thread each.

    An error in a worker, or an interrupt of the waiting thread (Ctrl-C, a notebook's
    interrupt), calls ``stop`` (which empties the queue): the other workers then end after the
    batch in hand, where they used to encode every batch left before the error was raised.
    """
    from concurrent.futures import FIRST_EXCEPTION, wait

    from skmrl._torch.device import one_torch_thread

    def work() -> None:
        try:
            drain()
        except BaseException:
            stop()
            raise

    with (
        one_torch_thread(),
        ThreadPoolExecutor(workers, thread_name_prefix="skmrl-encode") as pool,
    ):
        futures = [pool.submit(work) for _ in range(workers)]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # KeyboardInterrupt while waiting
            stop()
            raise
        for future in futures:
            future.result()


def _forward(
    model: Any,
    ids: list[np.ndarray],
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


def tokenize(
    texts: Sequence[str], tokenizer: Any, max_length: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Token ids of each text (truncated to ``max_length``, no padding) and their lengths.

    Used by encoding and by training (:mod:`skmrl._torch.training`), which batch the ids
    themselves with :func:`collate`. The texts go to the tokenizer :data:`TOKENIZE_CHUNK` at a
    time and each text's ids are kept as an int32 array: the tokenizer's output for a whole
    corpus at once (its encodings, of every token of each text before truncation, and the ids
    as Python ints) took about 350 bytes a token (1.8 GB for 20,000 BBC News texts at 256
    tokens), where the ids take 4. Each call holds :data:`TOKENIZER_LOCK` (threads share the
    tokenizer, whose truncation is set on it for the call).

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> from skmrl._torch.encoder import tokenize
    >>> ids, lengths = tokenize(["a cat", "a very small dog"], load_model().tokenizer, 256)
    >>> lengths.tolist(), ids[0].tolist()
    ([4, 6], [101, 1037, 4937, 102])
    """
    texts = list(texts)
    ids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []  # each chunk's, computed once
    unknown = _UnknownCount(tokenizer)
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        chunk = texts[start : start + TOKENIZE_CHUNK]
        _check_unicode(chunk)
        with TOKENIZER_LOCK:  # its truncation is set on the shared object for this call
            chunk_ids = tokenizer(
                chunk,
                truncation=True,
                max_length=max_length,
                return_attention_mask=False,
                return_token_type_ids=False,
            )["input_ids"]
        chunk_lengths = np.fromiter(map(len, chunk_ids), dtype=np.int64, count=len(chunk_ids))
        flat = np.fromiter(
            itertools.chain.from_iterable(chunk_ids),
            dtype=np.int32,
            count=int(chunk_lengths.sum()),
        )
        ids.extend(np.split(flat, np.cumsum(chunk_lengths)[:-1]))
        lengths.append(chunk_lengths)
        unknown.add(chunk, flat, chunk_lengths)
    unknown.warn(len(texts))
    return ids, np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)


#: Warn when at least this share of the texts are mostly unknown tokens (see ``_UnknownCount``).
UNKNOWN_SHARE = 0.01


class _UnknownCount:
    """Counts the texts that are mostly the tokenizer's unknown token (``[UNK]`` for more than
    half of their tokens, special tokens aside), and warns, once per tokenizer, when they are
    at least :data:`UNKNOWN_SHARE` of the texts. A model's vocabulary without a script (Thai,
    much of Chinese for an English BERT's) or emoji makes the same token of every word of it:
    such texts get nearly one vector, whatever they say (two unrelated Thai sentences: cosine
    0.90 with all-MiniLM-L6-v2). None of BBC News, TREC, SMS spam and the STS Benchmark's
    19,000 English texts is. Tokenizers without an unknown token (byte-level ones) are not
    counted.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.unk_id = getattr(tokenizer, "unk_token_id", None)
        specials = getattr(tokenizer, "all_special_ids", None) or []
        self.specials = np.array([i for i in specials if i != self.unk_id], dtype=np.int64)
        self.count = 0
        self.example = ""  # the first text counted, quoted by the warning

    def add(self, texts: list[str], flat: np.ndarray, lengths: np.ndarray) -> None:
        """Count the chunk ``texts``, whose ids are ``flat`` (``lengths`` ids each)."""
        if self.unk_id is None or not len(texts):
            return
        owner = np.repeat(np.arange(len(texts)), lengths)
        unknown = np.bincount(owner, weights=flat == self.unk_id, minlength=len(texts))
        words = np.bincount(owner, weights=~np.isin(flat, self.specials), minlength=len(texts))
        mostly = np.flatnonzero(2 * unknown > words)
        if len(mostly) and not self.count:
            self.example = texts[int(mostly[0])]
        self.count += len(mostly)

    def warn(self, n_texts: int) -> None:
        """Warn when the texts counted are at least :data:`UNKNOWN_SHARE` of ``n_texts``."""
        if not self.count or self.count < UNKNOWN_SHARE * n_texts:
            return
        name = str(getattr(self.tokenizer, "name_or_path", "") or type(self.tokenizer).__name__)
        if not first_warning("unknown-tokens|" + name):
            return
        warnings.warn(
            f"{self.count:,} of the {n_texts:,} texts the model just read are mostly tokens its "
            f"vocabulary does not know (its unknown token {self.tokenizer.unk_token!r} for more "
            f"than half of their tokens), e.g. {self.example[:60]!r}: they get nearly the same "
            "vector, whatever they say. The model was not made for their script or symbols (an "
            "English model, say, for Thai, Chinese or emoji): use a model made for their language "
            "(MatryoshkaEmbedder(model=<its folder>)), or TfidfBaseline(analyzer='char_wb', "
            "ngram_range=(1, 3)). (Warned once per model.)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _check_unicode(texts: list[str]) -> None:
    """Raise a ``ValueError`` quoting the first text that is not valid Unicode.

    A lone surrogate (bytes decoded with ``errors="surrogateescape"``, as ``os.listdir`` and
    ``open(..., errors="surrogateescape")`` do) is a ``str`` that cannot become UTF-8. Recent
    fast tokenizers refuse it with a ``TypeError`` that names neither the text nor the cause;
    tokenizers 0.19 (transformers 4.40's) drops it without a word, so the check runs before
    every tokenizer call, not after a failure (UTF-8-encoding BBC News' 5 million characters
    takes about 1.5 ms, tokenizing them 2.6 s).

    Examples
    --------
    >>> from skmrl._torch.encoder import _check_unicode
    >>> _check_unicode(["fine", "caf\\udce9"])
    Traceback (most recent call last):
    ...
    ValueError: cannot tokenize 'caf\\udce9': it holds a lone surrogate ...
    """
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"cannot tokenize {text[:60]!r}: it holds a lone surrogate "
                f"({text[exc.start]!r} at character {exc.start}), which is not valid Unicode "
                "(bytes decoded with errors='surrogateescape'?); decode them with their "
                "encoding, or with errors='replace'"
            ) from None


def collate(
    ids: Sequence[Sequence[int] | np.ndarray],
    lengths: np.ndarray,
    rows: np.ndarray,
    pad_id: int,
    device: str,
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
    # Blocking copies: the arrays are freed on return, and a non-blocking copy from pageable
    # memory to MPS can read them after that (silently wrong token ids; pytorch#139550,
    # #189690). On CUDA a copy from pageable memory gains nothing from non_blocking.
    input_ids = torch.from_numpy(batch).to(device)
    if row_lengths.min() == width:
        return input_ids, None
    mask = np.arange(width)[None, :] < row_lengths[:, None]
    return input_ids, torch.from_numpy(mask.astype(np.int64)).to(device)


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
