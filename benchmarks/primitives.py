#!/usr/bin/env python
"""Micro-benchmarks of verivote's cryptographic primitives, for both groups.

Usage::

    python benchmarks/primitives.py           # full run, 2 to 3 minutes
    python benchmarks/primitives.py --quick   # shorter runs, for a smoke test

Every operation is calibrated so that one timed run of it (many calls) lasts about
``--target`` seconds; then all operations are timed in ``--repeat`` interleaved rounds and
each figure is the median over the rounds of the mean time per call. Interleaving spreads
bursts of load from other processes over all rows. Inputs (exponents, bases, ciphertexts,
proofs) are generated before timing and cycled through, so no run measures one lucky
input. Output is Markdown, ready to paste into ``docs/benchmarks.md``; progress goes to
standard error. Plain Python: ``time.perf_counter`` and the standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gmpy2
import nacl
import nacl.signing
from common import cpu_model
from nacl._sodium import ffi, lib

from verivote.elgamal import DiscreteLog, KeyPair, encrypt_with_nonce
from verivote.groups import GROUP_NAMES, Element, Group, get_group
from verivote.groups import modp4096 as _modp
from verivote.proofs.chaum_pedersen import prove_equal_logs, verify_equal_logs
from verivote.proofs.range import RangeBatch, prove_range, verify_range
from verivote.proofs.schnorr import prove_schnorr, verify_schnorr

CONTEXT = b"benchmark context: election hash and binding would go here"
DLOG_BOUND = 10**6
POOL = 16
"""How many distinct inputs each benchmark cycles through."""

PRECOMPUTE = "precompute(h): build the fixed-base table"
VARIABLE = "exponentiation, variable base"
FIXED_H = "exponentiation, fixed base h after precompute(h)"
MULTIPLY = "group operation (multiply)"
DECODE = "decode_element (full validation)"
DEFERRED = "decode_element_deferred (ballot ciphertexts; checked by the proof's exponentiations)"
SIGNATURE = "nacl.signing VerifyKey.verify, 1 KB message"
BALLOT_BATCH = "RangeBatch: one ballot's 5 range proofs (4 selections + limit, L = 1)"
CANDIDATES = 4

ELECTIONGUARD_VERIFY_MS = 121.6
"""ElectionGuard 1.4 (Python) ballot verification, 1 contest, 4 candidates, vote for 1,
measured earlier on this machine (see ANCHORS.md)."""


@dataclass
class Settings:
    target: float
    """Seconds one timed run should last."""
    repeat: int
    """How many timed runs (rounds); the median is reported."""


@dataclass
class Bench:
    """One row: an operation timed ``number`` calls at a time, once per round."""

    key: tuple[str, str]
    fn: Callable[[], object]
    number: int = 1
    fixed: bool = False
    """Keep ``number`` as given (an operation whose inputs are used up)."""
    samples: list[float] = field(default_factory=list)

    def calibrate(self, target: float) -> None:
        if self.fixed:
            return
        self.fn()  # warm-up: lazily built tables, caches, first-call costs
        probe = []
        for _ in range(3):
            start = time.perf_counter()
            self.fn()
            probe.append(time.perf_counter() - start)
        self.number = max(1, min(int(target / max(min(probe), 1e-7)), 1_000_000))

    def run(self) -> None:
        fn = self.fn
        start = time.perf_counter()
        for _ in range(self.number):
            fn()
        self.samples.append((time.perf_counter() - start) / self.number * 1e6)

    @property
    def median(self) -> float:
        """Median µs per call over the rounds."""
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median over the rounds."""
        return (max(self.samples) - min(self.samples)) / self.median


