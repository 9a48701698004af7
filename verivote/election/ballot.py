"""Encrypted ballots: made on the voter's device, checked by the board and every observer.

A ballot body is ``{"credential": hex, "contests": [{"id", "selections", "proofs",
"limit_proof"}, …]}`` with one entry per contest of the manifest, in manifest order:

* ``selections`` — one exponential ElGamal ciphertext per candidate, encrypting 1 if chosen
  and 0 otherwise, under the joint key;
* ``proofs`` — per selection, a range proof for ``[0, 1]``;
* ``limit_proof`` — a range proof that the product of the contest's selections encrypts a
  value in ``[0, limit]`` (so over-votes are impossible and under-votes allowed).

Every range proof is in commitment form, ``{"a", "b", "c", "s"}``
(:mod:`verivote.proofs.range`), so that a verifier can check the proofs of many ballots as
one random linear combination (:mod:`verivote.election.ballot_batch`).

A ranked contest (:mod:`verivote.election.ranked`) is ``{"id", "selections", "proofs"}``:
one ciphertext per rank, encrypting the candidate's position + 1 or 0 for no preference,
each with a range proof for ``[0, M]`` (``M`` candidates), and no limit proof.

Every proof's context is the ballot context (fingerprint + joint key), the credential, the
contest's position and, for selections, the candidate's position: a proof cannot be moved
to another election, credential, contest or candidate. The entry is signed with the
credential. The tracking code is a hash of the body, so two ballots can share one only if
they are identical.

Benaloh challenge: instead of casting, the voter may *audit* the ballot; the device then
reveals the choices and the encryption nonces, and anyone can check that the ballot
encrypted exactly those choices (:func:`check_audit`). An audited ballot is never counted,
and its ciphertexts can never be cast afterwards (the board refuses repeated ciphertexts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from verivote.election import ranked
from verivote.election.manifest import Manifest
from verivote.elgamal import Ciphertext, DeferredCiphertext, encrypt_with_nonce
from verivote.encoding import dumps, frame, from_hex
from verivote.errors import DecodeError, InvalidProof, ParameterError, ProtocolError
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.range import RangeBatch, RangeProof, prove_range, verify_range
from verivote.signatures import Signer


def selection_context(
    ballot_context: bytes, credential: bytes, contest: int, candidate: int
) -> bytes:
    """Context of the 0/1 proof of one selection."""
    return frame(
        ballot_context,
        b"selection",
        credential,
        contest.to_bytes(2, "big"),
        candidate.to_bytes(2, "big"),
    )


def limit_context(ballot_context: bytes, credential: bytes, contest: int) -> bytes:
    """Context of a contest's limit proof."""
    return frame(ballot_context, b"limit", credential, contest.to_bytes(2, "big"))


def tracking_code(fingerprint: bytes, body: Mapping[str, Any] | bytes) -> str:
    """The ballot's tracking code: SHA-256 of the framed fingerprint and canonical body
    (given as a dict or as its canonical bytes), hex."""
    raw = body if isinstance(body, bytes) else dumps(body)
    return hashlib.sha256(frame(b"verivote/tracker", fingerprint, raw)).hexdigest()


@dataclass(frozen=True, slots=True)
class PreparedBallot:
    """An encrypted ballot still on the voter's device, with its secrets.

    ``votes`` and ``nonces`` never leave the device unless the voter audits the ballot.
    """

    body: dict[str, Any]
    tracking_code: str
    votes: tuple[tuple[int, ...], ...]
    nonces: tuple[tuple[Scalar, ...], ...]

    def audit_body(self) -> dict[str, Any]:
        """Body of the ``audit`` entry: the ballot and everything needed to re-encrypt it."""
        return {
            "ballot": self.body,
            "reveal": [
                {"votes": list(v), "nonces": [n.hex() for n in ns]}
                for v, ns in zip(self.votes, self.nonces, strict=True)
            ],
        }

    def __repr__(self) -> str:
        return f"<PreparedBallot {self.tracking_code[:16]}…>"


