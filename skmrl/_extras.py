"""Optional packages (the extras of ``pyproject.toml``), in one place: whether one is usable, and
the one-line error that names what is missing and how to install it.

On an install without the extra a feature that needs it ends in one line such as
``ImportError: skmrl.dask.embed needs dask: pip install 'skmrl[dask]'``, never in the bare
``No module named 'dask'`` of an import deep inside skmrl, nor in an error of the package's own
half-way through the work (an old matplotlib refusing a legend placement, after the sweep).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from types import ModuleType

__all__ = ["MATPLOTLIB_MIN", "PLOT_INSTALL", "import_optional", "missing_requirement"]

#: The ``plot`` extra's matplotlib (pyproject.toml): 3.7 placed legends ``loc="outside ..."``
#: (``plot_document_map``, the figures of ``skmrl demo``).
MATPLOTLIB_MIN = "3.7"
#: How to get the ``plot`` extra (the plots' and the commands' figures say it alike).
PLOT_INSTALL = "pip install 'skmrl[plot]'"


def _version_tuple(version: str) -> tuple[int, ...]:
    """The leading release numbers of ``version`` (``"3.7.0rc1"``: ``(3, 7, 0)``).

    Examples
    --------
    >>> from skmrl._extras import _version_tuple
    >>> _version_tuple("3.7.0rc1"), _version_tuple("2024.12.1"), _version_tuple("dev")
    ((3, 7, 0), (2024, 12, 1), ())
    """
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def missing_requirement(package: str, min_version: str | None = None) -> str | None:
    """What the optional ``package`` (an import name, its distribution's name too) lacks, to
    follow "needs", or None when it is usable; nothing is imported.

    ``"<package>"`` when it is not installed; ``"<package> >= <min_version> (<version> is
    installed)"`` when it is older than ``min_version`` (a version that cannot be read is taken
    as good enough).

    Examples
    --------
    >>> from skmrl._extras import missing_requirement
    >>> missing_requirement("numpy") is None, missing_requirement("no_such_package_xyz")
    (True, 'no_such_package_xyz')
    >>> missing_requirement("numpy", "9999")  # doctest: +ELLIPSIS
    'numpy >= 9999 (... is installed)'
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):  # a broken entry in sys.modules or on the path
        spec = None
    if spec is None:
        return package
    if min_version is None:
        return None
    from importlib import metadata  # here: the commands' start stays without it

    try:
        installed = metadata.version(package)
    except (metadata.PackageNotFoundError, ValueError):
        return None  # a source checkout, say: no metadata to judge by
    found = _version_tuple(installed)
    if found and found < _version_tuple(min_version):
        return f"{package} >= {min_version} ({installed} is installed)"
    return None


def import_optional(
    module: str, what: str, install: str, *, min_version: str | None = None
) -> ModuleType:
    """Import ``module`` of an optional package, or raise one ``ImportError`` that says so.

    Parameters
    ----------
    module : str
        What to import (``"matplotlib.pyplot"``); its top-level package is the one checked.
    what : str
        The feature that needs it, which the message starts with (``"DimCurve.plot"``).
    install : str
        How to get it (``"pip install 'skmrl[plot]'"``).
    min_version : str, optional
        The oldest version of the package that the feature works with.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    ImportError
        ``"<what> needs <package>: <install>"`` when it is not installed, older than
        ``min_version`` or broken (the import's own error is added in parentheses when it names
        another module than the package itself: a dependency of it that is missing).

    Examples
    --------
    >>> from skmrl._extras import import_optional
    >>> import_optional("no_such_package_xyz.sub", "my_feature", "pip install xyz")
    Traceback (most recent call last):
    ...
    ImportError: my_feature needs no_such_package_xyz: pip install xyz
    """
    package = module.partition(".")[0]
    needs = missing_requirement(package, min_version)
    if needs is not None:
        raise ImportError(f"{what} needs {needs}: {install}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").partition(".")[0]
        detail = "" if missing == package else f" ({exc})"
        raise ImportError(f"{what} needs {package}: {install}{detail}") from None
