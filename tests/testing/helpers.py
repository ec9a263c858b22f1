"""Tools and schemas shared by the SDK tests."""

from __future__ import annotations

from typing import Any

WEATHER_QUESTION = "What is the weather in Paris?"
WEATHER_ANSWER = "Based on get_weather: Sunny, 22C in Paris"
TOOLS_CHAT: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Get the current local time in a timezone.",
            "parameters": {
                "type": "object",
                "properties": {"timezone": {"type": "string"}},
                "required": ["timezone"],
            },
        },
    },
]
TOOLS_RESPONSES: list[Any] = [{"type": "function", **tool["function"]} for tool in TOOLS_CHAT]


def weather(city: str) -> str:
    """The fake weather report every tool in these tests returns."""
    return f"Sunny, 22C in {city}"
