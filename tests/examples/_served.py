"""``agentdur serve examples.<name>:app`` as a module fixture, driven over HTTP like the README's curls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdur.testing import ScriptedModelServer
from examples._model import BASE_URL_ENV
from examples.claim_approval.steps import LEDGER_ENV

from ..harness import EngineUnderTest, start_engine


def start_example(name: str, workdir: Path, env: dict[str, str]) -> EngineUnderTest:
    return start_engine("embedded", workdir, f"examples.{name}:app", env)


def example_fixture(name: str) -> Any:
    """A module fixture serving ``examples.<name>:app`` (``agentdur serve`` in a child process)."""

    @pytest.fixture(scope="module")
    def served(
        example_model_server: ScriptedModelServer, ledger: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[EngineUnderTest]:
        env = {BASE_URL_ENV: example_model_server.openai_base_url, LEDGER_ENV: str(ledger)}
        server = start_example(name, tmp_path_factory.mktemp(name), env)
        try:
            yield server
        finally:
            server.client.close()  # no idle keep-alive connection for the graceful shutdown to wait for
            server.close()

    return served
