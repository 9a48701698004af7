"""A board's election as typed, checked objects: what a ballot service reads and casts.

:class:`ElectionClient` sits on :class:`~verivote.board.client.BoardClient` (which speaks
HTTP and decodes strictly) and returns the objects the rest of verivote works with instead
of hex and dicts: the :class:`~verivote.election.manifest.Manifest`, the joint key as a
group :class:`~verivote.groups.Element`, decoded :class:`~verivote.election.entries.Entry`
objects, the :class:`~verivote.election.roll.Roll`, a checked
:class:`~verivote.board.receipt.Receipt`.

Nothing is taken on the board's word. The setup (manifest, key ceremony, roll, open) is
replayed through the election's rule book, so the joint key is the one the trustees'
proven announcements give and the roll is the one the registrar signed; amendments are
checked against the registrar's key. An entry the rule book refuses raises the
:class:`~verivote.errors.EntryRejected` that names the failed check: the board served
something its own rules forbid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verivote.board.client import BoardClient, BoardClientError, BoardSource
from verivote.board.receipt import Receipt
from verivote.board.receipt_check import ReceiptCheck, check_receipt
from verivote.election.ballot import PreparedBallot, encrypt_ballot
from verivote.election.entries import Entry, sign_entry
from verivote.election.manifest import Manifest
from verivote.election.roll import Roll
from verivote.election.state import SETUP, ElectionState
from verivote.errors import EntryRejected, VerivoteError
from verivote.groups import Element
from verivote.signatures import Signer

PAGE = 500
"""Entries asked for per request while replaying the setup."""


@dataclass(frozen=True, slots=True)
class CastBallot:
    """A ballot cast through :meth:`ElectionClient.cast`: the board's receipt (checked)
    and the ballot as the voter's device prepared it (its secrets never left it)."""

    receipt: Receipt
    ballot: PreparedBallot

    @property
    def tracking_code(self) -> str:
        """The ballot's tracking code, as the receipt and the record show it."""
        return self.receipt.tracking_code


