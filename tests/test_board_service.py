"""The board service under load and against hostile clients: idempotent casts, the
client's retry, admission control, health endpoints, heads on a schedule, slow and idle
clients, and the smaller protocol holes (405 Allow, Content-Type, slash redirects, the
schema's bounds). ``verivote serve``'s errors are in test_serve_cli.py."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from urllib.parse import urlsplit

import live_board
import pytest
from live_board import ballot_payload, request, serving, serving_app, voting_election

from verivote.board.client import (
    Backoff,
    BoardClient,
    BoardClientError,
    PostRejected,
    retrying,
)
from verivote.board.log import Board
from verivote.election.entries import entry_from_dict
from verivote.encoding import dumps
from verivote.server.admission import Admission
from verivote.server.app import create_app
from verivote.server.guard import RateLimit, guarded_h11, guarded_protocol

JSON_HEADERS = {"Content-Type": "application/json"}
store_spec = live_board.store_spec  # the fixture: a fresh SQLite or PostgreSQL store


def lines(board):
    return list(board.store.lines(0, len(board)))


def post(url, payload, headers=JSON_HEADERS):
    return request(url, "POST", "/ballots", dumps(payload), headers)


# ------------------------------------------------------------------ idempotent casts
def test_a_cast_survives_a_restart_idempotently(store_spec):
    """A ballot stored but never acknowledged (the board crashed) is found again after a
    restart, on SQLite and PostgreSQL: the re-post gets the original index and stores
    nothing."""
    from verivote.demo import SimulatedElection

    _, _, open_store = store_spec
    sim = SimulatedElection(6, seed=5, store=open_store())
    sim.run_ceremony()
    sim.publish_roll()
    payload = ballot_payload(sim, 2)
    entry = entry_from_dict({**payload, "time": sim.clock()})
    index, fresh = sim.board.cast(entry)
    assert fresh
    size = len(sim.board)
    sim.board.store.close()
    board = Board.open(open_store(), sim.clock, sim.board_signer)
    again = entry_from_dict({**payload, "time": sim.clock()})
    assert board.maybe_posted(again)
    assert board.find(again) == index
    assert board.cast(again) == (index, False)
    assert len(board) == size
    # a fresh ballot is still appended after it
    other = entry_from_dict({**ballot_payload(sim, 3), "time": sim.clock()})
    assert not board.maybe_posted(other)
    assert board.cast(other) == (size, True)
    board.store.close()


def test_concurrent_identical_posts_store_one_entry():
    sim = voting_election(voters=6)
    with serving(sim.board) as url:
        payload = ballot_payload(sim, 1)
        before = len(sim.board)
        answers: list[tuple[int, int]] = []

        def cast():
            status, answer = post(url, payload)
            answers.append((status, answer["index"]))

        threads = [threading.Thread(target=cast) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(sim.board) == before + 1
        assert sorted(s for s, _ in answers) == [200] * 5 + [201]
        assert {i for _, i in answers} == {before}


# ------------------------------------------------------------------ the client's retry
class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


def test_retrying_backs_off_with_jitter_and_honours_retry_after():
    fake = FakeTime()
    errors = [
        BoardClientError("unreachable"),
        BoardClientError("busy", 503, retry_after=2.0),
        BoardClientError("gateway", 502),
    ]

    def call():
        if errors:
            raise errors.pop(0)
        return "ok"

    backoff = Backoff(attempts=5, base=0.5, cap=8.0)
    got = retrying(call, backoff, sleep=fake.sleep, draw=lambda: 0.5, clock=fake.clock)
    assert got == "ok"
    # full jitter: draw * min(cap, base * 2**n); never below Retry-After
    assert fake.pauses == [0.5, 2.0, 2.0]


def test_retrying_stops_at_refusals_attempts_and_deadline():
    fake = FakeTime()
    calls = []

    def refused():
        calls.append(1)
        raise PostRejected("ballot.proof", "bad", 422)

    with pytest.raises(PostRejected):
        retrying(refused, sleep=fake.sleep, clock=fake.clock)
    assert len(calls) == 1 and fake.pauses == []

    def down():
        calls.append(1)
        raise BoardClientError("unreachable")

    calls.clear()
    with pytest.raises(BoardClientError):
        retrying(down, Backoff(attempts=4), sleep=fake.sleep, clock=fake.clock)
    assert len(calls) == 4

    calls.clear()
    with pytest.raises(BoardClientError):
        retrying(
            down,
            Backoff(attempts=100, base=1.0, cap=1.0, deadline=5.0),
            sleep=fake.sleep,
            draw=lambda: 0.99,
            clock=fake.clock,
        )
    assert sum(fake.pauses[-len(calls) + 1 :]) <= 5.0
    assert len(calls) < 100
    with pytest.raises(BoardClientError) as caught:
        retrying(lambda: (_ for _ in ()).throw(BoardClientError("no", 404)), sleep=fake.sleep)
    assert not caught.value.transient


def test_the_client_retries_a_cast_until_the_board_answers(tmp_path):
    """The board is down when the voter casts; it comes up; the client's retry gets the
    receipt."""
    sim = voting_election(voters=6)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = BoardClient(f"http://127.0.0.1:{port}", timeout=5)
    client._manifest = (sim.board.store.line(0), sim.manifest)
    got: dict[str, object] = {}

    def cast():
        try:
            got["receipt"] = client.post_ballot(ballot_payload(sim, 4))
        except Exception as exc:  # reported by the assertion below
            got["error"] = exc

    thread = threading.Thread(target=cast)
    thread.start()
    time.sleep(0.6)  # the first tries meet a closed port
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.close()
    import uvicorn

    config = uvicorn.Config(create_app(sim.board), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        thread.join(60)
        assert "error" not in got, got
        receipt = got["receipt"]
        assert sim.board.entry(receipt.index).type == "ballot"
    finally:
        server.should_exit = True
        runner.join(10)


# ------------------------------------------------------------------ admission control
class Gate:
    """Holds every ballot's proof check until opened."""

    def __init__(self, service):
        self.opened = threading.Event()
        self.entered = threading.Semaphore(0)
        original = service._checked

        def held(entry, result):
            self.entered.release()
            assert self.opened.wait(30)
            return original(entry, result)

        service._checked = held


