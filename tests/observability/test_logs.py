"""The engine's log lines: invocation start, end and replay at INFO with the reason, steps at DEBUG,
retries at INFO with their error; never an input."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import agentdur

from .test_engine_spans import APP, FAST_RETRIES


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and r.name == "agentdur.engine"]


async def test_log_lines_say_what_ran_why_and_nothing_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentdur.engine")
    secret = "sk-live-do-not-log"
    async with agentdur.Engine(
        APP, path=tmp_path / "t.db", retry_policy=FAST_RETRIES, suspend_after=0.01
    ) as engine:
        assert await engine.call("Traced", "retried_in_step", f"c {secret}") == "ok"
        assert await engine.call("Traced", "retried_by_invocation", f"d {secret}") == "ok"
        assert await engine.call("Traced", "waits") == "woke"
    info = messages(caplog, logging.INFO)
    debug = messages(caplog, logging.DEBUG)
    assert any(m.endswith("(Traced/retried_in_step) started (new)") for m in info)
    assert any(
        "step 'flaky'" in m and "(attempt 1), retrying in" in m and "ConnectionError" in m for m in info
    )
    assert any("step 'flaky'" in m and "the invocation retries it" in m for m in info)
    assert any("(Traced/retried_by_invocation) started (retry)" in m for m in info)
    assert any("(Traced/waits) resume: replaying 2 journal entries" in m for m in info)
    assert sum(m.endswith("execution ended: succeeded") for m in info) == 3
    assert any("entry 0 run 'before' started" in m for m in debug)
    assert any("entry 0 run 'before' replayed (completed)" in m for m in debug)
    assert not any(secret in r.getMessage() for r in caplog.records)
