"""The alternative vote: one seat; the candidate with the fewest votes is excluded, one at
a time, until a continuing candidate has a majority of the continuing votes.

As implemented: stage 1 credits each valid ballot to its first preference. After every
stage, if one continuing candidate has more than half the votes held by continuing
candidates (ballots with no continuing preference left are non-transferable and no longer
count towards the majority), or is the only one left, it is elected and the count stops.
Otherwise the continuing candidate with the fewest votes is excluded and its papers pass to
their next continuing preference — a stage. Ties for exclusion: the most recent earlier
stage at which the tied differed (fewest there is excluded), then a lot
(:mod:`verivote.count.ties`). Exactly two candidates on equal votes have no majority: one
of them is excluded by that rule, and the other elected.
"""

from __future__ import annotations

from verivote.count.profile import Profile, standing_ballots
from verivote.count.report import CountReport
from verivote.count.tally import Tally
from verivote.count.ties import check_seed
from verivote.errors import ParameterError


def alternative_vote(profile: Profile, seats: int | None = None, seed: bytes = b"") -> CountReport:
    """Count ``profile`` by the alternative vote. ``seats`` may only be ``None`` or 1 (the
    profile's own seat number is ignored: AV fills one seat).

    Guarantees: the winner holds a strict majority of the continuing votes at the last
    stage whenever there is a valid ballot; votes + non-transferable equal the valid
    ballots at every stage; every lot drawn is in the report. Rejects seats other than 1
    (:class:`~verivote.errors.ParameterError`) and a profile with no standing candidate."""
    if seats is not None and seats != 1:
        raise ParameterError(f"the alternative vote fills one seat, not {seats}")
    check_seed(seed)
    ballots, invalid = standing_ballots(profile)
    t = Tally(profile.candidates, profile.withdrawn, ballots, seed)
    if not t.hopefuls():
        raise ParameterError("every candidate is withdrawn")
    t.record("first-preferences", None)
    excluded: list[int] = []
    while True:
        hopefuls = t.hopefuls()
        continuing = sum(t.votes[c] for c in hopefuls)
        leader = max(hopefuls, key=lambda c: t.votes[c])
        if len(hopefuls) == 1 or 2 * t.votes[leader] > continuing:
            t.declare([leader])
            break
        (c,) = t.order(hopefuls, False, 1, "exclusion")[:1]
        t.continuing[c] = False
        excluded.append(c)
        _, lost = t.transfer(c, _unchanged)
        t.votes[c] = 0
        t.non_transferable += lost
        t.record("exclusion", c)
    return CountReport(
        rule="av",
        seats=1,
        candidates=profile.candidates,
        withdrawn=tuple(sorted(profile.withdrawn)),
        valid_ballots=sum(weight for _, weight in ballots),
        invalid=tuple(sorted(invalid.items())),
        quota=None,
        elected=(leader,),
        elected_at_end=(),
        excluded=tuple(excluded),
        stages=t.stages(),
        lots=tuple(t.lots),
        seed=seed,
    )


def _unchanged(value: int) -> int:
    return value
