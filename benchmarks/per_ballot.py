#!/usr/bin/env python
"""Per ballot, in one run: verivote against ElectionGuard 1.4.0, every group, with floors.

Usage (from the repository root; ElectionGuard in its own venv, see README.md)::

    PYTHONPATH=.:benchmarks /tmp/venv-egbench-speed/bin/python benchmarks/per_ballot.py
    python benchmarks/per_ballot.py --no-electionguard            # verivote only
    python benchmarks/per_ballot.py --quick                       # smoke test, ~1 minute
    python benchmarks/per_ballot.py --batch 4096 --small-batch 512 --rounds 9

The ballot is ElectionGuard's usual benchmark shape: one contest, four candidates, vote for
one. For every group of verivote (``GROUP_NAMES``), in the same process:

* **encrypt**: ``encrypt_ballot`` as a voter's device runs it (secret exponents on the
  group's constant-time path), cycling through ``--pool`` choices;
* **verify, one by one**: ``BallotChecker.check_and_tally`` on one record line at a time
  (signature, decoding, proofs, the partial tally);
* **verify, batch**: ``BallotChecker.check_many`` on ``--batch`` record lines at once (the
  verifier's batched path; ristretto255 at the verifier's batch size ``pipeline.BATCH``
  by default, ed25519, which has no multi-exponentiation, and modp4096, whose ballots are
  slow to make, at ``--small-batch``, default 256), per ballot.

ElectionGuard 1.4.0's ``encrypt_ballot`` and ``ballot_is_valid_for_election`` (and its
proofs-only ``is_valid_encryption``) join the same rounds when it is importable. All rows
run in ``--rounds`` interleaved rounds (each row about ``--target`` seconds a round, a batch
row one call); the tables give the minimum and median per ballot of this process's CPU
time and of wall-clock time, then the ratios ElectionGuard ÷ verivote against the targets
(default group in a batch ≥ 150×, modp4096 ≥ 5×, encryption on the default group ≥ 25×).

**The floor from primitive counts**: each verivote path runs ``--floor-passes`` more times
under cProfile; the calls into compiled backends (the ristretto255 extension, libsodium,
gmpy2, OpenSSL's hashes) are counted per ballot, each with its measured cost per call (its
own time under the profiler, the least over the passes), and their sum is what the path
would cost were all the Python around them free. Inline ``mpz`` arithmetic (modp4096's
products and reductions) is not a call and is not counted, so there the floor is a lower
bound.

The batch's ballots are made with the public-exponent fast paths of ``records.py``
(benchmark only; they are thrown away), the encryption row never.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import itertools
import os
import pstats
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from ballots import ANCHOR_EG_VERIFY_MS, VOTE_TIME, Bench, eg_benches, say
from common import CANDIDATES, CATEGORIES, code_version, machine_line, make_election
from records import public_paths

from verivote.election.ballot import encrypt_ballot
from verivote.election.checker import BallotChecker
from verivote.election.entries import sign_entry
from verivote.groups import DEFAULT_GROUP, GROUP_NAMES
from verivote.signatures import Signer
from verivote.verify.pipeline import BATCH

TARGET_BATCH_DEFAULT = 150.0
TARGET_BATCH_MODP = 5.0
TARGET_ENCRYPT_DEFAULT = 25.0
BACKENDS = ("_ristretto.", "_sodium.", "gmpy2.", "_hashlib")
"""Substrings naming calls into compiled code in cProfile's built-in entries."""


@dataclass
class Side:
    """verivote's ballots for one group: record lines and a checker, ready to time."""

    group: str
    checker: BallotChecker
    lines: list[bytes]
    encrypt: Any


def make_side(group: str, batch: int, pool: int) -> Side:
    """An election in ``group``, ``batch`` ballots' record lines (made with the fast paths,
    each checked to pass) and an encryption function cycling ``pool`` choices."""
    e = make_election(group)
    m, key = e.manifest, e.joint_key
    voters = [Signer.generate() for _ in range(batch)]
    roll = {v.public_key: (CATEGORIES[i % len(CATEGORIES)][0], 1) for i, v in enumerate(voters)}
    choices = [{"leader": [CANDIDATES[i % len(CANDIDATES)]]} for i in range(batch)]
    lines = []
    with public_paths(m.group):
        for voter, choice in zip(voters, choices, strict=True):
            body = encrypt_ballot(m, key, voter, choice).body
            lines.append(sign_entry(voter, m.fingerprint, "ballot", body, VOTE_TIME).to_line())
    checker = BallotChecker(m, key, roll)
    for result in checker.check_many(list(enumerate(lines))):
        if result.failure is not None:
            raise SystemExit(f"{group}: benchmark ballot {result.index} fails: {result.failure}")
    pairs = itertools.cycle(list(zip(voters[:pool], choices[:pool], strict=True)))

    def encrypt() -> object:
        voter, choice = next(pairs)
        return encrypt_ballot(m, key, voter, choice)

    return Side(group, checker, lines, encrypt)


