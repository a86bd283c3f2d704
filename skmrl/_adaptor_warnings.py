"""Warnings about a :class:`~skmrl.adaptor.MatryoshkaAdaptor`'s training data and cost.

:func:`warn_if_few_vectors` warns when a fit's vectors span fewer directions than their width (the
rotation's directions past their span are not learned from the data); within
:func:`gather_few_vectors` it keeps what it finds instead, so that ``dim_curve`` warns once for a
curve (:func:`warn_few_vectors`), not once per fold. :func:`warn_if_slow` warns when the
unsupervised training, projected from its first step, will take long.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import warnings
from collections.abc import Iterator

import numpy as np

from skmrl._warn import caller_stacklevel, first_warning

__all__ = [
    "count_distinct",
    "gather_few_vectors",
    "warn_few_vectors",
    "warn_if_few_vectors",
    "warn_if_slow",
]

#: A training projected to take longer than this (seconds, from its first step) is warned about.
_SLOW_FIT_SECONDS = 300.0


def _duration(seconds: float) -> str:
    """``seconds`` in words a person reads at a glance: ``'40 s'``, ``'18 min'``, ``'6.5 h'``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def warn_if_slow(width: int, steps: int, first_step: float) -> None:
    """Warn when the unsupervised training, ``steps`` steps of about ``first_step`` seconds,
    will take longer than :data:`_SLOW_FIT_SECONDS`, saying what costs and what is quicker."""
    total = steps * first_step
    if total <= _SLOW_FIT_SECONDS:
        return
    warnings.warn(
        f"MatryoshkaAdaptor: training the {width} x {width} rotation will take about "
        f"{_duration(total)} here ({steps} steps of {first_step:.1f} s; a step's cost grows "
        f"as the cube of the width). Quicker: the closed-form rotations, in seconds (class "
        f"labels y, or method='pca'; MatryoshkaEmbedder: fine_tune='pca'), or fewer steps "
        f"(max_samples, epochs)",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


@dataclasses.dataclass(frozen=True)
class _FewVectors:
    """A fit whose ``rows`` non-zero vectors (one direction fewer once ``centred``) span fewer
    directions than their ``width`` (see :func:`warn_if_few_vectors` for the fields)."""

    rows: int
    width: int
    centred: bool
    dims: tuple[int, ...]
    given: int | None
    owner: str | None
    distinct: int | None = None

    @property
    def span_rows(self) -> int:
        """The rows that can span directions: the distinct ones where some repeat."""
        return self.rows if self.distinct is None else min(self.rows, self.distinct)


#: Where :func:`warn_if_few_vectors` keeps what it finds instead of warning, within
#: :func:`gather_few_vectors` (per thread and task: a joblib worker's fold gathers its own).
_GATHERED: contextvars.ContextVar[list[_FewVectors] | None] = contextvars.ContextVar(
    "skmrl_few_vectors", default=None
)


@contextlib.contextmanager
def gather_few_vectors() -> Iterator[list[_FewVectors]]:
    """Within it, :func:`warn_if_few_vectors` adds what it finds to the list it yields instead
    of warning: ``dim_curve`` gathers each fold's (in the process or thread that runs the fold)
    and warns once for the curve (:func:`warn_few_vectors`), not once per fold with each
    fold's own count."""
    found: list[_FewVectors] = []
    token = _GATHERED.set(found)
    try:
        yield found
    finally:
        _GATHERED.reset(token)


def _magnitude(count: int | None) -> int | None:
    """The power of two below ``count`` (its bit length): counts between two of them, as a
    grid's folds and refit give, are one warning."""
    return None if count is None else count.bit_length()


def warn_if_few_vectors(
    n_rows: int,
    width: int,
    centred: bool,
    dims: list[int],
    given: int | None = None,
    owner: str | None = None,
    distinct: int | None = None,
) -> None:
    """Warn when ``n_rows`` non-zero vectors (one direction fewer once ``centred``) span fewer
    directions than ``width``: the rotation's directions past their span are not learned from
    the data, so prefixes longer than the span hold them in an order that means nothing.
    ``given``: the non-zero vectors passed to fit, of which ``max_samples=n_rows`` were used.
    ``owner``: the estimator that fitted the adaptor on its texts' vectors
    (``"MatryoshkaEmbedder(fine_tune='pca')"``), whose user has texts to add and no
    ``max_samples``; ``None`` for a ``MatryoshkaAdaptor`` fitted by the user. ``distinct``:
    how many of the vectors given differ (:func:`count_distinct`), where fewer than
    ``n_rows``: repeated texts span no more directions than one (12 rows of 4 texts, 3 times
    each, were said to span 11; 400 rows of 40 did not warn at all). Within
    :func:`gather_few_vectors`, kept for one warning later; else given once per process,
    setting and range of counts between two powers of two (a ``GridSearchCV`` gave it at every
    fold and for the refit, with counts of 49, 50 and 62; once per setting hid a later fit on
    5 vectors, whose prefixes are arbitrary far sooner)."""
    found = _FewVectors(n_rows, width, centred, tuple(dims), given, owner, distinct)
    if found.span_rows - centred >= width:
        return
    gathered = _GATHERED.get()
    if gathered is not None:
        gathered.append(found)
    elif first_warning(
        "few-vectors|"
        + repr((owner, width, centred, tuple(dims), _magnitude(n_rows), _magnitude(given)))
        + repr(_magnitude(found.span_rows))
    ):
        warn_few_vectors([found])


def count_distinct(Z: np.ndarray, norms: np.ndarray, rows: np.ndarray, limit: int) -> int:
    """How many of the rows ``rows`` (indices) of ``Z`` point in different directions, counted
    up to ``limit + 1``: each unit row (``Z / norms``, rounded to 6 decimals, so that a row and
    its rescaled copy, or ``-0.0`` and ``0.0``, are one) is hashed, a block at a time, and the
    count stops once it passes ``limit`` (the most directions that matter), so distinct
    vectors cost ``limit`` rows' hashing."""
    seen: set[bytes] = set()
    for start in range(0, rows.size, _DISTINCT_BLOCK):
        picked = rows[start : start + _DISTINCT_BLOCK]
        block = np.round(Z[picked] / norms[picked], 6) + 0.0  # + 0.0: -0.0 is 0.0
        block = np.ascontiguousarray(block, dtype=np.float64)
        seen.update(hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in block)
        if len(seen) > limit:
            break
    return len(seen)


#: Rows hashed between two looks at :func:`count_distinct`'s count.
_DISTINCT_BLOCK = 1024


def warn_few_vectors(found: list[_FewVectors], folds: int | None = None) -> None:
    """One warning for the fits of ``found`` (nothing when it is empty): one fit, or those of
    the ``folds`` of a curve (one estimator on each fold's data: its counts as ranges, the
    smallest span for the prefixes affected)."""
    if not found:
        return
    first = found[0]
    width, centred, owner = first.width, first.centred, first.owner

    def counts(values: list[int]) -> str:  # "60", or "60-61" over folds
        low, high = min(values), max(values)
        return f"{low}" if low == high else f"{low}-{high}"

    rows = counts([f.rows for f in found])
    repeated = any(f.span_rows < f.rows for f in found)
    # repeated vectors given, too few distinct ones among them, whatever max_samples takes
    short = [
        f.distinct
        for f in found
        if f.distinct is not None
        and f.distinct < (f.given if f.given is not None else f.rows)
        and f.distinct - centred < width
    ]
    # "on 12 text vectors (4 distinct)"
    distinct = f" ({counts([f.span_rows for f in found])} distinct)" if repeated else ""
    spans = counts([f.span_rows - centred for f in found])
    least = min(f.span_rows for f in found) - centred  # the prefixes past it are affected
    capped = [f.given for f in found if f.given is not None]
    need = width + centred
    longer = [k for k in first.dims if least < k < width]
    which = f" (of its matryoshka_dims: {longer})" if longer else ""
    given = counts(capped) if capped else ""
    if capped and short:  # "(max_samples=20 of the 1000 given, 25 distinct)"
        given, distinct = f"{given} given, {counts(short)} distinct", ""
    elif capped:
        given += " given"
    if owner is None:
        fitted = f"MatryoshkaAdaptor was fitted on {rows} non-zero vectors{distinct}"
        used = f" (max_samples={rows} of the {given})" if capped else ""
        unit, fix = "vectors", f"set max_samples to at least {need}"
    else:  # the embedder has texts, and no max_samples (its adaptor's is 10,000)
        fitted = f"{owner} fitted its adaptor on {rows} text vectors{distinct}"
        used = f" (the adaptor trains on {rows} of the {given})" if capped else ""
        unit, fix = "texts", "use fine_tune='pca' or labels y (rotations from all of them)"
    if repeated or short:  # the distinct vectors are short, whatever max_samples says
        unit = f"distinct {unit}"
    if repeated or short or not capped:
        fix = f"fit on at least {need} {unit}"
        if folds is not None:
            training = unit.replace("distinct ", "distinct training ", 1)
            if training == unit:
                training = f"training {unit}"
            fix = f"give each fold at least {need} {training} (more data, or more folds)"
    where = ""
    if folds is not None:
        where = "In each of the " if len(found) == folds else f"In {len(found)} of the "
        where += f"{folds} folds, "
    warnings.warn(
        f"{where}{fitted}{used} of {width} dimensions, which span at most {spans} directions: "
        f"the directions past them are not learned from the data, so prefixes longer than "
        f"{least} dims{which} add them in an arbitrary order. Prefixes up to {least} dims are "
        f"unaffected; {fix} for every prefix to be learned",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
