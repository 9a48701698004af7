"""Decryption of the mixed ranked ballots and their public count.

Once a ranked contest's mix chain is complete (:mod:`verivote.election.mixing`), qualified
trustees post a ``mix_decryption`` entry each: for every ciphertext of the last output,
the share ``D = α^x`` and a Chaum–Pedersen proof in commitment form
(:mod:`verivote.proofs.shuffle_decryption`), checked as one batch where the group allows.
With at least ``threshold`` of them the organiser posts ``ranked_result``: every
decrypted ballot (its ``R`` field values) per group in the last output's order, the
invalid ones with their reason (:func:`verivote.count.check_ranking`), the count of each
group and of all groups together (the count's canonical dict form), with the seed of
every lot drawn from the record (:func:`lot_seed`). The rule book recomputes all of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from verivote.count import (
    RULES,
    SCALE,
    CountReport,
    InvalidRanking,
    check_ranking,
    profile_from_fields,
)
from verivote.election.manifest import Contest, Manifest
from verivote.election.mixing import ContestMix
from verivote.election.ranked import field_value
from verivote.election.tally import group_label
from verivote.elgamal import DiscreteLog, lagrange_coefficient
from verivote.encoding import dumps, frame, from_hex
from verivote.errors import DecodeError, DiscreteLogError, EntryRejected
from verivote.groups.base import Element, Scalar
from verivote.proofs.codec import expect_keys
from verivote.proofs.shuffle_decryption import (
    DecryptionProof,
    InvalidDecryption,
    check_decryptions,
    prove_decryption,
)

SHARE_DOMAIN = b"verivote/mix-decryption"
LOT_DOMAIN = b"verivote/ranked-lot"

#: shares[group][row][column]
Shares = list[list[list[Element]]]


def share_context(
    manifest: Manifest, contest_id: str, group: int, trustee: int, row: int, column: int
) -> bytes:
    """Context of one share's proof: ``frame("verivote/mix-decryption", fingerprint,
    contest id, u16 group position, u16 trustee, u32 row, u16 column)``."""
    return frame(
        SHARE_DOMAIN,
        manifest.fingerprint,
        contest_id.encode(),
        group.to_bytes(2, "big"),
        trustee.to_bytes(2, "big"),
        row.to_bytes(4, "big"),
        column.to_bytes(2, "big"),
    )


def lot_seed(manifest: Manifest, contest_id: str, last_mix: bytes) -> bytes:
    """The seed of every lot of a contest's counts: SHA-256 of ``frame("verivote/ranked-
    lot", fingerprint, contest id, canonical body of the last mix)``."""
    return hashlib.sha256(
        frame(LOT_DOMAIN, manifest.fingerprint, contest_id.encode(), last_mix)
    ).digest()


def make_mix_decryption(
    manifest: Manifest, mix: ContestMix, trustee: int, secret_share: Scalar
) -> dict[str, Any]:
    """Trustee ``trustee``'s ``mix_decryption`` body for the last output of ``mix``:
    ``{"trustee", "contest", "groups": [{"categories", "shares": [[{"d", "proof"}, …]
    per row]}]}``."""
    groups = []
    for gi, (cats, rows) in enumerate(mix.groups):
        out_rows = []
        for ri, row in enumerate(rows):
            out = []
            for k, ct in enumerate(row):
                ctx = share_context(manifest, mix.contest.id, gi, trustee, ri, k)
                d, proof = prove_decryption(secret_share, ct.alpha, ctx)
                out.append({"d": d.hex(), "proof": proof.to_dict()})
            out_rows.append(out)
        groups.append({"categories": list(cats), "shares": out_rows})
    return {"trustee": trustee, "contest": mix.contest.id, "groups": groups}


