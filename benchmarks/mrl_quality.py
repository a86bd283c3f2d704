"""How well fit makes all-MiniLM-L6-v2 Matryoshka: issue 12's quality and cost targets.

Four sections (``--sections``, default all):

* ``sts``: STS Benchmark dev, Spearman of cosine at each prefix size, as a share of the
  unmodified model's full-size score. Rows: the naive prefix, ``"pca"`` and the unsupervised
  ``"adaptor"`` (fitted on STSb-train sentences, no scores), ``"full"`` unsupervised
  self-distillation on ``--full-sentences`` train sentences (and ``"full+adaptor"``), and
  ``skmrl.finetune`` on STSb-train pairs with their scores (``"full"`` and ``"full+adaptor"``).
  Targets: adaptor >= 97.5% at 32 dims, >= 94% at 16, full size within 0.2 points. Then the
  16- and 32-dim cells again for each source of the dev pairs (``MSRvid``, ``answers-forums``,
  ...), to show where the short prefixes lose; the train split lacks two of dev's sources.
* ``classification``: 5-fold LogisticRegression accuracy on BBC News, TREC-6 and SMS spam for
  the naive prefix, ``"pca"`` and the supervised ``"adaptor"`` (fitted inside each fold, one
  ``GridSearchCV`` over ``dim`` per row). Target: the adaptor within 1 point of the unmodified
  full-size accuracy at dim 16, within 2 at dim 8. On the datasets named by ``--clf-full``
  (default TREC-6; its questions are short, so about 7 minutes on 2 cores), also the weight
  training with labels inside each fold (``"full"``: nested linear heads, ``--full-epochs``
  at ``--full-lr``) and ``"full+adaptor"``, which reuses the fold's trained weights.
* ``cost``: seconds to fit the adaptor on 5,000 vectors (target: under 60 s), unsupervised and
  supervised.
* ``speed``: ``"full"``'s training speed against sentence-transformers' trainer with
  ``MatryoshkaLoss`` (target: at least 3x the sentences/second), on the same model, pairs, batch
  size and threads: ``benchmarks/finetune_speed.py`` at its defaults (2,000 STSb-train pairs,
  batch 32, one torch thread; about 5 minutes on 2 cores), then the target line. It needs
  sentence-transformers' trainer (``pip install 'skmrl[bench]'``); without it the run is refused
  at once, naming the sections that run without it.

Encodings of the frozen model are kept under ``--cache-dir`` (a re-run does not encode again).
The fitted states (adaptors, trained weights) are not: each run fits them again, so that the "fit
s" and "grid s" columns are the seconds of fits, never of reading an earlier run's state.

Usage::

    python benchmarks/mrl_quality.py --data ../shared/data
        [--sections sts,classification,cost,speed]
        [--full-sentences 5000] [--full-epochs 1] [--full-lr X] [--pairs 5749 (0: none)]
        [--clf-full TREC-6 (all, none)] [--no-full]

The defaults are the cheap ones (one epoch at the library's default learning rate). The best
weight training measured: ``--full-sentences 10566 --full-epochs 4 --full-lr 1e-4``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _data import (
    SMS,
    STS_DEV,
    STS_TRAIN,
    TREC,
    check_cache_dir,
    check_data,
    data_folder,
    device,
    fit_memory,
    int_at_least,
    load_dataset,
    positive_float,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STS_DIMS = [8, 16, 32, 64, 128, 256, 384]
CLF_DIMS = [8, 16, 32, 64, None]
#: The classification table's row names, by ``fine_tune``.
CLF_ROUTES = {
    None: "naive prefix",
    "pca": '"pca"',
    "adaptor": '"adaptor" (supervised)',
    "full": '"full" (supervised)',
    "full+adaptor": '"full+adaptor" (supervised)',
}


def _spearman_by_dim(full_a: np.ndarray, full_b: np.ndarray, gold: np.ndarray) -> dict[int, float]:
    from scipy.stats import spearmanr

    out = {}
    for k in STS_DIMS:
        a, b = full_a[:, :k], full_b[:, :k]
        cos = np.einsum("ij,ij->i", a, b) / (
            np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12
        )
        out[k] = float(spearmanr(cos, gold).statistic)
    return out


def _by_source(
    rows: list[tuple[str, dict[str, dict[int, float]]]], counts: dict[str, int], k: int
) -> None:
    """Print each route's Spearman at ``k`` dims per source, as % of that source's unmodified
    full-size score (the first row's): where the short prefixes lose."""
    names = sorted(counts)
    base = rows[0][1]
    print(f"\nBy source at {k} dims (% of the source's unmodified full-size score; n pairs):")
    width = max(len(r[0]) for r in rows) + 2
    print("".ljust(width) + "".join(f"{n[:14]:>16}" for n in names))
    print("".ljust(width) + "".join(f"{counts[n]:>16}" for n in names))
    for name, by_source in rows:
        cells = "".join(f"{100 * by_source[n][k] / base[n][384]:16.1f}" for n in names)
        print(name.ljust(width) + cells)


def _sts(args: argparse.Namespace) -> None:
    from skmrl import MatryoshkaEmbedder, finetune
    from skmrl.datasets import load_sts

    a, b, s, train_sources = load_sts(args.data, "train", return_sources=True)
    da, db, ds, sources = load_sts(args.data, "dev", return_sources=True)
    gold = np.asarray(ds, dtype=float)
    train = list(dict.fromkeys([*a, *b]))
    common = {"device": args.device, "memory": args.cache_dir, "progress": args.progress}
    counts = {str(n): int(c) for n, c in zip(*np.unique(sources, return_counts=True), strict=True)}
    masks = {n: sources == n for n in counts}
    rows: list[tuple[str, dict[int, float], float]] = []
    source_rows: list[tuple[str, dict[str, dict[int, float]]]] = []

    def evaluate(name: str, emb: MatryoshkaEmbedder, seconds: float) -> None:
        fa, fb = emb.embed_full(da), emb.embed_full(db)
        rows.append((name, _spearman_by_dim(fa, fb, gold), seconds))
        by_source = {n: _spearman_by_dim(fa[m], fb[m], gold[m]) for n, m in masks.items()}
        source_rows.append((name, by_source))
        print(f"  done: {name} ({seconds:.0f} s)", flush=True)

    print(f"STS Benchmark: fit on {len(train)} train sentences, score {len(gold)} dev pairs")
    start = time.perf_counter()
    evaluate("unmodified (naive prefix)", MatryoshkaEmbedder(**common).fit(train[:2]), 0.0)
    for method in ("pca", "adaptor"):
        start = time.perf_counter()
        emb = MatryoshkaEmbedder(fine_tune=method, **common).fit(train)
        evaluate(f'"{method}" (unsupervised)', emb, time.perf_counter() - start)
    if not args.no_full:
        sentences = train[: args.full_sentences]
        training = f", {args.full_epochs} ep" + (f", lr {args.full_lr:g}" if args.full_lr else "")
        for method in ("full", "full+adaptor"):
            start = time.perf_counter()
            emb = MatryoshkaEmbedder(
                fine_tune=method, epochs=args.full_epochs, learning_rate=args.full_lr, **common
            )
            emb.fit(sentences)
            evaluate(
                f'"{method}" (distillation, {len(sentences)} sentences{training})',
                emb,
                time.perf_counter() - start,
            )
        pairs = list(zip(a, b, strict=True))[: args.pairs]
        scores = list(s)[: args.pairs]
        for method in ("full", "full+adaptor") if pairs else ():
            start = time.perf_counter()
            emb = finetune(
                pairs=pairs,
                scores=scores,
                method=method,
                epochs=args.full_epochs,
                learning_rate=args.full_lr,
                **common,
            )
            evaluate(
                f'finetune "{method}" ({len(pairs)} scored pairs{training})',
                emb,
                time.perf_counter() - start,
            )
    base = rows[0][1][384]
    print(f"\nSTSb-dev Spearman, unmodified full size: {base:.4f}; cells: % of it")
    width = max(len(r[0]) for r in rows) + 2
    print("".ljust(width) + "".join(f"{k:>8}" for k in STS_DIMS) + "   full-size Δ (pt)   fit s")
    for name, scores, seconds in rows:
        cells = "".join(f"{100 * scores[k] / base:8.1f}" for k in STS_DIMS)
        delta = 100 * (scores[384] - base)
        print(f"{name.ljust(width)}{cells}   {delta:+14.2f}   {seconds:7.0f}")
    adaptor = next(r[1] for r in rows if r[0].startswith('"adaptor"'))
    print(
        "target (adaptor): >= 97.5% at 32 -> "
        f"{100 * adaptor[32] / base:.1f}%; >= 94% at 16 -> {100 * adaptor[16] / base:.1f}%; "
        f"full size within 0.2 pt -> {100 * (adaptor[384] - base):+.2f} pt"
    )
    for k in (16, 32):
        _by_source(source_rows, counts, k)
    train_sources = sorted(set(train_sources))
    print(f"(the train split's sources: {', '.join(train_sources)})")


def _classification(args: argparse.Namespace) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    from skmrl import MatryoshkaEmbedder
    from skmrl.datasets import load_bbc_news, load_sms_spam, load_trec

    datasets = {
        "BBC News": load_bbc_news,
        "TREC-6": lambda: load_trec(args.data),
        "SMS spam": lambda: load_sms_spam(args.data),
    }
    for name, load in datasets.items():
        texts, labels = load()
        print(f"\n{name}: {len(texts)} texts, {len(set(labels.tolist()))} classes, 5-fold CV")
        results = {}
        routes = [None, "pca", "adaptor"]
        if not args.no_full and ("all" in args.clf_full or name in args.clf_full):
            routes += ["full", "full+adaptor"]
        for fine_tune in routes:
            train = {}
            if fine_tune in ("full", "full+adaptor"):
                train = {"epochs": args.full_epochs, "learning_rate": args.full_lr}
            emb = MatryoshkaEmbedder(
                fine_tune=fine_tune,
                device=args.device,
                memory=args.cache_dir,
                progress=args.progress,
                **train,
            )
            pipe = Pipeline([("emb", emb), ("clf", LogisticRegression(max_iter=2000))])
            cv = StratifiedKFold(5, shuffle=True, random_state=0)
            grid = GridSearchCV(pipe, {"emb__dim": CLF_DIMS}, cv=cv, refit=False)
            start = time.perf_counter()
            grid.fit(texts, labels)
            seconds = time.perf_counter() - start
            means = dict(
                zip(
                    [p["emb__dim"] for p in grid.cv_results_["params"]],
                    grid.cv_results_["mean_test_score"],
                    strict=True,
                )
            )
            results[CLF_ROUTES[fine_tune]] = (means, seconds)
        full = results["naive prefix"][0][None]
        print(f"{'':29}" + "".join(f"{d or 'full'!s:>8}" for d in CLF_DIMS) + "   grid s")
        for label, (means, seconds) in results.items():
            cells = "".join(f"{means[d]:8.3f}" for d in CLF_DIMS)
            print(f"{label:29}{cells}   {seconds:6.0f}")
        ours = results[CLF_ROUTES["adaptor"]][0]
        print(
            f"target: dim 16 within 1 pt of {full:.3f} -> {100 * (ours[16] - full):+.1f} pt; "
            f"dim 8 within 2 pt -> {100 * (ours[8] - full):+.1f} pt"
        )


def _cost(args: argparse.Namespace) -> None:
    from skmrl import MatryoshkaAdaptor, MatryoshkaEmbedder
    from skmrl.datasets import load_sts, load_trec

    a, b, _ = load_sts(args.data, "train")
    sentences = list(dict.fromkeys([*a, *b]))[:5000]
    questions, labels = load_trec(args.data)
    emb = MatryoshkaEmbedder(device=args.device, memory=args.cache_dir).fit(["x"])
    Z_sts, Z_trec = emb.embed_full(sentences), emb.embed_full(questions[:5000])
    print("\nAdaptor fit time on 5,000 all-MiniLM-L6-v2 vectors (target: under 60 s)")
    for source, Z, y in (
        ("STSb-train sentences", Z_sts, None),
        ("TREC-6 questions", Z_trec, labels[:5000]),
    ):
        for method in ("pca", "adaptor"):
            start = time.perf_counter()
            MatryoshkaAdaptor(method=method).fit(Z, y)
            # "pca" ignores labels: on the TREC-6 vectors too, its fit is unsupervised.
            kind = "supervised" if y is not None and method != "pca" else "unsupervised"
            name = f"{kind} ({source})"
            print(f"  {method:8} {name:38} {time.perf_counter() - start:6.1f} s")


def _speed(args: argparse.Namespace) -> None:
    import finetune_speed

    print('\n"full" training speed against sentence-transformers\' trainer (target: >= 3x)')
    speed_args = finetune_speed.build_parser().parse_args(["--data", str(args.data)])
    ratio = finetune_speed.measure(speed_args)
    verdict = "met" if ratio >= 3 else "missed"
    print(f"target: skmrl float32 >= 3x the trainer's sentences/s -> {ratio:.2f}x, {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=data_folder, required=True, help="the shared data folder")
    parser.add_argument(
        "--sections",
        default="sts,classification,cost,speed",
        help="comma-separated sections to run, of sts, classification, cost and speed (default: "
        "all four)",
    )
    parser.add_argument("--device", type=device, default="auto")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="memory= folder (default: skmrl's cache folder, $SKMRL_CACHE_DIR if set; none: "
        "no disk cache)",
    )
    parser.add_argument("--full-sentences", type=int_at_least(1), default=5000)
    parser.add_argument("--full-epochs", type=int_at_least(1), default=1)
    parser.add_argument(
        "--full-lr",
        type=positive_float,
        default=None,
        help="learning rate of the weight training rows (a number > 0; default: the library's)",
    )
    parser.add_argument(
        "--pairs",
        type=int_at_least(0),
        default=None,
        help="STSb-train pairs (all); 0 skips the finetune rows",
    )
    parser.add_argument(
        "--clf-full",
        default="TREC-6",
        help="classification datasets that get the weight training rows (comma-separated: "
        "BBC News, TREC-6, SMS spam; all; none)",
    )
    parser.add_argument("--no-full", action="store_true", help="skip the weight training rows")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    args = parser.parse_args(argv)
    args.cache_dir = fit_memory(check_cache_dir(parser, args.cache_dir))
    args.progress = True if args.progress else None
    args.clf_full = {s.strip() for s in args.clf_full.split(",")} - {"none", ""}
    unknown = args.clf_full - {"all", "BBC News", "TREC-6", "SMS spam"}
    if unknown:
        parser.error(f"--clf-full: unknown {sorted(unknown)}")
    sections = {s.strip() for s in args.sections.split(",")}
    unknown = sections - {"sts", "classification", "cost", "speed"}
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)}")
    if "speed" in sections:
        import finetune_speed

        missing = finetune_speed.missing_trainer_modules()
        if missing:
            others = ",".join(s for s in ("sts", "classification", "cost") if s in sections)
            parser.error(
                f"--sections speed: sentence-transformers' trainer needs {', '.join(missing)}: "
                "pip install 'skmrl[bench]'" + (f", or pass --sections {others}" if others else "")
            )
    needs = {
        "sts": [STS_TRAIN, STS_DEV],
        "classification": [TREC, SMS],
        "cost": [STS_TRAIN, TREC],
        "speed": [STS_TRAIN, STS_DEV],
    }
    check_data(parser, args.data, *(f for s in sorted(sections) for f in needs[s]))
    # Parse every file the sections read now (well under a second each): a malformed TREC or
    # SMS file was only read after the minutes of the sts section, and failed with a traceback.
    names = {
        "sts": ["sts-train", "sts-dev"],
        "classification": ["bbc", "trec", "sms"],
        "cost": ["sts-train", "trec"],
        "speed": ["sts-train", "sts-dev"],
    }
    for name in dict.fromkeys(n for s in sorted(sections) for n in names[s]):
        load_dataset(parser, args.data, name)
    if "sts" in sections:
        _sts(args)
    if "classification" in sections:
        _classification(args)
    if "cost" in sections:
        _cost(args)
    if "speed" in sections:
        _speed(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
