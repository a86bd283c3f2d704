"""The one-line refusal that a subcommand's checks of its arguments and input files end in.

:class:`Refused` names the argument at fault (as argparse does) and says why; a subcommand
reports it as argparse reports a bad argument (``argument DATA: no such file: 'x.csv'``). It has
a module of its own, the one every other module of the CLI's input checks imports. Nothing here
imports torch, scikit-learn, numpy or pandas.
"""

from __future__ import annotations


class Refused(Exception):
    """A bad argument: ``argument`` names it (as argparse does), ``message`` says why.

    Examples
    --------
    >>> from skmrl.cli._refused import Refused
    >>> exc = Refused("--text-col", "no column 'body'")
    >>> f"argument {exc.argument}: {exc.message}"
    "argument --text-col: no column 'body'"
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message
