"""One suite, two engines: every test runs against the embedded server and against restate-server.

Both are driven over HTTP with the same URLs (Restate's), and must behave the same.
"""

from __future__ import annotations

import time
import uuid

import pytest

import agentdur

from ..harness import EngineUnderTest, wait_for
from ._journal import journaled


def label() -> str:
    return uuid.uuid4().hex[:8]


def test_every_context_operation(engine: EngineUnderTest) -> None:
    order_id = label()
    response = engine.post("/Ops/everything", {"id": order_id, "amount": 21.5})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "receipt": {"order_id": order_id, "charged": 21.5, "currency": "EUR"},
        "doubled": 43.0,
        "time_is_float": True,
        "uuid_len": 36,
        "random_in_range": True,
        "balance": 43.0,
        "squared": 49,
    }
    assert engine.count(f"charge {order_id}") == 1
    # the one-way send deposited 1.0 after the call
    wait_for(lambda: engine.post(f"/Account/{order_id}/balance").json() == 44.0, what="send delivered")


def test_state_keys_clear_and_shared_get(engine: EngineUnderTest) -> None:
    key = label()
    for amount in (1.0, 2.5):
        assert engine.post(f"/Account/{key}/deposit", amount).status_code == 200
    shared = engine.client.get(f"{engine.ingress_url}/Account/{key}/balance")  # shared: GET, no body
    assert shared.status_code == 200 and shared.json() == 3.5
    assert engine.post(f"/Account/{key}/wipe").json() == ["balance"]
    assert engine.post(f"/Account/{key}/balance").json() == 0.0


def test_bad_input_is_a_400_naming_the_field(engine: EngineUnderTest) -> None:
    response = engine.post("/Ops/everything", {"id": "x"})
    assert response.status_code == 400
    assert "amount" in response.json()["message"]


def test_combinators_follow_completion_order(engine: EngineUnderTest) -> None:
    run = label()
    inv = engine.send("/Flows/race", run)
    line = wait_for(
        lambda: [x for x in engine.lines() if x.startswith(f"race {run} ")], what="race published"
    )[0]
    a, b, c = line.split()[2:]
    assert engine.resolve(c, "C").status_code in (200, 202)
    wait_for(lambda: engine.count(f"race-first {run}") == 1, what="first completion observed")
    assert engine.resolve(a, "A").status_code in (200, 202)
    assert engine.resolve(b, "B").status_code in (200, 202)
    result = engine.attach(inv).json()
    assert result["first"] == ["C"] and result["pending"] == 2
    assert result["winner"] == ["c", "C"]
    assert result["order"][0] == "C" and sorted(result["order"]) == ["A", "B", "C"]
    assert result["all"] == ["A", "B", "C"]


def test_per_key_queue_and_concurrent_shared_handlers(engine: EngineUnderTest) -> None:
    key = label()
    held = engine.send(f"/Account/{key}/hold", "first")
    queued = [engine.send(f"/Account/{key}/enter", f"m{i}") for i in range(5)]
    aid = engine.awakeable("first")
    # the exclusive handlers wait behind the held one; a shared handler runs meanwhile
    assert engine.client.get(f"{engine.ingress_url}/Account/{key}/entries").json() == []
    assert engine.resolve(aid, "released").status_code in (200, 202)
    assert engine.attach(held).json() == "released"
    results = [engine.attach(inv).json() for inv in queued]
    assert results[-1] == [f"m{i}" for i in range(5)]
    assert results == [[f"m{j}" for j in range(i + 1)] for i in range(5)]


def test_durable_timer(engine: EngineUnderTest) -> None:
    response = engine.post("/Ops/nap", 300)
    assert response.status_code == 200
    assert 0.3 <= response.json() < 10


def test_awakeables_resolved_and_rejected_over_http(engine: EngineUnderTest) -> None:
    yes, no = label(), label()
    approve = engine.send("/Flows/approval", yes)
    deny = engine.send("/Flows/approval", no)
    assert engine.resolve(engine.awakeable(yes), {"by": "alice"}).status_code in (200, 202)
    assert engine.reject(engine.awakeable(no), "over budget").status_code in (200, 202)
    assert engine.attach(approve).json() == "approved by alice"
    assert engine.attach(deny).json() == "rejected: over budget"


