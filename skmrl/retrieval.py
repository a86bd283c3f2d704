"""MatryoshkaSearch: nearest-neighbour search that shortlists on a short prefix, then reranks.

The second half of the Matryoshka idea (Kusupati et al., 2022, "adaptive retrieval"): every
document is scored on the first ``shortlist_dim`` dimensions only (optionally quantized to int8
or to sign bits), and only the ``shortlist_size`` best are scored again at full size. The
kernels are in ``skmrl/_search.py`` (NumPy, the CPU) and ``skmrl/_torch/search.py`` (a GPU).
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from skmrl import _search
from skmrl._progress import check_progress
from skmrl._settings import changed_settings, recorded_settings
from skmrl._validation import (
    check_dim,
    check_documents,
    check_int,
    check_text_embedder,
    holds_text,
)
from skmrl._vector_checks import (
    INPUT_ATTRS,
    check_not_written_vectors,
    check_vector_rows,
    kept_input_attrs,
    stack_vector_column,
)
from skmrl.base import BaseEmbedder, prefix_normalize

__all__ = ["MatryoshkaSearch"]

_QUANTIZE = (None, "int8", "binary")
#: Arrays a saved index holds (``save``/``load``); the rest of the state is in JSON.
_ARRAYS = ("vectors_", "shortlist_", "int8_offset_", "int8_scale_")


class MatryoshkaSearch(BaseEstimator):
    """Cosine nearest neighbours: a shortlist on a short prefix, reranked at full size.

    ``fit`` embeds the corpus once (or takes its vectors) and keeps two views of it: the
    rerank vectors (the first ``rerank_dim`` dimensions, or all) and the shortlist (the first
    ``shortlist_dim``, as float32, int8 codes or packed sign bits). ``kneighbors`` scores every
    document on the shortlist, keeps the ``shortlist_size`` best of each query, and orders them
    by their cosine similarity at the rerank size. With ``shortlist_dim=None`` it is exact
    search at the rerank size.

    Parameters
    ----------
    embedder : skmrl embedder, optional
        Fitted on the corpus (a clone), then used for the corpus and the queries at full size;
        its ``dim`` is ignored. ``None``: ``fit`` and ``kneighbors`` take vectors.
    shortlist_dim : int or None, default=64
        Dimensions the shortlist is scored on (a prefix, re-normalised). ``None``: exact search.
    shortlist_size : int, default=200
        Documents kept per query for the rerank; must be ``>= n_neighbors``. A value at or
        above the corpus size reranks every document: the result is then exact search's, up to
        float rounding (documents whose cosines differ by a float32 rounding may swap).
    rerank_dim : int or None, default=None
        Dimensions of the rerank (and of exact search); ``None``: full size.
    quantize : {None, "int8", "binary"}, default=None
        How the shortlist is stored. ``"int8"``: each dimension mapped linearly from its range
        over the corpus onto 256 codes (4x smaller than float32); on the CPU the query is
        quantized too (per row) and scored by int8 matrix products, about 5x faster than
        float32 ones on a CPU with VNNI (without it, where ``torch._int_mm`` is slower, the
        same integer products are computed in float: the same results; where torch lacks
        ``torch._int_mm``, and on a GPU, the float query is scored against the dequantized
        documents). ``"binary"``: the sign bits, 8 per byte, in whole
        64-bit words per row (32x smaller than float32 at a multiple of 64 dims; 16 dims take
        8 bytes, 8x smaller), compared by Hamming distance with the query's sign bits.
    device : str, default="auto"
        Where the shortlist is scored: ``"cpu"`` (NumPy; an int8 shortlist with torch's
        ``torch._int_mm`` where it has it), ``"cuda"``, ``"cuda:N"``, ``"mps"`` (torch);
        ``"auto"``: the first GPU, else the CPU.
    batch_size : int, default=256
        Queries scored together (memory: ``batch_size x 16,384`` float32 scores on the CPU;
        small blocks stay in the processor's cache: 256 was the fastest of 128 to 1,024).
    n_jobs : int, optional
        Threads over query batches on the CPU (``-1``: one per core), each with one BLAS and one
        torch thread; ``None``: one thread, whose products use the libraries' own threads. The
        selection of the top documents is single-threaded NumPy, so threads over batches are
        faster on several cores.
    progress : bool, optional
        A ``tqdm.auto`` bar over query batches; ``None``: when stderr is a terminal (or in a
        notebook) and there is more than one batch, except in a worker process.

    Attributes
    ----------
    embedder_ : estimator or None
        The fitted clone of ``embedder``.
    n_samples_fit_ : int
        Documents in the index.
    max_dim_ : int
        Full size of the corpus vectors.
    n_features_in_ : int
        ``max_dim_``, when the index was built from vectors (``embedder=None``).
    feature_names_in_ : ndarray of str objects, of shape (``max_dim_``,)
        The column names of the corpus vectors, when given as a frame whose column names are
        all strings; queries given as a frame must have the same, in the same order.
    shortlist_dim_ : int or None
        Dimensions of the shortlist the index holds (``shortlist_dim`` at ``fit``).
    rerank_dim_ : int
        Dimensions of ``vectors_`` (``rerank_dim`` at ``fit``; ``max_dim_`` for ``None``).
    quantize_ : {None, "int8", "binary"}
        How the shortlist is stored (``quantize`` at ``fit``).
    vectors_ : ndarray of shape (``n_samples_fit_``, ``rerank_dim_``), float32
        Rerank vectors, L2-normalised.
    shortlist_ : ndarray or None
        The shortlist: float32 ``(n, shortlist_dim_)``, int8 ``(n, shortlist_dim_)`` or uint64
        ``(n, ceil(shortlist_dim_ / 64))``; ``None`` for exact search.
    int8_offset_, int8_scale_ : ndarray of shape (``shortlist_dim_``,) or None
        The int8 ranges (``quantize="int8"``).

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : Exact search; ``metric="cosine"`` gives the distances
        that ``kneighbors`` returns here.

    Notes
    -----
    ``shortlist_dim``, ``rerank_dim`` and ``quantize`` shape the index that ``fit`` builds.
    Changed with ``set_params`` after ``fit``, they are honoured where the index can serve
    them exactly: a smaller ``rerank_dim``, a smaller ``shortlist_dim`` of a float32 or
    binary shortlist (nested prefixes: a refit's neighbours, up to float rounding; a
    re-normalised copy of the prefix is made on the first search and kept), and
    ``shortlist_dim=None`` with ``quantize=None`` (exact search, whatever shortlist the index
    holds). Any other change (a larger size, another ``quantize`` for the shortlist, a shorter
    int8 shortlist, adding or removing the embedder, another embedder, or a parameter of the
    embedder that its vectors depend on, such as ``embedder__max_length``) makes
    ``kneighbors`` raise a ``ValueError`` that asks for ``fit``: the index holds the vectors of
    the embedder at ``fit``. The embedder's ``dim`` and ``normalize`` (which the index ignores)
    and its runtime parameters (``batch_size``, ``progress``, ``memory``, ...) may change; the
    runtime ones apply to the queries. ``shortlist_size``, ``device``, ``batch_size``,
    ``n_jobs`` and ``progress`` are read at each search.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl.retrieval import MatryoshkaSearch
    >>> rng = np.random.default_rng(0)
    >>> docs = rng.standard_normal((1000, 32)).astype(np.float32)
    >>> search = MatryoshkaSearch(shortlist_dim=8, shortlist_size=100).fit(docs)
    >>> dist, idx = search.kneighbors(docs[:3], n_neighbors=2)
    >>> idx[:, 0].tolist()  # each document is its own nearest neighbour
    [0, 1, 2]
    >>> bool(np.allclose(dist[:, 0], 0, atol=1e-6))
    True
    """

    def __init__(
        self,
        embedder: Any = None,
        shortlist_dim: int | None = 64,
        shortlist_size: int = 200,
        rerank_dim: int | None = None,
        quantize: str | None = None,
        device: str = "auto",
        batch_size: int = 256,
        n_jobs: int | None = None,
        progress: bool | None = None,
    ) -> None:
        self.embedder = embedder
        self.shortlist_dim = shortlist_dim
        self.shortlist_size = shortlist_size
        self.rerank_dim = rerank_dim
        self.quantize = quantize
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.progress = progress

    # -- fitting --------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.embedder is not None:
            check_text_embedder(
                self.embedder,
                "pass its transform_full output with embedder=None",
                "for vectors from elsewhere, pass them with embedder=None",
            )
        check_dim(self.shortlist_dim, name="shortlist_dim")
        check_dim(self.rerank_dim, name="rerank_dim")
        check_int("shortlist_size", self.shortlist_size, 1)
        check_int("batch_size", self.batch_size, 1)
        n_jobs = self.n_jobs
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0
        ):
            raise ValueError(
                f"n_jobs must be None or a non-zero int (-1: a thread per core), got {n_jobs!r}"
            )
        check_progress(self.progress)
        if self.quantize not in _QUANTIZE:
            raise ValueError(f"quantize must be None, 'int8' or 'binary', got {self.quantize!r}")
        if self.quantize is not None and self.shortlist_dim is None:
            raise ValueError(
                f"quantize={self.quantize!r} applies to the shortlist, but shortlist_dim=None "
                "is exact search with no shortlist; set shortlist_dim (e.g. 64)"
            )
        from skmrl._torch.device import check_device_spec

        check_device_spec(self.device)

    def _texts(self, X: Any, what: str, fit: bool = False) -> list[str]:
        docs = check_documents(X, fit=fit, name=what)
        if not docs:
            raise ValueError(f"{what} is empty: expected at least one text")
        return docs

    def _vectors(self, X: Any, what: str, embedder: Any = None, *, fit: bool) -> np.ndarray:
        """Full-size float32 vectors of ``X``: texts embedded by the fitted ``embedder``, or
        vectors (``embedder=None``), checked as scikit-learn checks them: at ``fit``, their
        width and column names are recorded (``n_features_in_``, ``feature_names_in_``); the
        queries' must match them."""
        if embedder is not None:
            return embedder.embed_full(self._texts(X, what))
        from sklearn.utils.validation import check_array

        if isinstance(X, Iterator):  # a generator: a list, to look at its first element
            X = list(X)
        import scipy.sparse as sp

        if sp.issparse(X):  # a DOK matrix (a dict too) was told to stack its nonzero values
            raise TypeError(
                f"{what} is a sparse {type(X).__name__}: the index holds dense vectors; pass "
                f"{what}.toarray()"
            )
        check_not_written_vectors(X, what)  # a CSV file's column of lists
        if holds_text(X):
            raise TypeError(
                f"{what} holds texts, but embedder=None takes vectors; pass an embedder "
                "(e.g. MatryoshkaSearch(embedder=MatryoshkaEmbedder())) to search texts"
            )
        X = stack_vector_column(X, name=what)  # df["embedding"]: a cell per row
        if hasattr(X, "__len__") and len(X) == 0 and np.ndim(X) < 2:  # [] was told to reshape
            raise ValueError(f"{what} is empty: expected at least one vector")
        # a polars LazyFrame, ragged rows: one line, as MatryoshkaAdaptor says it (numpy's
        # "setting an array element with a sequence" came from check_array)
        X = check_vector_rows(X, f"{what} must be")
        try:
            # float64 kept for prefix_normalize: a cast first zeroed rows of 1e-200
            V = check_array(
                X, dtype=(np.float32, np.float64), ensure_min_samples=1, input_name=what
            )
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        if not fit and V.shape[1] != self.max_dim_:
            raise ValueError(
                f"queries have {V.shape[1]} dimensions, but the index was built from "
                f"{self.max_dim_}-dimensional vectors"
            )
        # NearestNeighbors' checks of the column names: a frame of queries whose columns were
        # in another order than the corpus's was searched by position, for wrong neighbours.
        # Not for an index pickled or saved before they were recorded (no n_features_in_): it
        # would warn that it was fitted without names, which it may not have been.
        if fit or "n_features_in_" in self.__dict__:
            validate_data(self, X, reset=fit, skip_check_array=True)
        return V

    def fit(self, X: Any, y: Any = None) -> MatryoshkaSearch:
        """Index a corpus.

        Parameters
        ----------
        X : iterable of str, or array of shape (n_docs, n_features)
            Documents (with an ``embedder``) or their vectors (``embedder=None``): a 2-D array,
            or one column whose cells each hold a vector (``df["embedding"]``).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        with kept_input_attrs(self):  # vectors' checks set them first
            return self._fit(X)

    def _fit(self, X: Any) -> MatryoshkaSearch:
        """:meth:`fit`, which puts back the input's attributes when it fails."""
        self._validate_params()
        # Everything is computed before any attribute is set: a fit that failed half-way (a
        # Ctrl-C while embedding the new corpus) left the new corpus's embedder beside the
        # earlier corpus's vectors, and queries embedded by the one were searched in the other,
        # silently (with TfidfBaseline, other neighbours than either index gave).
        if self.embedder is not None:
            docs = self._texts(X, "X", fit=True)
            embedder = clone(self.embedder)
            if "dim" in embedder.get_params(deep=False):
                # ignored, as documented: the index holds full-size vectors; a dim above a
                # small corpus's rank (TfidfBaseline(dim=8) on 6 texts) failed the fit
                embedder.set_params(dim=None)
            embedder = embedder.fit(docs)
            # The full size is known once fitted: refuse dims beyond it before embedding the
            # whole corpus (minutes with an encoder), not after.
            fitted_max = getattr(embedder, "max_dim_", None)
            if isinstance(fitted_max, numbers.Integral):
                check_dim(self.shortlist_dim, int(fitted_max), name="shortlist_dim")
                check_dim(self.rerank_dim, int(fitted_max), name="rerank_dim")
            full = embedder.embed_full(docs)
        else:
            embedder = None
            full = self._vectors(X, "X", fit=True)
        n, max_dim = full.shape
        shortlist_dim = check_dim(self.shortlist_dim, max_dim, name="shortlist_dim")
        rerank_dim = check_dim(self.rerank_dim, max_dim, name="rerank_dim")
        vectors = prefix_normalize(full, rerank_dim)
        short = int8_offset = int8_scale = None
        if shortlist_dim is not None:
            short = prefix_normalize(full, shortlist_dim)
            if self.quantize == "int8":
                int8_offset, int8_scale = _search.fit_int8_ranges(short)
                short = _search.quantize_int8(short, int8_offset, int8_scale)
            elif self.quantize == "binary":
                short = _search.binarize(short)
        if embedder is not None:  # texts: no columns (an earlier fit on vectors set them)
            for name in INPUT_ATTRS:
                self.__dict__.pop(name, None)
        self.embedder_ = embedder
        self._fit_embedder = _embedder_record(self.embedder)
        self.n_samples_fit_ = n
        self.max_dim_ = max_dim
        self.shortlist_dim_ = shortlist_dim
        self.rerank_dim_ = max_dim if rerank_dim is None else rerank_dim
        self.quantize_ = self.quantize
        self.vectors_ = vectors
        self.shortlist_, self.int8_offset_, self.int8_scale_ = short, int8_offset, int8_scale
        self._reset_caches()
        return self

    def _reset_caches(self) -> None:
        # (data, (kind, device), arrays on the device)
        self._device_store: tuple[np.ndarray, tuple[str, str], dict[str, Any]] | None = None
        self._prefixes: dict[str, tuple[int, np.ndarray]] = {}  # name -> (dim, array)

    # -- searching ------------------------------------------------------------------------------
    @property
    def shortlist_bytes_(self) -> int:
        """Bytes the shortlist takes (0 for exact search)."""
        check_is_fitted(self)
        return 0 if self.shortlist_ is None else int(self.shortlist_.nbytes)

    def _kind(self) -> str:
        return {None: "float", "int8": "int8", "binary": "binary"}[self.quantize_]

    def _index(self) -> tuple[int | None, np.ndarray | None, int, np.ndarray]:
        """``(shortlist_dim, shortlist, rerank_dim, vectors)`` that the current parameters ask
        for: the fitted arrays, or nested prefixes of them.

        ``shortlist_dim``, ``rerank_dim`` and ``quantize`` may have been changed by
        ``set_params`` since ``fit``. What the index holds can serve a smaller ``rerank_dim``, a
        smaller ``shortlist_dim`` of a float32 or binary shortlist (a prefix, re-normalised, or
        the first sign bits; made on the first search and kept), and ``shortlist_dim=None``
        (exact search); any other change is an error that asks for a refit, never a search of
        queries against documents of another shape.
        """
        self._validate_params()
        self._check_embedder()
        refit = "; call fit again to rebuild the index"
        # Exact search (shortlist_dim=None, which goes with quantize=None) reads only the rerank
        # vectors: any shortlist the index holds, quantized or not, can be set aside.
        if self.quantize != self.quantize_ and self.shortlist_dim is not None:
            raise ValueError(
                f"quantize={self.quantize!r}, but the index's shortlist was built with "
                f"quantize={self.quantize_!r}{refit}"
            )
        short_dim = check_dim(self.shortlist_dim, self.max_dim_, name="shortlist_dim")
        rerank_dim = check_dim(self.rerank_dim, self.max_dim_, name="rerank_dim")
        rerank_dim = self.max_dim_ if rerank_dim is None else rerank_dim
        if rerank_dim > self.rerank_dim_:
            raise ValueError(
                f"rerank_dim={self.rerank_dim} is more than the {self.rerank_dim_} dimensions "
                f"the index keeps for the rerank (rerank_dim_){refit}"
            )
        vectors = self._prefix("vectors", self.vectors_, self.rerank_dim_, rerank_dim)
        if short_dim is None:
            return None, None, rerank_dim, vectors
        if self.shortlist_dim_ is None:
            raise ValueError(
                f"shortlist_dim={short_dim}, but the index was built for exact search "
                f"(shortlist_dim=None) and holds no shortlist{refit}"
            )
        if short_dim > self.shortlist_dim_:
            raise ValueError(
                f"shortlist_dim={short_dim} is more than the {self.shortlist_dim_} dimensions "
                f"of the index's shortlist (shortlist_dim_){refit}"
            )
        if short_dim < self.shortlist_dim_ and self.quantize_ == "int8":
            raise ValueError(
                f"shortlist_dim={short_dim}: an int8 shortlist is scored only at the size it was "
                f"built at, {self.shortlist_dim_} (its codes are of vectors normalised at that "
                f"size){refit}"
            )
        shortlist = self._prefix("shortlist", self.shortlist_, self.shortlist_dim_, short_dim)
        return short_dim, shortlist, rerank_dim, vectors

    def _check_embedder(self) -> None:
        """Refuse an ``embedder`` other than the one the index was built with: set to or from
        None, another class, or a parameter changed that its vectors depend on (the queries
        would be embedded by the fitted one, unlike the embedder the parameters name). Its
        runtime parameters may change, and are passed on to the fitted embedder."""
        refit = "; call fit again to rebuild the index"
        if (self.embedder is None) != (self.embedder_ is None):
            now = "None" if self.embedder is None else "an embedder"
            raise ValueError(f"embedder was set to {now} after fit{refit}")
        fitted = self.__dict__.get("_fit_embedder")
        if self.embedder is None or fitted is None:  # fitted before it was recorded
            return
        kind, settings = fitted
        if type(self.embedder) is not kind:
            raise ValueError(
                f"embedder was set to a {type(self.embedder).__name__} after fit, but the index "
                f"holds a {kind.__name__}'s vectors{refit}"
            )
        names = changed_settings(settings, _vector_params(self.embedder))
        if names:
            free = BaseEmbedder._slice_params | _runtime_params(self.embedder)
            may = ", ".join(sorted(free & set(self.embedder.get_params(deep=False))))
            raise ValueError(
                f"the embedder changed since fit: {names}; the index holds the vectors of the "
                f"embedder at fit (only its {may} may change){refit}"
            )
        runtime_names = _runtime_params(self.embedder)
        runtime = {
            k: v for k, v in self.embedder.get_params(deep=False).items() if k in runtime_names
        }
        if any(getattr(self.embedder_, k, v) is not v for k, v in runtime.items()):
            self.embedder_.set_params(**runtime)

    def _prefix(self, name: str, stored: np.ndarray, stored_dim: int, dim: int) -> np.ndarray:
        """``stored`` (``stored_dim`` dimensions) cut to its first ``dim``: re-normalised float32
        vectors, or the first sign bits of a binary shortlist; the last one made is kept."""
        if dim == stored_dim:
            return stored
        prefixes = self.__dict__.setdefault("_prefixes", {})
        if name not in prefixes or prefixes[name][0] != dim:
            if name == "shortlist" and self.quantize_ == "binary":
                prefixes[name] = (dim, _search.binary_prefix(stored, dim))
            else:
                prefixes[name] = (dim, prefix_normalize(stored, dim))
        return prefixes[name][1]

    def _topk(self, kind: str, data: np.ndarray, queries: np.ndarray, k: int, device: str):
        """The ``k`` best documents of each query on one view of the corpus."""
        if device == "cpu":
            if kind == "float":
                return _search.chunked_topk(
                    lambda a, b: queries @ data[a:b].T, len(queries), len(data), k
                )
            if kind == "int8":
                from skmrl._torch.search import int8_scorer

                score, to_float = int8_scorer(queries, data, self.int8_offset_, self.int8_scale_)
                scores, idx = _search.chunked_topk(score, len(queries), len(data), k)
                return to_float(scores), idx
            return _search.chunked_topk(
                lambda a, b: _search.hamming_scores(queries, data[a:b]), len(queries), len(data), k
            )
        from skmrl._torch.search import device_topk, to_device

        cache = self.__dict__.get("_device_store")
        # The cache holds ``data`` itself: an id() could be reused by a later prefix array.
        if cache is None or cache[0] is not data or cache[1] != (kind, device):
            arrays = {"data": data}
            if kind == "int8":
                arrays |= {"offset": self.int8_offset_, "scale": self.int8_scale_}
            cache = self._device_store = (data, (kind, device), to_device(kind, arrays, device))
        return device_topk(kind, cache[2], queries, k)

    # Overloads: `distances, indices = kneighbors(X)` is a pair of arrays to a type checker,
    # and `kneighbors(X, return_distance=False)` an array (the union hid `.shape`).
    @overload
    def kneighbors(
        self, X: Any, n_neighbors: int = 10, return_distance: Literal[True] = True
    ) -> tuple[np.ndarray, np.ndarray]: ...
    @overload
    def kneighbors(
        self, X: Any, n_neighbors: int = 10, *, return_distance: Literal[False]
    ) -> np.ndarray: ...
    @overload
    def kneighbors(
        self, X: Any, n_neighbors: int, return_distance: Literal[False]
    ) -> np.ndarray: ...
    @overload
    def kneighbors(
        self, X: Any, n_neighbors: int = 10, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray: ...
    def kneighbors(
        self, X: Any, n_neighbors: int = 10, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """The nearest documents of each query, by cosine at the rerank size.

        Parameters
        ----------
        X : iterable of str, or array of shape (n_queries, ``max_dim_``)
            Queries (texts with an ``embedder``, else full-size vectors, as for ``fit``).
        n_neighbors : int, default=10
            Neighbours per query, at most the corpus size and ``shortlist_size``.
        return_distance : bool, default=True
            Also return the distances.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), float32
            Cosine distances ``1 - cos`` at the rerank size, clipped to ``[0, 2]`` (float
            rounding puts the cosine of a vector with itself a little above 1) as scikit-learn's
            are, ascending (returned only when ``return_distance=True``).
        indices : ndarray of shape (n_queries, n_neighbors), int64
            Row numbers of the documents in the corpus given to ``fit``.
        """
        check_is_fitted(self, "vectors_")
        if X is None:  # NearestNeighbors' "each indexed point's own neighbours"
            raise TypeError(
                "X=None is not supported: pass the queries (for the documents' own neighbours, "
                "the corpus again, and drop each row's own index from its neighbours)"
            )
        k = check_int("n_neighbors", n_neighbors, 1)
        n_docs = self.n_samples_fit_
        if k > n_docs:
            raise ValueError(f"n_neighbors={k} is more than the {n_docs} documents in the index")
        short_dim, shortlist, rerank_dim, vectors = self._index()
        if short_dim is not None and self.shortlist_size < k:
            raise ValueError(
                f"shortlist_size={self.shortlist_size} is below n_neighbors={k}: the rerank "
                "can only return documents of the shortlist; raise shortlist_size"
            )
        from skmrl._torch.device import check_device_spec, resolve_device

        # the search's own "auto" (a GPU, else the CPU: never MPS), whatever its case or spaces;
        # resolved before the queries are embedded, so a missing GPU is said before that work
        auto = isinstance(self.device, str) and check_device_spec(self.device) == "auto"
        device = _auto_device() if auto else resolve_device(self.device)
        Q = self._vectors(X, "queries", self.embedder_, fit=False)
        q_rerank = prefix_normalize(Q, rerank_dim)
        if short_dim is not None:
            q_short = prefix_normalize(Q, short_dim)
            if self.quantize_ == "binary":
                q_short = _search.binarize(q_short)
        size = min(self.shortlist_size, n_docs)

        def batch(start: int) -> tuple[np.ndarray, np.ndarray]:
            stop = start + self.batch_size
            if short_dim is None:
                return self._topk("float", vectors, q_rerank[start:stop], k, device)
            _, cand = self._topk(self._kind(), shortlist, q_short[start:stop], size, device)
            return _rerank(q_rerank[start:stop], vectors, cand, k)

        sims = np.empty((len(Q), k), dtype=np.float32)
        idx = np.empty((len(Q), k), dtype=np.int64)
        starts = range(0, len(Q), self.batch_size)
        for start, (s, i) in zip(
            starts,
            _progress(_map_batches(batch, starts, self.n_jobs, device), self.progress, len(starts)),
            strict=True,
        ):
            sims[start : start + self.batch_size], idx[start : start + self.batch_size] = s, i
        if not return_distance:
            return idx
        return np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32), idx

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = self.embedder is not None  # texts, embedded by the embedder
        return tags

    # -- persistence ----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_device_store", None)  # device tensors: rebuilt on the next search
        state.pop("_prefixes", None)  # prefix copies: remade on the next search
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "vectors_" in state and "shortlist_dim_" not in state:  # pickled before these existed
            self._set_fitted_from_params()
        self._reset_caches()

    def _set_fitted_from_params(self) -> None:
        """The fitted sizes of an index saved before they were recorded: its parameters then
        (the old ``kneighbors`` read them, so they matched the arrays when it worked)."""
        self.shortlist_dim_ = None if self.shortlist_dim is None else int(self.shortlist_dim)
        self.rerank_dim_ = self.max_dim_ if self.rerank_dim is None else int(self.rerank_dim)
        self.quantize_ = self.quantize

    def save(self, path: str | Path) -> None:
        """Write the fitted index to a folder: arrays (``index.npz``), parameters (JSON), and
        the fitted embedder (``embedder.joblib``) when there is one.

        Every file is written under a temporary name first and renamed into place once all are
        written, ``search.json`` (what :meth:`load` looks for) last: a save that fails leaves
        the folder as it was (and removes it, and the parents made for it, if it created them).
        The files of one save share an id that :meth:`load` checks, so two saves into one folder
        at once cannot leave one's parameters read over the other's arrays.

        Parameters
        ----------
        path : str or Path
            The folder (created).
        """
        import joblib

        from skmrl import __version__

        check_is_fitted(self, "vectors_")
        self._check_embedder()  # the embedder saved is the one the index was built with
        params = {
            name: _json_value(name, value)
            for name, value in self.get_params(deep=False).items()
            if name != "embedder"
        }
        import uuid

        save_id = uuid.uuid4().hex
        meta = {
            "skmrl_version": __version__,
            "save_id": save_id,
            "params": params,
            "n_samples_fit_": int(self.n_samples_fit_),
            "max_dim_": int(self.max_dim_),
            "shortlist_dim_": self.shortlist_dim_,
            "rerank_dim_": int(self.rerank_dim_),
            "quantize_": self.quantize_,
            "has_embedder": self.embedder_ is not None,
        }
        if hasattr(self, "n_features_in_"):  # vectors' checks (not an index of texts)
            meta["n_features_in_"] = int(self.n_features_in_)
        if hasattr(self, "feature_names_in_"):  # the corpus's column names, which queries keep
            meta["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        meta_text = json.dumps(meta, indent=2)  # fails here, before anything is written
        arrays = {name: getattr(self, name) for name in _ARRAYS if getattr(self, name) is not None}
        arrays["save_id"] = np.array(save_id)

        def write_arrays(file: Path) -> None:
            with open(file, "wb") as f:  # a file object: np.savez would add ".npz" to a name
                np.savez(f, **arrays)

        writers: dict[str, Any] = {"index.npz": write_arrays}
        if self.embedder_ is not None:
            writers["embedder.joblib"] = lambda file: joblib.dump(
                (self.embedder, self.embedder_, save_id), file
            )
        writers["search.json"] = lambda file: file.write_text(meta_text, encoding="utf-8")

        from skmrl._folders import folder_to_write, make_folder, remove_made_folders

        folder = folder_to_write(path)  # as the system resolves it
        made = make_folder(folder)
        # names of this save's own: two saves at once wrote, and renamed, each other's files
        partial = {name: folder / f".{name}.{save_id}.partial" for name in writers}
        try:
            for name, write in writers.items():
                write(partial[name])
        except BaseException:
            for file in partial.values():
                file.unlink(missing_ok=True)
            remove_made_folders(made)  # the folder and the parents made for it
            raise
        # An older save's search.json goes first: until the new one is in place, the folder
        # reads as no saved index rather than as old parameters over new arrays.
        (folder / "search.json").unlink(missing_ok=True)
        for name in writers:  # search.json is the last
            os.replace(partial[name], folder / name)

    @classmethod
    def load(cls, path: str | Path) -> MatryoshkaSearch:
        """Read an index written by :meth:`save`.

        ``embedder.joblib`` is a pickle: load folders you trust only.

        Parameters
        ----------
        path : str or Path
            The folder that :meth:`save` wrote (``~`` is expanded).

        Returns
        -------
        MatryoshkaSearch
            Fitted, searching as the saved one did.
        """
        folder = Path(path).expanduser()
        meta_path = folder / "search.json"
        if not meta_path.is_file():
            raise FileNotFoundError(
                f"{folder} is not a saved MatryoshkaSearch (no search.json in it)"
            )
        meta = _read_saved(meta_path, lambda file: json.loads(file.read_text(encoding="utf-8")))
        save_id = meta.get("save_id")  # None in a folder saved before the id was written
        embedder = embedder_ = None
        if meta["has_embedder"]:
            import joblib

            saved = _read_saved(folder / "embedder.joblib", joblib.load)
            embedder, embedder_ = saved[:2]
            _check_same_save(
                folder / "embedder.joblib", save_id, saved[2] if len(saved) > 2 else None
            )
        search = cls(embedder=embedder, **meta["params"])
        search.embedder_ = embedder_
        search._fit_embedder = _embedder_record(embedder)  # save checked it against embedder_
        search.n_samples_fit_ = int(meta["n_samples_fit_"])
        search.max_dim_ = int(meta["max_dim_"])
        if "shortlist_dim_" in meta:
            search.shortlist_dim_ = meta["shortlist_dim_"]
            search.rerank_dim_ = int(meta["rerank_dim_"])
            search.quantize_ = meta["quantize_"]
        else:  # saved before the fitted sizes were recorded
            search._set_fitted_from_params()
        if "n_features_in_" in meta:  # not in a folder saved before they were recorded
            search.n_features_in_ = int(meta["n_features_in_"])
        if "feature_names_in_" in meta:
            search.feature_names_in_ = np.asarray(meta["feature_names_in_"], dtype=object)

        def read_arrays(file: Path) -> dict[str, np.ndarray]:
            # A file object, closed here: np.load of a path leaves the file it opened open when
            # the archive is damaged (NumPy's NpzFile raises before it owns it).
            with open(file, "rb") as f, np.load(f, allow_pickle=False) as arrays:
                return {name: arrays[name] for name in (*_ARRAYS, "save_id") if name in arrays}

        arrays = _read_saved(folder / "index.npz", read_arrays)
        found = str(arrays.pop("save_id")) if "save_id" in arrays else None
        _check_same_save(folder / "index.npz", save_id, found)
        for name in _ARRAYS:
            setattr(search, name, arrays.get(name))
        search._reset_caches()
        return search


def _check_same_save(file: Path, save_id: str | None, found: str | None) -> None:
    """Refuse ``file`` when it holds the id of another save than ``search.json``'s (``found``:
    the id it holds, None for a file saved before ids were written)."""
    if save_id is not None and found != save_id:
        raise ValueError(
            f"{file} was written by another save than the search.json beside it (two saves into "
            f"{file.parent} at once, or files copied from two saves): save the index again"
        )


def _read_saved(file: Path, read: Any) -> Any:
    """``read(file)`` for :meth:`MatryoshkaSearch.load`; a file that is there but cannot be read
    (truncated by a save that was interrupted or a copy cut short, or damaged) is one error
    naming it, not the reader's own (a bare ``EOFError`` from a pickle, or ``BadZipFile``)."""
    try:
        return read(file)
    except (OSError, ImportError, AttributeError):
        raise  # a missing file (named already), a pickle of classes this install lacks
    except Exception as exc:
        raise ValueError(
            f"{file} cannot be read ({type(exc).__name__}"
            f"{': ' + str(exc).splitlines()[0][:200] if str(exc).strip() else ''}): a truncated "
            "or damaged file reads so (a save that was interrupted, or a copy cut short); save "
            "the index again"
        ) from exc


def _runtime_params(embedder: Any) -> frozenset[str]:
    """The parameters of ``embedder`` that change how its work runs, never its vectors."""
    return getattr(type(embedder), "_runtime_params", BaseEmbedder._runtime_params)


def _vector_params(embedder: Any) -> dict[str, Any]:
    """The parameters of ``embedder`` that its full-size vectors may depend on: all but ``dim``
    and ``normalize`` (which ``embed_full`` ignores) and the runtime ones."""
    ignored = BaseEmbedder._slice_params | _runtime_params(embedder)
    return {k: v for k, v in embedder.get_params(deep=False).items() if k not in ignored}


def _embedder_record(embedder: Any) -> tuple[type, dict[str, tuple[Any, str]]] | None:
    """What :meth:`MatryoshkaSearch._check_embedder` compares ``embedder`` with after fit: its
    class and its vectors' parameters (None without an embedder)."""
    if embedder is None:
        return None
    return type(embedder), recorded_settings(_vector_params(embedder))


def _json_value(name: str, value: Any) -> Any:
    """A parameter as a JSON value: NumPy scalars (``np.int64(8)`` from a sweep) become Python's."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # np.str_ too
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"save() writes the parameters as JSON, but {name}={value!r} is a "
        f"{type(value).__name__}; set it to None, a bool, an int, a float or a str"
    )


def _auto_device() -> str:
    from skmrl._torch.device import available_devices

    gpus = [d for d in available_devices() if d.startswith("cuda")]
    return gpus[0] if gpus else "cpu"


def _rerank(
    queries: np.ndarray, vectors: np.ndarray, candidates: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Order each query's candidates by cosine at the rerank size; keep the best ``k``.

    The candidates' vectors are gathered 8 queries at a time into one reused buffer: the
    gather is random access into the corpus, and a fresh block per step spent more time in
    page faults than in reading (1,000 queries x 1,000 candidates: 0.76 s against 1.8 s with
    128-query blocks, on one core).
    """
    n_q, size = candidates.shape
    step = 8
    buffer = np.empty((step * size, vectors.shape[1]), dtype=np.float32)
    sims = np.empty(candidates.shape, dtype=np.float32)
    for a in range(0, n_q, step):
        block = candidates[a : a + step]
        rows = buffer[: block.size]
        np.take(vectors, block.reshape(-1), axis=0, out=rows)
        # einsum sums each candidate's products in the same order wherever its row lies:
        # identical documents get identical scores (BLAS's batched products round the rows
        # at the end of a block, and rows by their alignment, differently).
        np.einsum(
            "qcd,qd->qc",
            rows.reshape(len(block), size, -1),
            queries[a : a + step],
            out=sims[a : a + step],
        )
    # Best first, equal scores by document index: the order exact search gives.
    order = np.lexsort((candidates, -sims), axis=1)[:, :k]
    return np.take_along_axis(sims, order, 1), np.take_along_axis(candidates, order, 1)


def _progress(results: Any, progress: bool | None, n_batches: int) -> Any:
    from skmrl._progress import show_progress

    # None: a bar only over several batches, when someone watches (progress is read at each
    # search, so show_progress checks it here too)
    if not show_progress(progress) or (progress is None and n_batches <= 1):
        return results
    from tqdm.auto import tqdm

    return tqdm(results, total=n_batches, desc="searching", unit="batch", leave=False)


def _map_batches(batch: Any, starts: range, n_jobs: int | None, device: str) -> Any:
    """``batch(start)`` for every start, in order: in this thread, or on ``n_jobs`` threads.

    With several threads (CPU only), each runs whole query batches with one BLAS and one torch
    thread: the top-k selection in NumPy is single-threaded, so threads over batches use the
    cores where threads inside each product left them idle during the selection.
    """
    from joblib import effective_n_jobs

    workers = min(effective_n_jobs(n_jobs), len(starts))
    if workers <= 1 or device != "cpu":
        yield from map(batch, starts)
        return
    from concurrent.futures import ThreadPoolExecutor

    from skmrl._threads import one_blas_openmp_thread
    from skmrl._torch.device import one_torch_thread

    # BLAS's count is the process's: restored when searches in threads overlap
    with one_torch_thread(), one_blas_openmp_thread(), ThreadPoolExecutor(workers) as pool:
        yield from pool.map(batch, starts)