@dataclass
class Row:
    bench: Bench
    per: int
    """Ballots per call."""

    def ms(self, which: str, how: Any) -> float:
        values = self.bench.cpu if which == "cpu" else self.bench.wall
        return float(how(values)) * 1e3 / self.per


def rows_for(side: Side, pool: int) -> list[Row]:
    checker = side.checker
    small = list(enumerate(side.lines[:pool]))
    cycle = itertools.cycle(small)
    batch = list(enumerate(side.lines))

    def one() -> object:
        index, line = next(cycle)
        return checker.check_and_tally(index, line)

    def many() -> object:
        return checker.check_many(batch)

    return [
        Row(Bench("verivote", side.group, "encrypt", side.encrypt), 1),
        Row(Bench("verivote", side.group, "verify, one by one", one), 1),
        Row(Bench("verivote", side.group, f"verify, batch of {len(batch)}", many), len(batch)),
    ]


@dataclass
class Primitive:
    name: str
    calls: float
    """Per ballot."""
    us_per_call: float


def primitives(fn: Any, ballots: int, passes: int) -> list[Primitive]:
    """Run ``fn`` ``passes`` times under cProfile (CPU time); the compiled-backend calls it
    made, per ballot, each with its least cost per call over the passes, heaviest first."""
    calls: dict[str, float] = {}
    cost: dict[str, float] = {}
    for _ in range(passes):
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        fn()
        profiler.disable()
        raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
        raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        for (filename, _line, name), (_cc, ncalls, tottime, _ct, _callers) in raw.items():
            if filename == "~" and any(b in name for b in BACKENDS):
                label = name.removeprefix("<built-in method ").removesuffix(">")
                label = label.removeprefix("<method ").replace(" objects", "")
                calls[label] = ncalls / ballots
                cost[label] = min(cost.get(label, float("inf")), tottime / ncalls * 1e6)
    out = [Primitive(label, calls[label], cost[label]) for label in calls]
    out.sort(key=lambda p: p.calls * p.us_per_call, reverse=True)
    return out


