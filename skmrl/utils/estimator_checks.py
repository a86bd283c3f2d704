"""Checks that an embedder keeps skmrl's contracts (``docs/design.md``), on real text.

scikit-learn's :func:`~sklearn.utils.estimator_checks.check_estimator` skips almost every check for
estimators that take strings, so it says little about an embedder. :func:`check_embedder` runs the
contracts that matter for one instead: parameters that ``fit`` leaves as set, input errors,
``float32`` output of shape ``(n, dim)``, nesting, the same vectors from the same fit, rows that
follow the input whatever the batch, cache keys
that hold every setting and the data, a ``transform`` that changes no state, ``dim`` without refit,
one fit per fold in a grid over ``dim``, clone and pickle, pandas output, generator input, and
empty and out-of-vocabulary documents. Where a check needs results computed afresh, it empties
skmrl's in-process caches (:func:`skmrl.cache.clear_caches`) and leaves out the disk cache
(``memory=None``).

Use it in the tests of your own embedder (a :class:`skmrl.BaseEmbedder` subclass, or any
transformer with a ``dim`` parameter and a fitted ``max_dim_``; for the latter, the two checks
that count fits and encodings, ``check_dim_without_refit`` and
``check_grid_over_dim_fits_once_per_fold``, are skipped with a warning)::

    import pytest
    from skmrl.utils.estimator_checks import EMBEDDER_CHECKS, check_embedder

    def test_my_embedder_keeps_the_contracts():
        check_embedder(MyEmbedder())

    @pytest.mark.parametrize("check", EMBEDDER_CHECKS, ids=lambda c: c.__name__)
    def test_each_contract(check):  # one test per check, for readable failures
        check_embedder(MyEmbedder(), checks=[check])
"""

from __future__ import annotations

import copy
import numbers
import pickle
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from skmrl._settings import is_torch_tensor
from skmrl._validation import check_documents, check_label_count
from skmrl.base import prefix_normalize
from skmrl.cache import clear_caches, get_embedding_cache
from skmrl.utils._corpus import CORPUS, LABELS

__all__ = [
    "EMBEDDER_CHECKS",
    "check_bad_input",
    "check_cache_keys",
    "check_clone_and_pickle",
    "check_deterministic",
    "check_dim_out_of_range",
    "check_dim_without_refit",
    "check_embedder",
    "check_empty_and_unknown_documents",
    "check_fit_keeps_parameters",
    "check_generator_input",
    "check_grid_over_dim_fits_once_per_fold",
    "check_input_types",
    "check_nesting",
    "check_output",
    "check_pandas_output",
    "check_rows_follow_input",
    "check_sklearn_data_free",
    "check_transform_keeps_state",
]

#: Documents with no word any corpus should know.
_UNKNOWN = "zzqx wvvk qqxj"


def _fit(estimator: Any, X: Sequence[str], y: Any = None, **params: Any) -> Any:
    est = clone(estimator).set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. "no word in the vocabulary"
        return est.fit(list(X), y)


