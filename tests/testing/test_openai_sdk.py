"""The real openai SDK against the scripted model server: Chat Completions and Responses, both
streamed and not, tool calls round-tripping, and every fault as the SDK's own exception."""

from __future__ import annotations

import json
import time
from typing import Any

import openai
import pytest

from agentdur.testing import ScriptedModelServer

from .helpers import TOOLS_CHAT, TOOLS_RESPONSES, WEATHER_ANSWER, WEATHER_QUESTION, weather


def client(server: ScriptedModelServer, **options: Any) -> Any:
    return openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test", **options)


async def test_chat_default_policy_calls_the_weather_tool_then_answers_from_its_result(
    model_server: ScriptedModelServer,
) -> None:
    chat = client(model_server).chat.completions
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = await chat.create(model="gpt-4o", messages=messages, tools=TOOLS_CHAT)
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert call.id.startswith("call_")
    assert first.model == "gpt-4o" and first.usage.total_tokens > 0

    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": weather("Paris")})
    second = await chat.create(model="gpt-4o", messages=messages, tools=TOOLS_CHAT)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == WEATHER_ANSWER

    assert model_server.count(api="chat") == 2
    result = model_server.model_requests()[1].tool_results[0]
    assert (result.name, result.tool_call_id, result.content) == ("get_weather", call.id, weather("Paris"))


async def test_chat_stream_sends_content_and_tool_call_deltas_and_usage(
    model_server: ScriptedModelServer,
) -> None:
    model_server.script.reply("Hello from the script, streamed in pieces").tool_calls(
        ("get_weather", {"city": "Paris"}), ("get_time", {"timezone": "Europe/Paris"})
    )
    chat = client(model_server).chat.completions
    stream = await chat.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the script, streamed in pieces"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0

    stream = await chat.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], tools=TOOLS_CHAT, stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += delta.id or ""
            entry["name"] += delta.function.name or ""
            entry["arguments"] += delta.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "tool_calls"
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"timezone": "Europe/Paris"}),
    ]
    assert all(c["id"] for c in calls.values())


async def test_responses_round_trip_a_tool_call(model_server: ScriptedModelServer) -> None:
    responses = client(model_server).responses
    first = await responses.create(model="gpt-4o", input=WEATHER_QUESTION, tools=TOOLS_RESPONSES)
    assert first.status == "completed" and first.id.startswith("resp_")
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}

    follow_up: list[Any] = [
        {"role": "user", "content": WEATHER_QUESTION},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": weather("Paris")},
    ]
    second = await responses.create(model="gpt-4o", input=follow_up, tools=TOOLS_RESPONSES)
    assert second.output_text == WEATHER_ANSWER
    assert second.usage is not None and second.usage.output_tokens > 0
    assert model_server.count(api="responses", model="gpt-4o") == 2


async def test_responses_stream_event_sequence(model_server: ScriptedModelServer) -> None:
    model_server.script.reply("Streaming text answer").tool_call("get_weather", {"city": "Oslo"})
    responses = client(model_server).responses
    async with responses.stream(model="gpt-4o", input="hi") as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") >= 2
    assert final.output_text == "Streaming text answer"

    stream = await responses.create(model="gpt-4o", input="hi", tools=TOOLS_RESPONSES, stream=True)
    events = [event async for event in stream]
    kinds = [event.type for event in events]
    assert "response.function_call_arguments.delta" in kinds
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"city": "Oslo"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.output[0].name == "get_weather"


async def test_the_same_request_gets_the_same_reply(model_server: ScriptedModelServer) -> None:
    chat = client(model_server).chat.completions
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = await chat.create(model="gpt-4o", messages=messages, tools=TOOLS_CHAT)
    second = await chat.create(model="gpt-4o", messages=messages, tools=TOOLS_CHAT)
    assert first.model_dump() == second.model_dump()
    responses = client(model_server).responses
    one = await responses.create(model="gpt-4o", input="Summarize the news")
    two = await responses.create(model="gpt-4o", input="Summarize the news")
    assert one.model_dump() == two.model_dump()
    assert one.output_text == "Echo: Summarize the news"


async def test_rate_limit_is_a_rate_limit_error_with_retry_after(model_server: ScriptedModelServer) -> None:
    model_server.faults.fail_next(1, status=429, retry_after=1)
    with pytest.raises(openai.RateLimitError) as raised:
        await client(model_server, max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.response.headers["retry-after"] == "1"
    assert raised.value.code == "rate_limit_exceeded"
    assert model_server.requests[-1].error is not None and model_server.requests[-1].status == 429


async def test_the_sdk_honours_retry_after_then_succeeds(model_server: ScriptedModelServer) -> None:
    model_server.faults.fail_next(1, status=429, retry_after=1)
    started = time.monotonic()
    reply = await client(model_server, max_retries=1).responses.create(model="gpt-4o", input="hi")
    assert time.monotonic() - started >= 1.0
    assert reply.output_text == "Echo: hi"
    assert [r.status for r in model_server.requests] == [429, 200]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, "AuthenticationError"),
        (400, "BadRequestError"),
        (500, "InternalServerError"),
        (503, "InternalServerError"),
    ],
)
async def test_each_status_is_the_sdks_own_exception(
    model_server: ScriptedModelServer, status: int, error: str
) -> None:
    model_server.faults.fail_next(1, status=status, retry_after=None)
    with pytest.raises(getattr(openai, error)) as raised:
        await client(model_server, max_retries=0).responses.create(model="gpt-4o", input="hi")
    assert raised.value.status_code == status
    assert "retry-after" not in raised.value.response.headers


async def test_a_dropped_connection_is_a_connection_error_and_retried(
    model_server: ScriptedModelServer,
) -> None:
    model_server.faults.drop_next(1)
    with pytest.raises(openai.APIConnectionError):
        await client(model_server, max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    model_server.faults.drop_next(1)
    reply = await client(model_server, max_retries=2).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    assert [r.dropped for r in model_server.requests] == [True, True, False]


async def test_a_delay_beyond_the_client_timeout_is_a_timeout(model_server: ScriptedModelServer) -> None:
    model_server.faults.delay(1.0, n=1)
    with pytest.raises(openai.APITimeoutError):
        await client(model_server, max_retries=0, timeout=0.2).responses.create(model="gpt-4o", input="hi")
    model_server.faults.delay(0.3)
    started = time.monotonic()
    await client(model_server).responses.create(model="gpt-4o", input="hi")
    await client(model_server).responses.create(model="gpt-4o", input="hi")
    assert time.monotonic() - started >= 0.6
    assert [r.delay for r in model_server.requests] == [1.0, 0.3, 0.3]


async def test_env_points_the_sdk_at_the_server(model_server_env: ScriptedModelServer) -> None:
    reply = await openai.AsyncOpenAI().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    assert model_server_env.count(model="gpt-4o-mini") == 1
