"""One run of the key ceremony on the board: its schedule, its rules, and the trustee's side.

The maths of the ceremony (announcements, encrypted shares, complaints, justifications,
the qualified set) is in :mod:`verivote.election.ceremony`. This module puts it on a
timetable and ties it to one run:

* The organiser opens a run with a ``ceremony`` entry, right after the manifest::

      {"run": hex (16 bytes), "announce": t1, "shares": t2, "complaints": t3,
       "justifications": t4}

  with ``entry time < t1 < t2 < t3 < t4 <= opens``. The run id is fresh randomness: a
  ceremony aborted and run again under the same manifest gets a new one.
* Every ``trustee``, ``share``, ``complaint`` and ``justification`` body, and the
  ``joint_key`` body, carries ``"run": <the run id>``; its author's signature covers it,
  so no entry of an aborted run can be mixed into another [``TYPE.run``].
* Deadlines: announcements are timed before ``t1``, shares before ``t2``, complaints
  before ``t3``, justifications before ``t4`` [``TYPE.time``]; the joint key at or after
  ``t4``. So a trustee that announces late cannot make the honest trustees (who have not
  sent it a share) incomplete, and every complaint leaves its target the window up to
  ``t4`` to answer: a late complaint cannot disqualify an honest trustee.
* The joint key may not be the identity [``joint_key.identity``].

:class:`KeyCeremony` applies these rules for :class:`~verivote.election.state.ElectionState`.
The trustee's side — open and check the shares addressed to it, file complaints, take the
values revealed by justifications, combine its secret share over the qualified set — is
:func:`check_received`, :func:`complaint_bodies`, :func:`take_justifications` and
:func:`secret_share`.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from verivote.election import ceremony
from verivote.election.entries import Entry
from verivote.election.manifest import Manifest, check_time, format_time
from verivote.encoding import from_hex
from verivote.errors import DecodeError, EntryRejected, ParameterError, VerivoteError
from verivote.groups.base import Element, Scalar
from verivote.proofs.codec import expect_keys

RUN_SIZE = 16
PHASES = ("announce", "shares", "complaints", "justifications")
"""The deadlines of a run, in order."""
DEADLINE_OF = {
    "trustee": "announce",
    "share": "shares",
    "complaint": "complaints",
    "justification": "justifications",
}


@dataclass(frozen=True, slots=True)
class Schedule:
    """One run of the ceremony: its id and the four deadlines (record times)."""

    run: bytes
    announce: str
    shares: str
    complaints: str
    justifications: str

    def deadline(self, entry_type: str) -> str:
        """The deadline of a ``trustee``, ``share``, ``complaint`` or ``justification``."""
        return str(getattr(self, DEADLINE_OF[entry_type]))

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the body of the ``ceremony`` entry)."""
        return {"run": self.run.hex(), **{p: getattr(self, p) for p in PHASES}}

    @classmethod
    def from_dict(cls, obj: Any, manifest: Manifest, posted: str) -> Schedule:
        """Strictly decode a ``ceremony`` body posted at time ``posted``: exactly ``run``
        (16 bytes, hex) and the four deadlines, ``posted < announce < shares < complaints <
        justifications <= opens``. Raises :class:`DecodeError`."""
        expect_keys(obj, ("run", *PHASES), "ceremony")
        run = from_hex(obj["run"], RUN_SIZE, "ceremony run")
        times = [check_time(obj[p], f"ceremony {p}") for p in PHASES]
        if not posted < times[0] < times[1] < times[2] < times[3] <= manifest.opens:
            raise DecodeError(
                "ceremony: deadlines must increase after the entry's time, the last no "
                f"later than the opening ({manifest.opens})"
            )
        return cls(run, *times)


def make_schedule(start: datetime, step: timedelta = timedelta(hours=1)) -> Schedule:
    """A fresh run whose deadlines fall ``step``, ``2·step``, ``3·step`` and ``4·step``
    after ``start`` (an aware datetime)."""
    if step <= timedelta(0):
        raise ParameterError("the step between deadlines must be positive")
    times = [format_time(start + step * n) for n in range(1, 5)]
    return Schedule(_secrets.token_bytes(RUN_SIZE), *times)


def with_run(body: dict[str, Any], run: bytes) -> dict[str, Any]:
    """``body`` (from :mod:`~verivote.election.ceremony`'s ``make_*``) bound to ``run``."""
    if len(run) != RUN_SIZE:
        raise ParameterError(f"a run id is {RUN_SIZE} bytes")
    return {**body, "run": run.hex()}


