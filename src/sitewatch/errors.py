"""One error hierarchy whose messages are written for users.

The CLI catches :class:`SitewatchError` and prints ``str(error)`` as one line with a
non-zero exit code, so every message must name the file, item or field at fault and say
what is wrong in words an analyst understands. Anything else escaping to the CLI is a bug.
"""

from __future__ import annotations

import errno
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Every exit status the command line uses, in one table (the README lists the same).

    Scripts tell "the evidence does not check out" (VERIFICATION_FAILED) and "the
    declaration has problems" (FINDINGS) apart from "the command could not run" (the rest).
    """

    OK = 0
    WORKSPACE = 1  # no workspace, or not usable: missing config, old schema, unreadable db
    INPUT = 2  # bad input: a file, record, option or value that cannot be accepted
    NOT_FOUND = 3  # a named site, scene, run, key or other record does not exist
    CONFLICT = 4  # the request would break a catalog rule (duplicate id, busy resource)
    FINDINGS = 5  # verify: something is undeclared or contradicted
    VERIFICATION_FAILED = 6  # ledger, package or file checks found tampering or damage
    ENVIRONMENT = 7  # the machine refused: disk full, read-only or missing file, permission
    INTERNAL = 70  # a bug in sitewatch: a one-line report, the traceback in a log file
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); what was committed stays consistent


class SitewatchError(Exception):
    """Base class: a problem the user can fix, with a message meant for them."""

    exit_code: int = ExitCode.WORKSPACE


class WorkspaceError(SitewatchError):
    """No workspace found, or it is not usable (missing config, old schema)."""


class InputError(SitewatchError):
    """Bad input data: a file, record or value that cannot be accepted as given."""

    exit_code = ExitCode.INPUT

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

    exit_code = ExitCode.NOT_FOUND


class ConflictError(SitewatchError):
    """The request would break a rule of the catalog, e.g. a duplicate site id."""

    exit_code = ExitCode.CONFLICT


class VerificationFailed(SitewatchError):
    """Evidence that does not check out: a broken chain, a bad signature, a changed file."""

    exit_code = ExitCode.VERIFICATION_FAILED


class AccessDenied(SitewatchError):
    """The signed-in user's role does not allow the request (the web answers 403).

    Raised by the service layer (:mod:`sitewatch.auth`), so the rule of who may do what
    lives in one place whatever the presentation; a command would exit 2 like bad input.
    """

    exit_code = ExitCode.INPUT


class LoginRefused(AccessDenied):
    """A wrong name or password, or a locked account (the web answers 401)."""


#: The OS errors a user can act on (free space, write access), with the words for them.
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


class EnvironmentProblem(SitewatchError):
    """The machine refused an operation: disk full, read-only storage, permission denied."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, message: str, *, source: str | Path | None = None):
        super().__init__(f"{source}: {message}" if source is not None else message)
        self.source = source

    @classmethod
    def from_os_error(
        cls, error: OSError, source: str | Path | None = None
    ) -> EnvironmentProblem | None:
        """The user-facing form of an OS refusal in :data:`ENVIRONMENT_ERRNOS`, else None.

        ``source`` names the file the user asked for (an error raised while writing its
        temporary twin, or by ``write()``, names another file or none).
        """
        words = ENVIRONMENT_ERRNOS.get(error.errno or 0)
        if words is None:
            return None
        return cls(words, source=source if source is not None else error.filename)
