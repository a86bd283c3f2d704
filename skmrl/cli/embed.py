"""``skmrl embed``: the vectors of a file's texts, written as ``.npy`` or ``.parquet``.

``INPUT`` is a ``.txt`` file (one text per line) or a CSV file (``--text-col``). An empty line or
cell is refused with its number, unless ``--skip-empty`` leaves it out: the output then has a row
per text kept, in file order, and says which row of ``INPUT`` each came from (see below). The
embedder is the packaged MatryoshkaEmbedder by default
(``--model DIR`` for another folder, e.g. one saved by ``skmrl finetune``: its adaptor is applied);
``--embedder tfidf`` or ``word2vec`` fits that embedder on the texts themselves first.

``OUT.npy`` holds a float32 array of shape ``(n_texts, dim)``; ``OUT.parquet`` a table with a row
per text: ``text`` (string) and ``embedding`` (a fixed-size list of ``dim`` float32), written
with pyarrow (``pip install 'skmrl[parquet]'``). With ``--skip-empty``, the 0-based row of
``INPUT`` of each text (its line of a ``.txt`` file; its data row of a CSV file, the header and
blank lines not counted, as ``pandas.read_csv`` numbers them) is written too: as an int64 array
``OUT.rows.npy`` beside ``OUT.npy``, or as a first column ``row`` (int64) of ``OUT.parquet``.
Each file is written whole or not at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from skmrl.cli._common import (
    RUN_ERRORS,
    add_command,
    add_device,
    add_max_length,
    add_no_progress,
    add_trust_remote_code,
    built_size,
    cache_folder,
    cache_problem,
    cli_spelling,
    custom_code_problem,
    device_problem,
    embedder_choice,
    int_at_least,
    model_config,
    output_file_problem,
    progress_setting,
    refuse_model_limits,
    refuse_unused,
    saved_settings,
    write_whole,
)
from skmrl.cli._refused import Refused
from skmrl.cli._texts import check_input, read_texts

_DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_EMBEDDERS = ("matryoshka", "tfidf", "word2vec")
_OUTPUTS = (".npy", ".parquet")
#: What ``--skip-empty`` adds beside ``OUT.npy``: the row of ``INPUT`` of each vector.
_ROWS_SUFFIX = ".rows.npy"

_DESCRIPTION = (
    "Embed the texts of a file and write their vectors: INPUT is a .txt file (one text per line) or"
    " a CSV file (--text-col names the column); OUT.npy gets a float32 array of shape (n_texts, "
    "dim), OUT.parquet a row per text with the text and its vector (needs pyarrow: pip install "
    "'skmrl[parquet]'). An empty line or cell is an error naming it, unless --skip-empty leaves it "
    "out; the 0-based row of INPUT of each text kept is then written too (its line; for a CSV file "
    "its data row, as pandas.read_csv numbers them): as OUT.rows.npy beside OUT.npy, or as a first "
    "column 'row' of OUT.parquet. The embedder is the packaged all-MiniLM-L6-v2 "
    "(MatryoshkaEmbedder) unless --model names another (a folder saved by 'skmrl finetune', say); "
    "--embedder tfidf or word2vec fits that embedder on the texts themselves (at 256 and 128 dims,"
    " as 'skmrl sweep' does by default, or --dim where larger). --dim keeps the first dim "
    "coordinates, re-normalised (default: the full size)."
)

_EPILOG = """\
examples:
  skmrl embed sentences.txt -o vectors.npy --dim 64
  skmrl embed news.csv --text-col text -o news.parquet --model news-model --dim 32
  skmrl embed notes.txt --skip-empty -o notes.npy --embedder tfidf --dim 100

then, in Python:
  import numpy as np; X = np.load("vectors.npy")            # shape (n_texts, 64)
  import pandas as pd; df = pd.read_parquet("news.parquet")  # columns text, embedding
  rows = np.load("notes.rows.npy")  # --skip-empty: the line of notes.txt of each row of notes.npy
