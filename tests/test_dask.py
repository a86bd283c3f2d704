"""skmrl on Dask: ``skmrl.dask.embed`` and grid searches on a real ``distributed.LocalCluster``.

The cluster has two worker processes with one thread each (module fixture: started once, a few
seconds). Grid searches run through scikit-learn's own route, ``joblib.parallel_backend("dask")``,
and must give what ``n_jobs=1`` gives.
"""

from __future__ import annotations

import joblib
import numpy as np
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import TruncatedSVD  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import Normalizer  # noqa: E402

from skmrl import (  # noqa: E402
    MatryoshkaAdaptor,
    MatryoshkaEmbedder,
    TfidfBaseline,
    Word2VecEmbedder,
)
from skmrl.dask import embed  # noqa: E402
from skmrl.utils._corpus import CORPUS, LABELS  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _series(texts, n: int = 3):
    return dd.from_pandas(pd.Series(texts, name="text"), npartitions=n)


# -- skmrl.dask.embed ---------------------------------------------------------------------------
def test_embed_equals_transform(client, tmp_path):
    emb = TfidfBaseline(dim=8).fit(CORPUS)
    expected = emb.transform(CORPUS)
    out = embed(_series(CORPUS), emb).compute()
    assert list(out.columns) == list(emb.get_feature_names_out())
    assert (out.dtypes == np.float32).all()
    np.testing.assert_array_equal(out.to_numpy(), expected)
    # a dim other than the embedder's own, and the embedder left as it was
    np.testing.assert_array_equal(
        embed(_series(CORPUS), emb, dim=4).compute().to_numpy(),
        emb.set_params(dim=4).transform(CORPUS),
    )
    assert emb.set_params(dim=8).dim == 8
    # a Bag of str, and a DataFrame column with the text kept
    np.testing.assert_array_equal(
        embed(db.from_sequence(CORPUS, npartitions=4), emb).compute().to_numpy(), expected
    )
    frame = dd.from_pandas(pd.DataFrame({"id": range(len(CORPUS)), "body": CORPUS}), npartitions=2)
    kept = embed(frame, emb, column="body", keep_text=True).compute()
    assert kept["text"].tolist() == CORPUS
    np.testing.assert_array_equal(kept.drop(columns="text").to_numpy(), expected)


def test_embed_of_a_bag_numbers_rows_within_each_partition():
    """As documented (it once promised a fresh range): dask's Bag.to_dataframe index."""
    import dask

    emb = TfidfBaseline(dim=2).fit(CORPUS)
    bag = db.from_sequence(CORPUS, npartitions=3)
    with dask.config.set(scheduler="sync"):
        sizes = bag.map_partitions(lambda part: [len(list(part))]).compute()
        out = embed(bag, emb, keep_text=True)
        assert not out.known_divisions
        got = out.compute()
    assert len(sizes) == 3 and got.index.tolist() == [i for n in sizes for i in range(n)]
    assert got["text"].tolist() == CORPUS  # partitions in order


def test_embed_ignores_pandas_output():
    """set_output(transform="pandas") (or sklearn's transform_output) once made every vector
    whose row was not also a row 0..n-1 of its partition NaN: the frame was realigned."""
    import dask
    import sklearn

    emb = TfidfBaseline(dim=4).fit(CORPUS)
    expected = emb.transform(CORPUS)
    texts = dd.from_pandas(pd.Series(CORPUS, index=range(100, 100 + len(CORPUS))), npartitions=3)
    with dask.config.set(scheduler="sync"):
        got = embed(texts, emb.set_output(transform="pandas")).compute()
        np.testing.assert_array_equal(got.to_numpy(), expected)
        with sklearn.config_context(transform_output="pandas"):
            got = embed(texts, emb.set_output(transform="default")).compute()
        np.testing.assert_array_equal(got.to_numpy(), expected)
    assert got.index.tolist() == list(range(100, 100 + len(CORPUS)))


