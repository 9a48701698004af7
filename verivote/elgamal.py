"""Exponential ElGamal over any :class:`~verivote.groups.Group`.

``Enc(h, m; r) = (g^r, g^m · h^r)``. Ciphertexts multiply component-wise to add plaintexts,
so the product of many encrypted 0/1 selections encrypts their count. Decryption with the
secret ``x`` (``h = g^x``) yields ``g^m = β / α^x``; :class:`DiscreteLog` recovers ``m`` when
it is small (a tally).

In a threshold election no one holds ``x``: each trustee publishes ``α^(x_i)`` with a
Chaum–Pedersen proof and the shares are combined by Lagrange interpolation in the exponent
(:func:`combine_shares`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from verivote.encoding import from_hex
from verivote.errors import DecodeError, DiscreteLogError, ParameterError
from verivote.groups.base import Element, Group, Scalar
from verivote.groups.unchecked import UncheckedElement


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An exponential ElGamal ciphertext ``(α, β) = (g^r, g^m·h^r)``."""

    alpha: Element
    beta: Element

    def __mul__(self, other: Ciphertext) -> Ciphertext:
        """Homomorphic addition: the product encrypts the sum of the plaintexts."""
        if type(other) is not Ciphertext:
            return NotImplemented
        return Ciphertext(self.alpha * other.alpha, self.beta * other.beta)

    def __pow__(self, k: Scalar | int) -> Ciphertext:
        """Homomorphic scaling: encrypts ``k·m``."""
        return Ciphertext(self.alpha**k, self.beta**k)

    def to_bytes(self) -> bytes:
        """``α ‖ β`` in canonical encodings (fixed length per group)."""
        return self.alpha.to_bytes() + self.beta.to_bytes()

    def to_dict(self) -> dict[str, str]:
        """JSON form ``{"a": hex, "b": hex}``."""
        return {"a": self.alpha.hex(), "b": self.beta.hex()}

    @classmethod
    def from_dict(cls, group: Group, obj: Any) -> Ciphertext:
        """Strictly decode the JSON form; both components are validated. Raises
        DecodeError (InvalidElement for an invalid component)."""
        a, b = _components(group, obj)
        return cls(group.decode_element(a), group.decode_element(b))

    @classmethod
    def zero(cls, group: Group) -> Ciphertext:
        """The trivial encryption of 0 with randomness 0: the neutral element of ``*``."""
        return cls(group.identity, group.identity)

    def checked(self) -> Ciphertext:
        """Itself: its components are validated (the twin of
        :meth:`DeferredCiphertext.checked`)."""
        return self


def _components(group: Group, obj: Any) -> tuple[bytes, bytes]:
    if not isinstance(obj, dict) or set(obj) != {"a", "b"}:
        raise DecodeError("ciphertext: expected an object with keys 'a' and 'b'")
    size = group.element_size
    return from_hex(obj["a"], size, "ciphertext a"), from_hex(obj["b"], size, "ciphertext b")


