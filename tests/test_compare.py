"""Observers offline: ``verivote compare`` finds a fork between two copies of a board's
signed heads — records, ``heads.jsonl`` files or watch state files — with no live board."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from live_board import voting_election
from test_watch import cast_on, fork

from verivote.board.compare import compare_heads, load_side
from verivote.board.heads import sign_head
from verivote.board.watch import SplitViewError
from verivote.cli import main
from verivote.encoding import dumps


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """One election whose board showed two audiences different logs after entry ``n``:
    ``a`` got one more ballot, ``b`` two others. Both exported as records."""
    sim = voting_election(voters=6, seed=41)
    n = len(sim.board)
    other = fork(sim, n)
    cast_on(sim.board, sim, 0, 0)
    cast_on(other, sim, 1, 1)
    cast_on(other, sim, 2, 2)
    root = tmp_path_factory.mktemp("split")
    sim.board.export(root / "a")
    other.export(root / "b")
    return sim, n, root


def heads_only(root, name):
    path = root / f"{name}-heads.jsonl"
    path.write_bytes((root / name / "heads.jsonl").read_bytes())
    return path


def test_two_bare_heads_files_with_the_election_given(tmp_path, capsys):
    sim = voting_election(voters=6, seed=43)
    n = len(sim.board)
    other = fork(sim, n)
    cast_on(sim.board, sim, 0, 0)
    cast_on(other, sim, 1, 1)
    sim.board.export(tmp_path / "a")
    other.export(tmp_path / "b")
    bare = [str(heads_only(tmp_path, "a")), str(heads_only(tmp_path, "b"))]
    assert main(["compare", *bare, "--election", str(tmp_path / "a")]) == 1
    assert json.loads(capsys.readouterr().out)["split_view"] == "fork"


def test_two_records_of_one_size_fork(split, tmp_path, capsys):
    sim, n, root = split
    same = fork(sim, n)  # a third audience: one ballot, not a's
    cast_on(same, sim, 3, 3)
    same.export(tmp_path / "c")
    assert main(["compare", str(root / "a"), str(tmp_path / "c")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(
        f"split view: two signed heads of size {n + 1} with different roots"
    )
    evidence = json.loads(captured.out)
    assert evidence["split_view"] == "fork"
    assert [h["size"] for h in evidence["heads"]] == [n + 1, n + 1]


def test_a_head_the_other_record_does_not_extend(split, capsys):
    _, n, root = split
    a_heads = heads_only(root, "a")
    with pytest.raises(SplitViewError) as caught:
        compare_heads(load_side(a_heads), load_side(root / "b"))
    assert caught.value.kind == "inconsistent"
    assert (caught.value.first.size, caught.value.second.size) == (n + 1, n + 2)
    assert main(["compare", str(a_heads), str(root / "b")]) == 1
    evidence = json.loads(capsys.readouterr().out)
    assert evidence["split_view"] == "inconsistent" and evidence["proof"]
    assert evidence["prefix_root"] != evidence["heads"][0]["root"]


def test_heads_timed_against_their_sizes(split, tmp_path, capsys):
    sim, n, root = split
    a = load_side(root / "a")
    assert a.tree is not None
    m = sim.manifest
    # head n re-signed a day after every head of side a: the larger heads are then timed
    # before it
    last = max(json.loads(line)["time"] for line in (root / "a" / "heads.jsonl").open())
    later = (datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    late = sign_head(sim.board_signer, m.fingerprint, m.election_id, n, a.tree.root(n), later)
    path = tmp_path / "late.jsonl"
    path.write_bytes(dumps(late.to_dict()) + b"\n")
    assert main(["compare", str(root / "a"), str(path)]) == 1
    captured = capsys.readouterr()
    assert f"is timed before the signed head of size {n}" in captured.err
    assert json.loads(captured.out)["split_view"] == "time"


def test_an_honest_pair_and_the_exit_codes(split, tmp_path, capsys):
    sim, _, root = split
    assert main(["compare", str(root / "a"), str(heads_only(root, "a"))]) == 0
    assert capsys.readouterr().out.startswith("no fork: ")
    state = tmp_path / "watch.jsonl"
    from verivote.board.watch import Pin

    state.write_bytes(dumps(Pin.from_line(sim.board.store.line(0)).to_dict()) + b"\n")
    assert main(["compare", str(state), str(heads_only(root, "a"))]) == 0
    # two bare heads files name no election: their signatures cannot be checked ...
    bare = [str(heads_only(root, "a")), str(heads_only(root, "b"))]
    assert main(["compare", *bare]) == 2
    assert "nothing names the election" in capsys.readouterr().err
    # ... unless the election is given apart: an observer's earlier copy of a's heads
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_bytes(b"".join(heads_only(root, "a").read_bytes().splitlines(True)[:2]))
    assert main(["compare", bare[0], str(earlier), "--election", str(state)]) == 0
    assert "no fork" in capsys.readouterr().out
    other = voting_election(voters=3, seed=42)
    other.board.export(tmp_path / "other")
    assert main(["compare", str(root / "a"), str(tmp_path / "other")]) == 2
    assert main(["compare", str(root / "a"), str(tmp_path / "missing")]) == 2
