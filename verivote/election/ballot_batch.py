"""Check the proofs of many ballots at once (groups with a multi-scalar multiplication).

:func:`check_ballots` gives, for each ballot body, exactly what
:func:`~verivote.election.ballot.check_ballot` gives for it alone — the credential and the
ciphertexts, or the same exception with the same message — but checks the range proofs of
all the ballots with one :class:`~verivote.proofs.range_multi.MultiRangeBatch` (one
multi-scalar multiplication, bisected only when it fails). ``modp4096`` also checks the
ballots' elements' subgroup membership in one batch (``validate_batch``). Groups without
``multi_exp`` (``ed25519``) are checked one ballot at a time with ``check_ballot``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from verivote.election import ballot_lean, ranked
from verivote.election.ballot import (
    check_ballot_one_by_one,
    decode_ballot,
    decode_ballot_deferred,
    limit_context,
    selection_context,
)
from verivote.election.manifest import Manifest
from verivote.elgamal import Ciphertext, DeferredCiphertext
from verivote.errors import DecodeError, InvalidProof, VerivoteError
from verivote.groups.base import Element
from verivote.groups.unchecked import UncheckedElement
from verivote.proofs.range import RangeProof
from verivote.proofs.range_multi import MultiRangeBatch

Outcome = tuple[bytes, list[list[Ciphertext]]] | Exception
"""Per ballot: ``(credential, ciphertexts per contest)``, or the exception ``check_ballot``
would raise (a DecodeError or InvalidProof; for malformed input also the builtin errors
that :class:`~verivote.election.checker.BallotChecker` reports as a malformed entry)."""

MALFORMED = (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError)


Check = tuple[str, Ciphertext, RangeProof, int, bytes, list[Ciphertext] | None]


def _parse(manifest: Manifest, contests: list[dict[str, Any]]) -> list[RangeProof]:
    """A ballot's range proofs decoded, in ``check_ballot``'s order (per contest: one per
    field, then the limit proof unless the contest is ranked). Raises DecodeError."""
    group = manifest.group
    out: list[RangeProof] = []
    for contest, obj in zip(manifest.contests, contests, strict=True):
        bound = contest.field_bound
        for ki in range(contest.fields):
            out.append(RangeProof.from_dict(group, obj["proofs"][ki], bound))
        if not contest.ranked:
            out.append(RangeProof.from_dict(group, obj["limit_proof"], contest.limit))
    return out


def _checks(
    manifest: Manifest,
    ballot_context: bytes,
    credential: bytes,
    selections: list[list[Ciphertext]],
    proofs: list[RangeProof],
) -> list[Check]:
    """The proofs of one ballot, in ``check_ballot``'s order and with its names."""
    out: list[Check] = []
    parsed = iter(proofs)
    for ci, (contest, cts) in enumerate(zip(manifest.contests, selections, strict=True)):
        bound = contest.field_bound
        for ki, ct in enumerate(cts):
            proof = next(parsed)
            where = f"contest {contest.id}, " + ranked.field_name(contest, ki)
            ctx = selection_context(ballot_context, credential, ci, ki)
            out.append((where, ct, proof, bound, ctx, None))
        if contest.ranked:
            continue
        proof = next(parsed)
        total = cts[0]
        for ct in cts[1:]:
            total = total * ct
        ctx = limit_context(ballot_context, credential, ci)
        out.append(
            (
                f"contest {contest.id}, limit proof",
                total,
                proof,
                contest.limit,
                ctx,
                cts,
            )
        )
    return out


def _one(manifest: Manifest, joint_key: Element, ballot_context: bytes, body: Any) -> Outcome:
    try:
        return check_ballot_one_by_one(manifest, joint_key, ballot_context, body)
    except (VerivoteError, *MALFORMED) as exc:
        return exc


def _unvalidated(
    selections: list[list[DeferredCiphertext]], proofs: list[RangeProof]
) -> list[UncheckedElement]:
    out = [e for cts in selections for ct in cts for e in (ct.alpha, ct.beta)]
    for proof in proofs:
        for points in (proof.a_commitments, proof.commitments):
            out.extend(p for p in points if isinstance(p, UncheckedElement))
    return out


