"""Chaum–Pedersen proof of equality of discrete logarithms.

Statement: ``Y1 = G1^x`` and ``Y2 = G2^x`` for one secret ``x``. For a trustee's decryption
share, ``G1 = g``, ``Y1`` is the trustee's public share key, ``G2 = α`` (the ciphertext's
first component) and ``Y2 = α^x`` the share. Challenge form: the proof is ``(c, s)`` with
``s = w + c·x``; the verifier recomputes ``A1 = G1^s·Y1^-c``, ``A2 = G2^s·Y2^-c`` and checks
``c`` against the transcript of the whole statement and both commitments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.encoding import from_hex
from verivote.errors import InvalidProof
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.codec import expect_keys
from verivote.proofs.transcript import Transcript

PROTOCOL = b"chaum-pedersen"


@dataclass(frozen=True, slots=True)
class ChaumPedersenProof:
    """A non-interactive proof that ``log_G1 Y1 == log_G2 Y2``."""

    challenge: Scalar
    response: Scalar

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"c": hex, "s": hex}``."""
        return {"c": self.challenge.hex(), "s": self.response.hex()}

    @classmethod
    def from_dict(cls, group: Group, obj: Any) -> ChaumPedersenProof:
        """Strictly decode the JSON form; raises DecodeError."""
        expect_keys(obj, ("c", "s"), "chaum-pedersen proof")
        size = group.scalar_size
        return cls(
            group.decode_scalar(from_hex(obj["c"], size, "chaum-pedersen proof c")),
            group.decode_scalar(from_hex(obj["s"], size, "chaum-pedersen proof s")),
        )


def _challenge(
    bases: tuple[Element, Element],
    values: tuple[Element, Element],
    commitments: tuple[Element, Element],
    context: bytes,
) -> Scalar:
    return (
        Transcript(PROTOCOL, bases[0].group, context)
        .element(b"G1", bases[0])
        .element(b"G2", bases[1])
        .element(b"Y1", values[0])
        .element(b"Y2", values[1])
        .element(b"A1", commitments[0])
        .element(b"A2", commitments[1])
        .challenge()
    )


def prove_equal_logs(
    secret: Scalar,
    bases: tuple[Element, Element],
    values: tuple[Element, Element],
    context: bytes,
) -> ChaumPedersenProof:
    """Prove ``values[i] = bases[i]^secret`` for both ``i``, bound to ``context``."""
    return _prove_equal_logs(secret, bases, values, context, secret.group.random_scalar())


def _prove_equal_logs(
    secret: Scalar,
    bases: tuple[Element, Element],
    values: tuple[Element, Element],
    context: bytes,
    nonce: Scalar,
) -> ChaumPedersenProof:
    group = secret.group
    commitments = (
        group.secret_product([bases[0]], [nonce]),
        group.secret_product([bases[1]], [nonce]),
    )
    c = _challenge(bases, values, commitments, context)
    return ChaumPedersenProof(c, nonce + c * secret)


def verify_equal_logs(
    bases: tuple[Element, Element],
    values: tuple[Element, Element],
    proof: ChaumPedersenProof,
    context: bytes,
) -> None:
    """Return if ``proof`` shows ``log_bases[0] values[0] == log_bases[1] values[1]``;
    otherwise raise :class:`~verivote.errors.InvalidProof`. Neither base may be the
    identity."""
    if bases[0].is_identity() or bases[1].is_identity():
        raise InvalidProof("chaum-pedersen: a base is the identity")
    minus_c = -proof.challenge
    s = proof.response
    commitments = (
        bases[0] ** s * values[0] ** minus_c,
        bases[1] ** s * values[1] ** minus_c,
    )
    if _challenge(bases, values, commitments, context) != proof.challenge:
        raise InvalidProof("chaum-pedersen: challenge does not match G^s · Y^-c")
