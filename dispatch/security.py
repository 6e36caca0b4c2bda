"""Password hashing with Argon2id (argon2-cffi), and the national-id person hash."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def person_hash(national_id: str, pepper: str) -> str:
    """A stable pseudonym for a national id number: the same person across providers."""
    normalised = national_id.strip().upper()
    return hashlib.sha256(f"{pepper}:{normalised}".encode()).hexdigest()
