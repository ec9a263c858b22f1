"""The Google ADK tests: real ADK runs against the scripted model server's Gemini API."""

from __future__ import annotations

from agentdur.testing import model_server, model_server_env  # noqa: F401 - fixtures
