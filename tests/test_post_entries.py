"""``POST /entries``: the organiser's, trustees' and registrar's signed entries reach the
board over HTTP, checked by the rule book like everything else; the election entry and
ballots do not come this way. The roles' retry helper retries 503s and connection errors
only, and a post lost in transit is found on the board rather than reported refused."""

from __future__ import annotations

import pytest

from tests.live_board import request, serving, voting_election
from verivote.board.client import BoardClient, BoardClientError, PostRejected
from verivote.election.entries import sign_entry
from verivote.election.roll import add_body, issue_credentials, revoke_body
from verivote.roles.transport import post_entry, with_retry
from verivote.signatures import Signer


def amend(sim, signer=None, reason="late-registration"):
    """An addition for the next slot (the registrar's half)."""
    slot = sim.board.state.roll.slots[0]
    (item,) = issue_credentials(sim.manifest.fingerprint, [("members", 1)], slot).registrar
    body = add_body(item, reason)
    return sign_entry(signer or sim.registrar, sim.manifest.fingerprint, "amend", body, "x")


def revoke(sim, n):
    body = revoke_body(sim.records[n].key, "barred")
    return sign_entry(sim.registrar, sim.manifest.fingerprint, "amend", body, "x")


def test_authored_entries_are_posted_and_checked():
    sim = voting_election(voters=4)
    with serving(sim.board) as url:
        client = BoardClient(url)
        before = len(sim.board)
        entry = amend(sim)
        assert client.post_entry(entry) == before
        assert sim.board.entry(before).body == entry.body
        # signed by someone else than the registrar: the rule book's check, by name
        with pytest.raises(PostRejected) as err:
            client.post_entry(amend(sim, signer=Signer.generate()))
        assert (err.value.status, err.value.check) == (422, "amend.signature")
        # the election entry comes with the store, never over HTTP
        status, answer = request(
            url,
            "POST",
            "/entries",
            b'{"body":{},"sig":"00","type":"election"}',
            {"Content-Type": "application/json"},
        )
        assert (status, answer["error"]) == (403, "request.type")
        # a lost answer: the retry finds the entry on the board instead of a duplicate error
        entry = revoke(sim, 0)
        client.post_entry(entry)
        calls = []

        class Flaky(BoardClient):
            def post_entry(self, e):
                calls.append(e)
                if len(calls) == 1:
                    raise BoardClientError("connection reset")
                return super().post_entry(e)

        index = post_entry(Flaky(url), entry)
        assert sim.board.entry(index).signature == entry.signature and len(calls) == 2


def test_with_retry_retries_only_transient_failures():
    waits = []
    attempts = iter([BoardClientError("unreachable"), BoardClientError("busy", 503), "done"])

    def action():
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_retry(action, sleep=waits.append) == "done"
    assert waits == [0.5, 1.0]
    with pytest.raises(BoardClientError):
        with_retry(lambda: (_ for _ in ()).throw(BoardClientError("gone", 404)), sleep=waits.append)
    with pytest.raises(PostRejected):
        with_retry(
            lambda: (_ for _ in ()).throw(PostRejected("ballot.proof", "bad", 422)),
            sleep=waits.append,
        )
    assert waits == [0.5, 1.0]
    with pytest.raises(BoardClientError):
        with_retry(lambda: (_ for _ in ()).throw(BoardClientError("down")), [0.1], waits.append)
    assert waits == [0.5, 1.0, 0.1]
