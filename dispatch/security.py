"""Password hashing with Argon2id (argon2-cffi), the national-id person hash, device keys."""

from __future__ import annotations

import hashlib
import secrets

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


# Device keys are 256 random bits, not something a person chose: no dictionary or brute force
# can reach them, so a slow salted hash (argon2) would protect nothing and would make every
# pendant or canteen request cost tens of milliseconds of CPU. A plain SHA-256 of such a key
# is preimage-resistant, and being deterministic it is looked up by an indexed equality, so
# authenticating a device is one query whatever the number of devices.
DEVICE_KEY_PREFIX = "cdk_"


def new_device_key() -> str:
    """A fresh device key (shown once to whoever registers the device, never stored)."""
    return DEVICE_KEY_PREFIX + secrets.token_urlsafe(32)


def device_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
