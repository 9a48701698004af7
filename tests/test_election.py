"""The election end to end: the demo's result equals the plaintext, and every rejection
the board and the verifier must make, in both groups."""

from __future__ import annotations

import copy

import pytest

from verivote.demo import SimulatedElection, _parse, run_demo
from verivote.election import ballot as ballot_mod
from verivote.election import ceremony, decryption, keygen
from verivote.election.ballot import _encrypt_ballot, encrypt_ballot
from verivote.election.entries import sign_entry
from verivote.errors import EntryRejected, ParameterError
from verivote.proofs import range as range_mod
from verivote.signatures import Signer

LEADER = {"leader": ["begum"], "rule-change": ["yes"]}


@pytest.fixture(params=["ed25519", "modp4096"])
def group(request):
    return request.param


def opened(group: str, voters: int = 6, **kw) -> SimulatedElection:
    sim = SimulatedElection(voters, group, seed=3, **kw)
    sim.run_ceremony()
    sim.publish_roll()
    return sim


def rejected(sim: SimulatedElection, signer: Signer, entry_type: str, body: dict) -> EntryRejected:
    before = len(sim.board)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(signer, entry_type, body)
    assert len(sim.board) == before, "a rejected entry must not reach the log"
    return info.value


def test_demo_result_equals_plaintext(tmp_path):
    outcome = run_demo(
        voters=60, group="ed25519", out=tmp_path / "rec", seed=11, say=lambda _: None
    )
    assert outcome.report.valid, outcome.report.failures
    for contest in outcome.result["contests"]:
        want = outcome.expected[contest["id"]]
        assert contest["overall"] == want["overall"]
        for grp in contest["groups"]:
            summed = {
                c: sum(want["by_category"][cat][c] for cat in grp["categories"])
                for c in grp["counts"]
            }
            assert grp["counts"] == summed
    assert outcome.result["missing"] == [3]
    assert outcome.report.by_type["amend"] >= 2  # a revocation and a late registration


def test_demo_modp4096(tmp_path):
    outcome = run_demo(voters=8, group="modp4096", out=tmp_path / "rec", seed=2, say=lambda _: None)
    assert outcome.report.valid, outcome.report.failures
    for contest in outcome.result["contests"]:
        assert contest["overall"] == outcome.expected[contest["id"]]["overall"]


def test_unknown_credential(group):
    sim = opened(group)
    stranger = Signer.generate()
    body = encrypt_ballot(sim.manifest, sim.joint_key, stranger, LEADER).body
    err = rejected(sim, stranger, "ballot", body)
    assert err.check == "ballot.credential" and "not on the roll" in err.reason


def test_revoked_credential(group):
    sim = opened(group)
    sim.revoke(0)
    err = rejected(sim, sim.credentials[0], "ballot", sim.prepare(0, LEADER).body)
    assert err.check == "ballot.credential" and "revoked (barred)" in err.reason


def test_replayed_ballot(group):
    sim = opened(group)
    body = sim.prepare(0, LEADER).body
    sim.board.post(sim.credentials[0], "ballot", body)
    err = rejected(sim, sim.credentials[0], "ballot", body)
    assert err.check == "ballot.duplicate"


def test_ballot_moved_to_another_credential(group):
    sim = opened(group)
    body = copy.deepcopy(sim.prepare(0, LEADER).body)
    body["credential"] = sim.records[1].key.hex()
    err = rejected(sim, sim.credentials[1], "ballot", body)
    assert err.check == "ballot.proof"


def test_ballot_from_another_election(group):
    sim = opened(group)
    other = opened(group)
    body = _encrypt_ballot(
        other.manifest,
        other.joint_key,
        sim.records[0].key,
        [[0, 1, 0, 0], [1, 0]],
        [[group_scalar(other) for _ in range(4)], [group_scalar(other) for _ in range(2)]],
    ).body
    err = rejected(sim, sim.credentials[0], "ballot", body)
    assert err.check == "ballot.proof"


def group_scalar(sim):
    return sim.manifest.group.random_scalar()


def test_voter_device_refuses_over_vote(group):
    sim = opened(group)
    with pytest.raises(ParameterError, match="at most 1"):
        sim.prepare(0, {"leader": ["begum", "carver"]})
    with pytest.raises(ParameterError, match="no candidate"):
        sim.prepare(0, {"leader": ["nobody"]})


def test_over_vote_with_forged_limit_proof(group, monkeypatch):
    sim = opened(group)
    real = range_mod.prove_range

    def cheating(public_key, ct, value, nonce, limit, context):
        if value <= limit:
            return real(public_key, ct, value, nonce, limit, context)
        full = real(public_key, ct, value, nonce, value, context)
        n = limit + 1
        return range_mod.RangeProof(
            full.challenges[:n], full.responses[:n], full.commitments[:n], full.a_commitments[:n]
        )

    monkeypatch.setattr(ballot_mod, "prove_range", cheating)
    g = sim.manifest.group
    body = _encrypt_ballot(
        sim.manifest,
        sim.joint_key,
        sim.records[0].key,
        [[1, 1, 0, 0], [1, 0]],
        [[g.random_scalar() for _ in range(4)], [g.random_scalar() for _ in range(2)]],
    ).body
    err = rejected(sim, sim.credentials[0], "ballot", body)
    assert err.check == "ballot.proof" and "limit proof" in err.reason


