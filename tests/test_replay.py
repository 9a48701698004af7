"""The board does not trust its own store: a row written straight into the database by
someone who holds no author's key does not replay, so no signed head ever covers it."""

from __future__ import annotations

import sqlite3

import pytest
from live_board import choice

from verivote.board.log import Board
from verivote.board.merkle import leaf_hash
from verivote.board.sqlite_store import SQLiteStore
from verivote.demo import SimulatedElection
from verivote.election.entries import sign_entry
from verivote.errors import StoreError
from verivote.signatures import Signer


@pytest.fixture
def stored(tmp_path):
    """An election open for voting kept in an SQLite file, two ballots cast."""
    path = tmp_path / "board.sqlite"
    sim = SimulatedElection(4, seed=31, store=SQLiteStore(path))
    sim.run_ceremony()
    sim.publish_roll()
    sim.cast(0, choice(0))
    sim.cast(1, choice(1))
    sim.board.checkpoint()
    sim.board.store.close()
    return sim, path


def insert_row(path, line):
    """What a database-only attacker does: append a row at the next index."""
    db = sqlite3.connect(path)
    with db:
        (n,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
        db.execute(
            "INSERT INTO entries (idx, line, leaf) VALUES (?, ?, ?)", (n, line, leaf_hash(line))
        )
    db.close()
    return n


def forged_ballot(sim, voter):
    """A well-formed ballot with valid proofs for elector ``voter``'s credential (anyone can
    encrypt), signed with a key that is not the credential's."""
    prepared = sim.prepare(voter, choice(voter))
    entry = sign_entry(
        Signer.generate(), sim.manifest.fingerprint, "ballot", prepared.body, sim.clock()
    )
    return entry.to_line()


def test_a_forged_ballot_row_does_not_replay(stored):
    sim, path = stored
    index = insert_row(path, forged_ballot(sim, 2))
    with pytest.raises(StoreError) as caught:
        Board.open(SQLiteStore(path), sim.clock, sim.board_signer)
    assert str(caught.value) == (
        f"stored entry {index} does not replay: ballot.signature: "
        "ballot signed by its credential: signature does not verify"
    )


def test_a_row_that_is_not_strict_does_not_replay(stored):
    sim, path = stored
    line = forged_ballot(sim, 2).replace(b'"time":', b'"time" :')
    index = insert_row(path, line)
    with pytest.raises(StoreError) as caught:
        Board.open(SQLiteStore(path), sim.clock, sim.board_signer)
    assert str(caught.value).startswith(f"stored entry {index} does not replay: ")


def test_a_genuine_ballot_replays(stored):
    sim, path = stored
    prepared = sim.prepare(2, choice(2))
    entry = sign_entry(
        sim.credentials[2], sim.manifest.fingerprint, "ballot", prepared.body, sim.clock()
    )
    index = insert_row(path, entry.to_line())
    board = Board.open(SQLiteStore(path), sim.clock, sim.board_signer)
    assert len(board) == index + 1 and board.state.ballot_entries == 3
