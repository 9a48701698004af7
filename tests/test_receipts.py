"""Voters' receipts: encodings, and each way a board can fail a voter, against a record
directory and against a live board."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from live_board import choice, serving, voting_election

from verivote.board.client import BoardClient, BoardSource
from verivote.board.heads import sign_head
from verivote.board.log import Board
from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.board.receipt import Receipt, issue_receipt, read_receipt
from verivote.board.receipt_check import RecordSource, check_receipt
from verivote.cli import main
from verivote.election.entries import entry_from_line
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, ReceiptError


@pytest.fixture(scope="module")
def election():
    """A board with ballots before and after the one the receipt is for."""
    sim = voting_election(voters=10, seed=11)
    for v in range(3):
        sim.cast(v, choice(v))
    index = sim.cast(3, choice(3))
    receipt = issue_receipt(sim.board, index)
    for v in range(4, 8):
        sim.cast(v, choice(v))
    return sim, receipt


def record_lines(sim):
    return list(sim.board.store.lines(0, len(sim.board)))


def write_record(directory, sim, lines):
    """A record of ``lines`` with one head over them, signed by the election's operator."""
    directory.mkdir(parents=True, exist_ok=True)
    tree = MerkleTree()
    for line in lines:
        tree.append(leaf_hash(line))
    m = sim.manifest
    head = sign_head(
        sim.board_signer, m.fingerprint, m.election_id, len(lines), tree.root(), sim.clock()
    )
    (directory / "board.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    (directory / "heads.jsonl").write_bytes(dumps(head.to_dict()) + b"\n")
    return directory


def replay(sim, lines):
    """A live board of the same election and operator key holding ``lines`` (its heads
    timed as the entries, so that no copied entry is timed before a head signed while
    copying)."""
    board = Board(lambda: "", sim.board_signer)
    for line in lines:
        board.append(entry_from_line(line))
    board.clock = sim.clock
    return board


def dropped(sim, receipt):
    lines = record_lines(sim)
    return lines[: receipt.index] + lines[receipt.index + 1 :]


def rewritten(sim, receipt):
    """An earlier ballot's board time moved back to the entry before it: same count, the
    voter's own line unchanged, the history different."""
    lines = record_lines(sim)
    k = receipt.index - 1
    earlier = entry_from_line(lines[k])
    assert earlier.type == "ballot"
    before = entry_from_line(lines[k - 1]).time
    assert before < earlier.time
    lines[k] = replace(earlier, time=before, line=None).to_line()
    return lines


def truncated(sim, receipt):
    return record_lines(sim)[: receipt.index]


# ---------------------------------------------------------------------- encodings
def test_text_and_json_forms_round_trip(election):
    _, receipt = election
    text = receipt.to_text()
    assert text.startswith("vvr1:")
    assert Receipt.from_text(text) == receipt
    assert Receipt.from_dict(loads(dumps(receipt.to_dict()))) == receipt
    assert read_receipt(" " + text + "\n") == receipt
    assert read_receipt(dumps(receipt.to_dict()).decode()) == receipt


def test_text_form_is_small_enough_for_a_qr_code(election):
    _, receipt = election
    # 4 candidates and a referendum; the size depends on the log's size only (log2 hashes).
    fixed = len(receipt.to_text()) - 43 * len(receipt.proof)
    assert fixed < 400
    # a million entries: a 20-hash proof, still far under a QR code's 2,953 bytes
    assert fixed + 43 * 20 < 1300
    json_text = "vvr1:" + base64.urlsafe_b64encode(dumps(receipt.to_dict())).decode()
    assert len(receipt.to_text()) < len(json_text) / 2


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t + "A",
        lambda t: t + "=",
        lambda t: "vvr2:" + t[5:],
        lambda t: t[:5] + "!" + t[6:],
        lambda t: t[:9] + "+" + t[10:],  # base64, not base64url
        lambda t: t[:9] + " " + t[9:],
    ],
)
def test_text_form_is_strict(election, mangle):
    _, receipt = election
    text = mangle(receipt.to_text())
    with pytest.raises(DecodeError):
        Receipt.from_text(text)


def test_json_form_is_strict(election):
    _, receipt = election
    good = receipt.to_dict()
    for bad in (
        {**good, "extra": 1},
        {**good, "index": -1},
        {**good, "index": True},
        {**good, "proof": "00"},
        {**good, "leaf": "00"},
        {**good, "version": 2},
        {**good, "version": True},
        [],
    ):
        with pytest.raises(DecodeError):
            Receipt.from_dict(bad)


