"""Observers: keep the board's signed tree heads and catch a board that shows different
logs to different people (a split view) or rewrites its history.

A :class:`Watcher` pins the election on first contact — the board's first entry, the
manifest signed by its organiser, gives the board key and the fingerprint — and keeps
every signed head it accepted in a JSON-lines state file (one head per size and root; the
first line is the pin). Each new head must be signed by the pinned key and consistent
with the largest head kept (RFC 9162 consistency proof, fetched from the board). Every
kept head is then a prefix of the largest one, so a new head consistent with it is
consistent with all of them.

Misbehaviour raises :class:`SplitViewError` carrying both heads:

* two validly signed heads of the same size with different roots — self-contained proof
  that the operator signed two different logs (``kind = "fork"``);
* two signed heads the board cannot prove consistent (``kind = "inconsistent"``): its
  later log does not extend the earlier one;
* two signed heads whose times run backwards, the longer log signed before the shorter
  (``kind = "time"``): the board re-timed its heads, or back-dated entries behind them.

Observers compare notes with :meth:`Watcher.exchange`, importing another observer's state
file (or a record's ``heads.jsonl``). A head not signed by the pinned key is refused
(InvalidSignature) without being kept: anyone can make one, so it proves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from verivote.board.heads import TreeHead
from verivote.board.merkle import leaf_hash, verify_consistency, verify_inclusion
from verivote.election.entries import entry_from_line
from verivote.election.manifest import Manifest
from verivote.encoding import dumps, from_hex, loads
from verivote.errors import (
    DecodeError,
    InvalidConsistency,
    InvalidInclusion,
    InvalidSignature,
    VerificationError,
    VerivoteError,
)

ProofSource = Callable[[int, int], Sequence[bytes]]
"""``(first, second) -> consistency proof`` from the board."""


class SplitViewError(VerificationError):
    """Proof (``fork``, ``time``) or strong evidence (``inconsistent``) that the board
    operator showed two different logs: ``first`` and ``second`` are the two signed heads
    (``time``: a larger log signed at an earlier time than a smaller one)."""

    def __init__(self, kind: str, first: TreeHead, second: TreeHead, detail: str) -> None:
        if kind == "fork":
            what = f"two signed heads of size {first.size} with different roots"
        elif kind == "time":
            what = (
                f"the signed head of size {second.size} at {second.time} is timed before "
                f"the signed head of size {first.size} at {first.time}"
            )
        else:
            what = (
                f"the signed head of size {second.size} does not extend the signed head "
                f"of size {first.size}"
            )
        super().__init__(f"split view: {what} ({detail})")
        self.kind, self.first, self.second = kind, first, second
        self.extra: dict[str, Any] = {}
        """Further evidence (an offline comparison's consistency proof)."""

    def evidence(self) -> dict[str, Any]:
        """JSON evidence to hand to other observers: both signed heads."""
        return {"split_view": self.kind, "heads": [self.first.to_dict(), self.second.to_dict()]}


@dataclass(frozen=True, slots=True)
class Pin:
    """What a watcher trusts from first contact: the election and its board key."""

    election_id: str
    fingerprint: bytes
    board_key: bytes

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the first line of the state file)."""
        return {
            "pin": {
                "election": self.election_id,
                "fingerprint": self.fingerprint.hex(),
                "board_key": self.board_key.hex(),
            }
        }

    @classmethod
    def from_dict(cls, obj: Any) -> Pin:
        """Strict decoding; raises DecodeError."""
        pin = obj.get("pin") if isinstance(obj, dict) and set(obj) == {"pin"} else None
        if not isinstance(pin, dict) or set(pin) != {"election", "fingerprint", "board_key"}:
            raise DecodeError("pin: expected election, fingerprint and board_key")
        return cls(
            str(pin["election"]),
            from_hex(pin["fingerprint"], 64, "pin fingerprint"),
            from_hex(pin["board_key"], 32, "pin board key"),
        )

    @classmethod
    def from_line(cls, line: bytes) -> Pin:
        """The pin of the election whose first entry is ``line``: the manifest, signed by
        the organiser key it names. Raises DecodeError or InvalidSignature."""
        entry = entry_from_line(line)
        if entry.type != "election":
            raise DecodeError(f"the first entry is a {entry.type} entry, not the manifest")
        manifest = Manifest.from_dict(entry.body)
        entry.verify(manifest.organiser_key, b"", "election signed by the organiser")
        return cls(manifest.election_id, manifest.fingerprint, manifest.board_key)


class Watcher:
    """An observer's memory of one board, kept in ``state_file`` (created on first
    :meth:`pin`). Not safe for two processes on one file."""

    def __init__(self, state_file: Path) -> None:
        self.path = state_file
        self.pinned: Pin | None = None
        self.heads: list[TreeHead] = []
        if state_file.exists():
            lines = [x for x in state_file.read_bytes().split(b"\n") if x.strip()]
            if lines:
                self.pinned = Pin.from_dict(loads(lines[0]))
                self.heads = [TreeHead.from_dict(loads(x)) for x in lines[1:]]

    @property
    def last(self) -> TreeHead | None:
        """The largest head kept (the earliest of that size)."""
        return max(self.heads, key=lambda h: h.size, default=None)

    def pin(
        self, first_line: bytes, head: TreeHead | None = None, proof: Sequence[bytes] = ()
    ) -> Pin:
        """Pin the election from the board's first entry on first contact (with ``head``
        and its inclusion ``proof`` of entry 0, check the entry is in the signed log);
        afterwards, check the board still shows the same election. Raises
        VerificationError (or DecodeError) otherwise."""
        pin = Pin.from_line(first_line)
        if self.pinned is not None:
            if pin != self.pinned:
                raise VerificationError(
                    f"the board's first entry is not the election pinned in {self.path}: "
                    f"{pin.election_id} {pin.fingerprint.hex()[:16]}… instead of "
                    f"{self.pinned.election_id} {self.pinned.fingerprint.hex()[:16]}…"
                )
            return pin
        if head is not None:
            self._check_signature(head, pin)
            verify_inclusion(leaf_hash(first_line), 0, head.size, proof, head.root)
        self.pinned = pin
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(dumps(pin.to_dict()) + b"\n")
        return pin

    def _check_signature(self, head: TreeHead, pin: Pin | None = None) -> None:
        pin = pin or self.pinned
        if pin is None:
            raise VerificationError("no election pinned yet: call pin() first")
        if head.election_id != pin.election_id:
            raise InvalidSignature(f"a tree head of election {head.election_id!r}")
        head.verify(pin.board_key, pin.fingerprint)

    def _keep(self, head: TreeHead) -> None:
        self.heads.append(head)
        with self.path.open("ab") as out:
            out.write(dumps(head.to_dict()) + b"\n")

    def proof_needed(self, head: TreeHead) -> tuple[int, int] | None:
        """The ``(first, second)`` sizes of the consistency proof :meth:`observe` needs for
        ``head`` (None when nothing is kept yet or the sizes are equal)."""
        last = self.last
        if last is None or last.size == head.size:
            return None
        return (min(last.size, head.size), max(last.size, head.size))

    def precheck(self, head: TreeHead) -> bool:
        """The checks that need no proof from the board: ``head`` is signed by the pinned
        key (else InvalidSignature), does not fork from a kept head (same size, another
        root) and is not timed the wrong way round against one (else SplitViewError).
        Returns False when it is kept already. Run before asking the board for a proof, so
        that a board that cannot give one (its log now shorter than a head it signed) is
        still caught by its own signatures."""
        self._check_signature(head)
        for kept in self.heads:
            if kept.size == head.size:
                if kept.root != head.root:
                    raise SplitViewError("fork", kept, head, "same size, different roots")
                return False
        for kept in self.heads:
            small, large = (kept, head) if kept.size < head.size else (head, kept)
            if large.time < small.time:
                raise SplitViewError("time", small, large, "a longer log signed earlier")
        return True

    def observe(self, head: TreeHead, proof: Sequence[bytes] = ()) -> bool:
        """Check a new signed head: signed by the pinned key, no fork with a kept head, and
        consistent with the largest kept head by ``proof`` (see :meth:`proof_needed`).
        Keeps it and returns True if its size and root are new. Raises InvalidSignature
        (not kept) or SplitViewError (also when a kept head of another size is timed the
        wrong way round: a larger head signed before a smaller one)."""
        if not self.precheck(head):
            return False
        last = self.last
        if last is not None:
            first, second = (last, head) if last.size < head.size else (head, last)
            try:
                verify_consistency(first.size, second.size, first.root, second.root, proof)
            except InvalidConsistency as exc:
                raise SplitViewError("inconsistent", first, second, str(exc)) from None
        self._keep(head)
        return True

    def exchange(self, other_file: Path, proofs: ProofSource | None = None) -> ExchangeResult:
        """Import the heads in ``other_file`` (another observer's state file or a record's
        ``heads.jsonl``; pin lines are skipped): each must be signed by our pinned key,
        must not fork from any head we keep, and — with ``proofs`` from the board — must be
        consistent with our largest head; such heads are kept. Without ``proofs`` a head
        of a new size cannot be checked and is counted as unchecked. Raises
        SplitViewError on the first misbehaviour found."""
        result = ExchangeResult()
        for raw in other_file.read_bytes().split(b"\n"):
            if not raw.strip():
                continue
            obj = loads(raw, canonical=False)
            if isinstance(obj, dict) and "pin" in obj:
                continue
            head = TreeHead.from_dict(obj)
            try:
                self._check_signature(head)
            except InvalidSignature:
                result.foreign += 1
                continue
            needed = self.proof_needed(head)
            same = [k for k in self.heads if k.size == head.size]
            if needed is not None and not same and proofs is None:
                result.unchecked += 1
                continue
            if not self.precheck(head):
                continue
            proof = proofs(*needed) if needed is not None and proofs is not None else ()
            result.imported += self.observe(head, proof)
        return result


@dataclass
class ExchangeResult:
    """What :meth:`Watcher.exchange` did with the other observer's heads."""

    imported: int = 0
    unchecked: int = 0
    foreign: int = 0


