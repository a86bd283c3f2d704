"""The sentence-transformers layout of a model folder: how ``SentenceTransformer.encode`` makes
its vectors from the encoder's output, read so that ``fit`` warns where skmrl would make others
(:func:`sentence_transformers_layout`, :func:`layout_problems`), and the module files that make
it give skmrl's vectors, written into a saved folder (:func:`write_modules`).

The files are ``modules.json``, ``1_Pooling/config.json``, ``sentence_bert_config.json``,
``config_sentence_transformers.json`` and, for an adaptor, ``<i>_Normalize`` and ``<i>_Dense``
modules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "SentenceTransformersLayout",
    "encoder_subfolder",
    "layout_problems",
    "read_json",
    "remove_dense_modules",
    "sentence_transformers_layout",
    "sentence_transformers_normalizes",
    "write_json",
    "write_modules",
]


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, content: Any) -> None:
    """Write ``content`` to ``path`` as indented JSON."""
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


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
#: The encoder module's config files, in the order sentence-transformers looks for them (the
#: first found is read): older releases named it after the architecture.
ST_ENCODER_CONFIGS = tuple(
    f"sentence_{arch}_config.json"
    for arch in ("bert", "roberta", "distilbert", "camembert", "albert", "xlm-roberta", "xlnet")
)


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
        module's ``sentence_bert_config.json``, or where that file does not say or is missing,
        the tokenizer's ``model_max_length`` as newer releases save it), at most the model's
        ``max_position_embeddings``; ``None`` when neither says.
    lowercase : bool
        Whether ``encode`` lowercases texts before its tokenizer sees them (``do_lower_case``
        in that file).
    prompt_pooled : bool
        Whether the prompt's tokens are pooled with the text's (``include_prompt`` in the
        pooling config; sentence-transformers' default, ``True``).
    """

    pooling: str | None
    other_modules: list[str]
    default_prompt: str | None
    max_seq_length: int | None
    lowercase: bool = False
    prompt_pooled: bool = True


def _json(source: str, name: str) -> Any:
    from skmrl.models import model_file

    path = model_file(source, name)
    return None if path is None else read_json(path)


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
    >>> from skmrl._st_layout import sentence_transformers_layout
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
    prompt_pooled = True
    for kind, path in kinds:
        if kind == "Pooling":
            config = _json(source, f"{path}/config.json" if path else "config.json")
            pooling = _st_pooling(config if isinstance(config, dict) else {})
            prompt_pooled = not (isinstance(config, dict) and config.get("include_prompt") is False)
        elif kind == "Transformer":
            prefix = f"{path}/" if path else ""
            # sentence_distilbert_config.json, say, in an older release's 0_Transformer/: only
            # the bert name was read, and its absence advised the tokenizer's 512 against 128
            config = next(
                (c for c in (_json(source, prefix + n) for n in ST_ENCODER_CONFIGS) if c), None
            )
            length = config.get("max_seq_length") if isinstance(config, dict) else None
            max_seq_length = _positive_int(length)
            if max_seq_length is None:  # no max_seq_length, or no such file at all (as
                # sentence-transformers, which then truncates at the tokenizer's limit; the
                # missing file gave no length, and no warning at skmrl's 256 against its 512)
                max_seq_length = _tokenizer_max_length(source, path)
            else:
                # sentence-transformers truncates at a max_seq_length above the model's positions
                # and fails on the longer texts: the same vectors as at the model's limit, which
                # is the length to recommend (fit refuses a max_length above it)
                positions = _max_position_embeddings(source, path)
                max_seq_length = min(max_seq_length, positions or max_seq_length)
            lowercase = isinstance(config, dict) and config.get("do_lower_case") is True
    others = [kind for kind, _ in kinds if kind not in _ST_MODULES_DONE]
    settings = _json(source, "config_sentence_transformers.json")
    prompt = None
    if isinstance(settings, dict) and isinstance(settings.get("prompts"), dict):
        prompt_name = settings.get("default_prompt_name")
        prompt = settings["prompts"].get(prompt_name) if isinstance(prompt_name, str) else None
    prompt = prompt if isinstance(prompt, str) else None
    return SentenceTransformersLayout(
        pooling, others, prompt, max_seq_length, lowercase, prompt_pooled
    )


