#!/usr/bin/env python
"""Whole-ballot benchmark: verivote against ElectionGuard 1.4 (Python), same process.

Usage (from the repository root)::

    python benchmarks/ballots.py            # full run, about 3 minutes
    python benchmarks/ballots.py --quick    # smoke test, under a minute
    python benchmarks/ballots.py --no-electionguard   # verivote only

The ballot is ElectionGuard's usual benchmark shape: one contest, four candidates, vote for
one. For each of verivote's groups (ed25519, modp4096) it times

* ``encrypt_ballot`` — what the voter's device pays: 4 encryptions, 4 range proofs for
  [0, 1] and the contest's limit proof;
* ``BallotChecker.check`` — what the verifier pays per ballot in its worker processes: the
  credential's Ed25519 signature, strict decoding of every element, the 4 selection proofs
  and the limit proof (plus the tracking code and duplicate keys);
* ``BallotChecker.check_and_tally`` — the same from the raw record line: JSON parsing and
  adding the ballot to the worker's partial tally included.

ElectionGuard's side, in the same process and on the same machine, for the same election
shape (which ElectionGuard encodes with one placeholder selection, so 5 disjunctive proofs
and one constant Chaum–Pedersen proof): ``encrypt_ballot`` and
``ballot_is_valid_for_election(..., should_validate=True)``, its ballot validity check.

ElectionGuard is only ever imported here, never by verivote. Version 1.4.0 does not import
on Python 3.11 (``electionguard/tally.py`` uses an ``ElGamalCiphertext`` instance as a
dataclass field default, and Python 3.11 refuses defaults whose class is unhashable); see
:func:`import_electionguard` for the in-process workaround.

Each figure is the median over interleaved rounds of the mean time per ballot within a
round (each round runs every benchmark for about ``--target`` seconds), so a burst of load
from other processes spreads over every row. Ballots are made before timing and cycled
through. After the table, a cProfile of ``BallotChecker.check`` shows where the time goes:
backend calls (libsodium, gmpy2) against Python around them.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import importlib
import importlib.util
import itertools
import os
import pstats
import secrets
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gmpy2
import nacl.bindings
import nacl.signing
from common import CANDIDATES, CATEGORIES, code_version, machine_line, make_election
from nacl._sodium import ffi, lib

from verivote.election.ballot import encrypt_ballot
from verivote.election.checker import BallotChecker
from verivote.election.entries import entry_from_line, sign_entry
from verivote.signatures import Signer

POOL = 12
"""Distinct ballots each benchmark cycles through (3 per candidate)."""
ANCHOR_EG_VERIFY_MS = 121.6
"""ElectionGuard 1.4 ballot verification measured earlier on this machine (ANCHORS.md)."""
TARGETS = {"ed25519": 25.0, "modp4096": 4.0}
"""Required speed-up of verification over ElectionGuard's, per group."""
GROUP_NAMES = tuple(TARGETS)
"""The groups this script times (its backend breakdown knows these two; per_ballot.py
times every group)."""
VOTE_TIME = "2026-09-02T10:00:00Z"


@dataclass
class Bench:
    """One row: an operation on one ballot, timed ``number`` calls at a time per round, in
    wall-clock time and in this process's CPU time."""

    side: str
    group: str
    what: str
    fn: Callable[[], object]
    number: int = 1
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def calibrate(self, target: float) -> None:
        self.fn()  # warm-up: tables, caches
        start = time.process_time()
        self.fn()
        once = time.process_time() - start
        self.number = max(1, round(target / max(once, 1e-6)))

    def run(self) -> None:
        fn = self.fn
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(self.number):
            fn()
        self.cpu.append((time.process_time() - cpu) / self.number)
        self.wall.append((time.perf_counter() - wall) / self.number)

    @property
    def wall_ms(self) -> float:
        return statistics.median(self.wall) * 1e3

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1e3

    @property
    def spread(self) -> float:
        return (max(self.wall) - min(self.wall)) / statistics.median(self.wall)


