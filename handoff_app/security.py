"""Passwords (argon2 via passlib) and opaque random tokens stored as sha256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from passlib.context import CryptContext

_passwords = CryptContext(schemes=["argon2"], deprecated="auto")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _passwords.verify(password, password_hash)
    except ValueError:
        return False


def new_token() -> str:
    """A random bearer token for a browser (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a leaked database does not leak live sessions or keys."""
    return hashlib.sha256(token.encode()).hexdigest()
