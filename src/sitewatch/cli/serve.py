"""``sitewatch serve``: the analysts' web workbench on this workspace.

The socket is bound here, before uvicorn starts, so that a port in use or an unknown
host is one ``error:`` line with its exit code (7, 2) rather than uvicorn's log and exit 1.
With ``--workers N`` the same socket is shared by N server processes (uvicorn's
supervisor), each opening the workspace itself: one Python process renders tiles and
pages on one core only.
"""

from __future__ import annotations

import os
import signal
import socket
from types import FrameType

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from sitewatch.auth.users import list_users
from sitewatch.cli.common import CliState, console, say_on_stderr
from sitewatch.errors import EnvironmentProblem, InputError
from sitewatch.limits import SERVE_WORKERS, TCP_PORT
from sitewatch.web.app import SERVED_WORKSPACE, create_app
from sitewatch.workspace import find_workspace_root


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port (0: any free port, printed)."),
    workers: int = typer.Option(
        1, "--workers", help="Server processes sharing the port (one per core serves most)."
    ),
) -> None:
    """Serve the web workbench and its JSON API (docs at /api/docs) until Ctrl-C."""
    TCP_PORT.check(port, item="--port")
    SERVE_WORKERS.check(workers, item="--workers")
    state = ctx.find_object(CliState)
    root = find_workspace_root(state.workspace if state else None)
    app = create_app(root)  # opened here too, so a bad workspace fails before serving
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
    if workers == 1:
        server = _Server(uvicorn.Config(app, log_level="warning"))
        server.run(sockets=[listening])
        stopped_by = server.stopped_by
    else:
        app.state.workspace.close()
        os.environ[SERVED_WORKSPACE] = str(root)  # read by each worker's app factory
        factory = "sitewatch.web.app:app_of_served_workspace"
        config = uvicorn.Config(factory, factory=True, workers=workers, log_level="warning")
        supervisor = _Supervisor(config, sockets=[listening])
        supervisor.run()
        stopped_by = supervisor.stopped_by
    if signal.SIGINT in stopped_by:
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


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, remembering a Ctrl-C as :class:`_Server`
    does (the workers get the terminal's SIGINT too and stop on their own)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.stopped_by: list[int] = []

    def handle_int(self) -> None:
        self.stopped_by.append(signal.SIGINT)
        super().handle_int()


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
