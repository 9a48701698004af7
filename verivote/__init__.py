"""verivote: end-to-end verifiable elections.

Votes are encrypted on the voter's side with exponential ElGamal and proven well formed;
every entry goes on an append-only bulletin board; trustees decrypt the homomorphic tally
k-of-n with proofs; and an independent verifier checks the whole published record.

The names a ballot service needs are importable from here (``from verivote import
Manifest, encrypt_ballot, ElectionClient, verify_record``), in the order of an election:

* **the election** — :class:`Manifest`, :class:`Contest`, :class:`Candidate`,
  :class:`TrusteeInfo`, :func:`format_time`; the authors' keys are :class:`Signer`;
* **the key ceremony** — :class:`TrusteeSecrets`, :func:`make_announcement`,
  :func:`make_share`, :func:`open_share`, :func:`make_complaint`,
  :func:`make_justification`, :func:`make_joint_key_body`, :func:`combined_secret_share`;
* **the roll** (split credentials: a registrar's half and an issuer's half) —
  :func:`make_halves`, :func:`registrar_items`, :func:`roll_bodies`, :func:`issuer_bodies`,
  :func:`issue_credentials`, :class:`CredentialRecord`, :func:`revoke_body`,
  :func:`add_body`, :func:`half_secret_text`, :func:`credential_from_halves` (the voter's
  :class:`ScalarSigner`), :func:`seal_body`;
* **ballots** — :func:`encrypt_ballot`, :class:`PreparedBallot`, :func:`check_ballot`;
* **the board** — :class:`Board` (in process), :class:`ElectionClient` and
  :class:`BoardClient` (over HTTP), :class:`Entry`, :func:`sign_entry`;
* **counting** — :func:`make_decryption`, :func:`combine`, :func:`make_result_body`;
* **counting preferential ballots** (plaintext rankings, e.g. a BLT file) —
  :func:`read_blt`, :func:`parse_blt`, :func:`build_profile`, :class:`Profile`,
  :func:`alternative_vote`, :func:`scottish_stv`, :func:`plurality`, :func:`approval`,
  :class:`CountReport`, :class:`BltError`;
* **receipts** — :class:`Receipt`, :func:`read_receipt`, :func:`check_receipt`;
* **verification** — :func:`verify_record`, :class:`Report`, :class:`Failure`;
* **errors** — one tree under :class:`VerivoteError`.

Importing ``verivote`` loads none of these until one is used (each is imported on first
access), so ``import verivote`` stays as light as the verifier: no web or database module
is ever loaded by it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# module -> the names it gives the public API; each imported on first access (PEP 562).
_MODULES: dict[str, tuple[str, ...]] = {
    "verivote.errors": (
        "VerivoteError",
        "DecodeError",
        "InvalidElement",
        "InvalidScalar",
        "ParameterError",
        "VerificationError",
        "InvalidProof",
        "InvalidSignature",
        "InvalidInclusion",
        "InvalidConsistency",
        "ProtocolError",
        "DiscreteLogError",
        "EntryRejected",
        "StoreError",
        "ConflictError",
        "ReceiptError",
    ),
    "verivote.groups": ("Group", "Element", "Scalar", "get_group"),
    "verivote.signatures": ("Signer", "ScalarSigner", "verify_signature"),
    "verivote.election.seal": ("seal_body",),
    "verivote.election.keygen": ("make_schedule", "with_run"),
    "verivote.election.manifest": (
        "Manifest",
        "Contest",
        "Candidate",
        "TrusteeInfo",
        "format_time",
    ),
    "verivote.election.ceremony": (
        "TrusteeSecrets",
        "make_announcement",
        "check_announcement",
        "make_share",
        "open_share",
        "make_complaint",
        "make_justification",
        "make_joint_key_body",
        "joint_public_key",
        "own_share",
        "combined_secret_share",
    ),
    "verivote.election.roll": (
        "CredentialRecord",
        "Roll",
        "issue_credentials",
        "roll_bodies",
        "revoke_body",
        "add_body",
        "make_halves",
        "registrar_items",
        "issuer_bodies",
        "half_secret_text",
        "credential_from_halves",
    ),
    "verivote.election.ballot": (
        "PreparedBallot",
        "encrypt_ballot",
        "check_ballot",
        "votes_from_choices",
    ),
    "verivote.election.entries": ("Entry", "sign_entry", "entry_from_line"),
    "verivote.election.state": ("ElectionState",),
    "verivote.election.tally": ("EncryptedTally",),
    "verivote.election.decryption": (
        "make_decryption",
        "combine",
        "make_result_body",
        "render_result",
    ),
    "verivote.board.log": ("Board",),
    "verivote.board.heads": ("TreeHead",),
    "verivote.board.client": ("BoardClient", "BoardClientError", "PostRejected"),
    "verivote.board.api": ("ElectionClient", "CastBallot"),
    "verivote.board.receipt": ("Receipt", "read_receipt"),
    "verivote.board.receipt_check": ("check_receipt", "ReceiptCheck", "RecordSource"),
    "verivote.verify.record": ("verify_record", "Report", "Failure", "RecordUnreadable"),
    "verivote.count": (
        "read_blt",
        "parse_blt",
        "build_profile",
        "Profile",
        "alternative_vote",
        "scottish_stv",
        "plurality",
        "approval",
        "CountReport",
        "BltError",
    ),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "BltError",
    "Board",
    "BoardClient",
    "BoardClientError",
    "Candidate",
    "CastBallot",
    "ConflictError",
    "Contest",
    "CountReport",
    "CredentialRecord",
    "DecodeError",
    "DiscreteLogError",
    "ElectionClient",
    "ElectionState",
    "Element",
    "EncryptedTally",
    "Entry",
    "EntryRejected",
    "Failure",
    "Group",
    "InvalidConsistency",
    "InvalidElement",
    "InvalidInclusion",
    "InvalidProof",
    "InvalidScalar",
    "InvalidSignature",
    "Manifest",
    "ParameterError",
    "PostRejected",
    "PreparedBallot",
    "Profile",
    "ProtocolError",
    "Receipt",
    "ReceiptCheck",
    "ReceiptError",
    "RecordSource",
    "RecordUnreadable",
    "Report",
    "Roll",
    "Scalar",
    "ScalarSigner",
    "Signer",
    "StoreError",
    "TreeHead",
    "TrusteeInfo",
    "TrusteeSecrets",
    "VerificationError",
    "VerivoteError",
    "__version__",
    "add_body",
    "alternative_vote",
    "approval",
    "build_profile",
    "check_announcement",
    "check_ballot",
    "check_receipt",
    "combine",
    "combined_secret_share",
    "credential_from_halves",
    "encrypt_ballot",
    "entry_from_line",
    "format_time",
    "get_group",
    "half_secret_text",
    "issue_credentials",
    "issuer_bodies",
    "joint_public_key",
    "make_announcement",
    "make_complaint",
    "make_decryption",
    "make_halves",
    "make_joint_key_body",
    "make_justification",
    "make_result_body",
    "make_schedule",
    "make_share",
    "open_share",
    "own_share",
    "parse_blt",
    "plurality",
    "read_blt",
    "read_receipt",
    "registrar_items",
    "render_result",
    "revoke_body",
    "roll_bodies",
    "scottish_stv",
    "seal_body",
    "sign_entry",
    "verify_record",
    "verify_signature",
    "votes_from_choices",
    "with_run",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time see __getattr__
    from verivote.board.api import CastBallot, ElectionClient
    from verivote.board.client import BoardClient, BoardClientError, PostRejected
    from verivote.board.heads import TreeHead
    from verivote.board.log import Board
    from verivote.board.receipt import Receipt, read_receipt
    from verivote.board.receipt_check import ReceiptCheck, RecordSource, check_receipt
    from verivote.count import (
        BltError,
        CountReport,
        Profile,
        alternative_vote,
        approval,
        build_profile,
        parse_blt,
        plurality,
        read_blt,
        scottish_stv,
    )
    from verivote.election.ballot import (
        PreparedBallot,
        check_ballot,
        encrypt_ballot,
        votes_from_choices,
    )
    from verivote.election.ceremony import (
        TrusteeSecrets,
        check_announcement,
        combined_secret_share,
        joint_public_key,
        make_announcement,
        make_complaint,
        make_joint_key_body,
        make_justification,
        make_share,
        open_share,
        own_share,
    )
    from verivote.election.decryption import (
        combine,
        make_decryption,
        make_result_body,
        render_result,
    )
    from verivote.election.entries import Entry, entry_from_line, sign_entry
    from verivote.election.keygen import make_schedule, with_run
    from verivote.election.manifest import Candidate, Contest, Manifest, TrusteeInfo, format_time
    from verivote.election.roll import (
        CredentialRecord,
        Roll,
        add_body,
        credential_from_halves,
        half_secret_text,
        issue_credentials,
        issuer_bodies,
        make_halves,
        registrar_items,
        revoke_body,
        roll_bodies,
    )
    from verivote.election.seal import seal_body
    from verivote.election.state import ElectionState
    from verivote.election.tally import EncryptedTally
    from verivote.errors import (
        ConflictError,
        DecodeError,
        DiscreteLogError,
        EntryRejected,
        InvalidConsistency,
        InvalidElement,
        InvalidInclusion,
        InvalidProof,
        InvalidScalar,
        InvalidSignature,
        ParameterError,
        ProtocolError,
        ReceiptError,
        StoreError,
        VerificationError,
        VerivoteError,
    )
    from verivote.groups import Element, Group, Scalar, get_group
    from verivote.signatures import ScalarSigner, Signer, verify_signature
    from verivote.verify.record import Failure, RecordUnreadable, Report, verify_record


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first access (then keep it here)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'verivote' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
