"""Ranked contests: the manifest, the ballot encoding and its proofs, the mix input, and
elections end to end (the demo, an STV contest alone on the ballot, the board's refusals)."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote import cli
from verivote.count import check_ranking
from verivote.demo import SimulatedElection
from verivote.demo_ranked import LEADER, RULE_CHANGE, count_ranked
from verivote.election.ballot import check_audit, check_ballot, encrypt_ballot
from verivote.election.manifest import Candidate, Contest, Manifest
from verivote.election.mixing import CountedBallot, first_inputs, make_mix, rows_digest
from verivote.election.ranked import field_value, fields_from_choice
from verivote.elgamal import encrypt_with_nonce
from verivote.errors import DecodeError, EntryRejected, InvalidProof, ParameterError
from verivote.groups import get_group
from verivote.signatures import Signer
from verivote.verify.record import verify_record

IDS = [c.id for c in LEADER.candidates]


def _opened(
    voters: int, contests: tuple[Contest, ...], group: str = "ed25519"
) -> SimulatedElection:
    sim = SimulatedElection(voters, group, seed=2, contests=contests)
    sim.run_ceremony()
    sim.publish_roll()
    return sim


# ------------------------------------------------------------------ manifest
def test_ranked_contest_round_trips_and_is_not_tallied() -> None:
    obj = LEADER.to_dict()
    assert obj == {
        "id": "leader",
        "title": LEADER.title,
        "kind": "ranked",
        "candidates": [{"id": c.id, "name": c.name} for c in LEADER.candidates],
        "ranks": 4,
        "rule": "av",
        "seats": 1,
    }
    assert Contest.from_dict(obj) == LEADER
    assert (LEADER.fields, LEADER.field_bound) == (4, 4)
    assert (RULE_CHANGE.fields, RULE_CHANGE.field_bound) == (2, 1)
    sim = _opened(2, (LEADER, RULE_CHANGE))
    assert sim.manifest.tallied == (RULE_CHANGE,)
    assert Manifest.from_dict(sim.manifest.to_dict()) == sim.manifest


@pytest.mark.parametrize(
    "change",
    [
        {"ranks": 5},  # more ranks than candidates
        {"ranks": 0},
        {"rule": "borda"},
        {"seats": 2},  # av elects one
        {"rule": "scottish-stv", "seats": 4},  # as many seats as candidates
        {"limit": 4},  # a ranked contest has no limit
    ],
)
def test_bad_ranked_contest_is_refused(change: dict) -> None:
    with pytest.raises(DecodeError):
        Contest.from_dict({**LEADER.to_dict(), **change})


def test_only_ranked_contests_have_ranks() -> None:
    with pytest.raises(ParameterError):
        Contest("x", "X", "plurality", LEADER.candidates, 1, ranks=1, rule="av", seats=1)


# ------------------------------------------------------------------ encoding
def test_fields_known_answers_and_refusals() -> None:
    assert fields_from_choice(LEADER, ["begum", "ashworth"]) == [2, 1, 0, 0]
    assert fields_from_choice(LEADER, []) == [0, 0, 0, 0]
    assert fields_from_choice(LEADER, IDS[::-1]) == [4, 3, 2, 1]
    for bad in (["nobody"], ["begum", "begum"], [*IDS, "ashworth"]):
        with pytest.raises(ParameterError):
            fields_from_choice(LEADER, bad)
    assert [field_value(v) for v in (0, 1, 4)] == [None, 0, 3]


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(4)), st.integers(1, 4))
def test_fields_decode_to_the_ranking(order: list[int], length: int) -> None:
    ranking = [IDS[i] for i in order[:length]]
    fields = fields_from_choice(LEADER, ranking)
    assert check_ranking([field_value(v) for v in fields], 4) == tuple(order[:length])


def test_ranked_ballot_proofs_and_audit() -> None:
    sim = _opened(2, (LEADER, RULE_CHANGE))
    m, key = sim.manifest, sim.joint_key
    ctx = m.ballot_context(key)
    prepared = encrypt_ballot(m, key, sim.credentials[0], {"leader": ["carver", "begum"]})
    contest = prepared.body["contests"][0]
    assert set(contest) == {"id", "selections", "proofs"} and len(contest["selections"]) == 4
    _, selections = check_ballot(m, key, ctx, prepared.body)
    assert [len(s) for s in selections] == [4, 2]
    _, votes, _ = check_audit(m, key, ctx, prepared.audit_body())
    assert votes[0] == [3, 2, 0, 0]
    # A proof moved to another rank no longer holds.
    proofs = contest["proofs"]
    proofs[0], proofs[1] = proofs[1], proofs[0]
    with pytest.raises(InvalidProof, match="rank"):
        check_ballot(m, key, ctx, prepared.body)
    # A limit proof is not part of a ranked contest.
    proofs[0], proofs[1] = proofs[1], proofs[0]
    contest["limit_proof"] = prepared.body["contests"][1]["limit_proof"]
    with pytest.raises(DecodeError):
        check_ballot(m, key, ctx, prepared.body)


# ------------------------------------------------------------------ the mix input
def test_rows_digest_follows_the_documented_bytes() -> None:
    group = get_group("ed25519")
    key = group.generator ** group.scalar(5)
    rows = [
        tuple(encrypt_with_nonce(key, v, group.scalar(7 + 3 * i + v)) for v in (1, 0))
        for i in range(3)
    ]

    def frame(*parts: bytes) -> bytes:
        return b"".join(struct.pack(">I", len(p)) + p for p in parts)

    elements = [e.to_bytes() for row in rows for ct in row for e in (ct.alpha, ct.beta)]
    raw = frame(b"verivote/mix-rows", (3).to_bytes(4, "big"), (2).to_bytes(4, "big"), *elements)
    assert rows_digest(rows) == hashlib.sha256(raw).hexdigest()
    assert rows_digest(rows[::-1]) != rows_digest(rows)


def test_first_inputs_repeat_weighted_rows_and_leave_out_empty_groups() -> None:
    sim = _opened(2, (LEADER, RULE_CHANGE))
    m, key = sim.manifest, sim.joint_key
    group = m.group

    def row(v: int) -> list:
        return [encrypt_with_nonce(key, v, group.scalar(v + k + 1)) for k in range(4)]

    ballots = [
        CountedBallot("members", 1, [row(1), []]),
        CountedBallot("registered", 3, [row(2), []]),
        CountedBallot("members", 1, [row(3), []]),
    ]
    groups = (("members",), ("affiliated",), ("registered",))
    inputs = first_inputs(m, LEADER, ballots, groups)
    assert [cats for cats, _ in inputs] == [("members",), ("registered",)]
    assert inputs[0][1] == [tuple(row(1)), tuple(row(3))]
    assert inputs[1][1] == [tuple(row(2))] * 3


# ------------------------------------------------------------------ end to end
def test_demo_ranked_cli(tmp_path, capsys) -> None:
    code = cli.main(["demo", "--ranked", "--voters", "30", "--out", str(tmp_path), "--seed", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verify: VALID" in out and "elected" in out
    assert "equals the recount" in out


def test_stv_contest_alone_on_the_ballot(tmp_path) -> None:
    council = Contest(
        "council",
        "Council (two seats)",
        "ranked",
        tuple(Candidate(c, c.title()) for c in ("ada", "ben", "cy", "dee", "eve")),
        3,
        ranks=3,
        rule="scottish-stv",
        seats=2,
    )
    sim = _opened(10, (council,))
    rankings = [["ada", "ben"], ["ada", "cy"], ["ben"], ["cy", "dee", "eve"], ["ada"]]
    rankings += [["eve", "ada"], ["dee"], ["ben", "ada", "cy"]]
    for voter, ranking in enumerate(rankings):
        sim.cast(voter, {"council": ranking})
    # Before the tally, a mix is out of order.
    stranger = sim.trustees[0].signer
    with pytest.raises(EntryRejected) as info:
        sim.board.post(stranger, "mix", {"trustee": 1, "contest": "council", "groups": []})
    assert info.value.check == "entry.order"
    sim.close()
    results = count_ranked(sim, [2, 3])
    overall = results["council"]["overall"]
    assert overall["rule"] == "scottish-stv" and overall["valid_ballots"] == 8
    assert len(overall["elected"]) == 2 and "ada" in overall["elected"]
    report = verify_record(sim.board.export(tmp_path).parent)
    assert report.valid, [(f.type, f.check, f.reason) for f in report.failures]
    assert report.result is not None and report.result["contests"][0]["id"] == "council"


def test_board_refuses_a_mix_by_a_trustee_who_already_mixed() -> None:
    sim = _opened(6, (LEADER,))
    for voter in range(4):
        sim.cast(voter, {"leader": IDS[voter:]})
    sim.close()
    st_ = sim.board.state
    encrypted = st_.expected_tally()
    sim.board.post(sim.organiser, "tally", encrypted.to_dict())
    assert st_.ranked is not None
    mix = st_.ranked.mixes()["leader"]

    body, _ = make_mix(sim.manifest, sim.joint_key, "leader", 1, mix.groups)
    sim.board.post(sim.trustees[0].signer, "mix", body)
    again, _ = make_mix(sim.manifest, sim.joint_key, "leader", 1, mix.groups)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.trustees[0].signer, "mix", again)
    assert info.value.check == "mix.trustee"
    with pytest.raises(EntryRejected) as info:
        sim.board.post(Signer.generate(), "mix", again)
    assert info.value.check == "mix.signature"
