"""``DurableRunner``: run an existing agent durably, in one line, inside an agentdur handler.

``DurableRunner.run(agent, input)`` is ``Runner.run`` with every model call journaled and every tool
call run in its model turn. Before the SDK starts, the run is *prepared*: the agent graph (the
agent, its handoffs, the agents they hand off to) is copied with

- every ``Model`` instance wrapped in a :class:`DurableModel`, and the run config's model provider
  wrapped in a :class:`DurableModelProvider`, so that models named by string are journaled too;
- every function tool routed through its model turn (:class:`DurableInvoker`): durable tools as
  they are, any other ``FunctionTool`` (plain ``function_tool``, ``agent.as_tool()``) running alone,
  in turn order, with agentdur's errors propagating;
- input guardrails run before the model call rather than beside it (one journal, one waiter).

The user's agents are never modified. Agents used as tools start runs of their own, through the
SDK's default agent runner: while a durable run is in progress, agentdur's runner prepares those
nested runs the same way, so their models and tools are durable too.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import inspect
from collections.abc import Iterator
from typing import Any, Generic, Literal, NotRequired, TypedDict, TypeVar, cast

from agents import (
    Agent,
    FunctionTool,
    Handoff,
    InputGuardrail,
    Model,
    ModelRetrySettings,
    ModelSettings,
    RunConfig,
    RunContextWrapper,
    RunHooks,
    Runner,
    RunResult,
    RunResultStreaming,
    Session,
    Tool,
)
from agents.items import TResponseInputItem
from agents.mcp import MCPServer
from agents.run import AgentRunner, get_default_agent_runner, set_default_agent_runner
from agents.run_config import RunOptions as SdkRunOptions
from agents.run_error_handlers import RunErrorHandlers
from agents.run_state import RunState
from typing_extensions import Unpack

from agentdur import RunOptions, TerminalError, UserError, current_context, tracing

from ..kit import Approvals, agent_span, tool_turns_scope
from ._approvals import approval_gated, owned_decisions, restore_owned_decisions
from ._mcp import DurableMCPServer
from ._model import DurableModel, DurableModelProvider
from ._tools import ToolCancelledError, ToolTerminalError, durable_tool

__all__ = ["INTERRUPT", "DurableRunner", "RunnerOptions"]

TContext = TypeVar("TContext")

INTERRUPT: Literal["interrupt"] = "interrupt"
"""``approvals=INTERRUPT``: keep the SDK's own interruption flow (``result.interruptions``, ``RunState``)."""

ApprovalMode = Approvals | Literal["interrupt"]


class RunnerOptions(TypedDict, Generic[TContext]):
    """The keyword arguments of ``Runner.run`` that :class:`DurableRunner` passes on unchanged."""

    context: NotRequired[TContext | None]
    max_turns: NotRequired[int | None]
    hooks: NotRequired[RunHooks[TContext] | None]
    run_config: NotRequired[RunConfig | dict[str, Any] | None]
    error_handlers: NotRequired[RunErrorHandlers[TContext] | None]
    previous_response_id: NotRequired[str | None]
    auto_previous_response_id: NotRequired[bool]
    conversation_id: NotRequired[str | None]


