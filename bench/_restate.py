"""The Restate columns of ``python -m bench compare``: one restate-server, two deployments, one client.

A :class:`agentdur.testing.RestateServer` (a real restate-server on free local ports) gets two
deployments (:class:`agentdur.testing.RestateDeployment`), each in its own Python process
(:mod:`bench._deployment`): agentdur's bench app served with ``agentdur.restate.restate_app(app)``
and the same handlers written by hand against restate-sdk. Both are invoked
through the server's ingress by one ``httpx.AsyncClient``, so the two columns differ only in the code
inside the deployment. The client speaks HTTP/2 (cleartext, prior knowledge) on one connection:
httpcore's HTTP/1.1 pool scans every connection on each request, which at the chat workload's 100
connections costs ~10 ms of client CPU per request and would make the chat cells measure the client.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from agentdur.testing import RestateDeployment, RestateServer

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
        self.deployments: dict[str, RestateDeployment] = {}
        self.client = httpx.AsyncClient(
            base_url=self.server.ingress_url, http1=False, http2=True, timeout=httpx.Timeout(120.0)
        )

    def profile_path(self, kind: str) -> Path:
        return self.workdir / f"{kind}.pstats"

    def _deployment(self, kind: str) -> RestateDeployment:
        def command(port: int) -> list[str]:
            profile = ["--profile", str(self.profile_path(kind))] if self.profile else []
            return [sys.executable, "-m", "bench._deployment", kind, "--port", str(port), *profile]

        return RestateDeployment(
            workdir=self.workdir,
            server=self.server,
            command=command,
            cwd=ROOT,
            startup_within=30.0,
            log_path=self.workdir / f"{kind}.log",
        )

    async def __aenter__(self) -> RestateBench:
        try:
            await asyncio.to_thread(self.server.start)
            for kind in (AGENTDUR, PLAIN):
                self.deployments[kind] = self._deployment(kind)
            await asyncio.gather(*(asyncio.to_thread(d.start) for d in self.deployments.values()))
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
                    deployment.close()

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
            out[kind] = group_cpu_seconds(deployment.pid) if deployment.process is not None else None
        return out
