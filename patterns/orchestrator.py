"""Orchestrator-workers: a model plans subtasks, workers do them in parallel, a synthesizer combines.

Three journaled phases:

1. ``Plan``: the planner model, given the task as its prompt and ``plan_instructions``, answers a
   :class:`Plan` (structured output, retried until it parses); at most ``max_subtasks`` are kept.
2. ``Worker <i>: <title>``: one branch per subtask, at most ``limit`` at a time, results in plan
   order (:mod:`~agentdur.patterns.parallel`). By default each worker is one model call; pass
   ``worker`` to make it anything else, such as a call to a remote agent.
3. ``Synthesize``: the synthesizer model combines the task and the workers' results.

After a crash the plan and every finished worker's result come from the journal: nothing is asked
of a model twice.

Example::

    orchestrator = Orchestrator(plan_with=structured_call, work_with=call_model, synthesize_with=call_model)

    @service.handler()
    async def research(ctx: agentdur.Context, question: str) -> Orchestrated:
        return await orchestrator.run(ctx, question)
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from agentdur import Context, TerminalError, UserError

from ._model import DEFAULT_MODEL_OPTIONS, ModelCall, StructuredModelCall, ask_structured, ask_text
from .parallel import Branch, run_all, step

__all__ = ["Orchestrated", "Orchestrator", "Plan", "Subtask"]

PLAN_INSTRUCTIONS = (
    "Break the user's task into at most {max_subtasks} independent subtasks that can be done in "
    "parallel, each with a short title and instructions. Answer in JSON."
)
WORKER_PROMPT = "You are working on part of a larger task.\nTask: {task}\nYour part: {title}. {instructions}"
SYNTHESIS_PROMPT = "Combine these results into one answer to the task.\nTask: {task}\n{results}"


class Subtask(BaseModel):
    """One piece of the plan."""

    title: str = Field(min_length=1)
    instructions: str = ""


class Plan(BaseModel):
    """The planner's answer."""

    subtasks: list[Subtask]


class Orchestrated(BaseModel):
    """The plan, each worker's result (in plan order) and the combined answer."""

    plan: Plan
    results: list[str]
    answer: str


Worker = Callable[[str, int, Subtask], Branch[str]]


class Orchestrator:
    """Plans, works in parallel and synthesizes (see the module docstring).

    Args:
        plan_with: the planner model (structured output).
        work_with: the workers' model, when ``worker`` is not given.
        synthesize_with: the synthesizer model.
        worker: builds subtask ``i``'s branch from ``(task, i, subtask)`` instead of a model step.
        max_subtasks: more subtasks than this in a plan are dropped.
        limit: how many workers run at once (default: all).
    """

    def __init__(
        self,
        *,
        plan_with: StructuredModelCall,
        synthesize_with: ModelCall,
        work_with: ModelCall | None = None,
        worker: Worker | None = None,
        max_subtasks: int = 5,
        limit: int | None = None,
        plan_instructions: str = PLAN_INSTRUCTIONS,
        worker_prompt: str = WORKER_PROMPT,
        synthesis_prompt: str = SYNTHESIS_PROMPT,
    ) -> None:
        if (work_with is None) == (worker is None):
            raise UserError("pass exactly one of work_with (a model) and worker (a branch builder)")
        if max_subtasks < 1:
            raise UserError(f"max_subtasks must be at least 1, got {max_subtasks}")
        self.plan_with = plan_with
        self.work_with = work_with
        self.synthesize_with = synthesize_with
        self.worker = worker
        self.max_subtasks = max_subtasks
        self.limit = limit
        self.plan_instructions = plan_instructions
        self.worker_prompt = worker_prompt
        self.synthesis_prompt = synthesis_prompt

    async def plan(self, ctx: Context, task: str) -> Plan:
        """The journaled ``Plan`` step, cut to ``max_subtasks``."""
        instructions = self.plan_instructions.format(max_subtasks=self.max_subtasks)
        plan = await ask_structured(ctx, "Plan", self.plan_with, task, Plan, instructions=instructions)
        if not plan.subtasks:
            raise TerminalError(f"the planner returned no subtasks for: {task[:200]}")
        return Plan(subtasks=plan.subtasks[: self.max_subtasks])

    def branch(self, task: str, index: int, subtask: Subtask) -> Branch[str]:
        """Subtask ``index``'s branch: ``worker``'s, or one model step."""
        if self.worker is not None:
            return self.worker(task, index, subtask)
        prompt = self.worker_prompt.format(task=task, title=subtask.title, instructions=subtask.instructions)
        assert self.work_with is not None
        return step(
            f"Worker {index}: {subtask.title[:60]}", self.work_with, prompt, options=DEFAULT_MODEL_OPTIONS
        )

    async def run(self, ctx: Context, task: str) -> Orchestrated:
        """Plan ``task``, run the workers, synthesize; each phase journaled."""
        plan = await self.plan(ctx, task)
        branches = [self.branch(task, i, s) for i, s in enumerate(plan.subtasks)]
        results = [str(r) for r in await run_all(ctx, branches, limit=self.limit)]
        listing = "\n".join(f"## {s.title}\n{r}" for s, r in zip(plan.subtasks, results, strict=True))
        prompt = self.synthesis_prompt.format(task=task, results=listing)
        answer = await ask_text(ctx, "Synthesize", self.synthesize_with, prompt)
        return Orchestrated(plan=plan, results=results, answer=answer)
