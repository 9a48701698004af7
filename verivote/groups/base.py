"""The interface every prime-order group implements.

A group of prime order ``q`` with a fixed generator ``g``, written multiplicatively:
``a * b`` is the group operation, ``a ** k`` exponentiation by a scalar, ``a / b`` and
``a.inverse()`` the inverse. Scalars are integers modulo ``q`` with ``+ - *``, negation and
inversion.

Each concrete group (:mod:`verivote.groups.ed25519`, :mod:`verivote.groups.modp4096`) stores
element values in whatever form its backend computes with fastest (32-byte strings for
edwards25519, ``gmpy2.mpz`` for the 4096-bit group) and implements a handful of raw methods
on those values. :class:`Element` and :class:`Scalar` are thin immutable wrappers with
``__slots__`` so that arithmetic costs one Python call above the backend.

Every element that comes from outside goes through :meth:`Group.decode_element`, which
validates it completely (canonical encoding, in the group, in the prime-order subgroup);
there is no other public way to make an element from bytes. The one exception, for speed,
is :meth:`Group.decode_element_deferred`, which returns an ``UncheckedElement``: a
different type, not a subclass, so a type checker refuses it wherever an :class:`Element`
is required; it becomes an element only by a validating exponentiation or by comparing equal
to one (see :class:`~verivote.groups.unchecked.UncheckedElement`).

Secrets. Scalars from :meth:`Group.random_scalar` and :meth:`Group.secret_scalar` are
:class:`SecretScalar`: arithmetic involving one stays secret, exponentiation by one goes
through the group's constant-time path (:meth:`Group._pow_secret`: libsodium's scalar
multiplication for edwards25519 and ristretto255, ``gmpy2.powmod_sec`` for the 4096-bit
group, never a fixed-base table indexed by the exponent's digits), and it cannot be
pickled. A product of secret powers whose factors must stay secret (``g^m·h^r``) is
computed by :meth:`Group.secret_product`, never by multiplying elements. No scalar
prints its value (``repr``, ``str``, f-strings): use :meth:`Scalar.hex` on purpose. Scalar
arithmetic itself is Python integer arithmetic modulo ``q``, which is not constant-time.
"""

from __future__ import annotations

import hashlib
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from verivote.encoding import frame
from verivote.errors import InvalidScalar, ParameterError

if TYPE_CHECKING:
    from verivote.groups.unchecked import UncheckedElement


