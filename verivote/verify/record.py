"""Verify a published record: every line through the election's rule book, every failure
named.

The record is a directory holding ``board.jsonl``. Each line is decoded strictly and given
to :class:`~verivote.election.state.ElectionState`; a line that fails is reported with its
index, type, the check that failed and why, and the verifier goes on with the next line (the
failed entry has no effect), so one run names every failure, not only the first.

Only the byte offset of each line is kept in memory; an earlier ballot is re-read from the
file when a re-vote or a revocation takes it out of the tally.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from verivote.board.heads import TreeHead
from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.election.entries import Entry, entry_from_line
from verivote.election.state import VOTING, ElectionState
from verivote.encoding import loads
from verivote.errors import DecodeError, EntryRejected, VerificationError, VerivoteError
from verivote.verify.pipeline import BallotPipeline, BallotRunner

RECORD_FILE = "board.jsonl"
HEADS_FILE = "heads.jsonl"


class RecordUnreadable(VerivoteError):
    """The path is not a record (missing, not a directory, no board.jsonl, unreadable)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: the entry's ``index`` (or the head's), its ``type``, the
    ``check`` that failed (``ballot.proof``, ``log.root``…) and the ``reason``."""

    index: int
    type: str
    check: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"index": self.index, "type": self.type, "check": self.check, "reason": self.reason}


@dataclass
class Report:
    """What the verifier checked and found: the entries by type, every failure (never a
    check that was not run), and the ``result`` the record's checked decryption gives
    (None when the election is not counted). ``valid`` is the verdict."""

    entries: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    result: dict[str, Any] | None = None
    election_id: str = ""
    fingerprint: str = ""
    heads: int = 0
    notices: list[str] = field(default_factory=list)
    """Facts an observer should know that are not failures (the record may be valid)."""

    @property
    def valid(self) -> bool:
        """True when every entry passed and the record is complete."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the whole report."""
        return {
            "valid": self.valid,
            "election_id": self.election_id,
            "fingerprint": self.fingerprint,
            "entries": self.entries,
            "by_type": dict(sorted(self.by_type.items())),
            "heads": self.heads,
            "checks": checks_summary(self),
            "failures": [f.to_dict() for f in self.failures],
            "notices": list(self.notices),
            "result": self.result,
        }


CHECKS: dict[str, tuple[str, ...]] = {
    "election": ("election.manifest", "election.signature"),
    "ceremony": ("ceremony.signature", "ceremony.decode", "ceremony.duplicate"),
    "trustee": (
        "trustee.signature",
        "trustee.run",
        "trustee.time",
        "trustee.duplicate",
        "trustee.proof",
    ),
    "share": ("share.signature", "share.run", "share.time", "share.decode", "share.duplicate"),
    "complaint": ("complaint.signature", "complaint.run", "complaint.time", "complaint.decode"),
    "justification": (
        "justification.signature",
        "justification.run",
        "justification.time",
        "justification.complaint",
    ),
    "joint_key": (
        "joint_key.signature",
        "joint_key.duplicate",
        "joint_key.run",
        "joint_key.time",
        "joint_key.identity",
        "joint_key.recompute",
    ),
    "roll": ("roll.signature", "roll.part"),
    "issuer": ("issuer.time", "issuer.signature", "issuer.part"),
    "open": ("open.signature", "open.roll_size"),
    "ballot": (
        "ballot.time",
        "ballot.credential",
        "ballot.signature",
        "ballot.decode",
        "ballot.proof",
        "ballot.duplicate",
    ),
    "audit": (
        "audit.time",
        "audit.credential",
        "audit.signature",
        "audit.reencrypt",
        "audit.duplicate",
    ),
    "amend": ("amend.time", "amend.signature", "amend.limit", "amend.roll"),
    "seal": ("seal.decode", "seal.signature", "seal.duplicate", "seal.counts"),
    "close": ("close.signature", "close.time", "close.seals", "close.counts"),
    "tally": ("tally.signature", "tally.recompute"),
    "decryption": ("decryption.signature", "decryption.trustee", "decryption.proof"),
    "mix": (
        "mix.signature",
        "mix.trustee",
        "mix.decode",
        "mix.groups",
        "mix.chain",
        "mix.shape",
        "mix.proof",
    ),
    "mix_decryption": (
        "mix_decryption.signature",
        "mix_decryption.trustee",
        "mix_decryption.decode",
        "mix_decryption.proof",
    ),
    "ranked_result": (
        "ranked_result.signature",
        "ranked_result.decode",
        "ranked_result.trustees",
        "ranked_result.seed",
        "ranked_result.ballots",
        "ranked_result.invalid",
        "ranked_result.count",
    ),
    "result": ("result.signature", "result.counts"),
}
"""The checks each entry type goes through (besides entry.decode, entry.order and
entry.time, which every entry goes through), in the order they run."""


