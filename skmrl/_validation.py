"""Input checks shared by every embedder: one place for every "bad input" message."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, overload

import numpy as np

from skmrl import _frames

__all__ = [
    "check_dim",
    "check_documents",
    "check_float",
    "check_int",
    "check_label_count",
    "check_pair_scores",
    "check_pairs",
    "check_text_embedder",
    "holds_text",
    "is_lfs_pointer",
    "is_missing",
]


def is_missing(value: Any) -> bool:
    """None, NaN, infinity, or pandas' NA (what a nullable column holds where it has no value).

    Examples
    --------
    >>> import pandas as pd
    >>> from skmrl._validation import is_missing
    >>> [is_missing(v) for v in (None, float("nan"), pd.NA, "", 0)]
    [True, True, True, False, False]
    """
    if value is None or type(value).__name__ == "NAType":
        return True
    return isinstance(value, float) and not math.isfinite(value)


def check_documents(X: Any, *, fit: bool = False, name: str = "X") -> list[str]:
    """Turn a 1-D collection of documents into a list of ``str``.

    Accepts a list, tuple, numpy array (1-D, or 2-D with one column), pandas or polars Series, a
    one-column pandas or polars DataFrame, or any other iterable (a generator, say). Empty
    strings are valid documents.

    Parameters
    ----------
    X : iterable of str
        The documents.
    fit : bool, default=False
        Whether this is training input; an empty corpus is then an error.
    name : str, default="X"
        How the input is named in error messages.

    Returns
    -------
    list of str

    Raises
    ------
    TypeError
        For a bare string, ``None``, a sparse matrix, a mapping or set, or an element that is not
        a ``str`` (the message gives its position and type).
    ValueError
        For missing values (NaN/None inside the corpus), 2-D input with several columns, or an
        empty corpus when ``fit=True``.

    Examples
    --------
    >>> from skmrl._validation import check_documents
    >>> check_documents(("a cat", "a dog"))
    ['a cat', 'a dog']
    >>> check_documents("a cat")
    Traceback (most recent call last):
    ...
    TypeError: expected an iterable of documents, got a single str; wrap it in a list: ['a cat']
    """
    if X is None:
        raise TypeError(f"expected an iterable of documents for {name}, got None")
    if isinstance(X, str):
        shown = X if len(X) <= 40 else X[:37] + "..."
        raise TypeError(
            f"expected an iterable of documents, got a single str; wrap it in a list: [{shown!r}]"
        )
    if isinstance(X, bytes | bytearray):
        raise TypeError(
            f"expected an iterable of str documents for {name}, got {type(X).__name__}; "
            "decode it and wrap it in a list"
        )
    if hasattr(X, "tocsr") or hasattr(X, "nnz"):
        raise TypeError(
            f"expected an iterable of str documents for {name}, got a sparse matrix "
            f"({type(X).__name__}); embedders take raw text, not features"
        )
    if isinstance(X, dict | set | frozenset):
        raise TypeError(
            f"expected an ordered iterable of str documents for {name}, got a "
            f"{type(X).__name__}; pass a list"
        )

    if _frames.is_dataframe(X):
        n_columns = X.shape[1]
        if n_columns != 1:
            raise ValueError(
                f"expected one column of text for {name}, got a DataFrame with {n_columns} "
                f"columns {list(X.columns)[:5]}; select the text column, e.g. df['text']"
            )
        items = _frames.column(X, 0).tolist()
    elif _frames.is_series(X):
        items = (_frames.polars_values(X) if _frames.is_polars(X) else X).tolist()
    elif isinstance(X, np.ndarray):
        if X.ndim == 0:
            raise TypeError(
                f"expected an iterable of documents for {name}, got a 0-d array; wrap it in a list"
            )
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(
                f"expected 1-D input (one document per row) for {name}, got an array of shape "
                f"{X.shape}; pass a single column of text"
            )
        items = X.tolist()
    elif isinstance(X, Iterable):
        items = list(X)
    else:
        raise TypeError(
            f"expected an iterable of str documents for {name}, got {_frames.type_of(X)}"
        )

    for i, doc in enumerate(items):
        if isinstance(doc, str):
            continue
        if is_missing(doc):  # None, NaN, or pd.NA (a "string" column's missing value)
            raise ValueError(
                f"document at position {i} of {name} is a missing value ({doc!r}); drop or fill "
                "missing values first (an empty string is a valid document)"
            )
        if isinstance(doc, list | tuple | np.ndarray) and not isinstance(doc, str):
            raise ValueError(
                f"document at position {i} of {name} is a {type(doc).__name__}, so the input "
                "looks 2-D; pass one column of text (one str per document)"
            )
        raise TypeError(
            f"document at position {i} of {name} has type {type(doc).__name__} "
            f"({doc!r:.40}); expected str"
        )
    if fit and not items:
        raise ValueError(f"cannot fit on an empty corpus: {name} has 0 documents")
    return items


def check_label_count(y: Any, n_documents: int, what: str = "documents") -> None:
    """Check that ``y`` (when given) is an array-like of one label per document.

    An embedder that ignores ``y`` still gets it from a ``Pipeline``; a ``y`` with no length
    (a generator, a number, a bare string) raised Python's own "object of type 'generator' has
    no len()", and a bare string was counted as labels of one character each.

    Parameters
    ----------
    y : array-like or None
        The labels; ``None`` passes.
    n_documents : int
        How many documents ``X`` holds.
    what : str, default="documents"
        What ``X`` holds, in the message (``"samples"`` where it may hold vectors).

    Raises
    ------
    TypeError
        For a ``y`` that is not an array-like (a generator, a scalar, a str, a 0-d array).
    ValueError
        For a ``y`` whose length is not ``n_documents``.

    Examples
    --------
    >>> from skmrl._validation import check_label_count
    >>> check_label_count([0, 1], 2)
    >>> check_label_count((v for v in [0, 1]), 2)
    Traceback (most recent call last):
    ...
    TypeError: y must be an array-like of one label per document (a list, an array or a pandas Series), got generator
    """  # noqa: E501
    if y is None:
        return
    if not hasattr(y, "__len__") and hasattr(y, "__array__"):  # an array-like of no len()
        y = np.asarray(y)  # (scikit-learn's checks hand such labels over)
    if isinstance(y, str | bytes) or not hasattr(y, "__len__") or getattr(y, "ndim", 1) == 0:
        got = "a 0-d array" if getattr(y, "ndim", 1) == 0 else type(y).__name__
        raise TypeError(
            "y must be an array-like of one label per document (a list, an array or a pandas "
            f"Series), got {got}"
        )
    shape = getattr(y, "shape", None)  # a scipy sparse matrix's len() raises
    known = isinstance(shape, tuple) and shape and isinstance(shape[0], numbers.Integral)
    count = int(shape[0]) if known else len(y)
    if count != n_documents:
        raise ValueError(f"X has {n_documents} {what} but y has {count} labels")


def check_pairs(X: Any, *, name: str = "X") -> tuple[list[str], list[str]]:
    """Turn sentence pairs into the list of first texts and the list of second texts.

    Accepts a sequence (or any iterable) of ``(text_a, text_b)`` pairs, a 2-D array of 2
    columns, or a pandas or polars DataFrame of 2 columns (one pair per row).

    Examples
    --------
    >>> from skmrl._validation import check_pairs
    >>> check_pairs([("a cat", "a kitten"), ("the sun", "rain")])
    (['a cat', 'the sun'], ['a kitten', 'rain'])
    >>> texts_a, texts_b = ["a cat", "the sun", "a man"], ["a kitten", "rain", "a boy"]
    >>> check_pairs((texts_a, texts_b), name="pairs")
    Traceback (most recent call last):
    ...
    ValueError: pairs[0] must be a pair (text_a, text_b), got ['a cat', 'the sun', 'a man']; two lists of texts make pairs with list(zip(texts_a, texts_b))
    """  # noqa: E501
    if X is None or isinstance(X, str | bytes) or not hasattr(X, "__iter__"):
        raise TypeError(
            f"{name} must be a sequence of (text_a, text_b) pairs, got {_frames.type_of(X)}"
        )
    if _frames.is_dataframe(X):  # iterating a frame gives its column names
        if X.shape[1] != 2:
            raise ValueError(
                f"{name} must have 2 columns (text_a, text_b), one pair per row; the DataFrame "
                f"has {X.shape[1]}: {list(X.columns)!r:.80}"
            )
        X = _frames.frame_rows(X)
    two_lists = hasattr(X, "__len__") and len(X) == 2  # (texts_a, texts_b), maybe
    a: list[str] = []
    b: list[str] = []
    for i, pair in enumerate(X):
        text = isinstance(pair, str | bytes)
        if text or not hasattr(pair, "__len__") or len(pair) != 2:
            hint = ""
            if two_lists and i == 0 and hasattr(pair, "__len__") and not text:
                hint = "; two lists of texts make pairs with list(zip(texts_a, texts_b))"
            raise ValueError(f"{name}[{i}] must be a pair (text_a, text_b), got {pair!r:.80}{hint}")
        first, second = pair
        if not isinstance(first, str) or not isinstance(second, str):
            raise TypeError(f"{name}[{i}] must hold two strings, got {pair!r:.80}")
        a.append(str(first))  # str, not numpy's str_
        b.append(str(second))
    if not a:
        raise ValueError(f"{name} holds no pairs")
    return a, b


def check_pair_scores(
    scores: Any, n_pairs: int, *, name: str = "scores", pairs: str = "pairs"
) -> np.ndarray:
    """The gold similarity scores of ``n_pairs`` sentence pairs, as a 1-D float64 array.

    A missing score (NaN, infinity) is refused: one would make the Spearman correlation NaN at
    every size, and a training loss NaN.

    Examples
    --------
    >>> from skmrl._validation import check_pair_scores
    >>> check_pair_scores([4, 0.5], 2)
    array([4. , 0.5])
    >>> check_pair_scores([4.0, float("nan")], 2, name="y")
    Traceback (most recent call last):
    ...
    ValueError: y must be finite numbers, one per pair: y[1] is nan
    """
    if isinstance(scores, Iterator):
        scores = list(scores)  # a generator of numbers: np.asarray would hold the generator
    try:
        raw = np.asarray(scores)
    except ValueError:  # ragged: [1.0, [2.0, 3.0]]
        raise TypeError(f"{name} must be numbers (one similarity score per pair)") from None
    strings = raw.dtype.kind in "US" or (
        raw.dtype == object and any(isinstance(v, str | bytes) for v in raw.ravel())
    )
    if strings:  # "4.5" converts, but a text column taken for the scores would too, silently
        first = next(v for v in raw.ravel() if isinstance(v, str | bytes))
        first = first.item() if isinstance(first, np.generic) else first
        raise TypeError(
            f"{name} must be numbers (one similarity score per pair), got strings such as "
            f"{first!r:.40}: convert them first (e.g. scores.astype(float))"
        )
    try:
        values = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers (one similarity score per pair)") from None
    if values.ndim != 1 or len(values) != n_pairs:
        raise ValueError(f"{pairs} has {n_pairs} pairs but {name} has shape {values.shape}")
    missing = np.flatnonzero(~np.isfinite(values))
    if missing.size:
        i = int(missing[0])
        raise ValueError(f"{name} must be finite numbers, one per pair: {name}[{i}] is {values[i]}")
    return values


def holds_text(X: Any) -> bool:
    """Whether ``X`` is a text, texts, or rows of texts: what an embedder takes, not vectors.

    Only the first element (of the first row) is looked at; of a DataFrame, whose iteration
    gives its column names, the first cell of its one column (``df[["text"]]``, as a
    ``ColumnTransformer`` hands it over; a frame of several columns is never taken for texts),
    and an iterator, which looking would consume, is never taken for texts.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmrl._validation import holds_text
    >>> holds_text(["a cat", "a dog"]), holds_text([["a cat"]]), holds_text([[0.1, 0.2]])
    (True, True, False)
    >>> holds_text(pd.DataFrame({"text": ["a cat"]})), holds_text(pd.DataFrame({"x": [0.1]}))
    (True, False)
    """
    if isinstance(X, str | bytes):
        return True
    if isinstance(X, Mapping):  # its keys were read: ids, not texts
        return False
    if _frames.is_dataframe(X) and X.shape[1] == 1:
        X = _frames.column(X, 0)
    kind = getattr(getattr(X, "dtype", None), "kind", "O")
    if kind in "US":
        return True
    if kind != "O" or _frames.is_dataframe(X) or not hasattr(X, "__len__"):
        return False  # numbers; a frame iterates over its column names; never eat an iterator
    first = X
    for _ in range(2):  # the first text, or the first row's first text
        try:
            first = next(iter(first))
        except (TypeError, StopIteration):
            return False
        if isinstance(first, str | bytes):
            return True
        if isinstance(first, Mapping):  # records, whose keys are names, not texts
            return False
    return False


#: How a Git LFS pointer opens: the few lines of text (about 130 bytes) that a repository
#: cloned without Git LFS holds in place of each large file.
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"


def is_lfs_pointer(head: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` is a Git LFS pointer, not the file itself.

    Examples
    --------
    >>> from skmrl._validation import is_lfs_pointer
    >>> is_lfs_pointer(b"version https://git-lfs.github.com/spec/v1\\noid sha256:4d7a")
    True
    """
    return head.startswith(_LFS_POINTER)