def votes_from_choices(manifest: Manifest, choices: Mapping[str, Sequence[str]]) -> list[list[int]]:
    """Turn ``{contest id: [chosen candidate ids]}`` into 0/1 vectors in manifest order.

    A contest that is missing from ``choices`` is left blank. Raises ParameterError for an
    unknown contest or candidate, a candidate chosen twice, or more choices than the limit.
    """
    known = {c.id for c in manifest.contests}
    for cid in choices:
        if cid not in known:
            raise ParameterError(f"no contest {cid!r} in this election")
    out: list[list[int]] = []
    for contest in manifest.contests:
        chosen = list(choices.get(contest.id, ()))
        if contest.ranked:
            out.append(ranked.fields_from_choice(contest, chosen))
            continue
        ids = [c.id for c in contest.candidates]
        for cand in chosen:
            if cand not in ids:
                raise ParameterError(f"contest {contest.id}: no candidate {cand!r}")
        if len(set(chosen)) != len(chosen):
            raise ParameterError(f"contest {contest.id}: a candidate is chosen twice")
        if len(chosen) > contest.limit:
            raise ParameterError(f"contest {contest.id}: at most {contest.limit} choices")
        out.append([1 if cid in chosen else 0 for cid in ids])
    return out


def encrypt_ballot(
    manifest: Manifest,
    joint_key: Element,
    credential: Signer,
    choices: Mapping[str, Sequence[str]],
) -> PreparedBallot:
    """Encrypt ``choices`` (``{contest id: [candidate ids]}``; a contest left out is blank)
    for ``credential`` under ``joint_key``, with a 0/1 proof per selection and a limit
    proof per contest, all bound to the election, the key and the credential; randomness
    from the OS. The returned ballot's ``body`` is what is signed and cast; its secrets
    stay with it. Raises ParameterError for an unknown contest or candidate, a candidate
    chosen twice or more choices than a contest's limit."""
    group = manifest.group
    votes = votes_from_choices(manifest, choices)
    nonces = [[group.random_scalar() for _ in v] for v in votes]
    return _encrypt_ballot(manifest, joint_key, credential.public_key, votes, nonces)


def _encrypt_ballot(
    manifest: Manifest,
    joint_key: Element,
    credential: bytes,
    votes: Sequence[Sequence[int]],
    nonces: Sequence[Sequence[Scalar]],
) -> PreparedBallot:
    group = manifest.group
    group.precompute(joint_key)
    bctx = manifest.ballot_context(joint_key)
    contests = []
    for ci, contest in enumerate(manifest.contests):
        cts: list[Ciphertext] = []
        proofs = []
        for ki, (vote, nonce) in enumerate(zip(votes[ci], nonces[ci], strict=True)):
            ct = encrypt_with_nonce(joint_key, vote, nonce)
            cts.append(ct)
            ctx = selection_context(bctx, credential, ci, ki)
            proofs.append(
                prove_range(joint_key, ct, vote, nonce, contest.field_bound, ctx).to_dict()
            )
        if contest.ranked:
            contests.append(ranked.contest_body(contest, cts, proofs))
            continue
        total = Ciphertext.zero(group)
        for ct in cts:
            total = total * ct
        nonce_sum = sum(nonces[ci], group.scalar(0))
        limit_proof = prove_range(
            joint_key,
            total,
            sum(votes[ci]),
            nonce_sum,
            contest.limit,
            limit_context(bctx, credential, ci),
        )
        contests.append(
            {
                "id": contest.id,
                "selections": [ct.to_dict() for ct in cts],
                "proofs": proofs,
                "limit_proof": limit_proof.to_dict(),
            }
        )
    body = {"credential": credential.hex(), "contests": contests}
    return PreparedBallot(
        body,
        tracking_code(manifest.fingerprint, body),
        tuple(tuple(v) for v in votes),
        tuple(tuple(n) for n in nonces),
    )


T = TypeVar("T", Ciphertext, DeferredCiphertext)


def _decode(
    manifest: Manifest, body: Any, make: Callable[[Group, Any], T]
) -> tuple[bytes, list[list[T]], list[dict[str, Any]]]:
    if not isinstance(body, dict) or set(body) != {"credential", "contests"}:
        raise DecodeError("ballot: expected exactly credential, contests")
    credential = from_hex(body["credential"], 32, "ballot credential")
    contests = body["contests"]
    if not isinstance(contests, list) or len(contests) != len(manifest.contests):
        raise DecodeError(f"ballot: expected {len(manifest.contests)} contests")
    group = manifest.group
    selections: list[list[T]] = []
    for contest, obj in zip(manifest.contests, contests, strict=True):
        if contest.ranked:
            ranked.check_contest_keys(obj)
        elif not isinstance(obj, dict) or set(obj) != {"id", "selections", "proofs", "limit_proof"}:
            raise DecodeError(
                "ballot contest: expected exactly id, selections, proofs, limit_proof"
            )
        if obj["id"] != contest.id:
            raise DecodeError(f"ballot: contest {obj['id']!r} where {contest.id!r} was due")
        sels, proofs = obj["selections"], obj["proofs"]
        n = contest.fields
        if not isinstance(sels, list) or not isinstance(proofs, list):
            raise DecodeError(f"ballot contest {contest.id}: selections and proofs are lists")
        if len(sels) != n or len(proofs) != n:
            raise DecodeError(f"ballot contest {contest.id}: expected {n} selections and proofs")
        selections.append([make(group, s) for s in sels])
    return credential, selections, contests


