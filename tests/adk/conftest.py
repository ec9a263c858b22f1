"""The Google ADK tests: real ADK runs against the scripted model server's Gemini API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer

from ..harness import engine_fixture
from .app import BASE_ENV

LABEL = re.compile(r"\[(\w+)\]")
PARALLEL = (("slow_a", "slow_b", "slow_c"), ("quick_a", "quick_b", "hold"))


def label_of(request: ModelRequest) -> str | None:
    for message in request.messages:
        if message.role == "user" and (found := LABEL.search(message.content)):
            return found.group(1)
    return None


def _unwrapped(content: str) -> str:
    """ADK sends a tool's result as ``{"result": value}``."""
    try:
        value = json.loads(content)
    except ValueError:
        return content
    return str(value["result"]) if isinstance(value, dict) and "result" in value else content


def steer(request: ModelRequest) -> ModelReply | None:
    """Call the offered tools in a fixed order (the parallel ones in one response), then answer."""
    label = label_of(request)
    if label is None:
        return None  # the default policy: "Echo: <message>"
    offered = set(request.tool_names)
    done = [result.name for result in request.messages if result.role == "tool"]
    for group in PARALLEL:
        if offered >= set(group) and not set(done) & set(group):
            return ModelReply(tool_calls=tuple(ModelToolCall(name, {"label": label}) for name in group))
    plan: list[tuple[str, dict[str, Any]]] = [
        ("get_weather", {"city": "Paris", "label": label}),
        ("hold", {"label": label}),
        ("pay_claim", {"label": label, "amount": 100}),
    ]
    for name, arguments in plan:
        if name in offered and name not in done:
            return ModelReply(tool_calls=(ModelToolCall(name, arguments),))
    results = "; ".join(_unwrapped(message.content) for message in request.messages if message.role == "tool")
    return ModelReply(text=f"done {label}: {results}")


@pytest.fixture(scope="session")
def shared_model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        server.script.respond_with(steer)
        yield server


@pytest.fixture(scope="session")
def handler_env(shared_model_server: ScriptedModelServer) -> dict[str, str]:
    return {BASE_ENV: shared_model_server.gemini_base_url}


engine = engine_fixture("tests.adk.app:app", env="handler_env")
