"""Learn an orthogonal map that makes frozen embeddings Matryoshka-ordered (the adaptor's core).

The map ``R`` (``D x D``, orthogonal) rotates each vector, ``z -> z @ R``, so that its leading
coordinates carry what matters: a prefix of ``k`` dimensions keeps the full vectors' similarity
structure. Being orthogonal, the map changes no full-size cosine similarity: nothing is lost at
full size.

It starts at the PCA basis (principal directions of the normalised vectors, largest variance
first) and is trained with the terms of the Matryoshka-Adaptor (Yoon et al., EMNLP 2024):

* top-k: for each vector and its ``n_neighbors`` nearest neighbours at full size, the prefix
  cosines keep the full-size cosines (this term does most of the work); at each step,
  ``n_neighbors`` more are drawn from its ``neighbour_pool`` nearest, so that moderately
  similar pairs are kept too (measured on STSb-dev at 8/16 dims: 81.0/91.8% of the full-size
  Spearman with the top 10 alone, 83.2/92.7% with 10 more from the top 200, both with the
  matrix exponential as the parametrisation, before the Cayley map);
* pairwise: the same for every pair of a random batch.

With class labels, :func:`discriminant_basis` gives the rotation in closed form (the classes'
linear discriminants first), which :class:`skmrl.MatryoshkaAdaptor` uses: it beat a linear head
on each prefix trained with cross-entropy (the MRL paper's nested objective).

A reconstruction term is left out on purpose: measured, it pulls the map back towards PCA.
Pure torch and numpy: no scikit-learn here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["discriminant_basis", "fit_rotation", "nearest_neighbours", "pca_basis", "rotate"]


def rotate(Zn: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """``(Zn - mean) @ components`` as float32, for rows ``Zn`` of unit (or zero) vectors; a
    zero row (a text without a known word) stays zero: centred, it would become ``-mean``
    rotated, one vector shared by every such row.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.adaptor import rotate
    >>> rotate(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([0.5, 0.5]), np.eye(2))
    array([[ 0.5, -0.5],
           [ 0. ,  0. ]], dtype=float32)
    """
    # The mean's rotation is subtracted from the rotated rows: a centred copy of the rows was a
    # third array as large as the rotated ones (and where the mean is zero, the trained
    # rotation's, for nothing). The rows take the type that subtracting the mean gives them.
    out = Zn.astype(np.result_type(Zn, mean), copy=False) @ components
    if np.any(mean):
        out -= mean @ components
    out[~Zn.any(axis=1)] = 0.0
    return np.ascontiguousarray(out, np.float32)


#: Rows at a time in :func:`pca_basis`'s scatter matrix.
_SCATTER_ROWS = 8192


def pca_basis(Z: np.ndarray, center: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Principal directions of ``Z``, largest variance first, as the columns of an orthogonal
    matrix, and the mean that was removed (zeros when ``center=False``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.adaptor import pca_basis
    >>> Z = np.random.default_rng(0).normal(size=(50, 3)) * [1.0, 5.0, 0.1]
    >>> R, mean = pca_basis(Z)
    >>> int(np.argmax(np.abs(R[:, 0])))  # the widest axis comes first
    1
    >>> bool(np.allclose(R.T @ R, np.eye(3)))
    True
    """
    Z = np.asarray(Z)
    D = Z.shape[1]
    mean = Z.mean(axis=0, dtype=np.float64) if center else np.zeros(D)
    # Eigenvectors of the scatter matrix: a D x D problem whatever the number of rows, summed in
    # float64 over blocks of rows (whole, the float64 copy and its centred copy took 4 times
    # float32 vectors: 100,000 of 384 dims peaked at 7.4 times their size in fit).
    C = np.zeros((D, D))
    for start in range(0, len(Z), _SCATTER_ROWS):
        block = Z[start : start + _SCATTER_ROWS].astype(np.float64) - mean
        C += block.T @ block
    return _principal_axes(C), mean


def _principal_axes(C: np.ndarray) -> np.ndarray:
    """The eigenvectors of the scatter matrix ``C``, largest eigenvalue first, as columns."""
    eigvals, eigvecs = np.linalg.eigh(C)
    order = np.argsort(eigvals)[::-1]
    R = eigvecs[:, order]
    # A deterministic sign: the largest entry of each direction is positive.
    signs = np.sign(R[np.argmax(np.abs(R), axis=0), np.arange(R.shape[1])])
    signs[signs == 0] = 1.0
    return R * signs


