"""Which API a request speaks, how to read it, and how to write answers and errors back in its format."""

from __future__ import annotations

import json
import re
from typing import Any

from ._chat import chat_completion, chat_stream, parse_chat
from ._gemini import gemini_response, gemini_stream, parse_gemini
from ._http import HttpResponse
from ._responses import parse_responses, response_object, response_stream
from ._types import Api, ModelError, ModelReply, ModelRequest
from ._wire import CREATED, gemini_error_body, openai_error_body, sse

GEMINI_CALL = re.compile(
    r"^/v1(?:alpha|beta)?\d*/(?:models/)?(?P<model>[^:]+):(?P<method>generateContent|streamGenerateContent)$"
)
GEMINI_MODELS = re.compile(r"^/v1(?:alpha|beta)\d*/models$")
OPENAI_MODELS = re.compile(r"^(?:/v1)?/models(?:/(?P<model>[^/]+))?$")
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
RESPONSES_PATHS = ("/v1/responses", "/responses")
LISTED_MODELS = ("gpt-4o", "gpt-4o-mini", "gemini-2.5-flash")
JSON_HEADERS = [("content-type", "application/json")]
SSE_HEADERS = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]


def normalize_path(path: str) -> str:
    """The path with repeated slashes collapsed (base URLs joined with an extra ``/``)."""
    return "/" + "/".join(part for part in path.split("/") if part)


def classify(method: str, path: str) -> Api:
    """The API of a request, by method and path."""
    if method == "POST" and path in CHAT_PATHS:
        return "chat"
    if method == "POST" and path in RESPONSES_PATHS:
        return "responses"
    if method == "POST" and GEMINI_CALL.match(path):
        return "gemini"
    if method == "GET" and (OPENAI_MODELS.match(path) or GEMINI_MODELS.match(path)):
        return "models"
    return "unknown"


def parse(api: Api, path: str, body: dict[str, Any]) -> ModelRequest:
    """The normalized model request of a chat, responses or gemini call."""
    if api == "chat":
        return parse_chat(body)
    if api == "responses":
        return parse_responses(body)
    match = GEMINI_CALL.match(path)
    assert match is not None  # classify() said gemini
    stream = match.group("method") == "streamGenerateContent"
    return parse_gemini(body, match.group("model"), stream=stream)


def render_reply(request: ModelRequest, reply: ModelReply, query: dict[str, str]) -> HttpResponse:
    """``reply`` in the request's API format, streamed when the request asked for a stream."""
    if request.api == "chat":
        if request.stream:
            return HttpResponse(200, headers=SSE_HEADERS, events=chat_stream(request, reply))
        return json_response(200, chat_completion(request, reply))
    if request.api == "responses":
        if request.stream:
            return HttpResponse(200, headers=SSE_HEADERS, events=response_stream(request, reply))
        return json_response(200, response_object(request, reply))
    if not request.stream:
        return json_response(200, gemini_response(request, reply))
    chunks = gemini_stream(request, reply)
    if query.get("alt") == "sse":
        return HttpResponse(200, headers=SSE_HEADERS, events=[sse(chunk) for chunk in chunks])
    return json_response(200, chunks)


def render_error(api: Api, error: ModelError) -> HttpResponse:
    """``error`` with the provider's error body for the API and a ``retry-after`` header when set."""
    body = gemini_error_body(error) if api == "gemini" else openai_error_body(error)
    headers = list(JSON_HEADERS)
    if error.retry_after is not None:
        seconds = error.retry_after
        headers.append(("retry-after", str(int(seconds)) if float(seconds).is_integer() else str(seconds)))
    return HttpResponse(error.status, json.dumps(body).encode(), headers)


def models_listing(path: str) -> HttpResponse:
    """``GET /v1/models`` (OpenAI shape), ``GET /v1/models/{id}``, or ``GET /v1beta/models`` (Gemini shape)."""
    if GEMINI_MODELS.match(path):
        models = [
            {"name": f"models/{m}", "supportedGenerationMethods": ["generateContent"]} for m in LISTED_MODELS
        ]
        return json_response(200, {"models": models})
    match = OPENAI_MODELS.match(path)
    if match and match.group("model"):
        return json_response(200, _openai_model(match.group("model")))
    return json_response(200, {"object": "list", "data": [_openai_model(m) for m in LISTED_MODELS]})


def not_found(method: str, path: str) -> HttpResponse:
    """A 404 with an OpenAI-shaped error body naming the route."""
    return render_error("unknown", ModelError(404, f"Unknown route: {method} {path}"))


def json_response(status: int, body: Any) -> HttpResponse:
    """A JSON response."""
    return HttpResponse(status, json.dumps(body).encode(), list(JSON_HEADERS))


def _openai_model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "agentdur"}
