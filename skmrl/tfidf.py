"""TfidfBaseline: sparse TF-IDF, or LSA (a truncated SVD of it) at any ``dim``."""

from __future__ import annotations

import copy
import numbers
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from skmrl._validation import check_dim, check_int, check_seed
from skmrl.base import BaseEmbedder, dim_feature_names

__all__ = ["TfidfBaseline"]

#: scikit-learn's default ``token_pattern``: runs of two or more word characters.
_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


class TfidfBaseline(BaseEmbedder):
    """TF-IDF features, or their LSA projection with a tunable size ``dim``.

    With ``dim=None`` this is scikit-learn's :class:`~sklearn.feature_extraction.text.
    TfidfVectorizer` (a sparse matrix). With ``dim=k`` it is latent semantic analysis: a
    :class:`~sklearn.decomposition.TruncatedSVD` fitted once at ``min(max_dim, rank)`` components,
    whose components are ordered by singular value, so the first ``k`` of them are the rank-``k``
    LSA: the output is nested by construction. The SVD is scikit-learn's randomized one (an exact
    one for a small matrix of full rank): its leading components are the exact ones, the last
    ones before ``max_dim`` approximations that depend on ``random_state`` (800 TREC questions,
    ``max_dim=64``: the first 27 match the exact SVD's, cosines of 0.99 or more up to sign; the
    64th does not), so fit ``max_dim`` above the largest ``dim`` you will use. Changing ``dim``
    after ``fit`` needs no refit, and in a grid search over ``dim`` the TF-IDF and SVD are fitted
    once per fold (the fitted state is cached under a hash of the training data and every other
    parameter).

    Parameters
    ----------
    dim : int or None, default=None
        Output size. ``None``: the sparse TF-IDF matrix. ``k``: the first ``k`` LSA components,
        ``1 <= k <= max_dim_``.
    max_dim : int, default=256
        Number of SVD components fitted (capped by the rank of the TF-IDF matrix).
    normalize : bool, default=True
        L2-normalise each LSA vector after slicing it to ``dim`` (zero vectors stay zero).
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        N-gram range of the vectorizer: of words, or of characters with ``analyzer="char"`` or
        ``"char_wb"``.
    min_df, max_df : float or int, default=1, 1.0
        Document-frequency bounds of the vocabulary (counts if int, proportions if float).
    sublinear_tf : bool, default=False
        Use ``1 + log(tf)`` term frequencies.
    max_features : int, optional
        Keep only the most frequent terms.
    stop_words : {"english"}, list, tuple, set, 1-D array or None, default=None
        Stop words to drop (``ENGLISH_STOP_WORDS | {"said"}``, a frozenset, or a column's
        ``.to_numpy()`` too: each is read as a list).
    lowercase : bool, default=True
        Lowercase before tokenizing.
    strip_accents : {"ascii", "unicode"}, callable or None, default=None
        Remove accents before tokenizing: ``"unicode"`` strips combining marks (any language),
        ``"ascii"`` keeps only what maps to ASCII, a callable is applied to each document.
    analyzer : {"word", "char", "char_wb"} or callable, default="word"
        The features. ``"word"``: words as ``token_pattern`` finds them. ``"char"``: character
        n-grams (``ngram_range`` sets their lengths), across word boundaries; ``"char_wb"``:
        character n-grams inside words, padded with a space. Character n-grams suit misspelled
        or inflected words, and text without spaces between words (Chinese, Japanese, Thai),
        of which ``"word"`` makes one token per run of characters, often a whole sentence.
        A callable maps a raw document to its list of features (``lowercase``,
        ``strip_accents``, ``token_pattern``, ``stop_words`` and ``ngram_range`` are then not
        used). It is part of the cache key by its code, as a ``tokenizer`` is (docs/design.md,
        *Caching*).
    token_pattern : str or None, default=r"(?u)\\b\\w\\w+\\b"
        Regular expression of a word for ``analyzer="word"`` (one capturing group at most, which
        is then the token). The default drops one-character words ("a", "I", and each Chinese
        character on its own); ``r"(?u)\\b\\w+\\b"`` keeps them. Not used by the other
        analyzers.
    random_state : int or None, default=0
        Seed of the randomized SVD (fixed by default so that results are reproducible, and a
        grid over ``dim`` fits once per fold). ``None``: fresh randomness at every fit, never
        served from the cache. A small corpus (at most ``max_dim`` documents, or terms) gets an
        exact SVD instead, whatever the seed.
    memory : str, path or joblib.Memory, optional
        Folder for a disk cache of fitted states and vectors, shared by ``n_jobs>1`` workers.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vectorizer.
    components_ : ndarray of shape (``max_dim_``, n_terms)
        LSA directions, by decreasing singular value.
    singular_values_ : ndarray of shape (``max_dim_``,)
        Their singular values.
    max_dim_ : int
        Largest allowed ``dim``: ``min(max_dim, rank of the TF-IDF matrix)``.
    fingerprint_ : str
        Identity of the fitted state (cache key).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmrl import TfidfBaseline
    >>> docs = ["the cat sat", "a dog barked", "the cat purred", "dogs bark loudly"] * 5
    >>> labels = [0, 1, 0, 1] * 5
    >>> lsa = TfidfBaseline(dim=2).fit(docs)
    >>> lsa.transform(["a cat"]).shape
    (1, 2)
    >>> pipe = make_pipeline(TfidfBaseline(), LogisticRegression())
    >>> grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [1, 2, 4]}, cv=2).fit(docs, labels)
    >>> grid.best_params_["tfidfbaseline__dim"] in (1, 2, 4)
    True

    Text without spaces between words: the default analyzer makes one token of each sentence,
    character bigrams find the words the sentences share.

    >>> zh = ["我喜欢猫", "我喜欢狗", "猫很可爱", "狗很可爱"]
    >>> TfidfBaseline().fit(zh).get_feature_names_out().tolist()
    ['我喜欢狗', '我喜欢猫', '狗很可爱', '猫很可爱']
    >>> bigrams = TfidfBaseline(analyzer="char", ngram_range=(2, 2)).fit(zh)
    >>> bigrams.get_feature_names_out().tolist()
    ['可爱', '喜欢', '很可', '我喜', '欢狗', '欢猫', '狗很', '猫很']
    """

    def __init__(
        self,
        dim: int | None = None,
        max_dim: int = 256,
        *,
        normalize: bool = True,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: float | int = 1,
        max_df: float | int = 1.0,
        sublinear_tf: bool = False,
        max_features: int | None = None,
        stop_words: str | list[str] | None = None,
        lowercase: bool = True,
        strip_accents: str | Callable[[str], str] | None = None,
        analyzer: str | Callable[[str], list[str]] = "word",
        token_pattern: str | None = _DEFAULT_TOKEN_PATTERN,
        random_state: int | None = 0,
        memory: Any = None,
    ) -> None:
        self.dim = dim
        self.max_dim = max_dim
        self.normalize = normalize
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.max_features = max_features
        self.stop_words = stop_words
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.analyzer = analyzer
        self.token_pattern = token_pattern
        self.random_state = random_state
        self.memory = memory

    def _validate_params(self) -> None:
        check_int("max_dim", self.max_dim, 1)
        check_seed(self.random_state)
        self._check_token_pattern()

    def _check_token_pattern(self) -> None:
        """The word analyzer's ``token_pattern``, where TfidfVectorizer fails unclearly: a
        pattern that is not a regular expression (``re.error``, not naming the parameter) or
        ``None`` (meant for its ``tokenizer``, which this class does not take: "first argument
        must be string or compiled pattern"). Its other checks (types, values, capturing
        groups) say clearly what is wrong, in ``fit``."""
        if not (isinstance(self.analyzer, str) and self.analyzer == "word"):
            return  # the other analyzers do not use it (TfidfVectorizer warns if it is set)
        if self.token_pattern is None:
            raise ValueError(
                "token_pattern=None leaves analyzer='word' no way to find words: give a "
                r"regular expression (the default is r'(?u)\b\w\w+\b'), or use "
                "analyzer='char', 'char_wb' or a callable"
            )
        if isinstance(self.token_pattern, str):
            try:
                re.compile(self.token_pattern)
            except re.error as exc:
                raise ValueError(
                    f"token_pattern={self.token_pattern!r} is not a valid regular expression: {exc}"
                ) from None

    def _fit_key(self, docs: list[str], y: Any) -> str | None:
        key = super()._fit_key(docs, y)
        # the decomposition's revision: a state cached (memory=) by an earlier one is served as
        # this one's otherwise (revision 2: every component of a small vocabulary on a corpus
        # past the dense SVD's size, where the earlier lost one)
        return None if key is None else f"{key}|svd{_SVD_REVISION}"

    def _fit_full(self, docs: list[str], y: Any) -> dict[str, Any]:
        vectorizer = TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_df=self.max_df,
            sublinear_tf=self.sublinear_tf,
            max_features=self.max_features,
            # a copy of a list: the shared fitted vectorizer reads it at transform, so a list
            # the user edited after fit changed the vectors other estimators got from the cache
            # (sets, tuples and arrays as lists; anything else to scikit-learn's checks)
            stop_words=(
                self.stop_words.tolist()
                if isinstance(self.stop_words, np.ndarray)
                else list(self.stop_words)
                if isinstance(self.stop_words, list | tuple | set | frozenset)
                else self.stop_words
            ),
            lowercase=self.lowercase,
            strip_accents=self.strip_accents,
            analyzer=self.analyzer,
            token_pattern=self.token_pattern,
            dtype=np.float32,
        )
        try:
            tfidf = vectorizer.fit_transform(docs)
        except ValueError as exc:
            if not str(exc).startswith("empty vocabulary"):
                raise
            raise ValueError(self._empty_vocabulary_message(docs)) from None
        # The pruned-term set is only for introspection and can be huge: do not keep or pickle it.
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
        # The state is shared and may be pickled to the disk cache, which a lambda cannot be:
        # it holds placeholders, and each estimator its own functions (_set_fitted_state).
        vectorizer.set_params(**dict.fromkeys(self._callable_params(), _set_at_fit))
        components, singular = _truncated_svd(tfidf, int(self.max_dim), self.random_state)
        # Keep the components the matrix actually has (its numerical rank).
        rank = max(1, int(np.sum(singular > singular[0] * 1e-6))) if singular[0] > 0 else 1
        return {
            "vectorizer_": vectorizer,
            "components_": np.ascontiguousarray(components[:rank], dtype=np.float32),
            "singular_values_": singular[:rank].astype(np.float32),
            "max_dim_": rank,
        }

    def _empty_vocabulary_message(self, texts: list[str]) -> str:
        """What TfidfVectorizer's "empty vocabulary; perhaps the documents only contain stop
        words" means here: it said stop words also of emoji, punctuation, or one-character
        words (a Chinese character), which the default ``token_pattern`` does not take."""
        n_docs = len(texts)
        docs = f"{n_docs} training document" + ("" if n_docs == 1 else "s")
        ascii_strip = isinstance(self.strip_accents, str) and self.strip_accents == "ascii"
        if ascii_strip and not all(text.isascii() for text in texts):
            # the other advice (a token pattern, characters) fails the same way after it
            ascii_only = (
                "; strip_accents='ascii' drops every character outside ASCII (the whole of a "
                "Chinese, Greek or Cyrillic text): pass strip_accents='unicode' or None"
            )
        else:
            ascii_only = ""
        return self._empty_vocabulary_reason(docs) + ascii_only

    def _empty_vocabulary_reason(self, docs: str) -> str:
        if not (isinstance(self.analyzer, str) and self.analyzer == "word"):
            if not isinstance(self.analyzer, str):
                return f"empty vocabulary: the analyzer found no term in the {docs}"
            return (
                f"empty vocabulary: analyzer={self.analyzer!r} with ngram_range="
                f"{self.ngram_range} found no character n-gram in the {docs}"
            )
        stop = " outside stop_words" if self.stop_words is not None else ""
        message = f"empty vocabulary: token_pattern=r'{self.token_pattern}' finds no word"
        message += f"{stop} in the {docs}"
        if self.token_pattern == _DEFAULT_TOKEN_PATTERN:
            message += (
                " (the default takes runs of two or more letters, digits or underscores: not "
                "punctuation, emoji or one-character words such as a Chinese character alone); "
                r"pass token_pattern=r'(?u)\b\w+\b' to keep one-character words, or "
                "analyzer='char' for character n-grams"
            )
        return message

    def _callable_params(self) -> list[str]:
        """The vectorizer's parameters given as functions (``analyzer``, ``strip_accents``)."""
        return [k for k in ("analyzer", "strip_accents") if callable(getattr(self, k))]

    def _set_fitted_state(self, state: dict[str, Any], key: str) -> None:
        """Give the shared fitted vectorizer this estimator's functions, in a shallow copy: the
        fit key holds their code (docs/design.md, *Caching*), so they are the ones it was fitted
        with, or the same code."""
        functions = {k: getattr(self, k) for k in self._callable_params()}
        if functions:
            vectorizer = copy.copy(state["vectorizer_"]).set_params(**functions)
            state = {**state, "vectorizer_": vectorizer}
        super()._set_fitted_state(state, key)

    def _check_dim(self, max_dim_: int) -> int | None:
        """``check_dim``, naming the rank of the training TF-IDF matrix when it (and not
        ``max_dim``) is what ``dim`` exceeds: a corpus of one document has one LSA component."""
        dim = self.dim  # checked below, with the range (dim=0 was told "[1, max_dim]")
        capped = isinstance(self.max_dim, numbers.Integral) and max_dim_ < self.max_dim
        is_int = isinstance(dim, numbers.Integral) and not isinstance(dim, bool)
        if is_int and dim > max_dim_ and capped:
            components = f"{max_dim_} component" + ("s" if max_dim_ > 1 else "")
            raise ValueError(
                f"dim={dim} is out of range: the TF-IDF matrix of the training documents has "
                f"rank {max_dim_}, so their LSA has {components}, fewer than max_dim="
                f"{self.max_dim}; expected None (full size) or an int in [1, {max_dim_}]"
            )
        return check_dim(dim, max_dim_)

    def _transform_full(self, docs: list[str]) -> np.ndarray:
        tfidf = self.vectorizer_.transform(docs)
        return np.asarray(tfidf @ self.components_.T, dtype=np.float32)

    def _check_dense_output(self) -> None:
        """Refuse pandas or polars output for the sparse TF-IDF matrix, saying why and what to
        do."""
        container = _output_container(self)
        if container in ("pandas", "polars"):
            # Name the setting the user made: this estimator's set_output, or the global one.
            own = (getattr(self, "_sklearn_output_config", None) or {}).get("transform")
            asked = (
                f"set_output(transform={container!r})"
                if own == container
                else f"sklearn.set_config(transform_output={container!r})"
            )
            raise ValueError(
                "TfidfBaseline(dim=None) returns the sparse TF-IDF matrix (one column per term), "
                f"which {asked} cannot hold; set dim=k for dense LSA "
                "vectors, or use set_output(transform='default') for the sparse matrix"
            )

    def transform(self, X: Any) -> np.ndarray | sp.csr_matrix:
        """TF-IDF (``dim=None``, sparse) or the first ``dim`` LSA components (dense).

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        sparse matrix of shape (n_samples, n_terms), or ndarray of shape (n_samples, dim)
        """
        return super().transform(X)

    def _at_dim(self, docs: list[str], dim: int | None) -> np.ndarray | sp.csr_matrix:
        if dim is None:
            self._check_dense_output()
            if not docs:  # TfidfTransformer refuses 0 rows; the other dims give (0, dim)
                n_terms = len(self.vectorizer_.vocabulary_)
                return sp.csr_matrix((0, n_terms), dtype=self.vectorizer_.dtype)
            return self.vectorizer_.transform(docs)
        return super()._at_dim(docs, dim)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Terms (``dim=None``) or ``tfidfbaseline0 ... tfidfbaseline{dim-1}``.

        Parameters
        ----------
        input_features : ignored
            Present for API consistency.

        Returns
        -------
        ndarray of str objects
        """
        self._check_fitted()
        if self._check_dim(self.max_dim_) is None:
            return self.vectorizer_.get_feature_names_out()
        return dim_feature_names(self)


def _set_at_fit(doc: str) -> Any:
    """Stands for a function parameter in a fitted state (which may be pickled, where a lambda
    cannot be); ``fit`` puts the estimator's own function back."""
    raise RuntimeError("a TfidfBaseline's function parameter was not restored after fit")


