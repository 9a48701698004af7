"""The record index: where every K-th entry of ``board.jsonl`` starts, and the Merkle
frontier of the log up to it, so that the log can be checked in aligned chunks.

``index.jsonl`` sits beside ``board.jsonl``. Its first line is the header
``{"every": K, "format": "verivote/index/v1"}`` (K a power of two, 1 ≤ K ≤ 2^20); each
further line is a checkpoint ``{"entry": i, "frontier": [hex, …], "offset": o}``: entry
``i`` starts at byte ``o`` of ``board.jsonl``, and ``frontier`` lists the RFC 9162 hashes of
the complete subtrees of the first ``i`` entries, largest first (one per bit set in ``i``;
their fold from the right is the tree head of size ``i``, :func:`fold_root`). Checkpoints
are at entries 0, K, 2K, … and a last one at the number of entries ``n`` with the file's
size as its offset (one line only when ``n`` is a multiple of K). Every line is canonical
JSON.

Chunk ``c`` is the entries ``[cK, min((c+1)K, n))``: its byte range is known from two
checkpoints, and since ``cK`` is a multiple of ``K``, its leaves form complete subtrees of
the log's tree, so a worker can hash them alone and the reduction combines the chunks'
roots into every tree head (:class:`Frontier`).

**The index is not trusted.** It is not signed and anyone can compute it from
``board.jsonl`` (:func:`build_index`). A verifier that uses it checks every part of it
against the log: each chunk must hold exactly its entries, the last of them ending exactly
at the next checkpoint's offset, the last chunk at the end of the file (the workers check
this while they read); every frontier must be the one the workers' chunk roots give. A
mismatch raises :class:`IndexMismatch`: a wrong index stops a run, it never changes a
verdict.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from verivote.board.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from verivote.encoding import dumps, from_hex, loads
from verivote.errors import DecodeError, VerivoteError

INDEX_FILE = "index.jsonl"
FORMAT = "verivote/index/v1"
DEFAULT_EVERY = 1024
MIN_AUTO_EVERY = 16
MAX_AUTO_EVERY = 2048
"""The largest chunk chosen without an index: the ballot checker's batch
(:data:`verivote.verify.pipeline.BATCH`), so a chunk's ballots are one batch."""
MAX_EVERY = 1 << 20
BLOCK = 1 << 20


class IndexMismatch(VerivoteError):
    """The record index is malformed or does not describe the log beside it."""


def check_every(every: int) -> int:
    """``every`` if it is a power of two in 1..2^20; raises ValueError otherwise."""
    if isinstance(every, bool) or not isinstance(every, int):
        raise ValueError("the index interval must be an integer")
    if not 1 <= every <= MAX_EVERY or every & (every - 1):
        raise ValueError(f"the index interval must be a power of two in 1..{MAX_EVERY}")
    return every


# ------------------------------------------------------------------ Merkle frontiers
def fold_root(frontier: Sequence[bytes]) -> bytes:
    """The RFC 9162 tree head of a log whose complete subtrees, largest first, are
    ``frontier`` (the empty tree's hash for an empty frontier)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


class Frontier:
    """The complete subtrees of a growing log, largest first (a compact range from leaf
    0). Subtrees of ``2^h`` leaves are pushed with height ``h``; a push must be aligned
    (the leaves so far a multiple of ``2^h``), which :meth:`push` checks."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, bytes]] = []
        self.size = 0

    def push(self, height: int, digest: bytes) -> None:
        """Append a complete subtree of ``2^height`` leaves; raises ValueError when it is
        not aligned or not a hash."""
        if len(digest) != HASH_SIZE:
            raise ValueError("a subtree hash is 32 bytes")
        if self.size % (1 << height):
            raise ValueError(f"a subtree of height {height} at leaf {self.size} is not aligned")
        self.nodes.append((height, digest))
        self.size += 1 << height
        nodes = self.nodes
        while len(nodes) >= 2 and nodes[-1][0] == nodes[-2][0]:
            (h, right), (_, left) = nodes.pop(), nodes.pop()
            nodes.append((h + 1, node_hash(left, right)))

    def hashes(self) -> list[bytes]:
        """The subtree hashes, largest first."""
        return [digest for _, digest in self.nodes]

    def root(self) -> bytes:
        """The tree head of the leaves pushed so far."""
        return fold_root(self.hashes())


