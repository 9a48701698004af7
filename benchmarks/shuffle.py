"""Shuffle benchmark: mixing, proving and checking a re-encryption mix, per ciphertext.

    python benchmarks/shuffle.py            # ed25519 N = 100 and 1,000, modp4096 N = 50
    python benchmarks/shuffle.py --quick    # smoke test: small N, 2 rounds
    python benchmarks/shuffle.py --repeat 7 --modp-n 100

For each case (group, N rows, w ciphertexts per row) it times, in interleaved rounds
(every case's mix, proof and check in one round, then the next round): the mix
(re-encryption and permutation, ``_mix``), ``prove_shuffle``, ``check_shuffle`` and the
strict decoding of the output rows and the proof from their JSON forms; and, once
per case, the derivation of the ``N + 1`` commitment generators (cached afterwards, as a
verifier of ``k`` mixes of one election would). Figures are milliseconds per ciphertext
(the time divided by ``N·w``), minimum and median over the rounds.

It also counts exponentiations per ciphertext by instrumenting the group: an
exponentiation of the generator ``g`` or, on modp4096, of a base with a fixed-base table
(the public key; the generator ``h`` for N >= 20) ("fixed"), of any other base, and the
terms of products of powers (multi-exponentiations; on ed25519 each term is a scalar
multiplication, on modp4096 a bucket multi-exponentiation shares the work).

Last, decryption proofs of mixed ciphertexts (two trustees' shares): checked one by one
and as one DecryptionBatch, ms per proof.

It prints Markdown on standard output (progress on standard error).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gmpy2
import nacl

from verivote import elgamal
from verivote.groups import get_group
from verivote.groups.base import Group
from verivote.proofs import shuffle as sh
from verivote.proofs import shuffle_decryption as sd
from verivote.proofs import shuffle_statement as statement

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import code_version, cpu_model

CONTEXT = b"verivote/bench/shuffle"
# Published figures, per ciphertext (ANCHORS.md): egk's mix-net at 10,000 ciphertexts.
EGK = {"mix": 1.6, "prove": 4.8, "verify": 9.5}


@dataclass
class Case:
    group: Group
    n: int
    width: int
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    generators_s: float = 0.0
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.group.name}, N = {self.n:,}, w = {self.width}"


class Counter:
    """Counts exponentiations on one group instance: fixed base (``g``, or a base with a
    modp4096 fixed-base table), other bases, and terms of products of powers."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.fixed = self.variable = self.terms = 0
        self.depth = 0

    def __enter__(self) -> Counter:
        group = self.group
        pow_, multi = group._pow, group._multi_pow
        g = group._generator()

        tables = getattr(group, "_tables", {})

        def counted_pow(a: Any, k: int) -> Any:
            if not self.depth:
                if a == g or a in tables:
                    self.fixed += 1
                else:
                    self.variable += 1
            return pow_(a, k)

        def counted_multi(values: list[Any], exponents: list[int]) -> Any:
            self.terms += len(values)
            self.depth += 1
            try:
                return multi(values, exponents)
            finally:
                self.depth -= 1

        group._pow = counted_pow  # type: ignore[method-assign]
        group._multi_pow = counted_multi  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.group._pow, self.group._multi_pow  # back to the class methods


def setup(case: Case) -> None:
    group = case.group
    keypair = elgamal.KeyPair.generate(group)
    group.precompute(keypair.public)
    rows = [
        tuple(elgamal.encrypt(keypair.public, (i + k) % 5)[0] for k in range(case.width))
        for i in range(case.n)
    ]
    statement._GENERATOR_CACHE.clear()
    start = time.perf_counter()
    sh.shuffle_generators(group, CONTEXT, case.n)
    case.generators_s = time.perf_counter() - start
    case.state = {"pk": keypair.public, "rows": rows}


def one_round(case: Case, count: bool = False) -> None:
    pk, rows = case.state["pk"], case.state["rows"]
    group = case.group
    per = case.n * case.width
    permutation = sh._random_permutation(case.n)
    nonces = tuple(tuple(group.random_scalar() for _ in range(case.width)) for _ in rows)
    secret = sh.ShuffleSecret(permutation, nonces)
    outputs: list[Any] = []
    proof: list[Any] = []

    def mix() -> None:
        outputs.append(sh._mix(pk, rows, secret))

    def prove() -> None:
        proof.append(sh.prove_shuffle(pk, rows, outputs[0], secret, CONTEXT))

    def verify() -> None:
        sh.check_shuffle(pk, rows, outputs[0], proof[0], CONTEXT)

    def decode() -> None:
        # What a verifier does first with a mix from the record: the output rows and the
        # proof from JSON, every element validated (the inputs are the previous outputs).
        obj = [[ct.to_dict() for ct in row] for row in outputs[0]]
        sh.decode_rows(group, obj, case.n, case.width)
        sh.ShuffleProof.from_dict(group, proof[0].to_dict(), case.n, case.width)

    steps: list[tuple[str, Callable[[], None]]] = [
        ("mix", mix),
        ("prove", prove),
        ("verify", verify),
        ("decode", decode),
    ]
    for name, fn in steps:
        if count:
            with Counter(group) as counter:
                fn()
            case.counts[name] = (
                counter.fixed / per,
                counter.variable / per,
                counter.terms / per,
            )
        else:
            start, cpu = time.perf_counter(), time.process_time()
            fn()
            wall = (time.perf_counter() - start) * 1000 / per
            case.times.setdefault(name, []).append(wall)
            case.cpu.setdefault(name, []).append((time.process_time() - cpu) * 1000 / per)


