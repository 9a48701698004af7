"""A whole election, end to end, on an in-memory board: ``verivote demo``.

A party leadership ballot: four candidates (vote for one) and a yes/no rule change; electors
in three categories (members, affiliated supporters, registered supporters); three trustees
of whom any two can decrypt, and one of them absent on counting day; a registrar that bars a
few supporters during the vote (their ballots stop counting) and adds a late member; voters
who change their minds (the last ballot counts) and voters who audit a ballot before casting
(Benaloh challenge). The result is decrypted, checked against the plaintext the simulation
chose, written as a record and verified by the independent verifier.

``seed`` fixes the simulated electorate and its choices (with :mod:`random`, which never
touches cryptography); keys, nonces and proofs always come from the operating system, so two
runs with one seed give the same counts but different records.

The actors live in :mod:`verivote.simulation` (re-exported here for existing callers); the
board runs on a simulated clock that starts now (see there).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from verivote.board.log import HEADS_FILE as HEADS
from verivote.board.log import RECORD_FILE as RECORD
from verivote.election import decryption
from verivote.election.manifest import Manifest
from verivote.simulation import (
    CATEGORIES,
    LEAD,
    SimulatedClock,
    SimulatedElection,
    now,
    system_clock,
    voting_time,
)
from verivote.verify.record import Report, verify_record

__all__ = [
    "CATEGORIES",
    "LEAD",
    "DemoOutcome",
    "OutputUnusable",
    "SimulatedClock",
    "SimulatedElection",
    "check_output",
    "expected_counts",
    "main_demo",
    "now",
    "run_demo",
    "system_clock",
    "voting_time",
]


@dataclass
class DemoOutcome:
    """What the demo produced: the record, the expected counts and the verifier's report."""

    record: Path
    result: dict[str, Any]
    expected: dict[str, Any]
    report: Report
    manifest: Manifest


