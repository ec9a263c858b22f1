"""``agentdur serve`` as a child process the demo can start, SIGKILL and start again on the same file.

The process harness is the testing kit's (:class:`agentdur.testing.ServedApp`); this module adds the
demo's log file per start and turns a failed wait into a :class:`DemoError`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from agentdur.testing import ServedApp, WaitTimeout, wait_for

from . import SERVER_LOG_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class DemoError(Exception):
    """The demo could not run, or an invariant it checks was violated."""


def wait_until(condition: Callable[[], T | None | Literal[False]], within: float, what: str) -> T:
    """Poll ``condition`` until it returns a value (not None/False); raise DemoError after ``within`` s."""
    try:
        return wait_for(condition, within=within, what=what)
    except WaitTimeout:
        raise DemoError(f"{what}: not within {within:.0f} s") from None


class ServerProcess(ServedApp):
    """``python -m agentdur serve APP`` on ``db``, on the same two ports at every start.

    Args:
        app: the app to serve.
        db: its SQLite file.
        env: the whole environment of the server process.
        workdir: where each start's log goes (``SERVER_LOG_FILE``).
    """

    def __init__(self, app: str, db: Path, env: dict[str, str], workdir: Path) -> None:
        super().__init__(app, db=db, cwd=REPO_ROOT, inherit_env=False)
        self.workdir = workdir
        # The approval hook prints resolve URLs on this ingress.
        self.env = {**env, "AGENTDUR_INGRESS_URL": self.ingress_url}

    @property
    def log_path(self) -> Path:
        """The output of the current (or last) process: one file per start."""
        return self.workdir / SERVER_LOG_FILE.format(start=self.starts)

    def start(self, within: float | None = None) -> ServerProcess:
        """Start the server and wait until its admin API answers."""
        try:
            super().start(within)
        except WaitTimeout as error:
            raise DemoError(f"the server ({self.app}) did not start; see {self.log_path}: {error}") from None
        return self

    def log_lines(self, start: int | None = None) -> list[str]:
        """The lines the server (``start``: that start, default the current one) logged."""
        path = self.workdir / SERVER_LOG_FILE.format(start=start or self.starts)
        return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []

    def log_tail(self, n: int = 15) -> str:
        return "\n".join(self.log_lines()[-n:])
