"""The ``skmrl`` command.

``skmrl demo``: accuracy against ``dim`` on BBC News (5-fold CV, LogisticRegression) for each
embedder (TfidfBaseline's LSA, Word2VecEmbedder and MatryoshkaEmbedder side by side), from one
``GridSearchCV`` over ``dim`` per embedder, with the time each grid took (for MatryoshkaEmbedder:
mostly the one encoding of the articles, which a disk cache makes instant on re-runs).

``skmrl cache info`` and ``skmrl cache clear``: what skmrl's disk cache holds, and emptying it.

Every argument is checked before any work starts (no dataset or model is loaded for a bad one),
and a bad one ends in a one-line argparse error and exit status 2. This module imports neither
torch nor scikit-learn itself: the subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skmrl import __version__

__all__ = ["main"]

#: ``skmrl --help``'s description (plain text: argparse prints it as is).
_DESCRIPTION = (
    "skmrl: text embeddings as scikit-learn transformers, with the embedding size (dim) as a "
    "hyperparameter. 'skmrl demo' compares the embedders' accuracy against dim on BBC News; "
    "'skmrl cache' shows or empties the disk cache of encoded vectors."
)

_DEMO_DESCRIPTION = (
    "Accuracy against the embedding size on BBC News (2,225 articles, 5 topics): one "
    "GridSearchCV over dim per embedder (TfidfBaseline's LSA, Word2VecEmbedder, "
    "MatryoshkaEmbedder), with LogisticRegression on top and stratified K-fold CV. "
    "MatryoshkaEmbedder's vectors are kept in a disk cache, so a re-run does not encode again."
)

_DEMO_EPILOG = """\
examples:
  skmrl demo                                  the full comparison (minutes on a CPU)
  skmrl demo --only tfidf --dims 8 32 128     TF-IDF + LSA only (seconds)
  skmrl demo --limit 300 --folds 3            a quick run on a random subset
  skmrl demo --plot accuracy.png              also plot accuracy against dim
"""

_CACHE_DESCRIPTION = (
    "Show or empty skmrl's disk cache: the encoded vectors and fitted states stored under a "
    "memory= folder (the demo's --cache-dir). The default folder is $SKMRL_CACHE_DIR, else "
    "$XDG_CACHE_HOME/skmrl, else ~/.cache/skmrl."
)

#: Size of the demo's word vectors (one training per fold; every smaller dim is a prefix).
_W2V_MAX_DIM = 128
#: Positions the packaged all-MiniLM-L6-v2 accepts (the demo's bound of --max-length).
_MAX_LENGTH_BOUND = 512
#: BBC News has this many topics; a CV fold needs a member of each.
_BBC_N_CLASSES = 5
#: ``--cache-dir`` values that turn the disk cache off.
_NO_CACHE = ("", "none")


@dataclass
class _DemoEntry:
    """One embedder in the demo: its label, how to build it, and the dims to sweep."""

    label: str
    build: Callable[[argparse.Namespace], Any]
    dims: list[int]


# -- argument types --------------------------------------------------------------------------------
def _int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse ``type=``: an int ``>= minimum``, else an error that says why."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {number}")
        return number

    return parse


def _max_length(value: str) -> int:
    """``--max-length``: an int in [1, 512]."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not 1 <= number <= _MAX_LENGTH_BOUND:
        raise argparse.ArgumentTypeError(
            f"expected an int in [1, {_MAX_LENGTH_BOUND}] (the tokens the packaged MiniLM "
            f"accepts), got {value!r}"
        )
    return number


_EMBEDDER_NAMES = ("TfidfBaseline", "Word2VecEmbedder", "MatryoshkaEmbedder")


def _embedder_name(value: str) -> str:
    """``--only`` values: a class name or its short form, in any case."""
    for name in _EMBEDDER_NAMES:
        short = name.removesuffix("Baseline").removesuffix("Embedder")
        if value.lower() in (name.lower(), short.lower()):
            return name
    raise argparse.ArgumentTypeError(
        f"unknown embedder {value!r}; choose from {', '.join(_EMBEDDER_NAMES)}"
    )


