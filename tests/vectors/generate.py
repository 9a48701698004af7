"""Regenerate the known-answer vectors in this directory.

    python tests/vectors/generate.py          # rewrite the JSON files
    python tests/vectors/generate.py --check  # exit 1 if any file would change

Everything is deterministic: every secret, nonce and simulation value is
``hash_to_scalar(b"verivote/test-vectors", label)`` for a fixed label, and proofs are made
with the private ``_prove_*`` twins that take their randomness as arguments. The tests
compare the library's output now with the bytes checked in here, so any change to an
encoding, a hash or a transcript shows up as a failing known-answer test; regenerate only
when such a change is intended (and say so in the commit).

The accept / reject verdicts for element encodings are *not* taken from the library: they
come from the small reference implementations below (RFC 8032 decoding and a pure-Python
edwards25519; plain ``pow`` for the MODP group), so the tests check the library against an
independent statement of the rules.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from verivote import elgamal
from verivote.encoding import encode_uint, frame, frame_all
from verivote.groups import GROUP_NAMES, get_group
from verivote.groups import modp4096 as modp
from verivote.groups.base import Group, Scalar
from verivote.proofs import chaum_pedersen, schnorr
from verivote.proofs import range as range_proof
from verivote.proofs.transcript import Transcript, group_digest

HERE = Path(__file__).resolve().parent
LABEL = b"verivote/test-vectors"


# --- a pure-Python edwards25519 (RFC 8032 §5.1), for verdicts only --------------------------
P25519 = 2**255 - 19
L25519 = 2**252 + 27742317777372353535851937790883648493
D25519 = -121665 * pow(121666, -1, P25519) % P25519
SQRT_M1 = pow(2, (P25519 - 1) // 4, P25519)
ORIGIN = (0, 1)


def ed_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    p = P25519
    t = D25519 * x1 * x2 * y1 * y2 % p
    return (
        (x1 * y2 + x2 * y1) * pow(1 + t, -1, p) % p,
        (y1 * y2 + x1 * x2) * pow(1 - t, -1, p) % p,
    )


def ed_mul(k: int, point: tuple[int, int]) -> tuple[int, int]:
    result = ORIGIN
    while k:
        if k & 1:
            result = ed_add(result, point)
        point = ed_add(point, point)
        k >>= 1
    return result


def ed_recover_x(y: int, sign: int) -> int | None:
    """RFC 8032 §5.1.3 steps 1-4, strict: y must be reduced, and x = 0 with sign 1 is
    rejected."""
    p = P25519
    if y >= p:
        return None
    x2 = (y * y - 1) * pow(D25519 * y * y + 1, -1, p) % p
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p:
        x = x * SQRT_M1 % p
    if (x * x - x2) % p:
        return None
    return x if x & 1 == sign else p - x


def ed_decode(data: bytes) -> tuple[int, int] | None:
    if len(data) != 32:
        return None
    n = int.from_bytes(data, "little")
    y = n & ((1 << 255) - 1)
    x = ed_recover_x(y, n >> 255)
    return None if x is None else (x, y)


def ed_encode(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def ed_verdict(data: bytes) -> bool:
    """Accept iff canonical, on the curve, and of order dividing L (the identity included)."""
    point = ed_decode(data)
    return point is not None and ed_mul(L25519, point) == ORIGIN


def ed_raw(y: int, sign: int = 0) -> bytes:
    """Bytes with the given (possibly unreduced) y field and sign bit."""
    return (y | sign << 255).to_bytes(32, "little")


def ed_torsion() -> list[tuple[int, int]]:
    """The 8 points of order dividing 8, as k·T for a point T of order 8."""
    y = 2
    while True:
        x = ed_recover_x(y, 0)
        if x is not None:
            t = ed_mul(L25519, (x, y))  # kills the prime-order part
            if ed_mul(4, t) != ORIGIN:
                return [ed_mul(k, t) for k in range(8)]
        y += 1


def rist_verdict(data: bytes) -> bool:
    """RFC 9496 §4.3.1 DECODE, written out again with Python integers: accept iff s is
    canonical (s < p, bit 255 clear) and non-negative, the square root exists, x·y is
    non-negative and y != 0."""
    p = P25519
    if len(data) != 32:
        return False
    s = int.from_bytes(data, "little")
    if s >= p or s & 1:
        return False
    u1, u2 = (1 - s * s) % p, (1 + s * s) % p
    v = (-D25519 * u1 * u1 - u2 * u2) % p
    w = v * u2 * u2 % p
    if w == 0:
        return False  # SQRT_RATIO_M1(1, 0) reports a non-square
    z = pow(w, p - 2, p)  # 1/w; its square root, made non-negative, is RFC 9496's invsqrt
    inv = pow(z, (p + 3) // 8, p)
    if inv * inv % p != z:
        inv = inv * SQRT_M1 % p
    if inv * inv % p != z:
        return False
    inv = inv if inv % 2 == 0 else p - inv
    den_x = inv * u2 % p
    x = 2 * s * den_x % p
    x = x if x % 2 == 0 else p - x
    y = u1 * inv * den_x * v % p
    return (x * y % p) % 2 == 0 and y != 0


def modp_verdict(data: bytes) -> bool:
    if len(data) != 512:
        return False
    x = int.from_bytes(data, "big")
    return 0 < x < modp.P and pow(x, modp.Q, modp.P) == 1


# --- helpers ----------------------------------------------------------------------------
def sc(group: Group, label: str) -> Scalar:
    return group.hash_to_scalar(LABEL, label.encode())


# --- encoding.json ----------------------------------------------------------------------
def encoding_vectors() -> dict[str, Any]:
    frames = [[], [b""], [b"", b""], [b"a"], [b"ab", b"c"], [b"a", b"bc"], [bytes(range(5))]]
    valid_json: list[tuple[str, bytes, Any]] = [
        ("empty object", b"{}", {}),
        ("empty list", b"[]", []),
        (
            "sorted keys, no spaces",
            b'{"a":1,"b":[true,false,null]}',
            {"a": 1, "b": [True, False, None]},
        ),
        ("keys sort by code point", b'{"B":1,"a":2}', {"B": 1, "a": 2}),
        ("nested objects", b'{"a":{"b":{"c":"d"}}}', {"a": {"b": {"c": "d"}}}),
        ("negative integer", b"-1", -1),
        ("zero", b"0", 0),
        ("large integer", b"123456789012345678901234567890", 123456789012345678901234567890),
        ("raw non-ASCII UTF-8", '"é"'.encode(), "é"),
        ("raw non-BMP UTF-8", '"😀"'.encode(), "😀"),
        ("control character escaped", b'"\\u0001"', "\u0001"),
        ("short escapes", b'"\\"\\\\\\n\\t"', '"\\\n\t'),
        ("string", b'"abc"', "abc"),
    ]
    invalid_json: list[tuple[str, bytes]] = [
        ("space after colon", b'{"a": 1}'),
        ("space after comma", b"[1, 2]"),
        ("leading space", b" {}"),
        ("trailing newline", b"{}\n"),
        ("unsorted keys", b'{"b":1,"a":2}'),
        ("duplicate keys", b'{"a":1,"a":1}'),
        ("duplicate keys, nested", b'{"x":{"a":1,"a":2}}'),
        ("float", b"1.0"),
        ("float with exponent", b"1e3"),
        ("float in a list", b"[0.5]"),
        ("negative zero", b"-0"),
        ("leading zero", b"01"),
        ("NaN", b"NaN"),
        ("Infinity", b"Infinity"),
        ("-Infinity", b"-Infinity"),
        ("integer beyond Python's digit limit", b"9" * 5000),
        ("invalid UTF-8 byte", b'"\xff"'),
        ("overlong UTF-8 for /", b'"\xc0\xaf"'),
        ("UTF-8 encoded surrogate", b'"\xed\xa0\x80"'),
        ("lone surrogate escape", b'"\\ud800"'),
        ("escaped surrogate pair for a raw character", b'"\\ud83d\\ude00"'),
        ("unnecessary escape of ASCII", b'"\\u0041"'),
        ("unnecessary escape of non-ASCII", b'"\\u00e9"'),
        ("escaped slash", b'"\\/"'),
        ("raw control character", b'"\x01"'),
        ("byte order mark", b"\xef\xbb\xbf{}"),
        ("unterminated object", b"{"),
        ("trailing comma", b"[1,]"),
        ("single quotes", b"'a'"),
        ("two documents", b"{}{}"),
        ("empty input", b""),
        ("garbage", b"\x00\x01\x02"),
        ("bare word", b"nul"),
        ("non-string key", b"{1:2}"),
    ]
    uints = [(0, 1), (255, 1), (256, 2), (1, 4), (2**64 - 1, 8)]
    bad_uints = [(-1, 4), (256, 1), (2**32, 4)]
    return {
        "frame": [
            {"parts": [p.hex() for p in parts], "framed": frame(*parts).hex()} for parts in frames
        ],
        "frame_all": [
            {"parts": [p.hex() for p in parts], "framed": frame_all(parts).hex()}
            for parts in frames
        ],
        "uint": [
            {"value": v, "length": n, "result": "valid", "encoded": encode_uint(v, n).hex()}
            for v, n in uints
        ]
        + [{"value": v, "length": n, "result": "invalid"} for v, n in bad_uints],
        "json": [
            {"comment": c, "input": data.hex(), "result": "valid", "value": value}
            for c, data, value in valid_json
        ]
        + [{"comment": c, "input": data.hex(), "result": "invalid"} for c, data in invalid_json],
    }


# --- groups.json ------------------------------------------------------------------------
def element_cases(group: Group) -> list[dict[str, Any]]:
    cases: list[tuple[str, bytes]] = []
    gen = group.generator
    for i in (1, 2, 3):
        cases.append((f"g^k for k = scalar 'element-{i}'", bytes(gen ** sc(group, f"element-{i}"))))
    cases.append(("inverse of a valid element", bytes((gen ** sc(group, "element-1")).inverse())))
    cases.append(("generator", bytes(gen)))
    cases.append(("identity", bytes(group.identity)))
    size = group.element_size
    cases += [
        ("empty", b""),
        ("one byte short", bytes(gen)[:-1]),
        ("one byte long", bytes(gen) + b"\x00"),
        ("twice the length", bytes(gen) * 2),
    ]
    if group.name == "ed25519":
        p = P25519
        torsion = ed_torsion()
        for point in torsion:
            order = next(n for n in (1, 2, 4, 8) if ed_mul(n, point) == ORIGIN)
            cases.append((f"torsion point of order {order} (canonical)", ed_encode(point)))
        base = ed_decode(bytes(gen))
        assert base is not None
        t8 = next(t for t in torsion if ed_mul(4, t) != ORIGIN)
        t2 = next(t for t in torsion if t != ORIGIN and ed_mul(2, t) == ORIGIN)
        cases.append(("base point + torsion point of order 8", ed_encode(ed_add(base, t8))))
        cases.append(("base point + torsion point of order 2", ed_encode(ed_add(base, t2))))
        cases += [
            ("identity with the sign bit set (x = 0, sign 1)", ed_raw(1, 1)),
            ("identity with y = p + 1 (unreduced)", ed_raw(p + 1)),
            ("y = p (unreduced 0)", ed_raw(p)),
            ("y = 2^255 - 1 (ff..ff7f)", ed_raw(2**255 - 1)),
            ("all ones (y = 2^255 - 1, sign 1)", b"\xff" * 32),
            ("order-2 point with the sign bit set", ed_raw(p - 1, 1)),
            ("y = p + 3 (unreduced, on the curve)", ed_raw(p + 3)),
            ("y = 2: not on the curve", ed_raw(2)),
        ]
        verdict = ed_verdict
    elif group.name == "ristretto255":
        p = P25519
        cases += [
            ("s = p (non-canonical zero)", p.to_bytes(32, "little")),
            ("s = p + 2 (non-canonical 2)", (p + 2).to_bytes(32, "little")),
            ("bit 255 set on the generator", bytes(gen)[:31] + bytes([bytes(gen)[31] | 0x80])),
            ("bit 255 set on the identity", bytes(31) + b"\x80"),
            ("s = 1 (negative)", (1).to_bytes(32, "little")),
            ("s = -1 = p - 1 (y = 0)", (p - 1).to_bytes(32, "little")),
            ("the ed25519 base point's encoding", bytes.fromhex("58" + "66" * 31)),
            ("all ones", b"\xff" * 32),
        ] + [
            (f"RFC 9496 A.2 bad encoding ({why})", bytes.fromhex(h))
            for why, h in (
                ("non-canonical", "f3" + "ff" * 30 + "7f"),
                ("negative", "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20"),
                (
                    "non-square x^2",
                    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
                ),
                ("negative xy", "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e"),
            )
        ]
        verdict = rist_verdict
    else:
        P = modp.P
        cases += [
            ("zero", encode_uint(0, size)),
            ("one (identity)", encode_uint(1, size)),
            ("two: not in the order-q subgroup", encode_uint(2, size)),
            ("p - 1: order 2", encode_uint(P - 1, size)),
            ("p - g: order 2q", encode_uint(P - modp.G, size)),
            ("3^(2q): in the order-r' subgroup", encode_uint(pow(3, 2 * modp.Q, P), size)),
            ("p: out of range", encode_uint(P, size)),
            ("p + 1: out of range, congruent to the identity", encode_uint(P + 1, size)),
            ("2^4096 - 1", b"\xff" * size),
        ]
        verdict = modp_verdict
    return [
        {
            "tcId": i,
            "comment": c,
            "encoded": data.hex(),
            "result": "valid" if verdict(data) else "invalid",
        }
        for i, (c, data) in enumerate(cases, 1)
    ]


def scalar_cases(group: Group) -> list[dict[str, Any]]:
    q = group.order
    n = group.scalar_size
    values = [(0, "zero"), (1, "one"), (q - 1, "q - 1"), (2**248, "2^248")]
    values.append((int(sc(group, "scalar-1")), "hash_to_scalar('scalar-1')"))
    out: list[dict[str, Any]] = [
        {
            "comment": c,
            "encoded": v.to_bytes(n, "big").hex(),
            "result": "valid",
            "value": format(v, "x"),
        }
        for v, c in values
    ]
    bad = [
        (q.to_bytes(n, "big"), "q"),
        ((q + 1).to_bytes(n, "big"), "q + 1"),
        (b"\xff" * n, "2^256 - 1"),
        (b"", "empty"),
        (bytes(n - 1), "one byte short"),
        (bytes(n + 1), "one byte long"),
        (bytes(64), "64 bytes"),
    ]
    out += [{"comment": c, "encoded": d.hex(), "result": "invalid"} for d, c in bad]
    for i, case in enumerate(out, 1):
        case["tcId"] = i
    return out


def group_vectors(group: Group) -> dict[str, Any]:
    gen = group.generator
    h2s = [
        (b"", []),
        (b"domain", []),
        (b"domain", [b""]),
        (b"domain", [b"a", b"b"]),
        (b"domain", [b"ab"]),
    ]
    h2e = [
        (b"", []),
        (b"verivote/h", []),
        (b"verivote/h", [b"trustee", b"\x01"]),
        (b"verivote/h", [b"ab"]),
    ]
    exps = ["exp-1", "exp-2"]
    return {
        "order": format(group.order, "x"),
        "element_size": group.element_size,
        "scalar_size": group.scalar_size,
        "generator": gen.hex(),
        "identity": group.identity.hex(),
        "description_sha512": hashlib.sha512(group.description()).hexdigest(),
        "hash_to_scalar": [
            {
                "domain": d.hex(),
                "parts": [p.hex() for p in ps],
                "scalar": group.hash_to_scalar(d, *ps).hex(),
            }
            for d, ps in h2s
        ],
        "hash_to_element": [
            {
                "domain": d.hex(),
                "parts": [p.hex() for p in ps],
                "element": group.hash_to_element(d, *ps).hex(),
            }
            for d, ps in h2e
        ],
        "pow": [
            {"base": b.hex(), "scalar": sc(group, e).hex(), "element": (b ** sc(group, e)).hex()}
            for e in exps
            for b in (gen, group.hash_to_element(b"verivote/h"))
        ],
        "elements": element_cases(group),
        "scalars": scalar_cases(group),
    }


# --- elgamal.json -----------------------------------------------------------------------
def elgamal_vectors(group: Group) -> dict[str, Any]:
    secret = sc(group, "elgamal-secret")
    public = group.generator**secret
    cases = []
    for i, m in enumerate([0, 1, 2, 1000]):
        nonce = sc(group, f"elgamal-nonce-{i}")
        ct = elgamal.encrypt_with_nonce(public, m, nonce)
        again = sc(group, f"elgamal-reencrypt-{i}")
        cases.append(
            {
                "message": m,
                "nonce": nonce.hex(),
                "ciphertext": ct.to_dict(),
                "reencrypt_nonce": again.hex(),
                "reencrypted": elgamal.reencrypt(public, ct, again).to_dict(),
                "plaintext_element": elgamal.decrypt_to_element(secret, ct).hex(),
            }
        )
    return {"secret": secret.hex(), "public": public.hex(), "encryptions": cases}


# --- proofs.json ------------------------------------------------------------------------
def bump(s: Scalar) -> Scalar:
    return s + 1


def schnorr_vectors(group: Group) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, context in enumerate([b"", b"verivote/test/schnorr"]):
        x = sc(group, f"schnorr-secret-{i}")
        w = sc(group, f"schnorr-nonce-{i}")
        X = group.generator**x
        proof = schnorr._prove_schnorr(x, X, context, w)
        out.append(
            {
                "comment": f"valid, context {context!r}",
                "result": "valid",
                "secret": x.hex(),
                "nonce": w.hex(),
                "public": X.hex(),
                "context": context.hex(),
                "proof": proof.to_dict(),
            }
        )
    base = out[1]
    proof = schnorr.SchnorrProof.from_dict(group, base["proof"])
    other = group.generator ** sc(group, "schnorr-other")
    invalid = [
        (
            "challenge + 1",
            {"proof": schnorr.SchnorrProof(bump(proof.challenge), proof.response).to_dict()},
            "InvalidProof",
        ),
        (
            "response + 1",
            {"proof": schnorr.SchnorrProof(proof.challenge, bump(proof.response)).to_dict()},
            "InvalidProof",
        ),
        (
            "challenge and response swapped",
            {"proof": {"c": base["proof"]["s"], "s": base["proof"]["c"]}},
            "InvalidProof",
        ),
        ("other public value", {"public": other.hex()}, "InvalidProof"),
        ("identity as public value", {"public": group.identity.hex()}, "InvalidProof"),
        ("other context", {"context": b"verivote/test/other".hex()}, "InvalidProof"),
        ("empty context", {"context": ""}, "InvalidProof"),
        (
            "challenge = q",
            {"proof": {"c": group.order.to_bytes(32, "big").hex(), "s": base["proof"]["s"]}},
            "InvalidScalar",
        ),
        (
            "public value not an element",
            {"public": bytes(group.element_size - 1).hex()},
            "InvalidElement",
        ),
    ]
    for comment, change, error in invalid:
        case = {k: v for k, v in base.items() if k not in ("secret", "nonce")}
        case.update(change, comment=comment, result="invalid", error=error)
        out.append(case)
    return out


def cp_vectors(group: Group) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    g = group.generator
    for i, context in enumerate([b"", b"verivote/test/cp"]):
        x = sc(group, f"cp-secret-{i}")
        w = sc(group, f"cp-nonce-{i}")
        bases = (g, g ** sc(group, f"cp-alpha-{i}"))
        values = (bases[0] ** x, bases[1] ** x)
        proof = chaum_pedersen._prove_equal_logs(x, bases, values, context, w)
        out.append(
            {
                "comment": f"valid, context {context!r}",
                "result": "valid",
                "secret": x.hex(),
                "nonce": w.hex(),
                "bases": [b.hex() for b in bases],
                "values": [v.hex() for v in values],
                "context": context.hex(),
                "proof": proof.to_dict(),
            }
        )
    base = out[1]
    proof = chaum_pedersen.ChaumPedersenProof.from_dict(group, base["proof"])
    other = (g ** sc(group, "cp-other")).hex()
    invalid = [
        (
            "challenge + 1",
            {
                "proof": chaum_pedersen.ChaumPedersenProof(
                    bump(proof.challenge), proof.response
                ).to_dict()
            },
            "InvalidProof",
        ),
        (
            "response + 1",
            {
                "proof": chaum_pedersen.ChaumPedersenProof(
                    proof.challenge, bump(proof.response)
                ).to_dict()
            },
            "InvalidProof",
        ),
        ("other G1", {"bases": [other, base["bases"][1]]}, "InvalidProof"),
        ("other G2", {"bases": [base["bases"][0], other]}, "InvalidProof"),
        ("other Y1", {"values": [other, base["values"][1]]}, "InvalidProof"),
        ("other Y2", {"values": [base["values"][0], other]}, "InvalidProof"),
        (
            "bases swapped",
            {"bases": base["bases"][::-1], "values": base["values"][::-1]},
            "InvalidProof",
        ),
        ("identity as G2", {"bases": [base["bases"][0], group.identity.hex()]}, "InvalidProof"),
        ("other context", {"context": b"verivote/test/other".hex()}, "InvalidProof"),
        (
            "response = q + 1",
            {"proof": {"c": base["proof"]["c"], "s": (group.order + 1).to_bytes(32, "big").hex()}},
            "InvalidScalar",
        ),
    ]
    for comment, change, error in invalid:
        case = {k: v for k, v in base.items() if k not in ("secret", "nonce")}
        case.update(change, comment=comment, result="invalid", error=error)
        out.append(case)
    return out


def range_vectors(group: Group) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    secret = sc(group, "range-secret")
    h = group.generator**secret
    for i, (value, limit) in enumerate([(0, 1), (1, 1), (2, 3)]):
        r = sc(group, f"range-enc-nonce-{i}")
        ct = elgamal.encrypt_with_nonce(h, value, r)
        w = sc(group, f"range-w-{i}")
        sims = [
            (sc(group, f"range-c-{i}-{j}"), sc(group, f"range-s-{i}-{j}")) for j in range(limit + 1)
        ]
        context = f"verivote/test/range/{i}".encode()
        proof = range_proof._prove_range(h, ct, value, r, limit, context, w, sims)
        out.append(
            {
                "comment": f"valid, value {value} in [0, {limit}]",
                "result": "valid",
                "public_key": h.hex(),
                "value": value,
                "nonce": r.hex(),
                "limit": limit,
                "context": context.hex(),
                "w": w.hex(),
                "sims": [[c.hex(), s.hex()] for c, s in sims],
                "ciphertext": ct.to_dict(),
                "proof": proof.to_dict(),
            }
        )
    base = out[2]
    a, c, s, b = (base["proof"][k] for k in "acsb")
    other = (group.generator ** sc(group, "range-other")).hex()
    enc5 = elgamal.encrypt_with_nonce(h, 5, sc(group, "range-enc-nonce-2")).to_dict()
    truncated = range_proof.RangeProof.from_dict(
        group, {"a": a[:3], "b": b[:3], "c": c[:3], "s": s[:3]}, 2
    )
    bumped_c = [
        bump(group.decode_scalar(bytes.fromhex(x))).hex() if j == 1 else x for j, x in enumerate(c)
    ]
    bumped_s = [
        bump(group.decode_scalar(bytes.fromhex(x))).hex() if j == 3 else x for j, x in enumerate(s)
    ]
    # all zeros is the identity in ristretto255; s = 1 (negative) is never an element there
    not_an_element = "01" + "00" * 31 if group.name == "ristretto255" else "00" * group.element_size
    invalid = [
        ("challenge 1 + 1", {"proof": {"a": a, "b": b, "c": bumped_c, "s": s}}, "InvalidProof"),
        ("response 3 + 1", {"proof": {"a": a, "b": b, "c": c, "s": bumped_s}}, "InvalidProof"),
        (
            "commitment b_1 replaced",
            {"proof": {"a": a, "b": [b[0], other, *b[2:]], "c": c, "s": s}},
            "InvalidProof",
        ),
        (
            "commitment a_1 replaced",
            {"proof": {"a": [a[0], other, *a[2:]], "b": b, "c": c, "s": s}},
            "InvalidProof",
        ),
        (
            "commitments a_0 and a_1 swapped",
            {"proof": {"a": [a[1], a[0], *a[2:]], "b": b, "c": c, "s": s}},
            "InvalidProof",
        ),
        ("a list one short", {"proof": {"a": a[:3], "b": b, "c": c, "s": s}}, "DecodeError"),
        (
            "no a (the form without commitments a_j)",
            {"proof": {"b": b, "c": c, "s": s}},
            "DecodeError",
        ),
        (
            "challenges 0 and 1 swapped (same sum)",
            {"proof": {"a": a, "b": b, "c": [c[1], c[0], *c[2:]], "s": s}},
            "InvalidProof",
        ),
        ("other public key", {"public_key": other}, "InvalidProof"),
        ("other alpha", {"ciphertext": {"a": other, "b": base["ciphertext"]["b"]}}, "InvalidProof"),
        ("other beta", {"ciphertext": {"a": base["ciphertext"]["a"], "b": other}}, "InvalidProof"),
        ("ciphertext of 5 with the proof for 2", {"ciphertext": enc5}, "InvalidProof"),
        ("other context", {"context": b"verivote/test/other".hex()}, "InvalidProof"),
        ("4-branch proof decoded for limit 2", {"limit": 2}, "DecodeError"),
        (
            "truncated to limit 2, verified for limit 2",
            {"limit": 2, "proof": truncated.to_dict()},
            "InvalidProof",
        ),
        (
            "challenge list one short",
            {"proof": {"a": a, "b": b, "c": c[:3], "s": s}},
            "DecodeError",
        ),
        (
            "challenge = q",
            {
                "proof": {
                    "a": a,
                    "b": b,
                    "c": [group.order.to_bytes(32, "big").hex(), *c[1:]],
                    "s": s,
                }
            },
            "InvalidScalar",
        ),
        (
            "alpha not an element",
            {"ciphertext": {"a": not_an_element, "b": base["ciphertext"]["b"]}},
            "InvalidElement",
        ),
    ]
    for comment, change, error in invalid:
        case = {k: v for k, v in base.items() if k not in ("value", "nonce", "w", "sims")}
        case.update(change, comment=comment, result="invalid", error=error)
        out.append(case)
    return out


# --- transcript.json --------------------------------------------------------------------
def transcript_vectors(group: Group) -> dict[str, Any]:
    g = group.generator
    e1 = g ** sc(group, "transcript-1")
    e2 = group.hash_to_element(b"verivote/h")
    s1 = sc(group, "transcript-s")
    scripts: list[tuple[bytes, bytes, list[list[Any]]]] = [
        (b"test", b"", []),
        (b"test", b"context", [["bytes", b"label".hex(), b"data".hex()]]),
        (b"test", b"context", [["bytes", b"labeld".hex(), b"ata".hex()]]),
        (
            b"test",
            b"context",
            [
                ["bytes", b"b".hex(), b"".hex()],
                ["integer", b"n".hex(), 3],
                ["element", b"e".hex(), e1.hex()],
                ["elements", b"es".hex(), [e1.hex(), e2.hex()]],
                ["elements", b"none".hex(), []],
                ["scalar", b"s".hex(), s1.hex()],
            ],
        ),
        (b"other", b"context", [["integer", b"n".hex(), 3]]),
    ]
    out = []
    for protocol, context, ops in scripts:
        t = Transcript(protocol, group, context)
        for op in ops:
            kind, label = op[0], bytes.fromhex(op[1])
            if kind == "bytes":
                t.bytes(label, bytes.fromhex(op[2]))
            elif kind == "integer":
                t.integer(label, op[2])
            elif kind == "element":
                t.element(label, group.decode_element(bytes.fromhex(op[2])))
            elif kind == "elements":
                t.elements(label, [group.decode_element(bytes.fromhex(x)) for x in op[2]])
            else:
                t.scalar(label, group.decode_scalar(bytes.fromhex(op[2])))
        out.append(
            {
                "protocol": protocol.hex(),
                "context": context.hex(),
                "ops": ops,
                "challenge": t.challenge().hex(),
            }
        )
    return {"group_digest": group_digest(group).hex(), "transcripts": out}


# --- files ------------------------------------------------------------------------------
def per_group(fn: Any) -> dict[str, Any]:
    return {name: fn(get_group(name)) for name in GROUP_NAMES}


def build() -> dict[str, Any]:
    header = {"generator": "tests/vectors/generate.py"}
    return {
        "encoding.json": {**header, "vectors": encoding_vectors()},
        "groups.json": {**header, "groups": per_group(group_vectors)},
        "elgamal.json": {**header, "groups": per_group(elgamal_vectors)},
        "proofs.json": {
            **header,
            "groups": per_group(
                lambda g: {
                    "schnorr": schnorr_vectors(g),
                    "chaum_pedersen": cp_vectors(g),
                    "range": range_vectors(g),
                }
            ),
        },
        "transcript.json": {**header, "groups": per_group(transcript_vectors)},
    }


def render(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, content in build().items():
        path = HERE / name
        text = render(content)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