def sentence_transformers_normalizes(source: str) -> bool | None:
    """Whether ``SentenceTransformer(source).encode`` gives unit vectors: whether the last module
    of the model's ``modules.json`` is a ``Normalize`` (a ``Dense`` after one gives vectors of
    any length).

    Parameters
    ----------
    source : str
        A resolved model (:func:`~skmrl.models.resolve_model`): a folder, or a hub id in the
        local cache (read with no network call).

    Returns
    -------
    bool or None
        ``None`` when the model has no sentence-transformers ``modules.json``.

    Examples
    --------
    >>> from skmrl._st_layout import sentence_transformers_normalizes
    >>> from skmrl.models import DEFAULT_MODEL, resolve_model
    >>> sentence_transformers_normalizes(resolve_model(DEFAULT_MODEL))
    True
    """
    modules = _json(source, "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        return None
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    return bool(kinds) and kinds[-1] == "Normalize"


def encoder_subfolder(source: str) -> str:
    """The folder of a model that holds its encoder (``config.json``, weights, tokenizer),
    relative to the model: the path of the ``Transformer`` module of its ``modules.json`` where
    that path is a folder holding a ``config.json`` (``"0_Transformer"``, as older
    sentence-transformers releases saved models), else ``""`` (the top, where a newer release
    saves it, the module's path being ``""``).

    The module's folder wins over a ``config.json`` at the top, as it does for
    ``SentenceTransformer``: sentence-transformers 0.x saved one there that holds only its
    version (``{"__version__": "0.4.1.2"}``), not a transformers config.

    Parameters
    ----------
    source : str
        A model folder, or a hub id in the local cache (read with no network call).

    Returns
    -------
    str

    Examples
    --------
    >>> from skmrl._st_layout import encoder_subfolder
    >>> from skmrl.models import DEFAULT_MODEL, resolve_model
    >>> encoder_subfolder(resolve_model(DEFAULT_MODEL))
    ''
    """
    from skmrl.models import model_file

    modules = _json(source, "modules.json")
    for module in modules if isinstance(modules, list) else []:
        if not isinstance(module, dict) or not isinstance(module.get("path"), str):
            continue
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        path = module["path"].strip("/")
        inside = path and not Path(path).is_absolute() and ".." not in Path(path).parts
        if kind == "Transformer" and inside and model_file(source, f"{path}/config.json"):
            return path
    return ""


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
    sentence-transformers loads it (a tokenizer that sets no limit, transformers' 1e30, gives
    the positions); ``None`` when neither says."""
    prefix = f"{path}/" if path else ""
    tokenizer = _json(source, f"{prefix}tokenizer_config.json")
    length = (
        _positive_int(tokenizer.get("model_max_length")) if isinstance(tokenizer, dict) else None
    )
    positions = _max_position_embeddings(source, path)
    if length is None or length > 1_000_000:  # transformers' "no limit" is 1e30
        return positions
    return min(length, positions) if positions else length


def _max_position_embeddings(source: str, path: str) -> int | None:
    """The ``max_position_embeddings`` of the encoder in module folder ``path`` of ``source``
    (``None`` when its ``config.json`` does not say)."""
    config = _json(source, f"{path}/config.json" if path else "config.json")
    positions = config.get("max_position_embeddings") if isinstance(config, dict) else None
    return _positive_int(positions)


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
    first changes nothing. Under the lock of every call of a shared tokenizer: this call turns
    its truncation off, which another thread's encoding had set for its own call."""
    from skmrl._torch.encoder import TOKENIZER_LOCK

    with TOKENIZER_LOCK:
        return tokenizer("Cased Text")["input_ids"] == tokenizer("cased text")["input_ids"]


def layout_problems(
    embedder: Any,
    layout: SentenceTransformersLayout,
    tokenizer: Any,
    normalizes: bool | None = None,
) -> list[str]:
    """What makes ``embedder``'s vectors differ from those of the sentence-transformers model
    whose ``layout`` it is (one clause each, with what to do), for :func:`check_saved_config`'s
    warning. ``tokenizer`` (the model's, or ``None``) tells whether lowercasing changes anything;
    ``normalizes`` (:func:`sentence_transformers_normalizes`; ``None``: not compared) whether
    the model's vectors are of unit length, which ``normalize`` must then match.
    """
    pooling, others, prompt, max_seq_length, lowercase, prompt_pooled = layout
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
    if normalizes is False and not others and embedder.normalize:
        # A model made for dot products, whose lengths the default normalize=True drops. Not
        # said beside a Dense (normalize alone would not give its vectors then), nor for a
        # normalising model with normalize=False: that is the user's own choice, cosines are
        # the same, and it is what check_embedder tries.
        problems.append(
            "it does not normalise its vectors to unit length (its last module is not "
            "Normalize: a model made for dot products), this embedder does with normalize=True "
            "(pass normalize=False to match it)"
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
    if prompt and prompt_pooled:
        problems.append(
            f"it prepends the prompt {prompt!r} to every text by default, which skmrl does not "
            "(prepend it to your texts)"
        )
    elif prompt:
        # include_prompt=False: the prompt's tokens are read by the encoder but left out of
        # the pooling, which prepending the prompt cannot give (vectors 1.05 apart)
        problems.append(
            f"it prepends the prompt {prompt!r} to every text by default and leaves its tokens "
            "out of the pooling (include_prompt=False), which skmrl cannot do"
        )
    return problems


# -- writing ------------------------------------------------------------------------------------


def write_modules(
    embedder: Any, folder: Path, stages: Sequence[tuple[np.ndarray, np.ndarray]]
) -> None:
    """The module files that make ``SentenceTransformer(folder).encode`` give the embedder's
    full vectors: the encoder, its pooling, then for each adaptor stage a ``Normalize`` and a
    ``Dense`` (identity activation; weight ``components_i.T``, bias ``-mean_i @ components_i``),
    and a final ``Normalize`` where the embedder normalises (``normalize=True``): with
    ``normalize=False`` its vectors are not of unit length, nor then are the folder's.

    Written in the format of the sentence-transformers 2.x releases (``pooling_mode_*`` keys,
    ``max_seq_length`` in ``sentence_bert_config.json``), which later releases read too. Every
    file is written anew, so that none is left from an earlier save into the folder (one that
    pooled otherwise, or had no adaptor); skmrl itself reads ``skmrl.json`` and the adaptor
    file, never these.
    """
    from safetensors.numpy import save_file

    from skmrl._folders import readable_as_other_files

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
        readable_as_other_files([folder / path / "model.safetensors"])
        dense = {
            "in_features": int(components.shape[0]),
            "out_features": int(components.shape[1]),
            "bias": True,
            "activation_function": "torch.nn.modules.linear.Identity",
        }
        write_json(folder / path / "config.json", dense)
    if embedder.normalize:
        modules.append((f"{len(modules)}_Normalize", "Normalize"))
    write_json(
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
    write_json(folder / "1_Pooling" / "config.json", pooling)
    write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": int(embedder.max_length), "do_lower_case": False},
    )
    # no prompt: an earlier model's default prompt would be prepended to every text
    write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def read_dense_modules(folder: Path) -> list[tuple[np.ndarray, np.ndarray, float]] | None:
    """The ``(weight, bias, resolution)`` of each ``Dense`` module that ``folder``'s
    ``modules.json`` lists, in its order: the arrays as float32, and the relative rounding of
    the type they were stored in (float32's 1.2e-7, float16's 9.8e-4, bfloat16's 7.8e-3: a
    model cast before its save). ``None`` when there is no ``modules.json`` or a module's
    weights cannot be read (only ``model.safetensors`` is: a ``pytorch_model.bin`` is not
    unpickled to check). bfloat16, which numpy lacks (its reader raised TypeError, which failed
    the fit), is read through torch."""
    modules = read_json(folder / "modules.json")
    if not isinstance(modules, list):
        return None

    def load_file(file: str) -> tuple[dict[str, np.ndarray], float]:
        from safetensors.numpy import load_file as load_numpy

        try:
            tensors = load_numpy(file)
        except TypeError:  # "data type 'bfloat16' not understood"
            from safetensors.torch import load_file as load_torch

            return {k: v.float().numpy() for k, v in load_torch(file).items()}, 2.0**-7
        resolution = max((float(np.finfo(v.dtype).eps) for v in tensors.values()), default=0.0)
        return {k: np.asarray(v, np.float32) for k, v in tensors.items()}, resolution

    dense = []
    for module in modules:
        path = module.get("path") if isinstance(module, dict) else None
        kind = module.get("type") if isinstance(module, dict) else None
        if not (isinstance(kind, str) and kind.endswith(".Dense") and isinstance(path, str)):
            continue
        try:
            tensors, resolution = load_file(str(folder / path / "model.safetensors"))
            weight = tensors["linear.weight"]
            bias = tensors.get("linear.bias", np.zeros(len(weight), np.float32))
            dense.append((weight, bias, resolution))
        except Exception:  # unreadable, whatever the reason: nothing to check, fit goes on
            return None
    return dense


def remove_dense_modules(folder: Path) -> None:
    """Remove the ``<i>_Dense`` folders that ``folder``'s ``modules.json`` lists: the adaptor
    stages of an earlier skmrl save into it, which the new ``modules.json`` may no longer list
    (the caller checks that the folder is an skmrl save: another model's are not ours)."""
    import re
    import shutil

    modules = read_json(folder / "modules.json")
    if not isinstance(modules, list):
        return
    for module in modules:
        path = module.get("path") if isinstance(module, dict) else None
        if isinstance(path, str) and re.fullmatch(r"\d+_Dense", path):
            shutil.rmtree(folder / path, ignore_errors=True)
