"""The batched ballot check of ristretto255 on raw encodings (no per-proof objects).

:func:`check_ballots_lean` gives, for each ballot body, exactly what
:func:`~verivote.election.ballot.check_ballot_one_by_one` gives for it alone, like
:func:`~verivote.election.ballot_batch.check_ballots`, whose ristretto255 path it is. It
computes the same equations as :class:`~verivote.proofs.range_multi.MultiRangeBatch` but
keeps every ballot as bytes and integers:

* **decoding**: a ballot's point encodings (its selections' ``α`` and ``β``, then each
  proof's ``a_j`` and ``b_j``) and its scalars are each joined and hex-decoded at once; a
  ballot is accepted only in the exact shape the strict decoders accept (the same keys,
  lists of the right lengths, lowercase hex of exactly 32 bytes, scalars below the order);
  the points are not decoded in Python at all: the backend decodes (and so validates)
  every one of them in the batch's sums and multi-scalar multiplication, and a ballot with
  an invalid point is found with one pass of :meth:`~verivote._native.Backend.valid_flags`;
* **challenges**: each proof's Fiat–Shamir challenge is hashed from the raw encodings into
  the same bytes as :func:`~verivote.proofs.range._transcript` (the hash state after the
  fields shared by every proof of the batch is computed once and copied); a contest's total
  ciphertext for its limit proof is one :meth:`~verivote._native.Backend.sum_runs` call per
  contest and component for the whole batch;
* **the batch equation**: per ballot, one packed string of points (its own encodings, in
  place) and one of 32-byte weights, the selections' ``α`` and ``β`` carrying their own
  proof's weights plus the limit proof's (merged by position); one
  :meth:`~verivote._native.Backend.msm_packed` for the batch, bisected by ballot when it
  fails, exactly as ``MultiRangeBatch`` does, with odd 128-bit weights from :mod:`secrets`.

Anything else — a ballot in any other shape, an invalid point, a wrong challenge, a failed
equation — sends the ballot to ``check_ballot_one_by_one``, whose outcome (value or
exception) is the ballot's: this path only ever decides that a ballot passes.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from verivote._native import Backend
from verivote.election.manifest import Manifest
from verivote.elgamal import Ciphertext
from verivote.errors import InvalidElement
from verivote.groups.base import Element
from verivote.groups.ristretto255 import BASE, L, Ristretto255Group
from verivote.proofs.range import MAX_RANGE, PROTOCOL
from verivote.proofs.range_multi import bisect_failures
from verivote.proofs.transcript import PREFIX, group_digest

_LEN = struct.Struct(">I").pack
_SEP = _LEN(32)
WEIGHT_BYTES = 16
"""128-bit weights (made odd), as in :mod:`verivote.proofs.range_multi`."""

Outcome = tuple[bytes, list[list[Ciphertext]]] | Exception


def supports(manifest: Manifest) -> bool:
    """True when :func:`check_ballots_lean` applies: ristretto255 and no ranked contest
    (ranked contests take the general path)."""
    return isinstance(manifest.group, Ristretto255Group) and all(
        not c.ranked and c.field_bound == 1 for c in manifest.contests
    )


@dataclass(slots=True)
class _Ballot:
    """One ballot on raw encodings: what the batch needs of it."""

    credential: bytes
    points: bytes
    """Per contest: the ``n`` selections' α, their β, then per proof (selections', then the
    limit proof) its ``a_0..a_L`` and ``b_0..b_L``; 32 bytes each."""
    scalars: list[int]
    """Per proof: ``c_0..c_L`` then ``s_0..s_L``."""
    weights: bytes = b""
    h: int = 0
    g: int = 0


_Shape = list[tuple[str, int, int]]
"""Per contest: its id, its number of selections ``n`` and its limit ``L``."""


_BODY = frozenset(("credential", "contests"))
_CONTEST = frozenset(("id", "selections", "proofs", "limit_proof"))
_CIPHERTEXT = frozenset(("a", "b"))
_PROOF = frozenset(("a", "b", "c", "s"))


def _parse(shape: _Shape, body: Any) -> _Ballot | None:
    """A ballot in exactly the shape the strict decoders accept, as raw encodings; None for
    anything else (the one-by-one check then decides)."""
    if type(body) is not dict or body.keys() != _BODY:
        return None
    cred_hex = body["credential"]
    contests = body["contests"]
    if type(contests) is not list or len(contests) != len(shape) or type(cred_hex) is not str:
        return None
    points: list[Any] = []
    scalars: list[Any] = []
    for (cid, n, limit), obj in zip(shape, contests, strict=True):
        if type(obj) is not dict or obj.keys() != _CONTEST:
            return None
        sels, proofs = obj["selections"], obj["proofs"]
        if obj["id"] != cid or type(sels) is not list or len(sels) != n:
            return None
        if type(proofs) is not list or len(proofs) != n:
            return None
        for sel in sels:
            if type(sel) is not dict or sel.keys() != _CIPHERTEXT:
                return None
        points += [sel["a"] for sel in sels]
        points += [sel["b"] for sel in sels]
        for i, proof in enumerate([*proofs, obj["limit_proof"]]):
            size = 2 if i < n else limit + 1
            if type(proof) is not dict or proof.keys() != _PROOF:
                return None
            a, b, c, s = proof["a"], proof["b"], proof["c"], proof["s"]
            if type(a) is not list or type(b) is not list or type(c) is not list:
                return None
            if type(s) is not list or not len(a) == len(b) == len(c) == len(s) == size:
                return None
            points += a
            points += b
            scalars += c
            scalars += s
    try:
        text = "".join(points)
        stext = "".join(scalars)
        raw = bytes.fromhex(text)
        sraw = bytes.fromhex(stext)
        credential = bytes.fromhex(cred_hex)
    except (TypeError, ValueError):  # not all strings, or not hex
        return None
    # every item exactly 64 characters: the total is 64 per item and none is shorter
    if len(text) != 64 * len(points) or min(map(len, points), default=64) != 64:
        return None
    if len(stext) != 64 * len(scalars) or min(map(len, scalars), default=64) != 64:
        return None
    if raw.hex() != text or sraw.hex() != stext or credential.hex() != cred_hex:
        return None
    if len(credential) != 32:
        return None
    values = [int.from_bytes(sraw[i : i + 32], "big") for i in range(0, len(sraw), 32)]
    if max(values, default=0) >= L:
        return None
    return _Ballot(credential, raw, values)


class _Hashes:
    """The challenge transcripts of a batch's range proofs, as
    :func:`~verivote.proofs.range._transcript` hashes them, from raw encodings."""

    def __init__(self, group: Ristretto255Group, key: bytes, ballot_context: bytes) -> None:
        start = hashlib.sha512()
        for part in (PREFIX, PROTOCOL, group_digest(group)):
            start.update(_LEN(len(part)) + part)
        framed = _LEN(len(ballot_context)) + ballot_context
        # selection context: frame(bc, b"selection", credential, contest(2), candidate(2))
        sel_len = len(framed) + 4 + 9 + 4 + 32 + 4 + 2 + 4 + 2
        self.selection = start.copy()
        self.selection.update(_LEN(sel_len) + framed + _LEN(9) + b"selection" + _SEP)
        # limit context: frame(bc, b"limit", credential, contest(2))
        lim_len = len(framed) + 4 + 5 + 4 + 32 + 4 + 2
        self.limit = start.copy()
        self.limit.update(_LEN(lim_len) + framed + _LEN(5) + b"limit" + _SEP)
        self.key = _LEN(1) + b"h" + _SEP + key + _LEN(5) + b"alpha" + _SEP
        self.beta = _LEN(4) + b"beta" + _SEP
        self.tails = {
            limit: _LEN(1)
            + b"L"
            + _LEN(8)
            + limit.to_bytes(8, "big")
            + _LEN(2)
            + b"ab"
            + _LEN(4)
            + (2 * (limit + 1)).to_bytes(4, "big")
            for limit in range(1, MAX_RANGE + 1)
        }

    def challenge(
        self, state: Any, head: bytes, alpha: bytes, beta: bytes, limit: int, ab: bytes
    ) -> int:
        """The challenge of a proof whose context ends with ``head`` (credential, contest
        and candidate numbers), for ciphertext ``(alpha, beta)``; ``ab`` packs its
        ``a_0..a_L`` then ``b_0..b_L``."""
        k = limit + 1
        parts = [head, self.key, alpha, self.beta, beta, self.tails[limit]]
        for j in range(k):
            parts += [_SEP, ab[32 * j : 32 * j + 32], _SEP, ab[32 * (k + j) : 32 * (k + j) + 32]]
        h = state.copy()
        h.update(b"".join(parts))
        return int.from_bytes(h.digest(), "big") % L


def _prepare(
    ballot: _Ballot,
    shape: _Shape,
    hashes: _Hashes,
    totals: list[bytes],
    index: int,
) -> bool:
    """Check every challenge of ``ballot`` and set its weights and its share of the batch
    equation; False when a challenge is wrong. ``totals``: per contest, the packed α and β
    sums of every ballot, ``index`` this ballot's position in them."""
    raw = ballot.points
    sc = ballot.scalars
    cred = ballot.credential
    two = _LEN(2)
    count = len(raw) // 32
    weights = [0] * count
    rand = secrets.token_bytes(WEIGHT_BYTES * 2 * (len(sc) // 2))
    r = 0
    h = g = 0
    pos = 0  # point index
    spos = 0  # scalar index
    for ci, (_, n, limit) in enumerate(shape):
        cnum = ci.to_bytes(2, "big")
        base = pos
        pos += 2 * n
        alpha_w = [0] * n
        beta_w = [0] * n
        total_alpha = totals[2 * ci][32 * index : 32 * index + 32]
        total_beta = totals[2 * ci + 1][32 * index : 32 * index + 32]
        for ki in range(n + 1):
            if ki < n:
                size = 2
                state = hashes.selection
                head = cred + two + cnum + two + ki.to_bytes(2, "big")
                alpha = raw[32 * (base + ki) : 32 * (base + ki) + 32]
                beta = raw[32 * (base + n + ki) : 32 * (base + n + ki) + 32]
                proof_limit = 1
            else:
                size = limit + 1
                state = hashes.limit
                head = cred + two + cnum
                alpha, beta = total_alpha, total_beta
                proof_limit = limit
            ab = raw[32 * pos : 32 * (pos + 2 * size)]
            cs = sc[spos : spos + size]
            ss = sc[spos + size : spos + 2 * size]
            if hashes.challenge(state, head, alpha, beta, proof_limit, ab) != sum(cs) % L:
                return False
            wa = wb = 0
            for j in range(size):
                rho = int.from_bytes(rand[r : r + 16], "little") | 1
                rho_a = int.from_bytes(rand[r + 16 : r + 32], "little") | 1
                r += 32
                c, s = cs[j], ss[j]
                # b_j^ρ · (β/g^j)^(ρ·c_j) · h^(-ρ·s_j) = 1
                h += rho * s
                g -= rho * j * c + rho_a * s
                weights[pos + size + j] = rho
                wb += rho * c
                # a_j^ρ' · α^(ρ'·c_j) · g^(-ρ'·s_j) = 1
                weights[pos + j] = rho_a
                wa += rho_a * c
            if ki < n:
                alpha_w[ki] += wa
                beta_w[ki] += wb
            else:  # the total's α and β are the sums of the selections'
                alpha_w = [w + wa for w in alpha_w]
                beta_w = [w + wb for w in beta_w]
            pos += 2 * size
            spos += 2 * size
        weights[base : base + n] = alpha_w
        weights[base + n : base + 2 * n] = beta_w
    ballot.weights = b"".join([(w % L).to_bytes(32, "little") for w in weights])
    ballot.h = h % L
    ballot.g = g % L
    return True


def _holds(backend: Backend, key: bytes, ballots: Sequence[_Ballot]) -> bool:
    """Whether the batch equation of ``ballots`` holds (one multi-scalar multiplication)."""
    h = (-sum(b.h for b in ballots)) % L
    g = sum(b.g for b in ballots) % L
    points = b"".join([key, BASE] + [b.points for b in ballots])
    scalars = b"".join(
        [h.to_bytes(32, "little"), g.to_bytes(32, "little")] + [b.weights for b in ballots]
    )
    return backend.msm_packed(scalars, points) == bytes(32)


def _sums(backend: Backend, shape: _Shape, ballots: dict[int, _Ballot]) -> list[bytes] | None:
    """Per contest, the packed sums of the selections' α and of their β of every ballot
    (in ``ballots``' order); None when some point is invalid."""
    out: list[bytes] = []
    offset = 0
    for _, n, limit in shape:
        for part in (0, 1):
            start = 32 * (offset + part * n)
            packed = b"".join([b.points[start : start + 32 * n] for b in ballots.values()])
            try:
                out.append(backend.sum_runs(packed, n))
            except InvalidElement:
                return None
        offset += 2 * n + (n * 4) + 2 * (limit + 1)
    return out


def _drop_invalid(backend: Backend, ballots: dict[int, _Ballot], retry: set[int]) -> None:
    """Move every ballot with an invalid point from ``ballots`` to ``retry`` (one pass)."""
    flags = backend.valid_flags(b"".join([b.points for b in ballots.values()]))
    start = 0
    for i, ballot in list(ballots.items()):
        count = len(ballot.points) // 32
        if flags.count(1, start, start + count) != count:
            del ballots[i]
            retry.add(i)
        start += count


def check_ballots_lean(
    manifest: Manifest,
    joint_key: Element,
    ballot_context: bytes,
    bodies: Sequence[Any],
    one: Callable[[Any], Outcome],
) -> list[Outcome]:
    """One outcome per body, in order, exactly as ``one`` (the one-by-one check) gives
    it: ``one(body)`` for every ballot the batched check does not pass. Requires
    :func:`supports`. Never raises for a bad ballot."""
    group = manifest.group
    assert isinstance(group, Ristretto255Group)
    backend = group.backend
    key = joint_key.to_bytes()
    shape: _Shape = [(c.id, c.fields, c.limit) for c in manifest.contests]
    if any(not 0 < limit <= MAX_RANGE for _, _, limit in shape):
        return [one(body) for body in bodies]
    retry: set[int] = set()
    ballots: dict[int, _Ballot] = {}
    for i, body in enumerate(bodies):
        parsed = _parse(shape, body)
        if parsed is None:
            retry.add(i)
        else:
            ballots[i] = parsed
    totals = _sums(backend, shape, ballots)
    if totals is None:
        _drop_invalid(backend, ballots, retry)
        totals = _sums(backend, shape, ballots)
        assert totals is not None
    hashes = _Hashes(group, key, ballot_context)
    for pos, i in enumerate(list(ballots)):
        if not _prepare(ballots[i], shape, hashes, totals, pos):
            del ballots[i]
            retry.add(i)
    order = list(ballots)
    if order:
        try:
            ok = _holds(backend, key, list(ballots.values()))
        except InvalidElement:
            _drop_invalid(backend, ballots, retry)
            order = list(ballots)
            ok = not order or _holds(backend, key, list(ballots.values()))
        if not ok:
            bad: list[int] = []

            def holds(items: Sequence[int]) -> bool:
                return _holds(backend, key, [ballots[i] for i in items])

            bisect_failures(holds, order, bad, known_bad=True)
            for i in bad:
                del ballots[i]
                retry.add(i)
    results: list[Outcome | None] = [None] * len(bodies)
    for i in retry:
        results[i] = one(bodies[i])
    for i, ballot in ballots.items():
        results[i] = (ballot.credential, _ciphertexts(group, shape, ballot.points))
    done = [r for r in results if r is not None]
    assert len(done) == len(bodies)
    return done


def _ciphertexts(group: Ristretto255Group, shape: _Shape, raw: bytes) -> list[list[Ciphertext]]:
    out: list[list[Ciphertext]] = []
    pos = 0
    for _, n, limit in shape:
        cts = []
        for k in range(n):
            a = 32 * (pos + k)
            b = 32 * (pos + n + k)
            cts.append(Ciphertext(Element(group, raw[a : a + 32]), Element(group, raw[b : b + 32])))
        out.append(cts)
        pos += 2 * n + 4 * n + 2 * (limit + 1)
    return out
