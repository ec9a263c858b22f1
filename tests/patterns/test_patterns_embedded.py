"""The patterns on the embedded engine: chaining, chat sessions, human approval."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

import agentdur
from agentdur.patterns.approval import (
    ApprovalNotice,
    ApprovalRejected,
    ApprovalTimedOut,
    Decision,
    request_approval,
)
from agentdur.patterns.chaining import Chain, llm_step, step
from agentdur.patterns.sessions import ChatTurn, chat_session

from ..engine.helpers import wait_until

prompts: list[str] = []
notices: list[ApprovalNotice] = []
gate = asyncio.Event()


async def fake_model(prompt: str) -> str:
    """Stands in for a model call in these engine-level tests (the model server tests cover SDKs)."""
    prompts.append(prompt)
    return f"<{prompt}>"


def normalize(text: str) -> str:
    return text.upper()


async def blocking(text: str) -> str:
    await gate.wait()
    return text + "!"


chain = Chain(
    llm_step("Extract", "extract: {input}", fake_model),
    step("Normalize", normalize),
    step("Hold", blocking),
    llm_step("Draft", lambda facts: f"draft from {facts}", fake_model),
)

flows = agentdur.Service("Flows")


@flows.handler()
async def chained(ctx: agentdur.Context, text: str) -> str:
    result: str = await chain.run(ctx, text)
    return result


async def remember(notice: ApprovalNotice) -> None:
    notices.append(notice)


@flows.handler()
async def approve(ctx: agentdur.Context, what: str) -> str:
    try:
        decision = await request_approval(ctx, f"approve {what}?", notify=remember)
    except ApprovalRejected as error:
        return f"rejected: {error.message}"
    return f"{decision.approved} by {decision.by}"


async def approve_within(ctx: agentdur.Context, what: str, wait_at_most: timedelta) -> str:
    try:
        decision = await request_approval(
            ctx, f"approve {what}?", notify=remember, timeout=wait_at_most, escalate=remember
        )
    except ApprovalTimedOut as error:
        return f"timed out ({error.status_code})"
    return f"{decision.approved} by {decision.by}"


@flows.handler()
async def approve_or_escalate(ctx: agentdur.Context, what: str) -> str:
    return await approve_within(ctx, what, timedelta(milliseconds=200))


@flows.handler()
async def approve_or_escalate_later(ctx: agentdur.Context, what: str) -> str:
    """The same with a timeout no test waits for: answering it does not race the timer."""
    return await approve_within(ctx, what, timedelta(hours=1))


replies: list[str] = []


async def respond(history: list[ChatTurn]) -> str:
    assert history[0].role == "system"
    last = history[-1].content
    replies.append(last)
    await asyncio.sleep(0)
    return f"re: {last} ({len(history) - 1} turns seen)"


chat = chat_session("Chat", respond, max_history=200, system_prompt="be brief")
APP = agentdur.App([flows, chat])


@pytest.fixture(autouse=True)
def reset() -> None:
    prompts.clear()
    notices.clear()
    replies.clear()
    gate.clear()


async def test_chain_resumes_without_repeating_model_calls(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Flows", "chained", "the claim")
        await wait_until(lambda: len(prompts) == 1)
        await wait_until(lambda: len(engine.store.read("SELECT 1 FROM journal WHERE name='Normalize'")) == 1)
    assert prompts == ["extract: the claim"]
    gate.set()
    async with agentdur.Engine(APP, path=db) as engine:
        result = await engine.attach(inv)
        names = [e.name for e in (await engine.invocation(inv)).journal]
    assert result == "<draft from <EXTRACT: THE CLAIM>!>"
    assert prompts == ["extract: the claim", "draft from <EXTRACT: THE CLAIM>!"]  # the first was replayed
    assert names == ["Extract", "Normalize", "Hold", "Draft"]


async def test_fifty_concurrent_messages_to_one_key_in_arrival_order(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
        ids = [await engine.send("Chat", "message", {"message": f"m{i}"}, key="alice") for i in range(50)]
        answers = await asyncio.gather(*(engine.attach(i) for i in ids))
        assert [a["turns"] for a in answers] == [2 * (i + 1) for i in range(50)]
        history = await engine.call("Chat", "get_history", key="alice")
        assert [t["content"] for t in history[::2]] == [f"m{i}" for i in range(50)]
        assert history[1]["content"] == "re: m0 (1 turns seen)"
        assert replies == [f"m{i}" for i in range(50)]


async def test_twenty_keys_in_parallel_and_history_bound(tmp_path: Path) -> None:
    bounded = chat_session("Bounded", respond, max_history=4, system_prompt="s")
    async with agentdur.Engine(agentdur.App([bounded]), path=tmp_path / "k.db") as engine:
        answers = await asyncio.gather(
            *(
                engine.call("Bounded", "message", {"message": f"{k}-{n}"}, key=f"user{k}")
                for k in range(20)
                for n in range(3)
            )
        )
        assert len(answers) == 60
        for k in range(20):
            history = await engine.call("Bounded", "get_history", key=f"user{k}")
            assert len(history) == 4  # the bound keeps the last two exchanges
            assert history[-2]["content"] == f"{k}-2"
        await engine.call("Bounded", "clear", key="user0")
        assert await engine.call("Bounded", "get_history", key="user0") == []
        with pytest.raises(agentdur.InvalidInputError, match="message"):
            await engine.call("Bounded", "message", {"message": ""}, key="user1")
        # the request shape before the chats were unified on "message" is still accepted
        reply = await engine.call("Bounded", "message", {"text": "legacy"}, key="user1")
        assert (await engine.call("Bounded", "get_history", key="user1"))[-2]["content"] == "legacy"
        assert reply["turns"] == 4


async def test_approval_resolved_after_restart_with_notice(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Flows", "approve", "refund")
        await wait_until(lambda: len(notices) == 1)
        pending = await engine.pending_awakeables()
        assert [p.description for p in pending] == ["approve refund?"]
    notice = notices[0]
    assert notice.resolve_url == f"http://127.0.0.1:8080/restate/awakeables/{notice.awakeable_id}/resolve"
    assert notice.reject_url.endswith(f"/restate/awakeables/{notice.awakeable_id}/reject")
    async with agentdur.Engine(APP, path=db) as engine:
        [pending_approval] = await engine.pending_awakeables()
        assert (
            pending_approval.value_schema == Decision.model_json_schema()
        )  # every approval records its type
        with pytest.raises(agentdur.AwakeableValueError, match="approved: Field required"):
            await engine.resolve_awakeable(notice.awakeable_id, {"by": "ann"})
        await engine.resolve_awakeable(notice.awakeable_id, Decision(approved=True, by="ann").model_dump())
        assert await engine.attach(inv) == "True by ann"
        with pytest.raises(agentdur.ConflictError):
            await engine.resolve_awakeable(notice.awakeable_id, {"approved": False})
    assert len(notices) == 1  # the notification step was not repeated by the replay


async def test_approval_rejected_and_timeout_with_escalation(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        rejected = await engine.send("Flows", "approve", "x")
        await wait_until(lambda: len(notices) == 1)
        await engine.reject_awakeable(notices[0].awakeable_id, "not in budget")
        assert await engine.attach(rejected) == "rejected: not in budget"
        notices.clear()
        escalated = await engine.send("Flows", "approve_or_escalate", "y")
        await wait_until(lambda: len(notices) == 2, what="escalated after the first timeout")
        assert [n.attempt for n in notices] == [1, 2]
        assert notices[1].description == "approve y? (escalation 1)"
        assert await engine.attach(escalated) == "timed out (408)"
        notices.clear()
        answered = await engine.send("Flows", "approve_or_escalate_later", "z")
        await wait_until(lambda: len(notices) == 1)
        await engine.resolve_awakeable(notices[0].awakeable_id, {"approved": True, "by": "lead"})
        assert await engine.attach(answered) == "True by lead"
