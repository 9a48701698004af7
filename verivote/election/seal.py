"""Seals: the registrar and the credential issuer each state, before the close, how many
roll entries they posted and what they were, so a board that withheld one is caught.

A board that never publishes, say, the registrar's revocation of an elector leaves a
record that is consistent in itself: the organiser and the trustees count it, and the
barred elector's ballot with it. The registrar has a receipt for each entry it posted
(:mod:`verivote.board.author_receipt`), and before the close it posts a ``seal`` entry::

    {"role": "registrar" | "issuer", "entries": n, "hash": hex (64 bytes)}

``entries`` is the number of entries it posted — for the registrar every ``roll`` and
``amend`` entry, for the issuer every ``issuer`` entry — and ``hash`` is

    SHA-512( frame("verivote/seal", fingerprint, role)
             ‖ frame(type, canonical body) for each of those entries, in log order )

(``frame`` writes each part as a 4-byte big-endian length and its bytes; the pieces are
concatenated, so the hash can be computed entry by entry). The author computes it from what
it posted, the rule book from what the log holds; they must agree [``seal.counts``]. Each
party seals once [``seal.duplicate``], during voting; it posts nothing after its seal
[``entry.order``]; the close needs both seals [``close.seals``]. The seal hashes bodies, not
record lines: the board's times are not the author's to know in advance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from verivote.election.entries import Entry
from verivote.encoding import dumps, frame, from_hex
from verivote.errors import DecodeError, EntryRejected
from verivote.proofs.codec import expect_keys

LABEL = b"verivote/seal"
SEALING = ("registrar", "issuer")
"""The parties that seal, in the order of the ``close`` check."""
ENTRY_ROLE = {"roll": "registrar", "amend": "registrar", "issuer": "issuer"}
"""Which sealing party authors each entry type it seals."""


class _Running:
    """One party's running count and hash."""

    def __init__(self, fingerprint: bytes, role: str) -> None:
        self.count = 0
        self.digest = hashlib.sha512(frame(LABEL, fingerprint, role.encode()))

    def add(self, entry_type: str, body: bytes) -> None:
        self.count += 1
        self.digest.update(frame(entry_type.encode(), body))


def seal_body(
    fingerprint: bytes, role: str, posted: Iterable[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The ``seal`` body for ``role`` over the ``(type, body)`` of every entry it posted,
    in the order they were posted. Raises ValueError for a role that does not seal."""
    if role not in SEALING:
        raise ValueError(f"only {SEALING} seal their entries")
    running = _Running(fingerprint, role)
    for entry_type, body in posted:
        running.add(entry_type, dumps(body))
    return {"role": role, "entries": running.count, "hash": running.digest.hexdigest()}


@dataclass
class Seals:
    """The rule book's side: each sealing party's running count and hash, and its seal."""

    fingerprint: bytes
    running: dict[str, _Running] = field(init=False)
    sealed: set[str] = field(default_factory=set)
    indices: dict[str, list[int]] = field(init=False)
    """Where each party's counted entries are on the log (a snapshot keeps these: Python
    cannot export a running hash)."""

    def __post_init__(self) -> None:
        self.running = {role: _Running(self.fingerprint, role) for role in SEALING}
        self.indices = {role: [] for role in SEALING}

    def before(self, entry: Entry) -> None:
        """Refuse an entry of a party that has already sealed (``entry.order``)."""
        role = ENTRY_ROLE.get(entry.type)
        if role in self.sealed:
            raise EntryRejected("entry.order", f"a {entry.type} entry after the {role}'s seal")

    def after(self, entry: Entry, index: int) -> None:
        """Count an accepted entry of a sealing party (at ``index`` on the log)."""
        role = ENTRY_ROLE.get(entry.type)
        if role is not None:
            self.running[role].add(entry.type, entry.body_bytes)
            self.indices[role].append(index)

    @staticmethod
    def role_of(body: Any) -> str:
        """The party a ``seal`` body names; ``seal.decode`` unless it is one that seals."""
        role = body.get("role") if isinstance(body, dict) else None
        if role not in SEALING:
            raise EntryRejected("seal.decode", f"role must be one of {SEALING}")
        return str(role)

    def seal(self, entry: Entry, role: str) -> None:
        """Check a ``seal`` entry (its signature checked by the caller): once per party,
        and its count and hash those of the party's entries on the log."""
        if role in self.sealed:
            raise EntryRejected("seal.duplicate", f"the {role} sealed twice")
        try:
            expect_keys(entry.body, ("entries", "hash", "role"), "seal")
            digest = from_hex(entry.body["hash"], 64, "seal hash")
            count = entry.body["entries"]
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise DecodeError("seal entries: expected a non-negative integer")
        except DecodeError as exc:
            raise EntryRejected("seal.decode", str(exc)) from None
        running = self.running[role]
        if count != running.count or digest != running.digest.digest():
            raise EntryRejected(
                "seal.counts",
                f"the {role} sealed {count} entries with hash {digest.hex()[:16]}…, the log "
                f"holds {running.count} with hash {running.digest.hexdigest()[:16]}…: an "
                "entry it posted is missing or changed",
            )
        self.sealed.add(role)

    def missing(self) -> list[str]:
        """The parties that have not sealed."""
        return [role for role in SEALING if role not in self.sealed]
