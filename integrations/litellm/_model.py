"""Durable litellm completions: one journaled step per call, the response journaled as JSON."""

from __future__ import annotations

import inspect
from typing import Any

import litellm
from litellm import ModelResponse

from agentdur import RunOptions, UserError

from ..kit import (
    ModelFacts,
    ModelInfo,
    call_from_worker_thread,
    journaled_model_call,
    publish_model_start,
    publish_text_delta,
    publish_tool_call,
)

__all__ = ["acompletion", "completion", "response_from_json", "response_to_json"]


def response_to_json(response: ModelResponse) -> dict[str, Any]:
    """The journaled form of a response: its JSON fields (content, tool calls, usage, model, ...)."""
    data: dict[str, Any] = response.model_dump(mode="json", exclude_none=False)
    return data


def response_from_json(data: dict[str, Any]) -> ModelResponse:
    """An equal :class:`litellm.ModelResponse` rebuilt from its journaled form."""
    return ModelResponse(**data)


def response_facts(data: dict[str, Any]) -> ModelFacts:
    """The model, id, token counts and finish reasons of a journaled response."""
    usage = data.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    return ModelFacts(
        response_model=data.get("model") or None,
        response_id=data.get("id") or None,
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0),
        finish_reasons=[str(c["finish_reason"]) for c in data.get("choices") or [] if c.get("finish_reason")],
    )


def model_info(model: str, arguments: dict[str, Any]) -> ModelInfo:
    """The GenAI description of a call to ``model`` (the provider as litellm routes it)."""
    try:
        _, provider, _, _ = litellm.get_llm_provider(
            model,
            custom_llm_provider=arguments.get("custom_llm_provider"),
            api_base=arguments.get("api_base"),
        )
    except Exception:  # a model litellm cannot route fails in the call itself, with its own message
        provider = None
    return ModelInfo(provider=provider, request_model=model, facts=response_facts)


async def acompletion(
    model: str,
    messages: list[Any] | None = None,
    *,
    name: str | None = None,
    run_options: RunOptions[Any] | None = None,
    **kwargs: Any,
) -> ModelResponse:
    """``litellm.acompletion`` as one journaled step; takes litellm's arguments unchanged.

    Args:
        model: passed to ``litellm.acompletion`` as it is.
        messages: passed to ``litellm.acompletion`` as they are.
        **kwargs: every other ``litellm.acompletion`` argument, passed as it is.
        name: the step's name in the journal (default ``"LLM call: <model>"``).
        run_options: retries of the call: ``max_attempts`` (default 5), the backoff intervals, and
            ``max_duration``. A ``retry-after`` from the provider is honoured; an authentication or
            bad-request error, or a missing API key, fails the step terminally at once.

    With ``stream=True`` the stream is consumed inside the step and the whole response is journaled
    and returned (a ``ModelResponse``, not a stream): replaying a stream chunk by chunk would add
    nothing but cost. Meanwhile its text deltas and tool calls are published live
    (``ctx.publish``: ``model.start``, ``text.delta``, ``tool.call``) for whoever watches the
    invocation's stream; a replayed call publishes nothing.

    Raises:
        UserError: called outside an agentdur handler.
        TerminalError: the call failed terminally (the message names the litellm error).
    """
    arguments = dict(kwargs, model=model, messages=list(messages or []))
    # Retries are the step's (they honour retry-after and stop on terminal errors); litellm's own
    # client retries would multiply them.
    arguments.setdefault("max_retries", 0)

    async def call() -> ModelResponse:
        response = await litellm.acompletion(**arguments)
        if arguments.get("stream"):
            return await _consume_stream(model, response, arguments["messages"])
        assert isinstance(response, ModelResponse)
        return response

    return await journaled_model_call(
        name or f"LLM call: {model}",
        call,
        dump=response_to_json,
        load=response_from_json,
        run_options=run_options,
        info=model_info(model, arguments),
    )


async def _consume_stream(model: str, stream: Any, messages: list[Any]) -> ModelResponse:
    """Read a streamed completion, publishing its deltas live; the whole response."""
    publish_model_start(model)
    chunks = []
    async for chunk in stream:
        chunks.append(chunk)
        for choice in chunk.choices:
            publish_text_delta(getattr(choice.delta, "content", None))
    built = litellm.stream_chunk_builder(chunks, messages=messages)
    if not isinstance(built, ModelResponse):
        raise UserError(f"litellm could not assemble the streamed response of {model!r}")
    for choice in built.choices:
        for call in getattr(getattr(choice, "message", None), "tool_calls", None) or []:
            publish_tool_call(call.function.name, call.function.arguments, call.id)
    return built


def completion(
    model: str,
    messages: list[Any] | None = None,
    *,
    name: str | None = None,
    run_options: RunOptions[Any] | None = None,
    **kwargs: Any,
) -> ModelResponse:
    """The blocking form of :func:`acompletion`, for sync code a handler runs in a worker thread
    (``await asyncio.to_thread(sync_agent_code)``); it blocks that thread, never the event loop.

    Raises:
        UserError: called on the event loop (use ``await acompletion(...)`` there) or outside a
            handler.
    """
    return call_from_worker_thread(
        lambda: acompletion(model, messages, name=name, run_options=run_options, **kwargs), "completion()"
    )


acompletion.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        *[p for p in inspect.signature(litellm.acompletion).parameters.values() if p.kind != p.VAR_KEYWORD],
        inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"),
        inspect.Parameter(
            "run_options", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="RunOptions | None"
        ),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
    ],
    return_annotation=ModelResponse,
)