def measure(benches: list[Bench], target: float, rounds: int) -> None:
    for bench in benches:
        bench.calibrate(target)
        say(f"  calibrated {bench.side} {bench.group} {bench.what}: {bench.number} per round")
    for r in range(rounds):
        for bench in benches:
            bench.run()
        say(f"  round {r + 1}/{rounds} done (load {os.getloadavg()[0]:.2f})")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- verivote --------------------------------------------------------------------------------


@dataclass
class OurSide:
    """verivote's ballots for one group, ready to time."""

    group: str
    checker: BallotChecker
    entries: list[Any]
    lines: list[bytes]
    encrypt: Callable[[], object]


def our_side(group: str, pool: int) -> OurSide:
    e = make_election(group)
    m, key = e.manifest, e.joint_key
    voters = [Signer.generate() for _ in range(pool)]
    roll = {v.public_key: (CATEGORIES[i % len(CATEGORIES)][0], 1) for i, v in enumerate(voters)}
    choices = [{"leader": [CANDIDATES[i % len(CANDIDATES)]]} for i in range(pool)]
    lines = []
    for voter, choice in zip(voters, choices, strict=True):
        body = encrypt_ballot(m, key, voter, choice).body
        lines.append(sign_entry(voter, m.fingerprint, "ballot", body, VOTE_TIME).to_line())
    entries = [entry_from_line(line) for line in lines]
    checker = BallotChecker(m, key, roll)
    for i, entry in enumerate(entries):  # every ballot must pass, or the timing means nothing
        result, _ = checker.check(i, entry)
        if result.failure is not None:
            raise SystemExit(f"{group}: benchmark ballot {i} fails: {result.failure}")
    pairs = itertools.cycle(list(zip(voters, choices, strict=True)))

    def encrypt() -> object:
        voter, choice = next(pairs)
        return encrypt_ballot(m, key, voter, choice)

    return OurSide(group, checker, entries, lines, encrypt)


def our_benches(side: OurSide) -> list[Bench]:
    entries = itertools.cycle(side.entries)
    lines = itertools.cycle(side.lines)
    checker = side.checker

    def check() -> object:
        return checker.check(0, next(entries))

    def check_line() -> object:
        return checker.check_and_tally(0, next(lines))

    return [
        Bench("verivote", side.group, "encrypt", side.encrypt),
        Bench("verivote", side.group, "check", check),
        Bench("verivote", side.group, "check line", check_line),
    ]


# --- ElectionGuard ---------------------------------------------------------------------------


def import_electionguard() -> types.ModuleType:
    """Import ``electionguard`` 1.4.0 on Python 3.11, touching no installed file.

    The failure: ``electionguard/tally.py`` declares ``ciphertext: ElGamalCiphertext =
    field(default=ElGamalCiphertext(ONE_MOD_P, ONE_MOD_P))``. ``ElGamalCiphertext`` defines
    ``__eq__`` without ``__hash__``, so its ``__hash__`` is None, and since Python 3.11
    ``dataclasses`` refuses any default whose class is unhashable ("mutable default …
    is not allowed"); 3.10 only refused lists, dicts and sets.

    The workaround, in this process only: put a bare stand-in for the ``electionguard``
    package in ``sys.modules`` (so its ``__init__``, which imports every submodule, does not
    run yet), import ``electionguard.elgamal`` under it, give ``ElGamalCiphertext`` a
    ``__hash__`` consistent with its ``__eq__`` (a hash of ``(pad, data)``), drop the
    stand-in and import the real package, which reuses the patched submodule. Nothing else
    changes: the default instance is never mutated in place (``elgamal_accumulate`` assigns
    a new ciphertext), exactly as on Python 3.10, and no hash of a ciphertext is taken on
    the paths timed here.
    """
    if "electionguard" in sys.modules:
        return sys.modules["electionguard"]
    spec = importlib.util.find_spec("electionguard")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("electionguard is not installed (see benchmarks/README.md)")
    stand_in = types.ModuleType("electionguard")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["electionguard"] = stand_in
    try:
        elgamal = importlib.import_module("electionguard.elgamal")
        cls = elgamal.ElGamalCiphertext
        if cls.__hash__ is None:
            cls.__hash__ = lambda self: hash((self.pad, self.data))
    finally:
        del sys.modules["electionguard"]
    eg = importlib.import_module("electionguard")
    # ElectionGuard logs every encryption at INFO on standard output; keep its log calls
    # (their cost is part of its encryption as shipped) but discard the output.
    import logging

    logger = logging.getLogger("electionguard")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return eg


