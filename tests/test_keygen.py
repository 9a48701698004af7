"""The key ceremony on a timetable, bound to one run, with the trustee's side.

Attacks on the ceremony as it was: a trustee that announces after the others exchanged
shares makes every honest trustee incomplete (they sent it nothing) and so disqualified; a
complaint posted just before the joint key leaves its target no time to answer; entries of
an aborted run under the same manifest can be mixed into a new one; the demo combined
shares from disqualified trustees. Each is now refused by name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from verivote.demo import SimulatedElection, _parse
from verivote.election import ceremony, decryption, keygen
from verivote.election.manifest import format_time
from verivote.errors import DecodeError, EntryRejected, ParameterError, ProtocolError

LEADER = {"leader": ["begum"], "rule-change": ["yes"]}


def rejected(sim: SimulatedElection, signer, entry_type: str, body: dict) -> str:
    before = len(sim.board)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(signer, entry_type, body)
    assert len(sim.board) == before
    return info.value.check


def announce(sim: SimulatedElection, index: int, run: bytes | None = None) -> dict:
    s = sim.trustees[index - 1]
    return keygen.with_run(ceremony.make_announcement(s, sim.manifest), run or sim.schedule.run)


def test_late_announcement_cannot_disqualify_honest_trustees():
    """Trustees 1 and 2 announce and exchange shares; trustee 3 announces after the
    deadline. Before deadlines, its announcement was accepted and trustees 1 and 2, having
    sent it no share, were left out of the qualified set."""
    sim = SimulatedElection(4, seed=1)
    t1, t2, t3 = sim.trustees
    m, run = sim.manifest, sim.schedule.run
    for s in (t1, t2):
        sim.board.post(s.signer, "trustee", announce(sim, s.index))
    for s, other in ((t1, t2), (t2, t1)):
        body = keygen.with_run(ceremony.make_share(s, m, other.index), run)
        sim.board.post(s.signer, "share", body)
    sim.clock.jump(_parse(sim.schedule.announce))
    assert rejected(sim, t3.signer, "trustee", announce(sim, 3)) == "trustee.time"
    sim.post_joint_key((1, 2))
    assert sim.board.state.qualified == (1, 2)


def test_late_complaint_cannot_disqualify():
    sim = SimulatedElection(4, seed=2)
    sim.exchange_shares()
    t2 = sim.trustees[1]
    sim.clock.jump(_parse(sim.schedule.complaints))
    body = keygen.with_run(
        ceremony.make_complaint(t2, sim.manifest, 1, "too late to answer"), sim.schedule.run
    )
    assert rejected(sim, t2.signer, "complaint", body) == "complaint.time"
    sim.post_joint_key((1, 2, 3))
    assert sim.board.state.qualified == (1, 2, 3)


def test_joint_key_waits_for_the_justifications_deadline():
    sim = SimulatedElection(4, seed=3)
    sim.exchange_shares()
    body = ceremony.make_joint_key_body(sim.board.state.announcements, (1, 2, 3))
    bound = keygen.with_run(body, sim.schedule.run)
    assert rejected(sim, sim.organiser, "joint_key", bound) == "joint_key.time"
    sim.clock.jump(_parse(sim.schedule.justifications))
    assert rejected(sim, sim.organiser, "joint_key", body) == "joint_key.run"


def test_entries_of_another_run_are_refused():
    """An announcement trustee 1 signed in an aborted run under the same manifest."""
    sim = SimulatedElection(4, seed=4)
    old = keygen.make_schedule(_parse(sim.manifest.opens) - timedelta(days=2))
    t1 = sim.trustees[0]
    assert rejected(sim, t1.signer, "trustee", announce(sim, 1, old.run)) == "trustee.run"
    unbound = ceremony.make_announcement(t1, sim.manifest)
    assert rejected(sim, t1.signer, "trustee", unbound) == "trustee.run"


def test_ceremony_entry_rules():
    sim = SimulatedElection(4, seed=5)
    again = keygen.make_schedule(_parse(sim.schedule.announce))
    assert rejected(sim, sim.organiser, "ceremony", again.to_dict()) == "ceremony.duplicate"
    sim2 = SimulatedElection(4, seed=5)
    st = sim2.board.state
    assert st.schedule is not None and st.schedule.run == sim2.schedule.run
    m = sim2.manifest
    opens = _parse(m.opens)
    with pytest.raises(DecodeError, match="deadlines must increase"):
        keygen.Schedule.from_dict(keygen.make_schedule(opens).to_dict(), m, m.opens)
    with pytest.raises(DecodeError, match="deadlines must increase"):
        body = {**sim2.schedule.to_dict(), "shares": sim2.schedule.announce}
        keygen.Schedule.from_dict(body, m, format_time(opens - timedelta(days=1)))
    with pytest.raises(DecodeError):
        keygen.Schedule.from_dict({**sim2.schedule.to_dict(), "run": "00"}, m, "")
    with pytest.raises(ParameterError):
        keygen.make_schedule(opens, timedelta(0))


def test_trustee_entry_before_the_ceremony_entry():
    from verivote.board.log import Board
    from verivote.demo import SimulatedClock

    sim = SimulatedElection(4, seed=6)
    board = Board(SimulatedClock(sim.start), sim.board_signer)
    board.append(sim.board.entry(0))
    with pytest.raises(EntryRejected) as info:
        board.post(sim.trustees[0].signer, "trustee", announce(sim, 1))
    assert info.value.check == "entry.order"


def _identity_trustee(sim: SimulatedElection) -> ceremony.TrusteeSecrets:
    """Trustee 2 with a_{2,0} = -a_{1,0}: colluding with trustee 1, it cancels the key."""
    t1, t2 = sim.trustees[0], sim.trustees[1]
    coefficients = (-t1.coefficients[0], *t2.coefficients[1:])
    return ceremony.TrusteeSecrets(t2.group, 2, t2.signer, t2.box_key, coefficients)


def test_identity_joint_key_is_refused():
    sim = SimulatedElection(4, seed=7, trustees=2, threshold=1)
    sim.trustees[1] = _identity_trustee(sim)
    sim.exchange_shares()
    ann = sim.board.state.announcements
    with pytest.raises(ProtocolError, match="identity"):
        ceremony.make_joint_key_body(ann, (1, 2))
    group = sim.manifest.group
    body = {"qualified": [1, 2], "public_key": group.identity.hex()}
    sim.clock.jump(_parse(sim.schedule.justifications))
    check = rejected(sim, sim.organiser, "joint_key", keygen.with_run(body, sim.schedule.run))
    assert check == "joint_key.identity"


def test_trustee_side_checks_shares_complains_and_combines():
    """Trustee 1 sends trustee 2 a wrong share; trustee 2 finds it, complains; trustee 1
    justifies; trustee 2 takes the revealed value and decrypts correctly."""
    sim = SimulatedElection(6, seed=8)
    sim.exchange_shares(bad=(1, 2))
    m, st, run = sim.manifest, sim.board.state, sim.schedule.run
    t1, t2, _ = sim.trustees
    shares = [e.body for e in sim.board if e.type == "share"]
    got = keygen.check_received(t2, m, st.announcements, shares)
    assert set(got.complaints) == {1} and "does not match" in got.complaints[1]
    assert set(got.values) == {2, 3} and "Received trustee 2" in repr(got)
    for body in keygen.complaint_bodies(t2, m, got, run):
        sim.board.post(t2.signer, "complaint", body)
    answer = keygen.with_run(ceremony.make_justification(t1, m, 2), run)
    sim.board.post(t1.signer, "justification", answer)
    answered = keygen.take_justifications(
        got, st.announcements, [e.body for e in sim.board if e.type == "justification"]
    )
    assert answered.complaints == {} and set(answered.values) == {1, 2, 3}
    sim.post_joint_key((1, 2, 3))
    x2 = keygen.secret_share(answered, st.qualified)
    assert m.group.generator**x2 == ceremony.public_share_key(st.announcements, st.qualified, 2)
    with pytest.raises(ParameterError, match="no share from qualified trustees"):
        keygen.secret_share(got, st.qualified)
    # An honest trustee's view: nothing to complain about, a missing share noticed.
    t3_view = keygen.check_received(sim.trustees[2], m, st.announcements, shares[:1])
    assert set(t3_view.complaints) == {1, 2}


def test_combined_share_leaves_disqualified_trustees_out():
    """The demo combined every share it received, a disqualified trustee's included: its
    decryption share then fails its proof. The qualified set is now required."""
    sim = SimulatedElection(6, seed=9)
    sim.exchange_shares(bad=(1, 2))
    t2 = sim.trustees[1]
    body = keygen.with_run(
        ceremony.make_complaint(t2, sim.manifest, 1, "does not match"), sim.schedule.run
    )
    sim.board.post(t2.signer, "complaint", body)
    sim.post_joint_key((2, 3))
    sim.publish_roll()
    sim.cast(0, LEADER)
    sim.close()
    st = sim.board.state
    encrypted = st.expected_tally()
    sim.board.post(sim.organiser, "tally", encrypted.to_dict())
    received = dict(sim.received[3])
    assert 1 in received  # trustee 3 holds trustee 1's (good) share, yet 1 is disqualified
    first, *rest = received.values()
    everything = sum(rest, first)
    wrong = decryption.make_decryption(sim.manifest, encrypted, 3, everything)
    assert rejected(sim, sim.trustees[2].signer, "decryption", wrong) == "decryption.proof"
    with pytest.raises(TypeError):
        ceremony.combined_secret_share(received)  # type: ignore[call-arg]
    x3 = ceremony.combined_secret_share(received, qualified=st.qualified)
    sim.board.post(
        sim.trustees[2].signer,
        "decryption",
        decryption.make_decryption(sim.manifest, encrypted, 3, x3),
    )
