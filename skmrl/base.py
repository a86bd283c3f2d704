"""BaseEmbedder: the contracts that every skmrl embedder keeps (docs/design.md, contracts 1-7).

A subclass implements two hooks and inherits everything else:

* ``_fit_full(docs, y) -> dict``: learn from the documents and return the fitted attributes
  (names ending in ``_``), which must include ``max_dim_``, the full embedding size.
* ``_transform_full(docs) -> ndarray``: the full-size, unnormalised vectors of ``docs``,
  shape ``(len(docs), max_dim_)``.

The base class validates input and ``dim``, caches fitted states (keyed by the data and every
parameter but ``dim``) and full-size vectors (keyed by the fitted state's fingerprint and the text),
then slices each result to ``dim`` and re-normalises it. So ``dim`` only slices, and a grid over
``dim`` costs one fit and one encoding per fold.
"""

from __future__ import annotations

import copy
import hashlib
import numbers
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from skmrl._settings import (
    Unkeyable,
    class_code_key,
    recorded_settings,
    refuse_changed_settings,
    stable_repr,
)
from skmrl._training_checks import sizes_canon
from skmrl._validation import check_bool, check_dim, check_documents, check_label_count
from skmrl.cache import cached_fit_state, check_memory, get_embedding_cache, hash_texts

__all__ = ["BaseEmbedder", "dim_feature_names", "prefix_normalize"]


def _tame_extreme_rows(X: np.ndarray) -> np.ndarray:
    """``X`` (float, 2-D) with each row whose largest ``|value|`` is outside ``[1e-15, 1e15]``
    divided by it: such rows' squares overflow or vanish in float32 (and beyond float32's range
    a float64 row casts to infinities or zeros), so their norms, and the unit rows made with
    them, were infinite or zero. Every other row is left bit for bit; ``X`` itself when none
    is extreme.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.base import _tame_extreme_rows
    >>> _tame_extreme_rows(np.array([[3e-200, -4e-200], [3.0, 4.0]]))
    array([[ 0.75, -1.  ],
           [ 3.  ,  4.  ]])
    """
    if X.ndim != 2 or not X.size or X.dtype.kind != "f":
        return X
    # in float64: float16's range ends at 65504, so comparing its peaks with 1e15 cast 1e15
    # to float16 and warned "overflow encountered in cast" (no float16 row is extreme)
    # (the row's largest |value| from its max and min: np.abs(X) was a temporary of X's size)
    high, low = X.max(axis=1, keepdims=True), X.min(axis=1, keepdims=True)
    peak = np.maximum(high, -low).astype(np.float64, copy=False)
    extreme = (peak > 0) & np.isfinite(peak) & ((peak < 1e-15) | (peak > 1e15))
    if not extreme.any():
        return X
    return np.where(extreme, X / np.where(extreme, peak, 1), X)


def _float_vectors(X: Any) -> np.ndarray:
    """``X`` as an array of floats for :func:`prefix_normalize`: float64 kept, any other type
    float32. prefix_normalize brings float64 rows of 1e-200 or 1e300 into float32's range
    before its own cast; a cast to float32 first made them zeros or infinities. numpy's
    ``TypeError``/``ValueError`` for what is no array of numbers is left to the caller.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.base import _float_vectors
    >>> _float_vectors([[1e-200, 0.0]]).dtype, _float_vectors([[1, 2]]).dtype
    (dtype('float64'), dtype('float32'))
    """
    X = _real(np.asarray(X))
    return X if X.dtype == np.float64 else X.astype(np.float32, copy=False)


def _real(X: np.ndarray) -> np.ndarray:
    """``X``, refused when complex: a cast to floats drops the imaginary parts, with only
    numpy's ComplexWarning."""
    if X.dtype.kind == "c":
        raise TypeError(f"expected real numbers, got complex ones ({X.dtype})")
    return X


