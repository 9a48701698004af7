"""The board: entries appended in order after the election's rules accept them, under a
Merkle tree whose heads the board operator signs, kept in a :class:`~verivote.board.store.Store`
(in memory by default; SQLite or PostgreSQL to survive restarts and to share one board
between several front-end processes).

Every entry goes through :meth:`verivote.election.state.ElectionState.apply` before it is
stored, so an invalid entry never reaches the log: the board refuses it with the same
:class:`~verivote.errors.EntryRejected` the verifier would report.

Published tree heads (``heads.jsonl`` in the record) are signed after every entry that
changes the election's phase (manifest, joint key, open, close, tally, result), every
:data:`CHECKPOINT_EVERY` entries, on :meth:`Board.checkpoint` (which the HTTP service calls
on a schedule) and on export, so the last one covers the whole log. Reading never publishes.

Idempotent posting. The board remembers, for every ``ballot`` and ``audit`` entry, a key of
what its author signed (type, body, signature — not the board's time). :meth:`Board.cast`
answers a re-post of an entry already on the log with the original index instead of
refusing it as a duplicate, so a voter whose cast was stored but never acknowledged (a
crash, a timeout) can post the same ballot again and obtain its receipt.

Snapshots. Every :data:`SNAPSHOT_EVERY` entries (further apart when the state has grown so
large that writing it would take more than :data:`SNAPSHOT_SHARE` of the board's time),
after every phase change and on
:meth:`Board.save_snapshot` (which the HTTP service calls when it stops), a board on a
durable store keeps a signed snapshot of its state in the store
(:mod:`verivote.board.snapshot`). A board opened on the store starts from the snapshot
once it checks and replays only the entries after it; a missing or refused snapshot means
a replay of the whole log, with one log line saying why.

Several writers. Each append runs under the store's writer lock (a database lock, valid
across processes and machines): catch up with what other writers stored, run the
election's stateful checks, store, commit. A ballot's proofs — the expensive,
state-independent part — are checked before the lock is taken. Should a store still
report a lost race (:class:`~verivote.errors.ConflictError`, a writer that bypassed the
lock), the board rebuilds its state from the store and retries, :data:`MAX_ATTEMPTS`
times at most.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from verivote.board import snapshot
from verivote.board.heads import TreeHead, sign_head
from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.board.store import MemoryStore, Store
from verivote.election.ballot import decode_ballot, tracking_code
from verivote.election.checker import BallotResult, dedup_key
from verivote.election.entries import Entry, entry_from_line, sign_entry
from verivote.election.state import BallotCheck, ElectionState
from verivote.election.state_codec import snapshottable
from verivote.encoding import dumps, loads
from verivote.errors import (
    ConflictError,
    DecodeError,
    EntryRejected,
    StoreError,
    VerificationError,
    VerivoteError,
)
from verivote.signatures import Signer

RECORD_FILE = "board.jsonl"
HEADS_FILE = "heads.jsonl"
CHECKPOINT_EVERY = 1000
CHECKPOINT_TYPES = frozenset({"election", "joint_key", "open", "close", "tally", "result"})
MAX_ATTEMPTS = 3
SNAPSHOT_EVERY = 1000
SNAPSHOT_SHARE = 0.05
IDEMPOTENT_TYPES = frozenset({"ballot", "audit"})
log = logging.getLogger("verivote.board")


def posted_key(entry: Entry) -> int:
    """The key under which :meth:`Board.cast` finds an entry posted again: a 128-bit hash
    of its type, signature and body bytes (the board's time left out)."""
    return dedup_key(entry.type.encode() + b"\0" + entry.signature + entry.body_bytes)


class Board:
    """An append-only log of one election. ``clock()`` gives each entry its time;
    ``operator`` is the board operator's key (``board_key`` in the manifest); ``store``
    keeps the log (a fresh :class:`~verivote.board.store.MemoryStore` by default).
    ``snapshot_every`` entries apart (and at phase changes) the board keeps a snapshot of
    its state in the store; with 0 only on :meth:`save_snapshot`; by default
    :data:`SNAPSHOT_EVERY`, or 0 for a memory store.

    A store that already holds entries is replayed first, as :meth:`open` does.
    ``len(board)``, iteration, :meth:`entry`, ``state``, ``tree`` and ``heads`` show this
    board's view: everything up to its last append or :meth:`refresh`.
    """

    def __init__(
        self,
        clock: Callable[[], str],
        operator: Signer,
        store: Store | None = None,
        *,
        snapshot_every: int | None = None,
    ) -> None:
        self.clock = clock
        self.operator = operator
        self.store: Store = MemoryStore() if store is None else store
        if snapshot_every is None:
            snapshot_every = 0 if isinstance(self.store, MemoryStore) else SNAPSHOT_EVERY
        self.snapshot_every = snapshot_every
        self._snapshot_at = 0
        self._snapshot_cost = 0.0  # seconds the last snapshot took to write
        self._snapshot_time = 0.0  # and when it was written (time.monotonic)
        self._lock = threading.RLock()
        self.tree = MerkleTree()
        self.heads: list[TreeHead] = []
        self.state = ElectionState(lookup=self.entry)
        self._posted: dict[int, int] = {}
        self._start()

    @classmethod
    def open(
        cls,
        store: Store,
        clock: Callable[[], str],
        operator: Signer,
        *,
        snapshot_every: int | None = None,
    ) -> Board:
        """The board kept in ``store``: its state, tree and heads rebuilt from the store's
        snapshot, if it checks (:mod:`verivote.board.snapshot`: the operator's signature,
        this election, the Merkle root of the stored leaf hashes it covers), and by
        replaying the stored entries after it (all of them without one) through the rule
        book: every entry decoded strictly and its author's signature checked, every rule
        run; only a ballot's proofs, checked before it was stored and bound to its author
        by the signature, are not checked again. Every stored head is checked against the
        rebuilt tree and the manifest's board key. A row written into the store by someone
        without its author's key does not replay. Raises StoreError naming the entry and
        the failed check (after a snapshot, only once the whole log fails too)."""
        return cls(clock, operator, store, snapshot_every=snapshot_every)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self.tree)

    def __iter__(self) -> Iterator[Entry]:
        for line in self.store.lines(0, len(self)):
            yield entry_from_line(line)

    def entry(self, index: int) -> Entry:
        """The entry at ``index`` (negative counts from the end); IndexError outside,
        StoreError if the stored line is not the one this board's tree holds (changed in
        the store behind the board's back)."""
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"no entry {index} on a board of {size}")
        line = self.store.line(index)
        if leaf_hash(line) != self.tree.leaf(index):
            raise StoreError(f"stored entry {index} is not the entry of the board's tree")
        return entry_from_line(line)

    # ------------------------------------------------------------------ catching up
    def refresh(self) -> int:
        """Catch up with the entries and heads other writers stored since this board last
        looked; returns the number of new entries. Raises StoreError if a stored entry or
        head does not replay (the store was changed behind the boards' backs)."""
        with self._lock:
            return self._catch_up(heads=True)

    def _catch_up(self, heads: bool) -> int:
        before = len(self)
        # Heads first: every head read now covers at most the entries read next.
        raw_heads = self.store.heads(len(self.heads)) if heads else []
        for line in self.store.lines(before):
            self._replay(line)
        for raw in raw_heads:
            self._load_head(raw)
        return len(self) - before

    def _start(self) -> None:
        """Catch up from the store's snapshot if it checks, else from the first entry."""
        with self._lock:
            try:
                restored = snapshot.load(self.store, self.entry)
                if restored is None and self.store.count():
                    log.info("board: no snapshot; replaying the whole log")
            except (VerivoteError, ValueError) as exc:
                log.warning("board: snapshot refused (%s); replaying the whole log", exc)
                restored = None
            if restored is not None:
                self.tree, self.state = restored.tree, restored.state
                self._posted, self._snapshot_at = restored.posted, restored.size
                try:
                    self._catch_up(heads=True)
                    return
                except StoreError as exc:
                    log.warning(
                        "board: the log does not replay after the snapshot of %d entries "
                        "(%s); replaying the whole log",
                        restored.size,
                        exc,
                    )
                self._reset()
            self._catch_up(heads=True)

    def _replay(self, line: bytes) -> None:
        index = len(self)
        try:
            entry = entry_from_line(line)
            checked = self._trusted(index, entry) if entry.type == "ballot" else None
            self.state.apply(entry, checked)
        except (DecodeError, EntryRejected) as exc:
            raise StoreError(f"stored entry {index} does not replay: {exc}") from None
        self.tree.append(leaf_hash(line))
        self._remember(entry, index)

    def _remember(self, entry: Entry, index: int) -> None:
        if entry.type in IDEMPOTENT_TYPES:
            self._posted[posted_key(entry)] = index

    def maybe_posted(self, entry: Entry) -> bool:
        """Whether ``entry`` may already be on this board's view of the log: a memory
        look-up, no store access; :meth:`find` confirms. False means it is not there."""
        return entry.type in IDEMPOTENT_TYPES and posted_key(entry) in self._posted

    def find(self, entry: Entry) -> int | None:
        """The index of the ``ballot`` or ``audit`` entry on this board's view of the log
        with ``entry``'s type, body and signature (its time may differ), or None."""
        if entry.type not in IDEMPOTENT_TYPES:
            return None
        index = self._posted.get(posted_key(entry))
        if index is None or index >= len(self):
            return None
        stored = entry_from_line(self.store.line(index))
        same = (stored.type, stored.signature, stored.body_bytes) == (
            entry.type,
            entry.signature,
            entry.body_bytes,
        )
        return index if same else None

    def _trusted(self, index: int, entry: Entry) -> BallotCheck | None:
        """A stored ballot's state-free check on replay: strict decoding (every element
        validated, in the prime-order subgroup) and its signature by the credential it
        names — so a row written into the store by anyone without that credential's key
        fails as ``ballot.signature`` — but not its proofs: the board checked them before
        it stored the ballot, the signature binds them to the credential's holder, and
        they cost several times as much again (docs/benchmarks.md). None when it does not
        decode: the rule book then checks it in full and rejects it by name."""
        manifest = self.state.manifest
        if manifest is None:
            return None
        try:
            credential, selections, _ = decode_ballot(manifest, entry.body)
        except DecodeError:
            return None
        try:
            entry.verify(credential, manifest.fingerprint, "ballot signed by its credential")
        except VerificationError as exc:
            failure = ("ballot.signature", str(exc))
            return BallotResult(index, entry.time, credential, failure), []
        tracker = dedup_key(tracking_code(manifest.fingerprint, entry.body_bytes).encode())
        alphas = tuple(dedup_key(ct.alpha.to_bytes()) for cts in selections for ct in cts)
        return BallotResult(index, entry.time, credential, None, tracker, alphas), selections

    def _load_head(self, raw: bytes) -> None:
        manifest = self.state.manifest
        try:
            head = TreeHead.from_dict(loads(raw))
            if manifest is None or head.size > len(self) or head.size < self._covered():
                raise StoreError(f"size {head.size} is out of order")
            if head.root != self.tree.root(head.size):
                raise StoreError(f"its root is not the root of the first {head.size} entries")
            head.verify(manifest.board_key, manifest.fingerprint)
        except (DecodeError, VerificationError, StoreError) as exc:
            raise StoreError(f"stored head {len(self.heads)} does not check: {exc}") from None
        self.heads.append(head)

    def _head_time(self) -> str:
        """The time of the last signed head: no later entry may be timed before it."""
        return self.heads[-1].time if self.heads else ""

    def _covered(self) -> int:
        return self.heads[-1].size if self.heads else 0

    def _reset(self) -> None:
        self.tree = MerkleTree()
        self.heads = []
        self.state = ElectionState(lookup=self.entry)
        self._posted = {}
        self._snapshot_at = 0

    def _rebuild(self) -> None:
        """Forget everything and start again from the store (after a write this board had
        accepted was rolled back by the store)."""
        self._reset()
        self._start()

    # ------------------------------------------------------------------ writing
    def append(
        self, entry: Entry, checked: BallotCheck | None = None, *, stamp: bool = False
    ) -> int:
        """Validate ``entry`` against the election so far and append it; returns its index.

        Guarantees: when this returns, the entry is committed to the store (durably, for a
        durable store) at the returned index, after every entry any writer stored before
        it. Raises EntryRejected (and stores nothing) if any rule fails; ConflictError if
        the store still reports a lost race after :data:`MAX_ATTEMPTS` tries; StoreError
        if the store fails. ``checked`` may carry the result of
        :meth:`~verivote.election.checker.BallotChecker.check` computed elsewhere (a
        worker); otherwise a ballot's signature and proofs are checked here, before the
        store's lock is taken. With ``stamp``, an entry timed before the last stored entry
        (another writer got in first) or before the last signed head is re-timed to it:
        the time is the board's, not covered by the author's signature. Without
        ``stamp``, an entry timed before the last signed head is refused
        (``log.backdated``): the head proves the entry was not on the log at that time.
        """
        return self._append(entry, checked, stamp, once=False)[0]

    def cast(
        self, entry: Entry, checked: BallotCheck | None = None, *, stamp: bool = True
    ) -> tuple[int, bool]:
        """Append a ``ballot`` or ``audit`` entry as :meth:`append` does, idempotently:
        if the same entry (type, body and signature; the time aside) is already on the log
        — looked up after catching up with every writer, under the store's lock — returns
        its index and False instead of refusing it as a duplicate; otherwise appends it
        and returns its index and True. Raises as :meth:`append`."""
        found = self.find(entry)
        if found is not None:
            return found, False
        return self._append(entry, checked, stamp, once=True)

    def _append(
        self, entry: Entry, checked: BallotCheck | None, stamp: bool, once: bool
    ) -> tuple[int, bool]:
        with self._lock:
            if once:
                found = self.find(entry)
                if found is not None:
                    return found, False
            checked = self._precheck(entry, checked)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                applied = False
                try:
                    with self.store.exclusive():
                        self._catch_up(heads=True)
                        if once:
                            found = self.find(entry)
                            if found is not None:
                                return found, False
                        floor = max(self.state.last_time, self._head_time())
                        if stamp and entry.time < floor:
                            entry = replace(entry, time=floor, line=None)
                        if entry.time < self._head_time():
                            raise EntryRejected(
                                "log.backdated",
                                f"time {entry.time} is before the signed head of "
                                f"{self._head_time()} that precedes it",
                            )
                        self.state.apply(entry, checked)
                        applied = True
                        line = entry.to_line()
                        leaf = leaf_hash(line)
                        index = self.store.append(line, leaf, len(self))
                        self.tree.append(leaf)
                        self._remember(entry, index)
                        if entry.type in CHECKPOINT_TYPES or len(self) % CHECKPOINT_EVERY == 0:
                            self._catch_up(heads=True)
                            self._publish_head()
                    if self._snapshot_due(entry.type):
                        self._try_snapshot()
                    return index, True
                except ConflictError:
                    if applied:
                        self._rebuild()
                    if attempt == MAX_ATTEMPTS:
                        raise
                except BaseException:
                    if applied:  # the store rolled back what the state accepted
                        self._rebuild()
                    raise
            raise AssertionError("not reached")  # pragma: no cover

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit: every append in the block goes into one store transaction,
        committed (durably, with one flush) when the block exits — only then are they
        stored; until then no other writer can append. An append refused inside the block
        leaves the others in it alone; if the block raises or the commit fails, nothing
        of the block is stored and this board forgets it too."""
        with self._lock:
            size, published = len(self), len(self.heads)
            try:
                with self.store.exclusive():
                    yield
            except BaseException:
                if len(self) != size or len(self.heads) != published:
                    self._rebuild()
                raise

    def _precheck(self, entry: Entry, checked: BallotCheck | None) -> BallotCheck | None:
        """A ballot's signature and proofs, checked before the store's lock is taken: they
        do not depend on the log beyond the joint key. A failure is carried to the rule
        book, which reports it after the checks that come before it."""
        if checked is not None or entry.type != "ballot":
            return checked
        if self.state.joint_key is None:
            self._catch_up(heads=False)
        st = self.state
        if st.joint_key is None or st.roll is None:
            return None  # the rule book rejects the ballot, in its order
        return st.checker().check(len(self), entry)

    def post(self, signer: Signer, entry_type: str, body: dict[str, Any]) -> int:
        """Sign ``body`` as ``signer``, time it now and append it (``stamp`` on: another
        writer's later entry moves the time up to its own)."""
        manifest = self.state.manifest
        fingerprint = b"" if manifest is None else manifest.fingerprint
        entry = sign_entry(signer, fingerprint, entry_type, body, self.clock())
        return self.append(entry, stamp=True)

    # ------------------------------------------------------------------ snapshots
    def save_snapshot(self) -> int | None:
        """Catch up with other writers, then keep a snapshot of the state in the store;
        returns the number of entries it covers, or None when the state has none (an
        empty board, ranked counting under way, an operator key that is not the
        manifest's). Raises StoreError if the store fails."""
        with self._lock, self.store.exclusive():
            self._catch_up(heads=True)
            return len(self) if self._save_snapshot() else None

    def _snapshot_due(self, entry_type: str) -> bool:
        """After a phase change; or ``snapshot_every`` entries on, unless the last snapshot
        took more than :data:`SNAPSHOT_SHARE` of the time since it was written."""
        if not self.snapshot_every:
            return False
        if entry_type in CHECKPOINT_TYPES:
            return True
        if len(self) - self._snapshot_at < self.snapshot_every:
            return False
        return time.monotonic() - self._snapshot_time >= self._snapshot_cost / SNAPSHOT_SHARE

    def _save_snapshot(self) -> bool:
        manifest = self.state.manifest
        if manifest is None or manifest.board_key != self.operator.public_key:
            return False
        if not snapshottable(self.state) or len(self) == 0:
            return False
        if self._snapshot_at != len(self):
            started = time.monotonic()
            data = snapshot.encode(self.operator, self.state, self.tree, self._posted)
            self.store.save_snapshot(len(self), data)
            self._snapshot_at = len(self)
            self._snapshot_time = time.monotonic()
            self._snapshot_cost = self._snapshot_time - started
        return True

    def _try_snapshot(self) -> None:
        """A snapshot after an append; a failure is logged, never the append's."""
        try:
            self._save_snapshot()
        except (VerivoteError, ValueError) as exc:
            log.warning("board: no snapshot at %d entries (%s)", len(self), exc)

    # ------------------------------------------------------------------ heads
    def head(self) -> TreeHead:
        """A freshly signed head of this board's view of the log (not published by
        itself); its time is never before the last entry's nor the last head's."""
        manifest = self.state.manifest
        if manifest is None:
            raise ValueError("the board is empty")
        last = self.heads[-1].time if self.heads else ""
        time = max(self.clock(), self.state.last_time, last)
        return sign_head(
            self.operator,
            manifest.fingerprint,
            manifest.election_id,
            len(self),
            self.tree.root(),
            time,
        )

    def _publish_head(self) -> TreeHead:
        """Sign and store a head of the whole log (under the store's lock, caught up)."""
        if self.heads and self.heads[-1].size == len(self):
            return self.heads[-1]
        head = self.head()
        self.store.add_head(dumps(head.to_dict()), expected=len(self.heads))
        self.heads.append(head)
        return head

    def checkpoint(self) -> TreeHead:
        """Catch up with other writers, then sign and publish a head of the whole log (or
        return the last head if it already covers it)."""
        with self._lock:
            published = len(self.heads)
            try:
                with self.store.exclusive():
                    self._catch_up(heads=True)
                    return self._publish_head()
            except BaseException:
                del self.heads[published:]  # the store rolled the head back
                raise

    def export(self, directory: Path) -> Path:
        """Write the record in ``directory``: ``board.jsonl`` (one canonical entry per line)
        and ``heads.jsonl`` (the published signed tree heads, the last covering the log);
        returns the path of ``board.jsonl``. The log is caught up and checkpointed first;
        entries other writers append meanwhile are left for the next export."""
        with self._lock:
            self.checkpoint()
            size = len(self)
            heads = [dumps(h.to_dict()) for h in self.heads]
        return write_record(directory, self.store.lines(0, size), heads)


def write_record(directory: Path, lines: Iterable[bytes], heads: Iterable[bytes]) -> Path:
    """Write ``board.jsonl`` and ``heads.jsonl`` in ``directory`` (created if needed), one
    line each, as given; returns the path of ``board.jsonl``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RECORD_FILE
    with path.open("wb") as out:
        for line in lines:
            out.write(line + b"\n")
    with (directory / HEADS_FILE).open("wb") as out:
        for head in heads:
            out.write(head + b"\n")
    return path


def export_store(store: Store, directory: Path) -> tuple[Path, int, int]:
    """Write the record of the board kept in ``store``, as far as its last published head
    covers it (a signed, consistent snapshot, without needing the operator's key); returns
    the path of ``board.jsonl``, the entries written and the entries stored. With no head
    published yet, every stored entry is written (the verifier will say no head covers
    them). Raises DecodeError if the last stored head is not a tree head."""
    heads = store.heads()
    stored = store.count()
    size = TreeHead.from_dict(loads(heads[-1])).size if heads else stored
    return write_record(directory, store.lines(0, size), heads), size, stored
