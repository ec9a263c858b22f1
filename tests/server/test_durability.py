"""Durability through the server: concurrent duplicates, SIGKILL while waiting for a human, SIGTERM mid-step."""

from __future__ import annotations

import asyncio
import signal
import threading
import uuid
from pathlib import Path

import httpx

from .conftest import ServerFactory
from .helpers import Server, lines, wait_for
from .test_ingress import pending_awakeable

DUPLICATES = 20


async def test_concurrent_duplicates_with_one_idempotency_key_run_once(server: Server, marker: Path) -> None:
    headers = {"idempotency-key": uuid.uuid4().hex}
    work = {"marker": str(marker), "hold": 0.3}
    limits = httpx.Limits(max_connections=DUPLICATES)
    async with httpx.AsyncClient(base_url=server.ingress, timeout=20, limits=limits) as client:
        responses = await asyncio.gather(
            *(client.post("/Effects/step", json=work, headers=headers) for _ in range(DUPLICATES))
        )
    assert {r.status_code for r in responses} == {200}
    assert {r.json() for r in responses} == {2}
    assert len({r.headers["x-restate-id"] for r in responses}) == 1
    assert lines(marker) == ["start", "done"]


async def test_concurrent_duplicate_sends_are_accepted_once(server: Server, marker: Path) -> None:
    headers = {"idempotency-key": uuid.uuid4().hex}
    work = {"marker": str(marker), "hold": 0.2}
    async with httpx.AsyncClient(base_url=server.ingress, timeout=20) as client:
        responses = await asyncio.gather(
            *(client.post("/Effects/step/send", json=work, headers=headers) for _ in range(DUPLICATES))
        )
        statuses = sorted(r.json()["status"] for r in responses)
        assert statuses == ["Accepted"] + ["PreviouslyAccepted"] * (DUPLICATES - 1)
        [inv_id] = {r.json()["invocationId"] for r in responses}
        assert (await client.get(f"/restate/invocation/{inv_id}/attach")).json() == 2
    assert lines(marker) == ["start", "done"]


def test_approval_resolved_over_http_after_sigkill_and_restart(serve: ServerFactory) -> None:
    server = serve()
    inv_id = httpx.post(f"{server.ingress}/Approvals/request/send", json="wire transfer").json()[
        "invocationId"
    ]
    awakeable = pending_awakeable(server, inv_id)
    server.kill()

    server.restart()
    assert pending_awakeable(server, inv_id) == awakeable
    assert httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/output").status_code == 470
    resolved = httpx.post(f"{server.ingress}/restate/awakeables/{awakeable}/resolve", json="approved by Ada")
    assert resolved.status_code == 202
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20)
    assert attached.json() == "wire transfer: approved by Ada"


def test_sigterm_lets_the_running_step_finish_and_the_rest_resumes_after_restart(
    serve: ServerFactory, marker: Path
) -> None:
    server = serve("--grace", "10")
    release = marker.with_name("release")
    work = {"marker": str(marker), "release": str(release), "then_sleep": 0.2}
    caller = Call(f"{server.ingress}/Effects/step", work)  # a client waiting for the result
    wait_for(lambda: lines(marker) == ["start"], "the step to start")

    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    wait_for(lambda: "shutting down" in server.output(), "the server to start shutting down")
    assert lines(marker) == ["start"]
    release.touch()  # the step finishes only now, during the shutdown
    assert server.process.wait(20) == 0
    assert lines(marker) == ["start", "done"]  # the step running at SIGTERM finished, once
    response = caller.result()
    assert response.status_code == 503
    inv_id = response.headers["x-restate-id"]
    assert response.json()["code"] == 503 and inv_id in response.json()["message"]
    assert "stopped; unfinished invocations resume at the next start" in server.output()

    server.restart()
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20)
    assert attached.json() == 2
    assert lines(marker) == ["start", "done", "after"]  # the journaled step did not run again
    journal = httpx.get(f"{server.admin}/invocations/{inv_id}").json()["journal"]
    assert [(e["kind"], e["status"]) for e in journal] == [
        ("run", "completed"),
        ("sleep", "completed"),
        ("run", "completed"),
    ]


class Call(threading.Thread):
    """A blocking call made in the background, so the test can stop the server under it."""

    def __init__(self, url: str, body: object) -> None:
        super().__init__(daemon=True)
        self.url, self.body = url, body
        self.response: httpx.Response | None = None
        self.start()

    def run(self) -> None:
        self.response = httpx.post(self.url, json=self.body, timeout=20)

    def result(self) -> httpx.Response:
        self.join(20)
        assert self.response is not None, "the call got no response"
        return self.response


def test_sigint_also_stops_gracefully(serve: ServerFactory) -> None:
    server = serve()
    assert httpx.post(f"{server.ingress}/Greeter/greet", json="bye").json() == "Hello, bye!"
    assert server.stop(signal.SIGINT) == 0
    assert "stopped; unfinished invocations resume at the next start" in server.output()
    assert "Traceback" not in server.output()
