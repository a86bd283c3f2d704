"""What skmrl reads from and checks in an encoder that transformers loaded, wherever it came from.

:func:`encoder_class` is the transformers class that loads a config (an encoder-decoder model's
encoder alone), :func:`max_positions` the longest input the model takes, and
:func:`check_missing_weights` what its checkpoint lacked (its pooler's weights, left out of its
identity; any other, warned of), :func:`check_output_width` that its token vectors have the
config's ``hidden_size`` dims. :func:`quiet_transformers` silences transformers' logs and
progress bars around a load or a save. :func:`skmrl.models.load_model` loads with them.
:func:`model_type_message` refuses a ``model=`` that is no path or name. A model's own Python
code (``auto_map``) is :mod:`skmrl._custom_code`'s.
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
    "check_output_width",
    "encoder_class",
    "max_positions",
    "model_type_message",
    "quiet_transformers",
]


def _quiet_transformers() -> Callable[[], None]:
    """Silence transformers; return what restores the settings found, exactly.

    The logger's own level (``get_verbosity`` is the effective one: a level left unset, to
    follow the root logger's, came back set to WARNING), and huggingface_hub's progress bars,
    which transformers' ``disable_progress_bar`` and ``enable_progress_bar`` switch for the
    whole process: a user's bars turned off were turned on again, and groups turned off one by
    one were forgotten.
    """
    import logging

    from transformers.utils import logging as hf_logging

    logger = logging.getLogger("transformers")  # transformers' library root logger
    level = logger.level
    bars = hf_logging.is_progress_bar_enabled()
    hub_states = _hub_progress_bar_states()
    hub_before = dict(hub_states or {})
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    def restore() -> None:
        logger.setLevel(level)
        if bars:
            hf_logging.enable_progress_bar()
        if hub_states is not None:
            hub_states.clear()
            hub_states.update(hub_before)

    return restore


def _hub_progress_bar_states() -> dict | None:
    """huggingface_hub's table of progress bars turned on and off (by group), or None where
    its release keeps them otherwise."""
    import importlib

    try:  # the module: huggingface_hub.utils.tqdm is also the name of its tqdm class
        hub_tqdm = importlib.import_module("huggingface_hub.utils.tqdm")
    except ImportError:
        return None
    states = getattr(hub_tqdm, "progress_bar_states", None)
    return states if isinstance(states, dict) else None


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


def check_output_width(model: Any, net: Any, tokenizer: Any, hidden: int, device: str) -> None:
    """Refuse an encoder whose token vectors (``last_hidden_state``) are not of its config's
    ``hidden_size`` dims, by which skmrl sizes its vectors (``max_dim_``, the encoding's
    buffers): one forward pass of a one-word text, once per load (11 ms for all-MiniLM-L6-v2 on
    a CPU, beside the 0.3 to 4 s that its load takes).

    A Reformer (whose output joins two streams of ``hidden_size``) or a model whose own code
    adds a projection passed ``fit`` with ``max_dim_`` its ``hidden_size``, and ``transform``
    failed with NumPy's "could not broadcast input array from shape (2,64) into shape (2,32)".
    A forward pass that fails here is left to ``transform``, as before, to report.
    """
    import torch

    from skmrl._torch.encoder import TOKENIZER_LOCK

    try:
        with TOKENIZER_LOCK:  # the shared tokenizer's truncation is set for each call
            ids = tokenizer("a", truncation=True, max_length=8)["input_ids"]
        with torch.inference_mode():
            output = net(input_ids=torch.tensor([ids], device=device)).last_hidden_state
        width = int(output.shape[-1])
    except Exception:
        return
    if width != hidden:
        raise ValueError(
            f"model={os.fspath(model)!r} gives token vectors of {width} dims, but its config "
            f"says hidden_size={hidden}: skmrl sizes its vectors by hidden_size, and embeds with "
            "encoders whose output (last_hidden_state) has hidden_size dims, as BERT-like ones' "
            "does. This one (a Reformer, or a model whose own code projects or joins its "
            "output) is not supported: use an encoder whose output has hidden_size dims"
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
    >>> from skmrl import MatryoshkaEmbedder
    >>> model_type_message(MatryoshkaEmbedder("models/mine"))  # doctest: +ELLIPSIS
    "model must be ... got a MatryoshkaEmbedder: pass its model, model='models/mine' (or, ..."
    """
    if isinstance(model, type):  # MatryoshkaEmbedder, BertModel: "got a loaded type"
        return (
            "model must be a model folder path or a model name (str), got the class "
            f"{model.__name__}"
        )
    kind = type(model).__name__
    try:  # a MatryoshkaEmbedder, whose own save_pretrained needs a fit: its model=
        inner = model.get_params(deep=False).get("model")
    except Exception:  # not an estimator (AttributeError), or a broken one
        inner = None
    if isinstance(inner, str | os.PathLike):
        return (
            f"model must be a model folder path or a model name (str), got a {kind}: pass its "
            f"model, model={os.fspath(inner)!r} (or, of a fitted one, save_pretrained(folder) "
            "and that folder)"
        )
    if callable(getattr(model, "save_pretrained", None)):
        return (
            f"model must be a model folder path or a model name (str), got a loaded {kind}: "
            "save it with model.save_pretrained(folder) (and its tokenizer with "
            "tokenizer.save_pretrained(folder)), then pass model=folder"
        )
    return f"model must be a model folder path or a model name (str), got {kind}"
