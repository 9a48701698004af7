"""The one exception tree of verivote.

Every failure the library reports is a subclass of :class:`VerivoteError`. Where a failure is
also naturally a builtin (bad input is a ``ValueError``), the class inherits from both, so a
caller may catch either. Verification functions return ``None`` on success and raise one of
these on failure; the message names the check and the reason.
"""

from __future__ import annotations


class VerivoteError(Exception):
    """Base class of every error raised by verivote."""


class DecodeError(VerivoteError, ValueError):
    """Bytes or JSON that are not the canonical encoding of the expected object."""


class InvalidElement(DecodeError):
    """A group element that is not canonical, not in the group or not in the prime-order
    subgroup, or the identity where the identity is not allowed."""


class InvalidScalar(DecodeError):
    """A scalar that is not canonical (not reduced modulo the group order)."""


class ParameterError(VerivoteError, ValueError):
    """An argument out of its documented range (a limit, a threshold, a group name…)."""


class VerificationError(VerivoteError):
    """Base class of every failed cryptographic or protocol check."""


class InvalidProof(VerificationError):
    """A zero-knowledge proof whose verification equation does not hold."""


class InvalidSignature(VerificationError):
    """A signature that does not verify under the stated key."""


class InvalidInclusion(VerificationError):
    """A Merkle inclusion proof that does not lead to the stated root."""


class InvalidConsistency(VerificationError):
    """A Merkle consistency proof that does not link the two stated tree heads."""


class ProtocolError(VerificationError):
    """An entry or action that breaks a rule of the election protocol (unknown credential,
    ballot after close, duplicate ciphertext, …)."""


class DiscreteLogError(VerivoteError, ValueError):
    """A discrete logarithm outside the range the solver was asked to search."""


class EntryRejected(VerificationError):
    """A board entry that breaks a rule; ``check`` names the rule (``ballot.proof``,
    ``tally.recompute``…) and ``reason`` says what was wrong."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


class StoreError(VerivoteError):
    """A board store that cannot be used: not a verivote store, an unsupported schema
    version, or a stored log that does not replay."""


class ConflictError(StoreError):
    """A write to a board store lost a race: another writer appended at the index (or
    published the tree head) this one expected. Nothing was written; catch up and retry."""


class ReceiptError(VerificationError):
    """A voter's receipt that the board does not honour, in plain words. ``kind`` says
    which way: ``election`` (the receipt is for another election), ``signature`` (its
    tree head is not signed by this election's board), ``receipt`` (the receipt
    contradicts itself), ``missing`` (the ballot is not at its entry), ``rewritten`` (the
    board's history changed after the receipt) or ``board`` (the board cannot back its
    own signed head)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
