"""Utilities for people who write or test embedders: :mod:`skmrl.utils.estimator_checks`."""
