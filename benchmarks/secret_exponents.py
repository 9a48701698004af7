#!/usr/bin/env python
"""What constant-time exponentiation for secret exponents costs, in both groups.

Usage::

    python benchmarks/secret_exponents.py            # 9 interleaved rounds, about a minute
    python benchmarks/secret_exponents.py --rounds 3 # a smoke test

For each group, rows in pairs: the same exponentiation with a public exponent (a
:class:`~verivote.groups.base.Scalar`: the fixed-base table where the base has one,
``gmpy2.powmod`` otherwise) and with a secret one (a
:class:`~verivote.groups.base.SecretScalar`: ``gmpy2.powmod_sec`` in the 4096-bit group,
libsodium's scalar multiplication in edwards25519, which is constant-time either way); then
the provers that now take the constant-time path. Each figure is the mean time per call of
one timed run; the rounds are interleaved and the table gives their minimum and median, in
microseconds. Output is Markdown.
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import statistics
import time
from collections.abc import Callable

from verivote.elgamal import Ciphertext, KeyPair, encrypt_with_nonce
from verivote.groups import GROUP_NAMES, Group, get_group
from verivote.proofs.range import prove_range
from verivote.proofs.schnorr import prove_schnorr

POOL = 16


def rows(group: Group) -> list[tuple[str, Callable[[], object], int]]:
    """(name, operation, calls per timed run) for ``group``."""
    g = group.generator
    pair = KeyPair.generate(group)
    h = pair.public
    group.precompute(h)
    values = [secrets.randbelow(group.order) for _ in range(POOL)]
    public = itertools.cycle([group.scalar(v) for v in values])
    secret = itertools.cycle([group.secret_scalar(v) for v in values])
    bases = itertools.cycle([g ** group.scalar(v + 1) for v in values])
    nonce = group.random_scalar()
    public_nonce = group.scalar(nonce.value)
    ct = encrypt_with_nonce(h, 1, nonce)
    many = 200 if group.name == "ed25519" else 40
    return [
        ("g^k, public k (fixed-base table)", lambda: g ** public.__next__(), many),
        ("g^k, secret k (constant-time)", lambda: g ** secret.__next__(), many),
        ("h^k, public k (fixed-base table)", lambda: h ** public.__next__(), many),
        ("h^k, secret k (constant-time)", lambda: h ** secret.__next__(), many),
        ("x^k, variable base, public k", lambda: bases.__next__() ** public.__next__(), many),
        ("x^k, variable base, secret k", lambda: bases.__next__() ** secret.__next__(), many),
        (
            "encrypt one selection, public-exponent path (as before: tables)",
            lambda: Ciphertext(g**public_nonce, g ** group.scalar(1) * h**public_nonce),
            many // 4,
        ),
        (
            "encrypt one selection (3 secret exponentiations)",
            lambda: encrypt_with_nonce(h, 1, nonce),
            many // 4,
        ),
        ("Schnorr proof (prover)", lambda: prove_schnorr(pair.secret, h, b"bench"), many // 2),
        ("0/1 range proof (prover)", lambda: prove_range(h, ct, 1, nonce, 1, b"bench"), many // 8),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    table = [(name, *row) for name in GROUP_NAMES for row in rows(get_group(name))]
    times: dict[tuple[str, str], list[float]] = {(t[0], t[1]): [] for t in table}
    for _ in range(args.rounds):
        for group_name, row, fn, calls in table:
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times[(group_name, row)].append((time.perf_counter() - start) / calls * 1e6)
    print("| group | operation | min µs | median µs |")
    print("|---|---|---:|---:|")
    for (group_name, row), got in times.items():
        print(f"| {group_name} | {row} | {min(got):,.0f} | {statistics.median(got):,.0f} |")


if __name__ == "__main__":
    main()
