"""Per-ballot encryption: verivote's groups against ElectionGuard 1.4.0, one interleaved run.

    PYTHONPATH=. /tmp/venv-egbench/bin/python benchmarks/encrypt.py            # 9 rounds
    python benchmarks/encrypt.py --groups ristretto255,ed25519 --no-electionguard

The ballot is ``ballots.py``'s (1 contest, 4 candidates, vote for one): verivote's
``encrypt_ballot`` (4 encryptions, 4 selection proofs, the limit proof; the device path of
``docs/crypto.md`` §8) and ElectionGuard's ``encrypt_ballot`` (its proofs included, its
own verification of them off, as shipped and with its log calls stubbed out). Every
benchmark runs once per round, rounds interleaved, each run lasting about ``--target``
seconds of CPU; the table gives the minimum and the median over the rounds, in CPU time
(this process's) and wall-clock time, and the ratio ElectionGuard ÷ verivote on each,
judged against the target of 25× on the default group.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ballots import Bench, eg_benches, measure, our_side, say

from verivote.groups import DEFAULT_GROUP

TARGET = 25.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", default="ristretto255,ed25519", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--target", type=float, default=0.3, help="seconds per run")
    parser.add_argument("--no-electionguard", action="store_true")
    args = parser.parse_args(argv)

    benches: list[Bench] = []
    for group in args.groups.split(","):
        say(f"setting up {group}")
        benches.append(Bench("verivote", group, "encrypt", our_side(group, 12).encrypt))
    note = "ElectionGuard not run"
    if not args.no_electionguard:
        try:
            eg, note = eg_benches(12)
        except ImportError as exc:
            say(f"ElectionGuard is not importable ({exc}); verivote alone")
        else:
            benches += [b for b in eg if b.what.startswith("encrypt")]
    load_before = os.getloadavg()
    measure(benches, args.target, args.rounds)
    load_after = os.getloadavg()

    def ms(values: list[float], fn: object) -> float:
        return float(fn(values)) * 1e3  # type: ignore[operator]

    print("## Per-ballot encryption: 1 contest, 4 candidates, vote for one\n")
    print(
        f"- {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores; "
        f"Python {platform.python_version()}; {note}"
    )
    print(
        f"- {args.rounds} interleaved rounds of about {args.target} s of CPU per benchmark; "
        f"load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end\n"
    )
    print(
        "| side | group | operation | CPU ms min | CPU ms median | wall ms min | wall ms median |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    for b in benches:
        print(
            f"| {b.side} | {b.group} | {b.what} | {ms(b.cpu, min):.2f} | "
            f"{ms(b.cpu, statistics.median):.2f} | {ms(b.wall, min):.2f} | "
            f"{ms(b.wall, statistics.median):.2f} |"
        )
    eg_rows = [b for b in benches if b.side == "ElectionGuard"]
    if eg_rows:
        print(
            "\nRatio ElectionGuard ÷ verivote (ElectionGuard's `encrypt_ballot` as shipped; "
            "in brackets with its log calls stubbed out):\n"
        )
        print("| group | CPU, min | CPU, median | wall, min | wall, median | target | met? |")
        print("|---|---:|---:|---:|---:|---:|---|")
        shipped, quiet = eg_rows[0], eg_rows[-1]
        for b in benches:
            if b.side != "verivote":
                continue
            cells = []
            for attr, fn in (
                ("cpu", min),
                ("cpu", statistics.median),
                ("wall", min),
                ("wall", statistics.median),
            ):
                ours = fn(getattr(b, attr))
                cells.append(
                    f"{fn(getattr(shipped, attr)) / ours:.1f}× "
                    f"({fn(getattr(quiet, attr)) / ours:.1f}×)"
                )
            median_cpu = statistics.median(shipped.cpu) / statistics.median(b.cpu)
            target = f"{TARGET:.0f}×" if b.group == DEFAULT_GROUP else "–"
            met = ("yes" if median_cpu >= TARGET else "**no**") if b.group == DEFAULT_GROUP else ""
            print(f"| {b.group} | {' | '.join(cells)} | {target} | {met} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