#: The revision of the decomposition, in the fit key (see ``TfidfBaseline._fit_key``).
_SVD_REVISION = 2

#: Largest dense TF-IDF matrix (in entries) that is decomposed exactly rather than randomized.
_EXACT_SVD_MAX_ENTRIES = 20_000_000


def _truncated_svd(
    tfidf: sp.spmatrix, max_dim: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``min(max_dim, rank)`` right singular vectors and singular values of ``tfidf``.

    Randomized SVD (scikit-learn's :class:`~sklearn.decomposition.TruncatedSVD`) in float64:
    in float32 its rounding, which depends on BLAS threads and load, moved the vectors by
    ~1e-5. When every component the matrix has is asked for (a tiny corpus, or a vocabulary
    of one word, where TruncatedSVD refuses to run), an exact dense SVD gives them all.
    """
    n_rows, n_cols = tfidf.shape
    n_components = min(max_dim, n_rows, n_cols)
    if n_components >= min(n_rows, n_cols) and n_rows * n_cols <= _EXACT_SVD_MAX_ENTRIES:
        dense = tfidf.toarray().astype(np.float64)
        _, singular, vt = np.linalg.svd(dense, full_matrices=False)
        return _flipped(vt)[:n_components], singular[:n_components]
    if n_components >= n_cols:
        # Every term's direction, of a corpus too large for the dense SVD (max_features=200 on
        # 100k documents): TruncatedSVD takes fewer than n_cols, so one component was lost and
        # the rank said one less. The Gram matrix is n_cols x n_cols: exact, and small.
        tfidf64 = tfidf.astype(np.float64)
        eigenvalues, eigenvectors = np.linalg.eigh((tfidf64.T @ tfidf64).toarray())
        order = np.argsort(eigenvalues)[::-1]
        singular = np.sqrt(np.clip(eigenvalues[order], 0.0, None))
        return _flipped(eigenvectors[:, order].T)[:n_components], singular[:n_components]
    # TruncatedSVD needs n_components < n_features; a larger request gets what rank allows.
    n_components = max(1, min(n_components, n_cols - 1))
    svd = TruncatedSVD(n_components=n_components, algorithm="randomized", random_state=random_state)
    svd.fit(tfidf.astype(np.float64))
    return svd.components_, svd.singular_values_


def _flipped(vt: np.ndarray) -> np.ndarray:
    """svd_flip's convention (as TruncatedSVD): the largest entry of each row of ``vt``
    positive."""
    signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    signs[signs == 0] = 1.0
    return vt * signs[:, None]


def _output_container(est: Any) -> str:
    """The container ``set_output`` (or the global config) asks ``transform`` to return."""
    try:
        from sklearn.utils._set_output import _get_output_config

        return str(_get_output_config("transform", est)["dense"])
    except (ImportError, KeyError, TypeError):  # a scikit-learn without this private helper
        config = getattr(est, "_sklearn_output_config", {}) or {}
        return str(config.get("transform", "default"))
