"""What every command shares: the workspace option, output helpers, error handling."""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from sitewatch.errors import EnvironmentProblem, ExitCode, SitewatchError
from sitewatch.text import escape_unsafe, python_escape

if TYPE_CHECKING:
    from sitewatch.workspace import Workspace

#: Far wider than any line we print: off a terminal nothing is wrapped or padded to fit.
_PIPE_WIDTH = 10_000


class PlainWhenPiped(Console):
    """A console that prints user text as text and never breaks hashes, ids or paths.

    ``markup=False``: a site named ``[/bold]`` or ``[link=...]`` is printed as typed,
    never interpreted (styles are given as ``style=`` or :class:`rich.text.Text`).
    Every string printed, table cells and titles included, passes :func:`printable_lines`, so
    a name stored with ESC or a bidi override (by an older version, or by hand) cannot
    drive or reorder the reader's terminal; only the line breaks we print are kept.
    Off a terminal (a pipe, a file, a test) the output is plain: no width to wrap at
    (``COLUMNS`` is ignored), tables only as wide as their widest cells. Decided at each
    print, not at import, because the stream can change (``TTY_COMPATIBLE=1`` forces a
    terminal, as rich documents).
    """

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, markup=False, highlight=False, emoji=False)

    def render_str(self, text: str, **options: Any) -> Text:
        """Every ``str`` rich prints comes through here: neutralised before layout."""
        return super().render_str(printable_lines(text), **options)

    @property
    def size(self) -> ConsoleDimensions:
        if self.is_terminal:
            return super().size
        return ConsoleDimensions(_PIPE_WIDTH, super().size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    @property
    def soft_wrap(self) -> bool:  # type: ignore[override]
        """Long lines are left to the terminal (or the reader) to wrap: no newlines added."""
        return not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, _value: bool) -> None:
        """Rich's constructor sets it; the property above decides."""


console = PlainWhenPiped()
err_console = PlainWhenPiped(stderr=True)


@dataclass
class CliState:
    """Options given before the subcommand, handed down through the click context."""

    workspace: Path | None = None


class SitewatchGroup(TyperGroup):
    """Every failure below becomes one line on stderr and an :class:`ExitCode`.

    A :class:`SitewatchError` prints its own message; Ctrl-C exits 130; an OS refusal
    (disk full, read-only, permission) names the file, and a database that cannot grow
    says so; anything else is a bug, reported in one line with the traceback saved to a
    log file (``SITEWATCH_DEBUG=1`` re-raises).
    """

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):  # usage errors, --help, exits
            raise
        except SitewatchError as error:
            fail(str(error), error.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; what was committed is intact", ExitCode.INTERRUPTED)
        except Exception as error:
            if isinstance(error, OSError) and error.errno == errno.EPIPE:
                raise  # `sitewatch ... | head`: the reader left; typer exits quietly
            problem = _environment_problem(error)
            if problem is None or os.environ.get("SITEWATCH_DEBUG"):
                raise _internal(error) from None
            fail(str(problem), problem.exit_code)


def _environment_problem(error: Exception) -> EnvironmentProblem | None:
    """The machine's refusal behind ``error`` (disk full, read-only...), else None.

    The database layer is consulted only when the error came from it (its module is then
    loaded), so commands that never open a database do not import it to handle errors.
    """
    if isinstance(error, OSError):
        return EnvironmentProblem.from_os_error(error)
    database_errors = sys.modules.get("sqlalchemy.exc")
    if database_errors is None or not isinstance(error, database_errors.DBAPIError):
        return None
    from sitewatch.db.engine import database_environment_problem

    return database_environment_problem(error)


def _internal(error: BaseException) -> BaseException:
    """A bug: one line naming a log file that holds the traceback, exit 70."""
    if os.environ.get("SITEWATCH_DEBUG"):
        return error
    with tempfile.NamedTemporaryFile(
        "w", prefix="sitewatch-crash-", suffix=".log", delete=False
    ) as log:
        log.write("".join(traceback.format_exception(error)))
    typer.echo(
        f"error: internal error ({type(error).__name__}: {escape_unsafe(str(error))}); "
        f"please report it with {log.name}",
        err=True,
    )
    return typer.Exit(ExitCode.INTERNAL)


def say_on_stderr(line: str) -> None:
    """One line on stderr, inert: what it quotes (names from a package, a file) is escaped."""
    typer.echo(escape_unsafe(line), err=True)


def fail(message: str, code: int) -> None:
    """Print ``error: MESSAGE`` as one plain line on stderr and exit with ``code``."""
    say_on_stderr(f"error: {message}")
    raise typer.Exit(code) from None


def _json_escape(character: str) -> str:
    return json.dumps(character)[1:-1]


def printable_lines(text: str, escape: Callable[[str], str] = python_escape) -> str:
    """Text to print, inert: control and format characters shown as escapes, line by line.

    ESC, NUL, CR, C1 codes, bidi overrides and the other characters the input checks
    refuse become ``\\x1b``-style escapes (:func:`~sitewatch.catalog.records.escape_unsafe`),
    so the reader sees what is stored and the terminal acts on none of it; only the line
    breaks of our own layout (table cells, JSON) are kept. Line by line because most lines
    are plain and :meth:`str.isprintable` checks one at C speed.
    """
    return "\n".join(escape_unsafe(line, escape=escape) for line in text.split("\n"))


def workspace_from(ctx: typer.Context, *, read_only: bool = False) -> Workspace:
    """Open the workspace the user pointed at (or the one found from cwd).

    ``read_only`` for commands that only read (see :func:`open_workspace`).
    """
    # Imported on use: ``--help``, ``--version`` and ``verify-package`` need no database layer.
    from sitewatch.workspace import open_workspace

    state = ctx.find_object(CliState)
    return open_workspace(state.workspace if state else None, read_only=read_only)


def add_whole_column(table: Table, header: str, values: Iterable[str]) -> None:
    """A column for hashes, fingerprints and ids: never wrapped or cut, even on a terminal.

    An analyst copies these into other commands or publishes them; half a hash is no use.
    """
    widest = max((len(value) for value in values), default=len(header))
    table.add_column(header, no_wrap=True, min_width=max(widest, len(header)))


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, no colour, no wrapping.

    Non-ASCII text stays readable; the characters a terminal would act on (C1 codes,
    bidi overrides...), which JSON need not escape, are written as ``\\uXXXX`` escapes:
    the same data for a parser, inert on a screen. ``allow_nan=False``: NaN and Infinity
    are not JSON, and a reader would choke on them; inputs are bounded
    (:mod:`sitewatch.limits`), so one reaching here is a bug, reported as one (exit 70)
    rather than printed as invalid JSON.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write(printable_lines(text, _json_escape) + "\n")
