"""Load test of ``verivote serve``: concurrent voters casting valid ballots on 127.0.0.1.

An election open for voting now is put in a fresh store (SQLite, or PostgreSQL with
``--pg DSN``), ballots are encrypted and signed beforehand (fresh encryptions; electors
re-vote, which the rules allow), ``verivote serve`` is started on a free loopback port,
and for each number of clients in ``--clients`` a closed loop runs for ``--duration``
seconds (or until the ballots run out): each client posts one ballot, waits for the
answer, and posts the next. A 503 answer is honoured as a voter's client would: the client
waits ``Retry-After`` (with jitter) and posts the same ballot again. Reported per level:
accepted ballots per second, p50 and p99 latency of the accepted casts, p99 latency of the
503 answers, answers by status code, and the server's CPU time per accepted ballot (the
serving process and its proof workers, from /proc).

Only loopback, only the ballots made beforehand, every level bounded in time: nothing here
can run away. Progress goes to standard error, the Markdown table to standard output.

    python benchmarks/load.py --store sqlite --clients 1,2,4,8,16,32,64,128,256,512
    python benchmarks/load.py --store postgres --pg 'host=/tmp/pg dbname=bench user=postgres'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import verivote.demo as demo
from verivote.board.sqlite_store import SQLiteStore
from verivote.election.ballot import encrypt_ballot
from verivote.election.entries import sign_entry
from verivote.election.manifest import Manifest
from verivote.encoding import dumps
from verivote.signatures import ScalarSigner

LEADERS = ("ashworth", "begum", "carver", "dlamini")


# ---------------------------------------------------------------------- the election
def open_election(spec: str, voters: int, store: Any) -> demo.SimulatedElection:
    """A simulated election in ``store`` whose voting hours started a minute ago."""
    # The set-up is timed from a start one lead time and a minute ago, so that voting is
    # open now on the server's real clock, for an hour.
    start = datetime.now(UTC).replace(microsecond=0) - demo.LEAD - timedelta(minutes=1)
    sim = demo.SimulatedElection(
        max(voters, 60), seed=11, store=store, start=start, voting=timedelta(hours=1)
    )
    sim.run_ceremony()
    sim.publish_roll()
    return sim


def _encrypt(args: tuple[dict[str, Any], bytes, list[tuple[bytes, int]]]) -> list[bytes]:
    manifest_dict, key_bytes, jobs = args
    manifest = Manifest.from_dict(manifest_dict)
    key = manifest.group.decode_element(key_bytes)
    out = []
    for seed, n in jobs:
        voter = ScalarSigner(seed)
        choice = {"leader": [LEADERS[n % 4]], "rule-change": ["yes" if n % 2 else "no"]}
        body = encrypt_ballot(manifest, key, voter, choice).body
        entry = sign_entry(voter, manifest.fingerprint, "ballot", body, "x")
        out.append(dumps({"type": "ballot", "body": entry.body, "sig": entry.signature.hex()}))
    return out


def make_ballots(sim: demo.SimulatedElection, count: int, procs: int) -> list[bytes]:
    """``count`` posted-ballot bodies, encrypted on ``procs`` processes."""
    seeds = [c.scalar for c in sim.credentials]
    jobs = [(seeds[n % len(seeds)], n) for n in range(count)]
    chunks = [jobs[i :: procs * 4] for i in range(procs * 4)]
    args = [(sim.manifest.to_dict(), sim.joint_key.to_bytes(), c) for c in chunks]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        return [b for part in pool.map(_encrypt, args) for b in part]


# ---------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    spec: str, election: str, key: Path, port: int, extra: list[str], profile: Path | None
) -> Any:
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "verivote", "serve", "--store", spec, "--key", str(key)]
    command += ["--port", str(port), "--election", election, *extra]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise SystemExit(f"verivote serve stopped: {out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("verivote serve did not become ready")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU of ``pid`` and of its live children (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    own = children = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        me, parent = int(entry.name), int(fields[1])
        used = (int(fields[11]) + int(fields[12])) / tick
        if me == pid:
            own += used
        elif parent == pid:
            children += used
    return own, children


# ---------------------------------------------------------------------- the clients
class Level:
    """Answers gathered at one number of clients."""

    def __init__(self) -> None:
        self.status: Counter[int] = Counter()
        self.ok: list[float] = []
        self.busy: list[float] = []
        self.errors = 0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def client(
    port: int, ballots: list[bytes], stop: float, level: Level, rng: random.Random
) -> None:
    reader = writer = None
    body: bytes | None = None
    while time.monotonic() < stop:
        if body is None:
            if not ballots:
                return
            body = ballots.pop()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            request = (
                b"POST /ballots HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                b"\r\nContent-Length: %d\r\n\r\n" % len(body)
            ) + body
            start = time.monotonic()
            writer.write(request)
            status, headers = await asyncio.wait_for(_read_answer(reader), 30)
            took = time.monotonic() - start
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            level.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            continue
        level.status[status] += 1
        if status in (200, 201):
            level.ok.append(took)
            body = None
        elif status == 503:
            level.busy.append(took)
            after = float(headers.get("retry-after", "1")) * rng.uniform(0.5, 1.5)
            await asyncio.sleep(max(0.0, min(after, stop - time.monotonic())))
        else:
            body = None  # refused: not retried
        if headers.get("connection") == "close" and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run_level(port: int, clients: int, ballots: list[bytes], duration: float) -> Level:
    level = Level()
    stop = time.monotonic() + duration
    rng = random.Random(clients)
    await asyncio.gather(*(client(port, ballots, stop, level, rng) for _ in range(clients)))
    return level


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------------- where the CPU goes
def breakdown(
    sim: demo.SimulatedElection, ballots: list[bytes], rounds: int = 5
) -> dict[str, float]:
    """CPU milliseconds per ballot of each stage of a cast, measured in this process on
    the same board (no HTTP): parsing the posted JSON into an entry, the state-free checks
    (signature, proofs: what the workers do), and the append with its receipt (the rule
    book, the store's commit, a signed head, the inclusion proof, the answer's JSON).
    Median over ``rounds`` interleaved rounds."""
    from verivote.encoding import loads
    from verivote.server.pool import check_line
    from verivote.server.service import BoardService

    service = BoardService(sim.board, head_every=3600.0)
    checker = sim.board.state.checker()
    stages: dict[str, list[float]] = {"parse": [], "check": [], "append + receipt": []}
    per = max(1, len(ballots) // rounds)
    for r in range(rounds):
        chunk = ballots[r * per : (r + 1) * per]
        t = time.process_time()
        entries = [service.decode(loads(b, canonical=False)) for b in chunk]
        stages["parse"].append((time.process_time() - t) / len(chunk))
        t = time.process_time()
        results = [check_line(checker, 0, e.to_line()) for e in entries]
        stages["check"].append((time.process_time() - t) / len(chunk))
        t = time.process_time()
        for e, res in zip(entries, results, strict=True):
            cast = service.cast(e, res)
            dumps({"index": cast.index, "receipt": cast.receipt.to_dict()})
        stages["append + receipt"].append((time.process_time() - t) / len(chunk))
    return {k: sorted(v)[len(v) // 2] * 1000 for k, v in stages.items()}


# ---------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("VERIVOTE_TEST_PG", ""), help="libpq DSN")
    parser.add_argument("--clients", default="1,2,4,8,16,32,64,128,256,512")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per level")
    parser.add_argument("--rate", type=float, default=300.0, help="ballots made per second")
    parser.add_argument("--workers", type=int, default=-1, help="serve --workers")
    parser.add_argument("--max-inflight", type=int, default=32, help="serve --max-inflight")
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="first time each stage of a cast on N ballots in this process",
    )
    parser.add_argument(
        "--profile", type=Path, help="run the server under cProfile, its statistics here"
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    if max(levels) > 1000 or min(levels) < 1:
        raise SystemExit("--clients: 1 to 1000 each")
    count = int(args.rate * args.duration * len(levels))
    with tempfile.TemporaryDirectory(prefix="verivote-load-") as tmp:
        election, schema = "", ""
        t0 = time.monotonic()
        if args.store == "sqlite":
            spec = f"sqlite:{tmp}/board.db"
            store: Any = SQLiteStore(f"{tmp}/board.db")
        else:
            import psycopg
            from psycopg.conninfo import make_conninfo

            from verivote.board.pg_store import PostgresStore

            if not args.pg:
                raise SystemExit("--store postgres needs --pg DSN (or VERIVOTE_TEST_PG)")
            schema = f"vv_load_{os.getpid()}_{int(time.time())}"
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            dsn = make_conninfo(args.pg, options=f"-c search_path={schema}")
            spec = f"postgres:{dsn}"
            election = "leadership-2026"
            store = PostgresStore(dsn, election)
        sim = open_election(spec, args.voters, store)
        store.close()
        key = Path(tmp) / "operator.key"
        key.write_text(sim.board_signer.seed.hex())
        print(f"election ready in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        t0 = time.monotonic()
        ballots = make_ballots(sim, count, 2)
        print(f"{len(ballots)} ballots made in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        if args.breakdown:
            with_store = SQLiteStore(f"{tmp}/breakdown.db") if args.store == "sqlite" else None
            if with_store is not None:
                twin = open_election("", args.voters, with_store)
                twin_ballots = make_ballots(twin, args.breakdown, 2)
                stages = breakdown(twin, twin_ballots)
                print(
                    "CPU ms per ballot by stage: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()),
                    file=sys.stderr,
                )
                with_store.close()
        port = free_port()
        extra = ["--workers", str(args.workers), "--max-inflight", str(args.max_inflight)]
        proc = start_server(spec, election, key, port, extra, args.profile)
        rows = []
        try:
            for clients in levels:
                before = cpu_seconds(proc.pid)
                start = time.monotonic()
                level = asyncio.run(run_level(port, clients, ballots, args.duration))
                took = time.monotonic() - start
                after = cpu_seconds(proc.pid)
                main_cpu, worker_cpu = after[0] - before[0], after[1] - before[1]
                accepted = len(level.ok)
                row = {
                    "clients": clients,
                    "accepted_per_s": accepted / took,
                    "p50_ms": pct(level.ok, 0.5) * 1000,
                    "p99_ms": pct(level.ok, 0.99) * 1000,
                    "p99_503_ms": pct(level.busy, 0.99) * 1000,
                    "status": dict(sorted(level.status.items())),
                    "errors": level.errors,
                    "server_ms_per_ballot": main_cpu / max(1, accepted) * 1000,
                    "workers_ms_per_ballot": worker_cpu / max(1, accepted) * 1000,
                    "cores": (main_cpu + worker_cpu) / took,
                }
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
                time.sleep(1.0)  # let the queue drain between levels
        finally:
            proc.send_signal(signal.SIGINT)  # a clean stop: cProfile writes its file
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            if schema:
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print(
        "| clients | accepted/s | p50 ms | p99 ms | 503 p99 ms | answers "
        "| CPU ms/ballot: server + workers | cores used |"
    )
    print("|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        answers = ", ".join(f"{k}: {v}" for k, v in r["status"].items())
        if r["errors"]:
            answers += f", no answer: {r['errors']}"
        print(
            f"| {r['clients']} | {r['accepted_per_s']:.0f} | {r['p50_ms']:.0f} | "
            f"{r['p99_ms']:.0f} | {r['p99_503_ms']:.1f} | {answers} | "
            f"{r['server_ms_per_ballot']:.1f} + {r['workers_ms_per_ballot']:.1f} | "
            f"{r['cores']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