def eg_benches(pool: int) -> tuple[list[Bench], str]:
    """ElectionGuard's encryption and ballot verification for the same election shape."""
    eg = import_electionguard()
    from electionguard import encrypt as eg_encrypt
    from electionguard.ballot import (
        PlaintextBallot,
        PlaintextBallotContest,
        PlaintextBallotSelection,
    )
    from electionguard.ballot_validator import ballot_is_valid_for_election
    from electionguard.election import make_ciphertext_election_context
    from electionguard.elgamal import elgamal_keypair_random
    from electionguard.group import rand_q
    from electionguard.manifest import (
        BallotStyle,
        Candidate,
        ContestDescription,
        ElectionType,
        GeopoliticalUnit,
        InternalManifest,
        Manifest,
        ReportingUnitType,
        SelectionDescription,
        SpecVersion,
        VoteVariationType,
    )

    contest = ContestDescription(
        object_id="leader",
        sequence_order=0,
        electoral_district_id="party",
        vote_variation=VoteVariationType.one_of_m,
        number_elected=1,
        votes_allowed=1,
        name="Party leader",
        ballot_selections=[
            SelectionDescription(f"{c}-selection", i, c) for i, c in enumerate(CANDIDATES)
        ],
    )
    manifest = Manifest(
        election_scope_id="bench-2026",
        spec_version=SpecVersion.EG1_0,
        type=ElectionType.primary,
        start_date=datetime.datetime(2026, 9, 2, 9, 0),
        end_date=datetime.datetime(2026, 9, 3, 9, 0),
        geopolitical_units=[GeopoliticalUnit("party", "Party", ReportingUnitType.other)],
        parties=[],
        candidates=[Candidate(c) for c in CANDIDATES],
        contests=[contest],
        ballot_styles=[BallotStyle("style", ["party"])],
    )
    internal = InternalManifest(manifest)
    # A single key pair rather than a guardian ceremony: encryption and ballot checks cost
    # the same for any public key. Three guardians, quorum two, as on verivote's side.
    keys = elgamal_keypair_random()
    context = make_ciphertext_election_context(
        3, 2, keys.public_key, rand_q(), internal.manifest_hash
    )
    seed = internal.manifest_hash

    def plaintext(i: int) -> Any:
        chosen = CANDIDATES[i % len(CANDIDATES)]
        return PlaintextBallot(
            f"ballot-{i}",
            "style",
            [
                PlaintextBallotContest(
                    "leader", [PlaintextBallotSelection(f"{chosen}-selection", 1)]
                )
            ],
        )

    plaintexts = [plaintext(i) for i in range(pool)]
    encrypted = []
    for p in plaintexts:
        ct = eg_encrypt.encrypt_ballot(p, internal, context, seed, should_verify_proofs=False)
        if ct is None or not ballot_is_valid_for_election(ct, internal, context, True):
            raise SystemExit("ElectionGuard: a benchmark ballot does not verify")
        encrypted.append(ct)
    placeholders = len(internal.contests[0].placeholder_selections)
    next_plain = itertools.cycle(plaintexts).__next__
    next_ballot = itertools.cycle(encrypted).__next__

    def encrypt() -> object:
        return eg_encrypt.encrypt_ballot(
            next_plain(), internal, context, seed, should_verify_proofs=False
        )

    real_log_info = eg_encrypt.log_info

    def encrypt_quiet() -> object:
        eg_encrypt.log_info = lambda *a, **k: None
        try:
            return encrypt()
        finally:
            eg_encrypt.log_info = real_log_info

    def verify() -> object:
        return ballot_is_valid_for_election(next_ballot(), internal, context, True)

    def verify_encryption() -> object:
        return next_ballot().is_valid_encryption(
            internal.manifest_hash, context.elgamal_public_key, context.crypto_extended_base_hash
        )

    version = getattr(eg, "__version__", "?")
    note = (
        f"electionguard {version}: {len(CANDIDATES)} selections + {placeholders} placeholder, "
        f"{len(CANDIDATES) + placeholders} disjunctive Chaum–Pedersen proofs + 1 constant "
        "Chaum–Pedersen proof per ballot"
    )
    return [
        Bench("ElectionGuard", "modp4096", "encrypt", encrypt),
        Bench("ElectionGuard", "modp4096", "encrypt, log calls off", encrypt_quiet),
        Bench("ElectionGuard", "modp4096", "verify", verify),
        Bench("ElectionGuard", "modp4096", "verify proofs", verify_encryption),
    ], note


