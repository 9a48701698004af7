"""Benchmark-only record generator: complete, valid election records of N ballots, fast.

**For benchmarks only.** The records it writes are genuine — every ballot a fresh
encryption under the joint key with fresh proofs, signed by its own fresh credential, the
roll, seals, tally, trustees' decryptions with proofs and the result as the rule book
wants, tree heads signed by the board key — and ``verivote verify`` checks them like any
other. What is not genuine is how the *generator's* secrets are handled: to make hundreds
of thousands of ballots in minutes, the worker processes that encrypt ballots route the
group's secret-exponent operations to its public-exponent fast paths
(:func:`use_public_paths`): variable-time exponentiation with the encryption nonces, the
proofs' nonces and the credentials' shares as exponents. A voter's device must never do
that (timing would leak the vote); here every secret is thrown away once its record is
written, and the verifier only ever sees the public record, whose bytes are the same
whichever path computed them. Never use this module to run an election.

Everything goes through verivote's own API (the election layer: ``issue_credentials``,
``encrypt_ballot``, ``sign_entry``, ``roll_bodies``, ``TallyAccumulator``,
``make_decryption``, ``make_result_body``, ``sign_head``), so the record follows the format
as the code defines it; no line is written by hand.

The election (``common.py``): one plurality contest with four candidates (vote for one),
three elector categories (60 / 25 / 15 %), three trustees of whom two decrypt; every
elector casts one ballot (1 % blank). Ballots are made on ``jobs`` processes in chunks of
:data:`CHUNK`; the rest is written in order by the parent: election, ceremony, trustee
announcements and encrypted shares, joint key, roll parts, open, the ballots, seals,
close, tally, two decryptions, result; heads after every phase change and every
:data:`CHECKPOINT_EVERY` entries. The generator checks that the decrypted result equals the
plaintext votes it chose.

:func:`generate_many` makes records of several sizes from one election and one set of
ballots (the record of N ballots holds the first N), so that 10,000, 100,000 and 422,664
cost the encryption of 422,664 ballots, not 532,664. :func:`cached_records` keeps records
under a cache directory outside the repository, one sub-directory per (group, size, digest
of the code that makes records), so a rerun reuses a record and a change to the record
format makes a new one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import (
    CANDIDATES,
    CATEGORIES,
    POPULARITY,
    START,
    BenchElection,
    code_digest,
    code_version,
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
from verivote.groups.base import Group
from verivote.signatures import Signer

CHUNK = 250
"""Ballots per task sent to a generating worker."""
CHECKPOINT_EVERY = 1000
CHECKPOINT_TYPES = frozenset({"election", "joint_key", "open", "close", "tally", "result"})
META = "bench.json"
DEFAULT_CACHE = Path("/tmp/verivote-bench-records")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the generator's fast paths -------------------------------------------------------------


PATCHED = ("_pow", "_pow_secret", "_secret_product")
"""The group methods :func:`use_public_paths` replaces on the instance."""


def use_public_paths(group: Group) -> None:
    """BENCHMARK ONLY: make ``group`` (in this process) exponentiate secrets with its
    variable-time, public-exponent code: ``_pow_secret`` becomes ``_pow``, a product of
    secret powers (``_secret_product``, where the group has one) becomes ``_pow`` and
    ``_op`` on each term, and where the group keeps a faster public path than ``_pow``
    (ristretto255's compiled backend, ``pow_public``) ``_pow`` uses that. Results are
    identical; only timing differs, which is what a real device must not allow. Never
    call this outside a benchmark process."""
    backend = getattr(group, "backend", None)
    scalarmult = getattr(backend, "scalarmult", None)
    identity = group._identity()
    if hasattr(group, "pow_public") and scalarmult is not None:

        def fast(a: Any, k: int) -> Any:
            if k == 0 or a == identity:
                return identity
            return scalarmult(k, a)

        group._pow = fast  # type: ignore[method-assign]
    power, op = group._pow, group._op
    group._pow_secret = power  # type: ignore[method-assign]
    if hasattr(group, "_secret_product"):
        multi = group._multi_pow if group.fast_multi_pow else None

        def product(values: list[Any], exponents: list[int]) -> Any:
            if multi is not None and len(values) > 1:
                return multi(values, [k % group.order for k in exponents])
            result = identity
            for value, k in zip(values, exponents, strict=True):
                result = op(result, power(value, k % group.order))
            return result

        group._secret_product = product


@contextmanager
def public_paths(group: Group) -> Iterator[None]:
    """BENCHMARK ONLY: :func:`use_public_paths` on ``group`` for the ``with`` block, then
    its own methods again."""
    use_public_paths(group)
    try:
        yield
    finally:
        for name in PATCHED:
            group.__dict__.pop(name, None)


# --- ballots, made on worker processes --------------------------------------------------------

_manifest: Manifest | None = None
_key: Any = None


def _init(manifest: dict[str, Any], joint_key: bytes, fast: bool) -> None:
    global _manifest, _key
    _manifest = Manifest.from_dict(manifest)
    if fast:
        use_public_paths(_manifest.group)
    _key = _manifest.group.decode_element(joint_key)
    _manifest.group.precompute(_key)


def _chunk(task: tuple[int, int, list[str]]) -> tuple[list[tuple[dict, Half, bytes]], Any, dict]:
    """Ballots ``start .. start + count``: a fresh split credential each in roll slot
    ``start + i``, a category and choice from a seeded simulation, encrypted, signed and
    timed. Returns ``(registrar item, issuer half, record line)`` per ballot, the chunk's
    partial tally and its plaintext counts per category."""
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


def _parse(moment: str) -> dt.datetime:
    return dt.datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def generate(
    directory: Path, ballots: int, group: str, jobs: int, fast: bool = True
) -> dict[str, Any]:
    """Write a complete, valid record of ``ballots`` ballots in ``directory`` (made on
    ``jobs`` processes; ``fast`` uses :func:`use_public_paths` on them) and return its
    metadata, also written to ``bench.json``. Raises SystemExit if the decrypted result
    differs from the votes cast."""
    return generate_many({ballots: directory}, group, jobs, fast)[ballots]


def generate_many(
    directories: Mapping[int, Path], group: str, jobs: int, fast: bool = True
) -> dict[int, dict[str, Any]]:
    """Records of several sizes of one election: ``directories`` maps a number of ballots
    to the directory of its record. The ballots are made once, for the largest size; the
    record of N ballots holds the first N of them (roll slots 0..N-1), its own tally of
    those and its own result, written as soon as its ballots are made (the smaller records
    are ready while the larger are still being made). Returns each record's metadata;
    raises SystemExit if a decrypted result differs from the votes cast."""
    began = time.perf_counter()
    sizes = sorted(directories)
    top = sizes[-1]
    voting = max(3600, top + 60)
    e = make_election(group, voting_seconds=voting)
    m = e.manifest
    opens, span = _parse(m.opens), voting - 60
    times = [format_time(opens + dt.timedelta(seconds=i * span // max(1, top))) for i in range(top)]

    # Ballots first, on workers, into a spool file: the roll must precede them. Chunks
    # end at every size, so that the running tally can be read off there.
    scratch = directories[top]
    scratch.mkdir(parents=True, exist_ok=True)
    spool = scratch / "ballots.spool"
    items: list[dict[str, Any]] = []
    halves: list[Half] = []
    total = TallyAccumulator(m)
    plain: dict[str, Counter[str]] = {c: Counter() for c, _ in CATEGORIES}
    metas: dict[int, dict[str, Any]] = {}
    tasks = []
    start = 0
    for size in sizes:
        while start < size:
            count = min(CHUNK, size - start)
            tasks.append((start, count, times[start : start + count]))
            start += count
    ctx = multiprocessing.get_context("fork")
    done = 0
    with (
        spool.open("wb") as out,
        ctx.Pool(jobs, _init, (m.to_dict(), e.joint_key.to_bytes(), fast)) as pool,
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
            if done in directories:
                # Each record is written as soon as its ballots are made, while the
                # workers go on with the next ones.
                out.flush()
                want = {c: sum(plain[cat][c] for cat in plain) for c in CANDIDATES}
                written = time.perf_counter()
                entries = _write_record(
                    directories[done], e, items, halves, spool, times, total.finish(), want
                )
                metas[done] = {
                    "ballots": done,
                    "group": group,
                    "code": code_digest(),
                    "version": code_version(),
                    "fast_paths": fast,
                    "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "generation_seconds": round(time.perf_counter() - began, 1),
                    "ballot_seconds": round(written - began, 1),
                    "generation_jobs": jobs,
                    "shared_with": [n for n in sizes if n != done],
                    "entries": entries,
                    "bytes": (directories[done] / "board.jsonl").stat().st_size,
                    "result": want,
                }
                meta = json.dumps(metas[done], indent=2) + "\n"
                (directories[done] / META).write_text(meta)
                say(f"  wrote the record of {done:,} ballots in {directories[done]}")
            if done % (CHUNK * 40) == 0 or done == top:
                rate = done / (time.perf_counter() - began)
                say(f"  {done}/{top} ballots encrypted and signed ({rate:.0f}/s)")
    spool.unlink()
    return metas


def _write_record(
    directory: Path,
    e: BenchElection,
    items: list[dict[str, Any]],
    halves: list[Half],
    spool: Path,
    times: list[str],
    tally: Any,
    want: dict[str, int],
) -> int:
    """Write the record of the first ``len(items)`` spooled ballots in ``directory``:
    set-up, roll, ballots, seals, close, ``tally``, two decryptions and the result, which
    must equal ``want``. Returns the number of entries."""
    m = e.manifest
    fp = m.fingerprint
    ballots = len(items)
    assert len(halves) == ballots
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("board.jsonl", "heads.jsonl", META):
        (directory / name).unlink(missing_ok=True)
    clock = _clock(START)
    w = RecordWriter(directory, e.board, m)

    def post(
        signer: Signer, entry_type: str, body: dict[str, Any], when: str | None = None
    ) -> None:
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
    clock = _clock(_parse(schedule.justifications))  # the joint key after the deadlines
    post(e.organiser, "joint_key", with_run(e.joint_key_body, schedule.run))
    registrar_parts = list(roll_bodies(items))
    issuer_parts = list(issuer_bodies(halves))
    for body in registrar_parts:
        post(e.registrar, "roll", body)
    for body in issuer_parts:
        post(e.issuer, "issuer", body)
    post(e.organiser, "open", {"roll_size": ballots})
    with spool.open("rb") as spooled:
        for raw, when in zip(itertools.islice(spooled, ballots), times, strict=False):
            w.add("ballot", raw.rstrip(b"\n"), when)

    after = _clock(_parse(m.closes))
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
    if overall != want:
        raise SystemExit(f"the decrypted result {overall} is not the votes cast {want}")
    return len(w.tree)


def cached_records(
    sizes: Sequence[int],
    group: str,
    jobs: int,
    cache: Path = DEFAULT_CACHE,
    regenerate: bool = False,
    fast: bool = True,
) -> dict[int, tuple[Path, dict[str, Any]]]:
    """For each of ``sizes``, the directory of a record of that many ballots in ``group``
    made by the current record-making code (:func:`common.code_digest`), and its
    metadata: reused from ``cache`` when there, else generated (all missing sizes as one
    election, :func:`generate_many`, with the fast paths unless ``fast`` is False, on
    ``jobs`` processes). Records
    of the same group and size made by other code are removed first, so the cache holds
    one version of each."""
    digest = code_digest()
    out: dict[int, tuple[Path, dict[str, Any]]] = {}
    missing: dict[int, Path] = {}
    for n in sorted(set(sizes)):
        directory = cache / f"{group}-{n}-{digest}"
        meta_path = directory / META
        if meta_path.exists() and not regenerate:
            meta: dict[str, Any] = json.loads(meta_path.read_text())
            say(f"reusing the record in {directory} (generated {meta['generated']})")
            out[n] = (directory, meta)
        else:
            missing[n] = directory
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        for n in missing:
            for stale in cache.glob(f"{group}-{n}-*"):
                if stale != missing[n]:
                    say(f"removing {stale}: made by other verivote code")
                    shutil.rmtree(stale, ignore_errors=True)
        say(
            f"generating records of {', '.join(f'{n:,}' for n in missing)} ballots ({group}) "
            f"on {jobs} processes, in {cache}"
        )
        began = time.perf_counter()
        metas = generate_many(missing, group, jobs, fast)
        say(f"generated in {time.perf_counter() - began:.1f} s")
        for n, directory in missing.items():
            out[n] = (directory, metas[n])
    return dict(sorted(out.items()))
