"""Embedding past one machine's memory with Dask: a corpus, partition by partition, to Parquet.

Needs the ``dask`` extra (``pip install "skmrl[dask]"``: dask[dataframe] and distributed).

Grid searches need nothing from this module: skmrl's estimators pickle small (a
``MatryoshkaEmbedder`` holds a reference to its model, which each worker process loads once and
keeps), so scikit-learn's own route to a cluster works as it is::

    from dask.distributed import Client
    import joblib

    client = Client("scheduler-address:8786")  # or Client(LocalCluster(n_workers=4))
    with joblib.parallel_backend("dask"):
        GridSearchCV(pipe, {"matryoshkaembedder__dim": [32, 64, 128]}, n_jobs=-1).fit(X, y)

Give the embedder ``memory="/a/shared/folder"`` and the workers share the encoded vectors through
the disk cache (SQLite; the folder must be on a file system every worker sees, and SQLite's
locking must work on it: a local disk, not most network file systems).

Several GPUs: run one worker per GPU, each seeing only its own (``CUDA_VISIBLE_DEVICES=0 dask
worker ...``, ``CUDA_VISIBLE_DEVICES=1 dask worker ...``, one thread per worker), or dask-cuda's
``LocalCUDACluster()``, which does the same; every embedder with ``device="cuda"`` (or
``"auto"``) then runs on the worker's GPU.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from skmrl._validation import check_bool, check_text_embedder

__all__ = ["embed"]


def _require_dask() -> Any:
    """``dask.dataframe`` (which brings pandas and pyarrow), or one ImportError naming the
    ``dask`` extra; before anything else of dask or pandas is imported."""
    from skmrl._extras import import_optional

    return import_optional("dask.dataframe", "skmrl.dask.embed", "pip install 'skmrl[dask]'")


def _text_series(texts: Any, column: str | None) -> tuple[Any, Any]:
    """A dask Series of the texts, from a dask Series, DataFrame (one column) or Bag, and the
    dtype that ``keep_text`` gives them (``None``: their own)."""
    dd = _require_dask()
    import dask.bag as db
    import pandas as pd

    if column is not None and isinstance(texts, (db.Bag, dd.Series)):
        kind = "Bag" if isinstance(texts, db.Bag) else "Series"
        raise TypeError(
            f"column={column!r} names the text column of a DataFrame, but texts is a dask "
            f"{kind}, which holds the texts themselves; leave column out"
        )
    if isinstance(texts, db.Bag):
        # The elements as they are (object: a str dtype would turn a dict or a number into
        # its repr, silently), checked on the workers; kept as the dtype dask gives a column
        # of str, since to_parquet guesses an object column's type from placeholder objects.
        meta = pd.DataFrame({"text": pd.Series(dtype=object)})
        series = texts.map(lambda t: {"text": t}).to_dataframe(meta=meta)["text"]
        return series, dd.from_pandas(pd.DataFrame({"text": ["x"]}), npartitions=1).dtypes["text"]
    if isinstance(texts, dd.DataFrame):
        if column is None:
            if len(texts.columns) != 1:
                raise ValueError(
                    f"texts is a dask DataFrame with {len(texts.columns)} columns "
                    f"({', '.join(map(str, texts.columns))}): pass column= to say which holds "
                    "the texts"
                )
            column = texts.columns[0]
        if column not in texts.columns:
            raise ValueError(
                f"column {column!r} is not in the DataFrame; its columns: "
                + ", ".join(map(str, texts.columns))
            )
        return texts[column], None
    if isinstance(texts, dd.Series):
        return texts, None
    raise TypeError(
        "texts must be a dask Series or DataFrame (dask.dataframe) or a dask Bag of str, got "
        f"{type(texts).__name__}; for texts in memory, call embedder.transform(texts)"
    )


def _first_step(embedder: Any) -> tuple[Any, list[str]]:
    """The estimator a Pipeline (nested ones too: ``pipe[:-1]`` of a Pipeline that starts with
    one) starts with, and the step names down to it (``[]`` for an estimator itself)."""
    path: list[str] = []
    steps = getattr(embedder, "steps", None)
    while isinstance(steps, list) and steps:
        path.append(steps[0][0])
        embedder = steps[0][1]
        steps = getattr(embedder, "steps", None)
    return embedder, path


def _ready_embedder(embedder: Any, dim: int | None) -> tuple[Any, list[str], Any]:
    """A fitted copy of ``embedder`` at ``dim``, its output column names, and their type."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    # anything else failed later, on set_params(dim=) or set_output, or on the workers, only
    # at compute; a Pipeline that starts with one (then a Normalizer, say) ran, and still does
    first, path = _first_step(embedder)
    check_text_embedder(first, "embed the texts with the embedder it adapts")
    if path and dim is not None:
        raise TypeError(
            f"dim={dim} sets a skmrl embedder's dim; for a Pipeline, set it on its first step "
            f"(set_params({'__'.join(path)}__dim={dim})) and leave dim out"
        )
    try:
        check_is_fitted(first)  # a Pipeline's own check reads its last step only
        check_is_fitted(embedder)
    except NotFittedError:
        # sklearn's error (a ValueError too), so that `except NotFittedError` catches it
        raise NotFittedError(
            f"{type(embedder).__name__} is not fitted: fit it first, in memory, on a sample "
            "(a frozen MatryoshkaEmbedder learns nothing from fit: .fit(['any text']) loads "
            "its model)"
        ) from None
    copied = copy.deepcopy(embedder)  # the caller's estimator keeps its own dim
    copied_first, _ = _first_step(copied)
    if "fingerprint_" in vars(first):
        # A deep copy gets a fingerprint of its own, for a state about to be edited; this one
        # changes only dim and the output, which no vector depends on, so it keeps the fitted
        # state's: with a new one, every embed computed every vector again, never reading those
        # the caller, an earlier embed or the disk cache (memory=) already held.
        copied_first.fingerprint_ = first.fingerprint_
    if "encoder_identity_" in vars(first):
        # likewise the fine-tuned encoder's identity (a deep copy's is its own, e719e70), which
        # keys its vectors and the encoder built from its weights: with the copy's, every embed
        # encoded the whole corpus again, and built the encoder again
        copied_first.encoder_identity_ = first.encoder_identity_
    embedder = copied
    if dim is not None:
        embedder.set_params(dim=dim)
    # Arrays, whatever set_output (or sklearn's transform_output) says: a DataFrame indexed
    # 0..n-1 would be realigned on the partition's index below, all NaN where they differ.
    embedder.set_output(transform="default")
    sparse_first = getattr(copied_first, "dim", 0) is None and type(first).__name__ == (
        "TfidfBaseline"
    )
    if not path:  # an skmrl embedder: float32, named by get_feature_names_out
        if sparse_first:
            raise _sparse_tfidf_error()
        return embedder, [str(name) for name in embedder.get_feature_names_out()], np.float32
    # A Pipeline's later steps decide the vectors' type and names: the columns were declared
    # float32 where a step made float64 (and a Parquet write cast them without a word), and a
    # step without get_feature_names_out (a FunctionTransformer) failed in scikit-learn.
    from scipy.sparse import csr_matrix, issparse

    # A vector of the first step's width and kind through the later steps: transforming a text
    # would put a vector in the embedding cache (and encode it), which embed never reads.
    width = len(copied_first.get_feature_names_out())
    row = np.full((1, width), width**-0.5, dtype=np.float32)
    probe = _later_steps(embedder, csr_matrix(row) if sparse_first else row)
    if issparse(probe):  # a Pipeline whose later step makes the vectors dense is fine
        if sparse_first:
            raise _sparse_tfidf_error()
        raise ValueError(
            f"{type(embedder).__name__} gives sparse vectors, which a DataFrame of float "
            "columns cannot hold; end it with a step that makes them dense"
        )
    probe = np.asarray(probe)
    try:
        names = [str(name) for name in embedder.get_feature_names_out()]
    except (AttributeError, TypeError, ValueError):  # a step that cannot name its output
        last = type(embedder.steps[-1][1]).__name__.lower()
        names = [f"{last}{i}" for i in range(probe.shape[1])]
    return embedder, names, probe.dtype