class DurableRunner:
    """Runs agents like the SDK's ``Runner``, inside an agentdur handler, durably.

    Example::

        @agent_service.handler()
        async def run(ctx: agentdur.Context, prompt: Prompt) -> str:
            result = await DurableRunner.run(weather_agent, prompt.message)
            return str(result.final_output)

    Without an explicit ``context``, tools get the handler's agentdur context as their run context
    (``RunContextWrapper[agentdur.Context]``), as in Restate's tour.
    """

    @classmethod
    async def run(
        cls,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        *,
        session: Session | None = None,
        run_options: RunOptions[Any] | None = None,
        use_restate_session: bool = False,
        approvals: ApprovalMode | None = None,
        **runner_kwargs: Unpack[RunnerOptions[TContext]],
    ) -> RunResult:
        """Run ``starting_agent`` on ``input`` and return the SDK's ``RunResult``.

        Args:
            session: conversation history, e.g. a :class:`DurableSession` in a virtual object.
            use_restate_session: restate-sdk's spelling of ``session=DurableSession()``.
            run_options: retries of each model call (default: 5 attempts with backoff,
                ``retry-after`` honoured; authentication and bad-request errors fail at once).
                They replace the SDK's and the HTTP client's own retries.
            approvals: how tools with ``needs_approval`` ask (agents used as tools and nested runs
                included). By default (or an :class:`Approvals` with a ``notify`` hook and a
                ``timeout``) a call that needs approval waits durably for a decision in its turn and
                the run goes on by itself; ``INTERRUPT`` keeps the SDK's flow: the run ends with
                ``result.interruptions``, to resume with ``DurableRunner.run(agent, state)``.
            runner_kwargs: ``Runner.run``'s other arguments (``context``, ``max_turns``,
                ``hooks``, ``run_config``, ...), unchanged. ``input`` may be a ``RunState`` (a
                resumed run; its agents are prepared like the starting agent).

        Raises:
            UserError: outside an agentdur handler, or the agents use a feature that cannot run
                durably (a tool with ``tool_input_guardrails``).
            TerminalError: a model call failed for good, or a tool raised one (re-raised as the
                tool raised it, e.g. an ``ApprovalRejected``); or an argument ``Runner.run`` does
                not take (retrying would not help).
        """
        options = _with_handler_context(runner_kwargs, "run")
        session = _session(session, use_restate_session)
        with durable_run(run_options, approvals), agent_span(starting_agent.name, "openai"):
            try:
                return await Runner.run(starting_agent, input, session=session, **options)
            except (ToolTerminalError, ToolCancelledError) as carried:
                raise carried.error from None

    @classmethod
    def run_streamed(
        cls,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        *,
        session: Session | None = None,
        run_options: RunOptions[Any] | None = None,
        use_restate_session: bool = False,
        approvals: ApprovalMode | None = None,
        **runner_kwargs: Unpack[RunnerOptions[TContext]],
    ) -> RunResultStreaming:
        """``Runner.run_streamed``, durably: events stream live on the first execution; a replayed
        model call yields one ``response.completed`` event with the journaled response.

        Consume ``result.stream_events()`` before the handler returns. A TerminalError raised by a
        tool surfaces from the stream as :class:`ToolTerminalError` (still a TerminalError).
        """
        options = _with_handler_context(runner_kwargs, "run_streamed")
        session = _session(session, use_restate_session)
        # The SDK starts the run in a task that copies the context variables now.
        with durable_run(run_options, approvals):
            return Runner.run_streamed(starting_agent, input, session=session, **options)


def _session(session: Session | None, use_restate_session: bool) -> Session | None:
    """``session``, or a :class:`DurableSession` when asked for the restate-sdk way."""
    if not use_restate_session:
        return session
    if session is not None:
        raise TerminalError("pass either session=... or use_restate_session=True, not both")
    from ._session import DurableSession

    return DurableSession()


def _with_handler_context(runner_kwargs: RunnerOptions[TContext], method: str) -> RunnerOptions[TContext]:
    ctx = current_context()  # a UserError outside a handler
    accepted = inspect.signature(getattr(Runner, method)).parameters
    unknown = sorted(set(runner_kwargs) - set(accepted))
    if unknown:  # a TypeError from Runner would be retried until the invocation pauses
        raise TerminalError(
            f"DurableRunner.{method} got arguments that Runner.{method} does not take: {', '.join(unknown)}"
        )
    options = dict(runner_kwargs)
    if options.get("context") is None:
        options["context"] = ctx
    return cast(RunnerOptions[TContext], options)


