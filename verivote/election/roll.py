"""Split credentials and the voter roll.

No single party may be able to vote for an abstainer, so an elector's credential has two
halves from two independent parties named in the manifest: the **registrar**
(``registrar_key``), who knows the electors and their categories and weights, and the
**credential issuer** (``issuer_key``). For each roll *slot* ``s`` (0, 1, 2, … in roll
order), each party makes a secret scalar — ``a_R`` and ``a_I`` — hands it to the elector
over its own channel and publishes only the public half ``A_R = a_R·B`` or ``A_I = a_I·B``
with a proof of possession: an Ed25519 signature by that half's scalar over

    frame("verivote/credential-half", fingerprint, role, slot as 8 bytes big-endian)

(``role`` is ``registrar`` or ``issuer``). The elector's public credential is
``A = A_R + A_I``; its device signs ballots with ``a = a_R + a_I`` (an ordinary Ed25519
signature under ``A``, :class:`~verivote.signatures.ScalarSigner`), so ballot checks are
unchanged. Neither party knows ``a``; stuffing a ballot for an abstainer needs both. The
proofs of possession stop the rogue-key attack: a party that published its half after
seeing the other's could otherwise pick ``A_X = A* − A_other`` for a key ``A*`` it
controls, but it cannot sign for that half. A combined key that is the identity or of
small order is refused.

Entries: ``roll`` (registrar) ``{"part": n, "credentials": [{"half", "pop", "category",
"weight"}, …]}`` and ``issuer`` (issuer) ``{"part": n, "halves": [{"half", "pop"}, …]}``,
parts numbered from 0 and slots consecutive across parts; a credential exists once both
halves of its slot are posted. During voting the roll changes only by public ``amend``
entries signed by the registrar: ``revoke`` (with a reason code, e.g. ``barred``) or
``add`` (one new slot's registrar half, category and weight; at most the manifest's
``max_additions`` in all), completed by an ``issuer`` part with that slot's other half.
A revoked credential's ballots are never counted — including ones cast before the
revocation — and it cannot cast again.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from verivote.election.manifest import Manifest, check_id
from verivote.encoding import frame, from_hex
from verivote.errors import DecodeError, ProtocolError, VerivoteError
from verivote.signatures import (
    SIGNATURE_SIZE,
    ScalarSigner,
    combine_public_keys,
    combine_scalars,
    verify_signature,
)

ROLL_PART_SIZE = 10_000
"""Credentials per ``roll`` or ``issuer`` entry, so no record line grows without bound."""
MAX_WEIGHT = 1_000_000
HALF_LABEL = b"verivote/credential-half"
HALF_PREFIX = "vvh1-"
ROLES = ("registrar", "issuer")


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A complete credential: the combined public key ``A_R + A_I``, the elector's
    category and weight."""

    key: bytes
    category: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Half:
    """One party's public half of slot ``slot``'s credential, with its proof of
    possession."""

    slot: int
    key: bytes
    pop: bytes

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{"half": hex, "pop": hex}``."""
        return {"half": self.key.hex(), "pop": self.pop.hex()}


def half_message(fingerprint: bytes, role: str, slot: int) -> bytes:
    """What a half's scalar signs to prove possession."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    return frame(HALF_LABEL, fingerprint, role.encode(), slot.to_bytes(8, "big"))


def make_halves(
    fingerprint: bytes, role: str, first_slot: int, count: int
) -> tuple[list[ScalarSigner], list[Half]]:
    """``count`` fresh halves for slots ``first_slot`` onwards, made by ``role``: the
    secrets (each for its elector) and the public halves with their proofs."""
    secrets: list[ScalarSigner] = []
    halves: list[Half] = []
    for slot in range(first_slot, first_slot + count):
        signer = ScalarSigner.generate()
        pop = signer.sign(half_message(fingerprint, role, slot))
        secrets.append(signer)
        halves.append(Half(slot, signer.public_key, pop))
    return secrets, halves


