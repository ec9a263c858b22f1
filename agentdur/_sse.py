"""Reading Server-Sent Events: the live stream of an invocation as the client and the CLI see it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

END = "end"


class SSEParser:
    """Turns the lines of an event stream into the JSON ``data`` of its messages.

    Only what the ingress sends is understood: ``event``, ``data`` (JSON, possibly over several
    lines), ``id`` and comments; the JSON ``data`` always carries a ``type``.
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = "message"

    def feed(self, line: str) -> dict[str, Any] | None:
        """One line of the stream (without its newline); the message it completes, if any."""
        if line.startswith(":"):
            return None
        if line:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            return None
        if not self._data:
            return None
        data = json.loads("\n".join(self._data))
        event, self._data, self._event = self._event, [], "message"
        if not isinstance(data, dict):
            data = {"type": event, "data": data}
        data.setdefault("type", event)
        return data


def _interrupted(response: httpx.Response) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(
        "the stream ended before the invocation's outcome (the server stopped): watch again to resume",
        request=response.request,
    )


def read_events(response: httpx.Response, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The messages of a streaming response, up to and including its ``end`` event.

    Raises:
        httpx.RemoteProtocolError: the stream ended without an ``end`` event.
    """
    parser = SSEParser()
    for line in lines:
        message = parser.feed(line)
        if message is not None:
            yield message
            if message["type"] == END:
                return
    raise _interrupted(response)


async def aread_events(response: httpx.Response, lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The asyncio twin of :func:`read_events`."""
    parser = SSEParser()
    async for line in lines:
        message = parser.feed(line)
        if message is not None:
            yield message
            if message["type"] == END:
                return
    raise _interrupted(response)
