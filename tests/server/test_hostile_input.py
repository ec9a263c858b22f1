"""The requests a fuzzing campaign found answered with a 500 or a dropped connection: each is now a 4xx
naming the problem (or, for a value already in a journal, a 200), decided where the input is parsed."""

from __future__ import annotations

import re
import socket
import sqlite3
from pathlib import Path

import httpx
import pytest

import agentdur
from agentdur.server import ServerState, admin_app
from agentdur.server._durations import DELAY_PATTERN, parse_delay
from agentdur.server._json import MAX_DEPTH, SafeJSONResponse, parse_json

from .app import app as test_app
from .conftest import ServerFactory
from .helpers import Server, wait_for
from .test_bad_input import assert_error, writes_nothing

JSON = {"content-type": "application/json"}


def test_deeply_nested_json_is_400_not_a_recursion_error(server: Server) -> None:
    url = f"{server.ingress}/Greeter/greet"
    with writes_nothing(server):
        assert_error(httpx.post(url, content=b"[" * 5000, headers=JSON), 400, "nested deeper")
        assert_error(httpx.post(url, content=b"[" * 5000 + b"]" * 5000, headers=JSON), 400, "nested deeper")
        assert_error(
            httpx.post(url, content=b'{"a":' * 5000 + b"1" + b"}" * 5000, headers=JSON), 400, "nested"
        )
        just_over = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
        assert_error(httpx.post(url, content=just_over, headers=JSON), 400, f"deeper than {MAX_DEPTH} levels")
        resolve = f"{server.ingress}/restate/awakeables/prom_1nope/resolve"
        assert_error(httpx.post(resolve, content=b"[" * 5000, headers=JSON), 400, "nested deeper")


def test_numbers_out_of_range_are_400(server: Server) -> None:
    url = f"{server.ingress}/Counter/big-numbers/add"
    with writes_nothing(server):
        assert_error(httpx.post(url, content=b"1" * 4301, headers=JSON), 400, "number out of range", "4300")
        assert_error(httpx.post(url, content=b"9" * 60_000, headers=JSON), 400, "number out of range")
        for literal in (b"NaN", b"Infinity", b"-Infinity"):
            assert_error(httpx.post(url, content=literal, headers=JSON), 400, "malformed JSON")
        assert_error(httpx.post(url, content=b"1e999", headers=JSON), 400, "number out of range")


def test_lone_surrogate_in_a_body_is_400(server: Server) -> None:
    with writes_nothing(server):
        for body in (b'"\\ud800"', b'["ok", "\\udfff"]'):
            assert_error(
                httpx.post(f"{server.ingress}/Greeter/greet", content=body, headers=JSON),
                400,
                "malformed JSON",
            )
        resolve = f"{server.ingress}/restate/awakeables/prom_1nope/resolve"
        assert_error(httpx.post(resolve, content=b'"\\ud800"', headers=JSON), 400, "malformed JSON")


def test_limit_must_be_ascii_digits_given_once(server: Server) -> None:
    invocations = f"{server.admin}/invocations"
    for limit in ("²", "٣", "1e3", " 5", "0", "10001", "99999999999999999999999"):
        assert_error(httpx.get(invocations, params={"limit": limit}), 400, "limit: must be a whole number")
    assert_error(httpx.get(f"{invocations}?limit=1&limit=2"), 400, "limit: given 2 times")
    assert_error(httpx.get(invocations, params={"service": "a\x00b"}), 400, "service: contains a control")
    assert httpx.get(invocations, params={"limit": "1"}).status_code == 200
    assert_error(httpx.get(f"{server.admin}/usage?by=key&by=model"), 400, "by: given 2 times")
    assert_error(httpx.get(f"{server.admin}/usage", params={"by": "colour"}), 400, "by: must be one of")


@pytest.mark.parametrize("raw_id", ["inv_x%20", "inv_x%01", "inv_%F0%9F%98%80", "inv_x%0A", "%20inv_x", "x"])
def test_malformed_invocation_ids_are_400_before_any_header(server: Server, raw_id: str) -> None:
    """An id copied into x-restate-id must be header-safe: a space closed the connection, an emoji was a 500."""
    for url in (
        f"{server.ingress}/restate/invocation/{raw_id}/attach",
        f"{server.ingress}/restate/invocation/{raw_id}/output",
        f"{server.admin}/invocations/{raw_id}",
    ):
        assert_error(httpx.get(url), 400, "invalid invocation id")
    assert_error(httpx.patch(f"{server.admin}/invocations/{raw_id}/cancel"), 400, "invalid invocation id")


def test_malformed_awakeable_ids_are_400(server: Server) -> None:
    for raw_id in ("prom_1x%20", "prom_1%F0%9F%98%80", "x"):
        url = f"{server.ingress}/restate/awakeables/{raw_id}/resolve"
        assert_error(httpx.post(url, json=True), 400, "invalid awakeable id")


def test_a_key_with_a_newline_reaches_its_handler(server: Server) -> None:
    """Object keys are any text; a newline was a misleading "no route" 404."""
    response = httpx.post(f"{server.ingress}/Counter/line%0Abreak/add", json=2)
    assert response.status_code == 200 and response.json() == 2
    state = httpx.get(f"{server.admin}/state/Counter/line%0Abreak").json()
    assert state == {"service": "Counter", "key": "line\nbreak", "state": {"count": 2}}


