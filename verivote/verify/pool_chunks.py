"""Chunks of the log checked on a pool of processes of this machine (``verivote verify
--jobs N``, N ≥ 2).

A :class:`PoolChunks` is the :class:`~verivote.verify.chunked.ChunkMapper` of a
:mod:`multiprocessing` pool. While the main process applies the setup entries, the workers
check the roll's halves ahead of it (:mod:`verivote.verify.setup_scan`); then the setup (the
record's path, the first ballot, the heads' claims, the manifest, the joint key and the
roll) goes to each worker once; then each task is one chunk of the log, which the worker
reads from the record itself (:func:`~verivote.verify.chunk_scan.scan_chunk`). The main
process only applies the order-dependent rules to the chunks' results
(:mod:`verivote.verify.chunked`): it never reads a ballot, hashes the log or pickles a
line.

At most ``window`` chunks are in flight (results waiting in the main process included),
so memory does not grow with the record. Dask (:mod:`verivote.verify.dask_runner`) is the
engine for several machines; this is the one for one.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.pool import AsyncResult
from typing import Any

from verivote.election.checker import BallotChecker
from verivote.election.roll import RollItem, precheck_halves
from verivote.verify.chunk_scan import ChunkResult, ChunkTask, scan_chunk
from verivote.verify.chunked import ChunkSetup
from verivote.verify.pipeline import new_checker
from verivote.verify.setup_scan import Answer

INSTALL_SECONDS = 600.0
"""How long a worker that has its setup waits for the others to take theirs."""

_barrier: Any = None
_setup: ChunkSetup | None = None
_checker: BallotChecker | None = None
_broken: Exception | None = None


def _init_worker(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _install(setup: ChunkSetup) -> None:
    """Take ``setup``: build this worker's checker once, and keep the setup without the
    roll (the checker holds it); then wait until every worker has taken one, so that no
    worker takes two. An error is kept for the chunks to raise."""
    global _setup, _checker, _broken
    _broken = None
    try:
        _checker = None if setup.checker is None else new_checker(*setup.checker)
    except Exception as exc:  # raised again by every chunk, in the main process
        _broken = exc
    _setup = ChunkSetup(setup.path, setup.first_ballot, setup.claims, None)
    _barrier.wait(INSTALL_SECONDS)


def _run_chunk(task: ChunkTask) -> ChunkResult:
    if _broken is not None:
        raise _broken
    assert _setup is not None
    return scan_chunk(_setup.path, task, _setup.first_ballot, _setup.claims, _checker)


class PoolChunks:
    """Reads and checks chunks of the log on ``jobs`` worker processes of this machine (a
    :class:`~verivote.verify.chunked.ChunkMapper`).

    ``window`` chunks at most are under way or waiting (default: two per worker, plus
    one). An error in a worker (OSError when it cannot read the record,
    :class:`~verivote.verify.index.IndexMismatch` when a chunk is not where the index
    says) is raised here, from :meth:`map`. Raises ValueError when ``jobs`` < 1."""

    def __init__(self, jobs: int, window: int | None = None) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        self.window = window or 2 * jobs + 1
        self.pool: Any = None

    def _pool(self) -> Any:
        if self.pool is None:
            ctx = multiprocessing.get_context("spawn")
            barrier = ctx.Barrier(self.jobs)
            self.pool = ctx.Pool(self.jobs, _init_worker, (barrier,))
        return self.pool

    def precheck(self, fingerprint: bytes, items: Sequence[RollItem]) -> Callable[[], Answer]:
        """Queue :func:`~verivote.election.roll.precheck_halves` on a worker."""
        handle = self._pool().apply_async(precheck_halves, (fingerprint, items))
        return lambda: handle.get()

    def start(self, setup: ChunkSetup) -> None:
        """Give every worker ``setup`` (starting them if no roll was checked ahead)."""
        pool = self._pool()
        for handle in [pool.apply_async(_install, (setup,)) for _ in range(self.jobs)]:
            handle.get()

    def threads(self) -> int:
        """The number of worker processes."""
        return self.jobs

    def map(self, tasks: Sequence[ChunkTask]) -> Iterator[ChunkResult]:
        """The chunks' results in the tasks' order."""
        pool = self.pool
        assert pool is not None, "start() first"
        queue: deque[AsyncResult[ChunkResult]] = deque()
        todo = iter(tasks)
        for task in todo:
            queue.append(pool.apply_async(_run_chunk, (task,)))
            if len(queue) >= self.window:
                break
        while queue:
            result = queue.popleft().get()
            for task in todo:
                queue.append(pool.apply_async(_run_chunk, (task,)))
                break
            yield result

    def close(self) -> None:
        """Stop the workers (at once: chunks still under way are dropped)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
