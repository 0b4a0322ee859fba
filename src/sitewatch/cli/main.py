"""Entry point: ``sitewatch [--workspace DIR] COMMAND ...``."""

from __future__ import annotations

import gc
from importlib import import_module
from pathlib import Path
from typing import Any, NamedTuple

import typer

from sitewatch import __version__
from sitewatch.cli.common import CliState, SitewatchGroup, console


class LazyCommand(NamedTuple):
    """Where a command lives, and its one-line help for ``sitewatch --help``."""

    module: str
    attribute: str  # a typer.Typer group or a command function
    short_help: str


#: Every command, in the order ``--help`` lists them. A command's
#: module (and what it pulls in: rasterio, xarray, Dask, the networks) is imported only
#: when that command runs, as rasterio's ``rio`` does, so a short command starts fast.
#: ``tests/cli/test_main.py`` checks each short help against the command's own docstring.
COMMANDS: dict[str, LazyCommand] = {
    "sites": LazyCommand(
        "sitewatch.cli.sites",
        "app",
        "The site catalog: add, list, show, edit, remove, import, export.",
    ),
    "imagery": LazyCommand(
        "sitewatch.cli.imagery",
        "app",
        "The imagery catalog: add files or STAC items, list, export STAC.",
    ),
    "chips": LazyCommand(
        "sitewatch.cli.chips",
        "chips",
        "Write a dated true-colour PNG and a Cloud-Optimised GeoTIFF per date of a site.",
    ),
    "detect-pair": LazyCommand(
        "sitewatch.cli.detect",
        "detect_pair",
        "Detect change between two scenes on BEFORE's grid; write change_mask.tif, "
        "change_score.tif, objects.geojson and run.json into --out.",
    ),
    "detect": LazyCommand(
        "sitewatch.cli.detect",
        "detect",
        "Compare the first and last scene of a site within [--before, --after]; store the run.",
    ),
    "runs": LazyCommand("sitewatch.cli.detect", "runs_app", "Stored change detection runs."),
    "model": LazyCommand(
        "sitewatch.cli.model",
        "app",
        "The learned change detector (siamese): train and evaluate its weights.",
    ),
    "timeline": LazyCommand(
        "sitewatch.cli.timeline",
        "timeline",
        "Activity per date: the share of the site that changed since the previous usable date.",
    ),
    "scan": LazyCommand(
        "sitewatch.cli.scan",
        "scan",
        "Scan an area for change between two date windows, tile by tile on Dask.",
    ),
    "scans": LazyCommand(
        "sitewatch.cli.scan", "scans", "List the scans of this workspace, newest first."
    ),
    "scan-tiles": LazyCommand(
        "sitewatch.cli.scan",
        "scan_tiles",
        "List a scan's scored tiles, best first by change score or by likeness to exemplars.",
    ),
    "candidates": LazyCommand(
        "sitewatch.cli.candidates",
        "candidates_app",
        "Scan candidates: list, draw chips, show, promote to a site, dismiss.",
    ),
    "keys": LazyCommand("sitewatch.cli.keys", "keys_app", "Analysts' Ed25519 signing keys."),
    "declare": LazyCommand(
        "sitewatch.cli.declare",
        "declare_app",
        "Declarations: import a state's declared facilities (JSON or CSV), list, show.",
    ),
    "assess": LazyCommand(
        "sitewatch.cli.assess",
        "assess",
        "Record an analyst's assessment of a site on a date, signed in the ledger.",
    ),
    "assessments": LazyCommand(
        "sitewatch.cli.assess", "assessments", "A site's assessments in date order."
    ),
    "verify": LazyCommand(
        "sitewatch.cli.verify",
        "verify",
        "Check a declaration against the catalog, assessments and detection runs.",
    ),
    "sources": LazyCommand(
        "sitewatch.cli.sources",
        "app",
        "Articles and reports as evidence: add, list, show (mentions and claims).",
    ),
    "claims": LazyCommand(
        "sitewatch.cli.claims",
        "app",
        "Claims of sources: list, show, check against a site's imagery, review (signed).",
    ),
    "ledger": LazyCommand("sitewatch.cli.ledger", "ledger_app", "The signed evidence ledger."),
    "report": LazyCommand(
        "sitewatch.cli.report",
        "report_app",
        "Reports: a site's dossier, a declaration's reconciliation (HTML and PDF).",
    ),
    "users": LazyCommand(
        "sitewatch.cli.users",
        "users_app",
        "Web users of 'sitewatch serve': add, list, set, remove.",
    ),
    "serve": LazyCommand(
        "sitewatch.cli.serve",
        "serve",
        "Serve the web workbench and its JSON API (docs at /api/docs) until Ctrl-C.",
    ),
    "init": LazyCommand(
        "sitewatch.cli.workspace",
        "init",
        "Create a workspace: sitewatch.toml, a SQLite database (WAL) and products/.",
    ),
    "db": LazyCommand("sitewatch.cli.workspace", "db_app", "Database schema."),
    "demo": LazyCommand(
        "sitewatch.cli.demo",
        "demo",
        "Build a workspace and run the whole pipeline (offline; synthetic data unless --real).",
    ),
}


def load_command(name: str) -> typer.core.TyperCommand | typer.core.TyperGroup:
    """Import one command's module and build its click command (a group for a Typer app)."""
    entry = COMMANDS[name]
    target = getattr(import_module(entry.module), entry.attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer()
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    return command


class SitewatchCli(SitewatchGroup):
    """The top-level group: its commands are loaded from :data:`COMMANDS` on use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing_help = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: typer.Context, name: str) -> Any:
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        if self._listing_help:  # --help lists names and one line each: import nothing
            return typer.core.TyperCommand(name, help=COMMANDS[name].short_help)
        if name not in self.commands:
            self.add_command(load_command(name), name)
        return self.commands[name]

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        self._listing_help = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing_help = False


app = typer.Typer(
    cls=SitewatchCli,
    help="sitewatch: find, watch and verify military sites from satellite imagery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"sitewatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Workspace folder (default: $SITEWATCH_WORKSPACE, else cwd and its parents).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    ctx.obj = CliState(workspace=workspace)


def run() -> None:
    """Console-script entry point.

    When the command is done, every object is moved out of the garbage collector's reach
    (:func:`gc.freeze`): the interpreter's final collection then has nothing to traverse,
    which saves a short command the ~0.15 s that sweeping SQLAlchemy's and the other
    libraries' object graphs costs at exit. Nothing relies on that collection: workspaces
    close their connections and files explicitly, and atexit handlers still run.
    """
    try:
        app()
    finally:
        gc.freeze()
