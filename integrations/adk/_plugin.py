"""``DurablePlugin``: an ADK plugin that makes every model call and tool call of a run durable.

Add it to the ADK ``App`` (``App(name, root_agent=agent, plugins=[DurablePlugin()])``) and run the app
inside an agentdur handler. When an ``LlmAgent`` starts (the root agent, a sub-agent, the agent of an
``AgentTool``, the agents of Sequential/Parallel/Loop agents), the plugin makes it durable, once:

- its model (whatever ``BaseLlm`` it resolves to, named or an instance, or inherited from an
  ancestor) is wrapped in a :class:`~agentdur.integrations.adk.DurableLlm`, so each model call is
  one journaled step;
- its tools go through :func:`~agentdur.integrations.adk.durable_tool`: plain function tools are
  journaled steps, tools that take the agentdur context make their own steps.

The agent is changed in place (its ``model`` and ``tools``); used outside a handler, the wrappers call
the model and the tools as they are. The wrappers keep no options of their own: each model call and
tool call gets those of the plugin running it (an agent prepared by one app may run in another). ADK runs the function calls of one model response concurrently,
in tasks created from the handler's task tree, so they stay concurrent and replay finds each tool's
step again whatever order they finish in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from google.adk.agents import BaseAgent, LlmAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.tool_context import ToolContext
from google.genai import types

from agentdur import RunOptions, UserError, current_context

from ..kit import start_agent_span
from ._approvals import Approvals, Notify, confirm_call
from ._model import DurableLlm
from ._scope import PluginOptions, attach_to_request, mark_journaled_call, use_plugin_options
from ._tools import durable_tool, is_one_step

__all__ = ["DurablePlugin"]


def _started() -> None:
    """The body of the step that marks a tool call that is not one step itself."""


class DurablePlugin(BasePlugin):
    """Journals every model call and tool call of an ADK run (see the module docstring).

    Args:
        run_options: retries of each model call inside its step (default: 5 attempts with
            backoff, ``retry-after`` honoured; authentication and bad-request errors fail at once).
        tool_run_options: retries of a tool's ordinary errors before the error goes to the model
            (default: 3 attempts).
        notify: hears of each durable wait for a human (a call that needs confirmation, a
            long-running tool's result): the awakeable id and the URL that resolves it.
        approval_timeout: how long such a wait lasts (default: forever); see
            ``agentdur.integrations.adk._approvals`` for what the model is told when it expires.
        escalate: called when the timeout expires, with a new awakeable; the wait starts again.
        ingress_url: the public ingress URL used in the notices.
        name: the plugin's name in the ADK app.
    """

    def __init__(
        self,
        *,
        run_options: RunOptions[Any] | None = None,
        tool_run_options: RunOptions[Any] | None = None,
        notify: Notify | None = None,
        approval_timeout: timedelta | None = None,
        escalate: Notify | None = None,
        ingress_url: str | None = None,
        name: str = "agentdur",
    ) -> None:
        super().__init__(name=name)
        self.options = PluginOptions(
            run_options, tool_run_options, Approvals(notify, approval_timeout, escalate, ingress_url)
        )
        self._agent_spans: dict[tuple[str, str], Any] = {}  # invoke_agent spans of runs in progress

    async def before_agent_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext
    ) -> types.Content | None:
        if isinstance(agent, LlmAgent):
            self.prepare(agent)
        span = start_agent_span(agent.name)
        if span is not None:
            self._agent_spans[(callback_context.invocation_id, agent.name)] = span
        return None

    async def after_agent_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext
    ) -> types.Content | None:
        span = self._agent_spans.pop((callback_context.invocation_id, agent.name), None)
        if span is not None:
            span.end()
        return None

    async def before_tool_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext
    ) -> dict[str, Any] | None:
        try:
            ctx = current_context()
        except UserError:
            return None  # not in a handler: ADK's own behaviour
        if is_one_step(tool):
            mark_journaled_call(tool_context.function_call_id)  # its response replays as it was
        else:
            # ADK starts each tool call's task in a copy of another task's context, so the task has
            # no place of its own in the handler's task tree until it makes a durable call; a tool
            # that is not one step may start tasks of its own (an AgentTool runs a whole nested
            # agent run), which must get theirs below it. This step gives it its place.
            await ctx.run_typed(f"Tool call: {tool.name}", _started, RunOptions())
        use_plugin_options(self.options)
        return await confirm_call(tool, tool_args, tool_context, self.options.approvals)

    async def before_model_callback(
        self, *, callback_context: CallbackContext, llm_request: LlmRequest
    ) -> LlmResponse | None:
        attach_to_request(llm_request, self.options)  # for the DurableLlm about to be called
        return None

    def prepare(self, agent: LlmAgent) -> None:
        """Make ``agent``'s model and tools durable (idempotent)."""
        model: BaseLlm = agent.canonical_model
        if not isinstance(model, DurableLlm):
            agent.model = DurableLlm(model)
        elif not isinstance(agent.model, DurableLlm):
            agent.model = model  # inherited from an ancestor that is durable already
        agent.tools = [durable_tool(tool) for tool in agent.tools]
