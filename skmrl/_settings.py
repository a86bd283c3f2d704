"""A parameter value's stable repr: cache keys, and the changed-since-fit check.

:func:`stable_repr` reads a parameter value the same in every process (dicts and sets sorted,
nested estimators by their parameters, functions by their code, defaults and closure, arrays
and pandas objects by a hash of their data), so that a fitted state or a vector is cached under
its setting; :func:`recorded_settings` keeps it at fit, and :func:`changed_settings` and
:func:`refuse_changed_settings` tell, after ``set_params`` or a change in place, which
parameters no longer read as they did.
"""

from __future__ import annotations

import functools
import hashlib
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Unkeyable",
    "changed_settings",
    "class_code_key",
    "is_torch_tensor",
    "recorded_settings",
    "refuse_changed_settings",
    "stable_repr",
]


class Unkeyable(Exception):
    """A parameter value with no key that is stable across objects and processes."""


def stable_repr(value: Any, strict: bool = False) -> str:
    """A repr of a parameter value for cache keys (sorted dicts and sets, nested params,
    functions), the same in every process.

    A function is keyed by its module, name, code, defaults and closure, as joblib.Memory keys
    one (not by the globals it reads): a default repr holds its memory address, which CPython
    reuses once the function is freed (two lambdas tried in turn got the same key) and which
    differs from process to process. A ``functools.lru_cache`` wrapper is keyed by the function
    it wraps (a ``functools.wraps`` wrapper is a function: its closure holds the one it wraps),
    NumPy arrays and pandas objects by a hash of their data, a NumPy scalar as the Python
    number it holds (``np.int64(16)`` as ``16``, ``np.float64(1.0)`` as ``1.0``). With
    ``strict``, a value whose repr still holds an address (an object without a repr of its own)
    raises :class:`Unkeyable`: such a value can only be told apart by identity, so a state
    fitted with it must not be cached.
    """
    return _Repr(strict).of(value)


#: Packages whose classes are not keyed by their code (:func:`class_code_key`): skmrl's own,
#: whose version every key holds, and the bases they build on.
_LIBRARY_PACKAGES = frozenset({"skmrl", "sklearn", "builtins", "abc", "typing"})


def class_code_key(cls: type) -> str | None:
    """A hash of the code of ``cls`` and of its bases outside skmrl and scikit-learn (the
    user's own: a subclass of ``MatryoshkaEmbedder``, an embedder of ``BaseEmbedder``): their
    methods' code and defaults (properties, cached properties, static and class methods,
    ``functools.partial`` and ``lru_cache`` attributes, nested classes too) and their class
    attributes (a ``PREFIX = "query: "``); ``None`` when there are none. Cache keys held only
    the class's name: a notebook cell's embedder, edited and run again, was served the vectors
    of its earlier code, in memory and with ``memory=`` on disk in the next run too, and a
    subclass that changed ``_transform_full`` shared its parent's.

    The key is made once per class object, at its first use (a cell run again makes a new
    class object): a counter kept in a class attribute then does not change it at every fit.
    A value with no stable repr (``object()``, a random generator) counts by its type, so that
    the key is the same in every process; what a method's closure holds counts where it is code
    or a constant, not data (a dict of counts). Not seen: module-level functions and constants
    that a method reads, and a class changed in place after its first use. skmrl's own classes
    are covered by its version, which every key holds, so their keys are what they were.

    Examples
    --------
    >>> from skmrl._settings import class_code_key
    >>> from skmrl import TfidfBaseline
    >>> def tokens(self, text):
    ...     return text.split()
    >>> Mine = type("Mine", (TfidfBaseline,), {"__module__": "__main__", "_tokens": tokens})
    >>> class_code_key(TfidfBaseline) is None, len(class_code_key(Mine))
    (True, 40)
    """
    # by identity: a metaclass's own __eq__ (a registry comparing classes by name) made a cell
    # run again find the earlier class's key, and its fitted state
    known = _CLASS_KEYS.get(id(cls))
    if known is not None and known[0]() is cls:
        return known[1]
    key = _class_key(cls, set())
    at = id(cls)
    try:
        ref = weakref.ref(cls, lambda _: _CLASS_KEYS.pop(at, None))
    except TypeError:  # a class that takes no weak reference: keyed anew at each use
        return key
    _CLASS_KEYS[at] = (ref, key)
    return key


