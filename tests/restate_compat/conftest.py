"""One scripted model server for the ported agent's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdur.testing import ScriptedModelServer


@pytest.fixture(scope="module")
def model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server
