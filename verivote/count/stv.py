"""Scottish STV: The Scottish Local Government Elections Order 2007 (SSI 2007/42), rules 45–52.

The count, as implemented (``docs/counting.md`` says the same for auditors):

1. Stage 1 credits each valid ballot, at value 1, to its first preference. Quota =
   floor(valid / (seats + 1)) + 1.
2. After every stage, in this order:
   a. if the continuing candidates are no more than the seats left, they are all elected
      ("at the end") and the count stops — so when an exclusion leaves as many continuing
      candidates as seats, that exclusion's papers have been transferred first;
   b. every continuing candidate with votes ≥ quota is elected, highest votes first; the
      count stops when the seats are filled;
   c. else, if an elected candidate has an untransferred surplus (votes > quota), the
      largest surplus is transferred — a stage;
   d. else the continuing candidate with the fewest votes is excluded — a stage.
3. Surplus (weighted inclusive Gregory): every paper the candidate holds moves to its next
   continuing preference at value trunc5(surplus × its value / the candidate's votes);
   transferred votes are papers × that value (exact at 5 decimals); papers with no
   continuing preference become non-transferable at that value; the candidate keeps the
   quota, and what truncation lost is booked as ``loss``.
4. Exclusion: every paper the candidate holds moves, in one stage, at its current value.
5. Ties (equal surplus, equal fewest votes, equal votes on election): the most recent
   earlier stage at which the tied differed, then a lot (:mod:`verivote.count.ties`).
"""

from __future__ import annotations

from collections.abc import Callable

from verivote.count.profile import Profile, standing_ballots
from verivote.count.report import SCALE, CountReport
from verivote.count.tally import Tally
from verivote.count.ties import check_seed
from verivote.errors import ParameterError


def seats_for(profile: Profile, seats: int | None) -> int:
    """``seats`` if given, else the profile's, else 1; rejects a number below 1."""
    chosen = seats if seats is not None else (profile.seats or 1)
    if isinstance(chosen, bool) or not isinstance(chosen, int) or chosen < 1:
        raise ParameterError(f"seats must be a positive integer, not {chosen!r}")
    return chosen


def _gregory(surplus: int, total: int) -> Callable[[int], int]:
    """The transfer value of a paper of value ``v``: trunc5(surplus × v / total), all in
    hundred-thousandths (so the truncation is integer floor division)."""
    return lambda value: surplus * value // total


def _unchanged(value: int) -> int:
    return value


def scottish_stv(profile: Profile, seats: int | None = None, seed: bytes = b"") -> CountReport:
    """Count ``profile`` by Scottish STV for ``seats`` seats (default: the profile's).

    Guarantees: exact arithmetic in hundred-thousandths; at every stage the candidates'
    votes + non-transferable + loss equal the valid ballots; min(seats, standing
    candidates) are elected; every lot drawn is in the report, reproducible from ``seed``.
    Rejects seats < 1 (:class:`~verivote.errors.ParameterError`)."""
    check_seed(seed)
    seats = seats_for(profile, seats)
    ballots, invalid = standing_ballots(profile)
    valid = sum(weight for _, weight in ballots)
    quota = (valid // (seats + 1) + 1) * SCALE
    t = Tally(profile.candidates, profile.withdrawn, ballots, seed)
    t.record("first-preferences", None)
    elected: list[int] = []
    at_end: list[int] = []
    excluded: list[int] = []
    pending: list[int] = []  # elected, surplus not yet transferred
    while True:
        hopefuls = t.hopefuls()
        left = seats - len(elected)
        if len(hopefuls) <= left:
            at_end = t.order(hopefuls, True, 0, "election order")
            t.declare(at_end)
            elected += at_end
            break
        reached = [c for c in hopefuls if t.votes[c] >= quota]
        if reached:
            group = t.order(reached, True, left, "seat")[:left]
            t.declare(group)
            elected += group
            pending += group
            if len(elected) == seats:
                break
            continue
        surpluses = [c for c in pending if t.votes[c] > quota]
        if surpluses:
            (c,) = t.order(surpluses, True, 1, "surplus")[:1]
            pending.remove(c)
            total = t.votes[c]
            surplus = total - quota
            moved, lost = t.transfer(c, _gregory(surplus, total))
            t.votes[c] = quota
            t.non_transferable += lost
            t.loss += surplus - moved - lost
            t.record("surplus", c)
            continue
        (c,) = t.order(hopefuls, False, 1, "exclusion")[:1]
        t.continuing[c] = False
        excluded.append(c)
        moved, lost = t.transfer(c, _unchanged)
        if moved + lost != t.votes[c]:  # pragma: no cover - the papers are the votes
            raise AssertionError("an excluded candidate's papers do not add up to the votes")
        t.votes[c] = 0
        t.non_transferable += lost
        t.record("exclusion", c)
    return CountReport(
        rule="scottish-stv",
        seats=seats,
        candidates=profile.candidates,
        withdrawn=tuple(sorted(profile.withdrawn)),
        valid_ballots=valid,
        invalid=tuple(sorted(invalid.items())),
        quota=quota,
        elected=tuple(elected),
        elected_at_end=tuple(at_end),
        excluded=tuple(excluded),
        stages=t.stages(),
        lots=tuple(t.lots),
        seed=seed,
    )
