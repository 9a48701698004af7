"""Slow, idle and too many clients: a connection limit and a header deadline on uvicorn's
HTTP/1.1 protocol, and logging that cannot flood the disk.

* :func:`guarded_protocol` — uvicorn's HTTP/1.1 protocol (httptools or h11), refusing
  (closing at once) a connection beyond ``max_connections`` open ones, and closing a
  connection whose request line and headers are not complete ``header_timeout`` seconds
  after they began (or after the connection opened). The body's deadline is the application's
  (:func:`verivote.server.app.create_app`, ``body_timeout``).
* :class:`RateLimit` — a logging filter passing at most ``per_second`` records a second
  per logger and message, then one summary of how many it dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def guarded_protocol(max_connections: int, header_timeout: float) -> type[asyncio.Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with these limits: uvicorn's
    httptools protocol (a compiled parser) when httptools is installed, else its h11
    protocol."""
    try:
        return _guarded_httptools(max_connections, header_timeout)
    except ImportError:
        return guarded_h11(max_connections, header_timeout)


def _guarded_httptools(max_connections: int, header_timeout: float) -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                self.connections.discard(self)
                transport.abort()
                return
            self._arm()

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(header_timeout, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # a request line under way: one deadline for it and its headers

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedHttpToolsProtocol


def guarded_h11(max_connections: int, header_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with these limits (see the module docstring)."""

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            if len(self.connections) > max_connections:
                self.connections.discard(self)
                self.transport.abort()
                return
            self._arm()

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(header_timeout, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self._arm()  # a request line or headers under way: one deadline for all
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11Protocol


class RateLimit(logging.Filter):
    """Pass at most ``per_second`` records a second for each (logger, message template);
    the first record after a suppressed stretch says how many were dropped."""

    def __init__(self, per_second: int = 5) -> None:
        super().__init__()
        self.per_second = per_second
        self._seen: dict[tuple[str, str], list[Any]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is logged."""
        key = (record.name, str(record.msg))
        now = int(time.monotonic())
        slot = self._seen.get(key)
        if slot is None or slot[0] != now:
            dropped = 0 if slot is None else slot[2]
            self._seen[key] = slot = [now, 0, 0]
            if dropped:
                record.msg = f"{record.msg} [{dropped} similar messages suppressed]"
        slot[1] += 1
        if slot[1] > self.per_second:
            slot[2] += 1
            return False
        if len(self._seen) > 1000:  # forget old keys rather than grow
            self._seen = {k: v for k, v in self._seen.items() if v[0] == now}
        return True


def limit_logging(per_second: int = 5) -> None:
    """Put a :class:`RateLimit` on the loggers a busy or attacked server writes to
    (asyncio's accept errors, uvicorn's errors and warnings), with tracebacks of accept
    errors kept to one line."""
    limiter = RateLimit(per_second)
    for name in ("asyncio", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        logger.addFilter(limiter)
    logging.getLogger("asyncio").addFilter(_no_traceback)


def _no_traceback(record: logging.LogRecord) -> bool:
    """Keep an asyncio error (such as accept's "Too many open files") to one line."""
    if record.exc_info and record.exc_info[1] is not None:
        record.msg = f"{record.getMessage()}: {record.exc_info[1]}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
    return True
