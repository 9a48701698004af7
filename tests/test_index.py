"""The record index (verivote/verify/index.py): frontiers equal the RFC 9162 tree's roots,
the file's strict format, and an index that does not describe the log stops the chunked
verifier with IndexMismatch — never a verdict."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote import cli
from verivote.board.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from verivote.verify.chunked import LocalChunks, verify_chunked
from verivote.verify.index import (
    INDEX_FILE,
    Checkpoint,
    Frontier,
    IndexMismatch,
    RecordIndex,
    auto_every,
    build_index,
    check_every,
    fold_root,
    read_index,
    scan_offsets,
    write_index,
)
from verivote.verify.record import MAX_LINE, verify_record

LINES = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"_")), max_size=70)
EVERY = st.sampled_from([1, 2, 4, 8, 16])


def _write(tmp_path: Path, lines: list[bytes], newline_at_end: bool = True) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = b"\n".join(lines) + (b"\n" if lines and newline_at_end else b"")
    (tmp_path / "board.jsonl").write_bytes(data)
    return tmp_path


@settings(max_examples=30, deadline=None)
@given(lines=LINES, every=EVERY, newline_at_end=st.booleans())
def test_checkpoints_hold_the_tree_heads(tmp_path_factory, lines, every, newline_at_end):
    """Every checkpoint's frontier folds to the RFC 9162 root of that many entries; the
    offsets are where those entries start; the newline-only scan finds the same offsets."""
    if lines and not newline_at_end and not lines[-1]:
        lines = [*lines[:-1], b"z"]  # an empty last line without a newline is no line
    directory = _write(tmp_path_factory.mktemp("log"), lines, newline_at_end)
    board = directory / "board.jsonl"
    index = build_index(board, every, MAX_LINE)
    tree = MerkleTree()
    for line in lines:
        tree.append(leaf_hash(line))
    data = board.read_bytes()
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    assert index.entries == len(lines)
    for cp in index.checkpoints:
        assert cp.frontier is not None
        assert fold_root(cp.frontier) == tree.root(cp.entry)
        assert cp.offset == (starts[cp.entry] if cp.entry < len(lines) else len(data))
    light = scan_offsets(board, every)
    assert [(c.entry, c.offset) for c in light.checkpoints] == [
        (c.entry, c.offset) for c in index.checkpoints
    ]
    assert RecordIndex.from_bytes(index.to_bytes()) == index
    assert index.coarsen(every * 4) == build_index(board, every * 4, MAX_LINE)


@pytest.mark.parametrize(
    ("entries", "threads", "every"),
    [(0, 2, 16), (2600, 2, 256), (2600, 1, 512), (10**6, 8, 2048), (10**4, 2, 1024), (100, 64, 16)],
)
def test_auto_every(entries, threads, every):
    assert auto_every(entries, threads) == every


def test_coarsen_refuses_a_finer_index():
    index = RecordIndex(4, (Checkpoint(0, 0, ()),))
    with pytest.raises(ValueError, match="coarser"):
        index.coarsen(2)


@given(sizes=st.lists(st.integers(0, 4), max_size=40))
def test_frontier_pushes_aligned_subtrees(sizes):
    """Pushing leaves one by one or in aligned complete subtrees gives the same roots."""
    leaves = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(300)]
    frontier, tree = Frontier(), MerkleTree()
    for height in sizes:
        height = (
            min(height, (frontier.size & -frontier.size).bit_length() - 1)
            if frontier.size
            else height
        )
        sub = MerkleTree()
        for leaf in leaves[frontier.size : frontier.size + (1 << height)]:
            sub.append(leaf)
            tree.append(leaf)
        frontier.push(height, sub.root())
        assert frontier.root() == tree.root()
    assert fold_root([]) == EMPTY_ROOT


def test_frontier_refuses_unaligned_push():
    frontier = Frontier()
    frontier.push(0, bytes(32))
    with pytest.raises(ValueError, match="not aligned"):
        frontier.push(1, bytes(32))


@pytest.mark.parametrize("every", [0, 3, 6, 2**21, True, "4"])
def test_every_is_a_power_of_two(every):
    with pytest.raises(ValueError):
        check_every(every)


def _index_lines(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / INDEX_FILE).read_bytes().splitlines()]


def _put(directory: Path, lines: list[dict]) -> None:
    text = "".join(json.dumps(x, sort_keys=True, separators=(",", ":")) + "\n" for x in lines)
    (directory / INDEX_FILE).write_text(text)


@pytest.mark.parametrize(
    "edit",
    [
        lambda x: x[0].update(format="other"),
        lambda x: x[0].update(every=3),
        lambda x: x[0].update(extra=1),
        lambda x: x[2].update(entry=x[2]["entry"] + 1),
        lambda x: x[2].update(offset=x[1]["offset"]),
        lambda x: x[1].update(offset=5),
        lambda x: x[2]["frontier"].append("00" * 32),
        lambda x: x[2].update(frontier="00"),
        lambda x: x[2]["frontier"].__setitem__(0, "zz"),
        lambda x: x.insert(1, x[1]),
    ],
)
def test_malformed_index_is_refused(edit, tmp_path):
    directory = _write(tmp_path, [b"a", b"b", b"c", b"d", b"e"])
    write_index(directory, 2, MAX_LINE)
    lines = _index_lines(directory)
    edit(lines)
    _put(directory, lines)
    with pytest.raises(IndexMismatch):
        read_index(directory)


def test_no_index_is_none(tmp_path):
    assert read_index(_write(tmp_path, [b"a"])) is None


# ------------------------------------------------------------------ against a record
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small valid demo record (ed25519), its bytes kept to copy per test."""
    from verivote.demo import run_demo

    out = tmp_path_factory.mktemp("demo") / "record"
    run_demo(12, "ed25519", out, seed=3, say=lambda _: None)
    return out


