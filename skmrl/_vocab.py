"""Text to word ids for Word2VecEmbedder: tokenizing, the vocabulary, subsampling, pooling.

No torch here: these run in ``fit`` before training and in ``transform``.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter

import numpy as np
import scipy.sparse as sp

#: The ``a`` of smooth-inverse-frequency weights ``a / (a + p(w))`` (Arora et al., 2017).
SIF_A = 1e-3


def _char_ranges(code_points: list[int]) -> str:
    """A regex character-class body for sorted ``code_points``: runs as ``\\U...-\\U...``."""
    ranges = []
    for _, run in itertools.groupby(enumerate(code_points), lambda item: item[1] - item[0]):
        first, *rest = (c for _, c in run)
        ranges.append(f"\\U{first:08x}-\\U{rest[-1] if rest else first:08x}")
    return "".join(ranges)


@functools.cache
def _token_re() -> re.Pattern[str]:
    """Words: runs of letters, digits, underscores and combining marks, with inner apostrophes.

    ``\\w`` alone misses the combining marks (categories Mn, Mc, Me): it split Hindi
    ("हिन्दी" gave "ह", "न", "द": every vowel sign and virama cut the word), Arabic with
    harakat, and a decomposed accent ("cafe" + U+0301) at each mark. Their code points are
    listed once per process, at first use. The marks above U+FFFF (Brahmi, Kaithi, variation
    selectors) are tried only at such a character, behind a lookahead: a class of their ~100
    ranges, tried at the end of every word, made tokenizing twice as slow.
    """
    code_points = itertools.chain(range(0x20000), range(0xE0100, 0xE01F0))
    marks = [c for c in code_points if unicodedata.category(chr(c)).startswith("M")]
    bmp = _char_ranges([c for c in marks if c < 0x10000])
    astral = _char_ranges([c for c in marks if c >= 0x10000])
    chars = rf"[\w{bmp}]"
    word = rf"{chars}+(?:(?=[\U00010000-\U0010ffff])[{astral}]+{chars}*)*"
    return re.compile(rf"{word}(?:['\u2019]{word})*")


#: Invisible characters that sit inside words and are not word characters (category Cf): soft
#: hyphen (scraped "Fuß\u00adball"), zero-width non-joiner and joiner (inside Persian and Indic
#: words), word joiner and zero-width no-break space. Removed before tokenizing, so they do not
#: cut a word in two. (A zero-width space, U+200B, still separates words: Thai and Khmer text
#: mark word boundaries with it.)
_IN_WORD_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200c\u200d\u2060\ufeff"))


def _normal_text(text: str) -> str:
    """``text`` as the default tokenizer reads it: without the invisible in-word characters,
    in Unicode NFC (a decomposed "cafe" + U+0301 and a composed "café" are one word)."""
    return unicodedata.normalize("NFC", text.translate(_IN_WORD_INVISIBLE))


def _normal_words(words: list[str]) -> tuple[list[str], np.ndarray | None]:
    """The words of a vectors file as :func:`_normal_text` makes corpus words, so that they
    meet the default tokenizer's tokens (Persian words with a zero-width non-joiner, in
    fastText's vectors, and words stored decomposed, in NFD, were never found). Of words that
    become one (``"a\\u200cb"`` and ``"ab"``), the first is kept: files are ordered by
    frequency. Returns the words kept and their rows in the file (``None``: all of them)."""
    normal = [_normal_text(w) if not w.isascii() else w for w in words]
    index: dict[str, int] = {}
    for i, word in enumerate(normal):
        index.setdefault(word, i)
    if len(index) == len(normal):
        return normal, None
    return list(index), np.fromiter(index.values(), dtype=np.int64, count=len(index))


def _default_tokenize(text: str) -> list[str]:
    """Words of :func:`_normal_text` of ``text``: runs of letters, digits, underscores and
    combining marks, with inner apostrophes (``don't``). "Fuß\u00adball" is one word,
    "Fußball"."""
    return _token_re().findall(_normal_text(text))


#: Scripts written without spaces between words: Han and kana (Chinese, Japanese), and Thai,
#: Lao, Khmer, Myanmar. The default tokenizer makes one token of each run of them.
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f"
)
_SEA = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
#: A token that is a phrase of such text, not a word: 4+ Han/kana characters in a row (Chinese
#: words average under 2), or 10+ Thai, Lao, Khmer or Myanmar code points (vowel signs included).
_UNSEGMENTED_RE = re.compile(f"[{_CJK}]{{4}}|[{_SEA}]{{10}}")


def _unsegmented_share(tokenized: list[list[str]], limit: int = 200_000) -> float:
    """The share of the tokens (of the first ``limit``) that are runs of text written without
    spaces (Chinese, Japanese, Thai, ...) long enough to be phrases or sentences, not words:
    what the default tokenizer makes of such text."""
    long = total = 0
    for toks in tokenized:
        total += len(toks)
        long += sum(1 for w in toks if _UNSEGMENTED_RE.search(w))
        if total >= limit:
            break
    return long / total if total else 0.0


def _build_vocabulary(
    tokenized: list[list[str]],
    min_count: int,
    pre_words: list[str],
    *,
    add_corpus_words: bool = True,
) -> tuple[list[str], np.ndarray]:
    """Pretrained words first, then corpus words seen ``min_count`` times by decreasing count
    (none with ``add_corpus_words=False``: pretrained vectors used as they are).

    Returns the words and their corpus counts (0 for words known only from ``pre_words``).
    """
    counter: Counter[str] = Counter()
    for toks in tokenized:
        counter.update(toks)
    words = list(pre_words)
    if add_corpus_words:
        pre_set = set(pre_words)
        corpus_words = [w for w, c in counter.most_common() if c >= min_count]
        words += [w for w in corpus_words if w not in pre_set]
    counts = np.array([counter.get(w, 0) for w in words], dtype=np.int64)
    return words, counts


def _token_coverage(tokenized: list[list[str]], words: set[str]) -> tuple[int, int]:
    """How many token occurrences of the corpus are in ``words``, and how many there are."""
    known = total = 0
    for toks in tokenized:
        total += len(toks)
        known += sum(1 for w in toks if w in words)
    return known, total


def _keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's subsampling: keep a word of count ``c`` with ``(sqrt(c/t) + 1) t / c``, t =
    ``sample * total``, capped at 1 (``sample=0``: keep everything)."""
    counts = np.asarray(counts, dtype=np.float64)
    if not sample or counts.sum() == 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (np.sqrt(counts / threshold) + 1.0) * (threshold / counts)
    p[~np.isfinite(p)] = 1.0
    return np.minimum(p, 1.0).astype(np.float32)


def _known_word_ids(
    tokenized: list[list[str]], index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The in-vocabulary words of every document, flattened: (document numbers, word ids)."""
    docs: list[int] = []
    ids: list[int] = []
    for d, toks in enumerate(tokenized):
        known = [index[w] for w in toks if w in index]
        ids.extend(known)
        docs.extend([d] * len(known))
    return np.asarray(docs, dtype=np.int64), np.asarray(ids, dtype=np.int64)


def _pool(
    tokenized: list[list[str]], index: dict[str, int], table: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Weighted mean of the known words' vectors per document (zeros with no known word)."""
    rows, cols = _known_word_ids(tokenized, index)
    return _pool_ids(rows, cols, len(tokenized), table, weights)


def _pool_ids(
    rows: np.ndarray, cols: np.ndarray, n_docs: int, table: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """:func:`_pool` of the known words given as :func:`_known_word_ids` gives them."""
    data = weights[cols].astype(np.float32)
    mat = sp.csr_matrix((data, (rows, cols)), shape=(n_docs, len(table)))
    n_known = np.bincount(rows, minlength=n_docs).astype(np.float32)
    out = np.asarray(mat @ table, dtype=np.float32)
    np.divide(out, n_known[:, None], out=out, where=n_known[:, None] > 0)
    return np.ascontiguousarray(out, dtype=np.float32)


def _first_component(pooled: np.ndarray) -> np.ndarray:
    """Unit first right-singular vector of the (uncentred) document matrix, as SIF removes."""
    nonzero = pooled[pooled.any(axis=1)]
    if len(nonzero) < 2:
        return np.zeros(pooled.shape[1], dtype=np.float32)
    _, _, vt = np.linalg.svd(nonzero.astype(np.float64), full_matrices=False)
    return vt[0].astype(np.float32)


#: A document whose vector keeps less than this share of its norm once the SIF component is
#: removed lies along that component, to float32 rounding: what is left is noise, kept as zeros.
SIF_RESIDUAL_RTOL = 1e-4


def _remove_component(pooled: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``pooled`` less its projection on the unit vector ``u`` (SIF's common component).

    Rows along ``u`` become zeros: their remainder is float32 rounding (a relative norm near
    1e-7), which normalising would blow up into arbitrary unit vectors, so that documents of the
    same words ("x" and "x x x" in a corpus of one word) got orthogonal vectors.
    """
    out = np.asarray(pooled, dtype=np.float64)
    u64 = np.asarray(u, dtype=np.float64)
    residual = out - np.outer(out @ u64, u64)
    before = np.linalg.norm(out, axis=1)
    residual[np.linalg.norm(residual, axis=1) <= SIF_RESIDUAL_RTOL * before] = 0.0
    return np.ascontiguousarray(residual, dtype=np.float32)
