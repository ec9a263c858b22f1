"""Every model call of an ADK agent as one journaled step, whatever ``BaseLlm`` answers it.

:class:`DurableLlm` wraps a ``BaseLlm`` (``Gemini``, ``LiteLlm``, your own). Inside an agentdur handler
each ``generate_content_async`` is one step: the first execution calls the wrapped model (retrying
transient failures inside the step) and journals its responses as JSON; a replay rebuilds equal
``LlmResponse`` s from the journal and sends no request. Outside a handler it calls the model as is.

ADK gives the function calls of a response random ids when the model sent none (Gemini never does);
the ids are assigned inside the step instead, so they are journaled and the same on every replay.

Streaming (``RunConfig(streaming_mode=SSE)``): on the first execution the partial responses are
handed to ADK live while the step runs; the complete responses are journaled and yielded once the
step has finished. A replay yields only the journaled complete responses. The partial text and the
function calls are also published to the invocation's live output (``ctx.publish``) as they arrive.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from typing import Any

from google.adk.models import LlmCapabilities
from google.adk.models.base_llm import BaseLlm
from google.adk.models.base_llm_connection import BaseLlmConnection
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from pydantic import ConfigDict, Field, TypeAdapter

from agentdur import RunOptions, UserError, current_context

from ..kit import (
    ModelFacts,
    ModelInfo,
    journaled_model_call,
    publish_model_start,
    publish_text_delta,
    publish_tool_call,
)
from ._scope import options_of_request

__all__ = ["FUNCTION_CALL_ID_PREFIX", "DurableLlm", "responses_from_json", "responses_to_json"]

# ADK strips ids with this prefix before a request goes to the model: they are client-side.
FUNCTION_CALL_ID_PREFIX = "adk-"
_RESPONSES: TypeAdapter[list[LlmResponse]] = TypeAdapter(list[LlmResponse])


def responses_to_json(responses: list[LlmResponse]) -> list[dict[str, Any]]:
    """The journaled form of the complete responses of one model call."""
    return [response.model_dump(mode="json", exclude_none=True) for response in responses]


def responses_from_json(data: Any) -> list[LlmResponse]:
    """Equal ``LlmResponse`` s rebuilt from their journaled form."""
    return _RESPONSES.validate_python(data)


def responses_facts(data: Any) -> ModelFacts:
    """The model, token counts and finish reasons of one call's journaled responses (the last
    response that has usage metadata carries the call's totals)."""
    facts = ModelFacts()
    for response in data if isinstance(data, list) else []:
        usage = response.get("usage_metadata") or {}
        if usage:
            facts.input_tokens = int(usage.get("prompt_token_count") or 0)
            facts.output_tokens = int(usage.get("candidates_token_count") or 0) + int(
                usage.get("thoughts_token_count") or 0
            )
            facts.cached_tokens = int(usage.get("cached_content_token_count") or 0)
        facts.response_model = response.get("model_version") or facts.response_model
        if response.get("finish_reason"):
            facts.finish_reasons.append(str(response["finish_reason"]).lower())
    return facts


def provider_of(model: BaseLlm) -> str:
    """``gen_ai.provider.name`` of an ADK model: Gemini's, or litellm's route for ``LiteLlm``."""
    name = type(model).__name__
    if name == "LiteLlm":
        prefix = model.model.split("/", 1)[0] if "/" in model.model else "openai"
        return prefix
    if name in ("Gemini", "Gemma") or model.model.startswith("gemini"):
        return "gcp.gemini"
    return name


def assign_function_call_ids(response: LlmResponse) -> None:
    """Give every function call of ``response`` that has no id one, as ADK would."""
    if response.content is None or not response.content.parts:
        return
    for part in response.content.parts:
        if part.function_call is not None and not part.function_call.id:
            part.function_call.id = f"{FUNCTION_CALL_ID_PREFIX}{uuid.uuid4()}"


def _in_handler() -> bool:
    try:
        current_context()
    except UserError:
        return False
    return True


