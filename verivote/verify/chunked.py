"""Verify a record in aligned chunks checked elsewhere (``verivote verify --jobs N`` and
``--dask``): the reduction, which applies the order-dependent rules.

The main process reads the record index (``index.jsonl``, :mod:`verivote.verify.index`), or
finds the chunks' offsets with a pass that only looks for newlines when there is none. It
reads and applies the setup entries itself, up to the first ballot of the voting phase
(the roll's proofs of possession checked a few entries ahead by the mapper's workers,
:mod:`verivote.verify.setup_scan`); from there on the chunks — including those before it,
for their Merkle leaves — go to a :class:`ChunkMapper` (a pool of processes of this
machine, :mod:`verivote.verify.pool_chunks`; a Dask cluster,
:mod:`verivote.verify.dask_runner`; or this process), whose workers each read their own
byte range and return a
:class:`~verivote.verify.chunk_scan.ChunkResult`: the chunk's complete Merkle subtree, its
entries' offsets, each ballot line's state-free result (credential, index, tracking code and
ciphertext hashes, the first failed check), a partial tally per run of ballot lines, and
where the other entries are.

The chunks' results are taken in log order. For each entry the rule book
(:class:`~verivote.election.state.ElectionState`) runs exactly as in
:func:`~verivote.verify.record.verify_record`: a ballot line in the voting phase through
:meth:`~verivote.election.state.ElectionState.apply_result` (voting hours, the roll at that
moment, duplicates, which ballot of a credential counts), any other entry read from the
record by its offset and applied whole. A run's partial tally is merged only when the run
is taken as ballots; a ballot a worker could not tally (its credential was added to the
roll after the first ballot) is read back and tallied here. The chunks' subtrees give every
tree head the signed heads claim. So the report — every failure, its check, its reason, its
order — is the local verifier's; `tests/tamper/test_chunked.py` compares the two.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from verivote.board.merkle import EMPTY_ROOT
from verivote.election.ballot import decode_ballot
from verivote.election.checker import BallotResult
from verivote.election.roll import RollItem, precheck_halves
from verivote.election.state import VOTING, ElectionState
from verivote.errors import EntryRejected
from verivote.verify.chunk_scan import BALLOT, LONG, ChunkResult, ChunkTask, scan_chunk
from verivote.verify.index import (
    INDEX_FILE,
    MIN_AUTO_EVERY,
    Frontier,
    IndexMismatch,
    RecordIndex,
    auto_every,
    fold_root,
    read_index,
    read_line,
    scan_offsets,
)
from verivote.verify.pipeline import PackedRoll, new_checker
from verivote.verify.record import (
    HEADS_FILE,
    MAX_LINE,
    RECORD_FILE,
    Failure,
    RecordUnreadable,
    Report,
    _apply_line,
    _Floors,
    _Lines,
    conclude,
    head_claims,
)
from verivote.verify.setup_scan import Answer, setup_scan


@dataclass(frozen=True)
class ChunkSetup:
    """What every worker needs once: the record's path, the index of the first ballot
    line to check, the heads' claims and the checker's data (manifest, joint key, roll as
    at that ballot; None when no ballot is checked)."""

    path: str
    first_ballot: int
    claims: dict[int, str]
    checker: tuple[dict[str, Any], bytes, PackedRoll] | None


class ChunkMapper(Protocol):
    """Where chunks are read and checked: ``start`` once, then ``map`` yields one result
    per task, in the tasks' order."""

    def start(self, setup: ChunkSetup) -> None: ...

    def map(self, tasks: Sequence[ChunkTask]) -> Iterator[ChunkResult]: ...

    def threads(self) -> int:
        """How many chunks can run at once (at least 1)."""
        ...

    def precheck(self, fingerprint: bytes, items: Sequence[RollItem]) -> Callable[[], Answer]:
        """Queue :func:`~verivote.election.roll.precheck_halves` on ``items`` (before
        ``start``); the call returned waits for its answer."""
        ...

    def close(self) -> None: ...


