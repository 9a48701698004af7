"""Weighted results must not reveal votes: the breakdown rule counted ballots, but the
published counts are weighted and the roll links each credential to its category and
weight. With ten delegates of random weights up to 10^6 in one category and
``min_category_size`` 10, that category's weighted counts have one solution each and give
away every delegate's vote. Breakdown groups now need every weight class among their
counted ballots to hold none or at least ``min_category_size`` ballots."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote.demo import SimulatedElection, _parse
from verivote.election import breakdown as breakdown_mod
from verivote.election.roll import issue_credentials, issuer_bodies, roll_bodies
from verivote.election.tally import breakdown_groups
from verivote.errors import EntryRejected
from verivote.verify.record import verify_record
from verivote.verify.report import render

LEADERS = ("ashworth", "begum", "carver", "dlamini")


def _subset_solutions(weights: Sequence[int], target: int) -> list[int]:
    """Every subset (as a bit mask over ``weights``) whose weights add up to ``target``."""
    sums: dict[int, list[int]] = {0: [0]}
    for bit, w in enumerate(weights):
        grown = dict(sums)
        for total, masks in sums.items():
            if total + w <= target:
                grown.setdefault(total + w, []).extend(m | (1 << bit) for m in masks)
        sums = {s: m for s, m in grown.items() if len(m) <= 64}  # bound the search
        sums.update({s: m for s, m in grown.items() if len(m) > 64 and s == target})
    return sums.get(target, [])


def recovered_votes(
    sim: SimulatedElection, result: dict, ballots: dict[int, str]
) -> dict[int, str]:
    """The attack: for each published breakdown group smaller than the whole electorate,
    solve each candidate's weighted count for the subset of the group's voters (public:
    their credentials are on the board, their weights on the roll). Where one subset is
    the only solution, its voters chose that candidate."""
    leader = next(c for c in result["contests"] if c["id"] == "leader")
    found: dict[int, str] = {}
    for group in leader["groups"]:
        if set(group["categories"]) == set(sim.manifest.categories):
            continue  # the overall count: published whatever the rule
        voters = [v for v in ballots if sim.records[v].category in group["categories"]]
        if len(voters) > 20:
            continue
        weights = [sim.records[v].weight for v in voters]
        for cand, count in group["counts"].items():
            solutions = _subset_solutions(weights, count)
            if len(solutions) == 1:
                found.update({v: cand for bit, v in enumerate(voters) if solutions[0] >> bit & 1})
    return found


def weighted_election(seed: int) -> tuple[SimulatedElection, dict[int, str]]:
    """Ten delegates (``members``) and thirty supporters, every weight random in 1..10^6;
    everyone votes for a random leader."""
    sim = SimulatedElection(200, seed=seed)
    assert sim.manifest.min_category_size == 10
    sim.run_ceremony()
    rng = random.Random(seed)
    cats = ["members"] * 10 + ["affiliated"] * 15 + ["registered"] * 15
    electors = [(c, rng.randint(1, 10**6)) for c in cats]
    issued = issue_credentials(sim.manifest.fingerprint, electors)
    sim.credentials, sim.records = list(issued.credentials), issued.records
    for body in roll_bodies(issued.registrar):
        sim.board.post(sim.registrar, "roll", body)
    for body in issuer_bodies(issued.issuer):
        sim.board.post(sim.issuer, "issuer", body)
    sim.board.post(sim.organiser, "open", {"roll_size": len(sim.records)})
    sim.clock.jump(_parse(sim.manifest.opens))
    ballots = {}
    for voter in range(len(sim.records)):
        ballots[voter] = rng.choice(LEADERS)
        sim.cast(voter, {"leader": [ballots[voter]]})
    sim.close()
    return sim, ballots


def test_weighted_breakdown_reveals_no_vote():
    sim, ballots = weighted_election(seed=11)
    result = sim.count(present=[1, 2])
    assert recovered_votes(sim, result, ballots) == {}
    leader = result["contests"][0]
    assert [g["categories"] for g in leader["groups"]] == [list(sim.manifest.categories)]
    assert leader["groups"][0]["counts"] == leader["overall"]


def test_old_breakdown_recovers_every_delegates_vote():
    """The attack on the rule as it was (groups by ballot count alone): the delegates'
    group of ten ballots gives away all ten votes."""
    sim, ballots = weighted_election(seed=11)
    st = sim.board.state
    per_category = st.accumulator.counts if st.accumulator else {}
    old_groups = breakdown_groups(per_category, sim.manifest.categories, 10)
    assert old_groups == (("members",), ("affiliated",), ("registered",))
    counts = {}  # the weighted counts the old rule published, from the plaintext
    for cats in old_groups:
        counts[cats] = {
            c: sum(
                sim.records[v].weight
                for v, b in ballots.items()
                if b == c and sim.records[v].category in cats
            )
            for c in LEADERS
        }
    result = {
        "contests": [
            {
                "id": "leader",
                "groups": [{"categories": list(g), "counts": counts[g]} for g in old_groups],
            }
        ]
    }
    found = recovered_votes(sim, result, ballots)
    delegates = {v: ballots[v] for v in range(10)}
    assert {v: found[v] for v in delegates if v in found} == delegates


def test_tally_broken_down_by_ballot_count_alone_is_rejected(monkeypatch):
    """An organiser who posts the old, revealing breakdown: ``tally.recompute``."""
    sim, _ = weighted_election(seed=12)
    st = sim.board.state
    with monkeypatch.context() as patch:
        patch.setattr(breakdown_mod, "_publishable", lambda *args: True)
        revealing = st.expected_tally()
    assert len(revealing.groups) == 3
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.organiser, "tally", revealing.to_dict())
    assert info.value.check == "tally.recompute"


def test_weight_classes_merge_rule():
    """The rule by itself: a group is broken down only when every weight class among its
    ballots holds none or at least the minimum."""
    cats = ("a", "b", "c")
    uniform = {"a": {1: 12}, "b": {1: 10}, "c": {1: 30}}
    assert breakdown_groups({"a": 12, "b": 10, "c": 30}, cats, 10, uniform) == (
        ("a",),
        ("b",),
        ("c",),
    )
    mixed = {"a": {1: 10, 5: 10}, "b": {1: 9, 5: 1}, "c": {1: 30}}
    assert breakdown_groups({"a": 20, "b": 10, "c": 30}, cats, 10, mixed) == (
        ("a", "b"),
        ("c",),
    )
    lone = {"a": {1: 10}, "b": {1: 10}, "c": {1: 29, 7: 1}}
    assert breakdown_groups({"a": 10, "b": 10, "c": 30}, cats, 10, lone) == (("a", "b", "c"),)


def test_merge_rule_without_weights_is_unchanged():
    assert breakdown_groups({"a": 3, "b": 20, "c": 4}, ("a", "b", "c"), 5) == (
        ("a", "c"),
        ("b",),
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.integers(1, 4), st.integers(0, 12), max_size=3), min_size=1, max_size=6
    ),
    st.integers(1, 10),
)
def test_weighted_breakdown_property(classes, min_size):
    """Every published group (when there is more than one) has at least ``min_size``
    ballots and no weight class with between 1 and ``min_size - 1`` ballots."""
    cats = tuple(f"c{i}" for i in range(len(classes)))
    weight_classes = dict(zip(cats, classes, strict=True))
    counts = {c: sum(cls.values()) for c, cls in weight_classes.items()}
    groups = breakdown_groups(counts, cats, min_size, weight_classes)
    assert sorted(c for g in groups for c in g) == sorted(cats)
    if len(groups) > 1:
        for g in groups:
            assert sum(counts[c] for c in g) >= min_size
            merged: dict[int, int] = {}
            for c in g:
                for w, n in weight_classes[c].items():
                    merged[w] = merged.get(w, 0) + n
            assert all(n == 0 or n >= min_size for n in merged.values())


def test_report_notices_small_weight_classes(tmp_path):
    """The overall weighted result is published whatever the rule: the verifier's report
    says when small weight classes make it revealing."""
    sim, _ = weighted_election(seed=13)
    sim.count(present=[1, 2])
    sim.board.export(tmp_path)
    report = verify_record(tmp_path)
    assert report.valid
    assert len(report.notices) == 1 and "40 counted ballot(s)" in report.notices[0]
    assert report.to_dict()["notices"] == report.notices
    assert "notice" in render(report)
