"""What a journaled model call shows an operator: its model, token counts and response text.

The integrations journal each model request as one ``run`` step named ``LLM call: {model}`` whose
value is the provider's response as JSON. Three shapes occur: an OpenAI Agents ``ModelResponse``
(``output`` items and ``usage``), a chat completion (litellm: ``choices`` and ``usage``), and a list
of ADK ``LlmResponse`` (``content.parts`` and ``usage_metadata``). This module reads whichever it
finds; a step whose value has none of them is not a model call.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

MODEL_STEP_PREFIX = "LLM call: "
# The longest response text shown per call; the full value stays in the journal entry.
MAX_TEXT = 20_000


class ModelCallView(BaseModel):
    """A model call's summary: ``None`` fields are ones the response did not carry."""

    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    text: str = ""
    tool_calls: list[str] = []


def model_call_of(name: str, value: Any) -> ModelCallView | None:
    """The model call journaled as step ``name`` with ``value``, or ``None`` for any other step."""
    named = name.removeprefix(MODEL_STEP_PREFIX) if name.startswith(MODEL_STEP_PREFIX) else None
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        view = _adk(value)
    elif isinstance(value, dict) and isinstance(value.get("choices"), list):
        view = _chat(value)
    elif isinstance(value, dict) and isinstance(value.get("output"), list) and "usage" in value:
        view = _responses(value)
    else:
        view = None
    if view is None:
        return None if named is None else ModelCallView(model=named)
    if named is not None and view.model is None:
        view.model = named
    view.text = view.text[:MAX_TEXT]
    return view


def _int(data: Any, *path: str) -> int | None:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data if isinstance(data, int) and not isinstance(data, bool) else None


def _chat(value: dict[str, Any]) -> ModelCallView:
    texts: list[str] = []
    tools: list[str] = []
    for choice in value["choices"]:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        if isinstance(message.get("content"), str):
            texts.append(message["content"])
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                tools.append(f"{function.get('name')}({function.get('arguments') or ''})")
    usage = value.get("usage")
    return ModelCallView(
        model=value.get("model") if isinstance(value.get("model"), str) else None,
        input_tokens=_int(usage, "prompt_tokens"),
        output_tokens=_int(usage, "completion_tokens"),
        cached_tokens=_int(usage, "prompt_tokens_details", "cached_tokens"),
        text="\n".join(texts),
        tool_calls=tools,
    )


def _responses(value: dict[str, Any]) -> ModelCallView:
    texts: list[str] = []
    tools: list[str] = []
    for item in value["output"]:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            tools.append(f"{item.get('name')}({item.get('arguments') or ''})")
        for part in item.get("content") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    usage = value.get("usage")
    return ModelCallView(
        input_tokens=_int(usage, "input_tokens"),
        output_tokens=_int(usage, "output_tokens"),
        cached_tokens=_int(usage, "input_tokens_details", "cached_tokens"),
        text="\n".join(texts),
        tool_calls=tools,
    )


def _adk(value: list[dict[str, Any]]) -> ModelCallView | None:
    if not any("content" in item or "usage_metadata" in item for item in value):
        return None
    texts: list[str] = []
    tools: list[str] = []
    inputs = outputs = cached = None
    model = None
    for item in value:
        content = item.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts or []:
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            call = part.get("function_call")
            if isinstance(call, dict):
                tools.append(f"{call.get('name')}({call.get('args')})")
        usage = item.get("usage_metadata")
        inputs = _int(usage, "prompt_token_count") or inputs
        outputs = _int(usage, "candidates_token_count") or outputs
        cached = _int(usage, "cached_content_token_count") or cached
        model = item.get("model_version") if isinstance(item.get("model_version"), str) else model
    return ModelCallView(
        model=model,
        input_tokens=inputs,
        output_tokens=outputs,
        cached_tokens=cached,
        text="".join(texts),
        tool_calls=tools,
    )


def annotate(journal: list[dict[str, Any]]) -> None:
    """Add ``model_call`` (a summary, or ``None``) to each dumped ``run`` entry of a journal."""
    for entry in journal:
        view = model_call_of(entry["name"], entry.get("value")) if entry.get("kind") == "run" else None
        entry["model_call"] = None if view is None else view.model_dump(mode="json")
