"""Disjunctive Chaum–Pedersen proof that an ElGamal ciphertext encrypts a value in
``[0, L]``, published in commitment form.

For a ciphertext ``(α, β) = (g^r, g^m·h^r)`` under public key ``h``, branch ``j`` of the
statement says ``(α, β/g^j) = (g^r, h^r)``. The prover runs the real Chaum–Pedersen protocol
for ``j = m`` and simulates the others (Cramer–Damgård–Schoenmakers). The proof is, for
``j = 0..L``, the commitments ``(a_j, b_j)``, the challenge ``c_j`` and the response
``s_j``. The verifier hashes the published ``a_j, b_j`` into the transcript challenge of
the statement ``(h, α, β, L)`` and accepts iff ``Σ c_j`` equals it and, for every ``j``,

    g^s_j = a_j · α^c_j        h^s_j = b_j · (β/g^j)^c_j

With ``L = 1`` this is the 0/1 proof of a selection; with ``L`` a contest's limit it proves
the contest is not over-voted (under-votes included).

Publishing the ``a_j`` (they are determined by ``c_j, s_j`` and ``α``, so the proof says
nothing more) lets a verifier hash them as given and check every equation afterwards, of
one proof or of many ballots together, as one random linear combination:
:func:`verify_range` checks one proof equation by equation (the reference, and what names
a false proof); :class:`RangeBatch` checks one ballot's proofs together in a group without
a multi-scalar multiplication; :class:`~verivote.proofs.range_multi.MultiRangeBatch`
checks the proofs of thousands of ballots with one multi-scalar multiplication.

Cost to verify one proof alone: per branch one fixed-base and three variable-base
exponentiations.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verivote.elgamal import Ciphertext, DeferredCiphertext
from verivote.encoding import from_hex
from verivote.errors import DecodeError, InvalidProof, ParameterError
from verivote.groups.base import Element, Group, Scalar
from verivote.groups.unchecked import UncheckedElement
from verivote.proofs.codec import expect_keys, scalar_list
from verivote.proofs.transcript import Transcript

PROTOCOL = b"range"
MAX_RANGE = 64
"""Largest ``L`` accepted: the proof grows linearly in ``L``."""


@dataclass(frozen=True, slots=True, eq=False)
class RangeProof:
    """Proof that a ciphertext encrypts one of ``0..len(challenges)-1``. Two proofs are
    equal when their encodings are."""

    challenges: tuple[Scalar, ...]
    responses: tuple[Scalar, ...]
    commitments: tuple[Element | UncheckedElement, ...]
    """The ``b_j``; decoded unchecked, their subgroup membership follows from the checks
    that use them (equality with a recomputed element, a validating exponentiation, or a
    group's batched subgroup test)."""
    a_commitments: tuple[Element | UncheckedElement, ...]
    """The ``a_j``, decoded unchecked like the ``b_j``."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RangeProof) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(c.to_bytes() for c in self.commitments))

    @property
    def limit(self) -> int:
        """The ``L`` this proof is for."""
        return len(self.challenges) - 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"a": [hex…], "b": [hex…], "c": [hex…], "s": [hex…]}``."""
        return {
            "a": [a.hex() for a in self.a_commitments],
            "b": [b.hex() for b in self.commitments],
            "c": [c.hex() for c in self.challenges],
            "s": [s.hex() for s in self.responses],
        }

    @classmethod
    def from_dict(cls, group: Group, obj: Any, limit: int) -> RangeProof:
        """Strictly decode the JSON form of a proof for ``[0, limit]``: exactly the keys
        ``a, b, c, s``, each a list of ``limit + 1`` canonical encodings (elements checked
        for their encoding only, see :attr:`commitments`). Raises DecodeError."""
        expect_keys(obj, ("a", "b", "c", "s"), "range proof")
        if not 0 < limit <= MAX_RANGE:
            raise DecodeError(f"range proof: limit {limit} outside 1..{MAX_RANGE}")
        points = []
        size = group.element_size
        for key in ("a", "b"):
            items = obj[key]
            if not isinstance(items, list) or len(items) != limit + 1:
                raise DecodeError(f"range proof {key}: expected {limit + 1} elements")
            what = f"range proof {key}"
            points.append(
                tuple(group.decode_element_deferred(from_hex(x, size, what)) for x in items)
            )
        return cls(
            tuple(scalar_list(group, obj["c"], "range proof c", limit + 1)),
            tuple(scalar_list(group, obj["s"], "range proof s", limit + 1)),
            points[1],
            points[0],
        )


AnyCiphertext = Ciphertext | DeferredCiphertext
"""A ciphertext to verify a proof about: validated, or decoded with deferred checks."""


def _transcript(public_key: Element, ct: AnyCiphertext, limit: int, context: bytes) -> Transcript:
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
    sims: Sequence[tuple[Scalar, Scalar]],
) -> RangeProof:
    if not 0 < limit <= MAX_RANGE:
        raise ParameterError(f"range proof limit must be in 1..{MAX_RANGE}, got {limit}")
    if not 0 <= value <= limit:
        raise ParameterError(f"value {value} is outside [0, {limit}]")
    group = public_key.group
    g = group.generator
    commitments: list[Element | UncheckedElement] = []
    # Every branch, real or simulated, is computed the same way, from g and h alone:
    # with α = g^r and β/g^j = g^(m-j)·h^r, a simulated branch's
    #   a_j = g^s_j · α^-c_j = g^e_j   and   b_j = h^s_j · (β/g^j)^-c_j = h^e_j · g^d_j
    # where e_j = s_j - c_j·r and d_j = -c_j·(m - j); the real branch has e_j = w and
    # d_j = 0 (m = j). So which branch is real (the vote) shows in no group operation:
    # each is one constant-time power of g and one product of secret powers of h and g.
    r = nonce.value
    for j in range(limit + 1):
        c_j, s_j = sims[j]
        e = w.value if j == value else s_j.value - c_j.value * r
        d = -c_j.value * (value - j)
        commitments += [
            group.secret_product([g], [e]),
            group.secret_product([public_key, g], [e, d]),
        ]
    challenge = _transcript(public_key, ct, limit, context).elements(b"ab", commitments).challenge()
    challenges = [sims[j][0] for j in range(limit + 1)]
    responses = [sims[j][1] for j in range(limit + 1)]
    real_c = challenge - sum((c for j, c in enumerate(challenges) if j != value), group.scalar(0))
    challenges[value] = real_c
    responses[value] = w + real_c * nonce
    return RangeProof(
        tuple(challenges), tuple(responses), tuple(commitments[1::2]), tuple(commitments[0::2])
    )


