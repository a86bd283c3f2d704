"""Models that ship their own Python code (an ``auto_map`` in ``config.json`` or
``tokenizer_config.json``): whether a model needs it, the refusal, the warning when it is skipped,
code of other repositories.

:func:`custom_code_files` names the files of a model's own code, :func:`needs_custom_code` says
whether transformers needs that code to load the model (transformers' rule, read from the config
files), :func:`custom_code_error` refuses such a model when that code was not trusted, and
:func:`custom_code_refusal` does so for a ``model=`` before anything is loaded (the library and
the command line's checks, in the same words). :func:`custom_code_skipped_message` says which of
its code an untrusted load replaced by transformers' classes (:func:`warn_custom_code_skipped`
warns it once per model), and :func:`other_repo_code_error` names code kept in another
repository that the local Hugging Face cache lacks (:func:`missing_code_of_other_repos`).
:func:`skmrl.models.load_model` loads with them; this module imports :mod:`skmrl.models` only
inside its functions (its ``resolve_model``, ``model_file`` and ``ModelNotFoundError``).
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

from skmrl._warn import caller_stacklevel, first_warning

if TYPE_CHECKING:
    from skmrl.models import ModelNotFoundError

__all__ = [
    "custom_code_configs",
    "custom_code_error",
    "custom_code_files",
    "custom_code_refusal",
    "custom_code_skipped_message",
    "missing_code_of_other_repos",
    "needs_custom_code",
    "other_repo_code_error",
    "warn_custom_code_skipped",
]


def custom_code_files(configs: dict[str, Any]) -> list[str]:
    """The Python files that the ``auto_map`` of a model's configs name, in order, once each.

    ``configs`` maps a file name (``"config.json"``, ``"tokenizer_config.json"``) to its
    content. An entry is ``"module.Class"`` (``module.py`` in the model's files), a list of
    them (a tokenizer's slow and fast classes), or ``"org/repo--module.Class"`` (code kept in
    another repository on the hub).

    Examples
    --------
    >>> from skmrl._custom_code import custom_code_files
    >>> custom_code_files({"config.json": {"auto_map": {
    ...     "AutoConfig": "configuration_x.XConfig", "AutoModel": "org/code--modeling_x.XModel"}}})
    ['configuration_x.py', 'modeling_x.py of org/code']
    """
    files: list[str] = []
    for config in configs.values():
        for value in _auto_map(config).values():
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
    >>> from skmrl._custom_code import custom_code_error
    >>> print(custom_code_error("nomic", {"config.json": {"auto_map": {"AutoModel": "m.M"}}}))
    model='nomic' holds custom code (the auto_map of config.json names m.py), which skmrl runs \
only with trust_remote_code=True, and that runs the model's own Python code on this machine: \
pass it only for a model you trust
    """
    files = custom_code_files(configs)
    where = " and ".join(name for name, config in configs.items() if _auto_map(config))
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
    >>> from skmrl._custom_code import needs_custom_code
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
    >>> from skmrl._custom_code import custom_code_skipped_message
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


def custom_code_refusal(
    model: str | os.PathLike, trust_remote_code: bool = False
) -> ValueError | None:
    """The one-line refusal of a model that transformers loads only by running the model's own
    code, when ``trust_remote_code`` is False; ``None`` when it may be loaded (no network, no
    model loaded, nor torch imported; transformers is, where the model names code).

    :func:`~skmrl.models.load_model` refuses with it, and the command line's checks before any
    work, so both refuse the same models, in the same words (the rule:
    :func:`needs_custom_code`).

    Raises
    ------
    ModelNotFoundError
        When the model cannot be found (:func:`~skmrl.models.resolve_model`).

    Examples
    --------
    >>> from skmrl._custom_code import custom_code_refusal
    >>> custom_code_refusal("sentence-transformers/all-MiniLM-L6-v2") is None
    True
    """
    if trust_remote_code:
        return None
    from skmrl.models import resolve_model

    configs = custom_code_configs(resolve_model(model))
    return custom_code_error(model, configs) if needs_custom_code(configs) else None


def warn_custom_code_skipped(
    model: Any, source: str, configs: dict[str, Any], net: Any, tokenizer: Any
) -> None:
    """Warn, once per model, that an untrusted load ran transformers' classes in place of the
    model's own code (:func:`custom_code_skipped_message`)."""
    message = custom_code_skipped_message(
        model, configs, type(net).__name__, type(tokenizer).__name__
    )
    if message is None or not first_warning("custom-code-skipped|" + source):
        return
    warnings.warn(
        message + " (Warned once per model.)", UserWarning, stacklevel=caller_stacklevel()
    )


def custom_code_configs(source: str) -> dict[str, Any]:
    """``config.json`` and ``tokenizer_config.json`` of a model (``None`` for one it lacks),
    whose ``auto_map`` names its custom code."""
    from skmrl._st_layout import encoder_subfolder, read_json
    from skmrl.models import model_file

    prefix = f"{encoder_subfolder(source)}/".lstrip("/")  # an older sentence-transformers folder
    names = ("config.json", "tokenizer_config.json")
    files = {name: model_file(source, prefix + name) for name in names}
    return {name: read_json(path) if path else None for name, path in files.items()}


def missing_code_of_other_repos(configs: dict[str, Any]) -> dict[str, list[str]]:
    """The files of code kept in other repositories (an ``auto_map`` entry
    ``"org/repo--module.Class"``) that the local Hugging Face cache lacks, by repository;
    ``configs`` as for :func:`custom_code_files`."""
    from skmrl.models import model_file

    missing: dict[str, list[str]] = {}
    for entry in custom_code_files(configs):
        name, of, repo = entry.partition(" of ")
        if of and model_file(repo, name) is None:
            missing.setdefault(repo, []).append(name)
    return missing


def other_repo_code_error(model: Any, missing: dict[str, list[str]]) -> ModelNotFoundError:
    """The one error of a trusted model whose code lives in another repository, not downloaded.

    transformers said "We couldn't connect to 'https://huggingface.co'", and skmrl then listed
    what a model folder holds (which it held), or called a complete hub-cache model "only in
    part": the repository missing is the one the ``auto_map`` names.
    """
    from skmrl.models import ModelNotFoundError

    repos = ", ".join(f"{repo} ({', '.join(files)})" for repo, files in missing.items())
    prefix = next(iter(missing))
    return ModelNotFoundError(
        f"could not load model={os.fspath(model)!r}: the auto_map of its config names code kept "
        f"in another repository, {repos}, which the local Hugging Face cache does not hold "
        "(skmrl does not download by default). To fix: run it once with HF_HUB_OFFLINE=0 where "
        "there is network, so that transformers downloads that code into the cache; or copy "
        "those .py files into the model folder and name them in its auto_map without the "
        f"repository ('modeling_x.XModel' for '{prefix}--modeling_x.XModel')"
    )
