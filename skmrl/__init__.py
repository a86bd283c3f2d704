"""skmrl: text embeddings as scikit-learn transformers, with the embedding size as a hyperparameter.

Every embedder here is Matryoshka-shaped: each prefix of ``k`` dimensions of its full-size vector
is itself a good embedding, so ``dim`` only slices, and a grid search over ``dim`` costs one fit
and one encoding per fold.

Importing ``skmrl`` is cheap: it imports neither torch nor scikit-learn; each public name loads
its module when it is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BaseEmbedder",
    "Comparison",
    "DepthDimCurves",
    "DimCurve",
    "MatryoshkaAdaptor",
    "MatryoshkaEmbedder",
    "MatryoshkaSearch",
    "TfidfBaseline",
    "Word2VecEmbedder",
    "__version__",
    "clear_caches",
    "compare",
    "dim_curve",
    "finetune",
    "prefix_normalize",
    "smallest_dim_refit",
]

# Type checkers do not run __getattr__, so without these imports every name below was Any to
# them (`from skmrl import TfidfBaseline` lost all of its hints); never run, so the import
# stays cheap. Keep them in step with _LAZY (tests/test_package.py checks).
if TYPE_CHECKING:
    from skmrl._finetune import finetune
    from skmrl.adaptor import MatryoshkaAdaptor
    from skmrl.base import BaseEmbedder, prefix_normalize
    from skmrl.cache import clear_caches
    from skmrl.evaluation import (
        Comparison,
        DepthDimCurves,
        DimCurve,
        compare,
        dim_curve,
        smallest_dim_refit,
    )
    from skmrl.matryoshka import MatryoshkaEmbedder
    from skmrl.retrieval import MatryoshkaSearch
    from skmrl.tfidf import TfidfBaseline
    from skmrl.word2vec import Word2VecEmbedder

# Public names, imported on first access: ``import skmrl`` (and so the ``skmrl`` command's start)
# loads neither torch nor scikit-learn until an estimator is used.
_LAZY: dict[str, str] = {
    "BaseEmbedder": "skmrl.base",
    "Comparison": "skmrl.evaluation",
    "DepthDimCurves": "skmrl.evaluation",
    "DimCurve": "skmrl.evaluation",
    "MatryoshkaAdaptor": "skmrl.adaptor",
    "MatryoshkaEmbedder": "skmrl.matryoshka",
    "MatryoshkaSearch": "skmrl.retrieval",
    "TfidfBaseline": "skmrl.tfidf",
    "Word2VecEmbedder": "skmrl.word2vec",
    "clear_caches": "skmrl.cache",
    "compare": "skmrl.evaluation",
    "dim_curve": "skmrl.evaluation",
    "finetune": "skmrl._finetune",
    "prefix_normalize": "skmrl.base",
    "smallest_dim_refit": "skmrl.evaluation",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skmrl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