class LocalChunks:
    """Reads and checks every chunk in this process (tests, and a record too small to
    ship)."""

    def __init__(self) -> None:
        self.setup: ChunkSetup | None = None

    def start(self, setup: ChunkSetup) -> None:
        self.setup = setup

    def map(self, tasks: Sequence[ChunkTask]) -> Iterator[ChunkResult]:
        setup = self.setup
        assert setup is not None
        checker = new_checker(*setup.checker) if setup.checker is not None else None
        for task in tasks:
            yield scan_chunk(setup.path, task, setup.first_ballot, setup.claims, checker)

    def threads(self) -> int:
        return 1

    def precheck(self, fingerprint: bytes, items: Sequence[RollItem]) -> Callable[[], Answer]:
        answer = precheck_halves(fingerprint, items)
        return lambda: answer

    def close(self) -> None:
        self.setup = None


def _scan(board: Path, every: int | None, threads: int) -> RecordIndex:
    if every is not None:
        return scan_offsets(board, every)
    fine = scan_offsets(board, MIN_AUTO_EVERY)
    return fine.coarsen(auto_every(fine.entries, threads))


class _Roots:
    """The tree heads the claimed sizes need, from the chunks' subtrees."""

    def __init__(self, size: int, roots: dict[int, bytes]) -> None:
        self.size = size
        self.roots = roots

    def __len__(self) -> int:
        return self.size

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size == 0:
            return EMPTY_ROOT
        return self.roots[size]


def _raw(lines: _Lines, index: int) -> bytes:
    handle = lines.handle
    handle.seek(lines.offsets[index])
    item = read_line(handle, MAX_LINE)
    return b"" if item is None else item[0]


class _Reduction:
    """Takes the chunks' results in log order (see the module's description)."""

    def __init__(
        self,
        index: RecordIndex,
        state: ElectionState,
        report: Report,
        lines: _Lines,
        first_ballot: int,
        claims: dict[int, str],
    ) -> None:
        self.index = index
        self.state = state
        self.report = report
        self.lines = lines
        self.first_ballot = first_ballot
        self.claims = claims
        self.upper = Frontier()
        self.height = index.every.bit_length() - 1
        self.roots: dict[int, bytes] = {}
        self.times: dict[int, str] = {}
        self.floors = _Floors({})

    def tasks(self) -> list[ChunkTask]:
        """One task per chunk, with the positions inside it whose frontier a head needs."""
        out = []
        for number, first, following in self.index.chunks():
            start, count = first.entry, following.entry - first.entry
            cuts = tuple(sorted(s - start for s in self.claims if start < s < start + count))
            last = number == len(self.index.checkpoints) - 2
            out.append(ChunkTask(number, start, count, first.offset, following.offset, last, cuts))
        return out

    def chunk(self, result: ChunkResult) -> None:
        """Take one chunk's result (the next in log order)."""
        self._merkle(result)
        offsets = array("Q")
        offsets.frombytes(result.offsets)
        known = len(self.lines.offsets) - result.start
        self.lines.offsets.extend(offsets[known:] if known > 0 else offsets)
        self.times.update(result.times)
        self.floors.suspects.extend(result.suspects)
        self._entries(result)

    def _merkle(self, result: ChunkResult) -> None:
        before = self.upper.hashes()
        for cut, hashes in result.cuts.items():
            self.roots[result.start + cut] = fold_root(before + hashes)
        if result.count == self.index.every:
            self.upper.push(self.height, result.frontier[0])
            frontier = self.upper.hashes()
        else:
            frontier = before + result.frontier
        end = result.start + result.count
        if end in self.claims:
            self.roots[end] = fold_root(frontier)
        expected = self.index.checkpoints[result.number + 1].frontier
        if expected is not None and list(expected) != frontier:
            raise IndexMismatch(
                f"{INDEX_FILE} does not match the log: the frontier at entry {end} is not "
                "the one the log's entries give"
            )

    def _entries(self, result: ChunkResult) -> None:
        state, report = self.state, self.report
        ballots = iter(result.results)
        start = max(result.start, self.first_ballot)
        for at, kind in enumerate(result.kinds):
            index = start + at
            if kind == LONG:
                report.failures.append(
                    Failure(index, "?", "entry.decode", f"line longer than {MAX_LINE} bytes")
                )
                state.skip()
                continue
            if kind != BALLOT:
                _apply_line(state, index, _raw(self.lines, index), report)
                continue
            checked = BallotResult(*next(ballots))
            if state.phase != VOTING:
                _apply_line(state, index, _raw(self.lines, index), report)
                continue
            partial = result.partials.get(index)
            if partial is not None:
                state.merge_partial(partial)
            report.by_type["ballot"] += 1
            try:
                state.apply_result(checked)
            except EntryRejected as exc:
                report.failures.append(Failure(index, "ballot", exc.check, exc.reason))
                state.skip()
                continue
            if not checked.accumulated:
                self._tally_here(index)

    def _tally_here(self, index: int) -> None:
        """Tally an accepted ballot the worker did not (a credential added to the roll
        after the first ballot)."""
        state = self.state
        manifest, roll, accumulator = state.manifest, state.roll, state.accumulator
        assert manifest is not None and roll is not None and accumulator is not None
        key, selections, _ = decode_ballot(manifest, self.lines.entry(index).body)
        record = roll.records[key]
        accumulator.add(record.category, record.weight, selections)