"""


# -- the checks ------------------------------------------------------------------------------------
def _check_options(args: argparse.Namespace) -> None:
    problem = output_file_problem(args.output, _OUTPUTS, "a .npy or .parquet file")
    suffix = Path(args.output).suffix.lower()
    if problem is None and suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            problem = "writing .parquet needs pyarrow: pip install 'skmrl[parquet]'"
    if problem is None and suffix == ".npy" and args.skip_empty:
        rows = _rows_file(Path(args.output).expanduser())
        problem = output_file_problem(str(rows), (".npy",), "a .npy file")
        if problem:  # found once the vectors were made, in the words of its temporary file
            problem = f"{problem} (--skip-empty writes the rows of INPUT there)"
    if problem:
        raise Refused("-o/--output", problem)
    check_input(args.input, args.text_col)
    if args.embedder == "tfidf" and args.device != "auto":
        raise Refused("--device", "is for the torch embedders (matryoshka, word2vec) only")
    if args.embedder != "matryoshka":
        given = (
            ("--model", args.model),
            ("--max-length", args.max_length),
            ("--batch-size", args.batch_size),
            ("--cache-dir", args.cache_dir),
            ("--trust-remote-code", args.trust_remote_code),
        )
        refuse_unused(given, "--embedder matryoshka")
        return
    try:
        config = model_config(args.model or _DEFAULT_MODEL)
    except ValueError as exc:
        raise Refused("--model", str(exc)) from None
    problem = custom_code_problem(
        args.model or _DEFAULT_MODEL, args.trust_remote_code, getattr(args, "parser", None)
    )
    if problem:
        raise Refused("--model", problem)
    refuse_model_limits(
        config, args.model or _DEFAULT_MODEL, args.max_length, args.trust_remote_code, args.dim
    )


def _plan(args: argparse.Namespace) -> Any:
    _check_options(args)
    found = read_texts(args.input, args.text_col, args.skip_empty, args.limit)
    if args.cache_dir is not None:
        problem = cache_problem(args.cache_dir)  # creates the folder: after the other checks
        if problem:
            raise Refused("--cache-dir", problem)
    if args.embedder != "tfidf" and args.device != "auto":
        problem = device_problem(args.device)
        if problem:
            raise Refused("--device", problem)
    return found


# -- the run ---------------------------------------------------------------------------------------
def _build(args: argparse.Namespace) -> Any:
    """The embedder, unfitted, at its full size (``--dim`` is set once fitted): for tfidf and
    word2vec the size every command builds them at (:func:`~skmrl.cli._common.built_size`), so
    that ``--dim`` keeps the first coordinates of the embedder 'skmrl sweep' scores."""
    progress = progress_setting(args)
    if args.embedder == "tfidf":
        from skmrl import TfidfBaseline

        return TfidfBaseline(max_dim=built_size("tfidf", args.dim), sublinear_tf=True)
    if args.embedder == "word2vec":
        from skmrl import Word2VecEmbedder

        return Word2VecEmbedder(
            max_dim=built_size("word2vec", args.dim),
            device=args.device,
            random_state=0,
            progress=progress,
        )
    from skmrl import MatryoshkaEmbedder

    model = args.model or _DEFAULT_MODEL
    # a saved folder's pooling and max_length, unless --max-length says otherwise
    params: dict[str, Any] = {
        "model": model,
        "device": args.device,
        "trust_remote_code": args.trust_remote_code,
        **saved_settings(model, args.max_length),
    }
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    if args.cache_dir is not None:
        folder = cache_folder(args.cache_dir)
        params["memory"] = None if folder is None else str(folder)
    return MatryoshkaEmbedder(progress=progress, **params)


def _embed(args: argparse.Namespace, texts: list[str]) -> tuple[Any, Any]:
    """Fit, set ``dim`` (the full size by default) and transform: (vectors, the embedder)."""
    embedder = _build(args).fit(texts)
    full = embedder.max_dim_
    if args.dim is not None and args.dim > full:
        raise ValueError(
            f"--dim {args.dim} is more than the {full} dims the {args.embedder} embedder has "
            "on these texts"
        )
    embedder.set_params(dim=args.dim or full)
    return embedder.transform(texts), embedder


def _rows_file(output: Path) -> Path:
    """``OUT.rows.npy``, beside ``OUT.npy``: the row of ``INPUT`` of each vector."""
    return output.with_name(output.stem + _ROWS_SUFFIX)


def _write(path: Path, texts: list[str], vectors: Any, rows: list[int] | None = None) -> None:
    """Write to a temporary file beside ``path``, then move it there: whole or not at all.

    ``rows`` (with ``--skip-empty``): the row of ``INPUT`` of each text, written as a first
    column ``row`` of a ``.parquet`` file, or into :func:`_rows_file` beside a ``.npy`` one
    (moved there first, so that a failure leaves no new vectors beside stale rows, and removed
    when the vectors fail to be written, so that it never describes vectors it does not hold);
    without ``rows``, such a file left by an earlier run is removed.
    """
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    fmt = path.suffix.lower()  # the name the user gave says the format, not a link's target
    if fmt == ".npy":
        rows_file = _rows_file(path)
        if rows is not None:
            write_whole(rows_file, lambda f: np.save(f, np.asarray(rows, dtype=np.int64)))
        try:
            write_whole(path, lambda f: np.save(f, vectors))
        except BaseException:
            if rows is not None:  # beside the vectors left as they were, a join would misalign
                rows_file.unlink(missing_ok=True)
            raise
        # an earlier --skip-empty run's rows are not those of these vectors; a folder of that
        # name is not such a file, and is left as it is (it failed once the vectors were written)
        if rows is None and not rows_file.is_dir():
            rows_file.unlink(missing_ok=True)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    columns = {} if rows is None else {"row": pa.array(rows, type=pa.int64())}
    columns["text"] = pa.array(texts, type=pa.string())
    columns["embedding"] = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    write_whole(path, lambda f: pq.write_table(pa.table(columns), f))


def _what(args: argparse.Namespace, embedder: Any) -> str:
    if args.embedder == "tfidf":
        return "TfidfBaseline (LSA of the TF-IDF, fitted on these texts)"
    if args.embedder == "word2vec":
        return "Word2VecEmbedder (skip-gram, trained on these texts)"
    model = args.model or "all-MiniLM-L6-v2 (packaged)"
    return f"MatryoshkaEmbedder {model} on {embedder.device_}"


def run(args: argparse.Namespace) -> int:
    """``skmrl embed``."""
    try:
        found = _plan(args)
    except Refused as exc:
        args.parser.error(f"argument {exc.argument}: {exc.message}")
    texts = found.texts
    notes = []
    if found.skipped:
        notes.append(f"{found.skipped} empty left out")
    if found.limited:
        notes.append(f"the first {len(texts)} (--limit)")
    note = f" ({'; '.join(notes)})" if notes else ""
    print(f"skmrl embed: {len(texts):,} texts from {args.input!r}{note}", flush=True)
    start = time.perf_counter()
    output = Path(args.output).expanduser()
    try:
        vectors, embedder = _embed(args, texts)
        seconds = time.perf_counter() - start
        _write(output, texts, vectors, found.rows if args.skip_empty else None)
    except RUN_ERRORS as exc:
        print(f"skmrl embed: error: {cli_spelling(str(exc), args.parser)}", file=sys.stderr)
        return 1
    n, dim = vectors.shape
    of = f" (of {embedder.max_dim_})" if dim < embedder.max_dim_ else ""
    print(f"embedded with {_what(args, embedder)} at dim {dim}{of} in {seconds:.1f} s")
    if output.suffix.lower() == ".npy":
        rows = f", and the row of the input of each to {_rows_file(output)}"
        print(f"wrote {n:,} x {dim} float32 array to {output}{rows if args.skip_empty else ''}")
    else:
        what = "(row, text, embedding)" if args.skip_empty else "(text, embedding)"
        print(f"wrote {n:,} x {dim} rows {what} to {output}")
    return 0


# -- the parser ------------------------------------------------------------------------------------
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl embed`` on the subparsers ``sub``."""
    parser = add_command(
        sub,
        "embed",
        "write the vectors of a text or CSV file to .npy or .parquet",
        _DESCRIPTION,
        _EPILOG,
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        help=(
            "a .txt file (one text per line) or .csv/.tsv file (with --text-col), in UTF-8 or "
            "in UTF-16 with its byte-order mark"
        ),
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="OUT.npy (float32, one row per text) or OUT.parquet (text and vector per row); "
        "replaced if it exists, its folder must exist (with --skip-empty, OUT.rows.npy too; "
        "without it, an OUT.rows.npy of an earlier run is removed)",
    )
    data = parser.add_argument_group("the texts")
    data.add_argument("--text-col", metavar="COLUMN", help="the column of texts of a CSV INPUT")
    data.add_argument(
        "--skip-empty",
        action="store_true",
        help="leave out empty lines (or cells, and cells of a missing value: NaN, None, NA) "
        "instead of stopping at the first one, and write the 0-based row of INPUT of each text "
        "kept: OUT.rows.npy beside OUT.npy, or a column 'row' of OUT.parquet",
    )
    data.add_argument(
        "--limit",
        type=int_at_least(1, "a positive int (a number of texts)"),
        metavar="N",
        help="embed only the first N texts",
    )
    emb = parser.add_argument_group("the embedder")
    emb.add_argument(
        "--embedder",
        type=embedder_choice(*_EMBEDDERS),
        default="matryoshka",
        metavar="NAME",
        help="matryoshka (default: the transformer), tfidf or word2vec (fitted on the texts)",
    )
    emb.add_argument(
        "--dim",
        type=int_at_least(1, "a positive int"),
        metavar="DIM",
        help="keep the first DIM coordinates, re-normalised (default: the full size)",
    )
    emb.add_argument(
        "--model",
        metavar="MODEL",
        help="a model folder (e.g. saved by 'skmrl finetune'; embedded with the pooling and "
        "max length it was saved with, unless --max-length), or a Hugging Face id in the local "
        f"cache (default: {_DEFAULT_MODEL}, packaged)",
    )
    add_trust_remote_code(emb)
    add_device(emb)
    add_max_length(emb)
    emb.add_argument(
        "--batch-size",
        type=int_at_least(1, "a positive int"),
        metavar="N",
        help="texts per forward pass of the transformer (default: 64)",
    )
    emb.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="also keep the vectors in this disk cache, for re-runs (default: none)",
    )
    add_no_progress(emb)
    parser.set_defaults(func=run, parser=parser)
    return parser
