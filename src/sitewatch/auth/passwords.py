"""Passwords: their bounds, reading one from a file, argon2 hashing and checking."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sitewatch import limits
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
    try:
        with path.open("rb") as stream:
            data = stream.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", source=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=path) from None
    if len(data) > _MAX_FILE_BYTES:
        raise InputError(f"larger than {_MAX_FILE_BYTES} bytes: not a password file", source=path)
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
