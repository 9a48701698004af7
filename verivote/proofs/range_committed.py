"""Range proofs in commitment form: the proof of :mod:`verivote.proofs.range` with its
``a_j`` published beside its ``b_j``.

The statement, the transcript and the challenge are exactly those of
:class:`~verivote.proofs.range.RangeProof` (the challenge already hashes every ``a_j``);
publishing the ``a_j`` only lets a verifier hash them as given and check the equations
``a_j = g^s_j · α^-c_j`` afterwards, all proofs of many ballots together in one
multi-scalar multiplication (:meth:`verivote.proofs.range_multi.MultiRangeBatch.add` with
``a=``), instead of computing every ``a_j`` before hashing. Not used in the record yet: it
is what the ballot format would carry to verify at the cost measured in
``docs/benchmarks.md``.

JSON form: ``{"a": [hex…], "b": [hex…], "c": [hex…], "s": [hex…]}``, each list of
``L + 1`` entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.elgamal import Ciphertext
from verivote.encoding import from_hex
from verivote.errors import DecodeError, InvalidProof
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.codec import expect_keys
from verivote.proofs.range import RangeProof, prove_range, verify_range


@dataclass(frozen=True, slots=True)
class CommittedRangeProof:
    """A :class:`RangeProof` and its ``a_j``."""

    proof: RangeProof
    a: tuple[Element, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the range proof's with ``"a"`` added."""
        return {"a": [e.hex() for e in self.a], **self.proof.to_dict()}

    @classmethod
    def from_dict(cls, group: Group, obj: Any, limit: int) -> CommittedRangeProof:
        """Strictly decode; raises DecodeError (as RangeProof.from_dict, and for ``a``)."""
        expect_keys(obj, ("a", "b", "c", "s"), "committed range proof")
        proof = RangeProof.from_dict(group, {k: obj[k] for k in ("b", "c", "s")}, limit)
        a = obj["a"]
        if not isinstance(a, list) or len(a) != limit + 1:
            raise DecodeError(f"range proof a: expected {limit + 1} elements")
        size = group.element_size
        return cls(
            proof, tuple(group.decode_element(from_hex(x, size, "range proof a")) for x in a)
        )


def commitments_a(ct: Ciphertext, proof: RangeProof) -> tuple[Element, ...]:
    """The ``a_j = g^s_j · α^-c_j`` of a proof (public values only)."""
    group = ct.alpha.group
    g = group.generator
    pairs = zip(proof.challenges, proof.responses, strict=True)
    multi_exp = getattr(group, "multi_exp", None)
    if multi_exp is not None:  # public exponents: the fast path is allowed
        return tuple(multi_exp([g, ct.alpha], [s, -c]) for c, s in pairs)
    return tuple(g**s * ct.alpha ** (-c) for c, s in pairs)


def prove_range_committed(
    public_key: Element, ct: Ciphertext, value: int, nonce: Scalar, limit: int, context: bytes
) -> CommittedRangeProof:
    """:func:`~verivote.proofs.range.prove_range` with its ``a_j``."""
    proof = prove_range(public_key, ct, value, nonce, limit, context)
    return CommittedRangeProof(proof, commitments_a(ct, proof))


def verify_range_committed(
    public_key: Element, ct: Ciphertext, cproof: CommittedRangeProof, limit: int, context: bytes
) -> None:
    """One proof alone: every published ``a_j`` must equal ``g^s_j · α^-c_j``, then the
    range proof must verify. Raises InvalidProof naming the branch."""
    if len(cproof.a) != limit + 1:
        raise InvalidProof(f"range: {len(cproof.a)} commitments a_j, expected {limit + 1}")
    for j, (a_j, expected) in enumerate(
        zip(cproof.a, commitments_a(ct, cproof.proof), strict=True)
    ):
        if a_j != expected:
            raise InvalidProof(f"range: branch {j}: a_j is not g^s_j · α^-c_j")
    verify_range(public_key, ct, cproof.proof, limit, context)
