"""What skmrl reads from and checks in an encoder that transformers loaded, wherever it came from.

:func:`encoder_class` is the transformers class that loads a config (an encoder-decoder model's
encoder alone), :func:`max_positions` the longest input the model takes, and
:func:`check_missing_weights` what its checkpoint lacked (its pooler's weights, left out of its
identity; any other, warned of). :func:`quiet_transformers` silences transformers' logs and
progress bars around a load or a save. :func:`skmrl.models.load_model` loads with them.
:func:`needs_custom_code` says whether transformers needs a model's own Python code to load
it, :func:`custom_code_error` refuses such a model when that code was not trusted (the library
and the command line's checks, in the same words), :func:`custom_code_skipped_message` says
which of its code an untrusted load replaced by transformers' classes, and
:func:`model_type_message` refuses a ``model=`` that is no path or name.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from skmrl._threads import ProcessSetting

__all__ = [
    "check_missing_weights",
    "custom_code_error",
    "custom_code_files",
    "custom_code_skipped_message",
    "encoder_class",
    "max_positions",
    "model_type_message",
    "needs_custom_code",
    "quiet_transformers",
]


def _quiet_transformers() -> Callable[[], None]:
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    def restore() -> None:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()

    return restore


#: transformers' verbosity and progress bars are the process's: blocks of several threads (a
#: save beside a load) restore them once, at the last block's end
_QUIET_TRANSFORMERS = ProcessSetting(_quiet_transformers)


def quiet_transformers() -> contextlib.AbstractContextManager[None]:
    """Silence transformers' logging and progress bars for the block (loads, saves).

    No "weights not initialised" chatter for encoders, nor a "Loading weights" or "Writing
    model shards" bar for a step that takes 100 ms. The settings are the process's: overlapping
    blocks of several threads keep them silenced until the last ends, which restores what the
    first found (a save beside a load, each restoring what it found, had left a user's
    transformers warnings silenced for good).
    """
    return _QUIET_TRANSFORMERS()


def encoder_class(model: Any, config: Any) -> Any:
    """The transformers class that loads ``config``'s encoder: ``AutoModel``, or for an
    encoder-decoder model (T5: sentence-t5, GTR) its encoder-only class.

    ``AutoModel`` loads the whole T5, whose forward pass needs decoder inputs: ``fit`` passed and
    ``transform`` failed deep inside transformers ("You must specify exactly one of input_ids or
    inputs_embeds"). sentence-transformers runs the encoder alone, as this does.
    """
    from transformers import AutoModel

    # A T5 saved as its encoder alone (sentence-t5, GTR) says so in its architectures only.
    architectures = getattr(config, "architectures", None) or []
    seq2seq = getattr(config, "is_encoder_decoder", False)
    if not seq2seq and not any(str(a).endswith("EncoderModel") for a in architectures):
        return AutoModel
    try:
        from transformers import AutoModelForTextEncoding
        from transformers.models.auto.modeling_auto import MODEL_FOR_TEXT_ENCODING_MAPPING
    except ImportError:  # pragma: no cover - transformers < 4.34
        pass
    else:
        if type(config) in MODEL_FOR_TEXT_ENCODING_MAPPING:
            return AutoModelForTextEncoding
    if not seq2seq:
        return AutoModel
    raise ValueError(
        f"model={os.fspath(model)!r} is an encoder-decoder model ({config.model_type}) with no "
        "encoder-only class in transformers: skmrl embeds with an encoder's output (T5 and mT5 "
        "have one: T5EncoderModel)"
    )


def max_positions(net: Any) -> int | None:
    """The most tokens ``net`` takes: its config's ``max_position_embeddings``, less the
    positions that RoBERTa-like models (XLM-R, MPNet, CamemBERT) never use.

    Their positions start after the padding index (``pad_token_id + 1``, so 2 for RoBERTa), so
    RoBERTa's 514 position embeddings take 512 tokens; ``max_length=514`` passed ``fit`` and
    failed in ``transform`` on the first long text with an index error.
    """
    import torch

    limit = getattr(net.config, "max_position_embeddings", None)
    if not isinstance(limit, int):
        return None
    for name, module in net.named_modules():
        if name.endswith("embeddings.position_embeddings") and isinstance(
            module, torch.nn.Embedding
        ):
            if module.padding_idx is not None:
                return limit - (int(module.padding_idx) + 1)
            break
    return limit


def check_missing_weights(model: Any, info: Any, custom_code: Sequence[str] = ()) -> frozenset[str]:
    """The weights the checkpoint lacked that skmrl never uses: its pooler's, which transformers
    initialises at random, differently in each process (left out of the model's identity).

    A checkpoint saved without the pooler (RoBERTa's and XLM-R's, any masked-language-model
    checkpoint, ``add_pooling_layer=False``) otherwise had a new identity in every process: its
    pickles failed elsewhere with "weights differ ... fit it again", and ``memory=`` never hit
    across runs. Any other missing weight is initialised at random and changes the vectors:
    that is warned about (transformers' own notice is silenced). ``custom_code``: the files of
    the model's own code that were not run (untrusted, where transformers has a class of the
    config's ``model_type``: jina-embeddings-v2 says ``"bert"``), which the warning names.
    """
    missing = sorted(str(k) for k in (info or {}).get("missing_keys") or ())
    pooler = frozenset(k for k in missing if k.startswith("pooler.") or ".pooler." in k)
    others = [k for k in missing if k not in pooler]
    if others:
        from skmrl._warn import caller_stacklevel

        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        untrusted = (
            f" Its config.json names its own code ({', '.join(custom_code)}), which transformers' "
            "class of that model_type replaced: trust_remote_code=True runs it (only for a model "
            "you trust)"
            if custom_code
            else ""
        )
        warnings.warn(
            f"model={os.fspath(model)!r} lacks {len(others)} of its encoder's weights "
            f"({shown}): transformers initialised them at random, so its vectors are not the "
            "trained model's (and differ from process to process). Is the folder an encoder of "
            "this architecture (config.json's model_type)?" + untrusted,
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return pooler


def custom_code_files(configs: dict[str, Any]) -> list[str]:
    """The Python files that the ``auto_map`` of a model's configs name, in order, once each.

    ``configs`` maps a file name (``"config.json"``, ``"tokenizer_config.json"``) to its
    content. An entry is ``"module.Class"`` (``module.py`` in the model's files), a list of
    them (a tokenizer's slow and fast classes), or ``"org/repo--module.Class"`` (code kept in
    another repository on the hub).

    Examples
    --------
    >>> from skmrl._model_checks import custom_code_files
    >>> custom_code_files({"config.json": {"auto_map": {
    ...     "AutoConfig": "configuration_x.XConfig", "AutoModel": "org/code--modeling_x.XModel"}}})
    ['configuration_x.py', 'modeling_x.py of org/code']
    """
    files: list[str] = []
    for config in configs.values():
        auto_map = config.get("auto_map") if isinstance(config, dict) else None
        if not isinstance(auto_map, dict):
            continue
        for value in auto_map.values():
            for ref in value if isinstance(value, list | tuple) else [value]:
                if not isinstance(ref, str) or "." not in ref:
                    continue
                repo, _, reference = ref.rpartition("--")
                name = reference.rsplit(".", 1)[0].replace(".", "/") + ".py"
                name += f" of {repo}" if repo else ""
                if name not in files:
                    files.append(name)
    return files


def custom_code_error(model: Any, configs: dict[str, Any]) -> ValueError:
    """The one-line refusal of a model whose custom code (``auto_map``) was not trusted.

    transformers said "The repository ... contains custom code which must be executed", after
    asking on stdin whether to run it (without an explicit ``trust_remote_code``); skmrl then
    called the folder unloadable and listed what a model folder holds, which it held.

    Examples
    --------
    >>> from skmrl._model_checks import custom_code_error
    >>> print(custom_code_error("nomic", {"config.json": {"auto_map": {"AutoModel": "m.M"}}}))
    model='nomic' holds custom code (the auto_map of config.json names m.py), which skmrl runs \
only with trust_remote_code=True, and that runs the model's own Python code on this machine: \
pass it only for a model you trust
    """
    files = custom_code_files(configs)
    where = " and ".join(
        name
        for name, config in configs.items()
        if isinstance(config, dict) and config.get("auto_map")
    )
    named = f" (the auto_map of {where} names {', '.join(files)})" if files else ""
    return ValueError(
        f"model={os.fspath(model)!r} holds custom code{named}, which skmrl runs only with "
        "trust_remote_code=True, and that runs the model's own Python code on this machine: "
        "pass it only for a model you trust"
    )


def _auto_map(config: Any) -> dict[str, Any]:
    """The ``auto_map`` of a config file's content (``{}`` when it has none)."""
    auto_map = config.get("auto_map") if isinstance(config, dict) else None
    return auto_map if isinstance(auto_map, dict) else {}


def needs_custom_code(configs: dict[str, Any]) -> bool:
    """Whether transformers loads the model only by running its own code (``auto_map``), so that
    an untrusted load is refused.

    transformers' rule, read from the config files alone: ``config.json``'s ``auto_map`` is
    needed where transformers has no class of its own for the config's ``model_type``
    (gte-*-v1.5's ``"new"``); a tokenizer's (``tokenizer_config.json``'s, else
    ``config.json``'s ``AutoTokenizer``) where transformers has no tokenizer for that
    ``model_type`` nor a class of the ``tokenizer_class`` named. A model whose ``model_type``
    transformers knows (jina-embeddings-v2's ``"bert"``) loads untrusted with transformers'
    classes, the model's own code left out (:func:`custom_code_skipped_message`). ``configs``
    maps a file name to its content, as for :func:`custom_code_files`; transformers is
    imported only when an ``auto_map`` is there.

    Examples
    --------
    >>> from skmrl._model_checks import needs_custom_code
    >>> code = {"AutoConfig": "configuration_x.XConfig", "AutoModel": "modeling_x.XModel"}
    >>> needs_custom_code({"config.json": {"model_type": "new", "auto_map": code}})
    True
    >>> needs_custom_code({"config.json": {"model_type": "bert", "auto_map": code}})
    False
    >>> needs_custom_code({"config.json": {"model_type": "bert"}})  # no auto_map: no import
    False
    """
    config = configs.get("config.json")
    model_map = _auto_map(config)
    tokenizer_config = configs.get("tokenizer_config.json")
    tokenizer_map = _auto_map(tokenizer_config)
    tokenizer_code = tokenizer_map.get("AutoTokenizer") or model_map.get("AutoTokenizer")
    if not model_map and not tokenizer_code:
        return False
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES
    from transformers.models.auto.tokenization_auto import (
        TOKENIZER_MAPPING_NAMES,
        tokenizer_class_from_name,
    )

    model_type = config.get("model_type") if isinstance(config, dict) else None
    known = isinstance(model_type, str) and model_type in CONFIG_MAPPING_NAMES
    if "AutoConfig" in model_map and not known:
        return True
    if known and "AutoModel" in model_map and model_type not in MODEL_MAPPING_NAMES:
        return True
    if not tokenizer_code or not known:
        return False  # no tokenizer code; or an unknown model_type, which fails without it
    names = TOKENIZER_MAPPING_NAMES.get(model_type)
    if names and (not isinstance(names, tuple | list) or any(names)):
        return False  # transformers has a tokenizer of this model_type
    named = tokenizer_config.get("tokenizer_class") if isinstance(tokenizer_config, dict) else None
    if isinstance(named, str) and named:
        base = named.removesuffix("Fast")
        if tokenizer_class_from_name(base) or tokenizer_class_from_name(base + "Fast"):
            return False
    return True


def custom_code_skipped_message(
    model: Any, configs: dict[str, Any], model_class: str, tokenizer_class: str
) -> str | None:
    """What an untrusted load left out of a model that names its own code (an ``auto_map``)
    where transformers has classes of its own, or ``None`` when it names none.

    jina-embeddings-v2 (``model_type`` ``"bert"``) loads untrusted as transformers'
    ``BertModel``, as it does in transformers, without a word: its vectors are then not those
    its own code makes (a warning came only when the weights did not fit).

    Examples
    --------
    >>> from skmrl._model_checks import custom_code_skipped_message
    >>> print(custom_code_skipped_message("jina", {"config.json": {"auto_map": {
    ...     "AutoModel": "modeling_x.XModel"}}}, "BertModel", "TokenizersBackend"))
    model='jina' names its own code, which was not trusted, so not run: transformers' BertModel \
ran in place of modeling_x.py (the auto_map of config.json). Its vectors may differ from those \
the model's authors intend: trust_remote_code=True runs the model's own code (only for a model \
you trust)
    """
    parts = []
    for name, cls in (("config.json", model_class), ("tokenizer_config.json", tokenizer_class)):
        files = custom_code_files({name: configs.get(name)})
        if files:
            parts.append(f"{cls} ran in place of {', '.join(files)} (the auto_map of {name})")
    if not parts:
        return None
    return (
        f"model={os.fspath(model)!r} names its own code, which was not trusted, so not run: "
        f"transformers' {' and its '.join(parts)}. Its vectors may differ from those the "
        "model's authors intend: trust_remote_code=True runs the model's own code (only for a "
        "model you trust)"
    )


def model_type_message(model: Any) -> str:
    """The one line that refuses a ``model=`` that is neither a path nor a name.

    It names the type alone: the repr of a loaded transformers model is its whole module tree,
    hundreds of lines, which the message held. A loaded model (anything with a
    ``save_pretrained``) is told how to pass it: saved to a folder.

    Examples
    --------
    >>> from skmrl._model_checks import model_type_message
    >>> model_type_message(3)
    'model must be a model folder path or a model name (str), got int'
    """
    kind = type(model).__name__
    if callable(getattr(model, "save_pretrained", None)):
        return (
            f"model must be a model folder path or a model name (str), got a loaded {kind}: "
            "save it with model.save_pretrained(folder) (and its tokenizer with "
            "tokenizer.save_pretrained(folder)), then pass model=folder"
        )
    return f"model must be a model folder path or a model name (str), got {kind}"
