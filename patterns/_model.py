"""What the patterns need from a model: a text call, or a call answering JSON for a schema."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from agentdur import MODEL_CALL_OPTIONS, Context, RunOptions, TerminalError

__all__ = [
    "ModelCall",
    "ModelOutputError",
    "StructuredModelCall",
    "ask_structured",
    "ask_text",
    "parse_output",
]

M = TypeVar("M", bound=BaseModel)

DEFAULT_MODEL_OPTIONS: RunOptions[Any] = MODEL_CALL_OPTIONS
JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class ModelCall(Protocol):
    """Sends a prompt to a model and returns its text (any provider, any SDK)."""

    def __call__(self, prompt: str) -> Awaitable[str]: ...


class StructuredModelCall(Protocol):
    """Sends a prompt and a JSON schema; returns the model's text, which should be a JSON object
    of that schema (use the provider's structured output / JSON mode).

    ``instructions`` (possibly empty) go before the prompt, as the system message where the API has
    one: the router puts its list of routes there and the request in ``prompt``.
    """

    def __call__(self, prompt: str, schema: dict[str, Any], instructions: str) -> Awaitable[str]: ...


class ModelOutputError(ValueError):
    """The model's text is not a valid object of the schema; retryable (the model may do better)."""


def parse_output(model: type[M], text: str) -> M:
    """``text`` as a ``model``: the whole text, or the outermost ``{...}`` in it (models like to wrap
    JSON in prose or a Markdown fence).

    Raises:
        ModelOutputError: neither validates.
    """
    candidates = [text]
    if (found := JSON_OBJECT.search(text)) is not None:
        candidates.append(found.group(0))
    error = ""
    for candidate in candidates:
        try:
            return model.model_validate_json(candidate)
        except ValidationError as invalid:
            error = str(invalid).splitlines()[0]
    raise ModelOutputError(
        f"the model did not answer with a {model.__name__} ({error}): {json.dumps(text[:200])}"
    )


async def ask_structured(
    ctx: Context,
    name: str,
    call_model: StructuredModelCall,
    prompt: str,
    model: type[M],
    *,
    schema: dict[str, Any] | None = None,
    instructions: str = "",
    options: RunOptions[Any] | None = None,
    journal_model_call: bool = True,
) -> M:
    """Ask the model for a ``model`` object in journaled step ``name``; an answer that does not
    validate is retried (up to ``options``' attempts, default 5), and the journal holds valid JSON.

    With ``journal_model_call=False``, ``call_model`` journals itself (an integration's call) and
    the answer is parsed outside any step: an invalid one is then a terminal error.
    """
    schema = schema or model.model_json_schema()

    async def ask() -> str:
        return parse_output(model, await call_model(prompt, schema, instructions)).model_dump_json()

    if not journal_model_call:
        try:
            return parse_output(model, await call_model(prompt, schema, instructions))
        except ModelOutputError as error:
            raise TerminalError(str(error)) from None
    text = await ctx.run_typed(name, ask, options or DEFAULT_MODEL_OPTIONS)
    return model.model_validate_json(text)


async def ask_text(
    ctx: Context,
    name: str,
    call_model: Callable[[str], Awaitable[str]],
    prompt: str,
    *,
    options: RunOptions[Any] | None = None,
    journal_model_call: bool = True,
) -> str:
    """Ask the model for text in journaled step ``name`` (or let ``call_model`` journal itself)."""
    if not journal_model_call:
        return await call_model(prompt)
    return await ctx.run_typed(name, call_model, options or DEFAULT_MODEL_OPTIONS, prompt)
