"""``skmrl finetune``: make an encoder Matryoshka from a CSV file and save it as a model folder.

The columns named say what the data is:

* ``--text-col`` alone: ``MatryoshkaEmbedder(fine_tune=method).fit(texts)`` (unsupervised);
* with ``--label-col``: ``.fit(texts, labels)`` (supervised);
* with ``--pair-col`` and ``--score-col``: :func:`skmrl.finetune` on the scored pairs.

The result is written with ``save_pretrained``; ``MatryoshkaEmbedder(model=MODEL_DIR)`` loads it.
The whole file is read (with the standard library's ``csv``) and checked, and so are the model
and the output folder, before any model is loaded: a problem is a one-line argparse error (exit
status 2) that names the argument, and the row when a cell is at fault.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skmrl._folders import (
    folder_write_problem,
    missing_folders,
    remove_made_folders,
    resolved,
    same_file,
)
from skmrl.cli._columns import distinct_columns, label_cells, score_cells, text_cells
from skmrl.cli._common import (
    RUN_ERRORS,
    add_command,
    add_csv_data,
    add_device,
    add_max_length,
    add_no_progress,
    add_trust_remote_code,
    cli_spelling,
    custom_code_problem,
    device_problem,
    encoder_max_length,
    int_at_least,
    model_config,
    positive_float,
    progress_setting,
    refuse_model_limits,
    saved_settings,
)
from skmrl.cli._csv import read_table
from skmrl.cli._refused import Refused

_DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_METHODS = ("adaptor", "pca", "full", "full+adaptor")
#: The methods that train the encoder's weights (and so use --batch-size).
_FULL_METHODS = ("full", "full+adaptor")

_DESCRIPTION = (
    "Make an encoder Matryoshka (its short prefixes good embeddings on their own) from the "
    "texts of a CSV file, and save it as a model folder that MatryoshkaEmbedder(model=MODEL_DIR) "
    "loads. The columns you name say what the data is: texts only (--text-col: unsupervised), "
    "texts with class labels (--label-col: the short prefixes learn to separate the classes), "
    "or sentence pairs with similarity scores (--pair-col and --score-col). "
    "--method adaptor, the default, is the cheap route (seconds to a minute on a CPU): the "
    "encoder stays frozen and a rotation of its vectors is trained. pca is the closed-form "
    "rotation (no training, no labels). full trains the encoder's weights with a loss on every "
    "prefix (minutes on a CPU); full+adaptor does both. Every argument, the whole file and the "
    "output folder are checked before the model is loaded."
)

_EPILOG = """\
examples:
  skmrl finetune news.csv --text-col text --label-col topic -o news-model
  skmrl finetune notes.csv --text-col body -o notes-model --method full --epochs 1
  skmrl finetune sts.csv --text-col sentence1 --pair-col sentence2 --score-col score \\
      -o sts-model --method full+adaptor --epochs 4

then, in Python:
  from skmrl import MatryoshkaEmbedder
  emb = MatryoshkaEmbedder(model="news-model", dim=64)