# -- checks that need more than one argument, or the file system -----------------------------------
def _cache_folder(value: str | None) -> Path | None:
    """The folder ``--cache-dir`` names: None for 'none' or '', the default when not given."""
    if value is not None and value.strip().lower() in _NO_CACHE:
        return None
    if value is None:
        from skmrl.cache import default_cache_dir

        return default_cache_dir()
    return Path(value).expanduser()


def _plot_problem(path: str) -> str | None:
    """Why the plot cannot be written to ``path``, or None when it can (nothing is written)."""
    if importlib.util.find_spec("matplotlib") is None:
        return "needs matplotlib: pip install 'skmrl[plot]'"
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except Exception as exc:  # a broken install: say so now rather than after the run
        return f"matplotlib cannot be imported: {exc}"
    target = Path(path).expanduser()
    suffix = target.suffix.lower().lstrip(".")
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in formats:
        return f"unknown image format {suffix!r}; use one of {', '.join(sorted(formats))}"
    folder = target.parent
    if not folder.is_dir():
        return f"folder {str(folder)!r} does not exist"
    if target.is_dir():
        return f"{str(target)!r} is a folder"
    if target.exists():
        if not os.access(target, os.W_OK):
            return f"{str(target)!r} is not writable"
        return None
    from skmrl._validation import folder_write_problem

    return folder_write_problem(folder, repr(str(folder)))


def _uses_matryoshka(args: argparse.Namespace) -> bool:
    return args.only is None or "MatryoshkaEmbedder" in args.only


def _check_demo_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """What argparse's types cannot check alone; exits with ``parser.error`` on a problem."""
    if args.limit is not None and args.limit < _BBC_N_CLASSES * args.folds:
        parser.error(
            f"argument --limit: {args.limit} articles are too few for {args.folds}-fold CV: each "
            f"of the {_BBC_N_CLASSES} topics needs at least {args.folds} articles "
            f"(so --limit needs at least {_BBC_N_CLASSES * args.folds}, or fewer --folds)"
        )
    if args.plot is not None:
        problem = _plot_problem(args.plot)
        if problem:
            parser.error(f"argument --plot: {problem}")
    if _uses_matryoshka(args):
        from skmrl._validation import folder_write_problem

        folder = _cache_folder(args.cache_dir)
        problem = None if folder is None else folder_write_problem(folder, repr(str(folder)))
        if problem:
            parser.error(f"argument --cache-dir: {problem} (or pass --cache-dir none)")


def _check_class_counts(
    args: argparse.Namespace, parser: argparse.ArgumentParser, labels: Any, order: Any
) -> None:
    """Every topic needs ``--folds`` articles in the subset (the first ``--limit`` of ``order``)."""
    import numpy as np

    topics = np.unique(labels)
    # The subsets are prefixes of one seeded permutation: the counts only grow with --limit.
    counts = np.stack([np.cumsum(labels[order] == topic) for topic in topics])
    n = len(order) if args.limit is None else min(args.limit, len(order))
    have = counts[:, n - 1]
    if have.min() >= args.folds:
        return
    poorest = topics[np.argmin(have)]
    if args.limit is None or n == len(order):
        parser.error(
            f"argument --folds: {args.folds}-fold CV needs {args.folds} articles of every topic; "
            f"topic {poorest!s} has {have.min()}"
        )
    enough = np.flatnonzero(counts.min(axis=0) >= args.folds)
    hint = f"use --limit {enough[0] + 1} or more" if enough.size else "or use fewer --folds"
    parser.error(
        f"argument --limit: the random subset of {args.limit} articles has only {have.min()} "
        f"of topic {poorest!s}, fewer than --folds {args.folds} ({hint})"
    )


# -- the demo --------------------------------------------------------------------------------------
def _tfidf(args: argparse.Namespace) -> Any:
    from skmrl.tfidf import TfidfBaseline

    return TfidfBaseline(max_dim=max(args.dims), sublinear_tf=True, min_df=2)