def test_embed_writes_parquet(client, tmp_path):
    pytest.importorskip("pyarrow")
    emb = TfidfBaseline(dim=8).fit(CORPUS)
    assert embed(_series(CORPUS, 4), emb, path=str(tmp_path / "vectors"), keep_text=True) is None
    back = pd.read_parquet(tmp_path / "vectors").sort_index()
    assert len(list((tmp_path / "vectors").glob("*.parquet"))) == 4  # one file per partition
    assert back["text"].tolist() == CORPUS
    np.testing.assert_array_equal(back.drop(columns="text").to_numpy(), emb.transform(CORPUS))
    # a Bag's texts too (their column was declared object, which to_parquet could not write)
    bag = db.from_sequence(CORPUS, npartitions=3)
    embed(bag, emb, path=str(tmp_path / "from-bag"), keep_text=True)
    back = pd.read_parquet(tmp_path / "from-bag")
    assert back["text"].tolist() == CORPUS
    np.testing.assert_array_equal(back.drop(columns="text").to_numpy(), emb.transform(CORPUS))


def test_embed_keeps_a_named_index_in_parquet(tmp_path):
    """The meta's index was a plain unnamed one: writing vectors of a Series indexed by an id
    (named, or not int) failed with KeyError '__null_dask_index__' or an Arrow schema error."""
    pytest.importorskip("pyarrow")
    import dask

    emb = TfidfBaseline(dim=4).fit(CORPUS)
    for index in (
        pd.Index(range(500, 500 + len(CORPUS)), name="id"),
        pd.Index([f"doc{i:03d}" for i in range(len(CORPUS))], name="doc"),
    ):
        texts = dd.from_pandas(pd.Series(CORPUS, index=index), npartitions=3)
        out = embed(texts, emb, keep_text=True)
        assert out.index.name == index.name  # lazily, too
        with dask.config.set(scheduler="sync"):
            out.to_parquet(tmp_path / index.name)
        back = pd.read_parquet(tmp_path / index.name)
        assert back.index.equals(index) and back["text"].tolist() == CORPUS
        np.testing.assert_array_equal(back.drop(columns="text").to_numpy(), emb.transform(CORPUS))


def test_embed_with_compute_false_returns_the_write(tmp_path):
    """compute=False once gave None: the lazy write was dropped and nothing was ever written."""
    pytest.importorskip("pyarrow")
    import dask

    emb = TfidfBaseline(dim=4).fit(CORPUS)
    folder = tmp_path / "vectors"
    with dask.config.set(scheduler="sync"):
        write = embed(_series(CORPUS), emb, path=str(folder), compute=False)
        assert not list(folder.glob("*.parquet"))  # nothing yet: it is lazy
        write.compute()
    np.testing.assert_array_equal(
        pd.read_parquet(folder).sort_index().to_numpy(), emb.transform(CORPUS)
    )


def test_embed_with_a_transformer_encoder(client, tiny_bert):
    emb = MatryoshkaEmbedder(model=tiny_bert, device="cpu", dim=16).fit(CORPUS[:1])
    out = embed(_series(CORPUS), emb).compute()
    np.testing.assert_allclose(out.to_numpy(), emb.transform(CORPUS), atol=1e-6)


@pytest.mark.parametrize(
    ("texts", "embedder", "kwargs", "error", "words"),
    [
        (lambda: _series(CORPUS), TfidfBaseline(dim=4), {}, ValueError, "not fitted"),
        (lambda: CORPUS, "fitted", {}, TypeError, "call embedder.transform"),
        (
            lambda: dd.from_pandas(pd.DataFrame({"a": CORPUS, "b": CORPUS}), npartitions=2),
            "fitted",
            {},
            ValueError,
            "pass column=",
        ),
        (
            lambda: dd.from_pandas(pd.DataFrame({"a": CORPUS}), npartitions=2),
            "fitted",
            {"column": "body"},
            ValueError,
            "its columns: a",
        ),
        (lambda: _series(CORPUS), TfidfBaseline().fit(CORPUS), {}, ValueError, "sparse"),
        (lambda: _series(CORPUS), "fitted", {"compression": "zstd"}, TypeError, "only with path"),
        # a truthy string quietly added the text column
        (lambda: _series(CORPUS), "fitted", {"keep_text": "no"}, TypeError, "keep_text must be"),
        # column= was ignored where there is no column to pick
        (
            lambda: _series(CORPUS),
            "fitted",
            {"column": "no_such"},
            TypeError,
            "column='no_such' names the text column of a DataFrame, but texts is a dask Series",
        ),
        (
            lambda: db.from_sequence(CORPUS, npartitions=2),
            "fitted",
            {"column": "text"},
            TypeError,
            "texts is a dask Bag, .* leave column out",
        ),
        # not skmrl embedders: an AttributeError ('set_output'), or a failure only at compute
        (
            lambda: _series(CORPUS),
            TfidfVectorizer().fit(CORPUS),
            {},
            TypeError,
            "must be a skmrl text embedder .* got TfidfVectorizer$",
        ),
        (
            lambda: _series(CORPUS),
            make_pipeline(TfidfVectorizer()).fit(CORPUS),
            {},
            TypeError,
            "must be a skmrl text embedder .* got TfidfVectorizer$",
        ),
        (
            lambda: _series(CORPUS),
            make_pipeline(TfidfBaseline(dim=4), Normalizer()).fit(CORPUS),
            {"dim": 2},
            TypeError,
            r"for a Pipeline, set it on its first step \(set_params\(tfidfbaseline__dim=2\)\)",
        ),
        (lambda: _series(CORPUS), MatryoshkaAdaptor(), {}, TypeError, "it takes vectors"),
    ],
)
def test_embed_errors_are_clear(texts, embedder, kwargs, error, words):
    if embedder == "fitted":
        embedder = TfidfBaseline(dim=4).fit(CORPUS)
    with pytest.raises(error, match=words):
        embed(texts(), embedder, **kwargs)


