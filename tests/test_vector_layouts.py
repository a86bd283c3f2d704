"""Dense vectors in unusual layouts and types (float16, big-endian, Fortran order, strided views,
read-only arrays and memory maps, integers, frames of numbers) give what the plain C-ordered
float32 array gives, without a warning and without touching the caller's array; a shape that is
no matrix is a one-line error."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from skmrl import MatryoshkaAdaptor, MatryoshkaSearch, dim_curve, prefix_normalize
from skmrl._vector_checks import check_vector_pairs
from skmrl.metrics import cosine_top_k

Z = np.random.default_rng(0).standard_normal((40, 12)).astype(np.float32)


def _layouts(tmp_path):
    readonly = Z.copy()
    readonly.setflags(write=False)
    np.save(tmp_path / "z.npy", Z)
    np.save(tmp_path / "big.npy", Z.astype(">f4"))
    return {
        "float64": (Z.astype(np.float64), Z),
        "float16": (Z.astype(np.float16), Z.astype(np.float16).astype(np.float32)),
        "big-endian": (Z.astype(">f4"), Z),
        "fortran": (np.asfortranarray(Z), Z),
        "columns-view": (Z[:, ::2], np.ascontiguousarray(Z[:, ::2])),
        "rows-view": (Z[::3], np.ascontiguousarray(Z[::3])),
        "read-only": (readonly, Z),
        "memmap": (np.load(tmp_path / "z.npy", mmap_mode="r"), Z),
        "big-endian-memmap": (np.load(tmp_path / "big.npy", mmap_mode="r"), Z),
        "int64": ((Z * 10).astype(np.int64), (Z * 10).astype(np.int64).astype(np.float32)),
        "object-frame": (pd.DataFrame(Z.astype(object)), Z),
    }


def _entry_points():
    def adaptor(X):
        return MatryoshkaAdaptor(method="pca", dim=4).fit(X).transform(X)

    def search(X):
        index = MatryoshkaSearch(shortlist_dim=4, shortlist_size=8, device="cpu").fit(X)
        return index.kneighbors(X, n_neighbors=3)[0]

    return {
        "adaptor": adaptor,
        "search": search,
        "cosine_top_k": lambda X: cosine_top_k(X, X, 3)[0],
        "prefix_normalize": lambda X: prefix_normalize(X, 4),
    }


@pytest.mark.parametrize("entry", list(_entry_points()))
def test_every_layout_gives_the_float32_result_silently_and_leaves_the_input_alone(entry, tmp_path):
    run = _entry_points()[entry]
    for layout, (X, plain) in _layouts(tmp_path).items():
        before = np.array(X, dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # float16: "overflow encountered in cast"
            got = run(X)
        np.testing.assert_allclose(got, run(plain), atol=1e-4, err_msg=layout)
        np.testing.assert_array_equal(np.array(X, dtype=np.float64), before, err_msg=layout)


def test_prefix_normalize_of_float16_gives_no_overflow_warning():
    # comparing float16 peaks with 1e15 cast 1e15 to float16: "overflow encountered in cast"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prefix_normalize(Z.astype(np.float16), 4)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_prefix_normalize_takes_rows_and_frames_and_refuses_what_is_no_prefix():
    expected = prefix_normalize(Z, 4)
    # were "list indices must be integers or slices, not tuple" and a pandas KeyError
    np.testing.assert_array_equal(prefix_normalize(Z.tolist(), 4), expected)
    np.testing.assert_array_equal(prefix_normalize(pd.DataFrame(Z), 4), expected)
    # were numpy's IndexError and einsum's "operand has more dimensions than subscripts"
    for bad in (Z[0], Z[None]):
        with pytest.raises(ValueError, match=r"takes vectors of shape \(n_samples, max_dim\)"):
            prefix_normalize(bad, 4)
    # dim=-1 dropped the last column, dim=100 of 12 columns kept 12, both without a word
    for dim in (-1, 0, 100):
        with pytest.raises(ValueError, match=rf"dim={dim} is out of range.*\[1, 12\]"):
            prefix_normalize(Z, dim)
    with pytest.raises(TypeError, match="dim must be None"):
        prefix_normalize(Z, True)


def test_two_frames_of_numbers_are_two_matrices_of_pairs():
    A, B = Z[:20].astype(np.float64), Z[20:].astype(np.float64)
    for pair in ((pd.DataFrame(A), pd.DataFrame(B)), (pd.DataFrame(A), B)):
        # (dfA, B) was "X[0] must be a pair (vector_a, vector_b)"; (A, dfB) passed
        a, b = check_vector_pairs(pair)
        np.testing.assert_array_equal(a, A)
        np.testing.assert_array_equal(b, B)
    gold = np.linspace(0.0, 5.0, 20)
    frames = dim_curve(MatryoshkaAdaptor(method="pca"), (pd.DataFrame(A), pd.DataFrame(B)), gold,
                       task="sts", dims=[2, 4], cv=None)  # fmt: skip
    arrays = dim_curve(MatryoshkaAdaptor(method="pca"), (A, B), gold, task="sts", dims=[2, 4],
                       cv=None)  # fmt: skip
    np.testing.assert_allclose(frames.scores, arrays.scores, atol=1e-12)


def test_two_frames_of_numbers_are_vector_pairs_to_a_text_embedder_too():
    from skmrl import TfidfBaseline
    from skmrl._vector_checks import holds_vector_pairs

    A, B = pd.DataFrame(Z[:20]), pd.DataFrame(Z[20:])
    assert holds_vector_pairs((A, B))
    assert not holds_vector_pairs((pd.DataFrame({"a": ["x y"] * 3, "b": ["u v"] * 3}), B))
    # was "X[0] must be a pair (text_a, text_b), got a DataFrame": the text-pairs message
    with pytest.raises(TypeError, match="X holds pairs of vectors, and TfidfBaseline embeds"):
        dim_curve(TfidfBaseline(), (A, B), np.linspace(0.0, 5.0, 20), task="sts", cv=None)