class Group(ABC):
    """A cyclic group of prime order with canonical encodings.

    Instances are singletons per name (see :func:`verivote.groups.get_group`), so elements
    of the same group share the same ``group`` object.
    """

    name: str
    """Short stable name, e.g. ``"ed25519"``; it is part of every transcript."""
    order: int
    """The prime order ``q`` of the group."""
    element_size: int
    """Length in bytes of an encoded element."""
    scalar_size: int
    """Length in bytes of an encoded scalar."""

    # --- raw operations, implemented by each backend --------------------------------------
    @abstractmethod
    def _op(self, a: Any, b: Any) -> Any:
        """Group operation on raw values."""

    @abstractmethod
    def _inv(self, a: Any) -> Any:
        """Inverse of a raw value."""

    @abstractmethod
    def _pow(self, a: Any, k: int) -> Any:
        """Raw value ``a`` raised to ``k`` with ``0 <= k < order``."""

    def _pow_secret(self, a: Any, k: int) -> Any:
        """Raw value ``a`` raised to the secret ``k`` (``0 <= k < order``) in time that does
        not depend on ``k`` (``k = 0`` included: a vote for 0 is a secret exponent). The
        default is :meth:`_pow`, for backends whose exponentiation is constant-time
        already."""
        return self._pow(a, k)

    def _secret_product(self, values: list[Any], exponents: list[int]) -> Any:
        """Raw ``Π values[i]^exponents[i]`` for secret exponents and public bases, in time
        that depends on neither the exponents nor any partial product. The default
        multiplies :meth:`_pow_secret` results with :meth:`_op`, for groups whose ``_op``
        is constant-time (no shortcut for the identity)."""
        result = self._identity()
        for i, (value, k) in enumerate(zip(values, exponents, strict=True)):
            term = self._pow_secret(value, k)
            result = term if i == 0 else self._op(result, term)
        return result

    @abstractmethod
    def _encode(self, a: Any) -> bytes:
        """Canonical bytes of a raw value."""

    @abstractmethod
    def _decode(self, data: bytes) -> Any:
        """Raw value of canonical bytes; raises InvalidElement on anything else."""

    @abstractmethod
    def _generator(self) -> Any:
        """Raw value of the fixed generator."""

    @abstractmethod
    def _identity(self) -> Any:
        """Raw value of the identity."""

    @abstractmethod
    def _from_hash(self, digest: bytes) -> Any | None:
        """Map 64 uniformly random bytes into the subgroup; None if the result is unusable
        (identity), in which case the caller re-hashes with a counter."""

    @abstractmethod
    def parameters(self) -> dict[str, str]:
        """The group's defining parameters as hex strings, for the record and transcripts."""

    def precompute(self, element: Element) -> None:  # noqa: B027 - optional hook
        """Hint that ``element`` will be raised to many powers (a public key): groups that
        benefit build a fixed-base table. Never changes results."""

    # --- public API ---------------------------------------------------------------------
    @property
    def generator(self) -> Element:
        """The fixed generator ``g``."""
        return Element(self, self._generator())

    @property
    def identity(self) -> Element:
        """The neutral element."""
        return Element(self, self._identity())

    def scalar(self, value: int) -> Scalar:
        """The scalar ``value mod q``."""
        return Scalar(self, value % self.order)

    def secret_scalar(self, value: int) -> SecretScalar:
        """The secret scalar ``value mod q`` (a key, a share, a nonce, a vote)."""
        return SecretScalar(self, value % self.order)

    def random_scalar(self) -> SecretScalar:
        """A uniformly random secret scalar in ``[0, q)`` from the operating system's
        CSPRNG."""
        return SecretScalar(self, secrets.randbelow(self.order))

    def random_nonzero_scalar(self) -> SecretScalar:
        """A uniformly random secret scalar in ``[1, q)``."""
        return SecretScalar(self, 1 + secrets.randbelow(self.order - 1))

    def decode_element(self, data: bytes) -> Element:
        """Strictly decode an element: exactly :attr:`element_size` bytes, canonical, in the
        prime-order subgroup. The identity is accepted (callers that must refuse it check
        :meth:`Element.is_identity`). Raises :class:`~verivote.errors.InvalidElement`."""
        return Element(self, self._decode(data))

    def decode_elements(self, data: Sequence[bytes]) -> list[Element]:
        """Strictly decode many elements, with exactly the guarantees of
        :meth:`decode_element` for each (groups where validation is an exponentiation
        validate many at once, see modp4096). Raises
        :class:`~verivote.errors.InvalidElement` for the first invalid one."""
        return [self.decode_element(d) for d in data]

    def decode_element_deferred(self, data: bytes) -> UncheckedElement:
        """Decode an element checking its encoding only (length, canonical form), not its
        subgroup membership: an :class:`UncheckedElement`, which becomes an
        :class:`Element` only by :meth:`UncheckedElement.__pow__` (validating),
        :meth:`UncheckedElement.matches` (equal to a validated element) or
        :meth:`UncheckedElement.checked`.

        Ballots use this so that no point is validated twice: range-proof verification
        exponentiates every ciphertext component and compares or exponentiates every
        commitment. Raises InvalidElement for a bad encoding. (This default validates in
        full; each concrete group defers.)"""
        return _unchecked.UncheckedElement(self, self._decode(data), validated=True)

    pow_validates = False
    """True when exponentiating a non-subgroup element raises InvalidElement."""

    def decode_scalar(self, data: bytes) -> Scalar:
        """Strictly decode a scalar: exactly :attr:`scalar_size` big-endian bytes, less than
        ``q``. Raises :class:`~verivote.errors.InvalidScalar`."""
        if len(data) != self.scalar_size:
            raise InvalidScalar(
                f"{self.name} scalar must be {self.scalar_size} bytes, got {len(data)}"
            )
        value = int.from_bytes(data, "big")
        if value >= self.order:
            raise InvalidScalar(f"{self.name} scalar is not reduced modulo the group order")
        return Scalar(self, value)

    def product_of_powers(
        self, elements: Sequence[Element], exponents: Sequence[Scalar | int]
    ) -> Element:
        """``Π elements[i] ^ exponents[i]`` (integers are reduced modulo ``q``; the empty
        product is the identity). Groups with cheap multiplication compute it as one
        multi-exponentiation, much faster than the powers one by one; the result is the
        same either way. Raises ParameterError when the lengths differ or an operand is of
        another group, and whatever :meth:`Element.__pow__` raises for an invalid base."""
        if len(elements) != len(exponents):
            raise ParameterError("product_of_powers: as many exponents as elements")
        q = self.order
        values: list[Any] = []
        ks: list[int] = []
        for element, k in zip(elements, exponents, strict=True):
            if element.group is not self:
                raise ParameterError("product_of_powers: element of another group")
            if isinstance(k, Scalar):
                if k.group is not self:
                    raise ParameterError("product_of_powers: scalar of another group")
                e = k.value
            else:
                e = k % q
            values.append(element.value)
            ks.append(e)
        return Element(self, self._multi_pow(values, ks))

    def secret_product(
        self, elements: Sequence[Element], exponents: Sequence[Scalar | int]
    ) -> Element:
        """``Π elements[i] ^ exponents[i]`` where the exponents may be secrets (nonces, keys,
        votes) and the bases are public: every exponent is treated as secret whatever its
        type, and the powers and partial products never leave constant-time code (in
        ``ristretto255`` they are never even encoded). Only the product comes out, so use
        it for values that are published (a ciphertext, a proof's commitment) or that the
        caller is entitled to see. Integers are reduced modulo ``q``; raises ParameterError
        when the lengths differ or an operand is of another group."""
        if len(elements) != len(exponents):
            raise ParameterError("secret_product: as many exponents as elements")
        q = self.order
        values: list[Any] = []
        ks: list[int] = []
        for element, k in zip(elements, exponents, strict=True):
            if element.group is not self:
                raise ParameterError("secret_product: element of another group")
            if isinstance(k, Scalar):
                if k.group is not self:
                    raise ParameterError("secret_product: scalar of another group")
                ks.append(k.value)
            else:
                ks.append(k % q)
            values.append(element.value)
        return Element(self, self._secret_product(values, ks))

    def product(self, elements: Sequence[Element]) -> Element:
        """``elements[0] · … · elements[n-1]`` (the identity for none): the same element as
        multiplying them one by one, in one backend call where the group has one
        (ristretto255: each point decoded once, one encoding). Raises ParameterError for
        an element of another group."""
        values: list[Any] = []
        for element in elements:
            if element.group is not self:
                raise ParameterError("product: element of another group")
            values.append(element.value)
        return Element(self, self._product(values) if values else self._identity())

    def _product(self, values: list[Any]) -> Any:
        """Raw product of validated raw values (at least one): by default one operation per
        value (groups with a faster method override it)."""
        result = values[0]
        for value in values[1:]:
            result = self._op(result, value)
        return result

    fast_multi_pow = False
    """True when :meth:`product_of_powers` costs markedly less per term than an
    exponentiation, so that checking many proofs as one random linear combination pays
    even where it adds terms (see :mod:`verivote.proofs.shuffle_decryption`)."""

    def _multi_pow(self, values: list[Any], exponents: list[int]) -> Any:
        """Raw ``Π values[i]^exponents[i]`` with ``0 <= exponents[i] < q``: by default one
        exponentiation per term (groups with a faster method override it)."""
        result = self._identity()
        for value, k in zip(values, exponents, strict=True):
            result = self._op(result, self._pow(value, k))
        return result

    def hash_to_scalar(self, domain: bytes, *parts: bytes) -> Scalar:
        """SHA-512 of the framed domain and parts, reduced modulo ``q`` (the bias is below
        2^-250 for both groups)."""
        digest = hashlib.sha512(frame(b"verivote/hash-to-scalar", domain, *parts)).digest()
        return Scalar(self, int.from_bytes(digest, "big") % self.order)

    def hash_to_element(self, domain: bytes, *parts: bytes) -> Element:
        """A nothing-up-my-sleeve element: nobody knows its discrete logarithm to ``g``.

        Deterministic in ``(domain, parts)``; never the identity or the generator.
        """
        counter = 0
        while True:
            digest = hashlib.sha512(
                frame(
                    b"verivote/hash-to-element",
                    self.name.encode(),
                    domain,
                    counter.to_bytes(4, "big"),
                    *parts,
                )
            ).digest()
            raw = self._from_hash(digest)
            if raw is not None and raw != self._generator() and raw != self._identity():
                return Element(self, raw)
            counter += 1

    def description(self) -> bytes:
        """Framed bytes that identify the group completely; hashed into every transcript."""
        params = self.parameters()
        return frame(
            self.name.encode(),
            *(frame(k.encode(), v.encode()) for k, v in sorted(params.items())),
        )

    def __repr__(self) -> str:
        return f"<Group {self.name}>"

    def __reduce__(self) -> Any:
        # Groups are singletons: unpickling (in a worker process) looks the name up again.
        from verivote.groups import get_group

        return (get_group, (self.name,))


