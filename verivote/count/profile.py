"""The input of every count: a preference profile.

A :class:`Profile` is the candidates (names, in their fixed order), the valid ballots as
rankings of candidate indexes with integer weights (identical rankings grouped), the
invalid ballots as a count per reason, and the candidates withdrawn before the count.
It is what the cryptographic layer hands over after decrypting the mixed ballots, and what
:mod:`verivote.count.blt` reads from a BLT file.

A decoded ballot is a sequence of fields, one per rank: a candidate index (0-based) or
``None`` for "no preference". :func:`check_ranking` turns it into a ranking or says why it
is invalid; the reasons are the stable codes in :data:`REASONS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from verivote.errors import DecodeError, ParameterError

Ranking = tuple[int, ...]

EMPTY = "empty"
GAP = "gap"
REPEAT = "repeat"
OUT_OF_RANGE = "out-of-range"
ONLY_WITHDRAWN = "only-withdrawn"
#: Why a ballot is invalid: no preference at all; a preference after a "no preference";
#: a candidate ranked twice; a field that is not a candidate index; (while counting) every
#: preference is for a withdrawn candidate.
REASONS = (EMPTY, GAP, REPEAT, OUT_OF_RANGE, ONLY_WITHDRAWN)


class InvalidRanking(DecodeError):
    """A decoded ballot that is not a ranking; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def check_ranking(fields: Sequence[int | None], candidates: int) -> Ranking:
    """The ranking that ``fields`` (a candidate index or ``None`` per rank, first
    preference first) expresses.

    Trailing ``None`` fields are dropped. Raises :class:`InvalidRanking` when there is no
    preference at all (``empty``), a preference follows a ``None`` (``gap``), a candidate
    appears twice (``repeat``) or a field is not an ``int`` in ``0 .. candidates - 1``
    (``out-of-range``; ``bool`` is not an index). The first problem in rank order wins."""
    ranking: list[int] = []
    seen: set[int] = set()
    gap_at: int | None = None
    for rank, field in enumerate(fields, start=1):
        if field is None:
            if gap_at is None:
                gap_at = rank
            continue
        if isinstance(field, bool) or not isinstance(field, int):
            raise InvalidRanking(OUT_OF_RANGE, f"rank {rank} holds {field!r}, not an index")
        if not 0 <= field < candidates:
            raise InvalidRanking(
                OUT_OF_RANGE, f"rank {rank} names candidate {field} of {candidates}"
            )
        if gap_at is not None:
            raise InvalidRanking(GAP, f"rank {rank} follows no preference at rank {gap_at}")
        if field in seen:
            raise InvalidRanking(REPEAT, f"candidate {field} ranked twice (rank {rank})")
        seen.add(field)
        ranking.append(field)
    if not ranking:
        raise InvalidRanking(EMPTY, "no preference")
    return tuple(ranking)


@dataclass(frozen=True)
class Profile:
    """Candidates, grouped valid ballots, invalid ballots by reason, withdrawn candidates.

    Build one with :func:`build_profile` or :func:`profile_from_fields`, which validate;
    ``ballots`` is sorted by ranking with one entry per distinct ranking, ``invalid`` sorted
    by reason. ``seats`` is the number the source states (a BLT file), if any."""

    candidates: tuple[str, ...]
    ballots: tuple[tuple[Ranking, int], ...]
    invalid: tuple[tuple[str, int], ...] = ()
    withdrawn: frozenset[int] = frozenset()
    seats: int | None = None
    title: str = ""

    @property
    def valid_ballots(self) -> int:
        """The total weight of the valid ballots."""
        return sum(weight for _, weight in self.ballots)


def normalise_name(name: str) -> str:
    """A candidate's name with outer white space trimmed and inner runs collapsed to one
    space: the form in which names are compared and reported."""
    return " ".join(name.split())


def candidate_names(candidates: Sequence[str] | int) -> tuple[str, ...]:
    """Normalised names; an ``int`` n stands for candidates named ``"0"`` … ``"n-1"``.
    Rejects no candidates, an empty name and two names equal once normalised."""
    if isinstance(candidates, int):
        if isinstance(candidates, bool) or candidates < 1:
            raise ParameterError("there must be at least one candidate")
        return tuple(str(i) for i in range(candidates))
    names = tuple(normalise_name(n) for n in candidates)
    if not names:
        raise ParameterError("there must be at least one candidate")
    if any(not n for n in names):
        raise ParameterError("a candidate's name is empty")
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    if twice:
        raise ParameterError(f"candidate named twice: {twice[0]!r}")
    return names


def build_profile(
    candidates: Sequence[str] | int,
    ballots: Iterable[tuple[Sequence[int], int]],
    invalid: Mapping[str, int] | None = None,
    withdrawn: Iterable[int] = (),
    seats: int | None = None,
    title: str = "",
) -> Profile:
    """A :class:`Profile` from rankings with weights (identical rankings are merged).

    Every ranking must pass :func:`check_ranking` (else :class:`InvalidRanking`); weights
    and invalid counts must be positive ``int``; ``withdrawn`` must be indexes of
    candidates; ``seats`` (if given) at least 1 (else :class:`ParameterError`)."""
    names = candidate_names(candidates)
    grouped: Counter[Ranking] = Counter()
    for fields, weight in ballots:
        ranking = check_ranking(tuple(fields), len(names))
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ParameterError(f"ballot weight {weight!r} is not a positive integer")
        grouped[ranking] += weight
    bad: dict[str, int] = {}
    for reason, count in (invalid or {}).items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ParameterError(f"invalid ballot count {count!r} is not a natural number")
        if count:
            bad[str(reason)] = count
    out = frozenset(withdrawn)
    if any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < len(names) for c in out):
        raise ParameterError("a withdrawn candidate is not a candidate index")
    if seats is not None and (isinstance(seats, bool) or not isinstance(seats, int) or seats < 1):
        raise ParameterError(f"seats must be a positive integer, not {seats!r}")
    return Profile(
        candidates=names,
        ballots=tuple(sorted(grouped.items())),
        invalid=tuple(sorted(bad.items())),
        withdrawn=out,
        seats=seats,
        title=title,
    )


def profile_from_fields(
    candidates: Sequence[str] | int,
    decoded: Iterable[Sequence[int | None]],
    seats: int | None = None,
) -> Profile:
    """A :class:`Profile` from decoded ballots (one weight each): each passes
    :func:`check_ranking` or is counted invalid under its reason."""
    names = candidate_names(candidates)
    valid: Counter[Ranking] = Counter()
    invalid: Counter[str] = Counter()
    for fields in decoded:
        try:
            valid[check_ranking(fields, len(names))] += 1
        except InvalidRanking as exc:
            invalid[exc.reason] += 1
    return build_profile(names, valid.items(), invalid, seats=seats)


def standing_ballots(profile: Profile) -> tuple[list[tuple[Ranking, int]], dict[str, int]]:
    """The ballots as counted: withdrawn candidates struck from every ranking (identical
    results merged again) and ballots left with no preference moved to the invalid counts
    under ``only-withdrawn``. Returns (ballots sorted by ranking, invalid by reason)."""
    invalid = dict(profile.invalid)
    if not profile.withdrawn:
        return list(profile.ballots), invalid
    grouped: Counter[Ranking] = Counter()
    for ranking, weight in profile.ballots:
        kept = tuple(c for c in ranking if c not in profile.withdrawn)
        if kept:
            grouped[kept] += weight
        else:
            invalid[ONLY_WITHDRAWN] = invalid.get(ONLY_WITHDRAWN, 0) + weight
    return sorted(grouped.items()), dict(sorted(invalid.items()))