def _class_scatters(Z: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classes of ``labels``, and the within- and between-class scatter matrices of the
    rows ``Z`` (each divided by the number of rows), summed in float64.

    Two passes over blocks of rows (the class sums, then the within-class scatter), whatever
    the number of classes: a loop over the classes, a mask of every row for each, took 13 s
    for 10,000 classes of 100,000 rows. By blocks, no float64 copy of ``Z`` is made.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.adaptor import _class_scatters
    >>> Z = np.array([[0.0, 1.0], [2.0, 1.0], [5.0, 5.0], [5.0, 7.0]])
    >>> classes, within, between = _class_scatters(Z, np.array(["a", "a", "b", "b"]))
    >>> classes.tolist(), within.tolist(), between.tolist()
    (['a', 'b'], [[0.5, 0.0], [0.0, 0.5]], [[4.0, 5.0], [5.0, 6.25]])
    """
    import scipy.sparse as sp

    classes, codes = np.unique(labels, return_inverse=True)
    codes = codes.ravel()
    n, D = Z.shape
    counts = np.bincount(codes, minlength=len(classes)).astype(np.float64)
    sums = np.zeros((len(classes), D))
    for start in range(0, n, _SCATTER_ROWS):
        block = np.asarray(Z[start : start + _SCATTER_ROWS], dtype=np.float64)
        rows = len(block)
        indicator = sp.csr_matrix(
            (np.ones(rows), (codes[start : start + rows], np.arange(rows))),
            shape=(len(classes), rows),
        )
        sums += indicator @ block
    class_means = sums / counts[:, None]
    within = np.zeros((D, D))
    for start in range(0, n, _SCATTER_ROWS):
        stop = start + _SCATTER_ROWS
        centred = np.asarray(Z[start:stop], dtype=np.float64) - class_means[codes[start:stop]]
        within += centred.T @ centred
    within /= n
    spread = class_means - counts @ class_means / n  # the class means less the mean of the rows
    between = (spread * counts[:, None]).T @ spread / n
    return classes, within, between


def discriminant_basis(Z: np.ndarray, labels: np.ndarray, shrinkage: float = 0.1) -> np.ndarray:
    """An orthogonal basis whose first ``n_classes - 1`` directions separate the classes.

    The leading directions span the linear discriminants of ``Z`` (Fisher's LDA, with a ridge
    of ``shrinkage`` times the within-class scatter's mean variance over the directions the
    vectors span added to that scatter, which keeps it invertible for a few hundred rows); the
    rest are the principal directions of what the discriminants leave, largest variance first.
    Since a linear classifier of ``C`` classes reads at most ``C - 1`` directions of the class
    means, a prefix of ``C - 1`` dimensions can keep what it reads. Measured with 5-fold
    LogisticRegression on MiniLM vectors (:class:`~skmrl.adaptor.MatryoshkaAdaptor` centres
    them first), the prefix of 8 reached 0.854 on TREC-6 (full size 0.838), 0.986 on SMS spam
    (0.982) and 0.970 on BBC News (0.971).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.adaptor import discriminant_basis
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> Z = rng.normal(size=(100, 5)) + np.outer(y, [0, 0, 0, 3.0, 0])
    >>> B = discriminant_basis(Z, y)
    >>> int(np.argmax(np.abs(B[:, 0])))  # the axis that separates the classes comes first
    3
    >>> bool(np.allclose(B.T @ B, np.eye(5)))
    True
    """
    from scipy.linalg import eigh

    Z = np.asarray(Z)
    if Z.dtype.kind != "f":
        Z = Z.astype(np.float64)
    D = Z.shape[1]
    classes, within, between = _class_scatters(Z, labels)  # by blocks: no float64 copy of Z
    scatter = within + between  # of all the rows (divided by their number)
    # The ridge keeps ``within`` positive definite. A small floor, relative to the total
    # variance, covers what the shrinkage cannot: ``shrinkage=0`` with fewer rows than
    # dimensions, or classes whose vectors are all alike (no within-class scatter at all).
    # Variances are averaged over the directions the vectors span, not over all D: fewer rows
    # than dimensions (or an API's vectors padded with zeros) span fewer, and averaging over
    # D shrank the ridge with the width, for the same cosines (TREC-6, 240 rows a fold, at 8
    # dims: 0.637 over D, 0.647 over the span; the same vectors padded to 1,536 dims: 0.597
    # over D, 0.647 over the span). Where the rows span every dimension, nothing changes.
    variances = np.linalg.eigvalsh(scatter)
    tol = variances[-1] * max(len(Z), D) * np.finfo(np.float64).eps
    span = max(int(np.count_nonzero(variances > tol)), 1)
    spread = np.trace(within)
    total = (spread + np.trace(between)) / span
    floor = 1e-6 * total if total > 0 else 1e-12
    within += max(shrinkage * spread / span, floor) * np.eye(D)
    eigvals, eigvecs = eigh(between, within)
    n_disc = min(len(classes) - 1, D)
    lead, _ = np.linalg.qr(eigvecs[:, np.argsort(eigvals)[::-1][:n_disc]])
    # The principal directions of what the discriminants leave, rest = Z - Z @ P (P = lead @
    # lead.T), from its scatter matrix, (I - P) scatter (I - P): rest itself (twice the size of
    # float32 vectors, in float64, made beside a product as large) took a labelled fit of
    # 200,000 x 384 float32 vectors to 7.2 times their size.
    keep = np.eye(D) - lead @ lead.T
    R = _principal_axes(keep @ scatter @ keep)
    basis, _ = np.linalg.qr(np.concatenate([lead, R[:, : D - n_disc]], axis=1))
    # QR may flip signs; keep each leading direction pointing as the discriminant did.
    signs = np.sign(np.sum(basis[:, :n_disc] * lead, axis=0))
    basis[:, :n_disc] *= np.where(signs == 0, 1.0, signs)
    return basis


def nearest_neighbours(Zn: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosines of each row's ``k`` nearest other rows (rows already unit length).

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._torch.adaptor import nearest_neighbours
    >>> Zn = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    >>> idx, sim = nearest_neighbours(Zn, 1)
    >>> idx.ravel().tolist()
    [1, 0, 1]
    """
    import torch

    Zt = torch.from_numpy(np.ascontiguousarray(Zn, dtype=np.float32))
    n = Zt.shape[0]
    k = min(k, n - 1)
    idx = np.empty((n, k), dtype=np.int64)
    sim = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        s = Zt[start : start + chunk] @ Zt.T
        rows = torch.arange(s.shape[0])
        s[rows, rows + start] = -float("inf")  # not its own neighbour
        top = torch.topk(s, k, dim=1)
        idx[start : start + chunk] = top.indices.numpy()
        sim[start : start + chunk] = top.values.numpy()
    return idx, sim


def fit_rotation(
    Z: np.ndarray,
    dims: Sequence[int],
    *,
    n_neighbors: int = 10,
    neighbour_pool: int = 200,
    pairwise_weight: float = 1.0,
    epochs: int = 20,
    learning_rate: float = 1e-3,
    batch_size: int = 256,
    seed: int = 0,
    progress: bool = False,
    on_first_step: Callable[[int, float], None] | None = None,
) -> np.ndarray:
    """Train the orthogonal map on the rows of ``Z``; return ``R`` (``z -> z @ R``).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, D)
        Frozen full-size vectors (any norm: only directions matter).
    dims : sequence of int
        Prefix sizes to train (ascending, at most ``D``).
    n_neighbors : int, default=10
        Neighbours per vector in the top-k term (0 turns it off).
    neighbour_pool : int, default=200
        ``n_neighbors`` more are drawn at each step from this many nearest (0: none).
    pairwise_weight : float, default=1.0
        Weight of the pairwise term (the top-k term has weight 1).
    epochs, learning_rate, batch_size, seed
        Adam on the map's parameters, ``epochs`` passes over the rows.
    progress : bool, default=False
        Show a tqdm bar with the loss.
    on_first_step : callable, optional
        Called once, after the first step, with the number of steps and the seconds that step
        took: what the whole training will cost (a step's cost grows as ``D**3``, see Notes).

    Returns
    -------
    ndarray of shape (D, D), float32, orthogonal

    Raises
    ------
    FloatingPointError
        When ``learning_rate`` is so large (over about 3e37) that Adam's step size overflows
        float32.

    Notes
    -----
    Training runs with one torch thread and one BLAS thread: its products are small (a few
    hundred rows by ``D``), and measured on 2 cores beside other busy processes, 2 threads
    took 120 s where 1 took 22 s (5,000 vectors, 2 epochs).

    The map is parametrised by the Cayley transform of a skew-symmetric matrix: a step solves
    a ``D x D`` linear system, forward and backward, so it costs ``O(D**3)`` whatever the
    batch. Measured with one thread: about 0.06 s at ``D=384``, 0.24 s at 768, 0.5 s at
    1,024, 1.0 s at 1,536 and 7.4 s at 3,072. torch's default parametrisation, the matrix
    exponential, whose backward pass works on a ``2D x 2D`` block matrix, took 0.2 s, 1.6 s
    at 1,024, 5.7 s at 1,536 and 46-60 s at 3,072, for the same STS Benchmark scores (over
    seeds 0-2 at 16 dims: 91.9-92.4% of the full-size score against 91.7-92.9%; at 32 dims:
    97.0-97.2% against 96.8-97.3%).
    """
    import torch
    from torch import nn
    from torch.nn.utils.parametrizations import orthogonal

    from skmrl._threads import one_blas_openmp_thread
    from skmrl._torch.device import grad_enabled, one_torch_thread
    from skmrl._torch.losses import (
        cosine_matrix,
        neighbour_similarity_loss,
        nested_loss,
        pairwise_similarity_loss,
    )

    # Everything, set-up included, with one torch, BLAS and OpenMP thread (see Notes): results
    # then do not depend on the machine's thread count either. BLAS's count is the process's,
    # which one_blas_openmp_thread restores when fits in several threads overlap.
    with one_torch_thread(), one_blas_openmp_thread(), grad_enabled():
        Z = np.asarray(Z, dtype=np.float32)
        n, D = Z.shape
        norms = np.linalg.norm(Z, axis=1, keepdims=True)
        Zn = np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0)
        R0 = pca_basis(Zn, center=True)[0]
        dims = [int(d) for d in dims if int(d) < D]  # the full size is kept exactly
        if not dims:
            return R0.astype(np.float32)

        generator = torch.Generator().manual_seed(int(seed))
        # The rotation starts from R0, so the layer has no random init: one drew from the
        # process's generator, and the fork_rng that kept it from doing so restored that
        # generator at its end, rewinding a seeded training's stream in another thread.
        # float32 whatever torch's default dtype (float64 failed the product with the data)
        layer = nn.utils.skip_init(nn.Linear, D, D, bias=False, dtype=torch.float32)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(R0.T, dtype=np.float32)))
        # The Cayley map, not the matrix exponential (torch's default): 3-6x quicker a step,
        # for the same scores (see Notes).
        orthogonal(layer, orthogonal_map="cayley")

        X = torch.from_numpy(Zn)
        k = min(int(n_neighbors), n - 1)
        if k > 0:
            pool = min(max(int(neighbour_pool), k), n - 1)
            nb_idx, nb_sim = nearest_neighbours(Zn, pool)
            nb_idx_t, nb_sim_t = torch.from_numpy(nb_idx), torch.from_numpy(nb_sim)
        optimizer = torch.optim.Adam(layer.parameters(), lr=learning_rate)
        batch_size = min(int(batch_size), n)
        bar = None
        steps = epochs * max(1, n // batch_size)
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, desc="fitting adaptor", unit="step", leave=False)
        started = time.perf_counter()
        try:
            for _ in range(epochs):
                perm = torch.randperm(n, generator=generator)
                for start in range(0, n - batch_size + 1, batch_size):
                    rows = perm[start : start + batch_size]
                    W = layer.weight  # (D, D), rows are the new basis directions
                    anchors = X[rows] @ W.T
                    loss = torch.zeros((), dtype=torch.float32)
                    if k > 0:
                        pick = top = torch.arange(k).expand(len(rows), k)
                        if pool > k:  # the top k, and k more drawn from the pool
                            drawn = torch.randint(0, pool, (len(rows), k), generator=generator)
                            pick = torch.cat([top, drawn], dim=1)
                        idx = torch.gather(nb_idx_t[rows], 1, pick)
                        neighbours = X[idx] @ W.T  # (b, 2k, D)
                        target = torch.gather(nb_sim_t[rows], 1, pick)
                        loss = loss + nested_loss(
                            neighbour_similarity_loss, (anchors, neighbours), dims, None, target
                        )
                    if pairwise_weight:
                        loss = loss + pairwise_weight * nested_loss(
                            pairwise_similarity_loss, anchors, dims, None, cosine_matrix(X[rows])
                        )
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    try:
                        optimizer.step()
                    except RuntimeError as exc:
                        from skmrl._torch.training import step_size_overflowed

                        if not step_size_overflowed(exc):
                            raise
                        raise FloatingPointError(
                            f"the adaptor's training diverged (Adam's step size overflowed "
                            f"float32); lower the learning rate (learning_rate={learning_rate!r})"
                        ) from None
                    if on_first_step is not None:
                        on_first_step(steps, time.perf_counter() - started)
                        on_first_step = None
                    if bar is not None:
                        # The loss first, so that the update's redraw shows it; drawn at the
                        # first step whatever the time (the bar redraws at most every 0.1 s,
                        # and a short training's steps, 60 ms at 384 dims, never showed it).
                        bar.set_postfix(loss=f"{float(loss.detach()):.4f}", refresh=bar.n == 0)
                        bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        with torch.no_grad():
            return layer.weight.detach().T.contiguous().numpy().astype(np.float32)
