"""The ingress over real HTTP: Restate's URLs for calls, sends, attach/output and awakeables."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from .helpers import Server, lines, wait_for


def pending_awakeable(server: Server, invocation_id: str) -> str:
    """The id of the awakeable ``invocation_id`` waits on (from the admin approvals inbox)."""

    def find() -> str | None:
        items = httpx.get(f"{server.admin}/awakeables", headers=server.headers).json()["awakeables"]
        return next((a["id"] for a in items if a["invocation_id"] == invocation_id), None)

    return str(wait_for(find, f"an awakeable of {invocation_id}"))


def test_call_service_handler_returns_its_json_result(server: Server) -> None:
    response = httpx.post(f"{server.ingress}/Greeter/greet", json="Mary")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == "Hello, Mary!"
    assert response.headers["x-restate-id"].startswith("inv_")


def test_call_with_a_model_and_without_input(server: Server) -> None:
    receipt = httpx.post(f"{server.ingress}/Greeter/order", json={"item": "tea", "quantity": 4})
    assert receipt.json() == {"item": "tea", "quantity": 4, "total": 10.0}
    assert httpx.post(f"{server.ingress}/Greeter/ping").json() == "pong"


def test_object_handlers_exclusive_and_shared_by_get_or_post(server: Server) -> None:
    key = f"user/{uuid.uuid4().hex[:6]}"  # a key with a slash travels percent-encoded
    url = f"{server.ingress}/Counter/{key.replace('/', '%2F')}"
    assert httpx.post(f"{url}/add", json=2).json() == 2
    assert httpx.post(f"{url}/add", json=3).json() == 5
    assert httpx.get(f"{url}/get").json() == 5
    assert httpx.post(f"{url}/get").json() == 5
    state = httpx.get(f"{server.admin}/state/Counter/{key.replace('/', '%2F')}").json()
    assert state == {"service": "Counter", "key": key, "state": {"count": 5}}


def test_terminal_failure_answers_with_its_code(server: Server) -> None:
    response = httpx.post(f"{server.ingress}/Greeter/fail", json={"message": "card declined", "code": 422})
    assert response.status_code == 422
    assert response.json() == {"message": "card declined", "code": 422}
    assert response.headers["x-restate-id"].startswith("inv_")
    odd = httpx.post(f"{server.ingress}/Greeter/fail", json={"message": "odd", "code": 999})
    assert (odd.status_code, odd.json()) == (500, {"message": "odd", "code": 999})


def test_send_output_resolve_attach(server: Server) -> None:
    sent = httpx.post(f"{server.ingress}/Approvals/request/send", json="refund")
    assert sent.status_code == 202
    body = sent.json()
    assert body["status"] == "Accepted" and body["invocationId"].startswith("inv_")
    inv_id = body["invocationId"]
    not_ready = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/output")
    assert (not_ready.status_code, not_ready.json()) == (470, {"message": "not ready", "code": 470})
    awakeable = pending_awakeable(server, inv_id)
    assert awakeable.startswith("prom_1")
    resolved = httpx.post(f"{server.ingress}/restate/awakeables/{awakeable}/resolve", json="approved")
    assert resolved.status_code == 202
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20)
    assert (attached.status_code, attached.json()) == (200, "refund: approved")
    output = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/output")
    assert (output.status_code, output.json()) == (200, "refund: approved")


def test_reject_awakeable_with_a_text_reason(server: Server) -> None:
    inv_id = httpx.post(f"{server.ingress}/Approvals/request/send", json="upgrade").json()["invocationId"]
    awakeable = pending_awakeable(server, inv_id)
    rejected = httpx.post(
        f"{server.ingress}/restate/awakeables/{awakeable}/reject",
        content="budget exceeded",
        headers={"content-type": "text/plain"},
    )
    assert rejected.status_code == 202
    attached = httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20)
    assert (attached.status_code, attached.json()) == (500, {"message": "budget exceeded", "code": 500})


def test_delayed_sends_accept_humantime_and_iso_8601(server: Server) -> None:
    for delay in ("50ms", "PT0.05S", "0.05s"):
        sent = httpx.post(f"{server.ingress}/Greeter/greet/send", params={"delay": delay}, json=delay)
        assert sent.status_code == 202, sent.text
        attached = httpx.get(
            f"{server.ingress}/restate/invocation/{sent.json()['invocationId']}/attach", timeout=20
        )
        assert attached.json() == f"Hello, {delay}!"
    for delay in ("1h30m", "PT1H30M", "1h 30m"):
        inv_id = httpx.post(
            f"{server.ingress}/Greeter/greet/send", params={"delay": delay}, json="later"
        ).json()["invocationId"]
        info = httpx.get(f"{server.admin}/invocations/{inv_id}").json()
        assert info["status"] == "scheduled"
        assert httpx.patch(f"{server.admin}/invocations/{inv_id}/kill").status_code == 200


def test_idempotency_key_returns_the_same_invocation_and_result(server: Server, marker: Path) -> None:
    key = uuid.uuid4().hex
    work = {"marker": str(marker)}
    first = httpx.post(f"{server.ingress}/Effects/step", json=work, headers={"idempotency-key": key})
    again = httpx.post(f"{server.ingress}/Effects/step", json=work, headers={"idempotency-key": key})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == 2
    assert first.headers["x-restate-id"] == again.headers["x-restate-id"]
    assert lines(marker) == ["start", "done"]
    resent = httpx.post(f"{server.ingress}/Effects/step/send", json=work, headers={"idempotency-key": key})
    assert resent.json() == {"invocationId": first.headers["x-restate-id"], "status": "PreviouslyAccepted"}
    base = f"{server.ingress}/restate/invocation/Effects/step/{key}"
    assert httpx.get(f"{base}/attach").json() == 2
    assert httpx.get(f"{base}/output").json() == 2
    assert lines(marker) == ["start", "done"]


def test_send_with_idempotency_key_then_attach_by_key_on_an_object(server: Server) -> None:
    object_key, key = uuid.uuid4().hex[:8], uuid.uuid4().hex
    url = f"{server.ingress}/Counter/{object_key}/add/send"
    first = httpx.post(url, json=7, headers={"idempotency-key": key})
    second = httpx.post(url, json=7, headers={"idempotency-key": key})
    assert first.json()["status"] == "Accepted"
    assert second.json() == {"invocationId": first.json()["invocationId"], "status": "PreviouslyAccepted"}
    base = f"{server.ingress}/restate/invocation/Counter/{object_key}/add/{key}"
    assert httpx.get(f"{base}/attach", timeout=20).json() == 7
    assert httpx.get(f"{base}/output").json() == 7
    assert httpx.get(f"{server.ingress}/Counter/{object_key}/get").json() == 7  # ran once


def test_restate_health(server: Server) -> None:
    assert httpx.get(f"{server.ingress}/restate/health").json() == {"status": "ok"}