def decode_ballot(
    manifest: Manifest, body: Any
) -> tuple[bytes, list[list[Ciphertext]], list[dict[str, Any]]]:
    """Strictly decode a ballot body: the credential, the ciphertexts per contest (every
    element validated) and the raw contest objects. Raises DecodeError."""
    return _decode(manifest, body, Ciphertext.from_dict)


def decode_ballot_deferred(
    manifest: Manifest, body: Any
) -> tuple[bytes, list[list[DeferredCiphertext]], list[dict[str, Any]]]:
    """:func:`decode_ballot` with the elements' subgroup checks deferred to the range proofs'
    exponentiations (:class:`~verivote.elgamal.DeferredCiphertext`); raises DecodeError."""
    return _decode(manifest, body, DeferredCiphertext.from_dict)


def _proof_checks(
    manifest: Manifest,
    ballot_context: bytes,
    credential: bytes,
    selections: Sequence[Sequence[T]],
    contests: list[dict[str, Any]],
) -> list[tuple[str, T, RangeProof, int, bytes, list[Any] | None]]:
    """Every range proof of a ballot to check: where, ciphertext, proof, limit, context and
    (limit proofs) the selections' ``β`` whose product is the total's."""
    group = manifest.group
    checks: list[tuple[str, T, RangeProof, int, bytes, list[Any] | None]] = []
    for ci, (contest, cts, obj) in enumerate(
        zip(manifest.contests, selections, contests, strict=True)
    ):
        bound = contest.field_bound
        for ki, ct in enumerate(cts):
            proof = RangeProof.from_dict(group, obj["proofs"][ki], bound)
            where = f"contest {contest.id}, " + ranked.field_name(contest, ki)
            ctx = selection_context(ballot_context, credential, ci, ki)
            checks.append((where, ct, proof, bound, ctx, None))
        if contest.ranked:
            continue
        proof = RangeProof.from_dict(group, obj["limit_proof"], contest.limit)
        total = cts[0]
        for ct in cts[1:]:
            total = total * ct
        ctx = limit_context(ballot_context, credential, ci)
        parts = [ct.beta for ct in cts]
        checks.append(
            (f"contest {contest.id}, limit proof", total, proof, contest.limit, ctx, parts)
        )
    return checks


def check_ballot(
    manifest: Manifest, joint_key: Element, ballot_context: bytes, body: Any
) -> tuple[bytes, list[list[Ciphertext]]]:
    """Check a ballot body completely except its signature and the roll: canonical form,
    every element, every selection proof and every limit proof. Returns the credential and
    the ciphertexts per contest, every element validated. Raises DecodeError or
    InvalidProof naming the contest and the candidate — exactly what
    :func:`check_ballot_one_by_one` raises.

    The fastest complete check of one ballot in its group: in a group with a multi-scalar
    multiplication (ristretto255, modp4096) the ballot is a batch of one
    (:func:`~verivote.election.ballot_batch.check_ballots`: every proof equation in one
    random linear combination); otherwise (ed25519) its proofs are checked together by a
    :class:`~verivote.proofs.range.RangeBatch`. Any failure is named by
    :func:`check_ballot_one_by_one`."""
    if callable(getattr(manifest.group, "multi_exp", None)):
        # ballot_batch builds on this module, hence the import here
        from verivote.election.ballot_batch import check_ballots

        outcome = check_ballots(manifest, joint_key, ballot_context, [body])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return check_ballot_one_by_one(manifest, joint_key, ballot_context, body)


