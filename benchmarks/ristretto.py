#!/usr/bin/env python
"""ristretto255's compiled backend against PyNaCl's one-call-per-operation path.

Usage::

    python benchmarks/ristretto.py            # about a minute
    python benchmarks/ristretto.py --quick    # smoke test

Rows (µs per operation; for the MSM, µs per term):

* decode: ``vv_is_valid`` (compiled ristretto255) | the pure-Python backend's decoder |
  PyNaCl ``crypto_core_ed25519_is_valid_point`` (what the ``ed25519`` group pays to
  validate a point: a decompression and a multiplication by L);
* variable-base multiplication: compiled | ``ristretto255`` group ``**`` (libsodium's
  constant-time ladder through PyNaCl) | PyNaCl ``crypto_scalarmult_ed25519_noclamp``;
* multi-scalar multiplication of n terms, n = 64 … 10,000: compiled Pippenger (Straus
  below its threshold) | n PyNaCl multiplications and n - 1 additions (today's path).

* whole ballots (``--ballots N``, default 100): ``check_ballot`` one ballot at a time on
  ``ed25519`` (today's default) and on ``ristretto255``, and ``check_ballots`` on
  ``ristretto255`` (all N ballots' proofs in one ``MultiRangeBatch``), µs per ballot.

All rows are timed in ``--repeat`` interleaved rounds; each cell gives the minimum and the
median over the rounds. Times are CPU time of this process (``time.process_time``): the
code is single-threaded, so on an idle machine it equals wall time, and on a shared one it
leaves out the time other processes hold the core. Inputs are random and generated before
timing. Markdown goes to standard output, progress to standard error.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from common import cpu_model
from nacl._sodium import ffi, lib

from verivote._native import get_backend, native_available
from verivote._native import python as pyback
from verivote.demo import SimulatedElection
from verivote.election.ballot import check_ballot
from verivote.election.ballot_batch import check_ballots
from verivote.groups import get_group

L = 2**252 + 27742317777372353535851937790883648493


def timed(fn: Callable[[], object], calls: int) -> float:
    start = time.process_time()
    fn()
    return (time.process_time() - start) / calls * 1e6


def ballots(group: str, n: int) -> tuple[Any, Any, bytes, list[Any]]:
    """n ballots of the demo election (one vote each in its first contest)."""
    sim = SimulatedElection(n, group, seed=3)
    sim.run_ceremony()
    sim.publish_roll()
    m = sim.manifest
    c = m.contests[0]
    bodies = [
        sim.prepare(v, {c.id: [c.candidates[v % len(c.candidates)].id]}).body for v in range(n)
    ]
    return m, sim.joint_key, m.ballot_context(sim.joint_key), bodies


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--ballots", type=int, default=100)
    args = ap.parse_args()
    if not native_available():
        print("the compiled backend is not built", file=sys.stderr)
        return 1
    repeat = 3 if args.quick else args.repeat
    sizes = [64, 256, 1024] if args.quick else [64, 256, 1024, 4096, 10000]
    native = get_backend("native")
    group = get_group("ristretto255")
    nmax = max(sizes)
    points = [native.from_uniform(secrets.token_bytes(64)) for _ in range(nmax)]
    scalars = [secrets.randbelow(L) for _ in range(nmax)]
    ed_points = []
    for _ in range(256):
        out = ffi.new("unsigned char[32]")
        lib.crypto_core_ed25519_from_uniform(out, secrets.token_bytes(32))
        ed_points.append(bytes(ffi.buffer(out)))
    ed_scalars = [k.to_bytes(32, "little") for k in scalars[:256]]
    elements = [group.decode_element(p) for p in points[:256]]
    k = 256

    def loop(fn: Callable[[int], object]) -> Callable[[], object]:
        return lambda: [fn(i) for i in range(k)]

    out = ffi.new("unsigned char[32]")
    out2 = ffi.new("unsigned char[32]")

    def naive(n: int) -> Callable[[], object]:
        def run() -> None:
            lib.crypto_scalarmult_ed25519_noclamp(out, ed_scalars[0], ed_points[0])
            for i in range(1, n):
                lib.crypto_scalarmult_ed25519_noclamp(out2, ed_scalars[i % 256], ed_points[i % 256])
                lib.crypto_core_ed25519_add(out, out, out2)

        return run

    rows: dict[str, tuple[Callable[[], object], int]] = {
        "decode: compiled ristretto255": (loop(lambda i: native.is_valid(points[i])), k),
        "decode: pure-Python ristretto255": (loop(lambda i: pyback.decode(points[i])), k),
        "decode: PyNaCl ed25519 is_valid_point": (
            loop(lambda i: lib.crypto_core_ed25519_is_valid_point(ed_points[i])),
            k,
        ),
        "variable-base mult: compiled": (
            loop(lambda i: native.scalarmult(scalars[i], points[i])),
            k,
        ),
        "variable-base mult: ristretto255 group ** (libsodium ladder)": (
            loop(lambda i: elements[i] ** scalars[i]),
            k,
        ),
        "variable-base mult: PyNaCl ed25519 noclamp": (
            loop(lambda i: lib.crypto_scalarmult_ed25519_noclamp(out, ed_scalars[i], ed_points[i])),
            k,
        ),
    }
    for n in sizes:
        rows[f"MSM per term, n = {n}: compiled"] = (
            lambda n=n: native.msm(scalars[:n], points[:n]),
            n,
        )
        rows[f"MSM per term, n = {n}: PyNaCl mult + add per term"] = (naive(n), n)
    nb = 20 if args.quick else args.ballots
    for gname in ("ed25519", "ristretto255"):
        print(f"preparing {nb} {gname} ballots", file=sys.stderr)
        m, key, ctx, bodies = ballots(gname, nb)
        rows[f"ballot check, {gname}: check_ballot one at a time"] = (
            lambda m=m, key=key, ctx=ctx, bodies=bodies: [
                check_ballot(m, key, ctx, b) for b in bodies
            ],
            nb,
        )
        if gname == "ristretto255":
            rows[f"ballot check, {gname}: check_ballots, {nb} in one batch"] = (
                lambda m=m, key=key, ctx=ctx, bodies=bodies: check_ballots(m, key, ctx, bodies),
                nb,
            )
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for r in range(repeat):
        print(f"round {r + 1}/{repeat}", file=sys.stderr)
        for name, (fn, calls) in rows.items():
            samples[name].append(timed(fn, calls))
    print(
        f"ristretto255 backend, {platform.python_version()}, {cpu_model()}, "
        f"{repeat} interleaved rounds\n"
    )
    print("| operation | min µs | median µs |")
    print("| --- | ---: | ---: |")
    for name, values in samples.items():
        print(f"| {name} | {min(values):.2f} | {statistics.median(values):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
