"""Fixtures of the live-output tests: real ``agentdur serve`` processes of :mod:`tests.stream.app`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentdur.testing import ServedApp

REPO = Path(__file__).resolve().parents[2]
APP = "tests.stream.app:app"

Serve = Callable[..., ServedApp]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start ``agentdur serve`` processes for one test; each is closed (killed if need be) after it."""
    started: list[ServedApp] = []

    def start(
        *args: str, token: str | None = None, app: str = APP, env: dict[str, str] | None = None
    ) -> ServedApp:
        served = ServedApp(
            app,
            env=env,
            db=tmp_path / f"live{len(started)}.db",
            args=[*args, *(["--token", token] if token else [])],
            cwd=REPO,
            token=token,
            startup_within=90.0,  # apps importing litellm, openai-agents and ADK start slowly on a busy machine
        )
        started.append(served)
        served.start()
        return served

    yield start
    for served in started:
        served.close()


@pytest.fixture
def served(serve: Serve) -> ServedApp:
    return serve()
