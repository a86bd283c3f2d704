"""Helpers shared by the tasks of :func:`~skmrl.evaluation.dim_curve`: taking rows, encoding once
at full size, checking ``dims``, the progress bar."""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable
from typing import Any

import numpy as np


def _take(X: Any, idx: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[i] for i in idx]


def _is_embedder(est: Any) -> bool:
    from skmrl.base import BaseEmbedder

    return isinstance(est, BaseEmbedder)


def _full_vectors(emb: Any, X: Any) -> tuple[np.ndarray | None, Callable[[int], np.ndarray]]:
    """Encode ``X`` once at full size; return a function giving the vectors at any ``dim``."""
    from skmrl.base import prefix_normalize

    if _is_embedder(emb):
        full = emb.embed_full(X)
    elif hasattr(emb, "transform_full"):  # MatryoshkaAdaptor
        full = emb.transform_full(X)
    else:  # any other transformer with a `dim` parameter: set it and transform
        return None, lambda k: emb.set_params(dim=k).transform(X)
    normalize = getattr(emb, "normalize", True)
    return full, lambda k: prefix_normalize(full, k, normalize)


def _check_dims(dims: Any, max_dim: int | None, where: str = "", clip: bool = False) -> list[int]:
    """Validate ``dims`` (sorted, unique); ``max_dim=None`` checks types and ``>= 1`` only.

    ``clip=True`` drops the sizes above ``max_dim`` instead of refusing them (not all of them).
    """
    if dims is None:
        assert max_dim is not None
        out = [2**p for p in range(3, max(3, max_dim.bit_length())) if 2**p < max_dim]
        return [*out, max_dim]
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        dims = [dims]
    try:
        values = list(dims)
    except TypeError:
        raise TypeError(f"dims must be a list of ints or None, got {dims!r}") from None
    if not values:
        raise ValueError("dims is empty")
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"dims must hold ints, got {v!r} ({type(v).__name__})")
    if max_dim is None:
        bad = [int(v) for v in values if v < 1]
        if bad:
            raise ValueError(f"dims {bad} must be >= 1")
        return sorted({int(v) for v in values})
    if clip:
        kept = [v for v in values if v <= max_dim]
        if not kept:
            raise ValueError(
                f"every one of dims {sorted(int(v) for v in values)} is above max_dim_={max_dim} "
                f"of the embedder {where}"
            )
        values = kept
    bad = [int(v) for v in values if not 1 <= v <= max_dim]
    if bad:
        raise ValueError(f"dims {bad} are outside 1..max_dim_={max_dim} of the embedder {where}")
    return sorted({int(v) for v in values})


def _fitted_max_dim(emb: Any) -> int:
    max_dim = getattr(emb, "max_dim_", None)
    if max_dim is None:
        raise ValueError(f"{type(emb).__name__} has no max_dim_ after fit: pass dims= explicitly")
    return int(max_dim)


def _progress(progress: bool | None, total: int, desc: str, unit: str = "fold") -> Any:
    show = sys.stderr.isatty() if progress is None else bool(progress)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not show, leave=False)


class _Steps:
    """One ``tqdm.auto`` bar over the (fold, dim) steps of a curve, or of every curve of a
    :func:`compare`: a step is one size scored in one fold. The total grows as each fold's
    sizes become known (the default ones depend on the fitted ``max_dim_``)."""

    def __init__(self, progress: bool | None, desc: str) -> None:
        self.bar = _progress(progress, 0, desc, unit="step")

    def add(self, n: int) -> None:
        self.bar.total += n
        self.bar.refresh()

    def tick(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def _learns_from_texts(embedder: Any) -> bool:
    """Whether the embedder's fitted state depends on the texts it is fitted on."""
    if _is_embedder(embedder):
        return embedder._fit_data_key([], None) is not None
    return True
