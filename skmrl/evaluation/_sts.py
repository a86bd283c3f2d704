"""``task="sts"``: one fold of :func:`~skmrl.evaluation.dim_curve`, on pairs of texts (checked by
:func:`skmrl._validation.check_pairs`) or of vectors
(:func:`skmrl._vector_checks.check_vector_pairs`, for ``MatryoshkaAdaptor``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import _depth_seconds, _fit_fold, _Fold, _scores_at_depths, _take


def _sts_fold(
    embedder, a, b, y, fit_idx, test, dims, fold, clip=False, tick=None, depths=(None,),
    time_depths=False,
) -> _Fold:  # fmt: skip
    """``a`` and ``b``: the pairs' first and second texts (lists of str), or vectors (2-D
    arrays, a pair per row)."""
    from scipy.stats import spearmanr

    from skmrl.base import prefix_normalize

    depths = list(depths)
    vectors = isinstance(a, np.ndarray)
    fit_rows = _unique_rows(a, b, fit_idx)  # key -> text or vector, first sentences first
    if not np.array_equal(fit_idx, test):  # a held-out fold (not cv=None's one fit on all)
        # A sentence of a training pair that is also in a test pair (STS-B repeats many) would
        # be seen in fit: about 12% of the test texts of STS-B dev's first 200 pairs were, and
        # lifted TF-IDF's Spearman by 0.035. A vector is the same sentence when its bytes are.
        held_out = _unique_rows(a, b, test).keys()
        fit_rows = {key: row for key, row in fit_rows.items() if key not in held_out}
        if not fit_rows:
            what = "vector" if vectors else "sentence"
            raise ValueError(
                f"fold {fold}: every {what} of its training pairs is also in its test pairs, "
                f"so there is nothing to fit on without seeing a test {what}; use fewer folds "
                f"(cv), or cv=None to fit once on the {what}s of all pairs"
            )
    fit_X: Any = np.stack(list(fit_rows.values())) if vectors else list(fit_rows.values())
    # never the gold scores
    emb, dims, fit_s = _fit_fold(
        embedder, depths, (fit_X,), dims, f"fitted on fold {fold}", clip, fold == 0
    )

    def score_at(vectors_a, vectors_b) -> list[float]:
        (full_a, at_a), (full_b, at_b) = vectors_a, vectors_b
        scores = []
        for k in dims:
            if full_a is None:
                va, vb = at_a(k), at_b(k)
                va, vb = prefix_normalize(va, None), prefix_normalize(vb, None)
            else:  # cosine needs unit vectors whatever `normalize` says
                va, vb = prefix_normalize(full_a, k), prefix_normalize(full_b, k)
            cos = np.einsum("ij,ij->i", va, vb, dtype=np.float64)
            scores.append(float(spearmanr(cos, y[test]).statistic))
            if tick is not None:
                tick()
        return scores

    parts = (_take(a, test), _take(b, test))
    scores, enc_s = _scores_at_depths(emb, depths, parts, score_at)
    per_1000 = None
    if time_depths:  # an encoder's depths: texts
        per_1000 = _depth_seconds(emb, list(dict.fromkeys(parts[0] + parts[1])), depths)
    return _Fold(scores, dims, fit_s, enc_s, per_1000)


def _unique_rows(a: Any, b: Any, idx: np.ndarray) -> dict[Any, Any]:
    """The distinct texts (or vectors) of the pairs ``idx``, the first sentences' then the
    second ones', each once, in order, by key: a text is its own key, a vector its bytes."""
    rows: dict[Any, Any] = {}
    for side in (a, b):
        for i in idx:
            row = side[i]
            rows.setdefault(row.tobytes() if isinstance(row, np.ndarray) else row, row)
    return rows
