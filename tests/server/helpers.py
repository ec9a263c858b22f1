"""Helpers of the server tests: a real ``python -m agentdur serve`` process, and polling with a deadline.

Both are the testing kit's (:class:`agentdur.testing.ServedApp`, :func:`agentdur.testing.wait_for`)
with the names and defaults these tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from agentdur.testing import ServedApp
from agentdur.testing import wait_for as kit_wait_for

REPO = Path(__file__).resolve().parents[2]
APP = "tests.server.app:app"
START_DEADLINE = 20.0
STOP_DEADLINE = 20.0
POLL = 0.02
TOKEN = "s3cret-token"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``condition`` until it returns something truthy (returned), failing after ``timeout``."""
    return kit_wait_for(condition, within=timeout, what=what, interval=POLL)


class Server(ServedApp):
    """One ``agentdur serve`` process of :data:`APP` and how to reach it."""

    def __init__(
        self,
        db: Path,
        log: Path,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        token: str | None = None,
        port: int = 0,
        admin_port: int = 0,
    ) -> None:
        super().__init__(
            APP,
            db=db,
            log_path=log,
            args=args or [],
            env=env,
            cwd=REPO,
            token=token,
            startup_within=START_DEADLINE,
            port=port,
            admin_port=admin_port,
        )
        self.log = log

    @property
    def ingress(self) -> str:
        return self.ingress_url

    @property
    def admin(self) -> str:
        return self.admin_url

    def start(self, within: float | None = None) -> Server:
        super().start(within)
        return self

    def restart(self) -> Server:
        """Start a new process on the same file (the ports may be taken again by the new process)."""
        return self.start()

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(headers=self.headers, timeout=20.0, **kwargs)

    def output(self) -> str:
        return self.log.read_text()


def lines(path: Path) -> list[str]:
    """The lines of a marker file (none while it does not exist)."""
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []
