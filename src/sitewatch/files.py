"""Files: their SHA-256, and writes that survive a crash. The one home of both rules.

At the bottom of the layers (nothing of sitewatch but the errors below it), so the
catalog, the evidence ledger, imagery, detection and the trainers all hash and write
files the same way.

**Whole files.** :func:`atomic_output` hands out a temporary sibling; only a block that
succeeds moves it, flushed to disk, onto the target: a reader never sees half a file and
a failed export leaves the previous one in place.

**Crash safety.** The rule for every file a ledger entry names: the file is complete,
flushed to disk (fsync), moved to its final name and that folder entry flushed too,
BEFORE the transaction that records it commits (:func:`publish`). A kill at any instant
then leaves either a committed entry whose files are all there, or files no entry names,
which ``ledger verify`` does not look at (it checks what entries name). No recovery is
needed on open.

Files are written in a staging folder ``.<name>.partial-<random>`` beside their
destination ``<name>`` (:func:`staged`). The process writing one holds an exclusive
``flock`` on it from creation until it removes it, and the kernel drops that lock when the
process dies, ``kill -9`` included. So a staging folder whose lock can be taken belongs
to no live process: the next writer of the same destination removes it, or, in a folder
of destinations each staged by one writer only (detection runs' ids), the next writer in
the folder, which first removes the destination too when no commit names it (the run was
killed between moving its files and committing) (:func:`clear_abandoned`). A live
writer's folder is never touched. ``flock`` is local to a machine: two machines writing
one workspace on a network file system are not protected from each other's cleanup.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sitewatch.errors import EnvironmentProblem, InputError

PARTIAL_MARK = ".partial-"
_HASH_CHUNK = 1 << 20

#: Whether a commit names the destination called this (a run id, a file name).
Committed = Callable[[str], bool]


def sync_file(path: Path) -> None:
    """Flush ``path``'s data to disk: after a power cut it is there whole, not empty."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(path: Path) -> None:
    """Flush ``path``'s entries: a rename into it survives a power cut."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish(source: Path, target: Path) -> None:
    """Move the complete file ``source`` to ``target`` (same file system), durably."""
    sync_file(source)
    os.replace(source, target)
    sync_folder(target.parent)


def _lock(folder: Path) -> int | None:
    """A descriptor holding ``folder``'s exclusive lock, or None when a live process has it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _still_there(folder: Path, descriptor: int) -> bool:
    """Whether ``folder`` is still the folder locked through ``descriptor`` (a cleaner
    removes what it locks, so a writer that locked a removed folder must start again)."""
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(folder))
    except OSError:
        return False


def _new_staging(destination: Path) -> tuple[Path, int]:
    while True:
        folder = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}{PARTIAL_MARK}", dir=destination.parent)
        )
        descriptor = _lock(folder)
        if descriptor is not None and _still_there(folder, descriptor):
            return folder, descriptor
        if descriptor is not None:
            os.close(descriptor)


def _roll_back(destination: Path, committed: Committed | None) -> None:
    """Remove ``destination`` unless a commit names it (or nothing commits it at all)."""
    if committed is None or committed(destination.name):
        return
    if destination.is_dir():
        shutil.rmtree(destination)
    else:
        destination.unlink(missing_ok=True)


def clear_abandoned(
    parent: Path, committed: Committed | None = None, *, name: str | None = None
) -> list[str]:
    """Remove the staging folders in ``parent`` of processes that died; returns the
    destination names they were staging.

    Without ``name``, every one of them, and the destination of each that no commit names
    (for a folder whose destination names are each staged by one writer only, such as
    detection runs' ids: no live process can be writing one). With ``name``, only the
    staging of that destination, which is left as it is: the caller holds that name (in
    the database) and replaces it. Folders a live process holds are never touched.
    """
    pattern = f".{glob.escape(name)}{PARTIAL_MARK}*" if name else f".*{PARTIAL_MARK}*"
    cleared = []
    for folder in sorted(parent.glob(pattern)):
        descriptor = _lock(folder) if folder.is_dir() else None
        if descriptor is None:
            continue
        try:
            if not _still_there(folder, descriptor):
                continue
            staged_name = folder.name[1:].rpartition(PARTIAL_MARK)[0]
            if name is None:
                _roll_back(parent / staged_name, committed)
            shutil.rmtree(folder)
            cleared.append(staged_name)
        finally:
            os.close(descriptor)
    return cleared