def test_past_the_limit_a_post_gets_503_with_retry_after_at_once():
    sim = voting_election(voters=8)
    app = create_app(sim.board, max_inflight=1)
    gate = Gate(app.state.service)
    with serving_app(app) as url:
        before = len(sim.board)
        first: dict[str, object] = {}
        thread = threading.Thread(
            target=lambda: first.update(answer=post(url, ballot_payload(sim, 0)))
        )
        thread.start()
        assert gate.entered.acquire(timeout=30)
        start = time.monotonic()
        status, answer = post(url, ballot_payload(sim, 1))
        assert time.monotonic() - start < 1.0
        assert (status, answer["error"]) == (503, "board.busy")
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("POST", "/ballots", dumps(ballot_payload(sim, 1)), JSON_HEADERS)
        raw = conn.getresponse()
        assert raw.status == 503 and int(raw.getheader("Retry-After")) >= 1
        raw.read()
        conn.close()
        status, ready = request(url, "GET", "/readyz")
        assert (status, ready["error"]) == (503, "board.busy")
        assert len(sim.board) == before  # nothing half-written
        gate.opened.set()
        thread.join(30)
        assert first["answer"][0] == 201
        assert len(sim.board) == before + 1
        assert request(url, "GET", "/readyz")[0] == 200