class Element:
    """An element of a prime-order group. Immutable; hashable; equal when the group and
    the value are equal."""

    __slots__ = ("group", "value")

    group: Group
    value: Any

    def __init__(self, group: Group, value: Any) -> None:
        self.group = group
        self.value = value

    def __mul__(self, other: Element) -> Element:
        if type(other) is not Element:
            return NotImplemented  # an UncheckedElement stays unchecked (its __rmul__)
        if other.group is not self.group:
            raise ParameterError("elements of different groups")
        return Element(self.group, self.group._op(self.value, other.value))

    def __truediv__(self, other: Element) -> Element:
        if type(other) is not Element:
            return NotImplemented
        if other.group is not self.group:
            raise ParameterError("elements of different groups")
        g = self.group
        return Element(g, g._op(self.value, g._inv(other.value)))

    def __pow__(self, k: Scalar | int) -> Element:
        if isinstance(k, Scalar):
            if k.group is not self.group:
                raise ParameterError("scalar of a different group")
            if k._secret:
                return Element(self.group, self.group._pow_secret(self.value, k.value))
            e = k.value
        else:
            e = k % self.group.order
        return Element(self.group, self.group._pow(self.value, e))

    def inverse(self) -> Element:
        """The group inverse."""
        return Element(self.group, self.group._inv(self.value))

    def is_identity(self) -> bool:
        """True for the neutral element."""
        return bool(self.value == self.group._identity())

    def __bytes__(self) -> bytes:
        return self.group._encode(self.value)

    def to_bytes(self) -> bytes:
        """The canonical encoding (same as ``bytes(element)``)."""
        return self.group._encode(self.value)

    def hex(self) -> str:
        """The canonical encoding as lowercase hex, as it appears in the record."""
        return self.group._encode(self.value).hex()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Element)
            and other.group is self.group
            and bool(other.value == self.value)
        )

    def __hash__(self) -> int:
        return hash((self.group.name, self.to_bytes()))

    def __repr__(self) -> str:
        return f"<Element {self.group.name} {self.hex()[:16]}…>"

    def __reduce__(self) -> Any:
        return (_element_from_bytes, (self.group, self.to_bytes()))


