#!/usr/bin/env python
"""Whole-election benchmark: generate a record of N ballots, then time ``verivote verify``.

Usage (from the repository root)::

    python benchmarks/election.py                       # 100,000 ballots, ed25519
    python benchmarks/election.py --ballots 2000        # a small one, to try it out
    python benchmarks/election.py --ballots 20000 --group modp4096
    python benchmarks/election.py --generate-only       # make (or reuse) the record
    python benchmarks/election.py --verify-jobs 2       # time only --jobs 2

The election: one plurality contest with four candidates (vote for one), three elector
categories (60 / 25 / 15 %), three trustees of whom two decrypt. Every elector casts one
ballot (1 % blank). The record is written directly — not through a board, whose per-entry
bookkeeping would dominate generation — but entry by entry as the rule book expects:
election, trustee announcements and encrypted shares, joint key, roll parts, open, the
ballots (encrypted and signed by their credentials on worker processes), close, the tally
recomputed from the ballots' ciphertexts with :class:`TallyAccumulator`, two trustees'
decryptions with proofs, the result; Merkle tree heads signed by the board key after every
phase change and every 1,000 entries, as the board does. The generator checks the decrypted
result against the plaintext votes it chose. The generator is ``records.py`` (benchmark
only: its worker processes use the groups' public-exponent fast paths for the secrets they
throw away, see its docstring).

The record is cached in ``--dir`` (default ``/tmp/verivote-bench-N``, with ``-modp4096``
for that group); a rerun reuses it. Each verification runs ``python -m verivote verify
--json`` in a fresh process under ``/usr/bin/time -v`` (when present) and reports wall
time, CPU time, ballots per second, the peak resident memory of the largest process
(``time``'s "maximum resident set size") and of the whole process tree (sampled every
0.25 s from /proc), and the projection to 422,664 ballots. Output is Markdown on standard
output; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from common import code_digest, code_version, machine_line
from records import META, generate, say

TARGET_BALLOTS = 422_664
TARGET_SECONDS = 15 * 60


# --- verifying -------------------------------------------------------------------------------


def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in KiB (from /proc: each
    thread's ``children`` file, then each process's ``VmRSS``)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def verify(directory: Path, jobs: int) -> dict[str, Any]:
    """Run ``verivote verify --json --jobs N`` in a fresh process; time and measure it."""
    cmd = [
        sys.executable,
        "-m",
        "verivote",
        "verify",
        str(directory),
        "--json",
        "--jobs",
        str(jobs),
    ]
    if Path("/usr/bin/time").exists():
        cmd = ["/usr/bin/time", "-v", *cmd]
    peak = [0]
    load = [os.getloadavg()[0]]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    load.append(os.getloadavg()[0])
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        raise SystemExit(f"verify printed no report:\n{err.decode()[-2000:]}") from None
    stats: dict[str, str] = {}
    for line in err.decode(errors="replace").splitlines():
        if ":" in line:
            k, _, v = line.strip().rpartition(": ")
            stats[k] = v
    return {
        "jobs": jobs,
        "valid": report["valid"],
        "failures": report["failures"][:3],
        "entries": report["entries"],
        "ballots": report["by_type"].get("ballot", 0),
        "wall": wall,
        "user": float(stats.get("User time (seconds)", "nan")),
        "system": float(stats.get("System time (seconds)", "nan")),
        "max_rss_mib": int(stats.get("Maximum resident set size (kbytes)", "0")) / 1024,
        "tree_rss_mib": peak[0] / 1024,
        "load": load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000, help="default 100,000")
    parser.add_argument(
        "--group", choices=("ed25519", "ristretto255", "modp4096"), default="ed25519"
    )
    parser.add_argument("--dir", type=Path, help="record directory (cached between runs)")
    parser.add_argument(
        "--gen-jobs", type=int, default=os.cpu_count() or 1, help="generating processes"
    )
    parser.add_argument(
        "--verify-jobs",
        type=int,
        nargs="+",
        default=[1, 2],
        help="the --jobs values to time (default: 1 2)",
    )
    parser.add_argument("--regenerate", action="store_true", help="ignore a cached record")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse a cached record even if the code that makes records changed since "
        "(the verifier still says whether it holds)",
    )
    parser.add_argument("--generate-only", action="store_true", help="make the record, stop")
    args = parser.parse_args(argv)
    n = args.ballots
    suffix = "" if args.group == "ed25519" else f"-{args.group}"
    directory = args.dir or Path(f"/tmp/verivote-bench-{n}{suffix}")

    meta_path = directory / META
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    fresh = meta is not None and (meta["ballots"], meta["group"]) == (n, args.group)
    if fresh and meta is not None and meta.get("code") != code_digest() and not args.keep:
        say(f"the record in {directory} was made by other verivote code: regenerating")
        fresh = False
    if fresh and meta is not None and not args.regenerate:
        say(f"reusing the record in {directory} (generated {meta['generated']})")
    else:
        say(f"generating {n} ballots ({args.group}) in {directory} on {args.gen_jobs} processes")
        meta = generate(directory, n, args.group, args.gen_jobs)
        say(f"generated in {meta['generation_seconds']} s")
    if args.generate_only:
        print(json.dumps(meta, indent=2))
        return 0

    version = code_version()
    runs = []
    for jobs in args.verify_jobs:
        say(f"verifying with --jobs {jobs}")
        run = verify(directory, jobs)
        say(f"  {'VALID' if run['valid'] else 'INVALID'} in {run['wall']:.1f} s")
        if not run["valid"]:
            raise SystemExit(f"the generated record does not verify: {run['failures']}")
        runs.append(run)

    print(f"## Whole-election figures: {n:,} ballots ({args.group})\n")
    print(f"- {machine_line()}")
    print(f"- verifier: {version}; record made by {meta.get('version', '?')}")
    print(
        f"- {dt.date.today().isoformat()}; record: {meta['entries']:,} entries, "
        f"{meta['bytes'] / 2**20:.0f} MiB, generated in {meta['generation_seconds']} s on "
        f"{meta['generation_jobs']} processes ({meta['generated']})"
    )
    print(
        "- each run: `python -m verivote verify RECORD --json --jobs N` in a fresh process; "
        "peak memory of the largest process from `/usr/bin/time -v`, of all its processes "
        "together sampled from /proc every 0.25 s\n"
    )
    print(
        "| --jobs | wall s | CPU s (user + sys) | ballots/s | ms per ballot (wall) "
        "| peak RSS, largest process | peak RSS, all processes | load avg before → after "
        f"| projected wall for {TARGET_BALLOTS:,} ballots |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in runs:
        rate = r["ballots"] / r["wall"]
        projected = r["wall"] * TARGET_BALLOTS / max(1, r["ballots"])
        print(
            f"| {r['jobs']} | {r['wall']:.1f} | {r['user'] + r['system']:.1f} | {rate:.0f} "
            f"| {r['wall'] / r['ballots'] * 1e3:.2f} | {r['max_rss_mib']:.0f} MiB "
            f"| {r['tree_rss_mib']:.0f} MiB | {r['load'][0]:.2f} → {r['load'][1]:.2f} "
            f"| {projected / 60:.1f} min |"
        )
    walls: dict[int, float] = {}
    for jobs in dict.fromkeys(r["jobs"] for r in runs):
        mine = [r["wall"] for r in runs if r["jobs"] == jobs]
        walls[jobs] = statistics.median(mine)
        if len(mine) > 1:
            print(
                f"\n--jobs {jobs}: median wall {walls[jobs]:.1f} s over {len(mine)} runs "
                f"({', '.join(f'{w:.1f}' for w in mine)})."
            )
    best = min(walls, key=walls.__getitem__)
    projected = walls[best] * TARGET_BALLOTS / n
    verdict = "within" if projected <= TARGET_SECONDS else "**over**"
    print(
        f"\nProjection (linear in the number of ballots) from the faster median, --jobs "
        f"{best}: {projected / 60:.1f} min for {TARGET_BALLOTS:,} ballots — {verdict} "
        f"the {TARGET_SECONDS // 60}-minute target"
        + (
            f" (needs {TARGET_BALLOTS / TARGET_SECONDS:.0f} ballots/s, "
            f"measured {n / walls[best]:.0f})."
            if projected > TARGET_SECONDS
            else "."
        )
    )
    if 1 in walls:
        for jobs, wall in walls.items():
            if jobs != 1:
                print(f"Speed-up of --jobs {jobs} over --jobs 1: {walls[1] / wall:.2f}×.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
