"""Every model call of an agent run as one journaled step, whatever kind of ``Model`` makes it.

:class:`DurableModel` wraps any ``agents.Model`` (the Responses or Chat Completions model, a
``LitellmModel``, your own); :class:`DurableModelProvider` wraps the models a provider resolves
from names. The first execution calls the model and journals the ``ModelResponse`` as JSON; a replay
rebuilds an equal ``ModelResponse`` from the journal and sends no request.

After each response, the function calls it asks for are registered as one tool turn (see
``agentdur.integrations.kit.ToolTurns``), so that concurrent tools journal in a fixed order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import openai
from agents import FunctionTool, Handoff, Model, ModelProvider, ModelSettings, Tool, Usage
from agents.agent_output import AgentOutputSchemaBase
from agents.items import ModelResponse, TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from agents.models.interface import ModelTracing
from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemDoneEvent,
    ResponseTextDeltaEvent,
    ResponseUsage,
)
from openai.types.responses.response_prompt_param import ResponsePromptParam
from pydantic import TypeAdapter

from agentdur import RunOptions, TerminalError

from ..kit import (
    ModelFacts,
    ModelInfo,
    credentials_error,
    current_tool_turns,
    is_credentials_error,
    is_terminal_model_error,
    journaled_model_call,
    publish_model_start,
    publish_text_delta,
    publish_tool_call,
)
from ._tools import DurableInvoker

R = TypeVar("R")
HTTP_TOO_MANY_REQUESTS = 429

__all__ = ["DurableModel", "DurableModelProvider", "response_from_json", "response_to_json"]

_MODEL_RESPONSE: TypeAdapter[ModelResponse] = TypeAdapter(ModelResponse)


def response_to_json(response: ModelResponse) -> dict[str, Any]:
    """The journaled form of a ``ModelResponse``: output items, usage and ids, as JSON data."""
    # By alias: the openai types name some fields after Python keywords (``async_`` is ``async`` on
    # the wire) and read back only the wire name; the field name would come back as an extra field.
    data: dict[str, Any] = _MODEL_RESPONSE.dump_python(response, mode="json", by_alias=True)
    return data


def response_from_json(data: Any) -> ModelResponse:
    """An equal ``ModelResponse`` rebuilt from its journaled form (output items are openai types)."""
    return _MODEL_RESPONSE.validate_python(data)


def response_facts(data: Any) -> ModelFacts:
    """The id and token counts of a journaled ``ModelResponse`` (it keeps no model name)."""
    usage = data.get("usage") or {}
    details = usage.get("input_tokens_details") or {}
    return ModelFacts(
        response_id=data.get("response_id") or None,
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0),
        finish_reasons=_finish_reasons(data.get("output") or []),
    )


def _finish_reasons(output: list[Any]) -> list[str]:
    """``tool_calls`` when the response asks for function calls, else ``stop``."""
    calls = any(isinstance(item, dict) and item.get("type") == "function_call" for item in output)
    return ["tool_calls" if calls else "stop"]


def provider_of(model: Model) -> str:
    """``gen_ai.provider.name`` of an SDK model: ``openai`` for the SDK's own, litellm's route for a
    ``LitellmModel``."""
    if type(model).__name__ == "LitellmModel":
        name = str(getattr(model, "model", ""))
        return name.split("/", 1)[0] if "/" in name else "openai"
    return "openai"


def _completed(response: Response) -> ModelResponse:
    """The ``ModelResponse`` the runner builds from a stream's ``response.completed`` event."""
    usage = Usage()
    if response.usage is not None:
        usage = Usage(
            requests=1,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            total_tokens=response.usage.total_tokens,
            input_tokens_details=response.usage.input_tokens_details,
            output_tokens_details=response.usage.output_tokens_details,
        )
    return ModelResponse(output=list(response.output), usage=usage, response_id=response.id)


