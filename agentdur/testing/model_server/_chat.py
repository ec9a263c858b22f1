"""OpenAI Chat Completions (``POST /v1/chat/completions``): parse a request, render an answer or a stream."""

from __future__ import annotations

import json
from typing import Any

from ._types import ModelMessage, ModelReply, ModelRequest, ModelTool, ModelToolCall
from ._wire import (
    CREATED,
    argument_pieces,
    call_id,
    parse_arguments,
    prompt_tokens,
    reply_tokens,
    sse,
    text_of,
    text_pieces,
)

SYSTEM_ROLES = ("system", "developer")
TOOL_ROLES = ("tool", "function")


def parse_chat(body: dict[str, Any]) -> ModelRequest:
    """A Chat Completions body as a :class:`ModelRequest`."""
    messages: list[ModelMessage] = []
    names: dict[str, str] = {}
    for message in body.get("messages") or []:
        role = message.get("role")
        content = text_of(message.get("content"))
        if role in SYSTEM_ROLES:
            messages.append(ModelMessage("system", content))
        elif role == "user":
            messages.append(ModelMessage("user", content))
        elif role == "assistant":
            calls = tuple(_parse_call(call) for call in message.get("tool_calls") or [])
            names.update((c.id, c.name) for c in calls if c.id)
            messages.append(ModelMessage("assistant", content, tool_calls=calls))
        elif role in TOOL_ROLES:
            call = message.get("tool_call_id")
            name = message.get("name") or names.get(call or "")
            messages.append(ModelMessage("tool", content, tool_call_id=call, name=name))
    declared = [t.get("function") or t for t in body.get("tools") or []] + list(body.get("functions") or [])
    tools = tuple(
        ModelTool(str(f.get("name")), f.get("description") or "", f.get("parameters") or {}) for f in declared
    )
    response_format = body.get("response_format") or {}
    schema = (
        (response_format.get("json_schema") or {}).get("schema")
        if isinstance(response_format, dict)
        else None
    )
    return ModelRequest(
        api="chat",
        model=str(body.get("model") or ""),
        messages=tuple(messages),
        tools=tools,
        tool_choice=body.get("tool_choice"),
        stream=bool(body.get("stream")),
        output_schema=schema if isinstance(schema, dict) else None,
        json_mode=isinstance(response_format, dict)
        and response_format.get("type") in ("json_schema", "json_object"),
        body=body,
    )


def _parse_call(call: dict[str, Any]) -> ModelToolCall:
    function = call.get("function") or {}
    return ModelToolCall(
        str(function.get("name")), parse_arguments(function.get("arguments")), call.get("id")
    )


def chat_completion(request: ModelRequest, reply: ModelReply) -> dict[str, Any]:
    """A ``chat.completion`` object answering ``request`` with ``reply``."""
    fingerprint = request.fingerprint()
    message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id(fingerprint, index, call.id),
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for index, call in enumerate(reply.tool_calls)
        ]
    choice = {"index": 0, "message": message, "finish_reason": _finish_reason(reply), "logprobs": None}
    return {**_envelope(request, "chat.completion"), "choices": [choice], "usage": _usage(request, reply)}


def chat_stream(request: ModelRequest, reply: ModelReply) -> list[bytes]:
    """The server-sent events of a streamed answer, ending with ``data: [DONE]``."""
    fingerprint = request.fingerprint()
    options = request.body.get("stream_options") or {}
    include_usage = bool(options.get("include_usage"))
    envelope = _envelope(request, "chat.completion.chunk")
    if include_usage:
        envelope["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return sse(
            {
                **envelope,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
            }
        )

    events = [
        chunk({"role": "assistant", "content": "" if reply.text is not None else None, "refusal": None})
    ]
    if reply.text:
        events += [chunk({"content": piece}) for piece in text_pieces(reply.text)]
    for index, call in enumerate(reply.tool_calls):
        start = {"index": index, "id": call_id(fingerprint, index, call.id), "type": "function"}
        events.append(chunk({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]}))
        events += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in argument_pieces(json.dumps(call.arguments))
        ]
    events.append(chunk({}, _finish_reason(reply)))
    if include_usage:
        events.append(sse({**envelope, "choices": [], "usage": _usage(request, reply)}))
    events.append(sse("[DONE]"))
    return events


def _envelope(request: ModelRequest, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{request.fingerprint()[:29]}",
        "object": kind,
        "created": CREATED,
        "model": request.model,
        "system_fingerprint": "fp_agentdur",
        "service_tier": "default",
    }


def _finish_reason(reply: ModelReply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(request: ModelRequest, reply: ModelReply) -> dict[str, Any]:
    prompt, completion = prompt_tokens(request), reply_tokens(reply)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