def check_half(
    fingerprint: bytes,
    role: str,
    slot: int,
    obj: Any,
    extra: Sequence[str],
    verified: Container[tuple[str, int, bytes, bytes]] = (),
) -> Half:
    """Strictly decode a half (``half``, ``pop`` and the ``extra`` keys) and verify its
    proof of possession for ``role`` and ``slot`` — unless ``(role, slot, half, pop)`` is
    in ``verified`` (proofs already verified, see :class:`Prechecked`). Raises DecodeError
    or InvalidSignature."""
    if not isinstance(obj, dict) or set(obj) != {"half", "pop", *extra}:
        raise DecodeError(
            f"{role} half: expected exactly half, pop{''.join(', ' + e for e in extra)}"
        )
    key = from_hex(obj["half"], 32, f"{role} half")
    pop = from_hex(obj["pop"], SIGNATURE_SIZE, f"{role} half proof")
    if (role, slot, key, pop) not in verified:
        verify_signature(
            key, half_message(fingerprint, role, slot), pop, f"{role} half of slot {slot}: proof"
        )
    return Half(slot, key, pop)


RollItem = tuple[str, int, bytes, bytes, bytes]
"""``(role, slot, half, pop, other)``: a half to precheck, ``other`` the other party's half
of the same slot (b"" when it is not known)."""


@dataclass
class Prechecked:
    """Checks of roll halves already run elsewhere (worker processes reading the record
    ahead, :func:`precheck_halves`), which :class:`Roll` takes instead of running them
    again: the proofs of possession that verified, as ``(role, slot, half, pop)``, and the
    combined keys that passed :func:`~verivote.signatures.combine_public_keys`, by
    ``(registrar half, issuer half)``. Only successes are listed: whatever is not here —
    every failure included — the roll checks and names itself, so the verdict and the
    reasons do not depend on it."""

    halves: set[tuple[str, int, bytes, bytes]] = field(default_factory=set)
    sums: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)

    def add(self, items: Sequence[RollItem], checked: tuple[bytes, list[bytes]]) -> None:
        """Take :func:`precheck_halves`'s answer for ``items``."""
        verified, sums = checked
        for (role, slot, half, pop, other), ok, total in zip(items, verified, sums, strict=True):
            if ok:
                self.halves.add((role, slot, half, pop))
            if total:
                pair = (half, other) if role == "registrar" else (other, half)
                self.sums[pair] = total


def precheck_halves(fingerprint: bytes, items: Sequence[RollItem]) -> tuple[bytes, list[bytes]]:
    """The state-free checks of roll halves, for :class:`Prechecked`: one byte per item (1
    when its proof of possession verifies for its role and slot), and per item the
    combined key of its slot when ``other`` is given, the proof verified and the sum
    passes :func:`~verivote.signatures.combine_public_keys` (b"" otherwise). Never
    raises for bad input."""
    verified = bytearray(len(items))
    sums: list[bytes] = []
    for n, (role, slot, half, pop, other) in enumerate(items):
        total = b""
        try:
            verify_signature(half, half_message(fingerprint, role, slot), pop, "half")
            verified[n] = 1
            if other:
                pair = (half, other) if role == "registrar" else (other, half)
                total = combine_public_keys(*pair, "credential")
        except (VerivoteError, ValueError):
            pass
        sums.append(total)
    return bytes(verified), sums


def _weight(obj: dict[str, Any], manifest: Manifest) -> tuple[str, int]:
    category = obj["category"]
    if category not in manifest.categories:
        raise DecodeError(f"credential: unknown category {category!r}")
    # the manifest's own string: one object per category, not one per elector
    category = manifest.categories[manifest.categories.index(category)]
    weight = obj["weight"]
    if not isinstance(weight, int) or isinstance(weight, bool):
        raise DecodeError("credential: weight must be an integer")
    if not 1 <= weight <= MAX_WEIGHT:
        raise DecodeError(f"credential: weight must be in 1..{MAX_WEIGHT}")
    return category, weight


def half_secret_text(signer: ScalarSigner) -> str:
    """The text an elector keeps for one half: ``vvh1-`` and the scalar in hex."""
    return HALF_PREFIX + signer.scalar.hex()


