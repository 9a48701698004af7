"""The papers of a transferable-vote count, shared by the alternative vote and STV.

Papers are held in parcels: identical rankings at the same position and the same value
form one parcel with a paper count, so a ward of ten thousand ballots is a few thousand
parcels and each transfer touches each parcel once. Values are integers in
hundred-thousandths (:data:`verivote.count.report.SCALE`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from verivote.count.profile import Ranking
from verivote.count.report import SCALE, Lot, Stage
from verivote.count.ties import rank

# (ranking, position of the holder in it, value of each paper) -> number of papers
Parcels = dict[tuple[Ranking, int, int], int]


class Tally:
    """Who holds which papers, the votes, the running totals and the stages so far."""

    def __init__(
        self,
        names: Sequence[str],
        withdrawn: frozenset[int],
        ballots: Sequence[tuple[Ranking, int]],
        seed: bytes,
    ) -> None:
        n = len(names)
        self.names = tuple(names)
        self.seed = seed
        self.continuing = [c not in withdrawn for c in range(n)]
        self.votes = [0] * n
        self.papers: list[Parcels] = [{} for _ in range(n)]
        self.non_transferable = 0
        self.loss = 0
        self.history: list[tuple[int, ...]] = []
        self.actions: list[tuple[str, int | None]] = []
        self.totals: list[tuple[int, int]] = []
        self.elected_at: list[list[int]] = []
        self.lots: list[Lot] = []
        for ranking, weight in ballots:
            first = ranking[0]
            key = (ranking, 0, SCALE)
            self.papers[first][key] = self.papers[first].get(key, 0) + weight
            self.votes[first] += weight * SCALE

    def hopefuls(self) -> list[int]:
        """Continuing candidates (neither elected nor excluded nor withdrawn), by index."""
        return [c for c, on in enumerate(self.continuing) if on]

    def record(self, action: str, candidate: int | None) -> None:
        """Close a stage: remember the votes at its end."""
        self.history.append(tuple(self.votes))
        self.actions.append((action, candidate))
        self.totals.append((self.non_transferable, self.loss))
        self.elected_at.append([])

    def declare(self, elected: Sequence[int]) -> None:
        """Mark ``elected`` elected at the end of the last stage (no longer continuing)."""
        for c in elected:
            self.continuing[c] = False
        self.elected_at[-1] += elected

    def order(self, candidates: Sequence[int], highest: bool, need: int, purpose: str) -> list[int]:
        """``candidates`` ordered by votes now, ties by earlier stages then by lot
        (:func:`verivote.count.ties.rank`)."""
        return rank(
            candidates,
            self.history,
            highest=highest,
            need=need,
            names=self.names,
            seed=self.seed,
            purpose=purpose,
            lots=self.lots,
        )

    def transfer(self, holder: int, value: Callable[[int], int]) -> tuple[int, int]:
        """Move every paper ``holder`` has to the next continuing candidate on it, each at
        ``value(its value now)``; papers with no continuing preference left become
        non-transferable at that value. The holder keeps no papers. Returns (value
        transferred to candidates, value become non-transferable); the caller books both."""
        parcels, self.papers[holder] = self.papers[holder], {}
        moved = lost = 0
        continuing = self.continuing
        for (ranking, position, old), count in parcels.items():
            new = value(old)
            amount = count * new
            for nxt in range(position + 1, len(ranking)):
                to = ranking[nxt]
                if continuing[to]:
                    key = (ranking, nxt, new)
                    target = self.papers[to]
                    target[key] = target.get(key, 0) + count
                    self.votes[to] += amount
                    moved += amount
                    break
            else:
                lost += amount
        return moved, lost

    def stages(self) -> tuple[Stage, ...]:
        """The stages recorded so far."""
        return tuple(
            Stage(i + 1, action, candidate, votes, nt, loss, tuple(elected))
            for i, (votes, (action, candidate), (nt, loss), elected) in enumerate(
                zip(self.history, self.actions, self.totals, self.elected_at, strict=True)
            )
        )
