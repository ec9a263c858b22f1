"""Every pattern on both engines, driven over HTTP, with SIGKILLs of the serving process.

Gated work (tests/patterns/app.py) lets each test decide what has finished when the process dies;
the effect log counts what really ran, across processes. After each crash the invocation must end
with the result an uninterrupted run gives, with no completed step run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..harness import EngineUnderTest, engine_fixture, wait_for

engine = engine_fixture("tests.patterns.app:app")


# ------------------------------------------------------------------------------- helpers


def release(engine: EngineUnderTest, label: str, *names: str) -> None:
    for name in names:
        Path(f"{engine.log_path}.release-{label}-{name}").touch()


def started(engine: EngineUnderTest, label: str, name: str, times: int = 1) -> None:
    wait_for(lambda: engine.count(f"{label} {name} start") >= times, what=f"{label} {name} started x{times}")


def finish(engine: EngineUnderTest, label: str, name: str) -> None:
    release(engine, label, name)
    wait_for(lambda: engine.count(f"{label} {name} done") >= 1, what=f"{label} {name} done")


def entries(engine: EngineUnderTest, invocation_id: str) -> list[tuple[str, bool]]:
    """(name, completed) of every operation in the journal (no input or output), in journal order."""
    if engine.name == "embedded":
        body = engine.client.get(f"{engine.admin_url}/invocations/{invocation_id}").json()
        return [(str(e["name"]), e["status"] != "pending") for e in body["journal"]]
    query = f"SELECT index, entry_type, name, entry_json FROM sys_journal WHERE id = '{invocation_id}' ORDER BY index"
    response = engine.client.post(
        f"{engine.admin_url}/query", json={"query": query}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    # Restate's journal holds commands and, separately, the notifications completing them.
    completed = set()
    for row in rows:
        if str(row["entry_type"]).startswith("Notification"):
            completion = json.loads(row["entry_json"])["Notification"].get("Completion", {})
            completed |= {value.get("completion_id") for value in completion.values()}
    out = []
    for row in rows:
        kind = str(row["entry_type"])
        if kind.startswith("Command") and kind not in ("Command: Input", "Command: Output"):
            command = next(iter(json.loads(row["entry_json"])["Command"].values()))
            done = "completion_id" not in command or command["completion_id"] in completed
            out.append((str(row.get("name") or ""), done))
    return out


def journaled(engine: EngineUnderTest, invocation_id: str, name: str) -> bool:
    return (name, True) in entries(engine, invocation_id)


def result(engine: EngineUnderTest, invocation_id: str) -> Any:
    response = engine.attach(invocation_id)
    assert response.status_code == 200, response.text
    return response.json()


def crash(engine: EngineUnderTest) -> None:
    engine.kill()
    engine.start()


# ------------------------------------------------------------------------------- routing


def test_routing_by_model_to_a_tool_journals_the_choice_once(engine: EngineUnderTest) -> None:
    response = engine.post("/Routes/ask", {"label": "r1", "text": "my bill is wrong"})
    assert response.status_code == 200, response.text
    assert response.json() == {"route": "billing", "value": "invoice for my bill is wrong", "reason": "bill"}
    assert engine.count("r1 route-model") == 1 and engine.count("r1 billing") == 1
    names = [name for name, _ in entries(engine, response.headers["x-restate-id"])]
    assert names.count("Choose route") == 1 and "billing" in names


def test_routing_to_an_unknown_route_is_a_400_naming_it(engine: EngineUnderTest) -> None:
    response = engine.post("/Routes/ask", {"label": "r2", "text": "what is the meaning of life"})
    assert response.status_code == 400, response.text
    assert "unknown route 'nowhere'" in response.json()["message"]
    assert "'billing'" in response.json()["message"]
    response = engine.post("/Routes/ask_by_rule", {"label": "r3", "text": "hello"})
    assert response.status_code == 400 and "unknown route 'elsewhere'" in response.json()["message"]
    response = engine.post("/Routes/ask_by_rule", {"label": "r4", "text": "bill me"})
    assert response.json() == {"route": "billing", "value": "invoice for bill me"}


def test_routing_survives_a_crash_in_a_remote_route_and_in_a_local_handler(engine: EngineUnderTest) -> None:
    remote = engine.send("/Routes/ask", {"label": "r5", "text": "a bug in the app"})
    local = engine.send("/Routes/ask", {"label": "r6", "text": "let's chat"})
    started(engine, "r5", "diagnose")
    finish(engine, "r6", "talk1")
    started(engine, "r6", "talk2")
    wait_for(lambda: journaled(engine, local, "smalltalk 1"), what="smalltalk 1 journaled")
    crash(engine)
    finish(engine, "r5", "diagnose")
    finish(engine, "r6", "talk2")
    assert result(engine, remote) == {
        "route": "technical",
        "value": "ticket for a bug in the app",
        "reason": "bug",
    }
    assert result(engine, local) == {"route": "smalltalk", "value": "talk1+talk2", "reason": "chat"}
    assert engine.count("r5 route-model") == 1 and engine.count("r6 route-model") == 1  # never asked twice
    assert engine.count("r6 talk1 start") == 1  # completed before the kill: not repeated
    assert engine.count("r5 diagnose done") == 1 and engine.count("r6 talk2 done") == 1


# ------------------------------------------------------------------------------- parallel


def test_parallel_settles_in_input_order_with_failures_and_a_limit(engine: EngineUnderTest) -> None:
    label = "p1"
    inv = engine.send("/Fan/settled", {"label": label, "n": 4, "limit": 2, "fail": [1], "remote": [2]})
    started(engine, label, "b0")
    started(engine, label, "b1")
    # the limit: two branches run, the others wait for a free slot
    assert engine.count(f"{label} b2 start") == 0 and engine.count(f"{label} b3 start") == 0
    finish(engine, label, "b1")
    started(engine, label, "b2")
    assert engine.count(f"{label} b3 start") == 0
    for name in ("b2", "b0", "b3"):
        release(engine, label, name)
    assert result(engine, inv) == ["r0", "failed: branch 1 failed", "r2", "r3"]
    lines = [line for line in engine.lines() if line.startswith(f"{label} b")]
    running = peak = 0
    for line in lines:
        running += 1 if line.endswith(" start") else -1
        peak = max(peak, running)
    assert peak == 2


def test_parallel_all_raises_the_first_failure(engine: EngineUnderTest) -> None:
    release(engine, "p2", "b0", "b1", "b2")
    response = engine.post("/Fan/all_or_error", {"label": "p2", "n": 3, "fail": [2, 1]})
    assert response.status_code == 500, response.text
    assert response.json()["message"] == "2 of 3 branches failed; 'b1': branch 1 failed"


def test_parallel_resumes_after_a_crash_with_some_branches_done(engine: EngineUnderTest) -> None:
    label = "p3"
    request = {"label": label, "n": 5, "limit": 3, "remote": [1]}
    inv = engine.send("/Fan/settled", request)
    for name in ("b0", "b1", "b2"):
        started(engine, label, name)
    finish(engine, label, "b2")
    started(engine, label, "b3")  # in b2's slot
    finish(engine, label, "b1")  # the remote branch
    started(engine, label, "b4")  # in b1's slot
    wait_for(lambda: journaled(engine, inv, "b2"), what="b2 journaled")
    crash(engine)  # b0, b3 and b4 are in flight
    release(engine, label, "b0", "b3", "b4")
    assert result(engine, inv) == ["r0", "r1", "r2", "r3", "r4"]
    assert (
        engine.count(f"{label} b1 start") == 1 and engine.count(f"{label} b2 start") == 1
    )  # done: not again
    for name in ("b0", "b3", "b4"):  # in flight at the kill: run again, finished once
        assert engine.count(f"{label} {name} start") == 2, name
        assert engine.count(f"{label} {name} done") == 1, name
    assert engine.count(f"{label} joined") == 1


def test_parallel_local_agents_resume_after_a_crash(engine: EngineUnderTest) -> None:
    label = "p4"
    inv = engine.send("/Fan/settled", {"label": label, "n": 3, "agents": [0, 1]})
    finish(engine, label, "b1p")
    finish(engine, label, "b1")
    started(engine, label, "b0p")
    wait_for(lambda: journaled(engine, inv, "b1"), what="b1 journaled")
    crash(engine)
    release(engine, label, "b0p", "b0", "b2")
    assert result(engine, inv) == ["r0", "r1", "r2"]
    assert engine.count(f"{label} b1p start") == 1 and engine.count(f"{label} b1 start") == 1
    assert engine.count(f"{label} b0p done") == 1 and engine.count(f"{label} b0 done") == 1


# ------------------------------------------------------------------------------- racing


def test_race_winner_and_losers_cancelled(engine: EngineUnderTest) -> None:
    label = "k1"
    inv = engine.send("/Race/run", {"label": label})
    wait_for(lambda: engine.count(f"{label} reserve slow") == 1, what="slow reserved")
    started(engine, label, "local")
    finish(engine, label, "work-fast")
    started(engine, label, "release-slow")  # the cancelled loser compensates
    wait_for(lambda: engine.count(f"{label} local stopped") == 1, what="the local loser stopped")
    release(engine, label, "release-slow", "report")
    assert result(engine, inv) == {"winner": "fast", "index": 0, "value": "fast won"}
    wait_for(lambda: engine.count(f"{label} release-slow done") == 1, what="the loser's compensation done")
    assert engine.count(f"{label} finished fast") == 1
    assert engine.count(f"{label} finished slow") == 0 and engine.count(f"{label} local finished") == 0
    assert engine.count(f"{label} release-fast start") == 0  # the winner keeps its reservation


def test_race_crash_after_the_winner_while_losers_run(engine: EngineUnderTest) -> None:
    label = "k2"
    inv = engine.send("/Race/run", {"label": label})
    wait_for(lambda: engine.count(f"{label} reserve slow") == 1, what="slow reserved")
    finish(engine, label, "work-fast")
    started(engine, label, "report")  # the winner is journaled; the caller went on
    started(engine, label, "release-slow")  # the loser is compensating
    wait_for(lambda: journaled(engine, inv, "race winner"), what="winner journaled")
    crash(engine)
    release(engine, label, "release-slow", "report")
    assert result(engine, inv) == {"winner": "fast", "index": 0, "value": "fast won"}
    wait_for(lambda: engine.count(f"{label} release-slow done") == 1, what="the loser's compensation done")
    assert engine.count(f"{label} work-fast start") == 1  # the winner's work is not redone
    assert engine.count(f"{label} reserve fast") == 1 and engine.count(f"{label} reserve slow") == 1
    assert engine.count(f"{label} finished slow") == 0 and engine.count(f"{label} local finished") == 0
    assert engine.count(f"{label} release-fast start") == 0
    names = [name for name, _ in entries(engine, inv)]
    assert names.count("race winner") == 1


def test_race_deadline_cancels_everyone(engine: EngineUnderTest) -> None:
    label = "k3"
    release(engine, label, "release-fast", "release-slow")
    response = engine.post("/Race/run", {"label": label, "deadline_ms": 300, "winner": "none"})
    assert response.status_code == 200, response.text
    assert "no branch succeeded within" in response.json()["timed_out"]
    wait_for(lambda: engine.count(f"{label} release-fast done") == 1, what="fast compensated")
    wait_for(lambda: engine.count(f"{label} release-slow done") == 1, what="slow compensated")
    wait_for(lambda: engine.count(f"{label} local stopped") == 1, what="local stopped")


# ------------------------------------------------------------------------------- sagas


def test_saga_compensates_in_reverse_once_each_across_a_crash(engine: EngineUnderTest) -> None:
    label = "s1"
    inv = engine.send("/Trips/book_trip", {"label": label})
    finish(engine, label, "undo-car-id")
    started(engine, label, "undo-hotel-id")  # in the middle of compensating
    wait_for(lambda: journaled(engine, inv, "compensate: cancel car"), what="car compensation journaled")
    crash(engine)
    started(engine, label, "undo-hotel-id", times=2)  # in flight at the kill: runs again
    finish(engine, label, "undo-hotel-id")
    finish(engine, label, "undo-flight-id")
    response = engine.attach(inv)
    assert response.status_code == 500 and response.json()["message"] == "card declined"
    for what in ("flight", "hotel", "car"):
        assert engine.count(f"{label} book {what}") == 1, what
        assert engine.count(f"{label} undo-{what}-id done") == 1, what
    assert engine.count(f"{label} undo-car-id start") == 1  # completed before the kill: never again
    undone = [line for line in engine.lines() if line.startswith(f"{label} undo-") and line.endswith("done")]
    assert undone == [
        f"{label} undo-car-id done",
        f"{label} undo-hotel-id done",
        f"{label} undo-flight-id done",
    ]
    names = [name for name, _ in entries(engine, inv) if name.startswith("compensate")]
    assert names == ["compensate: cancel car", "compensate: cancel hotel", "compensate: cancel flight"]


def test_saga_compensates_when_cancelled(engine: EngineUnderTest) -> None:
    label = "s2"
    inv = engine.send("/Trips/book_trip", {"label": label, "hold": True, "fail": False})
    wait_for(lambda: engine.count(f"{label} book car") == 1, what="car booked")
    wait_for(lambda: journaled(engine, inv, "book car"), what="car journaled")
    release(engine, label, "undo-car-id", "undo-hotel-id", "undo-flight-id")
    assert engine.cancel(inv).status_code in (200, 202)
    response = engine.attach(inv)
    assert response.status_code == 409, response.text
    for what in ("flight", "hotel", "car"):
        assert engine.count(f"{label} undo-{what}-id done") == 1, what
    assert engine.count(f"{label} charge") == 0


def test_saga_without_failure_compensates_nothing(engine: EngineUnderTest) -> None:
    response = engine.post("/Trips/book_trip", {"label": "s3", "fail": False})
    assert response.status_code == 200 and response.json() == ["flight-id", "hotel-id", "car-id"]
    assert not [line for line in engine.lines() if line.startswith("s3 undo-")]


# ------------------------------------------------------------------------------- orchestrator, evaluator


def test_orchestrator_resumes_with_some_workers_done(engine: EngineUnderTest) -> None:
    label = "o1"
    inv = engine.send("/Agents/research", {"label": label})
    started(engine, label, "worker-a")
    started(engine, label, "worker-b")
    assert engine.count(f"{label} worker-c start") == 0  # limit=2
    finish(engine, label, "worker-b")
    started(engine, label, "worker-c")
    wait_for(lambda: any(n.startswith("Worker 1") and done for n, done in entries(engine, inv)), what="b")
    crash(engine)
    release(engine, label, "worker-a", "worker-c")
    body = result(engine, inv)
    assert body["answer"] == "combined: a, b, c"
    assert body["results"] == ["result a", "result b", "result c"]
    assert [s["title"] for s in body["plan"]["subtasks"]] == ["a", "b", "c"]
    assert engine.count(f"{label} plan") == 1 and engine.count(f"{label} synthesize") == 1
    assert engine.count(f"{label} worker-b start") == 1


def test_evaluator_refines_until_accepted_across_a_crash(engine: EngineUnderTest) -> None:
    label = "e1"
    inv = engine.send("/Agents/refine", {"label": label})
    finish(engine, label, "evaluate-1")
    started(engine, label, "evaluate-2")
    crash(engine)
    release(engine, label, "evaluate-2", "evaluate-3")
    body = result(engine, inv)
    assert body["accepted"] is True and body["answer"] == "draft 3"
    assert [r["evaluation"]["accepted"] for r in body["rounds"]] == [False, False, True]
    assert body["rounds"][1]["evaluation"]["feedback"] == "more than 2"
    for number in (1, 2, 3):
        assert engine.count(f"{label} generate {number}") == 1, number
    assert engine.count(f"{label} evaluate-1 start") == 1
    names = [name for name, _ in entries(engine, inv)]
    assert names == ["Generate 1", "Evaluate 1", "Generate 2", "Evaluate 2", "Generate 3", "Evaluate 3"]


def test_evaluator_stops_after_max_rounds(engine: EngineUnderTest) -> None:
    release(engine, "e2", "evaluate-1", "evaluate-2")
    response = engine.post("/Agents/refine", {"label": "e2", "max_rounds": 2})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] is False and response.json()["answer"] == "draft 2"
