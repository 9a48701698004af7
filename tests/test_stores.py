"""Durable board stores: one suite over SQLite and PostgreSQL.

The PostgreSQL cases need a server: set ``VERIVOTE_TEST_PG`` to a libpq connection string
(``host=/tmp/pg dbname=verivote_test user=postgres``) and install the ``postgres`` extra.
Each test gets a fresh PostgreSQL schema (through ``search_path``), so the election ids are
the real ones and tests never see each other's boards.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import threading
import uuid
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import pytest

from verivote.board.log import Board
from verivote.board.sqlite_store import SQLiteStore
from verivote.board.store import MemoryStore, Store, open_store
from verivote.cli import main
from verivote.demo import SimulatedClock, SimulatedElection
from verivote.election.ballot import encrypt_ballot
from verivote.errors import ConflictError, EntryRejected, StoreError
from verivote.signatures import ScalarSigner, Signer
from verivote.verify.index import DEFAULT_EVERY, build_index, read_index
from verivote.verify.record import MAX_LINE, verify_record

PG_ENV = "VERIVOTE_TEST_PG"
LEADER = {"leader": ["begum"], "rule-change": ["yes"]}
OTHER = {"leader": ["carver"], "rule-change": ["no"]}
LEAF = b"\x11" * 32


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def pg_base() -> str:
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against")
    pytest.importorskip("psycopg", reason="psycopg missing: pip install -e '.[postgres]'")
    return dsn


@pytest.fixture
def pg_dsn(pg_base: str):
    """A libpq DSN whose search_path is a fresh schema, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = "vv_" + uuid.uuid4().hex[:16]
    with psycopg.connect(pg_base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield make_conninfo(pg_base, options=f"-c search_path={schema}")
    with psycopg.connect(pg_base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


class Backend:
    """Opens handles on one board: every handle is an independent writer."""

    def __init__(self, kind: str, spec: str, election: str, open_one) -> None:
        self.kind, self.spec, self.election, self._open = kind, spec, election, open_one
        self.handles: list[Store] = []

    def open(self) -> Store:
        store = self._open()
        self.handles.append(store)
        return store


ELECTION = "leadership-2026"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path: Path):
    if request.param == "sqlite":
        path = tmp_path / "board.sqlite"
        b = Backend("sqlite", f"sqlite:{path}", ELECTION, lambda: SQLiteStore(path))
    else:
        from verivote.board.pg_store import PostgresStore

        dsn = request.getfixturevalue("pg_dsn")
        b = Backend("postgres", f"postgres:{dsn}", ELECTION, lambda: PostgresStore(dsn, ELECTION))
    yield b
    for store in b.handles:
        store.close()


def opened(store: Store, voters: int = 8) -> SimulatedElection:
    sim = SimulatedElection(voters, seed=5, store=store)
    sim.run_ceremony()
    sim.publish_roll()
    return sim


def same_board(a: Board, b: Board) -> None:
    assert len(a) == len(b)
    assert a.tree.root() == b.tree.root()
    assert [h.to_dict() for h in a.heads] == [h.to_dict() for h in b.heads]
    sa, sb = a.state, b.state
    for name in ("index", "phase", "last_time", "latest", "excluded", "seen_trackers"):
        assert getattr(sa, name) == getattr(sb, name), name
    for name in ("seen_ciphertexts", "ballot_entries", "audit_entries", "qualified"):
        assert getattr(sa, name) == getattr(sb, name), name
    assert sa.joint_key == sb.joint_key


# ------------------------------------------------------------------ the store API
def test_append_read_heads_round_trip(backend):
    store = backend.open()
    assert store.count() == 0 and list(store.lines()) == [] and store.heads() == []
    for i in range(3):
        assert store.append(b'{"n":%d}' % i, LEAF, i) == i
    assert store.count() == 3
    assert store.line(1) == b'{"n":1}'
    assert list(store.lines(1)) == [b'{"n":1}', b'{"n":2}']
    assert list(store.lines(0, 2)) == [b'{"n":0}', b'{"n":1}']
    assert list(store.lines(5)) == []
    with pytest.raises(IndexError):
        store.line(3)
    for bad in (2, 4):
        with pytest.raises(ConflictError):
            store.append(b"late", LEAF, bad)
    with pytest.raises(ValueError):
        store.append(b"two\nlines", LEAF, 3)
    with pytest.raises(ValueError):
        store.append(b"x", b"short", 3)
    store.add_head(b'{"head":0}')
    store.add_head(b'{"head":1}', expected=1)
    with pytest.raises(ConflictError):
        store.add_head(b'{"head":9}', expected=1)
    assert store.heads() == [b'{"head":0}', b'{"head":1}'] and store.heads(1) == [b'{"head":1}']
    assert store.count() == 3
    other = backend.open()  # another handle sees everything committed
    assert list(other.lines()) == list(store.lines()) and other.heads() == store.heads()


def test_exclusive_commits_together_or_not_at_all(backend):
    store, other = backend.open(), backend.open()
    with pytest.raises(RuntimeError), store.exclusive():
        store.append(b"a", LEAF, 0)
        store.add_head(b"h")
        raise RuntimeError
    assert store.count() == 0 and other.count() == 0 and other.heads() == []
    with store.exclusive():
        store.append(b"a", LEAF, 0)
        store.append(b"b", LEAF, 1)
        store.add_head(b"h", expected=0)
    assert list(other.lines()) == [b"a", b"b"] and other.heads() == [b"h"]


def test_two_handles_conflict(backend):
    a, b = backend.open(), backend.open()
    a.append(b"a", LEAF, 0)
    with pytest.raises(ConflictError):
        b.append(b"b", LEAF, 0)
    b.append(b"b", LEAF, 1)
    assert list(a.lines()) == [b"a", b"b"]


def test_schema_keeps_the_log_append_only(backend):
    store = backend.open()
    store.append(b"a", LEAF, 0)
    raw = store._db  # what a careless script with a database client could do
    p = "?" if backend.kind == "sqlite" else "%s"
    table = "entries" if backend.kind == "sqlite" else "verivote_entries"
    errors = (Exception,)
    where = "" if backend.kind == "sqlite" else f"election = '{ELECTION}' AND "
    for statement in (
        f"UPDATE {table} SET line = {p} WHERE {where}idx = 0",
        f"DELETE FROM {table} WHERE {where}idx = 0",
    ):
        with pytest.raises(errors):
            raw.execute(statement, (b"forged",) if "UPDATE" in statement else ())
    with pytest.raises(ConflictError):  # a gap: index 5 after 0
        store.append(b"gap", LEAF, 5)
    assert list(store.lines()) == [b"a"]


def test_sqlite_refuses_other_files_and_versions(tmp_path):
    with pytest.raises(FileNotFoundError):
        SQLiteStore(tmp_path / "missing.sqlite", create=False)
    path = tmp_path / "board.sqlite"
    SQLiteStore(path).close()
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StoreError, match="version 99"):
        SQLiteStore(path)


