"""Integration tests talk to the scripted model server over real HTTP through the real SDKs.

In-process tests use the ``model_server`` fixture (from the agentdur pytest plugin); the over-HTTP tests run ``app.py`` on both
engines with a session-wide model server whose URL the handler processes read from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdur.testing import ScriptedModelServer

from ..harness import engine_fixture
from .app import BASE_ENV


@pytest.fixture(scope="session")
def shared_model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture(scope="session")
def handler_env(shared_model_server: ScriptedModelServer) -> dict[str, str]:
    return {BASE_ENV: shared_model_server.openai_base_url, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


engine = engine_fixture("tests.integrations.app:app", env="handler_env")
