"""Schnorr proof of knowledge of a discrete logarithm: ``X = g^x``.

Used for trustees' polynomial coefficients. Challenge form: the proof is ``(c, s)`` with
``s = w + c·x``; the verifier recomputes the commitment ``A = g^s · X^-c`` and checks that
``c`` is the transcript challenge of ``(X, A)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.encoding import from_hex
from verivote.errors import InvalidProof
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.codec import expect_keys
from verivote.proofs.transcript import Transcript

PROTOCOL = b"schnorr"


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """A non-interactive proof of knowledge of ``log_g X``."""

    challenge: Scalar
    response: Scalar

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"c": hex, "s": hex}``."""
        return {"c": self.challenge.hex(), "s": self.response.hex()}

    @classmethod
    def from_dict(cls, group: Group, obj: Any) -> SchnorrProof:
        """Strictly decode the JSON form; raises DecodeError."""
        expect_keys(obj, ("c", "s"), "schnorr proof")
        return cls(
            group.decode_scalar(from_hex(obj["c"], group.scalar_size, "schnorr proof c")),
            group.decode_scalar(from_hex(obj["s"], group.scalar_size, "schnorr proof s")),
        )


def _challenge(public: Element, commitment: Element, context: bytes) -> Scalar:
    group = public.group
    return (
        Transcript(PROTOCOL, group, context)
        .element(b"g", group.generator)
        .element(b"X", public)
        .element(b"A", commitment)
        .challenge()
    )


def prove_schnorr(secret: Scalar, public: Element, context: bytes) -> SchnorrProof:
    """Prove knowledge of ``secret`` with ``public = g^secret``, bound to ``context``."""
    return _prove_schnorr(secret, public, context, secret.group.random_scalar())


def _prove_schnorr(secret: Scalar, public: Element, context: bytes, nonce: Scalar) -> SchnorrProof:
    group = secret.group
    commitment = group.secret_product([group.generator], [nonce])
    c = _challenge(public, commitment, context)
    return SchnorrProof(c, nonce + c * secret)


def verify_schnorr(public: Element, proof: SchnorrProof, context: bytes) -> None:
    """Return if ``proof`` shows knowledge of ``log_g public`` in ``context``; otherwise
    raise :class:`~verivote.errors.InvalidProof`. ``public`` must not be the identity."""
    if public.is_identity():
        raise InvalidProof("schnorr: the public value is the identity")
    group = public.group
    commitment = group.generator**proof.response * public ** (-proof.challenge)
    if _challenge(public, commitment, context) != proof.challenge:
        raise InvalidProof("schnorr: challenge does not match g^s · X^-c")