def _check_shape(proof: RangeProof, limit: int) -> None:
    n = limit + 1
    if (
        len(proof.challenges) != n
        or len(proof.responses) != n
        or len(proof.commitments) != n
        or len(proof.a_commitments) != n
    ):
        raise InvalidProof(f"range: proof is for [0, {proof.limit}], expected [0, {limit}]")


def _check_challenge(
    public_key: Element, ct: AnyCiphertext, proof: RangeProof, limit: int, context: bytes
) -> None:
    """Hash the published ``(a_j, b_j)`` and check ``Σ c_j`` against that challenge (no
    exponentiation)."""
    ab: list[Element | UncheckedElement] = []
    for a, b in zip(proof.a_commitments, proof.commitments, strict=True):
        ab.append(a)
        ab.append(b)
    total = sum(c.value for c in proof.challenges)
    expected = _transcript(public_key, ct, limit, context).elements(b"ab", ab).challenge()
    if expected.value != total % public_key.group.order:
        raise InvalidProof("range: the challenges do not sum to the transcript challenge")


def verify_range(
    public_key: Element,
    ct: AnyCiphertext,
    proof: RangeProof,
    limit: int,
    context: bytes,
) -> None:
    """Return if ``proof`` shows that ``ct`` encrypts a value in ``[0, limit]`` under
    ``public_key`` in ``context``; otherwise raise :class:`~verivote.errors.InvalidProof`
    naming the first failed check, in this order: the proof's size, the challenge sum
    (hashed from the published ``a_j, b_j``), then branch by branch ``a_j`` and ``b_j``.
    This is the reference check: every batched path names a false proof with it."""
    _check_shape(proof, limit)
    _check_challenge(public_key, ct, proof, limit, context)
    g = public_key.group.generator
    shifted = ct.beta
    for j in range(limit + 1):
        c, s = proof.challenges[j], proof.responses[j]
        a = g**s * ct.alpha ** (-c)
        if not _equal(proof.a_commitments[j], a):
            raise InvalidProof(f"range: branch {j}: a_j is not g^s_j · α^-c_j")
        b = public_key**s * shifted ** (-c)
        if not _equal(proof.commitments[j], b):
            raise InvalidProof(f"range: branch {j}: b_j is not h^s_j · (β/g^j)^-c_j")
        if j < limit:
            shifted = shifted / g


