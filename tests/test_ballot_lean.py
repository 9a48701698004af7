"""ballot_lean: the ristretto255 batch on raw encodings gives every body exactly the
outcome of check_ballot_one_by_one (value, or exception type and message), on random
mixes of honest ballots and ballots malformed or false in every way the path parses."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ballot_batch import false_equation, one_by_one, outcome

from verivote.demo import SimulatedElection
from verivote.election import ballot_lean
from verivote.election.ballot_batch import check_ballots
from verivote.election.checker import BallotChecker
from verivote.election.entries import sign_entry
from verivote.election.manifest import Candidate, Contest
from verivote.groups.ristretto255 import L

NON_SQUARE = "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371"


@pytest.fixture(scope="module")
def election():
    leader = Contest(
        "leader", "Leader", "plurality", tuple(Candidate(c, c) for c in ("al", "bo", "cy")), 1
    )
    council = Contest(
        "council", "Council", "approval", tuple(Candidate(c, c) for c in ("di", "ed", "fa")), 2
    )
    sim = SimulatedElection(4, "ristretto255", seed=5, contests=(leader, council))
    sim.run_ceremony()
    sim.publish_roll()
    choices = [
        {"leader": ["al"], "council": ["di", "ed"]},
        {"leader": ["bo"], "council": []},
        {"leader": [], "council": ["fa"]},
        {"leader": ["cy"], "council": ["ed", "fa"]},
    ]
    prepared = [sim.prepare(v, c) for v, c in enumerate(choices)]
    assert ballot_lean.supports(sim.manifest)
    return sim, prepared


def _set(path, value):
    def change(body):
        obj = body
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value(obj[path[-1]]) if callable(value) else value

    return change


def _delete(path):
    def change(body):
        obj = body
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]

    return change


SEL = ("contests", 1, "selections", 2, "a")
LIMIT = ("contests", 1, "limit_proof")
PROOF = ("contests", 0, "proofs", 1)
MUTATIONS = {
    "uppercase alpha": _set(SEL, str.upper),
    "uppercase scalar": _set((*PROOF, "c", 0), str.upper),
    "scalar L": _set((*LIMIT, "s", 1), format(L, "064x")),
    "scalar ff..": _set((*PROOF, "s", 0), "ff" * 32),
    "invalid alpha": _set(SEL, NON_SQUARE),
    "non-canonical beta": _set(("contests", 0, "selections", 0, "b"), "ff" * 32),
    "invalid b_j": _set((*LIMIT, "b", 2), NON_SQUARE),
    "identity a_j": _set((*PROOF, "a", 0), "00" * 32),
    "int point": _set((*PROOF, "a", 1), 7),
    "short hex": _set((*PROOF, "b", 0), lambda x: x[:62]),
    "misaligned hex": lambda b: (
        _set((*PROOF, "a", 0), lambda x: x + b["contests"][0]["proofs"][1]["a"][1][:2])(b),
        _set((*PROOF, "a", 1), lambda x: x[2:])(b),
    ),
    "space in hex": _set((*PROOF, "c", 1), lambda x: x[:2] + " " + x[3:]),
    "non-hex": _set((*PROOF, "c", 1), lambda x: "zz" + x[2:]),
    "missing s": _delete((*LIMIT, "s")),
    "extra key": _set(("contests", 0, "extra"), 1),
    "extra body key": _set(("extra",), "x"),
    "contest id": _set(("contests", 1, "id"), "leader"),
    "dict for list": _set((*PROOF, "c"), {"0": "00"}),
    "three selections short": _set(("contests", 0, "selections"), lambda x: x[:2]),
    "limit proof too long": _set((*LIMIT, "a"), lambda x: x + x[:1]),
    "credential upper": _set(("credential",), str.upper),
    "credential short": _set(("credential",), lambda x: x[:62]),
    "contests not a list": _set(("contests",), {}),
    "body a list": lambda b: b.clear(),
    "swapped a": _set((*LIMIT, "a"), lambda x: [x[1], x[0], *x[2:]]),
    "s + 1": _set((*PROOF, "s", 1), lambda x: format((int(x, 16) + 1) % L, "064x")),
}


def _variants(sim, prepared):
    out = [p.body for p in prepared]
    for change in MUTATIONS.values():
        body = copy.deepcopy(prepared[1].body)
        change(body)
        out.append(body)
    for which in ("a", "b"):  # one equation false: only the batch equation catches it
        out.append(false_equation(sim, prepared[2], 1, which))
    moved = copy.deepcopy(prepared[0].body)  # a selection from another ballot
    moved["contests"][0]["selections"][0] = prepared[3].body["contests"][0]["selections"][0]
    out.append(moved)
    return out


@pytest.fixture(scope="module")
def variants(election):
    sim, prepared = election
    bodies = _variants(sim, prepared)
    reference = one_by_one(sim, bodies)
    kinds = [r[0] for r in reference]
    assert kinds[: len(prepared)] == ["ok"] * len(prepared)
    # every mutation is refused (an identity a_j too: its challenge no longer matches)
    assert kinds[len(prepared) :] == ["error"] * (len(bodies) - len(prepared))
    return bodies, reference


def test_every_variant_alone_and_all_together(election, variants):
    sim, _ = election
    m, key = sim.manifest, sim.joint_key
    bctx = m.ballot_context(key)
    bodies, reference = variants
    together = check_ballots(m, key, bctx, bodies)
    assert [outcome(lambda r=r: _raise_or_return(r)) for r in together] == reference


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_mixes_agree_with_one_by_one(election, variants, data):
    sim, _ = election
    m, key = sim.manifest, sim.joint_key
    bctx = m.ballot_context(key)
    bodies, reference = variants
    picks = data.draw(st.lists(st.integers(0, len(bodies) - 1), min_size=1, max_size=12))
    batched = check_ballots(m, key, bctx, [bodies[i] for i in picks])
    assert [outcome(lambda r=r: _raise_or_return(r)) for r in batched] == [
        reference[i] for i in picks
    ]


def test_check_many_matches_check_and_tally_one_line_at_a_time(election, variants):
    """The checker's batch and its one-line path give the same results and partial tally,
    for signed lines of honest and tampered bodies."""
    sim, prepared = election
    m, key = sim.manifest, sim.joint_key
    bodies, _ = variants
    signers = [sim.credentials[i] for i in range(len(prepared))]
    by_key = {s.public_key.hex(): s for s in signers}
    roll = {s.public_key: (m.categories[0], 1 + i % 2) for i, s in enumerate(signers)}
    lines = []
    for body in bodies:
        named = body.get("credential") if isinstance(body, dict) else None
        signer = by_key.get(named, signers[0]) if isinstance(named, str) else signers[0]
        entry = sign_entry(signer, m.fingerprint, "ballot", body, "2026-01-01T00:00:01Z")
        lines.append(entry.to_line())
    batch = BallotChecker(m, key, roll)
    single = BallotChecker(m, key, roll)
    many = batch.check_many(list(enumerate(lines)))
    one = [single.check_and_tally(i, line) for i, line in enumerate(lines)]
    assert many == one
    assert batch.take_partial().finish() == single.take_partial().finish()


def _raise_or_return(value):
    if isinstance(value, Exception):
        raise value
    return value
