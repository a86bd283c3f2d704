"""``task="sts"``: one fold of :func:`~skmrl.evaluation.dim_curve` (the pairs are checked by
:func:`skmrl._validation.check_pairs`)."""

from __future__ import annotations

import numpy as np

from ._common import _depth_seconds, _fit_fold, _Fold, _scores_at_depths


def _sts_fold(
    embedder, a, b, y, fit_idx, test, dims, fold, clip=False, tick=None, depths=(None,),
    time_depths=False,
) -> _Fold:  # fmt: skip
    from scipy.stats import spearmanr

    from skmrl.base import prefix_normalize

    depths = list(depths)
    fit_texts = list(dict.fromkeys([a[i] for i in fit_idx] + [b[i] for i in fit_idx]))
    if not np.array_equal(fit_idx, test):  # a held-out fold (not cv=None's one fit on all)
        # A sentence of a training pair that is also in a test pair (STS-B repeats many) would
        # be seen in fit: about 12% of the test texts of STS-B dev's first 200 pairs were, and
        # lifted TF-IDF's Spearman by 0.035.
        held_out = {a[i] for i in test} | {b[i] for i in test}
        fit_texts = [t for t in fit_texts if t not in held_out]
        if not fit_texts:
            raise ValueError(
                f"fold {fold}: every sentence of its training pairs is also in its test pairs, "
                "so there is nothing to fit on without seeing a test sentence; use fewer folds "
                "(cv), or cv=None to fit once on the texts of all pairs"
            )
    # never the gold scores
    emb, dims, fit_s = _fit_fold(
        embedder, depths, (fit_texts,), dims, f"fitted on fold {fold}", clip
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

    parts = ([a[i] for i in test], [b[i] for i in test])
    scores, enc_s = _scores_at_depths(emb, depths, parts, score_at)
    texts = list(dict.fromkeys(parts[0] + parts[1]))
    per_1000 = _depth_seconds(emb, texts, depths) if time_depths else None
    return _Fold(scores, dims, fit_s, enc_s, per_1000)
