"""Fuzzing a real ``agentdur serve``: at least 10,000 generated requests to its ingress and admin API.

Two generators, one server (:mod:`tests.server.fuzz_app`, whose handlers are safe for any input):

- schemathesis, from the OpenAPI documents the server itself serves (the ingress's
  ``/openapi.json``, the admin API's ``/openapi``), with valid and invalid data: beyond the
  invariants below, every response must be one the document lists, with the content type and the
  body schema it gives, and data the document forbids must be refused with a 4xx (so the document's
  constraints are the server's checks);
- hypothesis, with hostile requests no document describes: random methods and paths (spaces,
  control characters, emoji, percent-encoding), query strings (``limit=²``, huge delays), JSON
  nested thousands deep, integers of thousands of digits, lone surrogates, raw bytes, odd content
  types.

Every request must be answered (no dropped connection) within :data:`REQUEST_TIMEOUT` (no hang),
never with a 5xx, an error always as JSON ``{"message", "code"}`` and never with a traceback. After
both, a known invocation is still readable, the server shuts down cleanly without an ERROR in its
log, and ``PRAGMA integrity_check`` of its database says ``ok``.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi_checks

from agentdur.testing import ServedApp

from .helpers import REPO, START_DEADLINE

FUZZ_APP = "tests.server.fuzz_app:app"
REQUEST_TIMEOUT = 15.0
# How many requests each generator sends; together at least the 10,000 the suite promises.
SCHEMATHESIS_EXAMPLES = 12  # per operation and generation mode
# Each hostile request is sent four times (both servers, two methods); the hypothesis test sends at
# least this many, and more when the schemathesis test sent too few for the total.
HYPOTHESIS_EXAMPLES = 2000
PER_HOSTILE_EXAMPLE = 4
MIN_REQUESTS = 10_000
# Operations that wait for an awakeable nobody resolves: generated requests must not wait forever.
WAITING_OPERATIONS = frozenset({"Inbox_wait", "Inbox_wait_restate_call", "attach_service", "attach_object"})
# Operations that would delete what the rest of the test checks (tests/server/test_retention.py has them).
DESTRUCTIVE_OPERATIONS = frozenset({"purge_completed"})
CHECKS: list[CheckFunction] = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]
# A handler's input schema is pydantic's, and pydantic validates in lax mode (``true`` and ``"3"`` are
# accepted for an int): invalid data is still sent to handlers, but not required to be refused.
LAX_CHECKS = [check for check in CHECKS if check is not openapi_checks.negative_data_rejection]
SETTINGS = hypothesis.settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.generate],  # shrinking schemathesis cases replays flakily; report the first
)


@dataclass
class Tally:
    """How many requests the fuzzers sent, for the total asserted at the end."""

    sent: dict[str, int] = field(default_factory=dict)

    def add(self, source: str) -> None:
        self.sent[source] = self.sent.get(source, 0) + 1


@dataclass
class FuzzTarget:
    server: ServedApp
    known_id: str
    known_result: Any
    tally: Tally


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    directory = tmp_path_factory.mktemp("fuzz")
    server = ServedApp(
        FUZZ_APP,
        db=directory / "fuzz.db",
        log_path=directory / "fuzz.log",
        args=["--max-body", "1048576", "--max-attempts", "2"],
        cwd=REPO,
        startup_within=START_DEADLINE,
    )
    server.start()
    try:
        known = httpx.post(
            f"{server.ingress_url}/Shop/order",
            json={"name": "known", "quantity": 3},
            headers={"idempotency-key": "the-known-order"},
            timeout=REQUEST_TIMEOUT,
        )
        assert known.status_code == 200, known.text
        yield FuzzTarget(server, known.headers["x-restate-id"], known.json(), Tally())
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def assert_well_formed(method: str, status: int, content_type: str | None, text: str, what: str) -> None:
    """The invariants of every answer: no 5xx, errors as JSON without a traceback.

    (A 2xx of the admin API may hold a traceback: an invocation's recorded ``error``, by design.)
    """
    assert status < 500, f"{what}: {status} {text[:500]}"
    if status >= 400:
        assert "Traceback" not in text and 'File "' not in text, f"{what}: {text[:500]}"
        assert content_type == "application/json", f"{what}: {status} {content_type} {text[:200]}"
        if method == "HEAD" and not text:
            return  # the answer to a HEAD has the GET's headers and no body
        body = json.loads(text)
        assert isinstance(body, dict) and isinstance(body.get("message"), str), f"{what}: {text[:500]}"
        assert body.get("code") == status, f"{what}: {text[:500]}"


# ------------------------------------------------------------------------------------ schemathesis


def is_fixed_route(operation: Any) -> bool:
    """A route of the server itself (the admin API, ``/restate/...``), not a handler's."""
    handlers = ("/Shop", "/Tally", "/Inbox")
    return not operation.path.startswith(
        (*handlers, *(f"/restate/{verb}{h}" for verb in ("call", "send") for h in handlers))
    )


def can_be_invalid(operation: dict[str, Any]) -> bool:
    """Whether invalid data exists for an operation: a body with a schema, or a constrained parameter
    (any string is a valid header value of a free-form header)."""
    bodies = operation.get("requestBody", {}).get("content", {}).values()
    if any(body.get("schema") for body in bodies):
        return True
    return any(
        set(param["schema"]) - {"type"} or param["in"] == "path" for param in operation.get("parameters", [])
    )


def fuzz_document(target: FuzzTarget, url: str, base_url: str, source: str) -> tuple[int, int]:
    """Every operation of the document at ``url`` with valid and invalid data.

    Returns:
        How many operations the document has, and how many were left out (they wait, or delete).
    """
    schema = schemathesis.openapi.from_url(url)
    session = requests.Session()
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results  # the document is valid
    every = [result.ok() for result in results if isinstance(result, Ok)]
    waiting = 0
    for operation in every:
        if operation.definition.raw.get("operationId") in WAITING_OPERATIONS | DESTRUCTIVE_OPERATIONS:
            waiting += 1
            continue
        checks = CHECKS if is_fixed_route(operation) else LAX_CHECKS
        modes = [schemathesis.GenerationMode.POSITIVE]
        if can_be_invalid(operation.definition.raw):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                fuzz_operation(target, operation, mode, checks, base_url, session, source)
            except hypothesis.errors.Unsatisfiable:
                # Nothing of this operation can be made invalid (a route without parameters or body).
                assert mode is schemathesis.GenerationMode.NEGATIVE
    return len(every), waiting


def fuzz_operation(
    target: FuzzTarget,
    operation: Any,
    mode: schemathesis.GenerationMode,
    checks: list[CheckFunction],
    base_url: str,
    session: requests.Session,
    source: str,
) -> None:
    """:data:`SCHEMATHESIS_EXAMPLES` generated requests to one operation."""

    @hypothesis.settings(SETTINGS, max_examples=SCHEMATHESIS_EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:  # a schemathesis.Case
        response = case.call(base_url=base_url, session=session, timeout=REQUEST_TIMEOUT)
        target.tally.add(source)
        content_type = response.headers.get("content-type", [None])[0]
        what = f"{case.method} {case.formatted_path}"
        assert_well_formed(case.method, response.status_code, content_type, response.text, what)
        case.validate_response(response, checks=checks)

    check()


@pytest.mark.timeout(900)
def test_schemathesis_from_the_served_openapi_documents(target: FuzzTarget) -> None:
    server = target.server
    ingress = fuzz_document(
        target, f"{server.admin_url}/openapi.json", server.ingress_url, "schemathesis ingress"
    )
    admin = fuzz_document(target, f"{server.admin_url}/openapi", server.admin_url, "schemathesis admin")
    # Both documents were read, and every operation but the waiting ones was fuzzed (schemathesis
    # leaves out GET /openapi, the route its document was loaded from).
    assert ingress[0] >= 30 and ingress[1] == len(WAITING_OPERATIONS), ingress
    assert admin == (15, len(DESTRUCTIVE_OPERATIONS)), admin
    print(f"schemathesis: {target.tally.sent}")


# ------------------------------------------------------------------------------------- hypothesis

SERVICES = ["Shop", "Tally", "Inbox", "restate", "invocations", "state", "services", "awakeables"]
WORDS = ["order", "echo", "refuse", "ping", "add", "get", "wait", "send", "attach", "output"]
WORDS += ["invocation", "resolve", "reject", "health", "openapi", "openapi.json", "cancel", "kill"]
WORDS += ["purge", "resume", "inv_18edbecfe1216570736c713d0d8a9ac0", "prom_1abc"]
HOSTILE_TEXT = ["", " ", "inv_x ", "inv_x\x01", "inv_\U0001f600", "²", "\x00", "..", "%", "\u202e", "a\nb"]

segment = st.one_of(
    st.sampled_from(SERVICES + WORDS + HOSTILE_TEXT),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
)
query_value = st.one_of(
    st.sampled_from(
        ["", "²", "0", "1", "10000", "10001", "-1", "1e3", "P99999999999D", "PT", "10s", "1h 30m"]
    ),
    st.sampled_from(["failed", "completed", "running", "paused", "succeeded", "\x7f"]),
    st.text(max_size=10),
    st.integers().map(str),
)
query = st.lists(
    st.tuples(st.sampled_from(["limit", "delay", "status", "outcome", "service", "key", "x"]), query_value),
    max_size=3,
)


def deep(depth: int, opener: str, closer: str) -> bytes:
    return (opener * depth + closer * depth).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
body = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(deep, st.integers(100, 6000), st.sampled_from(["[", '{"a":']), st.sampled_from(["]", "}"])),
    st.integers(4000, 6000).map(lambda digits: b"1" * digits),
    st.sampled_from(
        [b'"\\ud800"', b'["\\udfff", 1]', b"NaN", b"1e999", b"-Infinity", b"\xff\xfe", b"[" * 5000]
    ),
    st.binary(max_size=64),
    st.just(b""),
)
content_type = st.sampled_from(
    [
        None,
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/vnd.x+json",
        "*/*",
    ]
)


@dataclass(frozen=True)
class Hostile:
    """A request no OpenAPI document describes, without its method and port."""

    target: str
    body: bytes
    headers: dict[bytes, bytes]


@st.composite
def hostile_requests(draw: st.DrawFn) -> Hostile:
    path = "/" + "/".join(quote(part, safe="") for part in draw(st.lists(segment, min_size=1, max_size=5)))
    if path.endswith("/attach") or path.startswith("/Inbox/wait"):
        path += "x"  # never wait for an awakeable nobody resolves
    params = "&".join(f"{quote(name)}={quote(value, safe='')}" for name, value in draw(query))
    headers: dict[bytes, bytes] = {}
    kind = draw(content_type)
    if kind is not None:
        headers[b"content-type"] = kind.encode()
    if draw(st.booleans()):
        headers[b"idempotency-key"] = draw(st.sampled_from(["k", "", "the-known-order", "é"])).encode()
    return Hostile(f"{path}?{params}" if params else path, draw(body), headers)


METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]