def measure_all(benches: list[Bench], settings: Settings) -> None:
    """Calibrate every bench, then time them in ``settings.repeat`` interleaved rounds, so
    that a burst of load from other processes spreads over all rows instead of spoiling a
    few."""
    for bench in benches:
        bench.calibrate(settings.target)
        print(f"  calibrated {bench.key}: {bench.number} calls per run", file=sys.stderr)
    for round_ in range(settings.repeat):
        for bench in benches:
            bench.run()
        print(f"  round {round_ + 1}/{settings.repeat} done", file=sys.stderr)


def cycle(items: list) -> Callable[[], object]:
    """A zero-argument function returning the items in turn, forever."""
    return itertools.cycle(items).__next__


# --- one group ------------------------------------------------------------------------------


def group_benchmarks(group: Group) -> list[tuple[str, Callable[[], object]]]:
    """(row name, zero-argument operation) for every row of the table, for ``group``."""
    g = group.generator
    keys = KeyPair.generate(group)
    h = keys.public
    group.precompute(h)  # as an election does with its joint public key

    # Public exponents (a verifier's): the fixed-base tables apply. Secret ones are timed
    # by benchmarks/secrets.py.
    scalars = [group.scalar(secrets.randbelow(group.order)) for _ in range(POOL)]
    next_scalar = cycle(scalars)
    # Bases nobody registered with precompute(): plain variable-base exponentiation.
    bases = [g ** group.random_nonzero_scalar() for _ in range(POOL)]
    next_base = cycle(bases)
    pairs = cycle(list(zip(bases, reversed(bases), strict=True)))
    encoded = cycle([b.to_bytes() for b in bases])
    counter = itertools.count()

    rows: list[tuple[str, Callable[[], object]]] = [
        ("exponentiation, fixed base g", lambda: g ** next_scalar()),
        (FIXED_H, lambda: h ** next_scalar()),
        (VARIABLE, lambda: next_base() ** next_scalar()),
    ]

    def multiply() -> object:
        a, b = pairs()
        return a * b

    rows.append((MULTIPLY, multiply))
    rows.append((DECODE, lambda: group.decode_element(encoded())))
    rows.append((DEFERRED, lambda: group.decode_element_deferred(encoded())))
    rows.append(
        (
            "hash_to_element",
            lambda: group.hash_to_element(b"bench", next(counter).to_bytes(8, "big")),
        )
    )

    nonces = cycle(scalars)
    rows.append(("ElGamal encrypt_with_nonce (m = 1)", lambda: encrypt_with_nonce(h, 1, nonces())))

    # Schnorr: one key per proof, as for trustees' coefficient commitments.
    schnorr_keys = [KeyPair.generate(group) for _ in range(POOL)]
    next_key = cycle(schnorr_keys)

    def schnorr_prove() -> object:
        k = next_key()
        return prove_schnorr(k.secret, k.public, CONTEXT)

    schnorr_items = cycle(
        [(k.public, prove_schnorr(k.secret, k.public, CONTEXT)) for k in schnorr_keys]
    )

    def schnorr_verify() -> None:
        public, proof = schnorr_items()
        verify_schnorr(public, proof, CONTEXT)

    rows.append(("Schnorr prove", schnorr_prove))
    rows.append(("Schnorr verify", schnorr_verify))

    # Chaum–Pedersen as for a decryption share: bases (g, α), values (g^x, α^x).
    cp_items = []
    for alpha in bases:
        x = group.random_nonzero_scalar()
        statement = ((g, alpha), (g**x, alpha**x))
        cp_items.append((x, statement, prove_equal_logs(x, *statement, CONTEXT)))
    next_cp = cycle(cp_items)

    def cp_prove() -> object:
        x, statement, _ = next_cp()
        return prove_equal_logs(x, *statement, CONTEXT)

    def cp_verify() -> None:
        _, (bs, vs), proof = next_cp()
        verify_equal_logs(bs, vs, proof, CONTEXT)

    rows.append(("Chaum–Pedersen prove", cp_prove))
    rows.append(("Chaum–Pedersen verify", cp_verify))

    for limit in (1, 3):
        items = []
        for i in range(POOL):
            value = i % (limit + 1)
            nonce = group.random_scalar()
            ct = encrypt_with_nonce(h, value, nonce)
            items.append((ct, value, nonce, prove_range(h, ct, value, nonce, limit, CONTEXT)))
        next_item = cycle(items)

        def range_prove(next_item=next_item, limit=limit) -> object:
            ct, value, nonce, _ = next_item()
            return prove_range(h, ct, value, nonce, limit, CONTEXT)

        def range_verify(next_item=next_item, limit=limit) -> None:
            ct, _, _, proof = next_item()
            verify_range(h, ct, proof, limit, CONTEXT)

        rows.append((f"range proof prove, L = {limit}", range_prove))
        rows.append((f"range proof verify, L = {limit}", range_verify))

    if group.pow_validates:
        rows.append((BALLOT_BATCH, ballot_batch_benchmark(group, h)))

    solver = DiscreteLog(group, DLOG_BOUND)
    rows.append(
        (
            f"DiscreteLog table build, bound 10^6 ({solver.step} baby steps)",
            lambda: DiscreteLog(group, DLOG_BOUND),
        )
    )
    targets = cycle([g ** secrets.randbelow(DLOG_BOUND + 1) for _ in range(POOL)])
    rows.append(("DiscreteLog solve, random m <= 10^6", lambda: solver.solve(targets())))
    worst = g**DLOG_BOUND
    rows.append(("DiscreteLog solve, m = 10^6 (worst case)", lambda: solver.solve(worst)))
    return rows


