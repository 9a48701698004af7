"""The pure-Python ristretto255 backend, used when the compiled one is not built.

RFC 9496's encoding, decoding and MAP are computed with Python integers modulo
``p = 2^255 - 19`` (one modular exponentiation each, by gmpy2). Scalar multiplication goes through
libsodium's edwards25519 functions as bundled by PyNaCl: a decoded ristretto255 point
``P`` may carry a 4-torsion component that libsodium's multiplication refuses, so the
backend multiplies ``8P`` (three libsodium additions; in the prime-order subgroup) by
``k/8 mod L``; the result lies in the same ristretto255 class as ``kP``, and encodings
are class invariants. Results are byte-identical to the compiled backend's.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from nacl._sodium import ffi, lib

from verivote.errors import InvalidElement, ParameterError

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, -1, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578
SQRT_AD_MINUS_ONE = 25063068953384623474111414158702152701244531502492656460079210482610430750235
ONE_MINUS_D_SQ = 1159843021668779879193775521855586647937357759715417654439879720876111806838
D_MINUS_ONE_SQ = 40440834346308536858101042469323190826248399146238708352240133220865137265952
INV8 = pow(8, -1, L)
IDENTITY = bytes(32)
_INVALID = "ristretto255: not the canonical encoding of an element"
# GMP's modular exponentiation: about 9 times faster than pow() on 255-bit integers.
_powmod = gmpy2.powmod

Point = tuple[int, int, int, int]
"""Extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z."""


def _abs(x: int) -> int:
    x %= P
    return P - x if x & 1 else x


def sqrt_ratio_m1(u: int, v: int) -> tuple[bool, int]:
    """RFC 9496 SQRT_RATIO_M1: (True, |sqrt(u/v)|) or (False, |sqrt(i·u/v)|)."""
    u %= P
    v3 = v * v * v % P
    v7 = v3 * v3 * v % P
    r = u * v3 * int(_powmod(u * v7 % P, (P - 5) // 8, P)) % P
    check = v * r * r % P
    correct = check == u
    flipped = check == (-u) % P
    flipped_i = check == (-u * SQRT_M1) % P
    if flipped or flipped_i:
        r = r * SQRT_M1 % P
    return correct or flipped, _abs(r)


def decode(s: bytes) -> Point | None:
    """RFC 9496 DECODE: the point of a canonical encoding, None for anything else."""
    if not isinstance(s, bytes) or len(s) != 32:
        return None
    v = int.from_bytes(s, "little")
    if v >= P or v & 1:  # not canonical (bit 255 set counts) or negative
        return None
    ss = v * v % P
    u1 = (1 - ss) % P
    u2 = (1 + ss) % P
    u2sq = u2 * u2 % P
    w = (-(D * u1 * u1) - u2sq) % P
    was_square, invsqrt = sqrt_ratio_m1(1, w * u2sq % P)
    den_x = invsqrt * u2 % P
    den_y = invsqrt * den_x * w % P
    x = _abs(2 * v * den_x)
    y = u1 * den_y % P
    t = x * y % P
    if not was_square or t & 1 or y == 0:
        return None
    return (x, y, 1, t)


def encode(p: Point) -> bytes:
    """RFC 9496 ENCODE."""
    x0, y0, z0, t0 = p
    u1 = (z0 + y0) * (z0 - y0) % P
    u2 = x0 * y0 % P
    _, invsqrt = sqrt_ratio_m1(1, u1 * u2 * u2 % P)
    den1 = invsqrt * u1 % P
    den2 = invsqrt * u2 % P
    z_inv = den1 * den2 * t0 % P
    if (t0 * z_inv % P) & 1:
        x, y, den_inv = y0 * SQRT_M1 % P, x0 * SQRT_M1 % P, den1 * INVSQRT_A_MINUS_D % P
    else:
        x, y, den_inv = x0, y0, den2
    if (x * z_inv % P) & 1:
        y = -y
    return _abs(den_inv * (z0 - y)).to_bytes(32, "little")


def add_points(p: Point, q: Point) -> Point:
    """Extended-coordinate addition (complete on edwards25519)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def neg_point(p: Point) -> Point:
    x, y, z, t = p
    return ((-x) % P, y, z, (-t) % P)


def map_to_point(t: int) -> Point:
    """RFC 9496 MAP (one Elligator evaluation) of a field element."""
    r = SQRT_M1 * t * t % P
    u = (r + 1) * ONE_MINUS_D_SQ % P
    v = (-1 - r * D) * (r + D) % P
    was_square, s = sqrt_ratio_m1(u, v)
    if was_square:
        c = P - 1
    else:
        s = (-_abs(s * t)) % P
        c = r
    n = (c * (r - 1) * D_MINUS_ONE_SQ - v) % P
    w0 = 2 * s * v % P
    w1 = n * SQRT_AD_MINUS_ONE % P
    w2 = (1 - s * s) % P
    w3 = (1 + s * s) % P
    return (w0 * w3 % P, w2 * w1 % P, w1 * w3 % P, w0 * w2 % P)


def _decode_or_raise(s: bytes) -> Point:
    point = decode(s)
    if point is None:
        raise InvalidElement(_INVALID)
    return point


_new = ffi.new
_buffer = ffi.buffer


def _times8(x: int, y: int) -> bytes:
    """The edwards25519 encoding of 8·(x, y): in the prime-order subgroup."""
    e = (y | ((x & 1) << 255)).to_bytes(32, "little")
    for _ in range(3):
        e = _ed_add(e, e)
    return e


_ED_IDENTITY = bytes([1]) + bytes(31)
_INV8_BYTES = INV8.to_bytes(32, "little")


