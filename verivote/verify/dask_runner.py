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

Needs the ``dask`` extra (``pip install 'verivote[dask]'``); nothing else in verivote
imports Dask. Every worker must be able to import the same verivote version.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

from verivote.election.checker import BallotChecker
from verivote.election.manifest import Manifest
from verivote.errors import VerivoteError
from verivote.verify.pipeline import Batch, Outcome, Pending, RollRows, check_batch, new_checker

_local = threading.local()


class DaskUnavailable(VerivoteError):
    """Dask is not installed, or the scheduler cannot be reached."""


def _run_batch(
    run: str, setup: tuple[dict[str, Any], bytes, RollRows], batch: Batch, added: RollRows
) -> Outcome:
    """The task a worker runs: check one batch with this thread's checker for ``run``."""
    checkers: dict[str, BallotChecker] = getattr(_local, "checkers", None) or {}
    _local.checkers = checkers
    checker = checkers.get(run)
    if checker is None:
        checkers.clear()  # one run at a time per thread: drop the checkers of older runs
        checker = checkers[run] = new_checker(*setup)
    return check_batch(checker, batch, added)


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
        try:
            import distributed
        except ImportError:
            raise DaskUnavailable("Dask is not installed: pip install 'verivote[dask]'") from None
        dist: Any = distributed  # untyped for mypy --strict: used through Any
        self.cluster: Any = None
        try:
            if address == "local":
                self.cluster = dist.LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self.client: Any = dist.Client(self.cluster, timeout=timeout)
            else:
                self.client = dist.Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            self._shutdown()
            raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: {exc}") from None
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
