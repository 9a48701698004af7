"""The shared store: PostgreSQL, for a ballot service with several front-end processes or
machines against one board (psycopg 3; install the ``postgres`` extra).

Nothing here is imported by the verifier, and psycopg itself is imported only when a
:class:`PostgresStore` is made, so ``pip install verivote`` stays free of it.

Tables, shared by every election in the database and keyed by an ``election`` column (so
tests and several elections can share one database):

* ``verivote_logs(election PRIMARY KEY, size, heads)`` — one row per election: the number
  of entries and of published heads. It is the lock: :meth:`PostgresStore.exclusive` takes
  ``SELECT … FOR UPDATE`` on it, so appends are serialised by the database across
  processes and machines, and each append moves ``size`` on by compare-and-set
  (``… WHERE size = expected``);
* ``verivote_entries(election, idx, line, leaf)`` — primary key ``(election, idx)``; a
  trigger refuses an insert anywhere but at the next index, and another every update and
  delete (append-only);
* ``verivote_heads(election, seq, head)`` — the published tree heads, append-only;
* ``verivote_meta`` — ``schema`` = :data:`SCHEMA_VERSION` (other versions are refused);
* ``verivote_snapshots(election PRIMARY KEY, size, data)`` — the board's latest snapshot of
  its state per election (:mod:`verivote.board.snapshot`), replaced in place; made when
  the first snapshot is saved if the database predates it (no migration, still schema 1).
  A line longer than about 2 KB is kept out of its row (TOAST), so the leaf hashes are
  read without reading the lines.

Durability: each commit waits for the server's WAL flush (``synchronous_commit`` is
raised to ``on`` for the session if the server has it ``off``), so an appended entry
survives a crash of the server once :meth:`PostgresStore.append` (or the
:meth:`~PostgresStore.exclusive` block) returns.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from verivote.board.store import check_append, check_line, check_snapshot, slice_bounds
from verivote.errors import ConflictError, ParameterError, StoreError

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 1
BATCH = 1000
_SCHEMA_LOCK = 0x766F7465  # advisory lock key serialising schema creation ("vote")

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS verivote_meta (key text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS verivote_logs (
        election text PRIMARY KEY,
        size bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
        heads bigint NOT NULL DEFAULT 0 CHECK (heads >= 0))""",
    """CREATE TABLE IF NOT EXISTS verivote_entries (
        election text NOT NULL REFERENCES verivote_logs (election),
        idx bigint NOT NULL CHECK (idx >= 0),
        line bytea NOT NULL CHECK (length(line) > 0),
        leaf bytea NOT NULL CHECK (length(leaf) = 32),
        PRIMARY KEY (election, idx))""",
    """CREATE TABLE IF NOT EXISTS verivote_heads (
        election text NOT NULL REFERENCES verivote_logs (election),
        seq bigint NOT NULL CHECK (seq >= 0),
        head bytea NOT NULL CHECK (length(head) > 0),
        PRIMARY KEY (election, seq))""",
    """CREATE OR REPLACE FUNCTION verivote_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'verivote: the log is append-only'; END $$""",
    """CREATE OR REPLACE FUNCTION verivote_next_index() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.idx IS DISTINCT FROM (SELECT COALESCE(MAX(idx) + 1, 0)
                    FROM verivote_entries WHERE election = NEW.election) THEN
                RAISE EXCEPTION 'verivote: an entry is appended at the next index only'
                    USING ERRCODE = 'unique_violation';
            END IF;
            RETURN NEW;
        END $$""",
    """CREATE OR REPLACE TRIGGER verivote_entries_append_only
        BEFORE UPDATE OR DELETE ON verivote_entries
        FOR EACH ROW EXECUTE FUNCTION verivote_append_only()""",
    """CREATE OR REPLACE TRIGGER verivote_entries_next_index
        BEFORE INSERT ON verivote_entries
        FOR EACH ROW EXECUTE FUNCTION verivote_next_index()""",
    """CREATE OR REPLACE TRIGGER verivote_heads_append_only
        BEFORE UPDATE OR DELETE ON verivote_heads
        FOR EACH ROW EXECUTE FUNCTION verivote_append_only()""",
]


_SNAPSHOT_TABLE = """CREATE TABLE IF NOT EXISTS verivote_snapshots (
    election text PRIMARY KEY,
    size bigint NOT NULL CHECK (size > 0),
    data bytea NOT NULL CHECK (length(data) > 0))"""