# --- profile ---------------------------------------------------------------------------------


@dataclass
class Backend:
    """One backend call the check makes, with a stand-alone version of it to time."""

    label: str
    match: Callable[[str, str], bool]
    """``(filename, function name)`` of a cProfile entry -> is it this call?"""
    fn: Callable[[], object]


def _builtin(key: str) -> Callable[[str, str], bool]:
    return lambda filename, name: filename == "~" and name.endswith("." + key + ">")


def backends(side: OurSide) -> list[Backend]:
    """The expensive calls under ``BallotChecker.check`` in ``side.group``, each with a bare
    call on representative inputs: libsodium through PyNaCl's compiled ``lib`` (as
    verivote's ed25519 group calls it), gmpy2 as the modp4096 group calls it."""
    group = side.checker.manifest.group
    g = group.generator
    point = (g ** group.random_nonzero_scalar()).to_bytes()
    other = (g ** group.random_nonzero_scalar()).to_bytes()
    key = nacl.signing.SigningKey.generate()
    signed = bytes(key.sign(secrets.token_bytes(len(side.lines[0]))))
    public = bytes(key.verify_key)
    rows = [
        Backend(
            "libsodium: Ed25519 signature check",
            _builtin("crypto_sign_open"),
            lambda: nacl.bindings.crypto_sign_open(signed, public),
        )
    ]
    if side.group == "ed25519":
        k = secrets.randbelow(group.order).to_bytes(32, "little")
        out = ffi.new("unsigned char[32]")
        rows += [
            Backend(
                "libsodium: variable-base scalar multiplication",
                _builtin("crypto_scalarmult_ed25519_noclamp"),
                lambda: lib.crypto_scalarmult_ed25519_noclamp(out, k, point),
            ),
            Backend(
                "libsodium: base-point scalar multiplication",
                _builtin("crypto_scalarmult_ed25519_base_noclamp"),
                lambda: lib.crypto_scalarmult_ed25519_base_noclamp(out, k),
            ),
            Backend(
                "libsodium: point addition",
                _builtin("crypto_core_ed25519_add"),
                lambda: lib.crypto_core_ed25519_add(out, point, other),
            ),
        ]
    else:
        from verivote.groups import modp4096

        a, b = gmpy2.mpz(int.from_bytes(point, "big")), gmpy2.mpz(int.from_bytes(other, "big"))
        e = gmpy2.mpz(secrets.randbelow(group.order))
        p = gmpy2.mpz(modp4096.P)  # as the group holds it: an mpz, converted once
        table = modp4096.FixedBase(a)
        rows += [
            Backend(
                "gmpy2: powmod, 4096-bit modulus, 256-bit exponent",
                _builtin("powmod"),
                lambda: gmpy2.powmod(a, e, p),
            ),
            Backend(
                "fixed-base table walk (`FixedBase.pow`: ~32 mpz products in Python)",
                lambda filename, name: filename.endswith("modp4096.py") and name == "pow",
                lambda: table.pow(int(e)),
            ),
            Backend("gmpy2: invert", _builtin("invert"), lambda: gmpy2.invert(a, p)),
            Backend(
                "gmpy2: product mod p (`_op`, mpz arithmetic inline)",
                lambda filename, name: filename.endswith("modp4096.py") and name == "_op",
                lambda: a * b % p,
            ),
        ]
    return rows


@dataclass
class Profile:
    """Calls per ballot of each backend call, and the heaviest rest, from cProfile."""

    calls: int
    counts: dict[str, float]
    rest: list[tuple[float, float, str]]
    """(µs per ballot under the profiler, calls per ballot, where), heaviest first."""


