"""LiteLLM's ``openai/`` provider against the scripted model server (``api_base`` swapped)."""

from __future__ import annotations

import json
from typing import Any

import litellm
import pytest

from agentdur.testing import ScriptedModelServer

from .helpers import TOOLS_CHAT, WEATHER_ANSWER, WEATHER_QUESTION, weather


async def complete(server: ScriptedModelServer, messages: list[Any], **options: Any) -> Any:
    return await litellm.acompletion(
        model="openai/gpt-4o", api_base=server.openai_base_url, api_key="test", messages=messages, **options
    )


async def test_tool_call_round_trip_with_the_default_policy(model_server: ScriptedModelServer) -> None:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = await complete(model_server, messages, tools=TOOLS_CHAT)
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    messages.append(first.choices[0].message.model_dump())
    messages.append({"role": "tool", "tool_call_id": call.id, "content": weather("Paris")})
    second = await complete(model_server, messages, tools=TOOLS_CHAT)
    assert second.choices[0].message.content == WEATHER_ANSWER
    assert second.usage.total_tokens > 0
    assert model_server.count(api="chat", model="gpt-4o") == 2


async def test_streamed_script_reply_and_usage(model_server: ScriptedModelServer) -> None:
    model_server.script.reply("One two three four five")
    stream = await complete(
        model_server,
        [{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "One two three four five"
    assert any(getattr(c, "usage", None) and c.usage.total_tokens > 0 for c in chunks)


async def test_same_request_same_reply(model_server: ScriptedModelServer) -> None:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    one = await complete(model_server, messages, tools=TOOLS_CHAT)
    two = await complete(model_server, messages, tools=TOOLS_CHAT)
    assert one.choices[0].message.tool_calls[0].id == two.choices[0].message.tool_calls[0].id
    assert one.choices[0].message.model_dump() == two.choices[0].message.model_dump()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, "RateLimitError"),
        (401, "AuthenticationError"),
        (400, "BadRequestError"),
        (503, "ServiceUnavailableError"),
    ],
)
async def test_faults_are_litellms_exceptions(
    model_server: ScriptedModelServer, status: int, error: str
) -> None:
    model_server.faults.fail_next(5, status=status, retry_after=None)
    with pytest.raises(getattr(litellm, error)) as raised:
        await complete(model_server, [{"role": "user", "content": "hi"}], max_retries=0)
    assert raised.value.status_code == status


async def test_rate_limit_with_retry_after_is_retried(model_server: ScriptedModelServer) -> None:
    model_server.faults.fail_next(1, status=429, retry_after=1)
    reply = await complete(model_server, [{"role": "user", "content": "hi"}], max_retries=1)
    assert reply.choices[0].message.content == "Echo: hi"
    assert [r.status for r in model_server.requests] == [429, 200]
    assert model_server.requests[1].timestamp - model_server.requests[0].timestamp >= 1.0


async def test_dropped_connection_is_a_connection_error(model_server: ScriptedModelServer) -> None:
    model_server.faults.drop_next(5)
    # LiteLLM maps the openai SDK's APIConnectionError of its openai/ provider to InternalServerError.
    with pytest.raises(litellm.exceptions.InternalServerError, match="Connection error"):
        await complete(model_server, [{"role": "user", "content": "hi"}], max_retries=0)
    assert model_server.requests[0].fault == "dropped"