@dataclasses.dataclass
class _DurableRun:
    """What every run prepared inside one ``DurableRunner`` call shares."""

    run_options: RunOptions[Any] | None
    approvals: ApprovalMode = dataclasses.field(default_factory=Approvals)
    agents: dict[int, Agent[Any]] = dataclasses.field(default_factory=dict)
    tools: dict[int, Tool] = dataclasses.field(default_factory=dict)
    mcp_servers: dict[int, DurableMCPServer] = dataclasses.field(default_factory=dict)
    prepared: set[int] = dataclasses.field(default_factory=set)

    def prepare_config(self, config: RunConfig | dict[str, Any] | None) -> RunConfig:
        """The run config with durable models, no SDK-side retries, sequential input guardrails."""
        if config is None:
            config = RunConfig()
        elif isinstance(config, dict):
            config = RunConfig(**config)
        provider = config.model_provider
        if not isinstance(provider, DurableModelProvider):
            provider = DurableModelProvider(provider, run_options=self.run_options)
        settings = config.model_settings or ModelSettings()
        if settings.retry is None:
            # The journaled step owns the retries: no runner retries, no hidden client retries.
            settings = dataclasses.replace(settings, retry=ModelRetrySettings(max_retries=0))
        return dataclasses.replace(
            config,
            # The SDK's own trace of a replaying execution would report the replayed agent spans and
            # tool calls again: agentdur's OpenTelemetry spans are the replay-safe trace.
            tracing_disabled=config.tracing_disabled or tracing.is_replaying(),
            model_provider=provider,
            model=self.model(config.model),
            model_settings=settings,
            input_guardrails=_sequential(config.input_guardrails),
        )

    def model(self, model: str | Model | None) -> str | Model | None:
        if isinstance(model, Model) and not isinstance(model, DurableModel):
            return DurableModel(model, run_options=self.run_options)
        return model

    def agent(self, agent: Agent[Any]) -> Agent[Any]:
        """The durable copy of ``agent`` (one per original agent and durable run)."""
        if id(agent) in self.prepared or _is_prepared(agent):
            return agent
        copied = self.agents.get(id(agent))
        if copied is not None:
            return copied
        copied = agent.clone()
        self.agents[id(agent)] = copied  # before recursing: handoffs may form cycles
        self.prepared.add(id(copied))
        setattr(copied, _PREPARED_MARK, True)
        setattr(copied, _ORIGINAL, agent)
        copied.model = self.model(agent.model)
        copied.tools = [self.tool(tool, agent) for tool in agent.tools]
        copied.mcp_servers = [self.mcp_server(server) for server in agent.mcp_servers]
        copied.handoffs = [self.handoff(target) for target in agent.handoffs]
        copied.input_guardrails = _sequential(agent.input_guardrails) or []
        return copied

    def tool(self, tool: Tool, owner: Agent[Any]) -> Tool:
        if not isinstance(tool, FunctionTool):
            return tool
        if tool.tool_input_guardrails:
            raise UserError(
                f"tool {tool.name!r} of agent {owner.name!r} uses tool_input_guardrails, which cannot run "
                "durably yet: a call a guardrail holds back would keep the later calls of its turn waiting"
            )
        durable = self.tools.get(id(tool))
        if durable is None:
            if tool.needs_approval is not False and isinstance(self.approvals, Approvals):
                durable = approval_gated(tool, self.approvals)
            else:  # INTERRUPT: the SDK holds the call back; it takes no place in its turn
                durable = durable_tool(tool)
            self.tools[id(tool)] = durable
        return durable

    def mcp_server(self, server: MCPServer) -> MCPServer:
        """The server with its tool list and calls journaled (one wrapper per server and run)."""
        if isinstance(server, DurableMCPServer):
            return server
        durable = self.mcp_servers.get(id(server))
        if durable is None:
            durable = self.mcp_servers[id(server)] = DurableMCPServer(server)
        return durable

    def handoff(self, target: Agent[Any] | Handoff[Any, Any]) -> Agent[Any] | Handoff[Any, Any]:
        if isinstance(target, Agent):
            return self.agent(target)
        invoke = target.on_invoke_handoff

        async def on_invoke_handoff(context: RunContextWrapper[Any], arguments: str) -> Agent[Any]:
            return self.agent(await invoke(context, arguments))

        return dataclasses.replace(target, on_invoke_handoff=on_invoke_handoff)

    async def resumable(self, state: RunState[Any]) -> RunState[Any]:
        """``state``, or the same state over the prepared agents if it points at the user's own.

        The SDK resumes with the state's agents, not the starting agent, and a state rebuilt by
        ``RunState.from_json`` holds the user's agents, whose models are not journaled. The state is
        rebuilt once more, over the prepared agent graph (same context wrapper, same approvals).
        """
        starting = state._starting_agent
        if starting is None or _is_prepared(starting):
            return state
        decisions = owned_decisions(state, _original)
        rebuilt = await RunState.from_json(
            self.agent(starting), state.to_json(), context_override=state._context
        )
        restore_owned_decisions(rebuilt, decisions, self.agent)
        return rebuilt

    def prepare(
        self, agent: Agent[Any], options: SdkRunOptions[Any]
    ) -> tuple[Agent[Any], SdkRunOptions[Any]]:
        """A run's starting agent and options, prepared."""
        prepared = dict(options)
        prepared["run_config"] = self.prepare_config(options.get("run_config"))
        return self.agent(agent), cast(SdkRunOptions[Any], prepared)