def test_embed_names_the_row_of_a_missing_text():
    """The worker's error gave a position within one partition ("position 3 of X"), which
    points at no row of the corpus; it names the row's index too."""
    import dask

    emb = TfidfBaseline(dim=4).fit(CORPUS)
    texts = [*CORPUS[:23], None, *CORPUS[24:]]
    index = [f"doc{i:03d}" for i in range(len(texts))]
    frame = dd.from_pandas(pd.DataFrame({"body": texts}, index=index), npartitions=4)
    with (
        dask.config.set(scheduler="sync"),
        pytest.raises(ValueError, match=r"missing value .* its index in texts: 'doc023'"),
    ):
        embed(frame, emb, column="body").compute()


def test_embed_refuses_a_bag_of_records():
    """A Bag of dicts (db.read_text(...).map(json.loads)) is refused on the workers, not
    embedded as each dict's repr (a str dtype given to the Bag's texts would cast them)."""
    import dask

    emb = TfidfBaseline(dim=4).fit(CORPUS)
    records = db.from_sequence([{"id": i, "body": t} for i, t in enumerate(CORPUS)], 2)
    with (
        dask.config.set(scheduler="sync"),
        pytest.raises(TypeError, match="has type dict"),
    ):
        embed(records, emb, keep_text=True).compute()


# -- grid searches through joblib's dask backend ------------------------------------------------
def _grid(embedder, name: str, dims, n_jobs):
    pipe = make_pipeline(embedder, LogisticRegression(max_iter=500))
    return GridSearchCV(pipe, {f"{name}__dim": dims}, cv=3, n_jobs=n_jobs).fit(CORPUS, LABELS)


@pytest.mark.slow  # three grids on two worker processes that each load torch: ~30 s
def test_grid_search_on_the_cluster_equals_n_jobs_1(client, tiny_bert, tmp_path):
    cases = [
        (TfidfBaseline(max_dim=16), "tfidfbaseline", [2, 4, 16]),
        (
            Word2VecEmbedder(max_dim=16, epochs=2, min_count=1, device="cpu"),
            "word2vecembedder",
            [4, 16],
        ),
        (
            MatryoshkaEmbedder(model=tiny_bert, device="cpu", memory=str(tmp_path / "cache")),
            "matryoshkaembedder",
            [8, 32],
        ),
    ]
    for embedder, name, dims in cases:
        local = _grid(embedder, name, dims, n_jobs=1)
        with joblib.parallel_backend("dask"):
            remote = _grid(embedder, name, dims, n_jobs=-1)
        assert remote.best_params_ == local.best_params_, name
        np.testing.assert_allclose(
            remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=1e-12
        )

    def loaded_models() -> int:
        from skmrl import models

        return len(models._LOADED)

    # each worker loaded the tiny model at most once, however many folds and dims it ran
    assert all(n <= 1 for n in client.run(loaded_models).values())
    # the workers wrote their encodings to the shared disk cache
    assert any((tmp_path / "cache").rglob("*"))