def test_only_ballots_and_audits_have_receipts(election):
    sim, _ = election
    with pytest.raises(ValueError):
        issue_receipt(sim.board, 0)


# ---------------------------------------------------------------------- verdicts on records
def test_an_honest_record_honours_the_receipt(election, tmp_path):
    sim, receipt = election
    sim.board.export(tmp_path)
    verdict = check_receipt(receipt, RecordSource(tmp_path))
    assert verdict.index == receipt.index and verdict.head.size == len(sim.board)
    assert verdict.message.startswith(
        f"your ballot is on the board at entry {receipt.index}, included in the head of "
        f"size {len(sim.board)} signed at {verdict.head.time}; so far it is your "
        "credential's last ballot"
    )


@pytest.mark.parametrize(
    ("fork", "kind", "message"),
    [
        (dropped, "missing", "your ballot is missing: entry {n} is not your ballot"),
        (truncated, "missing", "your ballot is missing: the board's latest signed head"),
        (rewritten, "rewritten", "the board rewrote its history after your receipt"),
    ],
)
def test_a_re_signed_record_fails_the_receipt(election, tmp_path, fork, kind, message):
    sim, receipt = election
    record = write_record(tmp_path, sim, fork(sim, receipt))
    with pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, RecordSource(record))
    assert caught.value.kind == kind
    assert str(caught.value).startswith(message.format(n=receipt.index))


@pytest.mark.parametrize(
    ("fork", "kind"), [(dropped, "missing"), (rewritten, "rewritten"), (truncated, "missing")]
)
def test_a_forked_live_board_fails_the_receipt(election, fork, kind):
    sim, receipt = election
    board = replay(sim, fork(sim, receipt))
    with serving(board) as url, pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, BoardSource(BoardClient(url)))
    assert caught.value.kind == kind


def test_a_receipt_for_another_election(election, tmp_path):
    _, receipt = election
    other = voting_election(voters=4, seed=12)
    other.board.export(tmp_path)
    with pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, RecordSource(tmp_path))
    assert caught.value.kind == "election"
    assert str(caught.value).startswith("this receipt is for another election")


def test_a_head_not_signed_by_the_board(election, tmp_path):
    sim, receipt = election
    sim.board.export(tmp_path)
    sig = bytearray(receipt.head.signature)
    sig[5] ^= 1
    forged = replace(receipt, head=replace(receipt.head, signature=bytes(sig)))
    with pytest.raises(ReceiptError) as caught:
        check_receipt(forged, RecordSource(tmp_path))
    assert str(caught.value) == "the receipt's tree head is not signed by this election's board"


def test_a_damaged_receipt(election, tmp_path):
    sim, receipt = election
    sim.board.export(tmp_path)
    source = RecordSource(tmp_path)
    bad_proof = replace(receipt, proof=(bytes(32), *receipt.proof[1:]))
    bad_code = replace(receipt, tracking_code="00" * 32)
    for damaged in (bad_proof, bad_code):
        with pytest.raises(ReceiptError) as caught:
            check_receipt(damaged, source)
        assert caught.value.kind == "receipt"
        assert str(caught.value).startswith("the receipt is damaged")


def test_a_record_changed_after_signing(election, tmp_path):
    sim, receipt = election
    sim.board.export(tmp_path)
    path = tmp_path / "board.jsonl"
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[2]  # entry 1 replaced, heads.jsonl left as it was signed
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, RecordSource(tmp_path))
    assert caught.value.kind == "board"


# ---------------------------------------------------------------------- the command
def test_receipt_check_command(election, tmp_path, capsys):
    sim, receipt = election
    good = tmp_path / "good"
    sim.board.export(good)
    bad = write_record(tmp_path / "bad", sim, dropped(sim, receipt))
    text = tmp_path / "receipt.txt"
    text.write_text(receipt.to_text())
    as_json = tmp_path / "receipt.json"
    as_json.write_bytes(dumps(receipt.to_dict()))
    assert main(["receipt", "check", str(text), str(good)]) == 0
    assert main(["receipt", "check", str(as_json), str(good)]) == 0
    assert "your ballot is on the board" in capsys.readouterr().out
    assert main(["receipt", "check", str(text), str(bad)]) == 1
    assert f"entry {receipt.index} is not your ballot" in capsys.readouterr().out


# ---------------------------------------------------------------------- does it count?
@pytest.fixture
def small():
    """A fresh election of four electors, open for voting."""
    return voting_election(voters=4, seed=21)


