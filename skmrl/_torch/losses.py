"""Nested (Matryoshka) losses: one loss applied to every prefix of the embeddings, weighted.

Kusupati et al. (2022) train an embedding so that each prefix of ``d_1 < d_2 < ... < D``
dimensions is a good embedding by summing a loss over the prefixes; :func:`nested_loss` is that
wrapper, usable with any loss here or the caller's own. The per-prefix losses:

* :func:`cosent_loss` and :func:`cosine_mse_loss`: pairs with gold similarity scores (STS);
* :func:`similarity_distillation_loss`: a student's in-batch cosine similarities learn a
  teacher's (MSE plus a listwise KL term), for unsupervised self-distillation;
* :func:`neighbour_similarity_loss`: cosine similarities of each anchor to given neighbours keep
  their target values (the top-k term of the Matryoshka-Adaptor, Yoon et al., 2024);
* :class:`NestedHeads`: one linear classifier per prefix, cross-entropy summed over prefixes
  (the MRL paper's supervised objective).

Every loss takes unnormalised embeddings and compares cosine similarities, so slicing a prefix
is all the wrapper does. Pure torch: no scikit-learn here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "NestedHeads",
    "cosent_loss",
    "cosine_matrix",
    "cosine_mse_loss",
    "default_matryoshka_dims",
    "neighbour_similarity_loss",
    "nested_loss",
    "pairwise_similarity_loss",
    "similarity_distillation_loss",
]


def default_matryoshka_dims(max_dim: int, smallest: int = 8) -> list[int]:
    """Powers of two from ``smallest`` below ``max_dim``, then ``max_dim`` itself.

    Examples
    --------
    >>> from skmrl._torch.losses import default_matryoshka_dims
    >>> default_matryoshka_dims(384)
    [8, 16, 32, 64, 128, 256, 384]
    >>> default_matryoshka_dims(6)
    [6]
    """
    dims = []
    d = smallest
    while d < max_dim:
        dims.append(d)
        d *= 2
    return [*dims, int(max_dim)]


def nested_loss(
    loss: Callable[..., Tensor],
    embeddings: Tensor | Sequence[Tensor],
    dims: Sequence[int],
    weights: Sequence[float] | None = None,
    *args: Any,
    **kwargs: Any,
) -> Tensor:
    """The Matryoshka loss: ``sum_k weights[k] * loss(e[..., :dims[k]] for e in embeddings)``.

    Parameters
    ----------
    loss : callable
        ``loss(*prefixes, *args, **kwargs) -> scalar tensor``.
    embeddings : Tensor or sequence of Tensor
        Full-size embeddings (last axis is the embedding); each is sliced to every prefix.
    dims : sequence of int
        The prefix sizes.
    weights : sequence of float, optional
        One weight per prefix; default 1 each.
    *args, **kwargs
        Passed to ``loss`` unchanged (targets, labels, ...).

    Returns
    -------
    Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import nested_loss
    >>> e = torch.tensor([[1.0, 2.0, 3.0]])
    >>> nested_loss(lambda x: x.sum(), e, [1, 3], [1.0, 0.5])
    tensor(4.)
    """
    if isinstance(embeddings, Tensor):
        embeddings = (embeddings,)
    if weights is None:
        weights = [1.0] * len(dims)
    if len(weights) != len(dims):
        raise ValueError(f"got {len(weights)} weights for {len(dims)} dims")
    total = None
    for d, w in zip(dims, weights, strict=True):
        term = w * loss(*(e[..., :d] for e in embeddings), *args, **kwargs)
        total = term if total is None else total + term
    if total is None:
        raise ValueError("dims must not be empty")
    return total


def cosine_matrix(a: Tensor, b: Tensor | None = None, eps: float = 1e-8) -> Tensor:
    """Cosine similarities between the rows of ``a`` and those of ``b`` (default ``a``).

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import cosine_matrix
    >>> cosine_matrix(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
    tensor([[1.0000, 0.7071],
            [0.7071, 1.0000]])
    """
    a = F.normalize(a, dim=-1, eps=eps)
    b = a if b is None else F.normalize(b, dim=-1, eps=eps)
    return a @ b.transpose(-1, -2)


def _pair_cosines(a: Tensor, b: Tensor) -> Tensor:
    return F.cosine_similarity(a, b, dim=-1, eps=1e-8)


def cosent_loss(a: Tensor, b: Tensor, scores: Tensor, scale: float = 20.0) -> Tensor:
    """CoSENT: every pair ranked above another by gold score should have the higher cosine.

    ``log(1 + sum over (i, j) with scores[i] > scores[j] of exp(scale * (cos_j - cos_i)))``
    (Su, 2022; sentence-transformers' CoSENTLoss).

    Parameters
    ----------
    a, b : Tensor of shape (n_pairs, dim)
        The two sides of each pair.
    scores : Tensor of shape (n_pairs,)
        Gold similarity scores (any scale: only their order matters).
    scale : float, default=20.0
        Inverse temperature.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import cosent_loss
    >>> a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> b = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # cosines 1 and 0
    >>> round(float(cosent_loss(a, b, torch.tensor([1.0, 0.0]), scale=1.0)), 4)  # log(1 + e^-1)
    0.3133
    """
    cos = _pair_cosines(a, b) * scale
    diff = cos[None, :] - cos[:, None]  # diff[i, j] = cos_j - cos_i
    wrong = scores[:, None] > scores[None, :]  # pairs (i, j) where i should be above j
    diff = diff.masked_fill(~wrong, float("-inf"))
    zero = torch.zeros(1, dtype=diff.dtype, device=diff.device)
    return torch.logsumexp(torch.cat([zero, diff.flatten()]), dim=0)


def cosine_mse_loss(a: Tensor, b: Tensor, scores: Tensor) -> Tensor:
    """Mean squared error between each pair's cosine and its gold score (scaled to [0, 1] or
    [-1, 1] by the caller).

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import cosine_mse_loss
    >>> a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> b = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> cosine_mse_loss(a, b, torch.tensor([0.5, 0.5]))
    tensor(0.2500)
    """
    return F.mse_loss(_pair_cosines(a, b), scores.to(a.dtype))


def similarity_distillation_loss(
    student: Tensor,
    teacher_similarity: Tensor,
    *,
    kl_weight: float = 1.0,
    temperature: float = 0.05,
) -> Tensor:
    """The student's in-batch cosine similarities learn the teacher's.

    ``mean((S - T)^2) + kl_weight * KL(softmax(T / t) || softmax(S / t))``, row-wise over
    the off-diagonal entries: the MSE keeps the values, the listwise KL term each row's ranking
    of its neighbours (which is what retrieval and STS read).

    Parameters
    ----------
    student : Tensor of shape (n, dim)
        Student embeddings (a prefix, when wrapped by :func:`nested_loss`).
    teacher_similarity : Tensor of shape (n, n)
        The teacher's cosine similarities of the same texts (full size).
    kl_weight : float, default=1.0
        Weight of the listwise term.
    temperature : float, default=0.05
        Softmax temperature of the listwise term.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import cosine_matrix, similarity_distillation_loss
    >>> t = torch.randn(5, 4)
    >>> float(similarity_distillation_loss(t, cosine_matrix(t))) < 1e-6
    True
    """
    s = cosine_matrix(student)
    t = teacher_similarity.to(s.dtype)
    n = s.shape[0]
    off = ~torch.eye(n, dtype=torch.bool, device=s.device)
    loss = F.mse_loss(s[off], t[off])
    if kl_weight and n > 2:
        s_rows = (s[off].view(n, n - 1)) / temperature
        t_rows = (t[off].view(n, n - 1)) / temperature
        kl = F.kl_div(
            F.log_softmax(s_rows, dim=-1),
            F.log_softmax(t_rows, dim=-1),
            log_target=True,
            reduction="batchmean",
        )
        loss = loss + kl_weight * kl
    return loss


def pairwise_similarity_loss(embeddings: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error between all in-batch cosine similarities and their targets.

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import cosine_matrix, pairwise_similarity_loss
    >>> e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> pairwise_similarity_loss(e, torch.ones(2, 2))
    tensor(0.5000)
    """
    return (cosine_matrix(embeddings) - target.to(embeddings.dtype)).abs().mean()


def neighbour_similarity_loss(anchors: Tensor, neighbours: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error between anchor-neighbour cosines and their targets.

    Parameters
    ----------
    anchors : Tensor of shape (n, dim)
    neighbours : Tensor of shape (n, k, dim)
        For each anchor, ``k`` other vectors (its nearest neighbours at full size).
    target : Tensor of shape (n, k)
        The cosines to keep (the full-size ones).

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import neighbour_similarity_loss
    >>> a = torch.tensor([[1.0, 0.0]])
    >>> nb = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> neighbour_similarity_loss(a, nb, torch.tensor([[1.0, 1.0]]))
    tensor(0.5000)
    """
    cos = F.cosine_similarity(anchors.unsqueeze(1), neighbours, dim=-1, eps=1e-8)
    return (cos - target.to(cos.dtype)).abs().mean()


class NestedHeads(nn.Module):
    """One linear classifier per prefix; the loss is the weighted sum of their cross-entropies.

    The embedding prefix is L2-normalised before its head (as ``dim=k`` vectors are), and each
    head has its own scale, so short prefixes learn to separate the classes by direction.

    Parameters
    ----------
    dims : sequence of int
        Prefix sizes.
    n_classes : int
        Number of classes.
    weights : sequence of float, optional
        Weight of each prefix's cross-entropy (default 1 each).

    Examples
    --------
    >>> import torch
    >>> from skmrl._torch.losses import NestedHeads
    >>> heads = NestedHeads([2, 4], n_classes=3)
    >>> loss = heads.loss(torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    >>> loss.shape
    torch.Size([])
    """

    def __init__(
        self, dims: Sequence[int], n_classes: int, weights: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        self.dims = [int(d) for d in dims]
        self.weights = [1.0] * len(self.dims) if weights is None else [float(w) for w in weights]
        # float32 whatever torch's default dtype, as the encoder's output is
        f32 = torch.float32
        self.heads = nn.ModuleList(nn.Linear(d, n_classes, dtype=f32) for d in self.dims)
        self.log_scale = nn.Parameter(torch.full((len(self.dims),), 2.3, dtype=f32))  # e^2.3: 10

    def forward(self, embeddings: Tensor) -> list[Tensor]:
        """Logits of each prefix's head, in the order of ``dims``."""
        out = []
        for i, (d, head) in enumerate(zip(self.dims, self.heads, strict=True)):
            x = F.normalize(embeddings[..., :d], dim=-1, eps=1e-8) * self.log_scale[i].exp()
            out.append(head(x))
        return out

    def loss(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Weighted sum over prefixes of the cross-entropy of each head."""
        total = None
        for w, logits in zip(self.weights, self(embeddings), strict=True):
            term = w * F.cross_entropy(logits.float(), labels)
            total = term if total is None else total + term
        return total
