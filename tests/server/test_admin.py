"""The admin API over real HTTP: services and schemas, OpenAPI, invocations, operating verbs, approvals, state."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from .helpers import Server, wait_for
from .test_ingress import pending_awakeable


def status_of(server: Server, inv_id: str) -> str:
    return str(httpx.get(f"{server.admin}/invocations/{inv_id}").json()["status"])


def test_health(server: Server) -> None:
    assert httpx.get(f"{server.admin}/health").json() == {"status": "ok"}


def test_services_list_kinds_and_schemas(server: Server) -> None:
    services = {s["name"]: s for s in httpx.get(f"{server.admin}/services").json()["services"]}
    assert list(services) == ["Greeter", "Counter", "Approvals", "Effects"]
    assert services["Greeter"]["ty"] == "Service"
    assert services["Greeter"]["description"] == "Greets people and takes orders."
    assert services["Counter"]["ty"] == "VirtualObject"
    counter = {h["name"]: h for h in services["Counter"]["handlers"]}
    assert (counter["add"]["kind"], counter["get"]["kind"]) == ("exclusive", "shared")
    assert counter["add"]["input_json_schema"] == {"type": "integer"}
    assert counter["get"]["input_json_schema"] is None  # takes no input
    order = httpx.get(f"{server.admin}/services/Greeter").json()
    handlers = {h["name"]: h for h in order["handlers"]}
    assert handlers["order"]["kind"] is None
    schema = handlers["order"]["input_json_schema"]
    assert schema["title"] == "Order" and schema["required"] == ["item", "quantity"]
    assert schema["properties"]["quantity"]["exclusiveMinimum"] == 0
    assert handlers["order"]["output_json_schema"]["title"] == "Receipt"


def resolve_ref(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in schema:
        return schema
    name = schema["$ref"].removeprefix("#/components/schemas/")
    return dict(document["components"]["schemas"][name])


def test_openapi_documents_of_the_ingress(server: Server) -> None:
    document = httpx.get(f"{server.admin}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": server.ingress}]
    paths = document["paths"]
    assert {"/Greeter/greet", "/Greeter/greet/send", "/Counter/{key}/add", "/Counter/{key}/get/send"} <= set(
        paths
    )
    assert set(paths["/Counter/{key}/get"]) == {"get", "post"}  # shared: GET too
    assert set(paths["/Counter/{key}/add"]) == {"post"}
    order = paths["/Greeter/order"]["post"]
    body = resolve_ref(document, order["requestBody"]["content"]["application/json"]["schema"])
    assert body["required"] == ["item", "quantity"]
    result = resolve_ref(document, order["responses"]["200"]["content"]["application/json"]["schema"])
    assert result["title"] == "Receipt"
    assert "requestBody" not in paths["/Greeter/ping"]["post"]
    assert paths["/Greeter/greet"]["post"]["description"] == "Say hello."
    send = paths["/Greeter/greet/send"]["post"]
    assert {p["name"] for p in send["parameters"]} == {"idempotency-key", "delay"}
    assert "202" in send["responses"]
    key_param = paths["/Counter/{key}/add"]["post"]["parameters"][0]
    assert key_param == {**key_param, "name": "key", "in": "path", "required": True}
    refs = _all_refs(document)
    assert refs and all(
        ref.removeprefix("#/components/schemas/") in document["components"]["schemas"] for ref in refs
    )
    greeter = httpx.get(f"{server.admin}/services/Greeter/openapi").json()
    assert greeter["info"]["title"] == "Greeter"
    assert all(
        path.startswith(("/Greeter/", "/restate/call/Greeter/", "/restate/send/Greeter/"))
        for path in greeter["paths"]
    )
    assert {"/restate/call/Counter/{key}/add", "/restate/send/Greeter/greet"} <= set(paths)


def _all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _all_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _all_refs(value)]
    return []


def test_list_invocations_with_filters(server: Server) -> None:
    key = uuid.uuid4().hex[:8]
    ids = [
        httpx.post(f"{server.ingress}/Counter/{key}/add", json=n).headers["x-restate-id"] for n in (1, 2, 3)
    ]
    listed = httpx.get(f"{server.admin}/invocations", params={"service": "Counter", "key": key}).json()[
        "invocations"
    ]
    assert [i["id"] for i in listed] == ids[::-1]  # newest first
    assert all(i["status"] == "completed" and "journal" not in i for i in listed)
    assert [i["input"] for i in listed] == [3, 2, 1] and [i["result"] for i in listed] == [6, 3, 1]
    limited = httpx.get(f"{server.admin}/invocations", params={"key": key, "limit": 1}).json()["invocations"]
    assert [i["id"] for i in limited] == [ids[-1]]
    waiting = httpx.post(f"{server.ingress}/Approvals/request/send", json="list me").json()["invocationId"]
    pending_awakeable(server, waiting)
    running = httpx.get(f"{server.admin}/invocations", params={"status": "running"}).json()["invocations"]
    assert waiting in [i["id"] for i in running]
    assert all(i["status"] == "running" for i in running)
    httpx.patch(f"{server.admin}/invocations/{waiting}/kill")


def test_invocation_with_its_whole_journal(server: Server) -> None:
    inv_id = httpx.post(f"{server.ingress}/Greeter/greet", json="Journal").headers["x-restate-id"]
    info = httpx.get(f"{server.admin}/invocations/{inv_id}").json()
    assert info["id"] == inv_id and (info["service"], info["handler"], info["key"]) == (
        "Greeter",
        "greet",
        None,
    )
    assert (info["status"], info["input"], info["result"], info["failure"]) == (
        "completed",
        "Journal",
        "Hello, Journal!",
        None,
    )
    [entry] = info["journal"]
    assert (entry["index"], entry["kind"], entry["name"], entry["status"]) == (
        0,
        "run",
        "compose greeting",
        "completed",
    )
    assert entry["value"] == "Hello, Journal!"
    failed = httpx.post(f"{server.ingress}/Greeter/fail", json={"message": "no", "code": 418}).headers[
        "x-restate-id"
    ]
    assert httpx.get(f"{server.admin}/invocations/{failed}").json()["failure"] == {
        "message": "no",
        "code": 418,
    }


def test_approvals_inbox_lists_pending_awakeables(server: Server) -> None:
    inv_id = httpx.post(f"{server.ingress}/Approvals/request/send", json="laptop").json()["invocationId"]
    awakeable = pending_awakeable(server, inv_id)
    [item] = [a for a in httpx.get(f"{server.admin}/awakeables").json()["awakeables"] if a["id"] == awakeable]
    assert item["invocation_id"] == inv_id
    assert (item["service"], item["handler"], item["key"], item["index"]) == ("Approvals", "request", None, 0)
    assert item["description"] == "approve laptop" and item["created_at"]
    httpx.post(f"{server.ingress}/restate/awakeables/{awakeable}/resolve", json="ok")
    httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20)
    assert awakeable not in [a["id"] for a in httpx.get(f"{server.admin}/awakeables").json()["awakeables"]]


def test_cancel_kill_and_purge(server: Server) -> None:
    cancelled = httpx.post(f"{server.ingress}/Approvals/request/send", json="cancel me").json()[
        "invocationId"
    ]
    pending_awakeable(server, cancelled)
    response = httpx.patch(f"{server.admin}/invocations/{cancelled}/cancel")
    assert response.status_code == 202
    assert response.json()["invocationId"] == cancelled and response.json()["action"] == "cancel"
    attached = httpx.get(f"{server.ingress}/restate/invocation/{cancelled}/attach", timeout=20)
    assert attached.status_code == 409 and "cancelled" in attached.json()["message"]

    killed = httpx.post(f"{server.ingress}/Approvals/request/send", json="kill me").json()["invocationId"]
    pending_awakeable(server, killed)
    response = httpx.patch(f"{server.admin}/invocations/{killed}/kill")
    assert response.status_code == 200 and response.json()["status"] == "completed"
    assert "killed" in httpx.get(f"{server.admin}/invocations/{killed}").json()["failure"]["message"]

    response = httpx.patch(f"{server.admin}/invocations/{killed}/purge")
    assert response.json() == {"invocationId": killed, "action": "purge", "status": "purged"}
    assert httpx.get(f"{server.admin}/invocations/{killed}").status_code == 404


def test_resume_a_paused_invocation(server: Server, marker: Path) -> None:
    inv_id = httpx.post(f"{server.ingress}/Effects/flaky/send", json={"marker": str(marker)}).json()[
        "invocationId"
    ]
    wait_for(lambda: status_of(server, inv_id) == "paused", "the invocation to pause after 2 attempts")
    info = httpx.get(f"{server.admin}/invocations/{inv_id}").json()
    assert info["attempts"] == 2 and "marker file is missing" in info["last_error"]
    marker.write_text("fixed\n")
    response = httpx.patch(f"{server.admin}/invocations/{inv_id}/resume")
    assert response.status_code == 200 and response.json()["action"] == "resume"
    assert httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20).json() == "recovered"


def test_state_of_an_object_key(server: Server) -> None:
    key = uuid.uuid4().hex[:8]
    assert httpx.get(f"{server.admin}/state/Counter/{key}").json() == {
        "service": "Counter",
        "key": key,
        "state": {},
    }
    httpx.post(f"{server.ingress}/Counter/{key}/add", json=40)
    httpx.post(f"{server.ingress}/Counter/{key}/add", json=2)
    assert httpx.get(f"{server.admin}/state/Counter/{key}").json()["state"] == {"count": 42}
    for text in ("a", "b"):  # a state list shows as its JSON array
        httpx.post(f"{server.ingress}/Counter/{key}/note", json=text)
    assert httpx.get(f"{server.admin}/state/Counter/{key}").json()["state"] == {
        "count": 42,
        "notes": ["a", "b"],
    }
