"""Staging folders: a dead writer's are cleared by the next one, a live writer's never."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sitewatch.files import PARTIAL_MARK, clear_abandoned, publish, staged

KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from sitewatch.files import publish, staged
destination = Path(sys.argv[1])
with staged(destination) as staging:
    destination.mkdir()
    (staging / "product").write_text("done")
    publish(staging / "product", destination / "product")
    os.kill(os.getpid(), signal.SIGKILL)  # between moving the files and committing
"""


def _killed_writer(destination: Path) -> None:
    """A writer process killed after publishing into ``destination``, before its commit."""
    child = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(destination)])
    assert child.returncode == -signal.SIGKILL
    assert (destination / "product").is_file()


def test_a_dead_writer_is_cleared_and_its_uncommitted_destination_removed(tmp_path: Path) -> None:
    _killed_writer(tmp_path / "run-a")
    assert clear_abandoned(tmp_path, lambda name: False) == ["run-a"]
    assert list(tmp_path.iterdir()) == []

    _killed_writer(tmp_path / "run-b")
    assert clear_abandoned(tmp_path, lambda name: True) == ["run-b"]
    assert [path.name for path in tmp_path.iterdir()] == ["run-b"]  # committed: kept


def test_by_name_only_that_staging_folder_goes(tmp_path: Path) -> None:
    _killed_writer(tmp_path / "copy")
    _killed_writer(tmp_path / "other")
    assert clear_abandoned(tmp_path, lambda name: False, name="copy") == ["copy"]
    assert sorted(path.name for path in tmp_path.iterdir() if PARTIAL_MARK not in path.name) == [
        "copy",
        "other",
    ]
    assert clear_abandoned(tmp_path, lambda name: False, name="other") == ["other"]


def test_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    with staged(tmp_path / "run-live", lambda name: False, names_unique=True) as staging:
        (tmp_path / "run-live").mkdir()
        (staging / "product").write_text("done")
        publish(staging / "product", tmp_path / "run-live" / "product")
        assert clear_abandoned(tmp_path, lambda name: False) == []
        with staged(tmp_path / "run-other", lambda name: False, names_unique=True):
            assert staging.is_dir() and (tmp_path / "run-live" / "product").is_file()
    assert [path.name for path in tmp_path.iterdir()] == ["run-live"]