def _element_from_bytes(group: Group, data: bytes) -> Element:
    return group.decode_element(data)


class Scalar:
    """An integer modulo the group order ``q``. Immutable; hashable. Its ``repr`` and
    ``str`` never show the value (use :meth:`hex`)."""

    __slots__ = ("group", "value")

    _secret = False

    group: Group
    value: int

    def __init__(self, group: Group, value: int) -> None:
        self.group = group
        self.value = value

    def _other(self, other: Scalar | int) -> int:
        if isinstance(other, Scalar):
            if other.group is not self.group:
                raise ParameterError("scalars of different groups")
            return other.value
        return other

    def __add__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self.value + self._other(other)) % self.group.order)

    __radd__ = __add__

    def __sub__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self.value - self._other(other)) % self.group.order)

    def __rsub__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self._other(other) - self.value) % self.group.order)

    def __mul__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self.value * self._other(other)) % self.group.order)

    __rmul__ = __mul__

    def __neg__(self) -> Scalar:
        return Scalar(self.group, (-self.value) % self.group.order)

    def inverse(self) -> Scalar:
        """The multiplicative inverse modulo ``q``; raises ParameterError for zero."""
        if self.value == 0:
            raise ParameterError("zero has no inverse")
        return Scalar(self.group, pow(self.value, -1, self.group.order))

    def __int__(self) -> int:
        return self.value

    def __bytes__(self) -> bytes:
        return self.value.to_bytes(self.group.scalar_size, "big")

    def to_bytes(self) -> bytes:
        """Fixed-length big-endian encoding (same as ``bytes(scalar)``)."""
        return self.value.to_bytes(self.group.scalar_size, "big")

    def hex(self) -> str:
        """The canonical encoding as lowercase hex."""
        return self.to_bytes().hex()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Scalar):
            return other.group is self.group and other.value == self.value
        return False

    def __hash__(self) -> int:
        return hash((self.group.name, self.value))

    def __repr__(self) -> str:
        return f"<Scalar {self.group.name}>"

    def __reduce__(self) -> Any:
        return (Scalar, (self.group, self.value))