def _reject(check: str, exc: Exception) -> EntryRejected:
    return EntryRejected(check, str(exc))


@dataclass
class KeyCeremony:
    """The rules of the ceremony's entries, applied in log order (see the module
    docstring). Each method raises :class:`EntryRejected` and leaves the state unchanged,
    or accepts the entry. Signatures are checked by the caller before these run."""

    manifest: Manifest
    schedule: Schedule | None = None
    announcements: dict[int, ceremony.Announcement] = field(default_factory=dict)
    shares: set[tuple[int, int]] = field(default_factory=set)
    complaints: list[tuple[int, int]] = field(default_factory=list)
    justified: set[tuple[int, int]] = field(default_factory=set)
    qualified: tuple[int, ...] = ()

    def open_run(self, entry: Entry) -> None:
        """A ``ceremony`` entry: once, before any trustee entry."""
        if self.schedule is not None:
            raise EntryRejected("ceremony.duplicate", "a second ceremony run in one log")
        try:
            self.schedule = Schedule.from_dict(entry.body, self.manifest, entry.time)
        except VerivoteError as exc:
            raise _reject("ceremony.decode", exc) from None

    def _in_run(self, entry: Entry) -> dict[str, Any]:
        """The body without its run id, once the id and the deadline are checked."""
        if self.schedule is None:
            raise EntryRejected("entry.order", f"a {entry.type} entry before the ceremony entry")
        body = dict(entry.body)
        if body.pop("run", None) != self.schedule.run.hex():
            raise EntryRejected(f"{entry.type}.run", "the entry is not of this ceremony run")
        if entry.type in DEADLINE_OF:
            deadline = self.schedule.deadline(entry.type)
            if entry.time >= deadline:
                raise EntryRejected(
                    f"{entry.type}.time", f"{entry.time} is not before the deadline {deadline}"
                )
        elif entry.time < self.schedule.justifications:
            raise EntryRejected(
                f"{entry.type}.time",
                f"{entry.time} is before the justifications deadline "
                f"{self.schedule.justifications}",
            )
        return body

    def trustee(self, entry: Entry, i: int) -> None:
        """Trustee ``i``'s announcement."""
        body = self._in_run(entry)
        if i in self.announcements:
            raise EntryRejected("trustee.duplicate", f"trustee {i} announced twice")
        try:
            self.announcements[i] = ceremony.check_announcement(body, self.manifest)
        except VerivoteError as exc:
            raise _reject("trustee.proof", exc) from None

    def share(self, entry: Entry, i: int, j: int) -> None:
        """A share from trustee ``i`` to trustee ``j``."""
        body = self._in_run(entry)
        if set(body) != {"from", "to", "box"} or i == j or not isinstance(body["box"], str):
            raise EntryRejected("share.decode", "expected from, to (another trustee) and box")
        if i not in self.announcements:
            raise EntryRejected("entry.order", f"share from trustee {i} before its announcement")
        if (i, j) in self.shares:
            raise EntryRejected("share.duplicate", f"second share from trustee {i} to {j}")
        self.shares.add((i, j))

    def complaint(self, entry: Entry) -> None:
        """A complaint (its author checked by the caller)."""
        body = self._in_run(entry)
        try:
            self.complaints.append(ceremony.check_complaint(body, self.manifest))
        except VerivoteError as exc:
            raise _reject("complaint.decode", exc) from None

    def justification(self, entry: Entry, i: int, j: int) -> None:
        """Trustee ``i``'s answer to trustee ``j``'s complaint; a justification that does
        not match ``i``'s commitments is accepted as a fact of the log and leaves ``i``
        unjustified."""
        body = self._in_run(entry)
        if (j, i) not in self.complaints:
            raise EntryRejected(
                "justification.complaint", f"no complaint from trustee {j} against {i}"
            )
        if i not in self.announcements:
            raise EntryRejected(
                "entry.order", f"justification from trustee {i} before its announcement"
            )
        try:
            ceremony.check_justification(body, self.announcements[i])
        except VerivoteError:
            return
        self.justified.add((i, j))

    def joint_key(self, entry: Entry) -> Element:
        """The ``joint_key`` entry: of this run, after the justifications deadline, not the
        identity, equal to the recomputation. Returns the key."""
        body = self._in_run(entry)
        m = self.manifest
        if body.get("public_key") == m.group.identity.hex():
            raise EntryRejected("joint_key.identity", "the joint key is the identity")
        announced = sorted(self.announcements)
        complete = [i for i in announced if all((i, j) in self.shares for j in announced if j != i)]
        complaints = list(self.complaints) + [
            (0, i) for i in range(1, len(m.trustees) + 1) if i not in complete
        ]
        try:
            qualified = ceremony.qualified_trustees(
                len(m.trustees), complaints, self.justified, m.threshold
            )
            key = ceremony.check_joint_key_body(body, self.announcements, qualified)
        except VerivoteError as exc:
            raise _reject("joint_key.recompute", exc) from None
        if key.is_identity():
            raise EntryRejected("joint_key.identity", "the joint key is the identity")
        self.qualified = tuple(qualified)
        return key


