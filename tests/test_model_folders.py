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


def _mean_pooled(folder, texts: list[str]) -> np.ndarray:
    """The straightforward reference: plain transformers in float32, one text at a time (no
    padding), the mean of its token vectors."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).float().eval()
    with torch.no_grad():
        return np.stack(
            [
                model(**tokenizer([t], return_tensors="pt")).last_hidden_state[0].mean(0).numpy()
                for t in texts
            ]
        )


def test_weights_saved_in_fp16_run_in_float32_on_the_cpu(tiny_bert, tmp_path):
    # transformers 5 loads weights in the dtype they were saved in: an fp16 folder ran in fp16
    # on the CPU (2x slower for MiniLM, vectors 1e-3 off) while precision_ said "fp32".
    from skmrl.models import load_model

    folder = tmp_path / "fp16"
    transformers.AutoModel.from_pretrained(tiny_bert).half().save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    emb = MatryoshkaEmbedder(folder, device="cpu", normalize=False).fit(TEXTS)
    assert emb.precision_ == "fp32"
    assert {p.dtype for p in load_model(folder).model.parameters()} == {torch.float32}
    np.testing.assert_allclose(emb.transform(TEXTS[:3]), _mean_pooled(folder, TEXTS[:3]), atol=1e-5)