def credential_from_halves(registrar_text: str, issuer_text: str) -> ScalarSigner:
    """The elector's signing credential ``a_R + a_I`` from the two half texts (see
    :func:`half_secret_text`); raises DecodeError."""
    scalars = []
    for text in (registrar_text, issuer_text):
        if not text.startswith(HALF_PREFIX):
            raise DecodeError(f"a credential half starts with {HALF_PREFIX!r}")
        scalars.append(from_hex(text[len(HALF_PREFIX) :], 32, "credential half"))
    return combine(*(ScalarSigner(s) for s in scalars))


def combine(registrar_half: ScalarSigner, issuer_half: ScalarSigner) -> ScalarSigner:
    """The elector's signing credential from its two secret halves."""
    return ScalarSigner(combine_scalars(registrar_half.scalar, issuer_half.scalar))


def registrar_items(
    halves: Sequence[Half], electors: Iterable[tuple[str, int]]
) -> list[dict[str, Any]]:
    """The registrar's roll items: each half with its elector's ``(category, weight)``."""
    return [
        {**h.to_dict(), "category": category, "weight": weight}
        for h, (category, weight) in zip(halves, electors, strict=True)
    ]


def roll_bodies(
    items: Sequence[dict[str, Any]], part_size: int = ROLL_PART_SIZE
) -> Iterator[dict[str, Any]]:
    """The bodies of the registrar's ``roll`` entries: ``{"part": i, "credentials":
    [...]}`` over :func:`registrar_items`, at most ``part_size`` items each, numbered from 0
    in order (the board refuses a part out of order, a key listed twice and an empty
    part)."""
    for part, start in enumerate(range(0, len(items), part_size)):
        yield {"part": part, "credentials": list(items[start : start + part_size])}


def issuer_bodies(
    halves: Sequence[Half], first_part: int = 0, part_size: int = ROLL_PART_SIZE
) -> Iterator[dict[str, Any]]:
    """The bodies of the issuer's ``issuer`` entries, parts numbered from ``first_part``."""
    for n, start in enumerate(range(0, len(halves), part_size)):
        chunk = halves[start : start + part_size]
        yield {"part": first_part + n, "halves": [h.to_dict() for h in chunk]}


@dataclass(frozen=True, slots=True, repr=False)
class SplitCredentials:
    """What a simulation (or a test) makes for a set of electors in one go: each
    elector's combined signing credential, the public records, and both parties' items.
    Real elections have the two parties make their halves apart (:func:`make_halves`)."""

    credentials: list[ScalarSigner]
    records: list[CredentialRecord]
    registrar: list[dict[str, Any]]
    issuer: list[Half]

    def __repr__(self) -> str:
        return f"<SplitCredentials {len(self.records)} electors>"


def issue_credentials(
    fingerprint: bytes, electors: Sequence[tuple[str, int]], first_slot: int = 0
) -> SplitCredentials:
    """Both parties' halves for ``electors`` (``(category, weight)`` each) in slots
    ``first_slot`` onwards, combined as each elector's device would."""
    r_secrets, r_halves = make_halves(fingerprint, "registrar", first_slot, len(electors))
    i_secrets, i_halves = make_halves(fingerprint, "issuer", first_slot, len(electors))
    credentials = [combine(r, i) for r, i in zip(r_secrets, i_secrets, strict=True)]
    records = [
        CredentialRecord(c.public_key, category, weight)
        for c, (category, weight) in zip(credentials, electors, strict=True)
    ]
    return SplitCredentials(credentials, records, registrar_items(r_halves, electors), i_halves)


def revoke_body(key: bytes, reason: str) -> dict[str, Any]:
    """Body of an ``amend`` entry that revokes the credential ``key`` (the combined key)
    for ``reason`` (an identifier such as ``barred``, ``deceased``, ``duplicate``)."""
    return {"action": "revoke", "key": key.hex(), "reason": check_id(reason, "reason")}