def _publish_text(response: LlmResponse) -> None:
    """A partial response's text, for the invocation's live watchers."""
    for part in response.content.parts or [] if response.content is not None else []:
        if part.text and not part.thought:
            publish_text_delta(part.text)


def _publish_calls(response: LlmResponse) -> None:
    """A complete response's function calls, for the invocation's live watchers."""
    for part in response.content.parts or [] if response.content is not None else []:
        if part.function_call is not None:
            call = part.function_call
            publish_tool_call(call.name or "", call.args, call.id)


class DurableLlm(BaseLlm):
    """A ``BaseLlm`` whose calls are journaled steps, replayed without a request.

    Args:
        wrapped: the model that really answers.
        run_options: retries of each call (default: the running ``DurablePlugin``'s, else 5
            attempts with backoff, ``retry-after`` honoured; authentication and bad-request errors
            fail at once).

    :class:`~agentdur.integrations.adk.DurablePlugin` wraps the model of every ``LlmAgent`` of a run
    for you; set ``LlmAgent(model=DurableLlm(my_model))`` yourself only to use it without the plugin.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    wrapped: BaseLlm
    run_options: Any = Field(default=None, exclude=True)

    def __init__(self, wrapped: BaseLlm, *, run_options: RunOptions[Any] | None = None, **data: Any) -> None:
        fields: dict[str, Any] = {
            "model": wrapped.model,
            **data,
            "wrapped": wrapped,
            "run_options": run_options,
        }
        super().__init__(**fields)

    @property
    def step_name(self) -> str:
        """The journal name of this model's calls."""
        return f"LLM call: {self.model}"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        """The wrapped model's responses; journaled inside a handler (see the module docstring)."""
        if not _in_handler():
            async for response in self.wrapped.generate_content_async(llm_request, stream=stream):
                yield response
            return
        if not stream:
            for response in await self._journaled(llm_request, None):
                yield response
            return
        async for response in self._streamed(llm_request):
            yield response

    async def _journaled(
        self, llm_request: LlmRequest, live: asyncio.Queue[LlmResponse] | None
    ) -> list[LlmResponse]:
        """One step: the complete responses of the call (partial ones go to ``live`` when streaming)."""

        async def call() -> list[LlmResponse]:
            complete: list[LlmResponse] = []
            generator = self.wrapped.generate_content_async(llm_request, stream=live is not None)
            if live is not None:
                publish_model_start(self.model)
            try:
                async for response in generator:
                    if response.partial:
                        if live is not None:
                            live.put_nowait(response)
                            _publish_text(response)
                        continue
                    assign_function_call_ids(response)
                    if live is not None:
                        _publish_calls(response)
                    complete.append(response)
            finally:
                await generator.aclose()
            return complete

        return await journaled_model_call(
            self.step_name,
            call,
            dump=responses_to_json,
            load=responses_from_json,
            run_options=self.run_options
            if self.run_options is not None
            else options_of_request(llm_request).run_options,
            info=ModelInfo(
                provider=provider_of(self.wrapped),
                request_model=llm_request.model or self.wrapped.model,
                facts=responses_facts,
            ),
        )

    async def _streamed(self, llm_request: LlmRequest) -> AsyncGenerator[LlmResponse, None]:
        live: asyncio.Queue[LlmResponse] = asyncio.Queue()
        # The step runs in its own task while this generator hands the partial responses to ADK.
        step = asyncio.ensure_future(self._journaled(llm_request, live))
        try:
            while not step.done() or not live.empty():
                if live.empty():
                    getter = asyncio.ensure_future(live.get())
                    await asyncio.wait({getter, step}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        continue
                    yield getter.result()
                else:
                    yield live.get_nowait()
            complete = step.result()
        finally:
            if not step.done():
                step.cancel()
        for response in complete:
            yield response

    @property
    def capabilities(self) -> LlmCapabilities:
        """The wrapped model's capabilities."""
        return self.wrapped.capabilities

    def connect(self, llm_request: LlmRequest) -> AbstractAsyncContextManager[BaseLlmConnection]:
        """Live (bidirectional) sessions are not journaled: they connect to the wrapped model."""
        return self.wrapped.connect(llm_request)
