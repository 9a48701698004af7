"""Ed25519 signatures (RFC 8032) for authors of board entries, through PyNaCl.

Organiser, registrar, trustees, the board operator and every elector's credential are
Ed25519 keys. A signature is always over framed bytes that start with a domain label, so a
signature made for one purpose never verifies for another.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from nacl import bindings
from nacl.exceptions import BadSignatureError
from nacl.exceptions import RuntimeError as NaclRuntimeError
from nacl.signing import SigningKey, VerifyKey

from verivote.errors import DecodeError, InvalidElement, InvalidSignature

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
SCALAR_SIZE = 32


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


class ScalarSigner(Signer):
    """An Ed25519 key whose secret is a raw scalar ``a`` (not a seed): the sum of the two
    halves of a split credential. Its signatures are ordinary Ed25519 signatures, which
    :func:`verify_signature` (libsodium's ``crypto_sign_verify_detached``) accepts:
    ``R = r·B``, ``k = SHA-512(R ‖ A ‖ M) mod L``, ``S = r + k·a mod L``, with
    ``A = a·B`` and the nonce ``r`` derived from fresh randomness, ``a`` and ``M``.
    There is no seed; ``repr`` shows only the public key."""

    __slots__ = ("_public", "_scalar")

    def __init__(self, scalar: bytes) -> None:
        if len(scalar) != SCALAR_SIZE:
            raise DecodeError(f"a scalar is {SCALAR_SIZE} bytes")
        reduced = bindings.crypto_core_ed25519_scalar_reduce(scalar + bytes(32))
        if reduced != scalar or scalar == bytes(SCALAR_SIZE):
            raise DecodeError("a credential scalar must be canonical and not zero")
        self._scalar = scalar
        self._public = bindings.crypto_scalarmult_ed25519_base_noclamp(scalar)

    @classmethod
    def generate(cls) -> ScalarSigner:
        """A fresh scalar, uniform modulo L, from the OS CSPRNG."""
        while True:
            scalar = bindings.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
            if scalar != bytes(SCALAR_SIZE):
                return cls(scalar)

    @property
    def seed(self) -> bytes:
        """A split credential has no seed (see :attr:`scalar`)."""
        raise TypeError("a scalar credential has no seed")

    @property
    def scalar(self) -> bytes:
        """The 32-byte little-endian secret scalar (never publish it)."""
        return self._scalar

    @property
    def public_key(self) -> bytes:
        """``a·B``, 32 bytes."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature ``R ‖ S`` of ``message``."""
        nonce = hashlib.sha512(
            b"verivote/scalar-nonce" + secrets.token_bytes(32) + self._scalar + message
        ).digest()
        r = bindings.crypto_core_ed25519_scalar_reduce(nonce)
        big_r = bindings.crypto_scalarmult_ed25519_base_noclamp(r)
        k = bindings.crypto_core_ed25519_scalar_reduce(
            hashlib.sha512(big_r + self._public + message).digest()
        )
        s = bindings.crypto_core_ed25519_scalar_add(
            r, bindings.crypto_core_ed25519_scalar_mul(k, self._scalar)
        )
        return big_r + s

    def __repr__(self) -> str:
        return f"<ScalarSigner {self.public_key.hex()[:16]}…>"


def combine_scalars(a: bytes, b: bytes) -> bytes:
    """``a + b mod L`` for two canonical scalars (the halves of a split credential)."""
    if len(a) != SCALAR_SIZE or len(b) != SCALAR_SIZE:
        raise DecodeError(f"a scalar is {SCALAR_SIZE} bytes")
    return bindings.crypto_core_ed25519_scalar_add(a, b)


def check_public_key(key: bytes, what: str) -> bytes:
    """Return ``key`` if it is a canonical edwards25519 point of the prime-order subgroup,
    not of small order and not the identity; otherwise raise
    :class:`~verivote.errors.InvalidElement` naming ``what``."""
    # libsodium's is_valid_point: canonical, on the curve, in the main subgroup, not of
    # small order (so not the identity).
    if len(key) != PUBLIC_KEY_SIZE or not bindings.crypto_core_ed25519_is_valid_point(key):
        raise InvalidElement(f"{what}: not a valid Ed25519 public key of the prime-order group")
    return key


def combine_public_keys(a: bytes, b: bytes, what: str) -> bytes:
    """``A + B``; raises InvalidElement unless the sum passes :func:`check_public_key`
    (a canonical point of the prime-order subgroup, not the identity, not of small
    order). The halves themselves are checked by the signatures that prove their
    possession (libsodium refuses a non-canonical or small-order key); a half with a
    torsion component makes a sum outside the subgroup, refused here, unless the other
    half cancels it — which needs both parties."""
    try:
        total = bindings.crypto_core_ed25519_add(a, b)
    except NaclRuntimeError:
        raise InvalidElement(f"{what}: the halves do not add up to a point") from None
    return check_public_key(total, what)


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
