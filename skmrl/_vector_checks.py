"""Bad-input checks of vectors and vector pairs, where skmrl takes vectors rather than texts.

Vector pairs (``task="sts"`` on vectors: a 3-D array, two matrices ``(A, B)``, pairs of
vectors, a DataFrame of two columns of vectors) are told from text pairs and read into two
matrices; a column of vectors (``df["embedding"]``, as an embeddings API's results are kept)
is stacked into one; rows of vectors are refused in one line where scikit-learn's checks
would answer from deep inside; and vectors written out as text (a CSV file's column of lists)
are named as such. The text checks stay in ``_validation``; frames are read by ``_frames``.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from skmrl import _frames
from skmrl._validation import is_missing

__all__ = [
    "INPUT_ATTRS",
    "check_not_written_vectors",
    "check_vector_pairs",
    "check_vector_rows",
    "holds_vector_pairs",
    "kept_input_attrs",
    "stack_vector_column",
]

#: What scikit-learn's checks of a fit's ``X`` set on the estimator (``validate_data``).
INPUT_ATTRS = ("n_features_in_", "feature_names_in_")


@contextmanager
def kept_input_attrs(estimator: Any) -> Iterator[None]:
    """Put back :data:`INPUT_ATTRS` as they were when the ``with`` block fails (an error or a
    Ctrl-C): scikit-learn's checks of a fit's ``X`` set them first, and a fit that failed after
    them left them describing its ``X`` beside the earlier fit's state (which then refused the
    inputs it takes), or, on an estimator never fitted, beside no state at all."""
    earlier = {n: estimator.__dict__[n] for n in INPUT_ATTRS if n in estimator.__dict__}
    try:
        yield
    except BaseException:
        for name in INPUT_ATTRS:
            estimator.__dict__.pop(name, None)
        estimator.__dict__.update(earlier)
        raise


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
    >>> from skmrl._vector_checks import holds_vector_pairs
    >>> A, B = np.zeros((3, 4)), np.ones((3, 4))
    >>> holds_vector_pairs((A, B)), holds_vector_pairs([(A[0], B[0])]), holds_vector_pairs([("a", "b")])
    (True, True, False)
    """  # noqa: E501
    if isinstance(X, np.ndarray):
        if _is_object_pairs(X):  # df[["a", "b"]].to_numpy()
            return _holds_vector_column(X[:, 0])
        return X.ndim == 3
    if _frames.is_dataframe(X):
        return X.shape[1] == 2 and _holds_vector_column(_frames.column(X, 0))
    if hasattr(X, "iloc") or not isinstance(X, Sequence) or len(X) == 0:
        return False
    first = X[0]
    if isinstance(first, np.ndarray) and first.ndim == 2:  # (A, B)
        return True
    if len(X) == 2 and _frames.is_dataframe(first) and first.shape[1] > 1:
        # (dfA, dfB): two frames of numbers, a column per feature, are two matrices (A, B)
        return _frames.frame_values(first).dtype.kind in "fiu"
    if len(X) == 2 and _frames.is_frame_or_series(first):  # (df["a"], df["b"])
        return _holds_vector_column(first)
    if isinstance(first, str) or not isinstance(first, Sequence | np.ndarray) or not len(first):
        return False
    return _is_vector_cell(first[0])


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
    >>> from skmrl._vector_checks import check_vector_pairs
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
            f"matrices (A, B), or a sequence of (vector_a, vector_b); got {_frames.type_of(X)}"
        )
    if isinstance(X, np.ndarray) and _is_object_pairs(X):
        # df[["a", "b"]].to_numpy(): a pair per row, as the frame's rows are
        X = [tuple(row) for row in X]
    if (
        not _frames.is_frame_or_series(X)
        and len(X) == 2
        and any(map(_frames.is_frame_or_series, X))
    ):
        # (df["a"], df["b"]): two columns whose cells hold vectors, as two matrices (A, B); and
        # two frames of numbers (a column per feature), which are two matrices: (dfA, B) was
        # refused as "X[0] must be a pair" where (A, dfB) passed
        X = tuple(
            _frames.frame_values(stack_vector_column(side, name=f"{name}[{i}]"))
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
        not _frames.is_dataframe(X)
        and len(X) == 2
        and isinstance(X[0], np.ndarray)
        and X[0].ndim == 2
    ):
        a, b = X[0], _numbers(X[1], f"{name}[1]")
        if b.ndim != 2 or a.shape != b.shape:
            raise ValueError(
                f"{name} = (A, B) must be two matrices of the same shape (n_pairs, n_features), "
                f"a pair per row: got A of shape {a.shape} and B of shape {b.shape}"
            )
    else:
        two_lists = len(X) == 2  # (A, B) as lists of lists, maybe
        if _frames.is_dataframe(X):  # iterating a frame gives its column names
            if X.shape[1] != 2:
                raise ValueError(
                    f"{name} must have 2 columns (vector_a, vector_b), one pair per row; the "
                    f"DataFrame has {X.shape[1]}: {list(X.columns)!r:.80}"
                )
            X = list(_frames.frame_rows(X))
        first: list[np.ndarray] = []
        second: list[np.ndarray] = []
        for i, pair in enumerate(X):
            if isinstance(pair, str | bytes) or not hasattr(pair, "__len__") or len(pair) != 2:
                hint = ""
                if two_lists and i == 0 and _frames.is_frame_or_series(pair):  # (df["a"], df["b"])
                    hint = (  # whose cells hold no vectors: stacked above otherwise
                        "; two columns make pairs as (df[column_a], df[column_b]) when each "
                        "cell holds a vector (a list or an array of numbers)"
                    )
                elif two_lists and i == 0:
                    hint = "; two matrices make pairs as (np.asarray(A), np.asarray(B))"
                got = (  # a pandas object's repr runs over several lines
                    f"a {type(pair).__name__} of {len(pair)} rows"
                    if _frames.is_frame_or_series(pair)
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


def _object_column(X: Any) -> Any | None:
    """``X`` as a 1-D column of Python objects (a Series, a frame's one column, a 1-D array of
    dtype object), where its cells may hold vectors; ``None`` for anything else."""
    if _frames.is_dataframe(X):
        if X.shape[1] != 1:
            return None
        X = _frames.column(X, 0)
    elif _frames.is_series(X) and _frames.is_polars(X):
        X = _frames.polars_values(X)
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
    return _is_vector_cell(first)


def _may_hold_vectors(dtype: Any) -> bool:
    """Whether a column of ``dtype`` may hold a vector per cell: objects (pandas), or polars'
    ``List`` and ``Array``."""
    return getattr(dtype, "kind", "") == "O" or (_frames.is_polars(dtype) and dtype.is_nested())


#: What a cell of a column of vectors holds: one vector.
_VECTOR_CELL = (list, tuple, np.ndarray)


def _is_vector_cell(cell: Any) -> bool:
    """Whether ``cell`` holds one vector: a list, tuple or array, or another 1-D array type
    that numpy reads (a torch tensor: ``list(torch_tensor)`` in a DataFrame's column failed in
    scikit-learn's checks, "only one element tensors can be converted to Python scalars")."""
    if isinstance(cell, _VECTOR_CELL):
        return True
    # any array type numpy reads: a 2-D one is then named, as a 2-D ndarray is (it failed
    # deep in pandas)
    return hasattr(type(cell), "__array__") and (getattr(cell, "ndim", 0) or 0) >= 1


def _is_sparse(X: Any) -> bool:
    import scipy.sparse as sp

    return sp.issparse(X)


def check_vector_rows(X: Any, takes: str) -> Any:
    """Refuse, in one line, vectors that scikit-learn's checks would answer from deep inside:
    ``None``, a number or an iterator (its "Expected 2D array, got scalar array instead:
    array=nan" or "float() argument must be ... not 'generator'") and a list of rows of
    different lengths, or with a row missing (numpy's "inhomogeneous shape"; the row is
    named). ``takes`` begins the message (``"MatryoshkaAdaptor takes"``). Returns ``X``, a list
    of rows as the array it was read into (of the type numpy gives it), so that it is read once.

    Examples
    --------
    >>> from skmrl._vector_checks import check_vector_rows
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
            f"{takes} dense vectors of shape (n_samples, n_features), got {_frames.type_of(X)}"
        )
    # an embeddings API's results kept as they came: scikit-learn's "float() argument must be
    # ... not 'dict'", and records were taken for texts ("embed them first")
    if isinstance(X, Mapping) and not _is_sparse(X):  # a DOK matrix is a dict: the caller's
        raise TypeError(
            f"{takes} dense vectors of shape (n_samples, n_features), got a "
            f"{type(X).__name__} of {len(X)} items: pass its vectors as rows, "
            "np.stack(list(d.values())), and keep its keys beside them (results name the rows "
            "by position, in that order)"
        )
    if isinstance(X, list | tuple) and X and isinstance(X[0], Mapping):
        keys = [k for k, v in X[0].items() if _is_vector_cell(v)]
        example = f"[r[{keys[0]!r}] for r in records]" if keys else "each record's vector"
        raise TypeError(
            f"{takes} dense vectors of shape (n_samples, n_features), got a {type(X).__name__} "
            f"of {type(X[0]).__name__}s (records, as an embeddings API returns them): pass "
            f"their vectors, e.g. {example}"
        )
    if not (isinstance(X, list | tuple) and X and _is_vector_cell(X[0])):
        return X
    try:
        rows = np.asarray(X)
    except (ValueError, TypeError, RuntimeError):  # ragged; tensors numpy cannot read
        rows = None
    if rows is not None and rows.dtype.kind in "fiub":
        return rows
    try:  # numbers of other types, which scikit-learn reads as floats
        np.asarray(X, dtype=np.float64)
        return X
    except (ValueError, TypeError, RuntimeError):
        pass
    column = np.empty(len(X), dtype=object)  # a row that is no vector of numbers: name it
    for i, row in enumerate(X):
        column[i] = row
    stack_vector_column(column)
    return X


def stack_vector_column(X: Any, *, name: str = "X", empty_width: int | None = None) -> Any:
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
    empty_width : int, optional
        The width of the vectors an empty column stands for (a fitted estimator's
        ``n_features_in_``, at ``transform``): then it is an array of shape
        ``(0, empty_width)``, as an empty batch of any other kind is; without it, an error.

    Returns
    -------
    ndarray of shape (n_rows, n_features) or Any
        The stacked vectors, ``float32`` when every cell is a ``float32`` array and ``float64``
        otherwise; or ``X`` itself.

    Raises
    ------
    ValueError
        For an empty column (without ``empty_width``), a row without a vector (None, NaN: its
        row is named), vectors of different lengths (the first row that differs, and both
        lengths), vectors of 0 numbers, or a DataFrame of several columns of which one holds
        vectors (pick one).
    TypeError
        For a cell that is not a 1-D vector of numbers (its row is named).

    Examples
    --------
    >>> import pandas as pd
    >>> from skmrl._vector_checks import stack_vector_column
    >>> df = pd.DataFrame({"embedding": [[0.1, 0.2], [0.3, 0.4]]})
    >>> stack_vector_column(df["embedding"]).tolist()
    [[0.1, 0.2], [0.3, 0.4]]
    >>> stack_vector_column(pd.Series([[0.1, 0.2], [0.3]], index=[7, 9]))
    Traceback (most recent call last):
    ...
    ValueError: X holds vectors of different lengths: row 1 (index 9) is of length 1, the rows before it of length 2
    """  # noqa: E501
    if _frames.is_dataframe(X) and X.shape[1] > 1:
        # only a column of objects can hold vectors: a wide frame of numbers (3,072 columns of
        # an API's vectors) is not looked into column by column, at every transform
        objects = [j for j, dtype in enumerate(X.dtypes) if _may_hold_vectors(dtype)]
        held = [X.columns[j] for j in objects if _holds_vector_column(_frames.column(X, j))]
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
        if empty_width is not None:
            return np.zeros((0, empty_width))
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
        unreadable = None
        try:
            vector = np.asarray(cell) if _is_vector_cell(cell) else None
        except (ValueError, TypeError, RuntimeError) as exc:
            # nested lists of different lengths; a tensor on a GPU, in bfloat16 or that
            # requires grad (torch's RuntimeError)
            vector, unreadable = None, exc
        if unreadable is not None and not isinstance(cell, list | tuple):
            raise TypeError(
                f"{name}: {row} holds a {type(cell).__name__} that numpy cannot read "
                f"({str(unreadable).splitlines()[0]}); convert the cells to NumPy arrays first "
                "(for torch tensors: t.detach().cpu().float().numpy())"
            ) from None
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
        if _frames.is_dataframe(first):
            first = next(iter(_frames.column(first, 0))) if min(first.shape) else None
        elif isinstance(first, Mapping):
            first = next(iter(first.values()), None)
        elif isinstance(first, Sequence | np.ndarray) or _frames.is_series(first):
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
    >>> from skmrl._vector_checks import check_not_written_vectors
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
