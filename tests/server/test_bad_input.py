"""Bad requests get the right 4xx with a JSON ``{"message", "code"}`` saying what was wrong, and change nothing."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import agentdur
from agentdur.server import ServerState, admin_app, ingress_app

from .app import app as test_app
from .helpers import Server, wait_for
from .test_ingress import pending_awakeable

MAX_BODY = 65536  # the shared server runs with --max-body 65536


def assert_error(response: httpx.Response, status: int, *fragments: str) -> str:
    """The response is a JSON error of ``status`` whose message contains every fragment."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"message", "code"} and body["code"] == status
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return str(body["message"])


def snapshot(server: Server) -> list[tuple[str, str]]:
    invocations = httpx.get(f"{server.admin}/invocations", params={"limit": 10000}).json()["invocations"]
    return [(i["id"], i["status"]) for i in invocations]


@contextmanager
def writes_nothing(server: Server) -> Iterator[None]:
    """Asserts that no invocation was created or changed inside the block."""
    before = snapshot(server)
    yield
    assert snapshot(server) == before


def test_malformed_json_and_invalid_input_name_the_problem(server: Server) -> None:
    url = f"{server.ingress}/Greeter/order"
    json_headers = {"content-type": "application/json"}
    with writes_nothing(server):
        assert_error(httpx.post(url, content=b'{"item": "tea",', headers=json_headers), 400, "malformed JSON")
        assert_error(httpx.post(url, content=b"\xff\xfe", headers=json_headers), 400, "UTF-8")
        assert_error(httpx.post(url, json={"item": "tea", "quantity": "lots"}), 400, "quantity")
        assert_error(httpx.post(url, json={"quantity": 1}), 400, "item", "Field required")
        assert_error(httpx.post(f"{server.ingress}/Greeter/greet"), 400, "input")


def test_unknown_service_handler_invocation_and_awakeable_are_404(server: Server) -> None:
    ingress = server.ingress
    with writes_nothing(server):
        # each names what exists, so a typo is a one-look fix
        assert_error(
            httpx.post(f"{ingress}/Nope/greet", json=1),
            404,
            "unknown service 'Nope'; this app has",
            "'Greeter'",
        )
        assert_error(
            httpx.post(f"{ingress}/Greeter/nope", json=1),
            404,
            "unknown handler 'nope'",
            "; it has ",
            "'greet'",
        )
        assert_error(
            httpx.post(f"{ingress}/Counter/k/nope", json=1),
            404,
            "unknown handler 'nope'",
            "; it has ",
            "'add'",
        )
        assert_error(httpx.post(f"{ingress}/Greeter/nope/send", json=1), 404)
        assert_error(httpx.get(f"{ingress}/restate/invocation/inv_nope/attach"), 404, "unknown invocation")
        assert_error(httpx.get(f"{ingress}/restate/invocation/inv_nope/output"), 404, "unknown invocation")
        assert_error(httpx.get(f"{ingress}/restate/invocation/Greeter/greet/no-such-key/output"), 404)
        assert_error(
            httpx.get(f"{ingress}/restate/invocation/Greeter/nope/key/attach"), 404, "unknown handler"
        )
        assert_error(
            httpx.post(f"{ingress}/restate/awakeables/prom_1nope/resolve", json=1), 404, "unknown awakeable"
        )
        assert_error(
            httpx.post(f"{ingress}/restate/awakeables/prom_1nope/reject", content="no"),
            404,
            "unknown awakeable",
        )
        assert_error(httpx.get(f"{ingress}/restate/nothing"), 404)
        assert_error(httpx.get(f"{ingress}/"), 404)
        assert_error(httpx.post(f"{ingress}/a/b/c/d/e", json=1), 404)
        assert_error(httpx.get(f"{server.admin}/invocations/inv_nope"), 404, "unknown invocation")
        assert_error(httpx.patch(f"{server.admin}/invocations/inv_nope/cancel"), 404, "unknown invocation")
        assert_error(httpx.get(f"{server.admin}/services/Nope"), 404, "unknown service")
        assert_error(httpx.get(f"{server.admin}/state/Nope/k"), 404, "unknown service")
        assert_error(httpx.get(f"{server.admin}/nothing"), 404)