def test_work_for_a_client_that_left_is_dropped_before_its_proofs():
    sim = voting_election(voters=8)
    app = create_app(sim.board)  # no workers: two proof-checking slots
    service = app.state.service
    gate = Gate(service)
    with serving_app(app) as url:
        before = len(sim.board)
        threads = [
            threading.Thread(target=post, args=(url, ballot_payload(sim, n))) for n in (0, 1)
        ]
        for t in threads:
            t.start()
        assert gate.entered.acquire(timeout=30) and gate.entered.acquire(timeout=30)
        parts = urlsplit(url)
        leaver = socket.create_connection((parts.hostname, parts.port))
        body = dumps(ballot_payload(sim, 2))
        leaver.sendall(
            b"POST /ballots HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
        time.sleep(0.3)  # the post waits for a slot
        leaver.close()
        time.sleep(0.3)
        gate.opened.set()
        for t in threads:
            t.join(30)
        time.sleep(0.3)
        assert len(sim.board) == before + 2  # the third was never checked nor stored
        # only the two that were held ever reached the checks
        assert not gate.entered.acquire(timeout=0.1)


def test_admission_follows_the_measured_pace():
    now = [0.0]
    gate = Admission(ceiling=32, floor=4, budget=0.25, clock=lambda: now[0])
    assert gate.limit() == 32  # nothing measured yet
    for _ in range(40):  # 20 ballots a second for two seconds
        assert gate.admit()
        now[0] += 0.05
        gate.release(True)
    assert gate.limit() == 32  # never saturated: the pace is the demand's, not a limit
    assert all(gate.admit() for _ in range(32))
    assert not gate.admit()  # saturated: from now on the pace limits
    assert gate.limit() == 5  # 20/s x 0.25 s
    for _ in range(32):
        gate.release(False)
    taken = [gate.admit() for _ in range(7)]
    assert taken == [True] * 5 + [False] * 2
    assert gate.saturated()
    assert gate.retry_after() == 1  # 3 refused for 40 completed
    for _ in range(200):
        gate.admit()
    assert gate.retry_after() == 6  # 203 refused for 40 completed: ceil(5.075)
    cold = Admission(ceiling=32, floor=4, budget=0.25, clock=lambda: now[0])
    for _ in range(600):  # a crowd before any pace is known: 32 / 0.25 s x 2 s = 256
        cold.admit()
    assert cold.retry_after() == 3  # 568 refused: ceil(568 / 256)
    now[0] += 10  # the pace is forgotten after the window
    assert gate.limit() == 32 and gate.retry_after() == 1
    slow = Admission(ceiling=32, floor=4, budget=0.25, clock=lambda: now[0])
    for _ in range(40):  # 20 a second, each answered 0.4 s after it was admitted
        slow.admit()
        now[0] += 0.05
        slow.release(True, 0.4)
    assert slow.limit() == 5  # slower than the budget: saturated, the pace limits


def test_health_and_readiness(live_url):
    sim, url = live_url
    assert request(url, "GET", "/healthz") == (200, {"status": "ok"})
    status, ready = request(url, "GET", "/readyz")
    assert status == 200 and ready["size"] == len(sim.board)


@pytest.fixture(scope="module")
def live_url():
    sim = voting_election(voters=10)
    with serving(sim.board, head_every=0.2) as url:
        yield sim, url


# ------------------------------------------------------------------ heads on a schedule
def test_reads_never_publish_and_heads_follow_the_schedule(live_url):
    sim, url = live_url
    client = BoardClient(url)
    time.sleep(0.5)
    published = len(sim.board.store.heads())
    for _ in range(5):
        request(url, "GET", "/record")
        request(url, "GET", "/head")
    assert len(sim.board.store.heads()) == published
    receipt = client.post_ballot(ballot_payload(sim, 7))
    deadline = time.monotonic() + 10
    while sim.board.heads[-1].size <= receipt.index:
        assert time.monotonic() < deadline, "no head was published on the schedule"
        time.sleep(0.05)
    assert len(sim.board.store.heads()) == published + 1
    status, _ = request(url, "GET", "/record")
    assert status == 200


# ------------------------------------------------------------------ smaller holes
def test_405_carries_allow_and_content_type_is_checked(live_url):
    sim, url = live_url
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("DELETE", "/ballots")
    answer = conn.getresponse()
    assert answer.status == 405 and answer.getheader("Allow") == "POST"
    assert json.loads(answer.read())["error"] == "request.method"
    conn.close()
    before = lines(sim.board)
    payload = ballot_payload(sim, 8)
    for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/jsonx"}):
        status, answer = post(url, payload, headers)
        assert (status, answer["error"]) == (415, "request.content_type")
    assert lines(sim.board) == before
    status, _ = post(url, payload, {"Content-Type": "application/json; charset=utf-8"})
    assert status == 201


def test_no_redirect_built_from_the_host_header(live_url):
    _, url = live_url
    status, answer = request(url, "GET", "/head/", headers={"Host": "evil.example"})
    assert (status, answer["error"]) == (404, "request.path")


def test_schema_bounds_match_the_server(live_url):
    _, url = live_url
    status, doc = request(url, "GET", "/openapi.json")
    assert status == 200
    text = json.dumps(doc)
    assert '"number"' not in text  # integers only, as the record
    count = doc["components"]["schemas"]["TreeHead"]["properties"]["size"]
    assert count == {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
    assert request(url, "GET", f"/entries/{10**18 - 1}")[0] == 404
    assert request(url, "GET", f"/entries/{10**18}")[0] == 400
    assert "/healthz" in doc["paths"] and "/readyz" in doc["paths"]
    post_op = doc["paths"]["/ballots"]["post"]["responses"]
    assert {"200", "201", "408", "415", "503"} <= set(post_op)
    assert "Retry-After" in post_op["503"]["headers"]


# ------------------------------------------------------------------ slow and idle clients
@pytest.mark.parametrize("make", [guarded_protocol, guarded_h11], ids=["default", "h11"])
def test_slow_clients_cannot_take_the_service_down(make):
    sim = voting_election(voters=6)
    protocol = make(max_connections=20, header_timeout=0.5)
    with serving(sim.board, protocol=protocol, body_timeout=0.5) as url:
        parts = urlsplit(url)
        address = (parts.hostname, parts.port)
        # slow bodies: 7 bytes of a declared 1,000
        body = socket.create_connection(address)
        body.sendall(
            b"POST /ballots HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"type"'
        )
        body.settimeout(5)
        answer = body.recv(4096)
        while b"request.timeout" not in answer:  # the body may come in a later segment
            more = body.recv(4096)
            if not more:
                break
            answer += more
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"request.timeout" in answer
        body.close()
        # idle and half-sent headers are closed after the header deadline
        idle = [socket.create_connection(address) for _ in range(8)]
        for i, sock in enumerate(idle):
            if i % 2:
                sock.sendall(b"GET /head HTTP/1.1\r\nHo")
        start = time.monotonic()
        for sock in idle:
            sock.settimeout(5)
            assert sock.recv(100) == b""  # closed by the server
            sock.close()
        assert time.monotonic() - start < 4
        # past the connection limit, connections are closed at once; the others answer
        held = [socket.create_connection(address) for _ in range(20)]
        time.sleep(0.2)
        extra = socket.create_connection(address)
        extra.settimeout(5)
        try:
            extra.sendall(b"GET /head HTTP/1.1\r\nHost: x\r\n\r\n")
            closed = extra.recv(100) == b""
        except (ConnectionResetError, BrokenPipeError):
            closed = True
        assert closed
        extra.close()
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert request(url, "GET", "/head")[0] == 200


def test_rate_limited_logging():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("verivote.test.flood")
    logger.propagate = False
    logger.addHandler(Keep())
    logger.addFilter(RateLimit(per_second=3))
    for _ in range(1000):
        logger.error("accept failed: %s", "Too many open files")
    assert 1 <= len(records) <= 6
