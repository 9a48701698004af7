"""The board's HTTP service: an ASGI application (Starlette) over a
:class:`~verivote.board.log.Board`, run by ``verivote serve`` with uvicorn.

Voters post ``ballot`` and ``audit`` entries (``POST /ballots``, answered with a receipt);
the organiser, the trustees, the registrar and the issuer post their signed entries of every
other type but ``election`` (``POST /entries``: the rule book checks each, so accepting them
here gives nobody a power they lack; the manifest is put in the store by ``verivote board
load`` before the board is served); everyone reads entries, signed tree heads,
inclusion and consistency proofs and the whole record. Every answer is JSON (or the
record's own JSON lines); the schema is served at ``/openapi.json``
(:mod:`verivote.server.openapi`, built from the same limits this module checks).

Nothing malformed reaches the log. A posted entry is read up to :data:`MAX_BODY` bytes
(413 beyond) within ``body_timeout`` seconds (408 beyond), must be declared
``application/json`` (415), is parsed strictly (400 ``request.json`` /
``request.entry``), limited to the public types (403 ``request.type``), timed by the
board, and appended through :meth:`Board.cast <verivote.board.log.Board.cast>`, which
runs every rule of the election — signature, credential on the roll, proofs, no replay —
before it stores anything (422 with the rule's check and reason). Posting an entry that is
already on the board answers 200 with its original index and a fresh receipt (201 for a
new one), so a voter may repeat a cast whose answer was lost.

Admission control: at most ``max_inflight`` posts are being checked or appended at once,
and no more than the service completes in ``latency_target`` seconds at its measured pace
(:mod:`verivote.server.admission`); past that a post is answered 503 ``board.busy`` with
``Retry-After`` at once, before any proof is checked (a repeated post, which costs a
look-up, is always answered). A post waits for one
of the proof-checking slots, and is dropped (nothing checked, nothing stored) if its client
has gone away meanwhile. ``/healthz``
says the process answers; ``/readyz`` says the board is loaded, its store readable and
the service not saturated (503 otherwise).

Heads are published on a schedule (every ``head_every`` seconds while the log grows) and
by the board after every entry that changes the election's phase; reads never publish.
``GET /record`` serves the log as far as the last published head covers it.

Every error answer is ``{"error": check, "reason": text}``. Entries of the other types
(manifest, ceremony, roll, counting) come from the organiser's own tools on the same board
or store, never from this API: :func:`create_app` serves an existing board.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from verivote.board.log import Board
from verivote.election.checker import BallotResult
from verivote.election.entries import ENTRY_TYPES, Entry
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, VerivoteError
from verivote.server.admission import Admission
from verivote.server.openapi import MAX_DIGITS, PUBLIC_TYPES, schema
from verivote.server.service import BoardService, Cast, Problem

MAX_BODY = 256 * 1024
"""Largest accepted ``POST /ballots`` body (a ballot of the 4096-bit group is well under
100 KiB)."""
MAX_ENTRY_BODY = 64 * 1024 * 1024
"""Largest accepted ``POST /entries`` body: an authored entry grows with the election (a
roll part of 10,000 credentials is about 2.5 MB; a ranked contest's ``mix`` and
``mix_decryption`` about 1.2 KB per ballot and rank)."""
MAX_PAGE = 1000
"""Most entries one ``GET /entries`` returns."""
MAX_INFLIGHT = 32
"""Posts checked or appended at once by default; more are answered 503 at once."""
RETRY_AFTER = "1"
"""Seconds a client is asked to wait after a 503."""
JSON = "application/json"

__all__ = ["MAX_BODY", "MAX_ENTRY_BODY", "MAX_INFLIGHT", "MAX_PAGE", "Problem", "create_app"]


AUTHORED_TYPES = tuple(t for t in ENTRY_TYPES if t != "election")
"""Types ``POST /entries`` accepts (the election entry comes with the store)."""


def _problem_response(
    status: int, check: str, reason: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": check, "reason": reason}, status_code=status, headers=dict(headers or {})
    )


def _count(raw: str, name: str, check: str) -> int:
    """A non-negative integer of at most :data:`MAX_DIGITS` digits (the schema's bound)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_DIGITS:
        raise Problem(400, check, f"{name} must be a non-negative integer")
    return int(raw)


def _int(request: Request, name: str, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise Problem(400, "request.query", f"the query needs {name}")
        return default
    return _count(raw, name, "request.query")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON


def _busy(reason: str, retry_after: int = 1) -> Problem:
    return Problem(503, "board.busy", reason, {"Retry-After": str(retry_after)})


def create_app(
    board: Board,
    *,
    max_body: int = MAX_BODY,
    max_entry_body: int = MAX_ENTRY_BODY,
    max_page: int = MAX_PAGE,
    refresh_every: float = 0.5,
    head_every: float = 5.0,
    workers: int = 0,
    max_inflight: int = MAX_INFLIGHT,
    body_timeout: float = 10.0,
    latency_target: float = 0.25,
) -> Starlette:
    """The ASGI application serving ``board`` (see the module docstring for the routes;
    ``/openapi.json`` describes them). ``workers`` ≥ 1 checks ballots' proofs on that
    many processes (0: in the server's threads); ``max_inflight`` bounds the posts in
    progress, which are further limited to what the service completes in
    ``latency_target`` seconds (:class:`~verivote.server.admission.Admission`);
    ``head_every`` is the head publication period in seconds; ``max_body`` and
    ``max_entry_body`` bound the bodies of ``POST /ballots`` and ``POST /entries``."""
    service = BoardService(board, refresh_every, head_every, workers)
    slots = asyncio.Semaphore(max(1, workers) * 2)
    admission = Admission(max_inflight, max(1, workers) * 2, latency_target)

    async def read_body(request: Request, limit: int) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Problem(413, "request.size", f"the body is over {limit} bytes")
        chunks, total = [], 0
        try:
            async with asyncio.timeout(body_timeout):
                async for chunk in request.stream():
                    total += len(chunk)
                    if total > limit:
                        raise Problem(413, "request.size", f"the body is over {limit} bytes")
                    chunks.append(chunk)
        except ClientDisconnect:
            raise Problem(400, "request.body", "the client went away mid-body") from None
        except TimeoutError:
            raise Problem(
                408, "request.timeout", f"the body was not received within {body_timeout:g} s"
            ) from None
        return b"".join(chunks)

    def parse(raw: bytes, allowed: tuple[str, ...] = PUBLIC_TYPES) -> dict[str, Any]:
        try:
            obj = loads(raw, canonical=False)
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
        raw = await read_body(request, max_body)
        if not _is_json(request.headers.get("content-type", "")):
            raise Problem(415, "request.content_type", "the body must be application/json")
        entry = service.decode(parse(raw))
        cast = None
        if board.maybe_posted(entry):  # a repeated post costs a look-up: always answered
            cast = await run_in_threadpool(service.find, entry)
        if cast is None:
            cast = await admitted(request, entry)
        answer = {
            "index": cast.index,
            "receipt": cast.receipt.to_dict(),
            "text": cast.receipt.to_text(),
        }
        content = dumps(answer)[:-1] + b',"entry":' + cast.line + b"}"
        return Response(content, status_code=201 if cast.fresh else 200, media_type=JSON)

    async def post_entry(request: Request) -> Response:
        raw = await read_body(request, max_entry_body)
        if not _is_json(request.headers.get("content-type", "")):
            raise Problem(415, "request.content_type", "the body must be application/json")
        entry = service.decode(parse(raw, AUTHORED_TYPES))
        index, line = await run_in_threadpool(service.post, entry)
        content = b'{"entry":%s,"index":%d}' % (line, index)
        return Response(content, status_code=201, media_type=JSON)

    async def admitted(request: Request, entry: Entry) -> Cast:
        """Check and append a new entry if the service admits it now (else 503)."""
        if not admission.admit():
            raise _busy(
                f"{admission.inflight} ballots are being checked; try again shortly",
                admission.retry_after(),
            )
        completed, start = False, time.monotonic()
        try:
            cast = await _cast(request, entry)
            completed = True
        except Problem as exc:
            completed = exc.status == 422  # checked and refused: served all the same
            raise
        finally:
            admission.release(completed, time.monotonic() - start)
        return cast

    async def _cast(request: Request, entry: Entry) -> Cast:
        async with slots:
            if await request.is_disconnected():
                raise Problem(400, "request.body", "the client went away before its turn")
            future = service.submit_check(entry)
            result: BallotResult | None = None
            if future is not None:
                result = await asyncio.wrap_future(future)
            return await run_in_threadpool(service.cast, entry, result)

    async def get_entries(request: Request) -> Response:
        start = _int(request, "start", 0)
        end = _int(request, "end") if "end" in request.query_params else None
        return Response(
            await run_in_threadpool(service.page, start, end, max_page), media_type=JSON
        )

    async def get_entry(request: Request) -> Response:
        index = _count(request.path_params["index"], "the entry number", "request.index")
        return Response(await run_in_threadpool(service.line, index), media_type=JSON)

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
        size = await run_in_threadpool(service.published_size)

        def chunk(start: int) -> bytes:
            stop = min(size, start + max_page)
            return b"".join(x + b"\n" for x in board.store.lines(start, stop))

        async def lines() -> AsyncIterator[bytes]:
            for start in range(0, size, max_page):
                yield await run_in_threadpool(chunk, start)

        headers = {"Verivote-Size": str(size)}
        return StreamingResponse(lines(), media_type="application/jsonl", headers=headers)

    async def get_openapi(request: Request) -> Response:
        return JSONResponse(schema(max_body, max_page, max_entry_body))

    async def get_healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_readyz(request: Request) -> Response:
        try:
            size = await run_in_threadpool(service.size)
        except VerivoteError as exc:
            raise Problem(503, "board.store", str(exc), {"Retry-After": RETRY_AFTER}) from None
        if board.state.manifest is None:
            raise Problem(503, "board.empty", "the board holds no election yet")
        if admission.saturated():
            raise _busy(f"{admission.inflight} ballots are being checked")
        return JSONResponse({"status": "ready", "size": size, "inflight": admission.inflight})

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return _problem_response(exc.status, exc.check, exc.reason, exc.headers)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        check = {404: "request.path", 405: "request.method"}.get(exc.status_code, "request")
        return _problem_response(exc.status_code, check, str(exc.detail), exc.headers)

    async def on_store(request: Request, exc: Exception) -> Response:
        return _problem_response(503, "board.store", str(exc), {"Retry-After": RETRY_AFTER})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def publish() -> None:
            while True:
                await asyncio.sleep(max(0.05, head_every / 4))
                with contextlib.suppress(VerivoteError):
                    await run_in_threadpool(service.publish_due)

        await run_in_threadpool(service.warm)
        task = asyncio.create_task(publish())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(VerivoteError):
                await run_in_threadpool(service.publish_due, True)
            service.close()

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
        Route("/healthz", get_healthz, methods=["GET"]),
        Route("/readyz", get_readyz, methods=["GET"]),
    ]
    handlers = {Problem: on_problem, HTTPException: on_http, VerivoteError: on_store}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.router.redirect_slashes = False  # no 307 built from the Host header
    app.state.service = service
    return app
