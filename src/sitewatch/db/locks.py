"""The lock that serialises ledger appends across processes, on either backend.

An append reads the head of a chain and writes head + 1; two processes doing that at
once would fork the chain. The lock is taken inside the caller's transaction and released
by its commit or rollback, so the change and its ledger entry stay one unit.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Any fixed 64-bit number works; this one reads "ledger" in ASCII.
LEDGER_LOCK_KEY = 0x6C6564676572


def lock_ledger(session: Session) -> None:
    """Block until this transaction holds the ledger's append lock.

    PostgreSQL: a transaction-scoped advisory lock; the next statement
    (READ COMMITTED) then sees every append committed before the lock was granted.

    SQLite: the database's single write lock, taken by a write that changes nothing. The
    Python driver opens a transaction only at the first write, so the read of the head
    that follows happens after the lock is held and sees the newest commit. A deferred
    transaction that had *read* first could not be upgraded once another process committed
    (SQLITE_BUSY_SNAPSHOT, which the busy timeout never retries); taking the lock before
    reading is what avoids that.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK_KEY})
    elif bind.dialect.name == "sqlite":
        session.execute(text("UPDATE ledger_entries SET seq = seq WHERE 0 = 1"))
    else:
        raise NotImplementedError(f"no append lock for {bind.dialect.name}")
