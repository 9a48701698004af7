#!/usr/bin/env python
"""How long a board takes to reopen on a store it already holds (``Board.open``): replaying
the whole log, against starting from a snapshot of its state; and what re-checking every
ballot's proofs would add.

Usage::

    python benchmarks/replay.py              # proofs: ed25519 with 200 ballots, modp4096 with 30
    python benchmarks/replay.py --ballots 50 # the same number in both groups
    python benchmarks/replay.py --sizes 2000,10000,40000 --rounds 3   # restart against log size

``--sizes``: one ed25519 election (2,000 electors, a referendum-only ballot so that the
ballots can be made in minutes; the rest of each log is re-votes) is written once into a
SQLite file under ``--cache`` (the system's temporary directory by default) by encrypting
and signing every ballot and storing it directly. For each size, the first that many
entries are copied into three stores: without a snapshot (the whole log replayed), with a
snapshot of the whole log (as after a clean stop), and with one 999 entries short (the
worst case after a kill with the default ``--snapshot-every 1000``). Each is opened
``--rounds`` times, interleaved; output is Markdown with minimum and median seconds, the
time to write the snapshot and its size.

``--scale BALLOTS,ELECTORS`` (e.g. ``420000,600000``): what still grows with the log, at a
size too large to cast here. The state of a small election is inflated with random keys to
that many ballots of the demo's ballot (six ciphertexts each, one vote per elector, each
re-postable) and that large a roll; prints the time to build the Merkle tree from that many
leaf hashes, to encode and sign the snapshot, and to parse and decode it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from live_board import choice

from verivote.board.log import Board
from verivote.board.merkle import leaf_hash
from verivote.board.sqlite_store import SQLiteStore
from verivote.demo import SimulatedClock, SimulatedElection
from verivote.election.ballot import encrypt_ballot
from verivote.election.entries import entry_from_line, sign_entry
from verivote.election.manifest import Candidate, Contest
from verivote.signatures import Signer

ELECTORS = 2000
TAIL = 999
REFERENDUM = Contest(
    "rule-change",
    "Adopt the new selection rules?",
    "referendum",
    (Candidate("yes", "Yes"), Candidate("no", "No")),
    1,
)


def measure(group: str, ballots: int, rounds: int = 3) -> tuple[list[float], list[float]]:
    """Replay times and full-check times, in seconds."""
    sim = SimulatedElection(ballots, group=group, seed=1)
    sim.run_ceremony()
    sim.publish_roll()
    for voter in range(ballots):
        sim.cast(voter, choice(voter))
    store = sim.board.store
    entries = [entry_from_line(line) for line in store.lines(0)]
    checker = sim.board.state.checker()
    replay, full = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        Board.open(store, sim.clock, sim.board_signer)
        replay.append(time.perf_counter() - start)
        start = time.perf_counter()
        for index, entry in enumerate(entries):
            if entry.type == "ballot":
                checker.check(index, entry)
        full.append(time.perf_counter() - start)
    return replay, full


def make_log(path: Path, size: int) -> tuple[Callable[[], str], Signer]:
    """An election of ``size`` entries or more in the SQLite file ``path`` (kept between
    runs: a file already that long is used as it is). Returns a clock and the board key."""
    key_file = path.with_suffix(".key")
    clock = SimulatedClock(datetime.now(UTC))
    if path.exists() and key_file.exists():
        existing = SQLiteStore(path)
        if existing.count() >= size:
            existing.close()
            return clock, Signer(bytes.fromhex(key_file.read_text()))
        existing.close()
    fresh = path.with_suffix(".new")
    fresh.unlink(missing_ok=True)
    sim = SimulatedElection(
        ELECTORS,
        seed=1,
        store=SQLiteStore(fresh),
        voting=timedelta(days=30),
        contests=(REFERENDUM,),
    )
    sim.run_ceremony()
    sim.publish_roll()
    store = sim.board.store
    fingerprint, key = sim.manifest.fingerprint, sim.joint_key
    index = store.count()
    started = time.perf_counter()
    while index < size:
        voter = index % ELECTORS
        choice = {"rule-change": [("yes", "no")[index % 2]]}
        body = encrypt_ballot(sim.manifest, key, sim.credentials[voter], choice).body
        line = sign_entry(sim.credentials[voter], fingerprint, "ballot", body, sim.clock())
        store.append(line.to_line(), leaf_hash(line.to_line()), index)
        index += 1
        if index % 2000 == 0:
            print(f"  {index} entries, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    store.close()
    fresh.replace(path)
    key_file.write_text(sim.board_signer.seed.hex())
    return clock, sim.board_signer


def prefix(source: Path, target: Path, size: int) -> SQLiteStore:
    """A fresh store holding the first ``size`` entries of ``source``."""
    if target.exists():
        target.unlink()
    store = SQLiteStore(target)
    with store.exclusive():
        for index, line in enumerate(SQLiteStore(source).lines(0, size)):
            store.append(line, leaf_hash(line), index)
    return store


def restart_table(sizes: list[int], rounds: int, cache: Path) -> None:
    """Print the restart table (see the module docstring)."""
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / "log.db"
    clock, key = make_log(source, max(sizes))
    stores: dict[tuple[int, str], Path] = {}
    writes: dict[int, tuple[float, int]] = {}
    for size in sizes:
        for variant in ("none", "end", "tail"):
            path = cache / f"{size}-{variant}.db"
            store = prefix(source, path, size if variant != "tail" else size - TAIL)
            if variant != "none":
                board = Board.open(store, clock, key, snapshot_every=0)
                start = time.perf_counter()
                board.save_snapshot()
                spent = time.perf_counter() - start
                kept = store.snapshot()
                assert kept is not None
                if variant == "end":
                    writes[size] = (spent, len(kept[1]))
            if variant == "tail":
                with store.exclusive():
                    for index, line in enumerate(
                        SQLiteStore(source).lines(size - TAIL, size), size - TAIL
                    ):
                        store.append(line, leaf_hash(line), index)
            store.close()
            stores[size, variant] = path
    times: dict[tuple[int, str], list[float]] = {k: [] for k in stores}
    for _ in range(rounds):
        for (size, variant), path in stores.items():
            store = SQLiteStore(path)
            start = time.perf_counter()
            board = Board.open(store, clock, key)
            times[size, variant].append(time.perf_counter() - start)
            assert len(board) == size
            store.close()

    def cell(values: list[float]) -> str:
        return f"{min(values):.2f} / {statistics.median(values):.2f}"

    print(
        "| entries | whole log replayed, s | snapshot of the whole log, s | "
        f"snapshot {TAIL} entries short, s | writing the snapshot, s | snapshot size, MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        spent, nbytes = writes[size]
        print(
            f"| {size:,} | {cell(times[size, 'none'])} | {cell(times[size, 'end'])} | "
            f"{cell(times[size, 'tail'])} | {spent:.2f} | {nbytes / 1e6:.1f} |"
        )
    for path in stores.values():
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def scale(ballots: int, electors: int) -> None:
    """Print the ``--scale`` row (see the module docstring)."""
    import random

    from verivote.board import snapshot
    from verivote.board.merkle import MerkleTree
    from verivote.election.roll import CredentialRecord
    from verivote.election.state_codec import decode_state
    from verivote.encoding import loads

    sim = SimulatedElection(4, seed=3)
    sim.run_ceremony()
    sim.publish_roll()
    sim.cast(0, choice(0))
    state, rnd = sim.board.state, random.Random(1)
    state.seen_trackers = dict.fromkeys(rnd.getrandbits(128) for _ in range(ballots))
    state.seen_ciphertexts = dict.fromkeys(rnd.getrandbits(128) for _ in range(6 * ballots))
    state.latest = {rnd.randbytes(32): i for i in range(ballots)}
    roll, cats = state.roll, sim.manifest.categories
    assert roll is not None
    registrar = [(rnd.randbytes(32), cats[i % len(cats)], 1) for i in range(electors)]
    roll._registrar, roll._issuer = registrar, [rnd.randbytes(32) for _ in range(electors)]
    roll._halves = {h for h, _, _ in registrar} | set(roll._issuer)
    roll.records = {rnd.randbytes(32): CredentialRecord(b"", c, w) for _, c, w in registrar}
    posted = {rnd.getrandbits(128): i for i in range(ballots)}
    leaves = [rnd.randbytes(32) for _ in range(ballots)]
    start = time.perf_counter()
    tree = MerkleTree.from_leaves(leaves)
    built = time.perf_counter() - start
    state.index = len(tree)
    start = time.perf_counter()
    data = snapshot.encode(sim.board_signer, state, tree, posted)
    encoded = time.perf_counter() - start
    start = time.perf_counter()
    obj = loads(data[64:])
    decode_state(obj["state"], sim.manifest, None, sim.board.entry)
    decoded = time.perf_counter() - start
    print("| ballots | electors | tree from leaves, s | encode and sign, s | parse and decode, s |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {ballots:,} | {electors:,} | {built:.2f} | {encoded:.2f} | {decoded:.2f} |")
    print(f"\nsnapshot: {len(data) / 1e6:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ballots", type=int, default=0)
    parser.add_argument("--sizes", help="log sizes for the restart table, e.g. 2000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", help="BALLOTS,ELECTORS: time a state of that size")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "verivote-replay"
    )
    args = parser.parse_args()
    if args.scale:
        ballots, electors = (int(n) for n in args.scale.split(","))
        scale(ballots, electors)
        return
    if args.sizes:
        sizes = sorted(int(s) for s in args.sizes.split(","))
        if sizes[0] <= TAIL:
            parser.error(f"sizes above {TAIL}")
        restart_table(sizes, args.rounds, args.cache)
        return
    print("| group | ballots | replay min / median s | ms per ballot | proofs too, min s |")
    print("|---|---:|---:|---:|---:|")
    for group, default in (("ed25519", 200), ("modp4096", 30)):
        n = args.ballots or default
        replay, full = measure(group, n, args.rounds)
        print(
            f"| {group} | {n} | {min(replay):.2f} / {statistics.median(replay):.2f} | "
            f"{min(replay) / n * 1000:.1f} | {min(full):.2f} |"
        )


if __name__ == "__main__":
    main()
