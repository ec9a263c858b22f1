"""LiteLLM made durable: ``acompletion`` / ``completion`` calls become journaled steps.

Inside a handler, replace ``litellm.acompletion(...)`` with
``agentdur.integrations.litellm.acompletion(...)``: same arguments, plus keyword-only ``name`` (the
step's name in the journal) and ``run_options`` (retries). A completed call is replayed from the
journal after a crash — never sent (or paid for) twice.

Needs the ``litellm`` extra: ``pip install "agentdur[litellm]"``.
"""

from __future__ import annotations

# The package agentdur.integrations, imported first, has told LiteLLM to use its bundled model cost
# map: an import that downloads it is slow, needs the network and sometimes deadlocks.
try:
    import litellm  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'agentdur.integrations.litellm needs litellm: pip install "agentdur[litellm]"'
    ) from error

from ._model import acompletion, completion, response_from_json, response_to_json

__all__ = ["acompletion", "completion", "response_from_json", "response_to_json"]
