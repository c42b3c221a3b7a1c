"""The organisations' Ed25519 keys and signed notes in the C2SP format (c2sp.org/signed-note).

A key lives outside the database: `EXAMSYS_SIGNING_KEY_<ORG CODE>` in the environment (the
32-byte private seed, base64), else `<EXAMSYS_KEY_DIR>/<ORG CODE>.ed25519` (PKCS#8 PEM, mode
0600, created on first use). Its name in notes is `examsys-<ORG CODE>`.

A signed note is its text (ending in a newline), a blank line, then one line per signature:
`— <key name> <base64(key hash || Ed25519 signature of the text)>`, where the key hash is the
first 4 bytes of SHA-256(key name || "\\n" || 0x01 || public key). Whoever receives a note
checks it with the verifier key `<name>+<key hash hex>+<base64(0x01 || public key)>`, which
`examsys audit pubkey` prints and archives carry.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

ALG_ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space, as the format requires
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class NoteError(ValueError):
    """A note that is malformed or carries no valid signature by the expected key."""


def key_name(org_code: str) -> str:
    return f"examsys-{org_code}"


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + _raw_public(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The C2SP verifier key string for `public` under `name`."""
    return f"{name}+{key_hash(name, public).hex()}+{base64.b64encode(ALG_ED25519 + _raw_public(public)).decode()}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """(name, public key) of a verifier key string; raises NoteError when malformed."""
    try:
        name, khash, encoded = text.strip().split("+", 2)  # the base64 may hold "+" itself
        raw = base64.b64decode(encoded, validate=True)
        if raw[:1] != ALG_ED25519 or len(raw) != 33:
            raise ValueError
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise NoteError("公钥格式不正确：应为 名称+密钥哈希+公钥（examsys audit pubkey 的输出）") from None
    if key_hash(name, public).hex() != khash:
        raise NoteError("公钥与其密钥哈希不符")
    return name, public


def _key_path(org_code: str) -> Path:
    return Path(current_app.config["EXAMSYS_KEY_DIR"]) / f"{org_code}.ed25519"


def private_key(org_code: str) -> Ed25519PrivateKey:
    """The organisation's signing key (see the module's docstring), created on first use."""
    if not _CODE.match(org_code):
        raise ValueError(f"unusable organisation code for a key file: {org_code!r}")
    seed = os.environ.get(f"EXAMSYS_SIGNING_KEY_{org_code}")
    if seed:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))
    path = _key_path(org_code)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:  # O_EXCL: two processes must not create two different keys
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def public_verifier_key(org_code: str) -> str:
    return verifier_key(key_name(org_code), private_key(org_code).public_key())


def sign_note(text: str, org_code: str) -> str:
    """`text` (lines, ending in a newline) signed with the organisation's key."""
    if not text.endswith("\n") or "\n\n" in text:
        raise ValueError("a note's text ends in a newline and has no blank line")
    key = private_key(org_code)
    name = key_name(org_code)
    signature = key_hash(name, key.public_key()) + key.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, verifier: str) -> str:
    """The text of `note` when it carries a valid signature by `verifier` (a verifier key
    string); raises NoteError otherwise."""
    name, public = parse_verifier_key(verifier)
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise NoteError("签名文件格式不正确：缺少签名部分")
    text += "\n"
    expected = key_hash(name, public)
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("签名文件格式不正确：签名行应以“— ”开头")
        sig_name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError("签名文件格式不正确：签名不是 base64") from None
        if sig_name != name or raw[:4] != expected:
            continue
        try:
            public.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"签名无效：内容已被改动，或不是 {name} 的签名") from None
        return text
    raise NoteError(f"签名文件中没有 {name} 的签名")


__all__ = ["NoteError", "key_name", "open_note", "parse_verifier_key", "private_key", "public_verifier_key",
           "sign_note", "verifier_key"]
