"""Harness of the crash tests: a child process hosting an Engine, killed with SIGKILL at a known point.

Imported by path from the test module (tests/crash is not a package).

The child (``_child.py``) appends JSON lines to two fsynced files in its work directory:
``markers.log`` (where it is: "sent", "blocked", "status", ...) and ``effects.log`` (what every step
did, with the pid of the process that did it). The test polls those files with a deadline, kills the
child, reopens the SQLite file in this process and checks the recovery against the effects log and
against a reference run of the same workload on another file.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import agentdur
from agentdur.testing import wait_for, wait_for_async

HERE = Path(__file__).resolve().parent
CHILD = HERE / "_child.py"
POLL = 0.01
# Called at the end of a run with the engine and the invocation ids; returns extra facts to compare.
AfterHook = Callable[[agentdur.Engine, list[str]], Awaitable[dict[str, Any]]]
DEADLINE = 30.0
T = TypeVar("T")


def load_module(name: str, path: Path) -> ModuleType:
    """Import a file of this directory under a unique name (tests/crash is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


child_app = load_module("agentdur_crash_child", CHILD)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The complete JSON lines of a log (a torn last line, if any, is ignored)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines(keepends=True):
        if line.endswith("\n"):
            out.append(json.loads(line))
    return out


def wait_until(
    condition: Callable[[], T | None],
    what: str,
    *,
    timeout: float = DEADLINE,
    alive: Callable[[], None] | None = None,
) -> T:
    """Poll ``condition`` every 10 ms until it returns something truthy (returned) or the deadline;
    ``alive`` (called after each miss) raises to stop early."""

    def check() -> T | None:
        value = condition()
        if not value and alive is not None:
            alive()
        return value

    return wait_for(check, within=timeout, what=what, interval=POLL)


class Workdir:
    """A directory holding the logs of one run (the crash run, or the reference run)."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path

    def __str__(self) -> str:
        return str(self.path)

    def markers(self) -> list[dict[str, Any]]:
        return read_lines(self.path / child_app.MARKERS)

    def effects(self) -> list[dict[str, Any]]:
        return read_lines(self.path / child_app.EFFECTS)

    def find_marker(self, name: str, **fields: Any) -> dict[str, Any] | None:
        for m in self.markers():
            if m["marker"] == name and all(m.get(k) == v for k, v in fields.items()):
                return m
        return None

    def step_events(self, tag: str, step: str, event: str, pid: int | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.effects()
            if e["tag"] == tag
            and e["step"] == step
            and e["event"] == event
            and (pid is None or e["pid"] == pid)
        ]

    def count(self, tag: str, step: str, event: str = "start", pid: int | None = None) -> int:
        return len(self.step_events(tag, step, event, pid))

    def awakeable_id(self, tag: str) -> str | None:
        found = self.step_events(tag, "publish", "done")
        return found[-1]["awakeable_id"] if found else None


class Child:
    """A child process hosting an Engine on ``db`` and running one scenario."""

    def __init__(self, scenario: str, db: Path, workdir: Workdir, **opts: Any) -> None:
        self.scenario = scenario
        self.db = db
        self.workdir = workdir
        self.opts = opts
        self.stderr_path = workdir.path / f"child-{time.monotonic_ns()}.stderr"
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(CHILD), scenario, str(db), str(workdir), json.dumps(opts)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                cwd=str(workdir),
            )
        self.pid = self.proc.pid

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text()[-4000:]
        except FileNotFoundError:
            return ""

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"child {self.scenario} exited early with code {self.proc.returncode}; output:\n{self.stderr()}"
            )

    def wait_marker(self, name: str, timeout: float = DEADLINE, **fields: Any) -> dict[str, Any]:
        """Wait for a marker line written by this child."""
        return wait_until(
            lambda: self.workdir.find_marker(name, pid=self.pid, **fields),
            f"marker {name} {fields} from child {self.scenario}",
            timeout=timeout,
            alive=self.check_alive,
        )

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
        return wait_until(condition, what, timeout=timeout, alive=self.check_alive)

    def sent_ids(self) -> list[str]:
        return list(self.wait_marker("sent")["ids"])

    def kill(self) -> None:
        """SIGKILL the child (no cleanup of any kind runs) and reap it."""
        self.check_alive()
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL, self.stderr()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# ============================================================================ in-process runs


async def wait_async(condition: Callable[[], T | None], what: str, limit: float = DEADLINE) -> T:
    return await wait_for_async(condition, within=limit, what=what, interval=POLL)


async def attach_all(engine: agentdur.Engine, ids: list[str], limit: float = 20.0) -> list[Any]:
    """The results of ``ids``; on a timeout, fail with the status and journal of each invocation."""
    try:
        return list(await asyncio.wait_for(asyncio.gather(*(engine.attach(i) for i in ids)), limit))
    except TimeoutError:
        infos = [await engine.invocation(i) for i in ids]
        details = "\n".join(
            f"{info.id} {info.service}/{info.handler} status={info.status} last_error={info.last_error} "
            f"journal={[(e.index, e.kind, e.name, e.status) for e in info.journal]}"
            for info in infos
        )
        raise AssertionError(f"invocations did not finish within {limit}s:\n{details}") from None


def journal_shape(info: agentdur.InvocationInfo) -> list[tuple[Any, ...]]:
    """What must be identical between a recovered run and an uninterrupted one."""
    return [(e.index, e.kind, e.name, e.status, e.value) for e in info.journal]


class Outcome:
    """What a run produced: results in send order, invocation infos, and the logs of its workdir."""

    def __init__(
        self, ids: list[str], results: list[Any], infos: list[agentdur.InvocationInfo], extra: dict[str, Any]
    ) -> None:
        self.ids = ids
        self.results = results
        self.infos = infos
        self.extra = extra


async def drive(
    engine: agentdur.Engine,
    workdir: Workdir,
    ids: list[str],
    approvals: dict[str, Any] | None = None,
    after: AfterHook | None = None,
) -> Outcome:
    """Resolve the awakeables of ``approvals`` (tag -> value) once published, then wait for every result."""
    for tag, value in (approvals or {}).items():
        awakeable_id = await wait_async(functools.partial(workdir.awakeable_id, tag), f"awakeable of {tag}")
        await engine.resolve_awakeable(awakeable_id, value)
    results = await attach_all(engine, ids)
    infos = [await engine.invocation(i) for i in ids]
    extra = await after(engine, ids) if after is not None else {}
    return Outcome(ids, results, infos, extra)


async def reference_run(
    scenario: str,
    db: Path,
    workdir: Workdir,
    params: dict[str, Any] | None = None,
    approvals: dict[str, Any] | None = None,
    after: AfterHook | None = None,
) -> Outcome:
    """The same workload, uninterrupted, in this process on another file."""
    async with agentdur.Engine(child_app.app, path=db) as engine:
        ids = []
        for req in child_app.workload(scenario, str(workdir), params):
            ids.append(await engine.send(req.service, req.handler, req.arg, key=req.key))
        return await drive(engine, workdir, ids, approvals, after)


async def recovery_run(
    db: Path,
    workdir: Workdir,
    ids: list[str],
    approvals: dict[str, Any] | None = None,
    after: AfterHook | None = None,
) -> Outcome:
    """Reopen the crashed file in this process: unfinished invocations resume by themselves."""
    async with agentdur.Engine(child_app.app, path=db) as engine:
        return await drive(engine, workdir, ids, approvals, after)


def recover_with_reference(
    scenario: str,
    crash_db: Path,
    crash_dir: Workdir,
    ids: list[str],
    ref_db: Path,
    ref_dir: Workdir,
    params: dict[str, Any] | None = None,
    approvals: dict[str, Any] | None = None,
    after: AfterHook | None = None,
) -> tuple[Outcome, Outcome]:
    """Recover the crashed file and run the reference workload concurrently (one event loop)."""

    async def both() -> tuple[Outcome, Outcome]:
        recovered, reference = await asyncio.gather(
            recovery_run(crash_db, crash_dir, ids, approvals, after),
            reference_run(scenario, ref_db, ref_dir, params, approvals, after),
        )
        return recovered, reference

    return asyncio.run(both())
