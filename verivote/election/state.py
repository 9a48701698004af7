"""The election as its log builds it: one rule book for the board and every observer.

:class:`ElectionState` consumes entries in log order. :meth:`ElectionState.apply` either
accepts an entry — and updates the state — or raises
:class:`~verivote.errors.EntryRejected` naming the check that failed, leaving the state as
it was. The board calls it before appending anything (nothing invalid reaches the log); the
verifier calls it on every line of a record and collects the rejections.

The phases, in order (an entry of another phase is rejected as ``entry.order``):

1. ``election`` — the manifest, self-signed by the organiser; always entry 0.
2. Setup — ``ceremony`` (organiser: the run id and deadlines), then ``trustee``
   announcements, ``share``, ``complaint`` and ``justification`` entries of that run, each
   before its deadline (:mod:`~verivote.election.keygen`); ``joint_key`` closes the
   ceremony; ``roll`` parts (registrar) and ``issuer`` parts (credential issuer), the two
   halves of every credential, may come before or after it; ``open`` (organiser) fixes the
   roll's size.
3. Voting — ``ballot``, ``audit``, ``amend`` and ``issuer`` (completing an added slot)
   entries, timed within ``[opens, closes)``; a ``seal`` from the registrar and one from
   the issuer (:mod:`~verivote.election.seal`); ``close`` (organiser, at or after
   ``closes``, after both seals) ends it.
4. Counting — ``tally`` (must equal the recomputed homomorphic tally), one ``decryption``
   per participating trustee; for each ranked contest its ``mix``, ``mix_decryption`` and
   ``ranked_result`` entries (:mod:`verivote.election.ranked_rules`); then ``result``;
   nothing may follow the result.

Entry times never decrease. Counting rule: for each credential still on the roll at close,
its last ballot counts; ballots of credentials revoked at any time before close never count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from verivote.election import ballot as ballots
from verivote.election import ceremony, decryption, keygen, ranked_rules, tally
from verivote.election.checker import BallotChecker, BallotResult, dedup_key
from verivote.election.entries import Entry
from verivote.election.manifest import Manifest
from verivote.election.roll import AdditionLimit, Roll
from verivote.election.seal import Seals
from verivote.elgamal import Ciphertext
from verivote.encoding import dumps
from verivote.errors import DecodeError, EntryRejected, VerificationError, VerivoteError
from verivote.groups.base import Element

SETUP, VOTING, COUNTING, DONE = "setup", "voting", "counting", "done"
BallotCheck = tuple[BallotResult, list[list[Ciphertext]]]


def _reject(check: str, exc: Exception) -> EntryRejected:
    return EntryRejected(check, str(exc))


class ElectionState:
    """The state of one election, built entry by entry.

    ``lookup(index)`` returns an earlier entry of the log; it is needed only when a ballot
    that was already added to the running tally must be taken out again (a re-vote, or a
    revoked credential), so that the state never keeps every ballot in memory.

    ``replay`` (for a role that rebuilds the state of a board it reads, which checked
    every entry before storing it) skips re-checking the proofs of ``mix`` and
    ``mix_decryption`` entries, as ballots' proofs are skipped when their checks are
    given to :meth:`apply`; every other rule still runs. The board and the verifier
    never set it.
    """

    def __init__(
        self, lookup: Callable[[int], Entry] | None = None, *, replay: bool = False
    ) -> None:
        self.lookup = lookup
        self.replay = replay
        self.manifest: Manifest | None = None
        self.index = 0
        self.phase = SETUP
        self.last_time = ""
        self.keygen: keygen.KeyCeremony | None = None
        self.seals: Seals | None = None
        self.joint_key: Element | None = None
        self.ballot_context = b""
        self.roll: Roll | None = None
        self.opened = False
        self.latest: dict[bytes, int] = {}
        self.excluded: set[int] = set()
        # Sets kept in log order (dicts), so a snapshot writes them without sorting.
        self.seen_trackers: dict[int, None] = {}
        self.seen_ciphertexts: dict[int, None] = {}
        self._checker: BallotChecker | None = None
        self.ballot_entries = 0
        self.audit_entries = 0
        self.accumulator: tally.TallyAccumulator | None = None
        self.tally: tally.EncryptedTally | None = None
        self.decryptions: dict[int, list[Element]] = {}
        self.result: dict[str, Any] | None = None
        self.ranked: ranked_rules.RankedCounting | None = None

    # ------------------------------------------------------------------ helpers
    def _m(self) -> Manifest:
        assert self.manifest is not None
        return self.manifest

    def _k(self) -> keygen.KeyCeremony:
        assert self.keygen is not None
        return self.keygen

    @property
    def announcements(self) -> dict[int, ceremony.Announcement]:
        """The checked announcements of the ceremony run, by trustee."""
        return {} if self.keygen is None else self.keygen.announcements

    @property
    def qualified(self) -> tuple[int, ...]:
        """The qualified trustees (after the joint key)."""
        return () if self.keygen is None else self.keygen.qualified

    @property
    def schedule(self) -> keygen.Schedule | None:
        """The ceremony run's id and deadlines (after the ``ceremony`` entry)."""
        return None if self.keygen is None else self.keygen.schedule

    def _signed(self, entry: Entry, key: bytes, who: str) -> None:
        try:
            entry.verify(key, self._m().fingerprint, f"{entry.type} signed by {who}")
        except VerificationError as exc:
            raise _reject(f"{entry.type}.signature", exc) from None

    def _phase(self, entry: Entry, *allowed: str) -> None:
        self._phase_named(entry.type, *allowed)

    def _phase_named(self, entry_type: str, *allowed: str) -> None:
        if self.phase not in allowed:
            raise EntryRejected(
                "entry.order", f"a {entry_type} entry is not allowed in the {self.phase} phase"
            )

    # ------------------------------------------------------------------ dispatch
    def apply(self, entry: Entry, checked: BallotCheck | None = None) -> None:
        """Accept ``entry`` as the next entry of the log or raise EntryRejected.

        ``checked`` may carry the state-free checks of a ``ballot`` entry already run by a
        :class:`~verivote.election.checker.BallotChecker` (before a database lock, say);
        the stateful checks still run here.

        Input of the wrong shape anywhere in the body is reported as ``TYPE.decode``, never
        as an exception of another kind.
        """
        try:
            self._apply(entry, checked)
        except EntryRejected:
            raise
        except VerivoteError as exc:
            raise _reject(f"{entry.type}.decode", exc) from None
        except (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError) as exc:
            raise EntryRejected(
                f"{entry.type}.decode", f"malformed entry ({type(exc).__name__}: {exc})"
            ) from None

    def _apply(self, entry: Entry, checked: BallotCheck | None) -> None:
        if self.manifest is None:
            if entry.type != "election":
                raise EntryRejected("entry.order", "the first entry must be the election manifest")
            self._election(entry)
        else:
            if entry.type == "election":
                raise EntryRejected("entry.order", "a second election entry")
            if self.phase == DONE:
                raise EntryRejected("entry.order", "nothing may follow the result")
            if entry.time < self.last_time:
                raise EntryRejected(
                    "entry.time",
                    f"time {entry.time} is before the previous entry's {self.last_time}",
                )
            handler = getattr(self, "_" + entry.type)
            if self.seals is not None:
                self.seals.before(entry)
            handler(entry, checked) if entry.type == "ballot" else handler(entry)
            if self.seals is not None:
                self.seals.after(entry, self.index)
        self.last_time = entry.time
        self.index += 1

    def skip(self) -> None:
        """Count a rejected entry's position (the verifier's view: it stays in the log)."""
        self.index += 1

    # ------------------------------------------------------------------ setup
    def _election(self, entry: Entry) -> None:
        try:
            manifest = Manifest.from_dict(entry.body)
        except DecodeError as exc:
            raise _reject("election.manifest", exc) from None
        try:
            entry.verify(manifest.organiser_key, b"", "election signed by the organiser")
        except VerificationError as exc:
            raise _reject("election.signature", exc) from None
        self.manifest = manifest
        self.keygen = keygen.KeyCeremony(manifest)
        self.seals = Seals(manifest.fingerprint)
        self.roll = Roll(manifest)
        self.accumulator = tally.TallyAccumulator(manifest)

    def _trustee_index(self, entry: Entry, field: str) -> int:
        value = entry.body.get(field)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= len(self._m().trustees)
        ):
            raise EntryRejected(f"{entry.type}.decode", f"{field} is not a trustee index")
        return value

    def _ceremony(self, entry: Entry) -> None:
        self._phase(entry, SETUP)
        self._signed(entry, self._m().organiser_key, "the organiser")
        if self.announcements:
            raise EntryRejected("entry.order", "a ceremony entry after trustee announcements")
        self._k().open_run(entry)

    def _after_key(self, entry: Entry) -> None:
        self._phase(entry, SETUP)
        if self.joint_key is not None:
            raise EntryRejected("entry.order", f"a {entry.type} entry after the joint key")

    def _trustee(self, entry: Entry) -> None:
        self._after_key(entry)
        i = self._trustee_index(entry, "trustee")
        self._signed(entry, self._m().trustee(i).sign_key, f"trustee {i}")
        self._k().trustee(entry, i)

    def _share(self, entry: Entry) -> None:
        self._after_key(entry)
        i, j = self._trustee_index(entry, "from"), self._trustee_index(entry, "to")
        self._signed(entry, self._m().trustee(i).sign_key, f"trustee {i}")
        self._k().share(entry, i, j)

    def _complaint(self, entry: Entry) -> None:
        self._after_key(entry)
        j = self._trustee_index(entry, "from")
        self._signed(entry, self._m().trustee(j).sign_key, f"trustee {j}")
        self._k().complaint(entry)

    def _justification(self, entry: Entry) -> None:
        self._after_key(entry)
        i, j = self._trustee_index(entry, "from"), self._trustee_index(entry, "to")
        self._signed(entry, self._m().trustee(i).sign_key, f"trustee {i}")
        self._k().justification(entry, i, j)

    def _joint_key(self, entry: Entry) -> None:
        self._phase(entry, SETUP)
        m = self._m()
        self._signed(entry, m.organiser_key, "the organiser")
        if self.joint_key is not None:
            raise EntryRejected("joint_key.duplicate", "a second joint key")
        key = self._k().joint_key(entry)
        self.joint_key = key
        m.group.precompute(key)
        self.ballot_context = m.ballot_context(key)

    def _roll(self, entry: Entry) -> None:
        self._phase(entry, SETUP)
        assert self.roll is not None
        self._signed(entry, self._m().registrar_key, "the registrar")
        try:
            self.roll.apply_part(entry.body)
        except VerivoteError as exc:
            raise _reject("roll.part", exc) from None

    def _issuer(self, entry: Entry) -> None:
        self._phase(entry, SETUP, VOTING)
        if self.phase == VOTING:
            self._voting_time(entry)
        assert self.roll is not None
        self._signed(entry, self._m().issuer_key, "the credential issuer")
        try:
            self.roll.apply_issuer_part(entry.body, self.phase == VOTING)
        except VerivoteError as exc:
            raise _reject("issuer.part", exc) from None

    def _open(self, entry: Entry) -> None:
        self._phase(entry, SETUP)
        assert self.roll is not None
        self._signed(entry, self._m().organiser_key, "the organiser")
        if self.joint_key is None:
            raise EntryRejected("entry.order", "the election opens before the joint key")
        if self.roll.pending:
            raise EntryRejected(
                "open.roll_size",
                f"{self.roll.pending} roll slot(s) lack one party's half: the roll is incomplete",
            )
        if entry.body != {"roll_size": len(self.roll)}:
            raise EntryRejected(
                "open.roll_size",
                f"the roll holds {len(self.roll)} credentials, "
                f"the open entry says {entry.body.get('roll_size')!r}",
            )
        self.phase = VOTING

    # ------------------------------------------------------------------ voting
    def _voting_time(self, entry: Entry) -> None:
        m = self._m()
        if not m.opens <= entry.time < m.closes:
            raise EntryRejected(
                f"{entry.type}.time",
                f"{entry.time} is outside voting hours [{m.opens}, {m.closes})",
            )

    def _credential(self, entry: Entry, body: Any) -> bytes:
        """The credential a ballot or audit names; ``*.credential`` unless it is on the roll
        and not revoked."""
        assert self.roll is not None
        key_hex = body.get("credential") if isinstance(body, dict) else None
        if not isinstance(key_hex, str) or len(key_hex) != 64:
            raise EntryRejected(f"{entry.type}.decode", "the ballot names no credential")
        try:
            key = bytes.fromhex(key_hex)
        except ValueError:
            raise EntryRejected(f"{entry.type}.decode", "the credential is not hex") from None
        return self._on_roll(entry.type, key)

    def _on_roll(self, entry_type: str, key: bytes) -> bytes:
        """``key`` as the roll holds it (the same bytes object, so that the state keeps one
        copy of each credential); ``*.credential`` unless it may vote."""
        assert self.roll is not None
        try:
            return self.roll.status(key).key
        except VerivoteError as exc:
            raise _reject(f"{entry_type}.credential", exc) from None

    def _fresh(self, entry_type: str, tracker: int, alphas: tuple[int, ...]) -> None:
        """``*.duplicate`` unless the tracking code and every ciphertext are new; then
        remembers them."""
        if tracker in self.seen_trackers:
            raise EntryRejected(f"{entry_type}.duplicate", "the tracking code was already used")
        if len(set(alphas)) != len(alphas) or any(a in self.seen_ciphertexts for a in alphas):
            raise EntryRejected(
                f"{entry_type}.duplicate", "a ciphertext repeats one already on the board"
            )
        self.seen_trackers[tracker] = None
        self.seen_ciphertexts.update(dict.fromkeys(alphas))

    def _ballot(self, entry: Entry, checked: BallotCheck | None = None) -> None:
        self._phase(entry, VOTING)
        self._voting_time(entry)
        key = self._credential(entry, entry.body)
        if checked is None:
            checked = self.checker().check(self.index, entry)
        result, selections = checked
        if result.failure is not None:
            raise EntryRejected(*result.failure)
        if result.credential != key:
            raise EntryRejected("ballot.decode", "the checked ballot is for another credential")
        self._count(result, key)
        assert self.roll is not None and self.accumulator is not None
        record = self.roll.records[key]
        self.accumulator.add(record.category, record.weight, selections)

    def apply_result(self, result: BallotResult) -> None:
        """Accept the ballot entry at :attr:`index` whose state-free checks a
        :class:`~verivote.election.checker.BallotChecker` (in a worker) already ran — and,
        if ``result.accumulated``, whose ciphertexts are in a partial tally that is merged
        with :meth:`merge_partial`. Raises EntryRejected like :meth:`apply`, running the
        checks in the same order; a refused ballot that was tallied is taken out again."""
        if result.index != self.index:
            raise ValueError(f"result for entry {result.index} at entry {self.index}")
        try:
            if self.phase == DONE:
                raise EntryRejected("entry.order", "nothing may follow the result")
            if result.time and result.time < self.last_time:
                raise EntryRejected(
                    "entry.time",
                    f"time {result.time} is before the previous entry's {self.last_time}",
                )
            if result.failure is not None and result.failure[0] == "entry.decode":
                raise EntryRejected(*result.failure)
            self._phase_named("ballot", VOTING)
            m = self._m()
            if not m.opens <= result.time < m.closes:
                raise EntryRejected(
                    "ballot.time", f"{result.time} is outside voting hours [{m.opens}, {m.closes})"
                )
            if len(result.credential) != 32:
                raise EntryRejected("ballot.decode", "the ballot names no credential")
            key = self._on_roll("ballot", result.credential)
            if result.failure is not None:
                raise EntryRejected(*result.failure)
            self._count(result, key)
        except EntryRejected:
            if result.accumulated:
                self.excluded.add(self.index)
            raise
        self.last_time = result.time
        self.index += 1

    def merge_partial(self, partial: tally.TallyAccumulator) -> None:
        """Add a worker's partial tally (see :meth:`apply_result`)."""
        assert self.accumulator is not None
        self.accumulator.merge(partial)

    def _count(self, result: BallotResult, key: bytes) -> None:
        """Duplicates, then the last-ballot-counts rule (``key``: the credential, as the
        roll holds it)."""
        self._fresh("ballot", result.tracker, result.alphas)
        previous = self.latest.get(key)
        if previous is not None:
            self.excluded.add(previous)
        self.latest[key] = self.index
        self.ballot_entries += 1

    def checker(self) -> BallotChecker:
        """A checker for this election's ballots (after the joint key), sharing this
        state's roll."""
        assert self.joint_key is not None and self.roll is not None
        if self._checker is None:
            self._checker = BallotChecker(self._m(), self.joint_key)
        return self._checker

    def roll_view(self, start: int = 0) -> list[tuple[bytes, str, int]]:
        """Every credential ever on the roll, from the ``start``-th listed on, with its
        category and weight (for checkers in other processes)."""
        assert self.roll is not None
        items = itertools.islice(self.roll.records.items(), start, None)
        return [(k, r.category, r.weight) for k, r in items]

    def roll_size(self) -> int:
        """How many credentials were ever listed on the roll (revoked ones included)."""
        assert self.roll is not None
        return len(self.roll.records)

    def _audit(self, entry: Entry) -> None:
        self._phase(entry, VOTING)
        self._voting_time(entry)
        assert self.joint_key is not None
        inner = entry.body.get("ballot")
        key = self._credential(entry, inner)
        self._signed(entry, key, "its credential")
        try:
            credential, _votes, selections = ballots.check_audit(
                self._m(), self.joint_key, self.ballot_context, entry.body
            )
        except DecodeError as exc:
            raise _reject("audit.decode", exc) from None
        except VerificationError as exc:
            raise _reject("audit.reencrypt", exc) from None
        if credential != key:
            raise EntryRejected("audit.decode", "credential mismatch")
        tracker = dedup_key(ballots.tracking_code(self._m().fingerprint, dumps(inner)).encode())
        alphas = tuple(dedup_key(ct.alpha.to_bytes()) for cts in selections for ct in cts)
        self._fresh("audit", tracker, alphas)
        self.audit_entries += 1

    def _amend(self, entry: Entry) -> None:
        self._phase(entry, VOTING)
        self._voting_time(entry)
        assert self.roll is not None
        self._signed(entry, self._m().registrar_key, "the registrar")
        try:
            action, key = self.roll.apply_amendment(entry.body)
        except AdditionLimit as exc:
            raise _reject("amend.limit", exc) from None
        except VerivoteError as exc:
            raise _reject("amend.roll", exc) from None
        if action == "revoke" and key in self.latest:
            self.excluded.add(self.latest.pop(key))

    def _seal(self, entry: Entry) -> None:
        self._phase(entry, VOTING)
        assert self.seals is not None
        role = Seals.role_of(entry.body)
        self._signed(entry, self._m().key_roles()[role], f"the {role}")
        self.seals.seal(entry, role)

    def _close(self, entry: Entry) -> None:
        self._phase(entry, VOTING)
        m = self._m()
        self._signed(entry, m.organiser_key, "the organiser")
        if entry.time < m.closes:
            raise EntryRejected("close.time", f"closed at {entry.time}, before {m.closes}")
        assert self.seals is not None
        if self.seals.missing():
            raise EntryRejected(
                "close.seals", f"no seal from the {' and the '.join(self.seals.missing())}"
            )
        expected = self.close_counts()
        if entry.body != expected:
            raise EntryRejected(
                "close.counts", f"the board holds {expected}, the close entry says {entry.body}"
            )
        self.phase = COUNTING

    def close_counts(self) -> dict[str, int]:
        """The body the ``close`` entry must have now: ballot and audit entries, counted
        credentials, and electors added after opening (``added``)."""
        assert self.roll is not None
        return {
            "ballots": self.ballot_entries,
            "audits": self.audit_entries,
            "counted": len(self.latest),
            "added": len(self.roll.added),
        }

    # ------------------------------------------------------------------ counting
    def _take_out_excluded(self) -> None:
        assert self.accumulator is not None and self.roll is not None and self.joint_key is not None
        if self.excluded and self.lookup is None:
            raise EntryRejected("tally.recompute", "superseded ballots cannot be re-read")
        for index in sorted(self.excluded):
            assert self.lookup is not None
            earlier = self.lookup(index)
            key, selections, _ = ballots.decode_ballot(self._m(), earlier.body)
            record = self.roll.records[key]
            self.accumulator.remove(record.category, record.weight, selections)
        self.excluded.clear()

    def expected_tally(self) -> tally.EncryptedTally:
        """The encrypted tally the counted ballots give (after close)."""
        assert self.accumulator is not None
        self._take_out_excluded()
        return self.accumulator.finish()

    def _tally(self, entry: Entry) -> None:
        self._phase(entry, COUNTING)
        self._signed(entry, self._m().organiser_key, "the organiser")
        if self.tally is not None:
            raise EntryRejected("tally.duplicate", "a second tally")
        try:
            self.tally = tally.check_tally(entry.body, self._m(), self.expected_tally())
        except VerivoteError as exc:
            raise _reject("tally.recompute", exc) from None
        if any(c.ranked for c in self._m().contests):
            self._start_ranked()

    def _decryption(self, entry: Entry) -> None:
        self._phase(entry, COUNTING)
        if self.tally is None:
            raise EntryRejected("entry.order", "decryption before the tally")
        j = self._trustee_index(entry, "trustee")
        self._signed(entry, self._m().trustee(j).sign_key, f"trustee {j}")
        if j not in self.qualified:
            raise EntryRejected("decryption.trustee", f"trustee {j} is not qualified")
        if j in self.decryptions:
            raise EntryRejected("decryption.duplicate", f"trustee {j} decrypted twice")
        key = ceremony.public_share_key(self.announcements, self.qualified, j)
        try:
            self.decryptions[j] = decryption.check_decryption(
                entry.body, self._m(), self.tally, key
            )
        except VerivoteError as exc:
            raise _reject("decryption.proof", exc) from None

    def _result(self, entry: Entry) -> None:
        self._phase(entry, COUNTING)
        m = self._m()
        self._signed(entry, m.organiser_key, "the organiser")
        if self.tally is None:
            raise EntryRejected("entry.order", "result before the tally")
        present = sorted(self.decryptions)
        missing = [t.index for t in m.trustees if t.index not in self.decryptions]
        if self.ranked is not None and self.ranked.pending():
            raise EntryRejected("entry.order", f"result before ranked {self.ranked.pending()}")
        try:
            counts = decryption.combine(m, self.tally, self.decryptions, m.threshold)
            added = len(self.roll.added) if self.roll is not None else 0
            expected = decryption.make_result_body(m, self.tally, counts, present, missing, added)
            decryption.check_result(entry.body, expected)
        except VerivoteError as exc:
            raise _reject("result.counts", exc) from None
        self.result = expected
        if self.ranked is not None:
            self.result = {**expected, "contests": expected["contests"] + self.ranked.displays()}
        self.phase = DONE

    # ------------------------------------------------------------------ ranked contests
    def _start_ranked(self) -> None:
        assert self.tally is not None and self.joint_key is not None and self.roll is not None
        counted = list(self.latest.values())
        m, key, roll = self._m(), self.joint_key, self.roll
        proofs = not self.replay
        self.ranked = ranked_rules.start(m, key, self.tally, roll, counted, self.lookup, proofs)

    def _ranked_entry(self, entry: Entry, by_trustee: bool) -> int:
        self._phase(entry, COUNTING)
        if self.ranked is None:
            raise EntryRejected("entry.order", f"{entry.type} without a tallied ranked contest")
        if not by_trustee:
            self._signed(entry, self._m().organiser_key, "the organiser")
            return 0
        j = self._trustee_index(entry, "trustee")
        self._signed(entry, self._m().trustee(j).sign_key, f"trustee {j}")
        return j

    def _mix(self, entry: Entry) -> None:
        j = self._ranked_entry(entry, True)
        assert self.ranked is not None
        self.ranked.mix(entry.body, j, self.qualified)

    def _mix_decryption(self, entry: Entry) -> None:
        j = self._ranked_entry(entry, True)
        assert self.ranked is not None
        key = ceremony.public_share_key(self.announcements, self.qualified, j)
        self.ranked.decryption(entry.body, j, self.qualified, key)

    def _ranked_result(self, entry: Entry) -> None:
        self._ranked_entry(entry, False)
        assert self.ranked is not None
        self.ranked.result(entry.body)

    def finish(self) -> None:
        """Raise EntryRejected (check ``record.complete``) if the log stops before a result."""
        if self.phase != DONE:
            raise EntryRejected(
                "record.complete", f"the record ends in the {self.phase} phase, without a result"
            )
