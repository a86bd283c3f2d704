"""Word2VecEmbedder: word vectors trained in ``fit`` (skip-gram / CBOW, negative sampling, in torch)
with a nested (Matryoshka) loss, pooled into document vectors.

Torch is imported only when training starts (``import skmrl`` stays torch-free).
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.utils.validation import check_random_state

from skmrl._progress import check_progress
from skmrl._settings import stable_repr
from skmrl._torch.device import check_device_spec
from skmrl._training_checks import check_matryoshka_dims
from skmrl._validation import (
    check_bool,
    check_dim,
    check_float,
    check_int,
    check_seed,
)
from skmrl._vocab import (
    SIF_A,
    _build_vocabulary,
    _default_tokenize,
    _first_component,
    _keep_probabilities,
    _known_word_ids,
    _normal_text,
    _normal_words,
    _pool,
    _pool_ids,
    _remove_component,
    _unsegmented_share,
)
from skmrl._warn import caller_stacklevel, first_warning
from skmrl._word_vectors import (
    WordVectors,
    _low_coverage,
    _NotUTF8Error,
    _principal_rotation,
    _vectors_coverage_message,
    load_word_vectors,
)
from skmrl.base import BaseEmbedder

__all__ = ["Word2VecEmbedder", "WordVectors", "load_word_vectors"]

#: ``epochs="auto"``: passes for about this many training tokens, within [min, max] epochs.
AUTO_EPOCHS_TOKENS = 2_000_000
AUTO_MIN_EPOCHS = 5
AUTO_MAX_EPOCHS = 40
#: A fit with the default tokenizer warns when this share of the tokens are unsegmented phrases.
UNSEGMENTED_SHARE = 0.25
#: Fewer training tokens (corpus tokens x epochs) than this give weak vectors: a warning.
MIN_TRAINING_TOKENS = 1_000_000
#: The revision of the training's arithmetic, in the fit key: 2 bounds each word's step by how
#: far it moves its scores, and trains in steps of 1,024 on a GPU too (skmrl._torch.sgns).
_TRAINING_REVISION = 2


def _count(n: int, noun: str) -> str:
    """``"1 word"``, ``"2 words"``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


