"""A suppressed amendment no longer goes unseen.

The attack on the protocol as it was: the board never publishes the registrar's
revocation of an elector who voted; the organiser and the trustees count the log they see,
the barred elector's ballot included, and the record verifies. Now the registrar seals
what it posted before the close, the board cannot post a seal that does not match its log,
the close needs both seals, and every author holds a receipt for each entry it posted."""

from __future__ import annotations

import pytest

from verivote.board.author_receipt import check_author_receipt, entry_code, issue_author_receipt
from verivote.board.receipt_check import RecordSource
from verivote.demo import SimulatedElection, _parse
from verivote.election.entries import sign_entry
from verivote.election.roll import revoke_body
from verivote.election.seal import seal_body
from verivote.errors import EntryRejected, ReceiptError
from verivote.verify.record import verify_record

LEADER = {"leader": ["begum"], "rule-change": ["yes"]}


def voting() -> SimulatedElection:
    sim = SimulatedElection(6, seed=7)
    sim.run_ceremony()
    sim.publish_roll()
    for voter in range(3):
        sim.cast(voter, LEADER)
    return sim


def registrar_posted(sim: SimulatedElection) -> list[tuple[str, dict]]:
    return [(e.type, e.body) for e in sim.board if e.type in ("roll", "amend")]


def test_suppressed_revocation_is_caught_by_the_seal():
    sim = voting()
    m = sim.manifest
    # The registrar signs a revocation of elector 1 (who voted); the board drops it.
    revocation = revoke_body(sim.records[1].key, "barred")
    posted = [*registrar_posted(sim), ("amend", revocation)]
    seal = seal_body(m.fingerprint, "registrar", posted)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.registrar, "seal", seal)
    assert info.value.check == "seal.counts"
    issuer = [(e.type, e.body) for e in sim.board if e.type == "issuer"]
    sim.board.post(sim.issuer, "seal", seal_body(m.fingerprint, "issuer", issuer))
    sim.clock.jump(_parse(m.closes))
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.organiser, "close", sim.board.state.close_counts())
    assert info.value.check == "close.seals" and "registrar" in info.value.reason


def test_seal_rules():
    sim = voting()
    m = sim.manifest
    good = seal_body(m.fingerprint, "registrar", registrar_posted(sim))
    with pytest.raises(EntryRejected) as info:  # signed by the wrong party
        sim.board.post(sim.issuer, "seal", good)
    assert info.value.check == "seal.signature"
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.registrar, "seal", {**good, "role": "board"})
    assert info.value.check == "seal.decode"
    sim.board.post(sim.registrar, "seal", good)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.registrar, "seal", good)
    assert info.value.check == "seal.duplicate"
    with pytest.raises(EntryRejected) as info:  # nothing after the seal
        sim.revoke(2)
    assert info.value.check == "entry.order"
    with pytest.raises(ValueError):
        seal_body(m.fingerprint, "organiser", [])


def test_every_author_gets_a_receipt(tmp_path):
    sim = voting()
    at = sim.revoke(4)
    receipt = issue_author_receipt(sim.board, at)
    entry = sim.board.entry(at)
    assert receipt.tracking_code == entry_code(sim.manifest.fingerprint, entry)
    assert receipt.to_text().startswith("vvr1:")
    roll = issue_author_receipt(sim.board, 2)
    sim.close()
    sim.count(present=[1, 2])
    sim.board.export(tmp_path / "honest")
    assert verify_record(tmp_path / "honest").valid
    for r in (receipt, roll):
        assert check_author_receipt(r, RecordSource(tmp_path / "honest")).index == r.index
    # A later board that dropped the revocation: the registrar's receipt shows it.
    lines = (tmp_path / "honest" / "board.jsonl").read_bytes().splitlines()
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / "board.jsonl").write_bytes(b"".join(x + b"\n" for x in lines[:at] + lines[at + 1 :]))
    head = sim.board.checkpoint()
    (forged / "heads.jsonl").write_bytes((tmp_path / "honest" / "heads.jsonl").read_bytes())
    with pytest.raises(ReceiptError) as info:
        check_author_receipt(receipt, RecordSource(forged))
    assert info.value.kind in ("missing", "board")
    assert head.size == len(lines)


def test_entry_code_binds_type_and_body():
    sim = voting()
    fp = sim.manifest.fingerprint
    a = sign_entry(sim.registrar, fp, "amend", revoke_body(sim.records[0].key, "barred"), "t")
    b = sign_entry(sim.registrar, fp, "amend", revoke_body(sim.records[1].key, "barred"), "t")
    assert entry_code(fp, a) != entry_code(fp, b) and len(entry_code(fp, a)) == 64
