"""How much memory a fitted state holds, for the byte bound of the in-process fit cache.

A fitted state is a dict of fitted attributes: arrays (an SVD's components, word vectors, an
adaptor's rotation), torch tensors (``fine_tune="full"``'s weights), scipy sparse matrices, and
small objects holding more of them (a ``TfidfVectorizer`` and its vocabulary). Large buffers are
reported by address, so that a buffer two states share (the trained weights, which the
embedder's state and the weights' own state both hold) is counted once in the cache's total;
everything else is summed as the state's own bytes. An estimate: Python objects count what
``sys.getsizeof`` says of them, and the walk stops at a fixed depth and never enters a torch
module (a loaded model belongs to the model registry, not to the state).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

#: Buffers at least this large are told apart by address (shared ones counted once).
_SHARED_MIN_BYTES = 1 << 16
#: How deep the walk goes into containers and objects' attributes.
_MAX_DEPTH = 6


def state_footprint(state: Any) -> tuple[int, dict[int, int]]:
    """``(own_bytes, {address: nbytes})``: the bytes ``state`` holds on its own, and its large
    buffers by address.

    Examples
    --------
    >>> import numpy as np
    >>> from skmrl._state_size import state_footprint
    >>> a = np.zeros((256, 1000))
    >>> own, shared = state_footprint({"components_": a, "copy_": a[:10]})
    >>> list(shared.values())  # the view is the same buffer as the array
    [2048000]
    >>> own < 10_000
    True
    """
    own = 0
    shared: dict[int, int] = {}
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(state, 0)]
    while stack:
        obj, depth = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        buffer = _buffer(obj)
        if buffer is not None:
            address, nbytes = buffer
            if nbytes >= _SHARED_MIN_BYTES:
                shared[address] = max(shared.get(address, 0), nbytes)
            else:
                own += nbytes
            continue
        if hasattr(obj, "tocsr") and hasattr(obj, "nnz"):  # scipy sparse: its arrays
            # one level deeper, as any attribute: an object that makes whatever attribute is
            # asked for (a unittest.mock.Mock) gave a new "sparse" part at each step, for ever
            if depth < _MAX_DEPTH:
                parts = ("data", "indices", "indptr", "row", "col", "offsets")
                stack.extend((getattr(obj, p), depth + 1) for p in parts if hasattr(obj, p))
            continue
        try:
            own += sys.getsizeof(obj)
        except TypeError:  # an extension object without a size
            pass
        if depth >= _MAX_DEPTH or isinstance(obj, str | bytes | int | float | bool):
            continue
        if isinstance(obj, dict):
            if _all_leaves(obj.keys()) and _all_leaves(obj.values()):
                own += _leaves_size(obj.keys(), seen) + _leaves_size(obj.values(), seen)
            else:
                stack.extend((item, depth + 1) for pair in obj.items() for item in pair)
        elif isinstance(obj, list | tuple | set | frozenset):
            if _all_leaves(obj):
                own += _leaves_size(obj, seen)
            else:
                stack.extend((item, depth + 1) for item in obj)
        elif _is_torch_module(obj) or isinstance(obj, type):
            continue
        else:
            attributes = getattr(obj, "__dict__", None)
            if isinstance(attributes, dict):
                stack.append((attributes, depth + 1))
    return own, shared


#: Types counted by their own size and never walked into (the walk's leaves).
_LEAF_TYPES = frozenset({str, bytes, int, float, bool})


def _all_leaves(items: Any) -> bool:
    """Whether every item is a leaf (a word list, a word -> index dict): their sizes are then
    summed at C speed by :func:`_leaves_size`. The walk took 4 s over a 1M-word vocabulary."""
    return set(map(type, items)) <= _LEAF_TYPES


def _leaves_size(items: Any, seen: set[int]) -> int:
    """The summed ``getsizeof`` of the ``items`` not ``seen`` (each object once, as the walk
    counts them: a dict's keys are its word list's strings), which are then ``seen``."""
    by_id = dict(zip(map(id, items), items, strict=True))
    fresh = by_id.keys() - seen
    seen.update(fresh)
    return sum(map(sys.getsizeof, map(by_id.__getitem__, fresh)))


def _buffer(obj: Any) -> tuple[int, int] | None:
    """``(address, nbytes)`` of the memory a NumPy array or torch tensor views, or None."""
    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base.base is not None:  # a view of another object's memory (a tensor's, say)
            return obj.__array_interface__["data"][0], obj.nbytes
        return base.__array_interface__["data"][0], base.nbytes
    if type(obj).__module__.startswith("torch") and hasattr(obj, "untyped_storage"):
        try:
            storage = obj.untyped_storage()
            return int(storage.data_ptr()), int(storage.nbytes())
        except (RuntimeError, TypeError):  # a meta or sparse tensor: no storage of its own
            return None
    return None


def _is_torch_module(obj: Any) -> bool:
    return any(
        cls.__name__ == "Module" and cls.__module__.startswith("torch") for cls in type(obj).__mro__
    )