class BoardReader(Protocol):
    """What :func:`poll` needs from a board (a :class:`~verivote.board.client.BoardClient`)."""

    def manifest_line(self) -> bytes:
        """The board's first entry, as its record line."""
        ...

    def head(self) -> TreeHead:
        """A freshly signed head."""
        ...

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """An inclusion proof."""
        ...

    def consistency(self, first: int, second: int) -> list[bytes]:
        """A consistency proof."""
        ...


def poll(watcher: Watcher, board: BoardReader) -> tuple[TreeHead, bool]:
    """One round: pin (first contact) or re-check the election, fetch a fresh head and
    the consistency proof it needs, observe it. Returns the head and whether it was new.
    Raises SplitViewError, VerificationError, or the client's errors."""
    head = board.head()
    line = board.manifest_line()
    if watcher.pinned is None:
        try:
            watcher.pin(line, head, board.inclusion(0, head.size))
        except InvalidInclusion as exc:
            raise VerificationError(
                f"the manifest is not entry 0 of the signed log: {exc}"
            ) from None
    else:
        watcher.pin(line)
    if not watcher.precheck(head):
        return head, False
    needed = watcher.proof_needed(head)
    proof = board.consistency(*needed) if needed is not None else []
    return head, watcher.observe(head, proof)


def watch(
    watcher: Watcher,
    board: BoardReader,
    interval: float,
    say: Callable[[str], None],
    rounds: int | None = None,
) -> None:
    """Poll every ``interval`` seconds (``rounds`` times, or until interrupted), saying
    what each round found; errors reaching the board are said and retried, misbehaviour
    (SplitViewError, a changed manifest) is raised."""
    done = 0
    while rounds is None or done < rounds:
        try:
            head, new = poll(watcher, board)
            state = "new" if new else "seen"
            say(f"head of size {head.size} at {head.time}, root {head.root.hex()[:16]}… ({state})")
        except VerificationError:
            raise
        except (VerivoteError, OSError) as exc:  # the board unreachable: say so, go on
            say(f"cannot read the board: {exc}")
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
