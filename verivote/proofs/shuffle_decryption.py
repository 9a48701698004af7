"""Decryption shares of mixed ciphertexts, with Chaum–Pedersen proofs that carry their
commitments, checked one by one or many at once.

After the last mix every ciphertext is decrypted by ``k`` trustees: trustee ``t`` with
secret share ``x`` and public share key ``Y = g^x`` publishes ``D = α^x`` and a proof that
``log_g Y = log_α D``. The proof is the Chaum–Pedersen proof of
:mod:`verivote.proofs.chaum_pedersen` (same protocol label and transcript, so its
challenge is the same) in commitment form: ``(A1, A2, s)`` instead of ``(c, s)``, the
challenge being ``c = H(g, α, Y, D, A1, A2)``. Carrying the commitments is what makes a
batch check possible: with ``c`` known from the hash, each proof stands for the two
equations

    g^s = A1 · Y^c            α^s = A2 · D^c

and :class:`DecryptionBatch` checks the equations of many proofs (of any number of
trustees) together, raised to random 128-bit weights ``ρ, σ`` drawn by the checker from
``secrets``::

    g^{Σρs} · Π_Y Y^{-Σρc} · Π A1^{-ρ} · Π α^{σs} · Π D^{-σc} · Π A2^{-σ} = 1

one multi-exponentiation in which every ``g``, every share key and every repeated ``α``
(the same ciphertext decrypted by several trustees) is one term. A false proof passes
with probability at most ``2^-127``. :func:`check_decryptions` falls back to one-by-one
checks when the batch fails, to name the false proof.

Cost per proof: alone, 1 fixed-base and 3 variable exponentiations; in a batch, 4 terms
of a multi-exponentiation (two with 128-bit exponents), fewer when ``α`` repeats. This
pays where :attr:`~verivote.groups.base.Group.fast_multi_pow` (modp4096: bucket
multi-exponentiation); on ed25519 every term is a full scalar multiplication, so there
the proofs are checked one by one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verivote.encoding import from_hex
from verivote.errors import InvalidProof
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.chaum_pedersen import PROTOCOL
from verivote.proofs.codec import expect_keys
from verivote.proofs.transcript import Transcript

__all__ = [
    "DecryptionBatch",
    "DecryptionProof",
    "InvalidDecryption",
    "check_decryption",
    "check_decryptions",
    "prove_decryption",
]


class InvalidDecryption(InvalidProof):
    """A decryption share whose proof fails; ``index`` is its position in the list given
    to :func:`check_decryptions` (``None`` for a single check)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message if index is None else f"share {index}: {message}")
        self.index = index


