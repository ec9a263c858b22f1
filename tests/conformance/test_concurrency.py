"""Plain asyncio concurrency inside a handler replays deterministically, on both engines.

Each handler fans out to three tasks that each make four or more durable calls (steps, a call, a
sleep, an awakeable). The test forces one completion order on the first run, SIGKILLs the process
that runs the handler with two steps in flight, lets them finish in another order after the
restart, and then lets the invocation suspend while it waits for an approval, so it is replayed
once more from the top. The result must equal an uninterrupted run's, no completed step may run
again, and the journal must hold the same entries as the uninterrupted run's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..harness import EngineUnderTest, start_engine, wait_for
from ._journal import journal, journaled, status

SUSPEND_AFTER = 0.5
MODES = ["gather", "taskgroup", "create_task", "wait"]


@pytest.fixture(scope="module", params=["embedded", "restate"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineUnderTest]:
    workdir = tmp_path_factory.mktemp(f"fan-{request.param}")
    under_test = start_engine(
        request.param, workdir, "tests.conformance.app:app", suspend_after=SUSPEND_AFTER
    )
    try:
        yield under_test
    finally:
        under_test.close()


def release(engine: EngineUnderTest, label: str, name: str) -> None:
    Path(f"{engine.log_path}.release-{label}-{name}").touch()


def finish(engine: EngineUnderTest, label: str, name: str, times: int = 1) -> None:
    """Release step ``name`` and wait until it finished ``times`` times in all."""
    release(engine, label, name)
    wait_for(lambda: engine.count(f"fan {label} {name} done") >= times, what=f"step {name} done")


def started(engine: EngineUnderTest, label: str, name: str, times: int = 1) -> None:
    wait_for(lambda: engine.count(f"fan {label} {name} start") >= times, what=f"step {name} started")


def expected(label: str) -> list[str]:
    return [f"0.1+0+0.2+ok {label}", "1.1+1+1.2", "2.1+4+2.2"]


def run_uninterrupted(engine: EngineUnderTest, label: str, mode: str) -> str:
    inv = engine.send("/Fan/run", {"label": label, "mode": mode})
    for i in range(3):  # in task order, one at a time
        started(engine, label, f"{i}.1")
        finish(engine, label, f"{i}.1")
    for i in range(3):
        started(engine, label, f"{i}.2")
        finish(engine, label, f"{i}.2")
    aid = engine.awakeable(label)
    assert engine.resolve(aid, f"ok {label}").status_code in (200, 202)
    result = engine.attach(inv)
    assert result.status_code == 200, result.text
    assert result.json() == expected(label)
    return inv


@pytest.mark.parametrize("mode", MODES)
def test_fan_out_replays_after_sigkill_and_suspension(engine: EngineUnderTest, mode: str) -> None:
    reference = run_uninterrupted(engine, f"ref-{mode}", mode)
    label = f"crash-{mode}"
    inv = engine.send("/Fan/run", {"label": label, "mode": mode})
    for i in range(3):
        started(engine, label, f"{i}.1")
    for i in (2, 1, 0):  # first steps finish in reverse task order
        finish(engine, label, f"{i}.1")
    for i in range(3):
        started(engine, label, f"{i}.2")
    finish(engine, label, "1.2")  # the middle task's second step finishes; 0.2 and 2.2 are in flight
    wait_for(lambda: journaled(engine, inv, "t1 second"), what="t1 second journaled")
    engine.kill()
    engine.start()
    for name in ("0.2", "2.2"):  # the steps in flight at the kill run again ...
        started(engine, label, name, times=2)
    finish(engine, label, "2.2")  # ... and now finish in the other order
    finish(engine, label, "0.2")
    aid = engine.awakeable(label)
    wait_for(lambda: status(engine, inv) == "suspended", what="invocation suspended while it waits")
    assert engine.resolve(aid, f"ok {label}").status_code in (200, 202)  # wakes it: replay from the top
    result = engine.attach(inv)
    assert result.status_code == 200, result.text
    assert result.json() == expected(label)

    for name in ("0.1", "1.1", "2.1", "1.2"):  # completed before the kill: never again
        assert engine.count(f"fan {label} {name} start") == 1, name
    for name in ("0.2", "2.2"):  # in flight at the kill: at most twice, finished once
        assert engine.count(f"fan {label} {name} start") == 2, name
        assert engine.count(f"fan {label} {name} done") == 1, name
    assert engine.count(f"awakeable {label} ") == 1
    assert engine.count(f"fan {label} join") == 1

    entries = journal(engine, inv)
    assert Counter(entries) == Counter(journal(engine, reference))
    steps = [name for kind, name in entries if name.startswith("t")]
    assert sorted(steps) == sorted(f"t{i} {which}" for i in range(3) for which in ("first", "second"))


def test_a_terminal_error_in_a_task_group_fails_the_invocation_at_once(engine: EngineUnderTest) -> None:
    label = f"group-{engine.name}"
    answer = engine.post("/Fan/group_failure", label)
    assert answer.status_code == 422, answer.text  # not wrapped, not retried as an exception group
    assert answer.json()["message"] == "out of stock"
    assert engine.count(f"group {label} refused") == 1
