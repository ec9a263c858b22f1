"""Gemini (``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent``).

Accepts both the camelCase fields google-genai sends and snake_case. Function calls are answered
without an ``id`` (as the Gemini Developer API does) unless the script gave one.
"""

from __future__ import annotations

import json
from typing import Any

from ._types import ModelMessage, ModelReply, ModelRequest, ModelTool, ModelToolCall
from ._wire import prompt_tokens, reply_tokens, text_pieces

JSON_MIME = "application/json"


def field(mapping: Any, camel: str, snake: str) -> Any:
    """``mapping[camel]`` or ``mapping[snake]`` (None when neither or when not a dict)."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(camel, mapping.get(snake))


def parse_gemini(body: dict[str, Any], model: str, *, stream: bool) -> ModelRequest:
    """A generateContent body for ``model`` as a :class:`ModelRequest`."""
    messages: list[ModelMessage] = []
    system = field(body, "systemInstruction", "system_instruction")
    if system:
        messages.append(ModelMessage("system", _parts_text(field(system, "parts", "parts") or [])))
    for content in body.get("contents") or []:
        messages.extend(_parse_content(content))
    tools: list[ModelTool] = []
    for tool in body.get("tools") or []:
        for declaration in field(tool, "functionDeclarations", "function_declarations") or []:
            parameters = field(declaration, "parametersJsonSchema", "parameters_json_schema")
            tools.append(
                ModelTool(
                    str(declaration.get("name")),
                    declaration.get("description") or "",
                    parameters or declaration.get("parameters") or {},
                )
            )
    config = field(body, "generationConfig", "generation_config") or {}
    schema = field(config, "responseJsonSchema", "response_json_schema") or field(
        config, "responseSchema", "response_schema"
    )
    tool_config = field(body, "toolConfig", "tool_config")
    return ModelRequest(
        api="gemini",
        model=model,
        messages=tuple(messages),
        tools=tuple(tools),
        tool_choice=field(tool_config, "functionCallingConfig", "function_calling_config"),
        stream=stream,
        output_schema=schema if isinstance(schema, dict) else None,
        json_mode=field(config, "responseMimeType", "response_mime_type") == JSON_MIME,
        body=body,
    )


def _parse_content(content: dict[str, Any]) -> list[ModelMessage]:
    parts = content.get("parts") or []
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")]
    calls = tuple(
        ModelToolCall(str(c.get("name")), c.get("args") or {}, c.get("id"))
        for c in (field(p, "functionCall", "function_call") for p in parts)
        if c
    )
    results = [
        ModelMessage("tool", _result_text(r.get("response")), tool_call_id=r.get("id"), name=r.get("name"))
        for r in (field(p, "functionResponse", "function_response") for p in parts)
        if r
    ]
    messages: list[ModelMessage] = []
    if content.get("role") == "model":
        messages.append(ModelMessage("assistant", "\n".join(texts), tool_calls=calls))
    elif texts or not results:
        messages.append(ModelMessage("user", "\n".join(texts)))
    return messages + results


def _parts_text(parts: list[dict[str, Any]]) -> str:
    return "\n".join(p["text"] for p in parts if isinstance(p.get("text"), str))


def _result_text(response: Any) -> str:
    """A function response as text (JSON unless it is a string)."""
    return response if isinstance(response, str) else json.dumps(response)


def gemini_response(request: ModelRequest, reply: ModelReply) -> dict[str, Any]:
    """A ``GenerateContentResponse`` answering ``request`` with ``reply``."""
    return _chunk(request, reply, _parts(reply, reply.text), last=True)


def gemini_stream(request: ModelRequest, reply: ModelReply) -> list[dict[str, Any]]:
    """The chunks of a streamed answer: text deltas, then the function calls, the last one finished."""
    groups: list[list[dict[str, Any]]] = (
        [[{"text": piece}] for piece in text_pieces(reply.text)] if reply.text else []
    )
    if reply.tool_calls:
        groups.append(_parts(reply, None))
    groups = groups or [[{"text": reply.text or ""}]]
    return [_chunk(request, reply, parts, last=i == len(groups) - 1) for i, parts in enumerate(groups)]


def _parts(reply: ModelReply, text: str | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": text}] if text is not None else []
    for call in reply.tool_calls:
        function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
        if call.id:
            function_call["id"] = call.id
        parts.append({"functionCall": function_call})
    return parts or [{"text": ""}]


def _chunk(
    request: ModelRequest, reply: ModelReply, parts: list[dict[str, Any]], *, last: bool
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": request.model}
    if last:
        candidate["finishReason"] = "STOP"
        prompt, completion = prompt_tokens(request), reply_tokens(reply)
        chunk["usageMetadata"] = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": completion,
            "totalTokenCount": prompt + completion,
        }
    chunk["responseId"] = request.fingerprint()[:24]
    return chunk
