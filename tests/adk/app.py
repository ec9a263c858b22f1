"""The app the Google ADK tests serve on both engines: real ADK runs with ``DurablePlugin``.

Model calls go to the scripted model server whose Gemini base URL is in ``AGENTDUR_TEST_GEMINI_BASE``;
the tests steer it with a reply function that reads the ``[label]`` in each conversation.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.agents.run_config import RunConfig
from google.adk.apps import App
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.models import Gemini
from google.adk.runners import Runner
from google.adk.sessions import Session
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.tools.function_tool import FunctionTool
from google.genai import types
from pydantic import BaseModel

import agentdur
from agentdur.integrations.adk import DurablePlugin, DurableSessionService, WaitNotice

from ..effects import LOG_ENV, record

BASE_ENV = "AGENTDUR_TEST_GEMINI_BASE"
MODEL = "gemini-2.5-flash"


def gemini() -> Gemini:
    return Gemini(
        model=MODEL,
        base_url=os.environ.get(BASE_ENV, "http://127.0.0.1:1/"),
        client_kwargs={"api_key": "test"},
    )


# --------------------------------------------------------------------------------- tools


def get_weather(city: str, label: str) -> str:
    """Get the current weather for a city."""
    record(f"weather {label}")
    return f"sunny in {city}"


async def hold(label: str) -> str:
    """Wait for the operator (a crash test kills the process meanwhile)."""
    record(f"hold {label}")
    release = os.environ.get(LOG_ENV, "") + f".release-{label}"
    while not os.path.exists(release):  # noqa: ASYNC110, ASYNC240 - a file written by another process
        await asyncio.sleep(0.01)
    return f"released {label}"


def slow_tool(name: str, seconds: float) -> Any:
    async def slow(label: str) -> str:
        record(f"start {name} {label} {time.time()}")
        await asyncio.sleep(seconds)
        record(f"end {name} {label} {time.time()}")
        return f"{name} done"

    slow.__name__ = name
    slow.__doc__ = f"The {name} analysis."
    return slow


SLOW = [slow_tool("slow_a", 1.0), slow_tool("slow_b", 1.0), slow_tool("slow_c", 1.0)]
TWO_DONE = [slow_tool("quick_a", 0.0), slow_tool("quick_b", 0.0), hold]


def agent_for(kind: str) -> LlmAgent:
    if kind == "weather":
        return LlmAgent(name="weather", model=gemini(), instruction="Weather.", tools=[get_weather, hold])
    if kind == "parallel":
        return LlmAgent(name="parallel", model=gemini(), instruction="Analyze.", tools=SLOW)
    if kind == "two_done":
        return LlmAgent(name="parallel", model=gemini(), instruction="Analyze.", tools=TWO_DONE)
    raise agentdur.TerminalError(f"unknown kind {kind}", 400)


class RunRequest(BaseModel):
    kind: str
    label: str


async def run_adk(
    ctx: agentdur.ObjectContext, agent: LlmAgent, session_id: str, text: str, config: RunConfig | None = None
) -> str:
    app = App(name="tests", root_agent=agent, plugins=[DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService(), auto_create_session=True)
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id=session_id,
        new_message=types.Content(role="user", parts=[types.Part(text=text)]),
        run_config=config,
    ):
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts)
    return final


def pay_claim(label: str, amount: int) -> str:
    """Pay out the claim."""
    record(f"paid {label}")
    return f"paid {amount}"


async def publish(notice: WaitNotice) -> None:
    label = notice.description.split("label='")[1].split("'")[0]
    record(f"awakeable {label} {notice.awakeable_id}")


agents = agentdur.VirtualObject("Agents")


@agents.handler()
async def claim(ctx: agentdur.ObjectContext, label: str) -> str:
    agent = LlmAgent(
        name="claims",
        model=gemini(),
        instruction="Pay claims.",
        tools=[FunctionTool(pay_claim, require_confirmation=lambda label, amount: amount > 50)],
    )
    adk_app = App(name="tests", root_agent=agent, plugins=[DurablePlugin(notify=publish)])
    runner = Runner(app=adk_app, session_service=DurableSessionService(), auto_create_session=True)
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id="claim",
        new_message=types.Content(role="user", parts=[types.Part(text=f"[{label}] pay")]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts)
    return final


@agents.handler()
async def run(ctx: agentdur.ObjectContext, req: RunRequest) -> str:
    return await run_adk(ctx, agent_for(req.kind), "main", f"[{req.label}] How is the weather?")


@agents.handler()
async def say(ctx: agentdur.ObjectContext, text: str) -> str:
    """A plain turn of the weather agent on the session ``run`` uses (no label: the model echoes)."""
    return await run_adk(ctx, agent_for("weather"), "main", text)


@agents.handler(kind="shared")
async def events(ctx: agentdur.ObjectSharedContext) -> list[dict[str, Any]]:
    """The events of the session ``run`` and ``say`` use, as ADK dumps them."""
    return await stored_events(ctx, "main")


async def stored_events(ctx: agentdur.ObjectSharedContext, session_id: str) -> list[dict[str, Any]]:
    session = await DurableSessionService().get_session(
        app_name="tests", user_id=ctx.key(), session_id=session_id
    )
    return [event.model_dump(mode="json", exclude_none=True) for event in session.events] if session else []


chat = agentdur.VirtualObject("Chat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, text: str) -> str:
    assistant = LlmAgent(name="assistant", model=gemini(), instruction="Chat.")
    return await run_adk(ctx, assistant, "chat", text)


@chat.handler()
async def seed(ctx: agentdur.ObjectContext, length: int) -> int:
    """Grow the chat session to ``length`` events by repeating its newest turn with new ids: a long
    chat made fast (the turn after it is the turn that history length would be)."""
    events = ctx.state_list("adk:events:tests:chat", dict[str, Any])
    stored = await events.length()
    turn = await events.items(last=2)
    while stored + len(turn) <= length:
        stored += len(turn)
        events.append(*({**event, "id": str(ctx.uuid())} for event in turn))
    return stored


@chat.handler()
async def message_seeing_recent(ctx: agentdur.ObjectContext, text: str) -> str:
    """A turn whose runner reads only the session's 10 newest events."""
    assistant = LlmAgent(name="assistant", model=gemini(), instruction="Chat.")
    recent = RunConfig(get_session_config=GetSessionConfig(num_recent_events=10))
    return await run_adk(ctx, assistant, "chat", text, recent)


