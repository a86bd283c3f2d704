"""
A t-SNE map of documents: TF-IDF beside MiniLM
==============================================

Keyword clusters against meaning clusters: the same BBC News articles mapped to two dimensions by
t-SNE, once from TF-IDF vectors and once from a sentence encoder (all-MiniLM-L6-v2), coloured by
topic. ``skmrl.plotting.plot_document_map`` draws one panel per embedder.

A subset of 400 articles (80 per topic) keeps the example under a minute on a CPU: the encoder
reads each article once (its first 128 tokens), and t-SNE runs on 400 points.

Run: ``python examples/document_map.py [--per-topic 80]`` (needs the ``data``, ``models`` and
``plot`` extras).
"""

# %%
# A subset of BBC News
# --------------------
# 80 articles of each of the 5 topics, drawn with a fixed seed.

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skmrl import MatryoshkaEmbedder, TfidfBaseline
from skmrl.datasets import load_bbc_news
from skmrl.plotting import plot_document_map

parser = argparse.ArgumentParser(description="A t-SNE map of BBC News: TF-IDF beside MiniLM.")
parser.add_argument("--per-topic", type=int, default=80, help="articles drawn from each topic")
args = parser.parse_args()

texts, labels = load_bbc_news()
smallest = np.unique(labels, return_counts=True)[1].min()  # 5-fold CV below needs 5 a topic
if not 5 <= args.per_topic <= smallest:
    parser.error(f"--per-topic must be in 5..{smallest} (the smallest topic), got {args.per_topic}")
rng = np.random.RandomState(0)
keep = np.sort(
    np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == topic), size=args.per_topic, replace=False)
            for topic in np.unique(labels)
        ]
    )
)
texts, labels = [texts[i] for i in keep], labels[keep]
print(f"documents: {len(texts)}, topics: {len(np.unique(labels))}")

# %%
# Two embedders
# -------------
# TF-IDF (``dim=None``: the sparse TF-IDF vectors, pure word overlap; the map first reduces them
# to 50 dimensions by SVD) and the packaged MiniLM at full size (384), reading the first 128
# tokens of each article. Both are fitted here on the articles, without the labels;
# ``plot_document_map`` would fit unfitted ones the same way.

embedders = {
    "TF-IDF": TfidfBaseline(min_df=2).fit(texts),
    # pre-trained: fit only loads it; the first 128 tokens of an article say what it is about
    "MiniLM": MatryoshkaEmbedder(max_length=128).fit(texts),
}

# %%
# How well does each keep topics apart? The 5-fold (stratified) cross-validated accuracy of a
# 5-nearest-neighbour vote (cosine) in each embedding space, before any projection: a number to
# read beside the map.
# The encoder's vectors are cached, so the map below does not encode again.

for name, embedder in embedders.items():
    vectors = embedder.transform(texts)
    knn = KNeighborsClassifier(n_neighbors=5, metric="cosine")
    score = cross_val_score(knn, vectors, labels, cv=5).mean()
    print(f"{name:<7} 5-NN topic accuracy: {score:.3f}")

# %%
# The map
# -------
# One t-SNE per embedder (``init="pca"``, seeded), one panel each, coloured by topic. TF-IDF
# groups articles that share words; the encoder groups them by what they are about.

fig = plot_document_map(embedders, texts, labels, random_state=0)
print("panels:", [ax.get_title() for ax in fig.axes])
print("points per panel:", sum(len(c.get_offsets()) for c in fig.axes[0].collections))
plt.show()
