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
