"""Ballot checks on a Dask cluster (``verivote verify RECORD --dask SCHEDULER``).

A :class:`DaskRunner` is a :class:`~verivote.verify.pipeline.BallotRunner` whose batches run
as tasks of :mod:`dask.distributed`: on a cluster whose scheduler address is given, or on a
:class:`~distributed.LocalCluster` of this machine's cores (``"local"``). The main process
still reads the record, keeps the Merkle tree and applies every order-dependent rule (voting
hours, the roll at each moment, duplicates, which ballot of a credential counts) with the
same :class:`~verivote.election.state.ElectionState` as the local verifier; the cluster only
runs the state-free checks (signatures, encodings, proofs) and returns, per batch, one small
result per ballot and the batch's partial tally. So the report, failures included, is the
one ``verivote verify`` gives on one machine.

The manifest, the joint key and the roll are sent to every worker once (``scatter`` with
``broadcast``); each batch then carries only its lines and the credentials added to the roll
since the start. Each worker thread builds its checker once per run and keeps it.

:class:`DaskChunks` is the other way, the one ``verivote verify --dask`` takes: a
:class:`~verivote.verify.chunked.ChunkMapper` whose tasks are whole chunks of the log
(:mod:`verivote.verify.chunked`), each worker reading its own byte range of the record from
a filesystem every worker shares; the main process then reads only the entries that are not
ballots, and never hashes the log.

Needs the ``dask`` extra (``pip install 'verivote[dask]'``); nothing else in verivote
imports Dask. Every worker must be able to import the same verivote version.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from verivote.election.checker import BallotChecker
from verivote.election.manifest import Manifest
from verivote.election.roll import RollItem, precheck_halves
from verivote.errors import VerivoteError
from verivote.verify.chunk_scan import ChunkResult, ChunkTask, scan_chunk
from verivote.verify.chunked import ChunkSetup
from verivote.verify.pipeline import (
    Batch,
    Outcome,
    PackedRoll,
    Pending,
    RollRows,
    check_batch,
    new_checker,
)
from verivote.verify.record import RecordUnreadable
from verivote.verify.setup_scan import Answer

_local = threading.local()


class DaskUnavailable(VerivoteError):
    """Dask is not installed, or the scheduler cannot be reached."""


def _checker(run: str, setup: tuple[dict[str, Any], bytes, RollRows | PackedRoll]) -> BallotChecker:
    """This worker thread's checker for ``run``, built on first use."""
    checkers: dict[str, BallotChecker] = getattr(_local, "checkers", None) or {}
    _local.checkers = checkers
    checker = checkers.get(run)
    if checker is None:
        checkers.clear()  # one run at a time per thread: drop the checkers of older runs
        checker = checkers[run] = new_checker(*setup)
    return checker


def _run_batch(
    run: str, setup: tuple[dict[str, Any], bytes, RollRows], batch: Batch, added: RollRows
) -> Outcome:
    """The task a worker runs: check one batch with this thread's checker for ``run``."""
    return check_batch(_checker(run, setup), batch, added)


def _run_chunk(run: str, setup: ChunkSetup, task: ChunkTask) -> ChunkResult:
    """The task a worker runs for :class:`DaskChunks`: read and check one chunk."""
    checker = None if setup.checker is None else _checker(run, setup.checker)
    try:
        return scan_chunk(setup.path, task, setup.first_ballot, setup.claims, checker)
    except OSError as exc:
        raise RecordUnreadable(
            f"a Dask worker cannot read {setup.path}: {exc.strerror or exc} (the record must "
            "be at the same path on every worker)"
        ) from None


def connect(address: str, workers: int | None, timeout: float) -> tuple[Any, Any]:
    """A Dask client for ``address`` (``"local"``: a new LocalCluster of ``workers``
    single-threaded processes, one per core by default) and the cluster it started (or
    None). Raises :class:`DaskUnavailable` when Dask is not installed or the scheduler does
    not answer within ``timeout`` seconds."""
    try:
        import distributed
    except ImportError:
        raise DaskUnavailable("Dask is not installed: pip install 'verivote[dask]'") from None
    dist: Any = distributed  # untyped for mypy --strict: used through Any
    cluster: Any = None
    try:
        if address == "local":
            cluster = dist.LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            return dist.Client(cluster, timeout=timeout), cluster
        return dist.Client(address, timeout=timeout), None
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: {exc}") from None


