"""Figures for choosing ``dim`` and for looking at embeddings (the ``plot`` extra: matplotlib).

Import from this module: ``from skmrl.plotting import plot_dim_curves`` (the functions are not
re-exported from ``skmrl``). Importing it loads neither matplotlib nor torch; each function imports
matplotlib when called and raises an :class:`ImportError` naming ``pip install 'skmrl[plot]'`` when
it is missing.

- :func:`plot_dim_curves`: score against ``dim`` (log2 axis, error bars, one line per embedder),
  with the bytes of one float32 vector on a second x-axis on top.
- :func:`plot_depth_dim`: the score over the encoder's depth and the size (2D Matryoshka) as a
  heatmap, each depth labelled with its encoding time, the cheapest good cell marked.
- :func:`plot_document_map`: a 2-D map of documents (t-SNE, or UMAP) coloured by label, one panel
  per embedder, to show keyword clusters (TF-IDF) beside meaning clusters (an encoder).
- :func:`plot_similarity_heatmap`: the cosine similarities of a handful of sentences under each
  embedder.

Each function returns the matplotlib ``Figure``, or the ``Axes`` it was given with ``ax=``. In a
Jupyter notebook, a call left as a cell's last line shows the figure twice (once drawn at the end
of the cell, once as the cell's value, as with any pyplot figure returned there): assign it
(``fig = plot_dim_curves(...)``) or end the line with ``;``.

The package has one module per job: ``_curves`` (the figures for choosing ``dim``), ``_maps``
(the views of embeddings) and ``_common`` (what both use).
"""

from ._common import _pyplot as _pyplot  # DimCurve.plot and the like, as before the split
from ._curves import draw_depth_dim as draw_depth_dim
from ._curves import draw_dim_curves as draw_dim_curves
from ._curves import plot_depth_dim, plot_dim_curves
from ._maps import plot_document_map, plot_similarity_heatmap

__all__ = [
    "plot_depth_dim",
    "plot_dim_curves",
    "plot_document_map",
    "plot_similarity_heatmap",
]