def ballot_batch_benchmark(group: Group, h: Element) -> Callable[[], object]:
    """Check one ballot's range proofs (4 candidates, vote for one, limit 1) as one batch,
    as :func:`verivote.election.ballot.check_ballot` does in groups whose exponentiation
    validates its input."""
    ballots = []
    for i in range(POOL):
        choice = i % CANDIDATES
        nonces = [group.random_scalar() for _ in range(CANDIDATES)]
        cts = [encrypt_with_nonce(h, int(k == choice), r) for k, r in enumerate(nonces)]
        checks = []
        for k, (ct, r) in enumerate(zip(cts, nonces, strict=True)):
            ctx = CONTEXT + bytes([k])
            checks.append((ct, prove_range(h, ct, int(k == choice), r, 1, ctx), ctx, None))
        total = cts[0]
        for ct in cts[1:]:
            total = total * ct
        nonce = sum(nonces, group.scalar(0))
        ctx = CONTEXT + b"limit"
        parts = [ct.beta for ct in cts]
        checks.append((total, prove_range(h, total, 1, nonce, 1, ctx), ctx, parts))
        ballots.append(checks)
    next_ballot = cycle(ballots)

    def check() -> None:
        batch = RangeBatch(h)
        for ct, proof, ctx, parts in next_ballot():
            batch.add(ct, proof, 1, ctx, parts)
        batch.verify()

    return check


def precompute_benchmark(group: Group, calls: int) -> Callable[[], object]:
    """Build one fixed-base table per call, each for a fresh element made beforehand."""
    fresh = [group.generator ** group.random_nonzero_scalar() for _ in range(calls)]
    return lambda: group.precompute(fresh.pop())


# --- outside the groups ---------------------------------------------------------------------


def signature_benchmarks() -> list[tuple[str, Callable[[], object]]]:
    """Ed25519 signature verification of a 1 KB message."""
    key = nacl.signing.SigningKey.generate()
    vk = key.verify_key
    messages = [secrets.token_bytes(1024) for _ in range(POOL)]
    signed = cycle([key.sign(m) for m in messages])
    rows: list[tuple[str, Callable[[], object]]] = [
        (SIGNATURE, lambda: vk.verify(signed())),
    ]
    try:
        from verivote.signatures import verify_signature
    except ImportError:  # the module belongs to a later layer; skip if absent
        return rows
    pk = bytes(vk)
    detached = cycle([(s.message, s.signature) for s in (key.sign(m) for m in messages)])

    def ours() -> None:
        message, signature = detached()
        verify_signature(pk, message, signature, "benchmark")

    rows.append(("verivote.signatures.verify_signature, 1 KB", ours))
    return rows


