"""AES-256-GCM sealing of secrets (provider keys, run snapshots).

A sealed blob is ``version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext+tag``.
The key id is a fingerprint of the master key that sealed it, so a server holding an old and
a new master key can open old blobs while sealing new ones with the new key. The associated
data binds a blob to the row it belongs to: a blob copied elsewhere does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOB_VERSION = 1
KEY_ID_SIZE = 8
NONCE_SIZE = 12
TAG_SIZE = 16
_HEADER_SIZE = 1 + KEY_ID_SIZE + NONCE_SIZE


class VaultError(Exception):
    """A secret could not be sealed or opened. Messages never include the secret or blob."""


class MasterKeyError(VaultError):
    """The configured master key is missing or not base64 of 32 bytes."""


class MalformedBlob(VaultError):
    """The stored value is not a sealed blob this vault understands."""


class UnknownMasterKey(VaultError):
    """The blob was sealed with a master key this server does not have."""


class TamperedBlob(VaultError):
    """Authentication failed: wrong context, altered bytes or a forged blob."""


def key_context(user_id: int, provider: str) -> bytes:
    """Associated data for a provider key stored on a user's profile."""
    return f"tracore/provider-key/{user_id}/{provider}".encode()


def run_context(run_id: int) -> bytes:
    """Associated data for the key snapshot of one run."""
    return f"tracore/run/{run_id}".encode()


def generate_master_key() -> str:
    """A new master key in the form ``TRACORE_ENCRYPTION_KEY`` expects."""
    return base64.b64encode(os.urandom(32)).decode()


def parse_master_key(encoded: str) -> bytes:
    """Decode a base64 master key, refusing anything but exactly 32 bytes."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError("TRACORE_ENCRYPTION_KEY is not valid base64") from None
    if len(raw) != 32:
        raise MasterKeyError("TRACORE_ENCRYPTION_KEY must be base64 of exactly 32 bytes") from None
    return raw


def _key_id(raw: bytes) -> bytes:
    return hashlib.sha256(b"tracore-key-id" + raw).digest()[:KEY_ID_SIZE]


class Vault:
    """Seals with the current master key; opens with it or any retired one."""

    def __init__(self, current: str, retired: list[str] | tuple[str, ...] = ()) -> None:
        current_raw = parse_master_key(current)
        self._current_id = _key_id(current_raw)
        self._ciphers = {self._current_id: AESGCM(current_raw)}
        for encoded in retired:
            raw = parse_master_key(encoded)
            self._ciphers.setdefault(_key_id(raw), AESGCM(raw))

    def __repr__(self) -> str:
        return f"<Vault key_id={self._current_id.hex()} keys={len(self._ciphers)}>"

    def seal(self, plaintext: str, context: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` with a fresh random nonce."""
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._ciphers[self._current_id].encrypt(nonce, plaintext.encode(), context)
        return bytes([BLOB_VERSION]) + self._current_id + nonce + sealed

    def open_sealed(self, blob: bytes, context: bytes) -> str:
        """Decrypt a blob sealed for ``context``; raise a VaultError subclass otherwise."""
        blob = bytes(blob) if blob is not None else b""
        if len(blob) < _HEADER_SIZE + TAG_SIZE:
            raise MalformedBlob("sealed value is too short")
        if blob[0] != BLOB_VERSION:
            raise MalformedBlob(f"unknown sealed value version {blob[0]}")
        key_id = blob[1 : 1 + KEY_ID_SIZE]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownMasterKey(
                "sealed with a master key this server does not have "
                "(was TRACORE_ENCRYPTION_KEY changed?)"
            )
        nonce = blob[1 + KEY_ID_SIZE : _HEADER_SIZE]
        try:
            plaintext = cipher.decrypt(nonce, blob[_HEADER_SIZE:], context)
        except InvalidTag:
            raise TamperedBlob("sealed value failed authentication") from None
        return plaintext.decode()
