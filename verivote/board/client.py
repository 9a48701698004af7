"""A client of a board's HTTP service (``verivote serve``), with the standard library only.

:class:`BoardClient` posts ballots and reads entries, signed tree heads, proofs and the
whole record. Everything the service answers is decoded strictly; an answer that cannot
be used — the service unreachable, an HTTP error, a malformed body — raises
:class:`BoardClientError`, and a ballot the board refuses raises :class:`PostRejected`
with the board's check and reason. A receipt the board returns is checked before it is
handed back: its head is signed by the election's board key, its proof leads to that
head, and it is for the entry that was posted.

:func:`retrying` repeats a call that failed for a passing reason — the board unreachable
or timed out, or answering 502/503/504 — with bounded exponential back-off and full jitter
(honouring ``Retry-After``); :meth:`BoardClient.post_ballot` uses it, which is safe because
the board answers a re-posted entry with its original index and receipt. Other commands
that post to a board wrap their calls in it the same way.

:class:`BoardSource` lets :func:`~verivote.board.receipt_check.check_receipt` read a live
board, as :class:`~verivote.board.receipt_check.RecordSource` reads a record directory.
"""

from __future__ import annotations

import http.client
import random
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from verivote.board.heads import TreeHead
from verivote.board.merkle import HASH_SIZE, leaf_hash
from verivote.board.receipt import HEADS_FILE, RECORD_FILE, Receipt, ballot_tracking_code
from verivote.election.entries import Entry, entry_from_line
from verivote.election.manifest import Manifest
from verivote.encoding import dumps, from_hex, loads
from verivote.errors import (
    DecodeError,
    EntryRejected,
    VerificationError,
    VerivoteError,
)

T = TypeVar("T")

MAX_ANSWER = 64 * 1024 * 1024
"""No JSON answer of a board comes near this; a longer one is refused unread."""


TRANSIENT_STATUSES = frozenset({502, 503, 504})
"""HTTP statuses worth trying again after a pause."""


class BoardClientError(VerivoteError):
    """The board's service could not be reached, or answered something unusable;
    ``status`` is the HTTP status of an error answer (None otherwise); ``retry_after`` the
    seconds its ``Retry-After`` header asked for (None without one)."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed: no answer at all (unreachable, timed
        out, connection cut) or a 502, 503 or 504."""
        return self.status is None or self.status in TRANSIENT_STATUSES


@dataclass(frozen=True, slots=True)
class Backoff:
    """How :func:`retrying` waits: at most ``attempts`` calls and ``deadline`` seconds in
    all; before try ``n`` (from 1) a pause drawn uniformly from
    ``[0, min(cap, base * 2**n)]`` (full jitter), but never shorter than the board's
    ``Retry-After``."""

    attempts: int = 6
    base: float = 0.25
    cap: float = 8.0
    deadline: float = 60.0

    def pause(self, attempt: int, retry_after: float | None, draw: float) -> float:
        """The pause before retry number ``attempt`` (1, 2, …); ``draw`` is in [0, 1)."""
        pause = float(draw * min(self.cap, self.base * 2.0**attempt))
        if retry_after is not None:
            pause = max(pause, min(retry_after, self.cap))
        return pause


NO_RETRY = Backoff(attempts=1)


