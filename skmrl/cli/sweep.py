"""``skmrl sweep``: accuracy against ``dim`` for each embedder, on the user's labelled CSV file.

The demo's table on your data: :func:`skmrl.evaluation.compare` fits each embedder once per
stratified CV fold at full size and slices every ``dim`` from those vectors, a LogisticRegression
is scored at each size, and the smallest ``dim`` whose mean accuracy is within ``--tolerance``
(absolute, default 0.01) of the embedder's best is printed, and the majority-class rate beside the
table (a warning names an embedder that scores just that at every dim: a classifier that always
predicts the most common class). ``--out`` writes the long table
(:meth:`~skmrl.evaluation.Comparison.to_frame`) as CSV, ``--plot`` the curves as an image.
``--layers`` also scores the matryoshka embedder at those depths (its first N layers, one
every-layer encoding, ``dim_curve(..., layers=...)``): a depth x dim table with each depth's encode
time, the cheapest (depth, dim) within the tolerance, and ``--depth-plot`` its heatmap. The whole
file, the model, the cache folder and the outputs are checked before any model is loaded: a problem
is a one-line argparse error (exit status 2).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import math
import os
import random
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skmrl._folders import same_file
from skmrl.cli._columns import column, distinct_columns, label_cells, text_cells
from skmrl.cli._common import (
    RUN_ERRORS,
    TFIDF_MAX_DIM,
    W2V_MAX_DIM,
    add_command,
    add_csv_data,
    add_device,
    add_max_length,
    add_no_progress,
    add_trust_remote_code,
    agg_pyplot,
    built_size,
    cache_folder,
    cache_problem,
    cli_spelling,
    custom_code_problem,
    device_problem,
    embedder_choice,
    encoder_max_length,
    int_at_least,
    model_config,
    output_file_problem,
    plot_problem,
    progress_setting,
    refuse_model_limits,
    refuse_unused,
    saved_settings,
    speed_against,
    stdout_to_devnull,
    write_whole,
)
from skmrl.cli._csv import read_table
from skmrl.cli._refused import Refused

_DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_EMBEDDERS = ("tfidf", "word2vec", "matryoshka", "adaptor")
#: The embedders that run the transformer (they use --model, --max-length and the cache).
_ENCODERS = ("matryoshka", "adaptor")
#: The embedders that run on torch (they use --device).
_TORCH = ("word2vec", "matryoshka", "adaptor")
#: A mean accuracy this close to the majority-class rate is that rate in the 3-digit table.
_MAJORITY_SLACK = 0.0015

_DESCRIPTION = (
    "Accuracy against the embedding size dim, for each embedder, on your labelled CSV file: "
    "the table of 'skmrl demo' on your data. Each embedder is fitted once per stratified CV "
    "fold at full size and every dim is a slice of its vectors; a LogisticRegression is scored "
    "at each size. The smallest dim whose mean accuracy is within --tolerance of the "
    "embedder's best is printed (by default 0.01: one percentage point), and the accuracy of "
    "always predicting the most common class beside the table. Embedders: tfidf "
    "(TfidfBaseline: LSA of the TF-IDF), word2vec (Word2VecEmbedder, trained on each fold), "
    "matryoshka (MatryoshkaEmbedder: the packaged all-MiniLM-L6-v2, or --model), adaptor (the "
    "same vectors rotated by a MatryoshkaAdaptor fitted on each fold's labels). --layers also "
    "scores the matryoshka embedder at several depths (its first N layers) from one every-layer "
    "encoding: a depth x dim table with each depth's encode time per 1,000 texts, and the "
    "cheapest (depth, dim) within --tolerance of the best. The file, the model and the outputs "
    "are checked before any model is loaded."
)

_EPILOG = """\
examples:
  skmrl sweep news.csv --text-col text --label-col topic
  skmrl sweep spam.csv --text-col text --label-col spam --embedder tfidf adaptor \\
      --dims 8 16 32 64 --out results.csv --plot curve.png
  skmrl sweep tickets.csv --text-col body --label-col team --model my-model --limit 2000
  skmrl sweep news.csv --text-col text --label-col topic --embedder matryoshka \\
      --layers 2 3 4 6 --depth-plot depth.png
"""


def _tolerance(value: str) -> float:
    """``--tolerance``: a finite number ``>= 0``."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value!r}")
    return number


