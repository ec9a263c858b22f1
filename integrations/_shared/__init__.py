"""Machinery every integration shares, framework-free (it imports only the agentdur core).

- :func:`journaled_model_call`: one model request as one journaled step, with retries that honour
  ``retry-after`` and stop at once on errors that retrying cannot fix (auth, bad request).
"""

from ._model_step import (
    DEFAULT_MODEL_OPTIONS,
    is_terminal_model_error,
    journaled_model_call,
    retry_after_seconds,
)

__all__ = ["DEFAULT_MODEL_OPTIONS", "is_terminal_model_error", "journaled_model_call", "retry_after_seconds"]
