"""The typer ``app``, its two consoles, option types shared by several commands, and ``main``.

Command modules import from here and register themselves with ``@app.command()``; this module
imports none of them, so there is no import cycle. ``main`` is the one place that maps
exceptions to exit codes.
"""

from __future__ import annotations

import errno
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from profilerec.errors import UserError

app = typer.Typer(
    name="profilerec",
    help="Textual user profiles from interaction histories: download, prepare, profile, evaluate, compare, report, train, export, serve, run.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# markup=False: paths, specs and error messages are user text; a `[/]` in a path must neither
# crash rich nor change what the user is shown. Style with rich.text.Text where wanted.
#: Progress, status and errors go to stderr, so stdout carries only results.
console = Console(stderr=True, markup=False)
#: Results (tables, "written to" lines).
out = Console(markup=False)


@app.callback()
def _root() -> None:
    """Textual user profiles from interaction histories: download, prepare, profile, evaluate, compare, report, train, export, serve, run."""


#: ``--dtype``, shared by every command that loads a transformers generator.
DtypeOption = Annotated[
    str,
    typer.Option(
        help="transformers weights: auto (bfloat16 where the hardware runs it natively, else float32), float32, bfloat16, float16."
    ),
]


#: ``--device``, shared by every command that runs a transformers generator.
DeviceOption = Annotated[
    str,
    typer.Option(
        help="transformers generator device: auto (cuda when a GPU is visible, else cpu), cpu, cuda, cuda:N."
    ),
]


def _pair(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` from a repeatable option such as ``--column``."""
    if "=" not in text:
        raise UserError(f"--column expects CANONICAL=SOURCE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


#: Exit codes (documented in docs/architecture.md, "Exit codes and warnings").
EXIT_OK, EXIT_INTERNAL, EXIT_USER, EXIT_INTERRUPTED = 0, 1, 2, 130


def _error(message: str) -> None:
    """One line on stderr, ``error: ...``, the message printed verbatim (no markup)."""
    console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


def _interrupted() -> NoReturn:
    console.print("interrupted; finished work is kept")
    sys.exit(EXIT_INTERRUPTED)


def _no_space(exc: BaseException) -> str | None:
    """ "no space left on device: PATH" when ``exc`` (or its cause) is a full disk.

    Python's OSError carries errno 28, often without a file name (the write fails after
    the open); polars and pyarrow wrap it in their own errors as "(os error 28)". The path
    named is the file's when known, else the command's ``--out``.
    """
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if getattr(seen, "errno", None) == errno.ENOSPC or (
            "No space left on device" in text or "os error 28" in text
        ):
            where = getattr(seen, "filename", None) or _out_argument()
            return f"no space left on device: {where}" if where else "no space left on device"
        seen = seen.__cause__ or seen.__context__
    return None


def _out_argument() -> str | None:
    """The ``--out`` value of the running command line, if any."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--out" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--out="):
            return arg.removeprefix("--out=")
    return None


def _input_error(exc: BaseException) -> str | None:
    """The one-line message for an unreadable input file, or None if ``exc`` is not one.

    A truncated .gz ends in EOFError (typer wraps it in Abort), a corrupt one in BadGzipFile
    or zlib.error; a corrupt parquet file in polars' ComputeError or pyarrow's ArrowInvalid.
    """
    import gzip
    import zlib

    if (full := _no_space(exc)) is not None:
        return full
    if isinstance(exc, EOFError):
        return f"an input file ended early (truncated download?): {exc}"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return f"an input file is not valid gzip: {exc}"
    kinds: list[type[BaseException]] = []
    if "polars" in sys.modules:
        import polars.exceptions as pe

        kinds += [pe.ComputeError, pe.SchemaError, pe.ColumnNotFoundError]
    if "pyarrow" in sys.modules:
        import pyarrow as pa

        kinds.append(pa.ArrowInvalid)
    if kinds and isinstance(exc, tuple(kinds)):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot read an input file (corrupt or not what was expected): {first}"
    return None


def main() -> None:
    """Entry point and the ONE place that maps exceptions to exit codes.

    0 ok; 2 a user's mistake (UserError, usage errors, unreadable inputs, file-system
    problems) as one line; 130 interrupted; 1 anything else (a bug: the traceback is kept).
    The installed typer vendors its own click, so its exception classes are typer's, and in
    non-standalone mode it *returns* 130 for Ctrl-C and the code of any ``Exit`` instead of
    raising.
    """
    from typer import _click

    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        _error(str(exc))
        sys.exit(EXIT_USER)
    except KeyboardInterrupt:  # raised outside typer's own handler (e.g. during teardown)
        _interrupted()
    except _click.exceptions.ClickException as exc:  # usage errors: typer's short message
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort as exc:
        cause = _input_error(exc.__cause__) if exc.__cause__ is not None else None
        if cause:
            _error(cause)
            sys.exit(EXIT_USER)
        console.print("aborted")
        sys.exit(EXIT_INTERNAL)
    except OSError as exc:  # --out is a file, read-only file system, permission denied, ...
        message = _input_error(exc)
        if message is None:
            what = exc.strerror or str(exc)
            where = f": {exc.filename}" if exc.filename else ""
            message = f"{what}{where}"
        _error(message)
        sys.exit(EXIT_USER)
    except Exception as exc:
        message = _input_error(exc)
        if message is None:
            raise
        _error(message)
        sys.exit(EXIT_USER)
    if code == EXIT_INTERRUPTED:
        _interrupted()
    sys.exit(code if isinstance(code, int) else EXIT_OK)
