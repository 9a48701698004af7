"""Chunks of the log checked on a pool of processes of this machine (``verivote verify
--jobs N``, N ≥ 2).

A :class:`PoolChunks` is the :class:`~verivote.verify.chunked.ChunkMapper` of a
:mod:`multiprocessing` pool: the setup (the record's path, the first ballot, the heads'
claims, the manifest, the joint key and the roll) goes to each worker once, when it
starts; then each task is one chunk of the log, which the worker reads from the record
itself (:func:`~verivote.verify.chunk_scan.scan_chunk`). The main process only applies
the order-dependent rules to the chunks' results (:mod:`verivote.verify.chunked`): it
never reads a ballot, hashes the log or pickles a line.

At most ``window`` chunks are in flight (results waiting in the main process included),
so memory does not grow with the record. Dask (:mod:`verivote.verify.dask_runner`) is the
engine for several machines; this is the one for one.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.pool import AsyncResult
from typing import Any

from verivote.election.checker import BallotChecker
from verivote.verify.chunk_scan import ChunkResult, ChunkTask, scan_chunk
from verivote.verify.chunked import ChunkSetup
from verivote.verify.pipeline import new_checker

_setup: ChunkSetup | None = None
_checker: BallotChecker | None = None
_broken: Exception | None = None


def _init_worker(setup: ChunkSetup) -> None:
    """A worker's start: build its checker once, and keep the setup without the roll
    (the checker holds it). An error is kept for the first task to raise: a pool whose
    initializer fails would start new workers for ever."""
    global _setup, _checker, _broken
    try:
        _checker = None if setup.checker is None else new_checker(*setup.checker)
    except Exception as exc:  # raised again by every task, in the main process
        _broken = exc
    _setup = ChunkSetup(setup.path, setup.first_ballot, setup.claims, None)


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

    def start(self, setup: ChunkSetup) -> None:
        """Start the worker processes, each with ``setup``."""
        ctx = multiprocessing.get_context("spawn")
        self.pool = ctx.Pool(self.jobs, _init_worker, (setup,))

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