def _later_steps(pipeline: Any, vectors: Any) -> Any:
    """``vectors`` (the first step's output) through a Pipeline's later steps, nested ones
    too."""
    (_, head), *rest = pipeline.steps
    if isinstance(getattr(head, "steps", None), list):
        vectors = _later_steps(head, vectors)
    for name, step in rest:
        if step is None or step == "passthrough":
            continue
        if not hasattr(step, "transform"):
            raise TypeError(
                f"the Pipeline's step {name!r} ({type(step).__name__}) has no transform: embed "
                "takes a Pipeline of transformers (pipe[:-1] leaves out a final model)"
            )
        vectors = step.transform(vectors)
    return vectors


def _sparse_tfidf_error() -> ValueError:
    return ValueError(
        "TfidfBaseline(dim=None) gives sparse TF-IDF vectors, which a DataFrame of float "
        "columns cannot hold; pass dim= (LSA vectors)"
    )


def _embed_partition(
    part: Any,
    embedder: Any,
    names: list[str],
    keep_text: bool,
    text_dtype: Any = None,
    dtype: Any = np.float32,
) -> Any:
    import pandas as pd

    from skmrl._validation import check_documents

    if len(part):
        try:
            docs = check_documents(part, name="a partition of texts")
        except (TypeError, ValueError) as exc:  # a position within one partition: name its row
            bad = next((i for i, doc in enumerate(part) if not isinstance(doc, str)), None)
            if bad is None:  # pragma: no cover - check_documents refuses only non-str elements
                raise
            raise type(exc)(f"{exc}; its index in texts: {part.index[bad]!r}") from None
        vectors = embedder.transform(docs)
    else:
        vectors = np.zeros((0, len(names)), dtype=dtype)
    out = pd.DataFrame(vectors, index=part.index, columns=names)
    if keep_text:
        # the texts' own dtype (str, string or object), or text_dtype (a Bag's)
        out.insert(0, "text", part.array if text_dtype is None else part.astype(text_dtype).array)
    return out


