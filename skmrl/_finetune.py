"""Making an encoder Matryoshka in ``fit``: the fine-tuned state of MatryoshkaEmbedder, and the
public :func:`finetune` (pairs with similarity scores).

``MatryoshkaEmbedder(fine_tune=...)``:

* ``"adaptor"`` / ``"pca"``: the encoder stays frozen; its full-size vectors come from the shared
  cache (keyed by the weights, not the fold) and a :class:`~skmrl.MatryoshkaAdaptor` is fitted on
  them (supervised when ``y`` is given).
* ``"full"``: the encoder's weights are trained with a nested loss over every prefix
  (:func:`skmrl._torch.training.finetune_encoder`): self-distillation from the frozen original
  without labels, nested linear heads with them, nested CoSENT with scored pairs; with
  ``matryoshka_layers``, at those layers' pooled outputs too (2D Matryoshka).
* ``"full+adaptor"``: both, the adaptor fitted on the fine-tuned encoder's vectors.

``MatryoshkaEmbedder.save_pretrained`` writes what these make (:mod:`skmrl._saved_model`).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from skmrl import _frames
from skmrl._saved_model import ADAPTOR_FILE
from skmrl._warn import caller_stacklevel

if TYPE_CHECKING:  # matryoshka imports this module inside its methods
    from numpy.typing import ArrayLike

    from skmrl.matryoshka import MatryoshkaEmbedder

__all__ = ["FULL_DEFAULTS", "finetune", "fit_fine_tuned_state", "training_defaults"]

#: Defaults of the weight training, (epochs, learning rate), for scored pairs (nested CoSENT),
#: labelled texts (nested linear heads) and texts alone (self-distillation). Measured with
#: MiniLM, one epoch. STSb-dev Spearman as % of the unmodified full-size score: on the 5,749
#: train pairs, 1e-4 beat 2e-5 at every size (16 dims: 92.5% against 87.6%; the full size 1.03
#: points better against 1.11 points worse); self-distillation on 5,000 train sentences at 1e-4
#: lost more at full size (0.73 points against 0.40), so texts alone keep 2e-5. With labels
#: (5-fold LogisticRegression, trained inside each fold), 1e-4 beat 2e-5 at every size: TREC-6
#: 0.849/0.898/0.929 at 8/16/full dims against 0.708/0.780/0.908, SMS spam 0.977/0.980/0.989
#: against 0.967/0.976/0.987. See :func:`training_defaults`.
FULL_DEFAULTS = {"pairs": (1, 1e-4), "labels": (1, 1e-4), "texts": (1, 2e-5)}


def training_defaults() -> dict[str, Any]:
    """What the training settings that a MatryoshkaEmbedder leaves unset stand for.

    The weight training's defaults (``FULL_DEFAULTS``) and those of the
    :class:`~skmrl.MatryoshkaAdaptor` that ``fine_tune="adaptor"`` builds (``epochs=None``
    means the adaptor's own, and ``n_neighbors``, ``max_samples``, ... are not the embedder's
    parameters at all). They are part of every fine-tuned state's key
    (``MatryoshkaEmbedder._state_key``), so that a changed default never reuses an old state.

    Examples
    --------
    >>> from skmrl._finetune import training_defaults
    >>> defaults = training_defaults()
    >>> defaults["full"]["pairs"], defaults["adaptor"]["epochs"]
    ((1, 0.0001), 10)
    """
    from skmrl.adaptor import _ROTATION_REVISION, MatryoshkaAdaptor

    adaptor = MatryoshkaAdaptor().get_params(deep=False)
    for name in ("dim", "progress", "memory"):  # set per fit, or not part of what is learned
        del adaptor[name]
    # how the adaptor computes its rotation: a disk cache served the earlier rotation of the
    # same data and parameters after it changed (the rotation from labels, uncentred)
    adaptor["revision"] = _ROTATION_REVISION
    return {"full": FULL_DEFAULTS, "adaptor": adaptor}


# -- fitting -------------------------------------------------------------------------------------
def check_matryoshka_layers(layers: Any, max_layers: int | None) -> list[int]:
    """Sorted unique depths to train, the full depth included (``max_layers=None``: only the
    values are checked, not their range). A dict's keys are the depths; its values, their
    weights (:func:`matryoshka_layer_weights`), are checked here too.

    Examples
    --------
    >>> from skmrl._finetune import check_matryoshka_layers
    >>> check_matryoshka_layers([4, 2], 6)
    [2, 4, 6]
    >>> check_matryoshka_layers({3: 4.0}, 6)
    [3, 6]
    """
    if isinstance(layers, str | bytes) or not hasattr(layers, "__iter__"):
        raise TypeError(
            f"matryoshka_layers must be a list of ints or a dict of int to weight, got {layers!r}"
        )
    if isinstance(layers, dict):
        for k, w in layers.items():
            if isinstance(w, bool) or not isinstance(w, int | float | np.number):
                raise TypeError(f"matryoshka_layers[{k!r}] must be a number (a weight), got {w!r}")
            if not (np.isfinite(w) and w > 0):  # 0 trained nothing, and said it was trained
                raise ValueError(
                    f"matryoshka_layers[{k!r}] must be a weight > 0, got {w!r} (leave a depth "
                    "out not to train it; the full depth is always trained)"
                )
    values = list(layers)
    if not values:
        raise ValueError("matryoshka_layers must not be empty")
    for k in values:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"matryoshka_layers must hold ints >= 1, got {values!r}")
    out = sorted({int(k) for k in values})
    if max_layers is None:
        return out
    if out[-1] > max_layers:
        raise ValueError(
            f"matryoshka_layers={values!r} is out of range: the model has {max_layers} layers, "
            f"so expected ints in [1, {max_layers}]"
        )
    return out if out[-1] == max_layers else [*out, max_layers]


def matryoshka_layer_weights(layers: Any, trained: list[int] | None) -> list[float] | None:
    """The weight of each trained depth's nested loss (``None``: 1 each): a dict's values, 1 for
    the depths it leaves out (the full depth, unless given).

    Examples
    --------
    >>> from skmrl._finetune import matryoshka_layer_weights
    >>> matryoshka_layer_weights({3: 4.0}, [3, 6])
    [4.0, 1.0]
    >>> matryoshka_layer_weights([3], [3, 6]) is None
    True
    """
    if not isinstance(layers, dict):
        return None
    given = {int(k): float(w) for k, w in layers.items()}
    return [given.get(k, 1.0) for k in trained]


def fit_fine_tuned_state(
    embedder: Any,
    state: dict[str, Any],
    loaded: Any,
    docs: list[str],
    y: Any,
    pairs: Sequence[tuple[str, str]] | None,
    scores: Any,
) -> dict[str, Any]:
    """The fitted attributes that ``fine_tune`` adds to a MatryoshkaEmbedder's base state."""
    from skmrl._training_checks import check_class_labels, check_matryoshka_dims

    method = embedder.fine_tune
    if len(docs) < 2:
        raise ValueError(
            f"fine_tune={method!r} needs at least 2 texts to learn from, got {len(docs)}"
        )
    dims = check_matryoshka_dims(embedder.matryoshka_dims, loaded.hidden_size)
    classes = codes = None
    if y is not None and method != "pca":  # "pca" ignores y: a regression target is no error
        classes, codes = check_class_labels(y, len(docs))
    out: dict[str, Any] = {"matryoshka_dims_": dims}
    if getattr(embedder, "matryoshka_layers", None) is not None:
        if state.get("max_layers_") is None:
            raise ValueError(
                f"matryoshka_layers: cannot tell the depth of {loaded.source} from its config"
            )
        out["matryoshka_layers_"] = check_matryoshka_layers(
            embedder.matryoshka_layers, state["max_layers_"]
        )
    if method in ("full", "full+adaptor"):
        out.update(_fit_full_weights(embedder, state, loaded, docs, codes, pairs, scores, dims))
    if method in ("adaptor", "pca", "full+adaptor"):
        fitted = copy.copy(embedder)
        for name, value in {**state, **out}.items():
            setattr(fitted, name, value)
        fitted.adaptor_ = None
        fitted.n_layers = None  # the adaptor is fitted on the full-depth vectors
        fitted.fingerprint_ = "unused"
        Z = fitted._embed_docs(docs)  # through the cache: encoded once across folds
        labels = None if codes is None else classes[codes]  # adaptor_.classes_: the labels
        out["adaptor_"] = _fit_adaptor(
            embedder, Z, labels, dims, adaptor_only=method != "full+adaptor"
        )
    return out


