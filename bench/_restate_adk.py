"""restate-sdk's own ADK integration (``restate.ext.adk``): the ``restate ADK`` column of ``bench agents``.

A restate-sdk virtual object whose handler runs the bench agent the way Restate's ADK tour does:
``App(plugins=[RestatePlugin()])`` and ``Runner(session_service=RestateSessionService())``, the object
key as the user. ``RestatePlugin`` journals the model calls but not the tools, so each tool makes its
own step with ``restate_context().run_typed`` (as the tour's tools do); the column then journals what
agentdur's ``DurablePlugin`` journals. Served by ``python -m bench._deployment restate_adk`` with the
model server's URL in ``AGENTDUR_BENCH_GEMINI_BASE``.

Written without ``from __future__ import annotations``, as :mod:`bench._plain_restate` is (restate-sdk
reads step signatures with ``eval_str=True``).
"""

import os
from typing import Any

import restate
from google.adk.apps import App
from google.adk.runners import Runner
from google.genai import types
from restate.ext.adk import RestatePlugin, RestateSessionService, restate_context

from .agents import BASE_ENV, RESTATE_ADK_OBJECT, bench_agent

users = restate.VirtualObject(RESTATE_ADK_OBJECT)
_agents: dict[str, Any] = {}


async def _a(x: str) -> str:
    return f"a {x}"


async def _b(x: str) -> str:
    return f"b {x}"


async def tool_a(x: str) -> str:
    """Tool a."""
    return await restate_context().run_typed("tool_a", _a, restate.RunOptions(), x)


async def tool_b(x: str) -> str:
    """Tool b."""
    return await restate_context().run_typed("tool_b", _b, restate.RunOptions(), x)


@users.handler(name="run")
async def run(ctx: restate.ObjectContext, kind: str) -> str:
    if kind not in _agents:
        base_url = os.environ.get(BASE_ENV, "http://127.0.0.1:1/")
        _agents[kind] = bench_agent(kind, base_url, (tool_a, tool_b))
    app = App(name="bench", root_agent=_agents[kind], plugins=[RestatePlugin()])
    runner = Runner(app=app, session_service=RestateSessionService(), auto_create_session=True)
    message = types.Content(role="user", parts=[types.Part(text="go")])
    async for _ in runner.run_async(user_id=ctx.key(), session_id="s", new_message=message):
        pass
    return "ok"


def restate_adk_app() -> Any:
    """The ASGI app of the ``restate.ext.adk`` deployment."""
    return restate.app([users])
