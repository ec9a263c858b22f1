"""What the ADK tour's agents share: the model, one way to run an agent, types and fake services.

The model: ``model()`` is Gemini (see ``examples._model``). Offline (the default) it is the scripted
model server's Gemini API at ``GOOGLE_GEMINI_BASE_URL``, else the server ``OPENAI_BASE_URL`` points
at, else ``http://127.0.0.1:8765/`` (where ``agentdur model-server`` listens). With
``AGENTDUR_REAL_MODELS=1`` and ``GOOGLE_API_KEY`` set it is the real Gemini API
(``gemini-2.5-flash``, or ``AGENTDUR_MODEL``).

The services (weather, claim checks) are deterministic stand-ins that log what they do, so you can
watch a crashed agent resume without repeating them.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from google.adk.agents import BaseAgent
from google.adk.apps import App
from google.adk.models import Gemini
from google.adk.runners import Runner
from google.genai import types
from pydantic import BaseModel, ConfigDict, Field

import agentdur
from agentdur.integrations.adk import DurablePlugin, DurableSessionService

from .._model import MODEL_ENV, real_models_wanted, scripted_gemini_root

log = logging.getLogger("examples.google_adk")
REAL_MODEL = "gemini-2.5-flash"
APP_NAME = "agents"  # the ADK app name of every run: sessions are stored under it


def model() -> Gemini:
    """The model of every agent: the real Gemini API or the scripted model server (see above)."""
    name = os.environ.get(MODEL_ENV) or REAL_MODEL
    if real_models_wanted(key_env="GOOGLE_API_KEY"):
        return Gemini(model=name)
    return Gemini(model=name, base_url=scripted_gemini_root(), client_kwargs={"api_key": "scripted"})


async def run_agent(
    ctx: agentdur.ObjectContext,
    agent: BaseAgent,
    message: str,
    *,
    session_id: str = "default",
    plugin: DurablePlugin | None = None,
) -> str:
    """Run ``agent`` on ``message`` in the session ``session_id`` of the user ``ctx.key()``; the
    text of the final response (the Restate tour's way, with agentdur's plugin and session service)."""
    app = App(name=APP_NAME, root_agent=agent, plugins=[plugin or DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService())
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id=session_id,
        new_message=types.Content(role="user", parts=[types.Part(text=message)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts if not part.thought)
    return final


# ----------------------------------------------------------------------------- types


class Prompt(BaseModel):
    """A request in plain words, in a session of the user the object key names."""

    message: str = Field(min_length=1)
    session_id: str = "default"


class InsuranceClaim(BaseModel):
    """An insurance claim, as the tour's ``curl`` commands send it."""

    model_config = ConfigDict(populate_by_name=True)

    date: str
    category: str
    reason: str
    amount: float
    place_of_service: str = Field(alias="placeOfService")

    def describe(self) -> str:
        return (
            f"Claim of {self.amount:.0f} USD on {self.date} for {self.reason} ({self.category}) "
            f"at {self.place_of_service}"
        )


# ----------------------------------------------------------------------------- fake services


def fail_on_denver(city: str) -> None:
    """The weather API is down for Denver (set ``WEATHER_API_FIXED=1`` to repair it, then restart)."""
    if city.lower() == "denver" and not os.environ.get("WEATHER_API_FIXED"):
        raise RuntimeError("the weather API is down for Denver")


async def fetch_weather(city: str) -> dict[str, Any]:
    """The weather of ``city`` from the (fake) weather API."""
    fail_on_denver(city)
    log.info("weather API called for %s", city)
    temperature = 10 + sum(map(ord, city.lower())) % 20
    return {
        "city": city,
        "temperature": temperature,
        "description": "sunny" if temperature > 18 else "cloudy",
    }


def log_approval_request(notice: Any) -> None:
    """Tell the approver how to answer: here, log the ``curl`` that approves."""
    log.info(
        '%s approve with: curl %s --json \'{"approved": true, "by": "alice"}\'',
        notice.description,
        notice.resolve_url,
    )