# -- the checks ------------------------------------------------------------------------------------
def _check_options(args: argparse.Namespace) -> int | None:
    """The outputs and the model (found, not loaded); the data file comes after. Returns the
    transformer's full size (its config's ``hidden_size``, as :func:`skmrl.models._config_sizes`
    reads it), None where not known or where no embedder runs it."""
    if args.device != "auto" and not any(name in _TORCH for name in args.embedder):
        raise Refused("--device", f"is for the torch embedders ({', '.join(_TORCH)}) only")
    if args.out is not None:
        problem = output_file_problem(args.out, (".csv",), "a .csv file")
        if problem is None and importlib.util.find_spec("pandas") is None:
            problem = "writing the results needs pandas: pip install pandas"
        if problem is None and same_file(args.out, args.data):
            problem = (
                f"{args.out!r} is the DATA file: the results would replace your data (name "
                "another file)"
            )
        if problem:
            raise Refused("--out", problem)
    for option, path in (("--plot", args.plot), ("--depth-plot", args.depth_plot)):
        problem = None if path is None else plot_problem(path)
        if problem:
            raise Refused(option, problem)
    if args.plot is not None and args.depth_plot is not None:
        if same_file(args.plot, args.depth_plot):
            raise Refused("--depth-plot", f"{args.depth_plot!r} is also the --plot file")
    if (args.layers or args.depth_plot) and "matryoshka" not in args.embedder:
        option = "--layers" if args.layers else "--depth-plot"
        raise Refused(
            option, "scores the matryoshka embedder's depths: add matryoshka to --embedder"
        )
    if args.depth_plot and not args.layers:
        raise Refused("--depth-plot", "draws the depth x dim table: give --layers too")
    encoders = [name for name in args.embedder if name in _ENCODERS]
    if not encoders:
        given = (
            ("--model", args.model),
            ("--max-length", args.max_length),
            ("--cache-dir", args.cache_dir),
            ("--trust-remote-code", args.trust_remote_code),
        )
        refuse_unused(given, "the embedders matryoshka and adaptor")
        return None
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
        config, args.model or _DEFAULT_MODEL, args.max_length, args.trust_remote_code
    )
    from skmrl.models import _config_sizes  # the library's reading (dim_curve's too)

    hidden, depth = _config_sizes(config)
    if args.layers and depth is not None and max(args.layers) > depth:
        raise Refused(
            "--layers", f"the model has {depth} layers, so each must be in 1..{depth}, got "
            f"{max(args.layers)}"
        )  # fmt: skip
    if args.layers and depth is not None and min(args.layers) < depth:
        # the library refuses it once the model is loaded (exit 1 after the table's header)
        from skmrl._saved_model import ADAPTOR_FILE, adaptor_digest

        if adaptor_digest(os.path.expanduser(args.model or _DEFAULT_MODEL)) is not None:
            raise Refused(
                "--layers", f"the model holds an skmrl adaptor ({ADAPTOR_FILE}) made for the "
                f"output of all {depth} layers, so the depths below {depth} cannot be scored "
                "with it: leave --layers out, or give its base model"
            )  # fmt: skip
    if hidden is None:
        return None
    if args.dims and min(args.dims) > hidden:
        # the transformer's rows are left out of the table (_compare), unless nothing is left
        if args.layers:
            raise Refused(
                "--dims", f"every one is more than the model's {hidden} dims (for --layers)"
            )
        if len(encoders) == len(args.embedder):
            raise Refused(
                "--dims", f"every one is more than the model's {hidden} dims (for "
                f"{' and '.join(encoders)})"
            )  # fmt: skip
    return hidden


def _check_classes(labels: list[str], folds: int, subset: str) -> None:
    """Every class needs ``folds`` members (stratified CV puts one in each fold)."""
    counts = collections.Counter(labels)
    poorest, have = min(counts.items(), key=lambda item: (item[1], item[0]))
    if have >= folds:
        return
    if have < 2:
        raise Refused(
            "--label-col",
            f"class {poorest!r} has a single row{subset}: cross-validation needs at least 2 rows "
            "of every class (drop its row or add more)",
        )
    raise Refused(
        "--folds",
        f"{folds}-fold CV needs {folds} rows of every class; class {poorest!r} has {have}"
        f"{subset} (use --folds {have} or fewer)",
    )


