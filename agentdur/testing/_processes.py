"""Child processes for tests, demos and benchmarks: start, wait until healthy, SIGKILL, stop, poll.

:class:`ChildProcess` runs a command in its own process group (a signal reaches everything it
started) with its output appended to a log file. :class:`ServedApp` is ``agentdur serve`` on a
SQLite file; :class:`RestateDeployment` is a deployment process registered with a
:class:`~agentdur.testing.RestateServer`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx

from .._exceptions import WaitTimeout
from ._ports import free_ports
from ._restate_server import RestateServer
from ._wait import http_ok, wait_for

T = TypeVar("T")
STOP_WITHIN = 20.0


class ChildProcess:
    """A command run in its own session (process group), its output appended to ``log_path``.

    Args:
        command: the program and its arguments.
        log_path: the file receiving stdout and stderr (appended to at every start).
        env: the environment: added to this process's one, or the whole of it with ``inherit_env=False``.
        cwd: the working directory.
        inherit_env: whether ``env`` extends ``os.environ``.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> None:
        self.command = list(command)
        self.log_path = log_path
        self.env = dict(env or {})
        self.cwd = cwd
        self.inherit_env = inherit_env
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildProcess:
        """Start the command (its output goes to ``log_path``)."""
        env = {**os.environ, **self.env} if self.inherit_env else dict(self.env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        assert self.popen is not None, "not started"
        return self.popen.pid

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status, or ``None`` while running (or before start)."""
        return None if self.popen is None else self.popen.poll()

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the process group, if it still runs."""
        if self.running:
            os.killpg(self.pid, sig)

    def kill(self) -> int:
        """SIGKILL the process group (no cleanup, no flush) and return the exit status."""
        return self.stop(signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM, within: float = STOP_WITHIN) -> int:
        """Send ``sig`` to the group and wait; SIGKILL if it has not exited ``within`` seconds.

        Returns:
            The exit status.
        """
        assert self.popen is not None, "not started"
        self.signal_group(sig)
        try:
            return self.popen.wait(within)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            return self.popen.wait(within)

    def wait_until(self, condition: Callable[[], T | None | Literal[False]], within: float, what: str) -> T:
        """:func:`wait_for` ``condition``, failing at once (with the log's tail) if the process exits."""

        def alive_and() -> T | None | Literal[False]:
            if self.popen is not None and self.popen.poll() is not None:
                raise WaitTimeout(
                    f"{what}: the process exited with {self.popen.returncode}:\n{self.log_tail()}"
                )
            return condition()

        return wait_for(alive_and, within=within, what=f"{what} (log: {self.log_path})")

    def log_text(self) -> str:
        """Everything the process logged so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the log."""
        return "\n".join(self.log_text().splitlines()[-lines:])


def python_command(*args: str) -> list[str]:
    """``python ARGS`` with this interpreter."""
    return [sys.executable, *args]


class ServedApp:
    """``agentdur serve APP`` (the embedded engine) on a SQLite file, on the same two ports at every start.

    Use it as a context manager, or call :meth:`start` and :meth:`close`::

        with ServedApp("myapp:app", db=tmp_path / "agentdur.db") as served:
            httpx.post(f"{served.ingress_url}/Greeter/greet", json="bob")

    Args:
        app: the ``module:attribute`` of the :class:`agentdur.App`.
        db: the SQLite file.
        log_path: the server's output (default: ``serve.log`` next to ``db``).
        args: extra ``agentdur serve`` arguments.
        env: extra environment of the server process.
        cwd: its working directory (where ``app``'s module is importable).
        token: the bearer token the server expects, for :attr:`headers` (pass it in ``env`` or ``args``).
        startup_within: seconds to wait for ``/health``.
        port: the ingress port, and ``admin_port`` the admin API's (both free ones when omitted).
        inherit_env: whether ``env`` extends this process's environment (or replaces it).
    """

    def __init__(
        self,
        app: str,
        *,
        db: Path,
        log_path: Path | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        token: str | None = None,
        startup_within: float = 60.0,
        port: int = 0,
        admin_port: int = 0,
        inherit_env: bool = True,
    ) -> None:
        self.app = app
        self.inherit_env = inherit_env
        self.db = db
        self._log_path = log_path or db.parent / "serve.log"
        self.args = list(args)
        self.env = dict(env or {})
        self.cwd = cwd
        self.token = token
        self.startup_within = startup_within
        self.port, self.admin_port = (port, admin_port) if port and admin_port else free_ports(2)
        self.child: ChildProcess | None = None
        self.starts = 0

    @property
    def ingress_url(self) -> str:
        """Where handlers are invoked."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """The admin API."""
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def headers(self) -> dict[str, str]:
        """The authorization header for :attr:`token` (empty without one)."""
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    @property
    def log_path(self) -> Path:
        """The file the current (or next) process logs to."""
        return self._log_path

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The current (or last) server process."""
        return None if self.child is None else self.child.popen

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.child is not None, "not started"
        return self.child.pid

    def command(self) -> list[str]:
        """The ``agentdur serve`` command line."""
        return python_command(
            "-m", "agentdur", "serve", self.app,
            "--port", str(self.port), "--admin-port", str(self.admin_port), "--db", str(self.db),
            *self.args,
        )  # fmt: skip

    def start(self, within: float | None = None) -> ServedApp:
        """Start the server and wait until its admin API answers ``/health``."""
        self.starts += 1
        self.child = ChildProcess(
            self.command(), log_path=self.log_path, env=self.env, cwd=self.cwd, inherit_env=self.inherit_env
        )
        self.child.start()
        self.child.wait_until(
            lambda: http_ok(f"{self.admin_url}/health"),
            self.startup_within if within is None else within,
            f"agentdur serve {self.app} to answer /health",
        )
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` (a graceful shutdown by default) and wait; returns the exit status."""
        assert self.child is not None, "not started"
        return self.child.stop(sig)

    def kill(self) -> int:
        """SIGKILL the server: no cleanup, no flush."""
        return self.stop(signal.SIGKILL)

    def restart(self) -> ServedApp:
        """Start a new process on the same file and ports."""
        return self.start()

    def close(self) -> None:
        """Stop the server if it runs."""
        if self.child is not None and self.child.running:
            self.child.stop()

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RestateDeployment:
    """A deployment process registered with a restate-server; invoked through the server's ingress.

    The default command is ``agentdur serve APP --backend restate --register ADMIN_URL`` (it registers
    itself); pass ``command`` (a function of the port) to run another one, which is then registered here.

    Args:
        app: the ``module:attribute`` of the :class:`agentdur.App` (unused with ``command``).
        server: a shared restate-server (started here if it does not run, left running by :meth:`close`);
            a private one, closed by :meth:`close`, when omitted.
        workdir: where the logs go.
        command: builds the deployment's command line from its port.
        env: extra environment of the deployment process.
        cwd: its working directory.
        startup_within: seconds to wait for the deployment to be registered.
        log_path: the deployment's output (default: ``deployment-PORT.log`` in ``workdir``).
    """

    def __init__(
        self,
        app: str = "",
        *,
        workdir: Path,
        server: RestateServer | None = None,
        command: Callable[[int], Sequence[str]] | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        startup_within: float = 90.0,
        log_path: Path | None = None,
    ) -> None:
        self.app = app
        self.workdir = workdir
        self._own_server = server is None
        self.server = server or RestateServer(
            base_dir=workdir / "restate", log_path=workdir / "restate-server.log"
        )
        self._command = command
        self.env = dict(env or {})
        self.cwd = cwd
        self.startup_within = startup_within
        self.port = free_ports(1)[0]
        self.log_path = log_path or workdir / f"deployment-{self.port}.log"
        self.child: ChildProcess | None = None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The current (or last) deployment process."""
        return None if self.child is None else self.child.popen

    @property
    def pid(self) -> int:
        """The deployment's process id (also its process group id)."""
        assert self.child is not None, "not started"
        return self.child.pid

    @property
    def uri(self) -> str:
        """The deployment's own URL (what restate-server calls)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ingress_url(self) -> str:
        """The restate-server's ingress."""
        return self.server.ingress_url

    @property
    def admin_url(self) -> str:
        """The restate-server's admin API."""
        return self.server.admin_url

    def command(self) -> list[str]:
        """The deployment's command line."""
        if self._command is not None:
            return list(self._command(self.port))
        return python_command(
            "-m", "agentdur", "serve", self.app,
            "--backend", "restate", "--port", str(self.port), "--register", self.admin_url,
        )  # fmt: skip

    def registered(self) -> bool:
        """Whether restate-server lists this deployment, and its ingress already routes to every
        service of it (the admin API learns of a registration before the ingress does)."""
        deployments: list[dict[str, Any]] = self.server.admin("GET", "/deployments")["deployments"]
        ours = [d for d in deployments if str(self.port) in str(d.get("uri", ""))]
        if not ours:
            return False
        names = [str(service.get("name")) for d in ours for service in d.get("services", [])]
        return all(self._ingress_routes(name) for name in names)

    def _ingress_routes(self, service: str) -> bool:
        """Whether the ingress knows ``service``: a handler nobody has answers "handler ... not
        found", not "service ... not found" (nothing runs: no such handler exists)."""
        try:
            response = httpx.post(f"{self.ingress_url}/{service}/agentdur-probe/agentdur-probe", timeout=10)
        except httpx.HTTPError:
            return False
        return f"service '{service}' not found" not in response.text

    def start(self) -> RestateDeployment:
        """Start restate-server (if needed) and the deployment, and wait until it is registered."""
        if self.server.process is None or self.server.process.poll() is not None:
            self.server.start()
        self.child = ChildProcess(self.command(), log_path=self.log_path, env=self.env, cwd=self.cwd).start()
        if self._command is not None:
            self.child.wait_until(self._listening, self.startup_within, f"the deployment on {self.uri}")
            self.server.register(self.uri)
        self.child.wait_until(self.registered, self.startup_within, "the deployment registered")
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
        except OSError:
            return False
        return True

    def kill(self) -> int:
        """SIGKILL the deployment process (restate-server keeps running)."""
        assert self.child is not None, "not started"
        return self.child.kill()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the deployment process; returns its exit status."""
        assert self.child is not None, "not started"
        return self.child.stop(sig)

    def close(self) -> None:
        """Stop a private restate-server first (it holds connections to the deployment), then the deployment."""
        try:
            if self._own_server:
                self.server.close()
        finally:
            if self.child is not None and self.child.running:
                self.child.stop()

    def __enter__(self) -> RestateDeployment:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