@chat.handler(kind="shared")
async def get_history(ctx: agentdur.ObjectSharedContext) -> list[str]:
    session = await DurableSessionService().get_session(
        app_name="tests", user_id=ctx.key(), session_id="chat"
    )
    if session is None:
        return []
    return [
        f"{event.author}: {''.join(part.text or '' for part in event.content.parts)}"
        for event in session.events
        if event.content and event.content.parts
    ]


@chat.handler(kind="shared")
async def get_events(ctx: agentdur.ObjectSharedContext) -> list[dict[str, Any]]:
    """The chat session's events as ADK dumps them (``exclude_none``), oldest first."""
    return await stored_events(ctx, "chat")


sessions = agentdur.VirtualObject("Sessions")


def event(text: str, timestamp: float, delta: dict[str, Any] | None = None, partial: bool = False) -> Event:
    return Event(
        author="user",
        invocation_id="i1",
        content=types.Content(role="user", parts=[types.Part(text=text)]),
        actions=EventActions(state_delta=delta or {}),
        timestamp=timestamp,
        partial=partial,
    )


@sessions.handler()
async def contract(ctx: agentdur.ObjectContext) -> dict[str, Any]:
    """ADK's session-service contract, observed step by step on this object's state."""
    service = DurableSessionService(create_missing=False)  # ADK's contract: None for a missing session
    user = ctx.key()
    seen: dict[str, Any] = {}
    seen["missing"] = await service.get_session(app_name="app", user_id=user, session_id="nope")
    first = await service.create_session(
        app_name="app",
        user_id=user,
        session_id="s1",
        state={"a": 1, "user:pref": "x", "app:v": 2, "temp:t": 9},
    )
    seen["created_state"] = dict(first.state)
    try:
        await service.create_session(app_name="app", user_id=user, session_id="s1")
    except agentdur.ConflictError as error:
        seen["duplicate"] = error.status_code
    second = await service.create_session(app_name="app", user_id=user)
    seen["generated_id"] = len(second.id)
    appended = await service.append_event(first, event("one", 10.0, {"b": 2, "temp:x": 1, "user:pref": "y"}))
    seen["in_memory_temp"] = first.state.get("temp:x")
    seen["stored_delta"] = appended.actions.state_delta
    await service.append_event(first, event("partial", 11.0, {"c": 3}, partial=True))
    for i, timestamp in enumerate((12.0, 13.0, 14.0)):
        await service.append_event(first, event(f"more {i}", timestamp))
    loaded = await service.get_session(app_name="app", user_id=user, session_id="s1")
    assert loaded is not None
    seen["loaded_state"] = loaded.state
    seen["loaded_texts"] = [e.content.parts[0].text for e in loaded.events if e.content and e.content.parts]
    recent = await service.get_session(
        app_name="app", user_id=user, session_id="s1", config=GetSessionConfig(num_recent_events=2)
    )
    after = await service.get_session(
        app_name="app", user_id=user, session_id="s1", config=GetSessionConfig(after_timestamp=13.0)
    )
    assert recent is not None and after is not None
    seen["recent"] = len(recent.events)
    seen["after"] = [e.timestamp for e in after.events]
    listed = await service.list_sessions(app_name="app", user_id=user)
    seen["listed"] = [(s.id == "s1", len(s.events), s.state.get("user:pref")) for s in listed.sessions]
    seen["user_state"] = await service.get_user_state(app_name="app", user_id=user)
    try:
        await service.get_session(app_name="app", user_id="someone else", session_id="s1")
    except agentdur.InvalidInputError as error:
        seen["other_user"] = error.status_code
    await service.delete_session(app_name="app", user_id=user, session_id="s1")
    seen["deleted"] = await service.get_session(app_name="app", user_id=user, session_id="s1") is None
    try:
        await service.append_event(first, event("late", 20.0))
    except agentdur.NotFoundError as error:
        seen["append_to_deleted"] = error.status_code
    seen["left"] = len((await service.list_sessions(app_name="app", user_id=user)).sessions)
    created = await DurableSessionService().get_session(app_name="app", user_id=user, session_id="new")
    seen["created_on_get"] = (
        created is not None and created.id == "new" and created.state == {"app:v": 2, "user:pref": "y"}
    )
    return seen


