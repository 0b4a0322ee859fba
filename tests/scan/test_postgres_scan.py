"""A scan stored in a real PostgreSQL database: the scale-out path runs the same code.

Batched tile rows and candidates, the resume marker, a failed tile's row replaced on the
next run, the ranking and the chips drawn on opening a candidate, all on PostgreSQL 15.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client
from sqlalchemy import select, update

from sitewatch.db.models import Candidate, Scan, ScanTile
from sitewatch.scan import store
from sitewatch.scan.candidates import open_candidate
from sitewatch.scan.runner import ScanProgress, prepare_scan, run_scan
from sitewatch.workspace import init_workspace
from tests.scan import synthetic


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
        yield c


class _Stop(Exception):
    pass


def test_scan_on_postgres_resumes_and_retries_failed_tiles(
    tmp_path: Path, postgres_url: str, client: Client
) -> None:
    request = synthetic.scan_request()
    with init_workspace(tmp_path / "ws") as workspace:
        assert workspace.engine.dialect.name == "postgresql"
        synthetic.build_catalog(workspace, tmp_path / "imagery")
        plan = prepare_scan(workspace, request)

        def stop_after_six(progress: ScanProgress) -> None:
            if progress.result is not None and progress.finished == 6:
                raise _Stop

        with pytest.raises(_Stop):
            run_scan(
                workspace, plan, client, on_progress=stop_after_six,
                batch_tiles=3, batch_seconds=math.inf,
            )  # fmt: skip
        with workspace.session() as session:
            assert len(store.finished_keys(session, plan.scan_id)) == 6
            # Pretend one finished tile had failed: the next run must redo it in place.
            retried = session.scalars(select(ScanTile.tile_key).limit(1)).one()
            session.execute(
                update(ScanTile)
                .where(ScanTile.scan_id == plan.scan_id, ScanTile.tile_key == retried)
                .values(status="failed")
            )
        outcome = run_scan(workspace, prepare_scan(workspace, request), client)
        assert outcome.resumed and outcome.tiles_run == 16 - 5
        with workspace.session() as session:
            assert session.get(Scan, plan.scan_id).status == "done"
            assert store.tile_counts(session, plan.scan_id) == {"done": 16}
            ranked = store.list_tiles(session, plan.scan_id, limit=1)
            (found,) = session.scalars(select(Candidate))
            assert ranked[0].tile_key == found.tile_key  # the change block's tile ranks first
            candidate, problem = open_candidate(session, found.id)
            assert problem is None and all(Path(p).is_file() for p in candidate.chips.values())
        with workspace.session() as session:
            assert set(session.get(Candidate, found.id).chips) == {"before", "after"}
