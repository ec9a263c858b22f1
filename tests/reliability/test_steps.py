"""Misbehaving steps on both engines: each fails its attempt with a named, retryable agentdur error,
is retried per its RunOptions and ends as a terminal failure; none kills the process or hangs."""

from __future__ import annotations

import pytest

from ..harness import EngineUnderTest, wait_for
from .app import RAISED


# Every kind from both kinds of step body, but StopIteration from a coroutine: Python turns that
# into a RuntimeError (PEP 479), an ordinary error.
@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        (handler, kind)
        for handler in ("raise_async", "raise_sync")
        for kind in sorted(RAISED)
        if (handler, kind) != ("raise_async", "StopIteration")
    ],
)
def test_a_base_exception_from_a_step_fails_the_attempt(
    engine: EngineUnderTest, handler: str, kind: str
) -> None:
    answered = engine.post(f"/Misbehave/{handler}", kind)
    assert answered.status_code == 500, answered.text
    message = answered.json()["message"]
    assert "StepAbortedError" in message and kind in message
    assert engine.post("/Misbehave/time_out", False).status_code == 500  # the process still serves


@pytest.mark.parametrize("sync", [False, True])
def test_a_step_past_its_timeout_fails_the_attempt(engine: EngineUnderTest, sync: bool) -> None:
    answered = engine.post("/Misbehave/time_out", sync)
    assert answered.status_code == 500, answered.text
    assert "StepTimeoutError" in answered.json()["message"]
    assert "within its timeout of 0.1s" in answered.json()["message"]


@pytest.mark.parametrize(
    ("kind", "message"), [("text", "declared type"), ("nan", "non-finite"), ("huge", "4300 digits")]
)
def test_a_result_that_would_not_replay_is_never_journaled(
    engine: EngineUnderTest, kind: str, message: str
) -> None:
    answered = engine.post("/Misbehave/bad_result", kind)
    assert answered.status_code == 500, answered.text
    assert "JournalValueError" in answered.json()["message"] and message in answered.json()["message"]


def test_a_handler_blocking_the_event_loop_is_named_in_a_warning(engine: EngineUnderTest) -> None:
    assert engine.post("/Misbehave/blocks").json() == "done"
    log = engine._log()
    warning = "handler Misbehave/blocks blocked the event loop for more than 1.0s"
    wait_for(lambda: warning in log.read_text(), what="the blocked-loop warning in the process log")
    assert "app.py" in log.read_text().split(warning, 1)[1].splitlines()[0]  # the line it was held at
