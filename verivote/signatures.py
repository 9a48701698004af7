"""Ed25519 signatures (RFC 8032) for authors of board entries, through PyNaCl.

Organiser, registrar, trustees, the board operator and every elector's credential are
Ed25519 keys. A signature is always over framed bytes that start with a domain label, so a
signature made for one purpose never verifies for another.
"""

from __future__ import annotations

from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from verivote.errors import DecodeError, InvalidSignature

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


class Signer:
    """An Ed25519 secret key: an author of entries (organiser, registrar, trustee, board
    operator) or an elector's credential. Never serialised to the record; ``seed`` is the
    only secret and ``repr`` shows only the start of the public key. The constructor
    rejects a seed that is not 32 bytes (DecodeError)."""

    __slots__ = ("_key",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise DecodeError("an Ed25519 seed is 32 bytes")
        self._key = SigningKey(seed)

    @classmethod
    def generate(cls) -> Signer:
        """A fresh key from the OS CSPRNG."""
        return cls(bytes(SigningKey.generate()))

    @property
    def seed(self) -> bytes:
        """The 32-byte secret seed (hand it to its holder; never publish it)."""
        return bytes(self._key)

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key."""
        return bytes(self._key.verify_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of ``message``."""
        return self._key.sign(message).signature

    def __repr__(self) -> str:
        return f"<Signer {self.public_key.hex()[:16]}…>"

    def __reduce__(self) -> Any:
        raise TypeError("a signing key is never pickled: hand over its seed on purpose")


_VERIFY_KEYS: dict[bytes, VerifyKey] = {}


def verify_signature(public_key: bytes, message: bytes, signature: bytes, what: str) -> None:
    """Return if ``signature`` is a valid Ed25519 signature of ``message`` under
    ``public_key``; otherwise raise :class:`~verivote.errors.InvalidSignature` naming
    ``what``. Keys are parsed once and cached."""
    if len(signature) != SIGNATURE_SIZE:
        raise InvalidSignature(f"{what}: a signature is {SIGNATURE_SIZE} bytes")
    key = _VERIFY_KEYS.get(public_key)
    if key is None:
        if len(public_key) != PUBLIC_KEY_SIZE:
            raise InvalidSignature(f"{what}: a public key is {PUBLIC_KEY_SIZE} bytes")
        try:
            key = VerifyKey(public_key)
        except Exception:
            raise InvalidSignature(f"{what}: not an Ed25519 public key") from None
        if len(_VERIFY_KEYS) > 100_000:
            _VERIFY_KEYS.clear()
        _VERIFY_KEYS[public_key] = key
    try:
        key.verify(message, signature)
    except (BadSignatureError, ValueError):
        raise InvalidSignature(f"{what}: signature does not verify") from None
