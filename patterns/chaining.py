"""Prompt chaining: a chain of named steps, each transforming the previous step's output.

Each step is a journaled ``ctx.run_typed`` step, so a chain that crashed halfway resumes at the first
step that had not completed: model calls already made are replayed, never paid for twice. LLM steps
and plain steps mix freely; the pattern takes a model-call function and depends on no framework.

Example::

    chain = Chain(
        llm_step("Extract facts", "Extract the facts from this claim: {input}", call_model),
        step("Normalize", normalize_facts),
        llm_step("Draft reply", lambda facts: f"Write a reply about {facts}", call_model),
    )

    @service.handler()
    async def handle(ctx: agentdur.Context, text: str) -> str:
        return await chain.run(ctx, text)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentdur import MODEL_CALL_OPTIONS, Context, RunOptions, UserError

__all__ = ["Chain", "ChainStep", "ModelCall", "llm_step", "run_chain", "step"]

DEFAULT_LLM_OPTIONS: RunOptions[Any] = MODEL_CALL_OPTIONS


class ModelCall(Protocol):
    """A function that sends a prompt to a model and returns its text (any provider, any SDK)."""

    def __call__(self, prompt: str) -> Awaitable[str]: ...


@dataclass(frozen=True)
class ChainStep:
    """One link of a chain: a name (its journal entry), what it does, and its retry options."""

    name: str
    fn: Callable[[Any], Any]
    options: RunOptions[Any] = field(default_factory=RunOptions)
    kind: str = "plain"
    journaled: bool = True  # False: fn journals its own steps (e.g. an integration's model call)


def step(name: str, fn: Callable[[Any], Any], options: RunOptions[Any] | None = None) -> ChainStep:
    """A plain step: ``fn(previous_output)``, sync or async, journaled under ``name``."""
    return ChainStep(name, fn, options or RunOptions())


def llm_step(
    name: str,
    prompt: str | Callable[[Any], str],
    call_model: ModelCall,
    options: RunOptions[Any] | None = None,
    *,
    journal_model_call: bool = True,
) -> ChainStep:
    """A model step: builds a prompt from the previous output and calls the model once.

    Args:
        name: the journal entry's name.
        prompt: a template with ``{input}`` or a function of the previous output.
        call_model: sends the prompt and returns the model's text.
        options: retries of the call (default: :data:`agentdur.MODEL_CALL_OPTIONS`).
        journal_model_call: run ``call_model`` as one journaled step (default). Set False when it
            journals itself, e.g. it calls ``agentdur.integrations.litellm.acompletion``: a step
            cannot contain another.
    """

    def render(previous: Any) -> str:
        return prompt(previous) if callable(prompt) else prompt.format(input=previous)

    async def call(previous: Any) -> str:
        return await call_model(render(previous))

    return ChainStep(name, call, options or DEFAULT_LLM_OPTIONS, kind="llm", journaled=journal_model_call)


async def run_chain(ctx: Context, steps: Sequence[ChainStep], value: Any) -> Any:
    """Run ``steps`` in order inside a handler, each as a journaled step; returns the last output."""
    if not steps:
        raise UserError("a chain needs at least one step")
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise UserError(f"chain step names must be unique, got {names}")
    for link in steps:
        if link.journaled:
            value = await ctx.run_typed(link.name, link.fn, link.options, value)
        else:
            value = await link.fn(value)
    return value


class Chain:
    """A reusable chain of steps (see the module docstring)."""

    def __init__(self, *steps: ChainStep) -> None:
        if not steps:
            raise UserError("a chain needs at least one step")
        self.steps = list(steps)

    async def run(self, ctx: Context, value: Any) -> Any:
        """Run the chain inside a handler; returns the last step's output."""
        return await run_chain(ctx, self.steps, value)
