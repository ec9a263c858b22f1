"""Clients of an ingress: call and send to handlers, attach to invocations, resolve awakeables.

They use Restate's ingress URLs (``/restate/call/...``, ``/restate/send/...``, the workflow routes),
so the same client talks to ``agentdur serve`` and to a real Restate server::

    with agentdur.Client("http://127.0.0.1:8080") as client:
        receipt = client.call("Pipeline", "run", {"text": "..."})
        inv_id = client.send("Chat", "message", "hi", key="user-1", delay=timedelta(minutes=5))
        client.resolve_awakeable(approval_id, True)
        client.workflow_submit("SignupWorkflow", "johndoe", {"name": "John"})
        done, result = client.workflow_output("SignupWorkflow", "johndoe")
        for message in client.watch(inv_id):  # live output, agentdur serve only
            print(message)

A terminal failure raises the matching :class:`agentdur.TerminalError` subclass (400
:class:`~agentdur.InvalidInputError`, or :class:`~agentdur.AwakeableValueError` when resolving;
404 :class:`~agentdur.NotFoundError`; 409 :class:`~agentdur.ConflictError` or
:class:`~agentdur.InvocationCancelledError`); an invocation that paused (out of retries, journal
mismatch) raises :class:`~agentdur.InvocationPausedError` to whoever waits for it (``call``,
``attach``); transport failures raise ``httpx.HTTPError``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from ._exceptions import (
    AwakeableValueError,
    InvocationPausedError,
    TerminalError,
    error_for_status,
)
from ._http import (
    DEFAULT_INGRESS_URL,
    FIRST_HTTP_ERROR,
    HTTP_BAD_REQUEST,
    HTTP_NOT_READY,
    IDEMPOTENCY_KEY_HEADER,
)
from ._serde import to_json_text
from ._sse import aread_events, read_events

__all__ = [
    "DEFAULT_INGRESS_URL",
    "DEFAULT_TIMEOUT",
    "AsyncClient",
    "Client",
    "error_from_response",
    "paused_from_response",
]

# Calls wait as long as the handler runs; only connecting is bounded by default.
DEFAULT_TIMEOUT = httpx.Timeout(None, connect=10.0)


@dataclass(frozen=True)
class _Request:
    """One ingress request, built the same way for the sync and the async client."""

    method: str
    path: str
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def _segment(text: str) -> str:
    return quote(text, safe="")


def _handler_path(service: str, handler: str, key: str | None) -> str:
    if key is None:
        return f"/{_segment(service)}/{_segment(handler)}"
    return f"/{_segment(service)}/{_segment(key)}/{_segment(handler)}"


def _invoke_request(
    service: str,
    handler: str,
    arg: Any,
    key: str | None,
    idempotency_key: str | None,
    send: bool = False,
    delay: float | timedelta | None = None,
) -> _Request:
    headers: dict[str, str] = {}
    content = None
    if arg is not None:
        content = to_json_text(arg).encode()
        headers["content-type"] = "application/json"
    if idempotency_key is not None:
        headers[IDEMPOTENCY_KEY_HEADER] = idempotency_key
    params: dict[str, str] = {}
    if delay is not None:
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        params["delay"] = f"{round(seconds * 1000)}ms"
    path = ("/restate/send" if send else "/restate/call") + _handler_path(service, handler, key)
    return _Request("POST", path, content, headers, params)


def _workflow_request(workflow: str, key: str, verb: str) -> _Request:
    return _Request("GET", f"/restate/workflow/{_segment(workflow)}/{_segment(key)}/{verb}")


def _awakeable_request(awakeable_id: str, verb: str, content: bytes, content_type: str) -> _Request:
    return _Request(
        "POST",
        f"/restate/awakeables/{_segment(awakeable_id)}/{verb}",
        content,
        {"content-type": content_type},
    )


def error_from_response(response: httpx.Response) -> TerminalError:
    """The :class:`TerminalError` subclass matching a failed ingress response."""
    message = response.text
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
    return error_for_status(response.status_code, message or response.reason_phrase)


def paused_from_response(response: httpx.Response) -> InvocationPausedError | None:
    """The :class:`InvocationPausedError` a response reports (``"status": "paused"``), if it does."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != "paused" or "invocationId" not in body:
        return None
    return InvocationPausedError(
        str(body["invocationId"]), str(body.get("reason") or body.get("message", ""))
    )


