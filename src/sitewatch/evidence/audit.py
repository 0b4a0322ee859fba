"""``ledger verify`` as a whole: the chain, a published head, and the domain tables.

Each part lives in its own module (:mod:`~sitewatch.evidence.ledger`,
:mod:`~sitewatch.evidence.head`, :mod:`~sitewatch.evidence.tables`); this one runs them
in order over one workspace, which the caller should open read-only so that checking
never changes what is checked.
"""

from __future__ import annotations

from sqlalchemy.exc import DatabaseError

from sitewatch.evidence.head import ExpectedHead, check_expected_head
from sitewatch.evidence.ledger import LedgerReport, Problem, verify_ledger
from sitewatch.evidence.tables import table_problems
from sitewatch.workspace import Workspace


def verify_workspace(
    workspace: Workspace, *, check_files: bool = True, expect_head: ExpectedHead | None = None
) -> LedgerReport:
    """Every check ``ledger verify`` makes; chain problems come first, in chain order."""
    report = verify_ledger(workspace, check_files=check_files)
    if not report.readable:
        return report  # the one problem is the damaged database; nothing more can be said
    if expect_head is not None:
        report.expected_head = {"seq": expect_head.seq, "hash": expect_head.hash}
        check_expected_head(workspace, expect_head, report)
    try:
        with workspace.session() as session:
            report.rows_checked, problems = table_problems(session)
    except (DatabaseError, ValueError, TypeError) as exc:
        problems = [Problem(None, f"the sites and assessments tables cannot be read ({exc})")]
    report.problems.extend(problems)
    return report
