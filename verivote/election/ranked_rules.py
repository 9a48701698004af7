"""The rule book's part for ranked contests: ``mix``, ``mix_decryption``, ``ranked_result``.

:class:`RankedCounting` follows every ranked contest of an election from the ``tally``
entry on; :class:`~verivote.election.state.ElectionState` dispatches the three entry
types to it after checking the phase and the signature. Order, per contest: ``threshold``
``mix`` entries by distinct qualified trustees; then ``mix_decryption`` entries by distinct
qualified trustees; then one ``ranked_result`` (organiser) once at least ``threshold``
decryptions are in. The ``result`` entry of the election comes after every ranked
contest's ``ranked_result`` (:meth:`RankedCounting.pending`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from verivote.election.breakdown import breakdown_groups
from verivote.election.entries import Entry
from verivote.election.manifest import Manifest
from verivote.election.mixing import (
    ContestMix,
    CountedBallot,
    Groups,
    contest_mixes,
    counted_ballots,
)
from verivote.election.ranked_result import (
    Shares,
    check_mix_decryption,
    check_ranked_result,
    decrypt_rows,
    display,
    make_ranked_result_body,
)
from verivote.election.roll import Roll
from verivote.election.tally import EncryptedTally
from verivote.errors import EntryRejected
from verivote.groups.base import Element


class RankedCounting:
    """Every ranked contest's mixes, decryption shares and result, as accepted so far.

    ``ballots()`` re-reads the counted ballots (called once, at the first ranked entry);
    ``groups`` are the breakdown groups of the tally."""

    def __init__(
        self,
        manifest: Manifest,
        joint_key: Element,
        groups: Groups,
        ballots: Callable[[], Sequence[CountedBallot]],
        proofs: bool = True,
    ) -> None:
        self.manifest = manifest
        self.proofs = proofs
        self.joint_key = joint_key
        self._groups = groups
        self._read = ballots
        self._mixes: dict[str, ContestMix] | None = None
        self.shares: dict[str, dict[int, Shares]] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def mixes(self) -> dict[str, ContestMix]:
        """The mix chain of each ranked contest (derived from the ballots on first use)."""
        if self._mixes is None:
            self._mixes = contest_mixes(self.manifest, self.ballots(), self._groups)
        return self._mixes

    def ballots(self) -> Sequence[CountedBallot]:
        """The counted ballots, re-read from the log (in log order)."""
        return self._read()

    def _contest(self, body: Any, entry_type: str) -> ContestMix:
        cid = body.get("contest") if isinstance(body, dict) else None
        mix = self.mixes().get(cid) if isinstance(cid, str) else None
        if mix is None:
            raise EntryRejected(f"{entry_type}.decode", f"{cid!r} is not a ranked contest")
        if cid in self.results:
            raise EntryRejected("entry.order", f"contest {cid} already has its ranked result")
        return mix

    def mix(self, body: Any, trustee: int, qualified: Sequence[int]) -> None:
        """Accept a ``mix`` entry of ``trustee`` (checks in :meth:`ContestMix.check_mix`)."""
        mix = self._contest(body, "mix")
        if mix.contest.id in self.shares:
            raise EntryRejected("entry.order", f"contest {mix.contest.id} is being decrypted")
        if body.get("trustee") != trustee:
            raise EntryRejected("mix.decode", "the body names another trustee")
        mix.check_mix(body, trustee, self.joint_key, qualified, proofs=self.proofs)

    def decryption(self, body: Any, trustee: int, qualified: Sequence[int], key: Element) -> None:
        """Accept a ``mix_decryption`` of ``trustee`` whose public share key is ``key``:
        ``entry.order`` before the chain is complete, ``mix_decryption.trustee`` for an
        unqualified trustee or a second decryption, then the share checks."""
        mix = self._contest(body, "mix_decryption")
        cid = mix.contest.id
        if not mix.complete():
            raise EntryRejected("entry.order", f"contest {cid}: decryption before the last mix")
        if trustee not in qualified:
            raise EntryRejected("mix_decryption.trustee", f"trustee {trustee} is not qualified")
        if trustee in self.shares.get(cid, {}):
            raise EntryRejected("mix_decryption.trustee", f"trustee {trustee} decrypted twice")
        if body.get("trustee") != trustee:
            raise EntryRejected("mix_decryption.decode", "the body names another trustee")
        shares = check_mix_decryption(body, self.manifest, mix, trustee, key, proofs=self.proofs)
        self.shares.setdefault(cid, {})[trustee] = shares

    def result(self, body: Any) -> None:
        """Accept a ``ranked_result``: ``ranked_result.trustees`` with fewer than
        ``threshold`` decryptions, then :func:`check_ranked_result` against the
        recomputation."""
        mix = self._contest(body, "ranked_result")
        cid = mix.contest.id
        shares = self.shares.get(cid, {})
        if len(shares) < self.manifest.threshold:
            raise EntryRejected(
                "ranked_result.trustees",
                f"contest {cid}: {len(shares)} decryptions, {self.manifest.threshold} needed",
            )
        values = decrypt_rows(self.manifest, mix, shares)
        expected = make_ranked_result_body(self.manifest, mix, values, sorted(shares))
        check_ranked_result(body, expected)
        self.results[cid] = expected

    def pending(self) -> list[str]:
        """The ranked contests without a ranked result yet, in manifest order."""
        return [c.id for c in self.manifest.contests if c.ranked and c.id not in self.results]

    def displays(self) -> list[dict[str, Any]]:
        """Each ranked result in the report's contest shape (:func:`display`)."""
        return [display(self.results[c.id]) for c in self.manifest.contests if c.id in self.results]


def start(
    manifest: Manifest,
    joint_key: Element,
    tally: EncryptedTally,
    roll: Roll,
    counted: Sequence[int],
    lookup: Callable[[int], Entry] | None,
    proofs: bool = True,
) -> RankedCounting:
    """The ranked counting of an election whose ``tally`` was just accepted: the groups
    are the tally's breakdown groups (recomputed by the same rule when no contest is
    tallied), the counted ballots those at the log indexes ``counted``, re-read with
    ``lookup`` when first needed (``mix.chain`` if there is no way to re-read them).
    With ``proofs`` false, the mixes' and decryptions' proofs are not re-checked (a
    replay of a board's accepted entries, as for ballots)."""
    groups = tally.groups or breakdown_groups(
        dict(tally.ballots), manifest.categories, manifest.min_category_size
    )

    def ballots() -> list[CountedBallot]:
        if lookup is None:
            raise EntryRejected("mix.chain", "the counted ballots cannot be re-read")

        def elector(key: bytes) -> tuple[str, int]:
            record = roll.records[key]
            return record.category, record.weight

        return counted_ballots(manifest, counted, lookup, elector)

    return RankedCounting(manifest, joint_key, groups, ballots, proofs)
