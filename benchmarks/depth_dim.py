"""Depth x size (2D Matryoshka) on all-MiniLM-L6-v2: issue 11's targets.

Sections (``--sections``, default all):

* ``grid``: a ``GridSearchCV`` over 3 depths x 6 dims (``n_layers`` in 2, 4, 6 with
  ``cache_layers=True``; dims 8..384) against a 1 x 1 grid, same 5 folds, on SMS spam (or TREC),
  each grid in a fresh process, alternating ``--repeats`` times; forward passes and rows are
  counted with a hook. Target: wall time ratio <= 1.2.
* ``speed``: texts per second encoding STSb-dev sentences at ``n_layers=3`` against 6 (no cache:
  the encoder itself), alternating ``--repeats`` times. Target: >= 1.8x. Also the encode time per
  1,000 texts at every depth, for the tables.
* ``quality``: the (layers, dim) table of STSb-dev Spearman (cosine), from one every-layer
  encoding, and of TREC-6 accuracy (3-fold LogisticRegression on ``--trec`` questions) by
  ``dim_curve(..., layers=[1..6])``, with its encode time per depth.
* ``finetune``: ``fine_tune="full"`` with ``matryoshka_layers`` (unsupervised self-distillation
  from the frozen full-depth model) on the STSb-train sentences (all 10,566, or
  ``--train-sentences``), and the STSb-dev table before and after. Target: 3 layers x 64 dims
  >= 95% of the unmodified model's full-size Spearman. The defaults are the settings that met it:
  ``matryoshka_layers={3: 4.0}`` (``--layers 3:4``), ``matryoshka_dims=[32, ..., 384]``
  (``--train-dims``), 12 epochs, learning rate 1e-4: about 40 minutes on a 2-core CPU with one
  torch thread. Measured with fewer (same data): 1 epoch on 5,000 sentences 89.3%, 6 epochs
  94.5%, 8 epochs with ``{3: 8.0}`` 94.5%.

Usage::

    python benchmarks/depth_dim.py --data ../shared/data [--sections grid,speed,quality,finetune]
    python benchmarks/depth_dim.py --data ../shared/data --sections finetune --epochs 1 \
        --train-sentences 5000       # a quick look (about 2 minutes)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _data import (
    SEED,
    SMS,
    STS_DEV,
    STS_TRAIN,
    TREC,
    check_data,
    check_subset,
    data_folder,
    dim_curve_rule,
    grid_rule,
    int_at_least,
    load_dataset,
    positive_float,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DIMS = [8, 16, 32, 64, 128, 384]
DEPTHS = [2, 4, 6]
FOLDS = 5  # the grid's cross-validation
TREC_FOLDS = 3  # the quality section's dim_curve on TREC


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""


# -- grid ------------------------------------------------------------------------------------
def _grid_child(data: Path, dataset: str, n: int, big: bool) -> dict:
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    from skmrl import MatryoshkaEmbedder
    from skmrl._torch.onednn import packed_for_inference
    from skmrl.datasets import load_sms_spam, load_trec
    from skmrl.models import DEFAULT_MODEL, load_model

    warnings.filterwarnings("ignore", message="The least populated class")
    texts, labels = (load_sms_spam if dataset == "sms" else load_trec)(data)
    idx = np.random.default_rng(SEED).permutation(len(texts))[:n]
    X = [texts[i] for i in idx]
    y = np.asarray(labels)[idx]
    start = time.perf_counter()
    counts = {"calls": 0, "rows": 0}

    def hook(module, args, kwargs, output):
        counts["calls"] += 1
        counts["rows"] += int(kwargs["input_ids"].shape[0])

    model = load_model(DEFAULT_MODEL, "cpu").model
    # Build the packed copy first (its one-off probe is not counted); its layer views share
    # the hook, so shallow and every-layer passes are counted too.
    packed_for_inference(model).register_forward_hook(hook, with_kwargs=True)
    emb = MatryoshkaEmbedder(device="cpu", cache_layers=big)
    pipe = Pipeline([("emb", emb), ("clf", LogisticRegression(max_iter=1000))])
    grid = {"emb__n_layers": DEPTHS, "emb__dim": DIMS} if big else {"emb__dim": [384]}
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(FOLDS, shuffle=True, random_state=0))
    search.fit(X, y)
    return {
        "seconds": time.perf_counter() - start,
        "forward_calls": counts["calls"],
        "encoded_rows": counts["rows"],
        "unique_texts": len(set(X)),
        "best": {k.split("__")[1]: v for k, v in search.best_params_.items()},
        "best_score": round(float(search.best_score_), 4),
        "points": len(search.cv_results_["params"]),
    }


def _grid(args: argparse.Namespace) -> None:
    def run(big: bool) -> dict:
        data = str(args.data.resolve())  # the child runs in ROOT
        cmd = [sys.executable, __file__, "--data", data, "--dataset", args.dataset]
        cmd += ["--n", str(args.n), "--grid-child", "big" if big else "small"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            raise SystemExit("grid child failed")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    small, big = [], []
    for _ in range(args.repeats):
        small.append(run(False))
        big.append(run(True))
    print(
        f"## grid: {args.dataset}, {small[0]['unique_texts']} unique texts, 5-fold CV, "
        f"LogisticRegression; each grid in a fresh process (model load included), "
        f"{args.repeats} alternating runs; {_load()} at end"
    )
    for name, runs in (("1 x 1 grid", small), (f"{len(DEPTHS)} x {len(DIMS)} grid", big)):
        r = runs[0]
        times = ", ".join(f"{x['seconds']:.1f}" for x in sorted(runs, key=lambda x: x["seconds"]))
        print(
            f"  {name} ({r['points']} points): {times} s; {r['forward_calls']} forward passes, "
            f"{r['encoded_rows'] / r['unique_texts']:.2f} encodings per unique text; best "
            f"{r['best']} accuracy {r['best_score']}"
        )
    one = [x["seconds"] for x in small]
    many = [x["seconds"] for x in big]
    print(
        f"  wall-time ratio: best {min(many) / min(one):.2f}, median "
        f"{statistics.median(many) / statistics.median(one):.2f} (target <= 1.2)"
    )


# -- speed -----------------------------------------------------------------------------------
def _dev_sentences(data: Path) -> tuple[list[str], list[str], list[str], object]:
    from skmrl.datasets import load_sts

    a, b, scores = load_sts(data, "dev")
    return a, b, list(dict.fromkeys(a + b)), scores


def _per_depth_seconds(texts: list[str], repeats: int) -> dict[int, list[float]]:
    from skmrl._torch.encoder import encode
    from skmrl.models import load_model

    loaded = load_model()
    encode(texts[:64], loaded.model, loaded.tokenizer)  # warm up (oneDNN packing)
    times: dict[int, list[float]] = {k: [] for k in range(1, 7)}
    for _ in range(repeats):
        for k in (3, 6, 1, 2, 4, 5):  # 3 and 6 side by side: their ratio is the target
            start = time.perf_counter()
            encode(texts, loaded.model, loaded.tokenizer, n_layers=k)
            times[k].append(time.perf_counter() - start)
    return times


def _speed(args: argparse.Namespace, texts: list[str]) -> dict[int, float]:
    import torch

    times = _per_depth_seconds(texts, args.repeats)
    print(
        f"## speed: {len(texts)} STSb-dev sentences, encode() with no cache, cpu, "
        f"{torch.get_num_threads()} torch threads, depths alternating, {args.repeats} runs "
        f"each; {_load()} at end"
    )
    for k in (3, 6):
        ts = sorted(times[k])
        print(f"  n_layers={k}: {', '.join(f'{len(texts) / t:.0f}' for t in ts[::-1])} texts/s")
    best = min(times[6]) / min(times[3])
    med = statistics.median(times[6]) / statistics.median(times[3])
    paired = statistics.median(t6 / t3 for t3, t6 in zip(times[3], times[6], strict=True))
    print(
        f"  speed-up of n_layers=3 over 6: best {best:.2f}x, median {med:.2f}x, median of the "
        f"runs' paired ratios {paired:.2f}x (target >= 1.8)"
    )
    return {k: 1000 * statistics.median(v) / len(texts) for k, v in times.items()}  # s / 1,000


# -- quality ---------------------------------------------------------------------------------
def _sts_table(emb, a: list[str], b: list[str], scores) -> dict[tuple[int, int], float]:
    import numpy as np
    from scipy.stats import spearmanr

    from skmrl.base import prefix_normalize

    unique = list(dict.fromkeys(a + b))
    row = {t: i for i, t in enumerate(unique)}
    every = emb._encode(unique, every_layer=True)  # (layers, n, 384), one pass
    out = {}
    for k in range(1, every.shape[0] + 1):
        for d in DIMS:
            v = prefix_normalize(every[k - 1], d)
            va = v[[row[t] for t in a]]
            vb = v[[row[t] for t in b]]
            out[k, d] = float(spearmanr(np.einsum("ij,ij->i", va, vb), scores).statistic)
    return out


def _print_table(title: str, table: dict, fmt: str, ms: dict[int, float] | None = None) -> None:
    print(title)
    head = "  layers | " + " | ".join(f"{d:>6}" for d in DIMS)
    print(head + (" | encode s / 1,000 texts" if ms else ""))
    for k in sorted({k for k, _ in table}):
        cells = " | ".join(format(table[k, d], fmt).rjust(6) for d in DIMS)
        print(f"  {k:>6} | {cells}" + (f" | {ms[k]:.2f}" if ms else ""))


def _quality(args: argparse.Namespace, ms: dict[int, float] | None) -> dict:
    import numpy as np

    from skmrl import MatryoshkaEmbedder
    from skmrl.datasets import load_trec
    from skmrl.evaluation import dim_curve

    a, b, _, scores = _dev_sentences(args.data)
    emb = MatryoshkaEmbedder(device="cpu").fit(["x"])
    sts = _sts_table(emb, a, b, scores)
    full = sts[6, 384]
    _print_table(
        f"## quality: STSb-dev Spearman x 100 (unmodified full size {100 * full:.2f}), "
        "rows: n_layers, columns: dim",
        {key: 100 * v for key, v in sts.items()},
        ".1f",
        ms,
    )
    texts, labels = load_trec(args.data)
    idx = np.random.default_rng(SEED).permutation(len(texts))[: args.trec]
    start = time.perf_counter()
    grid = dim_curve(
        MatryoshkaEmbedder(device="cpu"),
        [texts[i] for i in idx],
        np.asarray(labels)[idx],
        dims=DIMS,
        cv=TREC_FOLDS,
        layers=list(range(1, 7)),
        progress=False,
    )
    seconds = time.perf_counter() - start
    print(
        f"## quality: TREC-6 accuracy ({len(idx)} questions, 3-fold LogisticRegression), by "
        f"dim_curve(layers=[1..6]) in {seconds:.1f} s (timing included); the last columns: its "
        "encode time per 1,000 questions at each depth and the smallest dim within 0.01 of the "
        "best"
    )
    print(grid.to_markdown(digits=3))
    depth, dim = grid.cheapest(0.01)
    print(f"  cheapest within 0.01 of the best: {depth} layers, dim {dim}")
    return {"sts": sts, "full": full}


# -- 2D fine-tuning ----------------------------------------------------------------------------
def _finetune(args: argparse.Namespace, before: dict | None) -> None:
    import numpy as np

    from skmrl import MatryoshkaEmbedder
    from skmrl.datasets import load_sts

    a, b, _, scores = _dev_sentences(args.data)
    if before is None:
        emb = MatryoshkaEmbedder(device="cpu").fit(["x"])
        before = {"sts": _sts_table(emb, a, b, scores)}
        before["full"] = before["sts"][6, 384]
    ta, tb, _ = load_sts(args.data, "train")
    train = list(dict.fromkeys(ta + tb))
    train = [
        train[i] for i in np.random.default_rng(0).permutation(len(train))[: args.train_sentences]
    ]
    layers, dims = args.layers, args.train_dims
    start = time.perf_counter()
    emb = MatryoshkaEmbedder(
        device="cpu",
        fine_tune="full",
        matryoshka_layers=layers,
        matryoshka_dims=dims,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
    ).fit(train)
    seconds = time.perf_counter() - start
    after = _sts_table(emb, a, b, scores)
    full = before["full"]
    print(
        f"## 2D fine-tuning: fine_tune='full', matryoshka_layers={layers} (+ the full depth, "
        f"weight 1), matryoshka_dims={emb.matryoshka_dims_}, unsupervised self-distillation, "
        f"{len(train)} STSb-train sentences, {args.epochs} "
        f"epoch(s), learning rate {args.learning_rate or 2e-5:g}, {seconds:.0f} s; {_load()}"
    )
    _print_table(
        "  before: STSb-dev Spearman, % of the unmodified full size",
        {k: 100 * v / full for k, v in before["sts"].items()},
        ".1f",
    )
    _print_table(
        "  after: STSb-dev Spearman, % of the unmodified full size",
        {k: 100 * v / full for k, v in after.items()},
        ".1f",
    )
    print(
        f"  3 layers x 64 dims: before {100 * before['sts'][3, 64] / full:.1f}%, after "
        f"{100 * after[3, 64] / full:.1f}% of {100 * full:.2f} (target >= 95%); full depth "
        f"and size after: {100 * after[6, 384]:.2f}"
    )


def _layers(text: str) -> list[int] | dict[int, float]:
    """``--layers``: ``3`` or ``2,3`` (weight 1 each), or ``3:4`` (layer 3 with weight 4).

    A malformed value, or a layer outside the model's 1..6, is argparse's one-line error.
    """
    parts = [p.split(":") for p in text.split(",")]
    try:
        if any(len(p) > 2 for p in parts):
            raise ValueError
        layers = [int(p[0]) for p in parts]
        weights = [float(p[1]) if len(p) > 1 else 1.0 for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layers like 3, 2,3 or 3:4 (layer:weight), got {text!r}"
        ) from None
    if not all(1 <= k <= 6 for k in layers):  # all-MiniLM-L6-v2 has 6 layers
        raise argparse.ArgumentTypeError(
            f"layers must be in 1..6 (all-MiniLM-L6-v2's), got {text!r}"
        )
    if len(set(layers)) < len(layers):  # 3:4,3:1 kept one weight of the two without a word
        raise argparse.ArgumentTypeError(f"each layer once, got {text!r}")
    if not all(math.isfinite(w) and w > 0 for w in weights):  # refused only by the training
        raise argparse.ArgumentTypeError(f"layer weights must be finite and > 0, got {text!r}")
    if all(len(p) == 1 for p in parts):
        return layers
    return dict(zip(layers, weights, strict=True))


def _train_dims(text: str) -> list[int] | None:
    """``--train-dims``: comma-separated sizes in 1..384, or ``default`` (the estimator's)."""
    if text == "default":
        return None
    try:
        dims = [int(x) for x in text.split(",")]
    except ValueError:
        dims = []
    increasing = all(a < b for a, b in itertools.pairwise(dims))  # else refused by training
    if not dims or not increasing or not all(1 <= d <= max(DIMS) for d in dims):
        raise argparse.ArgumentTypeError(
            f"expected increasing comma-separated sizes in 1..{max(DIMS)}, or 'default', got "
            f"{text!r}"
        )
    return dims


def _check_datasets(parser: argparse.ArgumentParser, args: argparse.Namespace, sections) -> None:
    """Parse the files the sections read (well under a second each), and check ``--n`` and
    ``--trec`` against their classes: all before the first section's minutes of work."""
    names = {
        "grid": [args.dataset],
        "speed": ["sts-dev"],
        "quality": ["sts-dev", "trec"],
        "finetune": ["sts-dev", "sts-train"],
    }
    loaded = {n: load_dataset(parser, args.data, n) for s in sections for n in names[s]}
    if "grid" in sections:
        labels = loaded[args.dataset][1]
        check_subset(parser, "--n", args.n, labels, grid_rule(FOLDS, args.dataset))
    if "quality" in sections:
        check_subset(
            parser, "--trec", args.trec, loaded["trec"][1], dim_curve_rule(TREC_FOLDS, "trec")
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=data_folder, help="the shared data folder")
    parser.add_argument(
        "--sections",
        default="grid,speed,quality,finetune",
        help="comma-separated sections to run, of grid, speed, quality and finetune (default: "
        "all four)",
    )
    parser.add_argument("--dataset", choices=["sms", "trec"], default="sms")
    parser.add_argument(
        "--n",
        type=int_at_least(1),
        default=1000,
        help=f"texts in the grid, drawn at random (seed 0, not stratified): enough for one "
        f"class to have {FOLDS} (for {FOLDS} folds) and for 2 classes",
    )
    parser.add_argument("--repeats", type=int_at_least(1), default=3)
    parser.add_argument(
        "--trec",
        type=int_at_least(1),
        default=2000,
        help=f"TREC questions in the table, drawn at random (seed 0): each class drawn needs "
        f"{TREC_FOLDS} (for dim_curve's {TREC_FOLDS} folds)",
    )
    parser.add_argument(
        "--train-sentences",
        type=int_at_least(1),
        default=None,
        help="STSb-train sentences (default: all)",
    )
    parser.add_argument("--epochs", type=int_at_least(1), default=12)
    parser.add_argument(
        "--layers",
        type=_layers,
        default="3:4",
        help="matryoshka_layers to train: 3, 2,3, or 3:4 (a weight)",
    )
    parser.add_argument(
        "--train-dims",
        type=_train_dims,
        default="32,64,128,256,384",
        help="matryoshka_dims; 'default' for the estimator's (8, 16, ... 384)",
    )
    parser.add_argument("--learning-rate", type=positive_float, default=1e-4)
    parser.add_argument("--grid-child", choices=["small", "big"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sections = ["grid"] if args.grid_child else [s.strip() for s in args.sections.split(",")]
    unknown = set(sections) - {"grid", "speed", "quality", "finetune"}
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)}")
    needs = {
        "grid": [SMS if args.dataset == "sms" else TREC],
        "speed": [STS_DEV],
        "quality": [STS_DEV, TREC],
        "finetune": [STS_DEV, STS_TRAIN],
    }
    check_data(parser, args.data, *(f for s in sections for f in needs[s]))
    if not args.grid_child:  # parse every file now: not in a child, nor after minutes of work
        _check_datasets(parser, args, sections)
    if args.grid_child:
        print(json.dumps(_grid_child(args.data, args.dataset, args.n, args.grid_child == "big")))
        return 0
    if "grid" in sections:
        _grid(args)
    ms = None
    if "speed" in sections:
        ms = _speed(args, _dev_sentences(args.data)[2])
    before = _quality(args, ms) if "quality" in sections else None
    if "finetune" in sections:
        _finetune(args, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