def _read_data(args: argparse.Namespace) -> tuple[list[str], list[str], int]:
    """The texts and labels (the --limit subset), and the number of rows in the file."""
    table = read_table(args.data, None)
    column(table, args.text_col, "--text-col")  # the columns first: a wrong file says so
    column(table, args.label_col, "--label-col")
    if len(table.rows) < 2:
        raise Refused("DATA", f"{table.shown} has {len(table.rows)} row(s): CV needs more")
    texts = text_cells(table, args.text_col, "--text-col")
    labels = label_cells(table, args.label_col, "classification needs at least two")
    n_rows = len(texts)
    subset = ""
    if args.limit is not None and args.limit < n_rows:
        # A seeded random subset, in file order: a file sorted by class keeps every class.
        keep = sorted(random.Random(0).sample(range(n_rows), args.limit))
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        subset = f" in the random subset of {args.limit} rows (--limit)"
        if len(set(labels)) < 2:
            raise Refused("--limit", f"the random subset of {args.limit} rows has a single class")
    _check_classes(labels, args.folds, subset)
    return texts, labels, n_rows


def _plan(args: argparse.Namespace) -> tuple[list[str], list[str], int, int | None]:
    """Every check, in order; nothing is loaded (torch is imported last, for --device). Returns
    the texts, their labels, the file's row count and the transformer's size
    (:func:`_check_options`)."""
    args.embedder = list(dict.fromkeys(args.embedder))  # each once, in the order given
    distinct_columns({"--text-col": args.text_col, "--label-col": args.label_col})
    hidden = _check_options(args)
    texts, labels, n_rows = _read_data(args)
    if any(name in _ENCODERS for name in args.embedder):
        problem = cache_problem(args.cache_dir)  # creates the folder: the last check but one
        if problem:
            raise Refused("--cache-dir", problem)
    if args.device != "auto" and any(name in _TORCH for name in args.embedder):
        problem = device_problem(args.device)
        if problem:
            raise Refused("--device", problem)
    return texts, labels, n_rows, hidden


# -- the embedders ---------------------------------------------------------------------------------
def _size(name: str, args: argparse.Namespace) -> int:
    """The size tfidf or word2vec is built at (:func:`~skmrl.cli._common.built_size`)."""
    return built_size(name, max(args.dims) if args.dims else None)


def _build(name: str, args: argparse.Namespace) -> Any:
    if name == "tfidf":
        from skmrl import TfidfBaseline

        return TfidfBaseline(max_dim=_size(name, args), sublinear_tf=True)
    if name == "word2vec":
        from skmrl import Word2VecEmbedder

        return Word2VecEmbedder(
            max_dim=_size(name, args),
            device=args.device,
            random_state=0,
            progress=progress_setting(args),
        )
    from skmrl import MatryoshkaEmbedder

    folder = cache_folder(args.cache_dir)
    model = args.model or _DEFAULT_MODEL
    params: dict[str, Any] = {
        "model": model,
        "device": args.device,
        "memory": None if folder is None else str(folder),
        "progress": progress_setting(args),
        "trust_remote_code": args.trust_remote_code,
        **saved_settings(model, args.max_length),  # a saved folder's, unless --max-length
    }
    if name == "adaptor":
        params["fine_tune"] = "adaptor"
    return MatryoshkaEmbedder(**params)


def _legend(name: str, args: argparse.Namespace) -> str:
    """What the embedder called ``name`` in the table is."""
    if name == "tfidf":
        return f"TfidfBaseline: LSA of the TF-IDF (sublinear tf), up to {_size(name, args)} dims"
    if name == "word2vec":
        return f"Word2VecEmbedder: skip-gram trained on each fold, {_size(name, args)} dims"
    model = args.model or "all-MiniLM-L6-v2 (packaged)"
    folder = cache_folder(args.cache_dir)
    cache = "no disk cache" if folder is None else f"vectors cached in {folder}"
    if name == "matryoshka":
        max_length = encoder_max_length(args.model or _DEFAULT_MODEL, args.max_length)
        return (
            f"MatryoshkaEmbedder: {model}, max_length={max_length}, device {args.device}; {cache}"
        )
    return "the matryoshka vectors rotated by a MatryoshkaAdaptor fitted on each fold's labels"