_SCHEMA.append(_SNAPSHOT_TABLE)


class PostgresStore:
    """The board of election ``election_id`` in the PostgreSQL database at ``dsn`` (a
    libpq connection string or URI). Creates the tables on first use and the election's
    row if it is new — unless ``create`` is false, when an election the database does not
    hold raises StoreError (nothing is written: for readers such as ``verivote export``).

    Raises ParameterError for an empty election id, StoreError when the database cannot
    be reached or holds another schema version, ImportError (naming the extra) when
    psycopg is not installed. One connection per store; calls are serialised between
    threads. Open one store per process: each is an independent writer.
    """

    def __init__(self, dsn: str, election_id: str, *, create: bool = True) -> None:
        if not isinstance(election_id, str) or not 0 < len(election_id) <= 200:
            raise ParameterError("election id: 1 to 200 characters")
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ImportError(
                "PostgresStore needs psycopg: pip install 'verivote[postgres]'"
            ) from exc
        self.election_id = election_id
        self._errors = psycopg.errors
        self._lock = threading.RLock()
        try:
            self._db: psycopg.Connection[tuple[Any, ...]] = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from None
        try:
            self._setup(create)
        except BaseException:
            self._db.close()
            raise

    def _setup(self, create: bool) -> None:
        import psycopg

        try:
            row = self._db.execute("SHOW synchronous_commit").fetchone()
            if row is not None and row[0] == "off":
                self._db.execute("SET synchronous_commit TO on")
            if not create:
                self._check_version()
                self._size()
                return
            with self._db.transaction():
                # DDL only when the schema is missing: CREATE OR REPLACE TRIGGER would lock
                # the tables against (and deadlock with) writers already at work.
                if not self._has_schema():
                    self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    if not self._has_schema():  # another process may have just made it
                        for statement in _SCHEMA:
                            self._db.execute(statement)
                        self._db.execute(
                            "INSERT INTO verivote_meta (key, value) VALUES ('schema', %s)",
                            (str(SCHEMA_VERSION),),
                        )
                self._check_version()
                known = self._db.execute(
                    "SELECT 1 FROM verivote_logs WHERE election = %s", (self.election_id,)
                ).fetchone()
                if known is None:
                    self._db.execute(
                        "INSERT INTO verivote_logs (election) VALUES (%s) "
                        "ON CONFLICT (election) DO NOTHING",
                        (self.election_id,),
                    )
        except self._errors.UndefinedTable:
            raise StoreError("this database holds no verivote store") from None
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store: {exc}") from None

    def _has_schema(self) -> bool:
        row = self._db.execute("SELECT to_regclass('verivote_meta') IS NOT NULL").fetchone()
        return bool(row and row[0])

    def _check_version(self) -> None:
        version = self._db.execute(
            "SELECT value FROM verivote_meta WHERE key = 'schema'"
        ).fetchone()
        if version is None or version[0] != str(SCHEMA_VERSION):
            found = None if version is None else version[0]
            raise StoreError(f"store schema version {found}, this verivote reads {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """A transaction, or a savepoint inside one; psycopg errors become StoreError."""
        with self._lock:
            try:
                with self._db.transaction():
                    yield
            except self._errors.UniqueViolation as exc:
                raise ConflictError(f"PostgreSQL store: {exc}") from None
            except self._errors.Error as exc:
                raise StoreError(f"PostgreSQL store: {exc}") from None

    def _size(self, lock: bool = False) -> int:
        query = "SELECT size FROM verivote_logs WHERE election = %s"
        try:
            row = self._db.execute(query + (" FOR UPDATE" if lock else ""), (self.election_id,))
            found = row.fetchone()
        except self._errors.UndefinedTable:
            raise StoreError("this database holds no verivote store") from None
        if found is None:
            raise StoreError(f"election {self.election_id!r} has no log in this database")
        return int(found[0])

    def append(self, line: bytes, leaf: bytes, expected_index: int) -> int:
        """See :meth:`verivote.board.store.Store.append`."""
        check_append(line, leaf, expected_index)
        with self._transaction():
            moved = self._db.execute(
                "UPDATE verivote_logs SET size = size + 1 "
                "WHERE election = %s AND size = %s RETURNING size",
                (self.election_id, expected_index),
            ).fetchone()
            if moved is None:
                raise ConflictError(
                    f"append at {expected_index}, but the log holds {self._size()} entries"
                )
            self._db.execute(
                "INSERT INTO verivote_entries (election, idx, line, leaf) VALUES (%s, %s, %s, %s)",
                (self.election_id, expected_index, line, leaf),
            )
        return expected_index

    def count(self) -> int:
        """See :meth:`verivote.board.store.Store.count`."""
        with self._lock:
            return self._size()

    def line(self, index: int) -> bytes:
        """See :meth:`verivote.board.store.Store.line`."""
        with self._lock:
            row = self._db.execute(
                "SELECT line FROM verivote_entries WHERE election = %s AND idx = %s",
                (self.election_id, index),
            ).fetchone()
        if row is None:
            raise IndexError(f"no entry {index} in the store")
        return bytes(row[0])

    def lines(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """See :meth:`verivote.board.store.Store.lines` (read in batches of
        :data:`BATCH`)."""
        start, end = slice_bounds(start, end, self.count())
        while start < end:
            stop = min(end, start + BATCH)
            with self._lock:
                rows = self._db.execute(
                    "SELECT line FROM verivote_entries WHERE election = %s "
                    "AND idx >= %s AND idx < %s ORDER BY idx",
                    (self.election_id, start, stop),
                ).fetchall()
            if len(rows) != stop - start:
                raise StoreError(f"entries {start}..{stop - 1} are not all stored")
            for (line,) in rows:
                yield bytes(line)
            start = stop

    def add_head(self, head_json: bytes, expected: int | None = None) -> None:
        """See :meth:`verivote.board.store.Store.add_head`."""
        check_line(head_json)
        with self._transaction():
            row = self._db.execute(
                "UPDATE verivote_logs SET heads = heads + 1 WHERE election = %s "
                "RETURNING heads - 1",
                (self.election_id,),
            ).fetchone()
            assert row is not None
            seq = int(row[0])
            if expected is not None and seq != expected:
                raise ConflictError(f"head {expected} expected, {seq} published")
            self._db.execute(
                "INSERT INTO verivote_heads (election, seq, head) VALUES (%s, %s, %s)",
                (self.election_id, seq, head_json),
            )

    def heads(self, start: int = 0) -> list[bytes]:
        """See :meth:`verivote.board.store.Store.heads`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT head FROM verivote_heads WHERE election = %s AND seq >= %s ORDER BY seq",
                (self.election_id, start),
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def leaves(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """See :meth:`verivote.board.store.Store.leaves`."""
        start, end = slice_bounds(start, end, self.count())
        with self._lock:
            rows = self._db.execute(
                "SELECT leaf FROM verivote_entries WHERE election = %s "
                "AND idx >= %s AND idx < %s ORDER BY idx",
                (self.election_id, start, end),
            ).fetchall()
        if len(rows) != end - start:
            raise StoreError(f"leaves {start}..{end - 1} are not all stored")
        return [bytes(leaf) for (leaf,) in rows]

    def save_snapshot(self, size: int, data: bytes) -> None:
        """See :meth:`verivote.board.store.Store.save_snapshot`."""
        with self._transaction():
            check_snapshot(size, data, self._size())
            if not self._has_table("verivote_snapshots"):
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                self._db.execute(_SNAPSHOT_TABLE)
            self._db.execute(
                "INSERT INTO verivote_snapshots (election, size, data) VALUES (%s, %s, %s) "
                "ON CONFLICT (election) DO UPDATE SET size = EXCLUDED.size, data = EXCLUDED.data",
                (self.election_id, size, data),
            )

    def snapshot(self) -> tuple[int, bytes] | None:
        """See :meth:`verivote.board.store.Store.snapshot`."""
        with self._lock:
            if not self._has_table("verivote_snapshots"):
                return None
            row = self._db.execute(
                "SELECT size, data FROM verivote_snapshots WHERE election = %s",
                (self.election_id,),
            ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def _has_table(self, name: str) -> bool:
        row = self._db.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        return bool(row and row[0])

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._transaction():
            self._size(lock=True)  # SELECT … FOR UPDATE: the election's writer lock
            yield

    def exclusive(self) -> AbstractContextManager[None]:
        """See :meth:`verivote.board.store.Store.exclusive`: one transaction holding a row
        lock on the election's ``verivote_logs`` row, committed when the block exits."""
        return self._exclusive()

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
