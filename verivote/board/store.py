"""Where a board keeps its log: the :class:`Store` protocol and the in-memory store.

A store holds one election's log as the exact bytes of each record line (the canonical
JSON of an entry, no newline) with its Merkle leaf hash, indexed ``0, 1, 2, …`` without
gaps, and the operator's published tree heads (``heads.jsonl`` lines) in publication order.
It knows nothing of elections: :class:`~verivote.board.log.Board` validates every entry
before it reaches :meth:`Store.append`, and rebuilds its state from a store by replaying it.

Concurrency is optimistic at the store and pessimistic at the board. ``append`` names the
index it expects to write; if another writer got there first it raises
:class:`~verivote.errors.ConflictError` and writes nothing. ``exclusive()`` holds the
store's writer lock (a database lock, valid across processes and machines, not a Python
lock) for a read–validate–append sequence: the board catches up with other writers, runs
the election's stateful checks and appends, all under one lock and one transaction.

Stores: :class:`MemoryStore` (nothing durable, the default),
:class:`verivote.board.sqlite_store.SQLiteStore` (one file, the embedded default for a
single service) and :class:`verivote.board.pg_store.PostgresStore` (several front-end
processes or machines against one board). :func:`open_store` opens one from a
``sqlite:PATH`` or ``postgres:DSN`` string.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, runtime_checkable

from verivote.errors import ConflictError, ParameterError

LEAF_SIZE = 32


@runtime_checkable
class Store(Protocol):
    """The storage behind a board (see the module docstring)."""

    def append(self, line: bytes, leaf: bytes, expected_index: int) -> int:
        """Store ``line`` with its leaf hash as entry ``expected_index`` and return that
        index. Atomic: all or nothing. Durable before it returns — or, inside
        :meth:`exclusive`, when the ``with`` block exits without an exception. Raises
        ConflictError (writing nothing) when the log does not hold exactly
        ``expected_index`` entries, ValueError for a line with a newline or a leaf that is
        not 32 bytes."""
        ...

    def count(self) -> int:
        """The number of entries stored (committed ones, and this writer's own)."""
        ...

    def line(self, index: int) -> bytes:
        """The stored bytes of entry ``index``; IndexError if there is no such entry."""
        ...

    def lines(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Entries ``start`` to ``end`` (exclusive; the end of the log by default), in
        order. Entries appended while iterating may or may not be included."""
        ...

    def add_head(self, head_json: bytes, expected: int | None = None) -> None:
        """Publish a signed tree head (one ``heads.jsonl`` line), durably as
        :meth:`append`. With ``expected``, raises ConflictError unless exactly
        ``expected`` heads are stored."""
        ...

    def heads(self, start: int = 0) -> list[bytes]:
        """The published heads from number ``start`` on, in publication order."""
        ...

    def leaves(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """The stored leaf hashes of entries ``start`` to ``end`` (as :meth:`lines`), read
        without reading the entries themselves."""
        ...

    def save_snapshot(self, size: int, data: bytes) -> None:
        """Keep ``data``, the board's snapshot of its state after the first ``size``
        entries, in place of any earlier one (inside :meth:`exclusive`, it commits with
        the block). The store does not look inside. Raises ValueError for a size beyond
        the log or data that is not non-empty bytes."""
        ...

    def snapshot(self) -> tuple[int, bytes] | None:
        """The last snapshot kept, with the size it was saved under, or None."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the writer lock: no other writer appends or publishes a head until the
        block exits. Writes in the block commit together when it exits normally and are
        rolled back if it raises. Re-entrant."""
        ...

    def close(self) -> None:
        """Release the store's resources (connections, file handles)."""
        ...


def check_line(line: bytes) -> None:
    """A stored line (entry or head) is non-empty bytes without a newline (ValueError)."""
    if not isinstance(line, bytes) or not line or b"\n" in line:
        raise ValueError("a stored line is non-empty bytes without a newline")


def check_append(line: bytes, leaf: bytes, expected_index: int) -> None:
    """The argument checks every store makes before appending (raises ValueError)."""
    check_line(line)
    if not isinstance(leaf, bytes) or len(leaf) != LEAF_SIZE:
        raise ValueError(f"a leaf hash is {LEAF_SIZE} bytes")
    if not isinstance(expected_index, int) or expected_index < 0:
        raise ValueError("the expected index is a non-negative integer")


def check_snapshot(size: int, data: bytes, count: int) -> None:
    """The argument checks of :meth:`Store.save_snapshot` (raises ValueError)."""
    if not isinstance(size, int) or not 0 < size <= count:
        raise ValueError(f"a snapshot covers 1 to {count} entries, not {size}")
    if not isinstance(data, bytes) or not data:
        raise ValueError("a snapshot is non-empty bytes")


def slice_bounds(start: int, end: int | None, count: int) -> tuple[int, int]:
    """``(start, end)`` clipped to ``[0, count]``; ValueError for a negative start."""
    if start < 0:
        raise ValueError("start must be non-negative")
    end = count if end is None else min(end, count)
    return start, max(start, end)


class MemoryStore:
    """A store in this process's memory: nothing survives the process. Thread-safe; the
    writer lock is a lock of this object (only this process can write to it anyway)."""

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._leaves: list[bytes] = []
        self._heads: list[bytes] = []
        self._snapshot: tuple[int, bytes] | None = None
        self._lock = threading.RLock()

    def append(self, line: bytes, leaf: bytes, expected_index: int) -> int:
        """See :meth:`Store.append`."""
        check_append(line, leaf, expected_index)
        with self._lock:
            if expected_index != len(self._lines):
                raise ConflictError(
                    f"append at {expected_index}, but the log holds {len(self._lines)} entries"
                )
            self._lines.append(line)
            self._leaves.append(leaf)
            return expected_index

    def count(self) -> int:
        """See :meth:`Store.count`."""
        return len(self._lines)

    def line(self, index: int) -> bytes:
        """See :meth:`Store.line`."""
        if not 0 <= index < len(self._lines):
            raise IndexError(f"no entry {index} in a log of {len(self._lines)}")
        return self._lines[index]

    def lines(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """See :meth:`Store.lines`."""
        start, end = slice_bounds(start, end, len(self._lines))
        for index in range(start, end):
            yield self._lines[index]

    def add_head(self, head_json: bytes, expected: int | None = None) -> None:
        """See :meth:`Store.add_head`."""
        check_line(head_json)
        with self._lock:
            if expected is not None and expected != len(self._heads):
                raise ConflictError(f"head {expected} expected, {len(self._heads)} published")
            self._heads.append(head_json)

    def heads(self, start: int = 0) -> list[bytes]:
        """See :meth:`Store.heads`."""
        return self._heads[max(0, start) :]

    def leaves(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """See :meth:`Store.leaves`."""
        start, end = slice_bounds(start, end, len(self._leaves))
        return self._leaves[start:end]

    def save_snapshot(self, size: int, data: bytes) -> None:
        """See :meth:`Store.save_snapshot`."""
        with self._lock:
            check_snapshot(size, data, len(self._lines))
            self._snapshot = (size, data)

    def snapshot(self) -> tuple[int, bytes] | None:
        """See :meth:`Store.snapshot`."""
        return self._snapshot

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock:
            lines, leaves, heads = len(self._lines), len(self._leaves), len(self._heads)
            snapshot = self._snapshot
            try:
                yield
            except BaseException:
                del self._lines[lines:], self._leaves[leaves:], self._heads[heads:]
                self._snapshot = snapshot
                raise

    def exclusive(self) -> AbstractContextManager[None]:
        """See :meth:`Store.exclusive` (a rollback truncates what the block wrote)."""
        return self._exclusive()

    def close(self) -> None:
        """Nothing to release."""


def open_store(spec: str, election_id: str) -> Store:
    """Open the existing store named by ``spec``: ``sqlite:PATH`` or ``postgres:DSN`` (a
    libpq connection string or URI; needs the ``postgres`` extra); nothing is created.
    ``election_id`` selects the election in a PostgreSQL database (a SQLite file holds
    one election). Raises ParameterError for any other form, FileNotFoundError for a
    missing file, StoreError for a store that cannot be read or an unknown election."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ParameterError(f"store {spec!r}: expected sqlite:PATH or postgres:DSN")
    if kind == "sqlite":
        from verivote.board.sqlite_store import SQLiteStore

        return SQLiteStore(rest, create=False)
    if kind in ("postgres", "postgresql"):
        from verivote.board.pg_store import PostgresStore

        dsn = spec if rest.startswith("//") else rest  # postgresql://… is a URI as it is
        return PostgresStore(dsn, election_id, create=False)
    raise ParameterError(f"store {spec!r}: unknown kind {kind!r} (sqlite or postgres)")