# ------------------------------------------------------------------ reading lines
def read_line(handle: BinaryIO, max_line: int) -> tuple[bytes, bool] | None:
    """The next line of a record (without its newline) and whether it is longer than
    ``max_line`` bytes — then only its first ``max_line`` bytes are returned and the rest
    is skipped, as the verifier does; None at the end of the file."""
    raw = handle.readline(max_line + 1)
    if not raw:
        return None
    if len(raw) > max_line:
        tail = raw
        while not tail.endswith(b"\n"):
            tail = handle.readline(max_line)
            if not tail:
                break
        return raw[:max_line], True
    return (raw[:-1] if raw.endswith(b"\n") else raw), False


# ------------------------------------------------------------------ the index
@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Entry ``entry`` starts at byte ``offset``; ``frontier`` is the log's complete
    subtrees before it (None when the index was built without hashing)."""

    entry: int
    offset: int
    frontier: tuple[bytes, ...] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (an index written to a file always has frontiers)."""
        return {
            "entry": self.entry,
            "frontier": [h.hex() for h in self.frontier or ()],
            "offset": self.offset,
        }


@dataclass(frozen=True)
class RecordIndex:
    """Checkpoints every ``every`` entries of a log, and one at its end."""

    every: int
    checkpoints: tuple[Checkpoint, ...]

    @property
    def entries(self) -> int:
        """The number of entries the index describes."""
        return self.checkpoints[-1].entry

    def chunks(self) -> Iterator[tuple[int, Checkpoint, Checkpoint]]:
        """``(number, first, next)`` for each chunk: its first checkpoint and the next."""
        for number in range(len(self.checkpoints) - 1):
            yield number, self.checkpoints[number], self.checkpoints[number + 1]

    def coarsen(self, every: int) -> RecordIndex:
        """The same index with checkpoints every ``every`` entries only (a power of two,
        a multiple of :attr:`every`); the frontiers stay valid."""
        check_every(every)
        if every < self.every or every % self.every:
            raise ValueError(
                f"cannot make an index of every {self.every} entries coarser to {every}"
            )
        step = every // self.every
        kept = [cp for n, cp in enumerate(self.checkpoints[:-1]) if n % step == 0]
        return RecordIndex(every, (*kept, self.checkpoints[-1]))

    def to_bytes(self) -> bytes:
        """The canonical ``index.jsonl`` text."""
        lines = [dumps({"every": self.every, "format": FORMAT})]
        lines.extend(dumps(cp.to_dict()) for cp in self.checkpoints)
        return b"".join(line + b"\n" for line in lines)

    @classmethod
    def from_bytes(cls, data: bytes) -> RecordIndex:
        """Strict decoding of ``index.jsonl``: canonical lines, the header, checkpoints at
        0, K, 2K, … and a last one at most K further, offsets strictly increasing from 0,
        each frontier one hash per bit set in its entry. Raises :class:`IndexMismatch`
        (it says nothing yet about whether the index fits the log)."""
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        try:
            header = loads(lines[0]) if lines else None
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise DecodeError(f"the first line is not a {FORMAT} header")
            if set(header) != {"every", "format"}:
                raise DecodeError("the header holds exactly every and format")
            every = check_every(header["every"])
            checkpoints = tuple(_checkpoint(loads(line)) for line in lines[1:])
        except (DecodeError, ValueError) as exc:
            raise IndexMismatch(f"{INDEX_FILE} is malformed: {exc}") from None
        index = cls(every, checkpoints)
        index.check_shape()
        return index

    def check_shape(self) -> None:
        """Raise :class:`IndexMismatch` unless the checkpoints are laid out as the format
        says (see :meth:`from_bytes`)."""
        cps = self.checkpoints
        if not cps or cps[0].entry != 0 or cps[0].offset != 0:
            raise IndexMismatch(f"{INDEX_FILE}: the first checkpoint is not entry 0 at byte 0")
        for number, cp in enumerate(cps[1:], 1):
            last = number == len(cps) - 1
            expected = number * self.every
            if (cp.entry != expected and not last) or cp.entry <= cps[number - 1].entry:
                raise IndexMismatch(f"{INDEX_FILE}: checkpoint {number} is at entry {cp.entry}")
            if cp.entry > expected or cp.offset <= cps[number - 1].offset:
                raise IndexMismatch(
                    f"{INDEX_FILE}: checkpoint {number} (entry {cp.entry}) is out of place"
                )
        for number, cp in enumerate(cps):
            if cp.frontier is not None and len(cp.frontier) != cp.entry.bit_count():
                raise IndexMismatch(
                    f"{INDEX_FILE}: checkpoint {number} (entry {cp.entry}) has "
                    f"{len(cp.frontier)} subtree hashes, not {cp.entry.bit_count()}"
                )