def check_mix_decryption(
    body: Any,
    manifest: Manifest,
    mix: ContestMix,
    trustee: int,
    share_key: Element,
    *,
    proofs: bool = True,
) -> Shares:
    """Decode a ``mix_decryption`` body and check every share's proof against
    ``share_key`` (batched where the group allows); return the shares. Raises
    EntryRejected: ``mix_decryption.decode`` (keys, groups, counts, encodings) or
    ``mix_decryption.proof`` naming the group, row and rank of the first false share.
    With ``proofs`` false the proofs are decoded but not checked (a replay of entries a
    board already accepted; never the verifier's or the board's own check)."""
    group = manifest.group
    cid = mix.contest.id
    size, scalar_size = group.element_size, group.scalar_size
    raw: list[bytes] = []  # d, a1, a2 of every share, decoded all at once below
    responses: list[Scalar] = []
    where: list[str] = []
    try:
        expect_keys(body, ("trustee", "contest", "groups"), "mix_decryption")
        groups = body["groups"]
        if not isinstance(groups, list) or len(groups) != len(mix.groups):
            raise DecodeError(f"mix_decryption: expected {len(mix.groups)} groups")
        for (cats, rows), obj in zip(mix.groups, groups, strict=True):
            label = group_label(cats)
            expect_keys(obj, ("categories", "shares"), f"mix_decryption group {label}")
            if obj["categories"] != list(cats) or not isinstance(obj["shares"], list):
                raise DecodeError(f"mix_decryption: group {obj['categories']!r} where {label}")
            if len(obj["shares"]) != len(rows):
                raise DecodeError(f"mix_decryption group {label}: expected {len(rows)} rows")
            for ri, (row, srow) in enumerate(zip(rows, obj["shares"], strict=True)):
                if not isinstance(srow, list) or len(srow) != len(row):
                    raise DecodeError(f"mix_decryption group {label} row {ri}: wrong width")
                for k, share in enumerate(srow):
                    expect_keys(share, ("d", "proof"), "mix_decryption share")
                    proof = share["proof"]
                    expect_keys(proof, ("a1", "a2", "s"), "decryption proof")
                    raw.append(from_hex(share["d"], size, "share d"))
                    raw.append(from_hex(proof["a1"], size, "decryption proof a1"))
                    raw.append(from_hex(proof["a2"], size, "decryption proof a2"))
                    s = from_hex(proof["s"], scalar_size, "decryption proof s")
                    responses.append(group.decode_scalar(s))
                    where.append(f"contest {cid}, group {label}, row {ri}, rank {k + 1}")
        elements = group.decode_elements(raw)
    except DecodeError as exc:
        raise EntryRejected("mix_decryption.decode", str(exc)) from None
    items: list[tuple[Element, Element, Element, DecryptionProof, bytes]] = []
    shares: Shares = []
    n = 0
    for gi, (_cats, rows) in enumerate(mix.groups):
        group_shares = []
        for ri, row in enumerate(rows):
            row_shares = []
            for k, ct in enumerate(row):
                d, a1, a2 = elements[3 * n : 3 * n + 3]
                ctx = share_context(manifest, cid, gi, trustee, ri, k)
                items.append((share_key, ct.alpha, d, DecryptionProof(a1, a2, responses[n]), ctx))
                row_shares.append(d)
                n += 1
            group_shares.append(row_shares)
        shares.append(group_shares)
    if not proofs:
        return shares
    try:
        check_decryptions(items)
    except InvalidDecryption as exc:
        at = where[exc.index] if exc.index is not None else f"contest {cid}"
        raise EntryRejected("mix_decryption.proof", f"trustee {trustee}, {at}: {exc}") from None
    return shares


def decrypt_rows(
    manifest: Manifest, mix: ContestMix, shares: Mapping[int, Shares]
) -> list[list[list[int]]]:
    """The field values of every row of the last output, per group, from the verified
    shares of at least ``threshold`` trustees (all given take part). Raises
    EntryRejected (``ranked_result.ballots``) when a ciphertext does not decrypt to a
    value in ``[0, M]``."""
    group = manifest.group
    present = sorted(shares)
    coeff = {i: lagrange_coefficient(i, present, group) for i in present}
    bound = len(mix.contest.candidates)
    solver = DiscreteLog.for_group(group, bound)
    out = []
    for gi, (cats, rows) in enumerate(mix.groups):
        values = []
        for ri, row in enumerate(rows):
            fields = []
            for k, ct in enumerate(row):
                alpha_x = group.identity
                for i in present:
                    alpha_x = alpha_x * shares[i][gi][ri][k] ** coeff[i]
                try:
                    fields.append(solver.solve(ct.beta / alpha_x))
                except DiscreteLogError:
                    raise EntryRejected(
                        "ranked_result.ballots",
                        f"group {group_label(cats)}, row {ri}, rank {k + 1}: "
                        f"the shares give no value in [0, {bound}]",
                    ) from None
            values.append(fields)
        out.append(values)
    return out


def count_report(contest: Contest, ballots: Sequence[Sequence[int]], seed: bytes) -> CountReport:
    """The count of ``contest``'s decrypted ballots (field values, one row per ballot)
    under its rule, with lots drawn from ``seed``; invalid rankings are reported, not
    counted."""
    ids = [c.id for c in contest.candidates]
    decoded = [[field_value(v) for v in row] for row in ballots]
    profile = profile_from_fields(ids, decoded, seats=contest.seats)
    return RULES[contest.rule](profile, contest.seats, seed)


def _count(mix: ContestMix, ballots: Sequence[Sequence[int]], seed: bytes) -> dict[str, Any]:
    return count_report(mix.contest, ballots, seed).to_dict()


