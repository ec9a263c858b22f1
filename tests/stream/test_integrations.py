"""Each integration publishes its streamed output live, read over real HTTP from ``agentdur serve``.

The model answers come from the scripted model server (streamed as the real APIs stream); the served
app's handlers run LiteLLM ``stream=True``, OpenAI Agents ``DurableRunner.run_streamed`` and an ADK run
in SSE mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import agentdur
from agentdur.testing import ScriptedModelServer, ServedApp, wait_for

from .conftest import Serve
from .helpers import WITHIN, Watcher, outputs

AGENTS_APP = "tests.stream.agents_app:app"
LITELLM_APP = "tests.stream.litellm_app:app"
# Each test starts a server importing agent SDKs (tens of seconds on a busy machine), some twice.
pytestmark = pytest.mark.timeout(300)
SUNNY = "It is sunny in Paris today, enjoy the walk."


@pytest.fixture
def model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


def _env(model_server: ScriptedModelServer) -> dict[str, str]:
    return {
        "AGENTDUR_TEST_OPENAI_BASE": model_server.openai_base_url,
        "AGENTDUR_TEST_GEMINI_BASE": model_server.gemini_base_url,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


@pytest.fixture
def agents_served(serve: Serve, model_server: ScriptedModelServer) -> ServedApp:
    return serve(app=AGENTS_APP, env=_env(model_server))


@pytest.fixture
def litellm_served(serve: Serve, model_server: ScriptedModelServer) -> ServedApp:
    return serve(app=LITELLM_APP, env=_env(model_server))


def _live(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in outputs(messages) if isinstance(m, dict) and m.get("kind") == kind]


def _text(messages: list[dict[str, Any]]) -> str:
    return "".join(m["text"] for m in _live(messages, "text.delta"))


def _watch_to_end(served: ServedApp, invocation_id: str) -> list[dict[str, Any]]:
    with agentdur.Client(served.ingress_url) as client:
        messages = list(client.watch(invocation_id))
    assert messages[-1]["type"] == "end"
    return messages


def test_openai_agents_run_streamed_publishes_tool_calls_and_text_deltas(
    agents_served: ServedApp, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("get_weather", {"city": "Paris"}).reply(text=SUNNY)
    with agentdur.Client(agents_served.ingress_url) as client:
        inv_id = client.send("Streaming", "openai_agent", "How is the weather in Paris?")
        messages = _watch_to_end(agents_served, inv_id)
    assert messages[-1]["result"] == SUNNY
    [call] = _live(messages, "tool.call")
    assert call["name"] == "get_weather" and '"Paris"' in call["arguments"] and call["call_id"]
    assert len(_live(messages, "model.start")) == 2
    assert _text(messages) == SUNNY
    assert len(_live(messages, "text.delta")) > 1  # streamed in pieces, not published whole


def test_adk_sse_mode_publishes_function_calls_and_text_deltas(
    agents_served: ServedApp, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("get_weather", {"city": "Paris"}).reply(text=SUNNY)
    with agentdur.Client(agents_served.ingress_url) as client:
        inv_id = client.send("AdkStreaming", "adk_agent", "How is the weather in Paris?", key="ada")
        messages = _watch_to_end(agents_served, inv_id)
    assert messages[-1]["result"] == SUNNY
    [call] = _live(messages, "tool.call")
    assert call["name"] == "get_weather" and call["arguments"] == {"city": "Paris"}
    assert _text(messages) == SUNNY
    assert len(_live(messages, "text.delta")) > 1


def test_litellm_stream_true_publishes_text_deltas(
    litellm_served: ServedApp, model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.script.reply("alpha one two").reply("beta three four")
    release = tmp_path / "release"
    release.touch()
    with agentdur.Client(litellm_served.ingress_url) as client:
        inv_id = client.send("LiteLlmStreaming", "two_calls", {"release": str(release)})
        messages = _watch_to_end(litellm_served, inv_id)
    assert messages[-1]["result"] == ["alpha one two", "beta three four"]
    assert _text(messages) == "alpha one twobeta three four"
    steps = {m["step"] for m in messages if m["type"] == "output"}
    assert steps == {"first call", "second call"}


def _journaled(served: ServedApp, invocation_id: str, name: str) -> bool:
    info = httpx.get(f"{served.admin_url}/invocations/{invocation_id}").json()
    return any(e["name"] == name and e["status"] == "completed" for e in info["journal"])


def test_sigkill_mid_stream_resumes_with_a_marker_and_repeats_no_completed_call(
    litellm_served: ServedApp, model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.script.reply("alpha one two").reply("beta three four")
    release = tmp_path / "release"
    with agentdur.Client(litellm_served.ingress_url) as client:
        inv_id = client.send("LiteLlmStreaming", "two_calls", {"release": str(release)})
    before = Watcher(litellm_served.ingress_url, inv_id)
    wait_for(lambda: _journaled(litellm_served, inv_id, "first call"), within=WITHIN, what="the first call")
    wait_for(lambda: _text(before.messages) == "alpha one two", within=WITHIN, what="the first call's text")
    litellm_served.kill()  # while the step between the two calls waits
    before.join()
    assert isinstance(before.error, httpx.HTTPError)

    litellm_served.start()
    after = Watcher(litellm_served.ingress_url, inv_id)
    wait_for(lambda: after.messages, within=WITHIN, what="the marker")
    release.touch()
    messages = after.join()

    assert messages[0]["type"] == "replay"
    assert _text(messages) == "beta three four"  # the journaled first call publishes nothing again
    assert {m["step"] for m in messages if m["type"] == "output"} == {"second call"}
    assert messages[-1]["result"] == ["alpha one two", "beta three four"]
    # What the two watchers saw, together, is the whole output once.
    assert _text(before.messages) + _text(messages) == "alpha one twobeta three four"
    prompts = [r.request.messages[-1].content for r in model_server.requests if r.request is not None]
    assert prompts == ["first", "second"]  # the completed call was not sent again
