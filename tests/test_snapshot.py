"""Restarting from a snapshot: the board's state after its first N entries, signed with
its key and kept in the store, then only the entries after N replayed.

The property: for any log and any snapshot and kill points, a board restarted from the
snapshot holds what a board replaying the whole log holds (state, tree, heads, re-post
index), and goes on to the same result. A snapshot that is tampered with, old, foreign,
of another log or beyond the log is refused — with one log line — and the whole log is
replayed instead."""

from __future__ import annotations

import contextlib
import logging
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_board import choice, store_spec
from test_decoder_fuzz import json_values, mutate, paths

from verivote.board import snapshot
from verivote.board.log import CHECKPOINT_TYPES, Board
from verivote.board.merkle import leaf_hash
from verivote.board.sqlite_store import SQLiteStore
from verivote.board.store import MemoryStore
from verivote.demo import SimulatedElection
from verivote.election.entries import entry_from_line
from verivote.election.state_codec import decode_state, encode_state, unpack_b64
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, StoreError
from verivote.signatures import SIGNATURE_SIZE

__all__ = ["store_spec"]  # the fixture, imported for the PostgreSQL case


@pytest.fixture(scope="module")
def election():
    """One election through every phase: re-votes, an audit, a revocation, a late
    elector, seals, close, tally, decryptions and the result; its simulation and lines."""
    sim = SimulatedElection(6, seed=71)
    sim.run_ceremony()
    sim.publish_roll()
    for voter in range(6):
        sim.cast(voter, choice(voter))
    sim.cast(0, choice(1))
    sim.board.post(sim.credentials[2], "audit", sim.prepare(2, choice(2)).audit_body())
    sim.revoke(3)
    late = sim.add_elector("members")
    sim.cast(late, choice(late))
    sim.cast(1, choice(3))
    sim.close()
    sim.count([1, 2])
    return sim, list(sim.board.store.lines(0))


def fill(store, lines, start=0):
    for index, line in enumerate(lines, start):
        store.append(line, leaf_hash(line), index)


def view(board):
    """Everything a restarted board must agree on."""
    return (
        dumps(encode_state(board.state)),
        board._posted,
        len(board),
        board.tree.root(),
        [h.to_dict() for h in board.heads],
    )


def restart_matches(sim, lines, store, snap, kill):
    """Fill ``store`` with the first ``snap`` lines, snapshot, add lines up to ``kill``,
    restart; the restarted board equals a full replay, before and after the rest."""
    fill(store, lines[:snap])
    writer = Board(sim.clock, sim.board_signer, store, snapshot_every=0)
    assert writer.save_snapshot() == snap
    fill(store, lines[snap:kill], snap)
    replayed: list[int] = []
    original = Board._replay

    def counting(board, line):
        replayed.append(len(board))
        original(board, line)

    Board._replay = counting  # type: ignore[method-assign]
    try:
        restarted = Board(sim.clock, sim.board_signer, store, snapshot_every=0)
    finally:
        Board._replay = original  # type: ignore[method-assign]
    assert replayed == list(range(snap, kill))  # only the entries after the snapshot
    reference = MemoryStore()
    fill(reference, lines[:kill])
    full = Board(sim.clock, sim.board_signer, reference)
    assert view(restarted) == view(full)
    fill(store, lines[kill:], kill)
    fill(reference, lines[kill:], kill)
    restarted.refresh()
    full.refresh()
    assert view(restarted) == view(full)
    assert restarted.state.phase == "done" and restarted.state.result == full.state.result


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_restart_from_a_snapshot_equals_a_full_replay(election, data):
    sim, lines = election
    snap = data.draw(st.integers(1, len(lines)), label="snapshot")
    kill = data.draw(st.integers(snap, len(lines)), label="kill")
    restart_matches(sim, lines, MemoryStore(), snap, kill)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_same_on_a_database(election, store_spec, data):
    spec, _, _ = store_spec
    sim, lines = election
    snap = data.draw(st.integers(1, len(lines)), label="snapshot")
    kill = data.draw(st.integers(snap, len(lines)), label="kill")
    if spec.startswith("sqlite:"):
        path = spec.removeprefix("sqlite:") + f".{snap}.{kill}"
        store = SQLiteStore(path)
    else:
        from verivote.board.pg_store import PostgresStore

        store = PostgresStore(spec.removeprefix("postgres:"), f"e-{snap}-{kill}")
        if store.count():
            store.close()
            return  # drawn before: that election's log is already there
    try:
        restart_matches(sim, lines, store, snap, kill)
    finally:
        store.close()