def embed(
    texts: Any,
    embedder: Any,
    *,
    dim: int | None = None,
    column: str | None = None,
    keep_text: bool = False,
    path: str | None = None,
    **parquet_kwargs: Any,
) -> Any:
    """Embed a dask collection of texts partition by partition; optionally write Parquet.

    Each partition is embedded on the worker that holds it with ``embedder.transform``, so the
    corpus can be far larger than any machine's memory. Besides the partitions it is working
    on, each worker process keeps the vectors it made in skmrl's in-memory cache (up to 1 GiB
    by default, per process), which a corpus embedded once does not reuse; to keep a worker's
    memory for partitions, lower the bound on every worker first::

        def no_vector_cache():
            from skmrl.cache import get_embedding_cache

            get_embedding_cache().max_bytes = 0

        client.run(no_vector_cache)

    The embedder enters the task graph once (a ``MatryoshkaEmbedder`` pickles to a reference
    of its model, which each worker loads once).

    Parameters
    ----------
    texts : dask Series, dask DataFrame or dask Bag
        The texts: a Series of str, a DataFrame (``column`` names the text column, needed when
        it has more than one), or a Bag of str. To join the vectors back to their documents,
        pass a Series or DataFrame whose index identifies them (a Bag has no such index, nor
        has ``dd.read_csv``'s, which restarts at 0 in every block: set an id column as the
        index, ``set_index("id", sorted=True)`` when the ids are sorted, or keep the text).
    embedder : fitted skmrl embedder, or a fitted Pipeline that starts with one
        (transformers after it: ``pipe[:-1]`` of a Pipeline ending in a model), fitted in
        memory beforehand (on a sample: TF-IDF and Word2Vec learn their vocabulary
        from it; a frozen ``MatryoshkaEmbedder`` learns nothing). A ``MatryoshkaEmbedder``
        runs on the workers on the device its ``fit`` resolved (``device_``): one fitted where
        ``device="auto"`` found no GPU runs on the workers' CPUs, whatever GPUs they have.
    dim : int, optional
        Embedding size; default the embedder's own ``dim``.
    column : str, optional
        The text column of a DataFrame (a ``TypeError`` for a Series or Bag).
    keep_text : bool, default=False
        Put the text in a first column ``"text"`` beside the vectors.
    path : str, optional
        Write the result to this Parquet folder (one file per partition) and return ``None``;
        ``parquet_kwargs`` go to ``dask.dataframe.to_parquet`` (with ``compute=False``, the
        write is returned, lazy, as ``to_parquet`` returns it). A folder that exists may hold
        only the files this write replaces (``part.0.parquet`` to ``part.<n-1>.parquet`` for
        ``n`` partitions, a re-run of the same write, and dask's ``_metadata`` and
        ``_common_metadata`` with ``write_metadata_file=True``): any other file, such as one of
        an earlier write with more partitions, is a ``FileExistsError``, since reading the
        folder back would give its rows too (and ``dask.dataframe.read_parquet`` takes the
        columns from an earlier ``_metadata``); pass ``overwrite=True`` to empty the folder
        first, or ``append=True`` to add to it.
    **parquet_kwargs : dict
        Passed to ``to_parquet`` (only with ``path``).

    Returns
    -------
    dask DataFrame or None
        Lazy: one float32 column per dimension (named as ``get_feature_names_out`` names them;
        after a Pipeline's later steps, of the type they give, and named ``<last step>0``, ...
        where a step cannot name its output),
        with the index (and divisions) of ``texts``; ``None`` when ``path`` is given (the lazy
        write with ``compute=False``). For a
        Bag, the index is what dask's ``Bag.to_dataframe`` gives: each text's position within
        its partition, restarting at 0 in every partition (so not unique across partitions),
        with unknown divisions. A range over the whole Bag would need every partition's length
        before anything is embedded, a pass over the corpus, which dask itself does not make
        (its ``reset_index`` restarts per partition too).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from skmrl import TfidfBaseline
    >>> from skmrl.dask import embed
    >>> docs = ["the cat sat", "a dog barked", "the cat purred", "dogs and cats"]
    >>> emb = TfidfBaseline(dim=2).fit(docs)
    >>> texts = dd.from_pandas(pd.Series(docs), npartitions=2)
    >>> embed(texts, emb).compute().shape
    (4, 2)
    """
    if parquet_kwargs and path is None:
        raise TypeError(
            f"unexpected keyword arguments {sorted(parquet_kwargs)}: Parquet options apply only "
            "with path="
        )
    check_bool("keep_text", keep_text)
    _require_dask()
    import dask

    series, text_dtype = _text_series(texts, column)
    ready, names, dtype = _ready_embedder(embedder, dim)
    # What an empty partition gives, with the texts' index (its name and dtype: to_parquet
    # writes the index under the name the meta says, and to the type the meta's has).
    meta = _embed_partition(series._meta, ready, names, keep_text, text_dtype, dtype)
    out = series.map_partitions(
        _embed_partition,
        dask.delayed(ready, pure=True),  # one copy of the embedder in the graph
        names,
        keep_text,
        text_dtype,
        dtype,
        meta=meta,
    )
    if path is None:
        return out
    _check_no_stale_files(path, out.npartitions, parquet_kwargs)
    # to_parquet's own answer: None once written, the lazy write with compute=False
    return out.to_parquet(path, **parquet_kwargs)


