"""``task="classification"``: one fold of :func:`~skmrl.evaluation.dim_curve`."""

from __future__ import annotations

import time

from ._common import (
    _check_dims,
    _check_fitted_layers,
    _depth_seconds,
    _fit_clone,
    _fitted_max_dim,
    _Fold,
    _scores_at_depths,
    _take,
)


def _classification_fold(
    embedder, X, y, train, test, dims, estimator, scorer, fold, clip=False, tick=None,
    depths=(None,), time_depths=False,
) -> _Fold:  # fmt: skip
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    depths = list(depths)
    emb = _fit_clone(embedder, depths)
    X_train, y_train, X_test, y_test = _take(X, train), y[train], _take(X, test), y[test]
    t0 = time.perf_counter()
    emb.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    where = f"fitted on fold {fold}"
    dims = _check_dims(dims, _fitted_max_dim(emb), where, clip)
    _check_fitted_layers(emb, depths, where)

    def score_at(train_vectors, test_vectors) -> list[float]:
        (_, at_train), (_, at_test) = train_vectors, test_vectors
        scores = []
        # One BLAS thread for the estimator: on at most max_dim_ columns threads gain nothing,
        # and with the cores busy (another process, or n_jobs folds) OpenBLAS's threads made the
        # 35 fits of a 7-dim BBC News curve take 27 s instead of about 1 s on 2 cores
        # (benchmarks/curve_cost.py).
        with threadpool_limits(limits=1, user_api="blas"):
            for k in dims:
                model = clone(estimator).fit(at_train(k), y_train)
                scores.append(float(scorer(model, at_test(k), y_test)))
                if tick is not None:
                    tick()
        return scores

    scores, enc_s = _scores_at_depths(emb, depths, (X_train, X_test), score_at)
    per_1000 = _depth_seconds(emb, list(X), depths) if time_depths else None
    return _Fold(scores, dims, fit_s, enc_s, per_1000)
