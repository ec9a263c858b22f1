"""Framework integrations, installed as ``agentdur.integrations``.

Each integration lives in its own subpackage (``openai_agents``, ``litellm``, ``adk``) and imports its
framework, failing at import with the extra to install when the framework is missing.

Importing any of them (this package is imported first) makes LiteLLM's import offline and reliable,
whichever SDK imports LiteLLM later (``agentdur.integrations.litellm``, the OpenAI Agents SDK's
``LitellmModel``, ADK's ``LiteLlm``): see :func:`use_local_litellm_cost_map`.
"""

from __future__ import annotations

import os

__all__ = ["LITELLM_COST_MAP_ENV", "use_local_litellm_cost_map"]

LITELLM_COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"


def use_local_litellm_cost_map() -> None:
    """Make LiteLLM load its bundled model cost map instead of downloading one at import.

    Without it, an import with no network starts a background thread that retries the download and
    imports LiteLLM modules while the main thread is still importing them: the import then fails
    about one time in four (an ``importlib`` ``_DeadlockError`` on ``litellm.rust_bridge.catalog``,
    leaving a partially initialised module). Must run before LiteLLM is first imported; an explicit
    ``LITELLM_LOCAL_MODEL_COST_MAP`` in the environment is left as it is.
    """
    os.environ.setdefault(LITELLM_COST_MAP_ENV, "True")


use_local_litellm_cost_map()
