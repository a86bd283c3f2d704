"""Disk cache at scale: write and read back a million vectors through ``EmbeddingCache``.

Synthetic float32 vectors (``--n`` of ``--dim`` values, random) go through
``EmbeddingCache.get_or_compute(..., memory=FOLDER)`` in batches of ``--batch`` texts, as an
embedder's ``transform`` would send them; then a fresh ``EmbeddingCache`` (an empty memory layer,
as in a new process) reads them all back, in batches too, with a ``compute`` that fails if called.
Printed: write and read times, the size on disk and the number of files, from
:func:`skmrl.cache.disk_cache_info`. The cache is written to a new folder (inside ``--dir``
when given, which chooses the disk to measure; a cache already in ``--dir`` is left as it is), and
that folder is removed at the end unless ``--keep``.

Usage::

    python benchmarks/disk_cache.py [--n 1000000] [--dim 384] [--batch 10000] [--dir FOLDER]

``--data`` is accepted like the other benchmarks' but unused (the vectors are synthetic).
Needs about ``n * dim * 4`` bytes of free disk (1.5 GB by default).

Measured on a 2-core VM (ext4, virtual disk): 1,000,000 x 384 wrote in 31-32 s, read back in
12-13 s, 1.73 GB on disk (1.12x the raw float32, WAL included) in 3 files. The layout before
the SQLite store (one ``.npy`` file per vector) took, for 100,000 vectors, 21.5 s to write,
16.6 s to read, 0.42 GB of disk blocks in 100,000 files, and 215 s to delete.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _data import check_data, data_folder, int_at_least

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _texts(start: int, stop: int) -> list[str]:
    return [f"synthetic document number {i}" for i in range(start, stop)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int_at_least(1), default=1_000_000, help="number of vectors")
    parser.add_argument("--dim", type=int_at_least(1), default=384, help="values per vector")
    parser.add_argument(
        "--batch", type=int_at_least(1), default=10_000, help="texts per get_or_compute"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder on the disk to measure; a new folder is made inside it (default: a temp)",
    )
    parser.add_argument("--data", type=data_folder, default=None, help="unused (synthetic data)")
    parser.add_argument("--keep", action="store_true", help="keep the cache folder")
    args = parser.parse_args()
    check_data(parser, args.data)  # unused, but a --data given must be a folder, as elsewhere

    from skmrl.cache import DEFAULT_MAX_BYTES, EmbeddingCache, clear_disk_cache, disk_cache_info

    # A new folder even inside --dir: the end of the run deletes it, and a cache already there
    # (the user's own, or an earlier run's) must neither be cleared nor make the writes hits.
    parent = None if args.dir is None else args.dir.expanduser()
    try:
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="skmrl-bench-", dir=parent))
    except OSError as exc:
        parser.error(f"--dir {args.dir}: cannot make a folder there ({exc.strerror})")
    need = args.n * args.dim * 4
    free = shutil.disk_usage(folder).free
    if free < 1.3 * need:
        print(f"not enough disk in {folder}: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed")
        return 1
    # The disk bound must not evict what is written: give it room above the data.
    disk_max = max(2 * need, 1 << 30)
    rng = np.random.default_rng(0)
    fp = f"bench-{args.dim}"
    print(
        f"{args.n:,} vectors of {args.dim} float32 ({need / 1e9:.2f} GB) in {folder}, "
        f"{args.batch:,} texts per get_or_compute"
    )
    try:
        cache = EmbeddingCache(max_bytes=DEFAULT_MAX_BYTES, disk_max_bytes=disk_max)
        t0 = time.perf_counter()
        for start in range(0, args.n, args.batch):
            texts = _texts(start, min(start + args.batch, args.n))
            cache.get_or_compute(
                fp,
                texts,
                lambda t: rng.standard_normal((len(t), args.dim), dtype=np.float32),
                memory=folder,
            )
        write_s = time.perf_counter() - t0
        info = disk_cache_info(folder)
        print(f"write: {write_s:.1f} s ({args.n / write_s:,.0f} vectors/s)")
        print(
            f"disk: {info['bytes'] / 1e9:.2f} GB in {info['n_files']} files, "
            f"{info['n_vectors']:,} vectors ({info['bytes'] / need:.2f}x the raw float32)"
        )

        def fail(texts: list[str]) -> np.ndarray:
            raise AssertionError(f"{len(texts)} texts were not found on disk")

        fresh = EmbeddingCache(max_bytes=DEFAULT_MAX_BYTES, disk_max_bytes=disk_max)
        total = 0.0
        t0 = time.perf_counter()
        for start in range(0, args.n, args.batch):
            out = fresh.get_or_compute(
                fp, _texts(start, min(start + args.batch, args.n)), fail, memory=folder
            )
            total += float(out[:, 0].sum())
        read_s = time.perf_counter() - t0
        print(f"read (cold memory layer): {read_s:.1f} s ({args.n / read_s:,.0f} vectors/s)")
        assert fresh.hits == args.n and fresh.misses == 0, (fresh.hits, fresh.misses)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            clear_disk_cache(folder)
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
