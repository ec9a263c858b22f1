"""The model calls the pattern examples hand to the patterns: text, and JSON for a schema.

They are plain ``litellm.acompletion`` calls, not journaled here: each pattern runs them as its own
journaled steps (a step cannot contain another, so the self-journaling
``agentdur.integrations.litellm.acompletion`` is for calls made outside a pattern). Which model is
called is decided in ``examples/_model.py``: the scripted model server unless ``OPENAI_API_KEY`` is set.
"""

from __future__ import annotations

import os
from typing import Any

# LiteLLM downloads a model cost map at import unless told to use its bundled copy (as
# agentdur.integrations.litellm does): no call may leave the machine that the example did not make.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm

from .._model import choose_model, text_of

__all__ = ["complete", "complete_json"]


async def complete(prompt: str) -> str:
    """The model's text answer to ``prompt``."""
    response = await litellm.acompletion(
        messages=[{"role": "user", "content": prompt}], max_retries=0, **choose_model().kwargs()
    )
    assert isinstance(response, litellm.ModelResponse)  # not streamed
    return text_of(response)


async def complete_json(prompt: str, schema: dict[str, Any], instructions: str = "") -> str:
    """The model's answer to ``prompt`` as a JSON object of ``schema`` (structured output), with
    ``instructions`` as the system message."""
    system = [{"role": "system", "content": instructions}] if instructions else []
    response = await litellm.acompletion(
        messages=[*system, {"role": "user", "content": prompt}],
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
        max_retries=0,
        **choose_model().kwargs(),
    )
    assert isinstance(response, litellm.ModelResponse)
    return text_of(response)
