"""What the figures of :mod:`skmrl.plotting` share: pyplot, imported when a figure is drawn (or
one ImportError naming the ``plot`` extra), and the markers that tell apart what shares a colour."""

from __future__ import annotations

from typing import Any

#: Markers, one per round of the colours: of the curves (with a line style each), and of a
#: document map's labels past tab20's 20 colours.
_MARKERS = ("o", "s", "^", "D", "v")


def _pyplot(what: str) -> Any:
    """``matplotlib.pyplot``, or one ImportError naming the ``plot`` extra (missing, or older
    than the extra's 3.7, whose legend placements ``plot_document_map`` uses)."""
    from skmrl._extras import MATPLOTLIB_MIN, PLOT_INSTALL, import_optional

    return import_optional("matplotlib.pyplot", what, PLOT_INSTALL, min_version=MATPLOTLIB_MIN)
