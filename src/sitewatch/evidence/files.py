"""Files referenced by ledger entries: how they are named and fingerprinted.

A file inside the workspace is named by its path relative to the workspace root (so the
workspace can move); a file outside it (imagery left where the user keeps it) by its
absolute path. Both use ``/`` separators.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sitewatch.errors import InputError
from sitewatch.files import sha256_file


@dataclass(frozen=True)
class FileRef:
    """A file to record, with its SHA-256 when the caller has just computed it (large scenes).

    The file is recorded where it is: a product is moved to its final place before the
    commit that names it (:mod:`sitewatch.files`).
    """

    path: Path
    sha256: str | None = None


def stored_path(root: Path, path: Path) -> str:
    """The name under which ``path`` is recorded (see the module docstring)."""
    resolved = path.expanduser().resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def resolve_stored(root: Path, name: str) -> Path:
    """The file a recorded name points at, on this machine."""
    return Path(name) if PurePosixPath(name).is_absolute() else root / name


def file_record(root: Path, item: Path | FileRef) -> dict[str, Any]:
    """``{"path", "sha256", "size"}`` of a file about to be recorded."""
    ref = item if isinstance(item, FileRef) else FileRef(Path(item))
    try:
        size = ref.path.stat().st_size
        digest = ref.sha256 or sha256_file(ref.path)
    except OSError as exc:
        raise InputError(
            f"cannot read a file to record in the ledger: {exc.strerror}", source=ref.path
        ) from exc
    return {"path": stored_path(root, ref.path), "sha256": digest, "size": size}


def files_well_formed(files: Any) -> bool:
    """Whether an entry's file list has the recorded shape (it may come from anywhere)."""
    return isinstance(files, list) and all(
        isinstance(item, dict)
        and isinstance(item.get("path"), str)
        and isinstance(item.get("sha256"), str)
        and isinstance(item.get("size"), int)
        for item in files
    )


def file_problem(path: Path, record: dict[str, Any], cache: dict[Path, str]) -> str | None:
    """What is wrong with a recorded file on disk now, or None; ``cache`` avoids re-hashing."""
    try:
        size = path.stat().st_size
    except OSError:
        return f"file {record['path']} is missing"
    if size != record["size"]:
        return f"file {record['path']} has {size} bytes, {record['size']} were recorded"
    if path not in cache:
        cache[path] = sha256_file(path)
    if cache[path] != record["sha256"]:
        return f"file {record['path']} does not match its recorded SHA-256"
    return None