"""

_METHOD_SAYS = {
    "adaptor": "the encoder stays frozen; a MatryoshkaAdaptor learns a rotation of its vectors",
    "pca": "the encoder stays frozen; its vectors are rotated onto their principal directions",
    "full": "the encoder's weights are trained with a loss on every prefix",
    "full+adaptor": "the encoder's weights are trained, then an adaptor on its vectors",
}


@dataclass
class _Plan:
    """What to train, once every check has passed."""

    texts: list[str]
    labels: list[str] | None
    pairs: list[tuple[str, str]] | None
    scores: list[float] | None
    n_rows: int
    output: Path
    #: The folders this run made: the output folder and the parents made for it, deepest first.
    created: list[Path]
    replaces: bool


# -- argument types --------------------------------------------------------------------------------
# -- the model and the output folder ---------------------------------------------------------------
def _check_model(args: argparse.Namespace) -> None:
    """The model must be found (no loading), and the sizes asked for must fit its config."""
    from skmrl.models import ModelNotFoundError, _config_sizes, resolve_model

    try:
        source = Path(resolve_model(args.model))
    except (ModelNotFoundError, TypeError, ValueError) as exc:
        raise Refused("--model", str(exc)) from None
    problem = custom_code_problem(args.model, args.trust_remote_code, getattr(args, "parser", None))
    if problem:
        raise Refused("--model", problem)
    if not source.is_dir():
        return  # a hub id in the local cache: transformers checks it when it loads
    try:
        config = model_config(args.model)  # found above; a folder without weights is refused
    except ValueError as exc:
        raise Refused("--model", str(exc)) from None
    hidden, depth = _config_sizes(config)
    if hidden is not None and args.matryoshka_dims and args.matryoshka_dims[-1] > hidden:
        raise Refused(
            "--matryoshka-dims",
            f"{args.matryoshka_dims[-1]} is more than the model's {hidden} dims",
        )
    if depth is not None and args.matryoshka_layers and max(args.matryoshka_layers) > depth:
        raise Refused(
            "--matryoshka-layers",
            f"the model has {depth} layers, so each must be in 1..{depth}, got "
            f"{max(args.matryoshka_layers)}",
        )
    # the truncation it trains with: --max-length, a saved folder's, or the embedder's default
    max_length = encoder_max_length(args.model, args.max_length)
    refuse_model_limits(config, args.model, max_length, args.trust_remote_code)
    from skmrl._saved_model import ADAPTOR_FILE

    if args.method in _FULL_METHODS and (source / ADAPTOR_FILE).is_file():
        raise Refused(
            "--method",
            f"the --model folder holds an skmrl adaptor ({ADAPTOR_FILE}) made for its encoder as "
            f"it is; --method {args.method} would change the encoder under it: use --method "
            "adaptor with this folder, or fine-tune its base model",
        )


#: The files and folders, besides skmrl's own (``skmrl.json`` and the adaptor), that a saved
#: model holds: transformers' model and tokenizer files, sentencepiece models, and the
#: sentence-transformers modules (:func:`skmrl._st_layout.write_modules`). Replacing a saved
#: model deletes the folder whole: anything else in it is refused, not deleted.
_SAVED_FILES = re.compile(
    r"config\.json|generation_config\.json|model(-\d+-of-\d+)?\.safetensors"
    r"|model\.safetensors\.index\.json|pytorch_model(-\d+-of-\d+)?\.bin"
    r"|pytorch_model\.bin\.index\.json"
    # and the tokenizer's (skmrl._model_errors.TOKENIZER_FILES), sentencepiece models by their
    # names only: any "*.model" or "vocab.*" took a user's word2vec.model or vocab.csv for the
    # model's, and deleted it
    r"|modules\.json|sentence_bert_config\.json|config_sentence_transformers\.json"
)
_SAVED_FOLDERS = re.compile(r"\d+_(Pooling|Dense|Normalize)")
#: Files an operating system's file browser leaves in any folder it shows (macOS Finder's
#: ``.DS_Store``, Windows Explorer's ``Thumbs.db`` and ``desktop.ini``), compared casefolded:
#: not the user's data, they go with the folder it replaces.
_OS_METADATA = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def _not_saved(output: Path) -> list[str]:
    """The names in the saved model folder ``output`` that a save does not write (sorted): the
    user's files, which replacing the folder would delete.

    A model with its own code (an ``auto_map`` in its configs) is saved with its ``.py`` files.
    The files a file browser leaves (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``) are not
    the user's: they are not named.
    """
    from skmrl._custom_code import custom_code_configs
    from skmrl._model_errors import TOKENIZER_FILES
    from skmrl._saved_model import ADAPTOR_FILE, CONFIG_FILE

    configs = custom_code_configs(str(output)).values()
    code = any(isinstance(c, dict) and "auto_map" in c for c in configs)
    others = []
    for path in output.iterdir():
        name = path.name
        if path.is_dir() and not path.is_symlink():
            saved = _SAVED_FOLDERS.fullmatch(name) is not None
        else:
            saved = (
                name in (CONFIG_FILE, ADAPTOR_FILE)
                or name.casefold() in _OS_METADATA
                or _SAVED_FILES.fullmatch(name) is not None
                or TOKENIZER_FILES.fullmatch(name) is not None
                or (code and name.endswith(".py"))
            )
        if not saved:
            others.append(name + ("/" if path.is_dir() else ""))
    return sorted(others)


def _output_problem(output: Path, model: str, data: str) -> tuple[str | None, bool]:
    """Why ``-o`` cannot be written (nothing is created), and whether it replaces a saved model.

    A saved model is replaced whole: refused when it holds ``data`` (the DATA file), or files
    that a save does not write.
    """
    from skmrl._saved_model import CONFIG_FILE

    shown = repr(str(output))
    if output.exists() and not output.is_dir():
        return f"{shown} exists and is not a folder", False
    if not output.exists():
        return None, False
    here = Path.cwd()
    if any(same_file(folder, output) for folder in (here, *here.parents)):
        # the folder is saved aside and replaced whole: the shell was left in a deleted folder
        return (
            f"{shown} is the current folder or holds it: the save replaces the folder whole, "
            "which would leave this shell in a deleted folder; name a folder inside it "
            "(-o model) or run from elsewhere"
        ), False
    model_path = Path(model).expanduser()
    if model_path.is_dir() and same_file(model_path, output):
        return f"{shown} is the --model folder itself: save to another folder", False
    try:
        # a new folder that Finder or Explorer has shown holds its .DS_Store (Thumbs.db): empty
        names = sorted(p.name for p in output.iterdir() if p.name.casefold() not in _OS_METADATA)
    except OSError as exc:
        return f"cannot list {shown}: {exc.strerror or exc}", False
    if not names:
        return None, False
    if not (output / CONFIG_FILE).is_file():
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        return (
            f"{shown} is a folder with other files in it ({listed}), not a model saved by "
            "skmrl: refusing to write over them (name a new or empty folder)"
        ), False
    data_path = resolved(data)
    if any(same_file(folder, output) for folder in (data_path, *data_path.parents)):
        return (
            f"{shown} holds the DATA file: replacing the model in it would delete your data "
            "(move the file out, or name another folder)"
        ), False
    try:
        others = _not_saved(output)
    except OSError as exc:
        return f"cannot list {shown}: {exc.strerror or exc}", False
    if others:
        return (
            f"{shown} holds files a saved model does not ({', '.join(others)}): replacing it "
            "would delete them; move them out or name a new folder"
        ), False
    return None, True


# -- the plan: every check, in order ---------------------------------------------------------------
def _check_options(args: argparse.Namespace) -> None:
    distinct_columns(
        {
            "--text-col": args.text_col,
            "--label-col": args.label_col,
            "--pair-col": args.pair_col,
            "--score-col": args.score_col,
        }
    )
    if (args.pair_col is None) != (args.score_col is None):
        given, missing = ("--pair-col", "--score-col")[:: 1 if args.pair_col is not None else -1]
        raise Refused(given, f"needs {missing} too (sentence pairs come with their scores)")
    pairs = args.pair_col is not None
    if pairs and args.label_col is not None:
        raise Refused(
            "--label-col", "takes no --pair-col/--score-col: either labelled texts or scored pairs"
        )
    if pairs and args.method == "pca":
        raise Refused(
            "--pair-col",
            "--method pca does not use pairs; use --method adaptor, full or full+adaptor",
        )
    if args.method == "pca" and args.label_col is not None:
        raise Refused(
            "--label-col", "--method pca uses no labels; use --method adaptor to learn from them"
        )
    # Closed-form rotations train nothing: settings that shape training would be dropped.
    if args.method == "pca" or (args.method == "adaptor" and args.label_col is not None):
        route = "--method pca" if args.method == "pca" else "--method adaptor with --label-col"
        for option, value in (
            ("--epochs", args.epochs),
            ("--learning-rate", args.learning_rate),
            ("--matryoshka-dims", args.matryoshka_dims),
        ):
            if value is not None:
                raise Refused(
                    option,
                    f"{route} has no training (no epochs, no learning rate, no prefix sizes): "
                    "its rotation is found in closed form, nested at every size",
                )
    for option, value in (
        ("--batch-size", args.batch_size),
        ("--accumulation-steps", args.accumulation_steps),
    ):
        if value is not None and args.method not in _FULL_METHODS:
            raise Refused(
                option,
                f"only --method full and full+adaptor train in batches of texts, not {args.method}",
            )
    if args.matryoshka_layers is not None and args.method != "full":
        raise Refused(
            "--matryoshka-layers",
            f"trains the encoder's shallow layers: only with --method full, not {args.method}",
        )
    dims = args.matryoshka_dims
    if dims is not None and any(b <= a for a, b in itertools.pairwise(dims)):
        raise Refused(
            "--matryoshka-dims",
            f"expected strictly increasing sizes, got {' '.join(map(str, dims))}",
        )


def _plan(args: argparse.Namespace) -> _Plan:
    """Check everything (nothing is loaded; torch is imported last, for --device); only the
    output folder and its parents are made."""
    _check_options(args)
    _check_model(args)
    # Resolved as the system resolves it: "new/../keep" is the folder keep, which must not be
    # taken for a new one (a failed run would remove it, and the check for a model there would
    # pass it by); "link/../x" is beside the link's target.
    output = resolved(args.output)
    problem, replaces = _output_problem(output, args.model, args.data)
    if problem:
        raise Refused("-o/--output", problem)
    table = read_table(args.data, args.limit)
    if len(table.rows) < 2:
        if table.limited:
            raise Refused(
                "--limit", f"keeps {args.limit} row of {table.shown}: fine-tuning needs at least 2"
            )
        raise Refused(
            "DATA",
            f"{table.shown} has {len(table.rows)} row(s): fine-tuning needs at least 2",
        )
    texts = text_cells(table, args.text_col, "--text-col")
    labels = pairs = scores = None
    if args.label_col is not None:
        labels = label_cells(
            table, args.label_col, "leave out --label-col for the unsupervised fit"
        )
    if args.pair_col is not None:
        others = text_cells(table, args.pair_col, "--pair-col")
        scores = score_cells(table, args.score_col)
        if args.method in _FULL_METHODS and len(set(scores)) == 1:
            rows = f"the first {len(scores)} rows (--limit)" if table.limited else "every row"
            raise Refused(
                "--score-col",
                f"column {args.score_col!r} holds one score ({scores[0]:g} in {rows}): --method "
                f"{args.method} trains the encoder on the order of the scores (CoSENT), so they "
                "must differ",
            )
        pairs = list(zip(texts, others, strict=True))
    if args.device != "auto":  # imports torch: the last check, before the output folder is made
        problem = device_problem(args.device)
        if problem:
            raise Refused("--device", problem)
    created = missing_folders(output)
    problem = folder_write_problem(output, repr(str(output)))  # creates it, and its parents
    if problem:
        remove_made_folders(created)
        raise Refused("-o/--output", problem)
    return _Plan(texts, labels, pairs, scores, len(table.rows), output, created, replaces)


# -- the run ---------------------------------------------------------------------------------------
def _what(args: argparse.Namespace, plan: _Plan) -> str:
    """One sentence: what is trained, from what."""
    data = repr(args.data)
    if plan.pairs is not None:
        source = (
            f"{plan.n_rows} sentence pairs (columns {args.text_col!r} and {args.pair_col!r}, "
            f"scores in {args.score_col!r}) of {data}"
        )
        if args.method == "adaptor":
            source += " (the adaptor learns from the sentences; the scores train the encoder "
            source += "only with --method full or full+adaptor)"
    elif plan.labels is not None:
        n_classes = len(set(plan.labels))
        source = (
            f"{plan.n_rows} texts (column {args.text_col!r}) of {data} and their labels "
            f"(column {args.label_col!r}, {n_classes} classes)"
        )
    else:
        source = f"{plan.n_rows} texts (column {args.text_col!r}) of {data}, without labels"
    return (
        f"skmrl finetune: --method {args.method} on {args.model}: {_METHOD_SAYS[args.method]}; "
        f"from {source}."
    )


def _train(args: argparse.Namespace, plan: _Plan) -> Any:
    params: dict[str, Any] = {
        "device": args.device,
        **saved_settings(args.model, args.max_length),  # a saved folder's, unless --max-length
        "matryoshka_dims": args.matryoshka_dims,
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "progress": progress_setting(args),
        "trust_remote_code": args.trust_remote_code,
    }
    if args.batch_size is not None:
        params["train_batch_size"] = args.batch_size
    if args.accumulation_steps is not None:
        params["accumulation_steps"] = args.accumulation_steps
    if args.matryoshka_layers is not None:
        params["matryoshka_layers"] = args.matryoshka_layers
    if plan.pairs is not None:
        from skmrl import finetune

        return finetune(
            args.model, pairs=plan.pairs, scores=plan.scores, method=args.method, **params
        )
    from skmrl import MatryoshkaEmbedder

    embedder = MatryoshkaEmbedder(model=args.model, fine_tune=args.method, **params)
    return embedder.fit(plan.texts, plan.labels)


def _save(embedder: Any, output: Path) -> None:
    """``embedder.save_pretrained`` into a new folder beside ``output``, then put it in its place:
    the model is written whole or not at all.

    Saved over the model it replaces, a save that failed (a full disk) or was interrupted left
    the new encoder's weights beside the old ``skmrl.json`` and adaptor: a folder that loads
    without a word, to vectors of neither model. Here the folder at ``output`` (the model it
    replaces, or the empty folder the checks made) is kept until the new one is complete, and
    then replaced whole. Where no folder can be made beside it (its parent is not writable),
    the model is saved into ``output`` itself, as before.
    """
    import os
    import shutil
    import tempfile

    from skmrl.models import forget_folder

    try:
        staging = Path(
            tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
        )
    except OSError:
        embedder.save_pretrained(output)
        return
    old: Path | None = None
    try:
        embedder.save_pretrained(staging)
        mode = output.stat().st_mode & 0o7777  # the replaced folder's (mkdtemp's is private)
        os.chmod(staging, mode)
        old = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".old"))
        # A free name, not the folder just made: Windows moves no folder onto an existing one,
        # empty or not (MoveFileEx refuses, "Access is denied"), where POSIX replaces an empty one
        os.rmdir(old)
        os.replace(output, old)
        os.replace(staging, output)
    except BaseException:
        # The replaced folder is at ``old`` once moved, and only then (its name was freed): told
        # by the disk, not by a flag set after the move, which an interrupt arriving as the move
        # returned left unset, and the folder moved there was then removed below
        if old is not None and old.exists() and not output.exists():
            os.replace(old, output)  # put the replaced folder back
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    forget_folder(output)  # a model loaded from this folder before now reads the new files


def _usage(output: Path, embedder: Any) -> list[str]:
    """How to load the saved model: with the pooling and max_length it was trained with (the
    library keeps its defaults, and only warns that the saved folder's differ)."""
    import inspect

    dims = list(embedder.matryoshka_dims_ or [embedder.max_dim_])
    dim = min(dims, key=lambda d: abs(d - 64))
    defaults = inspect.signature(type(embedder)).parameters
    extra = "".join(
        f", {name}={json.dumps(getattr(embedder, name), ensure_ascii=False)}"
        for name in ("pooling", "max_length")
        if getattr(embedder, name) != defaults[name].default
    )
    if embedder.trust_remote_code:  # the saved folder holds the model's own code too
        extra += ", trust_remote_code=True"
    layers = getattr(embedder, "matryoshka_layers_", None)
    if layers:  # 2D: the shallowest trained depth is the fast encoder it was trained for
        extra += f", n_layers={min(layers)}"
    # a Python string literal that keeps the path's letters ('modèle', not 'mod\\u00e8le')
    model = json.dumps(str(output), ensure_ascii=False)
    return [
        "use it:",
        "  from skmrl import MatryoshkaEmbedder",
        f"  emb = MatryoshkaEmbedder(model={model}, dim={dim}{extra})",
    ]


def run(args: argparse.Namespace) -> int:
    """``skmrl finetune``."""
    try:
        plan = _plan(args)
    except Refused as exc:
        args.parser.error(f"argument {exc.argument}: {exc.message}")
    what = textwrap.fill(
        _what(args, plan),
        100,
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    start = time.perf_counter()
    done = False
    try:
        # in the try: a first print that fails (stdout closed by `| true`, a full disk) left
        # the folders made for the output behind
        print(what, flush=True)
        embedder = _train(args, plan)
        seconds = time.perf_counter() - start
        _save(embedder, plan.output)
        done = True
    except RUN_ERRORS as exc:
        print(f"skmrl finetune: error: {cli_spelling(str(exc), args.parser)}", file=sys.stderr)
        return 1
    finally:
        if not done:  # no half-written model folder, nor the parents made for it, is left
            remove_made_folders(plan.created)
    output = plan.output.resolve()
    dims = ", ".join(map(str, embedder.matryoshka_dims_))
    print(
        f"trained in {seconds:.1f} s on {plan.n_rows} rows (device {embedder.device_}); "
        f"prefixes {dims} of {embedder.max_dim_} dims"
    )
    losses = getattr(embedder, "training_losses_", None)
    if losses and len(losses) > 1:
        print(
            f"encoder training loss: {losses[0]:.4f} at the first step, "
            f"{losses[-1]:.4f} at the last"
        )
    elif losses:
        print(f"encoder training loss: {losses[0]:.4f} (one step)")
    print(f"{'replaced the model in' if plan.replaces else 'saved to'} {output}")
    print("\n".join(_usage(output, embedder)))
    return 0


# -- the parser ------------------------------------------------------------------------------------
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl finetune`` on the subparsers ``sub``."""
    parser = add_command(
        sub,
        "finetune",
        "make an encoder Matryoshka from a CSV file and save it as a model folder",
        _DESCRIPTION,
        _EPILOG,
    )
    data = add_csv_data(parser)
    data.add_argument(
        "--label-col",
        metavar="COLUMN",
        help="class labels of the texts: a supervised fit (at least 2 classes)",
    )
    data.add_argument(
        "--pair-col",
        metavar="COLUMN",
        help="the second sentence of each pair (the first: the text column); needs --score-col",
    )
    data.add_argument(
        "--score-col",
        metavar="COLUMN",
        help="a similarity score per pair, numbers on any scale (only their order matters)",
    )
    data.add_argument(
        "--limit",
        type=int_at_least(1, "a positive int (a number of rows)"),
        metavar="N",
        help="use only the first N rows",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="MODEL_DIR",
        help="the folder to save the model to: new, empty, or a model skmrl saved (replaced "
        "whole, once the new one is complete: a failed or interrupted run keeps it; refused "
        "when it holds DATA or files a save does not write)",
    )
    train = parser.add_argument_group("training")
    train.add_argument(
        "--method",
        choices=_METHODS,
        default="adaptor",
        help="adaptor (default: the cheap route, the encoder stays frozen), pca (no training), "
        "full (trains the encoder's weights: minutes on a CPU) or full+adaptor",
    )
    train.add_argument(
        "--model",
        default=_DEFAULT_MODEL,
        metavar="MODEL",
        help="the encoder to start from: a model folder (one saved by skmrl is trained with the "
        "pooling and max length it was saved with, unless --max-length), or a Hugging Face id in "
        f"the local cache (default: {_DEFAULT_MODEL}, packaged)",
    )
    add_trust_remote_code(train)
    train.add_argument(
        "--epochs",
        type=int_at_least(1, "a positive int"),
        metavar="N",
        help="passes over the data (default: 10 for the adaptor, 1 for full; for full, 4 give "
        "far better prefixes at 4 times the cost, with --learning-rate 1e-4 for texts without "
        "--label-col or --pair-col); refused with --method pca, and with --method adaptor "
        "plus --label-col (closed-form rotations: nothing is trained)",
    )
    train.add_argument(
        "--learning-rate",
        type=positive_float,
        metavar="X",
        help="the learning rate (default: 1e-3 for the adaptor; for full, 1e-4 with "
        "--pair-col or --label-col, else 2e-5); refused with --method pca, and with --method "
        "adaptor plus --label-col (closed-form rotations)",
    )
    train.add_argument(
        "--batch-size",
        type=int_at_least(2, "an int >= 2"),
        metavar="N",
        help="texts (with --pair-col: pairs) per training step of full and full+adaptor "
        "(default: 32)",
    )
    train.add_argument(
        "--accumulation-steps",
        type=int_at_least(1, "a positive int"),
        metavar="K",
        help="add up the gradients of K batches before each optimiser step of full and "
        "full+adaptor: steps of K x --batch-size texts, in the memory of one batch (default: 1)",
    )
    train.add_argument(
        "--matryoshka-dims",
        type=int_at_least(1, "a positive int"),
        nargs="+",
        metavar="DIM",
        help="the prefix sizes to train, increasing (default: 8 16 32 ... below the model's "
        "size, and its size); refused with --method pca, and with --method adaptor plus "
        "--label-col (closed-form rotations, nested at every size)",
    )
    train.add_argument(
        "--matryoshka-layers",
        type=int_at_least(1, "a positive int (a number of layers)"),
        nargs="+",
        metavar="N",
        help="with --method full: also train the output of the first N layers at every prefix "
        "(2D Matryoshka), so that n_layers=N is a good, faster encoder (default: the full "
        "depth only)",
    )
    add_device(train)
    add_max_length(train)
    add_no_progress(train)
    parser.set_defaults(func=run, parser=parser)
    return parser
