"""``sitewatch users add|list|remove``: passwords never echoed or stored, changes in the ledger."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from sitewatch.auth.passwords import password_matches
from sitewatch.cli.main import app
from sitewatch.db.models import LedgerEntry, User
from sitewatch.errors import ExitCode
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli

PASSWORD = "correct horse battery"


def _prompted(cli: RunCli, *args: str, typed: str) -> object:
    return CliRunner().invoke(app, ["--workspace", str(cli.root), "users", *args], input=typed)  # type: ignore[attr-defined]


def _ledger_kinds(cli: RunCli) -> list[tuple[str, str | None]]:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        return [(e.kind, e.subject_id) for e in session.scalars(select(LedgerEntry))]


def test_add_with_a_prompt_list_and_remove(cli: RunCli) -> None:
    added = _prompted(cli, "add", "vera", "--role", "viewer", typed=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    assert PASSWORD not in added.output  # type: ignore[attr-defined]
    listed = cli("users", "list", "--json")
    assert [(u["name"], u["role"]) for u in json.loads(listed.output)] == [("vera", "viewer")]
    assert "hash" not in listed.output and "argon2" not in listed.output
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        user = session.get(User, "vera")
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert password_matches(user.password_hash, PASSWORD)
    assert cli("users", "remove", "vera").exit_code == 0
    assert json.loads(cli("users", "list", "--json").output) == []
    assert _ledger_kinds(cli) == [("user.add", "vera"), ("user.remove", "vera")]


def test_add_with_a_password_file(cli: RunCli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = cli("users", "add", "ada", "--role", "admin", "--password-file", str(secret))
    assert result.exit_code == 0, result.output
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        user = session.get(User, "ada")
        assert user is not None and password_matches(user.password_hash, PASSWORD)


def test_refusals_are_one_line_with_their_exit_code_and_write_nothing(
    cli: RunCli, tmp_path: Path
) -> None:
    short = tmp_path / "short.txt"
    short.write_text("short\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(PASSWORD, encoding="utf-8")
    assert (
        cli("users", "add", "ada", "--role", "admin", "--password-file", str(good)).exit_code == 0
    )
    before = _ledger_kinds(cli)
    for args, code, words in (
        (["add", "x", "--role", "viewer", "--password-file", str(short)], ExitCode.INPUT, "length"),
        (["add", "x", "--role", "root", "--password-file", str(good)], ExitCode.INPUT, "--role"),
        (
            ["add", "x", "--role", "viewer", "--password-file", str(tmp_path / "no")],
            ExitCode.INPUT,
            "not found",
        ),
        (["add", "../x", "--role", "viewer", "--password-file", str(good)], ExitCode.INPUT, "name"),
        (
            ["add", "workspace", "--role", "analyst", "--password-file", str(good)],
            ExitCode.INPUT,
            "own signer",
        ),
        (
            ["add", "ada", "--role", "viewer", "--password-file", str(good)],
            ExitCode.CONFLICT,
            "already exists",
        ),
        (["remove", "nobody"], ExitCode.NOT_FOUND, "no user named 'nobody'"),
    ):
        result = cli("users", *args)
        lines = result.output.strip().splitlines()
        assert result.exit_code == code, (args, result.output)
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], args
    assert _ledger_kinds(cli) == before


def test_a_mistyped_confirmation_is_asked_again(cli: RunCli) -> None:
    typed = f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"
    result = _prompted(cli, "add", "vera", "--role", "viewer", typed=typed)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "do not match" in result.output  # type: ignore[attr-defined]


def test_set_changes_the_role_unlocks_and_takes_a_new_password(cli: RunCli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    assert (
        cli("users", "add", "vera", "--role", "viewer", "--password-file", str(secret)).exit_code
        == 0
    )
    result = cli("users", "set", "vera", "--role", "analyst", "--unlock")
    assert result.exit_code == 0 and result.output == "updated user 'vera' (analyst)\n"
    changed = _prompted(cli, "set", "vera", "--password", typed="another passphrase\n" * 2)
    assert changed.exit_code == 0, changed.output  # type: ignore[attr-defined]
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        user = session.get(User, "vera")
        assert user is not None and user.role == "analyst"
        assert password_matches(user.password_hash, "another passphrase")
    assert _ledger_kinds(cli)[-2:] == [("user.change", "vera"), ("user.change", "vera")]
    nothing = cli("users", "set", "vera")
    assert nothing.exit_code == ExitCode.INPUT and nothing.output.startswith(
        "error: name: nothing to change"
    )
    assert cli("users", "set", "nobody", "--unlock").exit_code == ExitCode.NOT_FOUND
