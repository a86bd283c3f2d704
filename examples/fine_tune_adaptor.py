"""
Fine-tuning: the curve before and after an adaptor
==================================================

Make short embeddings good: the encoder as it is vs ``fine_tune="adaptor"``, on TREC.

all-MiniLM-L6-v2 was not Matryoshka-trained, so its first 8 or 16 components are a poor
embedding. ``MatryoshkaEmbedder(fine_tune="adaptor")`` keeps the encoder frozen and learns, in
``fit`` (seconds on a CPU), a rotation of its vectors that packs the useful information into the
first components; given ``y`` it also separates the classes. ``compare`` scores both with the same
3 folds (the adaptor is trained inside each fold, never on the test part). Then the fitted model
is saved with ``save_pretrained`` and reloaded.

Run: ``python examples/fine_tune_adaptor.py --data ../shared/data [--limit 1500]``
(needs the ``models`` and ``plot`` extras).
"""

import argparse
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skmrl import MatryoshkaEmbedder
from skmrl.datasets import load_trec
from skmrl.evaluation import compare

parser = argparse.ArgumentParser(description="The encoder before and after an adaptor.")
parser.add_argument("--data", default="../shared/data", help="shared data folder")
parser.add_argument("--limit", type=int, default=1500, help="questions to use (stratified)")
args = parser.parse_args()
if args.limit < 1:
    parser.error(f"--limit must be at least 1, got {args.limit}")

# %%
# The data
# --------
# TREC questions in 6 coarse types (what a question asks for: a number, a person, a place...).

questions, labels = load_trec(args.data)  # 6 coarse question types
if args.limit < len(questions):  # a stratified subset, to keep the example fast
    questions, _, labels, _ = train_test_split(
        questions, labels, train_size=args.limit, stratify=labels, random_state=0
    )

# %%
# Before and after, on the same folds
# -----------------------------------
# Before/after, on the same folds. Each question is encoded once by the frozen encoder (cached);
# the adaptor only transforms those vectors, so the second curve costs little more.
dims = [8, 16, 32, 384]
comparison = compare(
    {
        "MiniLM as is": MatryoshkaEmbedder(),
        "MiniLM + adaptor": MatryoshkaEmbedder(fine_tune="adaptor"),
    },
    questions,
    labels,
    dims=dims,
    cv=3,
)
print(f"TREC, {len(questions)} questions, 3-fold CV, accuracy of a logistic regression")
print(comparison.to_markdown())

# %%
# The two curves: accuracy against ``dim`` (log2 axis), one line each, with the bytes of one
# float32 vector on the top axis.

comparison.plot()
plt.show()

# %%
# Save and reload
# ---------------
# Fit on all the questions, save as a standard transformers folder (+ skmrl_adaptor.npz),
# and reload: the reloaded embedder gives the same 16-dim vectors.
embedder = MatryoshkaEmbedder(dim=16, fine_tune="adaptor").fit(questions, labels)
with tempfile.TemporaryDirectory() as folder:
    embedder.save_pretrained(folder)
    reloaded = MatryoshkaEmbedder(model=folder, dim=16).fit(questions[:1])  # fit only loads
    before, after = embedder.transform(questions[:50]), reloaded.transform(questions[:50])
print("reloaded vectors:", after.shape, "max difference:", float(np.abs(before - after).max()))
print("reloaded matches:", bool(np.allclose(before, after, atol=1e-5)))
