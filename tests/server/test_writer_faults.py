"""A real ``agentdur serve`` whose SQLite file refuses writes (a failing trigger added from outside).

The waiting HTTP caller is answered with a 503 naming the invocation, ``/health`` says 503 with the
reason while the engine cannot write and 200 once it can, the invocation is paused, and ``resume``
completes it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from .conftest import ServerFactory
from .helpers import wait_for

GUARD = 20.0  # only a failure guard: a hang fails the test instead of blocking it


def execute(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None, timeout=GUARD)
    try:
        conn.execute(statement)
    finally:
        conn.close()


def test_a_journal_that_cannot_be_written_answers_callers_and_health_until_it_can(
    serve: ServerFactory,
) -> None:
    server = serve()
    assert httpx.get(f"{server.admin}/health").json() == {"status": "ok"}
    execute(
        server.db,
        "CREATE TRIGGER injected_fault BEFORE INSERT ON journal BEGIN SELECT RAISE(FAIL, 'injected fault'); END",
    )

    answered = httpx.post(f"{server.ingress}/Greeter/greet", json="Ada", timeout=GUARD)
    assert answered.status_code == 503
    inv_id = answered.headers["x-restate-id"]
    assert inv_id in answered.json()["message"] and "injected fault" in answered.json()["message"]
    assert "resume" in answered.json()["message"]

    for health in (f"{server.admin}/health", f"{server.ingress}/restate/health"):
        unhealthy = httpx.get(health)
        assert unhealthy.status_code == 503
        assert unhealthy.json()["status"] == "unhealthy" and "injected fault" in unhealthy.json()["reason"]
    refused = httpx.post(f"{server.ingress}/Greeter/greet/send", json="Bo", timeout=GUARD)
    assert refused.status_code == 503 and "injected fault" in refused.json()["message"]

    execute(server.db, "DROP TRIGGER injected_fault")
    wait_for(lambda: httpx.get(f"{server.admin}/health").status_code == 200, "health to be ok again")

    def invocation() -> dict[str, str]:
        return dict(httpx.get(f"{server.admin}/invocations/{inv_id}").json())

    paused = wait_for(
        lambda: (info := invocation())["status"] == "paused" and info, "the invocation to pause"
    )
    assert "injected fault" in paused["last_error"]
    assert httpx.patch(f"{server.admin}/invocations/{inv_id}/resume").status_code == 200
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=GUARD)
    assert attached.json() == "Hello, Ada!"