@contextmanager
def staged(
    destination: Path, committed: Committed | None = None, *, names_unique: bool = False
) -> Iterator[Path]:
    """A new staging folder beside ``destination``, locked by this process until it ends.

    The caller writes there, moves the files into ``destination`` with :func:`publish` and
    commits what names them, all inside the block. Abandoned staging folders are cleared
    first (:func:`clear_abandoned`): with ``names_unique`` (no two writers ever stage one
    destination name, and ``parent`` holds only such destinations) all of them in the
    parent folder, else those of this destination's name only. On success the staging
    folder is removed. On any exception, Ctrl-C included, ``destination`` is removed
    unless ``committed`` says a commit names it (an interrupt can land after the database
    committed), then the staging folder; when that cannot be decided (the database is
    unreachable) both are left for the next writer.
    """
    parent = destination.parent
    parent.mkdir(parents=True, exist_ok=True)
    clear_abandoned(parent, committed, name=None if names_unique else destination.name)
    folder, descriptor = _new_staging(destination)
    try:
        try:
            yield folder
        except BaseException:
            with contextlib.suppress(Exception):
                _roll_back(destination, committed)
                shutil.rmtree(folder)
            raise
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(descriptor)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read 1 MiB at a time so that large scenes never fill memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_output(path: Path, *, make_folder: bool = False) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write to, moved onto ``path`` if the block succeeds.

    The move is :func:`publish` (flushed to disk first), so a file a ledger entry names
    survives a power cut once the entry commits. The temporary is not created (some
    drivers refuse to open an empty file) and keeps ``path``'s suffix (GDAL's GeoPackage
    chooses behaviour by extension); its name carries this process's id, so temporaries
    of ``path`` left by writers that died are removed by the next write.

    A missing folder (unless ``make_folder``) or a folder at ``path`` is an InputError; a
    full disk or a read-only one an EnvironmentProblem naming ``path``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        raise InputError("folder does not exist", source=folder)
    if path.is_dir():
        raise InputError("is a folder, not a file", source=path)
    _remove_dead_temporaries(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial{path.suffix}")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        publish(temporary, path)
    except OSError as error:  # disk full (exit 7), or a path the OS refuses (exit 2)
        problem = EnvironmentProblem.from_os_error(error, path)
        if problem is not None:
            raise problem from None
        raise InputError(f"cannot write: {error.strerror or error}", source=path) from None
    except EnvironmentProblem as problem:  # a writer's own report, named after our file
        if problem.source is not None:
            raise
        raise EnvironmentProblem(str(problem), source=path) from None
    finally:
        temporary.unlink(missing_ok=True)


def _remove_dead_temporaries(path: Path) -> None:
    prefix = f".{path.name}."
    for temporary in path.parent.glob(f"{glob.escape(prefix)}*.partial{glob.escape(path.suffix)}"):
        pid = temporary.name[len(prefix) :].partition(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            temporary.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a reused pid counts: its file is then kept)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return True


def existing_input(path: Path) -> Path:
    """``path`` absolute with its links followed; InputError if it is missing or a link loop.

    Python raises RuntimeError (3.11) or OSError (3.13) for a loop of symbolic links.
    """
    try:
        resolved = path.expanduser().resolve()
    except (RuntimeError, OSError):
        raise InputError("is a loop of symbolic links", source=path) from None
    if not resolved.exists():
        raise InputError("does not exist", source=resolved)
    return resolved


def check_output_folder(path: Path, option: str) -> Path:
    """``path`` if it is, or can be created as, a folder; else InputError naming ``option``.

    Checked before any work, so a long computation does not end in "File exists" because
    the user named a file (or a path through a file) where a folder of products goes.
    """
    for folder in (path, *path.parents):
        if folder.is_dir():
            return path
        if folder.exists():
            what = "is a file, not a folder" if folder == path else f"{folder} is not a folder"
            raise InputError(what, source=path, item=option)
    return path