def test_keys_must_match_the_kind_of_service(server: Server) -> None:
    ingress = server.ingress
    with writes_nothing(server):
        assert_error(
            httpx.post(f"{ingress}/Counter/add", json=1), 400, "needs an object key", "/Counter/{key}/add"
        )
        assert_error(httpx.post(f"{ingress}/Counter/add/send", json=1), 400, "needs an object key")
        assert_error(httpx.post(f"{ingress}/Greeter/k/greet", json="x"), 400, "takes no object key")
        assert_error(httpx.post(f"{ingress}/Greeter/k/greet/send", json="x"), 400, "takes no object key")
        assert_error(
            httpx.get(f"{ingress}/restate/invocation/Counter/add/key1/attach"), 400, "needs an object key"
        )
        assert_error(
            httpx.get(f"{ingress}/restate/invocation/Greeter/k/greet/key1/attach"), 400, "takes no object key"
        )
        assert_error(httpx.get(f"{server.admin}/state/Greeter/k"), 404, "not a virtual object")


def test_wrong_method_is_405_with_allow(server: Server) -> None:
    ingress = server.ingress
    with writes_nothing(server):
        response = httpx.get(f"{ingress}/Greeter/greet")
        assert_error(response, 405, "GET")
        assert response.headers["allow"] == "POST"
        assert_error(httpx.put(f"{ingress}/Counter/k/add", json=1), 405)
        assert httpx.delete(f"{ingress}/Counter/k/get").headers["allow"] == "GET, POST"
        assert_error(httpx.get(f"{ingress}/Counter/k/get/send"), 405)
        assert_error(httpx.post(f"{ingress}/restate/invocation/inv_x/attach"), 405)
        assert_error(httpx.get(f"{ingress}/restate/awakeables/prom_1x/resolve"), 405)
        assert_error(httpx.delete(f"{server.admin}/invocations/inv_x"), 405)
        assert_error(httpx.get(f"{server.admin}/invocations/inv_x/cancel"), 405)
        assert_error(httpx.post(f"{server.admin}/services"), 405)