def test_the_encoding_is_canonical_and_round_trips(election):
    sim, _ = election
    state = sim.board.state
    obj = encode_state(state)
    again = decode_state(loads(dumps(obj)), sim.manifest, sim.board.entry, sim.board.entry)
    assert dumps(encode_state(again)) == dumps(obj)
    with pytest.raises(DecodeError, match="state format 2"):
        decode_state({**obj, "format": 2}, sim.manifest, None, sim.board.entry)
    with pytest.raises(DecodeError, match="canonical base64"):
        unpack_b64("AB==", 1, "x")  # the same byte as "AA==", spelt otherwise
    with pytest.raises(DecodeError, match="not base64"):
        unpack_b64("AA=A", 1, "x")


# ---------------------------------------------------------------------- refusals
@pytest.fixture
def stored(election, tmp_path):
    """An SQLite store of the whole election with a snapshot after its first 20 entries."""
    sim, lines = election
    path = tmp_path / "board.db"
    store = SQLiteStore(path)
    fill(store, lines[:20])
    Board(sim.clock, sim.board_signer, store, snapshot_every=0).save_snapshot()
    fill(store, lines[20:], 20)
    store.close()
    return sim, lines, path


def reopen(sim, path, caplog):
    """Open the store, returning the board and the board's log lines."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="verivote.board"):
        board = Board(sim.clock, sim.board_signer, SQLiteStore(path), snapshot_every=0)
    return board, [r.getMessage() for r in caplog.records]


def replace_snapshot(path, size, data):
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE snapshot SET size = ?, data = ? WHERE id = 0", (size, data))
    db.close()


def payload_of(path):
    db = sqlite3.connect(path)
    size, data = db.execute("SELECT size, data FROM snapshot").fetchone()
    db.close()
    return size, loads(bytes(data)[SIGNATURE_SIZE:])


def refused(sim, lines, path, caplog, reason):
    board, messages = reopen(sim, path, caplog)
    assert len(messages) == 1, messages
    assert messages[0].startswith("board: snapshot refused (")
    assert reason in messages[0]
    assert messages[0].endswith("; replaying the whole log")
    assert board._snapshot_at == 0  # not used
    reference = MemoryStore()
    fill(reference, lines)
    assert view(board) == view(Board(sim.clock, sim.board_signer, reference))


def test_a_valid_snapshot_is_used_silently(stored, caplog):
    sim, _, path = stored
    board, messages = reopen(sim, path, caplog)
    assert board._snapshot_at == 20 and messages == []


def test_a_flipped_byte_is_refused(stored, caplog):
    sim, lines, path = stored
    size, data = SQLiteStore(path).snapshot()
    at = len(data) // 2
    replace_snapshot(path, size, data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    refused(sim, lines, path, caplog, "snapshot signed by the board key")


def test_a_snapshot_of_another_version_is_refused(stored, caplog):
    sim, lines, path = stored
    size, payload = payload_of(path)
    data = snapshot.seal(
        sim.board_signer, sim.manifest.fingerprint, dumps({**payload, "version": 0})
    )
    replace_snapshot(path, size, data)
    refused(sim, lines, path, caplog, "version 0, this verivote reads 1")


def test_a_foreign_snapshot_is_refused(stored, tmp_path, caplog):
    sim, lines, path = stored
    other = SimulatedElection(2, seed=72, store=SQLiteStore(tmp_path / "other.db"))
    other.run_ceremony()
    other.board.save_snapshot()
    replace_snapshot(path, *other.board.store.snapshot())
    refused(sim, lines, path, caplog, "snapshot signed by the board key")
    # Signed with this board's key but naming another election: refused all the same.
    size, payload = payload_of(path)
    forged = {**payload, "election": other.manifest.fingerprint.hex()}
    replace_snapshot(
        path, size, snapshot.seal(sim.board_signer, sim.manifest.fingerprint, dumps(forged))
    )
    refused(sim, lines, path, caplog, "it is of another election")


def test_a_snapshot_of_another_log_is_refused(stored, caplog):
    sim, lines, path = stored
    db = sqlite3.connect(path)
    with db:  # a database-only attacker rewrites a stored leaf hash
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET leaf = ? WHERE idx = 7", (bytes(32),))
    db.close()
    refused(sim, lines, path, caplog, "its root is not the root of the store's first 20 entries")


def test_a_snapshot_beyond_the_log_is_refused(stored, caplog):
    sim, lines, path = stored
    _, data = SQLiteStore(path).snapshot()
    replace_snapshot(path, len(lines) + 5, data)
    refused(sim, lines, path, caplog, f"it covers {len(lines) + 5} entries")


def test_a_state_of_another_size_is_refused(stored, caplog):
    sim, lines, path = stored
    size, payload = payload_of(path)
    forged = {**payload, "state": {**payload["state"], "index": size - 1}}
    replace_snapshot(
        path, size, snapshot.seal(sim.board_signer, sim.manifest.fingerprint, dumps(forged))
    )
    refused(sim, lines, path, caplog, f"its state is of {size - 1} entries, not {size}")


def test_a_snapshot_whose_log_does_not_replay_falls_back(stored, caplog):
    sim, _, path = stored
    size, payload = payload_of(path)
    forged = {**payload, "state": {**payload["state"], "ballot_entries": 99}}
    replace_snapshot(
        path, size, snapshot.seal(sim.board_signer, sim.manifest.fingerprint, dumps(forged))
    )
    board, messages = reopen(sim, path, caplog)
    assert len(messages) == 1 and "does not replay after the snapshot of 20 entries" in messages[0]
    assert board.state.phase == "done" and board.state.ballot_entries == 9


def test_no_snapshot_is_one_line(election, tmp_path, caplog):
    sim, lines = election
    path = tmp_path / "plain.db"
    store = SQLiteStore(path)
    fill(store, lines)
    store.close()
    board, messages = reopen(sim, path, caplog)
    assert messages == ["board: no snapshot; replaying the whole log"]
    assert board.state.phase == "done"


def snapshots_taken(sim, lines, path):
    """Append every line to a board keeping a snapshot every 4 entries; the number of
    entries the store's snapshot covers after each append, and the phase changes."""
    store = SQLiteStore(path)
    board = Board(lambda: "", sim.board_signer, store, snapshot_every=4)
    saved = []
    for line in lines:
        board.append(entry_from_line(line))
        saved.append(store.snapshot()[0] if store.snapshot() else 0)
    assert board.save_snapshot() == len(lines)
    types = [entry_from_line(line).type for line in lines]
    phases = [n for n, t in enumerate(types, 1) if t in CHECKPOINT_TYPES]
    assert len(phases) == 6 and all(saved[n - 1] == n for n in phases)
    return saved, phases


