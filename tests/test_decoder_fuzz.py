"""Hypothesis fuzzing of every decoder a hostile client or a tampered store can reach:
record lines, tree heads, receipts (JSON and text), posted bodies (through the service,
with valid ballots mutated at one leaf) and ballot bodies (through the rule book). Each
either decodes or raises its named error — never another exception, never a 5xx, and
nothing malformed reaches the log."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from live_board import ballot_payload, voting_election

from verivote.board.heads import TreeHead
from verivote.board.receipt import Receipt, read_receipt
from verivote.election.entries import entry_from_line, sign_entry
from verivote.encoding import dumps
from verivote.errors import DecodeError, EntryRejected, VerivoteError
from verivote.server.app import create_app

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=20)
    | st.text("0123456789abcdef", min_size=0, max_size=130)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def sim():
    return voting_election(voters=6)


@pytest.fixture(scope="module")
def samples(sim):
    """Valid instances to mutate: a ballot line, a head, a receipt."""
    from verivote.board.client import BoardClient  # noqa: F401 - the client decodes these too
    from verivote.board.receipt import issue_receipt

    index = sim.board.append(
        entry_from_line(dumps({**ballot_payload(sim, 0), "time": sim.clock()})),
        stamp=True,
    )
    receipt = issue_receipt(sim.board, index)
    return {
        "line": json.loads(sim.board.store.line(index)),
        "head": sim.board.head().to_dict(),
        "receipt": receipt.to_dict(),
        "text": receipt.to_text(),
    }


def paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in a JSON document."""
    out = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out += paths(value, (*prefix, i))
    return out


def mutate(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


def mutations(name: str):
    """A strategy of documents equal to sample ``name`` but for one leaf or subtree."""

    @st.composite
    def build(draw, samples_doc):
        where = draw(st.sampled_from(paths(samples_doc)))
        return mutate(samples_doc, where, draw(json_values))

    return build


@FAST
@given(data=st.binary(max_size=300))
def test_record_lines_decode_or_raise_decode_error(data):
    with contextlib.suppress(DecodeError):
        entry_from_line(data)


@SLOW
@given(data=st.data())
def test_mutated_lines_heads_and_receipts(samples, data):
    for name, decode in (
        ("line", lambda o: entry_from_line(dumps(o))),
        ("head", TreeHead.from_dict),
        ("receipt", Receipt.from_dict),
    ):
        doc = data.draw(mutations(name)(samples[name]))
        with contextlib.suppress(DecodeError):
            decode(doc)


@FAST
@given(text=st.text(max_size=400))
def test_receipt_text_decodes_or_raises(text):
    with contextlib.suppress(VerivoteError):
        read_receipt(text)


@SLOW
@given(data=st.data())
def test_mutated_receipt_text(samples, data):
    text = samples["text"]
    at = data.draw(st.integers(0, len(text) - 1))
    cut = data.draw(st.integers(0, 5))
    insert = data.draw(st.text(max_size=5))
    with contextlib.suppress(VerivoteError):
        read_receipt(text[:at] + insert + text[at + cut :])


@SLOW
@given(data=st.data())
def test_mutated_ballots_are_refused_by_name(sim, data):
    """A valid ballot body with one leaf changed: the rule book refuses it with a named
    check (or, if the change kept it valid, accepts it) — never another exception."""
    payload = ballot_payload(sim, 3, data.draw(st.integers(0, 3)))
    body = data.draw(mutations("body")(payload["body"]))
    assume(isinstance(body, dict))  # an entry's body is an object: entry_from_dict says so
    st_ = sim.board.state
    # re-signed by the voter: the mutation must be caught by the decoding or the proofs
    entry = sign_entry(sim.credentials[3], sim.manifest.fingerprint, "ballot", body, sim.clock())
    try:
        st_.checker().check(len(sim.board), entry)
    except Exception as exc:  # the checker never raises for bad input
        raise AssertionError(f"checker raised {exc!r}") from None
    before = len(sim.board)
    try:
        sim.board.append(entry)
    except EntryRejected as exc:
        assert exc.check.startswith("ballot.")
        assert len(sim.board) == before


def asgi_post(app, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
    """POST /ballots to the ASGI application directly; the status and the body."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/ballots",
        "raw_path": b"/ballots",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@SLOW
@given(data=st.data())
def test_posted_bodies_never_get_a_5xx(sim, data):
    app = create_app(sim.board)
    payload = ballot_payload(sim, 4, data.draw(st.integers(0, 3)))
    choice = data.draw(st.sampled_from(["mutated", "json", "bytes"]))
    if choice == "mutated":
        mutated = data.draw(mutations("payload")(payload))
        if data.draw(st.booleans()) and isinstance(mutated.get("body"), dict):
            signed = sign_entry(
                sim.credentials[4], sim.manifest.fingerprint, "ballot", mutated["body"], "x"
            )
            mutated["sig"] = signed.signature.hex()
        body = dumps(mutated)
    elif choice == "json":
        body = json.dumps(data.draw(json_values)).encode()
    else:
        body = data.draw(st.binary(max_size=200))
    before = list(sim.board.store.lines())
    status, answer = asgi_post(app, body)
    assert status in (200, 201, 400, 403, 413, 415, 422), answer
    error = json.loads(answer)
    if status >= 400:
        assert set(error) == {"error", "reason"}
        assert list(sim.board.store.lines()) == before