def test_idempotency_key_runs_once(engine: EngineUnderTest) -> None:
    order_id = label()
    body = {"id": order_id, "amount": 5.0}
    headers = {"idempotency-key": f"order-{order_id}"}
    first = engine.post("/Ops/everything", body, headers=headers)
    second = engine.post("/Ops/everything", body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert engine.count(f"charge {order_id}") == 1


def test_cancellation_runs_compensation_and_reaches_calls(engine: EngineUnderTest) -> None:
    run = label()
    inv = engine.send("/Flows/trip", run)
    wait_for(lambda: engine.count(f"hotel started {run}") == 1, what="hotel call started")
    response = engine.cancel(inv)
    assert response.status_code in (200, 202), response.text
    outcome = engine.attach(inv)
    assert outcome.status_code == 409
    wait_for(lambda: engine.count(f"cancel flight {run}") == 1, what="flight compensated")
    wait_for(lambda: engine.count(f"cancel hotel {run}") == 1, what="hotel compensated")
    assert engine.count(f"book flight {run}") == 1
    with agentdur.Client(engine.ingress_url) as client, pytest.raises(agentdur.InvocationCancelledError):
        client.attach(inv)


def test_a_users_409_about_cancelling_is_a_conflict_not_a_cancellation(engine: EngineUnderTest) -> None:
    run = label()
    seen = engine.post("/Flows/order_conflicts", run)
    assert seen.status_code == 200, seen.text
    assert seen.json() == {"step": "ConflictError", "call": "ConflictError"}
    with agentdur.Client(engine.ingress_url) as client, pytest.raises(agentdur.ConflictError) as caught:
        client.call("Flows", "refuse_to_cancel", run)
    assert not isinstance(caught.value, agentdur.InvocationCancelledError)
    assert (caught.value.status_code, caught.value.message) == (409, "cannot cancel order")


def test_terminal_and_retried_failures(engine: EngineUnderTest) -> None:
    name = label()
    assert engine.post("/Ops/flaky", name).json() == "ok"
    assert engine.count(f"attempt {name}") == 3
    before = engine.count("decline")
    response = engine.post("/Ops/refuse", 402)
    assert response.status_code == 402
    assert response.json()["message"] == "card declined"
    assert engine.count("decline") == before + 1  # terminal: not retried


def test_calls_and_delayed_sends(engine: EngineUnderTest) -> None:
    key = label()
    started = time.monotonic()
    assert engine.post("/Flows/later", key).json() == "scheduled"
    assert engine.post(f"/Account/{key}/entries").json() == []
    wait_for(lambda: engine.post(f"/Account/{key}/entries").json() == [f"delayed {key}"], what="delayed send")
    assert time.monotonic() - started >= 0.45


def test_crash_of_the_handler_process_mid_run(engine: EngineUnderTest) -> None:
    run = label()
    inv = engine.send("/Flows/pipeline", run)
    wait_for(lambda: engine.count(f"step {run} 3 start") == 1, what="step 3 running")
    engine.kill()
    engine.release(run)
    engine.start()
    result = engine.attach(inv)
    assert result.status_code == 200, result.text
    assert result.json() == [f"{run}-{i}" for i in range(1, 6)]
    for i in (1, 2):
        assert engine.count(f"step {run} {i} done") == 1  # completed before the crash: exactly once
    assert engine.count(f"step {run} 3 start") == 2  # in flight at the crash: at most twice
    for i in (3, 4, 5):
        assert engine.count(f"step {run} {i} done") == 1


def test_engine_restart_while_waiting_on_an_awakeable(engine: EngineUnderTest) -> None:
    run = label()
    inv = engine.send("/Flows/approval", run)
    aid = engine.awakeable(run)
    # the publishing step ran; restart only once its result is journaled, or it may rightly run again
    wait_for(lambda: journaled(engine, inv, "publish"), what="publish journaled")
    engine.restart_engine()
    assert engine.resolve(aid, {"by": "bob"}).status_code in (200, 202)
    assert engine.attach(inv).json() == "approved by bob"
    assert engine.count(f"awakeable {run} ") == 1


def test_attach_by_idempotency_key(engine: EngineUnderTest) -> None:
    key = f"sq-{label()}"
    response = engine.post("/Ops/square/send", 12, headers={"idempotency-key": key})
    assert response.status_code == 202
    attached = engine.client.get(f"{engine.ingress_url}/restate/invocation/Ops/square/{key}/attach")
    assert attached.status_code == 200 and attached.json() == 144
    output = engine.client.get(f"{engine.ingress_url}/restate/invocation/Ops/square/{key}/output")
    assert output.status_code == 200 and output.json() == 144


def test_sigterm_stops_the_handler_process_cleanly_after_serving(engine: EngineUnderTest) -> None:
    # restate-sdk takes over SIGTERM on its first request; our deployment must still stop on it
    assert engine.post("/Ops/square", 4).json() == 16
    assert engine.process is not None
    process = engine.process
    engine.stop()  # SIGTERM, then waits; SIGKILL after 20 s would fail the next assertion
    assert process.returncode == 0
    engine.start()
    assert engine.post("/Ops/square", 5).json() == 25


def test_several_tasks_awaiting_durable_futures_at_once(engine: EngineUnderTest) -> None:
    # on Restate, one waiter per invocation multiplexes the tasks' awaits (restate-sdk alone would hang)
    response = engine.client.post(f"{engine.ingress_url}/Flows/fan_in_tasks", json=5, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == [0, 1, 4, 9, 16]
