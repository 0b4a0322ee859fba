"""The CLI's shared failure handling: every failure is one line and a documented exit code."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sitewatch.cli.common import SitewatchGroup
from sitewatch.errors import ExitCode, InputError

README = Path(__file__).resolve().parents[2] / "README.md"


def _app_raising(error: BaseException) -> typer.Typer:
    app = typer.Typer(cls=SitewatchGroup, pretty_exceptions_enable=False)

    @app.command()
    def boom() -> None:
        raise error

    @app.command()
    def fine() -> None:
        """A second command, so that typer keeps the group and its error handling."""

    return app


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (InputError("not a number", source="decl.json", item="items[0].lat"), 2, "decl.json"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED, "interrupted"),
        (OSError(errno.ENOSPC, "No space", "/ws/products/x.tif"), 7, "/ws/products/x.tif"),
        (OSError(errno.EROFS, "Read-only", "/ws/sitewatch.db"), 7, "read-only file system"),
        (ZeroDivisionError("division by zero"), ExitCode.INTERNAL, "please report it"),
    ],
)
def test_each_failure_is_one_line_with_its_exit_code(
    error: BaseException, code: int, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SITEWATCH_DEBUG", raising=False)
    result = CliRunner().invoke(_app_raising(error), ["boom"])
    assert result.exit_code == code
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
    assert "Traceback" not in result.output


def test_a_bug_leaves_its_traceback_in_the_named_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEWATCH_DEBUG", raising=False)
    result = CliRunner().invoke(_app_raising(ZeroDivisionError("oops")), ["boom"])
    log = Path(re.search(r"report it with (\S+\.log)", result.output).group(1))
    try:
        assert "ZeroDivisionError: oops" in log.read_text() and "Traceback" in log.read_text()
    finally:
        log.unlink()


def test_debug_mode_re_raises_for_developers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEWATCH_DEBUG", "1")
    result = CliRunner().invoke(_app_raising(ZeroDivisionError("oops")), ["boom"])
    assert isinstance(result.exception, ZeroDivisionError)


def test_control_characters_in_a_message_cannot_break_the_line() -> None:
    result = CliRunner().invoke(_app_raising(InputError("bad name 'a\x1b[2Jb\nc'")), ["boom"])
    assert result.output == "error: bad name 'a\\x1b[2Jb\\nc'\n"


def test_every_exit_code_is_documented_in_the_readme() -> None:
    documented = {int(code) for code in re.findall(r"^\| `?(\d+)`? \|", README.read_text(), re.M)}
    assert {int(code) for code in ExitCode} <= documented


def test_a_closed_pipe_ends_quietly() -> None:
    """``sitewatch ledger list | head -1``: the reader left; that is no bug to report."""
    result = CliRunner().invoke(_app_raising(BrokenPipeError(errno.EPIPE, "Broken pipe")), ["boom"])
    assert result.exit_code == 1 and "internal error" not in result.output
