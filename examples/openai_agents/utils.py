"""What the tour's agents share: the model they talk to, their types, and the fake services they call.

The model: ``run_config()`` builds the Agents SDK's ``RunConfig`` for every run, from the environment
of the serving process (see ``examples._model``): offline (the default) the scripted model server
at ``OPENAI_BASE_URL``, else ``http://127.0.0.1:8765/v1`` (where ``agentdur model-server`` listens),
with the SDK's tracing to OpenAI off; with ``AGENTDUR_REAL_MODELS=1`` and ``OPENAI_API_KEY`` set, a
real OpenAI model.

The services (weather, bookings, reviews) are deterministic stand-ins that log what they do, so
you can watch a crashed agent resume without repeating them.
"""

from __future__ import annotations

import logging
import os

from agents import ModelSettings, OpenAIProvider, RunConfig
from pydantic import BaseModel, ConfigDict, Field

from .._model import choose_model

log = logging.getLogger("examples.openai_agents")


def run_config(*, parallel_tool_calls: bool | None = None) -> RunConfig:
    """The model of every run: a real OpenAI model or the scripted model server (see above)."""
    choice = choose_model()
    return RunConfig(
        model=choice.model.removeprefix("openai/"),
        model_provider=OpenAIProvider(base_url=choice.api_base, api_key=choice.api_key, use_responses=True),
        model_settings=ModelSettings(parallel_tool_calls=parallel_tool_calls),
        tracing_disabled=choice.scripted,  # the scripted server is not where traces go
    )


# ----------------------------------------------------------------------------- types


class Prompt(BaseModel):
    """A request in plain words."""

    message: str = Field(min_length=1)


class WeatherRequest(BaseModel):
    city: str


class WeatherResponse(BaseModel):
    city: str
    temperature: float
    description: str


class InsuranceClaim(BaseModel):
    """An insurance claim, as the tour's ``curl`` commands send it."""

    model_config = ConfigDict(populate_by_name=True)

    date: str
    category: str
    reason: str
    amount: float
    place_of_service: str = Field(alias="placeOfService")


class ClaimPrompt(BaseModel):
    message: str = "Process my hospital bill of 3000USD for a broken leg."


# ----------------------------------------------------------------------------- fake services


def fail_on_denver(city: str) -> None:
    """The weather API is down for Denver (set ``WEATHER_API_FIXED=1`` to repair it, then restart)."""
    if city.lower() == "denver" and not os.environ.get("WEATHER_API_FIXED"):
        raise RuntimeError("the weather API is down for Denver")


async def fetch_weather(city: str) -> WeatherResponse:
    """The weather of ``city`` from the (fake) weather API."""
    fail_on_denver(city)
    log.info("weather API called for %s", city)
    temperature = 10 + sum(map(ord, city.lower())) % 20
    return WeatherResponse(
        city=city, temperature=temperature, description="sunny" if temperature > 18 else "cloudy"
    )


async def request_human_review(claim: str, awakeable_id: str) -> None:
    """Ask a human to review ``claim``: here, log the ``curl`` that answers."""
    ingress = os.environ.get("AGENTDUR_INGRESS_URL", "http://127.0.0.1:8080")
    log.info(
        "review requested for %s; approve with: curl %s/restate/awakeables/%s/resolve --json 'true'",
        claim,
        ingress,
        awakeable_id,
    )


def check_eligibility(claim: InsuranceClaim) -> str:
    return "eligible" if claim.amount < 50_000 else "not eligible: above the policy limit"


def compare_to_standard_rates(claim: InsuranceClaim) -> str:
    return "within standard rates" if claim.amount <= 5_000 else "above standard rates"


def check_fraud(claim: InsuranceClaim) -> str:
    return "low fraud risk" if claim.amount < 10_000 else "high fraud risk"
