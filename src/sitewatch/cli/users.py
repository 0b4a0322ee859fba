"""``sitewatch users add|list|remove``: who may sign in to ``sitewatch serve``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.auth.passwords import check_password, read_password_file
from sitewatch.auth.users import (
    ROLES,
    add_user,
    list_users,
    remove_user,
    update_user,
    user_record,
)
from sitewatch.cli.common import console, print_json, workspace_from

users_app = typer.Typer(
    help="Web users of 'sitewatch serve': add, list, set, remove.", no_args_is_help=True
)


def _password(password_file: Path | None) -> str:
    """From the file, else typed twice at a hidden prompt."""
    if password_file is not None:
        return read_password_file(password_file)
    typed = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return check_password(typed)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="Read the password from this file's first line."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the new user as JSON."),
) -> None:
    """Add a user; the password is asked twice (or read from --password-file), never echoed."""
    password = _password(password_file)
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = user_record(add_user(session, name, role, password))
    if as_json:
        print_json(record)
        return
    console.print(f"added user {record['name']!r} ({record['role']})")


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the users as JSON."),
) -> None:
    """Users, their roles and whether they are locked out."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        records = [user_record(user) for user in list_users(session)]
    if as_json:
        print_json(records)
        return
    table = Table("name", "role", "created", "locked until")
    for record in records:
        table.add_row(
            record["name"],
            record["role"],
            record["created_at"][:19],
            (record["locked_until"] or "")[:19],
        )
    console.print(table)


@users_app.command("set")
def users_set(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    role: str | None = typer.Option(None, "--role", help=" | ".join(ROLES)),
    new_password: bool = typer.Option(
        False, "--password", help="Set a new password, asked twice (ends their sessions)."
    ),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="Set the new password from this file's first line."
    ),
    unlock: bool = typer.Option(False, "--unlock", help="Lift a lockout after wrong passwords."),
) -> None:
    """Change a user's role or password, or unlock them (one ledger entry)."""
    password = _password(password_file) if new_password or password_file else None
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = user_record(
            update_user(session, name, role=role, password=password, unlock=unlock)
        )
    console.print(f"updated user {record['name']!r} ({record['role']})")


@users_app.command("remove")
def users_remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
) -> None:
    """Remove a user and end their sessions (their signing key, if any, is kept)."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        remove_user(session, name)
    console.print(f"removed user {name!r}")