def profile_check(side: OurSide, rows: list[Backend], calls: int) -> Profile:
    """Run ``calls`` checks under cProfile (CPU time); count each backend call per ballot."""
    entries = itertools.cycle(side.entries)
    checker = side.checker
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(calls):
        checker.check(0, next(entries))
    profiler.disable()
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    counts = {r.label: 0.0 for r in rows}
    rest = []
    for (filename, _line, name), (_cc, ncalls, tottime, _ct, _callers) in raw.items():
        row = next((r for r in rows if r.match(filename, name)), None)
        if row is not None:
            counts[row.label] += ncalls / calls
        else:
            where = f"{os.path.basename(filename)}:{name}" if filename != "~" else name
            rest.append((tottime * 1e6 / calls, ncalls / calls, where))
    rest.sort(reverse=True)
    return Profile(calls, counts, rest)


def breakdown(
    group: str, check: Bench, rows: list[Backend], timed: dict[str, Bench], prof: Profile
) -> list[str]:
    """Markdown: each backend call's count per ballot × its stand-alone median CPU time,
    against the check's median CPU time; the rest is Python (and small C calls)."""
    total = check.cpu_ms
    lines = [
        f"#### {group}: `BallotChecker.check`, {total:.2f} ms CPU per ballot",
        "",
        "| where | calls per ballot | µs per call, alone | ms per ballot | share |",
        "|---|---:|---:|---:|---:|",
    ]
    accounted = 0.0
    for row in rows:
        n = prof.counts[row.label]
        if not n:
            continue
        us = timed[row.label].cpu_ms * 1e3
        ms = n * us / 1e3
        accounted += ms
        lines.append(f"| {row.label} | {n:g} | {us:.1f} | {ms:.2f} | {ms / total:.0%} |")
    rest = total - accounted
    lines.append(
        f"| **everything else**: Python, hashing, small C calls | | | **{rest:.2f}** "
        f"| **{rest / total:.0%}** |"
    )
    lines += [
        "",
        f"The calls above, alone: {accounted:.2f} ms per ballot — the floor for this sequence "
        "of operations, were everything around them free.",
        "",
        f"Heaviest of the rest under cProfile ({prof.calls} ballots, µs per ballot including "
        "the profiler's overhead, × = calls per ballot): "
        + ", ".join(f"`{where}` {us:.0f} ({n:g}×)" for us, n, where in prof.rest[:12]),
        "",
    ]
    return lines


# --- main ------------------------------------------------------------------------------------


def fmt_ms(ms: float) -> str:
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


