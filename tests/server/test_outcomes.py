"""Failing invocations over real HTTP: callers are answered, outcomes and tracebacks are visible."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import pytest

import agentdur

from .conftest import ServerFactory
from .helpers import Server, wait_for
from .test_cli import columns, ok
from .test_ingress import pending_awakeable

SECRET = "/tmp/input-that-must-never-be-logged"


def detail(server: Server, inv_id: str) -> dict:  # type: ignore[type-arg]
    return httpx.get(f"{server.admin}/invocations/{inv_id}").json()  # type: ignore[no-any-return]


def test_a_handler_that_always_fails_answers_its_caller_and_lists_as_failed(serve: ServerFactory) -> None:
    server = serve("--max-attempts", "2")
    response = httpx.post(f"{server.ingress}/Effects/broken", json={"marker": SECRET}, timeout=60)
    inv_id = response.headers["x-restate-id"]
    body = response.json()
    assert response.status_code == 500
    assert body["status"] == "paused" and body["invocationId"] == inv_id and body["code"] == 500
    assert "gave up after 2 attempts" in body["reason"] and "KeyError: 'model'" in body["reason"]
    assert f"agentdur resume {inv_id}" in body["message"]
    assert "Traceback" not in response.text  # the traceback is for operators, not callers

    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=60)
    assert attached.status_code == 500 and attached.json()["invocationId"] == inv_id
    with agentdur.Client(server.ingress) as client, pytest.raises(agentdur.InvocationPausedError) as caught:
        client.attach(inv_id)
    assert caught.value.invocation_id == inv_id and "KeyError" in caught.value.reason

    listed = columns(ok("invocations", "--status", "failed", server=server))
    assert [row[:3] for row in listed[1:]] == [[inv_id, "Effects/broken", "paused"]]
    assert "KeyError: 'model'" in listed[1][6]
    shown = ok("invocation", inv_id, server=server)
    assert "Traceback (most recent call last)" in shown
    assert 'return settings["model"]' in shown and "KeyError: 'model'" in shown
    assert f"agentdur resume {inv_id}" in shown
    error = detail(server, inv_id)["error"]
    assert error["type"] == "KeyError" and "in broken" in error["traceback"]

    log = server.log.read_text()
    assert "WARNING agentdur.engine: invocation" in log and f"{inv_id} paused" in log
    assert log.count("Traceback (most recent call last)") >= 2  # the failed attempt and the pause
    assert SECRET not in log


def test_resume_wakes_a_new_attach_with_the_real_result(server: Server, marker: Path) -> None:
    response = httpx.post(f"{server.ingress}/Effects/flaky", json={"marker": str(marker)}, timeout=60)
    assert response.status_code == 500 and response.json()["status"] == "paused"
    inv_id = response.json()["invocationId"]
    assert "marker file is missing" in detail(server, inv_id)["error"]["message"]
    marker.touch()
    assert ok("resume", inv_id, server=server).startswith(f"resumed {inv_id}")
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=60)
    assert attached.status_code == 200 and attached.json() == "recovered"
    assert detail(server, inv_id)["outcome"] == "succeeded"


def test_killed_and_cancelled_show_their_outcome(server: Server) -> None:
    killed = httpx.post(f"{server.ingress}/Approvals/request/send", json="k").json()["invocationId"]
    cancelled = httpx.post(f"{server.ingress}/Approvals/request/send", json="c").json()["invocationId"]
    pending_awakeable(server, killed), pending_awakeable(server, cancelled)
    ok("kill", killed, server=server)
    ok("cancel", cancelled, server=server)
    wait_for(lambda: detail(server, cancelled)["status"] == "completed", "the cancellation")
    assert (detail(server, killed)["status"], detail(server, killed)["outcome"]) == ("completed", "killed")
    assert detail(server, cancelled)["outcome"] == "cancelled"

    def ids(**query: str) -> list[str]:
        found = httpx.get(f"{server.admin}/invocations", params=query).json()["invocations"]
        return [item["id"] for item in found]

    assert killed in ids(status="killed") and killed in ids(outcome="killed")
    assert cancelled in ids(outcome="cancelled") and cancelled not in ids(outcome="killed")
    assert killed not in ids(status="failed")
    rows = columns(ok("invocations", "--status", "killed", server=server))[1:]
    assert [killed, "completed", "killed"] in [[row[0], row[2], row[3]] for row in rows]
    bad = httpx.get(f"{server.admin}/invocations", params={"outcome": "exploded"})
    assert bad.status_code == 400 and "outcome: must be one of" in bad.json()["message"]


def test_the_step_running_now_is_shown_then_its_duration(server: Server, marker: Path) -> None:
    inv_id = httpx.post(f"{server.ingress}/Effects/gated/send", json={"marker": str(marker)}).json()[
        "invocationId"
    ]
    running = wait_for(
        lambda: next((e for e in detail(server, inv_id)["journal"] if e["status"] == "running"), None),
        "the step to show as running",
    )
    assert running["name"] == "wait for go" and running["completed_at"] is None
    entries = columns(ok("journal", inv_id, server=server).split("\n\n")[1])
    assert entries[1][:6] == ["0", "run", "wait for go", "running", entries[1][4], "running"]

    opened = datetime.fromisoformat(running["started_at"])
    Path(str(marker) + ".go").touch()
    assert httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=60).json() == "went"
    (step,) = detail(server, inv_id)["journal"]
    assert step["status"] == "completed" and step["started_at"] == running["started_at"]
    finished = datetime.fromisoformat(step["completed_at"])
    assert finished > opened and step["duration"] == pytest.approx(
        (finished - opened).total_seconds(), abs=1e-3
    )
    entries = columns(ok("journal", inv_id, server=server).split("\n\n")[1])
    assert entries[1][3] == "completed" and entries[1][5].endswith(("ms", "s"))