def check_ballot_one_by_one(
    manifest: Manifest, joint_key: Element, ballot_context: bytes, body: Any
) -> tuple[bytes, list[list[Ciphertext]]]:
    """:func:`check_ballot` without batches across proofs when one fails: the reference
    verdict, and the names of the checks. Raises DecodeError (the first bad encoding) or
    InvalidProof ``"contest C, candidate K: …"`` / ``"…, limit proof: …"`` with the message
    of :func:`~verivote.proofs.range.verify_range` for the first false proof in ballot
    order (per contest: each selection, then the limit proof)."""
    # In a group whose exponentiation validates its input (ed25519, ristretto255) the
    # ballot's proofs are checked as one batch (RangeBatch), and its points are decoded with
    # encoding checks only: every alpha is raised to the challenges and every a_j compared
    # with a recomputed element when the proof is added, every beta and b_j raised to a
    # random weight by the batch, and that is where a point outside the prime-order
    # subgroup is refused. Their type (DeferredCiphertext, UncheckedElement) keeps them
    # apart from validated ones until then. Any failure is named proof by proof.
    if not manifest.group.pow_validates:
        credential, selections, contests = decode_ballot(manifest, body)
        checks = _proof_checks(manifest, ballot_context, credential, selections, contests)
        _verify_each(joint_key, checks)
        return credential, selections
    credential, deferred, contests = decode_ballot_deferred(manifest, body)
    batch_checks = _proof_checks(manifest, ballot_context, credential, deferred, contests)
    batch = RangeBatch(joint_key)
    try:
        for _, ct, proof, limit, ctx, betas in batch_checks:
            batch.add(ct, proof, limit, ctx, betas)
        batch.verify()
    except InvalidProof:
        _verify_each(joint_key, batch_checks)  # find and name the false proof
        raise InvalidProof("the batched range equations fail although each proof holds") from None
    # Every alpha and beta went through a validating exponentiation: checked() is free.
    return credential, [[ct.checked() for ct in cts] for cts in deferred]


def _verify_each(
    joint_key: Element,
    checks: Sequence[tuple[str, Ciphertext | DeferredCiphertext, RangeProof, int, bytes, Any]],
) -> None:
    for where, ct, proof, limit, ctx, _ in checks:
        try:
            verify_range(joint_key, ct, proof, limit, ctx)
        except InvalidProof as exc:
            raise InvalidProof(f"{where}: {exc}") from None


def check_audit(
    manifest: Manifest, joint_key: Element, ballot_context: bytes, body: Any
) -> tuple[bytes, list[list[int]], list[list[Ciphertext]]]:
    """Check an ``audit`` body: the ballot is well formed (as :func:`check_ballot`) and every
    selection re-encrypts, from the revealed vote and nonce, to exactly the posted
    ciphertext. Returns the credential, the revealed votes and the ciphertexts. Raises
    DecodeError, InvalidProof, or ProtocolError when a ciphertext does not match."""
    if not isinstance(body, dict) or set(body) != {"ballot", "reveal"}:
        raise DecodeError("audit: expected exactly ballot, reveal")
    credential, selections = check_ballot(manifest, joint_key, ballot_context, body["ballot"])
    reveal = body["reveal"]
    if not isinstance(reveal, list) or len(reveal) != len(manifest.contests):
        raise DecodeError("audit: one reveal per contest")
    group = manifest.group
    votes: list[list[int]] = []
    for contest, cts, obj in zip(manifest.contests, selections, reveal, strict=True):
        if not isinstance(obj, dict) or set(obj) != {"votes", "nonces"}:
            raise DecodeError("audit reveal: expected exactly votes, nonces")
        vs, ns = obj["votes"], obj["nonces"]
        n = contest.fields
        if not isinstance(vs, list) or not isinstance(ns, list) or len(vs) != n or len(ns) != n:
            raise DecodeError(f"audit reveal {contest.id}: {n} votes and {n} nonces")
        if any(v not in range(contest.field_bound + 1) or isinstance(v, bool) for v in vs):
            raise DecodeError(f"audit reveal {contest.id}: votes are 0..{contest.field_bound}")
        for ki, (v, nh, ct) in enumerate(zip(vs, ns, cts, strict=True)):
            nonce = group.decode_scalar(from_hex(nh, group.scalar_size, "audit nonce"))
            if encrypt_with_nonce(joint_key, v, nonce) != ct:
                cand = ranked.field_name(contest, ki)
                raise ProtocolError(
                    f"audit: contest {contest.id}, {cand}: "
                    "the revealed vote and nonce do not re-encrypt to the ballot"
                )
        votes.append(list(vs))
    return credential, votes, selections
