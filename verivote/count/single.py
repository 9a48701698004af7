"""Plurality and approval, computed from the same rankings as the transferable votes.

Plurality: each valid ballot is one vote for its first preference. Approval: each valid
ballot is one vote for every candidate it ranks (a ranking approves whom it lists). Either
way there is one stage; the ``seats`` candidates with the most votes are elected, highest
first. Candidates tied across the last seat (or on equal votes among the elected) are
ordered by lot, as there is no earlier stage (:mod:`verivote.count.ties`).
"""

from __future__ import annotations

from collections.abc import Callable

from verivote.count.profile import Profile, Ranking, standing_ballots
from verivote.count.report import SCALE, CountReport, Lot, Stage
from verivote.count.stv import seats_for
from verivote.count.ties import check_seed, rank


def plurality(profile: Profile, seats: int | None = None, seed: bytes = b"") -> CountReport:
    """First preferences; the ``seats`` (default: the profile's, else 1) highest win.
    Rejects seats < 1 (:class:`~verivote.errors.ParameterError`)."""
    return _single("plurality", profile, seats, seed, lambda ranking: ranking[:1])


def approval(profile: Profile, seats: int | None = None, seed: bytes = b"") -> CountReport:
    """Every ranked candidate approved; the ``seats`` (default: the profile's, else 1)
    most approved win. Rejects seats < 1 (:class:`~verivote.errors.ParameterError`)."""
    return _single("approval", profile, seats, seed, lambda ranking: ranking)


def _single(
    rule: str,
    profile: Profile,
    seats: int | None,
    seed: bytes,
    marks: Callable[[Ranking], Ranking],
) -> CountReport:
    check_seed(seed)
    seats = seats_for(profile, seats)
    ballots, invalid = standing_ballots(profile)
    n = len(profile.candidates)
    votes = [0] * n
    for ranking, weight in ballots:
        for c in marks(ranking):
            votes[c] += weight * SCALE
    standing = [c for c in range(n) if c not in profile.withdrawn]
    lots: list[Lot] = []
    history = [tuple(votes)]
    need = min(seats, len(standing))
    order = rank(
        standing,
        history,
        highest=True,
        need=need,
        names=profile.candidates,
        seed=seed,
        purpose="seat",
        lots=lots,
    )
    elected = tuple(order[:need])
    action = "first-preferences" if rule == "plurality" else "approvals"
    return CountReport(
        rule=rule,
        seats=seats,
        candidates=profile.candidates,
        withdrawn=tuple(sorted(profile.withdrawn)),
        valid_ballots=sum(weight for _, weight in ballots),
        invalid=tuple(sorted(invalid.items())),
        quota=None,
        elected=elected,
        elected_at_end=(),
        excluded=(),
        stages=(Stage(1, action, None, history[0], 0, 0, elected),),
        lots=tuple(lots),
        seed=seed,
    )