def make_ranked_result_body(
    manifest: Manifest, mix: ContestMix, values: list[list[list[int]]], trustees: Sequence[int]
) -> dict[str, Any]:
    """The ``ranked_result`` body from the decrypted field values per group:
    ``{"contest", "trustees", "seed", "groups": [{"categories", "ballots", "invalid",
    "count"}], "overall"}``."""
    seed = lot_seed(manifest, mix.contest.id, mix.last_mix)
    m = len(mix.contest.candidates)
    groups = []
    everything: list[list[int]] = []
    for (cats, _rows), ballots in zip(mix.groups, values, strict=True):
        invalid = []
        for i, row in enumerate(ballots):
            try:
                check_ranking([field_value(v) for v in row], m)
            except InvalidRanking as exc:
                invalid.append({"ballot": i, "reason": exc.reason})
        groups.append(
            {
                "categories": list(cats),
                "ballots": [list(row) for row in ballots],
                "invalid": invalid,
                "count": _count(mix, ballots, seed),
            }
        )
        everything.extend(ballots)
    return {
        "contest": mix.contest.id,
        "trustees": sorted(trustees),
        "seed": seed.hex(),
        "groups": groups,
        "overall": _count(mix, everything, seed),
    }


def _first_difference(got: Any, want: Any, what: str) -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in want:
            if key not in got:
                return f"{what}: {key} is missing"
            if dumps(got[key]) != dumps(want[key]):
                return _first_difference(got[key], want[key], f"{what} {key}")
        return f"{what}: unexpected keys {sorted(set(got) - set(want))}"
    if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if dumps(g) != dumps(w):
                return _first_difference(g, w, f"{what} [{i}]")
    return f"{what}: published {dumps(got)[:80]!r}, recomputed {dumps(want)[:80]!r}"


def check_ranked_result(body: Any, expected: dict[str, Any]) -> None:
    """Return if the posted ``ranked_result`` body is exactly ``expected``; otherwise raise
    EntryRejected naming the first difference, checked in this order:
    ``ranked_result.decode`` (keys), ``ranked_result.trustees``, ``ranked_result.seed``,
    then per group ``ranked_result.ballots`` (categories or a decrypted value),
    ``ranked_result.invalid`` (an invalid ballot not listed, or a valid one listed),
    ``ranked_result.count`` (a group's count: a stage, a total, the elected), then the
    overall count (``ranked_result.count``)."""
    try:
        expect_keys(body, expected, "ranked_result")
    except DecodeError as exc:
        raise EntryRejected("ranked_result.decode", str(exc)) from None
    if dumps(body["contest"]) != dumps(expected["contest"]):
        raise EntryRejected("ranked_result.decode", f"contest {body['contest']!r}")
    if dumps(body["trustees"]) != dumps(expected["trustees"]):
        raise EntryRejected(
            "ranked_result.trustees",
            f"published {body['trustees']!r}, decrypted by {expected['trustees']!r}",
        )
    if dumps(body["seed"]) != dumps(expected["seed"]):
        raise EntryRejected("ranked_result.seed", "the seed is not drawn from the last mix")
    got_groups, want_groups = body["groups"], expected["groups"]
    if not isinstance(got_groups, list) or len(got_groups) != len(want_groups):
        raise EntryRejected("ranked_result.ballots", f"expected {len(want_groups)} groups")
    for got, want in zip(got_groups, want_groups, strict=True):
        label = group_label(want["categories"])
        if not isinstance(got, dict) or set(got) != set(want):
            raise EntryRejected("ranked_result.decode", f"group {label}: wrong keys")
        for key, check in (
            ("categories", "ranked_result.ballots"),
            ("ballots", "ranked_result.ballots"),
            ("invalid", "ranked_result.invalid"),
            ("count", "ranked_result.count"),
        ):
            if dumps(got[key]) != dumps(want[key]):
                raise EntryRejected(
                    check, _first_difference(got[key], want[key], f"group {label} {key}")
                )
    if dumps(body["overall"]) != dumps(expected["overall"]):
        raise EntryRejected(
            "ranked_result.count",
            _first_difference(body["overall"], expected["overall"], "overall"),
        )


def display(body: Mapping[str, Any]) -> dict[str, Any]:
    """A checked ``ranked_result`` in the shape of a ``result`` contest for reports: first
    preferences overall and per group (whole votes), the elected and the overall stages."""

    def firsts(count: Mapping[str, Any]) -> dict[str, int]:
        votes = count["stages"][0]["votes"] if count["stages"] else {}
        return {k: int(v.replace(".", "")) // SCALE for k, v in votes.items()}

    return {
        "id": body["contest"],
        "kind": "ranked",
        "overall": firsts(body["overall"]),
        "groups": [
            {"categories": g["categories"], "counts": firsts(g["count"])} for g in body["groups"]
        ],
        "elected": body["overall"]["elected"],
        "stages": body["overall"]["stages"],
    }
