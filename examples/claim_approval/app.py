"""ClaimReimbursement: the insurance-claim pipeline, with a human approving large payouts.

Two LLM steps (parse the claim into structured data, assess it), then, for amounts above
``APPROVAL_THRESHOLD``, a durable wait for a human (``agentdur.patterns.approval``), then two plain
steps (convert the currency, pay). Every step is journaled: after a crash the LLM answers are
replayed from the journal (never requested or paid for twice), the wait for the approver goes on,
and the payment is made once.

    agentdur serve examples.claim_approval:app
    curl localhost:8080/ClaimReimbursement/process --json '{"message": "..."}'

The types are in ``models.py``, the plain steps in ``steps.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel

import agentdur
from agentdur.integrations.litellm import acompletion
from agentdur.patterns.approval import ApprovalNotice, ApprovalRejected, ApprovalTimedOut, request_approval

from .._model import choose_model, parse_json, text_of
from .models import ClaimAssessment, ClaimData, ClaimRequest, ClaimResult
from .steps import convert_currency, process_payment

log = logging.getLogger(__name__)

APPROVAL_THRESHOLD = 1000.0  # claims above this amount (in their own currency) need a human
APPROVAL_TIMEOUT = timedelta(days=1)
PARSE_INSTRUCTIONS = "Extract the claim amount, currency, category, date and description from the document."
ASSESS_INSTRUCTIONS = (
    "You are a claims analyst. Assess whether this claim is valid and determine the approved amount."
)


async def notify_reviewer(notice: ApprovalNotice) -> None:
    """Tell a human what to decide and how (a real app would post to a chat or a ticket queue)."""
    log.info(
        'approval needed: %s -> curl %s --json \'{"approved": true, "by": "you"}\'',
        notice.description,
        notice.resolve_url,
    )


# ------------------------------------------------------------------ the LLM steps


async def ask_model(name: str, instructions: str, prompt: str, answer: type[BaseModel]) -> str:
    """One journaled model call asking for JSON matching ``answer``; returns the text."""
    response = await acompletion(
        messages=[{"role": "system", "content": instructions}, {"role": "user", "content": prompt}],
        response_format=answer,
        name=name,
        **choose_model().kwargs(),
    )
    return text_of(response)


# ------------------------------------------------------------------ the durable handler

claims = agentdur.Service(
    "ClaimReimbursement", description="insurance claims: LLM parsing, human approval, payment"
)


@claims.handler()
async def process(ctx: agentdur.Context, req: ClaimRequest) -> ClaimResult:
    """Parse, assess, get approval above the threshold, convert to USD, pay."""
    claim_id = f"claim-{str(ctx.uuid())[:8]}"

    # Steps 1-2: LLM steps, each one journaled model call.
    claim = parse_json(ClaimData, await ask_model("Parse claim", PARSE_INSTRUCTIONS, req.message, ClaimData))
    assessment = parse_json(
        ClaimAssessment,
        await ask_model(
            "Assess claim", ASSESS_INSTRUCTIONS, f"Claim: {claim.model_dump_json()}", ClaimAssessment
        ),
    )
    result = ClaimResult(claim_id=claim_id, status="invalid", claim=claim, assessment=assessment)
    if not assessment.valid:
        return result
    amount = min(assessment.approved_amount, claim.amount)

    # Step 3: a human decides on large claims; the wait survives restarts and costs nothing meanwhile.
    if amount > APPROVAL_THRESHOLD:
        try:
            decision = await request_approval(
                ctx,
                f"pay {amount:.2f} {claim.currency} for {claim.category} claim {claim_id}",
                notify=notify_reviewer,
                timeout=APPROVAL_TIMEOUT,
            )
        except ApprovalRejected as rejection:  # POST .../reject with a reason
            return result.model_copy(update={"status": "rejected", "review_comment": rejection.message})
        except ApprovalTimedOut:
            return result.model_copy(update={"status": "expired"})
        result.review_comment = decision.comment
        if not decision.approved:
            return result.model_copy(update={"status": "rejected"})
        result.approved_by = decision.by

    # Steps 4-5: plain durable steps.
    amount_usd = await ctx.run_typed(
        "Convert currency",
        convert_currency,
        agentdur.RunOptions(max_attempts=3),
        amount=amount,
        source=claim.currency,
        target="USD",
    )
    confirmation = await ctx.run_typed(
        "Process payment",
        process_payment,
        agentdur.RunOptions(max_attempts=3),
        claim_id=claim_id,
        amount=amount_usd,
    )
    return result.model_copy(
        update={"status": "paid", "amount_usd": amount_usd, "confirmation": confirmation}
    )


app = agentdur.App([claims])
