"""Choosing ``dim``: the quality of an embedder at every size, for the cost of one encoding.

:func:`dim_curve` fits the embedder once per cross-validation fold at full size, encodes each
fold once, and slices every ``dim`` from those full-size vectors (contract 3 of docs/design.md:
``dim=k`` is the first ``k`` full-size columns, re-normalised), so the whole curve costs about one
encoding of the data. :class:`DimCurve` holds the result (scores, bytes per vector, timings) and
picks the smallest good size; with ``layers=``, :class:`DepthDimCurves` holds one curve per
encoder depth (2D Matryoshka); :func:`smallest_dim_refit` does the same inside ``GridSearchCV``.
:func:`compare` draws the curves of several embedders on the same folds (:class:`Comparison`).

The package has one module per job: ``_curve`` and ``_depth`` (the results), ``_run``
(:func:`dim_curve`), ``_compare``, ``_refit``, one module per task (``_classification``,
``_sts``, ``_retrieval``) and ``_common`` (what the tasks share).
"""

from ._compare import compare
from ._curve import Comparison, DimCurve
from ._depth import DepthDimCurves
from ._refit import smallest_dim_refit
from ._run import TASKS as TASKS  # the task names, as before the split
from ._run import dim_curve

__all__ = [
    "Comparison",
    "DepthDimCurves",
    "DimCurve",
    "compare",
    "dim_curve",
    "smallest_dim_refit",
]
