"""Passwords: their bounds, reading one from a file, argon2 hashing and checking."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sitewatch import limits
from sitewatch.catalog.formats.files import read_bytes
from sitewatch.errors import InputError
from sitewatch.text import check_text

#: argon2id with the library's defaults (RFC 9106's second recommended profile: 64 MiB,
#: 3 passes): about 50 ms here, so online guessing is slow even before the lockout.
_HASHER = PasswordHasher()

#: A password file holds one line; anything much larger is the wrong file.
_MAX_FILE_BYTES = 4 * limits.PASSWORD_CHARS.high

#: A hash checked when the user does not exist, so that a wrong name takes as long as a
#: wrong password and the answer's timing does not tell which names exist.
_UNKNOWN_USER_HASH = _HASHER.hash("no user has this password")


def check_password(password: str, *, item: str = "password") -> str:
    """``password`` if its length is within bounds and it holds no control character."""
    limits.PASSWORD_CHARS.check(len(password), item=f"{item} length")
    return check_text(password, item)


def read_password_file(path: Path) -> str:
    """The password on the first line of ``path`` (its line break dropped), checked."""
    data = read_bytes(path, limit=_MAX_FILE_BYTES, what="password file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=path) from None
    lines = text.splitlines()
    return check_password(lines[0] if lines else "", item=f"{path}: password")


def hash_password(password: str) -> str:
    """The argon2id hash to store (salted; the password itself is never stored)."""
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; None (no such user) costs the same and fails."""
    try:
        return _HASHER.verify(stored_hash or _UNKNOWN_USER_HASH, password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at login."""
    return _HASHER.check_needs_rehash(stored_hash)
