"""The board's HTTP service: an ASGI application (Starlette) over a
:class:`~verivote.board.log.Board`, run by ``verivote serve`` with uvicorn.

Voters post ``ballot`` and ``audit`` entries (``POST /ballots``, answered with a receipt);
the organiser, the trustees and the registrar post their signed entries of every other type
but ``election`` (``POST /entries``); everyone reads entries, signed tree heads,
inclusion and consistency proofs and the whole record. Every answer is JSON (or the
record's own JSON lines); the schema is served at ``/openapi.json``
(:mod:`verivote.server.openapi`).

Nothing malformed reaches the log. A posted entry is read up to :data:`MAX_BODY` bytes
(413 beyond), parsed strictly (400 ``request.json`` / ``request.entry``), limited to the
public types (403 ``request.type``), timed by the board, and appended through
:meth:`Board.append <verivote.board.log.Board.append>`, which runs every rule of the
election — signature, credential on the roll, proofs, no replay — before it stores
anything (422 with the rule's check and reason). Every error answer is
``{"error": check, "reason": text}``.

The ``election`` entry (the manifest) is put in the store by the board operator
(``verivote board load``) before the board is served: :func:`create_app` serves an existing
board. Every entry is signed by its author and checked by the rule book before it is
stored, so accepting the authored types here gives nobody a power they lack.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from verivote.board.log import Board
from verivote.board.receipt import Receipt, issue_receipt
from verivote.election.entries import ENTRY_TYPES, Entry, entry_from_dict
from verivote.election.state import BallotCheck
from verivote.encoding import dumps, loads
from verivote.errors import ConflictError, DecodeError, EntryRejected, VerivoteError
from verivote.server.openapi import schema

MAX_BODY = 256 * 1024
"""Largest accepted POST body (a ballot of the 4096-bit group is well under 100 KiB)."""
MAX_PAGE = 1000
"""Most entries one ``GET /entries`` returns."""
PUBLIC_TYPES = ("ballot", "audit")
AUTHORED_TYPES = tuple(t for t in ENTRY_TYPES if t != "election")
"""Types ``POST /entries`` accepts (the election entry comes with the store)."""
JSON = "application/json"


class Problem(Exception):
    """An error answer: HTTP ``status`` with ``{"error": check, "reason": reason}``."""

    def __init__(self, status: int, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.status, self.check, self.reason = status, check, reason


def _problem_response(status: int, check: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": check, "reason": reason}, status_code=status)


def _int(request: Request, name: str, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise Problem(400, "request.query", f"the query needs {name}")
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Problem(400, "request.query", f"{name} must be a non-negative integer")
    return int(raw)


class BoardService:
    """The board behind the HTTP routes. One lock orders appends, receipts, heads and
    proofs (a receipt's head and proof must describe the same tree); a ballot's
    signature and proofs are checked before the lock is taken. Other writers on the same
    store (further front ends) are caught up with every ``refresh_every`` seconds."""

    def __init__(self, board: Board, refresh_every: float = 0.5) -> None:
        self.board = board
        self.lock = threading.Lock()
        self.refresh_every = refresh_every
        self._refreshed = time.monotonic()

    def _fresh(self) -> None:
        """Catch up with other writers now and then (call under the lock)."""
        now = time.monotonic()
        if now - self._refreshed >= self.refresh_every:
            self.board.refresh()
            self._refreshed = now

    def size(self) -> int:
        """The number of entries (caught up)."""
        with self.lock:
            self._fresh()
            return len(self.board)

    def append(self, obj: dict[str, Any]) -> tuple[int, bytes, Receipt | None]:
        """Time, validate and append an entry; returns its index, line and (for a ballot or
        an audit) receipt. Raises Problem (400 or 422) for an entry the board refuses."""
        board = self.board
        try:
            dumps(obj["body"])
            entry = entry_from_dict({**obj, "time": board.clock()})
        except DecodeError as exc:
            raise Problem(400, "request.entry", str(exc)) from None
        checked = self._precheck(entry)
        with self.lock:
            try:
                index = board.append(entry, checked, stamp=True)
            except EntryRejected as exc:
                raise Problem(422, exc.check, exc.reason) from None
            except ConflictError as exc:
                raise Problem(503, "board.busy", f"try again: {exc}") from None
            receipt = issue_receipt(board, index) if entry.type in PUBLIC_TYPES else None
            line = board.entry(index).to_line()
        return index, line, receipt

    def _precheck(self, entry: Entry) -> BallotCheck | None:
        """A ballot's state-free checks (signature, encoding, proofs), outside the lock."""
        st = self.board.state
        if entry.type != "ballot" or st.joint_key is None or st.roll is None:
            return None
        try:
            return st.checker().check(len(self.board), entry)
        except (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError) as exc:
            reason = f"malformed entry ({type(exc).__name__}: {exc})"
            raise Problem(422, "ballot.decode", reason) from None

    def line(self, index: int) -> bytes:
        """Entry ``index``'s record line; Problem 404 beyond the log."""
        size = self.size()
        if index >= size:
            raise Problem(404, "request.index", f"no entry {index}: the board has {size}")
        return self.board.store.line(index)

    def page(self, start: int, end: int | None, cap: int) -> bytes:
        """``{"start", "end", "size", "entries"}`` for at most ``cap`` entries, built from
        the stored lines without re-encoding them."""
        size = self.size()
        if start > size:
            raise Problem(400, "request.query", f"start {start} is beyond the {size} entries")
        stop = min(size, start + cap, size if end is None else max(start, end))
        lines = list(self.board.store.lines(start, stop))
        return b"".join(
            [
                b'{"end":%d,"entries":[' % stop,
                b",".join(lines),
                b'],"size":%d,"start":%d}' % (size, start),
            ]
        )

    def head(self) -> dict[str, Any]:
        """A freshly signed head of the whole log."""
        with self.lock:
            self._fresh()
            return self.board.head().to_dict()

    def inclusion(self, index: int, size: int) -> dict[str, Any]:
        """The inclusion proof of ``index`` in the tree of ``size`` entries."""
        with self.lock:
            self._fresh()
            have = len(self.board)
            if not index < size <= have:
                raise Problem(400, "request.query", f"need index < size <= {have}")
            proof = self.board.tree.inclusion_proof(index, size)
        return {"index": index, "size": size, "proof": [p.hex() for p in proof]}

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        """The consistency proof from the tree of ``first`` entries to ``second``."""
        with self.lock:
            self._fresh()
            have = len(self.board)
            if not first <= second <= have:
                raise Problem(400, "request.query", f"need first <= second <= {have}")
            proof = self.board.tree.consistency_proof(first, second)
        return {"first": first, "second": second, "proof": [p.hex() for p in proof]}

    def checkpoint(self) -> int:
        """Publish a head of the whole log (if the last one does not cover it); returns
        its size."""
        with self.lock:
            self._fresh()
            return self.board.checkpoint().size

    def heads(self) -> bytes:
        """``heads.jsonl``: the published heads, one per line."""
        return b"".join(h + b"\n" for h in self.board.store.heads())


def create_app(
    board: Board, *, max_body: int = MAX_BODY, max_page: int = MAX_PAGE, refresh_every: float = 0.5
) -> Starlette:
    """The ASGI application serving ``board`` (see the module docstring for the routes;
    ``/openapi.json`` describes them)."""
    service = BoardService(board, refresh_every)

    async def read_entry(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body:
            raise Problem(413, "request.size", f"the body is over {max_body} bytes")
        chunks, total = [], 0
        try:
            async for chunk in request.stream():
                total += len(chunk)
                if total > max_body:
                    raise Problem(413, "request.size", f"the body is over {max_body} bytes")
                chunks.append(chunk)
        except ClientDisconnect:
            raise Problem(400, "request.body", "the client went away mid-body") from None
        try:
            obj = loads(b"".join(chunks), canonical=False)
        except DecodeError as exc:
            raise Problem(400, "request.json", str(exc)) from None
        if not isinstance(obj, dict) or set(obj) != {"type", "body", "sig"}:
            raise Problem(400, "request.entry", "expected an object of exactly body, sig, type")
        if not isinstance(obj["type"], str) or not isinstance(obj["body"], dict):
            raise Problem(400, "request.entry", "type must be a string and body an object")
        if not isinstance(obj["sig"], str):
            raise Problem(400, "request.entry", "sig must be a hex string")
        if obj["type"] not in allowed:
            raise Problem(
                403,
                "request.type",
                f"only {', '.join(allowed)} entries are posted here, not {obj['type']!r}",
            )
        return obj

    async def post_ballot(request: Request) -> Response:
        obj = await read_entry(request, PUBLIC_TYPES)
        index, line, receipt = await run_in_threadpool(service.append, obj)
        assert receipt is not None
        answer = {"index": index, "receipt": receipt.to_dict(), "text": receipt.to_text()}
        content = dumps(answer)[:-1] + b',"entry":' + line + b"}"
        return Response(content, status_code=201, media_type=JSON)

    async def post_entry(request: Request) -> Response:
        obj = await read_entry(request, AUTHORED_TYPES)
        index, line, _ = await run_in_threadpool(service.append, obj)
        content = b'{"entry":%s,"index":%d}' % (line, index)
        return Response(content, status_code=201, media_type=JSON)

    async def get_entries(request: Request) -> Response:
        start = _int(request, "start", 0)
        end = _int(request, "end") if "end" in request.query_params else None
        return Response(
            await run_in_threadpool(service.page, start, end, max_page), media_type=JSON
        )

    async def get_entry(request: Request) -> Response:
        raw = request.path_params["index"]
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise Problem(400, "request.index", "the entry number is a non-negative integer")
        return Response(await run_in_threadpool(service.line, int(raw)), media_type=JSON)

    async def get_head(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.head))

    async def get_inclusion(request: Request) -> Response:
        index, size = _int(request, "index"), _int(request, "size")
        return JSONResponse(await run_in_threadpool(service.inclusion, index, size))

    async def get_consistency(request: Request) -> Response:
        first, second = _int(request, "first"), _int(request, "second")
        return JSONResponse(await run_in_threadpool(service.consistency, first, second))

    async def get_manifest(request: Request) -> Response:
        return Response(await run_in_threadpool(service.line, 0), media_type=JSON)

    async def get_heads(request: Request) -> Response:
        return Response(await run_in_threadpool(service.heads), media_type="application/jsonl")

    async def get_record(request: Request) -> Response:
        size = await run_in_threadpool(service.checkpoint)

        def chunk(start: int) -> bytes:
            stop = min(size, start + max_page)
            return b"".join(x + b"\n" for x in board.store.lines(start, stop))

        async def lines() -> AsyncIterator[bytes]:
            for start in range(0, size, max_page):
                yield await run_in_threadpool(chunk, start)

        headers = {"Verivote-Size": str(size)}
        return StreamingResponse(lines(), media_type="application/jsonl", headers=headers)

    async def get_openapi(request: Request) -> Response:
        return JSONResponse(schema(max_body, max_page))

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return _problem_response(exc.status, exc.check, exc.reason)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        check = {404: "request.path", 405: "request.method"}.get(exc.status_code, "request")
        return _problem_response(exc.status_code, check, str(exc.detail))

    async def on_store(request: Request, exc: Exception) -> Response:
        return _problem_response(503, "board.store", str(exc))

    routes = [
        Route("/ballots", post_ballot, methods=["POST"]),
        Route("/entries", get_entries, methods=["GET"]),
        Route("/entries", post_entry, methods=["POST"]),
        Route("/entries/{index}", get_entry, methods=["GET"]),
        Route("/head", get_head, methods=["GET"]),
        Route("/heads", get_heads, methods=["GET"]),
        Route("/proof/inclusion", get_inclusion, methods=["GET"]),
        Route("/proof/consistency", get_consistency, methods=["GET"]),
        Route("/manifest", get_manifest, methods=["GET"]),
        Route("/record", get_record, methods=["GET"]),
        Route("/openapi.json", get_openapi, methods=["GET"]),
    ]
    handlers = {Problem: on_problem, HTTPException: on_http, VerivoteError: on_store}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.service = service
    return app