def _fit_adaptor(
    embedder: Any, Z: np.ndarray, labels: Any, dims: list[int], *, adaptor_only: bool
) -> Any:
    from skmrl.adaptor import MatryoshkaAdaptor

    params: dict[str, Any] = {}
    if adaptor_only:  # epochs and learning_rate are the adaptor's own; else the encoder's
        if embedder.epochs is not None:
            params["epochs"] = int(embedder.epochs)
        if embedder.learning_rate is not None:
            params["learning_rate"] = float(embedder.learning_rate)
    adaptor = MatryoshkaAdaptor(
        method="pca" if embedder.fine_tune == "pca" else "adaptor",
        matryoshka_dims=dims,
        random_state=int(embedder.random_state),
        progress=embedder.progress,
        **params,
    )
    # its warnings name the embedder, whose user has texts and no adaptor parameters
    return adaptor._fit(Z, labels, owner=f"MatryoshkaEmbedder(fine_tune={embedder.fine_tune!r})")


def untrained_depths(embedder: Any, depths: Sequence[int | None]) -> list[int]:
    """Of ``depths``, the shallow ones that a fitted ``fine_tune="full"`` embedder's training
    left out (the trained depths are ``matryoshka_layers_``; the full depth alone by default):
    their prefixes were never trained. Empty for any other ``fine_tune``."""
    full = getattr(embedder, "max_layers_", None)
    if embedder.fine_tune != "full" or full is None:
        return []
    trained = getattr(embedder, "matryoshka_layers_", None) or [full]
    return sorted({int(k) for k in depths if k is not None and k < full and k not in trained})


