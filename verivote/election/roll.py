"""Credentials and the voter roll.

The registrar — independent of the board operator — makes one Ed25519 key per elector,
hands the secret seed to the elector and publishes only the public key with the elector's
category and weight (``roll`` entries, signed by the registrar, before voting opens). A
ballot is signed with its credential, so the operator, who never sees a secret credential,
cannot cast a ballot for an abstainer: stuffing needs the registrar's collusion, and even
then the roll's published size bounds it.

During voting the roll changes only by public ``amend`` entries signed by the registrar:
``revoke`` (with a reason code, e.g. ``barred``) or ``add``. A revoked credential's ballots
are never counted — including ones cast before the revocation — and it cannot cast again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from verivote.election.manifest import Manifest, check_id
from verivote.encoding import from_hex
from verivote.errors import DecodeError, ProtocolError
from verivote.signatures import Signer

ROLL_PART_SIZE = 10_000
"""Credentials per ``roll`` entry, so no record line grows without bound."""
MAX_WEIGHT = 1_000_000
SECRET_PREFIX = "vv1-"


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """The public half of a credential, as the roll publishes it: the elector's 32-byte
    Ed25519 public key, category and weight. :meth:`from_dict` rejects a key of another
    length, a category the manifest does not list and a weight outside
    ``1..MAX_WEIGHT`` (DecodeError)."""

    key: bytes
    category: str
    weight: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{"key": hex, "category": str, "weight": int}``."""
        return {"key": self.key.hex(), "category": self.category, "weight": self.weight}

    @classmethod
    def from_dict(cls, obj: Any, manifest: Manifest) -> CredentialRecord:
        """Strict decoding: a 32-byte key, a category of the manifest, 1 <= weight."""
        if not isinstance(obj, dict) or set(obj) != {"key", "category", "weight"}:
            raise DecodeError("credential: expected exactly key, category, weight")
        category = obj["category"]
        if category not in manifest.categories:
            raise DecodeError(f"credential: unknown category {category!r}")
        weight = obj["weight"]
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise DecodeError("credential: weight must be an integer")
        if not 1 <= weight <= MAX_WEIGHT:
            raise DecodeError(f"credential: weight must be in 1..{MAX_WEIGHT}")
        return cls(from_hex(obj["key"], 32, "credential key"), category, weight)


def credential_secret_text(signer: Signer) -> str:
    """The text an elector keeps: ``vv1-`` and the seed in hex. It is the credential's
    secret: whoever holds it can vote in the elector's name, so it goes to the elector
    alone and never to the board."""
    return SECRET_PREFIX + signer.seed.hex()


def credential_from_text(text: str) -> Signer:
    """Parse an elector's secret credential text; raises DecodeError."""
    if not text.startswith(SECRET_PREFIX):
        raise DecodeError(f"a credential starts with {SECRET_PREFIX!r}")
    return Signer(from_hex(text[len(SECRET_PREFIX) :], 32, "credential"))


def issue_credentials(
    categories: Iterable[tuple[str, int]],
) -> tuple[list[Signer], list[CredentialRecord]]:
    """Make one credential per ``(category, weight)``: the secrets (for the electors) and
    the public records (for the roll), in the same order, each from the OS CSPRNG.
    Categories and weights are checked when the roll is posted (:meth:`Roll.apply_part`),
    against the manifest."""
    secrets: list[Signer] = []
    records: list[CredentialRecord] = []
    for category, weight in categories:
        signer = Signer.generate()
        secrets.append(signer)
        records.append(CredentialRecord(signer.public_key, category, weight))
    return secrets, records


def roll_bodies(
    records: list[CredentialRecord], part_size: int = ROLL_PART_SIZE
) -> Iterator[dict[str, Any]]:
    """The bodies of the ``roll`` entries: ``{"part": i, "credentials": [...]}``, at most
    ``part_size`` credentials each, numbered from 0 in order (the board refuses a part out
    of order, a key listed twice and an empty part)."""
    for part, start in enumerate(range(0, len(records), part_size)):
        chunk = records[start : start + part_size]
        yield {"part": part, "credentials": [r.to_dict() for r in chunk]}


def revoke_body(key: bytes, reason: str) -> dict[str, Any]:
    """Body of an ``amend`` entry that revokes ``key`` for ``reason`` (an identifier such as
    ``barred``, ``deceased``, ``duplicate``)."""
    return {"action": "revoke", "key": key.hex(), "reason": check_id(reason, "reason")}


def add_body(record: CredentialRecord, reason: str) -> dict[str, Any]:
    """Body of an ``amend`` entry that adds ``record`` to the roll for ``reason`` (an
    identifier such as ``late-registration``; DecodeError otherwise). The board refuses a
    key already on the roll."""
    return {"action": "add", "credential": record.to_dict(), "reason": check_id(reason, "reason")}


class Roll:
    """The roll as the log builds it: every credential ever listed and which are revoked.
    :meth:`apply_part` and :meth:`apply_amendment` raise DecodeError for a malformed body
    and ProtocolError for a rule broken (a part out of order, a key listed twice, a
    revocation of an unknown or revoked key); :meth:`status` says whether a key may vote."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.records: dict[bytes, CredentialRecord] = {}
        self.revoked: dict[bytes, str] = {}
        self.parts = 0

    def __len__(self) -> int:
        return len(self.records)

    def apply_part(self, body: Any) -> int:
        """Add a ``roll`` entry's credentials; returns how many. Parts must come numbered
        from 0 without gaps; a key may appear only once in the whole roll."""
        if not isinstance(body, dict) or set(body) != {"part", "credentials"}:
            raise DecodeError("roll: expected exactly part, credentials")
        if body["part"] != self.parts:
            raise ProtocolError(f"roll: part {body['part']!r} where part {self.parts} was due")
        creds = body["credentials"]
        if not isinstance(creds, list) or not creds:
            raise DecodeError("roll: credentials must be a non-empty list")
        new = [CredentialRecord.from_dict(c, self.manifest) for c in creds]
        seen: set[bytes] = set()
        for record in new:
            if record.key in self.records or record.key in seen:
                raise ProtocolError(f"roll: credential {record.key.hex()[:16]}… listed twice")
            seen.add(record.key)
        for record in new:
            self.records[record.key] = record
        self.parts += 1
        return len(new)

    def apply_amendment(self, body: Any) -> tuple[str, bytes]:
        """Apply an ``amend`` entry; returns ``(action, key)``."""
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
            record = CredentialRecord.from_dict(body["credential"], self.manifest)
            if record.key in self.records:
                raise ProtocolError("amend add: credential is already on the roll")
            self.records[record.key] = record
            return action, record.key
        raise DecodeError(f"amend: unknown action {action!r}")

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
