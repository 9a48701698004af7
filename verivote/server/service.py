"""The board behind the HTTP routes: casting (idempotent), reading, and the schedule of
published heads. Nothing here knows HTTP beyond :class:`Problem`, the error answer."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from verivote.board.log import Board
from verivote.board.receipt import Receipt, issue_receipt
from verivote.election.checker import BallotResult
from verivote.election.entries import Entry, entry_from_dict
from verivote.election.state import BallotCheck
from verivote.encoding import dumps
from verivote.errors import ConflictError, DecodeError, EntryRejected, StoreError, VerivoteError
from verivote.server.pool import MALFORMED, ProofPool, with_selections

log = logging.getLogger("verivote.board")


class Problem(Exception):
    """An error answer: HTTP ``status`` with ``{"error": check, "reason": reason}`` (and
    ``headers``, such as ``Retry-After``)."""

    def __init__(
        self, status: int, check: str, reason: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{check}: {reason}")
        self.status, self.check, self.reason = status, check, reason
        self.headers = headers or {}


@dataclass(slots=True)
class _Ticket:
    """One cast waiting for the group commit."""

    entry: Entry
    checked: BallotCheck | None
    index: int = -1
    fresh: bool = False
    answer: Cast | None = None
    problem: Problem | None = None
    finished: bool = False


@dataclass(frozen=True, slots=True)
class Cast:
    """A cast's answer: where the entry is, whether this post stored it (False: it was
    already on the board, posted before), its record line and a fresh receipt."""

    index: int
    fresh: bool
    line: bytes
    receipt: Receipt


class BoardService:
    """The board behind the HTTP routes. One lock orders appends, receipts, heads and
    proofs (a receipt's head and proof must describe the same tree); a ballot's
    signature and proofs are checked before the lock is taken — on ``workers`` processes
    if ``workers`` ≥ 1, else in the calling thread. Other writers on the same store
    (further front ends) are caught up with every ``refresh_every`` seconds. A head is
    published when the log has grown and the last one is ``head_every`` seconds old
    (:meth:`publish_due`); reads never publish."""

    def __init__(
        self,
        board: Board,
        refresh_every: float = 0.5,
        head_every: float = 5.0,
        workers: int = 0,
    ) -> None:
        self.board = board
        self.lock = threading.Lock()
        self.refresh_every = refresh_every
        self.head_every = head_every
        self.workers = workers
        self._refreshed = time.monotonic()
        self._published = time.monotonic()
        self._pool: ProofPool | None = None
        self._pool_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._queue_lock = threading.Lock()

    # ------------------------------------------------------------------ state
    def _fresh(self) -> None:
        """Catch up with other writers now and then (call under the lock)."""
        now = time.monotonic()
        if now - self._refreshed >= self.refresh_every:
            self.board.refresh()
            self._refreshed = now

    def size(self) -> int:
        """The number of entries (caught up)."""
        with self.lock:
            self._fresh()
            return len(self.board)

    def published_size(self) -> int:
        """How many entries the last published head covers (caught up)."""
        with self.lock:
            self._fresh()
            return self.board.heads[-1].size if self.board.heads else 0

    def close(self) -> None:
        """Keep a snapshot of the board's state in its store (so the next start replays
        only what follows; a failure is logged) and stop the proof workers, if any."""
        with self.lock:
            try:
                self.board.save_snapshot()
            except VerivoteError as exc:
                log.warning("board: no snapshot on closing (%s)", exc)
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    # ------------------------------------------------------------------ casting
    def decode(self, obj: dict[str, Any]) -> Entry:
        """The posted object as an entry timed now; Problem 400 if it does not decode."""
        try:
            entry = entry_from_dict({**obj, "time": self.board.clock()})
            # with its canonical line, the entry slices its body bytes out of it instead of
            # encoding the body again for every look-up
            return replace(entry, line=dumps(entry.to_dict()))
        except DecodeError as exc:
            raise Problem(400, "request.entry", str(exc)) from None

    def find(self, entry: Entry) -> Cast | None:
        """The answer for an entry already on the board (posted before), or None."""
        with self.lock:
            self._fresh()
            index = self.board.find(entry)
            if index is None:
                return None
            return self._answer(index, False)

    def _answer(self, index: int, fresh: bool) -> Cast:
        receipt = issue_receipt(self.board, index)
        return Cast(index, fresh, self.board.store.line(index), receipt)

    def submit_check(self, entry: Entry) -> Future[BallotResult] | None:
        """Start a ballot's state-free checks on a worker process; None when they run in
        :meth:`cast` instead (no workers, not a ballot, no joint key yet)."""
        pool = self._proof_pool(entry.type)
        if pool is None:
            return None
        return pool.submit(len(self.board), entry.to_line())

    def warm(self) -> None:
        """Start the proof workers now if ballots can be cast (the joint key is known)."""
        pool = self._proof_pool("ballot")
        if pool is not None:
            pool.warm()

    def _proof_pool(self, entry_type: str) -> ProofPool | None:
        st = self.board.state
        if self.workers < 1 or entry_type != "ballot" or st.joint_key is None:
            return None
        if st.roll is None or st.manifest is None:
            return None
        with self._pool_lock:
            key = (st.manifest.fingerprint, st.joint_key.to_bytes())
            if self._pool is None or self._pool.key != key:
                if self._pool is not None:
                    self._pool.close()
                self._pool = ProofPool(self.workers, st.manifest, key[1])
            return self._pool

    def cast(self, entry: Entry, result: BallotResult | None = None) -> Cast:
        """Validate and append a public entry, idempotently (an entry already on the board
        gets its original index and a fresh receipt). ``result`` is a worker's check of the
        ballot, if one ran. Raises Problem: 422 with the rule's check, 503 ``board.busy``
        when the store kept losing races or failed.

        Group commit: casts that arrive while another is being committed queue up, and the
        next thread to take the lock appends every queued one in one store transaction (one
        flush to disk), then issues their receipts — each only after the commit."""
        ticket = _Ticket(entry, self._checked(entry, result))
        with self._queue_lock:
            self._queue.append(ticket)
        with self.lock:
            if not ticket.finished:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if ticket.problem is not None:
            raise ticket.problem
        assert ticket.answer is not None
        return ticket.answer

    def post(self, entry: Entry) -> tuple[int, bytes]:
        """Validate and append an authored entry (organiser, trustee, registrar, issuer);
        returns its index and stored line. Raises Problem: 422 with the rule's check, 503
        ``board.busy`` when the store kept losing races or failed."""
        with self.lock:
            self._fresh()
            try:
                index, _ = self.board.cast(entry, None, stamp=True)
            except EntryRejected as exc:
                raise Problem(422, exc.check, exc.reason) from None
            except (ConflictError, StoreError) as exc:
                raise Problem(
                    503, "board.busy", f"try again: {exc}", {"Retry-After": "1"}
                ) from None
            return index, self.board.store.line(index)

    def _commit(self, batch: list[_Ticket]) -> None:
        """Append ``batch`` in one transaction and answer each ticket (under the lock)."""
        try:
            with self.board.batch():
                for ticket in batch:
                    try:
                        ticket.index, ticket.fresh = self.board.cast(
                            ticket.entry, ticket.checked, stamp=True
                        )
                    except EntryRejected as exc:
                        ticket.problem = Problem(422, exc.check, exc.reason)
            for ticket in batch:
                if ticket.problem is None:
                    ticket.answer = self._answer(ticket.index, ticket.fresh)
        except (ConflictError, StoreError) as exc:
            for ticket in batch:
                ticket.problem = Problem(
                    503, "board.busy", f"try again: {exc}", {"Retry-After": "1"}
                )
        finally:
            for ticket in batch:
                if ticket.problem is None and ticket.answer is None:
                    ticket.problem = Problem(
                        503, "board.busy", "try again: the append failed", {"Retry-After": "1"}
                    )
                ticket.finished = True

    def _checked(self, entry: Entry, result: BallotResult | None) -> BallotCheck | None:
        """A ballot's state-free checks (signature, encoding, proofs), outside the lock."""
        st = self.board.state
        if entry.type != "ballot" or st.joint_key is None or st.roll is None:
            return None
        if result is not None and st.manifest is not None:
            return with_selections(st.manifest, entry.body, result)
        try:
            return st.checker().check(len(self.board), entry)
        except MALFORMED as exc:
            reason = f"malformed entry ({type(exc).__name__}: {exc})"
            raise Problem(422, "ballot.decode", reason) from None

    # ------------------------------------------------------------------ heads
    def publish_due(self, force: bool = False) -> int | None:
        """Publish a head of the whole log if it has grown since the last one and that one
        is :attr:`head_every` seconds old (or ``force``); returns the new head's size, or
        None when nothing was published."""
        with self.lock:
            now = time.monotonic()
            if not force and now - self._published < self.head_every:
                return None
            self.board.refresh()
            self._refreshed = now
            covered = self.board.heads[-1].size if self.board.heads else 0
            if self.board.state.manifest is None or covered == len(self.board):
                return None
            self._published = now
            return self.board.checkpoint().size

    # ------------------------------------------------------------------ reading
    def line(self, index: int) -> bytes:
        """Entry ``index``'s record line; Problem 404 beyond the log."""
        size = self.size()
        if index >= size:
            raise Problem(404, "request.index", f"no entry {index}: the board has {size}")
        return self.board.store.line(index)

    def page(self, start: int, end: int | None, cap: int) -> bytes:
        """``{"start", "end", "size", "entries"}`` for at most ``cap`` entries, built from
        the stored lines without re-encoding them."""
        size = self.size()
        if start > size:
            raise Problem(400, "request.query", f"start {start} is beyond the {size} entries")
        stop = min(size, start + cap, size if end is None else max(start, end))
        lines = list(self.board.store.lines(start, stop))
        return b"".join(
            [
                b'{"end":%d,"entries":[' % stop,
                b",".join(lines),
                b'],"size":%d,"start":%d}' % (size, start),
            ]
        )

    def head(self) -> dict[str, Any]:
        """A freshly signed head of the whole log (signed, not published)."""
        with self.lock:
            self._fresh()
            if self.board.state.manifest is None:
                raise Problem(503, "board.empty", "the board holds no election yet")
            return self.board.head().to_dict()

    def inclusion(self, index: int, size: int) -> dict[str, Any]:
        """The inclusion proof of ``index`` in the tree of ``size`` entries."""
        with self.lock:
            self._fresh()
            have = len(self.board)
            if not index < size <= have:
                raise Problem(400, "request.query", f"need index < size <= {have}")
            proof = self.board.tree.inclusion_proof(index, size)
        return {"index": index, "size": size, "proof": [p.hex() for p in proof]}

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        """The consistency proof from the tree of ``first`` entries to ``second``."""
        with self.lock:
            self._fresh()
            have = len(self.board)
            if not first <= second <= have:
                raise Problem(400, "request.query", f"need first <= second <= {have}")
            proof = self.board.tree.consistency_proof(first, second)
        return {"first": first, "second": second, "proof": [p.hex() for p in proof]}

    def heads(self) -> bytes:
        """``heads.jsonl``: the published heads, one per line."""
        return b"".join(h + b"\n" for h in self.board.store.heads())
