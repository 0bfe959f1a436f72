"""The typer ``app``, its two consoles, option types shared by several commands, and ``main``.

Command modules import from here and register themselves with ``@app.command()``; this module
imports none of them, so there is no import cycle. ``main`` is the one place that maps
exceptions to exit codes.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from profilerec.errors import UserError

app = typer.Typer(
    name="profilerec",
    help="Textual user profiles from interaction histories: prepare, profile, embed, evaluate, train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
#: Progress, status and errors go to stderr, so stdout carries only results.
console = Console(stderr=True)
#: Results (tables, "written to" lines).
out = Console()


@app.callback()
def _root() -> None:
    """Textual user profiles from interaction histories: prepare, profile, embed, evaluate, train."""


#: ``--dtype``, shared by every command that loads a transformers generator.
DtypeOption = Annotated[
    str,
    typer.Option(
        help="transformers weights: auto (bfloat16 where the hardware runs it natively, else float32), float32, bfloat16, float16."
    ),
]


def _pair(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` from a repeatable option such as ``--column``."""
    if "=" not in text:
        raise UserError(f"--column expects CANONICAL=SOURCE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def main() -> None:
    """Entry point: user mistakes become one red line and exit code 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except UserError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted; finished work is kept and a re-run resumes it")
        sys.exit(130)
    except Exception as exc:  # click's own usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
