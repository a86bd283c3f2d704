"""Model-folder formats: MatryoshkaEmbedder's saved folder (writing and reading it), and how a
sentence-transformers folder makes its vectors.

A saved folder (:func:`save_pretrained`) is a standard transformers folder plus two files:

* ``skmrl_adaptor.npz``: the adaptor as a chain of stages, each ``z -> (z / |z| - mean_i) @
  components_i`` (keys ``n_stages``, ``components_<i>``, ``mean_<i>``, ``matryoshka_dims``,
  ``format``), applied to the pooled vectors in order; absent when there is no adaptor;
* ``skmrl.json``: how the vectors were made (``pooling``, ``max_length``, ``fine_tune``,
  ``matryoshka_dims``, ``matryoshka_layers``, ``n_layers``), so that loading with another
  pooling or ``max_length`` warns.

It is a sentence-transformers folder too (``modules.json``, ``1_Pooling/config.json``,
``sentence_bert_config.json``, and each adaptor stage as a ``Normalize`` and a ``Dense``), so that
``SentenceTransformer(folder).encode`` gives the same vectors; skmrl reads ``skmrl.json`` and the
adaptor file instead (:func:`check_saved_config` does not look at the modules of such a folder).

:func:`check_saved_config` also reads a sentence-transformers folder's ``modules.json`` and
pooling config (:func:`sentence_transformers_layout`), to warn when its vectors are made otherwise
than the embedder will make them.

With ``n_layers=k`` below the encoder's depth, :func:`save_pretrained` writes the network that
``transform`` runs: the first ``k`` layers (the config says ``num_hidden_layers=k``), so that the
folder loads, in skmrl or in plain transformers, to the shallow encoder.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "ADAPTOR_FILE",
    "CONFIG_FILE",
    "SavedAdaptor",
    "SentenceTransformersLayout",
    "adaptor_digest",
    "check_saved_config",
    "load_saved_adaptor",
    "save_pretrained",
    "saved_config",
    "sentence_transformers_layout",
]

#: The adaptor of a saved folder.
ADAPTOR_FILE = "skmrl_adaptor.npz"
#: How a saved folder's vectors were made.
CONFIG_FILE = "skmrl.json"
_FORMAT = 1


class SavedAdaptor:
    """A fixed chain of rotations read from ``skmrl_adaptor.npz`` (see the module docstring)."""

    def __init__(self, stages: Sequence[tuple[np.ndarray, np.ndarray]], dims: Sequence[int]):
        self.stages = [(np.asarray(c, np.float32), np.asarray(m, np.float32)) for c, m in stages]
        self.matryoshka_dims = [int(d) for d in dims]

    def transform_full(self, Z: np.ndarray) -> np.ndarray:
        """Apply every stage: normalise the rows, remove the mean, rotate."""
        Z = np.asarray(Z, dtype=np.float32)
        for components, mean in self.stages:
            norms = np.linalg.norm(Z, axis=1, keepdims=True)
            Z = np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0)
            Z = np.ascontiguousarray((Z - mean) @ components, dtype=np.float32)
        return Z


def _stages(adaptor: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    if adaptor is None:
        return []
    if isinstance(adaptor, SavedAdaptor):
        return list(adaptor.stages)
    return [(adaptor.components_, adaptor.mean_)]


def load_saved_adaptor(folder: str | os.PathLike) -> SavedAdaptor | None:
    """The adaptor saved in a model folder, or ``None`` when it has none (or is a hub id)."""
    path = Path(folder) / ADAPTOR_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            if int(f["format"]) != _FORMAT:
                raise ValueError(f"format {int(f['format'])} (this skmrl reads {_FORMAT})")
            stages = [(f[f"components_{i}"], f[f"mean_{i}"]) for i in range(int(f["n_stages"]))]
            dims = f["matryoshka_dims"].tolist()
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable skmrl adaptor file ({exc})") from None
    return SavedAdaptor(stages, dims)


def adaptor_digest(folder: str | os.PathLike) -> str | None:
    """Hash of a saved folder's adaptor file, or ``None`` when it has none (or is a hub id).

    The base model's identity hashes the encoder's weights only; a folder saved again with the
    same encoder and another adaptor must not reuse a state fitted on the old one.
    """
    import hashlib

    path = Path(folder) / ADAPTOR_FILE
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def saved_config(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The ``skmrl.json`` of a saved folder, or ``None``."""
    path = Path(folder) / CONFIG_FILE
    return _read_json(path) if path.is_file() else None


