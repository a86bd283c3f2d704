"""Fine-tuning throughput: skmrl's ``finetune_encoder`` against sentence-transformers' trainer.

Both train the packaged all-MiniLM-L6-v2 for one epoch with MRL(CoSENT) (CoSENT on every prefix of
8, 16, ..., 384 dimensions) on the same N STS Benchmark train pairs, with the same batch size (in
pairs), learning rate, warm-up, weight decay, gradient clipping, sequence length and torch
threads; sentence-transformers runs ``SentenceTransformerTrainer`` + ``MatryoshkaLoss(model,
CoSENTLoss(model), dims)`` with no evaluation, no saving, no reporting and no dataloader workers.
Throughput is sentences (two per pair) per second of wall time around the call that trains. The
load average of the machine is printed beside each timing: on a shared machine, compare only
timings taken at the same load. Before the timings, the padding of each trainer's batches (padded
tokens over real tokens, the main cost skmrl's length-grouped batches save) is printed; it takes
seconds, and ``--padding-only`` stops there.

The quality is printed beside the speed: STS Benchmark dev Spearman correlation (1,500 pairs) of
the cosine at 8, 16, 32, 64 dims and full size, for the original model and both fine-tuned ones.

Usage::

    python benchmarks/finetune_speed.py --data ../shared/data [--pairs 2000] [--batch-size 32]
        [--threads 1] [--st-threads N] [--bf16] [--skip-st] [--padding-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _data import (
    STS_DEV,
    STS_TRAIN,
    check_data,
    data_folder,
    int_at_least,
    load_dataset,
    max_length,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EVAL_DIMS = (8, 16, 32, 64, None)
#: What ``SentenceTransformerTrainer`` imports (sentence-transformers' ``train`` extra).
TRAINER_MODULES = ("sentence_transformers", "datasets", "accelerate")


def _spearman_table(model, tokenizer, dev) -> list[float]:
    import numpy as np
    from scipy.stats import spearmanr

    from skmrl._torch.encoder import encode

    s1, s2, gold = dev
    unique = sorted(set(s1) | set(s2))
    vectors = encode(unique, model, tokenizer, batch_size=64)
    row = {t: i for i, t in enumerate(unique)}
    a = vectors[[row[t] for t in s1]]
    b = vectors[[row[t] for t in s2]]
    out = []
    for d in EVAL_DIMS:
        x, y = a[:, :d], b[:, :d]
        cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-12)
        out.append(float(spearmanr(cos, gold).statistic))
    return out


def _st_trainer(path: str, pairs, scores, dims, args, out: str):
    """sentence-transformers' trainer as the timed run uses it, writing (nothing) to ``out``."""
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    try:
        from sentence_transformers.sentence_transformer.losses import CoSENTLoss, MatryoshkaLoss
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.losses import CoSENTLoss, MatryoshkaLoss

    torch.manual_seed(0)
    model = SentenceTransformer(path, device="cpu")
    model.max_seq_length = args.max_length
    data = Dataset.from_dict(
        {
            "sentence1": [a for a, _ in pairs],
            "sentence2": [b for _, b in pairs],
            "score": [float(s) / 5.0 for s in scores],
        }
    )
    loss = MatryoshkaLoss(model, CoSENTLoss(model), matryoshka_dims=sorted(dims, reverse=True))
    import transformers

    # transformers 5 takes the warm-up ratio as a float warmup_steps (warmup_ratio is deprecated).
    v5 = int(transformers.__version__.split(".")[0]) >= 5
    warmup = {"warmup_steps": 0.1} if v5 else {"warmup_ratio": 0.1}
    targs = SentenceTransformerTrainingArguments(
        output_dir=out,
        num_train_epochs=1,
        per_device_train_batch_size=args.batch_size,
        learning_rate=2e-5,
        **warmup,
        weight_decay=0.01,
        max_grad_norm=1.0,
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        dataloader_num_workers=0,
        logging_steps=10_000,
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
    )
    trainer = SentenceTransformerTrainer(model=model, args=targs, train_dataset=data, loss=loss)
    return trainer, model


