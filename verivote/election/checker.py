"""The state-free half of checking a ballot entry, fit to run in worker processes.

Everything about a ballot that does not depend on the rest of the log — its encoding, its
signature by the credential it names, every proof — is checked here by a
:class:`BallotChecker` that knows only the manifest, the joint key and the roll's
categories and weights. The stateful half (phase, voting hours, whether the credential is
still on the roll, duplicates, which ballot of a credential counts) stays in
:class:`~verivote.election.state.ElectionState`, which consumes a :class:`BallotResult` in
log order and raises the same named checks, in the same order, as when it checks a ballot
itself.

A checker may add every ballot it passed to its own partial tally ("speculatively"); the
state then takes out again, by re-reading them, the few it refuses or that a later ballot
or a revocation supersedes. Partial tallies from several workers merge by multiplication.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from verivote.election import ballot as ballots
from verivote.election.ballot_batch import MALFORMED, Outcome, check_ballots
from verivote.election.entries import Entry, entry_from_line
from verivote.election.manifest import Manifest
from verivote.election.tally import TallyAccumulator
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, VerificationError
from verivote.groups.base import Element


def _malformed(index: int, entry: Entry, exc: Exception) -> BallotResult:
    reason = f"malformed entry ({type(exc).__name__}: {exc})"
    return BallotResult(index, entry.time, b"", ("ballot.decode", reason))


def dedup_key(data: bytes) -> int:
    """A 128-bit key for duplicate detection (memory: one small int per item)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


def identity_alpha(manifest: Manifest, selections: list[list[Ciphertext]]) -> str | None:
    """The reason to refuse a ballot one of whose ciphertexts has α = the identity (it was
    encrypted with nonce 0, so β = g^vote shows the selection in plain sight), or None."""
    for contest, cts in zip(manifest.contests, selections, strict=True):
        for n, ct in enumerate(cts):
            if ct.alpha.is_identity():
                # a ranked contest's fields are its ranks; any other's, its candidates
                field = (
                    f"rank {n + 1}" if contest.ranked else f"candidate {contest.candidates[n].id}"
                )
                return (
                    f"contest {contest.id}, {field}: alpha is the identity "
                    "(nonce 0): the selection is readable by anyone"
                )
    return None


@dataclass(frozen=True, slots=True)
class BallotResult:
    """What the state needs to know about one ballot entry after the state-free checks."""

    index: int
    time: str
    credential: bytes
    failure: tuple[str, str] | None
    """``(check, reason)`` of the first failed state-free check, or None."""
    tracker: int = 0
    alphas: tuple[int, ...] = ()
    accumulated: bool = False
    """Whether the checker added the ballot to its partial tally."""


