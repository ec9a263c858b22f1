"""The OpenAI Agents tests: the real Agents SDK against the scripted model server over HTTP.

The over-HTTP tests run ``app.py`` on both engines; a session-wide model server answers them with
:func:`steer`, which reads the ``[label]`` of each conversation and walks it through its tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer

from ..effects import overlap
from ..harness import engine_fixture
from .app import BASE_ENV

LABEL = re.compile(r"\[(\w+)\]")
SLOW = ("slow_a", "slow_b", "slow_c")


def label_of(request: ModelRequest) -> str | None:
    for message in request.messages:
        if message.role == "user" and (found := LABEL.search(message.content)):
            return found.group(1)
    return None


def assert_turn_overlaps(spans: dict[str, tuple[float, float]]) -> None:
    """The four one-step calls of a ``turn`` ran at once; the calls after the lone one waited for it."""
    steps = [spans[f"step {i}"] for i in (0, 1, 3, 4)]
    assert overlap(steps), f"the four half-second steps did not overlap: {spans}"
    assert min(spans["step 3"][0], spans["step 4"][0]) >= spans["alone b"][1], spans


def steer(request: ModelRequest) -> ModelReply | None:
    """Call each offered tool once, in a fixed order (the three slow ones at once), then answer."""
    label = label_of(request)
    if label is None:
        return None  # the default policy: "Echo: <message>"
    offered = set(request.tool_names)
    done = {result.name for result in request.tool_results}
    if offered >= set(SLOW) and not done & set(SLOW):
        return ModelReply(tool_calls=tuple(ModelToolCall(name, {"label": label}) for name in SLOW))
    plan: list[tuple[str, dict[str, Any]]] = [
        ("transfer_to_specialist", {}),
        ("ask_specialist", {"input": f"[{label}] check the weather"}),
        ("get_weather", {"city": "Paris", "label": label}),
        ("book", {"label": label}),
        ("hold", {"label": label}),
        ("refuse_claim", {"label": label}),
        ("ask_approval", {"label": label}),
        ("pay", {"label": label, "amount": 250}),
        ("pay_plain", {"label": label, "amount": 250 if label.startswith("big") else 50}),
        ("ask_cashier", {"input": f"[{label}] pay the claim"}),
    ]
    for name, arguments in plan:
        if name in offered and name not in done:
            return ModelReply(tool_calls=(ModelToolCall(name, arguments),))
    results = "; ".join(result.content for result in request.tool_results if result.name in offered)
    return ModelReply(text=f"done {label}: {results}")


@pytest.fixture(scope="session")
def shared_model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        server.script.respond_with(steer)
        yield server


@pytest.fixture(scope="session")
def handler_env(shared_model_server: ScriptedModelServer) -> dict[str, str]:
    return {BASE_ENV: shared_model_server.openai_base_url, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


engine = engine_fixture("tests.openai_agents.app:app", env="handler_env")