def _checkpoint(obj: Any) -> Checkpoint:
    if not isinstance(obj, dict) or set(obj) != {"entry", "frontier", "offset"}:
        raise DecodeError("a checkpoint holds exactly entry, frontier and offset")
    entry, offset, frontier = obj["entry"], obj["offset"], obj["frontier"]
    for value in (entry, offset):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise DecodeError("entry and offset are non-negative integers")
    if not isinstance(frontier, list):
        raise DecodeError("the frontier is a list of hashes")
    return Checkpoint(entry, offset, tuple(from_hex(h, HASH_SIZE, "frontier") for h in frontier))


def build_index(board: Path, every: int, max_line: int) -> RecordIndex:
    """Read ``board`` once, hashing every line, and return its index (lines longer than
    ``max_line`` are hashed as the verifier hashes them). Raises OSError."""
    check_every(every)
    frontier = Frontier()
    checkpoints = [Checkpoint(0, 0, ())]
    with board.open("rb") as handle:
        while (item := read_line(handle, max_line)) is not None:
            frontier.push(0, leaf_hash(item[0]))
            if frontier.size % every == 0:
                cp = Checkpoint(frontier.size, handle.tell(), tuple(frontier.hashes()))
                checkpoints.append(cp)
        end = handle.tell()
    if checkpoints[-1].entry != frontier.size:
        checkpoints.append(Checkpoint(frontier.size, end, tuple(frontier.hashes())))
    return RecordIndex(every, tuple(checkpoints))


def scan_offsets(board: Path, every: int) -> RecordIndex:
    """The checkpoints' offsets without their frontiers, from one pass over ``board`` that
    only looks for newlines (no hashing, no decoding). Raises OSError."""
    check_every(every)
    checkpoints = [Checkpoint(0, 0, None)]
    lines = 0
    position = 0
    last = b""
    with board.open("rb") as handle:
        while block := handle.read(BLOCK):
            at = block.find(b"\n")
            while at >= 0:
                lines += 1
                if lines % every == 0:
                    checkpoints.append(Checkpoint(lines, position + at + 1, None))
                at = block.find(b"\n", at + 1)
            position += len(block)
            last = block[-1:]
    if position and last != b"\n":
        lines += 1  # a last line without its newline is an entry too
    if checkpoints[-1].entry != lines:
        checkpoints.append(Checkpoint(lines, position, None))
    return RecordIndex(every, tuple(checkpoints))


def auto_every(entries: int, threads: int) -> int:
    """The chunk size for a log of ``entries`` on ``threads`` workers: about four chunks
    per thread, a power of two from :data:`MIN_AUTO_EVERY` to :data:`MAX_AUTO_EVERY`."""
    share = max(1, entries // max(1, 4 * threads))
    every = 1 << (share.bit_length() - 1)
    return min(MAX_AUTO_EVERY, max(MIN_AUTO_EVERY, every))


def read_index(directory: Path) -> RecordIndex | None:
    """The index in ``directory`` (None when there is none), checked for shape only.
    Raises :class:`IndexMismatch` when it is malformed, OSError when it cannot be read."""
    path = directory / INDEX_FILE
    if not path.is_file():
        return None
    return RecordIndex.from_bytes(path.read_bytes())


def write_index(directory: Path, every: int, max_line: int) -> RecordIndex:
    """Build the index of ``directory/board.jsonl`` and write ``directory/index.jsonl``
    (replacing it atomically). Raises OSError, ValueError for a bad ``every``."""
    index = build_index(directory / "board.jsonl", every, max_line)
    target = directory / INDEX_FILE
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(index.to_bytes())
    os.replace(temporary, target)
    return index
