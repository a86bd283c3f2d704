"""Model folders as users bring them (MatryoshkaEmbedder(model=folder)): small random models of
several architectures, saved with transformers, against plain transformers and a hand-made
reference (no mocks, no network)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from skmrl import MatryoshkaEmbedder  # noqa: E402
from skmrl.models import ModelNotFoundError  # noqa: E402

TEXTS = ["a cat sat on the mat", "the dog ran home", "stocks fell sharply", ""]


def test_folder_without_tokenizer_files_is_refused_not_all_unknown_words(tiny_bert, tmp_path):
    # transformers 5 makes an empty tokenizer for a folder holding only the model: every word
    # became [UNK], so every three-word text got one vector, silently.
    folder = tmp_path / "model-only"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy2(f"{tiny_bert}/{name}", folder / name)
    with pytest.raises(ModelNotFoundError, match=r"has no tokenizer.*tokenizer.save_pretrained"):
        MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS)
    # with the tokenizer saved beside it, it loads and tells texts apart
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    out = MatryoshkaEmbedder(folder, device="cpu").fit(TEXTS).transform(TEXTS[:3])
    assert np.abs(out[0] - out[1]).max() > 1e-3 and np.abs(out[0] - out[2]).max() > 1e-3