# ---------------------------------------------------------------------- the trustee's side
@dataclass(frozen=True, slots=True, repr=False)
class Received:
    """What trustee ``index`` made of the shares addressed to it: the values that open and
    match their sender's commitments, and a complaint reason for every other announced
    trustee. Holds secrets: its ``repr`` shows none."""

    index: int
    values: Mapping[int, Scalar]
    complaints: Mapping[int, str]

    def __repr__(self) -> str:
        return (
            f"<Received trustee {self.index}: {len(self.values)} shares, "
            f"complaints against {sorted(self.complaints)}>"
        )


def check_received(
    secrets: ceremony.TrusteeSecrets,
    manifest: Manifest,
    announcements: Mapping[int, ceremony.Announcement],
    share_bodies: Iterable[dict[str, Any]],
) -> Received:
    """Open and check every share addressed to ``secrets.index`` among ``share_bodies``
    (bodies of the run's ``share`` entries, with or without their run id), from each
    announced trustee. A share that is missing, does not open, is framed for another
    election or pair of trustees, or does not match its sender's commitments becomes a
    complaint reason; a second share from one sender is ignored (the board refuses it).
    The trustee's own value ``f(index)`` is included."""
    me = secrets.index
    values: dict[int, Scalar] = {me: ceremony.own_share(secrets, me)}
    complaints: dict[int, str] = {}
    seen: set[int] = set()
    for raw in share_bodies:
        body = {k: v for k, v in raw.items() if k != "run"}
        sender = body.get("from")
        if body.get("to") != me or not isinstance(sender, int) or sender in seen:
            continue
        if sender not in announcements or sender == me:
            continue
        seen.add(sender)
        try:
            value = ceremony.open_share(secrets, manifest, body)
            ceremony.check_share_value(value, announcements[sender], me)
        except VerivoteError as exc:
            complaints[sender] = str(exc)[: ceremony.MAX_REASON]
            continue
        values[sender] = value
    for i in announcements:
        if i != me and i not in seen:
            complaints[i] = f"no share from trustee {i}"
    return Received(me, values, complaints)


def complaint_bodies(
    secrets: ceremony.TrusteeSecrets, manifest: Manifest, received: Received, run: bytes
) -> list[dict[str, Any]]:
    """The ``complaint`` bodies (bound to ``run``) trustee ``secrets.index`` files for
    ``received``, one per trustee whose share failed, in trustee order."""
    return [
        with_run(ceremony.make_complaint(secrets, manifest, against, reason), run)
        for against, reason in sorted(received.complaints.items())
    ]


def take_justifications(
    received: Received,
    announcements: Mapping[int, ceremony.Announcement],
    justification_bodies: Iterable[dict[str, Any]],
) -> Received:
    """``received`` with the values that valid justifications revealed to its trustee
    (answers to its complaints, checked against the sender's commitments); a complaint so
    answered is withdrawn, the others stand."""
    values = dict(received.values)
    complaints = dict(received.complaints)
    for raw in justification_bodies:
        body = {k: v for k, v in raw.items() if k != "run"}
        sender = body.get("from")
        if body.get("to") != received.index or sender not in complaints:
            continue
        assert isinstance(sender, int)
        try:
            values[sender] = ceremony.check_justification(body, announcements[sender])
        except (VerivoteError, KeyError):
            continue
        del complaints[sender]
    return Received(received.index, values, complaints)


def secret_share(received: Received, qualified: Iterable[int]) -> Scalar:
    """Trustee ``received.index``'s secret share ``x_j = Σ_{i∈QUAL} f_i(j)``. Raises
    :class:`ParameterError` if the trustee is not qualified or lacks a qualified trustee's
    value (the joint key then does not match what it holds)."""
    qual = tuple(qualified)
    if received.index not in qual:
        raise ParameterError(f"trustee {received.index} is not in the qualified set {qual}")
    return ceremony.combined_secret_share(received.values, qualified=qual)
