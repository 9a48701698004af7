"""Ballot checking on worker processes for the verifier (``verivote verify --jobs N``).

The main process reads the record in order. Ballot lines are batched and sent to a pool of
processes, each holding a :class:`~verivote.election.checker.BallotChecker`; a batch comes
back as one :class:`~verivote.election.checker.BallotResult` per line plus the batch's
partial tally. The main process applies the results in log order with
:meth:`~verivote.election.state.ElectionState.apply_result` and merges the partial tallies.
Any other entry first waits for every earlier batch, so the rule book always sees the log in
order. With one job the same checker runs in the main process.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable
from multiprocessing.pool import AsyncResult
from typing import Any

from verivote.election.checker import BallotChecker, BallotResult
from verivote.election.manifest import Manifest
from verivote.election.state import ElectionState
from verivote.election.tally import TallyAccumulator
from verivote.errors import EntryRejected

BATCH = 48
Batch = list[tuple[int, bytes]]
Outcome = tuple[list[BallotResult], TallyAccumulator]

_worker: BallotChecker | None = None


def _init_worker(
    manifest: dict[str, Any], joint_key: bytes, roll: list[tuple[bytes, str, int]]
) -> None:
    global _worker
    m = Manifest.from_dict(manifest)
    key = m.group.decode_element(joint_key)
    _worker = BallotChecker(m, key, {k: (c, w) for k, c, w in roll})


def _check_batch(batch: Batch, added: list[tuple[bytes, str, int]]) -> Outcome:
    assert _worker is not None
    _worker.add_credentials(added)
    results = [_worker.check_and_tally(index, line) for index, line in batch]
    return results, _worker.take_partial()


class BallotPipeline:
    """Checks ballot lines in order-preserving batches, on ``jobs`` processes."""

    def __init__(
        self,
        state: ElectionState,
        jobs: int,
        on_failure: Callable[[int, str, str], None],
    ) -> None:
        self.state = state
        self.jobs = jobs
        self.on_failure = on_failure
        self.batch: Batch = []
        self.pending: deque[AsyncResult[Outcome] | Outcome] = deque()
        self.pool: Any = None
        self.local: BallotChecker | None = None
        self.sent_roll = 0
        self.added: list[tuple[bytes, str, int]] = []

    def _start(self) -> None:
        roll = self.state.roll_view()
        self.sent_roll = len(roll)
        manifest = self.state.manifest
        key = self.state.joint_key
        assert manifest is not None and key is not None
        if self.jobs > 1:
            ctx = multiprocessing.get_context("spawn")
            self.pool = ctx.Pool(
                self.jobs, _init_worker, (manifest.to_dict(), key.to_bytes(), roll)
            )
        else:
            self.local = BallotChecker(manifest, key, {k: (c, w) for k, c, w in roll})

    def add(self, index: int, line: bytes) -> None:
        """Queue the ballot line at ``index``."""
        if self.pool is None and self.local is None:
            self._start()
        self.batch.append((index, line))
        if len(self.batch) >= BATCH:
            self._submit()

    def _submit(self) -> None:
        if not self.batch:
            return
        size = self.state.roll_size()
        if size > self.sent_roll:  # credentials added by amendments since the start
            self.added.extend(self.state.roll_view(self.sent_roll))
            self.sent_roll = size
        batch, self.batch = self.batch, []
        if self.pool is not None:
            self.pending.append(self.pool.apply_async(_check_batch, (batch, list(self.added))))
            while len(self.pending) > 4 * self.jobs:
                self._apply(self.pending.popleft())
        else:
            assert self.local is not None
            self.local.add_credentials(self.added)
            results = [self.local.check_and_tally(i, line) for i, line in batch]
            self._apply((results, self.local.take_partial()))

    def _apply(self, item: AsyncResult[Outcome] | Outcome) -> None:
        results, partial = item if isinstance(item, tuple) else item.get()
        self.state.merge_partial(partial)
        for result in results:
            try:
                self.state.apply_result(result)
            except EntryRejected as exc:
                self.on_failure(result.index, exc.check, exc.reason)
                self.state.skip()

    def drain(self) -> None:
        """Apply every queued ballot, in order; afterwards the state is up to date."""
        self._submit()
        while self.pending:
            self._apply(self.pending.popleft())

    def close(self) -> None:
        """Stop the worker processes."""
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None
