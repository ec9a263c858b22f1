"""Fixtures of the server tests: real ``python -m agentdur serve`` processes on free ports.

``serve(*args, token=...)`` starts a server on a fresh SQLite file and waits for its admin
``/health`` (polling with a deadline); the returned :class:`Server` can be stopped with SIGTERM,
killed with SIGKILL and restarted on the same file and ports. The session-wide ``server`` is shared
by the tests that only need a running server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .helpers import STOP_DEADLINE, Server

ServerFactory = Callable[..., Server]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers for one test; every one still running at the end is killed."""
    started: list[Server] = []

    def start(*args: str, token: str | None = None, token_via_env: bool = False) -> Server:
        index = len(started)
        server = Server(
            db=tmp_path / f"server{index}.db",
            log=tmp_path / f"server{index}.log",
            args=[*args, *(["--token", token] if token and not token_via_env else [])],
            env={"AGENTDUR_TOKEN": token} if token and token_via_env else {},
            token=token,
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        if server.process is not None and server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server shared by the tests that only need a running one.

    Failing handlers pause after 2 attempts; bodies over 64 KiB are refused.
    """
    directory = tmp_path_factory.mktemp("shared-server")
    shared = Server(
        db=directory / "shared.db",
        log=directory / "shared.log",
        args=["--max-attempts", "2", "--max-body", "65536"],
    )
    shared.start()
    yield shared
    if shared.process is not None and shared.process.poll() is None:
        shared.process.terminate()
        shared.process.wait(STOP_DEADLINE)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A marker file the test app's steps append to."""
    return tmp_path / "marker.log"