def decryption_round(group: Group, items: list[Any], times: dict[str, list[float]]) -> None:
    for batch in (False, True):
        start = time.process_time()
        sd.check_decryptions(items, batch=batch)
        elapsed = (time.process_time() - start) * 1000 / len(items)
        times.setdefault(f"{group.name} {'batch' if batch else 'one by one'}", []).append(elapsed)


def decryption_items(group: Group, count: int) -> list[Any]:
    alphas = [group.generator ** group.random_scalar() for _ in range(count)]
    items = []
    for _ in range(2):
        x = group.random_nonzero_scalar()
        for i, alpha in enumerate(alphas):
            context = CONTEXT + i.to_bytes(4, "big")
            share, proof = sd.prove_decryption(x, alpha, context)
            items.append((group.generator**x, alpha, share, proof, context))
    return items


def fmt(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N, 2 rounds")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--modp-n", type=int, default=50, help="rows for modp4096")
    args = parser.parse_args(argv)
    ed, mp = get_group("ed25519"), get_group("modp4096")
    if args.quick:
        cases = [Case(ed, 20, 1), Case(ed, 10, 3), Case(mp, 4, 1)]
        repeat, dec_counts = 2, {"ed25519": 10, "modp4096": 4}
    else:
        cases = [
            Case(ed, 100, 1),
            Case(ed, 1000, 1),
            Case(ed, 100, 3),
            Case(mp, args.modp_n, 1),
        ]
        repeat, dec_counts = args.repeat, {"ed25519": 100, "modp4096": 25}
    for case in cases:
        print(f"set-up {case.label}", file=sys.stderr)
        setup(case)
        one_round(case, count=True)
    dec_items = {name: decryption_items(get_group(name), c) for name, c in dec_counts.items()}
    dec_times: dict[str, list[float]] = {}
    load_before = os.getloadavg()[0]
    for r in range(repeat):
        print(f"round {r + 1}/{repeat}", file=sys.stderr)
        for case in cases:
            one_round(case)
        for name, items in dec_items.items():
            decryption_round(get_group(name), items, dec_times)
    load_after = os.getloadavg()[0]

    print("## Shuffle: ms per ciphertext, CPU time (min / median), wall median\n")
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; code {code_version()}")
    print(
        f"- Python {platform.python_version()}, PyNaCl {nacl.__version__}, "
        f"gmpy2 {gmpy2.version()} ({gmpy2.mp_version()}); {repeat} interleaved rounds"
    )
    print(f"- 1-minute load average: {load_before:.2f} at the start, {load_after:.2f} at the end\n")
    print(
        "| case | mix | prove | verify | decode outputs and proof | generators, once per "
        "context (wall) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for case in cases:
        c, t = case.cpu, case.times
        gens = case.generators_s * 1000 / (case.n * case.width)
        cells = [
            f"{fmt(c[name])} ({statistics.median(t[name]):.3f})"
            for name in ("mix", "prove", "verify", "decode")
        ]
        print(f"| {case.label} | {' | '.join(cells)} | {gens:.3f} |")
    print(
        f"| egk (published, 10,000 ciphertexts) | {EGK['mix']} | {EGK['prove']} "
        f"| {EGK['verify']} | | |\n"
    )
    print(
        "Exponentiations per ciphertext (fixed base g + other bases + product-of-powers terms):\n"
    )
    print("| case | mix | prove | verify | decode |")
    print("|---|---:|---:|---:|---:|")
    for case in cases:
        cells = []
        for name in ("mix", "prove", "verify", "decode"):
            fixed, variable, terms = case.counts[name]
            cells.append(
                f"{fixed:.2f} + {variable:.2f} + {terms:.2f} = {fixed + variable + terms:.2f}"
            )
        print(f"| {case.label} | {' | '.join(cells)} |")
    print("| Belenios (published, w = 1) | 2 | about 8 | about 9 | |\n")
    print("## Decryption proofs of mixed ciphertexts: ms of CPU per proof (min / median)\n")
    print("| group, proofs | one by one | DecryptionBatch |")
    print("|---|---:|---:|")
    for name, items in dec_items.items():
        print(
            f"| {name}, {len(items)} | {fmt(dec_times[f'{name} one by one'])} "
            f"| {fmt(dec_times[f'{name} batch'])} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
