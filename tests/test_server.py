"""The board's HTTP service (verivote.server) and its client, on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from live_board import ballot_payload, request, serving, voting_election

from verivote.board.client import BoardClient, BoardClientError, BoardSource, PostRejected
from verivote.board.receipt_check import RecordSource, check_receipt
from verivote.board.sqlite_store import SQLiteStore
from verivote.cli import main
from verivote.demo import SimulatedElection
from verivote.election.entries import sign_entry
from verivote.encoding import dumps
from verivote.server.app import create_app
from verivote.server.openapi import schema
from verivote.server.serve import open_board


@pytest.fixture(scope="module")
def live():
    sim = voting_election(voters=12)
    with serving(sim.board, max_body=64 * 1024) as url:
        yield sim, url


def lines(board):
    return list(board.store.lines(0, len(board)))


def test_ballot_cast_over_http_gives_a_receipt_that_checks(live, tmp_path):
    sim, url = live
    client = BoardClient(url)
    receipt = client.post_ballot(ballot_payload(sim, 0))
    assert sim.board.entry(receipt.index).type == "ballot"
    assert receipt.election_id == sim.manifest.election_id
    client.post_ballot(ballot_payload(sim, 1))  # the board grows after the receipt
    live_check = check_receipt(receipt, BoardSource(client))
    assert live_check.index == receipt.index
    assert live_check.head.size == len(sim.board) > receipt.head.size
    assert live_check.message.startswith(f"your ballot is on the board at entry {receipt.index}")
    record = tmp_path / "record"
    sim.board.checkpoint()  # heads are published on a schedule, never by a read
    client.download_record(record)
    assert check_receipt(receipt, RecordSource(record)).index == receipt.index
    text = tmp_path / "receipt.txt"
    text.write_text(receipt.to_text() + "\n")
    assert main(["receipt", "check", str(text), url]) == 0
    assert main(["receipt", "check", str(text), str(record)]) == 0
    exported = tmp_path / "exported"
    sim.board.export(exported)
    assert main(["receipt", "check", str(text), str(exported)]) == 0


def test_reading_endpoints(live):
    sim, url = live
    client = BoardClient(url)
    board = sim.board
    assert [e.to_line() for e in client.entries(0)] == lines(board)
    assert [e.to_line() for e in client.entries(2, 5)] == lines(board)[2:5]
    assert client.line(3) == board.store.line(3)
    assert client.manifest().fingerprint == sim.manifest.fingerprint
    head = client.head()
    head.verify(sim.manifest.board_key, sim.manifest.fingerprint)
    assert head.root == board.tree.root(head.size)
    assert client.inclusion(3, head.size) == board.tree.inclusion_proof(3, head.size)
    assert client.consistency(4, head.size) == board.tree.consistency_proof(4, head.size)
    assert [h.to_dict() for h in client.heads()] == [h.to_dict() for h in board.heads]


def test_entries_are_paged(live):
    sim, _ = live
    with serving(sim.board, max_page=3) as small:
        status, page = request(small, "GET", "/entries?start=1&end=100")
        assert status == 200 and (page["start"], page["end"]) == (1, 4)
        assert [dumps(e) for e in page["entries"]] == lines(sim.board)[1:4]
        assert len(BoardClient(small).entries(0)) == len(sim.board)


MALFORMED = [
    (b"not json", 400, "request.json"),
    (b'{"type":"ballot","body":{},"sig":"00","sig":"00"}', 400, "request.json"),
    (b'{"type":"ballot","body":{"x":1.5},"sig":"00"}', 400, "request.json"),
    (b"[]", 400, "request.entry"),
    (b'{"type":"ballot","body":{}}', 400, "request.entry"),
    (b'{"type":"ballot","body":{},"sig":"00","time":"2026-09-02T09:00:00Z"}', 400, "request.entry"),
    (b'{"type":1,"body":{},"sig":"00"}', 400, "request.entry"),
    (b'{"type":"ballot","body":[],"sig":"00"}', 400, "request.entry"),
    (b'{"type":"ballot","body":{},"sig":7}', 400, "request.entry"),
    (b'{"type":"ballot","body":{},"sig":"zz"}', 400, "request.entry"),
    (b'{"type":"roll","body":{},"sig":"' + b"00" * 64 + b'"}', 403, "request.type"),
    (b'{"type":"ballot","body":{},"sig":"' + b"00" * 64 + b'"}', 422, "ballot.decode"),
    (b'{"type":"audit","body":{"ballot":5},"sig":"' + b"00" * 64 + b'"}', 422, "audit.decode"),
    (b"[" * 100_000 + b"]" * 100_000, 413, "request.size"),
]


@pytest.mark.parametrize(("body", "status", "check"), MALFORMED)
def test_malformed_input_is_refused_and_the_log_is_unchanged(live, body, status, check):
    sim, url = live
    before = lines(sim.board)
    got, answer = request(url, "POST", "/ballots", body, {"Content-Type": "application/json"})
    assert (got, answer["error"]) == (status, check), answer
    assert answer["reason"]
    assert lines(sim.board) == before


def _corrupt(sim, voter, payload, what):
    if what == "signature":
        sig = bytearray(bytes.fromhex(payload["sig"]))
        sig[0] ^= 1
        return {**payload, "sig": sig.hex()}
    body = json.loads(json.dumps(payload["body"]))
    if what == "proof":
        contest = body["contests"][0]
        contest["limit_proof"], contest["proofs"][0] = contest["proofs"][0], contest["limit_proof"]
    if what == "credential":
        body["credential"] = "ab" * 32
    if what == "shape":
        body["contests"] = [5, {"id": []}]
    # re-signed by the voter's credential: the body is wrong, not the signature
    entry = sign_entry(sim.credentials[voter], sim.manifest.fingerprint, "ballot", body, "x")
    return {**payload, "body": body, "sig": entry.signature.hex()}


@pytest.mark.parametrize(
    ("what", "check"),
    [
        ("signature", "ballot.signature"),
        ("proof", "ballot.proof"),
        ("credential", "ballot.credential"),
        ("shape", "ballot.decode"),
    ],
)
def test_invalid_ballots_get_422_naming_the_check(live, what, check):
    sim, url = live
    before = lines(sim.board)
    payload = _corrupt(sim, 5, ballot_payload(sim, 5), what)
    with pytest.raises(PostRejected) as caught:
        BoardClient(url).post_ballot(payload)
    assert (caught.value.status, caught.value.check) == (422, check)
    assert lines(sim.board) == before


def test_a_repeated_cast_gets_its_original_index_and_a_receipt(live):
    sim, url = live
    client = BoardClient(url)
    payload = ballot_payload(sim, 6)
    first = client.post_ballot(payload)
    before = lines(sim.board)
    status, answer = request(
        url, "POST", "/ballots", dumps(payload), {"Content-Type": "application/json"}
    )
    assert (status, answer["index"]) == (200, first.index)
    again = client.post_ballot(payload)  # the client checks the receipt it gets
    assert (again.index, again.leaf, again.tracking_code) == (
        first.index,
        first.leaf,
        first.tracking_code,
    )
    assert lines(sim.board) == before
    # the same body under another signature is not the same post: refused by its signature
    sig = bytearray(bytes.fromhex(payload["sig"]))
    sig[5] ^= 4
    with pytest.raises(PostRejected) as caught:
        client.post_ballot({**payload, "sig": sig.hex()})
    assert (caught.value.status, caught.value.check) == (422, "ballot.signature")
    assert lines(sim.board) == before


def test_size_limit(live):
    sim, url = live
    before = lines(sim.board)
    big = b'{"type":"ballot","body":{"x":"' + b"a" * (64 * 1024) + b'"},"sig":"00"}'
    status, answer = request(url, "POST", "/ballots", big)
    assert (status, answer["error"]) == (413, "request.size")

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(40):
            yield b"a" * 4096

    status, answer = request(url, "POST", "/ballots", chunks(), {"Transfer-Encoding": "chunked"})
    assert (status, answer["error"]) == (413, "request.size")
    assert lines(sim.board) == before


@pytest.mark.parametrize(
    ("method", "path", "status", "check"),
    [
        ("GET", "/entries/abc", 400, "request.index"),
        ("GET", "/entries/-1", 400, "request.index"),
        ("GET", "/entries/99999", 404, "request.index"),
        ("GET", "/entries?start=x", 400, "request.query"),
        ("GET", "/entries?start=99999", 400, "request.query"),
        ("GET", "/proof/inclusion?index=5&size=2", 400, "request.query"),
        ("GET", "/proof/inclusion?index=0", 400, "request.query"),
        ("GET", "/proof/inclusion?index=0&size=99999", 400, "request.query"),
        ("GET", "/proof/consistency?first=3&second=2", 400, "request.query"),
        ("GET", "/nowhere", 404, "request.path"),
        ("POST", "/head", 405, "request.method"),
        ("GET", "/ballots", 405, "request.method"),
    ],
)
def test_bad_requests_get_json_errors(live, method, path, status, check):
    _, url = live
    got, answer = request(url, method, path)
    assert (got, answer["error"]) == (status, check)


def test_openapi_describes_every_route(live):
    sim, url = live
    status, document = request(url, "GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1")
    assert document == json.loads(json.dumps(schema(64 * 1024, 1000)))
    app = create_app(sim.board)
    served = {
        (route.path, method.lower())
        for route in app.routes
        for method in route.methods
        if method != "HEAD"
    }
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served == described
    for path, ops in document["paths"].items():
        for op in ops.values():
            assert op["responses"], path


def test_concurrent_voters_all_get_valid_receipts(tmp_path):
    sim = voting_election(voters=10, seed=9)
    payloads = [ballot_payload(sim, v) for v in range(10)]
    with serving(sim.board) as url:
        receipts, errors = [], []

        def cast(p):
            try:
                receipts.append(BoardClient(url).post_ballot(p))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=cast, args=(p,)) for p in payloads]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(r.index for r in receipts) == list(range(len(sim.board) - 10, len(sim.board)))
        source = BoardSource(BoardClient(url))
        for r in receipts:
            assert check_receipt(r, source).head.size == len(sim.board)


def test_verify_url_downloads_and_verifies_a_finished_election(capsys):
    sim = voting_election(voters=6, seed=2)
    for v in range(4):
        sim.cast(v, {"leader": ["begum"]})
    sim.close()
    sim.count(present=[1, 2])
    with serving(sim.board) as url:
        assert main(["verify", url]) == 0
        assert "VALID" in capsys.readouterr().out.upper()
    assert main(["verify", "http://127.0.0.1:9"]) == 2


def test_verify_url_save_keeps_the_downloaded_record(tmp_path, capsys):
    sim = voting_election(voters=6, seed=3)
    sim.cast(1, {"leader": ["carver"]})
    sim.close()
    sim.count(present=[1, 2])
    kept = tmp_path / "record"
    with serving(sim.board) as url:
        assert main(["verify", url, "--save", str(kept)]) == 0
        assert main(["verify", url, "--save", str(kept)]) == 2  # not empty: nothing written
        assert "not a new or empty directory" in capsys.readouterr().err
    assert main(["verify", str(kept)]) == 0  # the saved copy is a record, offline
    assert (kept / "heads.jsonl").read_bytes().count(b"\n") >= 1
    assert main(["verify", str(kept), "--save", str(tmp_path / "x")]) == 2


def test_client_errors_are_typed():
    with pytest.raises(BoardClientError):
        BoardClient("ftp://example")
    with pytest.raises(BoardClientError):
        BoardClient("http://127.0.0.1:9", timeout=2).head()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_verivote_serve_serves_a_stored_board(tmp_path):
    db = tmp_path / "board.sqlite"
    sim = SimulatedElection(6, seed=4, store=SQLiteStore(db))
    sim.run_ceremony()
    sim.board.store.close()
    key = tmp_path / "operator.key"
    key.write_text(sim.board_signer.seed.hex() + "\n")
    board = open_board(f"sqlite:{db}", "", key)
    assert len(board) == len(sim.board)
    board.store.close()
    wrong = tmp_path / "wrong.key"
    wrong.write_text("11" * 32)
    assert main(["serve", "--store", f"sqlite:{db}", "--key", str(wrong)]) == 2
    port = _free_port()
    command = [sys.executable, "-m", "verivote", "serve", "--store", f"sqlite:{db}"]
    command += ["--key", str(key), "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        client = BoardClient(f"http://127.0.0.1:{port}", timeout=5)
        deadline = time.monotonic() + 30
        while True:
            try:
                head = client.head()
                break
            except BoardClientError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert head.size == len(sim.board)
        assert client.manifest().election_id == sim.manifest.election_id
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_verifier_does_not_need_the_web_stack():
    code = "import sys, verivote.verify, verivote.board.receipt_check\n"
    code += "print(any(m.split('.')[0] in ('starlette', 'uvicorn') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_receipt_check_cli_reports_unreadable_inputs(tmp_path, capsys):
    bad = tmp_path / "receipt.txt"
    bad.write_text("vvr1:AAAA")
    assert main(["receipt", "check", str(bad), str(tmp_path)]) == 2
    assert main(["receipt", "check", str(tmp_path / "none"), str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_record_directory_missing_is_unreadable(tmp_path, live):
    sim, url = live
    receipt = BoardClient(url).post_ballot(ballot_payload(sim, 7))
    path = tmp_path / "r.txt"
    path.write_text(receipt.to_text())
    assert main(["receipt", "check", str(path), str(tmp_path / "no-record")]) == 2
    assert main(["receipt", "check", str(path), "http://127.0.0.1:9"]) == 2


def test_served_record_matches_export(live, tmp_path):
    sim, url = live
    sim.board.export(tmp_path / "b")  # publishes a head covering the log
    BoardClient(url).download_record(tmp_path / "a")
    a = (tmp_path / "a" / "board.jsonl").read_bytes()
    b = (tmp_path / "b" / "board.jsonl").read_bytes()
    assert a == b
    assert (
        Path(tmp_path / "a" / "heads.jsonl").read_bytes()
        == (tmp_path / "b" / "heads.jsonl").read_bytes()
    )