def _sequential(guardrails: list[InputGuardrail[Any]] | None) -> list[InputGuardrail[Any]] | None:
    if guardrails is None:
        return None
    return [dataclasses.replace(g, run_in_parallel=False) if g.run_in_parallel else g for g in guardrails]


# Set on the durable copies of agents: a state resumed by a later run points at them and needs no new
# copy (an attribute, not a field: ``agent.clone()`` does not carry it).
_PREPARED_MARK = "_agentdur_prepared"


def _is_prepared(agent: Agent[Any] | None) -> bool:
    return agent is not None and getattr(agent, _PREPARED_MARK, False) is True


# Set on the durable copies too: the user's agent a copy was made of.
_ORIGINAL = "_agentdur_original"


def _original(agent: Agent[Any]) -> Agent[Any]:
    """The user's agent that ``agent`` is a durable copy of (``agent`` itself if it is the user's)."""
    original = getattr(agent, _ORIGINAL, None)
    return original if isinstance(original, Agent) else agent


_RUN: contextvars.ContextVar[_DurableRun | None] = contextvars.ContextVar("agentdur_openai_run", default=None)


@contextlib.contextmanager
def durable_run(run_options: RunOptions[Any] | None, approvals: ApprovalMode | None = None) -> Iterator[None]:
    """Make the agent runs started inside (directly or from tools) durable."""
    _install_runner()
    token = _RUN.set(_DurableRun(run_options, approvals if approvals is not None else Approvals()))
    try:
        with tool_turns_scope():
            yield
    finally:
        _RUN.reset(token)


class _DurableAgentRunner(AgentRunner):
    """The SDK's default agent runner, preparing the runs that start inside a durable run.

    Outside one it passes every call to the runner it replaced, unchanged.
    """

    def __init__(self, inner: AgentRunner) -> None:
        self.inner = inner

    async def run(
        self,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        **kwargs: Unpack[SdkRunOptions[TContext]],
    ) -> RunResult:
        run = _RUN.get()
        if run is None:
            return await self.inner.run(starting_agent, input, **kwargs)
        agent, options = run.prepare(starting_agent, kwargs)
        if isinstance(input, RunState):
            input = await run.resumable(input)
        return await self.inner.run(agent, input, **options)

    def run_sync(
        self,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        **kwargs: Unpack[SdkRunOptions[TContext]],
    ) -> RunResult:
        return self.inner.run_sync(starting_agent, input, **kwargs)

    def run_streamed(
        self,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        **kwargs: Unpack[SdkRunOptions[TContext]],
    ) -> RunResultStreaming:
        run = _RUN.get()
        if run is None:
            return self.inner.run_streamed(starting_agent, input, **kwargs)
        agent, options = run.prepare(starting_agent, kwargs)
        if isinstance(input, RunState) and not _is_prepared(input._starting_agent):
            raise UserError(
                "DurableRunner.run_streamed resumes only a RunState of a durable run (result.to_state()); "
                "resume a state rebuilt with RunState.from_json with DurableRunner.run"
            )
        return self.inner.run_streamed(agent, input, **options)


def _install_runner() -> None:
    current = get_default_agent_runner()
    if not isinstance(current, _DurableAgentRunner):
        set_default_agent_runner(_DurableAgentRunner(current))