class Word2VecEmbedder(BaseEmbedder):
    """Word2vec document embeddings with nested (Matryoshka) dimensions, trained in ``fit``.

    ``fit`` builds a vocabulary (words seen ``min_count`` times), then trains skip-gram
    (``sg=True``) or CBOW word vectors with negative sampling (unigram^0.75 noise, frequent-word
    subsampling, linearly decaying learning rate), in torch on ``device``, in large batches. The
    loss is applied to nested prefixes of the vectors (``matryoshka_dims``), so the first ``k``
    coordinates of every word vector are themselves word vectors: ``dim`` only slices one trained
    table, and a grid search over ``dim`` trains once per fold. Documents are the mean (or SIF
    weighted mean) of their words' vectors; unknown words are skipped, and a document with no known
    word embeds to zeros (with a warning that counts them, once per fitted embedder and process:
    a grid over ``dim`` warns once per fold, not once per grid point).

    Parameters
    ----------
    dim : int or None, default=None
        Output size (``None``: ``max_dim_``); ``1 <= dim <= max_dim_``.
    max_dim : int, default=128
        Size of the trained word vectors (with ``vectors``, at most the file's: ``max_dim_``).
    window : int, default=5
        Largest distance between a centre word and a context word (each centre draws its
        window uniformly from ``1..window``, as word2vec does).
    min_count : int, default=2
        Words seen fewer times in the training corpus are dropped.
    negative : int, default=5
        Negative samples per positive pair.
    sample : float, default=1e-3
        Frequent-word subsampling threshold (word2vec's formula; 0 disables it).
    epochs : int or "auto", default="auto"
        Passes over the corpus. ``"auto"``: enough passes for about 2 million training tokens
        (``ceil(2e6 / n_train_words_)``), at least 5 (word2vec's default, what corpora of 400k
        tokens and more get) and at most 40. Small corpora need the extra passes: on TREC's
        5,381 questions (49k tokens), 5 epochs gave 5-fold accuracy (LogisticRegression) of
        0.39 at ``dim=16`` and 0.49 at 128 (gensim: 0.52 and 0.50, near its chance-like level
        with stop words as nearest neighbours), 40 epochs 0.62 and 0.72. ``0`` (only with
        ``vectors``) uses pretrained vectors as they are: the vocabulary is the file's words,
        and other words are skipped, as unknown words are. A fit without ``vectors`` that sees
        fewer than 1 million training tokens (corpus tokens x epochs) warns, once per parameter
        setting and process: its vectors are likely weak (pretrained ``vectors`` are the remedy
        it advises, so a fit from them does not warn). The passes used are in ``epochs_``.
    alpha, min_alpha : float, default=0.025, 1e-4
        Learning rate, decaying linearly from ``alpha`` to ``min_alpha``.
    sg : bool, default=True
        Skip-gram (``True``) or CBOW (``False``).
    matryoshka_dims : sequence of int, optional
        Prefix sizes trained by the nested loss, strictly increasing, each in ``1..max_dim``
        (checked by :func:`skmrl.adaptor.check_matryoshka_dims`, as in the other estimators;
        with ``vectors`` of fewer dimensions than ``max_dim``, in ``1..`` the file's size,
        unless ``epochs=0``, which trains nothing and leaves them unused).
        Default: 8, 16, 32, ... below ``max_dim`` and ``max_dim`` itself. The full size is
        always trained, listed or not (pooling reads the full vectors): ``[8]`` trains what
        ``[8, max_dim]`` trains.
    pooling : {"mean", "sif"}, default="mean"
        ``"mean"``: average of the word vectors. ``"sif"``: smooth-inverse-frequency weights
        ``a / (a + p(w))`` with ``a = 1e-3``, then removal of the first principal component of
        the training documents (fitted in ``fit``, at full size); a document along that
        component, with nothing left but float rounding (in a corpus of one word, say), embeds
        to zeros.
    tokenizer : callable, optional
        ``str -> list of str``; default: words of letters, digits and combining marks
        (``\\w`` and the vowel signs of Hindi, Arabic harakat, ...) with inner apostrophes, in
        Unicode NFC (a decomposed accent makes the same word as a composed one), soft hyphens
        and zero-width (non-)joiners removed (they do not cut a word in two). It splits at
        spaces and punctuation only: of Chinese, Japanese or Thai text it makes one token per
        phrase or sentence, and a fit warns when a quarter of the tokens are such runs (4+ Han
        or kana characters, 10+ Thai, Lao, Khmer or Myanmar ones); pass a word segmenter
        (``jieba.lcut``, say) for such text.
    lowercase : bool, default=True
        Lowercase the text before tokenizing.
    vectors : str or path, optional
        Pretrained vectors (word2vec text or binary, or GloVe text) to start from. They are
        rotated onto their principal axes (dot products unchanged) so their prefixes are
        meaningful, and cut to ``max_dim``. Training (``epochs >= 1``) adds the corpus words
        missing from the file, from random vectors; ``epochs=0`` does not (see ``epochs``).
        With the default tokenizer, the file's words are read as it reads text (in NFC, soft
        hyphens and zero-width (non-)joiners removed; not lowercased); of words that become
        one, the first in the file is kept.
        A fit warns, once per parameter setting, when under half of the corpus's tokens are
        words of the file (and says how many ``lowercase=False`` would find in a cased file).
    device : str, default="auto"
        ``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        A GPU trains other vectors than the CPU (its kernels round otherwise), so the fit cache
        keeps what ``"auto"`` found apart: a process without the GPU never gets the GPU's
        vectors.
    batch_size : int, optional
        Centre tokens per training step (default: 1024, on any device). Each word's summed
        update of a step is scaled down where it has many pairs, or would move its scores by
        more than about 8 logits (an estimate), so larger steps stay finite, but they train
        worse in as many epochs (BBC News, 5 epochs: 0.916 accuracy at 32 dims with 1024,
        0.903 with 8192, 0.833 with 32768). A training that still diverges stops at the end
        of that epoch with a ``FloatingPointError``.
    workers : int, optional
        Threads that train on the CPU (ignored on a GPU). Default: torch's intra-op thread count
        (the cores; what joblib leaves each process of ``GridSearchCV(n_jobs=k)``), at most 4.
        Each step's blocks are split between the threads, which all read the tables as they
        were at the start of the step, and the updates are applied in one fixed order: unlike
        gensim's (Hogwild) threads, the result does not depend on ``workers``, which is why it
        does not enter the fit cache's key. Each thread runs torch with one intra-op thread.
    random_state : int, RandomState or None, default=1
        Seed of initialisation, subsampling, windows and negatives. The default is a fixed seed
        (as gensim's ``seed=1``): two fits on the same data give the same vectors, and a fit is
        shared through the cache (a grid over ``dim`` trains once per fold). ``None`` draws fresh
        randomness at every fit, and such a fit is never shared through the cache (a grid over
        ``dim`` then trains once per grid point); a ``RandomState`` is consumed by fitting and
        is never shared either. Training with a fixed seed on the CPU is reproducible, whatever
        ``workers`` is; on a GPU it is not bit for bit (the row updates, ``index_add_``, are
        atomic additions there, whose order varies from run to run).
    progress : bool or None, default=None
        Show a progress bar while training (and while reading a ``vectors`` file of 16 MiB or
        more); ``None``: when stderr is a terminal or in a
        Jupyter notebook, except in a worker process (``GridSearchCV(n_jobs=2)``'s workers
        would draw over each other).
    normalize : bool, default=True
        L2-normalise each output after slicing it to ``dim``.
    memory : str, path or joblib.Memory, optional
        Folder for a disk cache of fitted states and vectors, shared by ``n_jobs>1`` workers.

    Attributes
    ----------
    wv_ : WordVectors
        The vocabulary (``wv_.index_to_key``, ``wv_.key_to_index``), the table
        (``wv_.vectors``, float32, on CPU) and the corpus counts (``wv_.counts``).
    keep_proba_ : ndarray of shape (n_words,)
        Probability that subsampling keeps each word at each epoch.
    word_weights_ : ndarray of shape (n_words,)
        Pooling weight of each word (1 for mean pooling).
    sif_component_ : ndarray of shape (``max_dim_``,) or None
        The unit direction removed by SIF pooling.
    max_dim_ : int
        Size of the word vectors.
    n_train_words_ : int
        Tokens of the training corpus that are in the vocabulary (per epoch, before subsampling).
    epochs_ : int
        Passes over the corpus that training made (``epochs``, or what ``"auto"`` chose; 0 when
        no training document has two words in the vocabulary: nothing to train on, a warning).
    fingerprint_ : str
        Identity of the fitted state (cache key).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmrl import Word2VecEmbedder
    >>> docs = ["the cat sat on the mat", "a dog barked at the cat",
    ...         "stocks fell as markets slid", "the market rallied on profits"] * 25
    >>> labels = [0, 0, 1, 1] * 25
    >>> w2v = Word2VecEmbedder(dim=16, max_dim=32, epochs=2, random_state=0).fit(docs)
    >>> w2v.transform(["the cat"]).shape
    (1, 16)
    >>> pipe = make_pipeline(Word2VecEmbedder(max_dim=32, random_state=0), LogisticRegression())
    >>> grid = GridSearchCV(pipe, {"word2vecembedder__dim": [8, 16, 32]}, cv=2)
    >>> grid.fit(docs, labels).best_params_["word2vecembedder__dim"] in (8, 16, 32)
    True
    """

    #: ``workers`` changes how training runs, never its result (see its description).
    _runtime_params: ClassVar[frozenset[str]] = BaseEmbedder._runtime_params | {"workers"}

    def __init__(
        self,
        dim: int | None = None,
        max_dim: int = 128,
        *,
        window: int = 5,
        min_count: int = 2,
        negative: int = 5,
        sample: float = 1e-3,
        epochs: int | str = "auto",
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        sg: bool = True,
        matryoshka_dims: Collection[int] | None = None,
        pooling: str = "mean",
        tokenizer: Callable[[str], list[str]] | None = None,
        lowercase: bool = True,
        vectors: str | os.PathLike | None = None,
        device: str = "auto",
        batch_size: int | None = None,
        workers: int | None = None,
        random_state: int | np.random.RandomState | None = 1,
        progress: bool | None = None,
        normalize: bool = True,
        memory: Any = None,
    ) -> None:
        self.dim = dim
        self.max_dim = max_dim
        self.window = window
        self.min_count = min_count
        self.negative = negative
        self.sample = sample
        self.epochs = epochs
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.sg = sg
        self.matryoshka_dims = matryoshka_dims
        self.pooling = pooling
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.vectors = vectors
        self.device = device
        self.batch_size = batch_size
        self.workers = workers
        self.random_state = random_state
        self.progress = progress
        self.normalize = normalize
        self.memory = memory

    # -- parameters ------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        check_int("max_dim", self.max_dim, 1)
        check_int("window", self.window, 1)
        check_int("min_count", self.min_count, 1)
        check_int("negative", self.negative, 1)
        check_progress(self.progress)
        if not (isinstance(self.epochs, str) and self.epochs == "auto"):
            bad = isinstance(self.epochs, bool) or not isinstance(self.epochs, numbers.Integral)
            if bad or self.epochs < 0:
                raise ValueError(f"epochs must be 'auto' or an int >= 0, got {self.epochs!r}")
        check_float("sample", self.sample, 0.0, 1.0, open_low=False)
        check_float("alpha", self.alpha, 0.0, 10.0, open_low=True)
        check_float("min_alpha", self.min_alpha, 0.0, 10.0, open_low=False)
        if self.min_alpha > self.alpha:
            raise ValueError(f"min_alpha={self.min_alpha!r} must not exceed alpha={self.alpha!r}")
        if not isinstance(self.sg, bool | np.bool_):
            raise TypeError(f"sg must be True (skip-gram) or False (CBOW), got {self.sg!r}")
        check_bool("lowercase", self.lowercase)
        if self.pooling not in ("mean", "sif"):
            raise ValueError(f"pooling must be 'mean' or 'sif', got {self.pooling!r}")
        if self.tokenizer is not None and not callable(self.tokenizer):
            raise TypeError(
                f"tokenizer must be a callable str -> list of str, or None, got {self.tokenizer!r}"
            )
        if self.matryoshka_dims is not None:
            # the shared check (the adaptor's and the encoder's): any collection of ints but an
            # iterator, which it would use up, strictly increasing, within max_dim
            check_matryoshka_dims(
                self.matryoshka_dims, self.max_dim, bound=f"max_dim={self.max_dim}"
            )
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, 16)
        if self.workers is not None:
            check_int("workers", self.workers, 1)
        if self.vectors is not None:
            if not isinstance(self.vectors, str | os.PathLike):
                raise TypeError(f"vectors must be a file path or None, got {self.vectors!r}")
            if not Path(self.vectors).is_file():
                raise FileNotFoundError(f"vectors file not found: {self.vectors}")
        elif self.epochs == 0:
            raise ValueError("epochs=0 trains nothing: give pretrained vectors=... or epochs >= 1")
        check_device_spec(self.device)
        check_seed(self.random_state)

    def _fit_data_key(self, docs: list[str], y: Any) -> str | None:
        key = super()._fit_data_key(docs, y)
        if self.vectors is not None:  # a rewritten vectors file must not reuse a cached fit
            # the resolved path: a relative one names another file after os.chdir
            stat = Path(self.vectors).stat()
            path = os.path.realpath(self.vectors)
            key = f"{key}|{path}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}"
        if self.epochs != 0:
            # What training runs on, not only the parameter: device="auto" is a GPU in one
            # process and the CPU in another (CUDA_VISIBLE_DEVICES="", a CPU worker), which train
            # other vectors (its kernels round otherwise; it had larger batches), so a state trained
            # on one was served to the other through memory=. The CPU's keys are unchanged.
            from skmrl._torch.device import resolve_device

            kind = resolve_device(self.device).partition(":")[0]
            if kind != "cpu":
                key = f"{key}|{kind}"
            # the training's revision: a state cached (memory=) by an earlier one was trained
            # otherwise, and would be served as this one's
            key = f"{key}|training{_TRAINING_REVISION}"
        return key

    def _check_dim(self, max_dim_: int) -> int | None:
        """``check_dim``, naming the vectors file when its size (and not ``max_dim``) is what
        ``dim`` exceeds: the word vectors are the file's, cut to ``max_dim``, never widened."""
        dim = check_dim(self.dim)
        narrower = isinstance(self.max_dim, numbers.Integral) and max_dim_ < self.max_dim
        if dim is not None and dim > max_dim_ and narrower and self.vectors is not None:
            raise ValueError(
                f"dim={dim} is out of range: the vectors file {os.fspath(self.vectors)} has "
                f"{max_dim_} dimensions, fewer than max_dim={self.max_dim}, and the word vectors "
                f"are its own; expected None (full size) or an int in [1, {max_dim_}]"
            )
        return check_dim(dim, max_dim_)

    def _check_nested_dims(self, file_dim: int) -> None:
        """Refuse ``matryoshka_dims`` above the size of the vectors file, when it is narrower
        than ``max_dim`` (the word vectors are the file's, never widened): they were dropped,
        and the prefixes trained were others than the ones asked for. Not with ``epochs=0``,
        which trains nothing: ``matryoshka_dims`` is unused there."""
        narrower = file_dim < self.max_dim
        if self.matryoshka_dims is not None and self.epochs != 0 and narrower:
            check_matryoshka_dims(
                self.matryoshka_dims,
                file_dim,
                bound=(
                    f"the {file_dim} dimensions of the vectors file {os.fspath(self.vectors)} "
                    f"(fewer than max_dim={self.max_dim}; the word vectors are its own)"
                ),
            )

    # -- text ------------------------------------------------------------------------------------
    def _tokenize(self, doc: str, *, lowercase: bool | None = None) -> list[str]:
        """The tokens of ``doc`` (``lowercase``: ``self.lowercase`` unless given)."""
        text = doc.lower() if (self.lowercase if lowercase is None else lowercase) else doc
        if self.tokenizer is None:
            return _default_tokenize(text)
        tokens = self.tokenizer(text)
        if isinstance(tokens, str) or not isinstance(tokens, Iterable):
            raise TypeError(f"tokenizer must return a list of str, got {type(tokens).__name__}")
        tokens = list(tokens)
        for token in tokens:
            if not isinstance(token, str):  # None became a word; a list, a deep 'unhashable'
                raise TypeError(
                    f"tokenizer must return a list of str, got a token {token!r} "
                    f"({type(token).__name__}) from the text {doc[:80]!r}"
                )
        return tokens

    # -- fitting ---------------------------------------------------------------------------------
    def _fit_full(self, docs: list[str], y: Any) -> dict[str, Any]:
        tokenized = [self._tokenize(doc) for doc in docs]
        if self.tokenizer is None:
            self._check_segmented(tokenized)

        pre_words: list[str] = []
        pre_table = None
        if self.vectors is not None:
            try:
                pre_words, pre_table = load_word_vectors(self.vectors, progress=self.progress)
            except _NotUTF8Error as exc:  # load_word_vectors' own hint: no parameter here
                raise ValueError(
                    f"{exc.problem}; where words are cut mid-character (word2vec.c cuts long "
                    "words at a byte), read the file with load_word_vectors(path, "
                    "unicode_errors='replace') and write the words and vectors it gives to a "
                    "word2vec text file (a line each: the word, then its numbers) to pass "
                    "as vectors="
                ) from None
            # dim and matryoshka_dims against the file's size before training: dim was refused
            # only by the fitted state's check, after minutes of training for nothing
            self._check_dim(min(pre_table.shape[1], self.max_dim))
            self._check_nested_dims(pre_table.shape[1])
            if self.tokenizer is None:  # the file's words as the tokenizer reads the corpus
                pre_words, rows = _normal_words(pre_words)
                pre_table = pre_table if rows is None else pre_table[rows]
            pre_table = _principal_rotation(pre_table)[:, : self.max_dim]
        max_dim = self.max_dim if pre_table is None else pre_table.shape[1]

        # epochs=0 uses the pretrained vectors as they are: words missing from the file would
        # keep random vectors, so they stay out of the vocabulary (skipped, as unknown words).
        words, counts = _build_vocabulary(
            tokenized, self.min_count, pre_words, add_corpus_words=self.epochs != 0
        )
        if pre_words:  # their counts in the corpus come first
            self._check_vectors_coverage(docs, tokenized, pre_words, counts[: len(pre_words)])
        if not words:
            raise ValueError(
                f"the vocabulary is empty: no word occurs at least min_count={self.min_count} "
                f"times in the {len(docs)} training documents; lower min_count or give more text"
            )
        index = {w: i for i, w in enumerate(words)}

        doc_arr, tokens = _known_word_ids(tokenized, index)
        # The token strings are not needed past here (the SIF pooling below reads the ids):
        # kept through training, 5.2 million tokens peaked at 700 MB, 515 MB without them.
        del tokenized

        keep = _keep_probabilities(counts, self.sample)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        init = np.random.default_rng(seed)
        # Uniform in [-1/D, 1/D), as gensim initialises its input vectors.
        w_in = (init.random((len(words), max_dim), dtype=np.float32) * 2 - 1) / np.float32(max_dim)
        if pre_table is not None:
            w_in[: len(pre_words)] = pre_table
        w_out = np.zeros_like(w_in)

        # Pairs are made within a document: with no document of two known words (a one-token
        # corpus, one-word documents), training would change nothing.
        if self.epochs != 0 and not np.any(doc_arr[1:] == doc_arr[:-1]):
            self._warn_nothing_to_train(len(docs), len(tokens), len(words) - len(pre_words))
            epochs = 0
        else:
            epochs = self._n_epochs(len(tokens))
        if epochs > 0:
            w_in = self._train(tokens, doc_arr, keep, counts, w_in, w_out, seed, epochs)

        total = max(int(counts.sum()), 1)
        if self.pooling == "sif":
            weights = (SIF_A / (SIF_A + counts / total)).astype(np.float32)
        else:
            weights = np.ones(len(words), dtype=np.float32)
        wv = WordVectors(words, np.ascontiguousarray(w_in, dtype=np.float32), counts)
        state: dict[str, Any] = {
            "wv_": wv,
            "keep_proba_": keep,
            "word_weights_": weights,
            "sif_component_": None,
            "max_dim_": int(max_dim),
            "n_train_words_": len(tokens),
            "epochs_": int(epochs),
        }
        if self.pooling == "sif":
            pooled = _pool_ids(doc_arr, tokens, len(docs), wv.vectors, weights)
            state["sif_component_"] = _first_component(pooled)
        return state

    def _check_vectors_coverage(
        self,
        docs: list[str],
        tokenized: list[list[str]],
        pre_words: list[str],
        pre_counts: np.ndarray,
    ) -> None:
        """Warn when the words of the vectors file are few of the corpus's tokens (see
        ``_vectors_coverage_message``). Once per parameter setting."""
        known, total = int(pre_counts.sum()), sum(len(toks) for toks in tokenized)
        if not _low_coverage(known, total):
            return
        if not first_warning("vectors-coverage|" + stable_repr(self._cache_params())):
            return
        # the tokens as lowercase=False would give them: a second pass, only for a hint
        cased = (
            (lambda: [self._tokenize(d, lowercase=False) for d in docs]) if self.lowercase else None
        )
        warnings.warn(
            _vectors_coverage_message(
                self.vectors, pre_words, known, total, skipped=self.epochs == 0, cased_tokens=cased
            ),
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def _check_segmented(self, tokenized: list[list[str]]) -> None:
        """Warn when the default tokenizer made phrases, not words, of text written without
        spaces (Chinese, Japanese, Thai, ...). Once per parameter setting."""
        share = _unsegmented_share(tokenized)
        if share < UNSEGMENTED_SHARE or not first_warning(
            "unsegmented|" + stable_repr(self._cache_params())
        ):
            return
        warnings.warn(
            f"{share:.0%} of the training tokens are runs of Chinese, Japanese, Thai, Lao, Khmer "
            "or Myanmar text, which puts no spaces between words: the default tokenizer splits "
            "at spaces and punctuation only, so these tokens are phrases or whole sentences, "
            "which other documents rarely repeat (expect near-random or zero vectors). Pass "
            "tokenizer=... a word segmenter (jieba.lcut for Chinese, say), give text split into "
            "words by spaces, or use TfidfBaseline(analyzer='char', ngram_range=(1, 2)). "
            "(Warned once per parameter setting.)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def _warn_nothing_to_train(self, n_docs: int, n_tokens: int, n_random: int) -> None:
        """Warn that no training document has two known words, so that training is skipped and
        the ``n_random`` corpus words keep their random vectors. Once per parameter setting."""
        if not n_random or not first_warning(
            "nothing-to-train|" + stable_repr(self._cache_params())
        ):
            return
        if self.vectors is None:
            kept = f"the vectors of its {_count(n_random, 'word')} stay random (documents embed "
            kept += "to random directions)"
        else:
            kept = f"the vectors of the {_count(n_random, 'corpus word')} missing from the "
            kept += "vectors file stay random"
        warnings.warn(
            f"word2vec trains nothing: no training document has two words in the vocabulary "
            f"({_count(n_tokens, 'known token')} in {_count(n_docs, 'document')}), so there is "
            f"no (word, context) pair to learn from, and {kept}; epochs_ is 0. Give documents "
            "of several words, a lower min_count, or pretrained vectors=... with epochs=0. "
            "(Warned once per parameter setting.)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def _n_epochs(self, n_tokens: int) -> int:
        """The passes to train (``epochs``, or ``"auto"``'s choice); warns when they are few."""
        if isinstance(self.epochs, str):  # "auto"
            epochs = -(-AUTO_EPOCHS_TOKENS // max(n_tokens, 1))
            epochs = min(max(epochs, AUTO_MIN_EPOCHS), AUTO_MAX_EPOCHS)
        else:
            epochs = int(self.epochs)
        passes = epochs * n_tokens
        if 0 < passes < MIN_TRAINING_TOKENS and self.vectors is None:
            key = "few-tokens|" + stable_repr(self._cache_params())
            if first_warning(key):
                warnings.warn(
                    f"word2vec trains on only {passes:,} tokens ({n_tokens:,} corpus tokens in "
                    f"the vocabulary x {epochs} epochs), fewer than the ~{MIN_TRAINING_TOKENS:,} "
                    "it needs for useful vectors: expect near-chance document features and "
                    "frequent words as nearest neighbours. Give more text, more epochs "
                    "(epochs='auto' trains up to 40), pretrained vectors=..., or use "
                    "TfidfBaseline. (Warned once per parameter setting.)",
                    UserWarning,
                    stacklevel=caller_stacklevel(),
                )
        return epochs

    def _train(self, tokens, doc_arr, keep, counts, w_in, w_out, seed, epochs) -> np.ndarray:
        """The trained input table (torch is imported here: ``import skmrl`` stays torch-free)."""
        from skmrl._torch.sgns import train_word_vectors

        return train_word_vectors(
            tokens,
            doc_arr,
            keep,
            counts,
            w_in,
            w_out,
            sg=bool(self.sg),
            window=int(self.window),
            negative=int(self.negative),
            alpha=float(self.alpha),
            min_alpha=float(self.min_alpha),
            epochs=int(epochs),
            nested_dims=self.matryoshka_dims,
            device=self.device,
            batch_size=self.batch_size,
            workers=self.workers,
            seed=seed,
            progress=self.progress,
        )

    # -- transforming ----------------------------------------------------------------------------
    def _transform_full(self, docs: list[str]) -> np.ndarray:
        tokenized = [self._tokenize(doc) for doc in docs]
        out = _pool(tokenized, self.wv_.key_to_index, self.wv_.vectors, self.word_weights_)
        if self.sif_component_ is not None:
            out = _remove_component(out, self.sif_component_)
        return out

    def _embed_docs(self, docs: Sequence[str]) -> np.ndarray:
        out = super()._embed_docs(docs)
        # A zero vector is not enough: a word of a vectors file may have an all-zero row (a
        # padding token), and the documents made of such words are not unknown. Only the zero
        # rows (few, usually) are tokenized again.
        zero = np.flatnonzero(~out.any(axis=1)) if out.size else ()
        index = self.wv_.key_to_index
        n_unknown = sum(
            1 for i in zero if not any(w in index for w in self._tokenize(docs[int(i)]))
        )
        if n_unknown and first_warning("no-known-word|" + self.fingerprint_):
            warnings.warn(
                f"{n_unknown} of {len(docs)} documents have no word in the vocabulary "
                f"({len(self.wv_)} word{'s' if len(self.wv_) != 1 else ''}); they embed to "
                "zero vectors. (Warned once per fitted "
                "embedder, so once per fold in a cross-validation or a sweep, each fold fitting "
                "its own; later transforms with unknown-only documents stay silent.)",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return out

    # -- inspection ------------------------------------------------------------------------------
    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` vocabulary words closest to ``word`` (cosine of the ``dim``-prefixes).

        Parameters
        ----------
        word : str
            A vocabulary word (lowercased first when ``lowercase=True``; in Unicode NFC, as
            the default tokenizer makes words).
        topn : int, default=10
            How many neighbours to return.

        Returns
        -------
        list of (str, float)

        Examples
        --------
        >>> from skmrl import Word2VecEmbedder
        >>> docs = ["the cat sat on the mat", "the dog sat on the rug"] * 50
        >>> w2v = Word2VecEmbedder(max_dim=16, epochs=1, random_state=0).fit(docs)
        >>> len(w2v.most_similar("cat", topn=3))
        3
        """
        self._check_fitted()
        dim = check_dim(self.dim, self.max_dim_)
        key = word.lower() if self.lowercase and isinstance(word, str) else word
        if self.tokenizer is None and isinstance(key, str) and key not in self.wv_:
            key = _normal_text(key)  # as the default tokenizer reads words
        return self.wv_.most_similar(key, topn=topn, dim=dim)