def add_body(item: dict[str, Any], reason: str) -> dict[str, Any]:
    """Body of an ``amend`` entry that adds one slot: ``item`` is the registrar's item
    (half, proof, category, weight) for the next slot."""
    return {"action": "add", "credential": item, "reason": check_id(reason, "reason")}


class Roll:
    """The roll as the log builds it: both parties' halves by slot, every complete
    credential ever listed, which are revoked, and which were added after opening.
    Applying a part or an amendment raises DecodeError for a malformed body and
    ProtocolError for a rule broken (a part out of order, a key listed twice, a
    revocation of an unknown or revoked key); :meth:`status` says whether a key may vote."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.records: dict[bytes, CredentialRecord] = {}
        self.revoked: dict[bytes, str] = {}
        self.added: set[bytes] = set()
        self.additions = 0
        self.parts = 0
        self.issuer_parts = 0
        self._registrar: list[tuple[bytes, str, int]] = []
        self._issuer: list[bytes] = []
        self._halves: set[bytes] = set()
        self.prechecked: Prechecked | None = None
        """Checks run elsewhere for the next part (set and cleared by the verifier)."""

    def __len__(self) -> int:
        return len(self.records)

    @property
    def pending(self) -> int:
        """Slots with only one half posted (their credential does not exist yet)."""
        return abs(len(self._registrar) - len(self._issuer))

    def _stage(self, role: str, objs: list[Any]) -> list[tuple[bytes, str, int]]:
        """Decode and prove ``role``'s halves for its next slots, changing nothing; returns
        ``(half, category, weight)`` each (category and weight only for the registrar)."""
        first = len(self._registrar) if role == "registrar" else len(self._issuer)
        extra = ("category", "weight") if role == "registrar" else ()
        staged: list[tuple[bytes, str, int]] = []
        seen: set[bytes] = set()
        verified = () if self.prechecked is None else self.prechecked.halves
        for n, obj in enumerate(objs):
            half = check_half(self.manifest.fingerprint, role, first + n, obj, extra, verified)
            if half.key in self._halves or half.key in seen:
                raise ProtocolError(f"{role}: half {half.key.hex()[:16]}… listed twice")
            seen.add(half.key)
            category, weight = _weight(obj, self.manifest) if extra else ("", 0)
            staged.append((half.key, category, weight))
        return staged

    def _commit(self, role: str, staged: list[tuple[bytes, str, int]], late: bool) -> None:
        """Combine the slots the staged halves complete, refuse a bad or repeated combined
        key (changing nothing), then add the halves and the new credentials."""
        before_r, before_i = len(self._registrar), len(self._issuer)
        if role == "registrar":
            after_r, after_i = before_r + len(staged), before_i
        else:
            after_r, after_i = before_r, before_i + len(staged)
        new: dict[bytes, CredentialRecord] = {}
        sums = {} if self.prechecked is None else self.prechecked.sums
        for slot in range(min(before_r, before_i), min(after_r, after_i)):
            if role == "registrar":
                key_r, category, weight = staged[slot - before_r]
                key_i = self._issuer[slot]
            else:
                key_r, category, weight = self._registrar[slot]
                key_i = staged[slot - before_i][0]
            key = sums.get((key_r, key_i), b"")
            if not key:
                try:
                    key = combine_public_keys(key_r, key_i, f"credential of slot {slot}")
                except VerivoteError as exc:
                    raise ProtocolError(str(exc)) from None
            if key in self.records or key in new:
                raise ProtocolError(f"credential of slot {slot} is already on the roll")
            new[key] = CredentialRecord(key, category, weight)
        if role == "registrar":
            self._registrar.extend(staged)
        else:
            self._issuer.extend(h for h, _, _ in staged)
        self._halves.update(h for h, _, _ in staged)
        self.records.update(new)
        if late:
            self.added.update(new)

    def apply_part(self, body: Any) -> int:
        """Add a registrar ``roll`` entry's halves; returns how many. Parts come numbered
        from 0 without gaps; each half's proof must verify for its slot; a half may appear
        only once in the roll; a completed slot's combined key must be valid and new.
        Raises DecodeError, InvalidSignature or ProtocolError, and then changes nothing."""
        if not isinstance(body, dict) or set(body) != {"part", "credentials"}:
            raise DecodeError("roll: expected exactly part, credentials")
        if body["part"] != self.parts:
            raise ProtocolError(f"roll: part {body['part']!r} where part {self.parts} was due")
        creds = body["credentials"]
        if not isinstance(creds, list) or not creds:
            raise DecodeError("roll: credentials must be a non-empty list")
        self._commit("registrar", self._stage("registrar", creds), False)
        self.parts += 1
        return len(creds)

    def apply_issuer_part(self, body: Any, voting: bool) -> int:
        """Add an ``issuer`` entry's halves; returns how many. As :meth:`apply_part`; while
        ``voting`` it may only complete slots the registrar added."""
        if not isinstance(body, dict) or set(body) != {"part", "halves"}:
            raise DecodeError("issuer: expected exactly part, halves")
        if body["part"] != self.issuer_parts:
            raise ProtocolError(
                f"issuer: part {body['part']!r} where part {self.issuer_parts} was due"
            )
        halves = body["halves"]
        if not isinstance(halves, list) or not halves:
            raise DecodeError("issuer: halves must be a non-empty list")
        if voting and len(self._issuer) + len(halves) > len(self._registrar):
            raise ProtocolError("issuer: during voting, halves only for slots the registrar added")
        self._commit("issuer", self._stage("issuer", halves), voting)
        self.issuer_parts += 1
        return len(halves)

    def apply_amendment(self, body: Any) -> tuple[str, bytes]:
        """Apply an ``amend`` entry; returns ``(action, key)`` — for an ``add``, the
        registrar half of the new slot (its credential exists once the issuer's half
        follows). Raises ProtocolError once the manifest's ``max_additions`` is reached."""
        if not isinstance(body, dict) or "action" not in body:
            raise DecodeError("amend: expected an object with an action")
        action = body["action"]
        if action == "revoke":
            if set(body) != {"action", "key", "reason"}:
                raise DecodeError("amend revoke: expected exactly action, key, reason")
            check_id(body["reason"], "amend reason")
            key = from_hex(body["key"], 32, "amend key")
            self.status(key)  # must exist and not be revoked already
            self.revoked[key] = body["reason"]
            return action, key
        if action == "add":
            if set(body) != {"action", "credential", "reason"}:
                raise DecodeError("amend add: expected exactly action, credential, reason")
            check_id(body["reason"], "amend reason")
            if self.additions >= self.manifest.max_additions:
                raise AdditionLimit(
                    f"amend add: the manifest allows {self.manifest.max_additions} additions "
                    "after opening"
                )
            self._commit("registrar", self._stage("registrar", [body["credential"]]), True)
            self.additions += 1
            return action, self._registrar[-1][0]
        raise DecodeError(f"amend: unknown action {action!r}")

    @property
    def slots(self) -> tuple[int, int]:
        """How many slots hold the registrar's half and how many the issuer's."""
        return len(self._registrar), len(self._issuer)

    def slot_key(self, slot: int) -> bytes | None:
        """The combined credential of ``slot``, or None while a half is missing."""
        if not 0 <= slot < min(len(self._registrar), len(self._issuer)):
            return None
        return combine_public_keys(self._registrar[slot][0], self._issuer[slot], f"slot {slot}")

    def status(self, key: bytes) -> CredentialRecord:
        """The record of an active credential; raises ProtocolError if the key was never on
        the roll or has been revoked."""
        record = self.records.get(key)
        if record is None:
            raise ProtocolError("credential is not on the roll")
        if key in self.revoked:
            raise ProtocolError(f"credential was revoked ({self.revoked[key]})")
        return record

    def by_category(self) -> Mapping[str, int]:
        """Active credentials per category."""
        counts = dict.fromkeys(self.manifest.categories, 0)
        for key, record in self.records.items():
            if key not in self.revoked:
                counts[record.category] += 1
        return counts


class AdditionLimit(ProtocolError):
    """An ``amend add`` beyond the manifest's ``max_additions``."""