@sessions.handler(kind="shared")
async def count(ctx: agentdur.ObjectSharedContext) -> int:
    service = DurableSessionService()
    return len((await service.list_sessions(app_name="app", user_id=ctx.key())).sessions)


def texts(session: Session | None) -> list[str]:
    assert session is not None
    return [e.content.parts[0].text or "" for e in session.events if e.content and e.content.parts]


@sessions.handler()
async def store_old_format(ctx: agentdur.ObjectContext) -> None:
    """A session as versions before the list of events stored it: one entry holding its events."""
    old = Session(
        app_name="app",
        user_id=ctx.key(),
        id="old",
        state={"a": 1},
        events=[event("one", 10.0), event("two", 11.0)],
        last_update_time=11.0,
    )
    ctx.set("adk:session:app:old", old.model_dump(mode="json", exclude_none=True))


@sessions.handler()
async def continue_old_format(ctx: agentdur.ObjectContext) -> dict[str, Any]:
    """Read a session stored in the old format, append to it (which converts it), read it again."""
    service = DurableSessionService(create_missing=False)
    seen: dict[str, Any] = {}
    loaded = await service.get_session(app_name="app", user_id=ctx.key(), session_id="old")
    seen["loaded"] = (texts(loaded), dict(loaded.state) if loaded else None)
    recent = await service.get_session(
        app_name="app", user_id=ctx.key(), session_id="old", config=GetSessionConfig(num_recent_events=1)
    )
    seen["recent"] = texts(recent)
    listed = (await service.list_sessions(app_name="app", user_id=ctx.key())).sessions
    seen["listed"] = [(s.id, s.last_update_time, len(s.events)) for s in listed]
    assert loaded is not None
    await service.append_event(loaded, event("three", 12.0, {"b": 2}))
    after = await service.get_session(app_name="app", user_id=ctx.key(), session_id="old")
    seen["after"] = (texts(after), after.state if after else None, after.last_update_time if after else None)
    header = await ctx.get("adk:session:app:old")
    seen["header_keys"] = sorted(header)
    seen["list"] = [item["content"]["parts"][0]["text"] for item in await ctx.get("adk:events:app:old")]
    return seen


app = agentdur.App([agents, chat, sessions])
