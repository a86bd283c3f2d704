"""Helpers shared by the tasks of :func:`~skmrl.evaluation.dim_curve`: taking rows, encoding once
at full size, checking ``dims`` and ``layers``, the progress bar."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skmrl import _frames


def _take(X: Any, idx: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, np.ndarray) or _frames.is_polars(X):  # a polars frame or Series: X[idx]
        return X[idx]
    return [X[i] for i in idx]


def _is_embedder(est: Any) -> bool:
    from skmrl.base import BaseEmbedder

    return isinstance(est, BaseEmbedder)


def _check_dim_estimator(est: Any, what: str) -> None:
    """``est`` must be an estimator instance with a ``dim`` parameter. A class (``TfidfBaseline``
    for ``TfidfBaseline()``) called ``get_params`` unbound: "missing 1 required positional
    argument: 'self'"."""
    if isinstance(est, type):
        raise TypeError(
            f"{what} must be an estimator instance, got the class {est.__name__}: "
            f"pass {est.__name__}() (with your settings)"
        )
    if not hasattr(est, "get_params") or "dim" not in est.get_params(deep=False):
        raise TypeError(
            f"{what} must be an estimator with a `dim` parameter (a skmrl embedder or "
            f"MatryoshkaAdaptor), got {type(est).__name__}"
        )


def _full_vectors(emb: Any, X: Any) -> tuple[np.ndarray | None, Callable[[int], np.ndarray]]:
    """Encode ``X`` once at full size; return a function giving the vectors at any ``dim``."""
    from skmrl.base import prefix_normalize

    if _is_embedder(emb):
        full = emb.embed_full(X)
    elif hasattr(emb, "transform_full"):  # MatryoshkaAdaptor
        full = emb.transform_full(X)
    else:  # any other transformer with a `dim` parameter: set it and transform
        return None, lambda k: emb.set_params(dim=k).transform(X)
    normalize = getattr(emb, "normalize", True)
    return full, lambda k: prefix_normalize(full, k, normalize)


def _int_list(values: Any, name: str) -> list[int]:
    """``values`` (an int, or a collection of them) as a list of ints ``>= 1``, or an error
    naming ``name``."""
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = [values]
    try:
        out = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a list of ints or None, got {values!r}") from None
    if not out:
        raise ValueError(f"{name} is empty")
    for v in out:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"{name} must hold ints, got {v!r} ({type(v).__name__})")
    bad = [int(v) for v in out if v < 1]
    if bad:
        raise ValueError(f"{name} {bad} must be >= 1")
    return [int(v) for v in out]


class _DimsAboveSize(ValueError):
    """:func:`_check_dims`'s error when ``clip`` leaves none of ``dims``: every one is above the
    embedder's size (``compare`` names the embedder; ``skmrl sweep`` leaves it out)."""


def _check_dims(dims: Any, max_dim: int | None, where: str = "", clip: bool = False) -> list[int]:
    """Validate ``dims`` (sorted, unique); ``max_dim=None`` checks types and ``>= 1`` only.

    ``clip=True`` drops the sizes above ``max_dim`` instead of refusing them (not all of them).
    """
    if dims is None:
        assert max_dim is not None
        out = [2**p for p in range(3, max(3, max_dim.bit_length())) if 2**p < max_dim]
        return [*out, max_dim]
    values = _int_list(dims, "dims")
    if max_dim is None:
        return sorted(set(values))
    if clip:
        kept = [v for v in values if v <= max_dim]
        if not kept:
            raise _DimsAboveSize(
                f"every one of dims {sorted(values)} is above max_dim_={max_dim} "
                f"of the embedder {where}"
            )
        values = kept
    bad = [v for v in values if v > max_dim]
    if bad:
        raise ValueError(f"dims {bad} are outside 1..max_dim_={max_dim} of the embedder {where}")
    return sorted(set(values))


