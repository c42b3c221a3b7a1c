"""Encryption of personal data at rest (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).

Both keys are derived from EXAMSYS_DATA_KEY with HKDF, so one secret is kept and the two uses
can never share a key. Ciphertexts carry a version byte so the scheme can be rotated later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_VERSION = b"\x01"


def _hkdf(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


@dataclass(frozen=True)
class DataKeys:
    encryption: bytes
    index: bytes

    @classmethod
    def from_secret(cls, secret: str) -> DataKeys:
        try:
            master = base64.urlsafe_b64decode(secret.encode() + b"=" * (-len(secret) % 4))
        except ValueError:
            master = b""
        if len(master) < 32:
            # Accept any passphrase-like secret, but stretch it deterministically.
            master = hashlib.sha256(secret.encode()).digest()
        return cls(encryption=_hkdf(master, b"examsys/pii-encryption/v1"),
                   index=_hkdf(master, b"examsys/blind-index/v1"))


@lru_cache(maxsize=8)
def keys_for(secret: str) -> DataKeys:
    return DataKeys.from_secret(secret)


def encrypt(keys: DataKeys, plaintext: str, *, purpose: str) -> bytes:
    """Encrypt with a fresh nonce; `purpose` is bound as associated data (a ciphertext moved to
    another column will not decrypt)."""
    nonce = os.urandom(12)
    ct = AESGCM(keys.encryption).encrypt(nonce, plaintext.encode(), purpose.encode())
    return _VERSION + nonce + ct


def decrypt(keys: DataKeys, blob: bytes, *, purpose: str) -> str:
    if not blob or blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, ct = blob[1:13], blob[13:]
    return AESGCM(keys.encryption).decrypt(nonce, ct, purpose.encode()).decode()


def blind_index(keys: DataKeys, value: str, *, purpose: str) -> str:
    """Deterministic keyed digest for equality lookups without storing the value."""
    msg = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(keys.index, msg, hashlib.sha256).hexdigest()


def current_keys() -> DataKeys:
    return keys_for(current_app.config["EXAMSYS_DATA_KEY"])
