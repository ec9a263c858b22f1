"""GenAI spans and usage records of model calls, tool executions and agent runs.

Spans follow the OpenTelemetry GenAI semantic conventions (``chat {model}``, ``execute_tool {name}``,
``invoke_agent {name}``). A model call or tool answered from the journal sends no request: it gets no
span of its own (the engine marks its step ``agentdur.replayed``) and its usage is recorded as saved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agentdur import tracing
from agentdur.usage import ModelUsage, cost_of, record_model_call

__all__ = [
    "ModelFacts",
    "ModelInfo",
    "agent_span",
    "record_usage",
    "start_agent_span",
    "traced_model_request",
    "traced_tool",
]

R = TypeVar("R")


@dataclass
class ModelFacts:
    """What a journaled response says about its call (read from its JSON form)."""

    response_model: str | None = None
    response_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    finish_reasons: list[str] = field(default_factory=list)


@dataclass
class ModelInfo:
    """What an integration tells the kit about a model call.

    Args:
        provider: ``gen_ai.provider.name`` (``openai``, ``gcp.gemini``, ...).
        request_model: the model asked for.
        facts: reads a journaled response's :class:`ModelFacts`.
    """

    provider: str | None
    request_model: str | None
    facts: Callable[[Any], ModelFacts]

    def usage(self, data: Any) -> tuple[ModelUsage, ModelFacts]:
        """The ledger record of the call whose journaled response is ``data``."""
        facts = self.facts(data)
        model = facts.response_model or self.request_model
        cost = None
        if model:
            cost = cost_of(model, facts.input_tokens, facts.output_tokens, facts.cached_tokens, self.provider)
            if cost is None and self.request_model and self.request_model != model:
                cost = cost_of(
                    self.request_model,
                    facts.input_tokens,
                    facts.output_tokens,
                    facts.cached_tokens,
                    self.provider,
                )
        usage = ModelUsage(
            self.provider, model, facts.input_tokens, facts.output_tokens, facts.cached_tokens, cost
        )
        return usage, facts


def record_usage(info: ModelInfo | None, step: str, data: Any, replayed: bool) -> None:
    """Record the call of step ``step`` in the ledger (``replayed``: answered from the journal)."""
    if info is None:
        return
    try:
        usage, _ = info.usage(data)
    except Exception:  # a response the reader does not understand has no usage to record
        return
    record_model_call(usage, step, replayed)


async def traced_model_request(
    info: ModelInfo | None, step: str, call: Callable[[], Awaitable[R]], dump: Callable[[R], Any]
) -> R:
    """One real model request in a ``chat {model}`` span (no span while tracing is off)."""
    tracer = tracing.tracer()
    if tracer is None or info is None:
        return await call()
    from opentelemetry.trace import SpanKind, Status, StatusCode

    model = info.request_model or "unknown"
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "agentdur.step.name": step,
        "agentdur.replayed": False,
    }
    if info.provider:
        attributes["gen_ai.provider.name"] = info.provider
    with tracer.start_as_current_span(
        f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes, record_exception=True
    ) as span:
        try:
            response = await call()
        except BaseException as error:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR))
            raise
        with contextlib.suppress(Exception):
            usage, facts = info.usage(dump(response))
            span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
            if usage.cached_tokens:
                span.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cached_tokens)
            if usage.model:  # an SDK that drops the response's model name reports the requested one
                span.set_attribute("gen_ai.response.model", usage.model)
            if facts.response_id:
                span.set_attribute("gen_ai.response.id", facts.response_id)
            if facts.finish_reasons:
                span.set_attribute("gen_ai.response.finish_reasons", facts.finish_reasons)
            if usage.cost_usd is not None:
                span.set_attribute("agentdur.usage.cost_usd", usage.cost_usd)
        return response


async def traced_tool(tool_name: str, step: str, call: Callable[[], Awaitable[R]]) -> R:
    """One real execution of a tool in an ``execute_tool {name}`` span."""
    tracer = tracing.tracer()
    if tracer is None:
        return await call()
    from opentelemetry.trace import SpanKind

    attributes: dict[str, str | bool] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool_name,
        "agentdur.step.name": step,
        "agentdur.replayed": False,
    }
    with tracer.start_as_current_span(
        f"execute_tool {tool_name}", kind=SpanKind.INTERNAL, attributes=attributes
    ):
        return await call()


def start_agent_span(agent_name: str, provider: str | None = None) -> Any:
    """An ``invoke_agent {name}`` span started now (not made current), for frameworks that report a
    run's start and end in separate callbacks; end it with ``span.end()``. ``None`` while off."""
    tracer = tracing.tracer()
    if tracer is None:
        return None
    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent_name}
    if provider:
        attributes["gen_ai.provider.name"] = provider
    return tracer.start_span(f"invoke_agent {agent_name}", attributes=attributes)


@contextlib.contextmanager
def agent_span(agent_name: str, provider: str | None = None) -> Iterator[None]:
    """An ``invoke_agent {name}`` span around one execution of an agent run (nothing while off).

    After a recovery the run continues in a new execution, with a new span in the same trace; the
    model calls and tools it replays have no spans of their own.
    """
    tracer = tracing.tracer()
    if tracer is None:
        yield
        return
    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent_name}
    if provider:
        attributes["gen_ai.provider.name"] = provider
    with tracer.start_as_current_span(f"invoke_agent {agent_name}", attributes=attributes):
        yield