def retrying(
    call: Callable[[], T],
    backoff: Backoff = Backoff(),
    *,
    sleep: Callable[[float], None] = time.sleep,
    draw: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``call()``, tried again after a pause (see :class:`Backoff`) while it raises a
    :class:`BoardClientError` that is :attr:`~BoardClientError.transient`. Returns the
    first result; re-raises the last error when the attempts or the deadline run out, and
    any other exception (a refusal such as :class:`PostRejected`) at once. Only use it for
    calls that are safe to repeat (reads, and posting the same signed entry)."""
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except BoardClientError as exc:
            if not exc.transient or attempt >= backoff.attempts:
                raise
            pause = backoff.pause(attempt, exc.retry_after, draw())
            if clock() + pause - start > backoff.deadline:
                raise
            sleep(pause)


class PostRejected(EntryRejected):
    """The board refused a posted entry: ``check`` and ``reason`` as the board named them
    (``ballot.proof``, ``request.json``…); ``status`` is the HTTP status."""

    def __init__(self, check: str, reason: str, status: int) -> None:
        super().__init__(check, reason)
        self.status = status


def _hashes(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or len(value) > 64:
        raise DecodeError(f"{what}: expected a list of at most 64 hashes")
    return [from_hex(h, HASH_SIZE, what) for h in value]


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 6:
        return None
    return float(value.strip())


class BoardClient:
    """The board at ``url`` (``http://host:port``, the service's root). ``timeout`` is per
    request, in seconds; ``backoff`` is how :meth:`post_ballot` retries (:data:`NO_RETRY`
    to post once)."""

    def __init__(self, url: str, timeout: float = 30.0, backoff: Backoff | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BoardClientError(f"{url!r} is not an http:// or https:// URL")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.backoff = Backoff() if backoff is None else backoff
        self._manifest: tuple[bytes, Manifest] | None = None

    # ------------------------------------------------------------------ transport
    def _open(self, method: str, path: str, data: bytes | None = None) -> Any:
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            body = exc.read(MAX_ANSWER)
            try:
                answer = loads(body, canonical=False)
                check, reason = str(answer["error"]), str(answer["reason"])
            except (DecodeError, KeyError, TypeError):
                check, reason = "http", body[:200].decode("utf-8", "replace")
            if method == "POST" and 400 <= exc.code < 500:
                raise PostRejected(check, reason, exc.code) from None
            raise BoardClientError(
                f"{method} {path}: HTTP {exc.code}: {check}: {reason}",
                exc.code,
                _retry_after(exc.headers.get("Retry-After")),
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise BoardClientError(f"{method} {path}: {self.url} unreachable: {exc}") from None

    def _request(self, method: str, path: str, data: bytes | None = None) -> bytes:
        """The whole answer to one request (at most :data:`MAX_ANSWER` bytes); a connection
        cut or timed out while reading is a (transient) BoardClientError too."""
        try:
            with self._open(method, path, data) as answer:
                body: bytes = answer.read(MAX_ANSWER + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise BoardClientError(f"{method} {path}: the answer was cut: {exc}") from None
        if len(body) > MAX_ANSWER:
            raise BoardClientError(f"{method} {path}: answer over {MAX_ANSWER} bytes")
        return body

    def _get(self, path: str) -> bytes:
        return self._request("GET", path)

    def _json(self, path: str) -> Any:
        try:
            return loads(self._get(path), canonical=False)
        except DecodeError as exc:
            raise BoardClientError(f"GET {path}: not JSON: {exc}") from None

    def _decode(self, path: str, what: str, fn: Callable[[Any], T]) -> T:
        try:
            return fn(self._json(path))
        except (DecodeError, KeyError, TypeError) as exc:
            raise BoardClientError(f"GET {path}: not {what}: {exc}") from None

    # ------------------------------------------------------------------ reading
    def line(self, index: int) -> bytes:
        """The exact record line of entry ``index`` (BoardClientError if there is none)."""
        body = self._get(f"/entries/{int(index)}")
        try:
            entry_from_line(body)
        except DecodeError as exc:
            raise BoardClientError(f"entry {index}: not a canonical record line: {exc}") from None
        return body

    def entries(self, start: int = 0, end: int | None = None) -> list[Entry]:
        """Entries ``start`` to ``end`` (exclusive; to the end of the log by default),
        fetched in as many pages as the service's cap needs."""
        out: list[Entry] = []
        while end is None or start < end:
            query = f"start={start}" + ("" if end is None else f"&end={end}")
            page = self._json(f"/entries?{query}")
            try:
                items = page["entries"]
                got = [entry_from_line(dumps(item)) for item in items]
                if page["start"] != start or len(got) != page["end"] - start:
                    raise DecodeError("the page is not the range asked for")
            except (DecodeError, KeyError, TypeError) as exc:
                raise BoardClientError(f"GET /entries: not a page of entries: {exc}") from None
            out += got
            start += len(got)
            if not got:
                break
        return out

    def head(self) -> TreeHead:
        """A freshly signed head of the whole log (signature not checked here)."""
        return self._decode("/head", "a tree head", TreeHead.from_dict)

    def heads(self) -> list[TreeHead]:
        """The published heads (``heads.jsonl``), in publication order."""
        try:
            lines = self._get("/heads").splitlines()
            return [TreeHead.from_dict(loads(line)) for line in lines if line]
        except DecodeError as exc:
            raise BoardClientError(f"GET /heads: not tree heads: {exc}") from None

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        path = f"/proof/inclusion?index={int(index)}&size={int(size)}"
        return self._decode(path, "a proof", lambda o: _hashes(o["proof"], "inclusion proof"))

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The consistency proof from the tree of ``first`` entries to ``second``."""
        path = f"/proof/consistency?first={int(first)}&second={int(second)}"
        return self._decode(path, "a proof", lambda o: _hashes(o["proof"], "consistency proof"))

    def manifest_line(self) -> bytes:
        """The election entry (entry 0), as its exact record line."""
        return self._manifest_pair()[0]

    def manifest(self) -> Manifest:
        """The election's manifest, its organiser signature checked."""
        return self._manifest_pair()[1]

    def _manifest_pair(self) -> tuple[bytes, Manifest]:
        if self._manifest is None:
            line = self._get("/manifest")
            try:
                entry = entry_from_line(line)
                if entry.type != "election":
                    raise DecodeError(f"a {entry.type} entry")
                manifest = Manifest.from_dict(entry.body)
                entry.verify(manifest.organiser_key, b"", "election signed by the organiser")
            except (DecodeError, VerificationError) as exc:
                raise BoardClientError(f"GET /manifest: not a signed manifest: {exc}") from None
            self._manifest = (line, manifest)
        return self._manifest

    def download_record(self, directory: Path) -> Path:
        """Write the board's record in ``directory``: ``board.jsonl`` as far as the
        service's last published head covers it and ``heads.jsonl`` up to that head;
        returns the path of ``board.jsonl``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / RECORD_FILE
        with self._open("GET", "/record") as answer, path.open("wb") as out:
            shutil.copyfileobj(answer, out, 1 << 20)
        with path.open("rb") as handle:
            size = sum(1 for _ in handle)
        heads = [h for h in self.heads() if h.size <= size]
        with (directory / HEADS_FILE).open("wb") as out:
            for head in heads:
                out.write(dumps(head.to_dict()) + b"\n")
        return path

    # ------------------------------------------------------------------ writing
    def post_ballot(self, entry: Entry | Mapping[str, Any]) -> Receipt:
        """Post a signed ``ballot`` (or ``audit``) entry — its ``time`` is ignored, the
        board sets it — and return the receipt, checked. A post that gets no answer (the
        board unreachable, a timeout, a cut connection) or a 502/503/504 is repeated as
        :attr:`backoff` says: the board answers a repeated post with the original index
        and a fresh receipt, so a ballot is never cast twice nor left without a receipt.
        Raises PostRejected when the board refuses the entry, BoardClientError when it
        stays unreachable or busy, or its answer is unusable or its receipt does not
        check."""
        obj = entry.to_dict() if isinstance(entry, Entry) else dict(entry)
        payload = {"type": obj.get("type"), "body": obj.get("body"), "sig": obj.get("sig")}
        data = dumps(payload)

        def attempt() -> tuple[Receipt, bytes, Entry]:
            raw = self._request("POST", "/ballots", data)
            try:
                answer_obj = loads(raw, canonical=False)
                receipt = Receipt.from_dict(answer_obj["receipt"])
                line = dumps(answer_obj["entry"])
                return receipt, line, entry_from_line(line)
            except (DecodeError, KeyError, TypeError) as exc:
                # an answer cut short (the board died mid-write) is no answer: repeating
                # the same signed post is safe, it gets the original index back
                raise BoardClientError(f"POST /ballots: not a receipt: {exc}") from None

        receipt, line, stored = retrying(attempt, self.backoff)
        retrying(self.manifest, self.backoff)  # needed to check the receipt; safe to repeat
        self.check_issued(receipt, payload, stored, line)
        return receipt

    def post_entry(self, entry: Entry | Mapping[str, Any]) -> int:
        """Post a signed entry of the organiser, a trustee or the registrar (any type but
        ``election``; its ``time`` is ignored, the board sets it) and return its index,
        once the entry the board stored is checked to be the one posted. Raises
        PostRejected when the board refuses it, BoardClientError when its answer is
        unusable."""
        obj = entry.to_dict() if isinstance(entry, Entry) else dict(entry)
        payload = {"type": obj.get("type"), "body": obj.get("body"), "sig": obj.get("sig")}
        with self._open("POST", "/entries", dumps(payload)) as answer:
            raw = answer.read(MAX_ANSWER)
        try:
            answer_obj = loads(raw, canonical=False)
            index = answer_obj["index"]
            stored = entry_from_line(dumps(answer_obj["entry"]))
            if type(index) is not int or index < 0:
                raise DecodeError("the index is not a count")
        except (DecodeError, KeyError, TypeError) as exc:
            raise BoardClientError(f"POST /entries: not an appended entry: {exc}") from None
        if (stored.type, stored.body, stored.signature.hex()) != (
            payload["type"],
            payload["body"],
            payload["sig"],
        ):
            raise BoardClientError("POST /entries: the board stored another entry")
        return index

    def check_issued(
        self, receipt: Receipt, posted: Mapping[str, Any], stored: Entry, line: bytes
    ) -> None:
        """Check a fresh receipt: the stored entry is the posted one (time aside), the
        receipt is for its line, and its head is signed by the board key and covers it."""
        manifest = self.manifest()
        try:
            if (stored.type, stored.body, stored.signature.hex()) != (
                posted["type"],
                posted["body"],
                posted["sig"],
            ):
                raise VerificationError("the board stored another entry than the one posted")
            if receipt.leaf != leaf_hash(line):
                raise VerificationError("the receipt is for another line")
            if receipt.tracking_code != ballot_tracking_code(manifest.fingerprint, stored):
                raise VerificationError("the receipt's tracking code is not the ballot's")
            if receipt.fingerprint != manifest.fingerprint:
                raise VerificationError("the receipt is for another election")
            receipt.head.verify(manifest.board_key, manifest.fingerprint)
            receipt.check_self()
        except (VerificationError, ValueError) as exc:
            raise BoardClientError(f"the board's receipt does not check: {exc}") from None


class BoardSource:
    """A live board as a :class:`~verivote.board.receipt_check.ReceiptSource`."""

    def __init__(self, client: BoardClient) -> None:
        self.client = client

    def line(self, index: int) -> bytes | None:
        """The line at ``index``; None when the board has no such entry."""
        try:
            return self.client.line(index)
        except BoardClientError as exc:
            if exc.status == 404:
                return None
            raise

    def latest_head(self) -> TreeHead:
        """A freshly signed head of the whole log."""
        return self.client.head()

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """See :meth:`BoardClient.inclusion`."""
        return self.client.inclusion(index, size)

    def consistency(self, first: int, second: int) -> list[bytes]:
        """See :meth:`BoardClient.consistency`; an empty proof where the board refuses to
        give one (so the check reports the history as rewritten)."""
        try:
            return self.client.consistency(first, second)
        except BoardClientError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return []
            raise

    def lines(self, start: int, end: int) -> list[bytes]:
        """The record lines ``start`` to ``end`` (exclusive), fetched in pages."""
        if start >= end:
            return []
        return [entry.to_line() for entry in self.client.entries(start, end)]