LABELS = {
    "encrypt": "`encrypt_ballot`",
    "check": "`BallotChecker.check`: signature, decode, 5 proofs",
    "check line": "`check_and_tally` from the record line (+ JSON, tally)",
    "encrypt, log calls off": "`encrypt_ballot`, its `log_info` calls stubbed out",
    "verify": "`ballot_is_valid_for_election`: style, hashes, 6 proofs",
    "verify proofs": "`CiphertextBallot.is_valid_encryption`: hashes, 6 proofs (no style)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--target", type=float, help="seconds per benchmark per round")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (median reported)")
    parser.add_argument("--no-electionguard", action="store_true", help="time verivote only")
    parser.add_argument("--profile-calls", type=int, help="ed25519 ballots checked under cProfile")
    args = parser.parse_args(argv)
    target = args.target or (0.3 if args.quick else 1.5)
    rounds = args.rounds or (3 if args.quick else 9)
    profile_calls = args.profile_calls or (100 if args.quick else 400)

    benches: list[Bench] = []
    sides: dict[str, OurSide] = {}
    rows: dict[str, list[Backend]] = {}
    profiles: dict[str, Profile] = {}
    floor: dict[str, dict[str, Bench]] = {}
    for group in GROUP_NAMES:
        say(f"setting up {group}")
        side = sides[group] = our_side(group, POOL)
        benches += our_benches(side)
        rows[group] = backends(side)
        calls = profile_calls if group == "ed25519" else max(10, profile_calls // 10)
        say(f"profiling {group} ({calls} ballots)")
        profiles[group] = profile_check(side, rows[group], calls)
        floor[group] = {r.label: Bench("backend", group, r.label, r.fn) for r in rows[group]}
    eg_note = "not measured (--no-electionguard)"
    if not args.no_electionguard:
        try:
            eg_rows, eg_note = eg_benches(POOL)
            benches += eg_rows
        except ImportError as exc:
            eg_note = f"not measured: {exc}"
    load_before = os.getloadavg()
    measure(benches + [b for f in floor.values() for b in f.values()], target, rounds)
    load_after = os.getloadavg()
    got = {(b.side, b.group, b.what): b for b in benches}
    worst = max(benches, key=lambda b: b.spread)

    print("## Whole-ballot figures: 1 contest, 4 candidates, vote for one\n")
    print(f"- {machine_line()}")
    print(f"- {code_version()}")
    print(f"- {datetime.date.today().isoformat()}; ElectionGuard: {eg_note}")
    print(
        f"- each figure: median over {rounds} interleaved rounds of about {target:g} s of "
        f"CPU per benchmark; {POOL} distinct ballots cycled; largest wall-clock spread "
        f"(max − min) / median {worst.spread:.0%} ({worst.side} {worst.group} {worst.what})"
    )
    print(
        f"- load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in load_before)} at the "
        f"start, {', '.join(f'{x:.2f}' for x in load_after)} at the end. Wall-clock time "
        "includes waiting for a core when other processes compete for the 2 cores; CPU time "
        "(this process's, `time.process_time`) mostly does not.\n"
    )
    print("| side | group | operation | ms wall | ms CPU |")
    print("|---|---|---|---:|---:|")
    for b in benches:
        print(
            f"| {b.side} | {b.group} | {LABELS[b.what]} | {fmt_ms(b.wall_ms)} "
            f"| {fmt_ms(b.cpu_ms)} |"
        )

    eg_full = got.get(("ElectionGuard", "modp4096", "verify"))
    eg_proofs = got.get(("ElectionGuard", "modp4096", "verify proofs"))
    eg_encrypt = got.get(("ElectionGuard", "modp4096", "encrypt"))
    print("\n### Ratios: ElectionGuard's time / verivote's (CPU time, same process, same run)\n")
    print(
        "The verdict takes the least favourable of the three ElectionGuard figures: its full "
        "validity check, its proofs-and-hashes check alone, and the figure in ANCHORS.md.\n"
    )
    print(
        "| group | `check` ms | EG full check / ours | EG proofs only / ours "
        f"| ANCHORS {ANCHOR_EG_VERIFY_MS} ms / ours | target | met? | encrypt: EG / ours |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for group in GROUP_NAMES:
        ours = got["verivote", group, "check"].cpu_ms
        enc = got["verivote", group, "encrypt"].cpu_ms
        goal = TARGETS[group]
        egs = [ANCHOR_EG_VERIFY_MS]
        cells = []
        for bench in (eg_full, eg_proofs):
            if bench is None:
                cells.append("–")
            else:
                egs.append(bench.cpu_ms)
                cells.append(f"{bench.cpu_ms / ours:.1f}×")
        worst = min(egs)
        needed = worst / goal
        met = (
            "yes"
            if worst / ours >= goal
            else f"**no**: needs ≤ {needed:.2f} ms, is {ours / needed:.2f}× that"
        )
        enc_ratio = "–" if eg_encrypt is None else f"{eg_encrypt.cpu_ms / enc:.1f}×"
        print(
            f"| {group} | {fmt_ms(ours)} | {cells[0]} | {cells[1]} "
            f"| {ANCHOR_EG_VERIFY_MS / ours:.1f}× | {goal:g}× | {met} | {enc_ratio} |"
        )

    print("\n### Where `BallotChecker.check` spends its time\n")
    print(
        "Calls per ballot counted with cProfile; each call then timed alone, on representative "
        "inputs, in the same interleaved rounds as the table above (median CPU time).\n"
    )
    for group in GROUP_NAMES:
        check = got["verivote", group, "check"]
        print("\n".join(breakdown(group, check, rows[group], floor[group], profiles[group])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
