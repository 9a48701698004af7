"""Properties of the counts over random small profiles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from verivote.count import (
    SCALE,
    alternative_vote,
    approval,
    build_profile,
    plurality,
    scottish_stv,
)

NAMES = ["Ann", "Bob", "Cy", "Di", "Ed", "Flo"]


@st.composite
def profiles(draw):
    n = draw(st.integers(1, 6))
    rankings = st.permutations(range(n)).flatmap(
        lambda order: st.integers(1, n).map(lambda k: tuple(order[:k]))
    )
    ballots = draw(st.lists(st.tuples(rankings, st.integers(1, 4)), max_size=25))
    return n, ballots


def make(n, ballots):
    return build_profile(NAMES[:n], ballots)


SETTINGS = settings(max_examples=120, deadline=None)


@SETTINGS
@given(profiles(), st.integers(1, 6), st.binary(max_size=4))
def test_stv_conserves_votes_at_every_stage(drawn, seats, seed):
    n, ballots = drawn
    report = scottish_stv(make(n, ballots), seats=seats, seed=seed)
    valid = sum(w for _, w in ballots)
    assert report.valid_ballots == valid
    assert report.quota == (valid // (seats + 1) + 1) * SCALE
    previous_loss = 0
    for stage in report.stages:
        assert sum(stage.votes) + stage.non_transferable + stage.loss == valid * SCALE
        # truncation loses less than one unit per paper of the surplus moved
        assert (
            previous_loss
            <= stage.loss
            <= previous_loss + (valid if stage.action == "surplus" else 0)
        )
        previous_loss = stage.loss
    assert len(report.elected) == min(seats, n)
    assert len(set(report.elected)) == len(report.elected)
    assert not set(report.elected) & set(report.excluded)
    for stage in report.stages:
        for c in stage.elected:
            assert c in report.elected_at_end or stage.votes[c] >= report.quota


@SETTINGS
@given(profiles(), st.binary(max_size=4))
def test_av_winner_has_a_majority_of_continuing_votes(drawn, seed):
    n, ballots = drawn
    report = alternative_vote(make(n, ballots), seed=seed)
    last = report.stages[-1]
    (winner,) = report.elected
    assert sum(last.votes) + last.non_transferable == report.valid_ballots * SCALE
    if ballots:
        assert 2 * last.votes[winner] > sum(last.votes)
    # every earlier stage lacked a majority
    for stage in report.stages[:-1]:
        assert 2 * max(stage.votes) <= sum(stage.votes)
    # one-seat Scottish STV excludes in the same order and elects the same candidate
    stv = scottish_stv(make(n, ballots), seats=1, seed=seed)
    assert stv.elected == report.elected
    assert stv.excluded[: len(report.excluded)] == report.excluded


@settings(max_examples=60, deadline=None)
@given(profiles(), st.randoms(use_true_random=False), st.integers(1, 3))
def test_counts_do_not_depend_on_ballot_order_or_grouping(drawn, rnd, seats):
    n, ballots = drawn
    singles = [(r, 1) for r, w in ballots for _ in range(w)]
    rnd.shuffle(singles)
    for rule in (scottish_stv, plurality, approval):
        assert (
            rule(make(n, ballots), seats=seats).to_dict()
            == rule(make(n, singles), seats=seats).to_dict()
        )
    assert alternative_vote(make(n, ballots)) == alternative_vote(make(n, singles))


@SETTINGS
@given(profiles(), st.integers(1, 6))
def test_plurality_and_approval_elect_the_most_voted(drawn, seats):
    n, ballots = drawn
    for rule in (plurality, approval):
        report = rule(make(n, ballots), seats=seats)
        votes = report.stages[0].votes
        assert len(report.elected) == min(seats, n)
        losers = [c for c in range(n) if c not in report.elected]
        if losers:
            assert min(votes[c] for c in report.elected) >= max(votes[c] for c in losers)
