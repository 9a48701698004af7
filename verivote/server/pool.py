"""Proof checking on worker processes for the board's HTTP service (``verivote serve
--workers N``).

A ballot's signature and proofs — most of the CPU a cast costs — do not depend on the log
beyond the manifest and the joint key, so they run on a pool of ``N`` processes, each
holding a :class:`~verivote.election.checker.BallotChecker`. A worker returns only the
:class:`~verivote.election.checker.BallotResult` (a pass or the first failed check, with
the tracking code and ciphertext keys); the service then decodes the ballot's ciphertexts
without re-checking them (:func:`trusted_selections`), as the board does when it replays
its store, and the rule book runs the stateful checks under the store's lock.

The pool starts when the first ballot arrives after the joint key is on the board.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from verivote.election.ballot import decode_ballot_deferred
from verivote.election.checker import BallotChecker, BallotResult
from verivote.election.entries import entry_from_line
from verivote.election.manifest import Manifest
from verivote.election.state import BallotCheck
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError
from verivote.groups.base import Element

_checker: BallotChecker | None = None

MALFORMED = (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError)


def _watch_parent(parent: int) -> None:
    """Exit as soon as the serving process is gone (killed, even with SIGKILL), rather
    than linger as an orphan."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _init(manifest: dict[str, Any], joint_key: bytes) -> None:
    global _checker
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    m = Manifest.from_dict(manifest)
    _checker = BallotChecker(m, m.group.decode_element(joint_key))


def check_line(checker: BallotChecker, index: int, line: bytes) -> BallotResult:
    """``checker.check`` of the entry in ``line``, as a result only; never raises for bad
    input (a malformed ballot is a ``ballot.decode`` failure)."""
    try:
        entry = entry_from_line(line)
        return checker.check(index, entry)[0]
    except DecodeError as exc:
        return BallotResult(index, "", b"", ("ballot.decode", str(exc)))
    except MALFORMED as exc:
        reason = f"malformed entry ({type(exc).__name__}: {exc})"
        return BallotResult(index, "", b"", ("ballot.decode", reason))


def _ping() -> bool:
    return _checker is not None


def _check(index: int, line: bytes) -> BallotResult:
    assert _checker is not None
    return check_line(_checker, index, line)


def trusted_selections(manifest: Manifest, body: Any) -> list[list[Ciphertext]] | None:
    """The ciphertexts of a ballot body whose proofs a worker has checked, decoded without
    re-checking them; None if the body does not decode.

    The worker's range proofs exponentiated or matched every component, which is what
    establishes subgroup membership for a deferred decoding (docs/crypto.md §2.2), so the
    components are taken as validated here: this is the one place that converts without a
    check, and only for a ballot a worker passed."""
    group = manifest.group
    try:
        rows = decode_ballot_deferred(manifest, body)[1]
    except DecodeError:
        return None
    return [
        [Ciphertext(Element(group, ct.alpha.value), Element(group, ct.beta.value)) for ct in row]
        for row in rows
    ]


def with_selections(manifest: Manifest, body: Any, result: BallotResult) -> BallotCheck | None:
    """A worker's result as the rule book takes it: with the ciphertexts when the ballot
    passed (None — the rule book then checks the ballot itself — in the impossible case
    that a passed ballot does not decode again)."""
    if result.failure is not None:
        return result, []
    selections = trusted_selections(manifest, body)
    return None if selections is None else (result, selections)


class ProofPool:
    """``workers`` processes checking ballots of one election (manifest and joint key)."""

    def __init__(self, workers: int, manifest: Manifest, joint_key_bytes: bytes) -> None:
        if workers < 1:
            raise ValueError("a proof pool needs at least one worker")
        self.workers = workers
        self.key = (manifest.fingerprint, joint_key_bytes)
        ctx = multiprocessing.get_context("spawn")
        self.executor = ProcessPoolExecutor(
            workers,
            mp_context=ctx,
            initializer=_init,
            initargs=(manifest.to_dict(), joint_key_bytes),
        )

    def submit(self, index: int, line: bytes) -> Future[BallotResult]:
        """Check the entry ``line`` (to be entry ``index``) on a worker."""
        return self.executor.submit(_check, index, line)

    def warm(self) -> None:
        """Start every worker now (each loads the election) rather than on the first
        ballots."""
        for future in [self.executor.submit(_ping) for _ in range(self.workers)]:
            future.result()

    def close(self) -> None:
        """Stop the workers (pending checks are cancelled)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