#: :func:`class_code_key`'s keys, made once per class object: ``id(cls) -> (weak reference
#: to cls, key)``, the entry dropped when the class is freed.
_CLASS_KEYS: dict[int, tuple[weakref.ref, str | None]] = {}
#: Names every class has that hold no code or setting of the user's (``__firstlineno__``
#: moves with an edit above the class).
_CLASS_NOISE = frozenset(
    {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__firstlineno__",
     "__static_attributes__", "__annotations__", "__parameters__", "__orig_bases__",
     "__slots__", "_abc_impl"}
)  # fmt: skip


def _class_key(cls: type, inside: set[int]) -> str | None:
    parts = []
    for klass in cls.__mro__:
        if klass.__module__.partition(".")[0] in _LIBRARY_PACKAGES:
            continue
        for name, value in sorted(vars(klass).items()):
            if name in _CLASS_NOISE:
                continue
            try:
                keyed = _value_key(value, inside)
            except Exception:  # a repr that raises, a mock's endless __wrapped__, ...
                keyed = f"<{type(value).__qualname__}>"
            parts.append(f"{klass.__qualname__}.{name}={keyed}")
    if not parts:
        return None
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def _value_key(value: Any, inside: set[int]) -> str:
    """A class attribute's part of :func:`class_code_key`: code by its code, a constant by
    its stable repr, anything else by its type."""
    if isinstance(value, staticmethod | classmethod):
        return _value_key(value.__func__, inside)
    if isinstance(value, property):
        return ",".join(_value_key(f, inside) for f in (value.fget, value.fset, value.fdel))
    if isinstance(value, functools.cached_property):
        return _value_key(value.func, inside)
    if isinstance(value, functools.partial):
        bound = _constant_key((value.args, value.keywords))
        return f"partial({_value_key(value.func, inside)},{bound})"
    if isinstance(value, types.FunctionType):
        return _code_of(value, inside)
    wrapped = getattr(value, "__wrapped__", None)  # functools.lru_cache, functools.wraps
    if isinstance(wrapped, types.FunctionType):
        return f"wrapped({_code_of(wrapped, inside)})"
    if isinstance(value, type):  # a nested class
        if id(value) in inside:
            return "<itself>"
        inside.add(id(value))
        try:
            return f"class({value.__qualname__},{_class_key(value, inside)})"
        finally:
            inside.discard(id(value))
    return _constant_key(value)