def test_embed_refuses_a_folder_holding_files_it_would_not_replace(tmp_path):
    """A second write with fewer partitions once left the first write's last files in the
    folder: read back, it gave their rows beside the new vectors (32 rows for 12 texts)."""
    pytest.importorskip("pyarrow")
    import dask

    emb = TfidfBaseline(dim=4).fit(CORPUS)
    folder = tmp_path / "vectors"
    with dask.config.set(scheduler="sync"):
        embed(_series(CORPUS, 4), emb, path=str(folder))
        embed(_series(CORPUS, 4), emb, path=str(folder), dim=2)  # a re-run replaces every file
        assert pd.read_parquet(folder).shape == (len(CORPUS), 2)
        with pytest.raises(FileExistsError, match=r"part\.2\.parquet, part\.3\.parquet"):
            embed(_series(CORPUS[:12], 2), emb, path=str(folder))
        embed(_series(CORPUS[:12], 2), emb, path=folder, overwrite=True)
        back = pd.read_parquet(folder).sort_index()
        np.testing.assert_array_equal(back.to_numpy(), emb.transform(CORPUS[:12]))
        embed(_series(CORPUS[12:], 2), emb, path=str(folder), append=True, ignore_divisions=True)
        assert len(pd.read_parquet(folder)) == len(CORPUS)
        # a re-run that writes the metadata files (_metadata, _common_metadata) again finds
        # them no stale files (the first version of the check refused it)
        other = tmp_path / "with_metadata"
        for _ in range(2):
            embed(_series(CORPUS, 3), emb, path=str(other), write_metadata_file=True)
        assert pd.read_parquet(other).shape == (len(CORPUS), 4)


def _embeds_from_the_cache(emb, dim: int) -> None:
    """Two embeds of CORPUS at ``dim`` by the fitted ``emb`` read every vector from the cache
    that ``emb.transform`` filled (no miss), and leave ``emb`` as it was."""
    import dask

    from skmrl.cache import get_embedding_cache

    full = emb.get_params()["dim"]
    expected = emb.transform(CORPUS)
    cache = get_embedding_cache()
    misses = cache.misses
    with dask.config.set(scheduler="sync"):
        for _ in range(2):
            out = embed(_series(CORPUS), emb, dim=dim).compute()
            np.testing.assert_allclose(
                out.to_numpy(), emb.set_params(dim=dim).transform(CORPUS), atol=1e-6
            )
    assert cache.misses == misses
    assert emb.set_params(dim=full).transform(CORPUS).tobytes() == expected.tobytes()


def test_embed_reads_the_vectors_already_cached():
    """embed works on a deep copy of the embedder, which got a fingerprint of its own (0322334):
    every embed then computed every vector again, never reading those that the caller's
    transform, an earlier embed or the disk cache (memory=) held."""
    _embeds_from_the_cache(TfidfBaseline(dim=4).fit(CORPUS), dim=2)


def test_embed_reads_the_vectors_a_fine_tuned_encoder_cached(tiny_bert):
    """A deep copy of a fine-tuned MatryoshkaEmbedder also gets an encoder identity of its own
    (e719e70), which keys its vectors: embed kept the fingerprint but not it, and encoded every
    text again at each call (32 texts, twice)."""
    emb = MatryoshkaEmbedder(tiny_bert, fine_tune="full", device="cpu", epochs=1).fit(CORPUS)
    _embeds_from_the_cache(emb, dim=8)


def test_embed_refuses_an_earlier_writes_metadata_files(tmp_path):
    """_metadata and _common_metadata were let through as "no data": a write of other columns
    left the earlier write's, and dd.read_parquet took its columns from them (KeyError
    "['tfidfbaseline1'] not in index"). A write that makes them anew may find them there."""
    pytest.importorskip("pyarrow")
    import dask

    emb = TfidfBaseline(dim=2).fit(CORPUS)
    folder = tmp_path / "vectors"
    with dask.config.set(scheduler="sync"):
        embed(_series(CORPUS, 2), emb, path=str(folder), write_metadata_file=True)
        with pytest.raises(
            FileExistsError,
            match=r"replace \(_common_metadata, _metadata\): dask's read_parquet would take the "
            r"columns from the earlier write's metadata\. .*write_metadata_file=True",
        ):
            embed(_series(CORPUS, 2), emb, dim=1, keep_text=True, path=str(folder))
        (folder / "_SUCCESS").touch()  # other "_" names are still no data
        embed(_series(CORPUS, 2), emb, dim=1, keep_text=True, path=folder, write_metadata_file=True)
        back = dd.read_parquet(folder).compute().sort_index()
        assert list(back.columns) == ["text", "tfidfbaseline0"] and back["text"].tolist() == CORPUS
        np.testing.assert_array_equal(
            back[["tfidfbaseline0"]].to_numpy(), emb.set_params(dim=1).transform(CORPUS)
        )
        # the same columns again, without write_metadata_file: refused too, since the earlier
        # metadata gave half the rows of a write of more partitions (e9ac0fe let it through)
        texts = dd.from_pandas(pd.Series(CORPUS * 2, index=range(100, 100 + 2 * len(CORPUS))),
                               npartitions=4)  # fmt: skip
        with pytest.raises(FileExistsError, match=r"replace \(_common_metadata, _metadata\)"):
            embed(texts, emb, dim=1, keep_text=True, path=folder)


