"""``task="classification"``: one fold of :func:`~skmrl.evaluation.dim_curve`."""

from __future__ import annotations

from ._common import _depth_seconds, _fit_fold, _Fold, _scores_at_depths, _take


def _classification_fold(
    embedder, X, y, train, test, dims, estimator, scorer, fold, clip=False, tick=None,
    depths=(None,), time_depths=False,
) -> _Fold:  # fmt: skip
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    depths = list(depths)
    X_train, y_train, X_test, y_test = _take(X, train), y[train], _take(X, test), y[test]
    emb, dims, fit_s = _fit_fold(
        embedder, depths, (X_train, y_train), dims, f"fitted on fold {fold}", clip
    )

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