def backend_benchmarks() -> list[tuple[str, Callable[[], object]]]:
    """The backend calls underneath, without verivote's wrappers: the floor for each row."""
    ed = get_group("ed25519")
    point = (ed.generator ** ed.random_nonzero_scalar()).to_bytes()
    other = (ed.generator ** ed.random_nonzero_scalar()).to_bytes()
    k = secrets.randbelow(ed.order).to_bytes(32, "little")
    out = ffi.new("unsigned char[32]")
    modp = get_group("modp4096")
    a = (modp.generator ** modp.random_nonzero_scalar()).value
    b = (modp.generator ** modp.random_nonzero_scalar()).value
    e = secrets.randbelow(modp.order)
    p = _modp._P
    return [
        (
            "libsodium crypto_scalarmult_ed25519_noclamp (validates input point)",
            lambda: lib.crypto_scalarmult_ed25519_noclamp(out, k, point),
        ),
        (
            "libsodium crypto_scalarmult_ed25519_base_noclamp",
            lambda: lib.crypto_scalarmult_ed25519_base_noclamp(out, k),
        ),
        (
            "libsodium crypto_core_ed25519_is_valid_point",
            lambda: lib.crypto_core_ed25519_is_valid_point(point),
        ),
        (
            "libsodium crypto_core_ed25519_add",
            lambda: lib.crypto_core_ed25519_add(out, point, other),
        ),
        (
            "libsodium crypto_scalarmult (X25519, for comparison)",
            lambda: lib.crypto_scalarmult(out, k, point),
        ),
        ("gmpy2 powmod, 4096-bit modulus, 256-bit exponent", lambda: gmpy2.powmod(a, e, p)),
        (
            "gmpy2 powmod, 4096-bit modulus, cofactor r (3841 bits)",
            lambda: gmpy2.powmod(a, _modp.R, p),
        ),
        ("gmpy2 multiply then reduce mod p", lambda: a * b % p),
        ("gmpy2 invert mod p", lambda: gmpy2.invert(a, p)),
    ]


# --- output ---------------------------------------------------------------------------------


