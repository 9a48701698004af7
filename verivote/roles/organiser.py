"""The organiser: writes the manifest, then opens, closes and counts the election.

State directory: ``role.json``, ``organiser.key`` (secret kind ``organiser``: the Ed25519
seed that signs the organiser's entries), ``manifest.json`` (public) and
``election.entry`` (the signed election entry, an entry file for ``verivote board load``).

After the election entry, :meth:`Organiser.ceremony` opens the key ceremony with a
``ceremony`` entry: a fresh run id and four deadlines (announce, shares, complaints,
justifications), by default spread evenly from now to the opening time, or over
``minutes`` (``--ceremony-minutes``). :meth:`Organiser.open` posts the joint key once the
justifications deadline has passed (``--wait`` waits for it, and for the opening time),
then the ``open`` entry. :meth:`Organiser.close` needs both seals on the board (the
registrar's and the issuer's, ``verivote registrar seal`` and ``verivote issuer seal``).

Every later step reads the board, replays it through the rule book and builds its entry
from that state — the joint key from the announcements, shares and complaints on the board,
the roll size and the close counts from the board's entries, the tally recomputed from the
counted ballots, the result from the trustees' proven decryption shares — so an entry this
module posts is one the board and every verifier accept. A step already done is reported,
not repeated.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from verivote.election import ceremony, decryption, keygen
from verivote.election.entries import Entry, sign_entry
from verivote.election.manifest import Manifest
from verivote.election.state import COUNTING, DONE, SETUP, VOTING
from verivote.encoding import dumps, loads
from verivote.errors import VerivoteError
from verivote.roles import statedir
from verivote.roles.board_operator import utc_now
from verivote.roles.election_file import read_election_file
from verivote.roles.statedir import StateDir
from verivote.roles.transport import BoardView, Poster, read_board, write_entries
from verivote.signatures import Signer

KEY_FILE, MANIFEST_FILE, ELECTION_FILE = "organiser.key", "manifest.json", "election.entry"
SECRET_KIND = "organiser"


class NotDue(VerivoteError):
    """A step that cannot be taken yet (the board is not in the right phase, or a
    trustee or the registrar has not done its part); the message says what is missing."""


def init(
    directory: Path,
    election_file: Path,
    passphrase: str,
    *,
    opens: str | None = None,
    closes: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Read the election file, make the organiser's key, sign the election entry; the
    state directory gets the key (encrypted), the manifest and ``election.entry``. Raises
    ElectionFileError (nothing is written) or StateError."""
    signer = Signer.generate()
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    manifest = read_election_file(
        election_file, signer.public_key, now=moment, opens=opens, closes=closes
    )
    sd = statedir.create(directory, "organiser", {"election_id": manifest.election_id})
    sd.write_secret(KEY_FILE, SECRET_KIND, signer.seed, passphrase)
    sd.write(MANIFEST_FILE, dumps(manifest.to_dict()) + b"\n")
    entry = sign_entry(signer, b"", "election", manifest.to_dict(), utc_now())
    write_entries(sd.file(ELECTION_FILE), [entry])
    return manifest