def _ed_add(a: bytes, b: bytes) -> bytes:
    out = _new("unsigned char[32]")
    if lib.crypto_core_ed25519_add(out, a, b) != 0:  # pragma: no cover - points are on the curve
        raise InvalidElement("ristretto255: libsodium refused a point")
    return bytes(_buffer(out))


def _count(points: bytes) -> int:
    if not isinstance(points, bytes) or len(points) % 32:
        raise ParameterError("ristretto255: packed points are a multiple of 32 bytes")
    return len(points) // 32


class PythonBackend:
    """See :class:`verivote._native.Backend`."""

    name = "python"

    def is_valid(self, p: bytes) -> bool:
        return decode(p) is not None

    def add(self, a: bytes, b: bytes) -> bytes:
        return encode(add_points(_decode_or_raise(a), _decode_or_raise(b)))

    def sub(self, a: bytes, b: bytes) -> bytes:
        return encode(add_points(_decode_or_raise(a), neg_point(_decode_or_raise(b))))

    def neg(self, a: bytes) -> bytes:
        return encode(neg_point(_decode_or_raise(a)))

    def scalarmult(self, k: int, p: bytes) -> bytes:
        if not 0 <= k < 1 << 255:
            raise ParameterError("ristretto255: scalar out of range")
        x, y, _, _ = _decode_or_raise(p)  # affine: decode sets Z = 1
        k %= L
        if k == 0 or p == IDENTITY:
            return IDENTITY
        out = _new("unsigned char[32]")
        scalar = (k * INV8 % L).to_bytes(32, "little")
        if lib.crypto_scalarmult_ed25519_noclamp(out, scalar, _times8(x, y)) != 0:
            raise InvalidElement("ristretto255: libsodium refused a point")  # pragma: no cover
        return self.from_edwards(bytes(_buffer(out)))

    def to_edwards(self, p: bytes) -> bytes:
        x, y, _, _ = _decode_or_raise(p)
        if p == IDENTITY:
            return _ED_IDENTITY
        out = _new("unsigned char[32]")
        if lib.crypto_scalarmult_ed25519_noclamp(out, _INV8_BYTES, _times8(x, y)) != 0:
            raise InvalidElement("ristretto255: libsodium refused a point")  # pragma: no cover
        return bytes(_buffer(out))

    def from_edwards(self, e: bytes) -> bytes:
        if not isinstance(e, bytes) or len(e) != 32:
            raise InvalidElement("edwards25519: a point is exactly 32 bytes")
        r = int.from_bytes(e, "little")
        ry = r & ((1 << 255) - 1)
        if ry >= P:
            raise InvalidElement("edwards25519: not the canonical encoding of a point")
        on_curve, rx = sqrt_ratio_m1(ry * ry - 1, D * ry * ry + 1)
        if not on_curve or (rx == 0 and r >> 255):
            raise InvalidElement("edwards25519: not the canonical encoding of a point")
        if r >> 255:
            rx = (-rx) % P
        return encode((rx, ry, 1, rx * ry % P))

    def msm(self, scalars: Sequence[int], points: Sequence[bytes]) -> bytes:
        if len(scalars) != len(points):
            raise ParameterError("ristretto255: as many scalars as points are needed")
        for i, p in enumerate(points):
            if decode(p) is None:
                raise InvalidElement(f"{_INVALID} (point {i})")
        acc = IDENTITY
        for k, p in zip(scalars, points, strict=True):
            term = self.scalarmult(k, p)
            if term != IDENTITY:
                acc = term if acc == IDENTITY else self.add(acc, term)
        return acc

    def msm_packed(self, scalars: bytes, points: bytes) -> bytes:
        n = _count(points)
        if not isinstance(scalars, bytes) or len(scalars) != 32 * n:
            raise ParameterError("ristretto255: as many scalars as points are needed")
        ks = [int.from_bytes(scalars[32 * i : 32 * i + 32], "little") % L for i in range(n)]
        return self.msm(ks, [points[32 * i : 32 * i + 32] for i in range(n)])

    def sum(self, points: Sequence[bytes]) -> bytes:
        acc: Point | None = None
        for i, p in enumerate(points):
            point = decode(p)
            if point is None:
                raise InvalidElement(f"{_INVALID} (point {i})")
            acc = point if acc is None else add_points(acc, point)
        return IDENTITY if acc is None else encode(acc)

    def sum_runs(self, points: bytes, k: int) -> bytes:
        n = _count(points)
        if not isinstance(k, int) or k < 1 or n % k:
            raise ParameterError("ristretto255: the points do not split into runs of k")
        out = []
        for start in range(0, n, k):
            run = [points[32 * j : 32 * j + 32] for j in range(start, start + k)]
            try:
                out.append(self.sum(run))
            except InvalidElement:
                bad = next(j for j in range(k) if decode(run[j]) is None)
                raise InvalidElement(f"{_INVALID} (point {start + bad})") from None
        return b"".join(out)

    def valid_flags(self, points: bytes) -> bytes:
        n = _count(points)
        return bytes(decode(points[32 * i : 32 * i + 32]) is not None for i in range(n))

    def from_uniform(self, h: bytes) -> bytes:
        if not isinstance(h, bytes) or len(h) != 64:
            raise ParameterError("ristretto255: element derivation takes 64 bytes")
        mask = (1 << 255) - 1
        t0 = int.from_bytes(h[:32], "little") & mask
        t1 = int.from_bytes(h[32:], "little") & mask
        return encode(add_points(map_to_point(t0), map_to_point(t1)))
