"""The mix of ranked ballots after close: ``mix`` entries and their rule-book checks.

Ranked contests are not tallied homomorphically. After the ``tally`` entry has fixed the
counted ballots (the last ballot of each credential on the roll at close) and the
breakdown groups (the categories merged exactly as for the homomorphic tally), each
ranked contest's rows are mixed per group:

* the *first input* of a group is derived by every checker from the counted ballots: the
  contest's row (``R`` ciphertexts) of every counted ballot whose elector is in one of the
  group's categories, in log order, repeated ``weight`` times for an elector of weight
  ``weight``. A group with no such row is left out of the mix;
* ``threshold`` distinct qualified trustees then post a ``mix`` entry each, in turn; a
  mix's input is the previous mix's output (the first mix's input is the first input).
  The body states the SHA-256 digest of its input rows per group (``mix.chain``), the
  output rows and a proof of shuffle (:func:`verivote.proofs.shuffle.check_shuffle`) in
  the context :func:`mix_context` — the election fingerprint, the contest and the group —
  so the commitment generators are derived from the record, never chosen by the mixer.

Producers (:func:`make_mix`) sit beside the checker (:class:`ContestMix`);
:mod:`verivote.election.ranked_result` decrypts and counts the last output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from verivote.election.ballot import decode_ballot
from verivote.election.entries import Entry
from verivote.election.manifest import Contest, Manifest
from verivote.election.tally import group_label
from verivote.elgamal import Ciphertext
from verivote.encoding import dumps, frame
from verivote.errors import DecodeError, EntryRejected
from verivote.groups.base import Element
from verivote.proofs.codec import expect_keys
from verivote.proofs.shuffle import (
    InvalidShuffle,
    Row,
    ShuffleProof,
    check_shuffle,
    decode_rows,
    shuffle,
)

MIX_DOMAIN = b"verivote/mix"
ROWS_DOMAIN = b"verivote/mix-rows"

Groups = tuple[tuple[str, ...], ...]


def mix_context(manifest: Manifest, contest_id: str, categories: Sequence[str]) -> bytes:
    """The shuffle context of a contest's group: ``frame("verivote/mix", fingerprint,
    contest id, group label)`` (the label is the categories joined by ``+``). Every mix of
    the group shares it, and so the commitment generators."""
    label = group_label(categories).encode()
    return frame(MIX_DOMAIN, manifest.fingerprint, contest_id.encode(), label)


def rows_digest(rows: Sequence[Sequence[Ciphertext]]) -> str:
    """SHA-256 (hex) of ``frame("verivote/mix-rows", u32 N, u32 w, α‖β of every
    ciphertext row by row)``: the digest a mix names its input by."""
    width = len(rows[0]) if rows else 0
    parts = [len(rows).to_bytes(4, "big"), width.to_bytes(4, "big")]
    parts += [e.to_bytes() for row in rows for ct in row for e in (ct.alpha, ct.beta)]
    return hashlib.sha256(frame(ROWS_DOMAIN, *parts)).hexdigest()


def rows_dict(rows: Sequence[Sequence[Ciphertext]]) -> list[list[dict[str, str]]]:
    """JSON form of ciphertext rows."""
    return [[ct.to_dict() for ct in row] for row in rows]


@dataclass(frozen=True, slots=True)
class CountedBallot:
    """A counted ballot as the mix needs it: its elector's category and weight and its
    ciphertexts per contest (manifest order)."""

    category: str
    weight: int
    selections: list[list[Ciphertext]]


def counted_ballots(
    manifest: Manifest,
    indexes: Iterable[int],
    lookup: Callable[[int], Entry],
    elector: Callable[[bytes], tuple[str, int]],
) -> list[CountedBallot]:
    """Re-read the counted ballots at ``indexes`` (in log order) from the log;
    ``elector(credential)`` gives the category and weight from the roll."""
    out = []
    for index in sorted(indexes):
        key, selections, _ = decode_ballot(manifest, lookup(index).body)
        category, weight = elector(key)
        out.append(CountedBallot(category, weight, selections))
    return out


def first_inputs(
    manifest: Manifest, contest: Contest, ballots: Sequence[CountedBallot], groups: Groups
) -> list[tuple[tuple[str, ...], list[Row]]]:
    """The first input of each group of ``contest`` (see the module docstring); groups
    with no row are left out."""
    position = manifest.contests.index(contest)
    out = []
    for cats in groups:
        rows: list[Row] = []
        for ballot in ballots:
            if ballot.category in cats:
                row = tuple(ballot.selections[position])
                rows.extend([row] * ballot.weight)
        if rows:
            out.append((tuple(cats), rows))
    return out


def make_mix(
    manifest: Manifest,
    joint_key: Element,
    contest_id: str,
    trustee: int,
    inputs: Sequence[tuple[Sequence[str], Sequence[Row]]],
) -> tuple[dict[str, Any], list[list[Row]]]:
    """Trustee ``trustee``'s ``mix`` body for ``inputs`` (per group: categories and input
    rows), shuffled and proved with fresh randomness; returns the body and the output rows
    per group (the next mixer's input)."""
    groups = []
    outputs = []
    for cats, rows in inputs:
        ctx = mix_context(manifest, contest_id, cats)
        out, proof, _secret = shuffle(joint_key, rows, ctx)
        outputs.append(out)
        groups.append(
            {
                "categories": list(cats),
                "input": rows_digest(rows),
                "output": rows_dict(out),
                "proof": proof.to_dict(),
            }
        )
    return {"trustee": trustee, "contest": contest_id, "groups": groups}, outputs


@dataclass
class ContestMix:
    """One ranked contest's mix chain as the rule book follows it: the groups and their
    current rows (the first input, then each accepted mix's output), the mixers so far
    and the canonical body of the last mix."""

    manifest: Manifest
    contest: Contest
    groups: list[tuple[tuple[str, ...], list[Row]]]
    mixers: list[int] = field(default_factory=list)
    last_mix: bytes = b""

    def complete(self) -> bool:
        """True once ``threshold`` trustees have mixed."""
        return len(self.mixers) >= self.manifest.threshold

    def check_mix(
        self,
        body: Any,
        trustee: int,
        joint_key: Element,
        qualified: Sequence[int],
        *,
        proofs: bool = True,
    ) -> None:
        """Accept trustee ``trustee``'s ``mix`` body as the next mix of this contest or
        raise EntryRejected: ``mix.trustee`` (not qualified, already mixed, or the chain is
        complete), ``mix.decode``, ``mix.groups`` (not the contest's groups in order),
        ``mix.chain`` (an input digest is not that of the previous output),
        ``mix.shape`` (not as many rows as the input), ``mix.proof`` (a shuffle proof
        fails: the check of :func:`check_shuffle` that failed is in the reason). With
        ``proofs`` false the shuffle proofs are decoded but not checked (a replay of
        entries a board already accepted)."""
        cid = self.contest.id
        if trustee not in qualified:
            raise EntryRejected("mix.trustee", f"trustee {trustee} is not qualified")
        if trustee in self.mixers:
            raise EntryRejected("mix.trustee", f"trustee {trustee} already mixed contest {cid}")
        if self.complete():
            raise EntryRejected(
                "mix.trustee", f"contest {cid} already has its {len(self.mixers)} mixes"
            )
        group = self.manifest.group
        try:
            expect_keys(body, ("trustee", "contest", "groups"), "mix")
            raw = body["groups"]
            if not isinstance(raw, list):
                raise DecodeError("mix groups: expected a list")
        except DecodeError as exc:
            raise EntryRejected("mix.decode", str(exc)) from None
        want = [list(cats) for cats, _ in self.groups]
        got = [g.get("categories") if isinstance(g, dict) else None for g in raw]
        if got != want:
            raise EntryRejected("mix.groups", f"contest {cid}: groups {got} where {want} were due")
        outputs: list[list[Row]] = []
        for (cats, rows), obj in zip(self.groups, raw, strict=True):
            where = f"contest {cid}, group {group_label(cats)}"
            try:
                expect_keys(obj, ("categories", "input", "output", "proof"), f"mix {where}")
                if not isinstance(obj["output"], list):
                    raise DecodeError(f"mix {where}: output is not a list")
                n, width = len(obj["output"]), self.contest.ranks
                out = decode_rows(group, obj["output"], n, width)
            except DecodeError as exc:
                raise EntryRejected("mix.decode", str(exc)) from None
            if obj["input"] != rows_digest(rows):
                raise EntryRejected("mix.chain", f"{where}: the input is not the previous output")
            if n != len(rows):
                raise EntryRejected(
                    "mix.shape", f"{where}: {n} output rows for {len(rows)} input rows"
                )
            try:
                proof = ShuffleProof.from_dict(group, obj["proof"], n, width)
            except DecodeError as exc:
                raise EntryRejected("mix.decode", str(exc)) from None
            try:
                if proofs:
                    ctx = mix_context(self.manifest, cid, cats)
                    check_shuffle(joint_key, rows, out, proof, ctx)
            except InvalidShuffle as exc:
                raise EntryRejected("mix.proof", f"{where}: {exc}") from None
            outputs.append(out)
        self.groups = [(cats, out) for (cats, _), out in zip(self.groups, outputs, strict=True)]
        self.mixers.append(trustee)
        self.last_mix = dumps(body)


def contest_mixes(
    manifest: Manifest, ballots: Sequence[CountedBallot], groups: Groups
) -> dict[str, ContestMix]:
    """A fresh :class:`ContestMix` per ranked contest, from the counted ballots."""
    return {
        c.id: ContestMix(manifest, c, first_inputs(manifest, c, ballots, groups))
        for c in manifest.contests
        if c.ranked
    }
