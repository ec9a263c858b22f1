"""pytest fixtures for the scripted model server.

Bring them into a test suite from its ``conftest.py``::

    from agentdur.testing import model_server, model_server_env  # noqa: F401

or as a plugin: ``pytest_plugins = ["agentdur.testing._model_fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._model_server import CONFLICTING_ENV, ScriptedModelServer


@pytest.fixture
def model_server() -> Iterator[ScriptedModelServer]:
    """A fresh :class:`ScriptedModelServer` on a free port, stopped after the test."""
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def model_server_env(
    model_server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> ScriptedModelServer:
    """The ``model_server`` with the environment pointing every SDK at it (see ``ScriptedModelServer.env``)."""
    for name in CONFLICTING_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in model_server.env().items():
        monkeypatch.setenv(name, value)
    return model_server
