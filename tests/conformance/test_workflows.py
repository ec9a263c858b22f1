"""Workflows on both engines: once per key, signals, events, rejections, crashes, timers, URL forms.

The expected answers are restate-server 1.7's: a second ``call`` of a workflow's run handler is a
409 naming the run, a second ``send`` a 202 ``PreviouslyAccepted`` with the same invocation id.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import pytest

import agentdur

from ..harness import EngineUnderTest, wait_for
from ._journal import journaled

USER = {"name": "John Doe", "email": "john@mail.com"}


def label() -> str:
    return "wf" + uuid.uuid4().hex[:8]


def status_of(engine: EngineUnderTest, key: str, workflow: str = "WfSignup") -> Any:
    response = engine.post(f"/restate/call/{workflow}/{key}/status")
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


def workflow_get(engine: EngineUnderTest, key: str, verb: str, workflow: str = "WfSignup") -> httpx.Response:
    return engine.client.get(f"{engine.ingress_url}/restate/workflow/{workflow}/{key}/{verb}")


def test_run_once_per_key_and_resubmissions_answer_as_restate(engine: EngineUnderTest) -> None:
    key = label()
    first = engine.post(f"/restate/send/WfSignup/{key}/run", USER)
    assert first.status_code == 202 and first.json()["status"] == "Accepted", first.text
    inv = first.json()["invocationId"]
    again = engine.post(f"/WfSignup/{key}/run/send", {**USER, "name": "Someone Else"})
    assert again.status_code == 202
    assert again.json() == {**again.json(), "invocationId": inv, "status": "PreviouslyAccepted"}
    wait_for(lambda: status_of(engine, key) == "waiting", what="run waiting for the signal")
    called = engine.post(f"/restate/call/WfSignup/{key}/run", USER)
    assert called.status_code == 409, called.text
    assert called.json()["message"] == "the workflow method was already invoked"
    assert called.headers["x-restate-id"] == inv
    assert workflow_get(engine, key, "output").status_code == 470
    assert engine.post(f"/restate/call/WfSignup/{key}/verify", "s3cret").status_code == 200
    attached = workflow_get(engine, key, "attach")
    assert attached.status_code == 200 and attached.json() == {"user": "John Doe", "secret": "s3cret"}
    assert workflow_get(engine, key, "output").json() == {"user": "John Doe", "secret": "s3cret"}
    after = engine.post(f"/WfSignup/{key}/run", USER)
    assert after.status_code == 409 and after.headers["x-restate-id"] == inv
    assert engine.count(f"wf-create {key}") == 1 and engine.count(f"wf-welcome {key}") == 1
    assert status_of(engine, key) == "done"  # state outlives the run (its retention)


def test_concurrent_duplicate_submissions_run_once(engine: EngineUnderTest) -> None:
    key = label()
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def submit() -> None:
        with httpx.Client(timeout=60) as client:
            response = client.post(f"{engine.ingress_url}/restate/call/WfSignup/{key}/run", json=USER)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: status_of(engine, key) == "waiting", what="the one run waiting")
    wait_for(lambda: len(answers) == 3, what="the duplicates answered")
    assert all(a.status_code == 409 for a in answers), [a.text for a in answers]
    assert engine.post(f"/WfSignup/{key}/verify", "ok").status_code == 200
    for thread in threads:
        thread.join(60)
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409], [a.text for a in answers]
    assert len({a.headers["x-restate-id"] for a in answers}) == 1
    assert engine.count(f"wf-create {key}") == 1


def test_a_signal_before_the_run_waits_is_kept(engine: EngineUnderTest) -> None:
    key = label()
    assert engine.post(f"/WfSignup/{key}/verify", "early").status_code == 200
    assert engine.post(f"/WfSignup/{key}/peek").json() == "early"
    done = engine.post(f"/restate/call/WfSignup/{key}/run", USER)
    assert done.status_code == 200 and done.json() == {"user": "John Doe", "secret": "early"}


def test_a_promise_resolves_once_and_refuses_a_value_of_another_type(engine: EngineUnderTest) -> None:
    key = label()
    assert engine.post(f"/WfSignup/{key}/peek").content in (b"", b"null")
    wrong = engine.post(f"/WfSignup/{key}/verifyAny", 5)
    assert wrong.status_code == 400 and "verified" in wrong.json()["message"], wrong.text
    assert engine.post(f"/WfSignup/{key}/verify", "one").status_code == 200
    second = engine.post(f"/WfSignup/{key}/verify", "two")
    assert second.status_code == 409 and second.json()["message"] == "promise was already completed"
    assert engine.post(f"/WfSignup/{key}/refuse", "late").status_code == 409
    assert engine.post(f"/WfSignup/{key}/peek").json() == "one"


def test_shared_handlers_cannot_write_state(engine: EngineUnderTest) -> None:
    response = engine.post(f"/WfSignup/{label()}/setStatus", "x")
    assert response.status_code == 500 and "read-only" in response.json()["message"], response.text


def test_an_event_awaited_by_a_shared_handler_while_the_run_runs(engine: EngineUnderTest) -> None:
    key = label()
    waiting: list[httpx.Response] = []
    watcher = threading.Thread(
        target=lambda: waiting.append(
            httpx.post(f"{engine.ingress_url}/WfSignup/{key}/waitForUserCreation", timeout=60)
        )
    )
    watcher.start()
    time.sleep(0)  # the watcher may or may not be waiting yet: both orders must work
    engine.send(f"/WfSignup/{key}/run", USER)
    watcher.join(60)
    assert waiting and waiting[0].status_code == 200 and waiting[0].json() == "created John Doe"
    assert engine.post(f"/WfSignup/{key}/waitForUserCreation").json() == "created John Doe"
    assert engine.post(f"/WfSignup/{key}/verify", "x").status_code == 200
    assert workflow_get(engine, key, "attach").status_code == 200


def test_rejecting_the_promise_fails_the_run_after_its_compensation(engine: EngineUnderTest) -> None:
    key = label()
    engine.send(f"/WfSignup/{key}/run", USER)
    wait_for(lambda: status_of(engine, key) == "waiting", what="run waiting")
    assert engine.post(f"/WfSignup/{key}/refuse", "not you").status_code == 200
    attached = workflow_get(engine, key, "attach")
    assert attached.status_code == 422 and attached.json()["message"] == "not you", attached.text
    assert engine.count(f"wf-undo {key}") == 1 and engine.count(f"wf-welcome {key}") == 0
    assert status_of(engine, key) == "refused"


def test_sigkill_while_waiting_on_a_promise_then_the_signal(engine: EngineUnderTest) -> None:
    key = label()
    inv = engine.send(f"/WfSignup/{key}/run", USER)
    wait_for(lambda: status_of(engine, key) == "waiting", what="run waiting")
    wait_for(lambda: journaled(engine, inv, "create"), what="create journaled")
    engine.kill()
    engine.start()
    assert engine.post(f"/restate/call/WfSignup/{key}/verify", "after-crash").status_code == 200
    attached = engine.attach(inv)
    assert attached.status_code == 200 and attached.json()["secret"] == "after-crash", attached.text
    assert engine.count(f"wf-create {key}") == 1  # completed before the crash: never again
    assert engine.count(f"wf-welcome {key}") == 1


def test_a_workflow_timer_survives_a_restart(engine: EngineUnderTest) -> None:
    key = label()
    inv = engine.send(f"/WfTimer/{key}/run", 2.0)
    wait_for(lambda: status_of(engine, key, "WfTimer") == "sleeping", what="timer started")
    wait_for(lambda: journaled(engine, inv, "before"), what="before journaled")
    engine.restart_engine()  # the embedded server, or restate-server itself
    attached = workflow_get(engine, key, "attach", "WfTimer")
    assert attached.status_code == 200 and attached.json() == "woke", attached.text
    assert engine.count(f"wft-before {key}") == 1 and engine.count(f"wft-after {key}") == 1


def test_url_forms(engine: EngineUnderTest) -> None:
    key = label()
    assert engine.post("/restate/call/Ops/square", 7).json() == 49
    sent = engine.post("/restate/send/Ops/square", 8)
    assert sent.status_code == 202 and sent.json()["status"] == "Accepted"
    assert engine.attach(sent.json()["invocationId"]).json() == 64
    delayed = engine.post("/restate/send/Ops/square?delay=100ms", 9)
    assert delayed.status_code == 202
    assert engine.attach(delayed.json()["invocationId"]).json() == 81
    assert engine.post(f"/restate/call/Account/{key}/deposit", 2.0).status_code == 200
    assert engine.post(f"/restate/call/Account/{key}/balance").json() == 2.0
    assert engine.post("/restate/call/Ops/square/send", 1).status_code == 400
    assert engine.post(f"/restate/call/Ops/{key}/square", 1).status_code == 400
    assert engine.post("/restate/call/WfSignup/run", USER).status_code == 400  # no workflow key
    assert engine.post(f"/restate/call/WfSignup/{key}/nope", USER).status_code == 404
    assert workflow_get(engine, label(), "output").status_code == 404
    assert engine.post(f"/restate/call/WfSignup/{key}/verify", "v").status_code == 200
    assert engine.post(f"/restate/call/WfSignup/{key}/run", USER).json()["secret"] == "v"
    attach = engine.post(
        "/restate/attach", {"target": "workflow", "workflowName": "WfSignup", "workflowKey": key}
    )
    assert attach.status_code == 200 and attach.json()["secret"] == "v"


def test_a_handler_calling_a_workflow_key_that_ran_gets_a_409(engine: EngineUnderTest) -> None:
    key = label()
    response = engine.post("/WfCaller/twice", key)
    assert response.status_code == 200, response.text
    assert response.json() == ['"woke"', 409, "the workflow method was already invoked"]


def test_the_client_submits_and_attaches_to_workflows(engine: EngineUnderTest) -> None:
    key = label()
    with agentdur.Client(engine.ingress_url) as client:
        inv = client.workflow_submit("WfSignup", key, USER)
        assert client.workflow_submit("WfSignup", key, USER) == inv
        wait_for(lambda: client.call("WfSignup", "status", key=key) == "waiting", what="run waiting")
        assert client.workflow_output("WfSignup", key) == (False, None)
        with pytest.raises(agentdur.ConflictError, match="already invoked"):
            client.call("WfSignup", "run", USER, key=key)
        client.call("WfSignup", "verify", "via-client", key=key)
        assert client.workflow_attach("WfSignup", key) == {"user": "John Doe", "secret": "via-client"}
        assert client.workflow_output("WfSignup", key) == (True, {"user": "John Doe", "secret": "via-client"})
        with pytest.raises(agentdur.NotFoundError):
            client.workflow_output("WfSignup", label())


def test_an_idempotency_key_on_a_run_is_refused(engine: EngineUnderTest) -> None:
    response = engine.post(f"/WfSignup/{label()}/run/send", USER, headers={"idempotency-key": "k"})
    assert response.status_code == 400 and "idempotency key" in response.json()["message"], response.text