def audited_by_device(sim, voter):
    """A malicious device posts the voter's ballot as an audit (revealed, never counted)
    and hands the voter the receipt the board issues for it."""
    prepared = sim.prepare(voter, choice(voter))
    index = sim.board.post(sim.credentials[voter], "audit", prepared.audit_body())
    return issue_receipt(sim.board, index)


def test_a_ballot_posted_as_an_audit_fails_the_receipt(small, tmp_path):
    receipt = audited_by_device(small, 0)
    small.board.export(tmp_path)
    with pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, RecordSource(tmp_path))
    assert caught.value.kind == "audit"
    assert str(caught.value) == (
        f"your ballot was not cast: entry {receipt.index} is an audit of it — the ballot was "
        "revealed (opened for checking), and an audited ballot is never counted"
    )
    with serving(small.board) as url, pytest.raises(ReceiptError) as live:
        check_receipt(receipt, BoardSource(BoardClient(url)))
    assert live.value.kind == "audit"


def test_a_ballot_overridden_by_the_device_fails_the_receipt(small, tmp_path):
    receipt = issue_receipt(small.board, small.cast(1, choice(1)))
    later = small.cast(1, choice(2))  # the device casts again with the same credential
    small.cast(2, choice(2))
    small.board.export(tmp_path)
    expected = (
        f"your ballot does not count: a later ballot with the same credential was posted at "
        f"entry {later} ({small.board.entry(later).time}), and only a credential's last "
        "ballot counts"
    )
    with pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, RecordSource(tmp_path))
    assert (caught.value.kind, str(caught.value)) == ("replaced", expected)
    with serving(small.board) as url, pytest.raises(ReceiptError) as live:
        check_receipt(receipt, BoardSource(BoardClient(url)))
    assert (live.value.kind, str(live.value)) == ("replaced", expected)


def test_a_revoked_credential_fails_the_receipt(small, tmp_path):
    receipt = issue_receipt(small.board, small.cast(1, choice(1)))
    revoked = small.revoke(1, "deceased")
    small.board.export(tmp_path)
    with pytest.raises(ReceiptError) as caught:
        check_receipt(receipt, RecordSource(tmp_path))
    assert caught.value.kind == "revoked"
    assert str(caught.value).startswith(
        f"your ballot does not count: the registrar revoked its credential at entry {revoked} "
    )


def test_the_receipt_says_whether_the_ballot_was_counted(small, tmp_path):
    receipt = issue_receipt(small.board, small.cast(0, choice(0)))
    small.cast(1, choice(1))
    small.board.export(tmp_path / "open")
    verdict = check_receipt(receipt, RecordSource(tmp_path / "open"))
    assert (verdict.close, verdict.tally, verdict.counted) == (None, None, False)
    assert "it will be counted unless a later ballot" in verdict.message
    small.close()
    small.board.export(tmp_path / "closed")
    verdict = check_receipt(receipt, RecordSource(tmp_path / "closed"))
    assert verdict.close is not None and not verdict.counted
    assert f"voting closed at entry {verdict.close}: it will be counted" in verdict.message
    small.count([1, 2])
    small.board.export(tmp_path / "counted")
    verdict = check_receipt(receipt, RecordSource(tmp_path / "counted"))
    assert verdict.counted and verdict.tally == verdict.close + 1
    assert verdict.message.endswith(
        "it is your credential's last ballot, the credential was not revoked, and it was "
        f"counted: the tally at entry {verdict.tally} includes it"
    )
    with serving(small.board) as url:
        live = check_receipt(receipt, BoardSource(BoardClient(url)))
    assert live.tally == verdict.tally


def test_receipt_check_command_names_an_audit(small, tmp_path, capsys):
    receipt = audited_by_device(small, 3)
    small.board.export(tmp_path / "record")
    text = tmp_path / "receipt.txt"
    text.write_text(receipt.to_text())
    assert main(["receipt", "check", str(text), str(tmp_path / "record")]) == 1
    assert "is an audit of it" in capsys.readouterr().out


def test_a_later_ballot_not_signed_by_the_credential_does_not_replace(small, tmp_path):
    from verivote.election.entries import sign_entry
    from verivote.signatures import Signer

    receipt = issue_receipt(small.board, small.cast(1, choice(1)))
    body = small.prepare(1, choice(2)).body  # names elector 1's credential
    forged = sign_entry(Signer.generate(), small.manifest.fingerprint, "ballot", body, "x")
    forged = replace(forged, time=small.clock()).to_line()
    record = write_record(tmp_path, small, [*record_lines(small), forged])
    verdict = check_receipt(receipt, RecordSource(record))
    assert verdict.index == receipt.index and not verdict.counted
