"""The ``skmrl`` command.

``skmrl demo`` (:mod:`skmrl.cli.demo`): accuracy against ``dim`` on BBC News (5-fold CV,
LogisticRegression) for each embedder (TfidfBaseline's LSA, Word2VecEmbedder, MatryoshkaEmbedder,
and MatryoshkaEmbedder with a supervised adaptor side by side), from one ``GridSearchCV`` over
``dim`` per embedder, with the time each grid took and the ``dim`` it would pick for each (the
smallest within 0.01 of its best), then MiniLM's accuracy over its depth and ``dim``; it writes
``skmrl-demo.png`` (the curves), ``skmrl-depth.png`` (the depth x dim heatmap) and
``skmrl-map.png`` (a t-SNE map of the articles, TF-IDF beside MiniLM).

``skmrl sweep`` (:mod:`skmrl.cli.sweep`): the same on the user's labelled CSV file, through
:func:`skmrl.evaluation.compare`: the table of accuracy against ``dim`` per embedder, the smallest
``dim`` within a tolerance of the best, and optionally the results as CSV and a plot.

``skmrl embed`` (:mod:`skmrl.cli.embed`): embed the texts of a ``.txt`` file (one per line) or a
CSV column, and write the vectors as ``.npy`` (float32, one row per text) or ``.parquet`` (the
text and its vector).

``skmrl bench`` (:mod:`skmrl.cli.bench`): seconds per 1,000 sentences of TF-IDF, Word2Vec and the
transformer on every available device, measured on this machine.

``skmrl finetune`` (:mod:`skmrl.cli.finetune`): make an encoder Matryoshka from a CSV file (texts,
texts with labels, or scored sentence pairs) and save it as a model folder.

``skmrl cache info`` and ``skmrl cache clear`` (:mod:`skmrl.cli.cache`): what skmrl's disk cache
holds, and emptying it.

Every argument is checked before any work starts (no dataset or model is loaded for a bad one),
and a bad one ends in a one-line argparse error and exit status 2. ``--version`` works on the
command and on every subcommand. This package imports neither torch nor scikit-learn itself: the
subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from skmrl import __version__
from skmrl.cli import bench, cache, demo, embed, finetune, sweep
from skmrl.cli._common import cli_spelling, stdout_to_devnull

__all__ = ["main"]

#: ``skmrl --help``'s description (plain text: argparse prints it as is).
_DESCRIPTION = (
    "skmrl: text embeddings as scikit-learn transformers, with the embedding size (dim) as a "
    "hyperparameter. 'skmrl demo' compares the embedders' accuracy against dim on BBC News; "
    "'skmrl sweep' does the same on your labelled CSV file and picks the smallest good dim; "
    "'skmrl embed' writes the vectors of a text or CSV file to .npy or .parquet; "
    "'skmrl bench' times each embedder per 1,000 sentences on every device here; "
    "'skmrl finetune' makes an encoder Matryoshka from a CSV file and saves it; "
    "'skmrl cache' shows or empties the disk cache of encoded vectors and fitted states."
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser with ``--version``; subparsers are of this class too (argparse's
    ``add_subparsers`` makes them of its parser's class), so every subcommand has it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--version",
            action="version",
            version=f"skmrl {__version__}",
            help="print skmrl's version and exit",
        )


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="skmrl", description=_DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parser(sub)
    sweep.add_parser(sub)
    embed.add_parser(sub)
    bench.add_parser(sub)
    finetune.add_parser(sub)
    cache.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skmrl`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a bad argument (argparse exits with it itself),
        1 when the work could not be done (or its report: a full disk under ``> log``),
        130 when interrupted (Ctrl-C), 143 when ended by
        SIGTERM (``timeout``, ``kill``; it unwinds as for Ctrl-C), 141 when the reader of its
        output stopped reading (a pipe into ``head``), as for a Unix tool ended by SIGPIPE.

    Examples
    --------
    >>> from skmrl.cli import main
    >>> main(["demo", "--only", "TfidfBaseline", "--dims", "8", "16"])  # doctest: +SKIP
    >>> main(["sweep", "data.csv", "--text-col", "text", "--label-col", "y"])  # doctest: +SKIP
    """
    restore_stdout = _escape_what_stdout_cannot_encode()
    try:
        args = _build_parser().parse_args(argv)
        formatwarning = warnings.formatwarning
        # A warning reads as one line of the command's own, not as a line of skmrl's source.
        warnings.formatwarning = _one_line_warning(
            f"skmrl {args.command}", getattr(args, "parser", None)
        )
        restore_sigterm = _terminate_as_interrupt()
        try:
            status = args.func(args)
            _flush_stdout()  # a full disk fails here, not at exit in Python's own trace
            return status
        except _Terminated:
            print("terminated", file=sys.stderr)
            return 143
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return _stopped_reading()
        except OSError as exc:
            # The command's work reports its own errors (one line each); one that escapes it
            # is stdout's only where a write to stdout failed: a write to a file on a full
            # disk names no file either (a figure matplotlib writes, ENOSPC or EFBIG)
            if not _stdout_failed(exc):
                raise
            return _cannot_write_stdout(f"skmrl {args.command}", exc)
        finally:
            restore_sigterm()
            warnings.formatwarning = formatwarning
            from skmrl.cli._common import restore_matplotlib_backend

            restore_matplotlib_backend()  # where a command drew figures
    finally:
        restore_stdout()


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it unwinds as for Ctrl-C."""


def _terminate_as_interrupt() -> Callable[[], object]:
    """Make SIGTERM unwind the command as Ctrl-C does; return what puts the handler back.

    ``timeout``, ``kill``, a job scheduler and ``docker stop`` end a process with SIGTERM, whose
    default ends it at once: no ``finally`` runs, so ``skmrl finetune -o MODEL`` stopped while
    it swapped the new model in left the old one under a hidden name beside an empty MODEL, and
    an interrupted write left its temporary file. The handler raises :class:`_Terminated` (a
    KeyboardInterrupt: every clean-up of skmrl's runs for it), and ``main`` returns 143 (128 +
    15), as for a process ended by the signal. Only where SIGTERM has its default handler, in
    the main thread (a program that called ``main`` with its own handler keeps it).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def terminated(signum: int, frame: Any) -> None:
        # a second SIGTERM, during the clean-up, ends the process at once, as asked
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stopped_reading() -> int:
    """The reader of stdout went away (``skmrl cache info | head -1``): stop quietly, as a Unix
    tool killed by SIGPIPE does, and return its status (128 + 13).

    Python raises BrokenPipeError at the write, a trace of the command's internals, and again
    when it flushes stdout at exit; stdout is pointed at the null device so that nothing more
    fails (Python's documented way, "Note on SIGPIPE" in the signal module).
    """
    stdout_to_devnull()
    return 141