def _read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def save_pretrained(embedder: Any, path: str | os.PathLike) -> None:
    """Write ``embedder``'s encoder (fine-tuned or not), tokenizer and adaptor to ``path``."""
    embedder._check_fitted()  # skmrl.json records the settings the adaptor was fitted with
    depth = embedder._check_n_layers()
    from skmrl._folders import make_folder, remove_made_folders, resolved

    folder = resolved(path)  # as the system resolves it
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path={os.fspath(path)!r} exists and is not a folder")
    source = Path(embedder.model_source_)
    if folder.is_dir() and source.is_dir() and folder.resolve() == source.resolve():
        raise ValueError(
            f"path={os.fspath(path)!r} is the folder this embedder's model was loaded from: "
            "saving there would overwrite the pretrained model that its fit started from (and "
            "that a refit would train again); choose another folder"
        )
    from skmrl.models import forget_folder

    made = make_folder(folder)
    try:
        _write_folder(embedder, folder, depth)
    except BaseException:
        remove_made_folders(made)  # no half-written model folder, nor the parents made for it
        raise
    finally:
        forget_folder(folder)  # a model loaded from this folder before now reads the new files


def _write_folder(embedder: Any, folder: Path, depth: int | None) -> None:
    """The files of a saved folder: the encoder, its tokenizer, the adaptor, skmrl.json and
    the sentence-transformers modules."""
    from skmrl.models import quiet_transformers

    model, tokenizer = embedder._encoder()
    _remove_saved_dense_modules(folder)  # before skmrl.json is written: was it an skmrl save?
    if depth is not None and depth != getattr(embedder, "max_layers_", None):
        from skmrl._torch.layers import truncated_copy

        model = truncated_copy(model, depth)  # the shallow network that transform runs
    with quiet_transformers():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    stages = _stages(getattr(embedder, "saved_adaptor_", None)) + _stages(
        getattr(embedder, "adaptor_", None)
    )
    adaptor_path = folder / ADAPTOR_FILE
    if stages:
        arrays: dict[str, Any] = {
            "format": np.int64(_FORMAT),
            "n_stages": np.int64(len(stages)),
            "matryoshka_dims": np.asarray(_trained_dims(embedder), dtype=np.int64),
        }
        for i, (components, mean) in enumerate(stages):
            arrays[f"components_{i}"] = np.asarray(components, np.float32)
            arrays[f"mean_{i}"] = np.asarray(mean, np.float32)
        with open(adaptor_path, "wb") as f:
            np.savez(f, **arrays)
    elif adaptor_path.exists():
        adaptor_path.unlink()  # an older save's adaptor would no longer match the encoder
    config = {
        "format": _FORMAT,
        "pooling": embedder.pooling,
        "max_length": int(embedder.max_length),
        "fine_tune": embedder.fine_tune,
        "matryoshka_dims": _trained_dims(embedder),
        "matryoshka_layers": [int(k) for k in getattr(embedder, "matryoshka_layers_", None) or []],
        "n_layers": depth,
        "base_model": embedder.model_source_,
    }
    _write_json(folder / CONFIG_FILE, config)
    _write_sentence_transformers_modules(embedder, folder, stages)


