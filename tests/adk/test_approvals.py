"""ADK's human-in-the-loop, made durable: ``require_confirmation`` and long-running tools wait on
awakeables that survive restarts, on the embedded engine in process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.adk.agents import LlmAgent
from google.adk.apps import App
from google.adk.models import Gemini
from google.adk.runners import Runner
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.long_running_tool import LongRunningFunctionTool
from google.genai import types
from pydantic import BaseModel

import agentdur
from agentdur.integrations.adk import DurablePlugin, DurableSessionService, WaitNotice
from agentdur.testing import ScriptedModelServer

from ..engine.helpers import wait_until

server_url: dict[str, str] = {}
notices: dict[str, WaitNotice] = {}
effects: list[str] = []


def pay_claim(claim: str, amount: int) -> str:
    """Pay out a claim."""
    effects.append(f"paid {claim}")
    return f"paid {amount} for {claim}"


def start_review(claim: str) -> dict[str, str]:
    """Start the manual review of a claim."""
    effects.append(f"review {claim}")
    return {"status": "pending", "ticket": f"T-{claim}"}


async def publish(notice: WaitNotice) -> None:
    notices[notice.description] = notice


class Claim(BaseModel):
    text: str
    timeout: float | None = None


claims = agentdur.VirtualObject("Claims")


async def run(ctx: agentdur.ObjectContext, tool: Any, claim: Claim) -> str:
    agent = LlmAgent(
        name="claims",
        model=Gemini(model="gemini-2.5-flash", base_url=server_url["url"], client_kwargs={"api_key": "test"}),
        instruction="Handle claims.",
        tools=[tool],
    )
    timeout = timedelta(seconds=claim.timeout) if claim.timeout is not None else None
    plugin = DurablePlugin(notify=publish, approval_timeout=timeout)
    runner = Runner(
        app=App(name="claims", root_agent=agent, plugins=[plugin]),
        session_service=DurableSessionService(),
        auto_create_session=True,
    )
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id="s",
        new_message=types.Content(role="user", parts=[types.Part(text=claim.text)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts)
    return final


@claims.handler()
async def pay(ctx: agentdur.ObjectContext, claim: Claim) -> str:
    return await run(ctx, FunctionTool(pay_claim, require_confirmation=True), claim)


@claims.handler()
async def review(ctx: agentdur.ObjectContext, claim: Claim) -> str:
    return await run(ctx, LongRunningFunctionTool(start_review), claim)


APP = agentdur.App([claims])
PAY = "Approve pay_claim(claim='c1', amount=100)?"


@pytest.fixture(autouse=True)
def point_at(model_server: ScriptedModelServer) -> None:
    server_url["url"] = model_server.gemini_base_url
    notices.clear()
    effects.clear()
    model_server.script.tool_call("pay_claim", {"claim": "c1", "amount": 100})


async def decide_after_restart(db: Path, handler: str, claim: Claim, description: str, decide: Any) -> Any:
    """Start ``handler``, wait for its notice, restart the engine, then ``decide(engine, notice)``."""
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Claims", handler, claim, key="ann")
        await wait_until(lambda: description in notices, what="approval requested")
    async with agentdur.Engine(APP, path=db) as engine:
        await decide(engine, notices[description])
        try:
            return await engine.attach(inv)
        except agentdur.TerminalError as error:
            return error


@pytest.mark.parametrize("answer", [{"approved": True, "by": "ann"}, True], ids=["decision", "bare"])
async def test_an_approved_call_runs_once_after_a_restart(
    tmp_path: Path, model_server: ScriptedModelServer, answer: Any
) -> None:
    async def approve(engine: agentdur.Engine, notice: WaitNotice) -> None:
        assert effects == []  # nothing ran before the decision
        await engine.resolve_awakeable(notice.awakeable_id, answer)

    result = await decide_after_restart(tmp_path / "a.db", "pay", Claim(text="Pay claim c1"), PAY, approve)
    assert result == "Based on pay_claim: paid 100 for c1"
    assert effects == ["paid c1"] and model_server.count() == 2
    assert notices[PAY].resolve_url.endswith(f"/restate/awakeables/{notices[PAY].awakeable_id}/resolve")


@pytest.mark.parametrize("how", ["decision", "bare", "reject"])
async def test_a_rejected_call_never_runs(
    tmp_path: Path, model_server: ScriptedModelServer, how: str
) -> None:
    async def reject(engine: agentdur.Engine, notice: WaitNotice) -> None:
        if how == "decision":
            await engine.resolve_awakeable(notice.awakeable_id, {"approved": False, "by": "bob"})
        elif how == "bare":
            await engine.resolve_awakeable(notice.awakeable_id, False)
        else:
            await engine.reject_awakeable(notice.awakeable_id, "too expensive")

    result = await decide_after_restart(tmp_path / "r.db", "pay", Claim(text="Pay claim c1"), PAY, reject)
    assert result == 'Based on pay_claim: {"error": "This tool call is rejected."}'
    assert effects == [] and model_server.count() == 2


async def test_no_decision_within_the_timeout_tells_the_model(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        result = await engine.call("Claims", "pay", Claim(text="Pay claim c1", timeout=0.2), key="ann")
    assert result == (
        'Based on pay_claim: {"error": "The call pay_claim(claim=\'c1\', amount=100) was not approved '
        'within 0:00:00.200000; it did not run."}'
    )
    assert effects == [] and PAY in notices


async def test_a_long_running_tool_waits_for_its_result_across_a_restart(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    description = "Result of start_review(claim='c1') (started: {'status': 'pending', 'ticket': 'T-c1'})"
    model_server.script.clear()
    model_server.script.tool_call("start_review", {"claim": "c1"})

    async def finish(engine: agentdur.Engine, notice: WaitNotice) -> None:
        await engine.resolve_awakeable(notice.awakeable_id, {"status": "approved", "by": "carol"})

    result = await decide_after_restart(
        tmp_path / "l.db", "review", Claim(text="Review claim c1"), description, finish
    )
    assert result == 'Based on start_review: {"status": "approved", "by": "carol"}'
    assert effects == ["review c1"] and model_server.count() == 2
