"""Threshold decryption of the encrypted tally, with proofs, and the published result.

Trustee ``j`` holds the combined secret share ``x_j`` of the joint key; its public share key
``P_j = g^(x_j)`` is public after the key ceremony. For every ciphertext ``(α, β)`` of
:meth:`EncryptedTally.ciphertexts`, at position ``k`` of that flat order, the trustee posts
``d = α^(x_j)`` with a Chaum–Pedersen proof that ``log_g P_j == log_α d``, bound to the
election fingerprint, ``j`` and ``k`` (:func:`share_context`) so a share cannot be replayed
at another position, by another trustee or in another election.

Any ``k`` (the threshold) verified trustees suffice: their shares are combined by Lagrange
interpolation into ``α^x``, and ``β / α^x = g^m`` gives the count ``m`` by a bounded discrete
logarithm (:func:`combine`). The ``result`` entry lists the counts overall and per breakdown
group (:func:`make_result_body`); the verifier recomputes it and compares
(:func:`check_result`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verivote.election.manifest import Manifest
from verivote.election.tally import OVERALL, EncryptedTally, group_label, positions
from verivote.elgamal import DiscreteLog, combine_shares
from verivote.encoding import dumps, frame, from_hex
from verivote.errors import (
    DecodeError,
    DiscreteLogError,
    InvalidProof,
    ParameterError,
    ProtocolError,
)
from verivote.groups.base import Element, Scalar
from verivote.proofs.chaum_pedersen import (
    ChaumPedersenProof,
    prove_equal_logs,
    verify_equal_logs,
)
from verivote.proofs.codec import expect_keys

DOMAIN = b"verivote/decryption"


def share_context(manifest: Manifest, trustee: int, position: int) -> bytes:
    """The context a decryption share's proof binds to: the election fingerprint, the
    trustee index (2 bytes) and the position in the flat ciphertext order (4 bytes)."""
    return frame(
        DOMAIN, manifest.fingerprint, trustee.to_bytes(2, "big"), position.to_bytes(4, "big")
    )


def _trustee(manifest: Manifest, index: Any, error: type[Exception]) -> int:
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not 1 <= index <= len(manifest.trustees)
    ):
        raise error(f"{index!r} is not a trustee index (1..{len(manifest.trustees)})")
    return index


def make_decryption(
    manifest: Manifest, tally: EncryptedTally, index: int, secret_share: Scalar
) -> dict[str, Any]:
    """Trustee ``index``'s ``decryption`` body: ``{"trustee": index, "shares": [{"d": hex,
    "proof": {...}}, ...]}``, one share per ciphertext in the flat order.

    Raises :class:`ParameterError` for an index that is not a trustee of the manifest or a
    secret share of another group."""
    _trustee(manifest, index, ParameterError)
    group = manifest.group
    if secret_share.group is not group:
        raise ParameterError("secret share of another group")
    # The share is a secret whatever type it came in: constant-time exponentiation.
    secret_share = group.secret_scalar(secret_share.value)
    g = group.generator
    public = g**secret_share
    shares = []
    for k, ct in enumerate(tally.ciphertexts()):
        d = ct.alpha**secret_share
        proof = prove_equal_logs(
            secret_share, (g, ct.alpha), (public, d), share_context(manifest, index, k)
        )
        shares.append({"d": d.hex(), "proof": proof.to_dict()})
    return {"trustee": index, "shares": shares}


def check_decryption(
    body: Any, manifest: Manifest, tally: EncryptedTally, public_share_key: Element
) -> list[Element]:
    """Strictly decode a ``decryption`` body and verify every share against the posting
    trustee's ``public_share_key``; return the shares ``α^(x_j)`` in the flat order.

    Raises :class:`DecodeError` for malformed input (keys, trustee index, share count,
    element or scalar encodings) and :class:`InvalidProof` naming the trustee, the position
    and its contest / group / candidate for the first share whose proof fails. Where ``α`` is
    the identity (a sum over no ballots) the only correct share is the identity and the
    proof, which could show nothing about ``x_j``, is decoded but not checked."""
    expect_keys(body, ("trustee", "shares"), "decryption")
    j = _trustee(manifest, body["trustee"], DecodeError)
    group = manifest.group
    if public_share_key.group is not group:
        raise ParameterError("public share key of another group")
    cts = tally.ciphertexts()
    raw = body["shares"]
    if not isinstance(raw, list) or len(raw) != len(cts):
        raise DecodeError(f"decryption by trustee {j}: expected a list of {len(cts)} shares")
    decoded: list[tuple[Element, ChaumPedersenProof]] = []
    for k, share in enumerate(raw):
        what = f"decryption by trustee {j}, share {k}"
        expect_keys(share, ("d", "proof"), what)
        d = group.decode_element(from_hex(share["d"], group.element_size, f"{what} d"))
        decoded.append((d, ChaumPedersenProof.from_dict(group, share["proof"])))
    where = positions(manifest, tally)
    g = group.generator
    for k, (ct, (d, proof)) in enumerate(zip(cts, decoded, strict=True)):
        if ct.alpha.is_identity():
            if not d.is_identity():
                raise InvalidProof(
                    f"decryption by trustee {j}, share {k} ({where[k]}): the ciphertext is "
                    "trivial and its share must be the identity"
                )
            continue
        try:
            verify_equal_logs(
                (g, ct.alpha), (public_share_key, d), proof, share_context(manifest, j, k)
            )
        except InvalidProof as exc:
            raise InvalidProof(
                f"decryption by trustee {j}, share {k} ({where[k]}): {exc}"
            ) from None
    return [d for d, _ in decoded]


def combine(
    manifest: Manifest,
    tally: EncryptedTally,
    shares: Mapping[int, Sequence[Element]],
    threshold: int,
) -> list[int]:
    """The counts of every ciphertext in the flat order, from verified decryption shares
    ``{trustee index: [α^(x_j) per ciphertext]}``.

    All given trustees take part in the Lagrange interpolation (with correct shares any
    subset of at least ``threshold`` gives the same result). Raises :class:`ProtocolError`
    when fewer than ``threshold`` trustees are present (saying how many are missing), for an
    index that is not a trustee, a share list of the wrong length, or a count that is not in
    ``[0, total weight]`` (the shares do not decrypt this tally)."""
    if threshold < 1:
        raise ParameterError("threshold must be at least 1")
    present = sorted(shares)
    if len(present) < threshold:
        missing = threshold - len(present)
        raise ProtocolError(
            f"decryption needs shares from {threshold} trustees, got {len(present)}: "
            f"{missing} missing"
        )
    cts = tally.ciphertexts()
    for i in present:
        _trustee(manifest, i, ProtocolError)
        if len(shares[i]) != len(cts):
            raise ProtocolError(f"trustee {i}: {len(shares[i])} shares for {len(cts)} ciphertexts")
    group = manifest.group
    bound = max(1, tally.total_weight)
    solver = DiscreteLog.for_group(group, bound)
    where = positions(manifest, tally)
    counts: list[int] = []
    for k, ct in enumerate(cts):
        alpha_x = combine_shares({i: shares[i][k] for i in present}, group)
        try:
            counts.append(solver.solve(ct.beta / alpha_x))
        except DiscreteLogError:
            raise ProtocolError(
                f"decryption of {where[k]}: the combined shares give no count in [0, {bound}]"
            ) from None
    return counts


def make_result_body(
    manifest: Manifest,
    tally: EncryptedTally,
    counts: Sequence[int],
    trustees_present: Sequence[int],
    trustees_missing: Sequence[int],
    added: int = 0,
) -> dict[str, Any]:
    """The ``result`` body: ``{"trustees": [...], "missing": [...], "added": n,
    "contests": [{"id", "overall": {candidate: n}, "groups": [{"categories": [...],
    "counts": {...}}]}]}`` from ``counts`` in the flat order of
    :meth:`EncryptedTally.ciphertexts`; ``added`` is the number of electors added to the
    roll after opening (the ``close`` entry's ``added``). Trustee lists are sorted. Raises
    :class:`ParameterError` for the wrong number of counts or a negative one."""
    if len(counts) != len(tally.ciphertexts()):
        raise ParameterError(f"expected {len(tally.ciphertexts())} counts, got {len(counts)}")
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in counts):
        raise ParameterError("counts must be non-negative integers")
    it = iter(counts)
    contests = []
    for contest, ct in zip(manifest.tallied, tally.contests, strict=True):
        ids = [c.id for c in contest.candidates]
        overall = {cid: next(it) for cid in ids}
        groups = [
            {"categories": list(g.categories), "counts": {cid: next(it) for cid in ids}}
            for g in ct.groups
        ]
        contests.append({"id": contest.id, "overall": overall, "groups": groups})
    return {
        "trustees": sorted(trustees_present),
        "missing": sorted(trustees_missing),
        "added": added,
        "contests": contests,
    }


def _counts_differ(got: Any, want: dict[str, int], where: str) -> None:
    if not isinstance(got, dict) or set(got) != set(want):
        raise ProtocolError(f"{where}: candidates differ from those of the contest")
    for cand, n in want.items():
        value = got[cand]
        if not isinstance(value, int) or isinstance(value, bool) or value != n:
            raise ProtocolError(
                f"{where}, candidate {cand}: published {value!r}, the decryption gives {n}"
            )


def check_result(body: Any, expected_body: dict[str, Any]) -> None:
    """Return if the posted ``result`` body is exactly ``expected_body`` (from
    :func:`make_result_body` over the verified shares); otherwise raise
    :class:`ProtocolError` naming the trustee lists, the contest, the group and the
    candidate whose published count differs (or :class:`DecodeError` if the body is not an
    object with the expected keys)."""
    expect_keys(body, expected_body, "result")
    for key in ("trustees", "missing", "added"):
        if body[key] != expected_body[key]:
            raise ProtocolError(
                f"result {key}: published {body[key]!r}, expected {expected_body[key]!r}"
            )
    got_contests, want_contests = body["contests"], expected_body["contests"]
    if not isinstance(got_contests, list) or len(got_contests) != len(want_contests):
        raise ProtocolError(f"result: expected {len(want_contests)} contests")
    for got, want in zip(got_contests, want_contests, strict=True):
        expect_keys(got, want, "result contest")
        cid = want["id"]
        if got["id"] != cid:
            raise ProtocolError(f"result: contest {got['id']!r} where {cid!r} was due")
        _counts_differ(got["overall"], want["overall"], f"result contest {cid}, {OVERALL}")
        groups = got["groups"]
        if not isinstance(groups, list) or len(groups) != len(want["groups"]):
            raise ProtocolError(f"result contest {cid}: expected {len(want['groups'])} groups")
        for g, w in zip(groups, want["groups"], strict=True):
            label = group_label(w["categories"])
            expect_keys(g, w, f"result contest {cid} group {label}")
            if g["categories"] != w["categories"]:
                raise ProtocolError(
                    f"result contest {cid}: group {g['categories']!r} where {label} was due"
                )
            _counts_differ(g["counts"], w["counts"], f"result contest {cid}, group {label}")
    # The walk above compares values; this compares the one canonical encoding too (a
    # boolean is never a count, an extra nesting never slips through).
    if dumps(body) != dumps(expected_body):
        raise ProtocolError("result: the body is not the canonical expected result")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned lines: the first column left-justified, the others right-justified."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    return [fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]


def _rounds(co: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """A ranked contest's overall count (the report's shape, ``ranked_result.display``):
    each stage's action, then one row per candidate with its votes at every stage (exact,
    as published), and who was elected."""
    stages = co.get("stages") or []
    lines = ["count of all groups, stage by stage:"]
    for s in stages:
        who = s.get("candidate")
        action = str(s.get("action", ""))
        if who is None:
            what = "first preferences" if action == "first-preferences" else action
        else:
            name = names.get(who, who)
            what = f"surplus of {name}" if action == "surplus" else f"exclusion of {name}"
        lines.append(f"  stage {s.get('number')}: {what}")
    candidates = list(stages[0]["votes"]) if stages else []
    header = ["candidate", *(f"stage {s.get('number')}" for s in stages)]
    rows = [[names.get(c, c), *(str(s["votes"].get(c, "-")) for s in stages)] for c in candidates]
    if stages:
        rows.append(["non-transferable", *(str(s.get("non_transferable", "")) for s in stages)])
        lines += _table(header, rows)
    elected = ", ".join(names.get(c, c) for c in co.get("elected", [])) or "none"
    lines.append(f"elected: {elected}")
    return lines


def render_result(manifest: Manifest, body: Mapping[str, Any]) -> str:
    """A plain-text table of a (checked) result body: per contest, one row per candidate
    with the overall count and one column per breakdown group (for a ranked contest, the
    first preferences, then its overall count stage by stage and who was elected), then
    the trustees who decrypted and those absent."""
    lines: list[str] = []
    for co in body["contests"]:
        try:
            contest = manifest.contest(co["id"])
            title = f"{contest.title} ({contest.id})"
            names = {c.id: c.name for c in contest.candidates}
        except KeyError:
            title, names = str(co["id"]), {}
        header = ["candidate", OVERALL] + [group_label(g["categories"]) for g in co["groups"]]
        rows = [
            [names.get(cid, cid), str(n)] + [str(g["counts"][cid]) for g in co["groups"]]
            for cid, n in co["overall"].items()
        ]
        if co.get("kind") == "ranked":
            lines += [f"{title}: first preferences", *_table(header, rows), ""]
            lines += [*_rounds(co, names), ""]
        else:
            lines += [title, *_table(header, rows), ""]
    present = ", ".join(str(i) for i in body["trustees"]) or "none"
    missing = ", ".join(str(i) for i in body["missing"]) or "none"
    lines.append(f"decrypted by trustees {present}; absent: {missing}")
    if body.get("added"):
        lines.append(f"electors added to the roll after opening: {body['added']}")
    return "\n".join(lines)