@dataclass(frozen=True, slots=True, eq=False)
class DeferredCiphertext:
    """A ciphertext whose components' subgroup membership is not yet established
    (:class:`~verivote.groups.base.UncheckedElement`): decoded for a range proof that is
    verified next, whose exponentiations establish it. :meth:`checked` is the only way to
    a :class:`Ciphertext`."""

    alpha: UncheckedElement
    beta: UncheckedElement

    @classmethod
    def from_dict(cls, group: Group, obj: Any) -> DeferredCiphertext:
        """Decode the JSON form checking encodings only
        (:meth:`~verivote.groups.base.Group.decode_element_deferred`); raises DecodeError."""
        a, b = _components(group, obj)
        return cls(group.decode_element_deferred(a), group.decode_element_deferred(b))

    def __mul__(self, other: Ciphertext | DeferredCiphertext) -> DeferredCiphertext:
        """Homomorphic addition; the product is no more checked than its factors."""
        return DeferredCiphertext(self.alpha * other.alpha, self.beta * other.beta)

    def __rmul__(self, other: Ciphertext) -> DeferredCiphertext:
        return DeferredCiphertext(self.alpha.__rmul__(other.alpha), self.beta.__rmul__(other.beta))

    def to_bytes(self) -> bytes:
        """``α ‖ β`` as decoded."""
        return self.alpha.to_bytes() + self.beta.to_bytes()

    def checked(self) -> Ciphertext:
        """The Ciphertext: each component validated in full unless a validating
        exponentiation or an equality with a valid element already established it.
        Raises InvalidElement."""
        return Ciphertext(self.alpha.checked(), self.beta.checked())


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A secret exponent and its public key ``g^secret``. Never serialised to the record."""

    secret: Scalar
    public: Element

    @classmethod
    def generate(cls, group: Group) -> KeyPair:
        """A fresh key pair from the OS CSPRNG."""
        x = group.random_nonzero_scalar()
        return cls(x, group.generator**x)

    def __repr__(self) -> str:
        return f"<KeyPair {self.public!r}>"

    def __reduce__(self) -> Any:
        raise TypeError("a key pair is never pickled")


def encrypt(public_key: Element, message: int) -> tuple[Ciphertext, Scalar]:
    """Encrypt the small non-negative integer ``message``; returns the ciphertext and the
    nonce (keep it secret: it decrypts the ciphertext; it is what proofs and audits need)."""
    nonce = public_key.group.random_scalar()
    return encrypt_with_nonce(public_key, message, nonce), nonce


def encrypt_with_nonce(public_key: Element, message: int, nonce: Scalar) -> Ciphertext:
    """Deterministic twin of :func:`encrypt` (known-answer tests, audits)."""
    if message < 0:
        raise ParameterError("exponential ElGamal encrypts non-negative integers only")
    group = public_key.group
    g = group.generator
    # The nonce and the message are secrets, and so are g^m and the pad h^r: β is computed
    # as one product of secret powers, whose factors never leave constant-time code.
    return Ciphertext(
        group.secret_product([g], [nonce]), group.secret_product([g, public_key], [message, nonce])
    )


def reencrypt(public_key: Element, ct: Ciphertext, nonce: Scalar) -> Ciphertext:
    """Multiply by an encryption of 0: same plaintext, unlinkable ciphertext."""
    group = public_key.group
    g = group.generator
    # g^s and h^s would link the two ciphertexts: products of secret powers only.
    return Ciphertext(
        group.secret_product([ct.alpha, g], [1, nonce]),
        group.secret_product([ct.beta, public_key], [1, nonce]),
    )


def reencrypt_fresh(public_key: Element, ct: Ciphertext) -> tuple[Ciphertext, Scalar]:
    """Re-encrypt ``ct`` with a fresh nonce from the OS CSPRNG; returns the new ciphertext
    and the nonce (secret: it links the two ciphertexts). :func:`reencrypt` is the
    deterministic twin."""
    nonce = public_key.group.random_scalar()
    return reencrypt(public_key, ct, nonce), nonce


def reencrypt_row(
    public_key: Element, row: Sequence[Ciphertext]
) -> tuple[tuple[Ciphertext, ...], tuple[Scalar, ...]]:
    """Re-encrypt every ciphertext of ``row`` (a ranked ballot: one ciphertext per rank)
    with its own fresh nonce; returns the new row and the nonces, in row order."""
    nonces = tuple(public_key.group.random_scalar() for _ in row)
    return reencrypt_row_with_nonces(public_key, row, nonces), nonces


def reencrypt_row_with_nonces(
    public_key: Element, row: Sequence[Ciphertext], nonces: Sequence[Scalar]
) -> tuple[Ciphertext, ...]:
    """Deterministic twin of :func:`reencrypt_row`: ciphertext ``k`` is re-encrypted with
    ``nonces[k]``. Rejects (ParameterError) a nonce list of another length."""
    if len(nonces) != len(row):
        raise ParameterError(f"{len(row)} ciphertexts but {len(nonces)} nonces")
    return tuple(reencrypt(public_key, ct, r) for ct, r in zip(row, nonces, strict=True))


def decrypt_to_element(secret: Scalar, ct: Ciphertext) -> Element:
    """``g^m`` for the ciphertext's message ``m`` (use :class:`DiscreteLog` for ``m``);
    ``secret`` is used as a secret whatever its type: ``β·α^(-x)`` is one product of secret
    powers, so the pad ``α^x`` never leaves constant-time code."""
    return secret.group.secret_product([ct.beta, ct.alpha], [1, -secret.value])


def product(cts: Iterable[Ciphertext], group: Group) -> Ciphertext:
    """Homomorphic sum of ``cts`` (the encryption of 0 when empty)."""
    alpha = group.identity
    beta = group.identity
    for ct in cts:
        alpha = alpha * ct.alpha
        beta = beta * ct.beta
    return Ciphertext(alpha, beta)


def lagrange_coefficient(index: int, indices: Sequence[int], group: Group) -> Scalar:
    """The Lagrange coefficient at 0 of trustee ``index`` among ``indices`` (1-based,
    distinct): ``Π_{j≠i} j / (j − i) mod q``."""
    if index not in indices or len(set(indices)) != len(indices) or min(indices) < 1:
        raise ParameterError("trustee indices must be distinct, positive and include index")
    q = group.order
    num, den = 1, 1
    for j in indices:
        if j != index:
            num = num * j % q
            den = den * (j - index) % q
    return Scalar(group, num * pow(den, -1, q) % q)


def combine_shares(shares: dict[int, Element], group: Group) -> Element:
    """Combine decryption shares ``{trustee index: α^(x_i)}`` of at least ``k`` trustees into
    ``α^x`` by Lagrange interpolation in the exponent."""
    indices = sorted(shares)
    result = group.identity
    for i in indices:
        result = result * shares[i] ** lagrange_coefficient(i, indices, group)
    return result


class DiscreteLog:
    """Baby-step giant-step solver for ``g^m`` with ``0 <= m <= bound``.

    The table of ``⌈√(bound+1)⌉`` baby steps is built once per (group, bound) and cached;
    a look-up then costs at most as many group operations again.
    """

    _cache: ClassVar[dict[tuple[str, int], DiscreteLog]] = {}

    def __init__(self, group: Group, bound: int = 10_000_000) -> None:
        if bound < 0:
            raise ParameterError("bound must be non-negative")
        self.group = group
        self.bound = bound
        self.step = math.isqrt(bound) + 1
        table: dict[bytes, int] = {}
        g = group.generator
        x = group.identity
        for j in range(self.step):
            table[x.to_bytes()] = j
            x = x * g
        self._table = table
        self._giant = (g**self.step).inverse()

    @classmethod
    def for_group(cls, group: Group, bound: int = 10_000_000) -> DiscreteLog:
        """A cached solver for ``group`` and ``bound``."""
        key = (group.name, bound)
        solver = cls._cache.get(key)
        if solver is None:
            solver = cls(group, bound)
            cls._cache[key] = solver
        return solver

    def solve(self, target: Element) -> int:
        """``m`` with ``g^m == target``; raises :class:`~verivote.errors.DiscreteLogError`
        if no such ``m`` lies in ``[0, bound]``."""
        y = target
        table = self._table
        for i in range(self.step + 1):
            j = table.get(y.to_bytes())
            if j is not None:
                m = i * self.step + j
                if m <= self.bound:
                    return m
                break
            y = y * self._giant
        raise DiscreteLogError(f"no discrete logarithm in [0, {self.bound}]")
