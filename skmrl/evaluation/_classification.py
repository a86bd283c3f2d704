"""``task="classification"``: one fold of :func:`~skmrl.evaluation.dim_curve`."""

from __future__ import annotations

import time

from ._common import _check_dims, _fitted_max_dim, _full_vectors, _take


def _classification_fold(
    embedder, X, y, train, test, dims, estimator, scorer, fold, clip=False, tick=None
) -> tuple[list[float], int, float, float]:
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    emb = clone(embedder).set_params(dim=None)
    X_train, y_train, X_test, y_test = _take(X, train), y[train], _take(X, test), y[test]
    t0 = time.perf_counter()
    emb.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    max_dim = _fitted_max_dim(emb)
    dims = _check_dims(dims, max_dim, f"fitted on fold {fold}", clip)
    t0 = time.perf_counter()
    _, at_train = _full_vectors(emb, X_train)
    _, at_test = _full_vectors(emb, X_test)
    enc_s = time.perf_counter() - t0
    scores = []
    # One BLAS thread for the estimator: on at most max_dim_ columns threads gain nothing, and
    # with the cores busy (another process, or n_jobs folds) OpenBLAS's threads made the 35 fits
    # of a 7-dim BBC News curve take 27 s instead of about 1 s on 2 cores
    # (benchmarks/curve_cost.py).
    with threadpool_limits(limits=1, user_api="blas"):
        for k in dims:
            model = clone(estimator).fit(at_train(k), y_train)
            scores.append(float(scorer(model, at_test(k), y_test)))
            if tick is not None:
                tick()
    return scores, dims, fit_s, enc_s