def _encoder_sizes(embedder: Any) -> tuple[int | None, int | None]:
    """A ``MatryoshkaEmbedder``'s ``max_dim_`` and ``max_layers_`` as its model's config states
    them, read before any fit without loading the model (:func:`skmrl.models._encoder_sizes`);
    ``None`` for what cannot be read so, and for any other estimator."""
    from skmrl.matryoshka import MatryoshkaEmbedder

    if not isinstance(embedder, MatryoshkaEmbedder):
        return None, None
    from skmrl.models import _encoder_sizes as sizes

    return sizes(embedder.get_params(deep=False)["model"])


def _size_before_fit(embedder: Any) -> tuple[int, str] | None:
    """The bound of the fitted ``max_dim_`` known before any fit, and what sets it: an skmrl
    embedder's ``max_dim`` parameter (``TfidfBaseline``, ``Word2VecEmbedder``: the size is at
    most it, as ``BaseEmbedder`` refuses a ``dim`` above it before fitting), or a
    ``MatryoshkaEmbedder``'s model's ``hidden_size`` (its ``max_dim_``, whatever ``fine_tune``
    and a saved adaptor: both keep the encoder's width); ``None`` where not known (a
    transformer of the user's, a model whose config cannot be read here)."""
    if not _is_embedder(embedder):
        return None
    bound = embedder.get_params(deep=False).get("max_dim")
    if isinstance(bound, numbers.Integral) and not isinstance(bound, bool) and bound >= 1:
        return int(bound), f"(its max_dim={int(bound)})"
    hidden, _ = _encoder_sizes(embedder)
    return None if hidden is None else (hidden, "(its model's hidden_size)")


def _check_dims_before_fit(embedder: Any, dims: list[int] | None, clip: bool = False) -> None:
    """Refuse, before any fit, the ``dims`` that the first fold's fit would refuse
    (:func:`_fit_fold`), where the embedder's size is known without fitting
    (:func:`_size_before_fit`): a ``dims`` above a model's size was refused after a fold's
    fine-tuning and encoding. ``clip`` as :func:`_check_dims`: only when none is left."""
    known = None if dims is None else _size_before_fit(embedder)
    if known is not None:
        _check_dims(dims, known[0], known[1], clip)


def _check_layers(embedder: Any, layers: Any) -> list[int | None]:
    """The depths to score, sorted and unique: ``[None]`` (the embedder's own) without ``layers``;
    the range is checked before any fit where the model's config says its depth, and after the
    first fit in any case (:func:`_check_fitted_layers`)."""
    if layers is None:
        return [None]
    if "n_layers" not in embedder.get_params(deep=False):
        raise TypeError(
            "layers= scores several depths of an encoder: it needs an embedder with an "
            f"`n_layers` parameter (MatryoshkaEmbedder), got {type(embedder).__name__}"
        )
    depths = sorted(set(_int_list(layers, "layers")))
    fine_tune = embedder.get_params(deep=False).get("fine_tune")
    _, depth = _encoder_sizes(embedder)
    if depth is not None and depths[-1] > depth:
        raise ValueError(
            f"layers {[d for d in depths if d > depth]} are outside 1..max_layers_={depth} of "
            "the embedder (its model's num_hidden_layers)"
        )
    # A depth shallower than the encoder's is refused by the first fit (after a fold's fit, or
    # a whole training with "full+adaptor"): known now with several depths (all but the deepest
    # are shallower) or with the model's depth from its config. Without it, one depth may be
    # the full one, which the fit takes.
    shallow = len(depths) > 1 or (depth is not None and depths[0] < depth)
    if shallow and fine_tune in ("adaptor", "pca", "full+adaptor"):
        every = "every layer" if depth is None else f"all {depth} layers"
        raise ValueError(
            f"layers={depths} cannot be used with fine_tune={fine_tune!r}: the adaptor is "
            f"fitted on the output of {every}. Score the depths with fine_tune=None or "
            "'full' (matryoshka_layers= trains the shallow layers)"
        )
    return depths


