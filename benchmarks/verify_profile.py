#!/usr/bin/env python
"""Profile ``verivote verify --jobs 1`` on a record, and compare it with another version.

Usage (from the repository root)::

    python benchmarks/verify_profile.py RECORD                    # top of the profile
    python benchmarks/verify_profile.py RECORD --baseline OLD     # before / after

``RECORD`` is a record directory, e.g. made by ``verivote demo --group ristretto255
--voters 2000 --out RECORD``. ``OLD`` is the root of another checkout of verivote (for
example ``git worktree add /tmp/old <commit>``, with its compiled extension built by
``pip install -e`` or copied), whose ``verivote`` package is put first on ``PYTHONPATH``.

Without ``--baseline`` it prints the functions with the most time of their own under
``cProfile`` (``--top`` rows). With it, it runs, in ``--rounds`` interleaved rounds, (1) the
whole verification in a fresh process of each version (CPU time of the process, user +
system, which a busy machine inflates less than wall time) and (2) micro benchmarks of the
per-ballot steps this comparison is about: reading a ballot line (``loads``), a record
time (``check_time``) and a range proof's transcript. Each row gives the minimum and the
median over the rounds. Output is Markdown; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

MICRO = r"""
import sys, time, timeit
from verivote.encoding import loads
from verivote.election.manifest import check_time
from verivote.groups import get_group
from verivote.proofs.transcript import Transcript

record = sys.argv[1]
line = None
with open(record + "/board.jsonl", "rb") as handle:
    for raw in handle:
        if raw.rstrip(b"\n").endswith(b'"type":"ballot"}'):
            line = raw.rstrip(b"\n")
            break
assert line is not None, "no ballot in the record"
group = get_group("ristretto255")
g = group.generator
context = bytes(200)

def transcript():
    return (
        Transcript(b"range", group, context).element(b"h", g).element(b"alpha", g)
        .element(b"beta", g).integer(b"L", 1).elements(b"ab", [g, g, g, g]).challenge()
    )

cases = [
    ("loads(ballot line)", lambda: loads(line)),
    ("check_time", lambda: check_time("2026-12-01T09:15:33Z", "entry time")),
    ("range transcript (L = 1)", transcript),
]
for name, fn in cases:
    timer = timeit.Timer(fn, timer=time.process_time)
    number = max(1, int(0.05 / max(min(timer.repeat(number=20, repeat=3)) / 20, 1e-9)))
    best = min(timer.repeat(number=number, repeat=3)) / number
    print(f"{name}\t{best * 1e6:.2f}")
"""


def _run(src: Path, args: list[str]) -> tuple[str, float]:
    """Run ``python args`` with ``src``'s verivote first on the path: (stdout, CPU s)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd="/", capture_output=True, text=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{src}: {' '.join(args[:3])} failed: {done.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, cpu


def _row(name: str, values: list[float], unit: str, digits: int) -> str:
    return (
        f"| {name} | {min(values):.{digits}f} {unit} | "
        f"{statistics.median(values):.{digits}f} {unit} |"
    )


def compare(record: Path, baseline: Path, rounds: int) -> str:
    """Interleaved rounds of ``verify`` and of the micro benchmarks, old then new."""
    here = Path(__file__).resolve().parent.parent
    versions = {"before": baseline.resolve(), "after": here}
    verify: dict[str, list[float]] = {k: [] for k in versions}
    micro: dict[tuple[str, str], list[float]] = {}
    for n in range(rounds):
        for label, src in versions.items():
            print(f"round {n + 1}/{rounds}: {label}", file=sys.stderr)
            _, cpu = _run(src, ["-m", "verivote", "verify", "--jobs", "1", str(record)])
            verify[label].append(cpu)
            out, _ = _run(src, ["-c", MICRO, str(record)])
            for row in out.strip().splitlines():
                name, value = row.split("\t")
                micro.setdefault((name, label), []).append(float(value))
    lines = [
        f"`verivote verify --jobs 1` of {record.name}, {rounds} interleaved rounds "
        "(CPU time of the process; micro benchmarks: µs per call)",
        "",
        "| measurement | min | median |",
        "|---|---:|---:|",
    ]
    for label in versions:
        lines.append(_row(f"verify, {label}", verify[label], "s", 2))
    for name in dict.fromkeys(name for name, _ in micro):
        for label in versions:
            lines.append(_row(f"{name}, {label}", micro[(name, label)], "µs", 2))
    return "\n".join(lines)


def profile(record: Path, top: int) -> str:
    """The top of ``cProfile``'s table (own CPU time) for one ``verify_record(jobs=1)``."""
    from verivote.verify.record import verify_record

    profiler = cProfile.Profile(time.process_time)  # CPU time: steadier on a busy machine
    profiler.enable()
    report = verify_record(record, jobs=1)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    lines = [
        f"cProfile of verify_record({record.name}, jobs=1): {report.entries} entries, "
        f"valid={report.valid}, {total:.2f} s of CPU time under the profiler",
        "",
        "| function | calls | own s | share |",
        "|---|---:|---:|---:|",
    ]
    for (filename, line, name), (_, calls, own, _cum, _callers) in rows:
        where = f"{Path(filename).name}:{line}({name})" if line else name
        lines.append(f"| `{where}` | {calls} | {own:.2f} | {own / total:.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("record", type=Path, help="record directory (holding board.jsonl)")
    parser.add_argument("--baseline", type=Path, help="root of another checkout to compare")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--top", type=int, default=25, help="profile rows (default 25)")
    args = parser.parse_args()
    if not (args.record / "board.jsonl").is_file():
        sys.exit(f"{args.record}: no board.jsonl")
    if args.baseline is not None:
        print(compare(args.record, args.baseline, args.rounds))
    else:
        print(profile(args.record, args.top))


if __name__ == "__main__":
    main()
