"""The prime-order subgroup of edwards25519, through libsodium as bundled by PyNaCl.

Order ``L = 2^252 + 27742317777372353535851937790883648493``; generator the standard base
point ``B``. Elements are stored as their canonical 32-byte encodings (RFC 8032 §5.1.2), so
encoding is free and equality is byte equality.

This module is the only one in verivote that calls the libsodium binding. It uses PyNaCl's
compiled ``lib`` directly for the four hot calls (scalar multiplication, base
multiplication, addition, point validation): they are the same C functions that
``nacl.bindings`` wraps, minus a Python layer that costs about 10 µs per call.

What libsodium refuses, and how it is handled:

* ``crypto_scalarmult_ed25519_noclamp`` rejects the identity as input and as output, and a
  zero scalar. The identity is a legitimate element here (an encryption of 0 under
  randomness 0, an empty tally), so ``_pow`` returns the identity itself when the base is
  the identity or the exponent is 0; with a subgroup point and ``0 < k < L`` the result is
  never the identity. Any other refusal means the point was not a valid subgroup element
  and raises :class:`~verivote.errors.InvalidElement`.
* ``crypto_core_ed25519_is_valid_point`` rejects the identity (it has small order); decoding
  accepts exactly the one canonical identity encoding ``01 00 … 00`` explicitly.
* Secret exponents need no separate path: libsodium's scalar multiplications (variable
  and fixed base) run in constant time, so :meth:`Group._pow_secret` is ``_pow``.
* Inversion is negation of ``x``: for every subgroup point other than the identity ``x`` is
  non-zero, so flipping the sign bit of the encoding is exact and stays canonical.
"""

from __future__ import annotations

from typing import Any

from nacl._sodium import ffi, lib

from verivote.errors import InvalidElement
from verivote.groups.base import Group
from verivote.groups.unchecked import UncheckedElement

L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes([1]) + bytes(31)
_P = 2**255 - 19
BASE = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")

_scalarmult = lib.crypto_scalarmult_ed25519_noclamp
_scalarmult_base = lib.crypto_scalarmult_ed25519_base_noclamp
_add = lib.crypto_core_ed25519_add
_is_valid = lib.crypto_core_ed25519_is_valid_point
_from_uniform = lib.crypto_core_ed25519_from_uniform
_new = ffi.new
_buffer = ffi.buffer


class Ed25519Group(Group):
    """edwards25519's prime-order subgroup; the default group of verivote."""

    name = "ed25519"
    order = L
    element_size = 32
    scalar_size = 32

    def _op(self, a: bytes, b: bytes) -> bytes:
        if a == IDENTITY:
            return b
        if b == IDENTITY:
            return a
        out = _new("unsigned char[32]")
        if _add(out, a, b) != 0:
            raise InvalidElement("ed25519: point addition refused an operand")
        result: bytes = _buffer(out)[:]
        return result

    def _inv(self, a: bytes) -> bytes:
        if a == IDENTITY:
            return a
        return a[:31] + bytes([a[31] ^ 0x80])

    def _pow(self, a: bytes, k: int) -> bytes:
        if k == 0 or a == IDENTITY:
            return IDENTITY
        out = _new("unsigned char[32]")
        kb = k.to_bytes(32, "little")
        rc = _scalarmult_base(out, kb) if a == BASE else _scalarmult(out, kb, a)
        if rc != 0:
            raise InvalidElement("ed25519: not a point of the prime-order subgroup")
        result: bytes = _buffer(out)[:]
        return result

    def _encode(self, a: bytes) -> bytes:
        return a

    def _decode(self, data: bytes) -> bytes:
        if not isinstance(data, bytes | bytearray) or len(data) != 32:
            raise InvalidElement("ed25519: an element is exactly 32 bytes")
        data = bytes(data)
        if data == IDENTITY or _is_valid(data) == 1:
            return data
        raise InvalidElement(
            "ed25519: not the canonical encoding of a point of the prime-order subgroup"
        )

    pow_validates = True
    """libsodium's scalar multiplication checks canonical encoding, curve membership, small
    order and prime-order-subgroup membership of its input, and refuses on failure."""

    def decode_element_deferred(self, data: bytes) -> UncheckedElement:
        """Canonical-encoding checks only (exact length, ``y < p``, no sign bit on a point
        with ``x = 0``); subgroup membership is checked by the scalar multiplication (see
        :class:`~verivote.groups.base.UncheckedElement`)."""
        if not isinstance(data, bytes | bytearray) or len(data) != 32:
            raise InvalidElement("ed25519: an element is exactly 32 bytes")
        data = bytes(data)
        if data == IDENTITY:
            return UncheckedElement(self, data, validated=True)
        y = int.from_bytes(data, "little") & ((1 << 255) - 1)
        if y >= _P or y == 1 or y == _P - 1:
            # y >= p is not canonical; y = ±1 means x = 0: the identity with its sign bit
            # set (not canonical) or the point of order 2.
            raise InvalidElement(
                "ed25519: not the canonical encoding of a point of the prime-order subgroup"
            )
        return UncheckedElement(self, data)

    def _generator(self) -> bytes:
        return BASE

    def _identity(self) -> bytes:
        return IDENTITY

    def _from_hash(self, digest: bytes) -> Any | None:
        out = _new("unsigned char[32]")
        if _from_uniform(out, digest[:32]) != 0:
            return None
        value = _buffer(out)[:]
        # from_uniform clears the cofactor, so a valid result is in the subgroup.
        return value if value != IDENTITY and _is_valid(value) == 1 else None

    def parameters(self) -> dict[str, str]:
        return {
            "curve": "edwards25519",
            "order": format(L, "x"),
            "generator": BASE.hex(),
        }
