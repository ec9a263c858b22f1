"""``agentdur serve`` as a child process the demo can start, SIGKILL and start again on the same file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from agentdur.testing import free_port

from . import SERVER_LOG_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class DemoError(Exception):
    """The demo could not run, or an invariant it checks was violated."""


def wait_until(condition: Callable[[], T | None], within: float, what: str) -> T:
    """Poll ``condition`` until it returns a value (not None/False); raise DemoError after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DemoError(f"{what}: not within {within:.0f} s")
        time.sleep(0.02)


class ServerProcess:
    """``python -m agentdur serve APP`` on ``db``, on the same two ports at every start."""

    def __init__(self, app: str, db: Path, env: dict[str, str], workdir: Path) -> None:
        self.app, self.db, self.workdir = app, db, workdir
        self.port = free_port()
        self.admin_port = free_port()
        while self.admin_port == self.port:
            self.admin_port = free_port()
        self.ingress_url = f"http://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        # The approval hook prints resolve URLs on this ingress.
        self.env = {**env, "AGENTDUR_INGRESS_URL": self.ingress_url}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        """The output of the current (or last) process."""
        return self.workdir / SERVER_LOG_FILE.format(start=self.starts)

    def start(self, within: float) -> None:
        """Start the server and wait until its admin API answers."""
        self.starts += 1
        command = [
            sys.executable,
            "-m",
            "agentdur",
            "serve",
            self.app,
            "--db",
            str(self.db),
            "--port",
            str(self.port),
            "--admin-port",
            str(self.admin_port),
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL reaches everything it started
            )
        wait_until(self._healthy, within, f"the server ({self.app}) did not start; see {self.log_path}")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise DemoError(f"the server exited with status {self.process.returncode}:\n{self.log_tail()}")
        try:
            return httpx.get(f"{self.admin_url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no graceful shutdown."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_lines(self, start: int | None = None) -> list[str]:
        """The lines the server (``start``: that start, default the current one) logged."""
        path = self.workdir / SERVER_LOG_FILE.format(start=start or self.starts)
        return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []

    def log_tail(self, n: int = 15) -> str:
        return "\n".join(self.log_lines()[-n:])