def _fit_fold(
    embedder: Any,
    depths: list[int | None],
    fit_args: tuple[Any, ...],
    dims: Any,
    where: str,
    clip: bool = False,
    first: bool = False,
) -> tuple[Any, list[int], float]:
    """Fit a clone of ``embedder`` at full size on ``fit_args``; return it, the dims checked
    against its ``max_dim_`` (and the depths against its ``max_layers_``), and the fit's seconds.

    Over several depths the clone caches every layer's vectors from one forward pass
    (``cache_layers=True``), so that each later depth is a cache hit. The ``first`` fit of a
    curve warns about depths that its training left out (:func:`_warn_untrained_depths`).
    """
    import time

    from sklearn.base import clone

    emb = clone(embedder).set_params(dim=None)
    if depths != [None]:
        emb.set_params(n_layers=None, cache_layers=True)
    t0 = time.perf_counter()
    emb.fit(*fit_args)
    fit_s = time.perf_counter() - t0
    dims = _check_dims(dims, _fitted_max_dim(emb, dims), where, clip)
    _check_fitted_layers(emb, depths, where)
    if first:
        _warn_untrained_depths(emb, depths)
    return emb, dims, fit_s


def _warn_untrained_depths(emb: Any, depths: list[int | None]) -> None:
    """Warn when ``layers=`` scores shallow depths that a ``fine_tune="full"`` training left out
    (as ``fit`` warns for ``n_layers``): their prefixes were never trained, and would be scored
    as if they were."""
    from skmrl._finetune import trained_depths, untrained_depths

    if depths == [None] or not (untrained := untrained_depths(emb, depths)):
        return
    import warnings

    from skmrl._warn import caller_stacklevel

    wanted = sorted(set(untrained) | set(emb.matryoshka_layers or ()))
    warnings.warn(
        f"layers={depths} scores layers {untrained}, but {trained_depths(emb)}, so their "
        "prefixes were never trained: their scores are an untrained depth's. Pass "
        f"matryoshka_layers={wanted} to train the depths you score (the full depth is always "
        "trained)",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _check_fitted_layers(emb: Any, depths: list[int | None], where: str) -> None:
    """Check the depths against the fitted ``max_layers_`` (nothing to check without layers)."""
    if depths == [None]:
        return
    max_layers = getattr(emb, "max_layers_", None)
    if max_layers is None:
        raise ValueError(
            f"layers=: cannot tell the depth of the embedder {where} from its model's config "
            "(no max_layers_); leave layers out"
        )
    bad = [d for d in depths if d > max_layers]
    if bad:
        raise ValueError(
            f"layers {bad} are outside 1..max_layers_={max_layers} of the embedder {where}"
        )


def _fitted_max_dim(emb: Any, dims: Any) -> int | None:
    """The fitted ``max_dim_``; ``None`` for a transformer without one, when ``dims`` is given
    (the default dims need it)."""
    max_dim = getattr(emb, "max_dim_", None)
    if max_dim is None:
        if dims is None:
            raise ValueError(
                f"{type(emb).__name__} has no max_dim_ after fit: pass dims= explicitly"
            )
        return None
    return int(max_dim)


class _Steps:
    """One ``tqdm.auto`` bar over the (fold, dim) steps of a curve, or of every curve of a
    :func:`compare`: a step is one size scored in one fold. The total grows as each fold's
    sizes become known (the default ones depend on the fitted ``max_dim_``)."""

    def __init__(self, progress: bool | None, desc: str) -> None:
        from skmrl._progress import progress_bar

        self.bar = progress_bar(progress, 0, desc, "step")

    def add(self, n: int) -> None:
        # tqdm changes a total through reset(total=): tqdm.notebook's widget (what tqdm.auto
        # draws in Jupyter) keeps the maximum it was made with until then, and made with total
        # 0 it is a full "info" block that never moves. reset also zeroes the count and clock,
        # which are put back (a compare grows the total after each embedder's first fold).
        bar = self.bar
        done, start = bar.n, getattr(bar, "start_t", None)  # a disabled bar has no clock
        bar.reset(total=bar.total + n)
        bar.n = bar.last_print_n = done
        if start is not None:
            bar.start_t = start
        bar.refresh()

    def tick(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def _learns_from_texts(embedder: Any) -> bool:
    """Whether the embedder's fitted state depends on the texts it is fitted on; any estimator
    other than an skmrl embedder (``MatryoshkaAdaptor`` on vectors, too) is taken to learn from
    its input, so that STS scores it on held-out folds, but ``MatryoshkaAdaptor(method="prefix")``,
    which learns nothing (the naive prefix: as a frozen encoder, scored once on all pairs)."""
    from skmrl.adaptor import MatryoshkaAdaptor

    if _is_embedder(embedder):
        return embedder._fit_data_key([], None) is not None
    if isinstance(embedder, MatryoshkaAdaptor):
        return embedder.get_params(deep=False)["method"] != "prefix"
    return True


#: Texts encoded at each depth to time it (a seeded sample of the data, without the cache).
_TIMING_TEXTS = 256


@dataclass
class _Fold:
    """What one fold of a curve returns: ``scores[i][j]`` at ``depths[i]`` and ``dims[j]``."""

    scores: list[list[float]]
    dims: list[int]
    fit_seconds: float
    encode_seconds: list[float]  # per depth (the first depth's pass caches every layer)
    seconds_per_1000: dict[int, float] | None = None  # per depth, the first fold only
    few_vectors: list[Any] = field(default_factory=list)  # warnings kept for the curve


def _run_fold(run: Callable[..., _Fold], *args: Any) -> _Fold:
    """``run(*args)``, one fold of a curve, in this process or a joblib worker, with what its
    fit found to warn about kept in the fold (``MatryoshkaAdaptor``'s too few vectors, whose
    counts differ by fold): the curve warns once for all its folds (:func:`_warn_gathered`)."""
    from skmrl._adaptor_warnings import gather_few_vectors

    with gather_few_vectors() as found:
        fold = run(*args)
    fold.few_vectors = found
    return fold


def _warn_gathered(folds: list[_Fold]) -> None:
    """The warnings that :func:`_run_fold` kept, once for the curve (one fit: as ``fit`` words
    them)."""
    from skmrl._adaptor_warnings import warn_few_vectors

    found = [f for fold in folds for f in fold.few_vectors]
    warn_few_vectors(found, len(folds) if len(folds) > 1 else None)


def _depth_seconds(emb: Any, texts: list[str], depths: list[int]) -> dict[int, float]:
    """Seconds per 1,000 texts at each depth: a seeded sample of ``texts`` (at most
    :data:`_TIMING_TEXTS`) encoded by the first ``depth`` layers only, past the cache, at each
    depth in turn (the fitted ``emb`` has its model loaded)."""
    import time

    unique = list(dict.fromkeys(texts))
    rng = np.random.default_rng(0)
    take = sorted(rng.permutation(len(unique))[:_TIMING_TEXTS].tolist())
    sample = [unique[i] for i in take]
    emb._encode(sample[:8], n_layers=depths[0])  # warm-up: the first call packs the weights
    out = {}
    for depth in depths:
        t0 = time.perf_counter()
        emb._encode(sample, n_layers=depth)
        out[int(depth)] = 1000 * (time.perf_counter() - t0) / len(sample)
    return out


def _scores_at_depths(
    emb: Any,
    depths: list[int | None],
    parts: tuple[Any, Any],
    score_at: Callable[[Any, Any], list[float]],
) -> tuple[list[list[float]], list[float]]:
    """Encode the two ``parts`` of a fold at each depth (a cache hit after the first, with
    several depths) and score them: ``score_at(first, second)`` gets :func:`_full_vectors` of
    each part and returns the scores of every dim. Returns the scores and the encoding seconds,
    per depth."""
    import time

    scores, seconds = [], []
    for depth in depths:
        if depth is not None:
            emb.set_params(n_layers=depth)
        t0 = time.perf_counter()
        first, second = _full_vectors(emb, parts[0]), _full_vectors(emb, parts[1])
        seconds.append(time.perf_counter() - t0)
        scores.append(score_at(first, second))
    return scores, seconds