def _flush_stdout() -> None:
    """Flush stdout (none when its descriptor was closed, ``>&-``: Python sets it to None)."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _stdout_failed(exc: OSError) -> bool:
    """Whether ``exc``, escaped from a command, is a write to stdout that failed.

    Only the commands' ``print`` calls and :func:`_flush_stdout` write to stdout, and print is
    a builtin, so a failed print ends the traceback in this package's code; an error written
    by a library (matplotlib saving a figure to a full disk, ``[Errno 28]`` with no file
    name) ends it in the library's. A stdout that still fails to write and flush (a Python
    stream whose write raises) is stdout's too.
    """
    import os

    if exc.filename is not None:
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    here = os.path.dirname(os.path.abspath(__file__))
    if tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == here:
        return True
    try:
        if sys.stdout is not None:
            sys.stdout.write("")
            sys.stdout.flush()
    except OSError:
        return True
    except ValueError:  # closed by someone: not what failed here
        return False
    return False


def _cannot_write_stdout(prog: str, exc: OSError) -> int:
    """Say in one line that stdout cannot be written (``skmrl embed ... > log`` on a full
    disk, a file over its quota) and return 1.

    The write failed with a trace of the command's internals, where nothing caught it, or at
    exit with Python's 'Exception ignored' and status 120; a cron job's log never said why.
    Stdout is then pointed at the null device, so that the text it keeps fails no more.
    """
    with contextlib.suppress(OSError):  # stderr on the same full disk: the status still says
        print(f"{prog}: error: cannot write to the standard output: {exc}", file=sys.stderr)
    stdout_to_devnull()
    return 1


def _escape_what_stdout_cannot_encode() -> Callable[[], None]:
    """Let stdout write a character its encoding lacks as an escape (``\\u0141``), as Python's
    stderr always does, instead of failing; return what puts its error handler back.

    Redirected to a file or a pipe, stdout has the locale's encoding: cp1252 on most Windows
    machines, where a path or a label holding a character beyond it ('Łukasz', Cyrillic,
    Chinese), or the tables' '±' under a Thai code page, ended the command in a
    ``UnicodeEncodeError`` traceback (``skmrl embed ... > log.txt`` failed at its first line).
    """
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or getattr(stream, "errors", None) != "strict":
        return lambda: None
    reconfigure(errors="backslashreplace")

    def restore() -> None:
        with contextlib.suppress(ValueError):  # closed meanwhile
            reconfigure(errors="strict")

    return restore


def _one_line_warning(prog: str, parser: argparse.ArgumentParser | None = None) -> Any:
    """A ``warnings.formatwarning`` that writes ``'<prog>: warning: <message>'``, with the
    parameters that ``parser``'s options set spelled as those options (:func:`cli_spelling`)."""

    def format_warning(
        message: Any, category: Any, filename: str = "", *args: Any, **kwargs: Any
    ) -> str:
        text = str(message)
        if not _from_another_library(str(filename)):
            text = cli_spelling(text, parser)
        return f"{prog}: warning: {text}\n"

    return format_warning


def _from_another_library(filename: str) -> bool:
    """Whether a warning was raised (as its ``stacklevel`` says) inside an installed library
    other than skmrl: torch's "include dim=X" names a parameter of its own functions, not an
    option of the command.

    Examples
    --------
    >>> from skmrl.cli import _from_another_library
    >>> _from_another_library("/venv/lib/python3.12/site-packages/torch/nn/functional.py")
    True
    >>> _from_another_library("/venv/bin/skmrl")
    False
    """
    from pathlib import Path

    path = Path(filename)
    if Path(__file__).resolve().parent.parent in path.resolve().parents:
        return False  # skmrl's own, wherever it is installed
    return any(part in ("site-packages", "dist-packages") for part in path.parts)
