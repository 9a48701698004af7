"""Observers offline: compare two copies of a board's signed heads and find a fork.

Each side is a published record directory (``board.jsonl`` and ``heads.jsonl``), a
record's ``heads.jsonl`` alone, or an observer's ``verivote watch`` state file. The
election is pinned from a side that carries it — a record's first entry (the manifest
signed by its organiser) or a state file's pin line — or, for two bare ``heads.jsonl``
files, from a third such file given apart; all the pins given must agree. Every
head of both sides must be signed by the pinned board key (others are counted as foreign
and ignored: anyone can make one).

:func:`compare_heads` raises :class:`~verivote.board.watch.SplitViewError` with two
signed heads that cannot both be honest, checking in this order:

1. ``fork`` — two heads of the same size with different roots;
2. ``inconsistent`` — a head whose size a record's entries cover (under one of that
   record's own signed heads) while the root of that many entries of the record is not the
   head's root. The evidence carries the record's RFC 9162 consistency proof from the
   smaller head to the larger and the root the record's prefix really has, so a third
   party can check it without the entries;
3. ``time`` — a head of a larger size signed at an earlier time than a head of a smaller
   size: a head says how many entries the log had when it was signed, and an append-only
   log never has fewer later.

Without entries on either side, heads of different sizes cannot be checked for
consistency and are counted as unchecked. Reads files only: no network, no board.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verivote.board.heads import TreeHead
from verivote.board.merkle import MerkleTree, leaf_hash, verify_consistency
from verivote.board.watch import Pin, SplitViewError
from verivote.encoding import loads
from verivote.errors import DecodeError, InvalidConsistency, InvalidSignature, VerificationError

RECORD_FILE = "board.jsonl"
HEADS_FILE = "heads.jsonl"


@dataclass
class Side:
    """One side of a comparison: its heads, its pin if it carries one, and — for a record
    directory — the Merkle tree of its entries."""

    name: str
    heads: list[TreeHead]
    pin: Pin | None = None
    tree: MerkleTree | None = None


@dataclass
class Comparison:
    """What :func:`compare_heads` found when there is no fork."""

    pin: Pin
    heads: tuple[int, int] = (0, 0)
    """Heads signed by the pinned key on each side."""
    foreign: int = 0
    """Heads not signed by the pinned key (ignored)."""
    checked: int = 0
    """Heads of one side checked against the other's entries or a head of equal size."""
    unchecked: int = 0
    """Heads of a size the other side neither shows nor has the entries for."""
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """The verdict in plain words."""
        return (
            f"no fork: {self.heads[0]} and {self.heads[1]} signed heads compared, "
            f"{self.checked} checked against the other side, {self.unchecked} of sizes "
            f"only one side shows (unchecked without its entries), {self.foreign} not "
            "signed by the election's board key (ignored)"
        )


def _heads(lines: list[bytes], name: str) -> tuple[Pin | None, list[TreeHead]]:
    pin: Pin | None = None
    heads: list[TreeHead] = []
    for number, raw in enumerate(lines, start=1):
        try:
            obj = loads(raw, canonical=False)
            if isinstance(obj, dict) and "pin" in obj:
                pin = Pin.from_dict(obj)
            else:
                heads.append(TreeHead.from_dict(obj))
        except DecodeError as exc:
            raise DecodeError(f"{name}, line {number}: {exc}") from None
    return pin, heads


def _lines(path: Path) -> list[bytes]:
    return [x for x in path.read_bytes().split(b"\n") if x.strip()]


def load_side(path: Path) -> Side:
    """Read a record directory, a ``heads.jsonl`` or a watch state file. Raises OSError
    if it cannot be read, DecodeError (or InvalidSignature) if it is not one of these."""
    if path.is_dir():
        entries = _lines(path / RECORD_FILE)
        _, heads = _heads(_lines(path / HEADS_FILE), str(path / HEADS_FILE))
        if not entries:
            raise DecodeError(f"{path / RECORD_FILE} is empty")
        tree = MerkleTree()
        for line in entries:
            tree.append(leaf_hash(line))
        return Side(str(path), heads, Pin.from_line(entries[0]), tree)
    pin, heads = _heads(_lines(path), str(path))
    return Side(str(path), heads, pin)


