"""Ballot checking on worker processes for the verifier (``verivote verify --jobs N``).

The main process reads the record in order. Ballot lines are batched and sent to a pool of
processes, each holding a :class:`~verivote.election.checker.BallotChecker`; a batch comes
back as one :class:`~verivote.election.checker.BallotResult` per line plus the batch's
partial tally. The main process applies the results in log order with
:meth:`~verivote.election.state.ElectionState.apply_result` and merges the partial tallies.
Any other entry first waits for every earlier batch, so the rule book always sees the log in
order. With one job the same checker runs in the main process.

Where the batches run is a :class:`BallotRunner`: the main process (:class:`LocalRunner`), a
pool of processes on this machine (:class:`PoolRunner`), or a Dask cluster
(:mod:`verivote.verify.dask_runner`). The pipeline itself never changes: the order-dependent
rules are applied here, in the main process, whatever ran the checks.
"""

from __future__ import annotations

import multiprocessing
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from typing import Any, Protocol

from verivote.election.checker import BallotChecker, BallotResult
from verivote.election.manifest import Manifest
from verivote.election.state import ElectionState
from verivote.election.tally import TallyAccumulator
from verivote.errors import EntryRejected

BATCH = 2048
"""Ballot lines per batch: each batch's proofs are checked as one random linear combination
(one multi-scalar multiplication in groups that have one), so batches of thousands are what
make the per-term cost fall; at 2,048 a batch is a few MiB in flight."""
Batch = list[tuple[int, bytes]]
Outcome = tuple[list[BallotResult], TallyAccumulator]
RollRows = list[tuple[bytes, str, int]]


class Pending(Protocol):
    """A batch under way: :meth:`result` waits for its outcome."""

    def result(self) -> Outcome: ...


class BallotRunner(Protocol):
    """Where ballot batches are checked. ``start`` is called once, when the first ballot
    comes (the roll as published by then); ``submit`` may return before the batch is done;
    ``added`` is every credential added to the roll since ``start``, in order."""

    def start(self, manifest: Manifest, joint_key: bytes, roll: RollRows) -> None: ...

    def submit(self, batch: Batch, added: RollRows) -> Pending: ...

    def capacity(self) -> int:
        """How many batches can usefully run at once; the window of batches in flight is
        four times this (0: the runner finishes each batch in ``submit``)."""
        ...

    def close(self) -> None: ...


def check_batch(checker: BallotChecker, batch: Batch, added: RollRows) -> Outcome:
    """Check and tally one batch on ``checker``, the proofs of all its ballots together
    (:meth:`~verivote.election.checker.BallotChecker.check_many`: the same results as one
    by one); its partial tally is taken and reset."""
    checker.add_credentials(added)
    results = checker.check_many(batch)
    return results, checker.take_partial()


@dataclass(frozen=True, slots=True)
class PackedRoll:
    """The roll as a worker needs it (each credential's category and weight), in a few
    objects whatever its size: the 32-byte keys end to end, and for each the index of its
    ``(category, weight)`` in ``classes`` (4 bytes each, native order: for processes of
    one machine or cluster of the same build)."""

    keys: bytes
    which: bytes
    classes: tuple[tuple[str, int], ...]

    @classmethod
    def pack(cls, rows: Iterable[tuple[bytes, str, int]]) -> PackedRoll:
        """Pack ``(key, category, weight)`` rows (keys of 32 bytes; ValueError otherwise)."""
        keys = bytearray()
        which = array("I")
        classes: dict[tuple[str, int], int] = {}
        for key, category, weight in rows:
            if len(key) != 32:
                raise ValueError("a credential is 32 bytes")
            keys += key
            which.append(classes.setdefault((category, weight), len(classes)))
        return cls(bytes(keys), which.tobytes(), tuple(classes))

    def mapping(self) -> dict[bytes, tuple[str, int]]:
        """Key → ``(category, weight)``, one tuple per class shared by its keys."""
        which = array("I")
        which.frombytes(self.which)
        keys, classes = self.keys, self.classes
        return {keys[32 * n : 32 * n + 32]: classes[c] for n, c in enumerate(which)}