def test_delays_are_bounded_and_an_empty_one_is_refused(server: Server) -> None:
    send = f"{server.ingress}/Greeter/greet/send"
    with writes_nothing(server):
        for delay in ("P99999999999D", "366d", "P53W", "1" * 400 + "s"):
            assert_error(httpx.post(send, params={"delay": delay}, json="x"), 400, "longer than the maximum")
        assert_error(httpx.post(send, params={"delay": ""}, json="x"), 400, "empty")
        assert_error(httpx.post(f"{send}?delay=1s&delay=2s", json="x"), 400, "delay: given 2 times")
    assert httpx.post(send, params={"delay": "365d"}, json="later").status_code == 202


def test_the_openapi_delay_schema_is_the_parser() -> None:
    """An empty ``?delay=`` was allowed by the document and refused by the server."""
    samples = ["", " ", "10s", "1h 30m", "500ms", "2days", "PT10S", "p1dt2h", "P", "PT", "P1DT", "10", "s10"]
    samples += ["1h30", "-1s", "1.5h", "1.h", "10S", "1e3s", "\t5 min\n", "1h\x1c", "٣s", "P1W", "P1D2W"]
    for text in samples:
        try:
            parse_delay(text)
            accepted = True
        except agentdur.InvalidInputError:
            accepted = False
        assert (re.fullmatch(DELAY_PATTERN, text) is not None) == accepted, text


def test_openapi_documents_carry_the_servers_constraints(server: Server) -> None:
    ingress_doc = httpx.get(f"{server.admin}/openapi.json").json()
    send_params = {p["name"]: p for p in ingress_doc["paths"]["/Greeter/greet/send"]["post"]["parameters"]}
    assert send_params["delay"]["schema"] == {"type": "string", "minLength": 1, "pattern": DELAY_PATTERN}
    attach = ingress_doc["paths"]["/restate/invocation/{invocationId}/attach"]["get"]
    assert attach["parameters"][0]["schema"]["pattern"] == "^inv_[0-9A-Za-z]{1,64}$"
    assert "/restate/awakeables/{awakeableId}/resolve" in ingress_doc["paths"]
    assert set(ingress_doc["paths"]["/Greeter/greet"]["post"]["responses"]) >= {"200", "400", "413", "415"}
    admin_doc = httpx.get(f"{server.admin}/openapi").json()
    assert admin_doc["servers"] == [{"url": server.admin}]
    routes = {(path, method) for path, item in admin_doc["paths"].items() for method in item}
    assert ("/invocations/{id}/{verb}", "patch") in routes and ("/state/{service}/{key}", "get") in routes
    limit = next(p for p in admin_doc["paths"]["/invocations"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}


def test_json_parser_limits() -> None:
    assert parse_json(b"") is None and parse_json(b" \n") is None
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert parse_json(b"1" * 4300) == int("1" * 4300)
    assert parse_json(b'{"a": [1.5, "\\u00e9"]}') == {"a": [1.5, "é"]}
    with pytest.raises(agentdur.InvalidInputError, match="not UTF-8"):
        parse_json(b'"\xff"')


def test_a_lone_surrogate_in_a_stored_value_is_answered_escaped() -> None:
    assert SafeJSONResponse({"a": "\ud800", "b": "é"}).body == b'{"a":"\\ud800","b":"\\u00e9"}'
    assert SafeJSONResponse({"b": "é"}).body == '{"b":"é"}'.encode()


async def test_get_invocation_whose_journal_holds_a_lone_surrogate_is_200(tmp_path: Path) -> None:
    """A value no request can bring in any more, but an older journal may hold: 200, escaped."""
    db = tmp_path / "older.db"
    async with agentdur.Engine(test_app, path=db) as engine:
        inv_id = await engine.send("Greeter", "greet", "Ann")
        assert await engine.attach(inv_id) == "Hello, Ann!"
    with sqlite3.connect(db) as conn:
        changed = conn.execute("UPDATE journal SET value=? WHERE invocation_id=?", ('"\\ud800"', inv_id))
        assert changed.rowcount == 1
    async with agentdur.Engine(test_app, path=db) as engine:
        transport = httpx.ASGITransport(app=admin_app(ServerState(engine)))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get(f"/invocations/{inv_id}")
    assert response.status_code == 200
    assert response.json()["journal"][0]["value"] == "\ud800"


def test_client_disconnecting_mid_body_is_one_info_line(serve: ServerFactory) -> None:
    server = serve()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /Greeter/greet HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n"
            b"content-length: 1000\r\n\r\n" + b'"only part of it'
        )
    line = wait_for(
        lambda: next((x for x in server.output().splitlines() if "client disconnected" in x), None),
        "the disconnect to be logged",
    )
    assert " INFO " in line and "POST /Greeter/greet" in line
    assert httpx.get(f"{server.admin}/health").status_code == 200  # the server is fine
    assert "Traceback" not in server.output() and " ERROR " not in server.output()
