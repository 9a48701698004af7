"""The prime-order subgroup of edwards25519, through libsodium as bundled by PyNaCl.

Order ``L = 2^252 + 27742317777372353535851937790883648493``; generator the standard base
point ``B``. Elements are stored as their canonical 32-byte encodings (RFC 8032 §5.1.2), so
encoding is free and equality is byte equality.

This module is the only one in verivote that calls the libsodium binding. It uses PyNaCl's
compiled ``lib`` directly for the five calls it needs (scalar multiplication, base
multiplication, addition, point validation, hashing to a point): they are the same C
functions that ``nacl.bindings`` wraps, minus a Python layer that costs about 10 µs per
call. ``lib`` is PyNaCl's private module (``nacl._sodium``); should a PyNaCl release move
or drop it, :data:`BACKEND` falls back to the public ``nacl.bindings`` functions, which give
the same bytes (``tests/test_ed25519_backend.py`` runs the group on both).

What libsodium refuses, and how it is handled:

* ``crypto_scalarmult_ed25519_noclamp`` rejects the identity as input and as output, and a
  zero scalar. The identity is a legitimate element here (an encryption of 0 under
  randomness 0, an empty tally), so ``_pow`` returns the identity itself when the base is
  the identity or the exponent is 0; with a subgroup point and ``0 < k < L`` the result is
  never the identity. Any other refusal means the point was not a valid subgroup element
  and raises :class:`~verivote.errors.InvalidElement`.
* ``crypto_core_ed25519_is_valid_point`` rejects the identity (it has small order); decoding
  accepts exactly the one canonical identity encoding ``01 00 … 00`` explicitly.
* Secret exponents go through :mod:`verivote.groups.edwards_ct`: the same libsodium
  multiplications (constant time, fixed and variable base) and additions, but with no
  shortcut for a zero exponent or an identity operand, which ``_pow`` and ``_op`` take
  (they would tell a vote for 0 from a vote for 1 by its timing).
* Inversion is negation of ``x``: for every subgroup point other than the identity ``x`` is
  non-zero, so flipping the sign bit of the encoding is exact and stays canonical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from verivote.errors import InvalidElement
from verivote.groups import edwards_ct
from verivote.groups.base import Group
from verivote.groups.unchecked import UncheckedElement

L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes([1]) + bytes(31)
_P = 2**255 - 19
BASE = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")


class Backend(NamedTuple):
    """The libsodium calls the group needs. ``mul(k, a)``, ``mul_base(k)``, ``add(a, b)``
    and ``from_uniform(r)`` return 32 bytes, or None where libsodium refuses;
    ``is_valid(a)`` is libsodium's ``crypto_core_ed25519_is_valid_point``."""

    name: str
    mul: Callable[[bytes, bytes], bytes | None]
    mul_base: Callable[[bytes], bytes | None]
    add: Callable[[bytes, bytes], bytes | None]
    is_valid: Callable[[bytes], bool]
    from_uniform: Callable[[bytes], bytes | None]


def compiled_backend() -> Backend:
    """PyNaCl's compiled ``lib`` called directly (ImportError if this PyNaCl has none)."""
    from nacl._sodium import ffi, lib

    new, buffer = ffi.new, ffi.buffer
    c_mul, c_mul_base = (
        lib.crypto_scalarmult_ed25519_noclamp,
        lib.crypto_scalarmult_ed25519_base_noclamp,
    )
    c_add, c_valid = lib.crypto_core_ed25519_add, lib.crypto_core_ed25519_is_valid_point
    c_uniform = lib.crypto_core_ed25519_from_uniform

    def mul(k: bytes, a: bytes) -> bytes | None:
        out = new("unsigned char[32]")
        return None if c_mul(out, k, a) != 0 else bytes(buffer(out))

    def mul_base(k: bytes) -> bytes | None:
        out = new("unsigned char[32]")
        return None if c_mul_base(out, k) != 0 else bytes(buffer(out))

    def add(a: bytes, b: bytes) -> bytes | None:
        out = new("unsigned char[32]")
        return None if c_add(out, a, b) != 0 else bytes(buffer(out))

    def is_valid(a: bytes) -> bool:
        return bool(c_valid(a) == 1)

    def from_uniform(r: bytes) -> bytes | None:
        out = new("unsigned char[32]")
        return None if c_uniform(out, r) != 0 else bytes(buffer(out))

    return Backend("nacl._sodium", mul, mul_base, add, is_valid, from_uniform)