def test_embed_with_a_pipeline_that_starts_with_an_embedder():
    # It ran before the check of the embedder (a106705), which refused it for a while
    import dask

    from skmrl.cache import get_embedding_cache

    pipe = make_pipeline(TfidfBaseline(dim=8), Normalizer()).fit(CORPUS)
    expected = pipe.transform(CORPUS)
    cache = get_embedding_cache()
    misses = cache.misses
    with dask.config.set(scheduler="sync"):
        out = embed(_series(CORPUS, 3), pipe).compute()
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-6)
    assert cache.misses == misses  # the first step's vectors, as the embedder alone reads them
    with pytest.raises(ValueError, match=r"TfidfBaseline\(dim=None\) gives sparse"):
        embed(_series(CORPUS, 3), make_pipeline(TfidfBaseline(), Normalizer()).fit(CORPUS))
    svd = make_pipeline(TfidfBaseline(), TruncatedSVD(5, random_state=0)).fit(CORPUS)
    with dask.config.set(scheduler="sync"):  # dense after the SVD: refused for a while
        out = embed(_series(CORPUS, 3), svd).compute()
    np.testing.assert_allclose(out.to_numpy(), svd.transform(CORPUS), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Pipeline is not fitted"):
        embed(_series(CORPUS, 3), make_pipeline(TfidfBaseline(dim=8), Normalizer()))


def test_embed_with_pipelines_of_any_transformers():
    # A step without get_feature_names_out failed in scikit-learn, a nested Pipeline (pipe[:-1]
    # of one that starts with a Pipeline) was refused as "not a Pipeline", a step giving
    # float64 was declared float32 (and cast so in Parquet), and an unfitted embedder was a
    # plain ValueError, which `except NotFittedError` missed.
    import dask
    from sklearn.exceptions import NotFittedError
    from sklearn.preprocessing import FunctionTransformer

    from skmrl.cache import get_embedding_cache

    weights = np.linspace(1, 2, 4)
    pipes = [
        make_pipeline(TfidfBaseline(dim=4), FunctionTransformer(np.abs)),
        make_pipeline(make_pipeline(TfidfBaseline(dim=4)), Normalizer()),
        make_pipeline(
            TfidfBaseline(dim=4),
            FunctionTransformer(lambda X: X * weights, feature_names_out="one-to-one"),
        ),
    ]
    names = [[f"functiontransformer{i}" for i in range(4)], None, None]
    for pipe, expected_names in zip(pipes, names, strict=True):
        pipe.fit(CORPUS)
        cache = get_embedding_cache()
        misses = cache.misses
        out = embed(_series(CORPUS, 3), pipe)
        assert cache.misses == misses  # nothing encoded to learn the columns
        expected = pipe.transform(CORPUS)
        with dask.config.set(scheduler="sync"):
            frame = out.compute()
        assert list(out.dtypes) == list(frame.dtypes) == [expected.dtype] * 4
        np.testing.assert_allclose(frame.to_numpy(), expected, rtol=1e-6)
        if expected_names is not None:
            assert list(frame.columns) == expected_names
    with pytest.raises(TypeError, match=r"set_params\(pipeline__tfidfbaseline__dim=2\)"):
        embed(_series(CORPUS, 3), pipes[1], dim=2)
    with pytest.raises(NotFittedError, match="TfidfBaseline is not fitted"):
        embed(_series(CORPUS, 3), TfidfBaseline(dim=4))
    model = make_pipeline(TfidfBaseline(dim=4), LogisticRegression()).fit(CORPUS, LABELS)
    with pytest.raises(TypeError, match=r"'logisticregression' .* has no transform: .*pipe"):
        embed(_series(CORPUS, 3), model)
