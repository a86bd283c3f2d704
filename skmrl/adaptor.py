"""MatryoshkaAdaptor: make any dense embeddings Matryoshka-ordered (``dim`` slices them).

Embeddings from a model that was never Matryoshka-trained have poor short prefixes: their first
``k`` coordinates are no better than any other ``k``. The adaptor learns a rotation of the
vectors after which each prefix is as good as a prefix can be, for similarity (unsupervised) or
for the classes of ``y`` (supervised), and ``dim`` slices the rotated vectors as it does in every
skmrl embedder. The encoder is never touched: the adaptor works on vectors, from any source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skmrl._adaptor_warnings import count_distinct, warn_if_few_vectors, warn_if_slow
from skmrl._progress import check_progress
from skmrl._settings import (
    class_code_key,
    recorded_settings,
    refuse_changed_settings,
    stable_repr,
)
from skmrl._training_checks import check_class_labels, check_matryoshka_dims, sizes_canon
from skmrl._validation import (
    check_bool,
    check_dim,
    check_float,
    check_int,
    check_label_count,
    check_seed,
    holds_text,
)
from skmrl._vector_checks import (
    check_not_written_vectors,
    check_vector_rows,
    kept_input_attrs,
    stack_vector_column,
)
from skmrl.base import (
    _tame_extreme_rows,
    dim_feature_names,
    prefix_normalize,
)
from skmrl.cache import cached_fit_state, check_memory

__all__ = ["MatryoshkaAdaptor", "check_class_labels", "check_matryoshka_dims"]

_METHODS = ("adaptor", "pca", "prefix")
#: Part of the fitted state's cache key: raised when a route's rotation changes for the same data
#: and parameters, so that a disk cache does not serve the earlier one (2: the Cayley map, and
#: the discriminants' ridge averaged over the vectors' span; 3: the rotation from labels
#: centred). ``MatryoshkaEmbedder``'s fine-tuned states hold it too (``training_defaults``).
_ROTATION_REVISION = 3


#: Rows a block when the fit key is hashed from unit rows made a block at a time.
_KEY_BLOCK_ROWS = 8192


def _unit_rows(Z: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """The rows of ``Z`` divided by their ``norms`` (``(n, 1)``), in float32; rows of norm 0
    stay zero. Each row's result depends on that row alone."""
    return np.divide(Z, norms, out=np.zeros(Z.shape, np.float32), where=norms > 0)


def _unit_blocks(Z: np.ndarray, norms: np.ndarray, kept: np.ndarray | None) -> Iterator[np.ndarray]:
    """The unit rows of ``Z`` (those at the indices ``kept``; all for ``None``), in
    consecutive blocks of at most :data:`_KEY_BLOCK_ROWS` rows."""
    n = len(Z) if kept is None else kept.size
    for start in range(0, n, _KEY_BLOCK_ROWS):
        stop = min(start + _KEY_BLOCK_ROWS, n)
        rows = slice(start, stop) if kept is None else kept[start:stop]
        yield _unit_rows(Z[rows], norms[rows])


