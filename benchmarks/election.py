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
result against the plaintext votes it chose.

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
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import (
    CANDIDATES,
    CATEGORIES,
    POPULARITY,
    START,
    code_digest,
    code_version,
    machine_line,
    make_election,
)

from verivote.board.heads import sign_head
from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.election import ceremony, decryption
from verivote.election.ballot import decode_ballot, encrypt_ballot
from verivote.election.entries import sign_entry
from verivote.election.keygen import make_schedule, with_run
from verivote.election.manifest import Manifest, format_time
from verivote.election.roll import Half, issue_credentials, issuer_bodies, roll_bodies
from verivote.election.seal import seal_body
from verivote.election.tally import TallyAccumulator
from verivote.encoding import dumps
from verivote.signatures import Signer

TARGET_BALLOTS = 422_664
TARGET_SECONDS = 15 * 60
CHUNK = 250
"""Ballots per task sent to a generating worker."""
CHECKPOINT_EVERY = 1000
CHECKPOINT_TYPES = frozenset({"election", "joint_key", "open", "close", "tally", "result"})
META = "bench.json"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- generating ballots on workers -----------------------------------------------------------

_manifest: Manifest | None = None
_key: Any = None


def _init(manifest: dict[str, Any], joint_key: bytes) -> None:
    global _manifest, _key
    _manifest = Manifest.from_dict(manifest)
    _key = _manifest.group.decode_element(joint_key)
    _manifest.group.precompute(_key)


def _chunk(task: tuple[int, int, list[str]]) -> tuple[list[tuple[dict, Half, bytes]], Any, dict]:
    """Ballots ``start .. start + count``: a fresh split credential each in roll slot
    ``start + i`` (randomness from the OS), a category and choice from a seeded simulation,
    encrypted, signed and timed. Returns ``(registrar item, issuer half, record line)`` per
    ballot, the chunk's partial tally and its plaintext counts per category."""
    start, count, times = task
    m, key = _manifest, _key
    assert m is not None
    rng = random.Random(start)
    names = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    partial = TallyAccumulator(m)
    plain: dict[str, Counter[str]] = {c: Counter() for c in names}
    out = []
    for i in range(count):
        category = rng.choices(names, weights)[0]
        issued = issue_credentials(m.fingerprint, [(category, 1)], start + i)
        voter = issued.credentials[0]
        chosen = [] if rng.random() < 0.01 else rng.choices(CANDIDATES, POPULARITY)
        body = encrypt_ballot(m, key, voter, {"leader": chosen}).body
        line = sign_entry(voter, m.fingerprint, "ballot", body, times[i]).to_line()
        _, selections, _ = decode_ballot(m, body)
        partial.add(category, 1, selections)
        plain[category].update(chosen)
        out.append((issued.registrar[0], issued.issuer[0], line))
    return out, partial, {c: dict(v) for c, v in plain.items()}


# --- writing the record ----------------------------------------------------------------------


class RecordWriter:
    """Appends entry lines to board.jsonl, keeps the Merkle tree and signs heads as the
    board does (after phase changes and every CHECKPOINT_EVERY entries)."""

    def __init__(self, directory: Path, board: Signer, manifest: Manifest) -> None:
        self.out = (directory / "board.jsonl").open("wb")
        self.heads = (directory / "heads.jsonl").open("wb")
        self.tree = MerkleTree()
        self.board = board
        self.m = manifest

    def add(self, entry_type: str, line: bytes, time_: str) -> None:
        self.out.write(line + b"\n")
        self.tree.append(leaf_hash(line))
        if entry_type in CHECKPOINT_TYPES or len(self.tree) % CHECKPOINT_EVERY == 0:
            head = sign_head(
                self.board,
                self.m.fingerprint,
                self.m.election_id,
                len(self.tree),
                self.tree.root(),
                time_,
            )
            self.heads.write(dumps(head.to_dict()) + b"\n")

    def close(self) -> None:
        self.out.close()
        self.heads.close()


def _clock(start: dt.datetime) -> Iterator[str]:
    moment = start
    while True:
        yield format_time(moment)
        moment += dt.timedelta(seconds=1)


