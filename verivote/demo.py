"""A whole election, end to end, on an in-memory board: ``verivote demo``.

A party leadership ballot: four candidates (vote for one) and a yes/no rule change; electors
in three categories (members, affiliated supporters, registered supporters); three trustees
of whom any two can decrypt, and one of them absent on counting day; a registrar that bars a
few supporters during the vote (their ballots stop counting) and adds a late member; voters
who change their minds (the last ballot counts) and voters who audit a ballot before casting
(Benaloh challenge). The result is decrypted, checked against the plaintext the simulation
chose, written as a record and verified by the independent verifier.

``seed`` fixes the simulated electorate and its choices (with :mod:`random`, which never
touches cryptography); keys, nonces and proofs always come from the operating system, so two
runs with one seed give the same counts but different records.

Time: every entry is timed by the board's clock. By default the simulation owns that clock
(:class:`SimulatedClock`, starting now): it schedules voting a day after ``start`` and moves
its clock to opening and closing time, so a whole election runs in seconds. Given a
``clock`` of its own (the real time, say, as a board in service has), the simulation moves
no clock: it runs the key ceremony on a timetable of seconds (waiting for the clock to pass
each deadline it must), voting opens six seconds after ``start``, and ballots are timed as
that clock says.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from verivote.board.log import HEADS_FILE as HEADS
from verivote.board.log import RECORD_FILE as RECORD
from verivote.board.log import Board
from verivote.board.store import Store
from verivote.election import ceremony, decryption, keygen
from verivote.election.ballot import PreparedBallot, encrypt_ballot
from verivote.election.manifest import Candidate, Contest, Manifest, TrusteeInfo, format_time
from verivote.election.roll import (
    CredentialRecord,
    add_body,
    issue_credentials,
    issuer_bodies,
    revoke_body,
    roll_bodies,
)
from verivote.election.seal import ENTRY_ROLE, seal_body
from verivote.groups import DEFAULT_GROUP, Element, get_group
from verivote.signatures import Signer
from verivote.verify.record import Report, verify_record

CATEGORIES = (("members", 0.6), ("affiliated", 0.25), ("registered", 0.15))
LEAD = timedelta(days=1)
"""With its own clock, the simulation opens voting this long after ``start``."""
CEREMONY_STEP = timedelta(hours=1)
"""With its own clock, the key ceremony's deadlines fall this far apart, from ``start``."""
GIVEN_CLOCK_STEP = timedelta(seconds=1)
"""With a clock it was given, the ceremony's deadlines fall this far apart, from two
seconds after ``start``; voting opens at the last of them."""


def now() -> datetime:
    """The current time in UTC, to the whole second (the record's resolution)."""
    return datetime.now(UTC).replace(microsecond=0)


def system_clock() -> str:
    """The real time, as a board in service times its entries."""
    return format_time(datetime.now(UTC))


def voting_time(voters: int) -> timedelta:
    """How long voting lasts in the simulation: an hour, or 20 s per elector if longer."""
    return timedelta(seconds=max(3600, 20 * voters))


