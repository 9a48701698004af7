"""Shared by the board service tests: a simulated election open for voting, served on
127.0.0.1 (an ephemeral port) by uvicorn in a thread, and raw HTTP requests."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from verivote.board.log import Board
from verivote.demo import SimulatedElection
from verivote.server.app import create_app

LEADERS = ("ashworth", "begum", "carver", "dlamini")


def voting_election(voters: int = 8, seed: int = 5) -> SimulatedElection:
    """An ed25519 election with ``voters`` electors, open for voting."""
    sim = SimulatedElection(voters, seed=seed)
    sim.run_ceremony()
    sim.publish_roll()
    return sim


def choice(n: int) -> dict[str, list[str]]:
    """A valid choice for the demo manifest (four candidates, and a referendum)."""
    return {"leader": [LEADERS[n % 4]], "rule-change": ["yes" if n % 2 else "no"]}


def ballot_payload(sim: SimulatedElection, voter: int, n: int | None = None) -> dict[str, Any]:
    """The JSON a voter's device posts: a signed ballot entry without time."""
    from verivote.election.entries import sign_entry

    prepared = sim.prepare(voter, choice(voter if n is None else n))
    entry = sign_entry(
        sim.credentials[voter], sim.manifest.fingerprint, "ballot", prepared.body, "x"
    )
    return {"type": "ballot", "body": entry.body, "sig": entry.signature.hex()}


@contextmanager
def serving(board: Board, protocol: Any = None, **options: Any) -> Iterator[str]:
    """Serve ``board`` on 127.0.0.1 at an ephemeral port (with uvicorn's HTTP ``protocol``
    class if given); yields the base URL."""
    with serving_app(create_app(board, **options), protocol) as url:
        yield url


@contextmanager
def serving_app(app: Any, protocol: Any = None) -> Iterator[str]:
    """Serve the ASGI ``app`` on 127.0.0.1 at an ephemeral port; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, http=protocol or "h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def request(
    url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """A raw HTTP request; returns the status and the parsed JSON answer (or the bytes)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        answer = conn.getresponse()
        raw = answer.read()
    finally:
        conn.close()
    try:
        return answer.status, json.loads(raw)
    except ValueError:
        return answer.status, raw


def _pg_dsn() -> tuple[str, str, str]:
    base = os.environ.get("VERIVOTE_TEST_PG")
    if not base:
        pytest.skip("VERIVOTE_TEST_PG is not set: no PostgreSQL server to test against")
    psycopg = pytest.importorskip("psycopg")
    from psycopg.conninfo import make_conninfo

    schema = "vv_" + uuid.uuid4().hex[:16]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return base, schema, make_conninfo(base, options=f"-c search_path={schema}")


@pytest.fixture(params=["sqlite", "postgres"])
def store_spec(request: Any, tmp_path: Any) -> Iterator[tuple[str, str, Any]]:
    """(spec, election option, store factory) for a fresh store: a SQLite file, or a
    fresh schema of the PostgreSQL database ``VERIVOTE_TEST_PG`` names (dropped after)."""
    if request.param == "sqlite":
        from verivote.board.sqlite_store import SQLiteStore

        path = tmp_path / "board.db"
        yield f"sqlite:{path}", "", lambda: SQLiteStore(path)
        return
    from verivote.board.pg_store import PostgresStore

    base, schema, dsn = _pg_dsn()
    yield f"postgres:{dsn}", "leadership-2026", lambda: PostgresStore(dsn, "leadership-2026")
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
