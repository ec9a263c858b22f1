"""A real restate-server for tests and local runs, without Docker.

The binary comes from the npm package ``@restatedev/restate-server`` (the project's
``node_modules/.bin``), from ``PATH``, or from the path in ``AGENTDUR_RESTATE_SERVER``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from .._exceptions import UserError, WaitTimeout
from ._ports import free_ports
from ._wait import http_ok, wait_for

BINARY_ENV = "AGENTDUR_RESTATE_SERVER"


def find_restate_server() -> str:
    """The path of the restate-server binary, or a UserError saying how to install it."""
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise UserError(f"{BINARY_ENV}={explicit} is not an executable restate-server")
        return explicit
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "node_modules" / ".bin" / "restate-server"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("restate-server")
    if found:
        return found
    raise UserError(
        "restate-server not found: run `npm install` in the agentdur checkout (it installs "
        f"@restatedev/restate-server), put restate-server on PATH, or set {BINARY_ENV}"
    )


class RestateServer:
    """A restate-server process on free local ports with its own temporary base directory.

    Use it as a context manager (sync or async)::

        with RestateServer() as server:
            server.register("http://127.0.0.1:9080")
            httpx.post(f"{server.ingress_url}/Greeter/greet", json="bob")

    Args:
        binary: the restate-server executable (found automatically when omitted).
        base_dir: where the server keeps its data; a temporary directory removed on stop if omitted.
        startup_timeout: seconds to wait for the server to report healthy.
        log_path: a file receiving the server's output (discarded when omitted).
        env: extra environment for the server, e.g. ``{"RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT":
            "1s"}`` to make waiting invocations suspend quickly.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        log_path: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = dict(env or {})
        self.binary = binary or find_restate_server()
        self._own_dir = base_dir is None
        self.base_dir = Path(base_dir) if base_dir is not None else Path(tempfile.mkdtemp(prefix="restate-"))
        self.startup_timeout = startup_timeout
        self.log_path = Path(log_path) if log_path is not None else self.base_dir / "restate-server.log"
        self.ingress_port, self.admin_port, self.node_port = free_ports(3)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ingress_url(self) -> str:
        """Where handlers are invoked (Restate's port 8080)."""
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def admin_url(self) -> str:
        """The admin API (Restate's port 9070)."""
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self) -> RestateServer:
        """Start the server and wait until it is healthy."""
        if self.process is not None and self.process.poll() is None:
            return self
        env = {
            **os.environ,
            "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{self.ingress_port}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{self.admin_port}",
            "RESTATE_BIND_ADDRESS": f"127.0.0.1:{self.node_port}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://127.0.0.1:{self.node_port}",
            "RESTATE_LOG_FILTER": os.environ.get("RESTATE_LOG_FILTER", "warn"),
            "DO_NOT_TRACK": "true",
            **self.env,
        }
        self.base_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        try:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--base-dir",
                    str(self.base_dir),
                    "--listen-mode",
                    "tcp",
                    "--no-logo",
                    "--node-name",
                    "agentdur-test",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        finally:
            log.close()
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"restate-server exited with {self.process.returncode}: {self._log_tail()}"
                )
            return http_ok(f"{self.admin_url}/health") and http_ok(f"{self.ingress_url}/restate/health")

        try:
            wait_for(healthy, within=self.startup_timeout, what="restate-server healthy", interval=0.05)
        except WaitTimeout:
            raise RuntimeError(
                f"restate-server not healthy after {self.startup_timeout}s: {self._log_tail()}"
            ) from None

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def register(self, uri: str, *, use_http_11: bool = False, force: bool = True) -> dict[str, Any]:
        """Register a deployment (a running agentdur/restate-sdk endpoint) and return Restate's answer."""
        body = {"uri": uri, "force": force, "use_http_11": use_http_11}
        answer: dict[str, Any] = self.admin("POST", "/deployments", body)
        return answer

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API; returns the decoded JSON answer (raises on an HTTP error)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.admin_url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path} failed with {error.code}: {error.read().decode()}") from None
        return json.loads(text) if text else None

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (SIGTERM, or SIGKILL with ``kill=True``); its data stays for :meth:`start`."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        self.process = None

    def restart(self, *, kill: bool = False) -> None:
        """Stop and start again on the same ports and data."""
        self.stop(kill=kill)
        self.start()

    def close(self) -> None:
        """Stop the server and remove its temporary data."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> RestateServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> RestateServer:
        import asyncio

        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import asyncio

        await asyncio.to_thread(self.close)