def test_unsupported_content_type_is_415(server: Server) -> None:
    with writes_nothing(server):
        for kind in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
            response = httpx.post(
                f"{server.ingress}/Greeter/greet", content=b'"x"', headers={"content-type": kind}
            )
            assert_error(response, 415, kind)
        resolve = httpx.post(
            f"{server.ingress}/restate/awakeables/prom_1x/resolve",
            content=b"yes",
            headers={"content-type": "text/plain"},
        )
        assert_error(resolve, 415)
        reject = httpx.post(f"{server.ingress}/restate/awakeables/prom_1x/reject", json="no")
        assert_error(reject, 415, "text/plain")
    ok = httpx.post(
        f"{server.ingress}/Greeter/greet",
        content=b'"x"',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.json() == "Hello, x!"


def test_declared_body_over_the_limit_is_413(server: Server) -> None:
    with writes_nothing(server):
        too_big = b'"' + b"a" * MAX_BODY + b'"'
        assert_error(httpx.post(f"{server.ingress}/Greeter/greet", content=too_big), 413, str(MAX_BODY))
        assert_error(httpx.post(f"{server.ingress}/Greeter/greet/send", content=too_big), 413)
    fits = httpx.post(f"{server.ingress}/Greeter/greet", json="a" * (MAX_BODY - 100))
    assert fits.status_code == 200


def test_streamed_body_is_refused_before_it_ends(server: Server) -> None:
    """A chunked upload over the limit gets its 413 although the body never finishes."""
    before = snapshot(server)
    chunk = b"a" * 16384
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /Greeter/greet HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for _ in range(MAX_BODY // len(chunk)):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"1\r\na\r\n")  # one byte over the limit; the final chunk is never sent
        received = b""
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            assert data, f"connection closed before a response: {received!r}"
            received += data
    assert received.startswith(b"HTTP/1.1 413 ")
    assert snapshot(server) == before


def test_resolving_a_completed_awakeable_is_409(server: Server) -> None:
    inv_id = httpx.post(f"{server.ingress}/Approvals/request/send", json="twice").json()["invocationId"]
    awakeable = pending_awakeable(server, inv_id)
    url = f"{server.ingress}/restate/awakeables/{awakeable}"
    assert httpx.post(f"{url}/resolve", json="yes").status_code == 202
    assert (
        httpx.get(f"{server.ingress}/restate/invocation/{inv_id}/attach", timeout=20).json() == "twice: yes"
    )
    journal = httpx.get(f"{server.admin}/invocations/{inv_id}").json()["journal"]
    with writes_nothing(server):
        assert_error(httpx.post(f"{url}/resolve", json="no"), 409, "already completed")
        assert_error(httpx.post(f"{url}/reject", content="no"), 409, "already completed")
    assert httpx.get(f"{server.admin}/invocations/{inv_id}").json()["journal"] == journal


def test_idempotency_key_reused_with_another_body_is_409(server: Server) -> None:
    key = {"idempotency-key": uuid.uuid4().hex}
    first = httpx.post(f"{server.ingress}/Greeter/greet", json="Ann", headers=key)
    assert first.json() == "Hello, Ann!"
    with writes_nothing(server):
        assert_error(
            httpx.post(f"{server.ingress}/Greeter/greet", json="Bob", headers=key), 409, "idempotency key"
        )
        assert_error(httpx.post(f"{server.ingress}/Greeter/greet/send", json="Bob", headers=key), 409)


def test_bad_delay_and_bad_filters_are_400(server: Server) -> None:
    with writes_nothing(server):
        for delay in ("soon", "10", "10 parsecs", "P", "PT", "-5s"):
            response = httpx.post(f"{server.ingress}/Greeter/greet/send", params={"delay": delay}, json="x")
            assert_error(response, 400, "delay")
        assert_error(
            httpx.post(f"{server.ingress}/Greeter/greet", params={"delay": "1s"}, json="x"), 400, "/send"
        )
        assert_error(
            httpx.get(f"{server.admin}/invocations", params={"status": "done"}), 400, "status", "completed"
        )
        assert_error(httpx.get(f"{server.admin}/invocations", params={"limit": "many"}), 400, "limit")
        assert_error(httpx.get(f"{server.admin}/invocations", params={"colour": "red"}), 400, "colour")
        assert_error(httpx.patch(f"{server.admin}/invocations/inv_x/restart"), 404, "unknown operation")


def test_operating_in_the_wrong_state_is_409(server: Server) -> None:
    done = httpx.post(f"{server.ingress}/Greeter/greet", json="Zed").headers["x-restate-id"]
    with writes_nothing(server):
        assert_error(httpx.patch(f"{server.admin}/invocations/{done}/resume"), 409, "not paused")
    waiting = httpx.post(f"{server.ingress}/Approvals/request/send", json="purge me").json()["invocationId"]
    wait_for(
        lambda: httpx.get(f"{server.admin}/invocations/{waiting}").json()["journal"], "the awakeable entry"
    )
    with writes_nothing(server):
        assert_error(httpx.patch(f"{server.admin}/invocations/{waiting}/purge"), 409, "only completed")
    assert httpx.patch(f"{server.admin}/invocations/{waiting}/kill").status_code == 200


async def test_unexpected_errors_are_a_generic_500_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with agentdur.Engine(test_app, path=tmp_path / "in-process.db") as engine:

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internal detail")

        monkeypatch.setattr(engine, "send", broken)
        transport = httpx.ASGITransport(app=ingress_app(ServerState(engine)))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with caplog.at_level(logging.ERROR, logger="agentdur.server"):
                response = await client.post("/Greeter/greet", json="x")
    message = assert_error(response, 500)
    assert "secret" not in response.text and "RuntimeError" not in message
    assert "secret internal detail" in caplog.text and "Traceback" in caplog.text


async def test_a_closed_engine_answers_503(tmp_path: Path) -> None:
    engine = agentdur.Engine(test_app, path=tmp_path / "closed.db")
    await engine.start()
    state = ServerState(engine)
    await engine.close()
    for app, method, path in (
        (ingress_app(state), "POST", "/Greeter/greet"),
        (admin_app(state), "GET", "/invocations"),
    ):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            response = await client.request(method, path, json="x")
        assert_error(response, 503, "closed")