def _write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def _write_sentence_transformers_modules(
    embedder: Any, folder: Path, stages: Sequence[tuple[np.ndarray, np.ndarray]]
) -> None:
    """The module files that make ``SentenceTransformer(folder).encode`` give the embedder's
    full vectors: the encoder, its pooling, then for each adaptor stage a ``Normalize`` and a
    ``Dense`` (identity activation; weight ``components_i.T``, bias ``-mean_i @ components_i``),
    and a final ``Normalize``.

    Written in the format of the sentence-transformers 2.x releases (``pooling_mode_*`` keys,
    ``max_seq_length`` in ``sentence_bert_config.json``), which later releases read too. Every
    file is written anew, so that none is left from an earlier save into the folder (one that
    pooled otherwise, or had no adaptor); skmrl itself reads ``skmrl.json`` and the adaptor
    file, never these.
    """
    from safetensors.numpy import save_file

    modules = [("", "Transformer"), ("1_Pooling", "Pooling")]
    for components, mean in stages:
        modules.append((f"{len(modules)}_Normalize", "Normalize"))
        path = f"{len(modules)}_Dense"
        modules.append((path, "Dense"))
        (folder / path).mkdir(exist_ok=True)
        components = np.asarray(components, np.float32)
        weights = {
            "linear.weight": np.ascontiguousarray(components.T),
            "linear.bias": -(np.asarray(mean, np.float32) @ components),
        }
        (folder / path / "pytorch_model.bin").unlink(missing_ok=True)  # another model's Dense
        save_file(weights, str(folder / path / "model.safetensors"))
        dense = {
            "in_features": int(components.shape[0]),
            "out_features": int(components.shape[1]),
            "bias": True,
            "activation_function": "torch.nn.modules.linear.Identity",
        }
        _write_json(folder / path / "config.json", dense)
    modules.append((f"{len(modules)}_Normalize", "Normalize"))
    _write_json(
        folder / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    pooling = {"word_embedding_dimension": int(embedder.max_dim_)}
    pooling.update((key, False) for key in list(_ST_POOLING_MODES)[:4])
    pooling[_ST_POOLING_KEYS[embedder.pooling]] = True
    _write_json(folder / "1_Pooling" / "config.json", pooling)
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": int(embedder.max_length), "do_lower_case": False},
    )
    # no prompt: an earlier model's default prompt would be prepended to every text
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def _remove_saved_dense_modules(folder: Path) -> None:
    """Remove the ``<i>_Dense`` folders of an earlier skmrl save into ``folder`` (the stages of
    its adaptor), which the new ``modules.json`` may no longer list."""
    import re
    import shutil

    modules = _read_json(folder / "modules.json")
    if not (folder / CONFIG_FILE).is_file() or not isinstance(modules, list):
        return  # not an skmrl save: its folders are not ours to remove
    for module in modules:
        path = module.get("path") if isinstance(module, dict) else None
        if isinstance(path, str) and re.fullmatch(r"\d+_Dense", path):
            shutil.rmtree(folder / path, ignore_errors=True)


def _trained_dims(embedder: Any) -> list[int]:
    dims = getattr(embedder, "matryoshka_dims_", None)
    return [int(d) for d in dims] if dims else []


#: sentence-transformers' pooling modes (keys of ``1_Pooling/config.json``) by skmrl's name.
_ST_POOLING_MODES = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
#: The pooling key of ``1_Pooling/config.json`` by skmrl's ``pooling``.
_ST_POOLING_KEYS = {name: key for key, name in _ST_POOLING_MODES.items()}
#: The sentence-transformers modules whose work skmrl does too (encoder, pooling, unit length).
_ST_MODULES_DONE = frozenset({"Transformer", "Pooling", "Normalize"})


class SentenceTransformersLayout(NamedTuple):
    """How a sentence-transformers model makes its vectors (:func:`sentence_transformers_layout`).

    Attributes
    ----------
    pooling : str or None
        ``"mean"``, ``"cls"``, another of sentence-transformers' modes (``"max"``,
        ``"lasttoken"``, ...; several joined by ``"+"``), or ``None`` when its pooling config
        cannot be read.
    other_modules : list of str
        Modules skmrl does not apply (``"Dense"``, ``"LayerNorm"``, ...), in order: all but the
        encoder, the pooling and the normalisation.
    default_prompt : str or None
        The prompt that ``encode`` prepends to every text by default (``default_prompt_name``
        in ``config_sentence_transformers.json``), if any.
    max_seq_length : int or None
        The tokens that ``encode`` truncates texts to (``max_seq_length`` in the encoder
        module's ``sentence_bert_config.json``, or where that file does not say, the tokenizer's
        ``model_max_length`` as newer releases save it); ``None`` when neither says.
    lowercase : bool
        Whether ``encode`` lowercases texts before its tokenizer sees them (``do_lower_case``
        in that file).
    """

    pooling: str | None
    other_modules: list[str]
    default_prompt: str | None
    max_seq_length: int | None
    lowercase: bool = False