# -- the run ---------------------------------------------------------------------------------------
def _chosen(comparison: Any, tolerance: float) -> list[str]:
    """One line per embedder: its smallest good dim, its best, and its time."""
    lines = []
    for name, curve in comparison.curves.items():
        dim = curve.smallest_dim(tolerance)
        at = int(list(curve.dims).index(dim))
        best = int(curve.mean.argmax())
        shared = (
            " (the matryoshka row's vectors, cached)"
            if name == "adaptor" and "matryoshka" in comparison.curves
            else ""
        )
        lines.append(
            f"  {name}: dim {dim} (accuracy {curve.mean[at]:.3f}; best {curve.mean[best]:.3f} at "
            f"dim {int(curve.dims[best])}); fit {curve.fit_seconds:.1f} s, encode "
            f"{curve.encode_seconds:.1f} s over the folds{shared}"
        )
    return lines


def _compare(
    args: argparse.Namespace, texts: list[str], labels: list[str], hidden: int | None
) -> tuple[Any, dict[str, str]]:
    """:func:`skmrl.evaluation.compare` of the embedders, and those left out: their names, each
    with why (the size that every one of ``--dims`` is above).

    With ``--dims``, an embedder whose size (known once fitted: TF-IDF's is the rank of the
    smallest fold's matrix) is below every one of them scores none: it is left out of the
    table, as ``--help`` says, and the others are scored. The transformer's size is its
    model's, ``hidden`` (``hidden_size``, read without loading it; None where not known): its
    rows are left out before any encoding. Each is compared alone, on the same folds (an int
    ``cv`` is a seeded splitter); when none scores any size, the error names each.
    """
    from skmrl.evaluation import Comparison, compare
    from skmrl.evaluation._common import _DimsAboveSize

    curves: dict[str, Any] = {}
    unscored: dict[str, str] = {}
    reasons: dict[str, str] = {}
    # the adaptor reads the matryoshka row's vectors from the cache: matryoshka first, so that
    # its row shows their encoding, whatever the order of --embedder (the table keeps that order)
    for name in sorted(args.embedder, key=lambda name: name == "adaptor"):
        if name in _ENCODERS and hidden is not None and args.dims and min(args.dims) > hidden:
            unscored[name] = (
                f"every one of dims {sorted(set(args.dims))} is above the model's {hidden}"
            )
            reasons[name] = f"each above the model's {hidden} dims"
            continue
        try:
            one = compare(
                {name: _build(name, args)}, texts, labels, dims=args.dims, cv=args.folds,
                progress=progress_setting(args),
            )  # fmt: skip
        except _DimsAboveSize as exc:  # supports none of dims (compare clips the others)
            unscored[name] = str(exc).removeprefix(f"embedders[{name!r}]: ")
            reasons[name] = "each above its size, in one fold"
            continue
        curves.update(one.curves)
    if not curves:
        raise ValueError("; ".join(f"{name}: {message}" for name, message in unscored.items()))
    return Comparison({name: curves[name] for name in args.embedder if name in curves}), reasons


def _skipped(comparison: Any, dims: list[int] | None, unscored: dict[str, str]) -> list[str]:
    """One line per embedder that left out some of ``--dims`` (those above its size, which for
    TF-IDF is the rank of the smallest fold's matrix): they were dropped without a word. An
    embedder in ``unscored`` (its name, and why) scored none of them, and is not in the table."""
    lines = []
    for name, curve in comparison.curves.items():
        left_out = sorted(set(dims or ()) - {int(d) for d in curve.dims})
        if left_out:
            sizes = ", ".join(str(d) for d in left_out)
            lines.append(f"  {name}: {sizes} (above its size, in one fold at least)")
    for name, why in unscored.items():
        sizes = ", ".join(str(d) for d in sorted(set(dims or ())))
        lines.append(f"  {name}: {sizes} ({why}): not in the table")
    return lines


def _majority(labels: list[str]) -> tuple[str, float]:
    """The most common class (the first by name in a tie) and its share of the rows: the accuracy
    of a classifier that always predicts it."""
    counts = collections.Counter(labels)
    name, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return name, count / len(labels)


