"""pandas and polars objects, read without importing either.

A DataFrame, a Series or a polars LazyFrame is told by what it has (``columns``, ``iloc``,
``dtype``) or, for polars, by the module its type comes from, so that neither library is
imported here (both are optional, as they are to scikit-learn); a frame's columns, rows and
values are read as each library gives them, in one shape for the checks of ``_validation`` and
``_vector_checks`` and for ``skmrl.evaluation``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "column",
    "frame_rows",
    "frame_values",
    "is_dataframe",
    "is_frame_or_series",
    "is_lazy_frame",
    "is_polars",
    "is_series",
    "polars_values",
    "type_of",
]


def is_polars(X: Any) -> bool:
    """Whether ``X`` is a polars object (a DataFrame, a Series, a dtype), told by its module:
    polars is never imported here (it is optional, as it is to scikit-learn)."""
    return type(X).__module__.partition(".")[0] == "polars"


def is_dataframe(X: Any) -> bool:
    """A pandas or a polars DataFrame (not a polars LazyFrame, whose ``columns`` resolve its
    query, with a polars PerformanceWarning: :func:`type_of` names it)."""
    if is_polars(X):
        return type(X).__name__ == "DataFrame"
    return hasattr(X, "columns") and hasattr(X, "shape") and hasattr(X, "iloc")


def is_lazy_frame(X: Any) -> bool:
    """A polars LazyFrame: a query, whose rows come from ``collect()``."""
    return is_polars(X) and type(X).__name__ == "LazyFrame"


def type_of(X: Any) -> str:
    """``X``'s type for an error message; a polars LazyFrame's says how to get its rows."""
    if is_lazy_frame(X):
        return "a polars LazyFrame (a query: pass its rows, lf.collect())"
    return type(X).__name__


def is_series(X: Any) -> bool:
    """A pandas or a polars Series."""
    pandas_or_polars = hasattr(X, "iloc") or is_polars(X)
    return pandas_or_polars and hasattr(X, "dtype") and not hasattr(X, "columns")


def is_frame_or_series(X: Any) -> bool:
    """A pandas or a polars DataFrame or Series (whose iteration or ``X[0]`` is no row's)."""
    return is_dataframe(X) or is_series(X)


def column(X: Any, j: int) -> Any:
    """Column ``j`` of a pandas DataFrame (a Series), or of a polars one (its values, as
    :func:`polars_values` gives them): polars frames have no ``iloc``."""
    return polars_values(X.to_series(j)) if is_polars(X) else X.iloc[:, j]


def polars_values(X: Any) -> np.ndarray:
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


def frame_rows(X: Any) -> Iterable[tuple[Any, ...]]:
    """The rows of a pandas or a polars DataFrame, each a tuple of its cells."""
    return X.iter_rows() if is_polars(X) else X.itertuples(index=False, name=None)


def frame_values(X: Any) -> Any:
    """A pandas or polars DataFrame of several columns as the 2-D array of its values (numbers
    of ``object`` dtype read as floats where they are numbers); anything else as it is."""
    if not is_dataframe(X) or X.shape[1] < 2:
        return X
    values = X.to_numpy()
    if values.dtype == object:
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):  # not numbers: the caller's check names the type
            pass
    return values
