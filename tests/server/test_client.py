"""``agentdur.Client`` and ``AsyncClient`` against ``agentdur serve`` and against a real restate-server.

Both speak only Restate's ingress URLs, so the same assertions hold on either engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

import agentdur
from agentdur.testing import RestateDeployment

from .app import Order
from .helpers import APP, REPO, Server, lines, wait_for


@pytest.fixture(scope="module", params=["agentdur", "restate"])
def ingress(
    request: pytest.FixtureRequest, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The ingress URL of our server, or of a restate-server with the test app registered as a deployment."""
    if request.param == "agentdur":
        yield server.ingress
        return
    directory = tmp_path_factory.mktemp("restate")
    with RestateDeployment(APP, workdir=directory, cwd=REPO, startup_within=30) as deployment:
        wait_for(lambda: _registered(deployment.ingress_url), "the deployment to be routable", 30)
        yield deployment.ingress_url


def _registered(ingress_url: str) -> bool:
    try:
        return httpx.post(f"{ingress_url}/Greeter/ping", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def published_awakeable(marker: Path) -> str:
    return str(wait_for(lambda: next(iter(lines(marker)), None), "the published awakeable id"))


def test_call_send_attach_output(ingress: str) -> None:
    with agentdur.Client(ingress) as client:
        assert client.call("Greeter", "greet", "Mary") == "Hello, Mary!"
        receipt = client.call("Greeter", "order", Order(item="tea", quantity=2))
        assert receipt == {"item": "tea", "quantity": 2, "total": 5.0}
        assert client.call("Greeter", "ping") == "pong"
        key = uuid.uuid4().hex[:8]
        assert client.call("Counter", "add", 4, key=key) == 4
        assert client.call("Counter", "get", key=key) == 4
        inv_id = client.send("Greeter", "greet", "Ann", idempotency_key=uuid.uuid4().hex)
        assert inv_id.startswith("inv_")
        assert client.attach(inv_id) == "Hello, Ann!"
        assert client.output(inv_id) == (True, "Hello, Ann!")
        delayed = client.send("Greeter", "greet", "later", delay=timedelta(milliseconds=50))
        assert client.attach(delayed) == "Hello, later!"


def test_idempotency_key_names_one_invocation(ingress: str, marker: Path) -> None:
    key = uuid.uuid4().hex
    with agentdur.Client(ingress) as client:
        work = {"marker": str(marker)}
        assert client.call("Effects", "step", work, idempotency_key=key) == 2
        assert client.call("Effects", "step", work, idempotency_key=key) == 2
        assert client.send("Effects", "step", work, idempotency_key=key).startswith("inv_")
        assert lines(marker) == ["start", "done"]


def test_awakeables_resolve_and_reject(ingress: str, tmp_path: Path) -> None:
    with agentdur.Client(ingress) as client:
        approved, rejected = tmp_path / "approved", tmp_path / "rejected"
        first = client.send(
            "Approvals", "publish", {"marker": str(approved)}, idempotency_key=uuid.uuid4().hex
        )
        second = client.send(
            "Approvals", "publish", {"marker": str(rejected)}, idempotency_key=uuid.uuid4().hex
        )
        assert client.output(first) == (False, None)
        client.resolve_awakeable(published_awakeable(approved), "yes")
        assert client.attach(first) == "yes"
        client.reject_awakeable(published_awakeable(rejected), "no budget")
        with pytest.raises(agentdur.TerminalError) as failure:
            client.attach(second)
        assert (failure.value.message, failure.value.status_code) == ("no budget", 500)


def test_failures_raise_the_matching_terminal_error(ingress: str) -> None:
    with agentdur.Client(ingress) as client:
        with pytest.raises(agentdur.InvalidInputError, match="quantity"):
            client.call("Greeter", "order", {"item": "tea", "quantity": "lots"})
        with pytest.raises(agentdur.NotFoundError):
            client.call("Nope", "greet", "x")
        with pytest.raises(agentdur.TerminalError) as failure:
            client.call("Greeter", "fail", {"message": "card declined", "code": 422})
        assert type(failure.value) is agentdur.TerminalError
        assert (failure.value.message, failure.value.status_code) == ("card declined", 422)


def test_conflicts_raise_conflict_errors(server: Server, tmp_path: Path) -> None:
    """Only the embedded engine refuses an idempotency key reused with another input (Restate replays)."""
    with agentdur.Client(server.ingress) as client:
        key = uuid.uuid4().hex
        client.call("Greeter", "greet", "Ann", idempotency_key=key)
        with pytest.raises(agentdur.ConflictError, match="idempotency key"):
            client.call("Greeter", "greet", "Bob", idempotency_key=key)

        inv_id = client.send("Approvals", "publish", {"marker": str(tmp_path / "m")})
        awakeable = published_awakeable(tmp_path / "m")
        client.resolve_awakeable(awakeable, "once")
        assert client.attach(inv_id) == "once"
        with pytest.raises(agentdur.ConflictError, match="already completed"):
            client.resolve_awakeable(awakeable, "twice")


def test_cancelled_invocation_raises_invocation_cancelled(server: Server, tmp_path: Path) -> None:
    with agentdur.Client(server.ingress) as client:
        inv_id = client.send("Approvals", "publish", {"marker": str(tmp_path / "m")})
        awakeable = published_awakeable(tmp_path / "m")
        httpx.patch(f"{server.admin}/invocations/{inv_id}/cancel")
        with pytest.raises(agentdur.InvocationCancelledError):
            client.attach(inv_id)
        assert awakeable.startswith("prom_1")


async def test_async_client(ingress: str, tmp_path: Path) -> None:
    async with agentdur.AsyncClient(ingress) as client:
        assert await client.call("Greeter", "greet", "Async") == "Hello, Async!"
        key = uuid.uuid4().hex[:8]
        assert await client.call("Counter", "add", 2, key=key) == 2
        inv_id = await client.send("Greeter", "greet", "Later", idempotency_key=key, delay=0.05)
        assert await client.attach(inv_id) == "Hello, Later!"
        assert await client.output(inv_id) == (True, "Hello, Later!")
        marker = tmp_path / "async"
        waiting = await client.send("Approvals", "publish", {"marker": str(marker)}, idempotency_key=key)
        await client.resolve_awakeable(published_awakeable(marker), "ok")
        assert await client.attach(waiting) == "ok"
        rejected_marker = tmp_path / "async-rejected"
        rejected = await client.send(
            "Approvals", "publish", {"marker": str(rejected_marker)}, idempotency_key=key + "r"
        )
        await client.reject_awakeable(published_awakeable(rejected_marker), "nope")
        with pytest.raises(agentdur.TerminalError, match="nope"):
            await client.attach(rejected)
        unknown = inv_id[:-1] + ("b" if inv_id.endswith("a") else "a")  # well-formed, never used
        with pytest.raises(agentdur.NotFoundError):
            await client.output(unknown)
