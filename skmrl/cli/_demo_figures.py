"""The figures of ``skmrl demo``: where they go (checked before any work), and drawing them.

``--plot`` (default ``skmrl-demo.png``): accuracy against ``dim``, one line per embedder, with the
chosen dims ringed. ``--depth-plot`` (default ``skmrl-depth.png``): MiniLM's accuracy over depth
and dim as a heatmap, each depth with its encoding time, the cheapest good cell marked. ``--map``
(default ``skmrl-map.png``): a t-SNE map of the articles coloured by topic, one panel per
embedder. ``--no-plots`` writes none; ``--plot none`` (or ``--depth-plot none``, ``--map none``)
leaves one out. Without matplotlib the default figures are skipped with a one-line warning (so the
demo runs on an install without the ``plot`` extra), and a figure named by the user is an
argument error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skmrl._extras import MATPLOTLIB_MIN, PLOT_INSTALL, missing_requirement
from skmrl._folders import same_file
from skmrl.cli._common import agg_pyplot, plot_problem

#: The figures' files when not named (in the current folder).
DEFAULT_FIGURES = {
    "--plot": "skmrl-demo.png",
    "--depth-plot": "skmrl-depth.png",
    "--map": "skmrl-map.png",
}
#: ``--plot``/``--depth-plot``/``--map`` values that leave that figure out.
_NO_FIGURE = ("", "none")
#: Resolution of the written figures.
_DPI = 150


class FigureNotWritten(Exception):
    """A figure that could not be written (a full disk, a file over its size limit).

    Not an ``OSError``: ``skmrl.cli.main`` reads an ``OSError`` that names no file as a failed
    write to stdout, and matplotlib's does not name the figure's file.
    """


def _save(plt: Any, fig: Any, path: str) -> None:
    """Write ``fig`` to ``path`` and close it; :class:`FigureNotWritten` when it cannot be."""
    try:
        fig.savefig(Path(path).expanduser(), dpi=_DPI)
    except OSError as exc:
        raise FigureNotWritten(f"cannot write the figure {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


def check_figures(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    *,
    map_has_panels: bool,
    depth_runs: bool = True,
    curves_run: bool = True,
) -> None:
    """Set ``args.plot_path``, ``args.depth_plot_path`` and ``args.map_path`` (None: not drawn);
    exit on a problem.

    ``map_has_panels``: whether an embedder the map shows runs (else the default map is left out,
    and a named one is an error); ``depth_runs``: the same for the depth grid's heatmap, and
    ``curves_run`` for the curves (a sweep over dim, which ``--only depth`` alone runs none of).
    """
    given = {"--plot": args.plot, "--depth-plot": args.depth_plot, "--map": args.map}
    named = [option for option, value in given.items() if value is not None]
    args.plot_path = args.depth_plot_path = args.map_path = None
    if args.no_plots:
        if named:
            parser.error(f"argument --no-plots: not allowed with argument {named[0]}")
        return
    # option -> (path, named by the user)
    figures = {
        option: (DEFAULT_FIGURES[option] if value is None else value, value is not None)
        for option, value in given.items()
        if value is None or value.strip().lower() not in _NO_FIGURE
    }
    if "--map" in figures and not map_has_panels:
        if figures["--map"][1]:
            parser.error(
                "argument --map: the map shows TfidfBaseline and MatryoshkaEmbedder; add one of "
                "them to --only, or leave --map out"
            )
        del figures["--map"]
    if "--depth-plot" in figures and not depth_runs:
        if figures["--depth-plot"][1]:
            parser.error(
                "argument --depth-plot: the heatmap shows MiniLM over depth x dim; add depth to "
                "--only, or leave --depth-plot out"
            )
        del figures["--depth-plot"]
    if "--plot" in figures and not curves_run:
        if figures["--plot"][1]:
            parser.error(
                "argument --plot: the curves show the sweeps over dim of TfidfBaseline, "
                "Word2VecEmbedder, MatryoshkaEmbedder and adaptor, not the depth grid; add one "
                "of them to --only, or leave --plot out"
            )
        del figures["--plot"]
    # an old matplotlib too: it refused the legends' placement once the sweep had run
    needs = missing_requirement("matplotlib", MATPLOTLIB_MIN) if figures else None
    if needs is not None:
        for option, (_, explicit) in figures.items():
            if explicit:
                parser.error(f"argument {option}: needs {needs}: {PLOT_INSTALL}")
        missing = needs == "matplotlib"
        why = "matplotlib is not installed" if missing else f"the figures need {needs}"
        print(
            f"skmrl demo: warning: {why}, so no figures are written "
            f"({PLOT_INSTALL}; --no-plots silences this)",
            file=sys.stderr,
        )
        return
    for option, (path, explicit) in figures.items():
        problem = plot_problem(path)
        if problem:
            hint = "" if explicit else f" (the default {option}; name another file, or --no-plots)"
            parser.error(f"argument {option}: {problem}{hint}")
    seen: list[tuple[str, str]] = []  # (option, path) of the figures before
    for option, (path, _) in figures.items():
        for other, other_path in seen:  # another name of one file too (a hard link, Data.png)
            if same_file(path, other_path):
                parser.error(f"argument {option}: {path!r} is also the {other} file")
        seen.append((option, path))
    args.plot_path = figures["--plot"][0] if "--plot" in figures else None
    args.depth_plot_path = figures["--depth-plot"][0] if "--depth-plot" in figures else None
    args.map_path = figures["--map"][0] if "--map" in figures else None


def write_curves(
    curves: Mapping[str, Any], path: str, *, folds: int, n_docs: int, tolerance: float
) -> None:
    """Accuracy against dim (one DimCurve per embedder), the chosen dims ringed, to ``path``."""
    from skmrl.plotting import plot_dim_curves

    plt = agg_pyplot()
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    plot_dim_curves(
        curves,
        ax=ax,
        title=f"BBC News ({n_docs} articles): accuracy against embedding size",
        tolerance=tolerance,
    )
    ax.set_ylabel(f"accuracy ({folds}-fold CV, mean ± std)")
    ax.get_legend().remove()  # the legend goes beside the axes, where it covers no line
    handles, names = ax.get_legend_handles_labels()
    last = sorted(range(len(names)), key=lambda i: names[i].startswith("smallest dim"))  # rings
    fig.legend(
        [handles[i] for i in last], [names[i] for i in last], title="embedder",
        loc="outside right upper",
    )  # fmt: skip
    _save(plt, fig, path)


def write_depth(grid: Any, path: str, *, folds: int, n_docs: int, tolerance: float) -> None:
    """MiniLM's accuracy over depth x dim (a DepthDimCurves) as a heatmap, to ``path``."""
    from skmrl.plotting import plot_depth_dim

    plt = agg_pyplot()
    fig = plot_depth_dim(
        grid,
        title=f"BBC News ({n_docs} articles): MiniLM's accuracy over depth and size "
        f"({folds}-fold CV)",
        tolerance=tolerance,
    )
    fig.axes[0].set_ylabel("layers (encode s / 1,000 articles)")
    _save(plt, fig, path)


def write_map(panels: Mapping[str, Any], texts: list[str], labels: Any, path: str) -> None:
    """A t-SNE map of ``texts`` coloured by topic, one panel per (title -> vectors), to ``path``."""
    from skmrl.plotting import plot_document_map

    plt = agg_pyplot()
    fig = plot_document_map(panels, texts, labels, max_points=len(texts), random_state=0)
    fig.legends[0].set_title("topic")
    fig.suptitle(f"BBC News: {len(texts)} articles mapped to 2-D by t-SNE, coloured by topic")
    _save(plt, fig, path)
