"""``task="classification"``: one fold of :func:`~skmrl.evaluation.dim_curve`."""

from __future__ import annotations

from typing import Any

from skmrl._validation import check_documents

from ._common import _depth_seconds, _fit_fold, _Fold, _scores_at_depths, _take


def _classification_fold(
    embedder, X, y, train, test, dims, estimator, scorer, fold, clip=False, tick=None,
    depths=(None,), time_depths=False,
) -> _Fold:  # fmt: skip
    from sklearn.base import clone

    from skmrl._threads import one_blas_thread

    depths = list(depths)
    X_train, y_train, X_test, y_test = _take(X, train), y[train], _take(X, test), y[test]
    emb, dims, fit_s = _fit_fold(
        embedder, depths, (X_train, y_train), dims, f"fitted on fold {fold}", clip, fold == 0
    )

    def score_at(train_vectors, test_vectors) -> list[float]:
        (_, at_train), (_, at_test) = train_vectors, test_vectors
        scores = []
        # One BLAS thread for the estimator: on at most max_dim_ columns threads gain nothing,
        # and with the cores busy (another process, or n_jobs folds) OpenBLAS's threads made the
        # 35 fits of a 7-dim BBC News curve take 27 s instead of about 1 s on 2 cores
        # (benchmarks/curve_cost.py). The process's count: restored when folds in threads overlap.
        with one_blas_thread():
            for k in dims:
                model = clone(estimator).fit(at_train(k), y_train)
                scores.append(float(scorer(model, at_test(k), y_test)))
                if tick is not None:
                    tick()
        return scores

    scores, enc_s = _scores_at_depths(emb, depths, (X_train, X_test), score_at)
    # The texts (check_documents): list() of a DataFrame was its column names, one "text" timed
    per_1000 = _depth_seconds(emb, check_documents(X), depths) if time_depths else None
    return _Fold(scores, dims, fit_s, enc_s, per_1000)


#: scikit-learn's scorer names that compare cluster assignments with the classes of ``y``
#: (numbering-free): the only names that score a clusterer's ``predict`` against labels.
_CLUSTER_SCORERS = frozenset(
    {
        "adjusted_mutual_info_score",
        "adjusted_rand_score",
        "completeness_score",
        "fowlkes_mallows_score",
        "homogeneity_score",
        "mutual_info_score",
        "normalized_mutual_info_score",
        "rand_score",
        "v_measure_score",
    }
)