def test_open_store_names():
    with pytest.raises(ValueError):
        open_store("mysql:somewhere", ELECTION)
    with pytest.raises(ValueError):
        open_store("sqlite", ELECTION)


# ------------------------------------------------------------------ boards on a store
def test_election_survives_restart_and_exports(backend, tmp_path):
    sim = opened(backend.open())
    for voter in range(5):
        sim.cast(voter, LEADER)
    sim.cast(1, OTHER)  # a re-vote: the first ballot leaves the tally
    sim.revoke(2)
    sim.board.post(sim.credentials[3], "audit", sim.prepare(3, OTHER).audit_body())
    sim.board.checkpoint()
    # The front end restarts: a new process opens the same store.
    reopened = Board.open(backend.open(), sim.clock, sim.board_signer)
    same_board(sim.board, reopened)
    assert [e.to_line() for e in reopened] == [e.to_line() for e in sim.board]
    sim.board = reopened
    sim.cast(6, OTHER)
    sim.close()
    sim.count(present=[1, 3])
    record = tmp_path / "record"
    sim.board.export(record)
    report = verify_record(record)
    assert report.valid, report.failures
    assert report.result == sim.board.state.result
    # verivote export from the store alone gives the same record, and it verifies.
    out = tmp_path / "exported"
    assert main(["export", "--store", backend.spec, "--election", ELECTION, "--out", str(out)]) == 0
    for name in ("board.jsonl", "heads.jsonl"):
        assert (out / name).read_bytes() == (record / name).read_bytes()
    # … with its record index, for verify --jobs and --dask
    assert read_index(out) == build_index(out / "board.jsonl", DEFAULT_EVERY, MAX_LINE)
    assert main(["verify", str(out)]) == 0
    assert main(["export", "--store", backend.spec, "--election", "x", "--out", str(out)]) == 2


def test_invalid_entries_never_reach_the_store(backend):
    sim = opened(backend.open())
    watcher = backend.open()
    before = watcher.count()
    body = copy.deepcopy(sim.prepare(0, LEADER).body)
    body["credential"] = sim.records[1].key.hex()  # proofs bound to credential 0
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.credentials[1], "ballot", body)
    assert info.value.check == "ballot.proof"
    stranger = Signer.generate()
    with pytest.raises(EntryRejected) as info:
        sim.board.post(
            stranger, "ballot", encrypt_ballot(sim.manifest, sim.joint_key, stranger, LEADER).body
        )
    assert info.value.check == "ballot.credential"
    valid = sim.prepare(0, LEADER).body
    sim.board.post(sim.credentials[0], "ballot", valid)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.credentials[0], "ballot", valid)
    assert info.value.check == "ballot.duplicate"
    assert watcher.count() == before + 1 == len(sim.board)
    same_board(sim.board, Board.open(backend.open(), sim.clock, sim.board_signer))


