"""The entry envelope: what one line of ``board.jsonl`` holds.

An entry is the canonical JSON object ``{"body": {...}, "sig": hex, "time": str,
"type": str}``:

* ``type`` — one of :data:`ENTRY_TYPES`;
* ``body`` — the type's content, written by its author;
* ``sig`` — the author's Ed25519 signature of :func:`signing_message`
  ``(fingerprint, type, body)``; the author is fixed by the type (organiser, registrar, a
  trustee named in the body, or the credential named in the body);
* ``time`` — when the board accepted it (``YYYY-MM-DDTHH:MM:SSZ``), set by the board and
  covered by its signed tree heads, not by the author's signature.

The signature binds the election fingerprint (the manifest hash), so an entry cannot be
moved to another election. The ``election`` entry itself is signed over an empty
fingerprint: it *is* the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verivote.election.manifest import check_time
from verivote.encoding import dumps, frame, from_hex, loads
from verivote.errors import DecodeError
from verivote.signatures import SIGNATURE_SIZE, Signer, verify_signature

ENTRY_TYPES = (
    "election",
    "ceremony",
    "trustee",
    "share",
    "complaint",
    "justification",
    "joint_key",
    "roll",
    "issuer",
    "open",
    "amend",
    "ballot",
    "audit",
    "seal",
    "close",
    "tally",
    "decryption",
    "mix",
    "mix_decryption",
    "ranked_result",
    "result",
)


def signing_message(fingerprint: bytes, entry_type: str, body: dict[str, Any] | bytes) -> bytes:
    """The bytes an entry's author signs (``body`` as a dict or as its canonical bytes)."""
    raw = body if isinstance(body, bytes) else dumps(body)
    return frame(b"verivote/entry/v1", fingerprint, entry_type.encode(), raw)


@dataclass(frozen=True, slots=True)
class Entry:
    """One signed board entry: its ``type``, the ``time`` the board gave it, its ``body``
    and its author's ``signature`` over the election fingerprint, the type and the
    canonical body (the time is not signed: the board sets it).

    Constructing one checks nothing; entries from outside come through
    :func:`entry_from_line` or :func:`entry_from_dict`, which decode strictly, and
    :meth:`verify` checks the signature."""

    type: str
    time: str
    body: dict[str, Any]
    signature: bytes
    line: bytes | None = field(default=None, compare=False, repr=False)
    """The canonical record line this entry was decoded from, when it was."""

    @property
    def body_bytes(self) -> bytes:
        """The canonical JSON of the body. Decoded entries slice it out of their line (whose
        keys are sorted, so the body comes first and the signature right after it)."""
        if self.line is not None:
            return self.line[8 : self.line.rindex(b',"sig":"')]
        return dumps(self.body)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the record line."""
        return {
            "type": self.type,
            "time": self.time,
            "body": self.body,
            "sig": self.signature.hex(),
        }

    def to_line(self) -> bytes:
        """The canonical bytes of the record line (no trailing newline)."""
        return self.line if self.line is not None else dumps(self.to_dict())

    def verify(self, public_key: bytes, fingerprint: bytes, what: str) -> None:
        """Check the author's signature; raises InvalidSignature naming ``what``."""
        message = signing_message(fingerprint, self.type, self.body_bytes)
        verify_signature(public_key, message, self.signature, what)


def sign_entry(
    signer: Signer, fingerprint: bytes, entry_type: str, body: dict[str, Any], time: str
) -> Entry:
    """Make an entry of ``entry_type`` with ``body`` signed by ``signer`` for the election
    of ``fingerprint`` (``b""`` for the election entry itself), timed ``time``. Raises
    DecodeError for an unknown entry type or a body with no canonical JSON encoding
    (a float, a non-string key…), before signing anything."""
    if entry_type not in ENTRY_TYPES:
        raise DecodeError(f"unknown entry type {entry_type!r}")
    dumps(body)  # refuse bodies that have no canonical encoding before signing
    signature = signer.sign(signing_message(fingerprint, entry_type, body))
    return Entry(entry_type, time, body, signature)


def entry_from_dict(obj: Any, line: bytes | None = None) -> Entry:
    """Strictly decode a parsed record line (``line``: its canonical bytes, if known);
    raises DecodeError."""
    if not isinstance(obj, dict) or set(obj) != {"type", "time", "body", "sig"}:
        raise DecodeError("entry: expected exactly the keys body, sig, time, type")
    entry_type = obj["type"]
    if entry_type not in ENTRY_TYPES:
        raise DecodeError(f"entry: unknown type {entry_type!r}")
    if not isinstance(obj["body"], dict):
        raise DecodeError("entry: body must be an object")
    return Entry(
        entry_type,
        check_time(obj["time"], "entry time"),
        obj["body"],
        from_hex(obj["sig"], SIGNATURE_SIZE, "entry signature"),
        line,
    )


def entry_from_line(line: bytes) -> Entry:
    """Strictly decode one canonical record line (without its newline): canonical JSON of
    an object with exactly ``type`` (a known one), ``time`` (a record time), ``body`` (an
    object) and ``sig`` (64 bytes in hex); raises DecodeError otherwise. The signature is
    not checked here (:meth:`Entry.verify`)."""
    return entry_from_dict(loads(line), bytes(line))
