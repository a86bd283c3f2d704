"""``GridSearchCV(refit=smallest_dim_refit(...))``: the smallest ``dim`` within a tolerance."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from ._curve import _check_tolerance, _within_tolerance

__all__ = ["smallest_dim_refit"]


def smallest_dim_refit(
    param: str, tolerance: float = 0.01, *, metric: str = "score"
) -> Callable[[dict], int]:
    """A ``refit=`` callable for ``GridSearchCV``: the smallest ``dim`` within ``tolerance``.

    Among the candidates whose mean test score is at least ``best - tolerance`` (absolute, in
    the score's units), it picks the one with the smallest value of ``param``; among those with
    that value (other parameters varying), the best scored. ``None`` (the full size, or
    :class:`~skmrl.TfidfBaseline`'s sparse TF-IDF) counts as larger than every int, so a grid
    such as ``[8, 16, None]`` works. ``best_index_`` and the refitted ``best_estimator_`` follow
    it (``best_score_`` is not defined with a callable ``refit``). ``RandomizedSearchCV`` calls
    it too; ``HalvingGridSearchCV`` and ``HalvingRandomSearchCV`` never call a ``refit``
    callable (they keep the best candidate of their last round, whatever ``refit`` is), so
    there it would be silently ignored: pass ``refit=True`` and pick from ``cv_results_``.

    Parameters
    ----------
    param : str
        The grid's name of ``dim``, such as ``"tfidfbaseline__dim"``.
    tolerance : float, default=0.01
        Absolute: with accuracy, 0.01 is one percentage point.
    metric : str, default="score"
        Which ``mean_test_<metric>`` to read: ``"score"`` for a single scorer, else the name of
        one of a multi-metric ``scoring``.

    Returns
    -------
    callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.evaluation import smallest_dim_refit
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> pipe = make_pipeline(TfidfBaseline(), LogisticRegression(max_iter=2000))
    >>> grid = GridSearchCV(
    ...     pipe,
    ...     {"tfidfbaseline__dim": [2, 4, 8, 16]},
    ...     cv=4,
    ...     refit=smallest_dim_refit("tfidfbaseline__dim", tolerance=0.05),
    ... ).fit(CORPUS, LABELS)
    >>> grid.best_params_
    {'tfidfbaseline__dim': 8}
    """
    _check_tolerance(tolerance)  # now, not when the search ends
    key = f"mean_test_{metric}"

    def refit(cv_results: dict) -> int:
        if key not in cv_results:
            found = sorted(k for k in cv_results if k.startswith("mean_test_"))
            raise ValueError(f"cv_results has no {key!r} (it has {found}); set metric=")
        if f"param_{param}" not in cv_results:
            found = sorted(k[6:] for k in cv_results if k.startswith("param_"))
            raise ValueError(f"the grid has no parameter {param!r} (it has {found})")
        scores = np.asarray(cv_results[key], dtype=np.float64)
        values = list(cv_results[f"param_{param}"])
        if any(v is np.ma.masked for v in values):  # a grid in a list that leaves it out
            raise ValueError(
                f"every candidate must set {param} to order them by size; some grid leaves it out"
            )
        if not all(v is None or isinstance(v, numbers.Integral) for v in values):
            raise ValueError(
                f"every candidate's {param} must be an int (or None, the full size) to order "
                "them by size"
            )
        sizes = [np.inf if v is None else int(v) for v in values]
        ok = _within_tolerance(scores, tolerance, "candidate")
        smallest = min(size for size, good in zip(sizes, ok, strict=True) if good)
        same = [i for i, size in enumerate(sizes) if ok[i] and size == smallest]
        return int(max(same, key=lambda i: scores[i]))

    refit.__name__ = f"smallest_dim_refit({param!r}, tolerance={tolerance})"
    return refit