def trained_depths(embedder: Any) -> str:
    """What a fitted ``fine_tune="full"`` embedder's training covered, in the words of the
    warnings about untrained depths (``fit``'s :func:`warn_if_depth_untrained`, and
    ``dim_curve(layers=)``'s): ``"fine_tune='full' trained only the full depth
    (matryoshka_layers=None)"``, or ``"... trained the depths [2, 4] (matryoshka_layers=[2])"``."""
    trained = getattr(embedder, "matryoshka_layers_", None)
    what = "only the full depth" if trained is None else f"the depths {trained}"
    return (
        f"fine_tune={embedder.fine_tune!r} trained {what} "
        f"(matryoshka_layers={embedder.matryoshka_layers!r})"
    )


def warn_if_depth_untrained(embedder: Any) -> None:
    """Warn when a fitted ``fine_tune="full"`` embedder's ``n_layers`` pools a shallow layer
    that its training left out: the trained depths (``matryoshka_layers_``; the full depth
    alone by default) do not hold it, so that layer's prefixes were never trained."""
    n_layers = embedder.n_layers
    if not untrained_depths(embedder, [n_layers]):
        return
    fix = (
        f"Pass matryoshka_layers=[{n_layers}]"
        if getattr(embedder, "matryoshka_layers_", None) is None
        else f"Add {n_layers} to matryoshka_layers"
    )
    warnings.warn(
        f"n_layers={n_layers} pools layer {n_layers}'s output, but {trained_depths(embedder)}, "
        f"so layer {n_layers}'s prefixes are not trained. {fix} to train the depth you use "
        "(the full depth is always trained)",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _fit_full_weights(
    embedder: Any,
    state: dict[str, Any],
    loaded: Any,
    docs: list[str],
    codes: Any,
    pairs: Any,
    scores: Any,
    dims: list[int],
) -> dict[str, Any]:
    from skmrl.cache import cached_fit_state, hash_texts

    if state.get("saved_adaptor_") is not None:
        raise ValueError(
            f"{loaded.source} holds an skmrl adaptor ({ADAPTOR_FILE}) made for its encoder as it "
            "is; fine_tune='full' would change the encoder under it. Use fine_tune=None or "
            "'adaptor' with this folder, or fine-tune the base model"
        )
    # The trained weights do not depend on whether an adaptor follows: "full" and
    # "full+adaptor" (and every dim) share one training, under a key of their own.
    data_key = (
        "encoder weights",
        hash_texts(docs, codes),
        None if pairs is None else hash_texts([t for p in pairs for t in p], scores),
    )
    key = embedder._state_key(data_key, skip=frozenset({"fine_tune"}))
    return cached_fit_state(
        key,
        lambda: _train_weights(
            embedder,
            state,
            loaded,
            docs,
            codes,
            pairs,
            scores,
            dims,
            _trained_layers(embedder, state),
        ),
        memory=embedder.memory,
    )


def _trained_layers(embedder: Any, state: dict[str, Any]) -> list[int] | None:
    """The depths that ``fine_tune="full"`` trains (``None``: the full depth only)."""
    if getattr(embedder, "matryoshka_layers", None) is None:
        return None
    return check_matryoshka_layers(embedder.matryoshka_layers, state["max_layers_"])


def _train_weights(
    embedder: Any,
    state: dict[str, Any],
    loaded: Any,
    docs: list[str],
    codes: Any,
    pairs: Any,
    scores: Any,
    dims: list[int],
    layers: list[int] | None = None,
) -> dict[str, Any]:
    from skmrl._torch.device import autocast_dtype
    from skmrl._torch.training import finetune_encoder
    from skmrl.models import register_fine_tuned, weights_identity

    route = "pairs" if pairs is not None else "texts" if codes is None else "labels"
    epochs, learning_rate = FULL_DEFAULTS[route]
    dim_weights = None
    if route == "texts":
        # Self-distillation: weigh the full size as much as all prefixes together. Measured
        # (MiniLM, 3,000 STSb sentences, 2 epochs), STSb-dev at full size lost 1.1 points with
        # equal weights and 0.5 with this, for 0.7 less at 8 dims. The full size is always
        # trained, listed in matryoshka_dims or not, so it always gets this weight.
        if dims[-1] != loaded.hidden_size:
            dims = [*dims, loaded.hidden_size]
        dim_weights = [1.0] * (len(dims) - 1) + [float(max(1, len(dims) - 1))]
    result = finetune_encoder(
        loaded.model,
        loaded.tokenizer,
        texts=None if pairs is not None else docs,
        labels=None if pairs is not None else codes,
        pairs=pairs,
        scores=scores,
        dims=dims,
        pooling=embedder.pooling,
        max_length=int(embedder.max_length),
        epochs=int(embedder.epochs or epochs),
        learning_rate=float(embedder.learning_rate or learning_rate),
        batch_size=int(embedder.train_batch_size),
        accumulation_steps=int(embedder.accumulation_steps),
        device=state["device_"],
        dtype=autocast_dtype(state["precision_"]),
        seed=int(embedder.random_state),
        progress=embedder.progress,
        dim_weights=dim_weights,
        layers=layers,
        layer_weights=matryoshka_layer_weights(embedder.matryoshka_layers, layers),
    )
    model = result.model
    identity = weights_identity(model, loaded.tokenizer)
    register_fine_tuned(identity, state["device_"], model)
    # On the CPU the weights are the shared encoder's own tensors, not a copy: a copy kept the
    # model twice for as long as both lived (2 x 91 MB per fold for MiniLM).
    weights = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    return {
        "fine_tuned_weights_": weights,
        "encoder_identity_": identity,
        "training_losses_": [float(x) for x in result.losses],
    }


# -- pairs with scores ---------------------------------------------------------------------------
def _check_pairs(pairs: Any, scores: Any) -> tuple[list[tuple[str, str]], np.ndarray]:
    from skmrl._validation import check_pair_scores, check_pairs

    checked = list(zip(*check_pairs(pairs, name="pairs"), strict=True))
    if len(checked) < 2:
        raise ValueError(f"finetune needs at least 2 pairs, got {len(checked)}")
    if scores is None:
        raise ValueError("pairs need their similarity scores: pass scores= (one per pair)")
    return checked, check_pair_scores(scores, len(checked))


def finetune(
    model: str | os.PathLike = "sentence-transformers/all-MiniLM-L6-v2",
    pairs: Sequence[tuple[str, str]] | ArrayLike | None = None,
    scores: ArrayLike | None = None,
    *,
    method: str = "full",
    **params: Any,
) -> MatryoshkaEmbedder:
    """Make an encoder Matryoshka from sentence pairs with similarity scores (the STS setting).

    Pairs with scores do not fit scikit-learn's ``fit(X, y)``, so they come in here. With
    ``method="full"`` the encoder is fine-tuned with CoSENT on every nested prefix (the first
    ``k`` dimensions rank the pairs as the scores do); with ``"adaptor"`` the encoder stays
    frozen and an adaptor is fitted on the sentences; ``"full+adaptor"`` does both.

    The scores train the weights only: the adaptor is the unsupervised one, which keeps the
    full vectors' similarities in every prefix (so ``"adaptor"`` alone is
    ``MatryoshkaEmbedder(fine_tune="adaptor").fit(sentences)``). A rotation trained on gold
    scores generalised worse: fitted with CoSENT on half the STS Benchmark dev pairs, its 16
    dimensions kept 86.1% of the full-size score on the other half, the unsupervised one 92.5%.

    Parameters
    ----------
    model : str or path, default="sentence-transformers/all-MiniLM-L6-v2"
        The encoder to start from (see :class:`~skmrl.MatryoshkaEmbedder`).
    pairs : sequence of (str, str), or DataFrame of 2 columns
        Sentence pairs: ``list(zip(texts_a, texts_b))``, an array of 2 columns, or a pandas
        DataFrame whose rows are the pairs (``df[["sentence1", "sentence2"]]``).
    scores : sequence of float
        One gold similarity per pair, any scale (only the order matters to CoSENT).
    method : {"full", "adaptor", "full+adaptor"}, default="full"
        See above.
    **params
        Other :class:`~skmrl.MatryoshkaEmbedder` parameters (``dim``, ``device``, ``epochs``,
        ``learning_rate``, ``train_batch_size``, ``accumulation_steps``, ``matryoshka_dims``,
        ``random_state``,
        ``trust_remote_code`` for a model with its own code, ...).
        The defaults train one epoch at 1e-4; ``epochs=4`` did better still: on the 5,749 STS
        Benchmark train pairs, ``"full+adaptor"`` kept 99.0% of the unmodified full-size
        STSb-dev score at 32 dims and 95.4% at 16, and raised the full size by 1.56 points (one
        epoch: ``"full"`` 96.7% and 92.5%, +1.03 points; one epoch at the former default 2e-5:
        92.0% and 87.6%, 1.11 points lower).

    Returns
    -------
    MatryoshkaEmbedder
        Fitted. Save it with ``save_pretrained(path)``; ``MatryoshkaEmbedder(model=path)`` then
        loads it anywhere (a later ``fit`` of the returned object itself would start again from
        ``model`` without the pairs).

    Examples
    --------
    >>> from skmrl import finetune
    >>> pairs = [("a cat sits", "a cat is sitting"), ("a man runs", "the stock fell"),
    ...          ("a dog barks", "a dog is barking"), ("it rains", "a girl sings")]
    >>> emb = finetune(pairs=pairs, scores=[4.8, 0.2, 4.6, 0.1], dim=32, epochs=1)
    >>> emb.transform(["a cat"]).shape
    (1, 32)
    """
    from skmrl._validation import check_dim
    from skmrl.cache import cached_fit_state, check_memory, hash_texts
    from skmrl.matryoshka import MatryoshkaEmbedder

    if method not in ("full", "adaptor", "full+adaptor"):
        raise ValueError(
            f"method={method!r} is not understood; expected 'full', 'adaptor' or 'full+adaptor'"
        )
    if "fine_tune" in params:
        raise TypeError("pass method=, not fine_tune=, to finetune")
    if not isinstance(model, str | os.PathLike):
        from skmrl._model_checks import model_type_message

        message = model_type_message(model)
        if isinstance(model, Sequence | np.ndarray) or _frames.is_frame_or_series(model):
            # finetune(pairs, scores) took the scores for the pairs: "pairs[0] must be a pair"
            message += (
                "; finetune takes the model first: finetune(model, pairs, scores), or "
                "finetune(pairs=..., scores=...) for the default model"
            )
        raise TypeError(message)
    embedder = MatryoshkaEmbedder(model, fine_tune=method, **params)
    checked, values = _check_pairs(pairs, scores)
    if method != "adaptor" and np.ptp(values) == 0:  # refused before the model loads
        raise ValueError(
            f"all scores are equal: method={method!r} trains the encoder to rank the pairs as "
            "their scores do, and equal scores have no order to learn"
        )
    check_dim(embedder.dim)
    check_memory(embedder.memory)
    embedder._validate_params()
    docs = list(dict.fromkeys(t for pair in checked for t in pair))
    key = embedder._state_key(("pairs", hash_texts([t for p in checked for t in p], values)))
    state = cached_fit_state(
        key,
        lambda: embedder._fit_state(docs, None, checked, values),
        memory=embedder.memory,
    )
    embedder._set_fitted_state(state, key)
    return embedder