def _check_clusterer(estimator: Any, scoring: Any, embedder: Any) -> None:
    """What a clusterer as ``estimator`` needs, checked before any fit: a ``predict`` (the
    held-out part is assigned to the clusters found on the training part) and a ``scoring``
    that compares clusters with the classes; a warning when the embedder learns from ``y``.
    Nothing for any other estimator."""
    from sklearn.base import is_clusterer
    from sklearn.utils import get_tags

    # A mixture model (GaussianMixture) predicts components as a clusterer predicts clusters,
    # but is tagged a density estimator: it ran, scoring component numbers as classes, and its
    # own score (a log-likelihood) was highest at the smallest dim as KMeans' is
    mixture = get_tags(estimator).estimator_type == "density_estimator"
    if not (is_clusterer(estimator) or (mixture and hasattr(estimator, "predict"))):
        return
    name = type(estimator).__name__
    if not hasattr(estimator, "predict"):
        raise TypeError(
            f"estimator {name} has no predict: dim_curve fits the estimator on each fold's "
            "training part and scores the clusters it assigns to the held-out part; use a "
            "clusterer with predict (KMeans, MiniBatchKMeans, BisectingKMeans, Birch)"
        )
    named = ", ".join(repr(s) for s in ("adjusted_rand_score", "v_measure_score",
                                         "adjusted_mutual_info_score"))  # fmt: skip
    if scoring is None:
        raise ValueError(
            f"estimator {name} is a {'mixture model' if mixture else 'clusterer'}: its own "
            "score does not compare sizes (KMeans': minus the inertia, GaussianMixture's: a "
            "log-likelihood, each highest at the smallest dim, whatever the clusters); "
            f"pass a scoring that compares the clusters with y: {named}"
        )
    if (isinstance(scoring, str) and scoring not in _CLUSTER_SCORERS) or _scores_classes(scoring):
        raise ValueError(
            f"scoring={scoring!r} needs class predictions (or probabilities), but "
            f"{'mixture model' if mixture else 'clusterer'} {name} predicts cluster numbers, "
            "which are not the classes of y; pass a scoring "
            f"that compares the clusters with y: {named}"
        )
    if _learns_from_labels(embedder):
        import warnings

        from skmrl._warn import caller_stacklevel

        warnings.warn(
            f"the embedder learns from y in each fold ({_label_route(embedder)}): the clusters "
            "are those of an embedding trained on the classes they are scored against, so the "
            "curve is not what clustering unlabelled texts gets. For that, use an embedder that "
            "ignores y (fine_tune=None or 'pca', TfidfBaseline, Word2VecEmbedder)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _check_response(estimator: Any, scorer: Any, scoring: Any) -> None:
    """A ``ValueError`` before any fit when ``scoring`` reads an output that the estimator does
    not have (``"neg_log_loss"``: ``predict_proba``, which ``LinearSVC`` and ``SVC`` lack): it
    failed after fold 0's embedder was fitted, with an AttributeError deep in the scorer.
    Checked where the scorer says what it reads (scikit-learn's scorers, ``make_scorer``'s),
    on the unfitted estimator as scikit-learn's ``available_if`` answers for it (a Pipeline as
    its last step, a OneVsRestClassifier as what it wraps); a callable of the user's is left to
    say it itself, and so are the estimators that only their fit can answer for: a search
    (``GridSearchCV(SVC(), {"probability": [True]})`` has ``predict_proba`` once fitted) and a
    stacking ensemble with its default final estimator (``final_estimator=None``)."""
    methods = getattr(scorer, "_response_method", None)
    if methods is None:
        return
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    while getattr(estimator, "steps", None) and hasattr(estimator.steps[-1][1], "get_params"):
        estimator = estimator.steps[-1][1]  # a Pipeline answers as its last estimator
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    if {"param_grid", "param_distributions"} & set(params):
        return
    if "final_estimator" in params and params["final_estimator"] is None:
        return
    if any(hasattr(estimator, m) for m in methods):
        return
    name = type(estimator).__name__
    raise ValueError(
        f"scoring={scoring!r} reads the estimator's {' or '.join(methods)}, which {name} "
        f"does not have: pass an estimator with it (LogisticRegression, or this one in a "
        f"CalibratedClassifierCV({name}()) for probabilities), or a scoring on its predictions, "
        "such as 'accuracy' or 'f1_macro'"
    )


def _scores_classes(scoring: Any) -> bool:
    """Whether ``scoring`` is a scorer of scikit-learn's (``make_scorer``'s) whose score
    function compares class predictions or probabilities with the classes of ``y``
    (``sklearn.metrics``' classification and ranking metrics: ``accuracy_score``,
    ``roc_auc_score``); not the clustering metrics (``sklearn.metrics.cluster``), which a
    clusterer's cluster numbers are scored with."""
    module = getattr(getattr(scoring, "_score_func", None), "__module__", None) or ""
    return module.startswith(("sklearn.metrics._classification", "sklearn.metrics._ranking"))


def _check_scores_target(estimator: Any, scorer: Any, scoring: Any, y: Any) -> None:
    """A ``ValueError`` before any fit when scikit-learn's scorer cannot score ``y``:
    ``"roc_auc"`` or ``"f1"`` on more than two classes, ``"f1"`` on labels of which
    ``pos_label=1`` is none. It failed after fold 0's fit and encoding, deep in scikit-learn.

    The scorer is tried on a dummy estimator of the same kind fitted on ``y``
    (``DummyClassifier(strategy="prior")``, ``DummyRegressor``), which has the outputs the
    scorers read (``predict``, ``predict_proba``): a ``ValueError`` from the scorer refuses;
    any other error (an output the dummy lacks, such as ``decision_function``) leaves the
    scoring to the folds. Only scikit-learn's scorers (``make_scorer``'s too) are tried: a
    callable of the user's, and a clusterer's scoring, are not."""
    if not (hasattr(scorer, "_response_method") and hasattr(scorer, "_score_func")):
        return
    import warnings

    import numpy as np
    from sklearn.base import is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if is_classifier(estimator):
        dummy: Any = DummyClassifier(strategy="prior")
    elif is_regressor(estimator):
        dummy = DummyRegressor()
    else:
        return
    X = np.zeros((len(y), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dummy.fit(X, y)
        except Exception:  # what the folds' estimator makes of y is theirs to say
            return
        try:
            scorer(dummy, X, y)
        except ValueError as exc:
            reason = " ".join(str(exc).split()).rstrip(".")  # one line
            raise ValueError(
                f"scoring={scoring!r} cannot score this y: {reason}; "
                f"{_scoring_advice(scoring, y, is_classifier(estimator), reason)}"
            ) from None
        except Exception:  # AttributeError, TypeError: the dummy is not the estimator
            return


def _scoring_advice(scoring: Any, y: Any, classifier: bool, reason: str) -> str:
    """What to pass instead of a scikit-learn scoring that cannot score ``y`` (``reason``:
    scikit-learn's message)."""
    if not classifier:
        return "pass a scoring for a regressor's predictions, such as 'r2'"
    import numpy as np
    from sklearn.metrics import get_scorer_names

    classes = np.unique(y)
    if len(classes) > 2:
        names = set(get_scorer_names())
        instead = [
            n
            for n in (f"{scoring}_ovr", f"{scoring}_macro")
            if isinstance(scoring, str) and n in names
        ]
        named = " or ".join(
            repr(n) for n in list(dict.fromkeys([*instead, "f1_macro", "accuracy"]))[:2]
        )
        return f"y has {len(classes)} classes: pass a scoring for several classes, such as {named}"
    labels = classes.tolist()
    if "pos_label" not in reason:
        return "pass a scoring of class predictions, such as 'accuracy' or 'f1_macro'"
    return (
        f"y's classes are {labels!r}: pass a scoring that names the positive one, such as "
        f"make_scorer(f1_score, pos_label={labels[-1]!r}), or one that needs none, such as "
        "'f1_macro' or 'accuracy'"
    )


def _label_route(embedder: Any) -> str:
    params = embedder.get_params(deep=False)
    key = "fine_tune" if "fine_tune" in params else "method"
    return f"{type(embedder).__name__}({key}={params[key]!r})"


def _learns_from_labels(embedder: Any) -> bool:
    """Whether fitting ``embedder`` with ``y`` learns from the labels: MatryoshkaEmbedder's
    ``fine_tune`` "adaptor", "full" and "full+adaptor", MatryoshkaAdaptor's ``method="adaptor"``
    (``"pca"``, ``"prefix"`` and ``None`` ignore ``y``), or an embedder that says so
    (``_fit_uses_y``)."""
    from skmrl.adaptor import MatryoshkaAdaptor

    params = embedder.get_params(deep=False)
    if isinstance(embedder, MatryoshkaAdaptor):
        return params["method"] == "adaptor"
    if "fine_tune" in params:
        return params["fine_tune"] not in (None, "pca")
    return bool(getattr(embedder, "_fit_uses_y", False))
