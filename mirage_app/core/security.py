"""Password hashing, token hashing and encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken

from mirage_app.core.config import get_settings

# argon2id with the library's RFC 9106 "low memory" profile: ~50 ms here, safe against GPU cracking.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        # Still spend the time so a missing account is not distinguishable by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Keyed SHA-256 of a high-entropy token: fast to look up, useless without the server key."""
    key = get_settings().derived_secret("token-hash")
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def generate_password(length: int = 20) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@lru_cache
def _fernet(secret_key: str) -> Fernet:
    key = base64.urlsafe_b64encode(get_settings().derived_secret("encryption-at-rest"))
    return Fernet(key)


def encrypt(plaintext: str) -> str:
    return _fernet(get_settings().secret_key).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet(get_settings().secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong MIRAGE_SECRET_KEY or corrupted value") from exc


def number_hash(e164: str) -> str:
    """Keyed SHA-256 of a phone number in E.164, under a key derived for this purpose only: what the suppression
    list keeps of an erased person (LGPD), so the number is refused again without being stored. Phone numbers are
    few enough to enumerate, hence the server key: without it the hash tells nothing."""
    key = get_settings().derived_secret("erased-number")
    return hmac.new(key, e164.encode(), hashlib.sha256).hexdigest()