def _word2vec(args: argparse.Namespace) -> Any:
    from skmrl.word2vec import Word2VecEmbedder

    return Word2VecEmbedder(max_dim=_W2V_MAX_DIM, random_state=0)


def _matryoshka(args: argparse.Namespace) -> Any:
    from skmrl.matryoshka import MatryoshkaEmbedder

    folder = _cache_folder(args.cache_dir)
    return MatryoshkaEmbedder(
        max_length=args.max_length, memory=None if folder is None else str(folder)
    )


def _demo_entries(args: argparse.Namespace, n_docs: int) -> list[_DemoEntry]:
    mrl_dims = sorted({d for d in args.dims if d <= 384} | {384})
    w2v_dims = [d for d in args.dims if d <= _W2V_MAX_DIM]
    # LSA has at most as many components as a training fold has documents.
    lsa_dims = [d for d in args.dims if d <= n_docs * (args.folds - 1) // args.folds]
    entries = [
        _DemoEntry("TfidfBaseline (LSA)", _tfidf, lsa_dims),
        _DemoEntry("Word2VecEmbedder (skip-gram)", _word2vec, w2v_dims),
        _DemoEntry("MatryoshkaEmbedder (MiniLM)", _matryoshka, mrl_dims),
    ]
    entries = [e for e in entries if e.dims]
    return [e for e in entries if args.only is None or e.label.split()[0] in args.only]


def _sweep(entry: _DemoEntry, args: argparse.Namespace, texts: list[str], labels: Any) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("embedder", entry.build(args)), ("clf", LogisticRegression(max_iter=2000))])
    cv = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    grid = GridSearchCV(pipe, {"embedder__dim": entry.dims}, cv=cv, n_jobs=1)
    start = time.perf_counter()
    grid.fit(texts, labels)
    seconds = time.perf_counter() - start
    scores = {
        params["embedder__dim"]: (mean, std)
        for params, mean, std in zip(
            grid.cv_results_["params"],
            grid.cv_results_["mean_test_score"],
            grid.cv_results_["std_test_score"],
            strict=True,
        )
    }
    return {"scores": scores, "seconds": seconds, "best": grid.best_params_["embedder__dim"]}


def _format_table(results: dict[str, dict], dims: Sequence[int]) -> str:
    labels = list(results)
    width = max(12, *(len(label) for label in labels)) + 2
    lines = ["dim".rjust(5) + "".join(label.rjust(width) for label in labels)]
    for dim in dims:
        row = str(dim).rjust(5)
        for label in labels:
            score = results[label]["scores"].get(dim)
            cell = "-" if score is None else f"{score[0]:.3f} ± {score[1]:.3f}"
            row += cell.rjust(width)
        lines.append(row)
    lines.append(
        "time".rjust(5)
        + "".join(f"{results[label]['seconds']:.1f} s".rjust(width) for label in labels)
    )
    lines.append(
        "best".rjust(5) + "".join(f"dim={results[label]['best']}".rjust(width) for label in labels)
    )
    return "\n".join(lines)


def _matryoshka_header(args: argparse.Namespace) -> str:
    """The line that says how MatryoshkaEmbedder runs and where its vectors are cached."""
    folder = _cache_folder(args.cache_dir)
    cache = (
        "no disk cache"
        if folder is None
        else f"vectors cached on disk in {folder} (re-runs skip encoding)"
    )
    return (
        f"MatryoshkaEmbedder: all-MiniLM-L6-v2 (packaged), articles truncated to "
        f"max_length={args.max_length} tokens, device auto; {cache}"
    )


