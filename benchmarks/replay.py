#!/usr/bin/env python
"""How long a board takes to reopen on a store it already holds (``Board.open``), and what
re-checking every ballot's proofs would add.

Usage::

    python benchmarks/replay.py              # ed25519 with 200 ballots, modp4096 with 30
    python benchmarks/replay.py --ballots 50 # the same number in both groups

An election of the demo's manifest (four candidates and a referendum) with one ballot per
elector is kept in memory; it is replayed 3 times, interleaved with 3 runs of the full
state-free ballot check (signature, decoding, proofs) over the same ballots. Output is
Markdown: minimum and median seconds, and per ballot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from live_board import choice

from verivote.board.log import Board
from verivote.demo import SimulatedElection
from verivote.election.entries import entry_from_line


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ballots", type=int, default=0)
    args = parser.parse_args()
    print("| group | ballots | replay min / median s | ms per ballot | proofs too, min s |")
    print("|---|---:|---:|---:|---:|")
    for group, default in (("ed25519", 200), ("modp4096", 30)):
        n = args.ballots or default
        replay, full = measure(group, n)
        print(
            f"| {group} | {n} | {min(replay):.2f} / {statistics.median(replay):.2f} | "
            f"{min(replay) / n * 1000:.1f} | {min(full):.2f} |"
        )


if __name__ == "__main__":
    main()
