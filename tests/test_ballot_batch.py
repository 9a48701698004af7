"""check_ballots: many ballots' proofs in one batch, with check_ballot's exact outcomes."""

from __future__ import annotations

import copy

import pytest
from test_range_multi import false_b_proof

from verivote.demo import SimulatedElection
from verivote.election.ballot import check_ballot, selection_context
from verivote.election.ballot_batch import check_ballots
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, InvalidProof, ParameterError
from verivote.proofs.range import RangeProof
from verivote.proofs.range_committed import commitments_a


def outcome(fn):
    try:
        credential, selections = fn()
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", credential, [[ct.to_dict() for ct in cts] for cts in selections])


@pytest.fixture(scope="module", params=["ristretto255", "ed25519"])
def election(request):
    sim = SimulatedElection(4, request.param, seed=3)
    sim.run_ceremony()
    sim.publish_roll()
    m = sim.manifest
    contest = m.contests[0]
    prepared = []
    for voter in range(4):
        choice = {contest.id: [contest.candidates[voter % len(contest.candidates)].id]}
        prepared.append(sim.prepare(voter, choice))
    return sim, prepared


def test_same_outcomes_as_check_ballot(election):
    sim, prepared = election
    m, key = sim.manifest, sim.joint_key
    bctx = m.ballot_context(key)
    group = m.group
    bodies = [p.body for p in prepared]

    # 1: a selection proof whose challenge holds but whose b-equation is false
    false_b = copy.deepcopy(prepared[1].body)
    credential = bytes.fromhex(false_b["credential"])
    sel = Ciphertext.from_dict(group, false_b["contests"][0]["selections"][1])
    vote, nonce = prepared[1].votes[0][1], prepared[1].nonces[0][1]
    ctx = selection_context(bctx, credential, 0, 1)
    _, proof = false_b_proof(group, key, vote, 1, ctx, ct=sel, nonce=nonce)
    false_b["contests"][0]["proofs"][1] = proof.to_dict()
    # 2: a proof with a changed commitment (the challenge check fails at once)
    changed = copy.deepcopy(prepared[2].body)
    changed["contests"][0]["proofs"][0]["b"][0] = (group.generator**5).hex()
    # 3: malformed
    malformed = copy.deepcopy(prepared[3].body)
    del malformed["contests"][0]["limit_proof"]
    bodies += [false_b, changed, malformed, bodies[0]]

    batched = check_ballots(m, key, bctx, bodies)
    assert len(batched) == len(bodies)
    for body, got in zip(bodies, batched, strict=True):
        expected = outcome(lambda body=body: check_ballot(m, key, bctx, body))
        assert outcome(lambda got=got: _raise_or_return(got)) == expected
    kinds = [outcome(lambda got=got: _raise_or_return(got))[0] for got in batched]
    assert kinds == ["ok"] * 4 + ["error"] * 3 + ["ok"]
    assert "b_j is not h^s_j" in str(batched[4])


def _raise_or_return(value):
    if isinstance(value, Exception):
        raise value
    return value


def committed_body(group, body):
    """``body`` with every range proof in commitment form (its a_j added)."""
    out = copy.deepcopy(body)
    for contest in out["contests"]:
        cts = [Ciphertext.from_dict(group, s) for s in contest["selections"]]
        for ct, proof in zip(cts, contest["proofs"], strict=True):
            proof["a"] = [a.hex() for a in commitments_a(ct, RangeProof.from_dict(group, proof, 1))]
        total = cts[0]
        for ct in cts[1:]:
            total = total * ct
        lp = contest["limit_proof"]
        limit = len(lp["c"]) - 1
        lp["a"] = [a.hex() for a in commitments_a(total, RangeProof.from_dict(group, lp, limit))]
    return out


def test_commitment_form_ballots(election):
    sim, prepared = election
    m, key = sim.manifest, sim.joint_key
    bctx = m.ballot_context(key)
    group = m.group
    if group.name != "ristretto255":
        with pytest.raises(ParameterError):
            check_ballots(m, key, bctx, [], committed=True)
        return
    bodies = [committed_body(group, p.body) for p in prepared]
    bad = copy.deepcopy(bodies[2])
    a = bad["contests"][0]["proofs"][1]["a"]
    a[0], a[1] = a[1], a[0]  # the challenge no longer matches
    plain = [p.body for p in prepared]
    results = check_ballots(m, key, bctx, [*bodies, bad], committed=True)
    for got, body in zip(results[:4], plain, strict=True):
        expected = check_ballot(m, key, bctx, body)
        assert got[0] == expected[0] and got[1] == expected[1]
    assert isinstance(results[4], InvalidProof)
    cid, cand = m.contests[0].id, m.contests[0].candidates[1].id
    assert str(results[4]).startswith(f"contest {cid}, candidate {cand}: range: the challenges")
    # a plain ballot where commitment form is required is a decoding error
    assert isinstance(check_ballots(m, key, bctx, plain[:1], committed=True)[0], DecodeError)