def test_bad_selection_proof(group):
    sim = opened(group)
    body = copy.deepcopy(sim.prepare(0, LEADER).body)
    proof = body["contests"][0]["proofs"][2]
    proof["s"][0] = sim.manifest.group.scalar(int(proof["s"][0], 16) + 1).hex()
    err = rejected(sim, sim.credentials[0], "ballot", body)
    assert err.check == "ballot.proof" and "candidate carver" in err.reason


def test_forged_signature(group):
    sim = opened(group)
    body = sim.prepare(0, LEADER).body
    err = rejected(sim, sim.credentials[1], "ballot", body)  # signed by another key
    assert err.check == "ballot.signature"


def test_ballot_after_close(group):
    sim = opened(group)
    sim.close()
    err = rejected(sim, sim.credentials[0], "ballot", sim.prepare(0, LEADER).body)
    assert err.check == "entry.order"


def test_last_ballot_counts_and_revoked_never_count(group):
    sim = opened(group, voters=4)
    sim.cast(0, {"leader": ["ashworth"]})
    sim.cast(0, {"leader": ["dlamini"]})  # re-vote replaces the first
    sim.cast(1, {"leader": ["carver"]})
    sim.revoke(1)  # barred after voting: the ballot stops counting
    sim.cast(2, {"leader": ["dlamini"], "rule-change": ["no"]})
    sim.close()
    result = sim.count(present=[1, 3])
    leader = result["contests"][0]["overall"]
    assert leader == {"ashworth": 0, "begum": 0, "carver": 0, "dlamini": 2}
    assert result["contests"][1]["overall"] == {"yes": 0, "no": 1}
    assert result["missing"] == [2]


def test_audit_then_cast_afresh(group):
    sim = opened(group)
    prepared = sim.prepare(0, LEADER)
    sim.board.post(sim.credentials[0], "audit", prepared.audit_body())
    err = rejected(
        sim, sim.credentials[0], "ballot", prepared.body
    )  # an audited ballot can't be cast
    assert err.check == "ballot.duplicate"
    sim.cast(0, LEADER)
    sim.close()
    result = sim.count(present=[1, 2])
    assert result["contests"][0]["overall"]["begum"] == 1


def test_audit_with_false_reveal(group):
    sim = opened(group)
    audit = sim.prepare(0, LEADER).audit_body()
    audit["reveal"][0]["votes"] = [1, 0, 0, 0]  # claims Ashworth, the ballot says Begum
    err = rejected(sim, sim.credentials[0], "audit", audit)
    assert err.check == "audit.reencrypt" and "candidate ashworth" in err.reason


def test_one_trustee_short_of_threshold_cannot_decrypt(group):
    sim = opened(group)
    sim.cast(0, LEADER)
    sim.close()
    st = sim.board.state
    encrypted = st.expected_tally()
    sim.board.post(sim.organiser, "tally", encrypted.to_dict())
    s = sim.trustees[0]
    x = ceremony.combined_secret_share(sim.received[1], qualified=sim.board.state.qualified)
    sim.board.post(
        s.signer, "decryption", decryption.make_decryption(sim.manifest, encrypted, 1, x)
    )
    with pytest.raises(Exception, match="trustee"):
        decryption.combine(sim.manifest, encrypted, st.decryptions, sim.manifest.threshold)
    counts = [0] * len(encrypted.ciphertexts())
    body = decryption.make_result_body(sim.manifest, encrypted, counts, [1], [2, 3])
    err = rejected(sim, sim.organiser, "result", body)
    assert err.check == "result.counts"


def test_wrong_tally_and_wrong_share_rejected(group):
    sim = opened(group)
    sim.cast(0, LEADER)
    sim.cast(1, {"leader": ["ashworth"]})
    sim.close()
    st = sim.board.state
    encrypted = st.expected_tally()
    forged = copy.deepcopy(encrypted.to_dict())
    wrong = st.expected_tally().to_dict()  # same values; swap two candidates' ciphertexts
    c0 = wrong["contests"][0] if "contests" in wrong else None
    assert c0 is not None
    forged["contests"][0]["overall"][0], forged["contests"][0]["overall"][1] = (
        forged["contests"][0]["overall"][1],
        forged["contests"][0]["overall"][0],
    )
    err = rejected(sim, sim.organiser, "tally", forged)
    assert err.check == "tally.recompute"
    sim.board.post(sim.organiser, "tally", encrypted.to_dict())
    x1 = ceremony.combined_secret_share(sim.received[1], qualified=sim.board.state.qualified)
    body = decryption.make_decryption(sim.manifest, encrypted, 1, x1 + 1)  # wrong share
    err = rejected(sim, sim.trustees[0].signer, "decryption", body)
    assert err.check == "decryption.proof"


