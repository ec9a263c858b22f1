"""FastestAnswer: a quick agent and a thorough agent race; the loser is cancelled and undoes its work.

    agentdur serve examples.patterns.racing:app
    curl localhost:8080/FastestAnswer/ask --json '{"question": "What is durable execution?"}'

Both agents are handlers called durably. The thorough one reserves a GPU, thinks (a durable
timer), then answers; when the quick one wins, the race cancels the thorough one through the engine,
and its saga releases the GPU. With no answer within the deadline the request fails with a 408.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.parallel import call
from agentdur.patterns.racing import race
from agentdur.patterns.sagas import Saga

from .._llm import complete

THINKING = timedelta(seconds=3)
DEADLINE = timedelta(seconds=60)
MODEL_OPTIONS: agentdur.RunOptions[str] = agentdur.RunOptions(max_attempts=5)


class Question(BaseModel):
    """What to answer."""

    question: str = Field(min_length=1)


class Winner(BaseModel):
    """The agent that answered first, and its answer."""

    agent: str
    answer: str


quick = agentdur.Service("QuickAgent", description="answers at once")


@quick.handler()
async def answer_quickly(ctx: agentdur.Context, q: Question) -> str:
    """One model call."""
    return await ctx.run_typed("Quick answer", complete, MODEL_OPTIONS, f"Answer in one line: {q.question}")


thorough = agentdur.Service("ThoroughAgent", description="reserves a GPU, thinks, then answers")


def reserve_gpu(question: str) -> str:
    return f"gpu-{len(question) % 8}"  # a stand-in for a reservation system


def release_gpu(gpu: str) -> str:
    return f"released {gpu}"


@thorough.handler()
async def answer_thoroughly(ctx: agentdur.Context, q: Question) -> str:
    """Reserve, think, answer; cancelled, the saga releases the reservation."""
    async with Saga(ctx) as saga:
        await saga.step("Reserve GPU", reserve_gpu, q.question, compensate=("Release GPU", release_gpu))
        await ctx.sleep(THINKING, "Thinking")
        prompt = f"Answer thoroughly: {q.question}"
        answer: str = await ctx.run_typed("Thorough answer", complete, MODEL_OPTIONS, prompt)
        await saga.compensate()  # done with the GPU
        return answer


fastest = agentdur.Service("FastestAnswer", description="racing: the first agent to answer wins")


@fastest.handler()
async def ask(ctx: agentdur.Context, q: Question) -> Winner:
    """Race both agents; the winner is journaled, the loser cancelled."""
    won = await race(
        ctx,
        [call("quick", answer_quickly, q), call("thorough", answer_thoroughly, q)],
        deadline=DEADLINE,
    )
    return Winner(agent=won.name, answer=str(won.value))


app = agentdur.App([fastest, quick, thorough])
