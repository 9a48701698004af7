"""Regenerate tests/vectors/ristretto255.json: known answers for ristretto255's device path.

    python tests/vectors/generate_ristretto.py          # rewrite ristretto255.json
    python tests/vectors/generate_ristretto.py --check  # exit 1 if it would change

Every point in the file is computed twice: by verivote's constant-time device path
(``Group.secret_product``, libsodium's edwards25519 code and the conversion to
ristretto255 encodings) and by libsodium's own ristretto255 functions (the ``rbcl``
wheel, tests/ristretto_oracle.py), an independent implementation; the script refuses to
write a value on which they differ. Scalars include the edge cases 0, 1 and L − 1.

Contents: ``encryptions`` — ``Enc(h, m; r) = (g^r, g^m·h^r)`` with ``h = g^x``;
``products`` — ``Π (g^(b_i))^(k_i)`` for bases given by their discrete logarithms;
``range_proof`` — the check-value range proof of docs/crypto.md §10 (``L = 1``,
``h = g^5``, ``Enc(h, 1; 3)``, simulated pairs (13, 17), (19, 23), ``w = 29``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import ristretto_oracle as oracle  # noqa: E402

from verivote import elgamal  # noqa: E402
from verivote.groups import get_group  # noqa: E402
from verivote.groups.ristretto255 import BASE, L  # noqa: E402
from verivote.proofs import range as range_proof  # noqa: E402

EDGES = (0, 1, 2, L - 1)
ENCRYPTIONS = [(x, m, r) for x in (5, L - 1) for m in (0, 1, 7) for r in EDGES]
PRODUCTS = [
    ([1], [0]),
    ([1], [L - 1]),
    ([1, 3], [L - 1, 1]),
    ([2, 7, 11], [0, 1, L - 1]),
    ([5, 5], [1, L - 1]),  # the identity
    ([9, 4, 4, 6], [123456789, 2**200 + 3, L - 2, 1]),
]
CHECK_VALUE_RANGE = {"x": 5, "m": 1, "r": 3, "sims": [[13, 17], [19, 23]], "w": 29}


def o_mul(k: int) -> bytes:
    """k·B by the oracle."""
    point = oracle.scalarmult(k % L, BASE)
    assert point is not None
    return point


def o_sum(points: list[bytes]) -> bytes:
    acc = oracle.IDENTITY
    for p in points:
        total = oracle.add(acc, p)
        assert total is not None
        acc = total
    return acc


def encryption(x: int, m: int, r: int) -> dict[str, Any]:
    group = get_group("ristretto255")
    h = group.generator ** group.scalar(x)
    ct = elgamal.encrypt_with_nonce(h, m, group.secret_scalar(r))
    want = (o_mul(r), o_sum([o_mul(m), o_mul(x * r)]))
    assert (ct.alpha.to_bytes(), ct.beta.to_bytes()) == want, (x, m, r)
    return {"x": x, "m": m, "r": r, "alpha": want[0].hex(), "beta": want[1].hex()}


def product(logs: list[int], exponents: list[int]) -> dict[str, Any]:
    group = get_group("ristretto255")
    bases = [group.generator ** group.scalar(b) for b in logs]
    got = group.secret_product(bases, exponents).to_bytes()
    want = o_sum([o_mul(b * k) for b, k in zip(logs, exponents, strict=True)])
    assert got == want, (logs, exponents)
    return {"logs": logs, "exponents": exponents, "product": want.hex()}


def range_check_value() -> dict[str, Any]:
    v = CHECK_VALUE_RANGE
    group = get_group("ristretto255")
    s = group.scalar
    h = group.generator ** s(v["x"])
    ct = elgamal.encrypt_with_nonce(h, v["m"], s(v["r"]))
    sims = [(s(c), s(k)) for c, k in v["sims"]]
    proof = range_proof._prove_range(h, ct, v["m"], s(v["r"]), 1, CONTEXT, s(v["w"]), sims)
    return {**v, "context": CONTEXT.decode(), "proof": proof.to_dict()}


CONTEXT = b"verivote check values"


def build() -> dict[str, Any]:
    return {
        "description": "ristretto255 device-path known answers, each point agreed by "
        "verivote and libsodium's ristretto255; see tests/vectors/generate_ristretto.py",
        "oracle": f"libsodium {oracle.VERSION} (rbcl)",
        "encryptions": [encryption(*case) for case in ENCRYPTIONS],
        "products": [product(*case) for case in PRODUCTS],
        "range_proof": range_check_value(),
    }


def render(content: Any) -> str:
    return json.dumps(content, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def main(argv: list[str]) -> int:
    path = HERE / "ristretto255.json"
    text = render(build())
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print("stale: ristretto255.json")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
