"""Analysts' Ed25519 keys: private halves as PEM files, public halves in the database.

A private key lives in ``<workspace>/keys/<name>.pem`` with mode 0600 and never enters the
database, so whoever can write the (possibly shared) database still cannot sign as anyone.
The public key is stored raw (32 bytes) in ``analysts`` with its SHA-256 fingerprint, which
analysts publish so that third parties can check an evidence package's keys.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.db.models import Analyst
from sitewatch.errors import ConflictError, InputError, NotFoundError, SitewatchError
from sitewatch.workspace import Workspace

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# cryptography is imported where a key is made, read or written, not with this module:
# it costs ~25 ms, and read-only commands (`sites list`...) import the ledger but never
# touch a key.

KEYS_DIR = "keys"
WORKSPACE_SIGNER = "workspace"
ENV_ANALYST = "SITEWATCH_ANALYST"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def keys_dir(workspace: Workspace) -> Path:
    """The folder holding this workspace's private keys."""
    return workspace.root / KEYS_DIR


def check_name(name: str) -> str:
    """An analyst name is also a file name: letters, digits, ``.``, ``_``, ``-``; 100 at most."""
    if not _NAME.fullmatch(name):
        raise InputError(
            "analyst names use letters, digits, '.', '_' and '-', start with a letter or digit "
            "and have at most 100 characters",
            item=f"name {name!r}",
        )
    return name


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw public key: what an analyst publishes to be recognised."""
    return hashlib.sha256(raw_public_bytes(public_key)).hexdigest()


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_of(analyst: Analyst) -> Ed25519PublicKey:
    """The analyst's public key object, for checking signatures."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(bytes(analyst.public_key))


def public_key_pem(analyst: Analyst) -> bytes:
    """The analyst's public key as SubjectPublicKeyInfo PEM, as evidence packages carry it."""
    from cryptography.hazmat.primitives import serialization

    return public_key_of(analyst).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def create_key(workspace: Workspace, name: str) -> Analyst:
    """Create analyst ``name``: a new key pair, the private half written 0600 under keys/."""
    check_name(name)
    with workspace.session() as session:
        return _register_new_key(session, keys_dir(workspace), name)


def get_analyst(session: Session, name: str) -> Analyst:
    """The registered analyst ``name``, or NotFoundError."""
    analyst = session.get(Analyst, name)
    if analyst is None:
        raise NotFoundError(
            f"no analyst named {name!r}: create one with 'sitewatch keys create --name {name}'"
        )
    return analyst


def list_analysts(session: Session) -> list[Analyst]:
    """Every registered analyst, by name."""
    return list(session.scalars(select(Analyst).order_by(Analyst.name)))


def signing_key(
    session: Session, workspace: Workspace, author: str | None
) -> tuple[Analyst, Ed25519PrivateKey]:
    """The analyst who signs, with their private key, inside the caller's transaction.

    ``author`` None means ``$SITEWATCH_ANALYST`` or else the workspace's own key, which is
    created on first use. The caller must already hold the ledger's write lock, so that two
    processes cannot both create the workspace key.
    """
    name = author or os.environ.get(ENV_ANALYST) or WORKSPACE_SIGNER
    folder = keys_dir(workspace)
    analyst = session.get(Analyst, name)
    if analyst is None and name == WORKSPACE_SIGNER:
        analyst = _register_new_key(session, folder, name)
    if analyst is None:
        get_analyst(session, name)  # raises NotFoundError with the way out
    assert analyst is not None
    private_key = load_private_key(folder / f"{name}.pem", name)
    if raw_public_bytes(private_key.public_key()) != bytes(analyst.public_key):
        raise SitewatchError(
            f"the private key {folder / (name + '.pem')} does not belong to analyst {name!r} "
            "registered in the database (another workspace's key?); "
            f"set {ENV_ANALYST} to your own analyst"
        )
    return analyst, private_key


def load_private_key(path: Path, name: str) -> Ed25519PrivateKey:
    """Read an analyst's private key PEM; NotFoundError naming the analyst when absent."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            f"analyst {name!r} has no private key here ({path} is missing): "
            "sign as an analyst whose key this workspace holds"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a usable private key: {exc}", source=path) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("not an Ed25519 private key", source=path)
    return key


def _register_new_key(session: Session, folder: Path, name: str) -> Analyst:
    """Add the analyst row and write its private key; a reused name is a conflict.

    A key file left by an earlier attempt whose transaction rolled back is adopted rather
    than overwritten, so a private key is never destroyed.
    """
    if session.get(Analyst, name) is not None:
        raise ConflictError(f"analyst {name!r} already exists")
    path = folder / f"{name}.pem"
    if path.exists():
        private_key = load_private_key(path, name)
    else:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private_key = Ed25519PrivateKey.generate()
        _write_private_key(path, private_key)
    public_key = private_key.public_key()
    analyst = Analyst(
        name=name, public_key=raw_public_bytes(public_key), fingerprint=fingerprint(public_key)
    )
    session.add(analyst)
    session.flush()
    return analyst


def _write_private_key(path: Path, private_key: Ed25519PrivateKey) -> None:
    """Write 0600 to a temporary name, then link into place: never a partial or shared key."""
    from cryptography.hazmat.primitives import serialization

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(pem)
            stream.flush()
            os.fsync(stream.fileno())
        os.link(temp_name, path)
    except FileExistsError:
        raise ConflictError(f"a private key for {path.stem!r} already exists: {path}") from None
    finally:
        os.unlink(temp_name)