def _train_st(path: str, pairs, scores, dims, args) -> tuple[float, object]:
    import torch

    with tempfile.TemporaryDirectory() as out:
        trainer, model = _st_trainer(path, pairs, scores, dims, args, out)
        torch.set_num_threads(args.st_threads or args.threads)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    model.eval()
    return seconds, model[0].auto_model


def _padding(loaded, pairs, scores, dims, args) -> None:
    """Print the tokens each trainer's batches pad to, over the real tokens of the pairs.

    The batches are those of the timed runs (same pairs, batch size, sequence length and seed),
    built without training. skmrl: ``finetune_encoder``'s length-grouped batches of pairs
    (``length_batches`` on each pair's longer side, its default ``seed=0``), both sides of a
    batch padded together to its longest text. sentence-transformers: its trainer's own
    training dataloader (a random sampler seeded by ``seed=0``; its collator pads each column
    of a batch to that column's longest text), counted from the attention masks.
    """
    import numpy as np

    from skmrl._torch.batching import length_batches
    from skmrl._torch.encoder import tokenize
    from skmrl.models import DEFAULT_MODEL, resolve_model

    n = len(pairs)
    texts = [a for a, _ in pairs] + [b for _, b in pairs]  # as finetune_encoder orders them
    _, lengths = tokenize(texts, loaded.tokenizer, args.max_length)
    longer = np.maximum(lengths[:n], lengths[n:])
    batches = length_batches(longer, args.batch_size, np.random.default_rng(0))
    ours = sum(2 * len(b) * int(longer[b].max()) for b in batches) / int(lengths.sum())
    line = f"padding (padded tokens / real tokens of the epoch's batches): skmrl {ours:.2f}x"
    if not args.skip_st:
        padded = real = 0
        with tempfile.TemporaryDirectory() as out:
            trainer, _ = _st_trainer(resolve_model(DEFAULT_MODEL), pairs, scores, dims, args, out)
            for batch in trainer.get_train_dataloader():
                for side in ("sentence1", "sentence2"):
                    mask = batch[f"{side}_attention_mask"]
                    padded += mask.numel()
                    real += int(mask.sum())
        theirs = padded / real
        line += f", sentence-transformers {theirs:.2f}x, ratio {theirs / ours:.2f}x"
    print(line, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """This script's arguments (``mrl_quality.py``'s ``speed`` section runs it at its defaults)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=data_folder, help="the shared data folder")
    parser.add_argument(
        "--pairs", type=int_at_least(1), default=2000, help="STSb train pairs to train on"
    )
    parser.add_argument("--batch-size", type=int_at_least(1), default=32, help="pairs per batch")
    parser.add_argument("--threads", type=int_at_least(1), default=1, help="torch threads for both")
    parser.add_argument("--max-length", type=max_length, default=256)
    parser.add_argument(
        "--st-threads",
        type=int_at_least(1),
        default=None,
        help="torch threads for ST (default: --threads)",
    )
    parser.add_argument("--skip-st", action="store_true", help="time skmrl only")
    parser.add_argument(
        "--padding-only",
        action="store_true",
        help="print the padding of both trainers' batches (seconds), then stop before timing",
    )
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="also time skmrl with dtype=torch.bfloat16 autocast (an opt-in on the CPU)",
    )
    return parser


def missing_trainer_modules() -> list[str]:
    """The modules of sentence-transformers' trainer that are not installed."""
    import importlib.util

    return [m for m in TRAINER_MODULES if importlib.util.find_spec(m) is None]


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, in one line, missing or malformed data and a missing trainer."""
    check_data(parser, args.data, STS_TRAIN, STS_DEV)
    for name in ("sts-train", "sts-dev"):  # malformed: one line, not a traceback later
        load_dataset(parser, args.data, name)
    if not args.skip_st:
        missing = missing_trainer_modules()
        if missing:
            parser.error(
                f"sentence-transformers' trainer needs {', '.join(missing)}: pip install "
                "'skmrl[bench]' (sentence-transformers[train]), or pass --skip-st"
            )


def measure(args: argparse.Namespace) -> float | None:
    """Time both trainers and print the tables; return the float32 ratio skmrl / ST (None
    with ``--skip-st`` or ``--padding-only``)."""
    import numpy as np
    import torch

    from skmrl._torch.losses import default_matryoshka_dims
    from skmrl._torch.training import finetune_encoder
    from skmrl.datasets import load_sts
    from skmrl.models import DEFAULT_MODEL, load_model, resolve_model

    s1, s2, gold = load_sts(args.data, "train")
    rng = np.random.default_rng(0)
    idx = rng.choice(len(s1), size=min(args.pairs, len(s1)), replace=False)
    pairs = [(s1[i], s2[i]) for i in idx]
    scores = np.asarray(gold)[idx]
    dev = load_sts(args.data, "dev")
    loaded = load_model()
    dims = default_matryoshka_dims(loaded.hidden_size)
    torch.set_num_threads(args.threads)
    print(
        f"MiniLM-L6-v2, MRL(CoSENT) dims {dims}, {len(pairs)} STSb train pairs, 1 epoch, "
        f"batch {args.batch_size} pairs, max_length {args.max_length}, "
        f"torch {torch.__version__}, {args.threads} torch thread(s), {os.cpu_count()} cores"
    )
    _padding(loaded, pairs, scores, dims, args)
    if args.padding_only:
        return None

    rows: list[tuple[str, float, float]] = []
    trained = {}
    for name, dtype in [("skmrl finetune_encoder", None)] + (
        [("skmrl, bf16 autocast (opt-in)", torch.bfloat16)] if args.bf16 else []
    ):
        load = os.getloadavg()[0]
        start = time.perf_counter()
        result = finetune_encoder(
            loaded.model,
            loaded.tokenizer,
            pairs=pairs,
            scores=scores,
            dims=dims,
            batch_size=args.batch_size,
            max_length=args.max_length,
            threads=args.threads,
            dtype=dtype,
            progress=False,
        )
        seconds = time.perf_counter() - start
        trained[name] = result.model
        rows.append((name, 2 * len(pairs) / seconds, load))
        print(f"  {name}: {seconds:.1f} s (load average {load:.2f} before)", flush=True)

    st_model = ratio = None
    if not args.skip_st:
        load = os.getloadavg()[0]
        theirs, st_model = _train_st(resolve_model(DEFAULT_MODEL), pairs, scores, dims, args)
        st_threads = args.st_threads or args.threads
        name = f"sentence-transformers trainer ({st_threads} thr)"
        rows.append((name, 2 * len(pairs) / theirs, load))
        print(f"  sentence-transformers: {theirs:.1f} s (load average {load:.2f} before)")

    print(f"\n{'':40s} {'sentences/s':>12s} {'load avg':>9s}")
    for name, rate, load in rows:
        print(f"{name:40s} {rate:12.1f} {load:9.2f}")
    if st_model is not None:
        for name, rate, _ in rows[:-1]:
            print(f"ratio {name} / ST: {rate / rows[-1][1]:.2f}")
        ratio = rows[0][1] / rows[-1][1]

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print(f"\nSTSb dev Spearman ({len(dev[0])} pairs), cosine of the first k dims")
    header = "".join(f"{('full' if d is None else d)!s:>8s}" for d in EVAL_DIMS)
    print(f"{'':40s}{header}")
    models = [("original", loaded.model), *trained.items()]
    if st_model is not None:
        models.append(("sentence-transformers fine-tuned", st_model))
    for name, model in models:
        values = _spearman_table(model, loaded.tokenizer, dev)
        print(f"{name:40s}" + "".join(f"{100 * v:8.2f}" for v in values), flush=True)
    return ratio


def main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    check_args(parser, args)
    measure(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
