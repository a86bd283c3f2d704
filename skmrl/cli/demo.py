"""``skmrl demo``: accuracy against ``dim`` on BBC News, one ``GridSearchCV`` per embedder."""

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

from skmrl.cli._common import MAX_LENGTH_BOUND, cache_folder, int_at_least, max_length

_DESCRIPTION = (
    "Accuracy against the embedding size on BBC News (2,225 articles, 5 topics): one "
    "GridSearchCV over dim per embedder (TfidfBaseline's LSA, Word2VecEmbedder, "
    "MatryoshkaEmbedder, and MatryoshkaEmbedder + adaptor), with LogisticRegression on top and "
    "stratified K-fold CV. 'MatryoshkaEmbedder + adaptor' is the same frozen MiniLM with "
    "fine_tune='adaptor': in each training fold, a MatryoshkaAdaptor learns from the labels to "
    "make the short prefixes good. MatryoshkaEmbedder's vectors are kept in a disk cache shared "
    "by both, so a re-run does not encode again."
)

_EPILOG = """\
examples:
  skmrl demo                                  the full comparison (minutes on a CPU)
  skmrl demo --only tfidf --dims 8 32 128     TF-IDF + LSA only (seconds)
  skmrl demo --only matryoshka adaptor        MiniLM as it is against MiniLM + adaptor
  skmrl demo --limit 300 --folds 3            a quick run on a random subset
  skmrl demo --plot accuracy.png              also plot accuracy against dim
"""

#: Size of the demo's word vectors (one training per fold; every smaller dim is a prefix).
_W2V_MAX_DIM = 128
#: Full size of the packaged all-MiniLM-L6-v2.
_MINILM_DIM = 384
#: BBC News has this many topics; a CV fold needs a member of each.
_BBC_N_CLASSES = 5

#: ``--only`` names: (canonical name, the spellings it accepts besides the canonical one).
_EMBEDDER_NAMES = {
    "TfidfBaseline": ("tfidf",),
    "Word2VecEmbedder": ("word2vec",),
    "MatryoshkaEmbedder": ("matryoshka",),
    "adaptor": ("MatryoshkaEmbedder+adaptor", "matryoshka+adaptor", "matryoshka-adaptor"),
}


@dataclass
class _DemoEntry:
    """One embedder in the demo: its label, its ``--only`` name, how to build it, its dims."""

    label: str
    name: str
    build: Callable[[argparse.Namespace], Any]
    dims: list[int]


def _embedder_name(value: str) -> str:
    """``--only`` values: a class name, its short form, or ``adaptor``, in any case."""
    for name, aliases in _EMBEDDER_NAMES.items():
        if value.lower() in (name.lower(), *(alias.lower() for alias in aliases)):
            return name
    raise argparse.ArgumentTypeError(
        f"unknown embedder {value!r}; choose from {', '.join(_EMBEDDER_NAMES)}"
    )


# -- checks that need more than one argument, or the file system -----------------------------------
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
    """Whether a MiniLM entry (as it is, or with the adaptor) runs: they use the cache."""
    return args.only is None or bool({"MatryoshkaEmbedder", "adaptor"} & set(args.only))


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

        folder = cache_folder(args.cache_dir)
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


# -- the embedders ---------------------------------------------------------------------------------
def _mrl_dims(args: argparse.Namespace) -> list[int]:
    """MiniLM's dims: the asked ones it has, and its full size."""
    return sorted({d for d in args.dims if d <= _MINILM_DIM} | {_MINILM_DIM})


def _tfidf(args: argparse.Namespace) -> Any:
    from skmrl.tfidf import TfidfBaseline

    return TfidfBaseline(max_dim=max(args.dims), sublinear_tf=True, min_df=2)


def _word2vec(args: argparse.Namespace) -> Any:
    from skmrl.word2vec import Word2VecEmbedder

    return Word2VecEmbedder(max_dim=_W2V_MAX_DIM, random_state=0)


def _matryoshka(args: argparse.Namespace, **params: Any) -> Any:
    from skmrl.matryoshka import MatryoshkaEmbedder

    folder = cache_folder(args.cache_dir)
    return MatryoshkaEmbedder(
        max_length=args.max_length, memory=None if folder is None else str(folder), **params
    )


