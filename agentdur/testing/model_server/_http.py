"""A small HTTP/1.1 server on asyncio streams and h11, for the scripted model server.

Not uvicorn: a fake provider must be able to close a connection without sending a response (an
ASGI app cannot), and to write server-sent events exactly as it wants. Keep-alive, chunked request
bodies and ``Expect: 100-continue`` work, because the SDKs' HTTP clients (httpx, aiohttp) use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

try:
    import h11
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError('the scripted model server needs h11: pip install "agentdur[testing]"') from error

READ_SIZE = 65536
MAX_REQUEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class HttpRequest:
    """A complete request: method, path (no query), query parameters, lowercase headers, body."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    """A response: a ``body`` sent with a content length, or ``events`` sent chunked one by one."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    events: list[bytes] | None = None


Handler = Callable[[HttpRequest], Awaitable[HttpResponse | None]]
"""Answers a request; None closes the connection without a response."""


BACKLOG = 2048  # pending connections the listening socket queues (the kernel caps it at somaxconn)


class HttpServer:
    """Serves ``handler`` on a TCP port until :meth:`close`."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0 picks a free port) and return the port bound."""
        # asyncio's default backlog (100) drops connection attempts when hundreds of agent runs call at
        # once (python -m bench agents starts 1,000): the clients then wait out their connect timeouts.
        self._server = await asyncio.start_server(self._serve_connection, host, port, backlog=BACKLOG)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end open connections."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
        try:
            while True:
                request = await _read_request(connection, reader, writer)
                if request is None:
                    break
                response = await self._handler(request)
                if response is None:
                    break  # a dropped connection: close without a byte of response
                await _write_response(connection, writer, response)
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    break
                connection.start_next_cycle()
        except (ConnectionError, h11.ProtocolError):
            pass
        except asyncio.CancelledError:
            # close() cancels open connections. Ending the task normally matters: on Python 3.11
            # asyncio.start_server's done-callback calls task.exception(), which re-raises and
            # logs for a cancelled task.
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._connections.discard(task)


async def _read_request(
    connection: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> HttpRequest | None:
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            if connection.they_are_waiting_for_100_continue:
                writer.write(connection.send(h11.InformationalResponse(status_code=100, headers=[])) or b"")
            connection.receive_data(await reader.read(READ_SIZE))
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            target = urlsplit(head.target.decode("latin-1"))
            return HttpRequest(
                method=head.method.decode("ascii").upper(),
                path=target.path,
                query=dict(parse_qsl(target.query)),
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers},
                body=bytes(body),
            )
        else:  # ConnectionClosed, or PAUSED after a protocol switch we never agree to
            return None


async def _write_response(
    connection: h11.Connection, writer: asyncio.StreamWriter, response: HttpResponse
) -> None:
    headers = [("server", "agentdur-model-server"), *response.headers]
    if response.events is None:
        headers.append(("content-length", str(len(response.body))))
    reason = http.HTTPStatus(response.status).phrase.encode() if response.status in _STATUSES else b""
    writer.write(
        connection.send(h11.Response(status_code=response.status, headers=headers, reason=reason)) or b""
    )
    for chunk in response.events if response.events is not None else [response.body]:
        if chunk:
            writer.write(connection.send(h11.Data(data=chunk)) or b"")
            await writer.drain()
    writer.write(connection.send(h11.EndOfMessage()) or b"")
    await writer.drain()


_STATUSES = {status.value for status in http.HTTPStatus}
