"""Handlers fanning out over asyncio tasks on a real restate-server, replayed after SIGKILL and after
suspensions: the same journal, the same result, no completed step run twice.

restate-server here suspends an invocation after 200 ms without progress, so these handlers are
replayed from the start many times while they run, with different steps done at each replay.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..harness import EngineUnderTest, start_engine, wait_for

JOURNAL_MISMATCH = "RT0016"


@pytest.fixture(scope="module")
def fan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineUnderTest]:
    workdir = tmp_path_factory.mktemp("spread")
    under_test = start_engine("restate", workdir, "tests.restate.app:app", suspend_after=0.2)
    try:
        yield under_test
    finally:
        under_test.close()


def query(engine: EngineUnderTest, sql: str) -> list[dict[str, Any]]:
    response = engine.client.post(
        f"{engine.admin_url}/query", json={"query": sql}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["rows"])


def journal(engine: EngineUnderTest, inv: str) -> list[tuple[str, str]]:
    rows = query(engine, f"SELECT index, entry_type, name FROM sys_journal WHERE id = '{inv}' ORDER BY index")
    return [(row["entry_type"], row.get("name") or "") for row in rows]


def status(engine: EngineUnderTest, inv: str) -> str:
    rows = query(engine, f"SELECT status FROM sys_invocation WHERE id = '{inv}'")
    return str(rows[0]["status"]) if rows else "unknown"


def server_log(engine: EngineUnderTest) -> str:
    return Path(engine.workdir / "restate-server.log").read_text(errors="replace")


def test_fan_out_replays_after_sigkill_and_suspensions(fan: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    inv = fan.send(f"/Spread/{label}/fan_out", label)
    others = [(i, j) for i in range(3) for j in range(3) if i != 1] + [(1, 0)]

    def runs_done() -> int:
        return sum(kind == "Notification: Run" for kind, _ in journal(fan, inv))

    wait_for(
        lambda: fan.count(f"step {label} 1.1") == 1 and runs_done() == len(others),
        what="every step but the gated one journaled as completed",
    )
    before_kill = journal(fan, inv)
    fan.kill()  # step 1.1 is running; steps of the other tasks completed in another order
    fan.start()
    fan.release(label)
    aid = fan.awakeable(label)
    wait_for(lambda: status(fan, inv) == "suspended", what="suspended while waiting for the approval")
    assert fan.resolve(aid, "yes").status_code in (200, 202)

    result = fan.attach(inv).json()
    assert result["gathered"] == [[f"{i}.{j}" for j in range(3)] for i in range(3)]
    assert result["approval"] == "yes"
    assert result["round2"] == [10, 12] and result["round3"] == [210, 212]
    # replayed after the kill and after suspensions, and never a journal mismatch
    assert fan.count(f"attempt {label}") >= 3
    assert JOURNAL_MISMATCH not in server_log(fan)
    after = journal(fan, inv)
    assert after[: len(before_kill)] == before_kill
    # the last replay issued the steps in the journal's order
    steps = [
        name.removeprefix("step ")
        for kind, name in after
        if kind == "Command: Run" and name.startswith("step ")
    ]
    assert steps == result["issued"]
    # no completed step ran twice: only the one running at the kill ran again
    for i in range(3):
        for j in range(3):
            assert fan.count(f"step {label} {i}.{j}") == (2 if (i, j) == (1, 1) else 1), (i, j)
    for n in (0, 10, 1, 11, 100, 110, 101, 111):
        assert fan.lines().count(f"echo {label} {n}") == 1, n


def test_as_completed_yields_the_earliest_completed_first(fan: EngineUnderTest) -> None:
    """The flaky conformance race made deterministic: A and B complete (are journaled) while a step
    runs after C was seen; as_completed must still start with C, on the first run and on replay."""
    label = uuid.uuid4().hex[:8]
    inv = fan.send(f"/Spread/{label}/race", label)
    a, b, c = (fan.awakeable(f"{label}-{name}") for name in "abc")
    assert fan.resolve(c, "C").status_code in (200, 202)
    wait_for(lambda: fan.count(f"hold {label}") >= 1, what="C seen, the step after it running")
    assert fan.resolve(a, "A").status_code in (200, 202)
    assert fan.resolve(b, "B").status_code in (200, 202)

    def signals() -> int:
        return sum(kind == "Notification: Signal" for kind, _ in journal(fan, inv))

    wait_for(lambda: signals() == 3, what="A and B journaled before the step completes")
    fan.release(label)
    assert fan.attach(inv).json() == ["C", "A", "B"]


def test_a_cancellation_reaches_one_task_which_compensates(fan: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    inv = fan.send(f"/Spread/{label}/cancel_fan", label)
    wait_for(lambda: fan.count(f"started {label}") == 1, what="tasks started")

    def sleeping() -> int:  # both branches are waiting on their timers: the cancellation reaches one
        return sum(kind == "Command: Sleep" for kind, _ in journal(fan, inv))

    # the publishing step logs before it is journaled: cancel only once both timers are
    wait_for(lambda: sleeping() == 2, what="both branches sleeping")
    assert fan.cancel(inv).status_code in (200, 202)
    answer = fan.attach(inv)
    assert answer.status_code == 409, answer.text
    assert fan.lines().count(f"cancelled {label} a") == 1
    assert fan.count(f"cancelled {label} b") == 0


def test_a_durable_call_from_a_thread_is_refused_on_the_first_run(fan: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    inv = fan.send(f"/Spread/{label}/from_thread", label)

    def failure() -> str:
        rows = query(fan, f"SELECT last_failure FROM sys_invocation WHERE id = '{inv}'")
        return str(rows[0].get("last_failure") or "") if rows else ""

    message = wait_for(failure, what="the attempt failed")
    assert "ctx set was called from an asyncio task (or thread) that the handler did not create" in message
    fan.client.patch(f"{fan.admin_url}/invocations/{inv}/kill")


def test_step_bodies_of_several_tasks_run_at_the_same_time(fan: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    answer = fan.post(f"/Spread/{label}/overlap", label)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [True, True, True]  # each body saw the other two started before it ended


def test_a_task_resumed_through_done_callbacks_issues_its_commands_before_the_next_wake_up(
    fan: EngineUnderTest,
) -> None:
    """On replay both branches' steps are complete at once: the pump must not take the turns in
    which only gather's done-callbacks are pending (no task runnable) for quiescence and wake
    branch 1 before branch 0 issued the commands it issued first on the first run."""
    label = uuid.uuid4().hex[:8]
    fan.send(f"/Spread/{label}/handoff", label)
    wait_for(
        lambda: fan.count(f"finished {label}") or JOURNAL_MISMATCH in server_log(fan),
        what="the invocation finished or failed its replay",
    )
    assert JOURNAL_MISMATCH not in server_log(fan)
    assert fan.count(f"attempt {label}") >= 2  # replayed after the suspension
    assert fan.lines().count(f"finished {label} 0 1") == 1


def test_list_operations_from_several_tasks_replay_after_suspensions(fan: EngineUnderTest) -> None:
    """Queued list reads, pops awaited together (one lock per list) and a held clear_all issue the
    same commands on every replay: the invocation completes, without a journal mismatch."""
    label = uuid.uuid4().hex[:8]
    inv = fan.send(f"/Spread/{label}/list_tasks", label)
    answer = fan.attach(inv)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert fan.count(f"attempt {label}") >= 3  # suspended at the timers, replayed from the start
    assert JOURNAL_MISMATCH not in server_log(fan)
    assert result["popped"] == "d" and result["length"] == 3  # issued at once, before the branches ran
    branch_pops = [p for branch in result["branches"] for p in branch[0::2]]
    # each branch pops what it appended just before (the other branch waits on its own timer)
    assert sorted(branch_pops) == ["0.0", "0.1", "1.0", "1.1"]
    assert result["beside"] == "c"
    assert result["seen"] == ["a", "b", "y"]  # the get was issued before "z" was appended
    assert result["last"] == "z"
    assert result["after"] == []


def test_a_failing_list_read_raises_at_its_own_await(fan: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    answer = fan.post(f"/Spread/{label}/list_read_fails", label)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "echoed": 7,
        "error": "state 's' holds a JSON string, not a list: clear it or use ctx.get",
    }