def _copy(demo: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "record"
    directory.mkdir()
    for name in ("board.jsonl", "heads.jsonl"):
        (directory / name).write_bytes((demo / name).read_bytes())
    return directory


def test_index_command_and_chunked_report(demo, tmp_path, capsys):
    directory = _copy(demo, tmp_path)
    assert cli.main(["index", str(directory), "--every", "4"]) == 0
    assert "chunk(s) of 4" in capsys.readouterr().out
    index = read_index(directory)
    assert index is not None and index.every == 4
    local = verify_record(directory).to_dict()
    assert local["valid"]
    assert verify_chunked(directory, LocalChunks()).to_dict() == local


@pytest.mark.parametrize("every", ["3", "0"])
def test_index_command_refuses_bad_interval(every, demo, tmp_path, capsys):
    assert cli.main(["index", str(_copy(demo, tmp_path)), "--every", every]) == 2
    assert "power of two" in capsys.readouterr().err


def test_jobs_and_dask_together_are_refused(demo, tmp_path, capsys):
    """--jobs would be ignored on a cluster: the verifier says so instead (exit 2)."""
    directory = _copy(demo, tmp_path)
    assert cli.main(["verify", str(directory), "--dask", "local", "--jobs", "2"]) == 2
    assert "--jobs and --dask: give one" in capsys.readouterr().err


def test_index_command_without_record(tmp_path, capsys):
    assert cli.main(["index", str(tmp_path)]) == 2
    assert "no board.jsonl" in capsys.readouterr().err


def _shift(lines: list[dict], board: bytes, by: int) -> None:
    """Move checkpoint 2's offset ``by`` lines (negative: back) or, with 0, one byte on."""
    cp = lines[2]
    if by == 0:
        cp["offset"] += 1
        return
    starts = [0] + [i + 1 for i, b in enumerate(board) if b == ord("\n")]
    cp["offset"] = starts[starts.index(cp["offset"]) + by]


TAMPERS = {
    "offset-one-line-on": lambda lines, board: _shift(lines, board, 1),
    "offset-one-line-back": lambda lines, board: _shift(lines, board, -1),
    "offset-mid-line": lambda lines, board: _shift(lines, board, 0),
    "frontier-changed": lambda lines, board: lines[3]["frontier"].__setitem__(0, "ab" * 32),
    "last-checkpoint-dropped": lambda lines, board: lines.pop(),
    "entries-understated": lambda lines, board: lines[-1].update(entry=lines[-1]["entry"] - 1),
    "end-offset-short": lambda lines, board: lines[-1].update(offset=lines[-1]["offset"] - 1),
    "end-offset-long": lambda lines, board: lines[-1].update(offset=lines[-1]["offset"] + 1),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampered_index_stops_the_run(name, demo, tmp_path):
    """A valid record with a wrong index: IndexMismatch, never a report."""
    directory = _copy(demo, tmp_path)
    write_index(directory, 4, MAX_LINE)
    lines = _index_lines(directory)
    TAMPERS[name](lines, (directory / "board.jsonl").read_bytes())
    _put(directory, lines)
    with pytest.raises(IndexMismatch):
        verify_chunked(directory, LocalChunks())


def test_stale_index_of_a_changed_log_stops_the_run(demo, tmp_path):
    """The index of the honest log beside a log whose ballot was changed (same length):
    IndexMismatch; without the index the chunked report is the local one (log.root)."""
    directory = _copy(demo, tmp_path)
    write_index(directory, 4, MAX_LINE)
    board = directory / "board.jsonl"
    data = bytearray(board.read_bytes())
    lines = data.split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.endswith(b'"type":"ballot"}'))
    start = sum(len(line) + 1 for line in lines[:at])
    sig = data.index(b'"sig":"', start) + 7
    data[sig] = ord("0") if data[sig] != ord("0") else ord("1")
    board.write_bytes(bytes(data))
    with pytest.raises(IndexMismatch):
        verify_chunked(directory, LocalChunks())
    (directory / INDEX_FILE).unlink()
    local = verify_record(directory).to_dict()
    assert {"ballot.signature", "log.root"} <= {f["check"] for f in local["failures"]}
    assert verify_chunked(directory, LocalChunks(), 4).to_dict() == local


def test_cli_reports_a_tampered_index_with_exit_2(demo, tmp_path, capsys, monkeypatch):
    directory = _copy(demo, tmp_path)
    write_index(directory, 4, MAX_LINE)
    lines = _index_lines(directory)
    lines[3]["frontier"][0] = "cd" * 32
    _put(directory, lines)
    from verivote.verify import dask_runner

    monkeypatch.setattr(dask_runner, "DaskChunks", lambda address: LocalChunks())
    assert cli.main(["verify", str(directory), "--dask", "local", "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is None and "index.jsonl does not match the log" in out["error"]
