"""The default offline policy on normalized requests: which tools it calls, with which arguments,
and what it answers."""

from __future__ import annotations

import json
from typing import Any

from agentdur.testing import ModelMessage, ModelReply, ModelRequest, ModelTool, ModelToolCall
from agentdur.testing.model_server._policy import default_reply


def tool(name: str, description: str = "", **properties: Any) -> ModelTool:
    return ModelTool(
        name, description, {"type": "object", "properties": properties, "required": list(properties)}
    )


STRING = {"type": "string"}
WEATHER = tool("get_weather", "Get the current weather for a city.", city=STRING)
TIME = tool("get_time", "Get the local time in a timezone.", timezone=STRING)


def ask(message: str, *tools: ModelTool, **options: Any) -> ModelReply:
    return default_reply(
        ModelRequest(api="chat", model="m", messages=(ModelMessage("user", message),), tools=tools, **options)
    )


def test_calls_the_tool_named_in_the_question_with_the_city() -> None:
    assert ask("What is the weather in Paris?", TIME, WEATHER) == ModelReply(
        tool_calls=(ModelToolCall("get_weather", {"city": "Paris"}),)
    )


def test_calls_every_tool_the_question_names() -> None:
    reply = ask("What's the weather and the time in Tokyo?", WEATHER, TIME)
    assert [c.name for c in reply.tool_calls] == ["get_weather", "get_time"]
    assert reply.tool_calls[0].arguments == {"city": "Tokyo"}


def test_places_numbers_and_enums_from_the_message() -> None:
    flight = tool(
        "book_flight",
        origin=STRING,
        destination=STRING,
        passengers={"type": "integer"},
        cabin={"type": "string", "enum": ["economy", "business"]},
    )
    reply = ask("Book a flight from New York to London for 2 people in business", flight)
    assert reply.tool_calls[0].arguments == {
        "origin": "New York",
        "destination": "London",
        "passengers": 2,
        "cabin": "business",
    }


def test_matches_descriptions_when_no_name_matches() -> None:
    fx = tool(
        "fx", "Convert an amount of money between currencies.", amount={"type": "number"}, target=STRING
    )
    reply = ask("Convert 12.5 dollars into euros please, money matters", fx)
    assert reply.tool_calls[0].name == "fx" and reply.tool_calls[0].arguments["amount"] == 12.5


def test_optional_parameters_are_left_out_unless_the_message_gives_them() -> None:
    schema = {
        "type": "object",
        "properties": {"city": STRING, "days": {"type": "integer", "default": 1}},
        "required": ["city"],
    }
    forecast = ModelTool("forecast", "", schema)
    assert ask("forecast for Rome", forecast).tool_calls[0].arguments == {"city": "Rome"}
    assert ask("forecast for Rome, 5 days", forecast).tool_calls[0].arguments == {"city": "Rome", "days": 5}


def test_no_matching_tool_echoes_unless_a_tool_is_required() -> None:
    assert ask("Tell me a joke", WEATHER) == ModelReply(text="Echo: Tell me a joke")
    assert ask("Tell me a joke", WEATHER, tool_choice="required").tool_calls[0].name == "get_weather"
    forced = {"type": "function", "function": {"name": "get_time"}}
    assert (
        ask("What is the weather in Paris?", WEATHER, TIME, tool_choice=forced).tool_calls[0].name
        == "get_time"
    )
    assert ask("What is the weather in Paris?", WEATHER, tool_choice="none").tool_calls == ()


def test_answers_from_tool_results_of_the_latest_turn() -> None:
    call = ModelToolCall("get_weather", {"city": "Paris"}, "c1")
    messages = (
        ModelMessage("user", "What is the weather in Paris?"),
        ModelMessage("assistant", tool_calls=(call,)),
        ModelMessage("tool", "Sunny", tool_call_id="c1", name="get_weather"),
    )
    request = ModelRequest(api="responses", model="m", messages=messages, tools=(WEATHER,))
    assert default_reply(request) == ModelReply(text="Based on get_weather: Sunny")
    again = ModelRequest(
        api="responses",
        model="m",
        messages=(*messages, ModelMessage("user", "And the weather in Oslo?")),
        tools=(WEATHER,),
    )
    assert default_reply(again).tool_calls == (ModelToolCall("get_weather", {"city": "Oslo"}),)


def test_handoff_results_are_routing_not_answers() -> None:
    messages = (
        ModelMessage("user", "Hola, in Spanish please"),
        ModelMessage("assistant", tool_calls=(ModelToolCall("transfer_to_spanish_agent", {}, "h1"),)),
        ModelMessage("tool", '{"assistant": "Spanish"}', tool_call_id="h1", name="transfer_to_spanish_agent"),
    )
    assert (
        default_reply(ModelRequest(api="chat", model="m", messages=messages)).text
        == "Echo: Hola, in Spanish please"
    )


def test_json_answers_fill_the_schema_or_wrap_the_text() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"anyOf": [STRING, {"type": "null"}]},
            "tags": {"type": "array", "items": STRING},
            "when": {"$ref": "#/$defs/When"},
        },
        "$defs": {"When": {"type": "object", "properties": {"date": STRING, "hour": {"type": "integer"}}}},
    }
    reply = ask("Meet in Vienna on 2025-03-14 at 9", output_schema=schema, json_mode=True)
    assert json.loads(reply.text or "") == {
        "city": "Vienna",
        "tags": ["Meet in Vienna on 2025-03-14 at 9"],
        "when": {"date": "2025-03-14", "hour": 9},
    }
    system = ModelMessage("system", "Respond in JSON.")
    request = ModelRequest(api="chat", model="m", messages=(system, ModelMessage("user", "hi")))
    assert json.loads(default_reply(request).text or "") == {"answer": "Echo: hi"}


def test_same_request_same_reply() -> None:
    assert ask("Weather in Lima and Quito, 3 days", WEATHER, TIME) == ask(
        "Weather in Lima and Quito, 3 days", WEATHER, TIME
    )


def test_adk_transfer_picks_the_named_agent_and_context_is_not_a_turn() -> None:
    transfer = tool(
        "transfer_to_agent",
        "Transfer the query to another agent that can answer it.",
        agent_name={"type": "string", "enum": ["billing_agent", "spanish_agent"]},
    )
    assert ask("Please answer in Spanish", transfer).tool_calls == (
        ModelToolCall("transfer_to_agent", {"agent_name": "spanish_agent"}),
    )
    back = tool("transfer_to_agent", "Transfer the query.", agent_name={"type": "string", "enum": ["triage"]})
    messages = (
        ModelMessage("user", "Please answer in Spanish"),
        ModelMessage("user", "For context: [triage] called tool `transfer_to_agent` (agent triage)"),
    )
    request = ModelRequest(api="gemini", model="m", messages=messages, tools=(back,))
    assert default_reply(request) == ModelReply(text="Echo: Please answer in Spanish")


def test_tools_named_in_the_message_win_over_handoffs_and_descriptions() -> None:
    handoff = ModelTool("transfer_to_weather_agent", "Handoff to the weather agent.", {})
    noisy = tool("lookup", "Answers any weather question in Paris.", query=STRING)
    assert [c.name for c in ask("What is the weather in Paris?", handoff, noisy, WEATHER).tool_calls] == [
        "get_weather"
    ]
    assert [c.name for c in ask("What is the weather in Paris?", noisy, handoff).tool_calls] == [
        "transfer_to_weather_agent"
    ]
