"""What the scripted model server sees and says, independent of the wire format.

Every API the server speaks (OpenAI Chat Completions, OpenAI Responses, Gemini) is parsed into one
:class:`ModelRequest`, and every answer is a :class:`ModelReply` (text and/or tool calls) or a
:class:`ModelError` (an HTTP error the SDK turns into its own exception type). Scripts and reply
functions work on these, so one script drives all three APIs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Api = Literal["chat", "responses", "gemini", "models", "unknown"]
"""Which API a request used: OpenAI ``chat`` completions, OpenAI ``responses``, ``gemini``
generateContent, a ``models`` listing, or an ``unknown`` route (answered 404)."""

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ModelToolCall:
    """One function call the model asks for.

    Args:
        name: the tool's name, as offered in the request.
        arguments: the call's arguments (sent as a JSON string to OpenAI clients, an object to Gemini).
        id: the call id; derived from the request when omitted, so the same request gets the same id.
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class ModelMessage:
    """One conversation turn, whatever API carried it.

    ``role="tool"`` is a tool result: ``content`` is the result as text, ``tool_call_id`` the call it
    answers and ``name`` the tool's name (looked up from the call when the wire format omits it).
    An assistant turn that called tools lists them in ``tool_calls``.
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ModelToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ModelTool:
    """A function tool offered to the model: its name, description and JSON schema of parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRequest:
    """A model call, normalized across the OpenAI Chat, OpenAI Responses and Gemini APIs.

    Attributes:
        api: which API carried it.
        model: the model name the client asked for.
        messages: the conversation, system instructions first.
        tools: the function tools offered.
        tool_choice: the client's tool choice as sent (``"auto"``, ``"required"``, an object, or None).
        stream: whether the client asked for a streamed answer.
        output_schema: the JSON schema the answer must follow, when structured output was requested.
        json_mode: whether the answer must be a JSON object (a schema, ``json_object``, or a JSON mime type).
        body: the raw JSON body, for assertions on fields this view leaves out.
    """

    api: Api
    model: str
    messages: tuple[ModelMessage, ...] = ()
    tools: tuple[ModelTool, ...] = ()
    tool_choice: Any = None
    stream: bool = False
    output_schema: dict[str, Any] | None = None
    json_mode: bool = False
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def system(self) -> str:
        """The system (or developer) instructions, joined by blank lines."""
        return "\n\n".join(m.content for m in self.messages if m.role == "system" and m.content)

    @property
    def last_user_message(self) -> str | None:
        """The text of the latest user turn, or None if there is none."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return None

    @property
    def tool_results(self) -> tuple[ModelMessage, ...]:
        """The tool results that arrived after the latest user turn, oldest first."""
        results: list[ModelMessage] = []
        for message in reversed(self.messages):
            if message.role == "user":
                break
            if message.role == "tool":
                results.append(message)
        return tuple(reversed(results))

    @property
    def tool_names(self) -> tuple[str, ...]:
        """The names of the offered tools, in the order offered."""
        return tuple(tool.name for tool in self.tools)

    def fingerprint(self) -> str:
        """A stable digest of what the model is asked; ids in the reply derive from it."""
        canonical = json.dumps(
            [
                self.api,
                self.model,
                [
                    [m.role, m.content, [[c.name, c.arguments] for c in m.tool_calls], m.name]
                    for m in self.messages
                ],
                [[t.name, t.description, t.parameters] for t in self.tools],
                self.output_schema,
                self.json_mode,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ModelReply:
    """A successful answer: text, tool calls, or both (text first)."""

    text: str | None = None
    tool_calls: tuple[ModelToolCall, ...] = ()


@dataclass(frozen=True)
class ModelError:
    """An HTTP error answer, shaped like the provider's own error body.

    Args:
        status: the HTTP status (429 rate limit, 401 auth, 400 bad request, 500, 503 ...).
        message: the error message; a standard one for the status when omitted.
        retry_after: seconds sent in a ``retry-after`` header, when not None.
    """

    status: int
    message: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received and what it did with it.

    Attributes:
        api: which API the request used.
        method: the HTTP method.
        path: the URL path (without the query string).
        timestamp: when the request arrived (``time.time()``).
        model: the model asked for, or None for requests that name none.
        request: the normalized request (None for model listings, unknown routes and unreadable bodies).
        reply: the answer sent, when it was a successful one.
        error: the error sent, when a fault or the script answered with one.
        dropped: True when the connection was closed without an answer.
        status: the HTTP status sent (0 while not answered yet, and when dropped).
        delay: seconds the answer was held back by an injected delay.
        done: False while the answer is still being decided or held back by a delay.
        answered_by: what decided the answer: ``script entry N`` (1-based, in queue order),
            ``reply function``, ``default policy``, ``fault``, or None (no model request).
    """

    api: Api
    method: str
    path: str
    timestamp: float
    model: str | None = None
    request: ModelRequest | None = None
    reply: ModelReply | None = None
    error: ModelError | None = None
    dropped: bool = False
    status: int = 0
    delay: float = 0.0
    done: bool = False
    answered_by: str | None = None

    @property
    def fault(self) -> ModelError | Literal["dropped"] | None:
        """The error sent or ``"dropped"``; None for a successful answer."""
        return "dropped" if self.dropped else self.error