def verify_chunked(
    path: Path,
    mapper: ChunkMapper,
    every: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> Report:
    """Verify the record in directory ``path`` in chunks run by ``mapper``; the report is
    :func:`~verivote.verify.record.verify_record`'s, failures included.

    The chunks are those of ``path/index.jsonl`` when there is one (checked against the
    log as it is used), else of ``every`` entries (a power of two; by default about four
    chunks per thread of the mapper, 16 to 2,048 entries) found by a pass over the file
    that only looks for newlines. Raises :class:`RecordUnreadable` if it is not a
    record, :class:`~verivote.verify.index.IndexMismatch` when the index is malformed or
    does not describe the log (never a verdict from a wrong index), OSError when a worker
    cannot read the record. ``progress(entries, bytes_read, total_bytes)`` is called after
    each chunk. ``mapper`` is closed on return, whatever happens."""
    try:
        return _verify_chunked(path, mapper, every, progress)
    finally:
        mapper.close()


def _verify_chunked(
    path: Path,
    mapper: ChunkMapper,
    every: int | None,
    progress: Callable[[int, int, int], None] | None,
) -> Report:
    board = path / RECORD_FILE if path.is_dir() else path
    if not board.is_file():
        raise RecordUnreadable(f"{path}: no {RECORD_FILE} here")
    try:
        handle = board.open("rb")
        total = board.stat().st_size
        index = read_index(board.parent) or _scan(board, every, mapper.threads())
    except OSError as exc:
        raise RecordUnreadable(f"{board}: {exc.strerror}") from None
    report = Report()
    with handle:
        lines = _Lines(handle)
        state = ElectionState(lookup=lines.entry)
        claims = head_claims(board.parent / HEADS_FILE)
        first_ballot = setup_scan(handle, state, report, lines, mapper)
        setup = None
        if first_ballot < index.entries and state.manifest is not None:
            assert state.joint_key is not None
            assert state.roll is not None
            roll = PackedRoll.pack((k, r.category, r.weight) for k, r in state.roll.records.items())
            setup = (state.manifest.to_dict(), state.joint_key.to_bytes(), roll)
        reduction = _Reduction(index, state, report, lines, first_ballot, claims)
        mapper.start(ChunkSetup(str(board), first_ballot, claims, setup))
        for result in mapper.map(reduction.tasks()):
            reduction.chunk(result)
            if progress is not None:
                done = result.start + result.count
                progress(done, index.checkpoints[result.number + 1].offset, total)
    report.entries = index.entries
    tree = _Roots(index.entries, reduction.roots)
    return conclude(report, state, board, tree, reduction.times, reduction.floors)
