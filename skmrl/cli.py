"""The ``skmrl`` command.

``skmrl demo``: accuracy against ``dim`` on BBC News (5-fold CV, LogisticRegression) for each
embedder (TfidfBaseline's LSA, Word2VecEmbedder and MatryoshkaEmbedder side by side), from one
``GridSearchCV`` over ``dim`` per embedder, with the time each grid took (for MatryoshkaEmbedder:
mostly the one encoding of the articles, which a disk cache makes instant on re-runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["main"]


@dataclass
class _DemoEntry:
    """One embedder in the demo: its label, how to build it, and the dims to sweep."""

    label: str
    build: Callable[[argparse.Namespace], Any]
    dims: list[int]


def _tfidf(args: argparse.Namespace) -> Any:
    from skmrl.tfidf import TfidfBaseline

    return TfidfBaseline(max_dim=max(args.dims), sublinear_tf=True, min_df=2)


def _demo_cache_dir(args: argparse.Namespace) -> str | None:
    """Disk cache of the demo's vectors (so that a re-run does not encode again)."""
    if args.cache_dir in ("", "none"):
        return None
    if args.cache_dir is not None:
        return args.cache_dir
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skmrl")


def _word2vec(args: argparse.Namespace) -> Any:
    from skmrl.word2vec import Word2VecEmbedder

    return Word2VecEmbedder(max_dim=_W2V_MAX_DIM, random_state=0)


#: Size of the demo's word vectors (one training per fold; every smaller dim is a prefix).
_W2V_MAX_DIM = 128


def _matryoshka(args: argparse.Namespace) -> Any:
    from skmrl.matryoshka import MatryoshkaEmbedder

    return MatryoshkaEmbedder(max_length=args.max_length, memory=_demo_cache_dir(args))


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


def _demo(args: argparse.Namespace) -> int:
    from skmrl.datasets import load_bbc_news

    texts, labels = load_bbc_news()
    if args.limit:  # a seeded random subset: the corpus is sorted by topic
        import numpy as np

        keep = np.sort(np.random.default_rng(0).permutation(len(texts))[: args.limit])
        texts, labels = [texts[i] for i in keep], labels[keep]
    entries = _demo_entries(args, len(texts))
    if not entries:
        print(
            f"skmrl demo: no embedder accepts any of --dims {' '.join(map(str, args.dims))}",
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
        cache = _demo_cache_dir(args)
        print(
            f"MatryoshkaEmbedder: all-MiniLM-L6-v2 (packaged), articles truncated to "
            f"max_length={args.max_length} tokens, device auto; vectors cached on disk in "
            f"{cache} (re-runs skip encoding)"
            if cache
            else f"max_length={args.max_length} tokens, device auto; no disk cache",
            flush=True,
        )
    results: dict[str, dict] = {}
    for entry in entries:
        print(f"  {entry.label}: sweeping dim over {entry.dims} ...", flush=True)
        results[entry.label] = _sweep(entry, args, texts, labels)
    all_dims = sorted({d for e in entries for d in e.dims})
    print()
    print(_format_table(results, all_dims))
    if args.plot:
        _plot(results, args.plot)
        print(f"\nplot written to {args.plot}")
    return 0


def _plot(results: dict[str, dict], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise SystemExit("--plot needs matplotlib: pip install 'skmrl[plot]'") from exc
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, res in results.items():
        dims = sorted(res["scores"])
        ax.plot(dims, [res["scores"][d][0] for d in dims], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dim")
    ax.set_ylabel("accuracy (5-fold CV)")
    ax.set_title("BBC News: accuracy against embedding size")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skmrl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="accuracy against dim on BBC News for each embedder")
    demo.add_argument(
        "--dims",
        type=int,
        nargs="+",
        default=[8, 16, 32, 64, 128, 256],
        help="embedding sizes to sweep (default: 8 16 32 64 128 256)",
    )
    demo.add_argument("--folds", type=int, default=5, help="CV folds (default: 5)")
    demo.add_argument("--limit", type=int, default=0, help="use a random subset of N articles")
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
        type=int,
        default=128,
        help="MatryoshkaEmbedder truncates articles to this many tokens (default: 128, for speed)",
    )
    demo.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="disk cache of vectors (default: $XDG_CACHE_HOME/skmrl or ~/.cache/skmrl; 'none')",
    )
    demo.add_argument("--plot", default=None, metavar="PNG", help="also write a plot here")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skmrl`` command.

    Examples
    --------
    >>> from skmrl.cli import main
    >>> main(["demo", "--only", "TfidfBaseline", "--dims", "8", "16"])  # doctest: +SKIP
    """
    args = _build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