class MatryoshkaAdaptor(TransformerMixin, BaseEstimator):
    """Rotate dense embeddings so that every prefix is a good embedding; ``dim`` slices them.

    A transformer from vectors to Matryoshka-ordered vectors, for embeddings from any source
    (another skmrl embedder's full output, a sentence-transformers model, an API). Input rows
    are L2-normalised, then rotated by a learned orthogonal matrix; ``dim=k`` keeps the first
    ``k`` coordinates and re-normalises them, with no refit. The fitted state is cached under
    the data and every parameter but ``dim``, ``normalize``, ``progress`` and ``memory``, so a
    grid over ``dim`` fits once per fold; another parameter changed after ``fit`` makes
    ``transform`` raise a ``ValueError`` that asks for ``fit``.

    Three methods:

    * ``"adaptor"``. Without ``y`` (Yoon et al., EMNLP 2024): starts from the PCA basis and
      trains the rotation so that each prefix in ``matryoshka_dims`` keeps the full vectors'
      cosine similarities to their nearest neighbours and to random others. With ``y``: the
      closed-form discriminant rotation (``skmrl._torch.adaptor.discriminant_basis``): its
      first ``n_classes - 1`` directions span the classes' linear discriminants (a linear
      classifier reads no more), the rest are the principal directions of what is left; the
      vectors are centred first, at the training rows' mean, so that a prefix is normalised
      about the classes' centre. The unsupervised rotation changes no full-size similarity;
      centred, the one from labels changes them, as ``"pca"`` does (see below).
    * ``"pca"``: the closed-form rotation onto the principal directions of the (centred)
      vectors, ignoring ``y``: instant, and a strong baseline for classification without labels.
      It centres the vectors, so full-size cosines change: on 800 MiniLM vectors of TREC
      questions by 0.095 on average (their mean cosine goes from 0.09 to 0, and the pairs above
      0.5 from 303 to 151), though their order changes little (STS Benchmark Spearman +0.17
      points): cosine thresholds set on the encoder's own vectors do not carry over.
    * ``"prefix"``: no rotation (the identity): ``dim=k`` keeps the vectors' own first ``k``
      coordinates, re-normalised. For vectors already trained to be Matryoshka (OpenAI's
      text-embedding-3, nomic-embed-text-v1.5), whose prefixes need no adaptor, and as the
      naive prefix to compare the other methods with (``skmrl.evaluation.compare``). It
      ignores ``y``.

    Which to use (measured on all-MiniLM-L6-v2 vectors with 5-fold LogisticRegression,
    Spearman on STSb-dev and nDCG@10 on a DBpedia subset; see docs/design.md and
    docs/search.rst): for STS-style similarity, ``"adaptor"`` without labels (STSb at 32 dims:
    about 97% of the full-size score, against 93.8% for the naive prefix); for search with a
    short float shortlist (``MatryoshkaSearch``), ``"pca"`` (16 dims: nDCG@10 0.515 and
    recall@100 0.86, against the unsupervised adaptor's 0.503 and 0.66, the naive prefix's
    0.473 and 0.53 and exact search's 0.511), with a binary one the ``"adaptor"``; for
    classification, ``"adaptor"`` with ``y`` (8 dims: TREC-6 0.854 against 0.381 for the naive
    prefix and 0.838 at full size; SMS spam 0.986; BBC News 0.970), or ``"pca"`` when there are
    no labels.

    What a fit costs (one core of a shared 2-core CPU): ``"pca"`` and the rotation from labels
    are closed-form, seconds (20,000 vectors of 3,072 dims: 31 s and 56 s). ``"adaptor"``
    without labels trains for ``epochs * (min(n_samples, max_samples) // batch_size)`` steps,
    at least one an epoch (390 by default from 10,000 rows or more), and a step costs
    ``O(D**3)`` for ``D`` features: the whole training takes about 40 s at 384 dims, 3-4 min at
    1,024, 7-8 min at 1,536 and 50 min at 3,072 (API embeddings). ``fit`` warns when the first
    step projects a training of more than 5 minutes; ``progress=True`` shows a bar.

    The supervised rotation was first trained, as in the MRL paper, with a cross-entropy head
    on each prefix: it reached 0.800 at 8 dims on TREC-6 in minutes, and training on from the
    (uncentred) discriminant start lowered that start's 0.849 to 0.824. So labels choose the
    rotation in closed form, in about a second.

    Parameters
    ----------
    dim : int or None, default=None
        Output size: the first ``dim`` rotated coordinates; ``None`` for all.
    method : {"adaptor", "pca", "prefix"}, default="adaptor"
        How the rotation is found (see above); ``"prefix"``: none.
    matryoshka_dims : list of int, optional
        Prefix sizes the adaptor is trained for; default: powers of two from 8 below the full
        size, and the full size. Sizes in between are prefixes too, and good ones.
    normalize : bool, default=True
        L2-normalise each output vector after slicing it to ``dim``.
    n_neighbors : int, default=10
        Nearest neighbours per vector whose similarities each prefix keeps (the top-k term);
        as many again are drawn at each step from its ``neighbour_pool`` nearest.
    neighbour_pool : int, default=200
        Where the extra neighbours are drawn from (0: the top ``n_neighbors`` only).
    epochs : int, default=10
        Passes over the training vectors (``"adaptor"`` only).
    learning_rate : float, default=1e-3
        Adam's step size.
    batch_size : int, default=256
        Vectors per step.
    shrinkage : float, default=0.1
        With ``y``: a ridge of ``shrinkage`` times the within-class scatter's mean variance
        over the directions the vectors span is added to that scatter (in scikit-learn's LDA
        terms, a shrinkage of that scatter by ``shrinkage / (1 + shrinkage)``: 1 here is an
        even mix), which keeps the discriminants stable on few rows (0.1 against 0.001: 8-dim
        accuracy 0.970 against 0.961 on BBC News, 0.849 against 0.850 on TREC-6, measured
        before the rotation was centred); the same vectors padded with zeros get the same
        rotation.
    max_samples : int, default=10000
        The adaptor is trained on at most this many rows (a seeded random subset); the
        fit time grows with it, the quality barely.
    random_state : int, default=0
        Seed of the subset and the batches (an int only; ``None`` or a ``RandomState`` is
        refused).
    progress : bool or None, default=None
        Show a progress bar while training; ``None``: when stderr is a terminal or in a
        Jupyter notebook, except in a worker process (``GridSearchCV(n_jobs=2)``'s workers
        would draw over each other).
    memory : str, path or joblib.Memory, optional
        Folder where fitted states are also kept on disk, shared across processes and runs.

    Attributes
    ----------
    components_ : ndarray of shape (``max_dim_``, ``max_dim_``), float32
        The orthogonal rotation: ``transform`` computes ``(normalised(X) - mean_) @ components_``.
    mean_ : ndarray of shape (``max_dim_``,), float32
        The mean removed before rotating (zeros for ``"adaptor"`` without ``y`` and for
        ``"prefix"``).
    max_dim_ : int
        Full size (the number of input features).
    n_features_in_ : int
        Same as ``max_dim_``.
    feature_names_in_ : ndarray of str
        The input's column names, when ``fit`` was given a DataFrame with string column names
        (as every scikit-learn transformer records them).
    matryoshka_dims_ : list of int
        The prefix sizes the rotation was trained for.
    classes_ : ndarray or None
        The labels seen in ``fit`` (``None`` when unsupervised).
    fingerprint_ : str
        Identity of this fit (a hash of the data and parameters).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl import MatryoshkaAdaptor
    >>> Z = np.random.default_rng(0).normal(size=(200, 32)).astype("float32")
    >>> ad = MatryoshkaAdaptor(dim=8, epochs=2).fit(Z)
    >>> ad.transform(Z).shape
    (200, 8)

    The full size keeps every cosine similarity:

    >>> full = ad.set_params(dim=None).transform(Z)
    >>> Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    >>> bool(np.allclose(full @ full.T, Zn @ Zn.T, atol=1e-5))
    True
    """

    def __init__(
        self,
        dim: int | None = None,
        method: str = "adaptor",
        matryoshka_dims: Collection[int] | None = None,
        *,
        normalize: bool = True,
        n_neighbors: int = 10,
        neighbour_pool: int = 200,
        epochs: int = 10,
        learning_rate: float = 1e-3,
        batch_size: int = 256,
        shrinkage: float = 0.1,
        max_samples: int = 10_000,
        random_state: int = 0,
        progress: bool | None = None,
        memory: Any = None,
    ) -> None:
        self.dim = dim
        self.method = method
        self.matryoshka_dims = matryoshka_dims
        self.normalize = normalize
        self.n_neighbors = n_neighbors
        self.neighbour_pool = neighbour_pool
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shrinkage = shrinkage
        self.max_samples = max_samples
        self.random_state = random_state
        self.progress = progress
        self.memory = memory

    # -- parameters -----------------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(
                f"method={self.method!r} is not understood; expected one of {_METHODS}"
            )
        check_bool("normalize", self.normalize)
        check_int("n_neighbors", self.n_neighbors, 0)
        check_int("neighbour_pool", self.neighbour_pool, 0)
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 2)
        check_int("max_samples", self.max_samples, 2)
        check_seed(self.random_state, int_only=True)
        # finite: inf trained a rotation of NaNs
        check_float("learning_rate", self.learning_rate, 0.0, open_low=True)
        check_float("shrinkage", self.shrinkage, 0.0)
        check_progress(self.progress)

    def _check_vectors(self, X: Any, *, fit: bool) -> np.ndarray:
        """Validate ``X`` as scikit-learn does (``n_features_in_``, ``feature_names_in_`` and
        their checks) and return its rows at unit length."""
        return _unit_rows(*self._checked_rows(X, fit=fit))

    def _checked_rows(self, X: Any, *, fit: bool) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_check_vectors` before normalising: the rows and their norms, ``(n, 1)``."""
        check_not_written_vectors(X)  # a CSV file's column of lists
        if holds_text(X):
            raise TypeError(
                "MatryoshkaAdaptor takes dense vectors of shape (n_samples, n_features), not "
                "texts: embed them first, e.g. make_pipeline(MatryoshkaEmbedder(), "
                "MatryoshkaAdaptor()), or use MatryoshkaEmbedder(fine_tune='adaptor')"
            )
        if isinstance(X, list | tuple) and not X:
            # scikit-learn's "Expected 2D array, got 1D array"; at transform an empty batch (a
            # loop's last), which as an empty array, Series or polars column gave (0, dim)
            if fit:
                raise ValueError("MatryoshkaAdaptor needs at least 2 vectors to fit; X is empty")
            X = np.zeros((0, self.n_features_in_))
        # df["embedding"], as a ColumnTransformer hands it over; empty at transform: no rows
        # (refused, where an empty batch of any other kind gave (0, dim))
        X = stack_vector_column(X, empty_width=None if fit else self.n_features_in_)
        X = check_vector_rows(X, "MatryoshkaAdaptor takes")  # a list of rows: read once
        if sp.issparse(X):
            # scikit-learn's own message says ".toarray()", which for a TF-IDF matrix of tens of
            # thousands of columns would ask for a D x D rotation of gigabytes.
            raise TypeError(
                f"MatryoshkaAdaptor takes dense vectors; got a sparse matrix of shape {X.shape}. "
                "For TF-IDF, TfidfBaseline(dim=k) is already Matryoshka-ordered (nested LSA); "
                "for other sparse vectors, reduce them to a dense embedding first"
            )
        Z = validate_data(
            self,
            X,
            reset=fit,
            dtype=(np.float32, np.float64),
            ensure_min_samples=2 if fit else 0,
            ensure_min_features=1,
        )
        Z = _tame_extreme_rows(Z)  # float32 rows of 1e20 (or 1e-25) had norms of inf (or 0)
        norms = np.linalg.norm(Z, axis=1, keepdims=True)
        if fit and (nonzero := np.count_nonzero(norms)) < 2:
            # Rows of zeros have no direction; with fewer than 2 others there is nothing to fit.
            raise ValueError(
                f"X has {nonzero} non-zero rows out of {len(Z)}; fitting needs at least 2 "
                "(were the vectors computed?)"
            )
        return Z, norms

    # -- fitting --------------------------------------------------------------------------------
    #: Parameters that may change after ``fit``: no part of the fitted state.
    _free_params = frozenset({"dim", "normalize", "progress", "memory"})

    def _fit_params(self) -> dict[str, Any]:
        """The parameters the fitted rotation depends on (all but :attr:`_free_params`)."""
        return {k: v for k, v in self.get_params(deep=False).items() if k not in self._free_params}

    def _check_fitted(self) -> None:
        """``check_is_fitted``, and refuse a rotation fitted under other parameters: after
        ``set_params(method="pca")`` the earlier rotation was used without a word."""
        check_is_fitted(self)
        fitted = self.__dict__.get("_fit_settings")
        if isinstance(fitted, dict):  # else pickled before the settings were recorded
            refuse_changed_settings(fitted, self._fit_params(), self._free_params, sizes_canon)

    def _fit_key(
        self, blocks: Iterable[np.ndarray], shape: tuple[int, int], codes: np.ndarray | None
    ) -> str:
        """The fit's cache key: of the parameters, and of the unit rows fitted on, given as
        consecutive ``blocks`` of rows making an array of ``shape``."""
        from skmrl import __version__

        # [8, 16] after a fit with (8, 16) is the same setting, and shares its fit
        params = {k: sizes_canon(k, v) for k, v in self._fit_params().items()}
        h = hashlib.sha1()
        ids: tuple = ("MatryoshkaAdaptor", _ROTATION_REVISION, __version__, stable_repr(params))
        code = class_code_key(type(self))  # a subclass's code
        if code is not None:
            ids += (code,)
        h.update(repr(ids).encode())
        h.update(repr(shape).encode())
        # the arrays' own buffers: .tobytes() made a copy of the vectors only to hash it
        for block in blocks:
            h.update(np.ascontiguousarray(block, dtype=np.float32).data)
        if codes is not None:
            h.update(np.ascontiguousarray(codes, dtype=np.int64).data)
        return h.hexdigest()

    def fit(self, X: Any, y: Any = None) -> MatryoshkaAdaptor:
        """Learn the rotation from vectors ``X`` (and class labels ``y``, when given).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings; at least 2 rows. A column of vectors (``df["embedding"]``, a list or
            array per cell, as a ``ColumnTransformer`` hands it over) is stacked; in
            ``transform`` too. Fewer rows than ``n_features`` (``n_features + 1``
            for ``"pca"`` or with labels, which centre them) span fewer directions than the
            rotation has: those past the span are not learned, and ``fit`` warns. Rows of
            zeros have no direction: ``fit`` leaves them out (their labels too), and
            ``transform`` leaves them zero.
        y : array-like of shape (n_samples,), optional
            Class labels (binary or multiclass); ``method="adaptor"`` then finds the rotation
            that puts the classes first; ``"pca"`` and ``"prefix"`` ignore them (any ``y`` of
            one value per row is accepted, so a regression pipeline's targets too).

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def _fit(self, X: Any, y: Any = None, owner: str | None = None) -> MatryoshkaAdaptor:
        """:meth:`fit`; ``owner``: the estimator fitting this adaptor on its texts' vectors
        (``"MatryoshkaEmbedder(fine_tune='pca')"``), which the warnings name instead.

        A fit that fails (a bad ``X``, an error or a Ctrl-C in the training) leaves the
        adaptor as it was: scikit-learn's checks of ``X`` set ``n_features_in_`` and
        ``feature_names_in_`` first, and these were left describing the failed fit's ``X``
        beside the earlier fit's rotation (``transform`` then refused the vectors that
        rotation takes and failed in a matmul on the new ones), or, on an adaptor never fitted,
        beside no rotation at all (an ``AttributeError`` where ``NotFittedError`` is due).
        """
        with kept_input_attrs(self):
            return self._fit_checked(X, y, owner)

    def _fit_checked(self, X: Any, y: Any, owner: str | None) -> MatryoshkaAdaptor:
        """:meth:`_fit`, which restores the input's attributes when this fails."""
        check_dim(self.dim)
        check_memory(self.memory)
        self._validate_params()
        Z, norms = self._checked_rows(X, fit=True)
        n, D = Z.shape
        # before the training, which at D in the thousands takes minutes to hours
        check_dim(self.dim, D)
        dims = check_matryoshka_dims(self.matryoshka_dims, D)
        # "pca" and "prefix" ignore y (as scikit-learn's PCA does): in a regression pipeline
        # they get continuous targets, which are no class labels
        supervised = y is not None and self.method == "adaptor"
        if y is not None and not supervised:  # ignored, but one per row: a y of another
            check_label_count(y, n, "vectors")  # length is the caller's mistake, said there
        classes, codes = check_class_labels(y, n) if supervised else (None, None)
        nonzero = norms[:, 0] > 0  # the rows whose unit rows are not zero
        if self.method != "prefix":  # which learns nothing
            # "pca" and the rotation from labels centre the vectors; the unsupervised training
            # uses at most max_samples rows
            rows = given = int(np.count_nonzero(nonzero))
            if codes is None and self.method != "pca":
                rows = min(rows, int(self.max_samples))
            centred = codes is not None or self.method == "pca"
            capped = given if rows < given else None  # max_samples, not the data, is short
            # repeated rows span no more directions than one: counted up to D + 1 distinct
            distinct = count_distinct(Z, norms, np.flatnonzero(nonzero), limit=D + 1)
            warn_if_few_vectors(rows, D, centred, dims, capped, owner, distinct)
        if codes is None and self.method == "adaptor":
            # The training uses max_samples of the rows: only those are normalised (a unit copy
            # of all of them took 516 MB beside 293 MB of vectors); the key is hashed from the
            # unit rows a block at a time.
            kept = None if nonzero.all() else np.flatnonzero(nonzero)
            count = n if kept is None else kept.size
            key = self._fit_key(_unit_blocks(Z, norms, kept), (count, D), None)

            def training_rows() -> dict:
                rows = kept
                if count > self.max_samples:
                    rng = np.random.default_rng(self.random_state)
                    picked = np.sort(rng.choice(count, self.max_samples, replace=False))
                    rows = picked if kept is None else kept[picked]
                Zn = _unit_rows(Z, norms) if rows is None else _unit_rows(Z[rows], norms[rows])
                return self._fit_state(Zn, None, dims)

            return self._set_state(cached_fit_state(key, training_rows, memory=self.memory), key)
        Zn = _unit_rows(Z, norms)
        if not nonzero.all():
            # Rows of zeros (a text without a known word) have no direction, and transform
            # leaves them zero: fitted on, they were points at the origin, which moved the mean
            # and put the direction from it to the other rows first ("pca": 0.96 of the first
            # direction on the mean, with half as many zero rows as others), a class of them the
            # discriminants' own, and they took the trained rotation's batches and start.
            Zn = Zn[nonzero]
            codes = None if codes is None else codes[nonzero]
            if codes is not None and np.unique(codes).size < 2:  # y's single-class refusal
                only = classes[codes[0]].tolist() if codes.size else None
                raise ValueError(
                    f"y's classes other than {only!r} have only rows of zeros (vectors with no "
                    "direction, which fit leaves out): labels can only guide the rotation when "
                    "at least 2 classes have non-zero vectors; pass y=None for the "
                    "unsupervised fit"
                )
        key = self._fit_key([Zn], Zn.shape, codes)
        state = cached_fit_state(key, lambda: self._fit_state(Zn, codes, dims), memory=self.memory)
        return self._set_state(state, key, classes)

    def _set_state(
        self, state: dict, key: str, classes: np.ndarray | None = None
    ) -> MatryoshkaAdaptor:
        """Take the fitted ``state`` (of cache key ``key``) and the fit's settings."""
        for name, value in state.items():
            setattr(self, name, value)
        self.classes_ = classes
        self.fingerprint_ = key
        self._fit_settings = recorded_settings(self._fit_params(), sizes_canon)
        return self

    def _fit_state(self, Zn: np.ndarray, codes: np.ndarray | None, dims: list[int]) -> dict:
        """The fitted state from the unit rows ``Zn`` (for the unsupervised training, the
        rows it trains on: at most ``max_samples``, drawn by :meth:`_fit`)."""
        from skmrl._torch.adaptor import discriminant_basis, fit_rotation, pca_basis

        D = Zn.shape[1]
        mean = np.zeros(D)
        if self.method == "prefix":
            R = np.eye(D)
        elif self.method == "pca":
            R, mean = pca_basis(Zn, center=True)
        elif codes is not None:
            R = discriminant_basis(Zn, codes, shrinkage=float(self.shrinkage))
            # Centred at the rows' mean, as the discriminants are: uncentred, a prefix of 1 or
            # 2 dims, re-normalised, kept little more than the side of the origin each vector
            # lies on (SMS spam at 2 dims: 0.913 against 0.957 centred)
            mean = Zn.mean(axis=0, dtype=np.float64)
        else:
            from skmrl._progress import show_progress

            progress = show_progress(self.progress)
            R = fit_rotation(
                Zn,
                dims,
                n_neighbors=int(self.n_neighbors),
                neighbour_pool=int(self.neighbour_pool),
                epochs=int(self.epochs),
                learning_rate=float(self.learning_rate),
                batch_size=int(self.batch_size),
                seed=int(self.random_state),
                progress=progress,
                on_first_step=lambda steps, seconds: warn_if_slow(D, steps, seconds),
            )
        return {
            "components_": np.ascontiguousarray(R, dtype=np.float32),
            "mean_": np.asarray(mean, dtype=np.float32),
            "max_dim_": D,
            "matryoshka_dims_": dims,
        }

    # -- transforming ---------------------------------------------------------------------------
    def transform_full(self, X: Any) -> np.ndarray:
        """Rotated full-size vectors (unnormalised after rotation), ignoring ``dim``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Vectors of the ``n_features`` that ``fit`` saw, or a column of them (a vector per
            cell), as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, ``max_dim_``), float32
        """
        self._check_fitted()
        return self._rotate(X, None)

    def _rotate(self, X: Any, dim: int | None) -> np.ndarray:
        """The first ``dim`` rotated coordinates (all for ``None``), unnormalised: only the
        ``dim`` columns are computed (for 3,072-dim vectors at ``dim=8``, 20x faster). A zero
        row (an embedder's vector of a text without a known word) stays zero: centred, it became
        ``-mean_`` rotated, one unit vector shared by every such row after normalising."""
        from skmrl._torch.adaptor import rotate

        return rotate(self._check_vectors(X, fit=False), self.mean_, self.components_[:, :dim])

    def transform(self, X: Any) -> np.ndarray:
        """Rotate, keep the first ``dim`` coordinates, and L2-normalise them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Vectors of the ``n_features`` that ``fit`` saw, or a column of them (a vector per
            cell), as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, dim), float32
        """
        self._check_fitted()
        dim = check_dim(self.dim, self.max_dim_)
        return prefix_normalize(self._rotate(X, dim), None, self.normalize)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: ``matryoshkaadaptor0``, ``matryoshkaadaptor1``, ...

        Parameters
        ----------
        input_features : ignored
            Present for API consistency.

        Returns
        -------
        ndarray of str objects, shape (dim,)
        """
        self._check_fitted()  # as transform: no names for a rotation fit under other settings
        return dim_feature_names(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
