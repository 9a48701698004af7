"""The voter: encrypts a ballot on the voter's own machine, casts it and keeps the receipt.

The voter's machine reads the manifest and the joint key from the board (the joint key
entry's organiser signature checked against the manifest), encrypts the choices with
proofs, signs the ballot with the elector's credential and posts it; the board answers
with a receipt, which is checked (signed head, inclusion proof, tracking code) before it is
saved. With ``audit``, one encryption of the choices is first posted as an ``audit`` entry
that reveals its nonces (the Benaloh challenge): anyone can check on the board that it
encrypts exactly the voter's choices; it never counts, and a fresh encryption is cast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from verivote.board.client import BoardClient
from verivote.board.receipt import Receipt
from verivote.election.ballot import check_audit, encrypt_ballot, votes_from_choices
from verivote.election.entries import Entry, sign_entry
from verivote.election.manifest import Manifest
from verivote.encoding import from_hex
from verivote.errors import ParameterError, VerivoteError
from verivote.groups.base import Element
from verivote.roles.board_operator import utc_now
from verivote.roles.organiser import NotDue
from verivote.roles.transport import cast, with_retry
from verivote.signatures import Signer

Choices = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class Cast:
    """What casting gave the voter: the receipt, and the audit's receipt if audited."""

    receipt: Receipt
    audit: Receipt | None


class Election:
    """What a voter's machine needs from the board: manifest and joint key."""

    def __init__(self, client: BoardClient) -> None:
        self.client = client
        self.manifest: Manifest = with_retry(client.manifest)
        self.joint_key = self._joint_key()
        self.ballot_context = self.manifest.ballot_context(self.joint_key)

    def _joint_key(self) -> Element:
        m = self.manifest
        for entry in with_retry(self.client.entries):
            if entry.type == "open":
                break
            if entry.type == "joint_key":
                entry.verify(m.organiser_key, m.fingerprint, "joint key signed by the organiser")
                raw = from_hex(entry.body["public_key"], m.group.element_size, "joint key")
                return m.group.decode_element(raw)
        raise NotDue("the election is not open yet (no joint key on the board)")

    def parse_choices(self, specs: Sequence[str]) -> dict[str, list[str]]:
        """``CONTEST=CANDIDATE[,CANDIDATE…]`` items (an empty right side is a blank vote
        for that contest) as choices, checked against the manifest. Raises
        ParameterError naming the bad item."""
        out: dict[str, list[str]] = {}
        for spec in specs:
            contest, sep, right = spec.partition("=")
            if not sep:
                raise ParameterError(f"{spec!r}: expected CONTEST=CANDIDATE")
            if contest in out:
                raise ParameterError(f"{spec!r}: contest {contest!r} given twice")
            out[contest] = [c for c in right.split(",") if c]
        votes_from_choices(self.manifest, out)
        return out

    def _sign(self, credential: Signer, entry_type: str, body: dict[str, object]) -> Entry:
        return sign_entry(credential, self.manifest.fingerprint, entry_type, dict(body), utc_now())

    def vote(self, credential: Signer, choices: Choices, *, audit: bool = False) -> Cast:
        """Encrypt ``choices`` for ``credential`` and cast the ballot (after an audited
        encryption with ``audit``). Raises ParameterError for choices the manifest does not
        allow, PostRejected when the board refuses the ballot."""
        m = self.manifest
        audit_receipt = None
        if audit:
            audited = encrypt_ballot(m, self.joint_key, credential, choices)
            body = audited.audit_body()
            _, votes, _ = check_audit(m, self.joint_key, self.ballot_context, body)
            if votes != votes_from_choices(m, choices):
                raise VerivoteError("the audited ballot does not encrypt the choices")
            audit_receipt = cast(self.client, self._sign(credential, "audit", body))
        prepared = encrypt_ballot(m, self.joint_key, credential, choices)
        receipt = cast(self.client, self._sign(credential, "ballot", prepared.body))
        return Cast(receipt, audit_receipt)
