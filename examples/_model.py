"""Which model the examples talk to, in one place, from the SDKs' standard variables.

- Offline (the default): the scripted model server, at ``OPENAI_BASE_URL`` when set, else
  ``http://127.0.0.1:8765/v1`` where ``agentdur model-server`` listens. No network, no cost; an
  ``OPENAI_API_KEY`` that happens to be set is not used.
- ``AGENTDUR_REAL_MODELS=1`` and ``OPENAI_API_KEY`` set: a real OpenAI model
  (``openai/gpt-4o-mini``, or ``AGENTDUR_MODEL``; ``OPENAI_BASE_URL`` still applies, e.g. a proxy).
  Opting in without a key is a clear error, never a silent fallback.

Nobody spends money by accident: a key alone is not enough. The choice is made at each call, from
the environment of the process serving the app.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

import agentdur

if TYPE_CHECKING:
    from litellm import ModelResponse

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "GEMINI_BASE_URL_ENV",
    "REAL_MODELS_ENV",
    "ModelChoice",
    "choose_model",
    "parse_json",
    "real_models_wanted",
    "scripted_gemini_root",
    "text_of",
]

BASE_URL_ENV = "OPENAI_BASE_URL"
GEMINI_BASE_URL_ENV = "GOOGLE_GEMINI_BASE_URL"
REAL_MODELS_ENV = "AGENTDUR_REAL_MODELS"
MODEL_ENV = "AGENTDUR_MODEL"
DEFAULT_BASE_URL = "http://127.0.0.1:8765/v1"
REAL_MODEL = "openai/gpt-4o-mini"
SCRIPTED_MODEL = "openai/scripted"
SCRIPTED_KEY = "scripted"  # the scripted server accepts any key; litellm insists on one

M = TypeVar("M", bound=BaseModel)

# LiteLLM logs every call at INFO; the examples' own logs are what matters here.
logging.getLogger("LiteLLM").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ModelChoice:
    """The litellm arguments that select a provider: model name, and base URL and key if not default."""

    model: str
    api_base: str | None = None
    api_key: str | None = None
    real: bool = False

    @property
    def scripted(self) -> bool:
        """True when the calls go to the scripted model server rather than a real provider."""
        return not self.real

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``litellm.acompletion`` / ``agentdur.integrations.litellm.acompletion``."""
        arguments: dict[str, Any] = {"model": self.model}
        if self.api_base is not None:
            arguments.update(api_base=self.api_base, api_key=self.api_key)
        return arguments


def real_models_wanted(env: Mapping[str, str] | None = None, *, key_env: str = "OPENAI_API_KEY") -> bool:
    """Whether the user opted in to a real provider (``AGENTDUR_REAL_MODELS=1``).

    Raises:
        agentdur.TerminalError: opted in, but ``key_env`` is not set.
    """
    env = os.environ if env is None else env
    if env.get(REAL_MODELS_ENV, "").strip().lower() not in ("1", "true", "yes"):
        return False
    if not env.get(key_env):
        raise agentdur.TerminalError(f"{REAL_MODELS_ENV}=1 asks for a real model, but {key_env} is not set")
    return True


def choose_model(env: Mapping[str, str] | None = None) -> ModelChoice:
    """The provider the examples use, from ``env`` (default: this process's environment)."""
    env = os.environ if env is None else env
    base_url = env.get(BASE_URL_ENV) or None
    if real_models_wanted(env):
        return ModelChoice(env.get(MODEL_ENV) or REAL_MODEL, base_url, None, real=True)
    return ModelChoice(env.get(MODEL_ENV) or SCRIPTED_MODEL, base_url or DEFAULT_BASE_URL, SCRIPTED_KEY)


def scripted_gemini_root(env: Mapping[str, str] | None = None) -> str:
    """Where the scripted model server's Gemini API is: ``GOOGLE_GEMINI_BASE_URL``, else the server
    ``OPENAI_BASE_URL`` points at (it serves both APIs), else the default one's root."""
    env = os.environ if env is None else env
    gemini = env.get(GEMINI_BASE_URL_ENV)
    if gemini:
        return gemini.removesuffix("/") + "/"
    return (env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).removesuffix("/").removesuffix("/v1") + "/"


def text_of(response: ModelResponse) -> str:
    """The text of the first choice of a completion ("" when the model sent none)."""
    message = getattr(response.choices[0], "message", None)
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""


JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_json(model: type[M], text: str) -> M:
    """``text`` as a ``model``: the whole text, or else the outermost ``{...}`` in it (models like to
    wrap JSON in prose or in a Markdown fence).

    The text comes from the journal on a replay, so a failure here is final: it raises a
    :class:`agentdur.TerminalError` instead of being retried.
    """
    candidates = [text]
    if (found := JSON_OBJECT.search(text)) is not None:
        candidates.append(found.group(0))
    errors: list[str] = []
    for candidate in candidates:
        try:
            return model.model_validate_json(candidate)
        except ValidationError as error:
            errors.append(str(error).splitlines()[0])
    shown = json.dumps(text[:200])
    raise agentdur.TerminalError(f"the model did not answer with a {model.__name__} ({errors[-1]}): {shown}")
