"""Typed awakeables over real HTTP: a value the awakeable's type does not accept is refused with a
400 naming the field, the awakeable stays pending, and the right value still completes the invocation
— while the handler waits in memory, once it is suspended, and after a SIGKILL and restart."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

import agentdur

from .conftest import ServerFactory
from .helpers import Server, wait_for
from .test_admin import status_of
from .test_cli import agentdur as run_cli
from .test_cli import ok
from .test_ingress import pending_awakeable

DECISION_EXAMPLE = {"approved": True, "by": "...", "comment": "..."}


def decide(server: Server) -> tuple[str, str, str]:
    """Start ``Approvals/decide`` (a ``Decision`` approval); its invocation id, label and awakeable id."""
    what = f"claim {uuid.uuid4().hex[:6]}"
    inv_id = httpx.post(f"{server.ingress}/Approvals/decide/send", json=what).json()["invocationId"]
    return inv_id, what, pending_awakeable(server, inv_id)


def resolve(server: Server, awakeable_id: str, value: Any) -> httpx.Response:
    return httpx.post(f"{server.ingress}/restate/awakeables/{awakeable_id}/resolve", json=value, timeout=20)


def listed(server: Server, awakeable_id: str) -> dict[str, Any] | None:
    items = httpx.get(f"{server.admin}/awakeables").json()["awakeables"]
    return next((item for item in items if item["id"] == awakeable_id), None)


def assert_refused_and_still_pending(server: Server, inv_id: str, awakeable_id: str) -> None:
    bare = resolve(server, awakeable_id, True)
    assert bare.status_code == 400
    body = bare.json()
    assert set(body) == {"message", "code"} and body["code"] == 400
    assert f"awakeable {awakeable_id} expects: value: Input should be an object" in body["message"]
    assert '{"approved": true, "by": "...", "comment": "..."}' in body["message"]  # what would do

    wrong_field = resolve(server, awakeable_id, {"approved": "maybe", "by": 7})
    assert wrong_field.status_code == 400
    message = wrong_field.json()["message"]
    assert (
        "approved: Input should be a valid boolean" in message
        and "by: Input should be a valid string" in message
    )
    assert "Traceback" not in message

    item = listed(server, awakeable_id)
    assert item is not None and item["invocation_id"] == inv_id  # still pending
    assert item["example"] == DECISION_EXAMPLE
    assert item["value_schema"]["title"] == "Decision" and item["value_schema"]["required"] == ["approved"]


def assert_right_value_completes(server: Server, inv_id: str, what: str, awakeable_id: str) -> None:
    assert resolve(server, awakeable_id, {"approved": True, "by": "ann"}).status_code == 202
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20)
    assert attached.status_code == 200 and attached.json() == f"{what}: approved by ann"
    assert listed(server, awakeable_id) is None


def test_wrong_value_is_refused_while_the_handler_waits_in_memory(server: Server) -> None:
    inv_id, what, awakeable_id = decide(server)
    assert status_of(server, inv_id) == "running"
    assert_refused_and_still_pending(server, inv_id, awakeable_id)
    assert_right_value_completes(server, inv_id, what, awakeable_id)


def test_wrong_value_is_refused_from_the_recorded_schema_when_suspended_and_after_sigkill(
    serve: ServerFactory,
) -> None:
    server = serve("--suspend-after", "0")
    inv_id, what, awakeable_id = decide(server)
    wait_for(lambda: status_of(server, inv_id) == "suspended", "the invocation to be suspended")
    assert_refused_and_still_pending(server, inv_id, awakeable_id)  # no handler in memory knows the type

    server.kill()
    server.restart()
    assert status_of(server, inv_id) == "suspended"
    assert_refused_and_still_pending(server, inv_id, awakeable_id)
    assert status_of(server, inv_id) == "suspended"  # a refused value wakes nothing
    assert_right_value_completes(server, inv_id, what, awakeable_id)


def test_cli_shows_the_expected_value_and_refuses_a_wrong_one(server: Server) -> None:
    inv_id, what, awakeable_id = decide(server)
    [row] = [line for line in ok("approvals", server=server).splitlines() if awakeable_id in line]
    assert row.rstrip().endswith('{"approved":true,"by":"...","comment":"..."}')

    refused = run_cli("resolve", awakeable_id, "true", "--ingress-url", server.ingress)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: the value does not match what awakeable")
    assert "value: Input should be an object" in refused.stderr
    assert "(HTTP 400)" in refused.stderr

    ok("resolve", awakeable_id, '{"approved": false, "by": "bob"}', server=server)
    assert (
        httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach").json() == f"{what}: declined by bob"
    )


def test_clients_raise_the_400_error(server: Server) -> None:
    inv_id, what, awakeable_id = decide(server)
    with agentdur.Client(server.ingress) as client:
        with pytest.raises(agentdur.AwakeableValueError, match="approved: Field required") as refused:
            client.resolve_awakeable(awakeable_id, {"by": "ann"})
        assert refused.value.status_code == 400
        client.resolve_awakeable(awakeable_id, {"approved": True, "by": "ann"})
        assert client.attach(inv_id) == f"{what}: approved by ann"


async def test_async_client_raises_the_400_error(server: Server) -> None:
    inv_id, what, awakeable_id = decide(server)
    async with agentdur.AsyncClient(server.ingress) as client:
        with pytest.raises(agentdur.AwakeableValueError, match="value: Input should be an object"):
            await client.resolve_awakeable(awakeable_id, "yes")
        assert listed(server, awakeable_id) is not None
        await client.resolve_awakeable(awakeable_id, {"approved": True})
        assert await client.attach(inv_id) == f"{what}: approved by None"
