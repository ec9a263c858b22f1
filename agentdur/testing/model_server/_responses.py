"""OpenAI Responses (``POST /v1/responses``): parse a request, render a response or its event stream."""

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

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def parse_responses(body: dict[str, Any]) -> ModelRequest:
    """A Responses API body as a :class:`ModelRequest`."""
    messages: list[ModelMessage] = []
    if body.get("instructions"):
        messages.append(ModelMessage("system", text_of(body["instructions"])))
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    names: dict[str, str] = {}
    for item in items or []:
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message" and item.get("role") in ROLES:
            messages.append(ModelMessage(ROLES[item["role"]], text_of(item.get("content"))))  # type: ignore[arg-type]
        elif kind == "function_call":
            call = ModelToolCall(
                str(item.get("name")), parse_arguments(item.get("arguments")), item.get("call_id")
            )
            names[call.id or ""] = call.name
            messages.append(ModelMessage("assistant", tool_calls=(call,)))
        elif kind == "function_call_output":
            call = item.get("call_id")
            messages.append(
                ModelMessage(
                    "tool", text_of(item.get("output")), tool_call_id=call, name=names.get(call or "")
                )
            )
    tools = tuple(
        ModelTool(str(t.get("name")), t.get("description") or "", t.get("parameters") or {})
        for t in body.get("tools") or []
        if t.get("type") == "function"
    )
    text_format = (body.get("text") or {}).get("format") or {}
    schema = text_format.get("schema")
    return ModelRequest(
        api="responses",
        model=str(body.get("model") or ""),
        messages=tuple(messages),
        tools=tools,
        tool_choice=body.get("tool_choice"),
        stream=bool(body.get("stream")),
        output_schema=schema if isinstance(schema, dict) else None,
        json_mode=text_format.get("type") in ("json_schema", "json_object"),
        body=body,
    )


def response_object(request: ModelRequest, reply: ModelReply, *, status: str = "completed") -> dict[str, Any]:
    """A ``response`` object; ``status="in_progress"`` gives the empty one a stream starts with."""
    done = status == "completed"
    body = request.body
    prompt, completion = prompt_tokens(request), reply_tokens(reply)
    return {
        "id": f"resp_{request.fingerprint()[:32]}",
        "object": "response",
        "created_at": CREATED,
        "completed_at": CREATED if done else None,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": body.get("metadata") or {},
        "model": request.model,
        "output": output_items(request, reply) if done else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": bool(body.get("store", False)),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }
        if done
        else None,
        "user": None,
    }


def output_items(request: ModelRequest, reply: ModelReply) -> list[dict[str, Any]]:
    """The answer's output items: a ``message`` for the text, a ``function_call`` per tool call."""
    fingerprint = request.fingerprint()
    items: list[dict[str, Any]] = []
    if reply.text is not None:
        items.append(_message(fingerprint, reply.text))
    for index, call in enumerate(reply.tool_calls):
        items.append(_function_call(fingerprint, index, call, json.dumps(call.arguments)))
    return items


def response_stream(request: ModelRequest, reply: ModelReply) -> list[bytes]:
    """The server-sent events of a streamed response, in the order the OpenAI API sends them."""
    events: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append(sse({"type": kind, "sequence_number": len(events), **fields}, event=kind))

    started = response_object(request, reply, status="in_progress")
    emit("response.created", response=started)
    emit("response.in_progress", response=started)
    fingerprint = request.fingerprint()
    first_call = 1 if reply.text is not None else 0  # the message item, when there is text, comes first
    for index, item in enumerate(output_items(request, reply)):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            emit("response.content_part.added", **ids, part={**item["content"][0], "text": ""})
            for piece in text_pieces(text):
                emit("response.output_text.delta", **ids, delta=piece, logprobs=[])
            emit("response.output_text.done", **ids, text=text, logprobs=[])
            emit("response.content_part.done", **ids, part=item["content"][0])
        else:
            pending = _function_call(
                fingerprint,
                index - first_call,
                reply.tool_calls[index - first_call],
                "",
                status="in_progress",
            )
            emit("response.output_item.added", output_index=index, item=pending)
            for piece in argument_pieces(item["arguments"]):
                emit(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                name=item["name"],
                arguments=item["arguments"],
            )
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=response_object(request, reply))
    return events


def _message(fingerprint: str, text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "type": "message",
        "id": f"msg_{fingerprint[:32]}",
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }


def _function_call(
    fingerprint: str, index: int, call: ModelToolCall, arguments: str, *, status: str = "completed"
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{fingerprint[:24]}_{index}",
        "call_id": call_id(fingerprint, index, call.id),
        "name": call.name,
        "arguments": arguments,
        "status": status,
    }
