"""Helpers of the server tests: a real ``python -m agentdur serve`` process, and polling with a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agentdur.testing import free_ports

REPO = Path(__file__).resolve().parents[2]
APP = "tests.server.app:app"
START_DEADLINE = 20.0
STOP_DEADLINE = 20.0
POLL = 0.02
TOKEN = "s3cret-token"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``condition`` until it returns something truthy (returned), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL)


@dataclass
class Server:
    """One ``agentdur serve`` process and how to reach it."""

    db: Path
    log: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    port: int = 0
    admin_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        if not self.port:
            self.port, self.admin_port = free_ports(2)

    @property
    def ingress(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def start(self) -> Server:
        command = [
            sys.executable, "-m", "agentdur", "serve", APP,
            "--port", str(self.port), "--admin-port", str(self.admin_port), "--db", str(self.db),
            *self.args,
        ]  # fmt: skip
        env = {**os.environ, **self.env}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_for(self._healthy, f"the server to answer /health (log: {self.log})", START_DEADLINE)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            return httpx.get(f"{self.admin}/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the process to exit; returns its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(STOP_DEADLINE)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

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