def _result(response: httpx.Response) -> Any:
    if response.status_code >= FIRST_HTTP_ERROR:
        raise paused_from_response(response) or error_from_response(response)
    return json.loads(response.content) if response.content.strip() else None


def _resolved(response: httpx.Response) -> None:
    """A resolution's answer; a 400 means the value does not match the awakeable's type."""
    if response.status_code == HTTP_BAD_REQUEST:
        raise AwakeableValueError(error_from_response(response).message, HTTP_BAD_REQUEST)
    _result(response)


def _output(response: httpx.Response) -> tuple[bool, Any]:
    if response.status_code == HTTP_NOT_READY:
        return False, None
    return True, _result(response)


def _invocation_id(response: httpx.Response) -> str:
    return str(_result(response)["invocationId"])


def _stream_path(invocation_id: str) -> str:
    return f"/restate/invocation/{_segment(invocation_id)}/stream"


def _stream_refused(response: httpx.Response) -> TerminalError:
    return error_from_response(response)


def _base_headers(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


class Client:
    """A blocking client of an agentdur or Restate ingress.

    Args:
        ingress_url: where the ingress listens.
        token: sent as ``Authorization: Bearer <token>`` when the server requires one.
        timeout: an ``httpx`` timeout; by default only connecting is bounded, so a call waits as
            long as its handler runs.
    """

    def __init__(
        self,
        ingress_url: str = DEFAULT_INGRESS_URL,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.ingress_url = ingress_url.rstrip("/")
        self._http = httpx.Client(base_url=self.ingress_url, headers=_base_headers(token), timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def _send(self, request: _Request) -> httpx.Response:
        return self._http.request(
            request.method,
            request.path,
            content=request.content,
            headers=request.headers,
            params=request.params,
        )

    def call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Invoke a handler (``key`` for a virtual object) and return its JSON result."""
        return _result(self._send(_invoke_request(service, handler, arg, key, idempotency_key)))

    def send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        delay: float | timedelta | None = None,
    ) -> str:
        """Start a handler without waiting (after ``delay`` seconds, if given); returns the invocation id."""
        return _invocation_id(
            self._send(_invoke_request(service, handler, arg, key, idempotency_key, True, delay))
        )

    def workflow_submit(
        self,
        workflow: str,
        key: str,
        arg: Any = None,
        *,
        handler: str = "run",
        delay: float | timedelta | None = None,
    ) -> str:
        """Submit the run of ``workflow`` for ``key`` without waiting; returns its invocation id
        (the same one when the key was submitted before)."""
        return self.send(workflow, handler, arg, key=key, delay=delay)

    def workflow_attach(self, workflow: str, key: str) -> Any:
        """Wait for the run of ``workflow`` for ``key`` and return its result (or raise its failure)."""
        return _result(self._send(_workflow_request(workflow, key, "attach")))

    def workflow_output(self, workflow: str, key: str) -> tuple[bool, Any]:
        """``(True, result)`` once the run of ``workflow`` for ``key`` finished, ``(False, None)`` while it runs."""
        return _output(self._send(_workflow_request(workflow, key, "output")))

    def attach(self, invocation_id: str) -> Any:
        """Wait for an invocation to finish and return its result (or raise its failure)."""
        return _result(self._send(_Request("GET", f"/restate/invocation/{_segment(invocation_id)}/attach")))

    def output(self, invocation_id: str) -> tuple[bool, Any]:
        """``(True, result)`` once the invocation finished, ``(False, None)`` while it runs."""
        return _output(self._send(_Request("GET", f"/restate/invocation/{_segment(invocation_id)}/output")))

    def watch(self, invocation_id: str) -> Iterator[dict[str, Any]]:
        """Follow an invocation's live output (``agentdur serve`` only): each message of its event
        stream as JSON with a ``type`` (``output``, ``replay``, ``gap``), ending with ``end``.

        Raises:
            NotFoundError: unknown invocation.
            httpx.RemoteProtocolError: the server stopped before the outcome; watch again to resume.
        """
        with self._http.stream(
            "GET", _stream_path(invocation_id), timeout=self._stream_timeout()
        ) as response:
            if response.status_code >= FIRST_HTTP_ERROR:
                response.read()
                raise _stream_refused(response)
            yield from read_events(response, response.iter_lines())

    def _stream_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(None, connect=self._http.timeout.connect)

    def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Complete an awakeable with a JSON value, waking the handler that waits on it.

        Raises:
            AwakeableValueError: the value does not match the awakeable's type (``agentdur serve``
                checks it; Restate does not); the awakeable stays pending.
        """
        _resolved(
            self._send(
                _awakeable_request(awakeable_id, "resolve", to_json_text(value).encode(), "application/json")
            )
        )

    def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """Fail an awakeable: the waiting handler gets a TerminalError with ``message``."""
        _result(
            self._send(
                _awakeable_request(awakeable_id, "reject", message.encode(), "text/plain; charset=utf-8")
            )
        )


class AsyncClient:
    """The asyncio twin of :class:`Client`, with the same methods as coroutines.

    Args:
        ingress_url: where the ingress listens.
        token: sent as ``Authorization: Bearer <token>`` when the server requires one.
        timeout: an ``httpx`` timeout; by default only connecting is bounded.
    """

    def __init__(
        self,
        ingress_url: str = DEFAULT_INGRESS_URL,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.ingress_url = ingress_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.ingress_url, headers=_base_headers(token), timeout=timeout
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def _send(self, request: _Request) -> httpx.Response:
        return await self._http.request(
            request.method,
            request.path,
            content=request.content,
            headers=request.headers,
            params=request.params,
        )

    async def call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Invoke a handler (``key`` for a virtual object) and return its JSON result."""
        return _result(await self._send(_invoke_request(service, handler, arg, key, idempotency_key)))

    async def send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        delay: float | timedelta | None = None,
    ) -> str:
        """Start a handler without waiting (after ``delay`` seconds, if given); returns the invocation id."""
        request = _invoke_request(service, handler, arg, key, idempotency_key, True, delay)
        return _invocation_id(await self._send(request))

    async def workflow_submit(
        self,
        workflow: str,
        key: str,
        arg: Any = None,
        *,
        handler: str = "run",
        delay: float | timedelta | None = None,
    ) -> str:
        """Submit the run of ``workflow`` for ``key`` without waiting; returns its invocation id
        (the same one when the key was submitted before)."""
        return await self.send(workflow, handler, arg, key=key, delay=delay)

    async def workflow_attach(self, workflow: str, key: str) -> Any:
        """Wait for the run of ``workflow`` for ``key`` and return its result (or raise its failure)."""
        return _result(await self._send(_workflow_request(workflow, key, "attach")))

    async def workflow_output(self, workflow: str, key: str) -> tuple[bool, Any]:
        """``(True, result)`` once the run of ``workflow`` for ``key`` finished, ``(False, None)`` while it runs."""
        return _output(await self._send(_workflow_request(workflow, key, "output")))

    async def attach(self, invocation_id: str) -> Any:
        """Wait for an invocation to finish and return its result (or raise its failure)."""
        return _result(
            await self._send(_Request("GET", f"/restate/invocation/{_segment(invocation_id)}/attach"))
        )

    async def output(self, invocation_id: str) -> tuple[bool, Any]:
        """``(True, result)`` once the invocation finished, ``(False, None)`` while it runs."""
        return _output(
            await self._send(_Request("GET", f"/restate/invocation/{_segment(invocation_id)}/output"))
        )

    async def watch(self, invocation_id: str) -> AsyncIterator[dict[str, Any]]:
        """Follow an invocation's live output, as :meth:`Client.watch` does."""
        timeout = httpx.Timeout(None, connect=self._http.timeout.connect)
        async with self._http.stream("GET", _stream_path(invocation_id), timeout=timeout) as response:
            if response.status_code >= FIRST_HTTP_ERROR:
                await response.aread()
                raise _stream_refused(response)
            async for message in aread_events(response, response.aiter_lines()):
                yield message

    async def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Complete an awakeable with a JSON value, waking the handler that waits on it.

        Raises:
            AwakeableValueError: the value does not match the awakeable's type (``agentdur serve``
                checks it; Restate does not); the awakeable stays pending.
        """
        request = _awakeable_request(
            awakeable_id, "resolve", to_json_text(value).encode(), "application/json"
        )
        _resolved(await self._send(request))

    async def reject_awakeable(self, awakeable_id: str, message: str) -> None:
        """Fail an awakeable: the waiting handler gets a TerminalError with ``message``."""
        request = _awakeable_request(awakeable_id, "reject", message.encode(), "text/plain; charset=utf-8")
        _result(await self._send(request))