def is_torch_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch."""
    return type(value).__module__.partition(".")[0] == "torch" and hasattr(value, "detach")


def _constant_key(value: Any) -> str:
    """``value``'s stable repr where it is data (numbers, text, containers, arrays, frames),
    its own repr for another object, and its type's name where that repr holds an address
    (which differs in every process) or fails. Only data goes through :func:`stable_repr`,
    which reads an object's ``get_params`` and the like: a ``MagicMock`` answered every such
    call with another mock, for 16 s, until the recursion limit."""
    try:
        if is_torch_tensor(value):
            value = value.detach().cpu().numpy()  # a tensor's repr shows a few of its values
        if isinstance(value, _DATA) or type(value).__module__.partition(".")[0] == "pandas":
            return stable_repr(value, strict=True)
        text = repr(value)
    except Exception:  # Unkeyable (an address), or a repr or hash that fails
        return f"<{type(value).__qualname__}>"
    return f"<{type(value).__qualname__}>" if " at 0x" in text else text


#: What :func:`_constant_key` keys by its stable repr.
_DATA = (str, bytes, int, float, complex, bool, type(None), tuple, list, dict, set, frozenset,
         np.ndarray, np.generic)  # fmt: skip


def _code_of(fn: types.FunctionType, inside: set[int]) -> str:
    """A function's part of :func:`class_code_key`: its code, defaults and the code or
    constants its closure holds (``inside``: the functions and classes being keyed, against a
    cycle)."""
    if id(fn) in inside:
        return "<itself>"
    inside.add(id(fn))
    try:
        cells = []
        for content in _closure_contents(fn, empty=None):
            if isinstance(content, type):  # its code is keyed where it is a base
                cells.append(f"{content.__module__}.{content.__qualname__}")
            elif isinstance(content, types.FunctionType):
                cells.append(_code_of(content, inside))
            else:
                # data too (an array, a dict of weights), as keyed once per class: by its type
                # alone, two classes of one factory that differ by the array their methods
                # close over shared their fitted states and vectors
                cells.append(_constant_key(content))
        defaults = _constant_key((fn.__defaults__, fn.__kwdefaults__))
        code = _Repr(strict=False)._code(fn.__code__)
        return f"{fn.__qualname__}:{code}:{defaults}:{cells}"
    finally:
        inside.discard(id(fn))


def _closure_contents(fn: types.FunctionType, empty: Any) -> list[Any]:
    """What each cell of ``fn``'s closure holds, ``empty`` for a cell not bound yet."""
    contents = []
    for cell in fn.__closure__ or ():
        try:
            contents.append(cell.cell_contents)
        except ValueError:  # an empty cell: a name not bound yet
            contents.append(empty)
    return contents


#: ``canon(name, value)``: the value a parameter is read as for its repr (``[8, 16]`` as the
#: sizes ``(8, 16)``); the value itself is kept, for messages and identity.
Canon = Callable[[str, Any], Any]


def _as_is(name: str, value: Any) -> Any:
    return value


def recorded_settings(
    params: dict[str, Any], canon: Canon | None = None
) -> dict[str, tuple[Any, str]]:
    """Each parameter's value and its stable repr now (of ``canon(name, value)``), for
    :func:`changed_settings` to compare with later (a list changed in place is still the same
    object, but no longer reads the same).
    """
    canon = canon or _as_is
    return {k: (v, stable_repr(canon(k, v))) for k, v in params.items()}


def changed_settings(
    fitted: dict[str, tuple[Any, str]], now: dict[str, Any], canon: Canon | None = None
) -> str | None:
    """The parameters of ``now`` that differ from ``fitted`` (:func:`recorded_settings` at fit),
    each with the value fit used, for a message; None when none does.

    A value is unchanged when its stable repr (of ``canon(name, value)``, or of the value itself,
    as a fit recorded it before ``canon`` read it: an older pickle) is the one recorded; a
    callable, or an object with no repr of its own (a ``RandomState``), when it is the very
    object recorded (a memoising tokenizer's repr grows as it runs, and a copy's address is
    another).
    """
    canon = canon or _as_is
    changed = []
    for k, v in now.items():
        if k not in fitted:
            changed.append(k)
            continue
        old, old_repr = fitted[k]
        if old is v and (callable(v) or " at 0x" in old_repr):
            continue
        if stable_repr(canon(k, v)) != old_repr and stable_repr(v) != old_repr:
            changed.append(k)
    if not changed:
        return None
    return "; ".join(
        f"{k}={now[k]!r:.60} (not a parameter at fit)"
        if k not in fitted
        # the value fit used, or, changed in place since, how it read then
        else f"{k}={now[k]!r:.60} (fit used {fitted[k][0]!r:.60})"
        if fitted[k][0] is not now[k]
        else f"{k}={now[k]!r:.60} (changed in place since fit)"
        for k in changed
    )