def prefix_normalize(full: np.ndarray, dim: int | None, normalize: bool = True) -> np.ndarray:
    """Take the first ``dim`` columns of ``full`` and L2-normalise each row.

    Rows whose prefix is all zeros stay zero (never NaN).

    Parameters
    ----------
    full : array-like of shape (n_samples, max_dim)
        Full-size vectors (an array of numbers, a list of rows, a DataFrame).
    dim : int or None
        Prefix length, in ``[1, max_dim]``; ``None`` keeps every column.
    normalize : bool, default=True
        Whether to L2-normalise the prefix.

    Returns
    -------
    ndarray of shape (n_samples, dim), float32, C-contiguous
        A new array (``full`` is never modified).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.base import prefix_normalize
    >>> prefix_normalize(np.array([[3.0, 4.0, 12.0], [0.0, 0.0, 1.0]]), 2)
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    # a list of rows or a DataFrame: full[:, :dim] raised "list indices must be integers" or
    # a KeyError, a 1-D or 3-D array numpy's IndexError or einsum's error, and a dim of -1
    # dropped the last column (of 100, kept them all) without a word
    full = _real(np.asarray(full))
    if full.ndim != 2:
        raise ValueError(
            f"prefix_normalize takes vectors of shape (n_samples, max_dim), got an array of "
            f"shape {full.shape}"
        )
    dim = check_dim(dim, full.shape[1])
    out = full if dim is None else full[:, :dim]
    normalize = check_bool("normalize", normalize)
    if normalize and out.dtype != np.float32:
        # float64 rows of 1e-200 or 1e300 would cast to zeros or infinities; float32 rows need
        # nothing (their norms are taken in float64 below), so the embedders' vectors, at every
        # transform, are not looked over once more
        out = _tame_extreme_rows(out)
    out = np.array(out, dtype=np.float32, order="C", copy=True)
    if normalize and out.size:
        norms = np.sqrt(np.einsum("ij,ij->i", out, out, dtype=np.float64))[:, None]
        np.divide(out, norms, out=out, where=norms > 0)
    return out


def dim_feature_names(estimator: Any) -> np.ndarray:
    """Output column names of a fitted estimator with ``dim``/``max_dim_``: ``<classname>0``, ...

    What ``get_feature_names_out`` returns for every skmrl embedder and ``MatryoshkaAdaptor``.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator with a ``dim`` parameter and a ``max_dim_`` attribute.

    Returns
    -------
    ndarray of str objects, of shape (dim,)
        One name per output column (``max_dim_`` of them when ``dim`` is ``None``).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted.

    Examples
    --------
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.base import dim_feature_names
    >>> dim_feature_names(TfidfBaseline(dim=2).fit(["a cat", "a dog", "the cow"])).tolist()
    ['tfidfbaseline0', 'tfidfbaseline1']
    """
    check_is_fitted(estimator)
    dim = check_dim(estimator.dim, estimator.max_dim_)
    n = estimator.max_dim_ if dim is None else dim
    prefix = type(estimator).__name__.lower()
    return np.asarray([f"{prefix}{i}" for i in range(n)], dtype=object)


def _is_fitted_name(name: str) -> bool:
    """Whether an attribute name is a fitted attribute's (``max_dim_``; not ``_cache`` or a
    dunder), by scikit-learn's convention."""
    return name.endswith("_") and not name.startswith("_")