@dataclass(frozen=True, slots=True)
class DecryptionProof:
    """A Chaum–Pedersen proof ``log_g Y = log_α D`` with its commitments."""

    a1: Element
    a2: Element
    response: Scalar

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"a1": hex, "a2": hex, "s": hex}``."""
        return {"a1": self.a1.hex(), "a2": self.a2.hex(), "s": self.response.hex()}

    @classmethod
    def from_dict(cls, group: Group, obj: Any) -> DecryptionProof:
        """Strictly decode the JSON form, validating both commitments completely; raises
        DecodeError."""
        expect_keys(obj, ("a1", "a2", "s"), "decryption proof")
        size = group.element_size
        return cls(
            group.decode_element(from_hex(obj["a1"], size, "decryption proof a1")),
            group.decode_element(from_hex(obj["a2"], size, "decryption proof a2")),
            group.decode_scalar(from_hex(obj["s"], group.scalar_size, "decryption proof s")),
        )


def _challenge(
    share_key: Element, alpha: Element, share: Element, proof: DecryptionProof, context: bytes
) -> Scalar:
    group = share_key.group
    return (
        Transcript(PROTOCOL, group, context)
        .element(b"G1", group.generator)
        .element(b"G2", alpha)
        .element(b"Y1", share_key)
        .element(b"Y2", share)
        .element(b"A1", proof.a1)
        .element(b"A2", proof.a2)
        .challenge()
    )


def prove_decryption(
    secret: Scalar, alpha: Element, context: bytes
) -> tuple[Element, DecryptionProof]:
    """The share ``α^secret`` and its proof, bound to ``context`` (the nonce from the OS
    CSPRNG)."""
    return _prove_decryption(secret, alpha, context, secret.group.random_scalar())


def _prove_decryption(
    secret: Scalar, alpha: Element, context: bytes, nonce: Scalar
) -> tuple[Element, DecryptionProof]:
    group = secret.group
    g = group.generator
    # Every exponent is a secret (share, nonce): constant-time powers, published results.
    share_key = group.secret_product([g], [secret])
    share = group.secret_product([alpha], [secret])
    partial = DecryptionProof(
        group.secret_product([g], [nonce]), group.secret_product([alpha], [nonce]), group.scalar(0)
    )
    c = _challenge(share_key, alpha, share, partial, context)
    return share, DecryptionProof(partial.a1, partial.a2, nonce + c * secret)


def check_decryption(
    share_key: Element, alpha: Element, share: Element, proof: DecryptionProof, context: bytes
) -> None:
    """Return if ``proof`` shows ``share = alpha^x`` for the ``x`` of ``share_key = g^x``
    in ``context``; otherwise raise :class:`InvalidDecryption` naming the failed equation.
    Refuses ``α = 1`` (a share of it proves nothing)."""
    if alpha.is_identity():
        raise InvalidDecryption("decryption: α is the identity")
    c = _challenge(share_key, alpha, share, proof, context)
    g = share_key.group.generator
    if g**proof.response * share_key ** (-c) != proof.a1:
        raise InvalidDecryption("decryption: g^s · Y^-c differs from A1")
    if alpha**proof.response * share ** (-c) != proof.a2:
        raise InvalidDecryption("decryption: α^s · D^-c differs from A2")


class DecryptionBatch:
    """Many decryption proofs, of any trustees, checked as one random linear combination.

    :meth:`add` hashes a proof's challenge at once; :meth:`verify` checks every equation
    together. Every element given must be a validated subgroup element (decoded with
    ``decode_element``, or exponentiated by a group whose exponentiation validates): the
    ``2^-127`` bound holds in a group of prime order only."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.terms: dict[bytes, tuple[Element, int]] = {}
        self.count = 0

    def _term(self, element: Element, exponent: int) -> None:
        key = element.to_bytes()
        known = self.terms.get(key)
        q = self.group.order
        self.terms[key] = (element, exponent % q if known is None else (known[1] + exponent) % q)

    def add(
        self,
        share_key: Element,
        alpha: Element,
        share: Element,
        proof: DecryptionProof,
        context: bytes,
    ) -> None:
        """Defer the two equations of ``proof``; refuses ``α = 1`` at once."""
        if alpha.is_identity():
            raise InvalidDecryption("decryption: α is the identity")
        c = _challenge(share_key, alpha, share, proof, context).value
        s = proof.response.value
        rho = secrets.randbits(128) | 1
        sigma = secrets.randbits(128) | 1
        self._term(self.group.generator, rho * s)
        self._term(share_key, -rho * c)
        self._term(proof.a1, -rho)
        self._term(alpha, sigma * s)
        self._term(share, -sigma * c)
        self._term(proof.a2, -sigma)
        self.count += 1

    def verify(self) -> None:
        """Raise InvalidDecryption unless every deferred equation holds (up to 2^-127)."""
        if not self.terms:
            return
        elements = [e for e, _ in self.terms.values()]
        exponents = [k for _, k in self.terms.values()]
        if not self.group.product_of_powers(elements, exponents).is_identity():
            raise InvalidDecryption("decryption: the batched equations g^s = A1·Y^c, α^s = A2·D^c")


def check_decryptions(
    items: Sequence[tuple[Element, Element, Element, DecryptionProof, bytes]],
    batch: bool | None = None,
) -> None:
    """Check many ``(share_key, α, share, proof, context)``; return if all hold, otherwise
    raise :class:`InvalidDecryption` with the index of the first false one. With ``batch``
    (default: where the group's multi-exponentiation is fast) they are checked as one
    :class:`DecryptionBatch` first and one by one only if it fails."""
    if not items:
        return
    group = items[0][0].group
    if batch is None:
        batch = group.fast_multi_pow
    if batch:
        combined = DecryptionBatch(group)
        try:
            for share_key, alpha, share, proof, context in items:
                combined.add(share_key, alpha, share, proof, context)
            combined.verify()
            return
        except InvalidDecryption:
            pass  # name the false proof below
    for index, (share_key, alpha, share, proof, context) in enumerate(items):
        try:
            check_decryption(share_key, alpha, share, proof, context)
        except InvalidDecryption as exc:
            raise InvalidDecryption(str(exc), index) from None
    if batch:
        # Every proof holds alone but the batch failed: impossible unless an element was
        # not a subgroup element; refuse rather than accept.
        raise InvalidDecryption("decryption: the batch failed although each proof holds")
