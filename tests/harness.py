"""Both engines behind the same HTTP URLs: the embedded server, and restate-server + our deployment.

Suites build an engine fixture with :func:`engine_fixture` for their app; each engine is started
once per test session and driven only over HTTP. ``kill()`` SIGKILLs the process that runs the
handlers; ``start()`` brings it back on the same ports and data. Handlers record side effects in a
log file (``AGENTDUR_CONFORMANCE_LOG``) that tests read to count executions across processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdur.testing import RestateServer, free_port

from .effects import LOG_ENV

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate: Any, within: float = 30.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; return its value."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s")
        time.sleep(0.01)


class EngineUnderTest:
    """One engine serving the conformance app, reachable at ``ingress_url`` and ``admin_url``."""

    name: str
    ingress_url: str
    admin_url: str
    # Apps importing heavy SDKs (litellm takes seconds to import) start slowly on a loaded machine.
    startup_within = 90.0

    def __init__(
        self, workdir: Path, app: str, env: dict[str, str] | None = None, suspend_after: float | None = None
    ) -> None:
        self.workdir = workdir
        self.app = app
        self.env = env or {}
        self.suspend_after = suspend_after  # seconds a waiting invocation stays in memory
        self.log_path = workdir / "effects.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(timeout=60)

    # the side-effect log -------------------------------------------------------------
    def lines(self) -> list[str]:
        return self.log_path.read_text().splitlines() if self.log_path.exists() else []

    def count(self, prefix: str) -> int:
        return sum(1 for line in self.lines() if line.startswith(prefix))

    def awakeable(self, label: str) -> str:
        """The awakeable id a handler published for ``label``."""
        found = wait_for(
            lambda: [line.split()[-1] for line in self.lines() if line.startswith(f"awakeable {label} ")],
            what=f"awakeable {label} published",
        )
        return str(found[-1])

    def release(self, label: str) -> None:
        Path(f"{self.log_path}.release-{label}").touch()

    # HTTP ----------------------------------------------------------------------------
    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.ingress_url + path, json=body, **kwargs)

    def send(self, path: str, body: Any = None, **kwargs: Any) -> str:
        response = self.post(path + "/send", body, **kwargs)
        assert response.status_code == 202, response.text
        return str(response.json()["invocationId"])

    def attach(self, invocation_id: str) -> httpx.Response:
        return self.client.get(f"{self.ingress_url}/restate/invocation/{invocation_id}/attach")

    def resolve(self, awakeable_id: str, value: Any) -> httpx.Response:
        return self.client.post(f"{self.ingress_url}/restate/awakeables/{awakeable_id}/resolve", json=value)

    def reject(self, awakeable_id: str, message: str) -> httpx.Response:
        return self.client.post(
            f"{self.ingress_url}/restate/awakeables/{awakeable_id}/reject",
            content=message.encode(),
            headers={"content-type": "text/plain"},
        )

    def cancel(self, invocation_id: str) -> httpx.Response:
        return self.client.patch(f"{self.admin_url}/invocations/{invocation_id}/cancel")

    # processes -----------------------------------------------------------------------
    def _spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.env, LOG_ENV: str(self.log_path), "PYTHONPATH": str(ROOT)}
        log = open(self.workdir / f"{self.name}-process.log", "ab")  # noqa: SIM115
        try:
            return subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def kill(self) -> None:
        """SIGKILL the process that runs the handlers."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        self.process = None

    def start(self) -> None:
        raise NotImplementedError

    def restart_engine(self) -> None:
        """Restart the durable engine itself while the app keeps its data."""
        raise NotImplementedError

    def close(self) -> None:
        self.stop()
        self.client.close()


class Embedded(EngineUnderTest):
    """``agentdur serve`` on a SQLite file: ingress, admin and handlers in one process."""

    name = "embedded"

    def __init__(
        self, workdir: Path, app: str, env: dict[str, str] | None = None, suspend_after: float | None = None
    ) -> None:
        super().__init__(workdir, app, env, suspend_after)
        self.port, self.admin_port = free_port(), free_port()
        self.ingress_url = f"http://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"

    def start(self) -> None:
        self.process = self._spawn(
            [
                "-m",
                "agentdur",
                "serve",
                self.app,
                "--port",
                str(self.port),
                "--admin-port",
                str(self.admin_port),
                "--db",
                str(self.workdir / "agentdur.db"),
                *(["--suspend-after", str(self.suspend_after)] if self.suspend_after is not None else []),
            ]
        )
        wait_for(lambda: _healthy(f"{self.admin_url}/health"), self.startup_within, "embedded server healthy")

    def restart_engine(self) -> None:
        self.kill()
        self.start()


class OnRestate(EngineUnderTest):
    """A real restate-server with our deployment (``agentdur serve --backend restate``) registered."""

    name = "restate"

    def __init__(
        self, workdir: Path, app: str, env: dict[str, str] | None = None, suspend_after: float | None = None
    ) -> None:
        super().__init__(workdir, app, env, suspend_after)
        server_env = {}
        if suspend_after is not None:
            server_env["RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT"] = f"{int(suspend_after * 1000)}ms"
        self.server = RestateServer(
            base_dir=workdir / "restate", log_path=workdir / "restate-server.log", env=server_env
        )
        self.server.start()
        self.ingress_url = self.server.ingress_url
        self.admin_url = self.server.admin_url
        self.port = free_port()

    def _registered(self) -> bool:
        deployments = self.server.admin("GET", "/deployments")["deployments"]
        return any(str(self.port) in str(d.get("uri", "")) for d in deployments)

    def start(self) -> None:
        self.process = self._spawn(
            [
                "-m",
                "agentdur",
                "serve",
                self.app,
                "--backend",
                "restate",
                "--port",
                str(self.port),
                "--register",
                self.admin_url,
            ]
        )
        wait_for(self._registered, self.startup_within, "deployment registered with restate-server")

    def restart_engine(self) -> None:
        self.server.restart()

    def close(self) -> None:
        super().close()
        self.server.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_engine(
    kind: str, workdir: Path, app: str, env: dict[str, str] | None = None, suspend_after: float | None = None
) -> EngineUnderTest:
    """Start ``app`` on the ``"embedded"`` or ``"restate"`` engine; ``suspend_after`` makes invocations
    that only wait leave memory after that many seconds (and replay when woken)."""
    under_test: EngineUnderTest = (Embedded if kind == "embedded" else OnRestate)(
        workdir, app, env, suspend_after
    )
    try:
        under_test.start()
    except BaseException:
        under_test.close()
        raise
    return under_test


def engine_fixture(app: str, env: Any = None) -> Any:
    """A session fixture running ``app`` on both engines; ``env`` is a dict or a fixture name
    whose value is a dict of environment variables for the handler processes."""

    @pytest.fixture(scope="session", params=["embedded", "restate"])
    def engine(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[EngineUnderTest]:
        extra = request.getfixturevalue(env) if isinstance(env, str) else env
        under_test = start_engine(request.param, tmp_path_factory.mktemp(request.param), app, extra)
        try:
            yield under_test
        finally:
            under_test.close()

    return engine