class BallotChecker:
    """Checks ballot entries against one election; optionally tallies those that pass."""

    def __init__(
        self,
        manifest: Manifest,
        joint_key: Element,
        roll: Mapping[bytes, tuple[str, int]] | None = None,
    ) -> None:
        self.manifest = manifest
        self.joint_key = joint_key
        self.context = manifest.ballot_context(joint_key)
        self.roll: dict[bytes, tuple[str, int]] = dict(roll or {})
        self.partial = TallyAccumulator(manifest)
        manifest.group.precompute(joint_key)

    def add_credentials(self, records: Iterable[tuple[bytes, str, int]]) -> None:
        """Learn the category and weight of credentials added to the roll."""
        for key, category, weight in records:
            self.roll[key] = (category, weight)

    def _signed(self, index: int, entry: Entry) -> BallotResult | bytes:
        """The credential of a ballot entry whose signature holds, or the failed result."""
        body = entry.body
        key_hex = body.get("credential")
        try:
            credential = bytes.fromhex(key_hex) if isinstance(key_hex, str) else b""
        except ValueError:
            credential = b""
        if len(credential) != 32:
            return BallotResult(index, entry.time, b"", ("ballot.decode", "no credential"))
        try:
            entry.verify(credential, self.manifest.fingerprint, "ballot signed by its credential")
        except VerificationError as exc:
            return BallotResult(index, entry.time, credential, ("ballot.signature", str(exc)))
        return credential

    def _finish(
        self, index: int, entry: Entry, credential: bytes, outcome: Outcome
    ) -> tuple[BallotResult, list[list[Ciphertext]]]:
        """The result of a signed ballot from ``check_ballot``'s outcome for its body (an
        exception other than a DecodeError or VerificationError is raised again)."""
        if isinstance(outcome, DecodeError):
            return BallotResult(index, entry.time, credential, ("ballot.decode", str(outcome))), []
        if isinstance(outcome, VerificationError):
            return BallotResult(index, entry.time, credential, ("ballot.proof", str(outcome))), []
        if isinstance(outcome, Exception):
            raise outcome
        m = self.manifest
        _, selections = outcome
        plain = identity_alpha(m, selections)
        if plain is not None:
            return BallotResult(index, entry.time, credential, ("ballot.alpha", plain)), []
        tracker = dedup_key(ballots.tracking_code(m.fingerprint, entry.body_bytes).encode())
        alphas = tuple(dedup_key(ct.alpha.to_bytes()) for cts in selections for ct in cts)
        return BallotResult(index, entry.time, credential, None, tracker, alphas), selections

    def check(self, index: int, entry: Entry) -> tuple[BallotResult, list[list[Ciphertext]]]:
        """Signature, encoding and proofs of a decoded ballot entry; returns the result and
        the ciphertexts (empty when a check failed). Never raises for bad input."""
        signed = self._signed(index, entry)
        if isinstance(signed, BallotResult):
            return signed, []
        try:
            outcome: Outcome = ballots.check_ballot(
                self.manifest, self.joint_key, self.context, entry.body
            )
        except (DecodeError, VerificationError) as exc:
            outcome = exc
        return self._finish(index, entry, signed, outcome)

    def _entry(self, index: int, line: bytes) -> Entry | BallotResult:
        try:
            entry = entry_from_line(line)
        except DecodeError as exc:
            return BallotResult(index, "", b"", ("entry.decode", str(exc)))
        if entry.type != "ballot":
            return BallotResult(index, entry.time, b"", ("entry.decode", "not a ballot"))
        return entry

    def _tally(self, result: BallotResult, selections: list[list[Ciphertext]]) -> BallotResult:
        known = self.roll.get(result.credential)
        if result.failure is None and known is not None:
            self.partial.add(known[0], known[1], selections)
            return BallotResult(
                result.index,
                result.time,
                result.credential,
                None,
                result.tracker,
                result.alphas,
                True,
            )
        return result

    def check_and_tally(self, index: int, line: bytes) -> BallotResult:
        """Decode a record line, check it, and add it to the partial tally if it passed and
        its credential's category is known."""
        entry = self._entry(index, line)
        if isinstance(entry, BallotResult):
            return entry
        try:
            result, selections = self.check(index, entry)
        except MALFORMED as exc:
            return _malformed(index, entry, exc)
        return self._tally(result, selections)

    def check_many(self, batch: Sequence[tuple[int, bytes]]) -> list[BallotResult]:
        """:meth:`check_and_tally` for every ``(index, line)`` of ``batch``, with exactly the
        same results in the same order, but the proofs of all the ballots whose signature
        holds checked together by :func:`~verivote.election.ballot_batch.check_ballots`
        (one multi-exponentiation in groups that have one; one ballot at a time
        otherwise)."""
        results: list[BallotResult | None] = [None] * len(batch)
        signed: list[tuple[int, Entry, bytes]] = []
        for pos, (index, line) in enumerate(batch):
            entry = self._entry(index, line)
            if isinstance(entry, BallotResult):
                results[pos] = entry
                continue
            try:
                credential = self._signed(index, entry)
            except MALFORMED as exc:
                results[pos] = _malformed(index, entry, exc)
                continue
            if isinstance(credential, BallotResult):
                results[pos] = credential
            else:
                signed.append((pos, entry, credential))
        outcomes = check_ballots(
            self.manifest, self.joint_key, self.context, [entry.body for _, entry, _ in signed]
        )
        for (pos, entry, credential), outcome in zip(signed, outcomes, strict=True):
            index = batch[pos][0]
            try:
                result, selections = self._finish(index, entry, credential, outcome)
            except MALFORMED as exc:
                results[pos] = _malformed(index, entry, exc)
                continue
            results[pos] = self._tally(result, selections)
        done = [r for r in results if r is not None]
        assert len(done) == len(batch)
        return done

    def take_partial(self) -> TallyAccumulator:
        """The partial tally so far; the checker starts a new one."""
        partial, self.partial = self.partial, TallyAccumulator(self.manifest)
        return partial
