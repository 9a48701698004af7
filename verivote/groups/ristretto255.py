"""The ristretto255 group (RFC 9496): a prime-order group built on edwards25519.

Order ``L = 2^252 + 27742317777372353535851937790883648493`` (the same as edwards25519's
prime-order subgroup); generator RFC 9496's ``B`` (encoding ``e2f2ae0a…2d76``), the
ristretto255 encoding of edwards25519's base point. Every 32-byte string that is the
canonical encoding of an element IS an element: there is no cofactor and no subgroup
check, so validation is one decoding (one inverse square root). This is verivote's default
group.

Elements are stored as their canonical 32-byte encodings, so encoding is free and equality
is byte equality. The identity encodes as 32 zero bytes and is a legitimate element (an
encryption of 0 under randomness 0, an empty tally), handled here without calling the
backend, as the ``ed25519`` group does.

Two paths, by who may see the data:

* **Public** (verification; exponents typed :class:`~verivote.groups.base.Scalar`, never
  :class:`~verivote.groups.base.SecretScalar`): ``element ** k``, :meth:`multi_exp`,
  :meth:`pow_public`, products and inverses run on a backend from :mod:`verivote._native`:
  compiled C when built (Pippenger's multi-scalar multiplication), else Python integers
  with libsodium. Both run in VARIABLE time.
* **Secret** (a voter's device, a trustee, a mix server: exponentiation by a
  :class:`~verivote.groups.base.SecretScalar`, :meth:`~verivote.groups.base.Group.secret_product`):
  each public base is mapped once to the edwards25519 point of its class that lies in the
  prime-order subgroup (:meth:`~verivote._native.Backend.to_edwards`, cached; public data),
  every multiplication by a secret and every addition of the products runs in libsodium's
  constant-time edwards25519 code (:mod:`verivote.groups.edwards_ct`), and only the final
  point, which the caller publishes, is converted to its ristretto255 encoding
  (:meth:`~verivote._native.Backend.from_edwards`, variable time on a public value). A
  secret partial product such as the pad ``h^r`` of an encryption is never encoded and
  never reaches the backend. ``docs/crypto.md`` ("Secrets and constant time") lists which
  code sees which secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verivote._native import Backend, default_backend
from verivote.errors import InvalidElement, ParameterError
from verivote.groups import edwards_ct
from verivote.groups.base import Element, Group, Scalar

L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes(32)
BASE = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
_EDWARDS_CACHE_SIZE = 256


class Ristretto255Group(Group):
    """ristretto255 on a :class:`~verivote._native.Backend` (the default one unless given)."""

    name = "ristretto255"
    order = L
    element_size = 32
    scalar_size = 32

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend if backend is not None else default_backend()
        self._edwards_points: dict[bytes, bytes] = {BASE: edwards_ct.BASE}
        # Pippenger's method makes a term much cheaper than a scalar multiplication only in
        # the compiled backend.
        self.fast_multi_pow = self.backend.name == "native"

    def _edwards(self, a: bytes) -> bytes:
        """The prime-order edwards25519 point of the PUBLIC element ``a``'s class (cached:
        a public key is a base of every encryption)."""
        point = self._edwards_points.get(a)
        if point is None:
            point = edwards_ct.IDENTITY if a == IDENTITY else self.backend.to_edwards(a)
            if len(self._edwards_points) >= _EDWARDS_CACHE_SIZE:
                self._edwards_points = {BASE: edwards_ct.BASE}
            self._edwards_points[a] = point
        return point

    def _op(self, a: bytes, b: bytes) -> bytes:
        if a == IDENTITY:
            return b
        if b == IDENTITY:
            return a
        return self.backend.add(a, b)

    def _inv(self, a: bytes) -> bytes:
        return a if a == IDENTITY else self.backend.neg(a)

    def _pow(self, a: bytes, k: int) -> bytes:
        # Public exponents only (variable time); secrets come through _pow_secret.
        if k == 0 or a == IDENTITY:
            return IDENTITY
        return self.backend.scalarmult(k, a)

    def _multi_pow(self, values: list[bytes], exponents: list[int]) -> bytes:
        # product_of_powers: public exponents only (checkers); secrets use secret_product.
        points = [v for v, k in zip(values, exponents, strict=True) if k and v != IDENTITY]
        ks = [k for v, k in zip(values, exponents, strict=True) if k and v != IDENTITY]
        return self.backend.msm(ks, points) if points else IDENTITY

    def _product(self, values: list[bytes]) -> bytes:
        # validated 32-byte encodings: packed without a per-item check
        return (
            values[0] if len(values) == 1 else self.backend.sum_runs(b"".join(values), len(values))
        )

    def _pow_secret(self, a: bytes, k: int) -> bytes:
        point = self._edwards_points.get(a) or self._edwards(a)
        product = edwards_ct.mul_base(k) if point == edwards_ct.BASE else edwards_ct.mul(k, point)
        return self.backend.from_edwards(product)

    def _secret_product(self, values: list[bytes], exponents: list[int]) -> bytes:
        known = self._edwards_points.get
        points = [known(v) or self._edwards(v) for v in values]
        return self.backend.from_edwards(edwards_ct.combination(points, exponents))

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
