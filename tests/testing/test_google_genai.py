"""google-genai (the Gemini API client) against the scripted model server."""

from __future__ import annotations

import json
from typing import Any

import google.genai as genai
import google.genai.errors as errors
import google.genai.types as types
import pytest

from agentdur.testing import ScriptedModelServer

from .helpers import WEATHER_QUESTION, weather

MODEL = "gemini-2.5-flash"


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return weather(city)


def client(server: ScriptedModelServer) -> Any:
    """A client pointed at ``server``; keep a reference while using it (it closes its session when collected)."""
    return genai.Client(api_key="test", http_options=types.HttpOptions(base_url=server.gemini_base_url))


def manual_tools() -> Any:
    return types.GenerateContentConfig(
        tools=[get_weather], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )


async def test_function_call_round_trip(model_server: ScriptedModelServer) -> None:
    gemini = client(model_server)
    models = gemini.aio.models
    first = await models.generate_content(model=MODEL, contents=WEATHER_QUESTION, config=manual_tools())
    (call,) = first.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    assert first.candidates[0].finish_reason == types.FinishReason.STOP
    assert first.usage_metadata.total_token_count > 0

    contents = [
        types.Content(role="user", parts=[types.Part(text=WEATHER_QUESTION)]),
        first.candidates[0].content,
        types.Content(
            role="user",
            parts=[
                types.Part.from_function_response(name="get_weather", response={"result": weather("Paris")})
            ],
        ),
    ]
    second = await models.generate_content(model=MODEL, contents=contents, config=manual_tools())
    assert second.text == "Based on get_weather: Sunny, 22C in Paris"
    assert model_server.count(api="gemini", model=MODEL) == 2
    assert model_server.requests[0].path == f"/v1beta/models/{MODEL}:generateContent"


async def test_stream_sends_text_in_chunks(model_server: ScriptedModelServer) -> None:
    model_server.script.reply("Streaming from the scripted Gemini")
    gemini = client(model_server)
    chunks = [c async for c in await gemini.aio.models.generate_content_stream(model=MODEL, contents="hi")]
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == "Streaming from the scripted Gemini"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert model_server.model_requests()[0].stream


async def test_json_response_schema(model_server: ScriptedModelServer) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_schema={
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
            "required": ["city", "days"],
        },
    )
    gemini = client(model_server)
    reply = await gemini.aio.models.generate_content(
        model=MODEL, contents="Plan 3 days in Rome", config=config
    )
    assert json.loads(reply.text) == {"city": "Rome", "days": 3}


async def test_same_request_same_reply(model_server: ScriptedModelServer) -> None:
    gemini = client(model_server)
    models = gemini.aio.models
    one = await models.generate_content(model=MODEL, contents=WEATHER_QUESTION, config=manual_tools())
    two = await models.generate_content(model=MODEL, contents=WEATHER_QUESTION, config=manual_tools())
    assert one.model_dump(exclude={"sdk_http_response"}) == two.model_dump(exclude={"sdk_http_response"})


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, "ClientError"), (401, "ClientError"), (500, "ServerError"), (503, "ServerError")],
)
async def test_faults_are_genai_api_errors(
    model_server: ScriptedModelServer, status: int, error: str
) -> None:
    model_server.faults.fail_next(1, status=status)
    gemini = client(model_server)
    with pytest.raises(getattr(errors, error)) as raised:
        await gemini.aio.models.generate_content(model=MODEL, contents="hi")
    assert raised.value.code == status
    assert model_server.requests[0].error is not None


async def test_env_points_genai_at_the_server(model_server_env: ScriptedModelServer) -> None:
    gemini = genai.Client()
    reply = await gemini.aio.models.generate_content(model=MODEL, contents="hi")
    assert reply.text == "Echo: hi"
    assert model_server_env.count(api="gemini") == 1
