"""check_ballots: many ballots' proofs in one batch, with check_ballot's exact outcomes."""

from __future__ import annotations

import copy

import pytest
from test_range_multi import false_b_proof

from verivote.demo import SimulatedElection
from verivote.election.ballot import check_ballot, selection_context
from verivote.election.ballot_batch import check_ballots
from verivote.elgamal import Ciphertext


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