def _completed_event(response: ModelResponse) -> ResponseCompletedEvent:
    """A ``response.completed`` event carrying a journaled response, for a replayed stream.

    Built without validation: the runner reads only the output, the usage and the id, and a
    ``Response`` has many required fields a journaled ``ModelResponse`` does not keep.
    """
    usage = ResponseUsage.model_construct(
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        total_tokens=response.usage.total_tokens,
        input_tokens_details=response.usage.input_tokens_details,
        output_tokens_details=response.usage.output_tokens_details,
    )
    replayed = Response.model_construct(
        id=response.response_id or "",
        object="response",
        created_at=0.0,
        model="",
        output=response.output,
        usage=usage,
        status="completed",
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
    )
    return ResponseCompletedEvent.model_construct(
        type="response.completed", response=replayed, sequence_number=0
    )


class DurableModel(Model):
    """A ``Model`` whose responses are journaled: each call is one step, replayed without a request.

    Args:
        model: the model that really answers.
        name: the model's name in step names (``LLM call: <name>``); taken from the model when
            omitted.
        run_options: retries of each call (default: 5 attempts with backoff, ``retry-after``
            honoured; authentication and bad-request errors fail at once).

    Set it on an agent (``Agent(model=DurableModel(my_model))``) to journal a model that
    :class:`~agentdur.integrations.openai_agents.DurableRunner` cannot reach by itself; the runner
    wraps every other model of the run for you.
    """

    def __init__(
        self, model: Model, *, name: str | None = None, run_options: RunOptions[Any] | None = None
    ) -> None:
        self.wrapped = model
        label = name or getattr(model, "model", None)
        # ``model`` is the model's name, as on the SDK's own models (the SDK reads it in places).
        self.model = label if isinstance(label, str) and label else type(model).__name__
        self.step_name = f"LLM call: {self.model}"
        self.run_options = run_options
        self.info = ModelInfo(provider=provider_of(model), request_model=self.model, facts=response_facts)

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        async def send() -> ModelResponse:
            return await self.wrapped.get_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id=previous_response_id,
                conversation_id=conversation_id,
                prompt=prompt,
            )

        call = not_resent_into(conversation_id, send)
        response = await journaled_model_call(
            self.step_name,
            call,
            dump=response_to_json,
            load=response_from_json,
            run_options=self.run_options,
            info=self.info,
        )
        _begin_tool_turn(response.output, tools)
        return response

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        """Stream the events live while the step runs; on replay, one ``response.completed`` event
        carrying the journaled response (no request is sent). Text deltas and tool calls are also
        published to the invocation's live output (``ctx.publish``) as they arrive."""
        live: asyncio.Queue[TResponseStreamEvent] = asyncio.Queue()

        async def stream() -> ModelResponse:
            completed: Response | None = None
            done_items: list[TResponseOutputItem] = []
            publish_model_start(str(self.model))
            async for event in self.wrapped.stream_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id=previous_response_id,
                conversation_id=conversation_id,
                prompt=prompt,
            ):
                live.put_nowait(event)
                _publish(event)
                if isinstance(event, ResponseCompletedEvent):
                    completed = event.response
                elif isinstance(event, ResponseOutputItemDoneEvent):
                    done_items.append(event.item)
            if completed is None:
                raise RuntimeError(f"{self.step_name}: the stream ended without a response.completed event")
            if not completed.output and done_items:
                completed = completed.model_copy(update={"output": done_items})
            return _completed(completed)

        # The step is awaited by its own task (the only one waiting on the journal) while this
        # generator hands the live events to the runner.
        step = asyncio.ensure_future(
            journaled_model_call(
                self.step_name,
                not_resent_into(conversation_id, stream),
                dump=response_to_json,
                load=response_from_json,
                run_options=self.run_options,
                info=self.info,
            )
        )
        streamed_completion = False
        try:
            while not step.done() or not live.empty():
                if live.empty():
                    getter = asyncio.ensure_future(live.get())
                    await asyncio.wait({getter, step}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        continue
                    event = getter.result()
                else:
                    event = live.get_nowait()
                streamed_completion = streamed_completion or isinstance(event, ResponseCompletedEvent)
                yield event
            response = step.result()
        finally:
            if not step.done():
                step.cancel()
        _begin_tool_turn(response.output, tools)
        if not streamed_completion:  # replayed: nothing was streamed
            yield _completed_event(response)

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        return self.wrapped.get_retry_advice(request)

    async def close(self) -> None:
        await self.wrapped.close()

    async def _cleanup_on_run_end(self, owner: object) -> None:
        await self.wrapped._cleanup_on_run_end(owner)


class DurableModelProvider(ModelProvider):
    """A ``ModelProvider`` whose models are :class:`DurableModel` s.

    Args:
        provider: resolves names to models (the SDK's ``MultiProvider`` by default).
        run_options: retries of each model call.
    """

    def __init__(self, provider: ModelProvider, *, run_options: RunOptions[Any] | None = None) -> None:
        self.provider = provider
        self.run_options = run_options

    def get_model(self, model_name: str | None) -> Model:
        """The provider's model for ``model_name``, journaled.

        Raises:
            TerminalError: the provider cannot build the model without credentials (no API key):
                no retry can fix that, so the invocation fails at once instead of being retried.
        """
        try:
            model = self.provider.get_model(model_name)
        except Exception as error:
            if is_credentials_error(error):
                raise credentials_error(f"LLM call: {model_name or 'default model'}", error) from error
            raise
        if isinstance(model, DurableModel):
            return model
        return DurableModel(model, name=model_name, run_options=self.run_options)

    async def aclose(self) -> None:
        await self.provider.aclose()


def _publish(event: TResponseStreamEvent) -> None:
    """A streamed event's text delta or finished tool call, for the invocation's live watchers."""
    if isinstance(event, ResponseTextDeltaEvent):
        publish_text_delta(event.delta)
    elif isinstance(event, ResponseOutputItemDoneEvent) and isinstance(event.item, ResponseFunctionToolCall):
        publish_tool_call(event.item.name, event.item.arguments, event.item.call_id)


def _begin_tool_turn(output: list[TResponseOutputItem], tools: list[Tool]) -> None:
    """Register the calls of ``output`` that run as durable local tools, in the response's order.

    Only calls whose tool goes through a :class:`DurableInvoker` take a place in the turn: any other
    call (a handoff, a hosted tool, an MCP tool, a call the SDK may hold back for approval) may never
    arrive there, and a later tool must not wait for it. Those run outside the turn order; the
    engines replay concurrent tasks deterministically, so their steps still replay in place.
    """
    turns = current_tool_turns()
    if turns is None:
        return
    durable = {
        tool.name
        for tool in tools
        if isinstance(tool, FunctionTool)
        and isinstance(tool.on_invoke_tool, DurableInvoker)
        and tool.needs_approval is False  # the SDK may hold the call back (approvals=INTERRUPT)
    }
    call_ids = [
        item.call_id for item in output if isinstance(item, ResponseFunctionToolCall) and item.name in durable
    ]
    if call_ids:
        turns.begin(call_ids)


def not_resent_into(
    conversation_id: str | None, call: Callable[[], Awaitable[R]]
) -> Callable[[], Awaitable[R]]:
    """``call``, whose failures are not retried when a retry could add its input to a server-side
    conversation twice.

    A request in a conversation (``conversation_id``, OpenAI conversations sessions) appends its input
    items to the conversation held by the provider. A request that failed after reaching the provider
    (a 5xx, a timeout, a dropped connection) may have been applied, so resending it could duplicate
    them: such a failure ends the step terminally, naming the conversation. Failures that prove the
    request was refused before being applied (429, a connection that never opened) and errors the step
    treats as terminal anyway pass through unchanged and keep their usual retries.

    ``previous_response_id`` needs none of this: a response is immutable, a retried request makes a
    sibling of the lost response, and the next call continues from the journaled one.
    """
    if conversation_id is None:
        return call

    async def once() -> R:
        try:
            return await call()
        except Exception as error:
            if is_terminal_model_error(error) or _refused_before_applied(error):
                raise
            raise TerminalError(
                f"a model call in conversation {conversation_id!r} failed ({type(error).__name__}: {error}) "
                "after it may have reached the provider; it is not retried, since the conversation may "
                "already hold its input and a retry would add it twice",
                502,
            ) from error

    return once


def _refused_before_applied(error: BaseException) -> bool:
    """True when the provider cannot have applied the request: rate limited, or never connected."""
    if getattr(error, "status_code", None) == HTTP_TOO_MANY_REQUESTS:
        return True
    cause = error.__cause__ or error.__context__
    return isinstance(error, openai.APIConnectionError) and isinstance(cause, httpx.ConnectError)