def test_a_durable_board_keeps_snapshots_as_it_goes(election, tmp_path, monkeypatch):
    sim, lines = election
    monkeypatch.setattr("verivote.board.log.SNAPSHOT_SHARE", float("inf"))  # never too dear
    saved, _ = snapshots_taken(sim, lines, tmp_path / "live.db")
    assert all(n - s < 4 for n, s in enumerate(saved, 1))


def test_snapshots_that_cost_too_much_are_taken_less_often(election, tmp_path, monkeypatch):
    sim, lines = election
    monkeypatch.setattr("verivote.board.log.SNAPSHOT_SHARE", 1e-9)  # every one is too dear
    saved, phases = snapshots_taken(sim, lines, tmp_path / "live.db")
    assert set(saved) <= {0, *phases}  # the phase changes only


def test_a_line_changed_behind_its_leaf_is_caught_when_read_back(stored, caplog):
    """Lines before the snapshot are not re-hashed on restart; each one the board reads
    back (a superseded ballot for the tally, a receipt) is checked against its leaf."""
    sim, lines, path = stored
    db = sqlite3.connect(path)
    with db:  # a database-only attacker changes a line but not its leaf hash
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET line = ? WHERE idx = 5", (lines[6],))
    db.close()
    board, messages = reopen(sim, path, caplog)
    assert board._snapshot_at == 20 and messages == []
    assert board.entry(6).to_line() == lines[6]
    with pytest.raises(StoreError, match="stored entry 5 is not the entry of the board's tree"):
        board.entry(5)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_mutated_state_decodes_or_raises_decode_error(election, data):
    """decode_state only ever sees a state the board signed; still, any other object is
    refused as DecodeError, never another exception."""
    sim, lines = election
    doc = encode_state(sim.board.state)
    where = data.draw(st.sampled_from(paths(doc)), label="path")
    mutated = mutate(doc, where, data.draw(json_values, label="value"))

    def entry_at(index):
        if not 0 <= index < len(lines):
            raise DecodeError(f"entry {index} is not before the snapshot")
        return entry_from_line(lines[index])

    with contextlib.suppress(DecodeError):
        decode_state(mutated, sim.manifest, None, entry_at)
