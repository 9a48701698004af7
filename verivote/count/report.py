"""The stage-by-stage report of a count, and its canonical dict / JSON form.

Every amount of votes is an ``int`` number of hundred-thousandths of a vote
(:data:`SCALE` units per vote): the Scottish rules work to five decimal places and
truncate, so integers in these units are exact and no float is ever involved.
:func:`votes_text` writes an amount as the 5-decimal string the JSON form uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.encoding import dumps

#: Units per vote: amounts are integers in hundred-thousandths.
SCALE = 100_000

RULE_NAMES = {
    "av": "alternative vote",
    "scottish-stv": "Scottish STV (SSI 2007/42)",
    "plurality": "plurality",
    "approval": "approval",
}


def votes_text(units: int) -> str:
    """``units`` hundred-thousandths as a decimal string with exactly 5 decimals
    (``191300000`` → ``"1913.00000"``); negative amounts keep their sign."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), SCALE)
    return f"{sign}{whole}.{frac:05d}"


@dataclass(frozen=True)
class Lot:
    """A lot drawn among candidates tied on every stage so far.

    ``stage`` is the completed stage at whose end the tie was found; ``purpose`` says what
    it decided (``exclusion``: who is excluded; ``surplus``: whose surplus goes first;
    ``seat``: who takes the last seats); ``tied`` lists the tied candidates by index;
    ``order`` is the drawn order (ascending digest, see
    :func:`verivote.count.ties.lot_digest`): its first candidate is the one drawn."""

    stage: int
    purpose: str
    tied: tuple[int, ...]
    order: tuple[int, ...]


@dataclass(frozen=True)
class Stage:
    """One stage of a count: what was done, and the position at its end.

    ``action`` is ``first-preferences`` (stage 1 of AV, STV and plurality),
    ``approvals`` (approval), ``surplus`` (the surplus of ``candidate`` transferred) or
    ``exclusion`` (``candidate`` excluded and its papers transferred). ``votes`` holds every
    candidate's votes in profile order (withdrawn ones 0); ``non_transferable`` and ``loss``
    are running totals: the value of papers with no further preference, and the value lost
    by truncating transfer values. ``elected`` lists the candidates declared elected at the
    end of this stage, in order of election."""

    number: int
    action: str
    candidate: int | None
    votes: tuple[int, ...]
    non_transferable: int
    loss: int
    elected: tuple[int, ...]


@dataclass(frozen=True)
class CountReport:
    """The whole count. ``elected`` is in order of election; ``elected_at_end`` are those
    declared elected because the continuing candidates no more than filled the seats left;
    ``excluded`` is in order of exclusion; ``quota`` is ``None`` for rules without one;
    ``invalid`` maps reason to number of ballots; ``seed`` is the seed of every lot."""

    rule: str
    seats: int
    candidates: tuple[str, ...]
    withdrawn: tuple[int, ...]
    valid_ballots: int
    invalid: tuple[tuple[str, int], ...]
    quota: int | None
    elected: tuple[int, ...]
    elected_at_end: tuple[int, ...]
    excluded: tuple[int, ...]
    stages: tuple[Stage, ...]
    lots: tuple[Lot, ...]
    seed: bytes

    def names(self, indexes: tuple[int, ...]) -> list[str]:
        """The names of the candidates ``indexes``."""
        return [self.candidates[i] for i in indexes]

    def final_votes(self) -> dict[str, str]:
        """Each elected candidate's votes at the end of the count, as 5-decimal strings."""
        last = self.stages[-1].votes
        return {self.candidates[c]: votes_text(last[c]) for c in self.elected}

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values; amounts of votes as 5-decimal strings. Keys:
        rule, seats, valid_ballots, invalid_ballots, quota, elected, elected_at_end,
        excluded, withdrawn, seed (hex), lots, stages (number, action, candidate, votes by
        name for every standing candidate, non_transferable, loss, elected)."""
        standing = [c for c in range(len(self.candidates)) if c not in self.withdrawn]
        name = self.candidates
        return {
            "rule": self.rule,
            "seats": self.seats,
            "valid_ballots": self.valid_ballots,
            "invalid_ballots": dict(self.invalid),
            "quota": None if self.quota is None else votes_text(self.quota),
            "elected": self.names(self.elected),
            "elected_at_end": self.names(self.elected_at_end),
            "excluded": self.names(self.excluded),
            "withdrawn": self.names(self.withdrawn),
            "seed": self.seed.hex(),
            "lots": [
                {
                    "stage": lot.stage,
                    "purpose": lot.purpose,
                    "tied": self.names(lot.tied),
                    "order": self.names(lot.order),
                }
                for lot in self.lots
            ],
            "stages": [
                {
                    "number": s.number,
                    "action": s.action,
                    "candidate": None if s.candidate is None else name[s.candidate],
                    "votes": {name[c]: votes_text(s.votes[c]) for c in standing},
                    "non_transferable": votes_text(s.non_transferable),
                    "loss": votes_text(s.loss),
                    "elected": self.names(s.elected),
                }
                for s in self.stages
            ],
        }

    def to_json(self) -> bytes:
        """The canonical JSON bytes of :meth:`to_dict` (sorted keys, no spaces, UTF-8)."""
        return dumps(self.to_dict())