def _at_majority(comparison: Any, rate: float) -> list[str]:
    """The embedders whose mean accuracy is the majority-class rate at every dim, to the table's
    rounding (the folds' rates differ a little from the whole file's): a classifier that learned
    nothing but the most common class."""
    return [
        name
        for name, curve in comparison.curves.items()
        if all(abs(float(mean) - rate) <= _MAJORITY_SLACK for mean in curve.mean)
    ]


def _depth_grid(args: argparse.Namespace, texts: list[str], labels: list[str]) -> Any:
    """The matryoshka embedder over ``--layers`` x dims, on the same folds as the sweep."""
    from skmrl.evaluation._run import _dim_curve

    embedder = _build("matryoshka", args).set_params(cache_layers=True)
    # --dims may hold sizes for other embedders: the ones above the model's size are left out,
    # as compare() does
    return _dim_curve(
        embedder, texts, labels, dims=args.dims, cv=args.folds, layers=args.layers,
        progress=progress_setting(args), _clip_dims=args.dims is not None,
    )  # fmt: skip


def _charge_the_depth_pass(curve: Any, grid: Any) -> None:
    """Give the matryoshka row the time of the ``--layers`` pass whose cached vectors it read.

    Its own fits and encodings are cache hits (close to 0 s, with ``--cache-dir none`` too):
    what its vectors cost is the depth grid's fits (the same for every depth, which share them)
    and its one every-layer encoding (the depths' encode times summed: the first depth's pass
    runs every layer, the others read the cache).

    Examples
    --------
    >>> from skmrl.evaluation import DepthDimCurves, DimCurve
    >>> depth = {d: DimCurve([8], [[0.9]], fit_seconds=2.0, encode_seconds=e)
    ...          for d, e in [(2, 7.0), (6, 0.1)]}
    >>> row = DimCurve([8], [[0.9]], fit_seconds=0.01, encode_seconds=0.002)
    >>> _charge_the_depth_pass(row, DepthDimCurves(depth))
    >>> row.fit_seconds, row.encode_seconds
    (2.0, 7.1)
    """
    curves = list(grid.curves.values())
    curve.fit_seconds = float(curves[0].fit_seconds)
    curve.encode_seconds = float(sum(c.encode_seconds for c in curves))


def _depth_lines(grid: Any, tolerance: float) -> list[str]:
    """The depth x dim table and the cheapest (depth, dim) within ``tolerance`` of the best."""
    depth, dim = grid.cheapest(tolerance)
    at = grid.curves[depth].mean[int(list(grid.dims).index(dim))]
    deepest = int(grid.layers[-1])
    seconds = grid.encode_seconds_per_1000
    layers = f"{depth} layer" + ("s" if depth != 1 else "")
    said = f"cheapest within {tolerance:g} of the best: {layers}, dim {dim} (accuracy {at:.3f}"
    if depth != deepest:
        said += f"; encodes {speed_against(seconds[depth], seconds[deepest], f'{deepest} layers')}"
    return [
        "matryoshka over depth x dim (rows: its first N layers, one every-layer encoding; each "
        "depth's encode time measured apart):",
        grid.to_markdown(digits=3, tolerance=tolerance),
        said + ")",
    ]


def _figure(comparison: Any, title: str, tolerance: float) -> Any:
    """The curves, each one's chosen size ringed: the dims the sweep printed."""
    from skmrl.plotting import plot_dim_curves

    agg_pyplot()
    return plot_dim_curves(comparison, title=title, tolerance=tolerance)


def _write_plot(comparison: Any, path: str, title: str, tolerance: float) -> None:
    plt = agg_pyplot()
    fig = _figure(comparison, title, tolerance)
    fig.savefig(Path(path).expanduser(), dpi=120)
    plt.close(fig)


