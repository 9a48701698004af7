"""The typed board client: a ballot service reads the manifest, the joint key, the roll
and entries as objects, casts and audits, and checks receipts — against a live board."""

from __future__ import annotations

import copy

import pytest
from live_board import serving, voting_election

import verivote
from verivote.board.api import ElectionClient
from verivote.election.entries import sign_entry
from verivote.election.roll import Roll
from verivote.errors import EntryRejected
from verivote.groups import Element


@pytest.fixture(scope="module")
def live():
    sim = voting_election(voters=6, seed=8)
    sim.revoke(5, "barred")
    with serving(sim.board) as url:
        yield sim, url


def test_reads_typed_objects(live):
    sim, url = live
    client = ElectionClient(url)
    manifest = client.manifest()
    assert isinstance(manifest, verivote.Manifest)
    assert manifest.fingerprint == sim.manifest.fingerprint
    key = client.joint_key()
    assert isinstance(key, Element) and key == sim.joint_key
    roll = client.roll()
    assert isinstance(roll, Roll) and len(roll) == 6
    assert sim.records[5].key in roll.revoked
    assert roll.status(sim.records[0].key).category == sim.records[0].category
    shares = client.entries(entry_type="share")
    assert len(shares) == 6 and all(e.type == "share" for e in shares)


def test_casts_audits_and_checks_receipts(live):
    sim, url = live
    client = ElectionClient(url)
    before = len(sim.board)
    prepared = client.prepare(sim.credentials[1], {"leader": ["dlamini"]})
    audit_receipt = client.audit(prepared, sim.credentials[1])
    cast = client.cast(sim.credentials[1], {"leader": ["dlamini"], "rule-change": ["yes"]})
    assert len(sim.board) == before + 2
    assert cast.tracking_code == cast.ballot.tracking_code
    assert client.check_receipt(cast.receipt).message
    assert client.check_receipt(audit_receipt).message
    stored = sim.board.entry(cast.receipt.index)
    assert stored.type == "ballot" and stored.body == cast.ballot.body


def test_a_revoked_credential_is_refused_with_the_check(live):
    sim, url = live
    with pytest.raises(verivote.PostRejected) as info:
        ElectionClient(url).cast(sim.credentials[5], {"leader": ["begum"]})
    assert info.value.check == "ballot.credential"


def test_a_board_serving_a_forged_announcement_is_caught():
    sim = voting_election(voters=3, seed=9)
    entries = list(sim.board)
    honest = entries[1]
    assert honest.type == "trustee"
    body = copy.deepcopy(honest.body)
    s = body["proofs"][0]["s"]
    body["proofs"][0]["s"] = s[:-1] + ("0" if s[-1] != "0" else "1")
    # signed by the trustee, so only the proof itself is wrong
    forged = sign_entry(
        sim.trustees[0].signer, sim.manifest.fingerprint, "trustee", body, honest.time
    )
    served = [entries[0], forged, *entries[2:]]
    client = ElectionClient("http://127.0.0.1:9")
    client.client.entries = lambda start=0, end=None: served[start:end]  # type: ignore[method-assign]
    client.client.manifest = lambda: sim.manifest  # type: ignore[method-assign]
    with pytest.raises(EntryRejected) as info:
        client.joint_key()
    assert info.value.check == "trustee.proof"
    assert info.value.reason.startswith("entry 1:")
    client.client.entries = lambda start=0, end=None: entries[start:end]  # type: ignore[method-assign]
    assert client.joint_key() == sim.joint_key
