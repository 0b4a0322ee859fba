"""Every single edit to the ledger or to a referenced file is detected and named."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sitewatch.db.models import LedgerEntry
from sitewatch.evidence import keys, ledger
from sitewatch.evidence.chain import entry_digest, sign_digest
from sitewatch.evidence.keys import load_private_key
from sitewatch.workspace import Workspace

ENTRIES = 5


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    """Five entries; entry 3 references products/evidence.bin."""
    product = workspace.products / "evidence.bin"
    product.write_bytes(bytes(range(256)) * 4)
    with workspace.session() as session:
        for number in range(1, ENTRIES + 1):
            ledger.record(
                session,
                kind="detection.run",
                payload={"n": number, "note": "ok"},
                files=[product] if number == 3 else [],
                site_id="s1",
            )
    assert ledger.verify_ledger(workspace).ok
    return workspace


def _sql(workspace: Workspace, statement: str, **params: object) -> None:
    with workspace.engine.begin() as connection:
        connection.execute(text(statement), params)


def _first_problem(workspace: Workspace) -> tuple[int, str]:
    report = ledger.verify_ledger(workspace)
    assert not report.ok
    return report.problems[0].seq, report.problems[0].message


def test_one_byte_of_a_payload(filled: Workspace) -> None:
    _sql(filled, "UPDATE ledger_entries SET payload = REPLACE(payload, 'ok', 'oK') WHERE seq = 2")
    assert _first_problem(filled) == (
        2,
        "recorded contents (payload, files, kind, site, author or time) do not match its hash",
    )


def test_whitespace_in_a_payload(filled: Workspace) -> None:
    _sql(filled, "UPDATE ledger_entries SET payload = payload || ' ' WHERE seq = 4")
    assert _first_problem(filled)[0] == 4


def test_one_byte_of_a_referenced_file(filled: Workspace) -> None:
    product = filled.products / "evidence.bin"
    data = bytearray(product.read_bytes())
    data[100] ^= 1
    product.write_bytes(bytes(data))
    assert _first_problem(filled) == (
        3,
        "file products/evidence.bin does not match its recorded SHA-256",
    )


def test_a_missing_file(filled: Workspace) -> None:
    (filled.products / "evidence.bin").unlink()
    assert _first_problem(filled) == (3, "file products/evidence.bin is missing")


def test_a_deleted_entry(filled: Workspace) -> None:
    _sql(filled, "DELETE FROM ledger_entries WHERE seq = 3")
    seq, message = _first_problem(filled)
    assert (seq, message) == (4, "entry 3 is missing before it")


def test_two_swapped_entries(filled: Workspace) -> None:
    _sql(filled, "UPDATE ledger_entries SET seq = -2 WHERE seq = 2")
    _sql(filled, "UPDATE ledger_entries SET seq = 2 WHERE seq = 3")
    _sql(filled, "UPDATE ledger_entries SET seq = 3 WHERE seq = -2")
    seq, message = _first_problem(filled)
    assert seq == 2 and "prev_hash does not match" in message


def test_a_signature_from_another_key(filled: Workspace) -> None:
    keys.create_key(filled, "mallory")
    forger = load_private_key(filled.root / "keys" / "mallory.pem", "mallory")
    with filled.session() as session:
        entry = session.get(LedgerEntry, 4)
        assert entry is not None
        entry.signature = sign_digest(forger, entry.entry_hash)
    assert _first_problem(filled) == (
        4,
        "signature is not 'workspace''s signature of the entry hash",
    )


def test_an_entry_rewritten_and_resigned_by_another_analyst(filled: Workspace) -> None:
    """Consistent in itself, the forged entry no longer is the one its successor points to."""
    keys.create_key(filled, "mallory")
    forger = load_private_key(filled.root / "keys" / "mallory.pem", "mallory")
    with filled.session() as session:
        entry = session.get(LedgerEntry, 2)
        assert entry is not None
        fields = ledger.entry_fields(entry)
        fields.update(author="mallory", payload='{"n":2,"note":"forged"}')
        entry.author, entry.payload = fields["author"], fields["payload"]
        entry.entry_hash = entry_digest(fields)
        entry.signature = sign_digest(forger, entry.entry_hash)
    assert _first_problem(filled) == (3, "prev_hash does not match the hash of the entry before it")


@pytest.mark.parametrize(
    "column, value",
    [
        ("kind", "'assessment'"),
        ("site_id", "'s2'"),
        ("author", "'someone'"),
        ("created_at", "'2001-01-01 00:00:00.000000'"),
        ("files", "'[]'"),
        ("files", "'{\"path\": 1}'"),
        ("signature", "X'00'"),
    ],
)
def test_any_other_column(filled: Workspace, column: str, value: str) -> None:
    _sql(filled, f"UPDATE ledger_entries SET {column} = {value} WHERE seq = 3")
    assert _first_problem(filled)[0] == 3


def test_problems_after_the_first_are_listed_too(filled: Workspace) -> None:
    for seq in (5, 2):
        _sql(filled, "UPDATE ledger_entries SET payload = payload || ' ' WHERE seq = :seq", seq=seq)
    report = ledger.verify_ledger(filled)
    assert [problem.seq for problem in report.problems] == [2, 5]
    assert str(report.problems[0]).startswith("entry 2: ")