def _write_depth_plot(grid: Any, path: str, name: str) -> None:
    from skmrl.plotting import plot_depth_dim

    plt = agg_pyplot()
    fig = plot_depth_dim(grid, title=f"{name}: accuracy over depth and embedding size")
    # tight: the title (it names the file) is wider than the table of a few sizes, and was cut
    # at both sides ("am150.csv: accuracy ...")
    fig.savefig(Path(path).expanduser(), dpi=120, bbox_inches="tight")
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    """``skmrl sweep``."""
    try:
        texts, labels, n_rows, hidden = _plan(args)
    except Refused as exc:
        args.parser.error(f"argument {exc.argument}: {exc.message}")
    subset = (
        f" (a random subset of {len(texts)} of its {n_rows} rows)" if len(texts) < n_rows else ""
    )
    header = (
        f"skmrl sweep: {args.data!r}{subset}: {len(texts)} texts (column {args.text_col!r}), "
        f"{len(set(labels))} classes (column {args.label_col!r}). Accuracy (mean ± std over "
        f"{args.folds}-fold stratified CV, LogisticRegression) against dim."
    )
    # Said before the run, flushed: a reader that goes away here (a pipe into head) stops
    # reading, not the sweep, whose --out and --plot are still written (then 141, as main
    # returns for a closed pipe).
    stopped_reading = False
    try:
        print(textwrap.fill(header, 100, break_long_words=False, break_on_hyphens=False))
        for name in args.embedder:
            print(f"  {name}: {_legend(name, args)}", flush=True)
    except BrokenPipeError:
        stopped_reading = True
        stdout_to_devnull()
    start = time.perf_counter()
    grid = None
    try:
        if args.layers:  # first: its every-layer pass also caches the matryoshka row's vectors
            grid = _depth_grid(args, texts, labels)
        comparison, unscored = _compare(args, texts, labels, hidden)
        if grid is not None and "matryoshka" in comparison.curves:
            _charge_the_depth_pass(comparison.curves["matryoshka"], grid)
    except RUN_ERRORS as exc:
        print(f"skmrl sweep: error: {cli_spelling(str(exc), args.parser)}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    # the files first: a stdout that fails (a pipe into head, a full disk) loses no result
    written, failed = _write_outputs(args, comparison, grid)
    print()
    print(comparison.to_markdown(digits=3, tolerance=args.tolerance))
    skipped = _skipped(comparison, args.dims, unscored)
    if skipped:
        print("--dims not scored:\n" + "\n".join(skipped))
    majority, rate = _majority(labels)
    print(f"majority class: {rate:.3f} (a classifier that always predicts {majority!r})")
    flat = _at_majority(comparison, rate)
    if flat:
        warnings.warn(
            f"{', '.join(flat)} scored the majority-class rate ({rate:.3f}) at every dim: the "
            f"classifier most likely always predicts {majority!r}, and the curve says nothing "
            "about dim (too few rows, or classes too unbalanced?)",
            UserWarning,
            stacklevel=1,
        )
    print(f"\nsmallest dim within {args.tolerance:g} of each embedder's best accuracy:")
    print("\n".join(_chosen(comparison, args.tolerance)))
    if grid is not None:
        print()
        print("\n".join(_depth_lines(grid, args.tolerance)))
    print(f"swept in {seconds:.1f} s")
    for line in written:
        print(line)
    if failed is not None:
        print(f"skmrl sweep: error: {failed}", file=sys.stderr)
        return 1
    return 141 if stopped_reading else 0


def _write_outputs(
    args: argparse.Namespace, comparison: Any, grid: Any
) -> tuple[list[str], str | None]:
    """Write the files asked for, in turn until one fails: the lines saying which were
    written, and the error of the one that failed (None when none did).

    Only a write is the output's error: a print that fails is stdout's, which main reports as
    such (a full stdout was called "skmrl sweep: error: [Errno 28] ...").
    """
    written = []
    for write, said in _outputs(args, comparison, grid):
        try:
            write()
        except BrokenPipeError:  # a figure to a pipe whose reader went away: main stops quietly
            raise
        except (OSError, ImportError, ValueError) as exc:
            return written, cli_spelling(str(exc), args.parser)
        written.append(said)
    return written, None


def _outputs(
    args: argparse.Namespace, comparison: Any, grid: Any
) -> list[tuple[Callable[[], None], str]]:
    """The files asked for (``--out``, ``--plot``, ``--depth-plot``): for each, what writes it
    and the line that says it was written."""
    outputs: list[tuple[Callable[[], None], str]] = []
    if args.out is not None:
        out = Path(args.out).expanduser()

        def write_out() -> None:
            frame = comparison.to_frame()
            write_whole(out, lambda f: frame.to_csv(f, index=False, encoding="utf-8"))

        outputs.append((write_out, f"results written to {args.out}"))
    if args.plot is not None:
        title = f"{Path(args.data).name}: accuracy against embedding size"
        outputs.append(
            (
                lambda: _write_plot(comparison, args.plot, title, args.tolerance),
                f"plot written to {args.plot}",
            )
        )
    if args.depth_plot is not None:
        outputs.append(
            (
                lambda: _write_depth_plot(grid, args.depth_plot, Path(args.data).name),
                f"depth x dim heatmap written to {args.depth_plot}",
            )
        )
    return outputs


# -- the parser ------------------------------------------------------------------------------------
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl sweep`` on the subparsers ``sub``."""
    parser = add_command(
        sub,
        "sweep",
        "accuracy against dim for each embedder on your labelled CSV file",
        _DESCRIPTION,
        _EPILOG,
    )
    data = add_csv_data(parser)
    data.add_argument(
        "--label-col",
        required=True,
        metavar="COLUMN",
        help="the class labels (required): at least 2 classes, each with --folds rows",
    )
    data.add_argument(
        "--limit",
        type=int_at_least(1, "a positive int (a number of rows)"),
        metavar="N",
        help="use a seeded random subset of N rows (default: every row)",
    )
    sweep = parser.add_argument_group("the sweep")
    sweep.add_argument(
        "--embedder",
        nargs="+",
        type=embedder_choice(*_EMBEDDERS),
        default=list(_EMBEDDERS),
        metavar="NAME",
        help="the embedders to compare: tfidf, word2vec, matryoshka, adaptor (default: all four)",
    )
    sweep.add_argument(
        "--dims",
        nargs="+",
        type=int_at_least(1, "a positive int"),
        metavar="DIM",
        help="embedding sizes to score; each embedder skips those above its size (one below "
        "every size is left out of the table, with a note). tfidf and word2vec are built at "
        f"{TFIDF_MAX_DIM} and {W2V_MAX_DIM} dims (their max_dim), or the largest DIM where "
        "it is larger, as skmrl embed builds them. Default: each embedder's powers of two "
        "from 8, and its full size",
    )
    sweep.add_argument(
        "--layers",
        nargs="+",
        type=int_at_least(1, "a positive int (a number of layers)"),
        metavar="N",
        help="also score the matryoshka embedder at these depths (its first N layers) and every "
        "dim, from one every-layer encoding: a depth x dim table with each depth's encode time",
    )
    sweep.add_argument(
        "--folds",
        type=int_at_least(2, "an int >= 2 (the number of CV folds)"),
        default=5,
        help="stratified CV folds, at least 2 (default: 5)",
    )
    sweep.add_argument(
        "--tolerance",
        type=_tolerance,
        default=0.01,
        metavar="X",
        help="the chosen dim is the smallest within X (absolute accuracy) of the best "
        "(default: 0.01)",
    )
    model = parser.add_argument_group("the transformer (matryoshka and adaptor)")
    model.add_argument(
        "--model",
        metavar="MODEL",
        help="a model folder (e.g. one saved by 'skmrl finetune'; embedded with the pooling and "
        "max length it was saved with, unless --max-length), or a Hugging Face id in the "
        f"local cache (default: {_DEFAULT_MODEL}, packaged)",
    )
    add_trust_remote_code(model)
    add_max_length(model)
    add_device(model, also="; also word2vec's training device")
    model.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="disk cache of the transformer's vectors (default: $SKMRL_CACHE_DIR, else "
        "$XDG_CACHE_HOME/skmrl, else ~/.cache/skmrl); 'none' turns it off",
    )
    out = parser.add_argument_group("outputs")
    out.add_argument(
        "--out",
        metavar="FILE.csv",
        help="write the results as CSV: one row per embedder and dim (mean, std, bytes, "
        "seconds); replaced if it exists, its folder must exist",
    )
    out.add_argument(
        "--plot",
        metavar="FILE.png",
        help="plot accuracy against dim to this image file (needs matplotlib; replaced if it "
        "exists)",
    )
    out.add_argument(
        "--depth-plot",
        metavar="FILE.png",
        help="with --layers: the depth x dim heatmap to this image file (needs matplotlib; "
        "replaced if it exists)",
    )
    add_no_progress(out)
    parser.set_defaults(func=run, parser=parser)
    return parser