def _demo(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    _check_demo_args(args, parser)
    from skmrl.datasets import load_bbc_news

    try:
        texts, labels = load_bbc_news()
    except (ImportError, FileNotFoundError) as exc:
        print(f"skmrl demo: error: {exc}", file=sys.stderr)
        return 1
    import numpy as np

    # A seeded random subset (the corpus is sorted by topic); all articles without --limit.
    order = np.random.default_rng(0).permutation(len(texts))
    _check_class_counts(args, parser, labels, order)
    if args.limit is not None and args.limit < len(texts):
        keep = np.sort(order[: args.limit])
        texts, labels = [texts[i] for i in keep], labels[keep]
    entries = _demo_entries(args, len(texts))
    if not entries:
        print(parser.format_usage(), end="", file=sys.stderr)
        print(
            f"skmrl demo: error: argument --dims: no embedder accepts any of --dims "
            f"{' '.join(map(str, args.dims))}",
            file=sys.stderr,
        )
        return 2
    print(
        f"BBC News: {len(texts)} articles, {len(set(labels))} classes. "
        f"Accuracy (mean ± std over {args.folds}-fold CV, LogisticRegression) against dim; "
        "one GridSearchCV over dim per embedder.",
        flush=True,
    )
    if any(e.label.startswith("MatryoshkaEmbedder") for e in entries):
        print(_matryoshka_header(args), flush=True)
    results: dict[str, dict] = {}
    for entry in entries:
        print(f"  {entry.label}: sweeping dim over {entry.dims} ...", flush=True)
        results[entry.label] = _sweep(entry, args, texts, labels)
    all_dims = sorted({d for e in entries for d in e.dims})
    print()
    print(_format_table(results, all_dims))
    if args.plot:
        _plot(results, args.plot, args.folds)
        print(f"\nplot written to {args.plot}")
    return 0


def _plot(results: dict[str, dict], path: str, folds: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, res in results.items():
        dims = sorted(res["scores"])
        ax.plot(dims, [res["scores"][d][0] for d in dims], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dim")
    ax.set_ylabel(f"accuracy ({folds}-fold CV)")
    ax.set_title("BBC News: accuracy against embedding size")
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(path).expanduser(), dpi=120)
    plt.close(fig)


# -- skmrl cache -----------------------------------------------------------------------------------
def _human_bytes(n: int) -> str:
    """A size for people: ``'0 B'``, ``'12.3 KiB'``, ``'4.0 GiB'``."""
    if n < 1024:
        return f"{n} B"
    size, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f} {unit}"


def _cache_location(args: argparse.Namespace) -> Path:
    folder = _cache_folder(args.cache_dir)
    if folder is None:
        args.parser.error("argument --cache-dir: name a folder ('none' turns the cache off)")
    if folder.exists() and not folder.is_dir():
        args.parser.error(f"argument --cache-dir: {str(folder)!r} is not a folder")
    return folder


def _describe(info: dict) -> list[str]:
    """The lines of ``skmrl cache info`` for an existing folder."""
    lines = [
        f"  vectors:       {info['n_vectors']:,} from {info['n_fingerprints']:,} model(s), "
        f"{_human_bytes(info.get('vector_bytes', 0))} (bound {_human_bytes(info['max_bytes'])})",
        f"  fitted states: {info['n_fit_states']:,}, {_human_bytes(info.get('fit_bytes', 0))}",
        f"  total:         {_human_bytes(info['bytes'])} of skmrl's; "
        f"{info['n_files']:,} file(s) in the folder",
    ]
    if info.get("error"):
        lines.append(f"  the vector store cannot be read: {info['error']}")
    return lines


def _read_info(folder: Path, command: str) -> dict | None:
    """``disk_cache_info(folder)``, or None after saying why it cannot be read."""
    from skmrl.cache import disk_cache_info

    try:
        return disk_cache_info(folder)
    except (OSError, ValueError) as exc:  # e.g. a bad $SKMRL_DISK_CACHE_MAX_BYTES
        print(f"skmrl cache {command}: error: {exc}", file=sys.stderr)
        return None


def _cache_info(args: argparse.Namespace) -> int:
    folder = _cache_location(args)
    info = _read_info(folder, "info")
    if info is None:
        return 1
    if not info["exists"]:
        print(f"skmrl disk cache: {folder} (does not exist: nothing is cached there)")
        return 0
    print(f"skmrl disk cache: {folder}")
    print("\n".join(_describe(info)))
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _cache_clear(args: argparse.Namespace) -> int:
    from skmrl.cache import clear_disk_cache

    folder = _cache_location(args)
    info = _read_info(folder, "clear")
    if info is None:
        return 1
    if not info["exists"]:
        print(f"nothing to clear: {folder} does not exist")
        return 0
    if not (info["n_vectors"] or info["n_fit_states"] or info["bytes"]):
        print(f"nothing to clear: no skmrl cache in {folder}")
        return 0
    what = (
        f"{info['n_vectors']:,} vector(s) and {info['n_fit_states']:,} fitted state(s) "
        f"({_human_bytes(info['bytes'])})"
    )
    if not args.yes and sys.stdin.isatty() and not _confirm(f"Remove {what} from {folder}?"):
        print("nothing removed")
        return 1
    n_vectors = clear_disk_cache(folder)
    print(
        f"removed {n_vectors:,} vector(s) and {info['n_fit_states']:,} fitted state(s) "
        f"({_human_bytes(info['bytes'])}) from {folder}"
    )
    return 0


# -- the parser ------------------------------------------------------------------------------------
def _add_cache_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="the cache folder (default: $SKMRL_CACHE_DIR, else $XDG_CACHE_HOME/skmrl, "
        "else ~/.cache/skmrl)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skmrl", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"skmrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="accuracy against dim on BBC News for each embedder",
        description=textwrap.fill(_DEMO_DESCRIPTION, 79),
        epilog=_DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--dims",
        type=_int_at_least(1, "a positive int"),
        nargs="+",
        default=[8, 16, 32, 64, 128, 256],
        metavar="DIM",
        help="embedding sizes to sweep, positive ints (default: 8 16 32 64 128 256)",
    )
    demo.add_argument(
        "--folds",
        type=_int_at_least(2, "an int >= 2 (the number of CV folds)"),
        default=5,
        help="stratified CV folds, at least 2 (default: 5)",
    )
    demo.add_argument(
        "--limit",
        type=_int_at_least(1, "a positive int (a number of articles)"),
        default=None,
        metavar="N",
        help="use a seeded random subset of N articles, enough for every topic to have --folds "
        "of them (default: all 2,225)",
    )
    demo.add_argument(
        "--only",
        nargs="+",
        default=None,
        type=_embedder_name,
        metavar="NAME",
        help="run only these embedders: TfidfBaseline, Word2VecEmbedder, MatryoshkaEmbedder "
        "(or tfidf, word2vec, matryoshka)",
    )
    demo.add_argument(
        "--max-length",
        type=_max_length,
        default=128,
        metavar="TOKENS",
        help=f"MatryoshkaEmbedder truncates articles to this many tokens, in "
        f"[1, {_MAX_LENGTH_BOUND}] (default: 128, for speed)",
    )
    demo.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="disk cache of MatryoshkaEmbedder's vectors (default: $SKMRL_CACHE_DIR, else "
        "$XDG_CACHE_HOME/skmrl, else ~/.cache/skmrl); 'none' turns it off",
    )
    demo.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="also plot accuracy against dim to this image file (needs matplotlib)",
    )
    demo.set_defaults(func=_demo, parser=demo)

    cache = sub.add_parser(
        "cache", help="show or empty the disk cache of vectors", description=_CACHE_DESCRIPTION
    )
    cache_sub = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = cache_sub.add_parser(
        "info",
        help="what the cache holds: vectors, fitted states, size on disk",
        description="Show what skmrl's disk cache holds: the stored vectors and the models they "
        "come from, the fitted states, and their size on disk.",
    )
    _add_cache_dir(info)
    info.set_defaults(func=_cache_info, parser=info)
    clear = cache_sub.add_parser(
        "clear",
        help="remove the cached vectors and fitted states",
        description="Remove skmrl's cached vectors and fitted states from the cache folder "
        "(other files there are kept). Asks first when run in a terminal, unless --yes.",
    )
    _add_cache_dir(clear)
    clear.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    clear.set_defaults(func=_cache_clear, parser=clear)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skmrl`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a bad argument (argparse exits with it itself),
        1 when the work could not be done, 130 when interrupted.

    Examples
    --------
    >>> from skmrl.cli import main
    >>> main(["demo", "--only", "TfidfBaseline", "--dims", "8", "16"])  # doctest: +SKIP
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