class _DaskPending:
    def __init__(self, future: Any) -> None:
        self.future = future

    def result(self) -> Outcome:
        outcome: Outcome = self.future.result()
        return outcome


class DaskRunner:
    """Runs ballot batches on a Dask cluster.

    ``address`` is a scheduler address (``tcp://host:8786``) or ``"local"`` for a
    :class:`~distributed.LocalCluster` of ``workers`` single-threaded processes (default: one
    per core). Raises :class:`DaskUnavailable` when Dask is not installed or the scheduler
    does not answer within ``timeout`` seconds.
    """

    def __init__(self, address: str, workers: int | None = None, timeout: float = 30.0) -> None:
        self.client, self.cluster = connect(address, workers, timeout)
        self.run = uuid.uuid4().hex
        self.setup: Any = None

    def start(self, manifest: Manifest, joint_key: bytes, roll: RollRows) -> None:
        """Send the manifest, the joint key and the roll to every worker."""
        self.setup = self.client.scatter((manifest.to_dict(), joint_key, roll), broadcast=True)

    def submit(self, batch: Batch, added: RollRows) -> Pending:
        """Queue one batch as a task (never cached: ``pure=False``)."""
        future = self.client.submit(_run_batch, self.run, self.setup, batch, added, pure=False)
        return _DaskPending(future)

    def capacity(self) -> int:
        """The cluster's threads at the moment (at least 1)."""
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this runner started one."""
        self._shutdown()

    def _shutdown(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


class DaskChunks:
    """Reads and checks chunks of the log as Dask tasks (a
    :class:`~verivote.verify.chunked.ChunkMapper`).

    ``address`` as for :class:`DaskRunner`. The setup goes to every worker once; at most
    ``window`` chunks (default: twice the cluster's threads, plus two) are in flight, so
    the main process holds only a few chunks' results at a time. A worker that cannot
    read the record raises :class:`~verivote.verify.record.RecordUnreadable` here; a
    cluster that fails (a worker killed, the scheduler gone) :class:`DaskUnavailable`."""

    def __init__(
        self,
        address: str,
        workers: int | None = None,
        timeout: float = 30.0,
        window: int | None = None,
    ) -> None:
        self.client, self.cluster = connect(address, workers, timeout)
        from distributed import KilledWorker

        self.killed: type[Exception] = KilledWorker
        self.run = uuid.uuid4().hex
        self.window = window
        self.setup: Any = None
        self.pending: deque[Any] = deque()

    def start(self, setup: ChunkSetup) -> None:
        """Send the setup to every worker."""
        self.setup = self.client.scatter(setup, broadcast=True)

    def threads(self) -> int:
        """The cluster's threads at the moment (at least 1)."""
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def precheck(self, fingerprint: bytes, items: Sequence[RollItem]) -> Callable[[], Answer]:
        """Queue :func:`~verivote.election.roll.precheck_halves` as a task."""
        future = self.client.submit(precheck_halves, fingerprint, items, pure=False)
        return lambda: future.result()

    def map(self, tasks: Sequence[ChunkTask]) -> Iterator[ChunkResult]:
        """The chunks' results in the tasks' order."""
        window = self.window or 2 * self.threads() + 2
        queue = self.pending
        todo = iter(tasks)
        for task in todo:
            queue.append(self._submit(task))
            if len(queue) >= window:
                break
        while queue:
            future = queue.popleft()
            try:
                result: ChunkResult = future.result()
            except (OSError, self.killed) as exc:  # the cluster, not the record
                raise DaskUnavailable(f"the Dask cluster failed: {exc}") from None
            for task in todo:
                queue.append(self._submit(task))
                break
            yield result

    def _submit(self, task: ChunkTask) -> Any:
        return self.client.submit(_run_chunk, self.run, self.setup, task, pure=False)

    def close(self) -> None:
        """Cancel the chunks still in flight, disconnect, and stop the local cluster if
        this mapper started one."""
        if self.client is not None:
            if self.pending:
                self.client.cancel(list(self.pending))
                self.pending.clear()
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