def _matryoshka_adaptor(args: argparse.Namespace) -> Any:
    # The same frozen vectors (the same cache entries) as _matryoshka; the pipeline fits it with
    # the fold's labels, so the adaptor is supervised, once per fold whatever the dims.
    return _matryoshka(args, fine_tune="adaptor", matryoshka_dims=_mrl_dims(args))


def _demo_entries(args: argparse.Namespace, n_docs: int) -> list[_DemoEntry]:
    mrl_dims = _mrl_dims(args)
    w2v_dims = [d for d in args.dims if d <= _W2V_MAX_DIM]
    # LSA has at most as many components as a training fold has documents.
    lsa_dims = [d for d in args.dims if d <= n_docs * (args.folds - 1) // args.folds]
    entries = [
        _DemoEntry("TfidfBaseline (LSA)", "TfidfBaseline", _tfidf, lsa_dims),
        _DemoEntry("Word2VecEmbedder (skip-gram)", "Word2VecEmbedder", _word2vec, w2v_dims),
        _DemoEntry("MatryoshkaEmbedder (MiniLM)", "MatryoshkaEmbedder", _matryoshka, mrl_dims),
        _DemoEntry("MatryoshkaEmbedder + adaptor", "adaptor", _matryoshka_adaptor, mrl_dims),
    ]
    entries = [e for e in entries if e.dims]
    return [e for e in entries if args.only is None or e.name in args.only]


# -- the run ---------------------------------------------------------------------------------------
def _sweep(entry: _DemoEntry, args: argparse.Namespace, texts: list[str], labels: Any) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("embedder", entry.build(args)), ("clf", LogisticRegression(max_iter=2000))])
    cv = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    # refit=False: only the CV scores are reported, so no final fit on all the articles.
    grid = GridSearchCV(pipe, {"embedder__dim": entry.dims}, cv=cv, n_jobs=1, refit=False)
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
    folder = cache_folder(args.cache_dir)
    cache = (
        "no disk cache"
        if folder is None
        else f"vectors cached on disk in {folder} (re-runs skip encoding)"
    )
    return (
        f"MatryoshkaEmbedder: all-MiniLM-L6-v2 (packaged), articles truncated to "
        f"max_length={args.max_length} tokens, device auto; {cache}"
    )


def _adaptor_header(args: argparse.Namespace) -> str:
    return (
        "MatryoshkaEmbedder + adaptor: the same frozen vectors, rotated by a MatryoshkaAdaptor "
        f"fitted with the labels of each training fold (prefixes {_mrl_dims(args)})"
    )


def run(args: argparse.Namespace) -> int:
    """``skmrl demo``."""
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
    if any(e.name == "adaptor" for e in entries):
        print(_adaptor_header(args), flush=True)
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


# -- the parser ------------------------------------------------------------------------------------
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl demo`` on the subparsers ``sub``."""
    demo = sub.add_parser(
        "demo",
        help="accuracy against dim on BBC News for each embedder",
        description=textwrap.fill(_DESCRIPTION, 79),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--dims",
        type=int_at_least(1, "a positive int"),
        nargs="+",
        default=[8, 16, 32, 64, 128, 256],
        metavar="DIM",
        help="embedding sizes to sweep, positive ints (default: 8 16 32 64 128 256)",
    )
    demo.add_argument(
        "--folds",
        type=int_at_least(2, "an int >= 2 (the number of CV folds)"),
        default=5,
        help="stratified CV folds, at least 2 (default: 5)",
    )
    demo.add_argument(
        "--limit",
        type=int_at_least(1, "a positive int (a number of articles)"),
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
        "(or tfidf, word2vec, matryoshka), adaptor (MatryoshkaEmbedder + adaptor)",
    )
    demo.add_argument(
        "--max-length",
        type=max_length,
        default=128,
        metavar="TOKENS",
        help=f"MatryoshkaEmbedder truncates articles to this many tokens, in "
        f"[1, {MAX_LENGTH_BOUND}] (default: 128, for speed)",
    )
    demo.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="disk cache of MatryoshkaEmbedder's vectors, shared by both MiniLM rows (default: "
        "$SKMRL_CACHE_DIR, else $XDG_CACHE_HOME/skmrl, else ~/.cache/skmrl); 'none' turns it off",
    )
    demo.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="also plot accuracy against dim to this image file (needs matplotlib)",
    )
    demo.set_defaults(func=run, parser=demo)
    return demo
