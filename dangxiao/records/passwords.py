"""Passwords: argon2id hashes (argon2-cffi, which jupyter_server already depends on), and generated
initial passwords a trainee can read off a printed sheet without confusing 0/O or 1/l."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "verify_password", "new_password", "MIN_PASSWORD_LENGTH"]

MIN_PASSWORD_LENGTH = 8
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_hasher = PasswordHasher()
# Verified when the account does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_password(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