def test_bad_share_complaint_and_disqualification(group):
    sim = SimulatedElection(4, group, seed=5)
    m = sim.manifest
    t2 = sim.trustees[1]
    sim.exchange_shares(bad=(1, 2))
    bad = next(
        e for e in sim.board if e.type == "share" and e.body["from"] == 1 and e.body["to"] == 2
    )
    value = ceremony.open_share(t2, m, {k: v for k, v in bad.body.items() if k != "run"})
    with pytest.raises(Exception, match="does not match"):
        ceremony.check_share_value(value, sim.board.state.announcements[1], 2)
    complaint = ceremony.make_complaint(t2, m, 1, "share does not match")
    sim.board.post(t2.signer, "complaint", keygen.with_run(complaint, sim.schedule.run))
    # Trustee 1 does not justify: it is disqualified and the joint key leaves it out.
    sim.clock.jump(_parse(sim.schedule.justifications))
    wrong = keygen.with_run(
        ceremony.make_joint_key_body(sim.board.state.announcements, (1, 2, 3)), sim.schedule.run
    )
    err = rejected(sim, sim.organiser, "joint_key", wrong)
    assert err.check == "joint_key.recompute"
    sim.post_joint_key((2, 3))
    assert sim.board.state.qualified == (2, 3)


def test_justified_complaint_keeps_trustee(group):
    sim = SimulatedElection(4, group, seed=5)
    m = sim.manifest
    t1, t2, _ = sim.trustees
    sim.exchange_shares()
    run = sim.schedule.run
    complaint = ceremony.make_complaint(t2, m, 1, "unfounded")
    sim.board.post(t2.signer, "complaint", keygen.with_run(complaint, run))
    justification = ceremony.make_justification(t1, m, 2)
    sim.board.post(t1.signer, "justification", keygen.with_run(justification, run))
    sim.post_joint_key((1, 2, 3))
    assert sim.board.state.qualified == (1, 2, 3)


def test_entries_out_of_order(group):
    sim = SimulatedElection(4, group, seed=5)
    err = rejected(sim, sim.organiser, "open", {"roll_size": 0})
    assert err.check == "entry.order"
    entry = sign_entry(sim.organiser, b"", "election", sim.manifest.to_dict(), sim.clock())
    with pytest.raises(EntryRejected, match="second election"):
        sim.board.append(entry)


TORSION8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


@pytest.mark.parametrize("component", ["a", "b"])
def test_ballot_point_outside_subgroup(component):
    """Ballot ciphertexts are decoded with deferred subgroup checks: the range proof's scalar
    multiplication must still refuse a point with a small-order component."""
    from nacl.bindings import crypto_core_ed25519_add

    sim = opened("ed25519")
    body = copy.deepcopy(sim.prepare(0, LEADER).body)
    sel = body["contests"][0]["selections"][1]
    sel[component] = crypto_core_ed25519_add(bytes.fromhex(sel[component]), TORSION8).hex()
    err = rejected(sim, sim.credentials[0], "ballot", body)
    # alpha and beta enter the transcript before any exponentiation (the published a_j and
    # b_j are hashed as given): the changed statement fails the challenge
    assert err.check == "ballot.proof" and "transcript challenge" in err.reason


def test_batch_refuses_beta_outside_subgroup():
    """Where the batch raises a ballot's betas and b_j to their weights, libsodium refuses
    a point with a small-order component (so deferred decoding is safe)."""
    from nacl.bindings import crypto_core_ed25519_add

    from verivote.errors import InvalidElement
    from verivote.groups import get_group
    from verivote.proofs.range import RangeBatch

    group = get_group("ed25519")
    key = group.generator ** group.random_scalar()
    bad = group.decode_element_deferred(
        crypto_core_ed25519_add((group.generator**5).to_bytes(), TORSION8)
    )
    batch = RangeBatch(key)
    batch.betas[bad.to_bytes()] = (bad, 12345)
    with pytest.raises(InvalidElement, match="prime-order subgroup"):
        batch.verify()


@pytest.mark.parametrize(
    "encoding",
    [
        "01" + "00" * 30 + "80",  # the identity with its sign bit set
        "ec" + "ff" * 30 + "7f",  # the point of order 2, y = p - 1
        "ed" + "ff" * 30 + "7f",  # y = p: not canonical
        "ff" * 32,  # y >= p with the sign bit
    ],
)
def test_ballot_non_canonical_point(encoding):
    sim = opened("ed25519")
    body = copy.deepcopy(sim.prepare(0, LEADER).body)
    body["contests"][1]["selections"][0]["b"] = encoding
    err = rejected(sim, sim.credentials[0], "ballot", body)
    assert err.check == "ballot.decode"
