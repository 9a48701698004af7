"""Ranked contests: the ballot encoding of a preference order and what is proved about it.

A ranked contest of ``M`` candidates with ``R`` ranks (``1 <= R <= M``) is encrypted as
``R`` ciphertexts, one per rank, first preference first. The ciphertext of rank ``r``
encrypts ``i + 1`` when the voter's ``r``-th preference is candidate ``i`` (0-based,
manifest order), and ``0`` for "no preference". Each ciphertext carries the ballot's range
proof for ``[0, M]`` (:func:`verivote.proofs.range.prove_range`): every field decrypts to a
candidate or to "no preference", nothing else.

What the proofs do **not** show: that the ranking is valid. A repeated candidate or a
preference after a "no preference" (a gap) is only visible once the mixed ballots are
decrypted; :func:`verivote.count.check_ranking` then publishes such a ballot as invalid
with its reason (:mod:`verivote.election.ranked_result`). A voter's device refuses to make
such a ballot (:func:`fields_from_choice`), so an invalid ranking on the board comes from a
device that does not follow the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verivote.election.manifest import Contest
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, ParameterError

NO_PREFERENCE = 0


def fields_from_choice(contest: Contest, chosen: Sequence[str]) -> list[int]:
    """The ``R`` plaintext fields of a ranked contest from the candidate ids in preference
    order (a prefix ranking; fewer than ``R`` leaves the rest "no preference").

    Raises :class:`ParameterError` for an unknown candidate, a candidate ranked twice or
    more preferences than ranks."""
    ids = [c.id for c in contest.candidates]
    for cand in chosen:
        if cand not in ids:
            raise ParameterError(f"contest {contest.id}: no candidate {cand!r}")
    if len(set(chosen)) != len(chosen):
        raise ParameterError(f"contest {contest.id}: a candidate is ranked twice")
    if len(chosen) > contest.ranks:
        raise ParameterError(f"contest {contest.id}: at most {contest.ranks} preferences")
    fields = [ids.index(cand) + 1 for cand in chosen]
    return fields + [NO_PREFERENCE] * (contest.ranks - len(fields))


def field_value(value: int) -> int | None:
    """A decrypted field as :func:`verivote.count.check_ranking` takes it: the candidate's
    0-based position, or ``None`` for "no preference"."""
    return None if value == NO_PREFERENCE else value - 1


def contest_body(
    contest: Contest, ciphertexts: Sequence[Ciphertext], proofs: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The ballot's object for a ranked contest: ``{"id", "selections", "proofs"}``."""
    return {
        "id": contest.id,
        "selections": [ct.to_dict() for ct in ciphertexts],
        "proofs": list(proofs),
    }


def check_contest_keys(obj: Any) -> None:
    """Raise :class:`DecodeError` unless ``obj`` has exactly the keys of a ranked contest
    of a ballot (``id``, ``selections``, ``proofs``: no limit proof)."""
    if not isinstance(obj, dict) or set(obj) != {"id", "selections", "proofs"}:
        raise DecodeError("ballot ranked contest: expected exactly id, selections, proofs")


def field_name(contest: Contest, position: int) -> str:
    """How messages name ciphertext ``position`` of a contest: ``rank 2`` (ranked) or
    ``candidate alice``."""
    if contest.ranked:
        return f"rank {position + 1}"
    return f"candidate {contest.candidates[position].id}"