def _json(source: str, name: str) -> Any:
    from skmrl.models import model_file

    path = model_file(source, name)
    return None if path is None else _read_json(path)


def sentence_transformers_layout(source: str) -> SentenceTransformersLayout | None:
    """How a sentence-transformers model makes its vectors from the encoder's output.

    Parameters
    ----------
    source : str
        A resolved model (:func:`~skmrl.models.resolve_model`): a folder, or a hub id in the
        local cache (read with no network call).

    Returns
    -------
    SentenceTransformersLayout or None
        ``None`` when the model has no sentence-transformers ``modules.json``.

    Examples
    --------
    >>> from skmrl._saved_model import sentence_transformers_layout
    >>> from skmrl.models import DEFAULT_MODEL, resolve_model
    >>> layout = sentence_transformers_layout(resolve_model(DEFAULT_MODEL))
    >>> layout.pooling, layout.other_modules, layout.default_prompt, layout.max_seq_length
    ('mean', [], None, 256)
    >>> layout.lowercase
    False
    """
    modules = _json(source, "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        return None
    kinds = [(str(m.get("type", "")).rsplit(".", 1)[-1], str(m.get("path", ""))) for m in modules]
    pooling: str | None = None
    max_seq_length: int | None = None
    lowercase = False
    for kind, path in kinds:
        if kind == "Pooling":
            config = _json(source, f"{path}/config.json" if path else "config.json")
            pooling = _st_pooling(config if isinstance(config, dict) else {})
        elif kind == "Transformer":
            name = "sentence_bert_config.json"
            config = _json(source, f"{path}/{name}" if path else name)
            length = config.get("max_seq_length") if isinstance(config, dict) else None
            max_seq_length = _positive_int(length)
            if max_seq_length is None and isinstance(config, dict):
                max_seq_length = _tokenizer_max_length(source, path)
            lowercase = isinstance(config, dict) and config.get("do_lower_case") is True
    others = [kind for kind, _ in kinds if kind not in _ST_MODULES_DONE]
    settings = _json(source, "config_sentence_transformers.json")
    prompt = None
    if isinstance(settings, dict) and isinstance(settings.get("prompts"), dict):
        name = settings.get("default_prompt_name")
        prompt = settings["prompts"].get(name) if isinstance(name, str) else None
    prompt = prompt if isinstance(prompt, str) else None
    return SentenceTransformersLayout(pooling, others, prompt, max_seq_length, lowercase)


def _st_pooling(config: dict[str, Any]) -> str | None:
    """The pooling of a ``1_Pooling/config.json``: the ``pooling_mode_*`` flags of the older
    format, or the ``pooling_mode`` (a name or a list) that later releases save."""
    mode = config.get("pooling_mode")
    if isinstance(mode, str):
        mode = [mode]
    if isinstance(mode, list) and mode and all(isinstance(m, str) for m in mode):
        renamed = {"mean_sqrt_len_tokens": "mean_sqrt_len"}
        return "+".join(renamed.get(m, m) for m in mode)
    modes = [name for key, name in _ST_POOLING_MODES.items() if config.get(key) is True]
    return "+".join(modes) or None


def _positive_int(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return int(value) if ok else None


def _tokenizer_max_length(source: str, path: str) -> int | None:
    """The truncation of a sentence-transformers encoder whose ``sentence_bert_config.json``
    does not give ``max_seq_length`` (newer releases save it as the tokenizer's
    ``model_max_length``): that length, at most the model's ``max_position_embeddings``, as
    sentence-transformers loads it; ``None`` when the tokenizer sets no real limit."""
    prefix = f"{path}/" if path else ""
    tokenizer = _json(source, f"{prefix}tokenizer_config.json")
    length = (
        _positive_int(tokenizer.get("model_max_length")) if isinstance(tokenizer, dict) else None
    )
    if length is None or length > 1_000_000:  # transformers' "no limit" is 1e30
        return None
    config = _json(source, f"{prefix}config.json")
    positions = (
        _positive_int(config.get("max_position_embeddings")) if isinstance(config, dict) else None
    )
    return min(length, positions) if positions else length


def _truncation_differs(embedder: Any, max_seq_length: int | None) -> bool:
    """Whether to warn that ``embedder`` truncates otherwise than a sentence-transformers model
    (``max_seq_length``): when it keeps more tokens, or when it keeps fewer with the default
    ``max_length`` (BGE's 512 against 256).

    A ``max_length`` chosen below ``max_seq_length`` is a choice of speed, not an oversight:
    the packaged all-MiniLM-L6-v2 (256) with ``max_length=128``, as ``skmrl demo`` runs it, was
    told at every fit to pass ``max_length=256``.
    """
    import inspect

    if max_seq_length is None or embedder.max_length == max_seq_length:
        return False
    parameter = inspect.signature(type(embedder)).parameters.get("max_length")
    default = None if parameter is None else parameter.default
    return embedder.max_length > max_seq_length or embedder.max_length == default


def _folds_case(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` lowercases texts itself (uncased BERT), so that lowercasing them
    first changes nothing."""
    return tokenizer("Cased Text")["input_ids"] == tokenizer("cased text")["input_ids"]


def check_saved_config(embedder: Any, source: str, tokenizer: Any = None) -> None:
    """Warn when a model's own config makes its vectors otherwise than ``embedder`` will.

    The config is an skmrl folder's ``skmrl.json`` or, for a sentence-transformers model, its
    ``modules.json`` and pooling config: a model trained with CLS pooling, say, gives poorer
    vectors mean-pooled, and silently so. ``tokenizer`` (the model's) tells whether a
    sentence-transformers model's lowercasing changes anything.
    """
    from skmrl._validation import caller_stacklevel

    config = saved_config(source)
    if config:
        # pooling and max_length are the settings of skmrl.json that change the vectors and are
        # parameters of the embedder (stored verbatim, so they are compared, not adopted).
        differ = [
            name
            for name in ("pooling", "max_length")
            if config.get(name) not in (None, getattr(embedder, name))
        ]
        if differ:
            saved = ", ".join(f"{name}={config[name]!r}" for name in differ)
            used = ", ".join(f"{name}={getattr(embedder, name)!r}" for name in differ)
            warnings.warn(
                f"{source} was saved with {saved}, but this embedder uses {used}: its vectors "
                f"will differ from the saved model's (pass {saved} to match them)",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return
    layout = sentence_transformers_layout(source)
    if layout is None:
        return
    pooling, others, prompt, max_seq_length, lowercase = layout
    problems = []
    if pooling is not None and pooling != embedder.pooling:
        if pooling in ("mean", "cls"):
            fix = f"pass pooling={pooling!r} to match it"
        else:
            fix = "skmrl pools with 'mean' or 'cls' only"
        problems.append(
            f"it pools with {pooling!r}, this embedder with pooling={embedder.pooling!r} ({fix})"
        )
    if others:
        problems.append(
            f"it applies {', '.join(others)}, which skmrl does not (it uses the encoder's pooled "
            "output)"
        )
    if _truncation_differs(embedder, max_seq_length):
        problems.append(
            f"it truncates texts to max_seq_length={max_seq_length} tokens, this embedder to "
            f"max_length={embedder.max_length!r} (pass max_length={max_seq_length} to match it)"
        )
    if lowercase and tokenizer is not None and not _folds_case(tokenizer):
        problems.append(
            "it lowercases texts before tokenizing them (do_lower_case), which skmrl does not "
            "(lowercase your texts)"
        )
    if prompt:
        problems.append(
            f"it prepends the prompt {prompt!r} to every text by default, which skmrl does not "
            "(prepend it to your texts)"
        )
    if problems:
        warnings.warn(
            f"{source} is a sentence-transformers model, and {'; and '.join(problems)}: this "
            "embedder's vectors will differ from SentenceTransformer(...).encode's",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
