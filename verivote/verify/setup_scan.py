"""The setup entries of a record, applied in the main process with the roll's signatures
checked ahead on the workers (for :mod:`verivote.verify.chunked`).

Everything before the first ballot of the voting phase goes through the rule book in the
main process, in order, as in :func:`~verivote.verify.record.verify_record`. Most of that
time is the roll: each elector's two halves carry a proof of possession (an Ed25519
signature) and their sum must be a valid key — about a third of a millisecond per elector,
which for a roll of hundreds of thousands of electors would be minutes of serial work
before the first chunk of ballots. So the ``roll`` and ``issuer`` lines are read a few
entries ahead of the rule book, their halves sent to the workers
(:func:`~verivote.election.roll.precheck_halves`, a state-free check of each half for the
slot it would take), and the answers given to the roll as
:class:`~verivote.election.roll.Prechecked` while it applies the entry. The roll still
applies every rule itself; it only skips a signature or a sum a worker found valid, and
checks anything else — every failure included — itself, so the report is the same.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import BinaryIO, Protocol

from verivote.election.entries import Entry, entry_from_line
from verivote.election.roll import Prechecked, RollItem
from verivote.election.state import VOTING, ElectionState
from verivote.errors import DecodeError
from verivote.verify.index import read_line
from verivote.verify.record import (
    BALLOT_SUFFIX,
    MAX_LINE,
    Failure,
    Report,
    _apply_line,
    _Lines,
)

ROLL_LINES = {
    b'"type":"roll"}': ("registrar", "credentials"),
    b'"type":"issuer"}': ("issuer", "halves"),
}
OTHER = {"registrar": "issuer", "issuer": "registrar"}

Answer = tuple[bytes, list[bytes]]


class RollPrechecker(Protocol):
    """Where roll halves are checked ahead: ``precheck`` queues one piece of work and
    returns a call that waits for its answer."""

    def precheck(self, fingerprint: bytes, items: Sequence[RollItem]) -> Callable[[], Answer]: ...

    def threads(self) -> int: ...


_Ahead = tuple[int, bytes, bool, Entry | None, list[tuple[list[RollItem], Callable[[], Answer]]]]


class _ReadAhead:
    """Lines of the record read ahead of the rule book; each roll or issuer line decoded
    once, its halves sent to be checked."""

    def __init__(self, handle: BinaryIO, checker: RollPrechecker | None) -> None:
        self.handle = handle
        self.checker = checker
        self.depth = 2 * checker.threads() + 1 if checker is not None else 1
        self.queue: deque[_Ahead] = deque()
        self.slots = {"registrar": bytearray(), "issuer": bytearray()}
        """Each role's halves by slot, 32 bytes each (zeros for one that does not decode)."""
        self.done = False

    def next(self, state: ElectionState) -> _Ahead | None:
        """The next line: ``(offset, line, long, entry, pieces)``, None at the end."""
        depth = self.depth if state.manifest is not None else 1
        while not self.done and len(self.queue) < depth:
            if self.queue and self.queue[-1][1].endswith(BALLOT_SUFFIX):
                break  # perhaps the first ballot: read no further
            offset = self.handle.tell()
            item = read_line(self.handle, MAX_LINE)
            if item is None:
                self.done = True
                break
            line, long = item
            self.queue.append(self._read(offset, line, long, state))
        return self.queue.popleft() if self.queue else None

    def _read(self, offset: int, line: bytes, long: bool, state: ElectionState) -> _Ahead:
        kind = None
        if not long and self.checker is not None:
            kind = next((k for end, k in ROLL_LINES.items() if line.endswith(end)), None)
        if kind is None or state.manifest is None:
            return offset, line, long, None, []
        try:
            entry = entry_from_line(line)
        except DecodeError:
            return offset, line, long, None, []
        role, field = kind
        objs = entry.body.get(field)
        items = self._items(role, objs if isinstance(objs, list) else [])
        assert self.checker is not None
        share = max(1, -(-len(items) // self.checker.threads()))
        fingerprint = state.manifest.fingerprint
        pieces = [items[at : at + share] for at in range(0, len(items), share)]
        queued = [(piece, self.checker.precheck(fingerprint, piece)) for piece in pieces]
        return offset, line, long, entry, queued

    def _items(self, role: str, objs: list[object]) -> list[RollItem]:
        """The halves to check, each for the slot it takes if every part before it is
        applied (a guess: a wrong one only means the roll checks that half itself)."""
        own, other = self.slots[role], self.slots[OTHER[role]]
        items: list[RollItem] = []
        for obj in objs:
            slot = len(own) // 32
            half = pop = b""
            if isinstance(obj, dict):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    half, pop = bytes.fromhex(obj["half"]), bytes.fromhex(obj["pop"])
            good = len(half) == 32 and len(pop) == 64
            own += half if good else bytes(32)
            if good:
                pair = bytes(other[32 * slot : 32 * slot + 32])  # b"" when not read yet
                items.append((role, slot, half, pop, pair))
        return items


def setup_scan(
    handle: BinaryIO,
    state: ElectionState,
    report: Report,
    lines: _Lines,
    checker: RollPrechecker | None = None,
) -> int:
    """Apply the entries before the first ballot of the voting phase, as the local
    verifier does (roll halves checked ahead by ``checker`` when given); returns that
    ballot's index (the number of entries if none)."""
    ahead = _ReadAhead(handle, checker)
    index = 0
    while True:
        item = ahead.next(state)
        if item is None:
            return index
        offset, line, long, entry, pieces = item
        if not long and line.endswith(BALLOT_SUFFIX) and state.phase == VOTING:
            return index
        lines.offsets.append(offset)
        if long:
            report.failures.append(
                Failure(index, "?", "entry.decode", f"line longer than {MAX_LINE} bytes")
            )
            state.skip()
        elif pieces and state.roll is not None:
            prechecked = Prechecked()
            for piece, answer in pieces:
                prechecked.add(piece, answer())
            state.roll.prechecked = prechecked
            try:
                _apply_line(state, index, line, report, entry)
            finally:
                state.roll.prechecked = None
        else:
            _apply_line(state, index, line, report, entry)
        index += 1
