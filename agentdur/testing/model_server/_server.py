"""The scripted model server: the project's only fake, at the edge of the world (the model provider).

A real HTTP server speaking enough of OpenAI Chat Completions, OpenAI Responses and Gemini
generateContent for the real SDKs (openai, OpenAI Agents, LiteLLM, google-genai, Google ADK) to
run against it unmodified, with only their base URL changed. See ``docs/model-server.md``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ..._exceptions import UserError
from ._http import HttpRequest, HttpResponse, HttpServer
from ._routes import (
    classify,
    models_listing,
    normalize_path,
    not_found,
    parse,
    render_error,
    render_reply,
)
from ._script import Drop, ModelFaults, ModelScript
from ._types import Api, ModelError, ModelReply, ModelRequest, RecordedRequest

DEFAULT_HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0
FAKE_API_KEY = "test"
CONFLICTING_ENV = (
    "OPENAI_API_BASE",
    "GEMINI_API_KEY",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_VERTEX_BASE_URL",
)
"""Environment variables that take precedence over :meth:`ScriptedModelServer.env` or switch the
Gemini client to Vertex AI; the ``model_server_env`` fixture unsets them."""
HTTP_OK = 200
HTTP_BAD_REQUEST = 400
HTTP_INTERNAL_ERROR = 500


class ScriptedModelServer:
    """A fake model provider over real HTTP, answering from a script or a deterministic policy.

    Run it as a context manager (sync or async) or with :meth:`start` / :meth:`stop`; it serves from
    a background thread with its own event loop::

        with ScriptedModelServer() as server:
            server.script.tool_call("get_weather", {"city": "Paris"}).reply(text="Sunny")
            client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test")
            ...
            assert server.count(api="responses") == 2

    Attributes:
        script: the answers (:class:`ModelScript`): queued replies, a reply function, or the
            default offline policy.
        faults: errors, dropped connections and delays injected ahead of the script (:class:`ModelFaults`).

    Args:
        host: the interface to listen on.
        port: the port; 0 (the default) picks a free one.
        on_request: called (on the server's thread) with each request's record once it is answered.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ) -> None:
        self.host = host
        self._on_request = on_request
        self.script = ModelScript()
        self.faults = ModelFaults()
        self._requested_port = port
        self._port: int | None = None
        self._records: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (only while running)."""
        if self._port is None:
            raise UserError(
                "the scripted model server is not running: call start() or use it as a context manager"
            )
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` / ``api_base`` for OpenAI clients and LiteLLM: ``http://host:port/v1``."""
        return f"{self.url}/v1"

    @property
    def gemini_base_url(self) -> str:
        """The ``base_url`` for google-genai and ADK's ``Gemini`` model (the SDK appends ``v1beta/...``)."""
        return f"{self.url}/"

    def env(self) -> dict[str, str]:
        """Environment variables that point the SDKs at this server when set before a client is made.

        ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` (openai, OpenAI Agents, LiteLLM's ``openai/`` models),
        ``GOOGLE_GEMINI_BASE_URL``/``GOOGLE_API_KEY`` (google-genai and ADK's ``Gemini``), and
        ``LITELLM_LOCAL_MODEL_COST_MAP`` so that LiteLLM never downloads its cost map. Variables that
        would send a client elsewhere (:data:`CONFLICTING_ENV`, e.g. Vertex AI mode) must be unset.
        """
        return {
            "OPENAI_BASE_URL": self.openai_base_url,
            "OPENAI_API_KEY": FAKE_API_KEY,
            "GOOGLE_GEMINI_BASE_URL": self.gemini_base_url,
            "GOOGLE_API_KEY": FAKE_API_KEY,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._records)

    def count(self, api: Api | None = None, model: str | None = None) -> int:
        """How many requests used ``api`` and named ``model`` (None matches any)."""
        return sum(
            1
            for record in self.requests
            if (api is None or record.api == api) and (model is None or record.model == model)
        )

    def model_requests(self, api: Api | None = None) -> list[ModelRequest]:
        """The normalized requests of the model calls received so far (``api`` filters)."""
        return [r.request for r in self.requests if r.request is not None and (api is None or r.api == api)]

    def wait_for_requests(
        self, n: int = 1, *, api: Api | None = None, timeout: float = 10.0
    ) -> list[RecordedRequest]:
        """Block until ``n`` requests (of ``api``) have arrived, answered or not; returns them.

        Use it to act while a model call is in flight (a delay holds it back). In async code run it
        with ``await asyncio.to_thread(server.wait_for_requests, 1)``.

        Raises:
            TimeoutError: fewer than ``n`` arrived within ``timeout`` seconds.
        """

        def matching() -> list[RecordedRequest]:
            return [r for r in self._records if api is None or r.api == api]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= n, timeout):
                raise TimeoutError(f"{len(matching())} of {n} requests arrived within {timeout} s")
            return matching()[:n]

    def reset(self) -> None:
        """Forget recorded requests, the script and the faults."""
        with self._lock:
            self._records.clear()
        self.script.clear()
        self.faults.clear()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ScriptedModelServer:
        """Start serving from a background thread; returns once the port is bound."""
        if self._thread is not None:
            raise UserError("the scripted model server is already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        http = HttpServer(self.handle)

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._port = loop.run_until_complete(http.start(self.host, self._requested_port))
            except BaseException as error:  # reported to the caller of start()
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(http.close())
                loop.close()

        thread = threading.Thread(target=run, name="agentdur-model-server", daemon=True)
        thread.start()
        if not ready.wait(STARTUP_TIMEOUT) or failure:
            thread.join(STARTUP_TIMEOUT)
            raise failure[0] if failure else UserError("the scripted model server did not start")
        self._thread, self._loop = thread, loop
        return self

    def stop(self) -> None:
        """Stop serving and close open connections; the request log stays readable."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STARTUP_TIMEOUT)
        self._thread = self._loop = None
        self._port = None

    async def serve(self, stopped: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        """Serve on the running event loop (no thread) until ``stopped`` is set."""
        http = HttpServer(self.handle)
        self._port = await http.start(self.host, self._requested_port)
        try:
            if on_ready is not None:
                on_ready()
            await stopped.wait()
        finally:
            await http.close()
            self._port = None

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> ScriptedModelServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # -- answering ---------------------------------------------------------------------------

    async def handle(self, http_request: HttpRequest) -> HttpResponse | None:
        """Answer one HTTP request (None drops the connection).

        The request is logged on arrival (``done=False``) and its entry completed once the answer
        is decided, so a test can see a request that an injected delay is still holding back.
        """
        path = normalize_path(http_request.path)
        api = classify(http_request.method, path)
        record = self._arrived(api, http_request, path)
        if api in ("models", "unknown"):
            response = models_listing(path) if api == "models" else not_found(http_request.method, path)
            self._complete(record, status=response.status)
            return response
        try:
            body = json.loads(http_request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
            request = parse(api, path, body)
        except ValueError as invalid:
            error = ModelError(HTTP_BAD_REQUEST, f"Invalid request body: {invalid}")
            self._complete(record, error=error, status=error.status)
            return render_error(api, error)
        delay, fault = self.faults.take(request)
        record = self._complete(record, request=request, model=request.model, delay=delay, done=False)
        if delay > 0:
            await asyncio.sleep(delay)
        if isinstance(fault, Drop):
            self._complete(record, dropped=True, answered_by="fault")
            return None
        answer, source = (fault, "fault") if fault is not None else self._answer(request)
        if isinstance(answer, ModelError):
            self._complete(record, error=answer, status=answer.status, answered_by=source)
            return render_error(api, answer)
        self._complete(record, reply=answer, status=HTTP_OK, answered_by=source)
        return render_reply(request, answer, http_request.query)

    def _answer(self, request: ModelRequest) -> tuple[ModelReply | ModelError, str]:
        try:
            return self.script.answer_with_source(request)
        except Exception as error:  # a broken reply function answers 500 and names itself
            failure = ModelError(HTTP_INTERNAL_ERROR, f"the scripted reply function raised {error!r}", None)
            return failure, "reply function"

    def _arrived(self, api: Api, http_request: HttpRequest, path: str) -> RecordedRequest:
        record = RecordedRequest(api=api, method=http_request.method, path=path, timestamp=time.time())
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()
        return record

    def _complete(self, record: RecordedRequest, *, done: bool = True, **changes: Any) -> RecordedRequest:
        """Replace ``record`` in the log by a copy with ``changes`` (unless reset() removed it)."""
        updated = dataclasses.replace(record, done=done, **changes)
        with self._changed:
            for index, entry in enumerate(self._records):
                if entry is record:
                    self._records[index] = updated
                    break
            self._changed.notify_all()
        if done and self._on_request is not None:
            self._on_request(updated)
        return updated