class BaseEmbedder(TransformerMixin, BaseEstimator):
    """Base class of the skmrl embedders (not used directly).

    It holds the contracts of docs/design.md: 1-D text input with clear errors, ``float32``
    C-contiguous output of shape ``(n_samples, dim)``, nesting (``dim=k`` is the first ``k``
    full-size columns, re-normalised), ``dim`` validated against ``max_dim_``, feature names and
    pandas output, string-input tags, and the caches that make a grid over ``dim`` cost one
    fit and one encoding.

    Subclasses set ``dim`` and ``normalize`` (and may set ``memory``) in ``__init__`` and implement
    ``_fit_full`` (the fitted state: a dict of attributes that holds ``max_dim_``) and
    ``_transform_full`` (the ``max_dim_`` full-size columns of each document).
    :func:`skmrl.utils.estimator_checks.check_embedder` checks the result.

    Attributes
    ----------
    max_dim_ : int
        The full embedding size (set by the subclass's ``_fit_full``).
    fingerprint_ : str
        Identity of the fitted state (its cache key).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.base import BaseEmbedder
    >>> class LengthEmbedder(BaseEmbedder):
    ...     def __init__(self, dim=None, normalize=True):
    ...         self.dim = dim
    ...         self.normalize = normalize
    ...     def _fit_full(self, docs, y):
    ...         return {"max_dim_": 2}
    ...     def _transform_full(self, docs):
    ...         return np.array([[len(d), len(d.split())] for d in docs], dtype=np.float32)
    >>> emb = LengthEmbedder(normalize=False).fit(["a cat", "the dog sat"])
    >>> emb.transform(["a b c"])
    array([[5., 3.]], dtype=float32)
    >>> emb.set_params(dim=1).transform(["a b c"])  # the first column
    array([[5.]], dtype=float32)
    >>> emb.get_feature_names_out().tolist()
    ['lengthembedder0']
    """

    #: Parameters that act after the full-size result (they never enter a cache key).
    _slice_params: ClassVar[frozenset[str]] = frozenset({"dim", "normalize"})
    #: Parameters that change how work is run, never its result (never in a cache key).
    _runtime_params: ClassVar[frozenset[str]] = frozenset({"progress", "memory"})
    #: Whether ``fit`` learns from ``y`` (then ``y`` enters the fit key).
    _fit_uses_y: ClassVar[bool] = False

    # -- hooks for subclasses -------------------------------------------------------------------
    def _validate_params(self) -> None:
        """Check parameters other than ``dim`` (called first in ``fit``); raise on bad values."""

    def _fit_full(self, docs: list[str], y: Any) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def _transform_full(self, docs: list[str]) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _fit_data_key(self, docs: list[str], y: Any) -> str | None:
        """What of the training data the fitted state depends on (``None``: nothing)."""
        return hash_texts(docs, y if self._fit_uses_y else None)

    # -- fitting --------------------------------------------------------------------------------
    def _cache_params(self) -> dict[str, Any]:
        """The parameters the fitted state depends on, as set."""
        skip = self._slice_params | self._runtime_params
        return {k: v for k, v in self.get_params(deep=False).items() if k not in skip}

    def _keyed_params(self) -> dict[str, Any]:
        """:meth:`_cache_params` as the fit's key reads them: ``matryoshka_dims=[8, 16]`` is the
        setting ``(8, 16)`` (``sizes_canon``), and shares its fit."""
        return {k: sizes_canon(k, v) for k, v in self._cache_params().items()}

    def _fit_key(self, docs: list[str], y: Any) -> str | None:
        """Key of the fitted state: class, parameters but ``dim``, and the data it depends on."""
        from skmrl import __version__

        params = self._keyed_params()
        if params.get("random_state", 0) is None or any(
            isinstance(v, np.random.RandomState | np.random.Generator) for v in params.values()
        ):
            # None draws fresh randomness at every fit, and a random-state object is consumed
            # by fitting: never serve (or share) a cached result
            return None
        try:
            settings = stable_repr(params, strict=True)
        except Unkeyable:
            return None  # a parameter told apart by identity only (see stable_repr)
        payload = (
            type(self).__module__,
            type(self).__qualname__,
            __version__,
            settings,
            self._fit_data_key(docs, y),
        )
        code = class_code_key(type(self))  # a user's embedder: its code, not its name alone
        if code is not None:
            payload += (code,)
        return hashlib.sha1(repr(payload).encode()).hexdigest()

    def fit(self, X: Any, y: Any = None) -> BaseEmbedder:
        """Fit the embedder on a corpus.

        Parameters
        ----------
        X : iterable of str
            Training documents (list, tuple, 1-D array, pandas Series or one-column DataFrame).
        y : array-like, optional
            Labels; used only by embedders that learn from them.

        Returns
        -------
        self
        """
        check_dim(self.dim)
        check_bool("normalize", self.normalize)
        check_memory(getattr(self, "memory", None))
        self._validate_params()
        self._check_dim_against_max_dim()
        docs = check_documents(X, fit=True)
        check_label_count(y, len(docs))
        key = self._fit_key(docs, y)
        if key is None:
            state = self._fit_full(docs, y)
            key = uuid.uuid4().hex  # unshared: nothing else has this fitted state
        else:
            state = cached_fit_state(
                key, lambda: self._fit_full(docs, y), memory=getattr(self, "memory", None)
            )
        self._set_fitted_state(state, key)
        return self

    def _set_fitted_state(self, state: dict[str, Any], key: str) -> None:
        """Check what ``state`` settles, then make it this estimator's (under ``key``)."""
        self._check_fitted_state(state)  # before any attribute is set: no half-fitted estimator
        # An earlier state's attributes that this state lacks go: a refit without fine-tuning
        # kept the last training's matryoshka_dims_, which save_pretrained then wrote out. Only
        # those: a subclass's fit may set its own (classes_) before calling this one.
        for name in self._earlier_state_names():
            if name not in state:
                self.__dict__.pop(name, None)
        for name, value in state.items():
            setattr(self, name, value)
        self._state_names = tuple(state)
        self.fingerprint_ = key
        self._record_fit_settings()

    def __deepcopy__(self, memo: dict[int, Any]) -> BaseEmbedder:
        """A deep copy whose fitted state is its own, under a fingerprint of its own.

        The copy is where a fitted state may be edited (docs/design.md, *Caching*: "take a
        ``copy.deepcopy`` ... before editing its attributes"), so it must not share the
        original's vectors: under the same fingerprint, the texts the original had embedded
        kept their old vectors after the copy's edit, and only new texts got the edited ones.
        A pickle keeps the fingerprint (worker processes share the cached vectors through it).
        """
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        if "fingerprint_" in new.__dict__:
            new.fingerprint_ = uuid.uuid4().hex
        return new

    def _earlier_state_names(self) -> tuple[str, ...]:
        """The attributes that the last fitted state set (``_set_fitted_state``); for an
        estimator fitted before they were recorded (unpickled), its fitted attributes."""
        names = self.__dict__.get("_state_names")
        if names is not None:
            return tuple(names)
        if "fingerprint_" not in self.__dict__:
            return ()  # never fitted: every fitted attribute is the subclass's own
        return tuple(n for n in vars(self) if _is_fitted_name(n) and n != "fingerprint_")

    def _record_fit_settings(self) -> None:
        """Remember the parameters the fit depended on (all but ``dim`` and the runtime ones):
        each value (whose identity a pickle or a deep copy keeps) and its stable repr then (a
        list changed in place after fit is still the same object)."""
        self._fit_settings = recorded_settings(self._cache_params(), sizes_canon)

    def _check_fitted(self) -> None:
        """``check_is_fitted``, and refuse to use the fitted state after ``set_params`` changed
        a parameter that ``fit`` depended on.

        The vectors are cached under the fitted state: texts seen before would keep the old
        setting's vectors while new texts got the new one's (or the change would be ignored).
        A value is unchanged when its stable repr is the one fit saw; a callable, or an object
        with no repr of its own (a ``RandomState``), when it is the very object fit used (a
        memoising tokenizer's repr grows as it runs, and a copy's address is another).
        """
        check_is_fitted(self)
        fitted = self.__dict__.get("_fit_settings")
        if not isinstance(fitted, dict) or not all(
            isinstance(e, tuple) and len(e) == 2 and isinstance(e[1], str) for e in fitted.values()
        ):
            return  # pickled before the settings were recorded (as (value, repr) pairs)
        may = self._slice_params | self._runtime_params
        refuse_changed_settings(fitted, self._cache_params(), may, sizes_canon)

    def _check_dim_against_max_dim(self) -> None:
        """Refuse, before any fitting, a ``dim`` above a ``max_dim`` parameter, which bounds the
        fitted full size ``max_dim_``: it was refused only once the fit (a word2vec training of
        minutes, every fold of a grid) had made ``max_dim_``."""
        bound = getattr(self, "max_dim", None)
        if isinstance(bound, bool) or not isinstance(bound, numbers.Integral):
            return  # no such parameter (MatryoshkaEmbedder: the model's size), or a bad one
        dim = check_dim(self.dim)
        if dim is not None and dim > bound:
            raise ValueError(
                f"dim={dim} is out of range: it is above max_dim={bound}, the largest size fit "
                f"makes; expected None (full size) or an int in [1, {bound}]"
            )

    def _check_fitted_state(self, state: dict[str, Any]) -> None:
        """Check the parameters that a fitted state settles (``dim`` against ``max_dim_``), which
        are not part of its key: a cached state may have been fitted under other values."""
        self._check_dim(state["max_dim_"])

    def _check_dim(self, max_dim: int) -> int | None:
        """``dim`` checked against the full size ``max_dim`` (a subclass may say more about
        what limits it)."""
        return check_dim(self.dim, max_dim)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit on ``X``, then embed it; ``X`` is read once (a generator works).

        Parameters
        ----------
        X : iterable of str
            Training documents (list, tuple, 1-D array, pandas Series, one-column DataFrame or
            any other iterable, such as a generator).
        y : array-like, optional
            Labels; used only by embedders that learn from them.
        **fit_params : dict
            Passed to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, dim), float32 (or what ``transform`` returns)

        Examples
        --------
        >>> from skmrl import TfidfBaseline
        >>> docs = ["the cat sat", "a dog barked", "the cat purred"]
        >>> TfidfBaseline(dim=2).fit_transform(d for d in docs).shape
        (3, 2)
        """
        # TransformerMixin's fit(X).transform(X) would read an iterator twice, and the second
        # read sees nothing: validate (and so materialise) the documents once, then reuse them.
        # Not through transform: set_output's wrapper of transform, given the list, would make
        # a DataFrame indexed 0..n-1 and fit_transform's wrapper would keep it, where the index
        # of X is due (a ColumnTransformer joins its parts' outputs on it).
        docs = check_documents(X, fit=True)
        return self.fit(docs, y, **fit_params)._transform_docs(docs)

    # -- transforming ---------------------------------------------------------------------------
    def _embedding_fingerprint(self) -> str:
        """Identity of the full-size vectors; by default the fitted state's key."""
        return self.fingerprint_

    def embed_full(self, X: Any) -> np.ndarray:
        """Full-size, unnormalised vectors of ``X`` (through the cache), ignoring ``dim``.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        ndarray of shape (n_samples, ``max_dim_``), float32
        """
        self._check_fitted()
        docs = check_documents(X)
        return self._embed_docs(docs)

    def _embed_docs(self, docs: Sequence[str]) -> np.ndarray:
        if not docs:  # the cache cannot know the width of nothing: (0, max_dim_), not (0, 0)
            return np.zeros((0, self.max_dim_), dtype=np.float32)
        return get_embedding_cache().get_or_compute(
            self._embedding_fingerprint(),
            docs,
            self._transform_full,
            memory=getattr(self, "memory", None),
        )

    def transform(self, X: Any) -> np.ndarray:
        """Embed documents at size ``dim``.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        ndarray of shape (n_samples, dim), float32
            The first ``dim`` full-size columns, L2-normalised per row when ``normalize=True``.
        """
        return self._transform_docs(check_documents(X))

    def _transform_docs(self, docs: list[str]) -> Any:
        """``transform`` of checked documents (what set_output wraps is left to the caller)."""
        self._check_fitted()
        dim = self._check_dim(self.max_dim_)
        return self._at_dim(docs, dim)

    def _at_dim(self, docs: list[str], dim: int | None) -> Any:
        """The vectors of ``docs`` at the checked size ``dim``."""
        return prefix_normalize(self._embed_docs(docs), dim, self.normalize)

    # -- sklearn API ----------------------------------------------------------------------------
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: ``<classname>0``, ``<classname>1``, ...

        Parameters
        ----------
        input_features : ignored
            Present for API consistency.

        Returns
        -------
        ndarray of str objects, shape (dim,)
        """
        self._check_fitted()
        return dim_feature_names(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
