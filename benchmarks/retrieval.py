"""Funnel retrieval on nested prefixes (issue 10): quality on DBpedia, then speed at 1M vectors.

Section ``dbpedia``: the BEIR-format DBpedia subset of the shared data (5,000 documents, 40
judged queries) encoded once at full size by the packaged all-MiniLM-L6-v2 (kept under
``--cache-dir``). For the vectors as they are, again after an unsupervised
``MatryoshkaAdaptor`` fitted on the corpus vectors (the encoder made Matryoshka at low cost),
and after ``MatryoshkaAdaptor(method="pca")`` fitted on them, it prints nDCG@10 and
recall@100 (``skmrl.metrics``) of exact full-size search and of ``MatryoshkaSearch`` funnels:
float shortlists of 16/32/64 dims, int8 and binary shortlists, each reranked at full size,
with the shortlist's bytes per document and queries per second.
Targets: a 64-dim shortlist keeps >= 99% of exact nDCG@10; a binary shortlist + float rerank
keeps >= 97% with >= 16x less shortlist memory (against a float32 shortlist of the same dims).

Section ``scale``: 1,000,000 synthetic unit vectors of 384 dims and 1,000 queries, drawn around
the real DBpedia vectors (each a real corpus vector after the adaptor, plus Gaussian noise with
the same per-dimension spread, so that, as in real Matryoshka vectors, the leading dimensions
carry most of the variance; queries likewise around real documents). It prints queries/second
and peak working memory (``MatryoshkaSearch(n_jobs=threads)``: threads over query batches) of
exact search (skmrl's chunked NumPy search, and faiss's exact
``IndexFlatIP`` when faiss-cpu is installed) and of the funnels, with recall@10 against exact
search. Target: a funnel >= 4x the queries/second of exact full-size search at >= 99%
recall@10.

Usage::

    python benchmarks/retrieval.py --data ../shared/data [--sections dbpedia,scale]
        [--n-docs 1000000] [--n-queries 1000] [--threads 2] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from functools import cache
from pathlib import Path

import numpy as np
from _data import (
    DBPEDIA,
    check_cache_dir,
    check_data,
    data_folder,
    int_at_least,
    load_dataset,
    max_length,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
#: The neighbours the scale section searches for: ``--n-docs`` must hold at least as many.
SCALE_K = 10


def _funnels(full_dim: int) -> list[tuple[str, dict]]:
    """(label, MatryoshkaSearch parameters) of every configuration in the tables."""
    rows = [("exact, full size", {"shortlist_dim": None})]
    for d in (16, 32, 64):
        rows.append((f"float32 shortlist {d}", {"shortlist_dim": d}))
    rows.append(("int8 shortlist 64", {"shortlist_dim": 64, "quantize": "int8"}))
    for d in (64, 128, full_dim):
        rows.append((f"binary shortlist {d}", {"shortlist_dim": d, "quantize": "binary"}))
    return rows


#: Queries of the untimed warm-up search before each searcher's timed runs.
WARM_UP = 32


def _timed_search(search, queries, k: int, repeats: int) -> tuple[np.ndarray, float, int]:
    """Best-of-``repeats`` seconds of ``kneighbors``, its indices, and its peak memory (bytes),
    after one untimed search of a few queries: the first int8 search of a process times
    torch._int_mm once (0.3-2.3 s), which with --repeats 1 made the first int8 row 80 queries/s
    against ~1,900."""
    search.kneighbors(queries[:WARM_UP], n_neighbors=k, return_distance=False)
    best = float("inf")
    for r in range(repeats):
        if r == repeats - 1:
            tracemalloc.start()
        t0 = time.perf_counter()
        idx = search.kneighbors(queries, n_neighbors=k, return_distance=False)
        best = min(best, time.perf_counter() - t0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return idx, best, peak


def _shortlist_bytes(search, n_docs: int) -> str:
    """The shortlist's bytes per document, or ``-`` for exact search, which has none (its
    ``shortlist_bytes_`` is 0; the faiss row says ``-`` as well)."""
    return "-" if search.shortlist_ is None else f"{search.shortlist_bytes_ / n_docs:g}"


@cache  # both sections use them: encoded (or read from the disk cache) and adapted once a run
def _dbpedia_vectors(data: Path, cache_dir: str | None, max_length: int | None):
    from skmrl import MatryoshkaEmbedder
    from skmrl.cache import get_embedding_cache
    from skmrl.datasets import load_beir

    corpus, queries, qrels = load_beir(data / "retrieval" / "dbpedia")
    emb = MatryoshkaEmbedder(memory=cache_dir, max_length=max_length).fit(["x"])
    misses = get_embedding_cache().misses
    t0 = time.perf_counter()
    D = emb.embed_full(list(corpus.values()))
    Q = emb.embed_full(list(queries.values()))
    seconds = time.perf_counter() - t0
    # A re-run reads the vectors from --cache-dir: "encoded ... in 0.3 s" was a read's seconds.
    encoded = get_embedding_cache().misses - misses
    how = "encoded" if encoded else "read from --cache-dir"
    if 0 < encoded < len(set(corpus.values()) | set(queries.values())):
        how = f"encoded ({encoded:,} texts; the others read from --cache-dir)"
    print(f"{how} {len(D):,} documents and {len(Q)} queries in {seconds:.1f} s")
    return D, Q, list(corpus), list(queries), qrels


@cache
def _adapted_dbpedia(data: Path, cache_dir: str | None, max_length: int | None):
    """The DBpedia vectors, both sides through an unsupervised MatryoshkaAdaptor fitted on the
    corpus vectors."""
    D, Q, *_ = _dbpedia_vectors(data, cache_dir, max_length)
    from skmrl import MatryoshkaAdaptor

    t0 = time.perf_counter()
    adaptor = MatryoshkaAdaptor(progress=False).fit(D)
    print(f"adaptor fitted on the {len(D):,} corpus vectors in {time.perf_counter() - t0:.1f} s")
    return adaptor.transform_full(D), adaptor.transform_full(Q)


def _pca_dbpedia(data: Path, cache_dir: str | None, max_length: int | None):
    """The DBpedia vectors, both sides through MatryoshkaAdaptor(method="pca") fitted on the
    corpus vectors (centred, so full-size cosines change a little)."""
    D, Q, *_ = _dbpedia_vectors(data, cache_dir, max_length)
    from skmrl import MatryoshkaAdaptor

    t0 = time.perf_counter()
    adaptor = MatryoshkaAdaptor(method="pca").fit(D)
    print(f"pca fitted on the {len(D):,} corpus vectors in {time.perf_counter() - t0:.1f} s")
    return adaptor.transform_full(D), adaptor.transform_full(Q)


def dbpedia(args: argparse.Namespace) -> None:
    from skmrl.metrics import ndcg_at_k, recall_at_k
    from skmrl.retrieval import MatryoshkaSearch

    D, Q, doc_ids, query_ids, qrels = _dbpedia_vectors(args.data, args.cache_dir, args.max_length)
    for name, (docs, queries) in {
        "MiniLM as it is": (D, Q),
        "MiniLM + MatryoshkaAdaptor (unsupervised, fitted on the corpus)": _adapted_dbpedia(
            args.data, args.cache_dir, args.max_length
        ),
        'MiniLM + MatryoshkaAdaptor(method="pca") (fitted on the corpus)': _pca_dbpedia(
            args.data, args.cache_dir, args.max_length
        ),
    }.items():
        print(
            f"\n### DBpedia subset, {name}: max_length {args.max_length}, {args.threads} "
            f"thread(s), queries/s the best of {args.repeats} run(s) after a warm-up\n"
        )
        print("| search | nDCG@10 | % of exact | recall@100 | shortlist B/doc | queries/s |")
        print("|---|---|---|---|---|---|")
        exact = None
        for label, params in _funnels(docs.shape[1]):
            search = MatryoshkaSearch(device="cpu", n_jobs=args.threads, **params).fit(docs)
            idx, seconds, _ = _timed_search(search, queries, 100, args.repeats)
            ranked = {q: [doc_ids[j] for j in row] for q, row in zip(query_ids, idx, strict=True)}
            ndcg = ndcg_at_k(qrels, ranked, 10)
            exact = ndcg if exact is None else exact
            recall = recall_at_k(qrels, ranked, 100)
            print(
                f"| {label} | {ndcg:.4f} | {100 * ndcg / exact:.1f}% | {recall:.4f} "
                f"| {_shortlist_bytes(search, len(docs))} | {len(queries) / seconds:,.0f} |"
            )


def _synthetic(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around the adapted DBpedia vectors, noise shaped like their spread."""
    D, _ = _adapted_dbpedia(args.data, args.cache_dir, args.max_length)
    D = D / np.linalg.norm(D, axis=1, keepdims=True)  # a copy: the cached vectors stay as they are
    spread = D.std(axis=0).astype(np.float32)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    docs = np.empty((args.n_docs, D.shape[1]), dtype=np.float32)
    for a in range(0, args.n_docs, 100_000):  # in blocks: the noise never needs a second copy
        b = min(a + 100_000, args.n_docs)
        block = rng.standard_normal((b - a, D.shape[1]), dtype=np.float32) * spread
        block += D[rng.integers(0, len(D), b - a)]
        docs[a:b] = block / np.linalg.norm(block, axis=1, keepdims=True)
    queries = rng.standard_normal((args.n_queries, D.shape[1]), dtype=np.float32) * spread
    queries += D[rng.integers(0, len(D), args.n_queries)]
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    print(
        f"drew {args.n_docs:,} documents and {args.n_queries:,} queries in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return docs, queries


def scale(args: argparse.Namespace) -> None:
    from skmrl.retrieval import MatryoshkaSearch

    docs, queries = _synthetic(args)
    k = SCALE_K
    print(
        f"\n### {len(docs):,} x {docs.shape[1]} unit vectors, {len(queries):,} queries, "
        f"top {k}, {args.threads} thread(s), queries/s the best of {args.repeats} run(s) "
        "after a warm-up\n"
    )
    print(
        "| search | queries/s | speed-up vs exact | recall@10 of exact | shortlist B/doc "
        "| peak search memory |"
    )
    print("|---|---|---|---|---|---|")
    full = docs.shape[1]
    rows = [("exact, full size", {"shortlist_dim": None})]
    for quantize, d, size in [
        (None, 64, 200),
        (None, 64, 1000),
        ("int8", 64, 200),
        ("int8", 64, 500),
        ("int8", 64, 1000),
        ("int8", 128, 200),
        ("binary", full, 1000),
    ]:
        label = f"{quantize or 'float32'} shortlist {d}, {size} reranked"
        rows.append((label, {"shortlist_dim": d, "shortlist_size": size, "quantize": quantize}))
    exact = exact_s = None
    for label, params in rows:
        search = MatryoshkaSearch(device="cpu", n_jobs=args.threads, **params).fit(docs)
        idx, seconds, peak = _timed_search(search, queries, k, args.repeats)
        if exact is None:
            exact, exact_s = idx, seconds
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(idx, exact, strict=True)])
        print(
            f"| {label} | {len(queries) / seconds:,.0f} | {exact_s / seconds:.2f}x "
            f"| {recall:.4f} | {_shortlist_bytes(search, len(docs))} "
            f"| {peak / 2**20:,.0f} MiB |"
        )
        del search
    try:
        import faiss
    except ImportError:
        print("\nfaiss-cpu is not installed: no faiss baseline (pip install 'skmrl[bench]')")
        return
    faiss.omp_set_num_threads(args.threads)
    index = faiss.IndexFlatIP(docs.shape[1])
    index.add(docs)
    index.search(queries[:WARM_UP], k)  # untimed, as skmrl's searches (_timed_search)
    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        _, idx = index.search(queries, k)
        best = min(best, time.perf_counter() - t0)
    recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(idx, exact, strict=True)])
    print(
        f"| faiss IndexFlatIP (exact) {faiss.__version__} | {len(queries) / best:,.0f} "
        f"| {exact_s / best:.2f}x | {recall:.4f} | - | - |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=data_folder, required=True, help="the shared data folder")
    parser.add_argument(
        "--sections",
        default="dbpedia,scale",
        help="comma-separated sections to run, of dbpedia and scale (default: both)",
    )
    parser.add_argument(
        "--n-docs",
        type=int_at_least(SCALE_K),
        default=1_000_000,
        help=f"synthetic documents of the scale section: at least {SCALE_K}, the top k searched",
    )
    parser.add_argument("--n-queries", type=int_at_least(1), default=1_000)
    parser.add_argument("--threads", type=int_at_least(1), default=os.cpu_count())
    parser.add_argument("--repeats", type=int_at_least(1), default=3)
    parser.add_argument("--max-length", type=max_length, default=256)
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="memory= folder (default: skmrl's cache folder, $SKMRL_CACHE_DIR if set; none: "
        "no disk cache)",
    )
    args = parser.parse_args(argv)
    args.cache_dir = check_cache_dir(parser, args.cache_dir)
    sections = [s.strip() for s in args.sections.split(",")]
    unknown = set(sections) - {"dbpedia", "scale"}
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)}")
    check_data(parser, args.data, *DBPEDIA)
    load_dataset(parser, args.data, "dbpedia")  # a malformed file: one line now, not a traceback
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        for section in sections:
            {"dbpedia": dbpedia, "scale": scale}[section](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