def refuse_changed_settings(
    fitted: dict[str, tuple[Any, str]],
    now: dict[str, Any],
    may: frozenset[str],
    canon: Canon | None = None,
) -> None:
    """Raise the ``ValueError`` that asks for ``fit`` when a parameter of ``now`` differs from
    ``fitted`` (:func:`recorded_settings` at fit, with the same ``canon``); ``may`` are those
    that may change."""
    names = changed_settings(fitted, now, canon)
    if names:
        raise ValueError(
            f"changed since fit: {names}; call fit again (only {', '.join(sorted(may))} may "
            "change after fit)"
        )


_LRU_CACHE_WRAPPER = type(functools.lru_cache(maxsize=None)(len))


class _Repr:
    """:func:`stable_repr`'s walk; remembers the functions it is inside (a recursive inner
    function's closure holds the function itself)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.inside: set[int] = set()

    def of(self, value: Any) -> str:
        if isinstance(value, dict):
            try:
                keys = sorted(value)
            except TypeError:  # keys that do not compare (types, in a singledispatch registry)
                keys = sorted(value, key=self.of)
            return "{" + ",".join(f"{self.of(k)}:{self.of(value[k])}" for k in keys) + "}"
        if isinstance(value, list | tuple):
            return type(value).__name__ + "(" + ",".join(self.of(v) for v in value) + ")"
        if isinstance(value, set | frozenset):  # a set's order changes with the hash seed
            return type(value).__name__ + "{" + ",".join(sorted(map(self.of, value))) + "}"
        if hasattr(value, "get_params") and not isinstance(value, type):
            return type(value).__qualname__ + self.of(value.get_params(deep=False))
        if hasattr(value, "location") and hasattr(value, "cache"):  # joblib.Memory
            return f"Memory({value.location!r})"
        if isinstance(value, types.FunctionType):
            return self._function(value)
        if isinstance(value, functools.partial):
            return f"partial{self.of((value.func, value.args, value.keywords))}"
        if isinstance(value, types.MethodType):
            return f"method{self.of((value.__func__, value.__self__))}"
        if isinstance(value, _LRU_CACHE_WRAPPER):  # functools.lru_cache: the function it wraps
            return f"lru_cache({self.of(value.__wrapped__)})"
        if isinstance(value, np.number | np.bool_ | np.character):
            # np.int64(16) is the setting 16 (a search distribution's draw, a grid of
            # np.arange): its repr, "np.int64(16)", made a fit with it and one with 16 two
            # settings, so set_params(max_dim=16) after it was refused as a change. Not a
            # scalar no Python type holds (np.longdouble's item() is itself: a recursion
            # without end), nor a datetime64 or timedelta64 (NaT's item() is None, a
            # nanosecond one's an int; np.timedelta64 is an np.signedinteger): their reprs are
            # stable and say what they are.
            item = value.item()
            if not isinstance(value, np.timedelta64) and not isinstance(item, np.generic):
                return self.of(item)
        if isinstance(value, np.ndarray) or type(value).__module__.partition(".")[0] == "pandas":
            # repr shortens a long array to its ends ("..."): the data itself is hashed
            import joblib

            return f"{type(value).__qualname__}({joblib.hash(value)})"
        text = repr(value)
        if self.strict and " at 0x" in text:
            raise Unkeyable(text)
        return text

    def _function(self, fn: types.FunctionType) -> str:
        name = f"{fn.__module__}.{fn.__qualname__}"
        if id(fn) in self.inside:
            return f"function({name},<itself>)"
        self.inside.add(id(fn))
        try:
            cells = _closure_contents(fn, empty="<empty>")
            parts = self.of((fn.__defaults__, fn.__kwdefaults__, tuple(cells)))
            return f"function({name},{self._code(fn.__code__)},{parts})"
        finally:
            self.inside.discard(id(fn))

    def _code(self, code: types.CodeType) -> str:
        """Hash of a function's code: bytecode, constants (nested code too) and names."""
        h = hashlib.sha1(code.co_code)
        for const in code.co_consts:
            h.update(
                (
                    self._code(const) if isinstance(const, types.CodeType) else self.of(const)
                ).encode()
            )
        h.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
        return h.hexdigest()
