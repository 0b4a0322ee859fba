"""What every command shares: the workspace option, output helpers, error handling."""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, ConsoleDimensions
from typer.core import TyperGroup

from sitewatch.errors import ExitCode, SitewatchError
from sitewatch.workspace import Workspace, open_workspace

#: Far wider than any line we print: off a terminal nothing is wrapped or padded to fit.
_PIPE_WIDTH = 10_000


class PlainWhenPiped(Console):
    """A console that prints user text as text and never breaks hashes, ids or paths.

    ``markup=False``: a site named ``[/bold]`` or ``[link=...]`` is printed as typed,
    never interpreted (styles are given as ``style=`` or :class:`rich.text.Text`).
    Off a terminal (a pipe, a file, a test) the output is plain: no width to wrap at
    (``COLUMNS`` is ignored), tables only as wide as their widest cells. Decided at each
    print, not at import, because the stream can change (``TTY_COMPATIBLE=1`` forces a
    terminal, as rich documents).
    """

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, markup=False, highlight=False, emoji=False)

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


#: The OS errors a user can act on (free space, write access), with the words for them.
_ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


class SitewatchGroup(TyperGroup):
    """Every failure below becomes one line on stderr and an :class:`ExitCode`.

    A :class:`SitewatchError` prints its own message; Ctrl-C exits 130; an OS refusal
    (disk full, read-only, permission) names the file; anything else is a bug, reported
    in one line with the traceback saved to a log file (``SITEWATCH_DEBUG=1`` re-raises).
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
        except OSError as error:
            if error.errno not in _ENVIRONMENT_ERRNOS or os.environ.get("SITEWATCH_DEBUG"):
                raise _internal(error) from None
            where = f"{error.filename}: " if error.filename else ""
            fail(f"{where}{_ENVIRONMENT_ERRNOS[error.errno]}", ExitCode.ENVIRONMENT)
        except Exception as error:
            raise _internal(error) from None


def _internal(error: BaseException) -> BaseException:
    """A bug: one line naming a log file that holds the traceback, exit 70."""
    if os.environ.get("SITEWATCH_DEBUG"):
        return error
    with tempfile.NamedTemporaryFile(
        "w", prefix="sitewatch-crash-", suffix=".log", delete=False
    ) as log:
        log.write("".join(traceback.format_exception(error)))
    typer.echo(
        f"error: internal error ({type(error).__name__}: {_one_line(str(error))}); "
        f"please report it with {log.name}",
        err=True,
    )
    return typer.Exit(ExitCode.INTERNAL)


def fail(message: str, code: int) -> None:
    """Print ``error: MESSAGE`` as one plain line on stderr and exit with ``code``."""
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise typer.Exit(code) from None


def _one_line(text: str) -> str:
    """Messages stay one line: control characters (ESC, CR, LF...) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def workspace_from(ctx: typer.Context) -> Workspace:
    """Open the workspace the user pointed at (or the one found from cwd)."""
    state = ctx.find_object(CliState)
    return open_workspace(state.workspace if state else None)


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, no colour, no wrapping.

    ``allow_nan=False``: NaN and Infinity are not JSON, and a reader would choke on them;
    inputs are bounded (:mod:`sitewatch.limits`), so one reaching here is a bug, reported
    as one (exit 70) rather than printed as invalid JSON.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")
