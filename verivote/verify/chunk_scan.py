"""One chunk of a record's log, read and checked where it is stored (a worker's side of
``verivote verify --dask``; :mod:`verivote.verify.chunked` is the reduction).

A worker opens ``board.jsonl`` itself, seeks to its chunk's first byte (from the record
index, :mod:`verivote.verify.index`) and reads its entries one line at a time. For every
line it computes the Merkle leaf — so the chunk's complete subtrees, and the frontiers the
signed heads inside the chunk need — its byte offset, and what the log-wide timing checks
need (the time of a head's last entry, the entries timed before a claimed head). Each line
from the first ballot of the voting phase on (``first_ballot``, found by the main process)
that ends like a ballot is checked by a
:class:`~verivote.election.checker.BallotChecker` (signature, encoding, proofs), in batches
(:meth:`~verivote.election.checker.BallotChecker.check_many`), and tallied speculatively:
one partial tally per *run* of consecutive ballot lines, so that the reduction can leave out
a whole run the rule book does not take as ballots (after the close, say). Any other line
is only located; the main process reads and applies it.

Nothing here decides what is valid: the results are state-free facts about single lines,
and the main process applies the order-dependent rules to them in log order. The chunk's
place in the log is checked here, though: it must hold exactly its entries and end exactly
where the index says (else :class:`~verivote.verify.index.IndexMismatch`).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from verivote.board.merkle import leaf_hash
from verivote.election.checker import BallotChecker
from verivote.election.tally import TallyAccumulator
from verivote.verify.index import INDEX_FILE, Frontier, IndexMismatch, read_line
from verivote.verify.pipeline import BATCH
from verivote.verify.record import BALLOT_SUFFIX, MAX_LINE, _Floors, _line_time

BALLOT, OTHER, LONG = ord("b"), ord("o"), ord("l")
ResultRow = tuple[int, str, bytes, tuple[str, str] | None, int, tuple[int, ...], bool]
"""A :class:`~verivote.election.checker.BallotResult`'s fields in order
(``BallotResult(*row)`` makes it again)."""


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """Chunk ``number``: entries ``[start, start + count)`` at bytes ``[offset, end)``;
    ``cuts`` are the positions inside the chunk (1 … count − 1) whose frontier a claimed
    head needs."""

    number: int
    start: int
    count: int
    offset: int
    end: int
    last: bool
    cuts: tuple[int, ...] = ()


@dataclass
class ChunkResult:
    """What a worker found in one chunk (see the module's description).

    ``kinds`` has one byte per entry from ``max(start, first_ballot)`` on: ``b`` a ballot
    line (its :class:`~verivote.election.checker.BallotResult` next in ``results``, as the
    tuple of its fields, which pickles in a fraction of the object's time — paid by the
    worker and again by the main process), ``o`` another line, ``l`` a line over the
    length limit. ``partials`` maps the first index of each run of ballot lines to the
    run's partial tally (runs that tallied nothing are left out)."""

    number: int
    start: int
    count: int
    offsets: bytes
    frontier: list[bytes]
    cuts: dict[int, list[bytes]] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)
    suspects: list[tuple[int, str, str]] = field(default_factory=list)
    kinds: bytes = b""
    results: list[ResultRow] = field(default_factory=list)
    partials: dict[int, TallyAccumulator] = field(default_factory=dict)


def _mismatch(task: ChunkTask, what: str) -> IndexMismatch:
    return IndexMismatch(
        f"{INDEX_FILE} does not match the log: chunk {task.number} (entries {task.start} to "
        f"{task.start + task.count - 1}, bytes {task.offset} to {task.end}) {what}"
    )


class _Runs:
    """Ballot lines batched for the checker, with one partial tally per run."""

    def __init__(self, checker: BallotChecker | None, out: ChunkResult) -> None:
        self.checker = checker
        self.out = out
        self.batch: list[tuple[int, bytes]] = []
        self.first = -1

    def add(self, index: int, line: bytes) -> None:
        if self.first < 0:
            self.first = index
        self.batch.append((index, line))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            if self.checker is None:
                raise ValueError("ballot lines to check but no checker")
            self.out.results.extend(
                (r.index, r.time, r.credential, r.failure, r.tracker, r.alphas, r.accumulated)
                for r in self.checker.check_many(self.batch)
            )
            self.batch = []

    def end(self) -> None:
        """The run ends (another line, or the end of the chunk)."""
        self.flush()
        if self.first >= 0 and self.checker is not None:
            partial = self.checker.take_partial()
            if any(partial.counts.values()):
                self.out.partials[self.first] = partial
        self.first = -1


def scan_chunk(
    path: str,
    task: ChunkTask,
    first_ballot: int,
    claims: dict[int, str],
    checker: BallotChecker | None,
) -> ChunkResult:
    """Read and check chunk ``task`` of the log at ``path`` (``claims``: the sizes the
    heads claim with their latest times, see :func:`~verivote.verify.record.head_claims`;
    ``checker``: for the ballot lines at ``first_ballot`` and after, None when there are
    none). Raises :class:`IndexMismatch` when the chunk does not hold exactly
    ``task.count`` lines ending at ``task.end`` (and, for the last chunk, the end of the
    file), OSError when the file cannot be read."""
    frontier = Frontier()
    offsets = array("Q")
    kinds = bytearray()
    floors = _Floors(claims)
    out = ChunkResult(task.number, task.start, 0, b"", [])
    runs = _Runs(checker, out)
    cuts = set(task.cuts)
    with open(path, "rb") as handle:
        handle.seek(task.offset)
        for index in range(task.start, task.start + task.count):
            offset = handle.tell()
            if offset >= task.end:
                raise _mismatch(task, f"ends after {index - task.start} entries")
            item = read_line(handle, MAX_LINE)
            if item is None:
                raise _mismatch(task, f"ends with the file after {index - task.start} entries")
            line, long = item
            offsets.append(offset)
            frontier.push(0, leaf_hash(line))
            if frontier.size in cuts:
                out.cuts[frontier.size] = frontier.hashes()
            if not long:
                if index + 1 in claims:
                    out.times[index + 1] = _line_time(line)
                floors.see(index, line)
            if index < first_ballot:
                continue
            if not long and line.endswith(BALLOT_SUFFIX):
                kinds.append(BALLOT)
                runs.add(index, line)
                continue
            runs.end()
            kinds.append(LONG if long else OTHER)
        runs.end()
        if handle.tell() != task.end:
            raise _mismatch(task, f"ends at byte {handle.tell()}")
        if task.last and handle.read(1):
            raise _mismatch(task, "is the last, but the log goes on after it")
    out.count = task.count
    out.offsets = offsets.tobytes()
    out.frontier = frontier.hashes()
    out.suspects = floors.suspects
    out.kinds = bytes(kinds)
    return out
