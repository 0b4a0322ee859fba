"""A separate process that appends ledger entries, one transaction each, for the tests.

``python -m tests.evidence.appender ROOT COUNT TAG`` prints each seq once committed, so a
test that kills the process knows exactly which entries must survive.
"""

from __future__ import annotations

import sys

from sitewatch.evidence import ledger
from sitewatch.workspace import open_workspace


def main(root: str, count: int, tag: str) -> None:
    with open_workspace(root) as workspace:
        for number in range(count):
            with workspace.session() as session:
                entry = ledger.record(
                    session, kind="scan", payload={"tag": tag, "n": number}, subject_id=tag
                )
                seq = entry.seq
            print(seq, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