def new_checker(
    manifest: dict[str, Any], joint_key: bytes, roll: RollRows | PackedRoll
) -> BallotChecker:
    """A checker built from the plain data a worker receives."""
    m = Manifest.from_dict(manifest)
    key = m.group.decode_element(joint_key)
    checker = BallotChecker(m, key)
    # the checker's roll, built here once (not copied): one tuple per (category, weight)
    if isinstance(roll, PackedRoll):
        checker.roll = roll.mapping()
    else:
        classes: dict[tuple[str, int], tuple[str, int]] = {}
        checker.roll = {k: classes.setdefault((c, w), (c, w)) for k, c, w in roll}
    return checker


class _Done:
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def result(self) -> Outcome:
        return self.outcome


class LocalRunner:
    """Checks every batch at once, in this process."""

    def __init__(self) -> None:
        self.checker: BallotChecker | None = None

    def start(self, manifest: Manifest, joint_key: bytes, roll: RollRows) -> None:
        self.checker = BallotChecker(
            manifest, manifest.group.decode_element(joint_key), {k: (c, w) for k, c, w in roll}
        )

    def submit(self, batch: Batch, added: RollRows) -> Pending:
        assert self.checker is not None
        return _Done(check_batch(self.checker, batch, added))

    def capacity(self) -> int:
        return 0

    def close(self) -> None:
        self.checker = None


_worker: BallotChecker | None = None


def _init_worker(manifest: dict[str, Any], joint_key: bytes, roll: RollRows) -> None:
    global _worker
    _worker = new_checker(manifest, joint_key, roll)


def _check_batch(batch: Batch, added: RollRows) -> Outcome:
    assert _worker is not None
    return check_batch(_worker, batch, added)


class _PoolPending:
    def __init__(self, handle: AsyncResult[Outcome]) -> None:
        self.handle = handle

    def result(self) -> Outcome:
        return self.handle.get()


class PoolRunner:
    """Checks batches on ``jobs`` worker processes of this machine."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: Any = None

    def start(self, manifest: Manifest, joint_key: bytes, roll: RollRows) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pool = ctx.Pool(self.jobs, _init_worker, (manifest.to_dict(), joint_key, roll))

    def submit(self, batch: Batch, added: RollRows) -> Pending:
        return _PoolPending(self.pool.apply_async(_check_batch, (batch, added)))

    def capacity(self) -> int:
        return self.jobs

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None


class BallotPipeline:
    """Checks ballot lines in order-preserving batches of ``batch_size`` lines (fewer
    before any other entry, which waits for every earlier ballot), on ``jobs`` processes
    or on the given ``runner``."""

    def __init__(
        self,
        state: ElectionState,
        jobs: int,
        on_failure: Callable[[int, str, str], None],
        runner: BallotRunner | None = None,
        batch_size: int = BATCH,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.state = state
        self.batch_size = batch_size
        self.runner: BallotRunner = runner or (PoolRunner(jobs) if jobs > 1 else LocalRunner())
        self.on_failure = on_failure
        self.batch: Batch = []
        self.pending: deque[Pending] = deque()
        self.started = False
        self.sent_roll = 0
        self.added: RollRows = []

    def _start(self) -> None:
        roll = self.state.roll_view()
        self.sent_roll = len(roll)
        manifest = self.state.manifest
        key = self.state.joint_key
        assert manifest is not None and key is not None
        self.runner.start(manifest, key.to_bytes(), roll)
        self.started = True

    def add(self, index: int, line: bytes) -> None:
        """Queue the ballot line at ``index``."""
        if not self.started:
            self._start()
        self.batch.append((index, line))
        if len(self.batch) >= self.batch_size:
            self._submit()

    def _submit(self) -> None:
        if not self.batch:
            return
        size = self.state.roll_size()
        if size > self.sent_roll:  # credentials added by amendments since the start
            self.added.extend(self.state.roll_view(self.sent_roll))
            self.sent_roll = size
        batch, self.batch = self.batch, []
        self.pending.append(self.runner.submit(batch, list(self.added)))
        while len(self.pending) > 4 * self.runner.capacity():
            self._apply(self.pending.popleft())

    def _apply(self, item: Pending) -> None:
        results, partial = item.result()
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
        """Stop the runner (its worker processes, if any)."""
        self.runner.close()
