"""A model's identity, and the fine-tuned encoders shared by it.

:func:`weights_identity` hashes a model's weights, config and tokenizer: the same files give the
same identity in every process, so that cache fingerprints and pickles name the weights they were
made with (the ``identity`` of :class:`~skmrl.models.LoadedModel` holds it). The fine-tuned
encoders of ``fine_tune=`` are built once per process and shared under their weights' identity
(:func:`register_fine_tuned`, :func:`load_fine_tuned`). :mod:`skmrl.models` re-exports the
public names, where users import them.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from skmrl._threads import ForkSafeLock, KeyedLocks

if TYPE_CHECKING:  # skmrl.models imports this module
    from skmrl.models import LoadedModel

__all__ = [
    "forget_fine_tuned",
    "load_fine_tuned",
    "model_identity",
    "register_fine_tuned",
    "weights_identity",
]


#: Config entries that do not change an encoder's vectors, or that saving and loading the same
#: model changes (the version that wrote it, the dtype it was saved in).
_CONFIG_NOT_IN_IDENTITY = frozenset(
    {
        "transformers_version",
        "architectures",
        "dtype",
        "torch_dtype",
        "use_cache",
        "gradient_checkpointing",
    }
)


def model_identity(model: Any, tokenizer: Any, skip: frozenset[str] = frozenset()) -> str:
    """Hash of the weights (every tensor of the state dict but those in ``skip``), the config
    and the tokenizer.

    The config is in it because it changes the vectors of the same weights (``hidden_act``,
    ``layer_norm_eps``, a RoPE scaling): a copy of a folder with another config was served the
    original's cached vectors, silently. So are the tokenizer's padding and truncation sides,
    and the source of a model's own code (``trust_remote_code=True``), which makes its vectors.
    """
    import torch

    h = hashlib.sha1()
    h.update(type(model).__name__.encode())
    custom = _custom_code_source(model, tokenizer)
    if custom:  # transformers' own classes add nothing: their identities stay as they were
        h.update(custom)
    config = getattr(model, "config", None)
    if config is not None:
        settings = {
            key: value
            for key, value in config.to_diff_dict().items()
            if key not in _CONFIG_NOT_IN_IDENTITY and not key.startswith("_")
        }
        h.update(json.dumps(settings, sort_keys=True, default=repr).encode())
    for side in ("padding_side", "truncation_side"):
        h.update(f"{side}:{getattr(tokenizer, side, None)}".encode())
    for name, tensor in model.state_dict().items():
        if name in skip:
            continue
        t = tensor.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        if t.dtype == torch.bfloat16:
            t = t.view(torch.int16)
        h.update(t.contiguous().numpy().tobytes())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # Without the backend's truncation and padding: each call that truncates or pads sets
        # them (max_length 128 as saved, 64 after a max_length=64 transform), while skmrl passes
        # both on every call. With them, the identity changed once the tokenizer was used, so a
        # fine-tuned encoder's identity (its vectors' cache key) hung on what ran before it.
        settings = json.loads(backend.to_str())
        settings.pop("truncation", None)
        settings.pop("padding", None)
        h.update(json.dumps(settings, sort_keys=True).encode())
    else:
        h.update(repr(tokenizer).encode())
    return h.hexdigest()


def _custom_code_source(model: Any, tokenizer: Any = None) -> bytes:
    """The source of the code that came from the model's own files (transformers loads it as
    ``transformers_modules.*`` with ``trust_remote_code``) among the classes of ``model``, its
    config and ``tokenizer``; empty for transformers' classes.

    A folder's custom class may bear a transformers class's name, weights and config (jina's
    ``model_type`` is ``"bert"``), and its code changes the vectors of the same weights: a trusted
    and an untrusted load of one folder had one identity, so one's cached vectors served the
    other. So does a custom tokenizer (an ``auto_map`` in ``tokenizer_config.json`` alone), whose
    token ids differ from those of the tokenizer that transformers loads without trust.

    Every ``.py`` file of each folder that transformers loaded such a class from is in it, by its
    name there, in order: the class's file and what it imports (jina-embeddings-v3's
    ``modeling_lora.py`` imports other files of the model), so an edited helper file is a new
    identity too (an edited class file was one, an edited file it imports was not).
    """
    import inspect
    from pathlib import Path

    folders: dict[Path, str] = {}
    config = getattr(model, "config", None)
    for cls in (*type(model).__mro__, *type(config).__mro__, *type(tokenizer).__mro__):
        module = getattr(cls, "__module__", "") or ""
        if not module.startswith("transformers_modules"):
            continue
        try:
            folder = Path(inspect.getfile(cls)).parent
        except (OSError, TypeError):  # no file (built in memory): its module's name at least
            folders.setdefault(Path(module), module.rsplit(".", 1)[-1])
            continue
        folders.setdefault(folder, "")
    parts = []
    for folder, name in folders.items():
        if name:
            parts.append(b"custom:" + name.encode() + b":")
            continue
        files = sorted(
            path
            for path in folder.rglob("*.py")
            if "__pycache__" not in path.relative_to(folder).parts
        )
        for path in files:
            try:
                code = path.read_bytes()
            except OSError:  # removed meanwhile
                code = b""
            relative = path.relative_to(folder).as_posix()
            parts.append(b"custom:" + relative.encode() + b":" + hashlib.sha1(code).digest())
    return b"".join(sorted(parts))


def weights_identity(model: Any, tokenizer: Any) -> str:
    """Hex digest of a model's weights, config and tokenizer (what the ``identity`` of
    :class:`~skmrl.models.LoadedModel` holds).

    The config and the tokenizer's padding and truncation sides are in it because they change
    the vectors of the same weights.

    Parameters
    ----------
    model : transformers model
        The encoder.
    tokenizer : transformers tokenizer
        Its tokenizer.

    Returns
    -------
    str
        A SHA-1 hex digest (40 characters).

    Examples
    --------
    >>> from skmrl.models import load_model, weights_identity
    >>> loaded = load_model()
    >>> weights_identity(loaded.model, loaded.tokenizer) == loaded.identity
    True
    """
    return model_identity(model, tokenizer)


#: Fine-tuned encoders built in this process, by (weights identity, device); least recent first.
_FINE_TUNED: OrderedDict[tuple[str, str], Any] = OrderedDict()
#: How many fine-tuned encoders stay loaded (about 90 MB each for all-MiniLM-L6-v2).
_MAX_FINE_TUNED = 8
_FINE_TUNED_LOCK = ForkSafeLock()
#: One thread builds a fine-tuned encoder at a time, by key (:func:`load_fine_tuned`).
_BUILDING = KeyedLocks()


def register_fine_tuned(identity: str, device: str, model: Any) -> None:
    """Share a fine-tuned encoder (in eval mode, on ``device``) under its weights' identity.

    :func:`load_fine_tuned` then returns it for that identity and device instead of building
    it again. The 8 most recently used are kept.

    Parameters
    ----------
    identity : str
        The fine-tuned weights' identity (:func:`weights_identity`).
    device : str
        The concrete device the encoder is on, as the ``device`` of
        :class:`~skmrl.models.LoadedModel` (``"cpu"``, ``"cuda:0"``).
    model : torch.nn.Module
        The encoder.

    Examples
    --------
    >>> from skmrl.models import load_fine_tuned, load_model, register_fine_tuned
    >>> base = load_model()
    >>> register_fine_tuned("an identity", base.device, base.model)
    >>> load_fine_tuned(base, {}, "an identity") is base.model  # shared: weights not read
    True
    """
    with _FINE_TUNED_LOCK:
        _FINE_TUNED[(identity, device)] = model
        _FINE_TUNED.move_to_end((identity, device))
        while len(_FINE_TUNED) > _MAX_FINE_TUNED:
            _FINE_TUNED.popitem(last=False)


def load_fine_tuned(base: LoadedModel, weights: dict[str, Any], identity: str) -> Any:
    """The encoder ``base`` with fine-tuned ``weights`` (a state dict), built once per process.

    Parameters
    ----------
    base : LoadedModel
        The pretrained model the weights were trained from (same architecture).
    weights : dict of str to torch.Tensor
        The fine-tuned state dict (CPU tensors, as a pickle holds them).
    identity : str
        The fine-tuned weights' identity (see :func:`weights_identity`).

    Returns
    -------
    torch.nn.Module
        In eval mode, without gradients, on ``base.device``.

    Examples
    --------
    >>> from skmrl.models import load_fine_tuned, load_model, weights_identity
    >>> base = load_model()
    >>> weights = {name: t.clone() for name, t in base.model.state_dict().items()}
    >>> identity = weights_identity(base.model, base.tokenizer)  # of the fine-tuned weights
    >>> encoder = load_fine_tuned(base, weights, identity)
    >>> encoder is base.model, load_fine_tuned(base, weights, identity) is encoder
    (False, True)
    """
    import copy

    key = (identity, base.device)
    model = _shared_fine_tuned(key)
    if model is not None:
        return model
    # Two threads first transforming one fine-tuned estimator each built the encoder (the
    # model's memory twice, and two objects for one identity): the second waits for the first.
    with _BUILDING(key):
        model = _shared_fine_tuned(key)
        if model is not None:
            return model
        model = copy.deepcopy(base.model)
        # assign: the encoder holds the given tensors (on the CPU, the weights' own memory, not
        # a second copy of them)
        model.load_state_dict(weights, assign=True)
        model.eval()
        model.requires_grad_(False)
        model.to(base.device)
        register_fine_tuned(identity, base.device, model)
    return model


def _shared_fine_tuned(key: tuple[str, str]) -> Any:
    """The encoder shared under ``key`` (marked as the most recently used), or ``None``."""
    with _FINE_TUNED_LOCK:
        model = _FINE_TUNED.get(key)
        if model is not None:
            _FINE_TUNED.move_to_end(key)
        return model


def forget_fine_tuned() -> None:
    """Forget every shared fine-tuned encoder (:func:`skmrl.models.clear_model_cache` does)."""
    with _FINE_TUNED_LOCK:
        _FINE_TUNED.clear()