class SimulatedClock:
    """Time for a simulated election: each reading advances by ``step`` seconds. ``start``
    must be timezone-aware (ValueError otherwise)."""

    def __init__(self, start: datetime, step: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock starts at a timezone-aware time")
        self.now = start.astimezone(UTC)
        self.step = timedelta(seconds=step)

    def __call__(self) -> str:
        self.now += self.step
        return format_time(self.now)

    def jump(self, moment: datetime) -> None:
        """Move forward to ``moment`` (never backwards)."""
        self.now = max(self.now, moment)


@dataclass
class DemoOutcome:
    """What the demo produced: the record, the expected counts and the verifier's report."""

    record: Path
    result: dict[str, Any]
    expected: dict[str, Any]
    report: Report
    manifest: Manifest


def _manifest(
    group: str,
    trustees: list[TrusteeInfo],
    keys: dict[str, bytes],
    voters: int,
    threshold: int,
    opens: datetime,
    closes: datetime,
    contests: tuple[Contest, ...] | None = None,
) -> Manifest:
    leader = Contest(
        "leader",
        "Party leader",
        "plurality",
        tuple(Candidate(c.lower(), c) for c in ("Ashworth", "Begum", "Carver", "Dlamini")),
        1,
    )
    rule = Contest(
        "rule-change",
        "Adopt the new selection rules?",
        "referendum",
        (Candidate("yes", "Yes"), Candidate("no", "No")),
        1,
    )
    return Manifest(
        election_id=f"leadership-{opens.year}",
        title=f"Leadership election {opens.year}",
        group_name=group,
        contests=contests or (leader, rule),
        categories=tuple(c for c, _ in CATEGORIES),
        opens=format_time(opens),
        closes=format_time(closes),
        threshold=threshold,
        trustees=tuple(trustees),
        organiser_key=keys["organiser"],
        registrar_key=keys["registrar"],
        board_key=keys["board"],
        issuer_key=keys["issuer"],
        min_category_size=max(1, min(10, voters // 20)),
        max_additions=max(1, voters // 100),
    )


class SimulatedElection:
    """The actors of a simulated election around one board (in memory unless ``store`` is
    given): organiser, registrar, trustees (with their secrets) and electors (with their
    credentials).

    Each step posts the entries an honest actor would; tests use the steps one by one and
    tamper in between.

    Time (see the module docstring): ``start`` (timezone-aware; default now) is when the
    simulation begins. Without ``clock`` the board runs on a :class:`SimulatedClock` from
    ``start``; voting opens :data:`LEAD` later, lasts ``voting`` (default
    :func:`voting_time`), and :meth:`publish_roll` and :meth:`close` move the clock to
    opening and closing time. With ``clock`` (a callable giving the time as the record
    writes it, e.g. :func:`system_clock`), the board runs on it and nothing moves it:
    voting opens six seconds after ``start`` (the ceremony's deadlines a second apart, which
    :meth:`run_ceremony` waits for), and :meth:`close` is refused by the board until ``clock``
    reaches closing time.
    ``contests`` replaces the manifest's contests (the ranked demo,
    :mod:`verivote.demo_ranked`).
    """

    def __init__(
        self,
        voters: int,
        group: str = DEFAULT_GROUP,
        seed: int | None = None,
        trustees: int = 3,
        threshold: int = 2,
        store: Store | None = None,
        *,
        start: datetime | None = None,
        clock: Callable[[], str] | None = None,
        voting: timedelta | None = None,
        contests: tuple[Contest, ...] | None = None,
    ) -> None:
        begin = now() if start is None else start
        if begin.tzinfo is None:
            raise ValueError("start must be a timezone-aware time")
        begin = begin.astimezone(UTC).replace(microsecond=0)
        ceremony_start = begin + 2 * GIVEN_CLOCK_STEP if clock is not None else begin
        step = GIVEN_CLOCK_STEP if clock is not None else CEREMONY_STEP
        opens = ceremony_start + 4 * step if clock is not None else begin + LEAD
        closes = opens + (voting_time(voters) if voting is None else voting)
        self.rng = random.Random(seed)
        grp = get_group(group)
        self.organiser, self.registrar = Signer.generate(), Signer.generate()
        self.issuer, self.board_signer = Signer.generate(), Signer.generate()
        self.trustees = [
            ceremony.TrusteeSecrets.generate(grp, i, threshold) for i in range(1, trustees + 1)
        ]
        infos = [s.info(f"Trustee {s.index}") for s in self.trustees]
        keys = {
            "organiser": self.organiser.public_key,
            "registrar": self.registrar.public_key,
            "issuer": self.issuer.public_key,
            "board": self.board_signer.public_key,
        }
        self.start = begin
        """When the simulation began (UTC, whole seconds)."""
        self.manifest = _manifest(group, infos, keys, voters, threshold, opens, closes, contests)
        self.clock: Callable[[], str] = SimulatedClock(begin) if clock is None else clock
        self.board = Board(self.clock, self.board_signer, store)
        self.voters = voters
        self.credentials: list[Signer] = []
        self.records: list[CredentialRecord] = []
        self.received: dict[int, dict[int, Any]] = {}
        self.board.post(self.organiser, "election", self.manifest.to_dict())
        self.schedule = keygen.make_schedule(ceremony_start, step)
        self.board.post(self.organiser, "ceremony", self.schedule.to_dict())

    @property
    def joint_key(self) -> Element:
        """The joint public key (after :meth:`run_ceremony`)."""
        key = self.board.state.joint_key
        assert key is not None
        return key

    def run_ceremony(self) -> None:
        """Announcements, encrypted shares to every other trustee, the joint key."""
        self.exchange_shares()
        self.post_joint_key(tuple(sorted(self.board.state.announcements)))

    def exchange_shares(self, bad: tuple[int, int] | None = None) -> None:
        """Every trustee announces, then sends its share to every other trustee; with
        ``bad = (i, j)``, trustee i sends j a wrong share (for complaint tests)."""
        m, run = self.manifest, self.schedule.run
        for s in self.trustees:
            body = keygen.with_run(ceremony.make_announcement(s, m), run)
            self.board.post(s.signer, "trustee", body)
        for s in self.trustees:
            for other in self.trustees:
                if other.index == s.index:
                    continue
                if bad == (s.index, other.index):
                    wrong = s.evaluate(other.index) + 1
                    body = ceremony._encrypt_share(s, m, other.index, wrong, None)
                else:
                    body = ceremony.make_share(s, m, other.index)
                self.board.post(s.signer, "share", keygen.with_run(body, run))

    def post_joint_key(self, qualified: tuple[int, ...]) -> None:
        """Each trustee opens the shares sent to it; after the justifications deadline the
        organiser posts the joint key of the ``qualified`` trustees."""
        m = self.manifest
        self.received = {s.index: {s.index: ceremony.own_share(s, s.index)} for s in self.trustees}
        for entry in self.board:
            if entry.type == "share":
                to = entry.body["to"]
                body = {k: v for k, v in entry.body.items() if k != "run"}
                opened = ceremony.open_share(self.trustees[to - 1], m, body)
                self.received[to][entry.body["from"]] = opened
        self._advance(self.schedule.justifications)
        body = ceremony.make_joint_key_body(self.board.state.announcements, qualified)
        self.board.post(self.organiser, "joint_key", keygen.with_run(body, self.schedule.run))

    def publish_roll(self) -> None:
        """Credentials for every elector in the categories' proportions; roll; open."""
        names = [c for c, _ in CATEGORIES]
        cats = self.rng.choices(names, weights=[w for _, w in CATEGORIES], k=self.voters)
        issued = issue_credentials(self.manifest.fingerprint, [(c, 1) for c in cats])
        self.credentials, self.records = list(issued.credentials), issued.records
        for body in roll_bodies(issued.registrar):
            self.board.post(self.registrar, "roll", body)
        for body in issuer_bodies(issued.issuer):
            self.board.post(self.issuer, "issuer", body)
        self.board.post(self.organiser, "open", {"roll_size": len(self.records)})
        self._advance(self.manifest.opens)

    def _advance(self, moment: str) -> None:
        """Move the simulation's own clock to ``moment``; a clock it was given is not moved
        but waited for (up to a minute, then RuntimeError) where the protocol needs its
        time to have come: the ceremony's last deadline and the opening time."""
        if isinstance(self.clock, SimulatedClock):
            self.clock.jump(_parse(moment))
            return
        if moment == self.manifest.closes:
            return
        limit = time.monotonic() + 60
        while self.clock() < moment:
            if time.monotonic() > limit:
                raise RuntimeError(f"the clock did not reach {moment}")
            time.sleep(0.2)

    def prepare(self, voter: int, choice: dict[str, list[str]]) -> PreparedBallot:
        """Elector ``voter``'s device encrypts ``choice``."""
        return encrypt_ballot(self.manifest, self.joint_key, self.credentials[voter], choice)

    def cast(self, voter: int, choice: dict[str, list[str]]) -> int:
        """Encrypt and cast; returns the entry index."""
        return self.board.post(self.credentials[voter], "ballot", self.prepare(voter, choice).body)

    def revoke(self, voter: int, reason: str = "barred") -> int:
        """The registrar revokes elector ``voter``'s credential."""
        return self.board.post(
            self.registrar, "amend", revoke_body(self.records[voter].key, reason)
        )

    def add_elector(self, category: str) -> int:
        """The registrar adds a late elector and the issuer completes its credential;
        returns the new elector's number."""
        issued = issue_credentials(self.manifest.fingerprint, [(category, 1)], len(self.records))
        (item,) = issued.registrar
        self.board.post(self.registrar, "amend", add_body(item, "late-registration"))
        part = self.board.state.roll.issuer_parts if self.board.state.roll else 0
        for body in issuer_bodies(issued.issuer, part):
            self.board.post(self.issuer, "issuer", body)
        self.credentials.extend(issued.credentials)
        self.records.extend(issued.records)
        return len(self.records) - 1

    def seal(self) -> None:
        """The registrar and the issuer seal what they posted (an honest author keeps its
        own copies; the simulation reads them back from the board)."""
        posted: dict[str, list[tuple[str, dict[str, Any]]]] = {"registrar": [], "issuer": []}
        for entry in self.board:
            if entry.type in ENTRY_ROLE:
                posted[ENTRY_ROLE[entry.type]].append((entry.type, entry.body))
        for role, signer in (("registrar", self.registrar), ("issuer", self.issuer)):
            body = seal_body(self.manifest.fingerprint, role, posted[role])
            self.board.post(signer, "seal", body)

    def close(self) -> None:
        """Seal the roll, move to closing time and post the close entry."""
        if self.board.state.seals and self.board.state.seals.missing():
            self.seal()
        self._advance(self.manifest.closes)
        self.board.post(self.organiser, "close", self.board.state.close_counts())

    def count(self, present: list[int]) -> dict[str, Any]:
        """Tally, decryption by the ``present`` trustees, result; returns the result body."""
        st = self.board.state
        m = self.manifest
        encrypted = st.expected_tally()
        self.board.post(self.organiser, "tally", encrypted.to_dict())
        for index in present:
            s = self.trustees[index - 1]
            x = ceremony.combined_secret_share(self.received[index], qualified=st.qualified)
            self.board.post(
                s.signer, "decryption", decryption.make_decryption(m, encrypted, index, x)
            )
        counts = decryption.combine(m, encrypted, st.decryptions, m.threshold)
        missing = [t.index for t in m.trustees if t.index not in present]
        added = st.close_counts()["added"]
        result = decryption.make_result_body(m, encrypted, counts, sorted(present), missing, added)
        self.board.post(self.organiser, "result", result)
        return result


def _parse(moment: str) -> datetime:
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def run_demo(
    voters: int = 1000,
    group: str = DEFAULT_GROUP,
    out: Path = Path("record"),
    seed: int | None = None,
    say: Callable[[str], None] = print,
    start: datetime | None = None,
) -> DemoOutcome:
    """Run the whole election described in the module docstring, from ``start`` (default
    now) on a simulated clock; returns its outcome."""
    sim = SimulatedElection(voters, group, seed, start=start)
    rng = sim.rng
    m = sim.manifest
    say(f"election {m.election_id} ({group}), fingerprint {m.fingerprint.hex()[:16]}…")
    sim.run_ceremony()
    say(
        f"key ceremony: trustees {list(sim.board.state.qualified)} qualified, "
        f"threshold {m.threshold}"
    )
    sim.publish_roll()
    say(f"roll: {len(sim.records)} electors published; voting opens {m.opens}")

    leader_ids = [c.id for c in m.contests[0].candidates]
    popularity = [0.38, 0.31, 0.19, 0.12]
    last_vote: dict[int, dict[str, list[str]]] = {}
    revoked: set[int] = set()
    audits = cast = 0
    order = list(range(voters))
    rng.shuffle(order)
    voting = [i for i in order if rng.random() < 0.8]
    barred = sorted(rng.sample(range(voters), k=max(1, voters // 200)))
    midway = len(voting) // 2
    total = len(voting) + 1  # and the late member added midway
    step = max(1, total // 10)
    for n, i in enumerate(voting):
        if n == midway:  # the registrar bars a few supporters and adds a late member
            for b in barred:
                sim.revoke(b)
                revoked.add(b)
                last_vote.pop(b, None)
            voting.append(sim.add_elector("members"))
        if i in revoked:
            continue  # a barred supporter can no longer vote: the board would refuse it
        choice = {"leader": rng.choices(leader_ids, weights=popularity, k=1)}
        if rng.random() < 0.9:
            choice["rule-change"] = [rng.choice(["yes", "no"])]
        if rng.random() < 0.01:
            choice["leader"] = []  # a blank vote for leader
        if rng.random() < 0.02:  # Benaloh challenge: audit one encryption, then cast afresh
            sim.board.post(sim.credentials[i], "audit", sim.prepare(i, choice).audit_body())
            audits += 1
        sim.cast(i, choice)
        cast += 1
        last_vote[i] = choice
        if rng.random() < 0.03:  # changes their mind: the later ballot replaces this one
            choice = {"leader": rng.choices(leader_ids, weights=popularity, k=1)}
            sim.cast(i, choice)
            cast += 1
            last_vote[i] = choice
        if (n + 1) % step == 0:
            say(f"  {n + 1}/{total} voters")
    say(f"voting: {cast} ballots cast, {audits} audited, {len(revoked)} credentials revoked")

    sim.close()
    result = sim.count(present=[1, 2])  # trustee 3 is absent on counting day
    say(decryption.render_result(m, result))
    cats = [r.category for r in sim.records]
    expected = expected_counts(m, last_vote, cats)
    record = sim.board.export(out)
    say(f"record written to {record} ({len(sim.board)} entries)")
    report = verify_record(out)
    say("verify: " + ("VALID" if report.valid else f"INVALID ({len(report.failures)} failures)"))
    return DemoOutcome(out, result, expected, report, m)


def expected_counts(
    manifest: Manifest, votes: dict[int, dict[str, list[str]]], categories: list[str]
) -> dict[str, Any]:
    """Plaintext counts ``{contest: {"overall": {cand: n}, "by_category": {cat: {cand: n}}}}``
    from the simulation's own record of who chose what."""
    out: dict[str, Any] = {}
    for contest in manifest.contests:
        overall = {c.id: 0 for c in contest.candidates}
        by_cat = {cat: {c.id: 0 for c in contest.candidates} for cat in manifest.categories}
        for voter, choice in votes.items():
            for cand in choice.get(contest.id, []):
                overall[cand] += 1
                by_cat[categories[voter]][cand] += 1
        out[contest.id] = {"overall": overall, "by_category": by_cat}
    return out


class OutputUnusable(Exception):
    """``--out`` cannot take the record; the message says why in one line."""


def check_output(out: Path) -> None:
    """Make sure the record can be written to directory ``out`` before the election runs:
    ``out`` is created if missing; raises :class:`OutputUnusable` if it is a file, a
    directory holding anything but an earlier record (``board.jsonl``, ``heads.jsonl``), or
    a place where nothing can be written."""
    if out.exists() and not out.is_dir():
        raise OutputUnusable(f"{out} exists and is not a directory")
    if out.is_dir():
        try:
            others = sorted(p.name for p in out.iterdir() if p.name not in (RECORD, HEADS))
        except OSError as exc:
            raise OutputUnusable(f"cannot read {out}: {exc.strerror}") from None
        if others:
            raise OutputUnusable(
                f"{out} holds other files than a record ({', '.join(others[:3])}"
                f"{', …' if len(others) > 3 else ''}); choose an empty or new directory"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise OutputUnusable(f"cannot write in {out}: {exc.strerror or exc}") from None


def main_demo(voters: int, group: str, out: Path, seed: int | None) -> int:
    """CLI entry: run the demo. Exit 0 when the record verifies and the result matches the
    votes cast, 1 when not, 2 when ``out`` cannot take the record (one line on stderr)."""
    try:
        check_output(out)
        outcome = run_demo(voters, group, out, seed)
    except OutputUnusable as exc:
        print(f"verivote demo: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"verivote demo: cannot write the record in {out}: {exc.strerror}", file=sys.stderr)
        return 2
    mismatches = []
    for contest in outcome.result["contests"]:
        want = outcome.expected[contest["id"]]["overall"]
        if contest["overall"] != want:
            mismatches.append(contest["id"])
    if mismatches:
        print(f"the decrypted result differs from the votes cast in {mismatches}", file=sys.stderr)
        return 1
    print("the decrypted result equals the plaintext votes the simulation cast")
    return 0 if outcome.report.valid else 1