def check_text_embedder(embedder: Any, vectors_hint: str, other_hint: str = "") -> None:
    """Refuse an ``embedder`` that is not a skmrl text embedder (one with ``embed_full``), in
    one ``TypeError`` naming what was given; ``vectors_hint`` says what to do instead with a
    ``MatryoshkaAdaptor`` (it takes vectors, not texts), ``other_hint`` with anything else but
    a Pipeline.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from skmrl._validation import check_text_embedder
    >>> check_text_embedder(TfidfVectorizer(), "embed the texts first")
    Traceback (most recent call last):
    ...
    TypeError: embedder must be a skmrl text embedder (TfidfBaseline, Word2VecEmbedder, \
MatryoshkaEmbedder: one with embed_full), got TfidfVectorizer
    """
    if hasattr(embedder, "embed_full"):
        return
    if hasattr(embedder, "transform_full"):  # MatryoshkaAdaptor
        hint = f"; it takes vectors, not texts: {vectors_hint}"
    elif hasattr(embedder, "steps"):  # a Pipeline
        hint = "; pass the embedder itself, not a Pipeline"
    else:
        hint = f"; {other_hint}" if other_hint else ""
    raise TypeError(
        "embedder must be a skmrl text embedder (TfidfBaseline, Word2VecEmbedder, "
        f"MatryoshkaEmbedder: one with embed_full), got {type(embedder).__name__}{hint}"
    )