def checks_summary(report: Report) -> list[dict[str, Any]]:
    """Per entry type: the checks run, how many entries they covered, how many failed."""
    failed = Counter(f.type for f in report.failures)
    rows = [
        {
            "type": kind,
            "checks": list(CHECKS.get(kind, ())),
            "entries": count,
            "failed": failed.get(kind, 0),
        }
        for kind, count in sorted(report.by_type.items())
    ]
    rows.append(
        {
            "type": "head",
            "checks": [
                "log.signature",
                "log.order",
                "log.time",
                "log.root",
                "log.complete",
                "log.backdated",
            ],
            "entries": report.heads,
            "failed": failed.get("head", 0) + failed.get("log", 0),
        }
    )
    return rows


def _entry_type(line: bytes) -> str:
    for name in (b'"type":"', b'"type": "'):
        at = line.find(name)
        if at >= 0:
            end = line.find(b'"', at + len(name))
            return line[at + len(name) : end].decode("utf-8", "replace")[:32]
    return "?"


class _Lines:
    """Random access to earlier lines of the record by their offsets."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.offsets = array("Q")

    def entry(self, index: int) -> Entry:
        here = self.handle.tell()
        self.handle.seek(self.offsets[index])
        line = self.handle.readline().rstrip(b"\n")
        self.handle.seek(here)
        return entry_from_line(line)


BALLOT_SUFFIX = b'"type":"ballot"}'
MAX_LINE = 64 * 1024 * 1024
"""No entry of a valid record comes near this; a longer line is reported, not loaded."""


def _skip_long_line(handle: BinaryIO, start: bytes) -> bytes:
    """Read past the rest of an over-long line; returns its bytes for the Merkle leaf
    (hashing it incrementally would be exact, but such a record is invalid anyway)."""
    tail = start
    while not tail.endswith(b"\n"):
        tail = handle.readline(MAX_LINE)
        if not tail:
            break
    return start[:MAX_LINE]


def verify_record(
    path: Path,
    jobs: int = 1,
    progress: Callable[[int, int, int], None] | None = None,
    runner: BallotRunner | None = None,
) -> Report:
    """Verify the record in directory ``path`` with ballot checks on ``jobs`` processes.

    Raises :class:`RecordUnreadable` if it is not a record; otherwise returns a
    :class:`Report` (``report.valid`` is the verdict). ``progress(entries, bytes_read,
    total_bytes)`` is called every 1,000 entries. ``runner``, when given, checks the
    ballots instead of ``jobs`` local processes (e.g. a Dask cluster,
    :mod:`verivote.verify.dask_runner`); the report is the same whichever runs them.
    Memory per ballot is a few small integers (duplicate detection, the counting rule, the
    Merkle tree), never its objects.
    """
    board = path / RECORD_FILE if path.is_dir() else path
    if not board.is_file():
        raise RecordUnreadable(f"{path}: no {RECORD_FILE} here")
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    report = Report()
    try:
        handle = board.open("rb")
        total = board.stat().st_size
    except OSError as exc:
        raise RecordUnreadable(f"{board}: {exc.strerror}") from None
    with handle:
        lines = _Lines(handle)
        state = ElectionState(lookup=lines.entry)
        tree = MerkleTree()

        def failed(index: int, check: str, reason: str) -> None:
            report.failures.append(Failure(index, "ballot", check, reason))

        pipeline = BallotPipeline(state, jobs, failed, runner)
        claims = head_claims(board.parent / HEADS_FILE)
        sizes = set(claims)
        floors = _Floors(claims)
        times: dict[int, str] = {}
        index = 0
        try:
            while True:
                offset = handle.tell()
                raw = handle.readline(MAX_LINE + 1)
                if not raw:
                    break
                lines.offsets.append(offset)
                line = raw[:-1] if raw.endswith(b"\n") else raw
                if len(raw) > MAX_LINE:
                    line = _skip_long_line(handle, raw)
                    tree.append(leaf_hash(line))
                    report.entries += 1
                    pipeline.drain()
                    report.failures.append(
                        Failure(index, "?", "entry.decode", f"line longer than {MAX_LINE} bytes")
                    )
                    state.skip()
                    index += 1
                    continue
                tree.append(leaf_hash(line))
                report.entries += 1
                if index + 1 in sizes:
                    times[index + 1] = _line_time(line)
                floors.see(index, line)
                if line.endswith(BALLOT_SUFFIX) and state.phase == VOTING:
                    report.by_type["ballot"] += 1
                    pipeline.add(index, line)
                else:
                    pipeline.drain()
                    _apply_line(state, index, line, report)
                index += 1
                if progress is not None and index % 1000 == 0:
                    progress(index, handle.tell(), total)
            pipeline.drain()
        finally:
            pipeline.close()
    return conclude(report, state, board, tree, times, floors)


class LogRoots(Protocol):
    """The log's Merkle tree as the head checks see it: its size and the root of any
    prefix a head claims."""

    def __len__(self) -> int: ...

    def root(self, size: int | None = None) -> bytes: ...


def conclude(
    report: Report,
    state: ElectionState,
    board: Path,
    tree: LogRoots,
    times: dict[int, str],
    floors: _Floors,
) -> Report:
    """Finish ``report`` once every entry went through ``state``: the record must be
    complete, then the signed heads are checked against ``tree`` (failures in log order,
    then the heads'), and the result and notices are filled in. Raises
    :class:`RecordUnreadable` for an empty record."""
    if report.entries == 0:
        raise RecordUnreadable(f"{board}: the record is empty")
    try:
        state.finish()
    except EntryRejected as exc:
        report.failures.append(Failure(report.entries, "-", exc.check, exc.reason))
    report.failures.sort(key=lambda f: f.index)
    if state.manifest is not None:
        report.election_id = state.manifest.election_id
        report.fingerprint = state.manifest.fingerprint.hex()
        head_failures, report.heads, valid_heads = check_heads(
            board.parent / HEADS_FILE, state, tree, times
        )
        report.failures.extend(floors.failures(valid_heads))
        report.failures.extend(head_failures)
    report.result = state.result
    report.notices.extend(notices(state))
    return report


def notices(state: ElectionState) -> list[str]:
    """What the report states besides failures, from the final state: electors added to
    the roll after opening (and how many of them have a counted ballot); weight classes of
    counted ballots smaller than ``min_category_size`` (the overall weighted result can
    reveal how those ballots voted; no rule can hide what the result itself says)."""
    out: list[str] = []
    m = state.manifest
    if m is None or state.result is None or state.accumulator is None:
        return out
    if state.roll is not None and state.roll.added:
        voted = sum(1 for key in state.roll.added if key in state.latest)
        out.append(
            f"roll additions: {len(state.roll.added)} elector(s) added after opening "
            f"(the manifest allows {m.max_additions}); {voted} of them cast a counted ballot"
        )
    classes: dict[int, int] = {}
    for per_category in state.accumulator.weight_classes.values():
        for weight, n in per_category.items():
            classes[weight] = classes.get(weight, 0) + n
    small = sorted((w, n) for w, n in classes.items() if 0 < n < m.min_category_size)
    if small:
        ballots = sum(n for _, n in small)
        out.append(
            f"weighted result: {ballots} counted ballot(s) in {len(small)} weight class(es) "
            f"of fewer than {m.min_category_size} ballots (weights "
            f"{', '.join(str(w) for w, _ in small[:10])}{', …' if len(small) > 10 else ''}); "
            "the overall counts can reveal how they voted"
        )
    return out


def _apply_line(
    state: ElectionState, index: int, line: bytes, report: Report, entry: Entry | None = None
) -> None:
    """Decode ``line`` (unless ``entry``, its decoding, is given) and apply it, reporting
    a failure."""
    if entry is None:
        try:
            entry = entry_from_line(line)
        except DecodeError as exc:
            report.failures.append(Failure(index, _entry_type(line), "entry.decode", str(exc)))
            state.skip()
            return
    report.by_type[entry.type] += 1
    try:
        state.apply(entry)
    except EntryRejected as exc:
        report.failures.append(Failure(index, entry.type, exc.check, exc.reason))
        state.skip()


def head_claims(path: Path) -> dict[int, str]:
    """The sizes the heads in ``path`` claim, each with the latest time claimed for it
    (unchecked: to know which entry times to keep while reading the log)."""
    claims: dict[int, str] = {}
    if path.is_file():
        with path.open("rb") as handle:
            for raw in handle:
                try:
                    obj = loads(raw.rstrip(b"\n"))
                    size, time = obj.get("size"), obj.get("time")
                except (DecodeError, AttributeError):
                    continue
                if isinstance(size, int) and size > 0:
                    claims[size] = max(claims.get(size, ""), time if isinstance(time, str) else "")
    return claims


class _Floors:
    """Entries timed before a head that precedes them in the log (``log.backdated``).

    A head of size ``s`` signed at ``T`` says the log had ``s`` entries at ``T``: entry
    ``s`` and every later one were appended after ``T``, so none may be timed before it.
    While the log is read, the heads are not checked yet, so every entry timed before a
    *claimed* head is kept as a suspect (few in any record); :meth:`failures` then names
    those timed before a head whose signature checked."""

    def __init__(self, claims: dict[int, str]) -> None:
        self.pending = sorted(claims.items())
        self.floor = ""
        self.suspects: list[tuple[int, str, str]] = []

    def see(self, index: int, line: bytes) -> None:
        while self.pending and self.pending[0][0] <= index:
            self.floor = max(self.floor, self.pending.pop(0)[1])
        if self.floor:
            time = _line_time(line)
            if time < self.floor:
                self.suspects.append((index, _entry_type(line), time))

    def failures(self, heads: list[tuple[int, str]]) -> list[Failure]:
        """Failures for the suspects timed before a valid head of size at most their
        index (``heads``: ``(size, time)`` of the heads whose signature checked)."""
        out: list[Failure] = []
        ordered = sorted(heads)
        sizes = [size for size, _ in ordered]
        latest: list[tuple[str, int]] = []  # the latest (time, size) among the first heads
        for size, time in ordered:
            latest.append(max(latest[-1], (time, size)) if latest else (time, size))
        for index, entry_type, time in self.suspects:
            at = bisect_right(sizes, index)
            if at and time < latest[at - 1][0]:
                head_time, size = latest[at - 1]
                out.append(
                    Failure(
                        index,
                        entry_type,
                        "log.backdated",
                        f"timed {time}, but the head of size {size} signed at {head_time} "
                        "shows the log without it then",
                    )
                )
        return out


def _line_time(line: bytes) -> str:
    at = line.rfind(b'"time":"')
    return line[at + 8 : at + 28].decode("ascii", "replace") if at >= 0 else ""


def check_heads(
    path: Path, state: ElectionState, tree: LogRoots, times: dict[int, str] | None = None
) -> tuple[list[Failure], int, list[tuple[int, str]]]:
    """Check the published tree heads against the log itself: each is signed by the board
    key of the manifest (``log.signature``), for this election (``log.election``), in
    order of size and time (``log.order``), not timed before the last entry it covers
    (``log.time``; ``times`` maps a size to that entry's time), its root is the Merkle root
    of that many entries (``log.root``), and the last one covers the whole log
    (``log.complete``). Returns the failures, the number of heads read and the ``(size,
    time)`` of each head whose signature checked."""
    manifest = state.manifest
    assert manifest is not None
    failures: list[Failure] = []
    signed: list[tuple[int, str]] = []
    if not path.is_file():
        return [Failure(len(tree), "log", "log.heads", f"no {HEADS_FILE} beside the log")], 0, []
    previous: TreeHead | None = None
    count = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            count += 1

            def fail(check: str, reason: str, number: int = number) -> None:
                failures.append(Failure(number, "head", check, reason))

            try:
                head = TreeHead.from_dict(loads(raw.rstrip(b"\n")))
            except DecodeError as exc:
                fail("log.decode", str(exc))
                continue
            if head.election_id != manifest.election_id:
                fail("log.election", f"head for election {head.election_id!r}")
                continue
            try:
                head.verify(manifest.board_key, manifest.fingerprint)
            except VerificationError as exc:
                fail("log.signature", str(exc))
                continue
            signed.append((head.size, head.time))
            if previous is not None and (head.size < previous.size or head.time < previous.time):
                fail(
                    "log.order",
                    f"head of size {head.size} at {head.time} comes after "
                    f"size {previous.size} at {previous.time}",
                )
            last = (times or {}).get(head.size, "")
            if head.size > len(tree):
                fail("log.root", f"head of size {head.size} but the log has {len(tree)} entries")
            elif head.root != tree.root(head.size):
                fail(
                    "log.root",
                    f"the signed root of size {head.size} is not the root of the "
                    "log's first entries: the log was changed after the head was signed",
                )
            elif last and head.time < last:
                fail(
                    "log.time",
                    f"head of size {head.size} signed at {head.time}, before its "
                    f"last entry's time {last}",
                )
            previous = head
    if previous is None or previous.size != len(tree):
        covered = 0 if previous is None else previous.size
        failures.append(
            Failure(
                len(tree),
                "log",
                "log.complete",
                f"the last signed head covers {covered} of {len(tree)} entries",
            )
        )
    return failures, count, signed
