"""The ristretto255 group (RFC 9496): a prime-order group built on edwards25519.

Order ``L = 2^252 + 27742317777372353535851937790883648493`` (the same as edwards25519's
prime-order subgroup); generator RFC 9496's ``B`` (encoding ``e2f2ae0a…2d76``). Every
32-byte string that is the canonical encoding of an element IS an element: there is no
cofactor and no subgroup check, so validation is one decoding (one inverse square root).

Elements are stored as their canonical 32-byte encodings, so encoding is free and equality
is byte equality. The identity encodes as 32 zero bytes and is a legitimate element (an
encryption of 0 under randomness 0, an empty tally), handled here without calling the
backend, as the ``ed25519`` group does.

Arithmetic runs on a backend from :mod:`verivote._native`: compiled C when built, else
Python integers with libsodium through PyNaCl. The compiled code runs in variable time and
must never see a secret, so the split is:

* ``element ** k`` (:meth:`Group._pow`), which may be given a secret exponent (encryption
  randomness, a key, a proof nonce), always multiplies with libsodium's constant-time
  edwards25519 ladder through PyNaCl (see :mod:`verivote._native.python`);
* :meth:`Ristretto255Group.multi_exp` and :meth:`Ristretto255Group.pow_public`, for public
  exponents only (verifiers' challenges, responses and random weights), run on the backend:
  Pippenger's multi-scalar multiplication in the compiled one.

Decoding, encoding and addition are variable time in both backends (they see points, not
exponents). This is one reason the group is not the default yet: a voter's device adds the
secret pad ``K^r`` to ``g^m`` when it encrypts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verivote._native import Backend, default_backend
from verivote._native.python import PythonBackend
from verivote.errors import InvalidElement, ParameterError
from verivote.groups.base import Element, Group, Scalar

L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes(32)
BASE = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
# Exponentiation by possibly secret exponents: libsodium's constant-time ladder.
_LADDER = PythonBackend()


class Ristretto255Group(Group):
    """ristretto255 on a :class:`~verivote._native.Backend` (the default one unless given)."""

    name = "ristretto255"
    order = L
    element_size = 32
    scalar_size = 32

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend if backend is not None else default_backend()

    def _op(self, a: bytes, b: bytes) -> bytes:
        if a == IDENTITY:
            return b
        if b == IDENTITY:
            return a
        return self.backend.add(a, b)

    def _inv(self, a: bytes) -> bytes:
        return a if a == IDENTITY else self.backend.neg(a)

    def _pow(self, a: bytes, k: int) -> bytes:
        if k == 0 or a == IDENTITY:
            return IDENTITY
        return _LADDER.scalarmult(k, a)

    def _encode(self, a: bytes) -> bytes:
        return a

    def _decode(self, data: bytes) -> bytes:
        if not isinstance(data, bytes | bytearray) or len(data) != 32:
            raise InvalidElement("ristretto255: an element is exactly 32 bytes")
        data = bytes(data)
        if data == IDENTITY or self.backend.is_valid(data):
            return data
        raise InvalidElement("ristretto255: not the canonical encoding of an element")

    pow_validates = True
    """Exponentiation decodes (and so validates) its base whenever the exponent is non-zero,
    raising InvalidElement on a non-canonical encoding."""

    def _generator(self) -> bytes:
        return BASE

    def _identity(self) -> bytes:
        return IDENTITY

    def _from_hash(self, digest: bytes) -> Any | None:
        value = self.backend.from_uniform(digest)
        return None if value == IDENTITY else value

    def parameters(self) -> dict[str, str]:
        return {
            "curve": "edwards25519",
            "encoding": "ristretto255 (RFC 9496)",
            "order": format(L, "x"),
            "generator": BASE.hex(),
        }

    def pow_public(self, element: Element, k: Scalar | int) -> Element:
        """``element ** k`` on the backend (variable time): for a PUBLIC exponent only.
        Same result and same errors as ``element ** k``."""
        if element.group is not self:
            raise ParameterError("pow_public: element of a different group")
        if isinstance(k, Scalar):
            if k.group is not self:
                raise ParameterError("pow_public: scalar of a different group")
            value = k.value
        else:
            value = k % L
        if value == 0 or element.value == IDENTITY:
            return Element(self, IDENTITY)
        return Element(self, self.backend.scalarmult(value, element.value))

    def multi_exp(self, elements: Sequence[Element], scalars: Sequence[Scalar | int]) -> Element:
        """The product of ``elements[i] ** scalars[i]`` (the identity for none), computed as
        one multi-scalar multiplication (Pippenger's method in the compiled backend). For
        PUBLIC scalars only: the compiled backend runs in variable time.

        Integers are reduced modulo the order. Raises ParameterError for mismatched lengths
        or operands of another group, InvalidElement (naming the index) for an element
        that is not canonical."""
        if len(elements) != len(scalars):
            raise ParameterError("multi_exp: as many scalars as elements are needed")
        points: list[bytes] = []
        ks: list[int] = []
        for e, k in zip(elements, scalars, strict=True):
            if e.group is not self:
                raise ParameterError("multi_exp: element of a different group")
            if isinstance(k, Scalar):
                if k.group is not self:
                    raise ParameterError("multi_exp: scalar of a different group")
                value = k.value
            else:
                value = k % L
            if value and e.value != IDENTITY:
                points.append(e.value)
                ks.append(value)
        return Element(self, self.backend.msm(ks, points) if points else IDENTITY)
