"""A replay answers a handler's awaits in the order their entries completed on the first run.

Two tasks of one handler each await a step and pass its result through an ``asyncio.Queue``; the
handler journals one step per item it takes. On the first run (a real child process) the second
step finishes first; the child is killed with SIGKILL after those steps, and the invocation, recovered
in this process, must replay them in the first run's order instead of pausing on a journal mismatch.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import agentdur

APP_FILE = Path(__file__).with_name("_order_app.py")
T = TypeVar("T")

pytestmark = pytest.mark.timeout(45)


def _load_app() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("agentdur_order_app", APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["agentdur_order_app"] = module
    spec.loader.exec_module(module)
    return module


def _wait(condition: Callable[[], T | None], what: str, child: subprocess.Popen[bytes]) -> T:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = condition()
        if found is not None:
            return found
        assert child.poll() is None, f"the child exited early while waiting for {what}"
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _marker(workdir: Path, event: str) -> dict[str, Any] | None:
    try:
        lines = (workdir / "markers").read_text().splitlines()
    except FileNotFoundError:
        return None
    return next((m for m in map(json.loads, lines) if m["event"] == event), None)


def _completed_steps(db: Path) -> list[str] | None:
    """The names of the completed steps in the file, in the order they completed (None before the
    table exists)."""
    try:
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT name FROM journal WHERE kind='run' AND status='completed' ORDER BY completed_at"
            ).fetchall()
    except sqlite3.OperationalError:
        return None
    return [row[0] for row in rows]


@pytest.fixture
def child_env() -> Iterator[dict[str, str]]:
    yield {**os.environ, "ORDER_APP_BLOCK": "1"}


def test_replay_follows_the_first_runs_completion_order(tmp_path: Path, child_env: dict[str, str]) -> None:
    db, workdir = tmp_path / "order.db", tmp_path / "work"
    workdir.mkdir()
    child = subprocess.Popen(
        [sys.executable, str(APP_FILE), str(db), str(workdir)],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        inv_id = _wait(lambda: (_marker(workdir, "sent") or {}).get("id"), "the invocation", child)
        # right finishes first: left's body waits until right is journaled.
        _wait(lambda: "right" in (_completed_steps(db) or []) or None, "right journaled", child)
        (workdir / "release-left").touch()
        _wait(lambda: _marker(workdir, "blocked"), "the last step", child)
        assert _completed_steps(db) == ["right", "took right", "left", "took left"]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)

    module = _load_app()

    async def recover() -> tuple[Any, agentdur.InvocationInfo]:
        async with agentdur.Engine(module.app, path=db) as engine:
            try:
                result = await asyncio.wait_for(engine.attach(inv_id), 20)
            except TimeoutError:
                info = await engine.invocation(inv_id)
                raise AssertionError(f"not finished: {info.status} {info.last_error}") from None
            return result, await engine.invocation(inv_id)

    result, info = asyncio.run(recover())
    assert result == ["right", "left"]
    assert info.status == "completed", info.last_error
    assert _completed_steps(db) == ["right", "took right", "left", "took left", "last"]
