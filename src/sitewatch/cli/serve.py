"""``sitewatch serve``: the analysts' web workbench on this workspace.

The socket is bound here, before uvicorn starts, so that a port in use or an unknown
host is one ``error:`` line with its exit code (7, 2) rather than uvicorn's log and exit 1.
"""

from __future__ import annotations

import signal
import socket
from types import FrameType

import typer
import uvicorn

from sitewatch.auth.users import list_users
from sitewatch.cli.common import CliState, console, say_on_stderr
from sitewatch.errors import EnvironmentProblem, InputError
from sitewatch.limits import TCP_PORT
from sitewatch.web.app import create_app
from sitewatch.workspace import find_workspace_root


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port (0: any free port, printed)."),
) -> None:
    """Serve the web workbench and its JSON API (docs at /api/docs) until Ctrl-C."""
    TCP_PORT.check(port, item="--port")
    state = ctx.find_object(CliState)
    app = create_app(find_workspace_root(state.workspace if state else None))
    listening = _listen(host, port)
    with app.state.workspace.session() as session:
        if not list_users(session):
            say_on_stderr(
                "note: no web user can sign in yet: add one with 'sitewatch users add NAME "
                "--role analyst' (and 'sitewatch keys create --name NAME')"
            )
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address, as a URL writes it
    bound_port = listening.getsockname()[1]
    console.print(f"sitewatch serving on http://{shown}:{bound_port}/ (Ctrl-C stops)")
    server = _Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[listening])
    if signal.SIGINT in server.stopped_by:
        raise KeyboardInterrupt  # exit 130 like every command, whatever the race below


class _Server(uvicorn.Server):
    """uvicorn's server, remembering which signals stopped it.

    uvicorn re-raises a captured Ctrl-C once it has shut down, but from inside the event
    loop, where Python's asyncio runner may swallow it when the serving task is already
    finishing (seen as exit 0 on a loaded machine); the recorded signal makes the exit
    code not depend on that timing.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped_by: list[int] = []

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopped_by.append(sig)
        super().handle_exit(sig, frame)


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, or the reason it cannot be."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as error:
        raise InputError(
            f"not an address of this machine: {error.strerror}", item="--host"
        ) from None
    listening = socket.socket(family, kind, protocol)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(128)
    except OSError as error:
        listening.close()
        raise EnvironmentProblem(
            f"cannot listen on {host}:{port}: {error.strerror}", source="--port"
        ) from None
    return listening
