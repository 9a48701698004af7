"""An :class:`~verivote.election.state.ElectionState` as a JSON object, and back: what a
board keeps as a snapshot so that a restart replays only the entries after it.

The object is canonical: one state, one object (and so, through
:func:`verivote.encoding.dumps`, one byte string). Small sets are written sorted; what the
rule book fills in log order (the tracking codes and ciphertexts seen, the latest ballot
per credential, the roll, revocations, announcements, decryptions) is written in that
order, which is itself a function of the log. Bulk data — the roll's halves and keys, the
duplicate-detection keys, the latest ballot per credential — is packed into fixed-width
records and written as standard base64 (with padding; any other spelling is refused), so
a state of a million entries stays a few tens of megabytes and decodes without a JSON
object per item.

What is not written: the ballot checker (made again on first use) and the ballot context
(recomputed from the joint key). A sealing party that has not sealed yet is written as the
indices of the entries it posted; its running SHA-512 (which Python cannot export) is
recomputed from those entries on decoding — reading them through ``entry_at``, which the
board makes check each line against its Merkle leaf. A state whose ranked counting has
begun (after the tally of an election with a ranked contest) has no snapshot
(:func:`snapshottable`): the board then keeps the one from before it.

:func:`decode_state` trusts its input's meaning (the board accepts only a snapshot signed
with its own key, :mod:`verivote.board.snapshot`) but not its shape: a malformed object
raises :class:`~verivote.errors.DecodeError`, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import operator
import struct
from collections.abc import Callable, Collection
from typing import Any

from verivote.election import keygen, tally
from verivote.election.ceremony import Announcement
from verivote.election.entries import Entry
from verivote.election.manifest import Manifest
from verivote.election.roll import CredentialRecord, Roll
from verivote.election.seal import ENTRY_ROLE, SEALING, Seals
from verivote.election.state import COUNTING, DONE, SETUP, VOTING, ElectionState
from verivote.elgamal import Ciphertext
from verivote.encoding import from_hex
from verivote.errors import DecodeError, ParameterError
from verivote.groups.base import Element, Group
from verivote.proofs.codec import expect_keys

FORMAT = 1
"""The version of this object; any other is refused."""
KEY_SIZE = 32
DEDUP_SIZE = 16
INDEX_SIZE = 8
_FIELDS = (
    "format",
    "index",
    "phase",
    "last_time",
    "ballot_entries",
    "audit_entries",
    "keygen",
    "seals",
    "joint_key",
    "roll",
    "latest",
    "excluded",
    "trackers",
    "ciphertexts",
    "accumulator",
    "tally",
    "decryptions",
    "result",
)


def snapshottable(state: ElectionState) -> bool:
    """Whether :func:`encode_state` can write ``state``: it holds a manifest and its
    ranked counting (if any) has not begun."""
    return state.manifest is not None and state.ranked is None


# ---------------------------------------------------------------------- packing
def pack_b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def unpack_b64(text: Any, width: int, what: str) -> bytes:
    """Decode :func:`pack_b64`'s spelling only, of a whole number of ``width``-byte
    records; raises DecodeError."""
    if not isinstance(text, str):
        raise DecodeError(f"{what}: expected base64 text")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError(f"{what}: not base64") from None
    if pack_b64(data) != text or len(data) % width:
        raise DecodeError(f"{what}: not {width}-byte records in canonical base64")
    return data


def _records(data: bytes, width: int) -> list[bytes]:
    return [data[i : i + width] for i in range(0, len(data), width)]


def pack_ints(values: Collection[int], width: int) -> str:
    """Non-negative integers as ``width``-byte (8 or 16) big-endian records, in the given
    order. Raises struct.error or OverflowError for one that does not fit."""
    if width == INDEX_SIZE:
        return pack_b64(struct.pack(f">{len(values)}Q", *values))
    return pack_b64(b"".join(map(operator.methodcaller("to_bytes", width, "big"), values)))


def unpack_ints(text: Any, width: int, what: str) -> list[int]:
    """The integers of :func:`pack_ints`; raises DecodeError."""
    data = unpack_b64(text, width, what)
    if width == INDEX_SIZE:
        return list(struct.unpack(f">{len(data) // width}Q", data))
    return [(high << 64) | low for high, low in struct.iter_unpack(">QQ", data)]


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DecodeError(f"{what}: expected a non-negative integer")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DecodeError(f"{what}: expected a string")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise DecodeError(f"{what}: expected a list")
    return value


def _pairs(value: Any, what: str) -> list[tuple[int, int]]:
    out = []
    for item in _list(value, what):
        if not isinstance(item, list) or len(item) != 2:
            raise DecodeError(f"{what}: expected pairs")
        out.append((_int(item[0], what), _int(item[1], what)))
    return out


def _element(group: Group, value: Any, what: str) -> Element:
    return group.decode_element(from_hex(value, group.element_size, what))


# ---------------------------------------------------------------------- encoding
def encode_state(state: ElectionState) -> dict[str, Any]:
    """The canonical object of ``state``; ValueError unless :func:`snapshottable`."""
    if not snapshottable(state):
        raise ValueError("this state has no snapshot (no manifest, or ranked counting begun)")
    assert state.keygen is not None and state.seals is not None
    assert state.roll is not None and state.accumulator is not None
    return {
        "format": FORMAT,
        "index": state.index,
        "phase": state.phase,
        "last_time": state.last_time,
        "ballot_entries": state.ballot_entries,
        "audit_entries": state.audit_entries,
        "keygen": _encode_keygen(state.keygen),
        "seals": _encode_seals(state.seals),
        "joint_key": None if state.joint_key is None else state.joint_key.hex(),
        "roll": _encode_roll(state.roll),
        "latest": {
            "keys": pack_b64(b"".join(state.latest)),
            "indices": pack_ints(list(state.latest.values()), INDEX_SIZE),
        },
        "excluded": pack_ints(sorted(state.excluded), INDEX_SIZE),
        "trackers": pack_ints(state.seen_trackers.keys(), DEDUP_SIZE),
        "ciphertexts": pack_ints(state.seen_ciphertexts.keys(), DEDUP_SIZE),
        "accumulator": _encode_accumulator(state.accumulator),
        "tally": None if state.tally is None else state.tally.to_dict(),
        "decryptions": [[j, [e.hex() for e in es]] for j, es in state.decryptions.items()],
        "result": state.result,
    }


def _encode_keygen(k: keygen.KeyCeremony) -> dict[str, Any]:
    return {
        "schedule": None if k.schedule is None else k.schedule.to_dict(),
        "announcements": [
            [i, [c.hex() for c in a.commitments]] for i, a in k.announcements.items()
        ],
        "shares": [list(p) for p in sorted(k.shares)],
        "complaints": [list(p) for p in k.complaints],
        "justified": [list(p) for p in sorted(k.justified)],
        "qualified": list(k.qualified),
    }


def _encode_seals(seals: Seals) -> dict[str, Any]:
    return {
        "sealed": sorted(seals.sealed),
        "entries": {
            role: [] if role in seals.sealed else list(seals.indices[role]) for role in SEALING
        },
    }


def _encode_roll(roll: Roll) -> dict[str, Any]:
    # The roll's slots are private to it; its records are the complete slots, in slot order.
    categories = {c: n for n, c in enumerate(roll.manifest.categories)}
    meta = b"".join(
        categories[c].to_bytes(2, "big") + w.to_bytes(4, "big") for _, c, w in roll._registrar
    )
    return {
        "registrar": pack_b64(b"".join(h for h, _, _ in roll._registrar)),
        "registrar_meta": pack_b64(meta),
        "issuer": pack_b64(b"".join(roll._issuer)),
        "keys": pack_b64(b"".join(roll.records)),
        "revoked": [[k.hex(), reason] for k, reason in roll.revoked.items()],
        "added": sorted(k.hex() for k in roll.added),
        "additions": roll.additions,
        "parts": roll.parts,
        "issuer_parts": roll.issuer_parts,
    }


def _encode_accumulator(acc: tally.TallyAccumulator) -> dict[str, Any]:
    products, counts, weights, classes = acc.parts()
    return {
        "products": {c: [ct.to_dict() for ct in cts] for c, cts in products.items()},
        "counts": counts,
        "weights": weights,
        "classes": {c: [[w, n] for w, n in cls.items()] for c, cls in classes.items()},
    }


# ---------------------------------------------------------------------- decoding
def decode_state(
    obj: Any,
    manifest: Manifest,
    lookup: Callable[[int], Entry] | None,
    entry_at: Callable[[int], Entry],
) -> ElectionState:
    """The state :func:`encode_state` wrote as ``obj``, for the election of ``manifest``
    (the log's entry 0), with ``lookup`` as its entry look-up; ``entry_at`` reads the
    entries of a sealing party that has not sealed. Raises DecodeError for an object of
    another format or shape, or a sealing party's entry that is not of that party."""
    expect_keys(obj, _FIELDS, "state")
    if obj["format"] != FORMAT:
        raise DecodeError(f"state format {obj['format']!r}, this verivote reads {FORMAT}")
    group = manifest.group
    st = ElectionState(lookup=lookup)
    st.manifest = manifest
    st.index = _int(obj["index"], "state index")
    phase = obj["phase"]
    if phase not in (SETUP, VOTING, COUNTING, DONE):
        raise DecodeError(f"state phase {phase!r}")
    st.phase = phase
    st.last_time = _str(obj["last_time"], "state last_time")
    st.ballot_entries = _int(obj["ballot_entries"], "state ballot_entries")
    st.audit_entries = _int(obj["audit_entries"], "state audit_entries")
    st.keygen = _decode_keygen(obj["keygen"], manifest)
    st.seals = _decode_seals(obj["seals"], manifest, entry_at)
    if obj["joint_key"] is not None:
        st.joint_key = _element(group, obj["joint_key"], "state joint key")
        group.precompute(st.joint_key)
        st.ballot_context = manifest.ballot_context(st.joint_key)
    st.roll = _decode_roll(obj["roll"], manifest)
    expect_keys(obj["latest"], ("keys", "indices"), "state latest")
    keys = _records(unpack_b64(obj["latest"]["keys"], KEY_SIZE, "state latest"), KEY_SIZE)
    indices = unpack_ints(obj["latest"]["indices"], INDEX_SIZE, "state latest")
    if len(keys) != len(indices):
        raise DecodeError("state latest: as many keys as indices")
    st.latest = dict(zip(keys, indices, strict=True))
    st.excluded = set(unpack_ints(obj["excluded"], INDEX_SIZE, "state excluded"))
    trackers = unpack_ints(obj["trackers"], DEDUP_SIZE, "state trackers")
    alphas = unpack_ints(obj["ciphertexts"], DEDUP_SIZE, "state ciphertexts")
    st.seen_trackers, st.seen_ciphertexts = dict.fromkeys(trackers), dict.fromkeys(alphas)
    if len(st.seen_trackers) != len(trackers) or len(st.seen_ciphertexts) != len(alphas):
        raise DecodeError("state: a tracking code or ciphertext key repeats")
    st.accumulator = _decode_accumulator(obj["accumulator"], manifest)
    if obj["tally"] is not None:
        st.tally = tally.EncryptedTally.from_dict(manifest, obj["tally"])
    for item in _list(obj["decryptions"], "state decryptions"):
        if not isinstance(item, list) or len(item) != 2:
            raise DecodeError("state decryptions: expected [trustee, elements] pairs")
        what = "state decryption"
        st.decryptions[_int(item[0], what)] = [
            _element(group, e, what) for e in _list(item[1], what)
        ]
    result = obj["result"]
    if result is not None and not isinstance(result, dict):
        raise DecodeError("state result: expected an object")
    st.result = result
    return st


def _decode_keygen(obj: Any, manifest: Manifest) -> keygen.KeyCeremony:
    fields = ("schedule", "announcements", "shares", "complaints", "justified", "qualified")
    expect_keys(obj, fields, "state keygen")
    k = keygen.KeyCeremony(manifest)
    if obj["schedule"] is not None:
        s = obj["schedule"]
        expect_keys(s, ("run", *keygen.PHASES), "state schedule")
        times = [_str(s[p], "state schedule") for p in keygen.PHASES]
        k.schedule = keygen.Schedule(from_hex(s["run"], keygen.RUN_SIZE, "state run"), *times)
    for item in _list(obj["announcements"], "state announcements"):
        if not isinstance(item, list) or len(item) != 2:
            raise DecodeError("state announcements: expected [trustee, commitments] pairs")
        i = _int(item[0], "state announcement")
        what = f"state announcement {i}"
        cs = tuple(_element(manifest.group, c, what) for c in _list(item[1], what))
        k.announcements[i] = Announcement(i, cs)
    k.shares = set(_pairs(obj["shares"], "state shares"))
    k.complaints = _pairs(obj["complaints"], "state complaints")
    k.justified = set(_pairs(obj["justified"], "state justified"))
    k.qualified = tuple(_int(i, "state qualified") for i in _list(obj["qualified"], "qualified"))
    return k


def _decode_seals(obj: Any, manifest: Manifest, entry_at: Callable[[int], Entry]) -> Seals:
    expect_keys(obj, ("sealed", "entries"), "state seals")
    seals = Seals(manifest.fingerprint)
    for role in _list(obj["sealed"], "state sealed"):
        if role not in SEALING:
            raise DecodeError(f"state sealed: {role!r} does not seal")
        seals.sealed.add(role)
    expect_keys(obj["entries"], SEALING, "state seal entries")
    for role in SEALING:
        for index in _list(obj["entries"][role], "state seal entries"):
            entry = entry_at(_int(index, "state seal entry"))
            if ENTRY_ROLE.get(entry.type) != role:
                raise DecodeError(f"state seals: entry {index} is not the {role}'s")
            seals.after(entry, index)
    return seals


def _decode_roll(obj: Any, manifest: Manifest) -> Roll:
    fields = ("registrar", "registrar_meta", "issuer", "keys", "revoked", "added")
    expect_keys(obj, (*fields, "additions", "parts", "issuer_parts"), "state roll")
    roll = Roll(manifest)
    halves = _records(unpack_b64(obj["registrar"], KEY_SIZE, "state registrar"), KEY_SIZE)
    meta = _records(unpack_b64(obj["registrar_meta"], 6, "state registrar meta"), 6)
    issuer = _records(unpack_b64(obj["issuer"], KEY_SIZE, "state issuer"), KEY_SIZE)
    keys = _records(unpack_b64(obj["keys"], KEY_SIZE, "state keys"), KEY_SIZE)
    if len(meta) != len(halves) or len(keys) != min(len(halves), len(issuer)):
        raise DecodeError("state roll: the slots do not match the keys")
    cats = manifest.categories
    registrar = []
    for half, m in zip(halves, meta, strict=True):
        n, weight = int.from_bytes(m[:2], "big"), int.from_bytes(m[2:], "big")
        if n >= len(cats):
            raise DecodeError("state roll: unknown category")
        registrar.append((half, cats[n], weight))
    roll._registrar = registrar
    roll._issuer = issuer
    roll._halves = set(halves) | set(issuer)
    roll.records = {
        key: CredentialRecord(key, category, weight)
        for key, (_, category, weight) in zip(keys, registrar, strict=False)
    }
    for item in _list(obj["revoked"], "state revoked"):
        if not isinstance(item, list) or len(item) != 2:
            raise DecodeError("state revoked: expected [key, reason] pairs")
        roll.revoked[from_hex(item[0], KEY_SIZE, "state revoked")] = _str(item[1], "reason")
    roll.added = {from_hex(k, KEY_SIZE, "state added") for k in _list(obj["added"], "added")}
    roll.additions = _int(obj["additions"], "state additions")
    roll.parts = _int(obj["parts"], "state parts")
    roll.issuer_parts = _int(obj["issuer_parts"], "state issuer parts")
    return roll


def _decode_accumulator(obj: Any, manifest: Manifest) -> tally.TallyAccumulator:
    expect_keys(obj, ("products", "counts", "weights", "classes"), "state accumulator")
    cats = manifest.categories
    for key in ("products", "counts", "weights", "classes"):
        expect_keys(obj[key], cats, f"state accumulator {key}")
    group = manifest.group
    products = {
        c: [Ciphertext.from_dict(group, ct) for ct in _list(obj["products"][c], "products")]
        for c in cats
    }
    counts = {c: _int(obj["counts"][c], "state counts") for c in cats}
    weights = {c: _int(obj["weights"][c], "state weights") for c in cats}
    classes: dict[str, dict[int, int]] = {}
    for c in cats:
        classes[c] = {}
        for item in _list(obj["classes"][c], "state classes"):
            if not isinstance(item, list) or len(item) != 2:
                raise DecodeError("state classes: expected [weight, count] pairs")
            classes[c][_int(item[0], "state class weight")] = _int(item[1], "state class")
    acc = tally.TallyAccumulator(manifest)
    try:
        acc.restore(products, counts, weights, classes)
    except ParameterError as exc:
        raise DecodeError(f"state accumulator: {exc}") from None
    return acc