def _transform(est: Any, X: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return est.transform(X)


def _cold(estimator: Any) -> Any:
    """Empty skmrl's in-process caches and return a clone without a disk cache (``memory``):
    what it computes next is computed, not served from an earlier check's results."""
    clear_caches()
    est = clone(estimator)
    if "memory" in est.get_params(deep=False):
        est.set_params(memory=None)
    return est


def _seeded(est: Any) -> Any:
    """``est`` with ``random_state=None`` set to ``0``: such an embedder draws fresh randomness
    at every fit (and shares none through the cache), so no two of its fits compare."""
    if est.get_params(deep=False).get("random_state", 0) is None:
        est.set_params(random_state=0)
    return est


def _full_size(est: Any, docs: Sequence[str]) -> np.ndarray:
    """The full-size (``dim=max_dim_``, dense) vectors of ``docs``."""
    return _transform(est.set_params(dim=est.max_dim_), docs)


def _dims(max_dim: int) -> list[int]:
    return sorted({1, min(3, max_dim), max_dim})


def _unit_prefix(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """The first ``dim`` columns of ``vectors`` at unit length (zero rows stay zero), written
    out here: with the library's own ``prefix_normalize`` as the expected value, the nesting
    check could not fail where that function is wrong."""
    prefix = np.asarray(vectors, dtype=np.float64)[:, :dim]
    norms = np.linalg.norm(prefix, axis=1, keepdims=True)
    return np.divide(prefix, norms, out=np.zeros_like(prefix), where=norms > 0)


def _width(dim: int | None, max_dim: int) -> int:
    """The number of output columns at ``dim`` (``None``: full size)."""
    return max_dim if dim is None else dim


# -- the checks ---------------------------------------------------------------------------------
def check_sklearn_data_free(estimator: Any, X: Sequence[str], y: Any) -> None:
    """scikit-learn's checks that need no data: ``__init__`` stores parameters verbatim, and
    ``get_params``/``set_params``/``repr`` work; plus string-input tags.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Not used: these checks need no data.
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_sklearn_data_free
    >>> check_sklearn_data_free(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    from sklearn.utils.estimator_checks import (
        check_do_not_raise_errors_in_init_or_set_params,
        check_estimator_repr,
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_set_params,
    )

    name = type(estimator).__name__
    for check in (
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_estimator_repr,
        check_do_not_raise_errors_in_init_or_set_params,
    ):
        check(name, clone(estimator))
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.string, "__sklearn_tags__ must declare input_tags.string = True"
    assert not tags.input_tags.two_d_array, "an embedder takes 1-D text, not a 2-D array"


def check_fit_keeps_parameters(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``fit`` leaves every parameter as it was set (what it learns goes into attributes that end
    in ``_``): a ``dim=None`` that ``fit`` turned into a number, or a seed into a
    ``RandomState``, would not be what ``get_params``, ``clone`` and a grid search see.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (passed to ``fit``; may be ``None``).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_fit_keeps_parameters
    >>> check_fit_keeps_parameters(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    est = _cold(estimator)  # so that the fit runs, not served from the cache
    before = est.get_params(deep=False)
    hashed = {k: _state_of(v) for k, v in before.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.fit(list(X), y)
    after = est.get_params(deep=False)
    changed = [k for k in before if _state_of(after[k]) != hashed[k]]
    assert not changed, (
        "fit changed "
        + ", ".join(f"{k} from {before[k]!r:.60} to {after[k]!r:.60}" for k in changed)
        + ": fit must leave the parameters as set (what it learns goes in attributes ending in _)"
    )


def _expect_error(
    call: Callable[[], Any], error: type[BaseException], words: str | tuple[str, ...], what: str
) -> None:
    """``call()`` raises ``error`` mentioning ``words`` (or one of them, given a tuple)."""
    choices = (words,) if isinstance(words, str) else words
    try:
        call()
    except error as exc:
        said = str(exc).lower()
        assert any(w.lower() in said for w in choices), (
            f"{what}: the {error.__name__} should mention {' or '.join(map(repr, choices))}, "
            f"got: {exc}"
        )
        return
    except Exception as exc:  # any other error is a contract failure too
        mentioning = f" mentioning {' or '.join(map(repr, choices))}" if words else ""
        raise AssertionError(
            f"{what}: expected {error.__name__}{mentioning}, got {type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"{what}: expected {error.__name__}, but nothing was raised")


def check_bad_input(estimator: Any, X: Sequence[str], y: Any) -> None:
    """A bare string, ``None``, a non-string element, 2-D input and an empty corpus raise
    ``TypeError``/``ValueError`` naming the problem, in ``fit`` and in ``transform``: the type
    (``str``, ``None``), the element's position or type, the shape (or dimensions, or columns)
    and that the corpus is empty, in any of the usual words for each.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_bad_input
    >>> check_bad_input(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    # what each message must name, in any of the words a library may use for it: skmrl's own
    # come first (only those were taken, and a correct "element 1 is int, expected str" failed)
    position = ("position 1", "element 1", "index 1", "item 1", "document 1", "[1]")
    two_d = ("shape", "2-d", "2d", "1-d", "1d", "dimension", "ndim", "column")
    bad: list[tuple[str, Any, type, tuple[str, ...]]] = [
        ("a bare str", "one document", TypeError, ("str",)),
        ("None", None, TypeError, ("None",)),
        ("a non-string element", [X[0], 42], TypeError, position),
        (
            "a 2-D array",
            np.array([[X[0], X[1]], [X[2], X[3]]]),
            ValueError,
            two_d,
        ),
    ]
    try:
        import pandas as pd

        bad.append(
            (
                "a 2-column DataFrame",
                pd.DataFrame({"a": X[:2], "b": X[:2]}),
                ValueError,
                ("2 columns", *two_d),
            )
        )
    except ImportError:  # pragma: no cover - pandas is optional
        pass
    fitted = _fit(estimator, X)
    for what, value, error, words in bad:
        _expect_error(lambda v=value: clone(estimator).fit(v), error, words, f"fit({what})")
        _expect_error(lambda v=value: fitted.transform(v), error, words, f"transform({what})")
    _expect_error(
        lambda: clone(estimator).fit([]),
        ValueError,
        ("empty", "no document", "0 document", "zero document", "at least 1", "at least one"),
        "fit([])",
    )


def check_output(estimator: Any, X: Sequence[str], y: Any) -> None:
    """Output is a finite ``float32`` C-contiguous ndarray of shape ``(n, dim)``, not all zero at
    full size, with unit rows by default; ``transform([])`` has shape ``(0, dim)``; at the
    default ``dim=None`` too (full size), unless the output there is a sparse matrix
    (``TfidfBaseline``'s TF-IDF).

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_output
    >>> check_output(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    fitted = _fit(estimator, X)
    docs = list(X[:7])
    for dim in [None, *_dims(fitted.max_dim_)]:
        est = copy.deepcopy(fitted).set_params(dim=dim)
        width = _width(dim, fitted.max_dim_)
        out = _transform(est, docs)
        if dim is None and sp.issparse(out):
            continue  # documented for TfidfBaseline: dim=None is the sparse TF-IDF matrix
        assert isinstance(out, np.ndarray), f"dim={dim}: expected an ndarray, got {type(out)}"
        assert out.dtype == np.float32, f"dim={dim}: expected float32, got {out.dtype}"
        assert out.flags.c_contiguous, f"dim={dim}: the output is not C-contiguous"
        assert out.shape == (len(docs), width), (
            f"dim={dim}: shape {out.shape}, expected {(len(docs), width)}"
        )
        bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
        assert not bad.size, f"dim={dim}: rows {bad.tolist()} hold NaN or infinite values"
        norms = np.linalg.norm(out, axis=1)
        assert width < fitted.max_dim_ or norms.any(), (
            f"dim={dim}: every document embeds to a zero vector"
        )
        if getattr(est, "normalize", True):
            assert np.allclose(norms[norms > 0], 1.0, atol=1e-5), (
                f"dim={dim}: rows not unit (norms {np.round(norms, 4).tolist()})"
            )
        if dim is None:  # the full size: what dim=max_dim_ gives (a rotated prefix passed)
            at_max = _transform(copy.deepcopy(fitted).set_params(dim=fitted.max_dim_), docs)
            np.testing.assert_allclose(
                out, at_max, atol=1e-5, err_msg="dim=None is not the full size, dim=max_dim_"
            )
        empty = _transform(est, [])
        assert empty.shape == (0, width), f"transform([]) at dim={dim} has shape {empty.shape}"
        assert empty.dtype == np.float32, f"transform([]) has dtype {empty.dtype}"


def check_input_types(estimator: Any, X: Sequence[str], y: Any) -> None:
    """A list, tuple, object array, iterator, pandas Series (any index) and one-column DataFrame
    give the same vectors.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_input_types
    >>> check_input_types(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    est = copy.deepcopy(_fit(estimator, X))
    est.set_params(dim=min(4, est.max_dim_))
    docs = list(X[:5])
    expected = _transform(est, docs)
    inputs: list[tuple[str, Any]] = [
        ("tuple", tuple(docs)),
        ("object array", np.array(docs, dtype=object)),
        ("iterator", iter(docs)),
    ]
    try:
        import pandas as pd

        inputs += [
            ("Series", pd.Series(docs, index=range(100, 105))),
            ("DataFrame", pd.DataFrame({"text": docs})),
        ]
    except ImportError:  # pragma: no cover
        pass
    for what, value in inputs:
        np.testing.assert_array_equal(
            _transform(est, value), expected, err_msg=f"a {what} gives other vectors than a list"
        )


def check_generator_input(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``fit`` and ``fit_transform`` accept a generator, read it once, and give what a list gives
    (a ``fit_transform`` that reads ``X`` twice sees an exhausted generator). The fits compare,
    so ``random_state=None`` is set to ``0`` for this check.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_generator_input
    >>> check_generator_input(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    estimator = _seeded(clone(estimator))  # fits that draw afresh would not compare
    docs = list(X)
    reference = copy.deepcopy(_fit(estimator, docs))
    dim = min(3, reference.max_dim_)
    expected = _transform(reference.set_params(dim=dim), docs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = clone(estimator).set_params(dim=dim).fit_transform(d for d in docs)
        from_gen = clone(estimator).set_params(dim=dim).fit(d for d in docs).transform(docs)
    assert out.shape == expected.shape, (
        f"fit_transform(generator) has shape {out.shape}, expected {expected.shape}"
    )
    np.testing.assert_allclose(out, expected, atol=1e-5, err_msg="fit_transform(generator)")
    np.testing.assert_allclose(from_gen, expected, atol=1e-5, err_msg="fit(generator)")


def check_empty_and_unknown_documents(estimator: Any, X: Sequence[str], y: Any) -> None:
    """An empty string and a document of unknown words embed to finite vectors (unit or zero
    with ``normalize=True``), never NaN.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_empty_and_unknown_documents
    >>> check_empty_and_unknown_documents(TfidfBaseline(max_dim=16), CORPUS, LABELS)
    """
    est = copy.deepcopy(_fit(estimator, X))
    est.set_params(dim=min(4, est.max_dim_))
    out = _transform(est, ["", _UNKNOWN, X[0]])
    assert np.isfinite(out).all(), "empty or unknown documents gave non-finite values"
    if getattr(est, "normalize", True):  # with normalize=False, rows keep their own norms
        norms = np.linalg.norm(out, axis=1)
        assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0)), f"row norms {norms}"


def check_nesting(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``dim=k`` is the first ``k`` full-size columns (re-normalised when ``normalize=True``, or
    always for an embedder without a ``normalize`` parameter, which the other checks take as
    normalising).
    Each setting is a fit of its own, its vectors computed afresh (from an empty vector cache),
    so ``random_state=None`` is set to ``0`` for this check.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_nesting
    >>> check_nesting(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    estimator = _seeded(_cold(estimator))  # fits that draw afresh would not compare

    def fresh(**params: Any) -> np.ndarray:
        # Each setting's vectors computed afresh: served those of the full-size setting, an
        # embedder whose _transform_full reads dim (an encode(truncate_dim=self.dim) wrapper)
        # would pass. The fitted state may be shared (dim and normalize are no fit settings).
        get_embedding_cache().clear()
        return _transform(_fit(estimator, X, **params), X)

    max_dim = _fit(estimator, X).max_dim_
    if "normalize" not in estimator.get_params(deep=False):
        # an embedder without the parameter normalises, as the other checks take it: its
        # prefixes are then the full vectors' first columns, re-normalised (a scale per row)
        full = fresh(dim=max_dim)
        for dim in _dims(max_dim):
            np.testing.assert_allclose(
                fresh(dim=dim), _unit_prefix(full, dim), atol=1e-5, err_msg=f"dim={dim}"
            )
        return
    raw = fresh(dim=max_dim, normalize=False)
    full = fresh(dim=max_dim, normalize=True)
    np.testing.assert_allclose(
        _unit_prefix(raw, None), full, atol=1e-5, err_msg="normalize=True at full size"
    )
    for dim in _dims(max_dim):
        for normalize in (True, False):
            out = fresh(dim=dim, normalize=normalize)
            expected = _unit_prefix(raw, dim) if normalize else raw[:, :dim]
            np.testing.assert_allclose(
                out, expected, atol=1e-5, err_msg=f"dim={dim}, normalize={normalize}"
            )


def check_deterministic(estimator: Any, X: Sequence[str], y: Any) -> None:
    """The same fit gives the same vectors, computed afresh: transform from empty caches, and a
    second fit from empty caches (``random_state=None`` is set to ``0`` for this check).

    The caches hide randomness within a process (a second fit or transform is served the first
    one's result), so an unseeded draw shows only in the next process, or once the cache is full.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_deterministic
    >>> check_deterministic(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    est = _seeded(_cold(estimator))
    docs = list(X[:8])
    first = _fit(est, X)
    expected = _full_size(first, docs)
    clear_caches()
    np.testing.assert_allclose(
        _full_size(first, docs),
        expected,
        atol=1e-5,
        err_msg="the same fitted embedder gave other vectors once the caches were emptied: "
        "is transform (_transform_full) random?",
    )
    clear_caches()
    second = _fit(est, X)
    np.testing.assert_allclose(
        _full_size(second, docs),
        expected,
        atol=1e-5,
        err_msg="a second fit with the same random_state, from empty caches, gave other "
        "vectors: is every random draw of fit seeded by random_state?",
    )


#: Documents :func:`check_rows_follow_input` embeds: more than two batches of 32, a usual size.
_ROWS_CHECKED = 100


def check_rows_follow_input(estimator: Any, X: Sequence[str], y: Any) -> None:
    """Each output row is its own document's vector, whatever the batch: a document embeds
    alone as it does among others, and 100 documents (pairs of those of ``X``), reversed, give
    the rows reversed (each computed from an empty vector cache, which would otherwise serve the
    first computation's rows).

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_rows_follow_input
    >>> check_rows_follow_input(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    fitted = _fit(_cold(estimator), X)
    # more documents than a batch: with only 8, batches stacked in the wrong order passed; each
    # document a distinct pair of X's (12 of them give 144 pairs), so that no reordering of
    # whole batches can map a row onto an equal one
    n = len(X)
    docs = [f"{X[i % n]} {X[(i // n + i) % n]}" for i in range(_ROWS_CHECKED)]

    def fresh(batch: list[str]) -> np.ndarray:
        get_embedding_cache().clear()
        return _full_size(fitted, batch)

    expected = fresh(docs)
    # float32 rounding differs with the batch's padding: relative to the vectors' scale, which
    # normalize=False leaves as the model makes it
    atol = 1e-5 * max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(
        fresh(docs[::-1]),
        expected[::-1],
        atol=atol,
        err_msg="the documents in reverse order did not give the rows in reverse order: are the "
        "rows returned in another order than the input's (sorted by length, say)?",
    )
    for i in (0, len(docs) - 1):
        np.testing.assert_allclose(
            fresh([docs[i]]),
            expected[i : i + 1],
            atol=atol,
            err_msg=f"document {i} alone did not embed as it did among {len(docs)}: does its "
            "vector depend on the other documents of the batch (a batch mean, say)?",
        )


def _other_values(value: Any) -> list[Any]:
    """Other values to try for a parameter: a bool flipped, an int one up or down, a float
    halved or doubled; none for other types (no check can know their valid values)."""
    if isinstance(value, bool | np.bool_):
        return [not value]
    if isinstance(value, numbers.Integral):
        return [value + 1, value - 1]
    if isinstance(value, numbers.Real):
        return [value / 2, value * 2] if value else [0.5]
    return []


def check_cache_keys(estimator: Any, X: Sequence[str], y: Any) -> None:
    """Every parameter, the training texts and the labels are in the cache keys: an embedder
    fitted after another one with another value, on other texts or with other labels, embeds as
    one fitted from empty caches does (never as the first one, served from the cache).

    The parameters tried are all but ``dim``, ``normalize``, ``memory`` and ``progress`` whose
    value is a bool (flipped), an int (one up, else one down) or a float (halved, else
    doubled); a value that ``fit`` refuses is skipped, and so are parameters of other types.
    ``random_state=None`` is set to ``0`` for this check (as for :func:`check_deterministic`).
    Run :func:`check_deterministic` first: a random embedder fails this check too.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X``: with them, a fit with other labels is tried too.

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_cache_keys
    >>> check_cache_keys(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    base = _seeded(_cold(estimator))
    docs = list(X[:6])
    params = base.get_params(deep=False)
    fits: list[tuple[str, Callable[[], Any]]] = []  # (what, fit of the other setting)
    # progress changes no vector, and flipped to True it drew bars into the user's test output
    for name in sorted(set(params) - {"dim", "normalize", "memory", "progress"}):
        for value in _other_values(params[name]):
            other = clone(base).set_params(**{name: value})
            try:
                _fit(other, X)
            except Exception:  # a value the embedder refuses: try the next one
                continue
            fits.append(
                (
                    f"with {name}={value!r} (after a fit with {name}={params[name]!r})",
                    lambda o=other: _fit(o, X),
                )
            )
            break
    fits.append(("fitted on other texts (every other one)", lambda: _fit(base, X[1::2])))
    if y is not None:
        labels = np.random.RandomState(0).permutation(np.asarray(y))
        fits.append(("fitted with other labels", lambda: _fit(base, X, labels)))
    # warm: each fit comes after the first ones, whose states and vectors are in the caches
    clear_caches()
    _full_size(_fit(base, X), docs)
    if y is not None:
        _full_size(_fit(base, X, y), docs)
    warm = [_full_size(fit(), docs) for _, fit in fits]
    for (what, fit), served in zip(fits, warm, strict=True):
        clear_caches()
        fresh = _full_size(fit(), docs)
        same = served.shape == fresh.shape and np.allclose(served, fresh, atol=1e-5, equal_nan=True)
        assert same, (
            f"{what}, the vectors differ from those computed from empty caches: the cache served "
            "another setting's state or vectors. Everything the result depends on must be in "
            "the keys (BaseEmbedder: a parameter listed in _slice_params or _runtime_params "
            "never is; _fit_data_key must hash the texts fit learns from, and _fit_uses_y be "
            "True when it learns from y)"
        )


_LEAVES = (str, bytes, numbers.Number, np.ndarray, np.generic, set, frozenset)


def _plain(value: Any, _inside: frozenset[int] = frozenset()) -> Any:
    """``value`` with each object that is not data (a model, a tokenizer), also one held in a
    list, a tuple or a dict, replaced by its identity and its arrays; a torch tensor is its
    values (one scaled in place by ``transform`` was not seen). A scikit-learn estimator (an
    object with ``get_params``) is data, attributes and all: a ``TfidfVectorizer()`` passed as a
    parameter and fitted in place by ``fit``, or a fitted one whose ``idf_`` a ``transform``
    changed, kept its identity and had no array of its own, so neither was seen."""
    if is_torch_tensor(value):
        return value.detach().cpu().numpy()
    if value is None or isinstance(value, _LEAVES) or sp.issparse(value):
        return value
    if id(value) in _inside:  # a reference back to a container or estimator being read
        return ("cycle", id(value))
    inside = _inside | {id(value)}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *(_plain(v, inside) for v in value)]
    if isinstance(value, dict):
        return {k: _plain(v, inside) for k, v in value.items()}
    attributes = getattr(value, "__dict__", {})
    if not isinstance(value, type) and callable(getattr(value, "get_params", None)):
        return ("estimator", id(value), {k: _plain(v, inside) for k, v in attributes.items()})
    arrays = {
        k: _plain(v, inside)
        for k, v in attributes.items()
        if isinstance(v, np.ndarray) or is_torch_tensor(v)
    }
    return ("object", id(value), arrays)


def _state_of(value: Any) -> str:
    """A hash of what an attribute holds: the whole of a value (an array, a number, a container
    of them) or, for another object (a model, a tokenizer), also inside a container, its
    identity and its arrays; such an object's own bookkeeping (a train/eval flag, notes on its
    use) may change as it runs."""
    import joblib

    return joblib.hash(_plain(value))


def check_transform_keeps_state(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``transform`` and ``get_feature_names_out`` change neither the parameters nor the fitted
    attributes (their values, in place or not; private attributes may change, and so may the
    bookkeeping of a fitted object other than an array or a container, such as a model's
    train/eval flag, also one held in a list or a dict: it is checked for identity and its own
    arrays).

    The fitted attributes are shared with every estimator fitted with the same settings and
    data (the fit cache), and the vectors are cached: a change in ``transform`` would reach other
    estimators, and make the result depend on what was embedded before.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_transform_keeps_state
    >>> check_transform_keeps_state(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    est = _fit(_cold(estimator), X)

    def public() -> dict[str, str]:
        return {k: _state_of(v) for k, v in vars(est).items() if not k.startswith("_")}

    calls: list[tuple[str, Callable[[], Any]]] = [
        ("transform", lambda: _transform(est, X[:5])),  # computes the vectors (caches emptied)
        ("a second transform", lambda: _transform(est, X[:5])),  # served from the cache
        ("get_feature_names_out", lambda: est.get_feature_names_out()),
    ]
    for dim in (None, min(3, est.max_dim_)):
        est.set_params(dim=dim)
        clear_caches()
        for what, call in calls:
            before = public()
            call()
            after = public()
            changed = sorted(
                k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
            )
            assert not changed, (
                f"at dim={dim}, {what} changed {changed}: parameters and fitted attributes must "
                "stay as set and fitted (a fitted state is shared with every estimator fitted "
                "with the same settings and data)"
            )


def check_dim_out_of_range(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``dim`` outside ``[1, max_dim_]`` raises a ``ValueError``, in ``fit`` and in ``transform``;
    for a ``dim`` above ``max_dim_``, its message gives ``max_dim_``.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_dim_out_of_range
    >>> check_dim_out_of_range(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    fitted = _fit(estimator, X)
    too_big = fitted.max_dim_ + 1
    # The message must give the largest dim; its wording is the embedder's own ("[1, 16]",
    # "between 1 and 16").
    _expect_error(
        lambda: clone(estimator).set_params(dim=too_big).fit(list(X)),
        ValueError,
        str(fitted.max_dim_),
        f"fit with dim={too_big}",
    )
    _expect_error(
        lambda: copy.deepcopy(fitted).set_params(dim=too_big).transform(list(X[:2])),
        ValueError,
        str(fitted.max_dim_),
        f"transform with dim={too_big}",
    )
    _expect_error(lambda: clone(estimator).set_params(dim=0).fit(list(X)), ValueError, "", "dim=0")


def _counting(estimator: Any, counts: dict[str, int]) -> Any:
    """A clone whose class counts ``_fit_full`` calls and encoded texts (it survives ``clone``)."""
    cls = type(estimator)

    def _fit_full(self: Any, docs: Any, y: Any) -> Any:
        counts["fits"] += 1
        return cls._fit_full(self, docs, y)

    def _transform_full(self: Any, docs: Any) -> Any:
        counts["encoded"] += len(docs)
        return cls._transform_full(self, docs)

    counting = type(
        cls.__name__, (cls,), {"_fit_full": _fit_full, "_transform_full": _transform_full}
    )
    counting.__module__ = cls.__module__
    return counting(**estimator.get_params(deep=False))


def _skipped(check: str, estimator: Any, why: str | None = None) -> None:
    """Say that ``check`` did not run: a check that returns without a word reads as passed."""
    if why is None:
        why = (
            f"{type(estimator).__name__} is not a skmrl BaseEmbedder, so its fits and "
            "encodings cannot be counted"
        )
    warnings.warn(f"{check} skipped: {why}", UserWarning, stacklevel=3)


def check_dim_without_refit(estimator: Any, X: Sequence[str], y: Any) -> None:
    """Changing ``dim`` after ``fit`` needs no refit and no new encoding: the result is a slice
    of the same cached vectors.

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_dim_without_refit
    >>> check_dim_without_refit(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    if not hasattr(type(estimator), "_fit_full"):
        _skipped("check_dim_without_refit", estimator)
        return
    counts = {"fits": 0, "encoded": 0}
    est = _counting(_cold(estimator), counts).set_params(dim=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.fit(list(X))
    fits = counts["fits"]
    assert fits <= 1, f"fit ran _fit_full {fits} times"
    small = _transform(est, X[:3])
    encoded = counts["encoded"]
    bigger = _transform(est.set_params(dim=min(5, est.max_dim_)), X[:3])
    expected = prefix_normalize(bigger, 1, getattr(est, "normalize", True))
    np.testing.assert_allclose(expected, small, atol=1e-5)
    assert counts["fits"] == fits, "changing dim after fit refitted the embedder"
    assert counts["encoded"] == encoded, (
        f"changing dim after fit encoded the same {counts['encoded'] - encoded} texts again "
        "(_transform_full ran): are the vectors cached under a fingerprint that holds dim "
        "(_embedding_fingerprint)?"
    )
    # The cached vectors were computed under dim=1: computed afresh under dim=5, they must be
    # the same. A _transform_full that filled only the first `dim` columns passed every check
    # above (its cache held one column, and dim=5 read it back) and failed much later, as
    # "after a pickle round trip" or "best score at chance".
    clear_caches()
    recomputed = _transform(est, X[:3])
    np.testing.assert_allclose(
        recomputed, bigger, atol=1e-5,
        err_msg="vectors computed with dim=5 differ from those computed with dim=1 and cut to "
        "dim=5: _transform_full must give the full-size vectors whatever dim is",
    )  # fmt: skip


def check_grid_over_dim_fits_once_per_fold(estimator: Any, X: Sequence[str], y: Any) -> None:
    """A ``GridSearchCV`` over four dims costs one fit and one encoding per fold (plus the refit),
    not one per grid point, and learns something (``y`` must be class labels).

    This needs fits to be shared through the fit cache, so a fixed ``random_state`` (an
    embedder with ``random_state=None`` draws fresh randomness, and trains at every grid point).

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X``: the check is skipped, with a warning, when ``y`` is ``None``.

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_grid_over_dim_fits_once_per_fold
    >>> check_grid_over_dim_fits_once_per_fold(TfidfBaseline(max_dim=16), CORPUS, LABELS)
    """
    if not hasattr(type(estimator), "_fit_full"):
        _skipped("check_grid_over_dim_fits_once_per_fold", estimator)
        return
    if y is None:
        _skipped("check_grid_over_dim_fits_once_per_fold", estimator, "no class labels y")
        return
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    counts = {"fits": 0, "encoded": 0}
    folds = 3
    pipe = Pipeline(
        [("embedder", _counting(estimator, counts)), ("clf", LogisticRegression(max_iter=500))]
    )
    max_dim = _fit(estimator, X).max_dim_
    dims = sorted({1, min(2, max_dim), min(4, max_dim), min(8, max_dim)})
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        grid = GridSearchCV(pipe, {"embedder__dim": dims}, cv=cv).fit(list(X), y)
    if estimator._fit_data_key(list(X), None) is None:
        # The fit learns nothing from the data (a pretrained model): fits may be cheap loads, but
        # every text is encoded once in the whole grid, whatever the folds.
        assert counts["encoded"] <= len(set(X)), (
            f"a grid over {len(dims)} dims encoded {counts['encoded']} texts; expected each of "
            f"the {len(set(X))} unique texts once"
        )
    else:
        assert counts["fits"] <= folds + 1, (
            f"a grid over {len(dims)} dims ran {counts['fits']} fits; expected at most one per "
            f"fold plus the refit ({folds + 1}); is the fit cached (a fixed random_state)?"
        )
    assert counts["encoded"] <= (folds + 1) * len(X), (
        f"a grid over {len(dims)} dims encoded {counts['encoded']} texts; expected at most "
        f"{(folds + 1) * len(X)} (each fold's texts once)"
    )
    chance = 1.0 / len(np.unique(y))
    assert grid.best_score_ > chance, f"best score {grid.best_score_:.3f} is at chance"


def check_clone_and_pickle(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``clone`` drops the fitted state; ``pickle``, ``joblib`` and ``copy.deepcopy`` round trips
    embed the same, computed afresh (as in a new process, whose caches are empty).

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (not used by this check).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_clone_and_pickle
    >>> check_clone_and_pickle(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    import io

    import joblib

    fitted = _fit(estimator, X)  # a fresh clone: not a copy, which would go through pickling
    fitted.set_params(dim=min(4, fitted.max_dim_))
    expected = _transform(fitted, X[:6])
    cloned = clone(fitted)
    # by their values: == failed on an array parameter ("truth value of an array is ambiguous")
    assert joblib.hash(cloned.get_params()) == joblib.hash(fitted.get_params()), (
        "clone changed the parameters"
    )
    assert not hasattr(cloned, "max_dim_"), "clone kept the fitted max_dim_"
    restored = pickle.loads(pickle.dumps(fitted))
    assert repr(restored) == repr(fitted), "repr changed through pickle"
    # the restored estimator has the fitted one's fingerprint: with the caches kept, its vectors
    # would be the fitted one's, never computed from what the pickle restored. The tolerance is
    # the other checks' 1e-5: a float32 encoder's vectors move by about 1e-6 at dim=4 with the
    # number of threads it runs on (the packaged MiniLM: 1.4e-6 between 1 and 2 torch threads),
    # while a pickle that restored other weights moves them by far more
    for what, copied in (("a pickle", restored), ("copy.deepcopy", copy.deepcopy(fitted))):
        clear_caches()
        np.testing.assert_allclose(
            _transform(copied, X[:6]), expected, atol=1e-5, err_msg=f"after {what} round trip"
        )
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    clear_caches()
    np.testing.assert_allclose(
        _transform(joblib.load(buffer), X[:6]),
        expected,
        atol=1e-5,
        err_msg="after a joblib.dump/load round trip",
    )


def check_pandas_output(estimator: Any, X: Sequence[str], y: Any) -> None:
    """``get_feature_names_out`` names ``dim`` columns (as many as the output has at
    ``dim=None``), and ``set_output(transform="pandas")`` returns a DataFrame with those
    columns, indexed as the pandas input of ``transform`` and ``fit_transform`` is (a
    ``ColumnTransformer`` joins its parts' outputs on the index).

    Parameters
    ----------
    estimator : estimator
        The unfitted embedder, as :func:`check_embedder` takes it (cloned, never fitted itself).
    X : sequence of str
        Documents to check on (at least 12).
    y : array-like or None
        Class labels of ``X`` (passed to ``fit_transform``; may be ``None``).

    Raises
    ------
    AssertionError
        When the embedder breaks the contract.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils._corpus import CORPUS, LABELS
    >>> from skmrl.utils.estimator_checks import check_pandas_output
    >>> check_pandas_output(TfidfBaseline(max_dim=16), CORPUS, LABELS)  # passes silently
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        return
    est = copy.deepcopy(_fit(estimator, X))
    full = list(est.set_params(dim=None).get_feature_names_out())
    width = _transform(est, X[:2]).shape[1]
    assert len(full) == width, (
        f"{len(full)} feature names for dim=None, whose output has {width} columns"
    )
    est.set_params(dim=min(3, est.max_dim_))
    names = list(est.get_feature_names_out())
    assert len(names) == est.dim, f"{len(names)} feature names for dim={est.dim}"
    assert len(set(names)) == len(names), "feature names are not unique"
    frame = _transform(est.set_output(transform="pandas"), X[:4])
    assert isinstance(frame, pd.DataFrame), f"expected a DataFrame, got {type(frame)}"
    assert list(frame.columns) == names and frame.shape == (4, est.dim)
    # a shuffled frame's index (train_test_split, df.sample) is not 0..n-1
    series = pd.Series(list(X), index=np.arange(len(X))[::-1] + 100)
    frame = _transform(est, series)
    assert list(frame.index) == list(series.index), "transform lost the index of a Series"
    fresh = clone(estimator).set_params(dim=est.dim).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = fresh.fit_transform(series, y)
    assert list(frame.index) == list(series.index), (
        f"fit_transform lost the index of a Series: {list(frame.index)[:3]}..., "
        f"expected {list(series.index)[:3]}..."
    )


#: Every check that :func:`check_embedder` runs, in order.
EMBEDDER_CHECKS: tuple[Callable[[Any, Sequence[str], Any], None], ...] = (
    check_sklearn_data_free,
    check_fit_keeps_parameters,
    check_bad_input,
    check_output,
    # before the checks that compare vectors: a transform that edits the fitted state failed
    # first as check_nesting's mismatch, which said nothing of state
    check_transform_keeps_state,
    # before the checks that compare two computations of the same vectors: a random transform
    # failed first as "fit_transform(generator)", and its author looked at generators
    check_deterministic,
    check_input_types,
    check_generator_input,
    check_empty_and_unknown_documents,
    check_nesting,
    check_rows_follow_input,
    check_cache_keys,
    check_dim_out_of_range,
    check_dim_without_refit,
    check_grid_over_dim_fits_once_per_fold,
    check_clone_and_pickle,
    check_pandas_output,
)


def _class_count(y: Any) -> int | None:
    """How many distinct labels ``y`` holds (``None`` for no ``y``, or labels not hashable)."""
    if y is None:
        return None
    try:
        return len(set(np.asarray(y).tolist()))
    except TypeError:  # 2-D labels: lists; the classifier's own check speaks for them
        return None


def check_embedder(
    estimator: Any,
    *,
    X: Iterable[str] | None = None,
    y: Any = None,
    checks: Iterable[Callable[[Any, Sequence[str], Any], None]] | None = None,
) -> None:
    """Check that an embedder keeps skmrl's contracts; raise ``AssertionError`` on the first break.

    Parameters
    ----------
    estimator : estimator
        An unfitted embedder with a ``dim`` parameter (``None`` = full size) and, once fitted, a
        ``max_dim_`` attribute; set it up for a small corpus (e.g. ``min_count=1``). It is cloned,
        never fitted itself.
    X : iterable of str, optional
        Documents to check on (at least 12, in at least 2 classes of ``y``). Default: a small
        hand-written corpus of 40 sentences on four topics, with ``y`` its topics.
    y : array-like, optional
        Class labels of ``X`` for the grid-search check (skipped, with a warning, without them
        when ``X`` is given).
    checks : iterable of callables, optional
        A subset of :data:`EMBEDDER_CHECKS` (default: all of them).

    Raises
    ------
    AssertionError
        Naming the check that failed and why (also when the embedder raised another error
        during a check, which is then chained as its cause).

    Notes
    -----
    Give the embedder a fixed ``random_state`` (where it has one) and ``device="cpu"``: several
    checks compare two computations of the same vectors, and a GPU's kernels are not
    reproducible bit for bit. The checks that compare fits set ``random_state=None`` to ``0``;
    :func:`check_grid_over_dim_fits_once_per_fold` does not, since such an embedder really
    trains at every grid point. The checks empty skmrl's in-process caches
    (:func:`skmrl.cache.clear_caches`) of the process they run in.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.utils.estimator_checks import check_embedder
    >>> check_embedder(TfidfBaseline(max_dim=16))  # passes silently
    """
    if X is None:
        docs, labels = list(CORPUS), LABELS
    else:
        # the checker's own input is checked first: a bare string ran every check on its
        # characters, and a y of the wrong length or of one class failed as the embedder's fault
        docs, labels = check_documents(X, fit=True), y
        check_label_count(y, len(docs))
        classes = _class_count(y)
        if classes is not None and classes < 2:
            raise ValueError(
                "y must hold at least 2 classes (the grid-search check fits a classifier on "
                f"them), got {classes}"
            )
    if len(docs) < 12:
        raise ValueError(f"check_embedder needs at least 12 documents, got {len(docs)}")
    name = type(estimator).__name__
    for check in EMBEDDER_CHECKS if checks is None else checks:
        try:
            check(estimator, docs, labels)
        except AssertionError as exc:
            raise AssertionError(f"{name} fails {check.__name__}: {exc}") from exc
        except Exception as exc:  # an error the embedder raised where the contract expects none
            raise AssertionError(
                f"{name} fails {check.__name__}: it raised {type(exc).__name__}: {exc}"
            ) from exc
