"""ClaimPipeline: an insurance-claim agent whose five steps are durable, journaled steps.

The step bodies are plain deterministic functions standing in for LLM calls and side effects (no
model, no network). Each one appends a line to a side-effect log when it does its work, so the demo
can count how many times every step body really executed:

- ``CLAIM_PIPELINE_EFFECTS_LOG``: the log file (no log when unset).
- ``CLAIM_PIPELINE_HANG_AT``: the name of one step that waits (up to 60 s) before doing its work, so
  the demo can kill the process while that step is in flight.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

from pydantic import BaseModel

import agentdur

EFFECTS_LOG_ENV = "CLAIM_PIPELINE_EFFECTS_LOG"
HANG_AT_ENV = "CLAIM_PIPELINE_HANG_AT"

STEPS = ["Parse claim", "Assess risk", "Convert currency", "Pay out", "Notify customer"]


class Claim(BaseModel):
    claim_id: str
    customer: str
    text: str
    amount: float
    currency: str


class ParsedClaim(BaseModel):
    category: str
    amount: float
    currency: str


class Risk(BaseModel):
    score: float
    level: str


class Money(BaseModel):
    amount: float
    currency: str


class Decision(BaseModel):
    claim_id: str
    approved: bool
    risk: str
    payout: Money
    payment_id: str | None
    notice: str


# ------------------------------------------------------------------ the side-effect log


def record(event: str, step: str) -> None:
    """Append ``<pid> <event> <step>`` to the side-effect log (one short write, appended atomically)."""
    path = os.environ.get(EFFECTS_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {event} {step}\n")
            log.flush()
            os.fsync(log.fileno())


def begin(step: str) -> None:
    """Mark a step body as started; the step named by ``CLAIM_PIPELINE_HANG_AT`` then stalls."""
    record("started", step)
    if os.environ.get(HANG_AT_ENV) == step:
        deadline = time.monotonic() + 60  # "the exchange-rate service is not answering"
        while time.monotonic() < deadline:
            time.sleep(0.02)


# ------------------------------------------------------------------ the steps (LLM and API stand-ins)


def parse_claim(text: str, amount: float, currency: str) -> ParsedClaim:
    """Stands in for an LLM call that extracts structured fields from the claim text."""
    begin("Parse claim")
    lowered = text.lower()
    category = next((c for c in ("water", "fire", "theft") if c in lowered), "other")
    result = ParsedClaim(
        category=f"{category} damage" if category != "theft" else "theft",
        amount=amount,
        currency=currency.upper(),
    )
    record("done", "Parse claim")
    return result


def assess_risk(parsed: ParsedClaim) -> Risk:
    """Stands in for an LLM-as-judge risk assessment."""
    begin("Assess risk")
    base = {"water damage": 0.2, "fire damage": 0.35, "theft": 0.5}.get(parsed.category, 0.6)
    score = round(min(1.0, base + parsed.amount / 20_000), 2)
    result = Risk(score=score, level="low" if score < 0.4 else "medium" if score < 0.7 else "high")
    record("done", "Assess risk")
    return result


RATES_TO_EUR = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17, "CHF": 1.05}


def convert_currency(amount: float, currency: str) -> Money:
    """Stands in for a call to an exchange-rate API."""
    begin("Convert currency")
    result = Money(amount=round(amount * RATES_TO_EUR.get(currency, 1.0), 2), currency="EUR")
    record("done", "Convert currency")
    return result


def pay_out(claim_id: str, payout: Money) -> str:
    """Stands in for a payment API: the side effect that must never happen twice."""
    begin("Pay out")
    payment_id = "pay_" + hashlib.sha256(f"{claim_id}:{payout.amount}".encode()).hexdigest()[:10]
    record("done", "Pay out")
    return payment_id


def notify_customer(customer: str, claim_id: str, payout: Money, payment_id: str) -> str:
    """Stands in for an LLM-written e-mail that is then sent."""
    begin("Notify customer")
    notice = f"Dear {customer}, claim {claim_id} is approved: {payout.amount:.2f} {payout.currency} ({payment_id})."
    record("done", "Notify customer")
    return notice


# ------------------------------------------------------------------ the durable handler

pipeline = agentdur.Service("ClaimPipeline")


@pipeline.handler()
async def run(ctx: agentdur.Context, claim: Claim) -> Decision:
    opts: agentdur.RunOptions[Any] = agentdur.RunOptions(max_attempts=3)
    parsed = await ctx.run_typed("Parse claim", parse_claim, opts, claim.text, claim.amount, claim.currency)
    risk = await ctx.run_typed("Assess risk", assess_risk, opts, parsed)
    payout = await ctx.run_typed("Convert currency", convert_currency, opts, parsed.amount, parsed.currency)
    payment_id = await ctx.run_typed("Pay out", pay_out, opts, claim.claim_id, payout)
    notice = await ctx.run_typed(
        "Notify customer", notify_customer, opts, claim.customer, claim.claim_id, payout, payment_id
    )
    return Decision(
        claim_id=claim.claim_id,
        approved=True,
        risk=risk.level,
        payout=payout,
        payment_id=payment_id,
        notice=notice,
    )


app = agentdur.App([pipeline])