def _signed(side: Side, pin: Pin, result: Comparison) -> list[TreeHead]:
    good = []
    for head in side.heads:
        try:
            if head.election_id != pin.election_id:
                raise InvalidSignature("another election")
            head.verify(pin.board_key, pin.fingerprint)
        except InvalidSignature:
            result.foreign += 1
            continue
        good.append(head)
    return good


def _covering(tree: MerkleTree, own: list[TreeHead], size: int) -> TreeHead | None:
    """The smallest of a record's own heads that covers ``size`` entries and whose root is
    the root of the record's entries (so the record's tree is that head's log)."""
    best = None
    for head in own:
        fits = size <= head.size <= len(tree) and (best is None or head.size < best.size)
        if fits and tree.root(head.size) == head.root:
            best = head
    return best


def compare_heads(a: Side, b: Side, election: Pin | None = None) -> Comparison:
    """Compare the signed heads of ``a`` and ``b`` (see the module docstring for the
    order of the checks); ``election`` pins the election when neither side does (two bare
    ``heads.jsonl`` files). Returns what was compared when nothing contradicts; raises
    SplitViewError with the evidence, or VerificationError when nothing names the
    election or two pins differ."""
    pins = [(side.name, side.pin) for side in (a, b) if side.pin is not None]
    if election is not None:
        pins.append(("the election given", election))
    for name, other in pins[1:]:
        if other != pins[0][1]:
            raise VerificationError(
                f"{pins[0][0]} and {name} are of different elections "
                f"({pins[0][1].election_id} and {other.election_id}, or different board keys)"
            )
    if not pins:
        raise VerificationError(
            "nothing names the election: give a record directory or a watch state file on "
            "one side, or --election, so that the heads' signatures can be checked"
        )
    pin = pins[0][1]
    result = Comparison(pin)
    ha, hb = _signed(a, pin, result), _signed(b, pin, result)
    result.heads = (len(ha), len(hb))
    everything = ha + hb
    by_size: dict[int, TreeHead] = {}
    for head in everything:
        seen = by_size.setdefault(head.size, head)
        if seen.root != head.root:
            raise SplitViewError("fork", seen, head, "same size, different roots")
    checked: set[int] = set()
    for side, own, others in ((a, ha, hb), (b, hb, ha)):
        if side.tree is None:
            continue
        for head in others:
            cover = _covering(side.tree, own, head.size)
            if cover is None:
                continue
            proof = side.tree.consistency_proof(head.size, cover.size)
            try:
                verify_consistency(head.size, cover.size, head.root, cover.root, proof)
            except InvalidConsistency as exc:
                error = SplitViewError("inconsistent", head, cover, f"{side.name}: {exc}")
                error.extra = {
                    "proof": [p.hex() for p in proof],
                    "prefix_root": side.tree.root(head.size).hex(),
                }
                raise error from None
            checked.add(id(head))
    latest: TreeHead | None = None
    for head in sorted(everything, key=lambda h: (h.size, h.time)):
        if latest is not None and head.size > latest.size and head.time < latest.time:
            raise SplitViewError(
                "time",
                latest,
                head,
                f"{head.size} entries signed at {head.time}, yet {latest.size} at {latest.time}",
            )
        if latest is None or head.time > latest.time:
            latest = head
    for heads, other_sizes in ((ha, {h.size for h in hb}), (hb, {h.size for h in ha})):
        for head in heads:
            if head.size in other_sizes or id(head) in checked:
                result.checked += 1
            else:
                result.unchecked += 1
    return result


def evidence(error: SplitViewError) -> dict[str, Any]:
    """The JSON evidence of a split view found offline: both signed heads, the check, in
    words, and (``inconsistent``) the consistency proof and the record's prefix root."""
    out = error.evidence()
    out["detail"] = str(error)
    out.update(error.extra)
    return out
