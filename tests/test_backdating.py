"""Back-dating behind a signed head: the board signs a head at 12:00, then appends a ballot
stamped 09:59:59 (within voting hours, after the last entry's time). The head proves the
ballot was not on the log at 12:00, so its time is a lie: the board refuses to append it
and the verifier names it (``log.backdated``); an observer holding two heads whose times
run backwards has signed evidence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from verivote.board.heads import sign_head
from verivote.board.log import Board
from verivote.board.watch import SplitViewError, Watcher
from verivote.demo import SimulatedElection, _parse
from verivote.election.entries import Entry, sign_entry
from verivote.election.manifest import format_time
from verivote.encoding import dumps, loads
from verivote.errors import EntryRejected
from verivote.verify.record import verify_record

CHOICE = {"leader": ["begum"], "rule-change": ["yes"]}


def _before_close(sim: SimulatedElection) -> tuple[str, str]:
    """The head time (two hours after closing time) and the back-dated ballot's time (one
    second before closing time)."""
    closes = _parse(sim.manifest.closes)
    return format_time(closes + timedelta(hours=2)), format_time(closes - timedelta(seconds=1))


def _late_ballot(sim: SimulatedElection, voter: int, time: str) -> Entry:
    body = sim.prepare(voter, CHOICE).body
    return sign_entry(sim.credentials[voter], sim.manifest.fingerprint, "ballot", body, time)


def _election_with_head() -> tuple[SimulatedElection, str, str]:
    sim = SimulatedElection(6, seed=5)
    sim.run_ceremony()
    sim.publish_roll()
    for voter in range(3):
        sim.cast(voter, CHOICE)
    head_time, stamp = _before_close(sim)
    sim.clock.jump(_parse(head_time))
    sim.board.checkpoint()  # the board signs a head at 12:00 (closing time was 10:00)
    assert sim.board.heads[-1].time >= head_time
    return sim, head_time, stamp


def test_board_refuses_entry_timed_before_its_last_head():
    sim, _, stamp = _election_with_head()
    before = len(sim.board)
    with pytest.raises(EntryRejected) as info:
        sim.board.append(_late_ballot(sim, 4, stamp))
    assert info.value.check == "log.backdated"
    assert len(sim.board) == before


def test_board_stamps_entry_to_its_last_head():
    """An honest writer's entry timed before a head another writer signed meanwhile is
    re-timed to the head (and, past closing time, is then outside voting hours)."""
    sim, _, stamp = _election_with_head()
    with pytest.raises(EntryRejected) as info:
        sim.board.append(_late_ballot(sim, 4, stamp), stamp=True)
    assert info.value.check == "ballot.time"


def _forged_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """The attack as a malicious board would publish it: the ballot appended after the
    12:00 head with its 09:59:59 stamp, then close and count as usual."""
    sim, _, stamp = _election_with_head()
    entry = _late_ballot(sim, 4, stamp)
    at = len(sim.board)
    with monkeypatch.context() as patch:  # a board that ignores its own heads' times
        patch.setattr(Board, "_head_time", lambda self: "")
        sim.board.append(entry)
    sim.close()
    sim.count(present=[1, 2])
    sim.board.export(tmp_path)
    return tmp_path, at


def test_verifier_names_ballot_timed_before_a_preceding_head(tmp_path, monkeypatch):
    record, at = _forged_record(tmp_path, monkeypatch)
    report = verify_record(record)
    assert not report.valid
    failures = [(f.index, f.type, f.check) for f in report.failures]
    assert failures == [(at, "ballot", "log.backdated")]
    assert report.result is not None  # the ballot was counted: only the check shows the lie


def test_verifier_ignores_unsigned_head_claims(tmp_path):
    """A head that fails its signature proves nothing: it names no entry as back-dated."""
    sim, _, _ = _election_with_head()
    sim.close()
    sim.count(present=[1, 2])
    sim.board.export(tmp_path)
    heads = (tmp_path / "heads.jsonl").read_bytes().splitlines()
    fake = loads(heads[0])
    fake["size"], fake["time"] = 3, "2099-01-01T00:00:00Z"
    (tmp_path / "heads.jsonl").write_bytes(b"\n".join([dumps(fake), *heads]) + b"\n")
    checks = {f.check for f in verify_record(tmp_path).failures}
    assert "log.signature" in checks and "log.backdated" not in checks


def test_watcher_catches_heads_whose_times_run_backwards(tmp_path):
    sim, _, _ = _election_with_head()
    m = sim.manifest
    watcher = Watcher(tmp_path / "heads.jsonl")
    watcher.pin(sim.board.entry(0).to_line())
    late = sim.board.heads[-1]
    watcher.observe(late)
    n = late.size - 1
    early_size_later_time = sign_head(
        sim.board_signer,
        m.fingerprint,
        m.election_id,
        n,
        sim.board.tree.root(n),
        format_time(_parse(late.time) + timedelta(seconds=1)),
    )
    with pytest.raises(SplitViewError) as info:
        watcher.observe(early_size_later_time, sim.board.tree.consistency_proof(n, late.size))
    assert info.value.kind == "time"