class SecretScalar(Scalar):
    """A scalar that is a secret: a key, a share, a nonce, a vote. Exponentiation by it
    runs in constant time (:meth:`Group._pow_secret`); arithmetic with it gives secret
    scalars; it never prints its value and refuses to be pickled (TypeError)."""

    __slots__ = ()

    _secret = True

    def _secret_of(self, value: int) -> SecretScalar:
        return SecretScalar(self.group, value % self.group.order)

    def __add__(self, other: Scalar | int) -> SecretScalar:
        return self._secret_of(self.value + self._other(other))

    __radd__ = __add__

    def __sub__(self, other: Scalar | int) -> SecretScalar:
        return self._secret_of(self.value - self._other(other))

    def __rsub__(self, other: Scalar | int) -> SecretScalar:
        return self._secret_of(self._other(other) - self.value)

    def __mul__(self, other: Scalar | int) -> SecretScalar:
        return self._secret_of(self.value * self._other(other))

    __rmul__ = __mul__

    def __neg__(self) -> SecretScalar:
        return self._secret_of(-self.value)

    def inverse(self) -> SecretScalar:
        """The multiplicative inverse modulo ``q``; raises ParameterError for zero."""
        if self.value == 0:
            raise ParameterError("zero has no inverse")
        return SecretScalar(self.group, pow(self.value, -1, self.group.order))

    def __repr__(self) -> str:
        return f"<SecretScalar {self.group.name}>"

    def __reduce__(self) -> Any:
        raise TypeError("a secret scalar is never pickled")


# At the end: unchecked.py builds on Element, so it is imported once they exist (not in
# each call of decode_element_deferred, which runs for every point of every ballot).
from verivote.groups import unchecked as _unchecked  # noqa: E402