def run_demo(
    voters: int = 1000,
    group: str = "ed25519",
    out: Path = Path("record"),
    seed: int | None = None,
    say: Callable[[str], None] = print,
    start: datetime | None = None,
) -> DemoOutcome:
    """Run the whole election described in the module docstring, from ``start`` (default
    now) on a simulated clock; returns its outcome."""
    sim = SimulatedElection(voters, group, seed, start=start)
    rng = sim.rng
    m = sim.manifest
    say(f"election {m.election_id} ({group}), fingerprint {m.fingerprint.hex()[:16]}…")
    sim.run_ceremony()
    say(
        f"key ceremony: trustees {list(sim.board.state.qualified)} qualified, "
        f"threshold {m.threshold}"
    )
    sim.publish_roll()
    say(f"roll: {len(sim.records)} electors published; voting opens {m.opens}")

    leader_ids = [c.id for c in m.contests[0].candidates]
    popularity = [0.38, 0.31, 0.19, 0.12]
    last_vote: dict[int, dict[str, list[str]]] = {}
    revoked: set[int] = set()
    audits = cast = 0
    order = list(range(voters))
    rng.shuffle(order)
    voting = [i for i in order if rng.random() < 0.8]
    barred = sorted(rng.sample(range(voters), k=max(1, voters // 200)))
    midway = len(voting) // 2
    total = len(voting) + 1  # and the late member added midway
    step = max(1, total // 10)
    for n, i in enumerate(voting):
        if n == midway:  # the registrar bars a few supporters and adds a late member
            for b in barred:
                sim.revoke(b)
                revoked.add(b)
                last_vote.pop(b, None)
            voting.append(sim.add_elector("members"))
        if i in revoked:
            continue  # a barred supporter can no longer vote: the board would refuse it
        choice = {"leader": rng.choices(leader_ids, weights=popularity, k=1)}
        if rng.random() < 0.9:
            choice["rule-change"] = [rng.choice(["yes", "no"])]
        if rng.random() < 0.01:
            choice["leader"] = []  # a blank vote for leader
        if rng.random() < 0.02:  # Benaloh challenge: audit one encryption, then cast afresh
            sim.board.post(sim.credentials[i], "audit", sim.prepare(i, choice).audit_body())
            audits += 1
        sim.cast(i, choice)
        cast += 1
        last_vote[i] = choice
        if rng.random() < 0.03:  # changes their mind: the later ballot replaces this one
            choice = {"leader": rng.choices(leader_ids, weights=popularity, k=1)}
            sim.cast(i, choice)
            cast += 1
            last_vote[i] = choice
        if (n + 1) % step == 0:
            say(f"  {n + 1}/{total} voters")
    say(f"voting: {cast} ballots cast, {audits} audited, {len(revoked)} credentials revoked")

    sim.close()
    result = sim.count(present=[1, 2])  # trustee 3 is absent on counting day
    say(decryption.render_result(m, result))
    cats = [r.category for r in sim.records]
    expected = expected_counts(m, last_vote, cats)
    record = sim.board.export(out)
    say(f"record written to {record} ({len(sim.board)} entries)")
    report = verify_record(out)
    say("verify: " + ("VALID" if report.valid else f"INVALID ({len(report.failures)} failures)"))
    return DemoOutcome(out, result, expected, report, m)


def expected_counts(
    manifest: Manifest, votes: dict[int, dict[str, list[str]]], categories: list[str]
) -> dict[str, Any]:
    """Plaintext counts ``{contest: {"overall": {cand: n}, "by_category": {cat: {cand: n}}}}``
    from the simulation's own record of who chose what."""
    out: dict[str, Any] = {}
    for contest in manifest.contests:
        overall = {c.id: 0 for c in contest.candidates}
        by_cat = {cat: {c.id: 0 for c in contest.candidates} for cat in manifest.categories}
        for voter, choice in votes.items():
            for cand in choice.get(contest.id, []):
                overall[cand] += 1
                by_cat[categories[voter]][cand] += 1
        out[contest.id] = {"overall": overall, "by_category": by_cat}
    return out


class OutputUnusable(Exception):
    """``--out`` cannot take the record; the message says why in one line."""


def check_output(out: Path) -> None:
    """Make sure the record can be written to directory ``out`` before the election runs:
    ``out`` is created if missing; raises :class:`OutputUnusable` if it is a file, a
    directory holding anything but an earlier record (``board.jsonl``, ``heads.jsonl``), or
    a place where nothing can be written."""
    if out.exists() and not out.is_dir():
        raise OutputUnusable(f"{out} exists and is not a directory")
    if out.is_dir():
        try:
            others = sorted(p.name for p in out.iterdir() if p.name not in (RECORD, HEADS))
        except OSError as exc:
            raise OutputUnusable(f"cannot read {out}: {exc.strerror}") from None
        if others:
            raise OutputUnusable(
                f"{out} holds other files than a record ({', '.join(others[:3])}"
                f"{', …' if len(others) > 3 else ''}); choose an empty or new directory"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise OutputUnusable(f"cannot write in {out}: {exc.strerror or exc}") from None


def main_demo(voters: int, group: str, out: Path, seed: int | None) -> int:
    """CLI entry: run the demo. Exit 0 when the record verifies and the result matches the
    votes cast, 1 when not, 2 when ``out`` cannot take the record (one line on stderr)."""
    try:
        check_output(out)
        outcome = run_demo(voters, group, out, seed)
    except OutputUnusable as exc:
        print(f"verivote demo: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"verivote demo: cannot write the record in {out}: {exc.strerror}", file=sys.stderr)
        return 2
    mismatches = []
    for contest in outcome.result["contests"]:
        want = outcome.expected[contest["id"]]["overall"]
        if contest["overall"] != want:
            mismatches.append(contest["id"])
    if mismatches:
        print(f"the decrypted result differs from the votes cast in {mismatches}", file=sys.stderr)
        return 1
    print("the decrypted result equals the plaintext votes the simulation cast")
    return 0 if outcome.report.valid else 1
