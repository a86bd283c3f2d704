"""skmrl: text embeddings as scikit-learn transformers, with the embedding size as a hyperparameter.

Every embedder here is Matryoshka-shaped: each prefix of ``k`` dimensions of its full-size vector
is itself a good embedding, so ``dim`` only slices, and a grid search over ``dim`` costs one fit
and one encoding per fold.

Importing ``skmrl`` is cheap: it does not import torch; the torch-backed embedders load it when
they are first used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from skmrl.base import BaseEmbedder, prefix_normalize
from skmrl.cache import clear_caches
from skmrl.tfidf import TfidfBaseline

__all__ = [
    "BaseEmbedder",
    "MatryoshkaEmbedder",
    "TfidfBaseline",
    "Word2VecEmbedder",
    "__version__",
    "clear_caches",
    "prefix_normalize",
]

# Torch-backed public names, imported on first access so that ``import skmrl`` stays torch-free.
_LAZY: dict[str, str] = {
    "MatryoshkaEmbedder": "skmrl.matryoshka",
    "Word2VecEmbedder": "skmrl.word2vec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skmrl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
