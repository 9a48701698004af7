"""Crashes: ``verivote serve`` killed with SIGKILL while voters cast, then restarted on the
same store (SQLite, and PostgreSQL when ``VERIVOTE_TEST_PG`` names a server).

Every voter's client retries what got no answer; because a re-posted ballot gets its
original index and receipt, every ballot ends on the board exactly once with a receipt
that checks against the restarted board (inclusion, and consistency from the receipt's
head to the board's latest), and the store replays with every head checking."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import live_board
import pytest
from live_board import choice

import verivote.demo as demo
from verivote.board.client import Backoff, BoardClient, BoardSource
from verivote.board.log import Board
from verivote.board.merkle import leaf_hash
from verivote.board.receipt_check import check_receipt
from verivote.election.ballot import encrypt_ballot
from verivote.election.entries import sign_entry
from verivote.election.state_codec import encode_state
from verivote.encoding import dumps
from verivote.errors import ReceiptError

store_spec = live_board.store_spec  # the fixture: a fresh SQLite or PostgreSQL store
VOTERS = 4
BALLOTS_EACH = 4


@pytest.fixture
def now_open():
    """The start of a simulated election whose voting hours began a minute ago (the
    server's clock is the real one)."""
    return datetime.now(UTC).replace(microsecond=0) - demo.LEAD - timedelta(minutes=1)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(spec, election, key: Path, port: int, log: Path):
    command = [sys.executable, "-m", "verivote", "serve", "--store", spec, "--key", str(key)]
    command += ["--port", str(port), "--workers", "1", "--head-every", "0.2"]
    command += ["--snapshot-every", "3"]  # restarts start from snapshots taken mid-stream
    if election:
        command += ["--election", election]
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def test_sigkill_mid_stream_loses_no_acknowledged_ballot(now_open, store_spec, tmp_path):
    spec, election, open_store = store_spec
    sim = demo.SimulatedElection(
        VOTERS, seed=9, store=open_store(), start=now_open, voting=timedelta(hours=1)
    )
    sim.run_ceremony()
    sim.publish_roll()
    sim.board.store.close()
    key = tmp_path / "operator.key"
    key.write_text(sim.board_signer.seed.hex())
    payloads = [
        [
            sign_entry(
                sim.credentials[v],
                sim.manifest.fingerprint,
                "ballot",
                encrypt_ballot(sim.manifest, sim.joint_key, sim.credentials[v], choice(n)).body,
                "x",
            ).to_dict()
            for n in range(BALLOTS_EACH)
        ]
        for v in range(VOTERS)
    ]
    port, log = _free_port(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    server = _start(spec, election, key, port, log)
    receipts: list = []
    errors: list = []
    lock = threading.Lock()

    def voter(mine):
        client = BoardClient(url, timeout=5, backoff=Backoff(40, 0.05, 0.5, 90.0))
        for payload in mine:
            try:
                receipt = client.post_ballot(payload)
            except Exception as exc:  # reported below
                with lock:
                    errors.append(repr(exc))
                return
            with lock:
                receipts.append((payload, receipt))

    threads = [threading.Thread(target=voter, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    try:
        kills = 0
        for threshold in (2, 8):
            deadline = time.monotonic() + 60
            while len(receipts) < threshold and not errors:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            kills += 1
            time.sleep(0.2)
            server = _start(spec, election, key, port, log)
        for t in threads:
            t.join(120)
        assert not errors, (errors, log.read_text())
        assert kills == 2 and len(receipts) == VOTERS * BALLOTS_EACH
        source = BoardSource(BoardClient(url, timeout=10))
        last = {}  # each voter's last ballot on the board: the one whose receipt counts
        for payload, receipt in receipts:
            key = payload["body"]["credential"]
            last[key] = max(last.get(key, -1), receipt.index)
        for payload, receipt in receipts:
            line = source.line(receipt.index)
            assert line is not None and payload["sig"].encode() in line
            if receipt.index == last[payload["body"]["credential"]]:
                verdict = check_receipt(receipt, source)  # inclusion, consistency, counts
                assert verdict.index == receipt.index
            else:  # on the board, and the check says in plain words that it was replaced
                with pytest.raises(ReceiptError, match="a later ballot with the same"):
                    check_receipt(receipt, source)
    finally:
        server.terminate()
        server.wait(15)
    store = open_store()
    kept = store.snapshot()  # the service's last one, taken when it stopped
    assert kept is not None and kept[0] == store.count()
    board = Board.open(store, sim.clock, sim.board_signer)  # every head checks
    full = Board(sim.clock, sim.board_signer)  # the whole log replayed in memory
    for index, line in enumerate(store.lines()):
        full.store.append(line, leaf_hash(line), index)
    full.refresh()
    assert (len(full), full.tree.root()) == (len(board), board.tree.root())
    assert dumps(encode_state(full.state)) == dumps(encode_state(board.state))
    ballots = [e for e in board if e.type == "ballot"]
    assert len(ballots) == VOTERS * BALLOTS_EACH  # each exactly once
    assert sorted(r.index for _, r in receipts) == sorted(
        i for i in range(len(board)) if board.entry(i).type == "ballot"
    )
    text = log.read_text()
    assert "Traceback" not in text and "snapshot refused" not in text, text
    store.close()