def check_dim(dim: Any, max_dim: int | None = None, *, name: str = "dim") -> int | None:
    """Validate an embedding size.

    Parameters
    ----------
    dim : int or None
        ``None`` means full size.
    max_dim : int, optional
        The largest allowed value (the fitted ``max_dim_``); not checked when ``None``.
    name : str, default="dim"
        Parameter name used in the error message.

    Returns
    -------
    int or None

    Examples
    --------
    >>> from skmrl._validation import check_dim
    >>> check_dim(8, 384)
    8
    >>> check_dim(500, 384)
    Traceback (most recent call last):
    ...
    ValueError: dim=500 is out of range: expected None (full size) or an int in [1, 384]
    """
    if dim is None:
        return None
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(
            f"{name} must be None (full size) or a positive int, got {type(dim).__name__} ({dim!r})"
        )
    dim = int(dim)
    upper = "max_dim" if max_dim is None else str(max_dim)
    if dim < 1 or (max_dim is not None and dim > max_dim):
        raise ValueError(
            f"{name}={dim} is out of range: expected None (full size) or an int in [1, {upper}]"
        )
    return dim


def check_int(name: str, value: Any, low: int) -> int:
    """Validate an integer parameter that must be at least ``low`` (``bool`` is not an int).

    Examples
    --------
    >>> from skmrl._validation import check_int
    >>> check_int("max_dim", 64, 1)
    64
    >>> check_int("window", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: window must be an int >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


@overload
def check_float(
    name: str,
    value: Any,
    low: float,
    high: float = ...,
    *,
    open_low: bool = ...,
    allow_none: Literal[False] = ...,
) -> float: ...
@overload
def check_float(
    name: str,
    value: Any,
    low: float,
    high: float = ...,
    *,
    open_low: bool = ...,
    allow_none: bool,
) -> float | None: ...
def check_float(
    name: str,
    value: Any,
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
    allow_none: bool = False,
) -> float | None:
    """Validate a real-number parameter in ``[low, high]`` (``(low, high]`` with ``open_low``):
    finite (NaN passes a bare ``value < low``, and infinity is no setting), not a ``bool``.
    With ``allow_none``, ``None`` (a default chosen later) passes and is returned as it is.

    Examples
    --------
    >>> from skmrl._validation import check_float
    >>> check_float("sample", 1e-3, 0.0, 1.0)
    0.001
    >>> check_float("alpha", 0, 0.0, 10.0, open_low=True)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be in (0.0, 10.0], got 0
    >>> check_float("shrinkage", float("nan"), 0.0)
    Traceback (most recent call last):
    ...
    ValueError: shrinkage must be a finite number >= 0, got nan
    >>> check_float("learning_rate", "1e-4", 0.0, open_low=True, allow_none=True)
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be None or a finite number > 0, got '1e-4'
    """
    if allow_none and value is None:
        return None
    either = "None or " if allow_none else ""
    number = not isinstance(value, bool) and isinstance(value, numbers.Real)
    finite = number and math.isfinite(value)
    inside = finite and (value > low if open_low else value >= low) and value <= high
    if math.isinf(high):  # no upper bound: one message for every bad value
        if not inside:
            sign = ">" if open_low else ">="
            raise ValueError(
                f"{name} must be {either}a finite number {sign} {low:g}, got {value!r}"
            )
    elif not finite:
        raise ValueError(f"{name} must be {either}a number, got {value!r}")
    elif not inside:
        raise ValueError(
            f"{name} must be {either}in {'(' if open_low else '['}{low}, {high}], got {value!r}"
        )
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """Validate a flag (``True``/``False``, NumPy's too): ``"l2"`` or ``"no"`` is not one, and
    a truthy string must not quietly turn an option on.

    Examples
    --------
    >>> from skmrl._validation import check_bool
    >>> check_bool("normalize", "l2")
    Traceback (most recent call last):
    ...
    TypeError: normalize must be a bool, got 'l2'
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_seed(value: Any, name: str = "random_state", *, int_only: bool = False) -> None:
    """Validate a seed as scikit-learn's ``check_random_state`` takes it: ``None``, an int in
    ``[0, 2**32 - 1]`` or a ``numpy.random.RandomState``, checked in ``fit`` before any work
    (numpy's "Seed must be between 0 and 2**32 - 1" came from deep in training otherwise).

    ``int_only``: an int in ``[0, 2**64 - 1]`` alone (the seeds of torch training, which its
    generators take whole, up to 64 bits). Either way a value of another type is a
    ``TypeError`` and an int out of range a ``ValueError``, as scikit-learn's parameter checks
    raise.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._validation import check_seed
    >>> check_seed(np.random.RandomState(0))
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: random_state must be None, an int in [0, 2**32 - 1] or a RandomState, got -1
    >>> check_seed(None, int_only=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: random_state must be an int in [0, 2**64 - 1] (not None or a RandomState: ...), \
got None
    """
    if int_only:
        message = (
            f"{name} must be an int in [0, 2**64 - 1] (not None or a RandomState: the fit is "
            f"seeded and cached under that int), got {value!r}"
        )
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(message)
        if not 0 <= value < 2**64:  # torch's generators overflowed past 64 bits, deep in fit
            raise ValueError(message)
        return
    if value is None or isinstance(value, np.random.RandomState):
        return
    message = f"{name} must be None, an int in [0, 2**32 - 1] or a RandomState, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(message)
    if not 0 <= value < 2**32:
        raise ValueError(message)