def bindings_backend() -> Backend:
    """PyNaCl's public ``nacl.bindings`` (slower by a Python layer per call; same bytes)."""
    from nacl import bindings
    from nacl.exceptions import CryptoError

    def refused(fn: Callable[..., bytes]) -> Callable[..., bytes | None]:
        def call(*args: bytes) -> bytes | None:
            try:
                return fn(*args)
            except CryptoError:  # libsodium's refusal, raised as nacl's RuntimeError
                return None

        return call

    return Backend(
        "nacl.bindings",
        refused(bindings.crypto_scalarmult_ed25519_noclamp),
        refused(bindings.crypto_scalarmult_ed25519_base_noclamp),
        refused(bindings.crypto_core_ed25519_add),
        bindings.crypto_core_ed25519_is_valid_point,
        refused(bindings.crypto_core_ed25519_from_uniform),
    )


def _default_backend() -> Backend:
    try:
        return compiled_backend()
    except (ImportError, AttributeError):
        return bindings_backend()


BACKEND = _default_backend()
"""The backend :func:`~verivote.groups.get_group` uses: the compiled one where PyNaCl has
it, else the public bindings."""


class Ed25519Group(Group):
    """edwards25519's prime-order subgroup; the default group of verivote. ``backend``
    is for tests that run the group on both backends; use :func:`verivote.groups.get_group`
    otherwise (elements of two instances do not mix)."""

    name = "ed25519"
    order = L
    element_size = 32
    scalar_size = 32

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend or BACKEND
        b = self.backend
        self._mul, self._mul_base, self._add = b.mul, b.mul_base, b.add
        self._is_valid, self._from_uniform = b.is_valid, b.from_uniform

    def _op(self, a: bytes, b: bytes) -> bytes:
        if a == IDENTITY:
            return b
        if b == IDENTITY:
            return a
        out = self._add(a, b)
        if out is None:
            raise InvalidElement("ed25519: point addition refused an operand")
        return out

    def _inv(self, a: bytes) -> bytes:
        if a == IDENTITY:
            return a
        return a[:31] + bytes([a[31] ^ 0x80])

    def _pow(self, a: bytes, k: int) -> bytes:
        if k == 0 or a == IDENTITY:
            return IDENTITY
        kb = k.to_bytes(32, "little")
        out = self._mul_base(kb) if a == BASE else self._mul(kb, a)
        if out is None:
            raise InvalidElement("ed25519: not a point of the prime-order subgroup")
        return out

    def _pow_secret(self, a: bytes, k: int) -> bytes:
        return edwards_ct.mul_base(k) if a == BASE else edwards_ct.mul(k, a)

    def _secret_product(self, values: list[bytes], exponents: list[int]) -> bytes:
        return edwards_ct.combination(values, exponents)

    def _encode(self, a: bytes) -> bytes:
        return a

    def _decode(self, data: bytes) -> bytes:
        if not isinstance(data, bytes | bytearray) or len(data) != 32:
            raise InvalidElement("ed25519: an element is exactly 32 bytes")
        data = bytes(data)
        if data == IDENTITY or self._is_valid(data):
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
        value = self._from_uniform(digest[:32])
        # from_uniform clears the cofactor, so a valid result is in the subgroup.
        return value if value is not None and value != IDENTITY and self._is_valid(value) else None

    def parameters(self) -> dict[str, str]:
        return {
            "curve": "edwards25519",
            "order": format(L, "x"),
            "generator": BASE.hex(),
        }
