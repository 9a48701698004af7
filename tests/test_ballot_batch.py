"""check_ballots: many ballots' proofs in one batch, with check_ballot's exact outcomes."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_range_multi import false_b_proof, false_proof

from verivote.demo import SimulatedElection
from verivote.election.ballot import check_ballot, check_ballot_one_by_one, selection_context
from verivote.election.ballot_batch import check_ballots
from verivote.elgamal import Ciphertext


def outcome(fn):
    try:
        credential, selections = fn()
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", credential, [[ct.to_dict() for ct in cts] for cts in selections])


@pytest.fixture(scope="module", params=["ristretto255", "ed25519", "modp4096"])
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
        expected = outcome(lambda body=body: check_ballot_one_by_one(m, key, bctx, body))
        assert outcome(lambda body=body: check_ballot(m, key, bctx, body)) == expected
        assert outcome(lambda got=got: _raise_or_return(got)) == expected
    kinds = [outcome(lambda got=got: _raise_or_return(got))[0] for got in batched]
    assert kinds == ["ok"] * 4 + ["error"] * 3 + ["ok"]
    assert "b_j is not h^s_j" in str(batched[4])


def _raise_or_return(value):
    if isinstance(value, Exception):
        raise value
    return value


def one_by_one(sim, bodies):
    """Each body's outcome checked alone (``check_ballot_one_by_one``): the reference every
    batched path must reproduce."""
    m, key = sim.manifest, sim.joint_key
    bctx = m.ballot_context(key)
    return [outcome(lambda b=b: check_ballot_one_by_one(m, key, bctx, b)) for b in bodies]


def false_equation(sim, prepared, contest, which):
    """A copy of the ``prepared`` ballot's body whose first selection proof in ``contest``
    has its ``which`` equation ("a" or "b") false, its challenge still right: only the
    proof's equations (or the batch equation) catch it."""
    m, key = sim.manifest, sim.joint_key
    group = m.group
    body = copy.deepcopy(prepared.body)
    credential = bytes.fromhex(body["credential"])
    sel = Ciphertext.from_dict(group, body["contests"][contest]["selections"][0])
    vote, nonce = prepared.votes[contest][0], prepared.nonces[contest][0]
    ctx = selection_context(m.ballot_context(key), credential, contest, 0)
    _, proof = false_proof(group, key, vote, 1, ctx, ct=sel, nonce=nonce, which=which)
    body["contests"][contest]["proofs"][0] = proof.to_dict()
    return body


def _variants(sim, prepared):
    """Ballot bodies, honest and false in every way the proofs can be: the pool the
    property test draws its batches from."""
    group = sim.manifest.group
    out = [p.body for p in prepared]
    for which in ("a", "b"):  # an equation false, only the equations catch it
        out.append(false_equation(sim, prepared[1], 0, which))
    swapped = copy.deepcopy(prepared[2].body)  # the challenge no longer matches
    a = swapped["contests"][0]["limit_proof"]["a"]
    a[0], a[1] = a[1], a[0]
    out.append(swapped)
    flipped = copy.deepcopy(prepared[3].body)
    s = flipped["contests"][0]["proofs"][1]["s"]
    s[1] = (group.decode_scalar(bytes.fromhex(s[1])) + group.scalar(1)).hex()
    out.append(flipped)
    no_a = copy.deepcopy(prepared[0].body)
    del no_a["contests"][0]["proofs"][2]["a"]
    out.append(no_a)
    not_canonical = copy.deepcopy(prepared[0].body)
    not_canonical["contests"][0]["limit_proof"]["a"][0] = "ff" * group.element_size
    out.append(not_canonical)
    return out


@pytest.fixture(scope="module")
def variants(election):
    sim, prepared = election
    bodies = _variants(sim, prepared)
    reference = one_by_one(sim, bodies)
    assert [r[0] for r in reference] == ["ok"] * len(prepared) + ["error"] * 6
    return bodies, reference


def test_false_a_and_b_equations_are_named(election, variants):
    sim, _ = election
    _, reference = variants
    cid = sim.manifest.contests[0].id
    cand = sim.manifest.contests[0].candidates[0].id
    where = f"contest {cid}, candidate {cand}: range: branch 1: "
    assert reference[4][1:] == ("InvalidProof", where + "a_j is not g^s_j · α^-c_j")
    assert reference[5][1:] == ("InvalidProof", where + "b_j is not h^s_j · (β/g^j)^-c_j")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_batched_and_one_by_one_verdicts_agree(election, variants, data):
    """Random mixes of valid and invalid ballots: check_ballots (one random linear
    combination, bisected) and check_ballot (a batch of one) give each ballot exactly the
    verdict and message of checking it proof by proof."""
    sim, _ = election
    m, key = sim.manifest, sim.joint_key
    bctx = m.ballot_context(key)
    bodies, reference = variants
    picks = data.draw(st.lists(st.integers(0, len(bodies) - 1), min_size=1, max_size=10))
    batched = check_ballots(m, key, bctx, [bodies[i] for i in picks])
    got = [outcome(lambda r=r: _raise_or_return(r)) for r in batched]
    assert got == [reference[i] for i in picks]
    i = data.draw(st.sampled_from(picks))
    assert outcome(lambda: check_ballot(m, key, bctx, bodies[i])) == reference[i]
