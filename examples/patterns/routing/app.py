"""SupportRouter: a model routes each question to a local tool, a local handler or a remote agent.

    agentdur serve examples.patterns.routing:app
    curl localhost:8080/SupportRouter/ask --json '{"customer": "c-42", "question": "Why is my billing wrong?"}'

The routing decision is one journaled step (``Choose route``): after a crash the model is not asked
again, and a route the model made up is a 400 naming the real ones.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.routing import Router, local, remote, tool

from .._llm import complete, complete_json


class Question(BaseModel):
    """A customer's question."""

    customer: str = Field(min_length=1)
    question: str = Field(min_length=1)


class Answer(BaseModel):
    """Which route answered, why, and its answer."""

    route: str
    reason: str
    answer: str


INVOICES = {"c-42": "invoice 2026-11: 49.00 EUR, paid", "c-7": "invoice 2026-11: 12.50 EUR, overdue"}


def look_up_invoice(question: Question) -> str:
    """The billing tool: a lookup in the invoice system (one journaled step)."""
    return INVOICES.get(question.customer, f"no invoice found for {question.customer}")


async def account_desk(ctx: agentdur.Context, question: Question) -> str:
    """A local handler with its own durable steps: look the account up, then let the model answer."""
    status = await ctx.run_typed("Account status", lambda: f"account {question.customer} is active")
    return await ctx.run_typed(
        "Account answer", complete, agentdur.RunOptions(max_attempts=5), f"{status}. {question.question}"
    )


tech_support = agentdur.Service("TechSupport", description="a remote agent answering technical questions")


@tech_support.handler()
async def answer(ctx: agentdur.Context, question: Question) -> str:
    """The remote route: its own invocation, called durably (the caller may suspend meanwhile)."""
    prompt = f"You are technical support. Answer briefly: {question.question}"
    return await ctx.run_typed("Technical answer", complete, agentdur.RunOptions(max_attempts=5), prompt)


router = Router(
    tool("billing", "invoices, payments and refunds", look_up_invoice),
    local("account", "logins, passwords and account settings", account_desk),
    remote("technical", "bugs, errors, crashes and outages", answer),
    choose_by_model=complete_json,
    describe=lambda q: q.question,
)

support_router = agentdur.Service("SupportRouter", description="routing: a model picks the route")


@support_router.handler()
async def ask(ctx: agentdur.Context, question: Question) -> Answer:
    """Route ``question`` and return the route's answer."""
    routed = await router.route(ctx, question)
    return Answer(route=routed.route, reason=routed.reason, answer=str(routed.value))


app = agentdur.App([support_router, tech_support])
