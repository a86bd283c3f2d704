"""The small hand-written corpus of the embedder checks, for the contract tests."""

from __future__ import annotations

from skmrl.utils._corpus import CORPUS, LABELS

__all__ = ["CORPUS", "LABELS"]