def _check_no_stale_files(path: Any, npartitions: int, parquet_kwargs: dict[str, Any]) -> None:
    """Refuse a folder holding files that the write would not replace (unless ``overwrite`` or
    ``append`` says what to do with them): ``to_parquet`` writes ``part.0.parquet`` ... over
    what is there and leaves the rest, so a second run with fewer partitions left the first
    run's last files in the folder, and reading it back gave their vectors too (32 rows for 12
    texts), or failed on their other columns."""
    import os

    import fsspec

    if parquet_kwargs.get("overwrite") or parquet_kwargs.get("append"):
        return
    name = parquet_kwargs.get("name_function") or "part.{}.parquet".format
    fs = parquet_kwargs.get("filesystem")
    if fs is None:
        options = parquet_kwargs.get("storage_options") or {}
        fs, root = fsspec.core.url_to_fs(os.fspath(path), **options)
    elif isinstance(fs, fsspec.AbstractFileSystem):
        root = fs._strip_protocol(os.fspath(path))
    else:  # a pyarrow file system, or a bad name_function: to_parquet's own checks
        return
    if not callable(name) or not fs.isdir(root):
        return
    written = {str(name(i)) for i in range(npartitions)}
    # dask's metadata files: dd.read_parquet takes the columns and row groups from _metadata,
    # so an earlier write's made reading the new files fail (KeyError on a column they lack),
    # or, of the same columns, read half the rows of a write of more partitions, and give
    # divisions and filters the earlier index's.
    # to_parquet writes both anew only with write_metadata_file=True (append returned above).
    metadata = {"_metadata", "_common_metadata"}
    if parquet_kwargs.get("write_metadata_file"):
        written |= metadata
    stale = sorted(
        base
        for base in (str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(root, False))
        # other names beginning with "_" or "." are no data to Parquet readers (_SUCCESS, .crc)
        if base not in written and (base in metadata or not base.startswith(("_", ".")))
    )
    if stale:
        shown = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
        if metadata.issuperset(stale):  # only the metadata: rewriting it is enough
            why = "dask's read_parquet would take the columns from the earlier write's metadata"
            rewrite = "write_metadata_file=True to write the metadata anew, "
        else:
            why, rewrite = "read back, the folder would give their rows beside the new vectors", ""
        raise FileExistsError(
            f"{path} already holds files that this write of {npartitions} partitions would not "
            f"replace ({shown}): {why}. Pass overwrite=True to empty it first, append=True to "
            f"add to it, {rewrite}or another path"
        )
