"""agentdur.integrations.litellm on the embedded engine, through litellm's real code paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import litellm
import pytest

import agentdur
from agentdur.integrations.litellm import acompletion, completion, response_from_json
from agentdur.testing import ScriptedModelServer

from ..engine.helpers import wait_until

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

svc = agentdur.Service("Llm")
base_url: dict[str, str] = {}
seen: list[Any] = []


def llm_args() -> dict[str, Any]:
    return {"model": "openai/gpt-4o", "api_base": base_url["url"], "api_key": "test"}


@svc.handler()
async def three_calls(ctx: agentdur.Context, topic: str) -> list[str]:
    answers = []
    for i in range(3):
        response = await acompletion(
            messages=[{"role": "user", "content": f"{topic} part {i}"}], name=f"call {i}", **llm_args()
        )
        seen.append(response)
        answers.append(response.choices[0].message.content)
        if i == 1:
            aid, gate = ctx.awakeable()
            await ctx.run_typed("publish", base_url.__setitem__, agentdur.RunOptions(), "gate", aid)
            await gate
    return answers


@svc.handler()
async def with_tools(ctx: agentdur.Context) -> dict[str, Any]:
    response = await acompletion(
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        **llm_args(),
    )
    seen.append(response)
    call = response.choices[0].message.tool_calls[0]
    return {"tool": call.function.name, "arguments": call.function.arguments, "model": response.model}


@svc.handler()
async def streamed(ctx: agentdur.Context) -> str:
    response = await acompletion(
        messages=[{"role": "user", "content": "tell me a story"}], stream=True, **llm_args()
    )
    seen.append(response)
    return str(response.choices[0].message.content)


@svc.handler()
async def resilient(ctx: agentdur.Context) -> str:
    options: agentdur.RunOptions[Any] = agentdur.RunOptions(max_attempts=3)
    response = await acompletion(
        messages=[{"role": "user", "content": "hello"}], run_options=options, **llm_args()
    )
    return str(response.choices[0].message.content)


@svc.handler()
async def without_key(ctx: agentdur.Context) -> str:
    response = await acompletion(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}], api_base=base_url["url"]
    )
    return str(response.choices[0].message.content)


@svc.handler()
async def sync_in_thread(ctx: agentdur.Context) -> str:
    import asyncio

    def agent_code() -> str:
        response = completion(messages=[{"role": "user", "content": "sync hello"}], **llm_args())
        return str(response.choices[0].message.content)

    return await asyncio.to_thread(agent_code)


@svc.handler()
async def sync_on_loop(ctx: agentdur.Context) -> str:
    return str(completion(messages=[{"role": "user", "content": "x"}], **llm_args()))


APP = agentdur.App([svc])


@pytest.fixture(autouse=True)
def point_at(model_server: ScriptedModelServer) -> None:
    base_url.clear()
    base_url["url"] = model_server.openai_base_url
    seen.clear()


async def test_replay_returns_equal_responses_without_requests(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    db = tmp_path / "l.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Llm", "three_calls", "durability")
        await wait_until(lambda: "gate" in base_url)
        first_two = list(seen)
    assert model_server.count() == 2
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.resolve_awakeable(base_url["gate"], None)
        result = await engine.attach(inv)
    assert model_server.count() == 3  # the two journaled calls were replayed, not sent again
    assert len(result) == 3
    replayed = seen[2:4]
    for original, again in zip(first_two, replayed, strict=True):
        assert isinstance(again, litellm.ModelResponse)
        assert again.choices[0].message.content == original.choices[0].message.content
        assert again.usage == original.usage and again.model == original.model and again.id == original.id


async def test_tool_calls_survive_the_journal(tmp_path: Path, model_server: ScriptedModelServer) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        inv = await engine.send("Llm", "with_tools")
        result = await engine.attach(inv)
        entry = (await engine.invocation(inv)).journal[0]
    assert result["tool"] == "get_weather" and '"Paris"' in result["arguments"]
    rebuilt = response_from_json(entry.value)
    original = seen[0]
    assert rebuilt.choices[0].message.tool_calls[0].id == original.choices[0].message.tool_calls[0].id
    assert rebuilt.choices[0].message.tool_calls[0].function.arguments == result["arguments"]
    assert entry.name == "LLM call: openai/gpt-4o"


async def test_stream_is_consumed_in_the_step_and_journaled_whole(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
        text = await engine.call("Llm", "streamed")
    assert text and isinstance(seen[0], litellm.ModelResponse)
    request = model_server.requests[0].request
    assert request is not None and request.stream is True


async def test_rate_limit_then_success_and_auth_error_is_terminal(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "f.db") as engine:
        model_server.faults.fail_next(1, status=429, retry_after=1)
        assert await engine.call("Llm", "resilient")
        assert model_server.count() == 2
        model_server.faults.fail_next(1, status=401)
        with pytest.raises(agentdur.TerminalError, match="AuthenticationError") as caught:
            await engine.call("Llm", "resilient")
        assert caught.value.status_code == 401
        assert model_server.count() == 3  # no retry after a 401
        model_server.faults.fail_next(3, status=503)
        with pytest.raises(agentdur.TerminalError, match="after 3 attempt"):
            await engine.call("Llm", "resilient")


async def test_a_missing_api_key_fails_at_once_without_a_retry(
    tmp_path: Path, model_server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with agentdur.Engine(APP, path=tmp_path / "k.db") as engine:
        inv = await engine.send("Llm", "without_key")
        with pytest.raises(agentdur.TerminalError, match="credentials are missing or refused") as caught:
            await engine.attach(inv)
        info = await engine.invocation(inv)
    assert caught.value.status_code == 401 and "attempt" not in caught.value.message  # not retried
    assert (info.outcome, info.attempts) == ("failed", 0)  # nor retried by the engine
    assert model_server.count() == 0


async def test_sync_completion_in_a_worker_thread_and_refused_on_the_loop(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "y.db") as engine:
        assert await engine.call("Llm", "sync_in_thread")
        inv = await engine.send("Llm", "sync_on_loop")

        async def failed() -> bool:
            return (await engine.invocation(inv)).last_error is not None

        await wait_until(failed)
        last_error = (await engine.invocation(inv)).last_error
        assert last_error is not None and "cannot run on the handler's event loop" in last_error


def test_outside_a_handler_is_a_clear_error() -> None:
    import asyncio

    with pytest.raises(agentdur.UserError, match="no agentdur handler is running"):
        asyncio.run(acompletion(model="openai/gpt-4o", messages=[]))