def _equal(posted: Element | UncheckedElement, computed: Element) -> bool:
    if isinstance(posted, UncheckedElement):
        return posted.matches(computed)
    return posted == computed


class RangeBatch:
    """Verify the range proofs of one ballot under one public key together, in a group
    without a multi-scalar multiplication (``ed25519``).

    :meth:`add` checks a proof's size and challenge (hashed from the published commitments)
    and its ``a``-equations at once — recomputing ``g^s_j · α^-c_j`` and comparing costs
    no more than weighting both sides — and defers its ``b``-equations;
    :meth:`verify` checks all deferred equations with one random linear combination
    (small-exponent batch verification: a false equation passes with probability at most
    2^-127). The terms in ``h`` and ``g`` collapse into one exponentiation each for a
    whole ballot, and a contest's limit proof adds no exponentiation of its own for ``β``.
    A failure says only that some proof is false: callers that must name it verify the
    proofs one by one with :func:`verify_range` (see
    :func:`verivote.election.ballot.check_ballot`).

    Only for groups whose exponentiation validates its input
    (:attr:`~verivote.groups.base.Group.pow_validates`): every ``α`` is raised to the
    challenges, every ``a_j`` compared with a recomputed element, and every ``b_j`` and
    ``β`` raised to a weight here, and that is what establishes they are subgroup elements.
    """

    def __init__(self, public_key: Element) -> None:
        if not public_key.group.pow_validates:
            raise ParameterError("batched range proofs need a group whose pow validates")
        self.public_key = public_key
        self.order = public_key.group.order
        self.h = 0
        self.g = 0
        self.terms: list[tuple[Element | UncheckedElement, int]] = []
        self.betas: dict[bytes, tuple[Element | UncheckedElement, int]] = {}

    def add(
        self,
        ct: AnyCiphertext,
        proof: RangeProof,
        limit: int,
        context: bytes,
        beta_parts: Sequence[Element | UncheckedElement] | None = None,
    ) -> None:
        """Check ``proof``'s size, challenge and ``a``-equations now (InvalidProof) and
        defer its ``b``-equations. ``beta_parts``: elements whose product is ``ct.beta``
        (a contest total), so their exponents merge with the selections' own."""
        _check_shape(proof, limit)
        _check_challenge(self.public_key, ct, proof, limit, context)
        g = self.public_key.group.generator
        for j in range(limit + 1):
            a = g ** proof.responses[j] * ct.alpha ** (-proof.challenges[j])
            if not _equal(proof.a_commitments[j], a):
                raise InvalidProof(f"range: branch {j}: a_j is not g^s_j · α^-c_j")
        q = self.order
        beta = 0
        for j in range(limit + 1):
            rho = secrets.randbits(128) | 1
            c = proof.challenges[j].value
            self.h = (self.h + rho * proof.responses[j].value) % q
            self.terms.append((proof.commitments[j], rho))
            beta = (beta + rho * c) % q
            self.g = (self.g - rho * j * c) % q
        for part in beta_parts if beta_parts is not None else (ct.beta,):
            key = part.to_bytes()
            known = self.betas.get(key)
            self.betas[key] = (part, beta if known is None else (known[1] + beta) % q)

    def verify(self) -> None:
        """Raise InvalidProof unless every deferred equation holds (up to 2^-127)."""
        pk = self.public_key
        rhs = pk.group.generator**self.g
        for element, weight in self.terms:
            rhs = rhs * element**weight
        for element, weight in self.betas.values():
            rhs = rhs * element**weight
        if pk**self.h != rhs:
            raise InvalidProof("range: the batched equations h^s = b·(β/g^j)^c do not hold")
