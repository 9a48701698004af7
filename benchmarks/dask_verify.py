"""Whole-record verify on this machine: the local verifier (``--jobs 1``, ``--jobs N``)
against ``--dask local`` (chunks read and checked by the workers of a LocalCluster).

    python benchmarks/dask_verify.py RECORD [--rounds 3] [--workers 2]

Two tables, minimum and median of interleaved rounds:

* the command as a user runs it (``verivote verify RECORD …`` in a subprocess): wall time
  and CPU time of the process and every process it started (the Dask workers and the
  cluster's start and stop included);
* the chunked verification on an already running LocalCluster, in this process: wall time
  and the main process's own CPU time (what the reduction costs: reading the entries that
  are not ballots, applying the rule book to the workers' results), against
  ``verify_record`` in this process.

Every run's report must equal the local verifier's (the script stops otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from verivote.verify.chunked import verify_chunked
from verivote.verify.record import verify_record


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli(args: list[str]) -> tuple[float, float, dict[str, object]]:
    """Wall and CPU seconds of ``verivote verify ARGS --json``, and its report."""
    cpu, wall = children_cpu(), time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "verivote", "verify", *args, "--json"],
        capture_output=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if out.returncode not in (0, 1):
        raise SystemExit(f"verify {args} exited {out.returncode}: {out.stderr.decode()}")
    return wall, cpu, json.loads(out.stdout)


def row(name: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} "
        f"| {min(cpus):.2f} | {statistics.median(cpus):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("record", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    record = str(args.record)
    expected = verify_record(args.record).to_dict()
    entries = expected["entries"]
    ballots = expected["by_type"].get("ballot", 0)
    print(
        f"record: {entries} entries, {ballots} ballots, valid={expected['valid']}", file=sys.stderr
    )

    modes = {
        "verify --jobs 1": [record, "--jobs", "1"],
        f"verify --jobs {args.workers}": [record, "--jobs", str(args.workers)],
        "verify --dask local": [record, "--dask", "local"],
    }
    times: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modes}
    for rnd in range(args.rounds):
        for name, cli_args in modes.items():
            wall, cpu, report = run_cli(cli_args)
            if report != expected:
                raise SystemExit(f"{name}: the report differs from the local verifier's")
            times[name][0].append(wall)
            times[name][1].append(cpu)
            print(f"round {rnd + 1} {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", file=sys.stderr)

    import distributed

    from verivote.verify.dask_runner import DaskChunks

    warm: dict[str, tuple[list[float], list[float]]] = {
        "verify_record, jobs 1": ([], []),
        "verify_chunked on the running cluster": ([], []),
    }
    with distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        for _ in range(args.rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            assert verify_record(args.record).to_dict() == expected
            warm["verify_record, jobs 1"][0].append(time.perf_counter() - wall)
            warm["verify_record, jobs 1"][1].append(time.process_time() - cpu)
            mapper = DaskChunks(cluster.scheduler_address)
            cpu, wall = time.process_time(), time.perf_counter()
            report = verify_chunked(args.record, mapper).to_dict()
            warm["verify_chunked on the running cluster"][0].append(time.perf_counter() - wall)
            warm["verify_chunked on the running cluster"][1].append(time.process_time() - cpu)
            if report != expected:
                raise SystemExit("verify_chunked: the report differs from the local verifier's")

    print(
        f"Record: {entries} entries, {ballots} ballots; {os.cpu_count()} cores; "
        f"{args.rounds} interleaved rounds; seconds.\n"
    )
    print("| command (all processes) | wall min | wall median | CPU min | CPU median |")
    print("|---|---|---|---|---|")
    for name, (walls, cpus) in times.items():
        print(row(name, walls, cpus))
    print()
    print("| in this process | wall min | wall median | main CPU min | main CPU median |")
    print("|---|---|---|---|---|")
    for name, (walls, cpus) in warm.items():
        print(row(name, walls, cpus))


if __name__ == "__main__":
    main()
