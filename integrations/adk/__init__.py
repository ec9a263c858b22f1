"""Google ADK made durable: add one plugin and one session service to an ADK app.

Inside an agentdur virtual-object handler keyed by the user::

    app = App(name="weather", root_agent=agent, plugins=[DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService())
    async for event in runner.run_async(user_id=ctx.key(), session_id=sid, new_message=message):
        ...

Every model call of the run is one journaled step (replayed after a crash without a request, with the
same function-call ids), plain function tools run once as journaled steps and stay concurrent, tools
that take the agentdur context make their own steps, and the ADK session lives in the object's state.
Runs on the embedded engine and on Restate alike.

Errors a tool raises, as the run sees them::

    TerminalError (a cancellation included)   -> ends the run; the handler re-raises it as raised
    EngineControl (suspension, shutdown)      -> passes through untouched
    any other exception                       -> {"error": "<type>: <message>"} for the model
                                                 (journaled after the step's retries)

Needs the ``adk`` extra: ``pip install "agentdur[adk]"``. See docs/google-adk.md.
"""

from __future__ import annotations

try:
    import google.adk  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('agentdur.integrations.adk needs Google ADK: pip install "agentdur[adk]"') from error

from ._approvals import Decision, WaitNotice
from ._model import DurableLlm, responses_from_json, responses_to_json
from ._plugin import DurablePlugin
from ._session import DurableSessionService
from ._tools import durable_tool, own_steps

__all__ = [
    "Decision",
    "DurableLlm",
    "DurablePlugin",
    "DurableSessionService",
    "WaitNotice",
    "durable_tool",
    "own_steps",
    "responses_from_json",
    "responses_to_json",
]
