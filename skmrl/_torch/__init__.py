"""Torch internals of skmrl: device and precision choice, batched encoding, word2vec training.

Nothing here imports scikit-learn; the estimators in :mod:`skmrl` import these modules lazily,
so that ``import skmrl`` never imports torch.
"""
