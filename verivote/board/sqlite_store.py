"""The embedded default store: one SQLite file per election.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so every committed
transaction is on disk (the WAL is fsynced) before the commit returns; each append outside
:meth:`SQLiteStore.exclusive` is one transaction, and the board commits an entry before it
acknowledges it. Several processes on one machine may share the file: ``BEGIN IMMEDIATE``
serialises writers (a waiting writer retries for ``timeout`` seconds).

The schema enforces the log's shape itself, whoever writes to the file:

* ``entries(idx INTEGER PRIMARY KEY, line, leaf)`` — ``idx`` is the rowid; a trigger
  refuses any insert that is not at the next index (so indices are ``0..n-1`` without
  gaps), and triggers refuse every update and delete (append-only);
* ``heads(seq INTEGER PRIMARY KEY, head)`` — append-only the same way;
* ``meta(key, value)`` — ``schema`` = :data:`SCHEMA_VERSION`, written when the file is
  created; a file of another version is refused (:class:`~verivote.errors.StoreError`);
* ``snapshot(id = 0, size, data)`` — at most one row: the board's latest snapshot of its
  state (:mod:`verivote.board.snapshot`), replaced in place. With it, the index
  ``entries_leaf(idx, leaf)`` lets the leaf hashes be read without the entries' lines
  (which a row stores before its leaf). Both are made when the first snapshot is saved,
  so a store of the first layout needs no migration and keeps schema version 1.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from verivote.board.store import check_append, check_line, check_snapshot, slice_bounds
from verivote.errors import ConflictError, StoreError

SCHEMA_VERSION = 1
BATCH = 1000

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    line BLOB NOT NULL CHECK (typeof(line) = 'blob' AND length(line) > 0),
    leaf BLOB NOT NULL CHECK (typeof(leaf) = 'blob' AND length(leaf) = 32)
);
CREATE TRIGGER entries_contiguous BEFORE INSERT ON entries
WHEN NEW.idx IS NOT (SELECT COALESCE(MAX(idx) + 1, 0) FROM entries)
BEGIN SELECT RAISE(ABORT, 'verivote: an entry is appended at the next index only'); END;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'verivote: the log is append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'verivote: the log is append-only'); END;
CREATE TABLE heads (
    seq INTEGER PRIMARY KEY,
    head BLOB NOT NULL CHECK (typeof(head) = 'blob' AND length(head) > 0)
);
CREATE TRIGGER heads_no_update BEFORE UPDATE ON heads
BEGIN SELECT RAISE(ABORT, 'verivote: published heads are append-only'); END;
CREATE TRIGGER heads_no_delete BEFORE DELETE ON heads
BEGIN SELECT RAISE(ABORT, 'verivote: published heads are append-only'); END;
"""


_SNAPSHOT_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL CHECK (size > 0),
    data BLOB NOT NULL CHECK (typeof(data) = 'blob' AND length(data) > 0)
)""",
    "CREATE INDEX IF NOT EXISTS entries_leaf ON entries (idx, leaf)",
)


def _probe(path: Path) -> None:
    """Refuse, without writing anything, a file that is not a verivote store: not an
    SQLite database, an empty one, or one without the store's tables (StoreError)."""
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open: {exc}") from None
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a verivote store ({exc})") from None
    finally:
        db.close()
    tables = {row[0] for row in rows}
    if not tables:
        raise StoreError(f"{path}: an empty database, not a verivote store")
    if not {"meta", "entries", "heads"} <= tables:
        raise StoreError(f"{path}: not a verivote store")


