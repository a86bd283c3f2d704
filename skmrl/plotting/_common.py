"""What the figures of :mod:`skmrl.plotting` share: pyplot, imported when a figure is drawn (or
one ImportError naming the ``plot`` extra), and the markers that tell apart what shares a colour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Markers, one per round of the colours: of the curves (with a line style each), and of a
#: document map's labels past tab20's 20 colours.
_MARKERS = ("o", "s", "^", "D", "v")


def _pyplot(what: str) -> Any:
    """``matplotlib.pyplot``, or one ImportError naming the ``plot`` extra (missing, or older
    than the extra's 3.7, whose legend placements ``plot_document_map`` uses)."""
    from skmrl._extras import MATPLOTLIB_MIN, PLOT_INSTALL, import_optional

    return import_optional("matplotlib.pyplot", what, PLOT_INSTALL, min_version=MATPLOTLIB_MIN)


def _check_axes(ax: Any) -> None:
    """A ``TypeError`` unless ``ax`` is one matplotlib Axes: the array of them that
    ``plt.subplots(1, 2)`` returns failed deep in the drawing with an AttributeError."""
    from matplotlib.axes import Axes

    if isinstance(ax, Axes):
        return
    if isinstance(ax, np.ndarray | Sequence) and not isinstance(ax, str):
        held = "an array" if isinstance(ax, np.ndarray) else f"a {type(ax).__name__}"
        raise TypeError(
            f"ax must be one matplotlib Axes, got {held} of {np.size(ax)} (plt.subplots(1, 2) "
            "returns an array of Axes): pass one of them, such as axes[0]"
        )
    raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
