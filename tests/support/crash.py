"""Run the sitewatch CLI with a crash injected at an exact point, for the crash-safety tests.

``python -m tests.support.crash ACTION WHEN TARGET [--armed-by ARM] -- CLI ARGS...``

``TARGET`` and ``ARM`` are functions named ``module:attribute.path`` (a class method
included, e.g. ``sqlalchemy.orm:Session.commit``). ``ACTION`` happens ``before`` or
``after`` a call of ``TARGET``, the first one once ``ARM`` (when given) has returned:
``kill`` is SIGKILL of this process (a power cut as far as the workspace can tell),
``interrupt`` raises KeyboardInterrupt (Ctrl-C) there. So "after the commit of the
transaction that wrote a ledger entry" is
``kill after sqlalchemy.orm:Session.commit --armed-by sitewatch.evidence.ledger:record``:
the moment is chosen by the code's own boundaries, never by a timer.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: The transaction that wrote a ledger entry (the one naming a product's files).
LEDGER_COMMIT = ("sqlalchemy.orm:Session.commit", "sitewatch.evidence.ledger:record")
LEDGER_RECORD = ("sitewatch.evidence.ledger:record", None)


def run_crashing(
    action: str, when: str, point: tuple[str, str | None], *cli: str
) -> subprocess.CompletedProcess[str]:
    """The CLI with ``cli`` arguments in a child process that crashes at ``point``
    (``(target, armed_by)``, e.g. :data:`LEDGER_COMMIT`) as :func:`main` describes."""
    target, armed_by = point
    arming = ["--armed-by", armed_by] if armed_by else []
    return subprocess.run(
        [sys.executable, "-m", "tests.support.crash", action, when, target, *arming, "--", *cli],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _owner_and_name(spec: str) -> tuple[Any, str]:
    module_name, _, path = spec.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, name


def _wrap(spec: str, before: Callable[[], None], after: Callable[[], None]) -> None:
    owner, name = _owner_and_name(spec)
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before()
        value = original(*args, **kwargs)
        after()
        return value

    setattr(owner, name, wrapper)


def _crash(action: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise KeyboardInterrupt


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tests.support.crash")
    parser.add_argument("action", choices=("kill", "interrupt"))
    parser.add_argument("when", choices=("before", "after"))
    parser.add_argument("target")
    parser.add_argument("--armed-by")
    split = argv.index("--")
    options = parser.parse_args(argv[:split])
    state = {"armed": options.armed_by is None, "fired": False}

    def arm() -> None:
        state["armed"] = True

    def fire(moment: str) -> Callable[[], None]:
        def maybe_crash() -> None:
            if state["armed"] and not state["fired"] and options.when == moment:
                state["fired"] = True
                _crash(options.action)

        return maybe_crash

    if options.armed_by:
        _wrap(options.armed_by, lambda: None, arm)
    _wrap(options.target, fire("before"), fire("after"))
    from sitewatch.cli.main import run

    sys.argv = ["sitewatch", *argv[split + 1 :]]
    run()


if __name__ == "__main__":
    main(sys.argv[1:])
