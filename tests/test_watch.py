"""Observers: an honest growing board is accepted; a board that shows two observers
different logs is caught, with both signed heads as evidence."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from live_board import ballot_payload, choice, serving, voting_election

from verivote.board.client import BoardClient
from verivote.board.log import Board
from verivote.board.watch import SplitViewError, Watcher, poll
from verivote.cli import main
from verivote.election.entries import entry_from_line
from verivote.errors import InvalidSignature, VerificationError


def fork(sim, size):
    """A second board of the same election and operator key, sharing the first ``size``
    entries of ``sim``'s board (its heads timed as the copied entries, so that no copied
    entry is timed before a head signed while copying)."""
    board = Board(lambda: "", sim.board_signer)
    for line in sim.board.store.lines(0, size):
        board.append(entry_from_line(line))
    board.clock = sim.clock
    return board


def cast_on(board, sim, voter, n):
    from verivote.election.entries import sign_entry

    body = sim.prepare(voter, choice(n)).body
    entry = sign_entry(
        sim.credentials[voter], sim.manifest.fingerprint, "ballot", body, sim.clock()
    )
    return board.append(entry)


def test_an_honest_growing_board_is_accepted(tmp_path):
    sim = voting_election(voters=10, seed=21)
    state = tmp_path / "watch.jsonl"
    with serving(sim.board) as url:
        client = BoardClient(url)
        watcher = Watcher(state)
        sizes = []
        for voter in range(5):
            head, new = poll(watcher, client)
            assert new
            sizes.append(head.size)
            client.post_ballot(ballot_payload(sim, voter))
        assert poll(watcher, client)[1]
        assert not poll(watcher, client)[1]  # same size and root: nothing new to keep
        again = Watcher(state)  # the state survives a restart
        assert again.pinned == watcher.pinned
        assert [h.size for h in again.heads] == [*sizes, len(sim.board)]
        client.post_ballot(ballot_payload(sim, 6))
        assert poll(again, client)[1]
        assert main(["watch", url, "--state", str(state), "--once"]) == 0


def test_one_observer_shown_two_boards_of_the_same_size(tmp_path):
    sim = voting_election(voters=10, seed=22)
    base = len(sim.board)
    other = fork(sim, base)
    cast_on(sim.board, sim, 0, 0)
    cast_on(other, sim, 1, 1)
    assert len(other) == len(sim.board)
    watcher = Watcher(tmp_path / "w.jsonl")
    with serving(sim.board) as a, serving(other) as b:
        poll(watcher, BoardClient(a))
        with pytest.raises(SplitViewError) as caught:
            poll(watcher, BoardClient(b))
    error = caught.value
    assert error.kind == "fork"
    assert error.first.size == error.second.size and error.first.root != error.second.root
    for head in (error.first, error.second):  # both are genuinely signed: proof for anyone
        head.verify(sim.manifest.board_key, sim.manifest.fingerprint)
    assert [h["size"] for h in error.evidence()["heads"]] == [error.first.size] * 2


def test_one_observer_shown_a_board_that_does_not_extend_the_last(tmp_path):
    sim = voting_election(voters=10, seed=23)
    base = len(sim.board)
    other = fork(sim, base)
    cast_on(sim.board, sim, 0, 0)
    cast_on(other, sim, 1, 1)
    cast_on(other, sim, 2, 2)
    watcher = Watcher(tmp_path / "w.jsonl")
    with serving(sim.board) as a, serving(other) as b:
        poll(watcher, BoardClient(a))
        with pytest.raises(SplitViewError) as caught:
            poll(watcher, BoardClient(b))
    assert caught.value.kind == "inconsistent"
    assert (caught.value.first.size, caught.value.second.size) == (base + 1, base + 2)
    assert len(watcher.heads) == 1  # the offending head is not kept


def test_two_observers_exchange_heads_and_find_the_split(tmp_path):
    sim = voting_election(voters=10, seed=24)
    other = fork(sim, len(sim.board))
    cast_on(sim.board, sim, 0, 0)
    cast_on(other, sim, 1, 1)
    alice, bob = tmp_path / "alice.jsonl", tmp_path / "bob.jsonl"
    with serving(sim.board) as a, serving(other) as b:
        poll(Watcher(alice), BoardClient(a))
        poll(Watcher(bob), BoardClient(b))
        with pytest.raises(SplitViewError) as caught:
            Watcher(alice).exchange(bob)
        assert caught.value.kind == "fork"
        assert main(["watch", a, "--state", str(alice), "--once", "--import", str(bob)]) == 1


def test_exchange_with_an_honest_observer(tmp_path):
    sim = voting_election(voters=10, seed=25)
    alice, bob = tmp_path / "alice.jsonl", tmp_path / "bob.jsonl"
    with serving(sim.board) as url:
        client = BoardClient(url)
        first = poll(Watcher(alice), client)[0].size
        client.post_ballot(ballot_payload(sim, 0))
        poll(Watcher(bob), client)
        client.post_ballot(ballot_payload(sim, 1))
        poll(Watcher(bob), client)
        offline = Watcher(alice).exchange(bob)  # without proofs: new sizes go unchecked
        assert (offline.imported, offline.unchecked) == (0, 2)
        result = Watcher(alice).exchange(bob, client.consistency)
        assert (result.imported, result.unchecked, result.foreign) == (2, 0, 0)
        theirs = {h.size for h in Watcher(bob).heads}
        assert {h.size for h in Watcher(alice).heads} == {first} | theirs


def test_heads_not_signed_by_the_pinned_key_are_refused(tmp_path):
    sim = voting_election(voters=6, seed=26)
    watcher = Watcher(tmp_path / "w.jsonl")
    with serving(sim.board) as url:
        head, _ = poll(watcher, BoardClient(url))
    sig = bytearray(head.signature)
    sig[0] ^= 1
    with pytest.raises(InvalidSignature):
        watcher.observe(replace(head, size=head.size + 1, signature=bytes(sig)))
    assert len(watcher.heads) == 1


def test_a_board_of_another_election_is_refused(tmp_path):
    first, second = voting_election(voters=6, seed=27), voting_election(voters=6, seed=28)
    watcher = Watcher(tmp_path / "w.jsonl")
    with serving(first.board) as a, serving(second.board) as b:
        poll(watcher, BoardClient(a))
        with pytest.raises(VerificationError, match="not the election pinned"):
            poll(watcher, BoardClient(b))
        assert main(["watch", b, "--state", str(tmp_path / "w.jsonl"), "--once"]) == 1


def test_watch_command_reports_an_unreachable_board(tmp_path, capsys):
    assert main(["watch", "http://127.0.0.1:9", "--state", str(tmp_path / "w"), "--once"]) == 2
    assert "unreachable" in capsys.readouterr().err


def test_split_view_evidence_is_printed_as_json(tmp_path, capsys):
    sim = voting_election(voters=10, seed=29)
    other = fork(sim, len(sim.board))
    cast_on(sim.board, sim, 0, 0)
    cast_on(other, sim, 1, 1)
    state = tmp_path / "w.jsonl"
    with serving(sim.board) as a, serving(other) as b:
        assert main(["watch", a, "--state", str(state), "--once"]) == 0
        capsys.readouterr()
        assert main(["watch", b, "--state", str(state), "--once"]) == 1
    evidence = json.loads(capsys.readouterr().out)
    assert evidence["split_view"] == "fork" and len(evidence["heads"]) == 2


def test_a_board_shorter_than_a_head_it_signed_is_caught_without_asking_it(tmp_path):
    """An observer kept a head of size n + 2; the board it is shown later signs a head of
    size n + 1. That board cannot prove consistency up to a size its log does not have,
    and need not be asked: its own two signed heads contradict an append-only log."""
    sim = voting_election(voters=10, seed=30)
    other = fork(sim, len(sim.board))
    cast_on(sim.board, sim, 0, 0)
    cast_on(sim.board, sim, 1, 1)
    alice, bob = tmp_path / "alice.jsonl", tmp_path / "bob.jsonl"
    with serving(sim.board) as a, serving(other) as b:
        assert main(["watch", a, "--state", str(alice), "--once"]) == 0
        cast_on(other, sim, 2, 2)  # later, on the shorter board
        with pytest.raises(SplitViewError) as caught:
            poll(Watcher(alice), BoardClient(b))
        assert caught.value.kind == "time"
        assert caught.value.second.size == len(sim.board) > len(other)
        assert main(["watch", b, "--state", str(bob), "--once"]) == 0  # alone, nothing seen
        assert main(["watch", b, "--state", str(bob), "--once", "--import", str(alice)]) == 1
