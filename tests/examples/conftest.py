"""The example apps, each served by ``agentdur serve`` on the embedded engine and driven over HTTP.

Their model calls go through LiteLLM to one scripted model server in this process. Each test module
starts its example's server once (``_served.example_fixture``; a start imports LiteLLM: seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdur.testing import ScriptedModelServer


@pytest.fixture(scope="session")
def example_model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture(scope="session")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The claim example's payment ledger: one line per payment really made."""
    return tmp_path_factory.mktemp("ledger") / "payments.ledger"
