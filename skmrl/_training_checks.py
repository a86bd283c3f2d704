"""What nested training takes, checked: the prefix sizes (``matryoshka_dims``) and class labels.

Every estimator that trains nested prefixes (``MatryoshkaAdaptor``, ``MatryoshkaEmbedder``,
``Word2VecEmbedder``) and the curves that score labels check them here, so that each says the
same thing about the same mistake. :mod:`skmrl.adaptor` re-exports both checks, their public home.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target

from skmrl._validation import is_missing
from skmrl._warn import caller_stacklevel

__all__ = [
    "SIZES_PARAMS",
    "check_class_labels",
    "check_matryoshka_dims",
    "sizes_canon",
    "sizes_setting",
]

#: Parameters holding nested sizes, read as the sizes they mean (:func:`sizes_canon`).
SIZES_PARAMS = frozenset({"matryoshka_dims", "matryoshka_layers"})


def check_matryoshka_dims(
    dims: Any, max_dim: int | None, *, bound: str = "the full embedding size"
) -> list[int]:
    """Validate ``matryoshka_dims`` against the full size; ``None`` gives the default.

    The default is the powers of two from 8 below ``max_dim``, then ``max_dim``. Every skmrl
    estimator that trains nested prefixes (``MatryoshkaAdaptor``, ``MatryoshkaEmbedder``,
    ``Word2VecEmbedder``) checks its ``matryoshka_dims`` here.

    Parameters
    ----------
    dims : collection of int or None
        Prefix sizes, strictly increasing, each in ``1..max_dim``: a list, tuple, range, 1-D
        array or pandas Series, or a set (which has no order of its own, so it is sorted).
        An iterator (a generator) is refused: this check would use it up, and a refit or a
        clone would find it empty.
    max_dim : int or None
        The full embedding size; ``None`` where it is not known yet (before the model loads:
        only the lower bound is checked, and ``dims`` must be given).
    bound : str, default="the full embedding size"
        What ``max_dim`` is, in the message for a size above it (``"max_dim=32"``, say).

    Returns
    -------
    list of int

    Raises
    ------
    TypeError
        When ``dims`` is not a non-empty collection of ints.
    ValueError
        When ``dims`` is not strictly increasing or a size is out of range.

    Examples
    --------
    >>> from skmrl.adaptor import check_matryoshka_dims
    >>> check_matryoshka_dims(None, 384)
    [8, 16, 32, 64, 128, 256, 384]
    >>> check_matryoshka_dims({64, 8, 16}, 384)
    [8, 16, 64]
    >>> check_matryoshka_dims([32, 16], 384)
    Traceback (most recent call last):
    ...
    ValueError: matryoshka_dims must be strictly increasing, got [32, 16]
    """
    from skmrl._torch.losses import default_matryoshka_dims

    if dims is None:
        if max_dim is None:
            raise ValueError("the default matryoshka_dims needs the full embedding size")
        return default_matryoshka_dims(max_dim)
    if (
        isinstance(dims, str | bytes | Iterator)
        or not isinstance(dims, Iterable)
        or (isinstance(dims, np.ndarray) and dims.ndim != 1)  # np.array(8) cannot be iterated
    ):
        got = "a one-pass iterator" if isinstance(dims, Iterator) else repr(dims)
        raise TypeError(f"matryoshka_dims must be a list of ints, got {got}")
    sizes = list(dims)
    if not sizes or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in sizes):
        raise TypeError(f"matryoshka_dims must be a non-empty list of ints, got {dims!r}")
    sizes = [int(d) for d in sizes]
    if isinstance(dims, Set):
        sizes.sort()
    if any(b <= a for a, b in itertools.pairwise(sizes)):
        raise ValueError(f"matryoshka_dims must be strictly increasing, got {sizes}")
    if max_dim is not None and sizes[-1] > max_dim:
        raise ValueError(
            f"matryoshka_dims={sizes} is out of range: {sizes[-1]} is above {bound}; every "
            f"size must be in [1, {max_dim}]"
        )
    if sizes[0] < 1:
        # before the model loads its size is unknown: the bound it had then, 2**31, was shown
        where = f"in [1, {max_dim}]" if max_dim is not None else ">= 1"
        raise ValueError(f"matryoshka_dims={sizes} is out of range: every size must be {where}")
    return sizes


def sizes_setting(value: Any) -> Any:
    """A ``matryoshka_dims`` (or ``matryoshka_layers``) setting as the sizes it means, for the
    fit's cache key and the changed-since-fit check: a list, tuple, range, 1-D array or Series
    of ints as their tuple (a set's sorted, as :func:`check_matryoshka_dims` takes it), so that
    ``[8, 16]`` after a fit with ``(8, 16)`` is no change and shares its fit. Anything else
    (``None``, a dict of weights, a value fit refuses) is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._training_checks import sizes_setting
    >>> sizes_setting([8, 16]) == sizes_setting((8, 16)) == sizes_setting(np.array([8, 16]))
    True
    >>> sizes_setting({16, 8}), sizes_setting(None)
    ((8, 16), None)
    """
    if (
        isinstance(value, str | bytes | Iterator | Mapping)
        or not isinstance(value, Iterable)
        or (isinstance(value, np.ndarray) and value.ndim != 1)
    ):
        return value
    sizes = list(value)
    if any(isinstance(d, bool | np.bool_) or not isinstance(d, numbers.Integral) for d in sizes):
        return value
    sizes = [int(d) for d in sizes]
    return tuple(sorted(sizes) if isinstance(value, Set) else sizes)


def sizes_canon(name: str, value: Any) -> Any:
    """A parameter's value as the fit key and the changed-since-fit check read it: the sizes
    (:func:`sizes_setting`) of a :data:`SIZES_PARAMS` parameter, any other value as it is."""
    return sizes_setting(value) if name in SIZES_PARAMS else value


def check_class_labels(
    y: Any, n_samples: int, *, single_class: str | None = None, continuous: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate class labels; return ``(classes, codes)`` with ``codes`` in ``0..n_classes-1``.

    Raises a ``ValueError`` for a wrong length, a missing label (``None``, NaN or infinity),
    continuous or multi-output targets, or a single class (nothing to separate), and a
    ``TypeError`` for labels of mixed types that cannot be sorted. A column vector (shape
    ``(n, 1)``, such as ``df[["label"]]``) is taken with a ``DataConversionWarning``, as
    scikit-learn's classifiers take it.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels of any sortable type.
    n_samples : int
        The number of samples ``y`` must label.
    single_class : str, optional
        What the error for a single class says after naming it; by default that labels cannot
        guide the embedding (for the callers that fit on labels), and to pass ``y=None``.
    continuous : str, optional
        What the error for continuous values (a regression target) says after naming them; by
        default that they cannot guide the embedding, but the ``'pca'`` rotation ignores ``y``.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted distinct labels.
    codes : ndarray of shape (n_samples,), int
        The index in ``classes`` of each label.

    Examples
    --------
    >>> from skmrl.adaptor import check_class_labels
    >>> classes, codes = check_class_labels(["b", "a", "b"], 3)
    >>> classes.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    >>> check_class_labels([0.5, 1.5, 2.5], 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y must hold class labels (binary or multiclass), got continuous values; ...
    """
    if isinstance(y, str | bytes) or not (hasattr(y, "__len__") or hasattr(y, "__array__")):
        raise TypeError(f"y must be an array-like of class labels, got {type(y).__name__}")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:  # df[["label"]]: taken, as scikit-learn's models do
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=caller_stacklevel(),
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per text), got shape {y.shape}")
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {len(y)} labels")
    _check_no_missing_label(y)
    try:
        kind = type_of_target(y, input_name="y")
    except TypeError:  # numpy cannot sort labels of mixed types ("a" and 1)
        raise _mixed_label_types(y) from None
    if kind == "unknown":
        values = y.tolist()
        if any(isinstance(v, str) for v in values) and not all(isinstance(v, str) for v in values):
            # an object array that opens with a non-str (1 and "a"): type_of_target calls it
            # "unknown" without sorting it, where "a" and 1 raised the TypeError above
            raise _mixed_label_types(y)
        # scikit-learn's wording, which its estimator checks look for
        raise ValueError(
            f"Unknown label type: y must hold class labels (ints, strings or bools), got an "
            f"array of {y.dtype} holding {type(y.flat[0]).__name__} values"
        )
    if kind not in ("binary", "multiclass"):
        hint = ""
        if kind == "continuous":  # a regressor's targets, which a Pipeline hands every step
            hint = "; " + (
                continuous
                or "a regression target cannot guide the embedding, but the 'pca' rotation "
                "ignores y (MatryoshkaEmbedder(fine_tune='pca'), MatryoshkaAdaptor(method='pca'))"
            )
        raise ValueError(
            f"y must hold class labels (binary or multiclass), got {kind} values{hint}"
        )
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) == 0:  # an IndexError below
        raise ValueError("y holds no labels: there must be a class label per sample")
    if len(classes) < 2:
        only = classes[:1].tolist()[0]  # a Python value: 1, not np.int64(1)
        raise ValueError(
            f"y has a single class ({only!r}): "
            + (
                single_class
                or "labels can only guide the embedding when there are at least 2 classes; "
                "pass y=None for the unsupervised fit"
            )
        )
    return classes, codes.astype(np.int64)


def _mixed_label_types(y: np.ndarray) -> TypeError:
    """The error for labels of types that cannot be sorted together (``1`` and ``"a"``)."""
    kinds = sorted({type(v).__name__ for v in y.tolist()})
    return TypeError(
        f"y mixes labels of types {', '.join(kinds)}, which cannot be sorted: give every "
        "label one type (e.g. all str)"
    )


def _check_no_missing_label(y: np.ndarray) -> None:
    """Raise a ``ValueError`` naming the first missing label (None, NaN or infinity) of ``y``."""
    if y.dtype.kind == "f":
        missing = np.flatnonzero(~np.isfinite(y))
    elif y.dtype == object:
        missing = np.flatnonzero([is_missing(v) for v in y])
    else:
        return
    if missing.size:
        raise ValueError(
            f"y has {missing.size} missing label(s) (None, NaN or infinity), the first at position "
            f"{missing[0]}: every text needs a class label; drop the unlabelled texts, or pass "
            "y=None for the unsupervised fit"
        )