def fmt(us: float) -> str:
    """µs with sensible precision: 3 significant figures, at least whole µs above 1000."""
    if us >= 1000:
        return f"{us:,.0f}".replace(",", " ")
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--target", type=float, help="seconds per timed run")
    parser.add_argument("--repeat", type=int, help="timed runs per figure (median reported)")
    args = parser.parse_args(argv)
    settings = Settings(target=0.05, repeat=3) if args.quick else Settings(target=0.15, repeat=15)
    if args.target:
        settings.target = args.target
    if args.repeat:
        settings.repeat = args.repeat

    benches: list[Bench] = []
    rows: list[str] = []
    for name in GROUP_NAMES:
        group = get_group(name)
        for row, fn in group_benchmarks(group):
            benches.append(Bench((name, row), fn))
            if row not in rows:
                rows.append(row)
        fn = precompute_benchmark(group, settings.repeat)
        benches.append(Bench((name, PRECOMPUTE), fn, number=1, fixed=True))
    others: list[str] = []
    for row, fn in signature_benchmarks() + backend_benchmarks():
        benches.append(Bench(("other", row), fn))
        others.append(row)
    load_before = os.getloadavg()[0]
    measure_all(benches, settings)
    load_after = os.getloadavg()[0]
    result = {bench.key: bench.median for bench in benches}
    worst = max(benches, key=lambda b: b.spread)

    print("## verivote primitives: µs per operation\n")
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores")
    print(
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"PyNaCl {nacl.__version__}, gmpy2 {gmpy2.version()} ({gmpy2.mp_version()})"
    )
    print(
        f"- {datetime.date.today().isoformat()}; each figure is the median of "
        f"{settings.repeat} interleaved runs of about {settings.target:g} s each; largest "
        f"spread (max - min) / median: {worst.spread:.0%} ({worst.key[0]}: {worst.key[1]})"
    )
    print(f"- 1-minute load average: {load_before:.2f} at the start, {load_after:.2f} at the end\n")

    print("| operation | ed25519 µs | modp4096 µs | modp4096 / ed25519 |")
    print("|---|---:|---:|---:|")
    for row in rows:
        ed, mp = result.get(("ed25519", row)), result.get(("modp4096", row))
        if ed is None or mp is None:
            cells = [fmt(v) if v is not None else "n/a" for v in (ed, mp)]
            print(f"| {row} | {cells[0]} | {cells[1]} | |")
        else:
            print(f"| {row} | {fmt(ed)} | {fmt(mp)} | {mp / ed:.1f}× |")
    print(
        f"| {PRECOMPUTE} | {fmt(result['ed25519', PRECOMPUTE])} (no table) "
        f"| {fmt(result['modp4096', PRECOMPUTE])} | |"
    )

    variable = result["modp4096", VARIABLE]
    fixed = result["modp4096", FIXED_H]
    print(
        f"\nmodp4096 fixed-base table gain: powmod {fmt(variable)} µs / table {fmt(fixed)} µs "
        f"= **{variable / fixed:.1f}×**; building the table costs as much as "
        f"{result['modp4096', PRECOMPUTE] / (variable - fixed):.0f} saved exponentiations. "
        f"(ed25519: {result['ed25519', VARIABLE] / result['ed25519', FIXED_H]:.2f}×, no table.)\n"
    )

    print("| other operation | µs |")
    print("|---|---:|")
    for row in others:
        print(f"| {row} | {fmt(result['other', row])} |")

    signature = result["other", SIGNATURE]
    print("\n## Expected per-ballot verification cost (estimate from the rows above)\n")
    print(
        "One contest, 4 candidates, vote for one: 5 range proofs with L = 1 (4 selections "
        "and the contest limit) and one Ed25519 signature. The wider estimate adds decoding "
        "the 4 selection ciphertexts (8 elements, decoded as check_ballot does: deferred on "
        "ed25519, fully on modp4096) and the 3 ciphertext products (6 group operations) that "
        "form the contest total. Where the group allows it (ed25519), ballots are checked "
        "with one RangeBatch for all five proofs: the 'batched' row uses that measurement.\n"
    )
    print(
        "| group | 5 range proofs | signature | estimate | + decode and products "
        "| wider estimate | ElectionGuard 1.4 (121.6 ms) / estimate |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    batched = [
        (f"{name}, batched", result[name, BALLOT_BATCH] / 5)
        for name in GROUP_NAMES
        if (name, BALLOT_BATCH) in result
    ]
    for name, per_proof in [
        (n, result[n, "range proof verify, L = 1"]) for n in GROUP_NAMES
    ] + batched:
        group_name = name.split(",")[0]
        proofs = 5 * per_proof
        base = (proofs + signature) / 1000
        # check_ballot decodes with deferred checks only where the proofs complete them.
        decode = DEFERRED if get_group(group_name).pow_validates else DECODE
        extra = (8 * result[group_name, decode] + 6 * result[group_name, MULTIPLY]) / 1000
        print(
            f"| {name} | {proofs / 1000:.2f} ms | {signature / 1000:.3f} ms | {base:.2f} ms "
            f"| {extra:.2f} ms | {base + extra:.2f} ms | {ELECTIONGUARD_VERIFY_MS / base:.1f}× "
            f"({ELECTIONGUARD_VERIFY_MS / (base + extra):.1f}× wider) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