@pytest.mark.timeout(900)
def test_hypothesis_hostile_requests(target: FuzzTarget) -> None:
    """Each generated request goes to both servers, with two generated methods (so four requests)."""
    server = target.server
    missing = MIN_REQUESTS - sum(target.tally.sent.values())
    examples = max(HYPOTHESIS_EXAMPLES, -(-missing // PER_HOSTILE_EXAMPLE))
    clients = {
        server.ingress_url: httpx.Client(timeout=REQUEST_TIMEOUT),
        server.admin_url: httpx.Client(timeout=REQUEST_TIMEOUT),
    }

    @hypothesis.settings(SETTINGS, max_examples=examples)
    @given(hostile=hostile_requests(), methods=st.lists(st.sampled_from(METHODS), min_size=2, max_size=2))
    def check(hostile: Hostile, methods: list[str]) -> None:
        for base_url, client in clients.items():
            for method in methods:
                content = hostile.body if method in ("POST", "PATCH", "PUT") else None
                request = client.build_request(
                    method, base_url + hostile.target, content=content, headers=hostile.headers
                )
                response = client.send(request)
                port = "ingress" if base_url == server.ingress_url else "admin"
                target.tally.add(f"hypothesis {port}")
                what = f"{port} {method} {hostile.target[:200]}"
                content_type = response.headers.get("content-type")
                assert_well_formed(method, response.status_code, content_type, response.text, what)

    try:
        check()
    finally:
        for client in clients.values():
            client.close()


# ----------------------------------------------------------------------------------- afterwards


def test_the_server_and_its_database_survived(target: FuzzTarget) -> None:
    server = target.server
    total = sum(target.tally.sent.values())
    print(f"requests sent: {total} {target.tally.sent}")
    assert total >= MIN_REQUESTS, target.tally.sent
    output = httpx.get(
        f"{server.ingress_url}/restate/invocation/{target.known_id}/output", timeout=REQUEST_TIMEOUT
    )
    assert output.status_code == 200 and output.json() == target.known_result
    info = httpx.get(f"{server.admin_url}/invocations/{target.known_id}", timeout=REQUEST_TIMEOUT).json()
    assert info["status"] == "completed" and info["journal"][0]["name"] == "price"
    assert server.stop(signal.SIGTERM) == 0
    log = Path(server.log_path).read_text()
    assert " ERROR " not in log, log[-3000:]
    with sqlite3.connect(server.db) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT status FROM invocations WHERE id=?", (target.known_id,)).fetchone() == (
            "completed",
        )
