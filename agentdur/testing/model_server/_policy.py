"""The default offline policy: a deterministic stand-in for a model, good enough to drive examples.

The latest user turn is the last user message (ADK's ``For context:`` transcripts of other agents
are context, not turns). Then:

1. Tools offered and no result yet, in this turn, from an offered tool: call the tools whose names
   share the most words with the user's message (``get_weather`` for "What is the weather in
   Paris?"); failing that, the handoffs whose target agent the message names; failing that, the
   tools whose descriptions share words with it. Arguments come from the tool's JSON schema filled
   with the message's values (see :mod:`._values`).
2. Tool results present: answer from them, ``"Based on get_weather: <result>"``.
3. Otherwise answer from the latest user message, ``"Echo: <message>"``.

When JSON is asked for (a response schema, JSON mode, or the word "JSON" in the instructions) the
answer is a JSON object instead: the schema filled with the message's values, or ``{"answer": ...}``.
Handoffs (tools named ``transfer_to_...``: the OpenAI Agents SDK's ``transfer_to_<agent>``, ADK's
``transfer_to_agent``) route between agents: their results are not answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ._types import ModelMessage, ModelReply, ModelRequest, ModelTool, ModelToolCall
from ._values import MessageValues, fill_object, name_parts, singular, words

GENERIC_NAME_WORDS = frozenset(
    (
        "get",
        "set",
        "fetch",
        "lookup",
        "look",
        "retrieve",
        "do",
        "run",
        "call",
        "tool",
        "func",
        "function",
        "invoke",
    )
)
HANDOFF_PREFIX = "transfer_to_"
HANDOFF_WORDS = frozenset(("transfer", "to", "agent"))
CONTEXT_PREFIX = "For context:"
ECHO_PREFIX = "Echo: "
RESULTS_PREFIX = "Based on "
MAX_ECHO = 280
JSON_WORD = re.compile(r"\bjson\b", re.IGNORECASE)


def default_reply(request: ModelRequest) -> ModelReply:
    """The policy's answer to ``request``; the same request always gets the same answer."""
    message, results = latest_turn(request.messages)
    offered = set(request.tool_names)
    has_results = any(r.name in offered for r in results)
    if request.tools and not has_results and not _choice_is_none(request.tool_choice):
        calls = choose_tool_calls(request.tools, message, request.tool_choice)
        if calls:
            return ModelReply(tool_calls=calls)
    answers = [r for r in results if not is_handoff(r.name or "")]
    text = results_text(answers) if answers else echo_text(message)
    if wants_json(request):
        return ModelReply(text=json_text(request, message, answers, text))
    return ModelReply(text=text)


def latest_turn(messages: Sequence[ModelMessage]) -> tuple[str, list[ModelMessage]]:
    """The latest user message and the tool results that came after it."""
    results: list[ModelMessage] = []
    for message in reversed(messages):
        if message.role == "user" and not message.content.startswith(CONTEXT_PREFIX):
            return message.content, results[::-1]
        if message.role == "tool":
            results.append(message)
    return "", results[::-1]


def choose_tool_calls(
    tools: Sequence[ModelTool], message: str, tool_choice: Any
) -> tuple[ModelToolCall, ...]:
    """The calls the policy makes: best-matching tools, with arguments from the message."""
    forced = _forced_tool(tool_choice)
    chosen = [t for t in tools if t.name == forced] if forced else best_matches(tools, message)
    if not chosen and _choice_is_required(tool_choice):
        chosen = [tools[0]]
    return tuple(
        ModelToolCall(t.name, fill_object(t.parameters, MessageValues(message), complete=False))
        for t in chosen
    )


def best_matches(tools: Sequence[ModelTool], message: str) -> list[ModelTool]:
    """The tools with the most words in common with the message: by name, then handoff target, then description."""
    said = set(words(message))
    regular = [t for t in tools if not is_handoff(t.name)]
    handoffs = [t for t in tools if is_handoff(t.name)]
    for candidates, vocabulary in (
        (regular, lambda t: _identifier_words(t.name)),
        (handoffs, _handoff_targets),
        (regular, lambda t: set(words(t.description)) - GENERIC_NAME_WORDS),
    ):
        scores = [len(said & vocabulary(t)) for t in candidates]
        best = max(scores, default=0)
        if best > 0:
            return [t for t, score in zip(candidates, scores, strict=True) if score == best]
    return []


def is_handoff(name: str) -> bool:
    """Whether a tool hands the conversation to another agent."""
    return name.startswith(HANDOFF_PREFIX)


def results_text(results: Sequence[ModelMessage]) -> str:
    """``Based on get_weather: <result>; get_time: <result>``."""
    return RESULTS_PREFIX + "; ".join(f"{r.name or 'tool'}: {result_value(r.content)}" for r in results)


def result_value(content: str) -> str:
    """A tool result as shown in an answer: ADK wraps plain return values as ``{"result": value}``."""
    try:
        parsed = json.loads(content)
    except ValueError:
        return content
    if isinstance(parsed, dict) and set(parsed) == {"result"}:
        value = parsed["result"]
        return value if isinstance(value, str) else json.dumps(value)
    return content


def echo_text(message: str) -> str:
    """``Echo: <message>``, shortened to a summary when long."""
    text = " ".join(message.split()) or "(no message)"
    if len(text) > MAX_ECHO:
        text = text[: MAX_ECHO - 3].rstrip() + "..."
    return ECHO_PREFIX + text


def wants_json(request: ModelRequest) -> bool:
    """Whether the answer must be a JSON object."""
    return request.json_mode or request.output_schema is not None or bool(JSON_WORD.search(request.system))


def json_text(request: ModelRequest, message: str, results: Sequence[ModelMessage], text: str) -> str:
    """The JSON answer: the output schema filled from the message (and results), or ``{"answer": text}``."""
    if request.output_schema is None:
        return json.dumps({"answer": text})
    basis = " ".join([message, *(r.content for r in results)])
    return json.dumps(fill_object(request.output_schema, MessageValues(basis), complete=True))


def _identifier_words(name: str) -> set[str]:
    return {singular(p) for p in name_parts(name)} - GENERIC_NAME_WORDS


def _handoff_targets(tool: ModelTool) -> set[str]:
    """The words naming a handoff's target agents: in its name, or in the enum of its parameters (ADK)."""
    targets = _identifier_words(tool.name)
    for schema in (tool.parameters.get("properties") or {}).values():
        for option in schema.get("enum") or () if isinstance(schema, dict) else ():
            targets |= _identifier_words(str(option))
    return targets - HANDOFF_WORDS


def _forced_tool(tool_choice: Any) -> str | None:
    """The one tool the client requires, in any of the three APIs' shapes."""
    if not isinstance(tool_choice, dict):
        return None
    function = tool_choice.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return str(function["name"])
    if isinstance(tool_choice.get("name"), str):
        return str(tool_choice["name"])
    allowed = tool_choice.get("allowedFunctionNames") or tool_choice.get("allowed_function_names")
    if isinstance(allowed, list) and len(allowed) == 1:
        return str(allowed[0])
    return None


def _choice_is_required(tool_choice: Any) -> bool:
    if isinstance(tool_choice, dict):
        tool_choice = tool_choice.get("mode", tool_choice.get("type"))
    return str(tool_choice).lower() in ("required", "any", "function")


def _choice_is_none(tool_choice: Any) -> bool:
    if isinstance(tool_choice, dict):
        tool_choice = tool_choice.get("mode")
    return tool_choice is not None and str(tool_choice).lower() == "none"