class ElectionClient:
    """The election on the board at ``board`` (a URL or a :class:`BoardClient`), read as
    typed objects and checked by the rule book.

    Raises :class:`~verivote.board.client.BoardClientError` when the board cannot be
    reached or answers something unusable, and :class:`~verivote.errors.EntryRejected`
    when an entry it serves breaks the election's rules.
    """

    def __init__(self, board: BoardClient | str, timeout: float = 30.0) -> None:
        self.client = board if isinstance(board, BoardClient) else BoardClient(board, timeout)
        self._setup: ElectionState | None = None

    # ------------------------------------------------------------------ reading
    def manifest(self) -> Manifest:
        """The election's manifest, its organiser signature checked."""
        return self.client.manifest()

    def entries(
        self, start: int = 0, end: int | None = None, entry_type: str | None = None
    ) -> list[Entry]:
        """Entries ``start`` to ``end`` (exclusive; to the end by default), strictly
        decoded (signatures are not checked here; :meth:`setup` and the verifier check
        them); with ``entry_type``, only the entries of that type."""
        found = self.client.entries(start, end)
        return found if entry_type is None else [e for e in found if e.type == entry_type]

    def _pages(self, start: int = 0) -> Iterator[tuple[int, Entry]]:
        index = start
        while True:
            page = self.client.entries(index, index + PAGE)
            if not page:
                return
            for entry in page:
                yield index, entry
                index += 1

    def setup(self) -> ElectionState:
        """The election's state once voting opened (or as far as the setup has gone): the
        setup entries replayed through the rule book, every signature and proof checked.
        Cached once voting is open. Raises EntryRejected (with the entry's index in the
        reason) for an entry the rules refuse."""
        if self._setup is not None:
            return self._setup
        state = ElectionState()
        for index, entry in self._pages():
            if state.manifest is not None and state.phase != SETUP:
                break
            try:
                state.apply(entry)
            except EntryRejected as exc:
                raise EntryRejected(exc.check, f"entry {index}: {exc.reason}") from None
        if state.manifest is None:
            raise BoardClientError("the board holds no election")
        if state.manifest.fingerprint != self.manifest().fingerprint:
            raise BoardClientError("the board's entry 0 is not the manifest it serves")
        if state.phase != SETUP:
            self._setup = state
        return state

    def joint_key(self) -> Element:
        """The election's joint public key, recomputed from the qualified trustees'
        proven announcements. Raises BoardClientError if the ceremony has not ended."""
        key = self.setup().joint_key
        if key is None:
            raise BoardClientError("the key ceremony has not ended: no joint key yet")
        return key

    def roll(self) -> Roll:
        """The roll as it stands now: the registrar's signed roll parts and the credential
        issuer's signed halves (each credential the sum of the two), then every signed
        amendment (revocations and additions) posted since. Reads the whole log. Raises
        EntryRejected for a roll part, issuer part or amendment the rules refuse."""
        state = self.setup()
        if state.roll is None:
            raise BoardClientError("the board holds no roll yet")
        manifest = self.manifest()
        roll = Roll(manifest)
        checks = {"roll": "roll.part", "amend": "amend.roll", "issuer": "issuer.part"}
        voting = False
        for index, entry in self._pages():
            voting = voting or entry.type == "open"
            if entry.type not in checks:
                continue
            issuer = entry.type == "issuer"
            try:
                entry.verify(
                    manifest.issuer_key if issuer else manifest.registrar_key,
                    manifest.fingerprint,
                    f"{entry.type} signed by the {'issuer' if issuer else 'registrar'}",
                )
                if entry.type == "roll":
                    roll.apply_part(entry.body)
                elif issuer:
                    roll.apply_issuer_part(entry.body, voting)
                else:
                    roll.apply_amendment(entry.body)
            except VerivoteError as exc:
                raise EntryRejected(checks[entry.type], f"entry {index}: {exc}") from None
        return roll

    def check_receipt(self, receipt: Receipt) -> ReceiptCheck:
        """Check a voter's receipt against this board: the ballot is at its entry and the
        board's history since the receipt only grew. Raises
        :class:`~verivote.errors.ReceiptError` saying in plain words what is wrong."""
        return check_receipt(receipt, BoardSource(self.client))

    # ------------------------------------------------------------------ writing
    def prepare(self, credential: Signer, choices: Mapping[str, Sequence[str]]) -> PreparedBallot:
        """Encrypt ``choices`` (``{contest id: [candidate ids]}``) for ``credential``
        under the checked joint key, with every proof. Raises
        :class:`~verivote.errors.ParameterError` for an unknown contest or candidate or
        too many choices."""
        return encrypt_ballot(self.manifest(), self.joint_key(), credential, choices)

    def cast(self, credential: Signer, choices: Mapping[str, Sequence[str]]) -> CastBallot:
        """Encrypt ``choices`` on this machine, sign the ballot with ``credential``, cast
        it and return the board's receipt, checked (its head signed by the board key, its
        proof leading to it). Raises :class:`~verivote.board.client.PostRejected` with the
        board's check when the board refuses the ballot (``ballot.credential`` for a
        credential not on the roll or revoked, ``ballot.time`` outside voting hours…)."""
        prepared = self.prepare(credential, choices)
        entry = self._sign(credential, "ballot", prepared.body)
        return CastBallot(self.client.post_ballot(entry), prepared)

    def audit(self, ballot: PreparedBallot, credential: Signer) -> Receipt:
        """Benaloh challenge: post ``ballot`` as an ``audit`` entry, revealing its votes
        and nonces so anyone can re-encrypt it; the ballot is then spent (cast a fresh
        one). Returns the board's receipt for the audit entry."""
        entry = self._sign(credential, "audit", ballot.audit_body())
        return self.client.post_ballot(entry)

    def _sign(self, credential: Signer, entry_type: str, body: dict[str, Any]) -> Entry:
        # the time is the board's to set; the placeholder is not signed
        return sign_entry(credential, self.manifest().fingerprint, entry_type, body, "-")