def _failing(validate: Callable[[list[UncheckedElement]], bool], sets: list[Any]) -> list[Any]:
    """The entries ``(key, elements)`` of ``sets`` whose elements fail the batched subgroup
    test: all at once, then halves of a failing set (bisection)."""
    if not sets or validate([e for _, elements in sets for e in elements]):
        return []
    if len(sets) == 1:
        return sets
    mid = len(sets) // 2
    return _failing(validate, sets[:mid]) + _failing(validate, sets[mid:])


def check_ballots(
    manifest: Manifest,
    joint_key: Element,
    ballot_context: bytes,
    bodies: Sequence[Any],
) -> list[Outcome]:
    """Check every ballot body completely except its signature and the roll, as
    :func:`~verivote.election.ballot.check_ballot` does; return one outcome per body, in
    order. Never raises for a bad ballot: its error is its outcome.

    In a group with a multi-scalar multiplication every proof equation of every ballot is
    checked as one random linear combination (:class:`MultiRangeBatch`, bisected when it
    fails). A ballot that fails anywhere in the batched path (decoding, the subgroup test,
    a challenge, the batched equation) is checked again alone with
    :func:`~verivote.election.ballot.check_ballot_one_by_one`, and that is its outcome: the
    same exception type and message as checking it alone, by construction. In a group with
    ``validate_batch`` (modp4096) the ballots' elements are decoded with range checks only
    and their subgroup membership is established for the whole batch at once (Jacobi
    symbols and one weighted product raised to ``q``), bisected by ballot when it fails.
    Groups without ``multi_exp`` (ed25519) check one ballot at a time. ristretto255
    ballots without ranked contests take :mod:`~verivote.election.ballot_lean`, the same
    check on raw encodings."""
    group = manifest.group
    if ballot_lean.supports(manifest):
        return ballot_lean.check_ballots_lean(
            manifest,
            joint_key,
            ballot_context,
            bodies,
            lambda body: _one(manifest, joint_key, ballot_context, body),
        )
    if not callable(getattr(group, "multi_exp", None)):
        return [_one(manifest, joint_key, ballot_context, body) for body in bodies]
    validate: Callable[[list[UncheckedElement]], bool] | None = getattr(
        group, "validate_batch", None
    )
    results: list[Outcome | None] = [None] * len(bodies)
    retry: set[int] = set()
    parsed: dict[int, tuple[bytes, list[list[Ciphertext]], list[RangeProof]]] = {}
    deferred: dict[int, tuple[bytes, list[list[DeferredCiphertext]], list[RangeProof]]] = {}
    for i, body in enumerate(bodies):
        try:
            if validate is not None:
                credential, lazy, contests = decode_ballot_deferred(manifest, body)
                deferred[i] = (credential, lazy, _parse(manifest, contests))
            else:
                credential, selections, contests = decode_ballot(manifest, body)
                parsed[i] = (credential, selections, _parse(manifest, contests))
        except (DecodeError, *MALFORMED):
            retry.add(i)
    if validate is not None:
        sets = [(i, _unvalidated(lazy, proofs)) for i, (_, lazy, proofs) in deferred.items()]
        bad = {i for i, _ in _failing(validate, sets)}
        for i, (credential, lazy, proofs) in deferred.items():
            if i in bad:
                retry.add(i)
                continue
            # every alpha, beta, a_j and b_j was validated by validate_batch: checked() is free
            parsed[i] = (credential, [[ct.checked() for ct in cts] for cts in lazy], proofs)
    batch = MultiRangeBatch(joint_key)
    for i, (credential, selections, proofs) in parsed.items():
        try:
            for _, ct, proof, limit, ctx, parts in _checks(
                manifest, ballot_context, credential, selections, proofs
            ):
                batch.add(i, "", ct, proof, limit, ctx, parts)
        except (DecodeError, InvalidProof, *MALFORMED):
            batch.discard(i)
            retry.add(i)
    for failure in batch.verify(name=False):
        assert isinstance(failure.key, int)
        retry.add(failure.key)
    for i in retry:
        results[i] = _one(manifest, joint_key, ballot_context, bodies[i])
    for i, (credential, selections, _) in parsed.items():
        if results[i] is None:
            results[i] = (credential, selections)
    done = [r for r in results if r is not None]
    assert len(done) == len(bodies)
    return done
