"""The claim pipeline's types: its input and output, and what the LLM steps answer.

What the approver sends is the approval pattern's :class:`agentdur.patterns.approval.Decision`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ClaimRequest(BaseModel):
    """A claim as the customer wrote it."""

    message: str = Field(min_length=1)


class ClaimData(BaseModel):
    """The structured claim the first LLM step extracts."""

    amount: float
    currency: Literal["EUR", "USD", "GBP", "CHF"]
    category: Literal["medical", "dental", "property", "travel", "other"]
    date: str
    description: str


class ClaimAssessment(BaseModel):
    """The second LLM step's verdict."""

    valid: bool
    approved_amount: float
    reason: str


class ClaimResult(BaseModel):
    """The outcome of one claim."""

    claim_id: str
    status: Literal["paid", "invalid", "rejected", "expired"]
    claim: ClaimData
    assessment: ClaimAssessment
    approved_by: str | None = None
    review_comment: str | None = None  # the approver's comment, or the reason they rejected the claim
    amount_usd: float | None = None
    confirmation: str | None = None
