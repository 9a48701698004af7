"""Disjunctive Chaum–Pedersen proof that an ElGamal ciphertext encrypts a value in
``[0, L]``.

For a ciphertext ``(α, β) = (g^r, g^m·h^r)`` under public key ``h``, branch ``j`` of the
statement says ``(α, β/g^j) = (g^r, h^r)``. The prover runs the real Chaum–Pedersen protocol
for ``j = m`` and simulates the others (Cramer–Damgård–Schoenmakers). The proof is the list
of ``(c_j, s_j)`` for ``j = 0..L``. The verifier recomputes, for every ``j``,

    a_j = g^s_j · α^-c_j        b_j = h^s_j · (β/g^j)^-c_j

and accepts iff ``Σ c_j`` equals the transcript challenge of the statement
``(h, α, β, L)`` and all ``a_j, b_j``. With ``L = 1`` this is the 0/1 proof of a selection;
with ``L`` a contest's limit it proves the contest is not over-voted (under-votes included).

Cost to verify: per branch one fixed-base and three variable-base exponentiations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, InvalidProof, ParameterError
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.codec import expect_keys, scalar_list
from verivote.proofs.transcript import Transcript

PROTOCOL = b"range"
MAX_RANGE = 64
"""Largest ``L`` accepted: the proof grows linearly in ``L``."""


@dataclass(frozen=True, slots=True)
class RangeProof:
    """Proof that a ciphertext encrypts one of ``0..len(challenges)-1``."""

    challenges: tuple[Scalar, ...]
    responses: tuple[Scalar, ...]

    @property
    def limit(self) -> int:
        """The ``L`` this proof is for."""
        return len(self.challenges) - 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"c": [hex…], "s": [hex…]}``."""
        return {
            "c": [c.hex() for c in self.challenges],
            "s": [s.hex() for s in self.responses],
        }

    @classmethod
    def from_dict(cls, group: Group, obj: Any, limit: int) -> RangeProof:
        """Strictly decode the JSON form of a proof for ``[0, limit]``; raises DecodeError."""
        expect_keys(obj, ("c", "s"), "range proof")
        if not 0 < limit <= MAX_RANGE:
            raise DecodeError(f"range proof: limit {limit} outside 1..{MAX_RANGE}")
        return cls(
            tuple(scalar_list(group, obj["c"], "range proof c", limit + 1)),
            tuple(scalar_list(group, obj["s"], "range proof s", limit + 1)),
        )


def _transcript(public_key: Element, ct: Ciphertext, limit: int, context: bytes) -> Transcript:
    return (
        Transcript(PROTOCOL, public_key.group, context)
        .element(b"h", public_key)
        .element(b"alpha", ct.alpha)
        .element(b"beta", ct.beta)
        .integer(b"L", limit)
    )


def prove_range(
    public_key: Element,
    ct: Ciphertext,
    value: int,
    nonce: Scalar,
    limit: int,
    context: bytes,
) -> RangeProof:
    """Prove that ``ct = Enc(public_key, value; nonce)`` with ``0 <= value <= limit``."""
    group = public_key.group
    sims = [(group.random_scalar(), group.random_scalar()) for _ in range(limit + 1)]
    return _prove_range(public_key, ct, value, nonce, limit, context, group.random_scalar(), sims)


def _prove_range(
    public_key: Element,
    ct: Ciphertext,
    value: int,
    nonce: Scalar,
    limit: int,
    context: bytes,
    w: Scalar,
    sims: list[tuple[Scalar, Scalar]],
) -> RangeProof:
    if not 0 < limit <= MAX_RANGE:
        raise ParameterError(f"range proof limit must be in 1..{MAX_RANGE}, got {limit}")
    if not 0 <= value <= limit:
        raise ParameterError(f"value {value} is outside [0, {limit}]")
    group = public_key.group
    g = group.generator
    commitments: list[Element] = []
    shifted = ct.beta
    for j in range(limit + 1):
        if j == value:
            commitments += [g**w, public_key**w]
        else:
            c_j, s_j = sims[j]
            commitments += [
                g**s_j * ct.alpha ** (-c_j),
                public_key**s_j * shifted ** (-c_j),
            ]
        shifted = shifted / g
    challenge = _transcript(public_key, ct, limit, context).elements(b"ab", commitments).challenge()
    challenges = [sims[j][0] for j in range(limit + 1)]
    responses = [sims[j][1] for j in range(limit + 1)]
    real_c = challenge - sum((c for j, c in enumerate(challenges) if j != value), group.scalar(0))
    challenges[value] = real_c
    responses[value] = w + real_c * nonce
    return RangeProof(tuple(challenges), tuple(responses))


def verify_range(
    public_key: Element,
    ct: Ciphertext,
    proof: RangeProof,
    limit: int,
    context: bytes,
) -> None:
    """Return if ``proof`` shows that ``ct`` encrypts a value in ``[0, limit]`` under
    ``public_key`` in ``context``; otherwise raise :class:`~verivote.errors.InvalidProof`."""
    if proof.limit != limit or len(proof.responses) != limit + 1:
        raise InvalidProof(f"range: proof is for [0, {proof.limit}], expected [0, {limit}]")
    group = public_key.group
    g = group.generator
    alpha = ct.alpha
    commitments: list[Element] = []
    shifted = ct.beta
    total = 0
    for j in range(limit + 1):
        minus_c = -proof.challenges[j]
        s = proof.responses[j]
        commitments.append(g**s * alpha**minus_c)
        commitments.append(public_key**s * shifted**minus_c)
        total += proof.challenges[j].value
        if j < limit:
            shifted = shifted / g
    expected = _transcript(public_key, ct, limit, context).elements(b"ab", commitments).challenge()
    if expected.value != total % group.order:
        raise InvalidProof("range: the challenges do not sum to the transcript challenge")
