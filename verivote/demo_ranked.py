"""A ranked leadership election, end to end: ``verivote demo --ranked``.

Four candidates for leader ranked by the alternative vote and the yes/no rule change
(tallied homomorphically); electors in three categories; three trustees of whom any two
decrypt (trustee 3 is absent on counting day). After close the organiser posts the
tally; trustees 1 and 2 decrypt it, mix the ranked ballots of each breakdown group in turn
(each ``mix`` with its proof of shuffle), decrypt the mixed ballots; the organiser posts
the ``ranked_result`` (every decrypted ranking, the invalid ones with their reason, the
rounds of the count per group and overall) and the ``result``. A few electors use a faulty
device that encrypts a ranking with a repeat or a gap: the range proofs cannot see it, the
count publishes those ballots as invalid. The rounds are checked against an independent
recount of the plaintext rankings the simulation cast, and the record is verified.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verivote.count import RULES, CountReport, profile_from_fields
from verivote.count.text import render_text
from verivote.demo import SimulatedElection
from verivote.election import ceremony, decryption
from verivote.election.ballot import _encrypt_ballot
from verivote.election.manifest import Candidate, Contest
from verivote.election.mixing import make_mix
from verivote.election.ranked import field_value, fields_from_choice
from verivote.election.ranked_result import (
    decrypt_rows,
    make_mix_decryption,
    make_ranked_result_body,
)
from verivote.groups import DEFAULT_GROUP
from verivote.verify.record import Report, verify_record

LEADER = Contest(
    "leader",
    "Party leader (alternative vote)",
    "ranked",
    tuple(Candidate(c.lower(), c) for c in ("Ashworth", "Begum", "Carver", "Dlamini")),
    4,
    ranks=4,
    rule="av",
    seats=1,
)
RULE_CHANGE = Contest(
    "rule-change",
    "Adopt the new selection rules?",
    "referendum",
    (Candidate("yes", "Yes"), Candidate("no", "No")),
    1,
)
POPULARITY = (0.36, 0.33, 0.19, 0.12)


@dataclass
class RankedOutcome:
    """What the ranked demo produced."""

    record: Path
    ranked: dict[str, Any]
    recount: CountReport
    report: Report


def ranked_election(
    voters: int, group: str = DEFAULT_GROUP, seed: int | None = None
) -> SimulatedElection:
    """A simulated election whose manifest holds the ranked leader contest and the
    referendum."""
    return SimulatedElection(voters, group, seed, contests=(LEADER, RULE_CHANGE))


def cast_faulty(sim: SimulatedElection, voter: int, fields: list[int]) -> int:
    """Elector ``voter`` casts a ballot whose leader fields are ``fields`` as given (a
    device that does not check the ranking); the rule change is left blank."""
    m = sim.manifest
    group = m.group
    votes = [fields, [0, 0]]
    nonces = [[group.random_scalar() for _ in v] for v in votes]
    credential = sim.credentials[voter]
    prepared = _encrypt_ballot(m, sim.joint_key, credential.public_key, votes, nonces)
    return sim.board.post(credential, "ballot", prepared.body)


def count_ranked(sim: SimulatedElection, present: list[int]) -> dict[str, dict[str, Any]]:
    """After close: tally, its decryptions, each present trustee's mix of every ranked
    contest, their decryptions of the last mix, the ranked results, then the result.
    Returns the ranked result bodies by contest."""
    st = sim.board.state
    m = sim.manifest
    encrypted = st.expected_tally()
    sim.board.post(sim.organiser, "tally", encrypted.to_dict())
    shares = {
        i: ceremony.combined_secret_share(sim.received[i], qualified=st.qualified) for i in present
    }
    for i in present:
        body = decryption.make_decryption(m, encrypted, i, shares[i])
        sim.board.post(sim.trustees[i - 1].signer, "decryption", body)
    assert st.ranked is not None
    results = {}
    for cid, mix in st.ranked.mixes().items():
        for i in present:
            body, _ = make_mix(m, sim.joint_key, cid, i, mix.groups)
            sim.board.post(sim.trustees[i - 1].signer, "mix", body)
        for i in present:
            body = make_mix_decryption(m, mix, i, shares[i])
            sim.board.post(sim.trustees[i - 1].signer, "mix_decryption", body)
        values = decrypt_rows(m, mix, st.ranked.shares[cid])
        result = make_ranked_result_body(m, mix, values, sorted(st.ranked.shares[cid]))
        sim.board.post(sim.organiser, "ranked_result", result)
        results[cid] = result
    counts = decryption.combine(m, encrypted, st.decryptions, m.threshold)
    missing = [t.index for t in m.trustees if t.index not in present]
    added = st.close_counts()["added"]
    body = decryption.make_result_body(m, encrypted, counts, sorted(present), missing, added)
    sim.board.post(sim.organiser, "result", body)
    return results


def vote(
    sim: SimulatedElection, say: Callable[[str], None] = print, faulty_rate: float = 0.01
) -> dict[int, list[int]]:
    """Voting: most electors rank some candidates (a re-vote now and then, a few audits,
    a few barred electors, a few faulty devices); returns each counted elector's leader
    fields as cast."""
    rng = sim.rng
    ids = [c.id for c in LEADER.candidates]
    last: dict[int, list[int]] = {}
    order = list(range(sim.voters))
    rng.shuffle(order)
    voting = [i for i in order if rng.random() < 0.8]
    barred = set(rng.sample(range(sim.voters), k=max(1, sim.voters // 200)))
    for n, i in enumerate(voting):
        if n == len(voting) // 2:
            for b in sorted(barred):
                sim.revoke(b)
                last.pop(b, None)
        if n >= len(voting) // 2 and i in barred:
            continue
        if rng.random() < faulty_rate:
            fields = rng.choice([[1, 1, 0, 0], [2, 0, 3, 0], [0, 0, 0, 0], [3, 4, 3, 1]])
            cast_faulty(sim, i, fields)
            last[i] = fields
            continue
        for again in (False, True):
            if again and rng.random() >= 0.03:
                break  # 3% change their mind: the later ballot replaces the first
            ranking: list[str] = []
            weights = list(POPULARITY)
            for _ in range(rng.choice([1, 2, 2, 3, 3, 4])):
                pick = rng.choices(range(len(ids)), weights=weights, k=1)[0]
                ranking.append(ids[pick])
                weights[pick] = 0.0
            choice = {"leader": ranking, "rule-change": [rng.choice(["yes", "no"])]}
            if rng.random() < 0.02:
                sim.board.post(sim.credentials[i], "audit", sim.prepare(i, choice).audit_body())
            sim.cast(i, choice)
            last[i] = fields_from_choice(LEADER, ranking)
        if (n + 1) % max(1, len(voting) // 5) == 0:
            say(f"  {n + 1}/{len(voting)} voters")
    return last


def recount(fields: dict[int, list[int]], seed: bytes) -> CountReport:
    """The count of the plaintext rankings the simulation cast (an independent recount)."""
    ids = [c.id for c in LEADER.candidates]
    decoded = [[field_value(v) for v in row] for row in fields.values()]
    profile = profile_from_fields(ids, decoded, seats=LEADER.seats)
    return RULES[LEADER.rule](profile, LEADER.seats, seed)


def run_ranked_demo(
    voters: int = 200,
    group: str = DEFAULT_GROUP,
    out: Path = Path("record"),
    seed: int | None = None,
    say: Callable[[str], None] = print,
) -> RankedOutcome:
    """Run the election described in the module docstring; returns its outcome."""
    sim = ranked_election(voters, group, seed)
    m = sim.manifest
    say(f"election {m.election_id} ({group}), fingerprint {m.fingerprint.hex()[:16]}…")
    sim.run_ceremony()
    sim.publish_roll()
    say(f"roll: {len(sim.records)} electors; trustees {list(sim.board.state.qualified)}")
    cast = vote(sim, say)
    sim.close()
    say(f"voting closed: {len(cast)} ballots counted")
    ranked = count_ranked(sim, present=[1, 2])["leader"]
    again = recount(cast, bytes.fromhex(ranked["seed"]))
    say(f"mixed by trustees 1 and 2 in {len(ranked['groups'])} group(s); the rounds:")
    say(render_text(again))
    record = sim.board.export(out)
    say(f"record written to {record} ({len(sim.board)} entries)")
    report = verify_record(out)
    say("verify: " + ("VALID" if report.valid else f"INVALID ({len(report.failures)} failures)"))
    return RankedOutcome(out, ranked, again, report)


def main_ranked_demo(voters: int, group: str, out: Path, seed: int | None) -> int:
    """CLI entry: exit 0 when the record verifies and the published count equals the
    recount of the plaintext rankings."""
    outcome = run_ranked_demo(voters, group, out, seed)
    if outcome.ranked["overall"] != outcome.recount.to_dict():
        print("the published count differs from the recount of the votes cast", file=sys.stderr)
        return 1
    print("the published count equals the recount of the plaintext rankings the simulation cast")
    return 0 if outcome.report.valid else 1
