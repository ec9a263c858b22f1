"""Evaluator-optimizer: generate, evaluate, refine with the feedback, until accepted or out of rounds.

Each round is two journaled steps, ``Generate <n>`` (a text model call; from round 2 on its prompt
carries the previous draft and the evaluator's feedback) and ``Evaluate <n>`` (a structured model
call answering an :class:`Evaluation`). The loop stops at the first accepted draft or after
``max_rounds``; the result says which, and holds every round. After a crash the finished rounds come
from the journal and the loop continues where it stopped.

Example::

    result = await optimize(ctx, "a haiku about durable execution",
                            generate=call_model, evaluate=structured_call, max_rounds=3)
    return result.answer
"""

from __future__ import annotations

from pydantic import BaseModel

from agentdur import Context, UserError

from ._model import ModelCall, StructuredModelCall, ask_structured, ask_text

__all__ = ["Evaluation", "Optimized", "Round", "optimize"]

GENERATE_PROMPT = "Complete this task: {task}"
REFINE_PROMPT = (
    "Complete this task: {task}\nYour previous attempt:\n{draft}\n"
    "A reviewer's feedback on it:\n{feedback}\nWrite an improved version."
)
EVALUATE_INSTRUCTIONS = (
    "Evaluate the answer to the task. Answer in JSON with accepted (true or false) and feedback "
    "(what to improve)."
)
EVALUATE_PROMPT = "Task: {task}\nAnswer: {draft}"


class Evaluation(BaseModel):
    """The evaluator's verdict on one draft."""

    accepted: bool
    feedback: str = ""


class Round(BaseModel):
    """One generate-evaluate round."""

    number: int
    draft: str
    evaluation: Evaluation


class Optimized(BaseModel):
    """The last draft, whether it was accepted, and every round."""

    answer: str
    accepted: bool
    rounds: list[Round]


async def optimize(
    ctx: Context,
    task: str,
    *,
    generate: ModelCall,
    evaluate: StructuredModelCall,
    max_rounds: int = 3,
    generate_prompt: str = GENERATE_PROMPT,
    refine_prompt: str = REFINE_PROMPT,
    evaluate_prompt: str = EVALUATE_PROMPT,
    evaluate_instructions: str = EVALUATE_INSTRUCTIONS,
) -> Optimized:
    """Generate and evaluate drafts of ``task`` until one is accepted or ``max_rounds`` passed.

    Args:
        ctx: the handler's context.
        task: what to produce.
        generate: the generator model (text).
        evaluate: the evaluator model (structured output, an :class:`Evaluation`).
        max_rounds: the most rounds to run (at least 1).
        generate_prompt: the first round's prompt, with ``{task}``.
        refine_prompt: later rounds' prompt, with ``{task}``, ``{draft}`` and ``{feedback}``.
        evaluate_prompt: the evaluator's prompt, with ``{task}`` and ``{draft}``.
        evaluate_instructions: the evaluator's instructions (its system message).
    """
    if max_rounds < 1:
        raise UserError(f"max_rounds must be at least 1, got {max_rounds}")
    rounds: list[Round] = []
    for number in range(1, max_rounds + 1):
        if rounds:
            last = rounds[-1]
            prompt = refine_prompt.format(task=task, draft=last.draft, feedback=last.evaluation.feedback)
        else:
            prompt = generate_prompt.format(task=task)
        draft = await ask_text(ctx, f"Generate {number}", generate, prompt)
        verdict = await ask_structured(
            ctx,
            f"Evaluate {number}",
            evaluate,
            evaluate_prompt.format(task=task, draft=draft),
            Evaluation,
            instructions=evaluate_instructions,
        )
        rounds.append(Round(number=number, draft=draft, evaluation=verdict))
        if verdict.accepted:
            break
    return Optimized(answer=rounds[-1].draft, accepted=rounds[-1].evaluation.accepted, rounds=rounds)
