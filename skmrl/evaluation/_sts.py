"""``task="sts"``: the pairs, and one fold of :func:`~skmrl.evaluation.dim_curve`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import _depth_seconds, _fit_fold, _Fold, _scores_at_depths


def _check_pairs(X: Any) -> tuple[list[str], list[str]]:
    if isinstance(X, str) or X is None:
        raise TypeError(f"X must be a sequence of (text_a, text_b) pairs, got {type(X).__name__}")
    a, b = [], []
    for i, pair in enumerate(X):
        if isinstance(pair, str) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"X[{i}] must be a pair (text_a, text_b), got {pair!r}")
        if not (isinstance(pair[0], str) and isinstance(pair[1], str)):
            raise TypeError(f"X[{i}] must hold two strings, got {pair!r}")
        a.append(pair[0])
        b.append(pair[1])
    if not a:
        raise ValueError("X holds no pairs")
    return a, b


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
