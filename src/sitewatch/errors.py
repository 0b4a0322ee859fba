"""One error hierarchy whose messages are written for users.

The CLI catches :class:`SitewatchError` and prints ``str(error)`` as one line with a
non-zero exit code, so every message must name the file, item or field at fault and say
what is wrong in words an analyst understands. Anything else escaping to the CLI is a bug.
"""

from __future__ import annotations

from pathlib import Path


class SitewatchError(Exception):
    """Base class: a problem the user can fix, with a message meant for them."""

    exit_code: int = 1


class WorkspaceError(SitewatchError):
    """No workspace found, or it is not usable (missing config, old schema)."""


class InputError(SitewatchError):
    """Bad input data: a file, record or value that cannot be accepted as given."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | Path | None = None, item: str | None = None):
        where = ""
        if source is not None:
            where = f"{source}"
            if item is not None:
                where += f" [{item}]"
            where += ": "
        elif item is not None:
            where = f"{item}: "
        super().__init__(f"{where}{message}")
        self.source = source
        self.item = item


class NotFoundError(SitewatchError):
    """A site, scene or other record that was named does not exist."""

    exit_code = 3


class ConflictError(SitewatchError):
    """The request would break a rule of the catalog, e.g. a duplicate site id."""

    exit_code = 4
