"""Constant-time edwards25519 arithmetic through libsodium: the path every secret takes.

The ``ed25519`` group computes on these points directly; the ``ristretto255`` group maps
its public bases to them, computes here, and converts back only results that are
published (see :mod:`verivote.groups.ristretto255`). Points are RFC 8032 encodings of
points of the prime-order subgroup; scalars are integers ``0 <= k < L``.

What runs in constant time, and why:

* ``crypto_scalarmult_ed25519_base_noclamp`` and ``crypto_scalarmult_ed25519_noclamp``
  (libsodium's ``ge25519_scalarmult_base`` and ``ge25519_scalarmult``: fixed sequences of
  doublings and additions with constant-time table look-ups) in the scalar and in the
  point. The variable-base call first validates its point (canonical, on the curve, in
  the prime-order subgroup): that depends on the point only, and every point passed here
  is public (a generator, a public key, a ciphertext component).
* ``crypto_core_ed25519_add``: a decoding (a fixed exponentiation), a complete addition
  and an encoding (a fixed inversion).

Zero scalars. libsodium returns -1 when the product is the identity (``k ≡ 0 mod L``),
but only after writing the identity's encoding to its output. :func:`mul` and
:func:`mul_base` ignore the return code and keep the output, so a vote for 0 (``g^0``)
takes exactly the path of any other exponent; nothing here branches on a scalar. At
import this behaviour is checked once on public inputs (:data:`ZERO_WRITES_IDENTITY`);
on a libsodium that behaved otherwise, a product is computed blinded instead, as
``(k + t)·P − t·P`` for a fresh random ``t`` (twice the cost, no branch on ``k``).

Python's own integer arithmetic on the scalars (reduction, ``to_bytes``) is not
constant-time; that is true of every scalar operation in verivote (see
``docs/crypto.md``, "Secrets and constant time").
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from nacl.exceptions import CryptoError

L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes([1]) + bytes(31)
"""The RFC 8032 encoding of the neutral element."""
BASE = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")
"""edwards25519's base point: the generator of both ``ed25519`` and ``ristretto255``."""
_REFUSED = bytes(32)  # not a point: what a refused call gives through the public bindings

try:
    from nacl._sodium import ffi, lib
except ImportError:  # a PyNaCl without its private module: its public bindings
    from nacl import bindings

    def _raw_mul_base(k: int) -> bytes:
        try:
            return bindings.crypto_scalarmult_ed25519_base_noclamp(k.to_bytes(32, "little"))
        except CryptoError:  # the bindings drop the output of a refused call
            return _REFUSED

    def _raw_mul(k: int, point: bytes) -> bytes:
        try:
            return bindings.crypto_scalarmult_ed25519_noclamp(k.to_bytes(32, "little"), point)
        except CryptoError:
            return _REFUSED

    def _add_or_none(a: bytes, b: bytes) -> bytes | None:
        try:
            return bindings.crypto_core_ed25519_add(a, b)
        except CryptoError:
            return None

    def _sub_or_none(a: bytes, b: bytes) -> bytes | None:
        try:
            return bindings.crypto_core_ed25519_sub(a, b)
        except CryptoError:
            return None

else:
    _new, _buffer = ffi.new, ffi.buffer
    _c_mul = lib.crypto_scalarmult_ed25519_noclamp
    _c_mul_base = lib.crypto_scalarmult_ed25519_base_noclamp
    _c_add, _c_sub = lib.crypto_core_ed25519_add, lib.crypto_core_ed25519_sub

    def _raw_mul_base(k: int) -> bytes:
        out = _new("unsigned char[32]")
        _c_mul_base(out, k.to_bytes(32, "little"))  # -1 for an identity result: output kept
        return bytes(_buffer(out))

    def _raw_mul(k: int, point: bytes) -> bytes:
        out = _new("unsigned char[32]")
        _c_mul(out, k.to_bytes(32, "little"), point)
        return bytes(_buffer(out))

    def _add_or_none(a: bytes, b: bytes) -> bytes | None:
        out = _new("unsigned char[32]")
        return None if _c_add(out, a, b) != 0 else bytes(_buffer(out))

    def _sub_or_none(a: bytes, b: bytes) -> bytes | None:
        out = _new("unsigned char[32]")
        return None if _c_sub(out, a, b) != 0 else bytes(_buffer(out))


def add(a: bytes, b: bytes) -> bytes:
    """``a + b`` (constant time). Raises ValueError if libsodium refuses an operand, which
    happens only for an input that is not a point: never for outputs of this module."""
    out = _add_or_none(a, b)
    if out is None:
        raise ValueError("edwards25519: libsodium refused a point")
    return out


def _sub(a: bytes, b: bytes) -> bytes:
    out = _sub_or_none(a, b)
    if out is None:  # pragma: no cover - outputs of this module are points
        raise ValueError("edwards25519: libsodium refused a point")
    return out


def _check_zero_writes_identity() -> bool:
    return _raw_mul_base(0) == IDENTITY and _raw_mul(0, BASE) == IDENTITY


ZERO_WRITES_IDENTITY = _check_zero_writes_identity()
"""True when this libsodium writes the identity for a zero product (checked at import)."""


def _blinded(k: int, point: bytes | None) -> bytes:
    t = 1 + secrets.randbelow(L - 1)
    if point is None:
        return _sub(_raw_mul_base((k + t) % L), _raw_mul_base(t))
    return _sub(_raw_mul((k + t) % L, point), _raw_mul(t, point))


def mul_base(k: int) -> bytes:
    """``k·B`` for a secret ``0 <= k < L`` (constant time, ``k = 0`` included)."""
    return _raw_mul_base(k) if ZERO_WRITES_IDENTITY else _blinded(k, None)


def mul(k: int, point: bytes) -> bytes:
    """``k·point`` for a secret ``0 <= k < L`` and a PUBLIC point of the prime-order
    subgroup (constant time in ``k``; the identity as base is answered without libsodium,
    which refuses it, a branch on the public point only)."""
    if point == IDENTITY:
        return IDENTITY
    return _raw_mul(k, point) if ZERO_WRITES_IDENTITY else _blinded(k, point)


def combination(points: Sequence[bytes], scalars: Sequence[int]) -> bytes:
    """``Σ scalars[i]·points[i]`` (the identity for none): one constant-time
    multiplication per term (the base point by libsodium's fixed-base method) and a
    constant-time addition between terms. Every partial sum stays inside this function;
    only the sum is returned. Branches depend on the public points only."""
    if len(points) != len(scalars):
        raise ValueError("edwards25519: as many scalars as points are needed")
    if not ZERO_WRITES_IDENTITY:
        terms = [
            mul_base(k) if p == BASE else mul(k, p) for p, k in zip(points, scalars, strict=True)
        ]
    else:  # mul and mul_base inlined: this is every encryption's and proof's inner loop
        terms = [
            _raw_mul_base(k) if p == BASE else (IDENTITY if p == IDENTITY else _raw_mul(k, p))
            for p, k in zip(points, scalars, strict=True)
        ]
    if not terms:
        return IDENTITY
    acc = terms[0]
    for term in terms[1:]:
        acc = add(acc, term)
    return acc
