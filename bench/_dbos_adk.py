"""``dbos-google-adk``: the ``DBOS ADK`` column of ``python -m bench agents`` (needs the bench extra).

The bench agent runs inside a ``@DBOS.workflow()`` with ``DBOSPlugin``, as the package's README shows:
the plugin checkpoints each model call as a step, and the tools are ``@DBOS.step()`` functions. DBOS
has no session service, so the session stays in ADK's ``InMemorySessionService`` (not durable: this
column journals less than agentdur's, which also writes the session with each event). Called in this
process, on DBOS's SQLite system database (:func:`bench._dbos.dbos_launched`), like the ``in process``
column.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS
from dbos_google_adk import DBOSPlugin

from .agents import bench_agent

_runners: dict[str, Any] = {}


@DBOS.step()
async def tool_a(x: str) -> str:
    """Tool a."""
    return f"a {x}"


@DBOS.step()
async def tool_b(x: str) -> str:
    """Tool b."""
    return f"b {x}"


def configure(base_url: str) -> None:
    """Build one runner per bench agent, its model on the scripted model server at ``base_url``."""
    from google.adk.apps import App
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService

    for kind in ("tools", "answer"):
        app = App(
            name="bench", root_agent=bench_agent(kind, base_url, (tool_a, tool_b)), plugins=[DBOSPlugin()]
        )
        _runners[kind] = Runner(app=app, session_service=InMemorySessionService(), auto_create_session=True)


@DBOS.workflow()
async def run_agent(kind: str, session_id: str) -> str:
    """One run of the bench agent ``kind`` in a fresh session."""
    from google.genai import types

    message = types.Content(role="user", parts=[types.Part(text="go")])
    async for _ in _runners[kind].run_async(user_id="u", session_id=session_id, new_message=message):
        pass
    return "ok"
