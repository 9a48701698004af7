"""Check the proofs of many ballots at once (groups with a multi-scalar multiplication).

:func:`check_ballots` gives, for each ballot body, exactly what
:func:`~verivote.election.ballot.check_ballot` gives for it alone — the credential and the
ciphertexts, or the same exception with the same message — but checks the range proofs of
all the ballots with one :class:`~verivote.proofs.range_multi.MultiRangeBatch` (one
multi-scalar multiplication, bisected only when it fails). Groups without ``multi_exp``
(``ed25519``, ``modp4096``) are checked one ballot at a time with ``check_ballot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verivote.election.ballot import check_ballot, decode_ballot, limit_context, selection_context
from verivote.election.manifest import Manifest
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, InvalidProof, ParameterError, VerivoteError
from verivote.groups.base import Element, Group
from verivote.proofs.range import RangeProof
from verivote.proofs.range_committed import CommittedRangeProof
from verivote.proofs.range_multi import MultiRangeBatch

Outcome = tuple[bytes, list[list[Ciphertext]]] | Exception
"""Per ballot: ``(credential, ciphertexts per contest)``, or the exception ``check_ballot``
would raise (a DecodeError or InvalidProof; for malformed input also the builtin errors
that :class:`~verivote.election.checker.BallotChecker` reports as a malformed entry)."""

MALFORMED = (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError)


Check = tuple[
    str, Ciphertext, RangeProof, int, bytes, list[Element] | None, tuple[Element, ...] | None
]


def _proof(group: Group, obj: Any, limit: int, committed: bool) -> tuple[RangeProof, Any]:
    if committed:
        cproof = CommittedRangeProof.from_dict(group, obj, limit)
        return cproof.proof, cproof.a
    return RangeProof.from_dict(group, obj, limit), None


def _checks(
    manifest: Manifest,
    ballot_context: bytes,
    credential: bytes,
    selections: list[list[Ciphertext]],
    contests: list[dict[str, Any]],
    committed: bool,
) -> list[Check]:
    """The proofs of one ballot, in ``check_ballot``'s order and with its names."""
    group = manifest.group
    out: list[Check] = []
    for ci, (contest, cts, obj) in enumerate(
        zip(manifest.contests, selections, contests, strict=True)
    ):
        for ki, ct in enumerate(cts):
            proof, a = _proof(group, obj["proofs"][ki], 1, committed)
            where = f"contest {contest.id}, candidate {contest.candidates[ki].id}"
            ctx = selection_context(ballot_context, credential, ci, ki)
            out.append((where, ct, proof, 1, ctx, None, a))
        proof, a_limit = _proof(group, obj["limit_proof"], contest.limit, committed)
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
                [ct.beta for ct in cts],
                a_limit,
            )
        )
    return out


def check_ballots(
    manifest: Manifest,
    joint_key: Element,
    ballot_context: bytes,
    bodies: Sequence[Any],
    *,
    committed: bool = False,
) -> list[Outcome]:
    """Check every ballot body completely except its signature and the roll, as
    :func:`~verivote.election.ballot.check_ballot` does; return one outcome per body, in
    order. Never raises for a bad ballot: its error is its outcome.

    ``committed``: every range proof is in commitment form (its ``a_j`` published, see
    :mod:`verivote.proofs.range_committed`), a ballot format the record does not use yet;
    needs a group with ``multi_exp``."""
    group = manifest.group
    if committed and not callable(getattr(group, "multi_exp", None)):
        raise ParameterError(f"commitment-form ballots need multi_exp, which {group.name} lacks")
    if not callable(getattr(group, "multi_exp", None)):
        outcomes: list[Outcome] = []
        for body in bodies:
            try:
                outcomes.append(check_ballot(manifest, joint_key, ballot_context, body))
            except (VerivoteError, *MALFORMED) as exc:
                outcomes.append(exc)
        return outcomes
    batch = MultiRangeBatch(joint_key)
    results: list[Outcome | None] = [None] * len(bodies)
    decoded: dict[int, tuple[bytes, list[list[Ciphertext]]]] = {}
    for i, body in enumerate(bodies):
        try:
            credential, selections, contests = decode_ballot(manifest, body)
            for where, ct, proof, limit, ctx, parts, a in _checks(
                manifest, ballot_context, credential, selections, contests, committed
            ):
                try:
                    batch.add(i, where, ct, proof, limit, ctx, parts, a)
                except InvalidProof as exc:
                    raise InvalidProof(f"{where}: {exc}") from None
        except (DecodeError, InvalidProof, *MALFORMED) as exc:
            results[i] = exc
            batch.discard(i)
            continue
        decoded[i] = (credential, selections)
    for failure in batch.verify():
        assert isinstance(failure.key, int)
        results[failure.key] = InvalidProof(f"{failure.where}: {failure.error}")
    for i, value in decoded.items():
        if results[i] is None:
            results[i] = value
    done = [r for r in results if r is not None]
    assert len(done) == len(bodies)
    return done
