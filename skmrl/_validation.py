"""Input checks shared by every embedder: one place for every "bad input" message."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np

__all__ = [
    "check_dim",
    "check_documents",
    "check_float",
    "check_int",
    "check_label_count",
    "check_pair_scores",
    "check_pairs",
    "check_vector_pairs",
    "check_vector_rows",
    "holds_text",
    "holds_vector_pairs",
    "is_lfs_pointer",
    "is_missing",
    "stack_vector_column",
]


def _is_polars(X: Any) -> bool:
    """Whether ``X`` is a polars object (a DataFrame, a Series, a dtype), told by its module:
    polars is never imported here (it is optional, as it is to scikit-learn)."""
    return type(X).__module__.partition(".")[0] == "polars"


def _is_dataframe(X: Any) -> bool:
    """A pandas or a polars DataFrame (not a polars LazyFrame, whose ``columns`` resolve its
    query, with a polars PerformanceWarning: :func:`_type_of` names it)."""
    if _is_polars(X):
        return type(X).__name__ == "DataFrame"
    return hasattr(X, "columns") and hasattr(X, "shape") and hasattr(X, "iloc")


def _is_lazy_frame(X: Any) -> bool:
    """A polars LazyFrame: a query, whose rows come from ``collect()``."""
    return _is_polars(X) and type(X).__name__ == "LazyFrame"


def _type_of(X: Any) -> str:
    """``X``'s type for an error message; a polars LazyFrame's says how to get its rows."""
    if _is_lazy_frame(X):
        return "a polars LazyFrame (a query: pass its rows, lf.collect())"
    return type(X).__name__


def _is_series(X: Any) -> bool:
    """A pandas or a polars Series."""
    pandas_or_polars = hasattr(X, "iloc") or _is_polars(X)
    return pandas_or_polars and hasattr(X, "dtype") and not hasattr(X, "columns")


def _is_frame_or_series(X: Any) -> bool:
    """A pandas or a polars DataFrame or Series (whose iteration or ``X[0]`` is no row's)."""
    return _is_dataframe(X) or _is_series(X)


def _column(X: Any, j: int) -> Any:
    """Column ``j`` of a pandas DataFrame (a Series), or of a polars one (its values, as
    :func:`_polars_values` gives them): polars frames have no ``iloc``."""
    return _polars_values(X.to_series(j)) if _is_polars(X) else X.iloc[:, j]


def _polars_values(X: Any) -> np.ndarray:
    """The values of a polars Series as a 1-D NumPy array, as a pandas column holds them: texts
    as objects (``None`` where null), numbers as numbers, and a ``List`` or ``Array`` column as
    objects, each an array of numbers (``None`` where null: polars reads a null ``Array`` row as
    NaN)."""
    values = X.to_numpy()
    if values.ndim == 2:  # an Array column: one row of numbers per cell
        rows = np.empty(len(values), dtype=object)
        for i, row in enumerate(values):
            rows[i] = row
        if X.null_count():
            rows[X.is_null().to_numpy()] = None
        values = rows
    return values


def _frame_rows(X: Any) -> Iterable[tuple[Any, ...]]:
    """The rows of a pandas or a polars DataFrame, each a tuple of its cells."""
    return X.iter_rows() if _is_polars(X) else X.itertuples(index=False, name=None)


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

    if _is_dataframe(X):
        n_columns = X.shape[1]
        if n_columns != 1:
            raise ValueError(
                f"expected one column of text for {name}, got a DataFrame with {n_columns} "
                f"columns {list(X.columns)[:5]}; select the text column, e.g. df['text']"
            )
        items = _column(X, 0).tolist()
    elif _is_series(X):
        items = (_polars_values(X) if _is_polars(X) else X).tolist()
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
        raise TypeError(f"expected an iterable of str documents for {name}, got {_type_of(X)}")

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
    if isinstance(y, str | bytes) or not hasattr(y, "__len__") or getattr(y, "ndim", 1) == 0:
        got = "a 0-d array" if getattr(y, "ndim", 1) == 0 else type(y).__name__
        raise TypeError(
            "y must be an array-like of one label per document (a list, an array or a pandas "
            f"Series), got {got}"
        )
    if len(y) != n_documents:
        raise ValueError(f"X has {n_documents} {what} but y has {len(y)} labels")


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
        raise TypeError(f"{name} must be a sequence of (text_a, text_b) pairs, got {_type_of(X)}")
    if _is_dataframe(X):  # iterating a frame gives its column names
        if X.shape[1] != 2:
            raise ValueError(
                f"{name} must have 2 columns (text_a, text_b), one pair per row; the DataFrame "
                f"has {X.shape[1]}: {list(X.columns)!r:.80}"
            )
        X = _frame_rows(X)
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


def _is_object_pairs(X: np.ndarray) -> bool:
    """An array of objects of 2 columns: a pair per row (``df[["a", "b"]].to_numpy()``), its
    cells vectors (or texts, which :func:`holds_vector_pairs` tells apart)."""
    return X.dtype == object and X.ndim == 2 and X.shape[1] == 2


def holds_vector_pairs(X: Any) -> bool:
    """Whether pairs ``X`` hold vectors rather than texts: a 3-D array, two matrices
    ``(A, B)`` (or two frames of numbers, or two columns of vectors,
    ``(df["embedding_a"], df["embedding_b"])``), pairs
    whose first holds an array, a list or a tuple (of numbers), or a DataFrame of 2 columns whose
    cells hold vectors (as ``df[["embedding_a", "embedding_b"]]`` keeps an API's).

    Only the first pair is looked at; an iterator is never taken for vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._validation import holds_vector_pairs
    >>> A, B = np.zeros((3, 4)), np.ones((3, 4))
    >>> holds_vector_pairs((A, B)), holds_vector_pairs([(A[0], B[0])]), holds_vector_pairs([("a", "b")])
    (True, True, False)
    """  # noqa: E501
    if isinstance(X, np.ndarray):
        if _is_object_pairs(X):  # df[["a", "b"]].to_numpy()
            return _holds_vector_column(X[:, 0])
        return X.ndim == 3
    if _is_dataframe(X):
        return X.shape[1] == 2 and _holds_vector_column(_column(X, 0))
    if hasattr(X, "iloc") or not isinstance(X, Sequence) or len(X) == 0:
        return False
    first = X[0]
    if isinstance(first, np.ndarray) and first.ndim == 2:  # (A, B)
        return True
    if len(X) == 2 and _is_dataframe(first) and first.shape[1] > 1:
        # (dfA, dfB): two frames of numbers, a column per feature, are two matrices (A, B)
        return _frame_values(first).dtype.kind in "fiu"
    if len(X) == 2 and _is_frame_or_series(first):  # (df["a"], df["b"])
        return _holds_vector_column(first)
    if isinstance(first, str) or not isinstance(first, Sequence | np.ndarray) or not len(first):
        return False
    return isinstance(first[0], _VECTOR_CELL)


def check_vector_pairs(X: Any, *, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Turn pairs of vectors into the matrix of first vectors and that of second vectors.

    Accepts an array of shape ``(n_pairs, 2, n_features)`` (or ``(n_pairs, 2)`` of objects,
    each cell a vector: ``df[["a", "b"]].to_numpy()``), two matrices ``(A, B)`` of shape
    ``(n_pairs, n_features)`` each (a pair per row) or two columns of vectors
    (``(df["a"], df["b"])``, stacked by :func:`stack_vector_column`), a sequence of
    ``(vector_a, vector_b)`` pairs (arrays, lists or tuples of numbers), or a DataFrame of 2
    columns whose cells hold the vectors (a pair per row). Every vector must have the same
    length and hold finite numbers; ``float32`` is kept, any other number type becomes
    ``float64``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._validation import check_vector_pairs
    >>> A, B = check_vector_pairs([([1, 0], [0.5, 0.5]), ([0, 1], [1, 1])])
    >>> A.tolist(), B.tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [1.0, 1.0]])
    >>> check_vector_pairs((np.ones((3, 384)), np.ones((3, 768))))
    Traceback (most recent call last):
    ...
    ValueError: X = (A, B) must be two matrices of the same shape (n_pairs, n_features), a pair per row: got A of shape (3, 384) and B of shape (3, 768)
    """  # noqa: E501
    if X is None or isinstance(X, str | bytes) or not hasattr(X, "__len__"):
        raise TypeError(
            f"{name} must hold pairs of vectors: an array of shape (n_pairs, 2, n_features), two "
            f"matrices (A, B), or a sequence of (vector_a, vector_b); got {_type_of(X)}"
        )
    if isinstance(X, np.ndarray) and _is_object_pairs(X):
        # df[["a", "b"]].to_numpy(): a pair per row, as the frame's rows are
        X = [tuple(row) for row in X]
    if not _is_frame_or_series(X) and len(X) == 2 and any(map(_is_frame_or_series, X)):
        # (df["a"], df["b"]): two columns whose cells hold vectors, as two matrices (A, B); and
        # two frames of numbers (a column per feature), which are two matrices: (dfA, B) was
        # refused as "X[0] must be a pair" where (A, dfB) passed
        X = tuple(
            _frame_values(stack_vector_column(side, name=f"{name}[{i}]"))
            for i, side in enumerate(X)
        )
    if isinstance(X, np.ndarray):
        if X.ndim != 3 or X.shape[1] != 2:
            hint = "; two matrices A and B, a pair per row, go as (A, B)" if X.ndim == 2 else ""
            raise ValueError(
                f"{name} as an array of vector pairs must have shape (n_pairs, 2, n_features), "
                f"got {X.shape}{hint}"
            )
        a, b = X[:, 0], X[:, 1]
    elif (  # (A, B); not a frame of 2 rows, whose X[0] looks up a column named 0
        not _is_dataframe(X) and len(X) == 2 and isinstance(X[0], np.ndarray) and X[0].ndim == 2
    ):
        a, b = X[0], _numbers(X[1], f"{name}[1]")
        if b.ndim != 2 or a.shape != b.shape:
            raise ValueError(
                f"{name} = (A, B) must be two matrices of the same shape (n_pairs, n_features), "
                f"a pair per row: got A of shape {a.shape} and B of shape {b.shape}"
            )
    else:
        two_lists = len(X) == 2  # (A, B) as lists of lists, maybe
        if _is_dataframe(X):  # iterating a frame gives its column names
            if X.shape[1] != 2:
                raise ValueError(
                    f"{name} must have 2 columns (vector_a, vector_b), one pair per row; the "
                    f"DataFrame has {X.shape[1]}: {list(X.columns)!r:.80}"
                )
            X = list(_frame_rows(X))
        first: list[np.ndarray] = []
        second: list[np.ndarray] = []
        for i, pair in enumerate(X):
            if isinstance(pair, str | bytes) or not hasattr(pair, "__len__") or len(pair) != 2:
                hint = ""
                if two_lists and i == 0 and _is_frame_or_series(pair):  # (df["a"], df["b"])
                    hint = (  # whose cells hold no vectors: stacked above otherwise
                        "; two columns make pairs as (df[column_a], df[column_b]) when each "
                        "cell holds a vector (a list or an array of numbers)"
                    )
                elif two_lists and i == 0:
                    hint = "; two matrices make pairs as (np.asarray(A), np.asarray(B))"
                got = (  # a pandas object's repr runs over several lines
                    f"a {type(pair).__name__} of {len(pair)} rows"
                    if _is_frame_or_series(pair)
                    else f"{pair!r:.80}"
                )
                raise ValueError(
                    f"{name}[{i}] must be a pair (vector_a, vector_b), got {got}{hint}"
                )
            missing = [v for v in pair if is_missing(v)]
            if missing:  # was "must hold vectors of numbers, got an array of object"
                raise ValueError(
                    f"{name}[{i}] holds no vector ({missing[0]!r}); drop or fill the pairs "
                    "without vectors first"
                )
            va, vb = (_numbers(v, f"{name}[{i}]") for v in pair)
            width = va.shape if not first else first[0].shape
            if va.ndim != 1 or va.shape != width or vb.shape != width:
                same = f"{width[0]} numbers each, as {name}[0]" if first else "one length"
                raise ValueError(
                    f"{name}[{i}] must be a pair of 1-D vectors of {same}; got shapes "
                    f"{va.shape} and {vb.shape}"
                )
            first.append(va)
            second.append(vb)
        if not first:
            raise ValueError(f"{name} holds no pairs")
        a, b = np.stack(first), np.stack(second)
    a, b = _numbers(a, name), _numbers(b, name)
    if a.dtype != b.dtype:  # one type, so that a vector's bytes are the same on either side
        a, b = a.astype(np.float64), b.astype(np.float64)
    if not len(a):
        raise ValueError(f"{name} holds no pairs")
    if not a.shape[1]:
        raise ValueError(f"{name} holds vectors of 0 numbers")
    for side, values in (("first", a), ("second", b)):
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if bad.size:
            raise ValueError(
                f"{name} must hold finite numbers: the {side} vector of pair {bad[0]} holds "
                f"NaN or infinity ({bad.size} pair(s) in all)"
            )
    return a, b


def _frame_values(X: Any) -> Any:
    """A pandas or polars DataFrame of several columns as the 2-D array of its values (numbers
    of ``object`` dtype read as floats where they are numbers); anything else as it is."""
    if not _is_dataframe(X) or X.shape[1] < 2:
        return X
    values = X.to_numpy()
    if values.dtype == object:
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):  # not numbers: _numbers names the type
            pass
    return values


def _numbers(values: Any, name: str) -> np.ndarray:
    """``values`` as an array of ``float32`` (kept) or ``float64`` (any other number type), or a
    ``TypeError`` naming ``name``; an array of either type is not copied (the pairs' matrices
    pass here twice)."""
    try:
        arr = np.asarray(values)
    except ValueError:  # ragged
        raise ValueError(f"{name} holds vectors of different lengths") from None
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold vectors of numbers, got an array of {arr.dtype}")
    return arr if arr.dtype == np.float32 else arr.astype(np.float64, copy=False)


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
    if _is_dataframe(X) and X.shape[1] == 1:
        X = _column(X, 0)
    kind = getattr(getattr(X, "dtype", None), "kind", "O")
    if kind in "US":
        return True
    if kind != "O" or _is_dataframe(X) or not hasattr(X, "__len__"):
        return False  # numbers; a frame iterates over its column names; never eat an iterator
    first = X
    for _ in range(2):  # the first text, or the first row's first text
        try:
            first = next(iter(first))
        except (TypeError, StopIteration):
            return False
        if isinstance(first, str | bytes):
            return True
    return False


def _object_column(X: Any) -> Any | None:
    """``X`` as a 1-D column of Python objects (a Series, a frame's one column, a 1-D array of
    dtype object), where its cells may hold vectors; ``None`` for anything else."""
    if _is_dataframe(X):
        if X.shape[1] != 1:
            return None
        X = _column(X, 0)
    elif _is_series(X) and _is_polars(X):
        X = _polars_values(X)
    kind = getattr(getattr(X, "dtype", None), "kind", "")
    return X if getattr(X, "ndim", None) == 1 and kind == "O" else None


def _holds_vector_column(X: Any) -> bool:
    """Whether ``X`` is one column whose cells each hold a vector (a list, tuple or array), as
    ``df["embedding"]`` keeps an embeddings API's results, rather than rows of numbers. The
    first cell that holds a value is looked at (a missing one is named when stacking)."""
    column = _object_column(X)
    if column is None:
        return False
    first = next((cell for cell in column if not is_missing(cell)), None)
    return isinstance(first, _VECTOR_CELL)


def _may_hold_vectors(dtype: Any) -> bool:
    """Whether a column of ``dtype`` may hold a vector per cell: objects (pandas), or polars'
    ``List`` and ``Array``."""
    return getattr(dtype, "kind", "") == "O" or (_is_polars(dtype) and dtype.is_nested())


#: What a cell of a column of vectors holds: one vector.
_VECTOR_CELL = (list, tuple, np.ndarray)


def check_vector_rows(X: Any, takes: str) -> Any:
    """Refuse, in one line, vectors that scikit-learn's checks would answer from deep inside:
    ``None``, a number or an iterator (its "Expected 2D array, got scalar array instead:
    array=nan" or "float() argument must be ... not 'generator'") and a list of rows of
    different lengths, or with a row missing (numpy's "inhomogeneous shape"; the row is
    named). ``takes`` begins the message (``"MatryoshkaAdaptor takes"``). Returns ``X``, a list
    of rows as the array it was read into (of the type numpy gives it), so that it is read once.

    Examples
    --------
    >>> from skmrl._validation import check_vector_rows
    >>> check_vector_rows([[0.1, 0.2], [0.3, 0.4]], "X takes")  # rows of numbers: an array
    array([[0.1, 0.2],
           [0.3, 0.4]])
    >>> check_vector_rows([[0.1, 0.2], [0.3]], "X takes")
    Traceback (most recent call last):
    ...
    ValueError: X holds vectors of different lengths: row 1 is of length 1, the rows before it of length 2
    """  # noqa: E501
    array_like = hasattr(X, "__len__") or hasattr(X, "__array__")  # not an iterator
    if X is None or isinstance(X, numbers.Number) or not array_like:
        raise TypeError(
            f"{takes} dense vectors of shape (n_samples, n_features), got {_type_of(X)}"
        )
    if not (isinstance(X, list | tuple) and X and isinstance(X[0], _VECTOR_CELL)):
        return X
    try:
        rows = np.asarray(X)
    except ValueError:  # ragged
        rows = None
    if rows is not None and rows.dtype.kind in "fiub":
        return rows
    try:  # numbers of other types, which scikit-learn reads as floats
        np.asarray(X, dtype=np.float64)
        return X
    except (ValueError, TypeError):
        pass
    column = np.empty(len(X), dtype=object)  # a row that is no vector of numbers: name it
    for i, row in enumerate(X):
        column[i] = row
    stack_vector_column(column)
    return X


def stack_vector_column(X: Any, *, name: str = "X") -> Any:
    """Stack one column of vectors (``df["embedding"]``, ``df[["embedding"]]``: a cell per row,
    each a list, tuple or array of numbers, as an embeddings API's results are kept) into a
    2-D array; any other ``X`` is returned as it is, for the caller's own checks.

    This is where skmrl takes such a column wherever it takes vectors, so that a
    ``ColumnTransformer`` can hand a vector-taking estimator its column. A column of texts is
    no column of vectors (it is returned as it is).

    Parameters
    ----------
    X : Any
        The input; a pandas Series, a one-column DataFrame (pandas or polars: a polars ``List``
        or ``Array`` column) or a 1-D array of dtype object whose cells hold vectors is stacked.
    name : str, default="X"
        How the input is named in error messages.

    Returns
    -------
    ndarray of shape (n_rows, n_features) or Any
        The stacked vectors, ``float32`` when every cell is a ``float32`` array and ``float64``
        otherwise; or ``X`` itself.

    Raises
    ------
    ValueError
        For an empty column, a row without a vector (None, NaN: its row is named), vectors of
        different lengths (the first row that differs, and both lengths), vectors of 0 numbers,
        or a DataFrame of several columns of which one holds vectors (pick one).
    TypeError
        For a cell that is not a 1-D vector of numbers (its row is named).

    Examples
    --------
    >>> import pandas as pd
    >>> from skmrl._validation import stack_vector_column
    >>> df = pd.DataFrame({"embedding": [[0.1, 0.2], [0.3, 0.4]]})
    >>> stack_vector_column(df["embedding"]).tolist()
    [[0.1, 0.2], [0.3, 0.4]]
    >>> stack_vector_column(pd.Series([[0.1, 0.2], [0.3]], index=[7, 9]))
    Traceback (most recent call last):
    ...
    ValueError: X holds vectors of different lengths: row 1 (index 9) is of length 1, the rows before it of length 2
    """  # noqa: E501
    if _is_dataframe(X) and X.shape[1] > 1:
        # only a column of objects can hold vectors: a wide frame of numbers (3,072 columns of
        # an API's vectors) is not looked into column by column, at every transform
        objects = [j for j, dtype in enumerate(X.dtypes) if _may_hold_vectors(dtype)]
        held = [X.columns[j] for j in objects if _holds_vector_column(_column(X, j))]
        if held:
            raise ValueError(
                f"{name} has {X.shape[1]} columns, of which {held[:3]!r:.80} hold vectors: pass "
                f"one column of vectors, e.g. df[{held[0]!r}]"
            )
        return X
    column = _object_column(X)
    if column is None:
        return X
    if not len(column):
        raise ValueError(f"{name} is an empty column: it holds no vectors")
    if not _holds_vector_column(column):
        return X
    labels = column.index.tolist() if hasattr(column, "index") else None  # Python scalars
    arrays: list[np.ndarray] = []
    for i, cell in enumerate(column):
        row = f"row {i}"
        if labels is not None and labels[i] != i:  # the label a user finds it by
            row += f" (index {labels[i]!r})"
        if is_missing(cell):
            raise ValueError(
                f"{name}: {row} holds no vector ({cell!r}); drop or fill the rows without "
                "vectors first"
            )
        try:
            vector = np.asarray(cell) if isinstance(cell, _VECTOR_CELL) else None
        except ValueError:  # nested lists of different lengths
            vector = None
        if vector is None or vector.ndim != 1 or vector.dtype.kind not in "fiu":
            got = (
                f"a {type(cell).__name__} of {vector.dtype} of shape {vector.shape}"
                if vector is not None
                else f"a {type(cell).__name__} ({cell!r:.40})"
            )
            raise TypeError(f"{name}: {row} holds {got}, not a 1-D vector of numbers")
        if arrays and len(vector) != len(arrays[0]):
            raise ValueError(
                f"{name} holds vectors of different lengths: {row} is of length {len(vector)}, "
                f"the rows before it of length {len(arrays[0])}"
            )
        arrays.append(vector)
    if not len(arrays[0]):
        raise ValueError(f"{name} holds vectors of 0 numbers")
    stacked = np.stack(arrays)
    return stacked if stacked.dtype == np.float32 else stacked.astype(np.float64, copy=False)


#: A vector written out as text: "[0.12, -0.5, ...]" (a list) or "[ 0.12 -0.5 ...]" (numpy).
_WRITTEN_VECTOR = re.compile(r"\s*\[\s*[-+]?(?:\d|\.\d)[-+0-9.eE,\s]*\]\s*")


def _first_text(X: Any) -> str | None:
    """The first text of ``X`` (a text, a row's or a pair's first, a frame's or a dict's first
    cell), or ``None``; only sequences, arrays, pandas and polars objects and dicts are looked
    into (an iterator, which looking would consume, is not)."""
    first = X
    for _ in range(3):
        if isinstance(first, str):
            return first
        if _is_dataframe(first):
            first = next(iter(_column(first, 0))) if min(first.shape) else None
        elif isinstance(first, Mapping):
            first = next(iter(first.values()), None)
        elif isinstance(first, Sequence | np.ndarray) or _is_series(first):
            try:  # not a sparse matrix, which cannot be iterated
                first = next(iter(first))
            except (TypeError, StopIteration):
                return None
        else:
            return None
    return first if isinstance(first, str) else None


def check_not_written_vectors(X: Any, what: str = "X") -> None:
    """Refuse texts that are vectors written out as text (``"[0.12, -0.5, ...]"``: a CSV file
    keeps a column of lists so, and ``pd.read_csv`` gives strings back), where vectors are due:
    the message for texts ("embed them first") told the user to embed their embeddings. Only
    the first text is looked at.

    Examples
    --------
    >>> from skmrl._validation import check_not_written_vectors
    >>> check_not_written_vectors(["a cat", "a dog"])  # texts: the caller says what to pass
    >>> check_not_written_vectors(["[0.12, -0.5, 0.3]"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: X holds vectors written as text ('[0.12, -0.5, 0.3]'...), as a CSV file keeps ...
    """
    text = _first_text(X)
    if text is None or not _WRITTEN_VECTOR.fullmatch(text):
        return
    parse = (  # a list's text, or numpy's (numbers apart by spaces)
        "json.loads(s)" if "," in text else "np.fromstring(s.strip('[]'), sep=' ')"
    )
    fix = (
        "numpy wrote them shortened ('...'), so their numbers are lost: write the vectors "
        "to a .npy or parquet file instead"
        if "..." in text
        else f"parse them into numbers first, e.g. np.array([{parse} for s in "
        "df['embedding']]), or keep the vectors in a .npy or parquet file"
    )
    raise TypeError(
        f"{what} holds vectors written as text ({text[:30]!r}...), as a CSV file keeps a "
        f"column of lists: {fix}"
    )


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

    ``int_only``: an int ``>= 0`` alone (the seeds of torch training, which its generators take
    whole). Either way a value of another type is a ``TypeError`` and an int out of range a
    ``ValueError``, as scikit-learn's parameter checks raise.

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
    TypeError: random_state must be an int >= 0 (not None or a RandomState: ...), got None
    """
    if int_only:
        message = (
            f"{name} must be an int >= 0 (not None or a RandomState: the fit is seeded and "
            f"cached under that int), got {value!r}"
        )
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(message)
        if value < 0:
            raise ValueError(message)
        return
    if value is None or isinstance(value, np.random.RandomState):
        return
    message = f"{name} must be None, an int in [0, 2**32 - 1] or a RandomState, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(message)
    if not 0 <= value < 2**32:
        raise ValueError(message)
