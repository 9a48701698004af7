"""Per-ballot verification, one ballot at a time against a batch checked at once.

For each group, ``--pool`` ballots (1 contest, 4 candidates, vote for one) are checked from
their record lines as the verifier does: ``BallotChecker.check_and_tally`` one line at a
time (the path before cross-ballot batching) and ``BallotChecker.check_many`` on the whole
pool at once (the path of ``verivote verify``, whose batches hold 2,048 lines). The rows are
interleaved over ``--rounds`` rounds; each figure is per ballot, minimum and median, in CPU
time of this process and in wall-clock time. With ElectionGuard 1.4.0 importable (see
README.md), its ``ballot_is_valid_for_election`` joins the same rounds and the ratio is
printed.

    python benchmarks/batch_verify.py                     # all groups, pool 48, 7 rounds
    python benchmarks/batch_verify.py --groups modp4096 --pool 24 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from ballots import Bench, eg_benches, our_side, say
from common import code_version, machine_line

from verivote.groups import GROUP_NAMES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", nargs="*", default=list(GROUP_NAMES))
    parser.add_argument("--pool", type=int, default=48, help="ballots per batch")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-electionguard", action="store_true")
    args = parser.parse_args(argv)
    rows: list[tuple[Bench, int]] = []
    for group in args.groups:
        say(f"setting up {group} ({args.pool} ballots)")
        side = our_side(group, args.pool)
        checker, lines = side.checker, side.lines
        batch = list(enumerate(lines))

        def one_by_one(checker=checker, batch=batch) -> object:  # type: ignore[no-untyped-def]
            return [checker.check_and_tally(i, line) for i, line in batch]

        def many(checker=checker, batch=batch) -> object:  # type: ignore[no-untyped-def]
            results = checker.check_many(batch)
            assert all(r.failure is None for r in results)
            return results

        rows.append((Bench("verivote", group, "one by one", one_by_one), args.pool))
        rows.append((Bench("verivote", group, "batch", many), args.pool))
    eg_note = "not measured (--no-electionguard)"
    if not args.no_electionguard:
        try:
            eg_rows, eg_note = eg_benches(12)
            rows += [(b, 1) for b in eg_rows if b.what == "verify"]
        except ImportError as exc:
            eg_note = f"not measured: {exc}"
    load = os.getloadavg()
    for bench, _ in rows:
        bench.fn()  # warm-up: tables, caches
    for r in range(args.rounds):
        for bench, _ in rows:
            bench.run()
        say(f"  round {r + 1}/{args.rounds} (load {os.getloadavg()[0]:.2f})")
    print(f"- {machine_line()}\n- {code_version()}\n- ElectionGuard: {eg_note}")
    print(
        f"- {args.rounds} interleaved rounds; load average {load[0]:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end\n"
    )
    print("| side | group | path | ms CPU min | ms CPU median | ms wall min | ms wall median |")
    print("|---|---|---|---:|---:|---:|---:|")
    cpu: dict[tuple[str, str], float] = {}
    for bench, per in rows:
        c = [x * 1e3 / per for x in bench.cpu]
        w = [x * 1e3 / per for x in bench.wall]
        cpu[bench.group, bench.what] = statistics.median(c)
        print(
            f"| {bench.side} | {bench.group} | {bench.what} | {min(c):.2f} "
            f"| {statistics.median(c):.2f} | {min(w):.2f} | {statistics.median(w):.2f} |"
        )
    eg = cpu.get(("modp4096", "verify"))
    if eg is not None:
        print("\n| group | path | EG verify / ours (median CPU) |\n|---|---|---:|")
        for (group, what), ms in cpu.items():
            if what != "verify":
                print(f"| {group} | {what} | {eg / ms:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
