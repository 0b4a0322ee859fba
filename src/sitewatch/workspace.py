"""Workspaces: a folder with ``sitewatch.toml``, a database and ``products/``.

A command finds its workspace as git finds a repository: an explicit ``--workspace``,
then ``SITEWATCH_WORKSPACE``, then the current folder and its parents. The database URL
comes from ``SITEWATCH_DB_URL`` when set (a team's PostgreSQL/PostGIS), else from the
config file (a SQLite file inside the workspace by default).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sitewatch.db.engine import (
    check_schema,
    create_db_engine,
    create_read_only_engine,
)
from sitewatch.errors import WorkspaceError

CONFIG_NAME = "sitewatch.toml"
DEFAULT_DB_FILE = "sitewatch.db"
PRODUCTS_DIR = "products"
ENV_WORKSPACE = "SITEWATCH_WORKSPACE"
ENV_DB_URL = "SITEWATCH_DB_URL"


@dataclass
class Workspace:
    """An open workspace: its folder, configuration and database engine."""

    root: Path
    config: dict[str, Any]
    engine: Engine
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def products(self) -> Path:
        """Folder for derived files (chips, change maps, exports)."""
        return self.root / PRODUCTS_DIR

    @property
    def database_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed if the block succeeds, rolled back if it raises.

        Code handed only the session finds this workspace with :func:`workspace_of` (the
        ledger needs the keys folder; triage writes chips under ``products/``).
        """
        session = self._sessions()
        session.info["workspace"] = self
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _database_url(root: Path, config: dict[str, Any]) -> str:
    env_url = os.environ.get(ENV_DB_URL)
    if env_url:
        return env_url
    url = str(config.get("database", {}).get("url", f"sqlite:///{DEFAULT_DB_FILE}"))
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        # Relative SQLite paths are relative to the workspace, not to the current folder.
        url = prefix + str((root / url[len(prefix) :]).resolve())
    return url


def _read_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_NAME
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WorkspaceError(f"{root}: not a sitewatch workspace (no {CONFIG_NAME})") from exc
    except NotADirectoryError as exc:
        raise WorkspaceError(f"{root}: not a sitewatch workspace (not a folder)") from exc
    except IsADirectoryError as exc:
        raise WorkspaceError(f"{path}: is a folder, not the workspace's config file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: not valid TOML: {exc}") from exc


def find_workspace_root(explicit: str | Path | None = None, start: Path | None = None) -> Path:
    """The workspace folder to use: explicit, then the environment, then upwards from cwd."""
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    env_root = os.environ.get(ENV_WORKSPACE)
    if env_root:
        return Path(env_root).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceError(
        f"no sitewatch workspace in {here} or its parents: run 'sitewatch init DIR', "
        f"pass --workspace, or set {ENV_WORKSPACE}"
    )


def open_workspace(
    path: str | Path | None = None,
    *,
    check: bool = True,
    start: Path | None = None,
    read_only: bool = False,
) -> Workspace:
    """Open the workspace at ``path`` (or the one found from the environment and cwd).

    With ``check`` the database must already be at the schema this code expects.
    ``read_only`` opens a database that nothing can write through and that leaves the
    folder as it was (see :func:`create_read_only_engine`): what an auditor's check of a
    write-protected copy needs.
    """
    root = find_workspace_root(path, start)
    config = _read_config(root)
    url = _database_url(root, config)
    engine = create_read_only_engine(url) if read_only else create_db_engine(url)
    if check:
        try:
            check_schema(engine)
        except WorkspaceError:
            engine.dispose()
            raise
    return Workspace(root=root, config=config, engine=engine)


def init_workspace(path: str | Path, *, name: str | None = None) -> Workspace:
    """Create (or complete) a workspace at ``path`` and bring its database to the newest schema.

    Running it on an existing workspace is safe: the config is kept and the schema upgraded.
    """
    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root}: exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    (root / PRODUCTS_DIR).mkdir(exist_ok=True)
    config_path = root / CONFIG_NAME
    if not config_path.exists():
        created = datetime.now(UTC).replace(microsecond=0).isoformat()
        config_path.write_text(
            "# sitewatch workspace\n"
            "[workspace]\n"
            f'name = "{_toml_escape(name or root.name)}"\n'
            f'created = "{created}"\n\n'
            "[database]\n"
            "# Relative SQLite paths are inside the workspace. SITEWATCH_DB_URL overrides this,\n"
            "# e.g. postgresql+psycopg://user@host/dbname for a team's PostGIS server.\n"
            f'url = "sqlite:///{DEFAULT_DB_FILE}"\n',
            encoding="utf-8",
        )
    # Imported here: only creating or upgrading a workspace needs Alembic, whose import
    # every other command (opening a workspace) would pay on start-up.
    from sitewatch.db.migrate import upgrade_database

    workspace = open_workspace(root, check=False)
    upgrade_database(workspace.engine)
    return workspace


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def workspace_of(session: Session) -> Workspace:
    """The workspace a session belongs to (one made by :meth:`Workspace.session`).

    The one calling convention for services: a function working inside the caller's
    transaction takes the ``Session`` and, when it also needs files (keys, products),
    asks for the workspace here; a function that reads or writes files and opens its own
    short transactions (a site stack, a scan, an export) takes the ``Workspace``.
    """
    workspace = session.info.get("workspace")
    if not isinstance(workspace, Workspace):
        raise RuntimeError("this needs a session from Workspace.session()")
    return workspace


def committed_by_stem(workspace: Workspace, model: type[Any]) -> Callable[[str], bool]:
    """For :func:`sitewatch.files.staged`: whether a file whose stem is a ``model`` row's id
    (a stored declaration or source copy) belongs to a committed row, i.e. must be kept."""

    def committed(name: str) -> bool:
        with workspace.session() as session:
            return session.get(model, Path(name).stem) is not None

    return committed
