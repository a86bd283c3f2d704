"""MatryoshkaEmbedder's saved folder (writing and reading it), and the warning when a model's own
config makes its vectors otherwise than the embedder will.

A saved folder (:func:`save_pretrained`) is a standard transformers folder plus two files:

* ``skmrl_adaptor.npz``: the adaptor as a chain of stages, each ``z -> (z / |z| - mean_i) @
  components_i`` (keys ``n_stages``, ``components_<i>``, ``mean_<i>``, ``matryoshka_dims``,
  ``format``), applied to the pooled vectors in order; absent when there is no adaptor;
* ``skmrl.json``: how the vectors were made (``pooling``, ``max_length``, ``normalize``,
  ``fine_tune``, ``matryoshka_dims``, ``matryoshka_layers``, ``n_layers``), so that loading with
  another pooling or ``max_length`` warns, and with ``normalize=True`` a save made with
  ``normalize=False`` (older saves record no ``normalize``: not compared).

It is a sentence-transformers folder too (:func:`skmrl._st_layout.write_modules`: each adaptor
stage as a ``Normalize`` and a ``Dense``, and a last ``Normalize`` where the embedder
normalises), so that ``SentenceTransformer(folder).encode`` gives the
same vectors; skmrl reads ``skmrl.json`` and the adaptor file instead (:func:`check_saved_config`
does not look at the modules of such a folder).

:func:`check_saved_config` also reads a sentence-transformers folder's layout
(:mod:`skmrl._st_layout`), to warn when its vectors are made otherwise than the embedder will
make them.

With ``n_layers=k`` below the encoder's depth, :func:`save_pretrained` writes the network that
``transform`` runs: the first ``k`` layers (the config says ``num_hidden_layers=k``), so that the
folder loads, in skmrl or in plain transformers, to the shallow encoder.

A model with its own code (``trust_remote_code=True``) is saved with that code: its
``config.json`` keeps the ``auto_map`` and the folder the ``.py`` files, so that it loads again
with ``trust_remote_code=True``.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skmrl._model_errors import TOKENIZER_FILES
from skmrl._st_layout import (
    layout_problems,
    read_dense_modules,
    read_json,
    remove_dense_modules,
    sentence_transformers_layout,
    sentence_transformers_normalizes,
    write_json,
    write_modules,
)

__all__ = [
    "ADAPTOR_FILE",
    "CONFIG_FILE",
    "SavedAdaptor",
    "adaptor_digest",
    "check_saved_config",
    "load_saved_adaptor",
    "save_pretrained",
    "saved_config",
]

#: The adaptor of a saved folder.
ADAPTOR_FILE = "skmrl_adaptor.npz"
#: How a saved folder's vectors were made.
CONFIG_FILE = "skmrl.json"
_FORMAT = 1

#: The files that say a tokenizer was saved in a folder (with the others of
#: :data:`skmrl._model_errors.TOKENIZER_FILES`).
_TOKENIZER_CONFIGS = (
    "tokenizer_config.json",
    "tokenizer.json",
    "special_tokens_map.json",
    "added_tokens.json",
)


class SavedAdaptor:
    """A fixed chain of rotations read from ``skmrl_adaptor.npz`` (see the module docstring)."""

    def __init__(self, stages: Sequence[tuple[np.ndarray, np.ndarray]], dims: Sequence[int]):
        self.stages = [(np.asarray(c, np.float32), np.asarray(m, np.float32)) for c, m in stages]
        self.matryoshka_dims = [int(d) for d in dims]

    def transform_full(self, Z: np.ndarray) -> np.ndarray:
        """Apply every stage: normalise the rows, remove the mean, rotate (a zero row stays
        zero, as in :class:`~skmrl.MatryoshkaAdaptor`)."""
        from skmrl._torch.adaptor import rotate

        Z = np.asarray(Z, dtype=np.float32)
        for components, mean in self.stages:
            norms = np.linalg.norm(Z, axis=1, keepdims=True)
            Z = rotate(np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0), mean, components)
        return Z


def _stages(adaptor: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    if adaptor is None:
        return []
    if isinstance(adaptor, SavedAdaptor):
        return list(adaptor.stages)
    return [(adaptor.components_, adaptor.mean_)]


def _saved_file(source: str | os.PathLike, name: str) -> Path | None:
    """One of skmrl's files of a saved model: in its folder, or in the hub cache for a hub id.

    A folder saved by :func:`save_pretrained` and pushed to the hub, loaded by its id, was read
    as a sentence-transformers model: its adaptor was left out (vectors 0.71 away from the
    folder's), under a warning that called the adaptor's ``Dense`` stages a module skmrl does
    not apply.
    """
    from skmrl.models import model_file  # skmrl.models reads these files' names from here

    return model_file(os.fspath(source), name)


def load_saved_adaptor(source: str | os.PathLike, width: int | None = None) -> SavedAdaptor | None:
    """The adaptor saved with a model (a folder, or a hub id in the hub cache), or ``None``
    when it has none.

    ``width``: the dims of the folder's encoder, which the adaptor's first stage must take (a
    ``ValueError`` naming the file otherwise, not a broadcasting error in ``transform``)."""
    path = _saved_file(source, ADAPTOR_FILE)
    if path is None:
        return None
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as f:
            if int(f["format"]) != _FORMAT:
                raise ValueError(f"format {int(f['format'])} (this skmrl reads {_FORMAT})")
            stages = [(f[f"components_{i}"], f[f"mean_{i}"]) for i in range(int(f["n_stages"]))]
            adaptor = SavedAdaptor(stages, f["matryoshka_dims"].tolist())
        _check_stages(adaptor.stages)
        takes = adaptor.stages[0][0].shape[0] if adaptor.stages else width
        if width is not None and takes != width:
            raise ValueError(
                f"it takes vectors of {takes} dims, the folder's encoder gives {width}"
            )
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__  # some say nothing
        if "allow_pickle" in reason:  # NumPy's guess for a file that is no .npz archive
            reason = "not an .npz archive"
        raise ValueError(f"{path}: not a readable skmrl adaptor file ({reason})") from None
    _check_dense_modules(path, adaptor)
    return adaptor


def _check_dense_modules(path: Path, adaptor: SavedAdaptor) -> None:
    """Warn when the folder's sentence-transformers ``Dense`` modules (which :func:`save_pretrained`
    writes from the adaptor) no longer are its stages: the folder was saved again by
    sentence-transformers after training (its encoder and its ``Dense`` weights then new, the
    adaptor file old), and skmrl's vectors, which apply the adaptor file, silently differed
    from ``SentenceTransformer(folder).encode``'s (0.15 apart)."""
    from skmrl._warn import caller_stacklevel

    dense = read_dense_modules(path.parent)
    if dense is None:  # no sentence-transformers modules (an older save), or unreadable
        return
    expected = [(components.T, -(mean @ components)) for components, mean in adaptor.stages]
    # to the rounding of the type they were stored in: a model cast to bfloat16 before its
    # save rounds them by 0.4%, which is no change of the adaptor
    same = len(dense) == len(expected) and all(
        w.shape == ew.shape
        and b.shape == eb.shape
        and np.allclose(w, ew, rtol=max(1e-4, resolution), atol=1e-6)
        and np.allclose(b, eb, rtol=max(1e-4, resolution), atol=1e-6)
        for (w, b, resolution), (ew, eb) in zip(dense, expected, strict=False)
    )
    if not same:
        warnings.warn(
            f"{path.parent}: its sentence-transformers Dense modules are not its skmrl adaptor "
            f"({ADAPTOR_FILE}): the folder was changed after skmrl saved it (trained further "
            f"and saved by sentence-transformers, say). skmrl applies {ADAPTOR_FILE} to the "
            "folder's encoder, so its vectors will differ from SentenceTransformer(folder)."
            "encode's; encode with sentence-transformers to use the folder as it was saved last",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _check_stages(stages: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
    """Each stage a finite ``(d_in, d_out)`` matrix and a ``d_in`` mean, each taking the last's
    output: a damaged file fails where it is read, not as a broadcasting error in ``transform``
    or as vectors of NaN."""
    width = None
    for i, (components, mean) in enumerate(stages):
        if components.ndim != 2 or mean.shape != components.shape[:1]:
            raise ValueError(
                f"stage {i} has components of shape {components.shape} and a mean of shape "
                f"{mean.shape}; expected (d_in, d_out) and (d_in,)"
            )
        if width is not None and components.shape[0] != width:
            raise ValueError(
                f"stage {i} takes {components.shape[0]} dims, stage {i - 1} gives {width}"
            )
        if not (np.isfinite(components).all() and np.isfinite(mean).all()):
            raise ValueError(f"stage {i} holds NaN or infinite values")
        width = components.shape[1]


def adaptor_digest(source: str | os.PathLike) -> str | None:
    """Hash of a saved model's adaptor file, or ``None`` when it has none.

    The base model's identity hashes the encoder's weights only; a folder saved again with the
    same encoder and another adaptor must not reuse a state fitted on the old one.
    """
    import hashlib

    path = _saved_file(source, ADAPTOR_FILE)
    try:
        return None if path is None else hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def saved_config(source: str | os.PathLike) -> dict[str, Any] | None:
    """The ``skmrl.json`` of a saved model (a folder, or a hub id in the hub cache), or
    ``None`` (also when it is not a JSON object)."""
    path = _saved_file(source, CONFIG_FILE)
    config = read_json(path) if path is not None else None
    return config if isinstance(config, dict) else None


def save_pretrained(embedder: Any, path: str | os.PathLike) -> None:
    """Write ``embedder``'s encoder (fine-tuned or not), tokenizer and adaptor to ``path``."""
    embedder._check_fitted()  # skmrl.json records the settings the adaptor was fitted with
    depth = embedder._check_n_layers()
    from skmrl._folders import folder_to_write, make_folder, remove_made_folders, same_file

    folder = folder_to_write(path)  # as the system resolves it
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path={os.fspath(path)!r} exists and is not a folder")
    source = Path(embedder.model_source_)
    if folder.is_dir() and source.is_dir() and same_file(folder, source):
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
    from skmrl._folders import readable_as_other_files
    from skmrl._model_checks import quiet_transformers

    model, tokenizer = embedder._encoder()
    if (folder / CONFIG_FILE).is_file():  # an earlier skmrl save: its adaptor stages go
        remove_dense_modules(folder)
    if depth is not None and depth != getattr(embedder, "max_layers_", None):
        from skmrl._torch.layers import truncated_copy

        model = truncated_copy(model, depth)  # the shallow network that transform runs
    # another model's tokenizer saved here before: its files that this save does not write
    # go; a folder without one (a user's, holding their own vocab.json, say) keeps every file
    replaces = any((folder / name).is_file() for name in _TOKENIZER_CONFIGS)
    with quiet_transformers():
        model.save_pretrained(folder)
        _save_tokenizer(tokenizer, folder, int(embedder.max_length), replaces=replaces)
    _copy_custom_code(embedder.model_source_, folder)
    readable_as_other_files(folder.glob("*.safetensors"))  # the encoder's weights
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
        "normalize": bool(embedder.normalize),
        "fine_tune": embedder.fine_tune,
        "matryoshka_dims": _trained_dims(embedder),
        # the depths the saved network has: a shallow save holds none deeper than its own
        "matryoshka_layers": [
            int(k)
            for k in getattr(embedder, "matryoshka_layers_", None) or []
            if depth is None or k <= depth
        ],
        "n_layers": depth,
        "base_model": embedder.model_source_,
    }
    write_json(folder / CONFIG_FILE, config)
    write_modules(embedder, folder, stages)


def _save_tokenizer(tokenizer: Any, folder: Path, max_length: int, *, replaces: bool) -> None:
    """Save ``tokenizer`` with the embedder's own truncation (``max_length`` tokens) and no
    padding in its ``tokenizer.json``, under the lock of every call of the shared tokenizer.

    The fast tokenizer's backend keeps the truncation of its last call, which the file records:
    it said whatever max_length another estimator of the process had last tokenized with (16
    for a save at max_length=256; 8, the load's width check, where fit tokenized nothing), and
    the ``tokenizers`` library truncates at the file's length. The embedder's own length is the
    folder's: its ``skmrl.json`` and ``sentence_bert_config.json`` (``max_seq_length``) say it,
    sentence-transformers truncates at it, and a reader of ``tokenizer.json`` alone then makes
    the same vectors. The model's own file can say another (128 for all-MiniLM-L6-v2, whose
    sentence-transformers length is 256). Padding: none, as each of skmrl's calls leaves it
    (batches are padded in memory), not a padding a user's own call of the tokenizer set.
    Unlocked, a tokenization in another thread could set its truncation between these steps.

    Where ``replaces`` (``folder`` held another tokenizer's config before this save), the
    tokenizer files in ``folder`` that this save did not write go: that tokenizer's
    (transformers 5 writes no ``special_tokens_map.json`` nor ``added_tokens.json``, but reads
    them, so an RoBERTa's ``<s>`` and ``</s>`` left there became this tokenizer's CLS and SEP
    tokens, ids out of its vocabulary). A folder that held none keeps every file: a user's own
    ``vocab.json`` is not a tokenizer's.
    """
    from skmrl._torch.encoder import TOKENIZER_LOCK

    backend = getattr(tokenizer, "backend_tokenizer", None)
    with TOKENIZER_LOCK:
        if backend is not None:  # every call sets its own truncation again: left as set here
            direction = getattr(tokenizer, "truncation_side", "right")
            backend.enable_truncation(max_length, direction=direction)
            backend.no_padding()
        written = tokenizer.save_pretrained(folder)
    if not replaces or not isinstance(written, tuple | list):
        return  # a tokenizer class of the model's own code that does not say: nothing known
    names = {Path(os.fspath(p)).name for p in written if isinstance(p, str | os.PathLike)}
    for path in folder.iterdir():
        if path.name not in names and TOKENIZER_FILES.fullmatch(path.name) and path.is_file():
            path.unlink()


def _copy_custom_code(source: str, folder: Path) -> None:
    """Copy the model's own ``.py`` files that the saved configs' ``auto_map`` needs and
    transformers did not write.

    transformers 5 writes them itself (``save_pretrained`` of a class loaded with
    ``trust_remote_code``); 4.x does so only for a model loaded from a folder, not from the
    hub cache, and then left a folder whose ``config.json`` names a ``modeling_*.py`` it lacks.
    Every ``.py`` file of the model's files is copied (the named ones import others).
    """
    import shutil

    from skmrl._custom_code import custom_code_configs, custom_code_files
    from skmrl.models import model_file

    saved = custom_code_configs(str(folder))  # the configs just written
    named = [n for n in custom_code_files(saved) if " of " not in n]  # not another repo's
    if not named or all((folder / n).is_file() for n in named):
        return
    config = model_file(source, "config.json")
    if config is None:
        return
    for path in sorted(config.parent.glob("*.py")):
        if not (folder / path.name).exists():
            shutil.copyfile(path, folder / path.name)  # a hub cache's links: their content


def _trained_dims(embedder: Any) -> list[int]:
    dims = getattr(embedder, "matryoshka_dims_", None)
    return [int(d) for d in dims] if dims else []


def check_saved_config(
    embedder: Any, source: str, tokenizer: Any = None, max_positions: int | None = None
) -> None:
    """Warn when a model's own config makes its vectors otherwise than ``embedder`` will.

    The config is an skmrl folder's ``skmrl.json`` or, for a sentence-transformers model, its
    ``modules.json`` and pooling config: a model trained with CLS pooling, say, gives poorer
    vectors mean-pooled, and silently so. ``tokenizer`` (the model's) tells whether a
    sentence-transformers model's lowercasing changes anything; ``max_positions`` (the most
    tokens the loaded model takes) caps the truncation advised.
    """
    from skmrl._warn import caller_stacklevel

    config = saved_config(source)
    if config:
        # pooling, max_length and normalize are the settings of skmrl.json that change the
        # vectors and are parameters of the embedder (stored verbatim, so they are compared, not
        # adopted). The folder's sentence-transformers modules are skmrl's own: not read.
        differ = [
            name
            for name in ("pooling", "max_length")
            if config.get(name) not in (None, getattr(embedder, name))
        ]
        # normalize only where the save kept the vectors' lengths and this embedder drops them
        # (the default normalize=True); the other way is the user's own choice
        if config.get("normalize") is False and embedder.normalize:
            differ.append("normalize")
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
    normalizes = sentence_transformers_normalizes(source)
    if layout.max_seq_length is not None and max_positions is not None:
        # RoBERTa's 514 position embeddings take 512 tokens: "pass max_length=514" was advised,
        # which fit refuses (the config's positions, where the tokenizer sets no limit)
        layout = layout._replace(max_seq_length=min(layout.max_seq_length, max_positions))
    problems = layout_problems(embedder, layout, tokenizer, normalizes)
    if problems:
        warnings.warn(
            f"{source} is a sentence-transformers model, and {'; and '.join(problems)}: this "
            "embedder's vectors will differ from SentenceTransformer(...).encode's",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
