"""The nested losses of skmrl._torch.losses on hand-made tensors with known values."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from skmrl._torch.losses import (  # noqa: E402
    NestedHeads,
    cosent_loss,
    cosine_matrix,
    cosine_mse_loss,
    default_matryoshka_dims,
    neighbour_similarity_loss,
    nested_loss,
    pairwise_similarity_loss,
    similarity_distillation_loss,
)


def test_nested_loss_is_the_weighted_sum_of_per_prefix_losses():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 16, generator=g), torch.randn(6, 16, generator=g)
    scores = torch.tensor([0.1, 0.9, 0.4, 0.3, 0.8, 0.5])
    dims, weights = [2, 4, 16], [1.0, 0.5, 2.0]
    expected = sum(
        w * cosent_loss(a[:, :d], b[:, :d], scores) for d, w in zip(dims, weights, strict=True)
    )
    got = nested_loss(cosent_loss, (a, b), dims, weights, scores)
    torch.testing.assert_close(got, expected)
    # default weights: 1 each
    torch.testing.assert_close(
        nested_loss(cosent_loss, (a, b), dims, None, scores),
        sum(cosent_loss(a[:, :d], b[:, :d], scores) for d in dims),
    )


def test_nested_loss_only_reaches_the_prefix():
    e = torch.randn(4, 8, requires_grad=True)
    target = torch.zeros(4, 4)
    nested_loss(pairwise_similarity_loss, e, [3], None, target).backward()
    assert torch.all(e.grad[:, 3:] == 0) and torch.any(e.grad[:, :3] != 0)


def test_nested_loss_errors():
    e = torch.randn(2, 4)
    with pytest.raises(ValueError, match="2 weights for 1 dims"):
        nested_loss(lambda x: x.sum(), e, [2], [1.0, 2.0])
    with pytest.raises(ValueError, match="dims must not be empty"):
        nested_loss(lambda x: x.sum(), e, [])


def test_cosent_known_value_and_only_the_order_of_scores_matters():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # cosines 1, 0, 1/sqrt(2)
    scores = torch.tensor([2.0, 0.0, 1.0])  # ranked as the cosines: every term is a "good" one
    c = [1.0, 0.0, 1 / math.sqrt(2)]
    # log(1 + sum over score_i > score_j of exp(s * (c_j - c_i))), s = 1
    pairs = [(0, 1), (0, 2), (2, 1)]
    expected = math.log(1 + sum(math.exp(c[j] - c[i]) for i, j in pairs))
    assert float(cosent_loss(a, b, scores, scale=1.0)) == pytest.approx(expected, rel=1e-6)
    assert float(cosent_loss(a, b, scores * 10 + 3, scale=1.0)) == pytest.approx(expected)
    # the wrong order costs more
    assert float(cosent_loss(a, b, -scores, scale=1.0)) > expected
    # equal scores: no pair to rank, log(1) = 0
    assert float(cosent_loss(a, b, torch.ones(3))) == 0.0


def test_cosine_mse_known_value():
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    b = torch.tensor([[2.0, 0.0], [0.0, 5.0]])  # cosines 1 and 0, whatever the norms
    assert float(cosine_mse_loss(a, b, torch.tensor([0.5, 0.0]))) == pytest.approx(0.125)


def test_cosine_matrix_known_value():
    m = cosine_matrix(torch.tensor([[2.0, 0.0], [0.0, 3.0]]), torch.tensor([[1.0, 1.0]]))
    torch.testing.assert_close(m, torch.tensor([[1 / math.sqrt(2)], [1 / math.sqrt(2)]]))


def test_similarity_distillation_is_zero_on_the_teacher_and_positive_elsewhere():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(8, 5, generator=g)
    assert float(similarity_distillation_loss(t, cosine_matrix(t))) == pytest.approx(0, abs=1e-6)
    student = torch.randn(8, 5, generator=g)
    mse_only = similarity_distillation_loss(student, cosine_matrix(t), kl_weight=0.0)
    both = similarity_distillation_loss(student, cosine_matrix(t), kl_weight=1.0)
    off = ~torch.eye(8, dtype=torch.bool)
    expected_mse = ((cosine_matrix(student) - cosine_matrix(t))[off] ** 2).mean()
    torch.testing.assert_close(mse_only, expected_mse)
    assert float(both) > float(mse_only) > 0


def test_similarity_distillation_known_value():
    # The student's cosines S against a hand-made teacher T: the off-diagonal MSE plus the
    # row-wise KL(softmax(T / t) || softmax(S / t)), averaged over rows. The KL's direction,
    # its temperature and its reduction each change the value (KL(S || T) is 4.10, not 4.93).
    r = 1 / math.sqrt(2)
    s = [[1.0, 0.0, r], [0.0, 1.0, r], [r, r, 1.0]]  # cosines of the rows below
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    t = [[1.0, 0.5, 0.2], [0.5, 1.0, 0.9], [0.2, 0.9, 1.0]]

    def off(m, i):
        return [m[i][j] for j in range(3) if j != i]

    def softmax(row, temperature):
        e = [math.exp(x / temperature) for x in row]
        return [x / sum(e) for x in e]

    def kl(temperature):
        return (
            sum(
                p * math.log(p / q)
                for i in range(3)
                for p, q in zip(
                    softmax(off(t, i), temperature), softmax(off(s, i), temperature), strict=True
                )
            )
            / 3
        )

    mse = sum((a - b) ** 2 for i in range(3) for a, b in zip(off(s, i), off(t, i), strict=True))
    mse /= 6
    got = similarity_distillation_loss(student, torch.tensor(t))  # kl_weight=1, t=0.05
    assert float(got) == pytest.approx(mse + kl(0.05), rel=1e-5)  # 0.181 + 4.928
    got = similarity_distillation_loss(student, torch.tensor(t), kl_weight=0.5, temperature=1.0)
    assert float(got) == pytest.approx(mse + 0.5 * kl(1.0), rel=1e-5)


def test_cosent_default_scale_is_sentence_transformers_20():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # cosines 1 and 0
    # ranked the wrong way round: log(1 + exp(20 * (1 - 0)))
    expected = math.log1p(math.exp(20.0))
    assert float(cosent_loss(a, b, torch.tensor([0.0, 1.0]))) == pytest.approx(expected)


def test_neighbour_and_pairwise_terms_known_values():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    neighbours = torch.tensor([[[1.0, 1.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    # cosines: [[0.7071, 0], [1, 0]]; targets all 0.5
    expected = (abs(1 / math.sqrt(2) - 0.5) + 0.5 + 0.5 + 0.5) / 4
    got = neighbour_similarity_loss(anchors, neighbours, torch.full((2, 2), 0.5))
    assert float(got) == pytest.approx(expected, rel=1e-6)
    # pairwise: cosine matrix [[1, 0], [0, 1]] against all ones: mean |.| = 0.5
    assert float(pairwise_similarity_loss(anchors, torch.ones(2, 2))) == pytest.approx(0.5)


def test_nested_heads_loss_is_the_weighted_sum_of_cross_entropies():
    torch.manual_seed(0)
    heads = NestedHeads([2, 4], n_classes=3, weights=[1.0, 0.25])
    e = torch.randn(5, 4)
    y = torch.tensor([0, 1, 2, 1, 0])
    logits = heads(e)
    assert [tuple(x.shape) for x in logits] == [(5, 3), (5, 3)]
    expected = torch.nn.functional.cross_entropy(logits[0], y) + 0.25 * (
        torch.nn.functional.cross_entropy(logits[1], y)
    )
    torch.testing.assert_close(heads.loss(e, y), expected)
    # each head sees its normalised prefix: scaling a row changes nothing
    torch.testing.assert_close(heads.loss(e * 7.0, y), expected)


@pytest.mark.parametrize(
    ("max_dim", "dims"),
    [
        (384, [8, 16, 32, 64, 128, 256, 384]),
        (256, [8, 16, 32, 64, 128, 256]),
        (8, [8]),
        (9, [8, 9]),
    ],
)
def test_default_matryoshka_dims(max_dim, dims):
    assert default_matryoshka_dims(max_dim) == dims