def generate(directory: Path, ballots: int, group: str, jobs: int) -> dict[str, Any]:
    """Write a complete, valid record of ``ballots`` ballots in ``directory``."""
    began = time.perf_counter()
    voting = max(3600, ballots + 60)
    e = make_election(group, voting_seconds=voting)
    m = e.manifest
    fp = m.fingerprint
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("board.jsonl", "heads.jsonl", META):
        (directory / name).unlink(missing_ok=True)
    opens = dt.datetime.strptime(m.opens, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    closes = dt.datetime.strptime(m.closes, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    span = voting - 60
    times = [
        format_time(opens + dt.timedelta(seconds=i * span // max(1, ballots)))
        for i in range(ballots)
    ]

    # Ballots first, on workers, into a spool file: the roll must precede them.
    spool = directory / "ballots.spool"
    items: list[dict[str, Any]] = []
    halves: list[Half] = []
    total = TallyAccumulator(m)
    plain: dict[str, Counter[str]] = {c: Counter() for c, _ in CATEGORIES}
    tasks = [(s, min(CHUNK, ballots - s), times[s : s + CHUNK]) for s in range(0, ballots, CHUNK)]
    ctx = multiprocessing.get_context("fork")
    done = 0
    with (
        spool.open("wb") as out,
        ctx.Pool(jobs, _init, (m.to_dict(), e.joint_key.to_bytes())) as pool,
    ):
        for rows, partial, counts in pool.imap(_chunk, tasks):
            for item, half, line in rows:
                items.append(item)
                halves.append(half)
                out.write(line + b"\n")
            total.merge(partial)
            for c, v in counts.items():
                plain[c].update(v)
            done += len(rows)
            if done % (CHUNK * 40) == 0 or done == ballots:
                rate = done / (time.perf_counter() - began)
                say(f"  {done}/{ballots} ballots encrypted and signed ({rate:.0f}/s)")
    ballot_seconds = time.perf_counter() - began

    clock = _clock(START)
    w = RecordWriter(directory, e.board, m)

    def post(signer: Signer, entry_type: str, body: dict[str, Any], when: str | None = None):
        when = when or next(clock)
        entry = sign_entry(signer, b"" if entry_type == "election" else fp, entry_type, body, when)
        w.add(entry_type, entry.to_line(), when)

    post(e.organiser, "election", m.to_dict())
    schedule = make_schedule(START)
    post(e.organiser, "ceremony", schedule.to_dict())
    for s, body in zip(e.trustees, e.announcement_bodies, strict=True):
        post(s.signer, "trustee", with_run(body, schedule.run))
    for body in e.share_bodies:
        post(e.trustees[body["from"] - 1].signer, "share", with_run(body, schedule.run))
    deadline = dt.datetime.strptime(schedule.justifications, "%Y-%m-%dT%H:%M:%SZ")
    clock = _clock(deadline.replace(tzinfo=dt.UTC))  # the joint key after the deadlines
    post(e.organiser, "joint_key", with_run(e.joint_key_body, schedule.run))
    registrar_parts = list(roll_bodies(items))
    issuer_parts = list(issuer_bodies(halves))
    for body in registrar_parts:
        post(e.registrar, "roll", body)
    for body in issuer_parts:
        post(e.issuer, "issuer", body)
    post(e.organiser, "open", {"roll_size": len(items)})
    with spool.open("rb") as spooled:
        for raw, when in zip(spooled, times, strict=True):
            w.add("ballot", raw.rstrip(b"\n"), when)
    spool.unlink()

    after = _clock(closes)
    seals = (
        (e.registrar, seal_body(fp, "registrar", [("roll", b) for b in registrar_parts])),
        (e.issuer, seal_body(fp, "issuer", [("issuer", b) for b in issuer_parts])),
    )
    for signer, body in seals:
        post(signer, "seal", body, next(after))
    post(
        e.organiser,
        "close",
        {"ballots": ballots, "audits": 0, "counted": ballots, "added": 0},
        next(after),
    )
    tally = total.finish()
    post(e.organiser, "tally", tally.to_dict(), next(after))
    present = [1, 2]  # trustee 3 is absent on counting day
    shares = {}
    for j in present:
        body = decryption.make_decryption(m, tally, j, e.secret_shares[j])
        post(e.trustees[j - 1].signer, "decryption", body, next(after))
        key_j = ceremony.public_share_key(e.announcements, e.qualified, j)
        shares[j] = decryption.check_decryption(body, m, tally, key_j)
    counts = decryption.combine(m, tally, shares, m.threshold)
    result = decryption.make_result_body(m, tally, counts, present, [3])
    post(e.organiser, "result", result, next(after))
    w.close()

    overall = result["contests"][0]["overall"]
    want = {c: sum(plain[cat][c] for cat in plain) for c in CANDIDATES}
    if overall != want:
        raise SystemExit(f"the decrypted result {overall} is not the votes cast {want}")
    meta = {
        "ballots": ballots,
        "group": group,
        "code": code_digest(),
        "version": code_version(),
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generation_seconds": round(time.perf_counter() - began, 1),
        "ballot_seconds": round(ballot_seconds, 1),
        "generation_jobs": jobs,
        "entries": len(w.tree),
        "bytes": (directory / "board.jsonl").stat().st_size,
        "result": overall,
    }
    (directory / META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


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
