"""Both engines behind the same HTTP URLs: the embedded server, and restate-server + our deployment.

Suites build an engine fixture with :func:`engine_fixture` for their app; each engine is started
once per test session and driven only over HTTP. ``kill()`` SIGKILLs the process that runs the
handlers; ``start()`` brings it back on the same ports and data. Handlers record side effects in a
log file (``AGENTDUR_CONFORMANCE_LOG``) that tests read to count executions across processes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdur.testing import RestateDeployment, RestateServer, ServedApp
from agentdur.testing import wait_for as kit_wait_for

from .effects import LOG_ENV

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate: Any, within: float = 30.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; return its value."""
    return kit_wait_for(predicate, within=within, what=what, interval=0.01)


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
    def _env(self) -> dict[str, str]:
        return {**self.env, LOG_ENV: str(self.log_path), "PYTHONPATH": str(ROOT)}

    def _log(self) -> Path:
        return self.workdir / f"{self.name}-process.log"

    def _runner(self) -> ServedApp | RestateDeployment:
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the process that runs the handlers."""
        assert self.process is not None
        self._runner().kill()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self._runner().stop()
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
        self.served = ServedApp(
            app,
            db=workdir / "agentdur.db",
            log_path=self._log(),
            args=["--suspend-after", str(suspend_after)] if suspend_after is not None else [],
            env=self._env(),
            cwd=ROOT,
            startup_within=self.startup_within,
        )
        self.port, self.admin_port = self.served.port, self.served.admin_port
        self.ingress_url = self.served.ingress_url
        self.admin_url = self.served.admin_url

    def _runner(self) -> ServedApp:
        return self.served

    def start(self) -> None:
        self.served.start()
        self.process = self.served.process

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
        self.deployment = RestateDeployment(
            app,
            workdir=workdir,
            server=self.server,
            env=self._env(),
            cwd=ROOT,
            startup_within=self.startup_within,
            log_path=self._log(),
        )
        self.ingress_url = self.server.ingress_url
        self.admin_url = self.server.admin_url
        self.port = self.deployment.port

    def _runner(self) -> RestateDeployment:
        return self.deployment

    def start(self) -> None:
        self.deployment.start()
        self.process = self.deployment.process

    def restart_engine(self) -> None:
        self.server.restart()

    def close(self) -> None:
        super().close()
        self.server.close()


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