def fmt(ms: float) -> str:
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", nargs="+", default=list(GROUP_NAMES), choices=GROUP_NAMES)
    parser.add_argument(
        "--batch", type=int, default=BATCH, help=f"ballots in a batch row (default {BATCH})"
    )
    parser.add_argument(
        "--small-batch",
        type=int,
        default=256,
        help="the same for ed25519 (no multi-exponentiation) and modp4096 (slow to make)",
    )
    parser.add_argument("--floor-passes", type=int, default=2, help="profiled runs per path")
    parser.add_argument("--pool", type=int, default=12, help="ballots cycled by single rows")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--target", type=float, default=0.4, help="seconds per row per round")
    parser.add_argument("--quick", action="store_true", help="small batches, 3 rounds")
    parser.add_argument("--no-electionguard", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.small_batch, args.rounds, args.target = 100, 12, 3, 0.15
        args.floor_passes = 1

    rows: list[Row] = []
    sides: dict[str, Side] = {}
    for group in args.groups:
        size = args.batch if group == "ristretto255" else args.small_batch
        say(f"setting up {group}: {size} ballots")
        sides[group] = make_side(group, size, min(args.pool, size))
        rows += rows_for(sides[group], min(args.pool, size))
    eg_note = "not measured (--no-electionguard)"
    if not args.no_electionguard:
        try:
            eg_rows, eg_note = eg_benches(args.pool)
            rows += [Row(b, 1) for b in eg_rows]
        except ImportError as exc:
            eg_note = f"not measured: {exc}"
    for row in rows:
        if row.per == 1:
            row.bench.calibrate(args.target)
        else:
            row.bench.fn()  # warm-up
    load_before = os.getloadavg()
    for r in range(args.rounds):
        for row in rows:
            row.bench.run()
        say(f"  round {r + 1}/{args.rounds} (load {os.getloadavg()[0]:.2f})")
    load_after = os.getloadavg()

    print("## Per ballot: verivote against ElectionGuard 1.4.0\n")
    print(f"- {machine_line()}")
    print(f"- {code_version()}; default group `{DEFAULT_GROUP}`")
    print(f"- {datetime.date.today().isoformat()}; ElectionGuard: {eg_note}")
    print(
        f"- {args.rounds} interleaved rounds; load average (1 min) {load_before[0]:.2f} at "
        f"the start, {load_after[0]:.2f} at the end. CPU time is this process's "
        "(`time.process_time`); wall time includes waiting for a core.\n"
    )
    print(
        "| side | group | operation | ballots per call | CPU ms min | CPU ms median "
        "| wall ms min | wall ms median |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        b = row.bench
        print(
            f"| {b.side} | {b.group} | {b.what} | {row.per} | {fmt(row.ms('cpu', min))} "
            f"| {fmt(row.ms('cpu', statistics.median))} | {fmt(row.ms('wall', min))} "
            f"| {fmt(row.ms('wall', statistics.median))} |"
        )

    got = {(r.bench.side, r.bench.what): r for r in rows if r.bench.side == "ElectionGuard"}
    eg_verify = got.get(("ElectionGuard", "verify"))
    eg_proofs = got.get(("ElectionGuard", "verify proofs"))
    eg_encrypt = got.get(("ElectionGuard", "encrypt"))
    if eg_verify is not None and eg_proofs is not None and eg_encrypt is not None:
        print("\n### Ratios: ElectionGuard ÷ verivote, CPU time, this run\n")
        print(
            "Verification against `ballot_is_valid_for_election` (its full check) and against "
            "`is_valid_encryption` (its proofs and hashes only, the less favourable), and "
            f"against the {ANCHOR_EG_VERIFY_MS} ms of ANCHORS.md (measured earlier, on a "
            "quieter machine); medians (minima in brackets). The verdict takes the least "
            "favourable of the four same-run readings.\n"
        )
        print(
            "| group | operation | verivote ms (median) | EG full ÷ ours | EG proofs ÷ ours "
            f"| {ANCHOR_EG_VERIFY_MS} ms ÷ ours | target | met? |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---|")
        for row in rows:
            b = row.bench
            if b.side != "verivote":
                continue
            med, low = row.ms("cpu", statistics.median), row.ms("cpu", min)
            if b.what == "encrypt":
                eg_med, eg_low = eg_encrypt.ms("cpu", statistics.median), eg_encrypt.ms("cpu", min)
                cells = f"{eg_med / med:.1f}× ({eg_low / low:.1f}×) | – | –"
                goal = TARGET_ENCRYPT_DEFAULT if b.group == DEFAULT_GROUP else None
                worst = min(eg_med / med, eg_low / low)
                best = max(eg_med / med, eg_low / low)
            else:
                full = eg_verify.ms("cpu", statistics.median) / med
                full_min = eg_verify.ms("cpu", min) / low
                proofs = eg_proofs.ms("cpu", statistics.median) / med
                proofs_min = eg_proofs.ms("cpu", min) / low
                anchor = ANCHOR_EG_VERIFY_MS / med
                cells = (
                    f"{full:.1f}× ({full_min:.1f}×) | {proofs:.1f}× ({proofs_min:.1f}×) "
                    f"| {anchor:.1f}×"
                )
                goal = None
                if b.what.startswith("verify, batch"):
                    goal = (
                        TARGET_BATCH_DEFAULT
                        if b.group == DEFAULT_GROUP
                        else TARGET_BATCH_MODP
                        if b.group == "modp4096"
                        else None
                    )
                worst = min(full, full_min, proofs, proofs_min)
                best = max(full, full_min)
            if goal is None:
                verdict, target = "", "–"
            else:
                target = f"{goal:g}×"
                verdict = (
                    "yes"
                    if worst >= goal
                    else f"**no**: {goal / worst:.2f}× short (least "
                    f"favourable reading {worst:.1f}×)"
                )
                if worst < goal and best >= goal:
                    verdict += f"; met on the most favourable reading ({best:.1f}×)"
            print(f"| {b.group} | {b.what} | {fmt(med)} | {cells} | {target} | {verdict} |")

    print("\n### The floor from primitive counts\n")
    print(
        f"Each path {args.floor_passes} more time(s) under cProfile: calls into compiled code "
        "per ballot × their least measured cost per call (own time under the profiler). "
        "Floor = their sum; measured = the "
        "median CPU time above. modp4096's inline `mpz` products are not calls, so its "
        "floor is a lower bound.\n"
    )
    print(
        "| group | path | measured ms | floor ms | measured ÷ floor | heaviest primitives "
        "(calls per ballot × µs per call) |"
    )
    print("|---|---|---:|---:|---:|---|")
    for row in rows:
        b = row.bench
        if b.side != "verivote":
            continue
        prims = primitives(b.fn, row.per, args.floor_passes)
        floor = sum(p.calls * p.us_per_call for p in prims) / 1e3
        measured = row.ms("cpu", statistics.median)
        top = ", ".join(f"`{p.name}` {p.calls:.3g} × {p.us_per_call:.3g}" for p in prims[:5])
        print(
            f"| {b.group} | {b.what} | {fmt(measured)} | {fmt(floor)} "
            f"| {measured / floor if floor else float('nan'):.2f} | {top} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