class Organiser:
    """The organiser of the election in state directory ``directory``."""

    def __init__(self, directory: Path, passphrase: str) -> None:
        self.sd = StateDir(directory, "organiser")
        self.manifest = Manifest.from_dict(loads(self.sd.read(MANIFEST_FILE).strip()))
        self.signer = Signer(self.sd.read_secret(KEY_FILE, SECRET_KIND, passphrase))

    def _view(self, board: str) -> BoardView:
        view = read_board(board)
        if view.manifest.fingerprint != self.manifest.fingerprint:
            raise NotDue(f"{board} holds another election ({view.manifest.election_id})")
        return view

    def _sign(self, entry_type: str, body: dict[str, Any]) -> Entry:
        return sign_entry(self.signer, self.manifest.fingerprint, entry_type, body, utc_now())

    def ceremony(self, board: str, poster: Poster, *, minutes: float | None = None) -> list[str]:
        """Post the ``ceremony`` entry: a fresh run id and four deadlines, ``minutes / 4``
        apart from now (default: spread evenly up to the opening time). NotDue when a run
        is on the board already or the deadlines would pass the opening time."""
        view = self._view(board)
        if view.state.schedule is not None:
            return [f"the ceremony run {view.state.schedule.run.hex()[:16]}… is on the board"]
        start = _parse(utc_now()) + timedelta(seconds=2)
        opens = _parse(self.manifest.opens)
        if minutes is None:
            step = (opens - start) / 4
        else:
            if minutes <= 0:
                raise NotDue("--ceremony-minutes must be positive")
            step = timedelta(minutes=minutes) / 4
        step = timedelta(seconds=int(step.total_seconds()))
        if step < timedelta(seconds=1) or start + 4 * step > opens:
            raise NotDue(
                f"the ceremony must end by the opening time {self.manifest.opens} (UTC): "
                "too little time is left (choose a later --opens, or fewer --ceremony-minutes)"
            )
        schedule = keygen.make_schedule(start, step)
        poster.post(self._sign("ceremony", schedule.to_dict()))
        return [
            f"key ceremony run {schedule.run.hex()[:16]}…: announce by {schedule.announce}, "
            f"shares by {schedule.shares}, complaints by {schedule.complaints}, "
            f"justifications by {schedule.justifications} (UTC)"
        ]

    def open(self, board: str, poster: Poster, *, wait: bool = False) -> list[str]:
        """Post the joint key (if not yet on the board; after the ceremony's justifications
        deadline) and the ``open`` entry. With ``wait``, first wait for that deadline and
        for the opening time. NotDue before them (without ``wait``), while the roll is
        empty or a slot lacks one party's half."""
        view = self._view(board)
        st = view.state
        if st.phase != SETUP:
            return [f"the election is open already (phase {st.phase})"]
        if st.schedule is None:
            raise NotDue("no key ceremony on the board: run verivote organiser ceremony")
        last = st.schedule.justifications
        if wait:
            _sleep_until(_parse(max(last, self.manifest.opens)))
            view = self._view(board)
            st = view.state
        if utc_now() < last:
            raise NotDue(f"the ceremony's justifications deadline is {last} (UTC); use --wait")
        assert st.roll is not None
        if st.roll.pending:
            raise NotDue(
                f"{st.roll.pending} roll slot(s) lack the registrar's or the issuer's half"
            )
        if not len(st.roll):
            raise NotDue("the registrar and the issuer have not posted the roll yet")
        done = []
        if st.joint_key is None:
            body = joint_key_body(view)
            poster.post(self._sign("joint_key", body))
            done.append(f"joint key of trustees {body['qualified']} posted")
        poster.post(self._sign("open", {"roll_size": len(st.roll)}))
        done.append(f"opened with {len(st.roll)} electors on the roll")
        return done

    def close(self, board: str, poster: Poster, *, wait: bool = False) -> list[str]:
        """Post the ``close`` entry with the board's counts; with ``wait``, first wait for
        the closing time. NotDue while a seal (the registrar's or the issuer's) is missing,
        and before the closing time (without ``wait``)."""
        view = self._view(board)
        st = view.state
        if st.phase != VOTING:
            return [f"nothing to close (phase {st.phase})"]
        assert st.seals is not None
        if st.seals.missing():
            raise NotDue(
                f"no seal from the {' and the '.join(st.seals.missing())} yet "
                "(verivote registrar seal, verivote issuer seal)"
            )
        if wait:
            _sleep_until(_parse(self.manifest.closes))
            view = self._view(board)
            st = view.state
        if utc_now() < self.manifest.closes:
            raise NotDue(f"voting closes at {self.manifest.closes} (UTC); use --wait")
        body = st.close_counts()
        poster.post(self._sign("close", body))
        return [f"closed: {body['ballots']} ballots, {body['counted']} counted"]

    def tally(self, board: str, poster: Poster) -> list[str]:
        """Post the encrypted tally, recomputed from the ballots on the board."""
        st = self._view(board).state
        if st.phase != COUNTING:
            raise NotDue(f"the tally comes after the close (phase {st.phase})")
        if st.tally is not None:
            return ["the tally is on the board already"]
        poster.post(self._sign("tally", st.expected_tally().to_dict()))
        return ["encrypted tally posted"]

    def result(self, board: str, poster: Poster) -> list[str]:
        """Post each ranked contest's ``ranked_result`` (its mixed ballots decrypted from
        the trustees' shares, the invalid ones named, and the count round by round per
        group and overall), then combine the trustees' decryption shares of the tally and
        post the result; the lines of the result table (and each ranked count's rounds)
        are returned. NotDue below the threshold, for the tally or a ranked contest."""
        from verivote.count.text import render_text
        from verivote.election.ranked_result import (
            count_report,
            decrypt_rows,
            make_ranked_result_body,
        )

        view = self._view(board)
        st, m = view.state, self.manifest
        if st.phase == DONE and st.result is not None:
            return [decryption.render_result(m, st.result)]
        if st.tally is None:
            raise NotDue("no tally on the board yet")
        if len(st.decryptions) < m.threshold:
            raise NotDue(
                f"{len(st.decryptions)} of the {m.threshold} decryptions needed are on the board"
            )
        said = []
        ranked = st.ranked
        for cid in ranked.pending() if ranked is not None else []:
            assert ranked is not None
            chain, shares = ranked.mixes()[cid], ranked.shares.get(cid, {})
            if not chain.complete() or len(shares) < m.threshold:
                raise NotDue(
                    f"contest {cid}: {len(chain.mixers)} of {m.threshold} mixes and "
                    f"{len(shares)} of {m.threshold} decryptions of the mixed ballots are "
                    "on the board (verivote trustee mix, verivote trustee decrypt)"
                )
            values = decrypt_rows(m, chain, shares)
            body = make_ranked_result_body(m, chain, values, sorted(shares))
            poster.post(self._sign("ranked_result", body))
            rows = [row for group in values for row in group]
            report = count_report(chain.contest, rows, bytes.fromhex(body["seed"]))
            said += [f"{cid}: ranked result posted; the count of all groups:", render_text(report)]
        present = sorted(st.decryptions)
        missing = [t.index for t in m.trustees if t.index not in st.decryptions]
        counts = decryption.combine(m, st.tally, st.decryptions, m.threshold)
        assert st.roll is not None
        added = len(st.roll.added)
        body = decryption.make_result_body(m, st.tally, counts, present, missing, added)
        poster.post(self._sign("result", body))
        return [*said, decryption.render_result(m, body)]


def _parse(moment: str) -> datetime:
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _sleep_until(moment: datetime) -> None:
    """Sleep until a second after ``moment`` (the board's clock reads whole seconds)."""
    while (left := (moment - datetime.now(UTC)).total_seconds()) > -1:
        time.sleep(min(left + 1.05, 30))


def joint_key_body(view: BoardView) -> dict[str, Any]:
    """The ``joint_key`` body (bound to the ceremony run) the board's ceremony entries
    give, as the rule book will recompute it: a trustee that did not announce or did not
    send all its shares by their deadlines is disqualified, as is one with a complaint
    left unanswered. Raises ProtocolError when fewer than the threshold remain."""
    st, m = view.state, view.manifest
    assert st.keygen is not None and st.schedule is not None
    kc = st.keygen
    n = len(m.trustees)
    announced = sorted(kc.announcements)
    complete = [i for i in announced if all((i, j) in kc.shares for j in announced if j != i)]
    complaints = list(kc.complaints) + [(0, i) for i in range(1, n + 1) if i not in complete]
    qualified = ceremony.qualified_trustees(n, complaints, kc.justified, m.threshold)
    body = ceremony.make_joint_key_body(kc.announcements, qualified)
    return keygen.with_run(body, st.schedule.run)
