"""The typed board client: a ballot service reads the manifest, the joint key, the roll
and entries as objects, casts and audits, and checks receipts — against a live board."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from live_board import serving, voting_election
from nacl import bindings

import verivote
from verivote.board.api import ElectionClient
from verivote.board.receipt import read_receipt
from verivote.election.entries import sign_entry
from verivote.election.roll import Roll, half_secret_text
from verivote.errors import EntryRejected, ReceiptError
from verivote.groups import Element
from verivote.signatures import ScalarSigner


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
    # an audit is on the board but revealed, never counted: its receipt check says so
    with pytest.raises(ReceiptError, match="audited ballot is never counted"):
        client.check_receipt(audit_receipt)
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
    honest = entries[2]
    assert honest.type == "trustee"
    body = copy.deepcopy(honest.body)
    s = body["proofs"][0]["s"]
    body["proofs"][0]["s"] = s[:-1] + ("0" if s[-1] != "0" else "1")
    # signed by the trustee, so only the proof itself is wrong
    forged = sign_entry(
        sim.trustees[0].signer, sim.manifest.fingerprint, "trustee", body, honest.time
    )
    served = [*entries[:2], forged, *entries[3:]]
    client = ElectionClient("http://127.0.0.1:9")
    client.client.entries = lambda start=0, end=None: served[start:end]  # type: ignore[method-assign]
    client.client.manifest = lambda: sim.manifest  # type: ignore[method-assign]
    with pytest.raises(EntryRejected) as info:
        client.joint_key()
    assert info.value.check == "trustee.proof"
    assert info.value.reason.startswith("entry 2:")
    client.client.entries = lambda start=0, end=None: entries[start:end]  # type: ignore[method-assign]
    assert client.joint_key() == sim.joint_key


def _readme_python_blocks() -> list[str]:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") : readme.index("## Layout")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_python_api_examples_run(tmp_path, monkeypatch, capsys):
    cast_block, verify_block = _readme_python_blocks()
    sim = voting_election(voters=4, seed=12)
    monkeypatch.chdir(tmp_path)
    # the elector's two half files: any split of its credential scalar
    full = sim.credentials[2]
    first = ScalarSigner.generate()
    second = ScalarSigner(bindings.crypto_core_ed25519_scalar_sub(full.scalar, first.scalar))
    for role, half in (("registrar", first), ("issuer", second)):
        (tmp_path / f"E001.{role}.credential").write_text(half_secret_text(half) + "\n")
    with serving(sim.board) as url:
        exec(cast_block.replace("http://127.0.0.1:8080", url), {})
    out = capsys.readouterr().out
    assert "your ballot is on the board at entry" in out and "4 credentials" in out
    receipt = read_receipt((tmp_path / "receipt.txt").read_text())
    assert sim.board.entry(receipt.index).body["credential"] == sim.records[2].key.hex()
    sim.close()
    sim.count(present=[2, 3])
    sim.board.export(tmp_path / "record")
    exec(verify_block, {})
    out = capsys.readouterr().out
    assert out.startswith("VALID") and "leader {" in out
