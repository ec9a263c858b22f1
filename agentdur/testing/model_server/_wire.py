"""Pieces shared by the three wire formats: text of content parts, token counts, error bodies, SSE."""

from __future__ import annotations

import json
import re
from typing import Any

from ._types import ModelError, ModelReply, ModelRequest

CREATED = 1_735_689_600
"""The ``created`` timestamp of every answer (2025-01-01): fixed, so equal requests get equal bytes."""
STREAM_PIECE_WORDS = 2
ARGUMENT_PIECE_CHARS = 12

OPENAI_ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "invalid_request_error",
        "invalid_request",
        "Invalid request (injected by the scripted model server).",
    ),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided (injected by the scripted model server).",
    ),
    403: (
        "permission_denied",
        "permission_denied",
        "Permission denied (injected by the scripted model server).",
    ),
    404: ("invalid_request_error", "not_found", "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached (injected by the scripted model server)."),
    500: ("server_error", "server_error", "The server had an error (injected by the scripted model server)."),
    503: (
        "server_error",
        "service_unavailable",
        "The server is overloaded (injected by the scripted model server).",
    ),
}
GEMINI_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def text_of(content: Any) -> str:
    """The text of a message content: a string, or the text of a list of parts (images skipped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [text_of(part) for part in content]
        return "\n".join(t for t in texts if t)
    if isinstance(content, dict):
        for key in ("text", "output", "content"):
            if isinstance(content.get(key), str | list):
                return text_of(content[key])
        return ""
    return str(content)


def parse_arguments(arguments: Any) -> dict[str, Any]:
    """Tool-call arguments as a dict, whether sent as a JSON string or an object."""
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str) and arguments.strip():
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError:
            return {"_raw": arguments}
        return parsed if isinstance(parsed, dict) else {"_value": parsed}
    return {}


def count_tokens(text: str) -> int:
    """A crude, deterministic token count: words and punctuation marks."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def prompt_tokens(request: ModelRequest) -> int:
    """Tokens of the conversation and the tool declarations, at least 1."""
    texts = [m.content for m in request.messages]
    texts += [json.dumps(c.arguments) for m in request.messages for c in m.tool_calls]
    texts += [f"{t.name} {t.description} {json.dumps(t.parameters)}" for t in request.tools]
    return max(1, sum(count_tokens(t) for t in texts))


def reply_tokens(reply: ModelReply) -> int:
    """Tokens of the answer's text and tool calls, at least 1."""
    texts = [reply.text or ""] + [f"{c.name} {json.dumps(c.arguments)}" for c in reply.tool_calls]
    return max(1, sum(count_tokens(t) for t in texts))


def call_id(fingerprint: str, index: int, explicit: str | None) -> str:
    """The id of the ``index``-th tool call of an answer: the scripted one, else from the request."""
    return explicit or f"call_{fingerprint[:20]}_{index}"


def text_pieces(text: str) -> list[str]:
    """``text`` cut into the deltas a stream sends (a couple of words each; empty text gives one piece)."""
    tokens = re.findall(r"\s*\S+\s*", text)
    pieces = ["".join(tokens[i : i + STREAM_PIECE_WORDS]) for i in range(0, len(tokens), STREAM_PIECE_WORDS)]
    return pieces or [text]


def argument_pieces(arguments: str) -> list[str]:
    """A JSON arguments string cut into the deltas a stream sends."""
    return [
        arguments[i : i + ARGUMENT_PIECE_CHARS] for i in range(0, len(arguments), ARGUMENT_PIECE_CHARS)
    ] or [""]


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def openai_error_body(error: ModelError) -> dict[str, Any]:
    """An OpenAI-shaped error body: ``{"error": {"message", "type", "param", "code"}}``."""
    kind, code, message = OPENAI_ERRORS.get(
        error.status,
        ("server_error" if error.status >= 500 else "invalid_request_error", str(error.status), ""),
    )
    return {
        "error": {
            "message": error.message or message or f"HTTP {error.status}",
            "type": kind,
            "param": None,
            "code": code,
        }
    }


def gemini_error_body(error: ModelError) -> dict[str, Any]:
    """A Google-API-shaped error body: ``{"error": {"code", "message", "status"}}``."""
    status = GEMINI_STATUS.get(error.status, "INTERNAL" if error.status >= 500 else "FAILED_PRECONDITION")
    message = error.message or OPENAI_ERRORS.get(error.status, ("", "", f"HTTP {error.status}"))[2]
    return {"error": {"code": error.status, "message": message, "status": status}}