def test_open_refuses_a_store_that_does_not_replay(tmp_path):
    store = MemoryStore()
    sim = opened(store)
    store.append(b'{"body":{},"sig":"00","time":"x","type":"ballot"}', LEAF, store.count())
    with pytest.raises(StoreError, match="does not replay"):
        Board.open(store, sim.clock, sim.board_signer)


def _cast_many(board: Board, sim: SimulatedElection, voters: range, out: list[int]) -> None:
    for voter in voters:
        prepared = encrypt_ballot(sim.manifest, sim.joint_key, sim.credentials[voter], LEADER)
        out.append(board.post(sim.credentials[voter], "ballot", prepared.body))


def test_two_front_ends_append_concurrently(backend, tmp_path):
    voters = 24
    sim = opened(backend.open(), voters)
    start = len(sim.board)
    other = Board.open(backend.open(), SimulatedClock(sim.clock.now), sim.board_signer)
    got_a: list[int] = []
    got_b: list[int] = []
    threads = [
        threading.Thread(target=_cast_many, args=(sim.board, sim, range(0, voters, 2), got_a)),
        threading.Thread(target=_cast_many, args=(other, sim, range(1, voters, 2), got_b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got_a + got_b) == list(range(start, start + voters))  # none lost, none twice
    sim.board.refresh()
    other.refresh()
    same_board(sim.board, other)
    assert sim.board.state.ballot_entries == voters
    sim.close()
    sim.count(present=[1, 2])
    sim.board.export(tmp_path / "record")
    report = verify_record(tmp_path / "record")
    assert report.valid, report.failures


class RacyStore:
    """A store whose writer lock does not lock, and before each of its first ``races``
    appends lets another board append first: the lost race a store reports as a
    ConflictError."""

    def __init__(self, store: Store, rival, races: int) -> None:
        self.store, self.rival, self.races = store, rival, races

    def __getattr__(self, name):
        return getattr(self.store, name)

    def exclusive(self):
        return nullcontext()

    def append(self, line: bytes, leaf: bytes, expected_index: int) -> int:
        if self.races:
            self.races -= 1
            self.rival()
        return self.store.append(line, leaf, expected_index)


@pytest.mark.parametrize("races", [1, 3])
def test_conflict_rebuilds_and_retries(backend, races):
    sim = opened(backend.open())
    rival = Board.open(backend.open(), sim.clock, sim.board_signer)
    voters = iter(range(1, 8))

    def rival_casts() -> None:
        voter = next(voters)
        rival.post(sim.credentials[voter], "ballot", sim.prepare(voter, OTHER).body)

    racy = RacyStore(backend.open(), rival_casts, races)
    board = Board.open(racy, sim.clock, sim.board_signer)
    body = sim.prepare(0, LEADER).body
    if races < 3:
        index = board.post(sim.credentials[0], "ballot", body)
        assert index == len(board) - 1 == rival.store.count() - 1
    else:  # MAX_ATTEMPTS lost races: give up, with a board that still matches the store
        with pytest.raises(ConflictError):
            board.post(sim.credentials[0], "ballot", body)
    rival.refresh()
    same_board(board, rival)
    same_board(board, Board.open(backend.open(), sim.clock, sim.board_signer))


def _front_end(dsn: str, board_seed: bytes, scalars: list[bytes], now: str) -> list[int]:
    """One front-end process: its own connection, its own board, ballots for the split
    credentials whose secret scalars are ``scalars``."""
    from verivote.board.pg_store import PostgresStore

    store = PostgresStore(dsn, ELECTION)
    try:
        clock = SimulatedClock(datetime.fromisoformat(now))
        board = Board.open(store, clock, Signer(board_seed))
        m, key = board.state.manifest, board.state.joint_key
        assert m is not None and key is not None
        out = []
        for scalar in scalars:
            signer = ScalarSigner(scalar)
            out.append(board.post(signer, "ballot", encrypt_ballot(m, key, signer, LEADER).body))
        return out
    finally:
        store.close()


def test_front_end_processes_share_a_postgres_board(pg_dsn, tmp_path):
    from verivote.board.pg_store import PostgresStore

    voters, processes = 30, 3
    sim = opened(PostgresStore(pg_dsn, ELECTION), voters)
    start = len(sim.board)
    jobs = [
        (
            pg_dsn,
            sim.board_signer.seed,
            [c.scalar for c in sim.credentials[p::processes]],
            sim.clock.now.isoformat(),
        )
        for p in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.starmap(_front_end, jobs)
    indices = sorted(i for r in results for i in r)
    assert indices == list(range(start, start + voters))
    assert sim.board.refresh() == voters
    assert sim.board.state.ballot_entries == voters
    sim.close()
    sim.count(present=[2, 3])
    sim.board.export(tmp_path / "record")
    report = verify_record(tmp_path / "record")
    assert report.valid, report.failures
    sim.board.store.close()
