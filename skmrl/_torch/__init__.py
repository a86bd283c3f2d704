"""Torch internals of skmrl (no scikit-learn in here); imported only when torch work starts."""
