"""Password hashing with Argon2id (memory-hard), and the password rules people are told."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024

# argon2-cffi's defaults are RFC 9106's second recommended profile (64 MiB, t=3, p=4).
_HASHER = PasswordHasher()
# A hash of nothing anyone knows: unknown user names cost as much time as known ones.
_DUMMY_HASH = _HASHER.hash("closeloop-no-such-user-timing-equaliser")


class WeakPassword(ValueError):
    """The password breaks a rule; the message says which."""


def check_policy(password: str, *, username: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password: at least {MIN_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password: at most {MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("password: must not contain the user name")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or broken hash never matches."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
