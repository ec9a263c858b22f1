"""The Restate columns of ``python -m bench compare``: one restate-server, two deployments, one client.

A :class:`agentdur.testing.RestateServer` (a real restate-server on free local ports) gets two
deployments, each in its own Python process (:mod:`bench._deployment`): agentdur's bench app served
with ``agentdur.restate.restate_app(app)`` and the same handlers written by hand against restate-sdk. Both are invoked
through the server's ingress by one ``httpx.AsyncClient``, so the two columns differ only in the code
inside the deployment. The client speaks HTTP/2 (cleartext, prior knowledge) on one connection:
httpcore's HTTP/1.1 pool scans every connection on each request, which at the chat workload's 100
connections costs ~10 ms of client CPU per request and would make the chat cells measure the client.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from agentdur.testing import RestateServer, free_port

from ._chat import CHAT_HANDLER, CHAT_OBJECT, Send
from ._plain_restate import PLAIN_CHAT_OBJECT, PLAIN_SERVICE
from .engine import HANDLER, SERVICE, Invoke

AGENTDUR = "agentdur"
PLAIN = "plain"
ROOT = Path(__file__).resolve().parent.parent

# The URL paths of each deployment's handlers: (steps service, chat object).
_PATHS = {AGENTDUR: (SERVICE, CHAT_OBJECT), PLAIN: (PLAIN_SERVICE, PLAIN_CHAT_OBJECT)}
_JSON = {"content-type": "application/json"}


def group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU seconds of every live process of a process group so far (Linux only)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is the process group
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass
class Deployment:
    """One deployment process (its own session, so its process group is its pid)."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float | None:
        return group_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


async def _wait_listening(deployment: Deployment, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if deployment.process.poll() is not None:
            raise RuntimeError(
                f"the {deployment.kind} deployment exited with {deployment.process.returncode}"
            )
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", deployment.port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"the {deployment.kind} deployment did not listen on port {deployment.port}")


class RestateBench:
    """restate-server with both deployments registered, and the ingress client (async context manager).

    Args:
        workdir: where restate-server keeps its data and log, and the deployments their profiles.
        profile: run the deployments under cProfile; their stats land in ``workdir/{kind}.pstats``.
    """

    def __init__(self, workdir: Path, *, profile: bool = False) -> None:
        self.workdir = workdir
        self.profile = profile
        self.server = RestateServer(base_dir=workdir / "restate", log_path=workdir / "restate-server.log")
        self.deployments: dict[str, Deployment] = {}
        self.client = httpx.AsyncClient(
            base_url=self.server.ingress_url, http1=False, http2=True, timeout=httpx.Timeout(120.0)
        )

    def profile_path(self, kind: str) -> Path:
        return self.workdir / f"{kind}.pstats"

    def _spawn(self, kind: str) -> Deployment:
        port = free_port()
        command = [sys.executable, "-m", "bench._deployment", kind, "--port", str(port)]
        if self.profile:
            command += ["--profile", str(self.profile_path(kind))]
        log = open(self.workdir / f"{kind}.log", "ab")  # noqa: SIM115 - owned by the child process
        try:
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        return Deployment(kind, port, process)

    async def __aenter__(self) -> RestateBench:
        try:
            await asyncio.to_thread(self.server.start)
            for kind in (AGENTDUR, PLAIN):
                self.deployments[kind] = self._spawn(kind)
            for deployment in self.deployments.values():
                await _wait_listening(deployment)
                await asyncio.to_thread(self.server.register, deployment.uri)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop everything this bench started, even after a failure (blocking: it runs at the end)."""
        try:
            await self.client.aclose()
        finally:
            try:
                self.server.close()  # first: it holds HTTP/2 connections to the deployments
            finally:
                for deployment in self.deployments.values():
                    deployment.stop()

    # ----------------------------------------------------------------- invoking over the ingress

    async def _post(self, path: str, body: bytes) -> Any:
        response = await self.client.post(path, content=body, headers=_JSON)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def invoke(self, kind: str) -> Invoke:
        """Invoke the steps handler of one deployment through the ingress."""
        path = f"/{_PATHS[kind][0]}/{HANDLER}"

        def invoke(steps: int) -> Awaitable[Any]:
            return self._post(path, str(steps).encode())

        return invoke

    def send(self, kind: str) -> Send:
        """Send one chat message to one deployment's chat object through the ingress."""
        chat = _PATHS[kind][1]

        async def send(key: str, index: int, text: str) -> int:
            result = await self._post(f"/{chat}/{key}/{CHAT_HANDLER}", json.dumps(text).encode())
            return int(result)

        return send

    # ----------------------------------------------------------------- accounting

    def cpu_seconds(self) -> dict[str, float | None]:
        """CPU seconds so far of restate-server and of each deployment process."""
        out: dict[str, float | None] = {"restate-server": None}
        if self.server.process is not None:
            out["restate-server"] = group_cpu_seconds(self.server.process.pid)
        for kind, deployment in self.deployments.items():
            out[kind] = deployment.cpu_seconds()
        return out
