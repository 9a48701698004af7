#!/usr/bin/env python
"""Whole-record verification at scale: wall time, CPU time and peak memory against N.

Usage (from the repository root)::

    python benchmarks/scale.py --ballots 10000 100000 422664      # --jobs 2, ristretto255
    python benchmarks/scale.py --ballots 500 2000 --repeat 3      # small, to try it out
    python benchmarks/scale.py --ballots 2000 --profile           # + where the time goes
    python benchmarks/scale.py --ballots 10000 --group ed25519 --jobs 1 2
    python benchmarks/scale.py --ballots --record /tmp/big-record   # a record kept elsewhere

For each size N a complete, valid record of N ballots is made by ``records.py`` (benchmark
only, see its docstring; one contest, four candidates, vote for one) or reused from its
cache (``--cache``, default ``/tmp/verivote-bench-records``, one directory per group, size
and version of the code that makes records). Then ``python -m verivote verify RECORD --json
--jobs J`` runs in a fresh process, ``--repeat`` times per (N, J), the runs of all sizes
interleaved. Each run reports:

* wall time, and ballots per second;
* CPU time of all its processes (user + system, from ``wait4``: the verifier and the
  worker processes it waited for — with ``--jobs`` 2 or more the pool that reads and
  checks the log's chunks, which the verifier joins before it exits), and the main
  process's share of it (sampled);
* peak resident memory of the main process and of the largest worker (each process's
  ``VmHWM`` in /proc, sampled every 0.2 s, so exact unless a process lives less than
  that), and the peak of their sum (sampled ``VmRSS``);
* the load average before and after.

Output is Markdown on standard output (progress on standard error): one table per N with
every run, a table of medians per ballot across N (time and memory per ballot staying flat
is linear growth), and the projection to 422,664 ballots against the targets (3 minutes on
2 cores, 1 GiB). ``--profile`` then verifies the smallest record in this process with
``--jobs 1`` under cProfile and prints the heaviest functions by self and by cumulative
time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import code_version, machine_line
from records import DEFAULT_CACHE, META, cached_records, say

from verivote.groups import GROUP_NAMES

TARGET_BALLOTS = 422_664
TARGET_SECONDS = 3 * 60
TARGET_MIB = 1024
SAMPLE_SECONDS = 0.2


@dataclass
class Peaks:
    """What the sampler saw of one verifier process tree."""

    main_hwm_kib: int = 0
    worker_hwm_kib: dict[int, int] = field(default_factory=dict)
    sum_rss_kib: int = 0
    main_cpu_ticks: int = 0
    worker_cpu_ticks: dict[int, int] = field(default_factory=dict)


def _status(pid: int) -> tuple[int, int]:
    """``(VmHWM, VmRSS)`` of ``pid`` in KiB; ``(0, 0)`` when it is gone."""
    hwm = rss = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return hwm, rss


def _cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                out.extend(int(c) for c in f.read().split())
    except (OSError, ValueError):
        pass
    return out


def _sample(root: int, peaks: Peaks) -> None:
    hwm, rss = _status(root)
    peaks.main_hwm_kib = max(peaks.main_hwm_kib, hwm)
    peaks.main_cpu_ticks = max(peaks.main_cpu_ticks, _cpu_ticks(root))
    total, todo = rss, _children(root)
    while todo:
        pid = todo.pop()
        hwm, rss = _status(pid)
        total += rss
        peaks.worker_hwm_kib[pid] = max(peaks.worker_hwm_kib.get(pid, 0), hwm)
        peaks.worker_cpu_ticks[pid] = max(peaks.worker_cpu_ticks.get(pid, 0), _cpu_ticks(pid))
        todo.extend(_children(pid))
    peaks.sum_rss_kib = max(peaks.sum_rss_kib, total)


@dataclass
class Run:
    """One timed ``verivote verify`` of a record."""

    ballots: int
    jobs: int
    started: str
    wall: float
    cpu: float
    main_cpu: float
    main_mib: float
    worker_mib: float
    sum_mib: float
    load: tuple[float, float]
    valid: bool
    failures: list[Any]


def verify_run(directory: Path, ballots: int, jobs: int) -> Run:
    """Run ``python -m verivote verify DIRECTORY --json --jobs JOBS`` in a fresh process and
    measure it (see the module docstring). Raises SystemExit if it prints no report."""
    cmd = [sys.executable, "-m", "verivote", "verify", str(directory), "--json"]
    cmd += ["--jobs", str(jobs)]
    load0 = os.getloadavg()[0]
    started = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    peaks = Peaks()
    stop = threading.Event()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)

        def sampler() -> None:
            while not stop.wait(SAMPLE_SECONDS):
                _sample(proc.pid, peaks)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        thread.join()
        out.seek(0)
        err.seek(0)
        raw, errors = out.read(), err.read()
    try:
        report = json.loads(raw)
    except json.JSONDecodeError:
        raise SystemExit(f"verify printed no report:\n{errors.decode()[-2000:]}") from None
    tick = os.sysconf("SC_CLK_TCK")
    return Run(
        ballots=report["by_type"].get("ballot", 0),
        jobs=jobs,
        started=started,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        main_cpu=peaks.main_cpu_ticks / tick,
        main_mib=peaks.main_hwm_kib / 1024,
        worker_mib=max(peaks.worker_hwm_kib.values(), default=0) / 1024,
        sum_mib=peaks.sum_rss_kib / 1024,
        load=(load0, os.getloadavg()[0]),
        valid=report["valid"],
        failures=report["failures"][:3],
    )


def table(runs: list[Run]) -> list[str]:
    """Markdown: every run of one record."""
    lines = [
        "| started (UTC) | --jobs | wall s | CPU s, all processes | of which main (sampled) "
        "| ballots/s | wall ms / ballot | CPU ms / ballot | peak RSS main | peak RSS largest "
        "worker | peak RSS sum | load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        n = max(1, r.ballots)
        lines.append(
            f"| {r.started} | {r.jobs} | {r.wall:.1f} | {r.cpu:.1f} | {r.main_cpu:.1f} "
            f"| {r.ballots / r.wall:.0f} | {r.wall / n * 1e3:.3f} | {r.cpu / n * 1e3:.3f} "
            f"| {r.main_mib:.0f} MiB | {r.worker_mib:.0f} MiB | {r.sum_mib:.0f} MiB "
            f"| {r.load[0]:.2f} → {r.load[1]:.2f} |"
        )
    return lines


def _median(runs: list[Run], attr: str) -> float:
    return float(statistics.median(getattr(r, attr) for r in runs))


def summary(runs: list[Run], jobs: int) -> list[str]:
    """Markdown: per-ballot medians (and minima) for each size at ``jobs``, the growth
    between consecutive sizes (time and memory per added ballot: flat means linear), and
    the 422,664-ballot figure, measured or projected from the largest size."""
    by_size: dict[int, list[Run]] = {}
    for r in runs:
        if r.jobs == jobs:
            by_size.setdefault(r.ballots, []).append(r)
    sizes = sorted(by_size)
    lines = [
        f"#### --jobs {jobs}: growth with N (median of the runs; min in brackets)",
        "",
        "| ballots | runs | wall s | wall ms / ballot | CPU ms / ballot | peak RSS main "
        "| peak RSS sum | added ballots: wall ms / ballot | added ballots: main KiB / ballot "
        "| added ballots: sum KiB / ballot |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous: tuple[int, float, float, float] | None = None
    for n in sizes:
        mine = by_size[n]
        wall, cpu = _median(mine, "wall"), _median(mine, "cpu")
        main, total = _median(mine, "main_mib"), _median(mine, "sum_mib")
        if previous is None:
            growth = "| – | – | –"
        else:
            dn = n - previous[0]
            growth = (
                f"| {(wall - previous[1]) / dn * 1e3:.3f} "
                f"| {(main - previous[2]) * 1024 / dn:.2f} "
                f"| {(total - previous[3]) * 1024 / dn:.2f}"
            )
        lines.append(
            f"| {n:,} | {len(mine)} | {wall:.1f} ({min(r.wall for r in mine):.1f}) "
            f"| {wall / n * 1e3:.3f} | {cpu / n * 1e3:.3f} "
            f"({min(r.cpu for r in mine) / n * 1e3:.3f}) | {main:.0f} MiB "
            f"| {total:.0f} MiB {growth} |"
        )
        previous = (n, wall, main, total)
    if not sizes:
        return lines
    n = sizes[-1]
    mine = by_size[n]
    wall, best = _median(mine, "wall"), min(r.wall for r in mine)
    cpu = min(r.cpu for r in mine) * TARGET_BALLOTS / n
    memory = max(r.sum_mib for r in mine)
    main = max(r.main_mib for r in mine)
    if n == TARGET_BALLOTS:
        how = "measured"
    else:
        how = f"projected linearly from {n:,}"
        wall, best = wall * TARGET_BALLOTS / n, best * TARGET_BALLOTS / n
        if len(sizes) > 1:  # memory: a fixed part plus a part per ballot
            m0 = max(r.sum_mib for r in by_size[sizes[0]])
            k0 = max(r.main_mib for r in by_size[sizes[0]])
            slope = (memory - m0) / (n - sizes[0])
            memory = memory + slope * (TARGET_BALLOTS - n)
            main = main + (main - k0) / (n - sizes[0]) * (TARGET_BALLOTS - n)
        else:  # one size: no way to tell the fixed part from the part per ballot
            memory = main = float("nan")
    verdict = "met" if wall <= TARGET_SECONDS else f"**missed by {wall / TARGET_SECONDS:.2f}×**"
    mem_verdict = (
        "not projected from one size"
        if memory != memory
        else "met"
        if memory <= TARGET_MIB
        else f"**missed by {memory / TARGET_MIB:.2f}×**"
    )
    lines += [
        "",
        f"422,664 ballots with --jobs {jobs}, {how}: **{wall / 60:.2f} min** (median; "
        f"{best / 60:.2f} min best) against the {TARGET_SECONDS // 60}-minute target: "
        f"{verdict}. By CPU time (least of the runs, all processes), were the {jobs} "
        f"core(s) free: {cpu / jobs / 60:.2f} min. Peak memory {memory:.0f} MiB for all "
        f"processes together, {main:.0f} MiB "
        f"for the main process, against {TARGET_MIB} MiB: {mem_verdict}.",
    ]
    return lines


def profile_summary(directory: Path, top: int) -> list[str]:
    """Verify the record in ``directory`` in this process (``--jobs 1``, so the ballot
    checks run here too) under cProfile, CPU time; Markdown tables of the ``top`` heaviest
    functions by self time and by cumulative time."""
    from verivote.verify.record import verify_record

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    report = verify_record(directory, jobs=1)
    profiler.disable()
    if not report.valid:
        raise SystemExit(f"the record does not verify: {report.failures[:3]}")
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    ballots = report.by_type.get("ballot", 0) or 1

    def where(key: tuple[str, int, str]) -> str:
        filename, line, name = key
        if filename == "~":
            return f"`{name}`"
        parts = Path(filename).parts
        short = "/".join(parts[parts.index("verivote") :]) if "verivote" in parts else parts[-1]
        return f"`{short}:{line}` {name}"

    out = [
        f"cProfile (CPU time) of `verify_record(RECORD, jobs=1)` on {ballots:,} ballots: "
        f"{total:.1f} s under the profiler, {total / ballots * 1e3:.2f} ms per ballot "
        "(the profiler adds to Python-heavy rows).",
        "",
    ]
    for title, index in (("self", 2), ("cumulative", 3)):
        rows = sorted(raw.items(), key=lambda kv: kv[1][index], reverse=True)[:top]
        out += [
            f"Top {top} by {title} time:",
            "",
            "| function | calls per ballot | self µs / ballot | cumulative µs / ballot "
            f"| {title} share |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, (_cc, ncalls, tt, ct, _callers) in rows:
            share = (tt if index == 2 else ct) / total
            out.append(
                f"| {where(key)} | {ncalls / ballots:.3g} | {tt / ballots * 1e6:.1f} "
                f"| {ct / ballots * 1e6:.1f} | {share:.1%} |"
            )
        out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--group", choices=GROUP_NAMES, default="ristretto255")
    parser.add_argument("--jobs", type=int, nargs="+", default=[2], help="verify --jobs values")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and --jobs")
    parser.add_argument("--gen-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="record cache")
    parser.add_argument("--regenerate", action="store_true", help="ignore cached records")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--record",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also verify this record made by records.py (its bench.json gives its size), "
        "whatever code made it: a record kept outside the cache, e.g. one too slow to remake "
        "after every change to the code that makes records (it must still verify VALID)",
    )
    parser.add_argument(
        "--device-paths",
        action="store_true",
        help="generate with the groups' own constant-time paths, not records.py's fast ones",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile verifying the smallest record"
    )
    parser.add_argument("--top", type=int, default=15, help="rows of the profile tables")
    args = parser.parse_args(argv)

    records = (
        cached_records(
            args.ballots,
            args.group,
            args.gen_jobs,
            args.cache,
            args.regenerate,
            fast=not args.device_paths,
        )
        if args.ballots
        else {}
    )
    for directory in args.record:
        meta = json.loads((directory / META).read_text())
        records[int(meta["ballots"])] = (directory, meta)
    records = dict(sorted(records.items()))
    if args.generate_only:
        print(json.dumps({n: str(d) for n, (d, _) in records.items()}, indent=2))
        return 0

    runs: list[Run] = []
    for r in range(args.repeat):
        for n, (directory, _) in records.items():
            for jobs in args.jobs:
                say(f"round {r + 1}/{args.repeat}: {n:,} ballots, --jobs {jobs}")
                run = verify_run(directory, n, jobs)
                say(
                    f"  {'VALID' if run.valid else 'INVALID'}: {run.wall:.1f} s wall, "
                    f"{run.cpu:.1f} s CPU, main {run.main_mib:.0f} MiB, "
                    f"worker {run.worker_mib:.0f} MiB"
                )
                if not run.valid or run.ballots != n:
                    raise SystemExit(f"the record of {n} ballots does not verify: {run.failures}")
                runs.append(run)

    print(f"## Whole-record verification: {args.group}, --jobs {' '.join(map(str, args.jobs))}\n")
    print(f"- {machine_line()}")
    print(f"- verifier: {code_version()}")
    print(
        f"- {dt.date.today().isoformat()}; each run `python -m verivote verify RECORD --json "
        f"--jobs J` in a fresh process; {args.repeat} run(s) per size, sizes interleaved\n"
    )
    for n, (_, meta) in records.items():
        print(
            f"### {n:,} ballots: {meta['entries']:,} entries, {meta['bytes'] / 2**20:.0f} MiB; "
            f"generated in {meta['generation_seconds']} s on {meta['generation_jobs']} "
            f"processes by {meta.get('version', '?')}\n"
        )
        print("\n".join(table([r for r in runs if r.ballots == n])) + "\n")
    for jobs in args.jobs:
        print("\n".join(summary(runs, jobs)) + "\n")
    if args.profile:
        n = min(records)
        say(f"profiling verification of {n:,} ballots in this process")
        print(f"### Profile: verifying {n:,} ballots ({args.group})\n")
        print("\n".join(profile_summary(records[n][0], args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
