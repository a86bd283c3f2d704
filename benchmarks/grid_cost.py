"""Cost of a grid over ``dim``: a 6-value grid against a 1-value grid, each in a fresh process.

Both grids are ``GridSearchCV(Pipeline([MatryoshkaEmbedder, LogisticRegression]), cv=5)`` on the
same real data (SMS spam messages by default, or TREC questions). Since ``dim`` only slices
cached full-size vectors, the 6-value grid should cost about what the 1-value grid costs: each
unique text is encoded once per grid.
Each grid runs in its own fresh Python process (cold caches, model loaded once), which counts the
encoder's forward passes and encoded rows with a forward hook on the model that runs. The two grids
alternate ``--repeats`` times (a shared machine's load then hits both) and the best and median
times are compared.

Usage::

    python benchmarks/grid_cost.py --data ../shared/data [--dataset sms|trec] [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _data import (
    SEED,
    SMS,
    TREC,
    check_data,
    check_subset,
    data_folder,
    grid_rule,
    int_at_least,
    load_dataset,
)

ROOT = Path(__file__).resolve().parents[1]
SIX = [8, 16, 32, 64, 128, 384]
FOLDS = 5


def _child(data: Path, dataset: str, n: int, dims: list[int]) -> dict:
    """Run one grid in this (fresh) process and return its figures."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    from skmrl import MatryoshkaEmbedder
    from skmrl._torch.onednn import packed_for_inference
    from skmrl.datasets import load_sms_spam, load_trec
    from skmrl.models import DEFAULT_MODEL, load_model

    texts, labels = (load_sms_spam if dataset == "sms" else load_trec)(data)
    idx = np.random.default_rng(SEED).permutation(len(texts))[:n]
    X = [texts[i] for i in idx]
    y = labels[idx]
    start = time.perf_counter()
    counts = {"calls": 0, "rows": 0}

    def hook(module, args, kwargs, output):
        counts["calls"] += 1
        counts["rows"] += int(kwargs["input_ids"].shape[0])

    model = load_model(DEFAULT_MODEL, "cpu").model
    # float32 CPU encoding runs the model's oneDNN-packed copy (when it applies): build it
    # first, so its one-off check on a probe batch is not counted, and count what runs.
    packed_for_inference(model).register_forward_hook(hook, with_kwargs=True)
    pipe = Pipeline(
        [("emb", MatryoshkaEmbedder(device="cpu")), ("clf", LogisticRegression(max_iter=1000))]
    )
    grid = GridSearchCV(
        pipe, {"emb__dim": dims}, cv=StratifiedKFold(FOLDS, shuffle=True, random_state=0), n_jobs=1
    )
    grid.fit(X, y)
    return {
        "dims": dims,
        "seconds": time.perf_counter() - start,  # model load + grid (imports excluded)
        "forward_calls": counts["calls"],
        "encoded_rows": counts["rows"],
        "unique_texts": len(set(X)),
        "best_dim": grid.best_params_["emb__dim"],
        "best_score": grid.best_score_,
        "scores": [round(float(s), 4) for s in grid.cv_results_["mean_test_score"]],
    }


def _run(data: Path, dataset: str, n: int, dims: list[int]) -> dict:
    cmd = [sys.executable, __file__, "--data", str(data.resolve()), "--dataset", dataset]
    cmd += ["--n", str(n), "--child"]
    cmd += [str(d) for d in dims]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child process failed: {' '.join(cmd)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=data_folder, help="the shared data folder")
    parser.add_argument("--dataset", choices=["sms", "trec"], default="sms")
    parser.add_argument(
        "--n",
        type=int_at_least(1),
        default=1000,
        help=f"number of texts, drawn at random (seed 0, not stratified): enough for one class "
        f"to have {FOLDS} (for {FOLDS} folds) and for 2 classes",
    )
    parser.add_argument("--repeats", type=int_at_least(1), default=3, help="runs of each grid")
    parser.add_argument("--child", type=int, nargs="*", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    check_data(parser, args.data, SMS if args.dataset == "sms" else TREC)
    if args.child is None:  # the parent parses the file once, before any child starts
        labels = load_dataset(parser, args.data, args.dataset)[1]
        check_subset(parser, "--n", args.n, labels, grid_rule(FOLDS, args.dataset))
    else:
        import warnings

        warnings.filterwarnings("ignore", message="The least populated class")
        print(json.dumps(_child(args.data, args.dataset, args.n, args.child)))
        return 0

    runs: dict[str, list[dict]] = {"1-value grid": [], "6-value grid": []}
    for _ in range(args.repeats):
        runs["1-value grid"].append(_run(args.data, args.dataset, args.n, [384]))
        runs["6-value grid"].append(_run(args.data, args.dataset, args.n, SIX))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    first = runs["1-value grid"][0]
    print(
        f"{args.dataset}: {first['unique_texts']} unique texts, 5-fold CV, LogisticRegression, "
        f"MatryoshkaEmbedder (all-MiniLM-L6-v2, cpu); each grid in a fresh process, "
        f"{args.repeats} alternating runs each; load average at end {load:.2f}"
    )
    ok = True
    for name, rs in runs.items():
        for r in rs:
            ok &= r["encoded_rows"] == r["unique_texts"]
        r = rs[0]
        times = sorted(x["seconds"] for x in rs)
        print(
            f"  {name}: dims={r['dims']} times {', '.join(f'{t:.1f}' for t in times)} s; "
            f"{r['forward_calls']} forward passes, {r['encoded_rows']} texts encoded = "
            f"{r['encoded_rows'] / r['unique_texts']:.2f} per unique text; "
            f"accuracy by dim {r['scores']}"
        )
    one = [x["seconds"] for x in runs["1-value grid"]]
    six = [x["seconds"] for x in runs["6-value grid"]]
    print(
        f"  wall-time ratio 6-value / 1-value grid: best {min(six) / min(one):.2f}, "
        f"median {statistics.median(six) / statistics.median(one):.2f} (target <= 1.2)"
    )
    print(f"  exactly one encoding per unique text in every grid: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