class SQLiteStore:
    """A board store in the SQLite file ``path`` (see the module docstring).

    The file and its schema are created on first open unless ``create`` is false, when a
    missing file raises FileNotFoundError and any file that is not already a verivote
    store is refused (StoreError) before anything is written to it. Raises StoreError for
    a file that is not a verivote store of schema version :data:`SCHEMA_VERSION`. Safe to
    share between threads (calls are serialised) and between processes on one machine.
    """

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 30.0) -> None:
        self.path = Path(path)
        if not create:
            if not self.path.is_file():
                raise FileNotFoundError(f"{self.path}: no such store")
            _probe(self.path)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._init_schema(create)
        except (sqlite3.Error, StoreError) as exc:
            self._db.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"{self.path}: {exc}") from None

    def _init_schema(self, create: bool) -> None:
        with self._transaction():
            tables = {
                row[0]
                for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if not tables:
                if not create:
                    raise StoreError(f"{self.path}: an empty database, not a verivote store")
                self._create()
                return
            if not {"meta", "entries", "heads"} <= tables:
                raise StoreError(f"{self.path}: not a verivote store")
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != str(SCHEMA_VERSION):
                found = None if row is None else row[0]
                raise StoreError(
                    f"{self.path}: store schema version {found}, this verivote reads "
                    f"version {SCHEMA_VERSION}"
                )

    def _create(self) -> None:
        # executescript would commit the open transaction; run the statements one by one
        # (a trigger's inner "; " is not followed by a newline, so it stays whole).
        for statement in _SCHEMA.split(";\n"):
            if statement.strip():
                self._db.execute(statement)
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
        )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """A write transaction (BEGIN IMMEDIATE), or a savepoint inside one."""
        with self._lock:
            depth = self._depth
            self._db.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth = depth
                if depth == 0:
                    self._db.execute("ROLLBACK")
                else:
                    self._db.execute(f"ROLLBACK TO sp{depth}")
                    self._db.execute(f"RELEASE sp{depth}")
                raise
            self._depth = depth
            self._db.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    def _count(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()
        return int(row[0])

    def append(self, line: bytes, leaf: bytes, expected_index: int) -> int:
        """See :meth:`verivote.board.store.Store.append`."""
        check_append(line, leaf, expected_index)
        with self._transaction():
            count = self._count()
            if count != expected_index:
                raise ConflictError(f"append at {expected_index}, but the log holds {count}")
            try:
                self._db.execute(
                    "INSERT INTO entries (idx, line, leaf) VALUES (?, ?, ?)",
                    (expected_index, line, leaf),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError(f"append at {expected_index}: {exc}") from None
        return expected_index

    def count(self) -> int:
        """See :meth:`verivote.board.store.Store.count`."""
        with self._lock:
            return self._count()

    def line(self, index: int) -> bytes:
        """See :meth:`verivote.board.store.Store.line`."""
        with self._lock:
            row = self._db.execute("SELECT line FROM entries WHERE idx = ?", (index,)).fetchone()
        if row is None:
            raise IndexError(f"no entry {index} in the store")
        return bytes(row[0])

    def lines(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """See :meth:`verivote.board.store.Store.lines` (read in batches of
        :data:`BATCH`, so no read stays open between two items)."""
        start, end = slice_bounds(start, end, self.count())
        while start < end:
            stop = min(end, start + BATCH)
            with self._lock:
                rows = self._db.execute(
                    "SELECT line FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                    (start, stop),
                ).fetchall()
            if len(rows) != stop - start:
                raise StoreError(f"{self.path}: entries {start}..{stop - 1} are not all stored")
            for (line,) in rows:
                yield bytes(line)
            start = stop

    def add_head(self, head_json: bytes, expected: int | None = None) -> None:
        """See :meth:`verivote.board.store.Store.add_head`."""
        check_line(head_json)
        with self._transaction():
            (count,) = self._db.execute("SELECT COUNT(*) FROM heads").fetchone()
            if expected is not None and count != expected:
                raise ConflictError(f"head {expected} expected, {count} published")
            self._db.execute("INSERT INTO heads (seq, head) VALUES (?, ?)", (count, head_json))

    def heads(self, start: int = 0) -> list[bytes]:
        """See :meth:`verivote.board.store.Store.heads`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT head FROM heads WHERE seq >= ? ORDER BY seq", (start,)
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def _has(self, kind: str, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?", (kind, name)
        ).fetchone()
        return row is not None

    def leaves(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """See :meth:`verivote.board.store.Store.leaves`: from the index
        ``entries_leaf`` when the store has one (a scan of 40-byte items), else from the
        entries themselves."""
        start, end = slice_bounds(start, end, self.count())
        with self._lock:
            source = (
                "entries INDEXED BY entries_leaf"
                if self._has("index", "entries_leaf")
                else "entries"
            )
            rows = self._db.execute(
                f"SELECT leaf FROM {source} WHERE idx >= ? AND idx < ? ORDER BY idx",
                (start, end),
            ).fetchall()
        if len(rows) != end - start:
            raise StoreError(f"{self.path}: leaves {start}..{end - 1} are not all stored")
        return [bytes(leaf) for (leaf,) in rows]

    def save_snapshot(self, size: int, data: bytes) -> None:
        """See :meth:`verivote.board.store.Store.save_snapshot` (the first one makes the
        ``snapshot`` table and the ``entries_leaf`` index)."""
        with self._transaction():
            check_snapshot(size, data, self._count())
            for statement in _SNAPSHOT_SCHEMA:
                self._db.execute(statement)
            self._db.execute(
                "INSERT OR REPLACE INTO snapshot (id, size, data) VALUES (0, ?, ?)", (size, data)
            )

    def snapshot(self) -> tuple[int, bytes] | None:
        """See :meth:`verivote.board.store.Store.snapshot`."""
        with self._lock:
            if not self._has("table", "snapshot"):
                return None
            row = self._db.execute("SELECT size, data FROM snapshot WHERE id = 0").fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def exclusive(self) -> AbstractContextManager[None]:
        """See :meth:`verivote.board.store.Store.exclusive`: one ``BEGIN IMMEDIATE``
        transaction, committed (durably) when the block exits."""
        return self._transaction()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
