"""The ``agentdur`` command against a running server: tables for people, ``--json`` for scripts, clear errors."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from .helpers import REPO, Server, wait_for
from .test_admin import status_of
from .test_ingress import pending_awakeable


def agentdur(*args: str, server: Server | None = None) -> subprocess.CompletedProcess[str]:
    urls = (
        ["--admin-url", server.admin, "--ingress-url", server.ingress]
        if server and args[0] != "serve"
        else []
    )
    return subprocess.run(
        [sys.executable, "-m", "agentdur", *args, *urls], cwd=REPO, capture_output=True, text=True, timeout=30
    )


def ok(*args: str, server: Server) -> str:
    result = agentdur(*args, server=server)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def as_json(*args: str, server: Server) -> Any:
    return json.loads(ok(*args, "--json", server=server))


def failed(*args: str, server: Server | None = None) -> str:
    result = agentdur(*args, server=server)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result.stderr


def columns(table: str) -> list[list[str]]:
    """Rows of an aligned table, checking every cell starts where its header does."""
    header, *rows = table.splitlines()
    starts = [
        i
        for i, ch in enumerate(header)
        if ch != " " and (i == 0 or header[i - 1] == " " and header[i - 2] == " ")
    ]
    parsed = []
    for row in [header, *rows]:
        cells = [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        for start in starts[1:]:
            assert row[start - 2 : start] == "  ", f"misaligned row: {row!r}"
        parsed.append(cells)
    return parsed


def test_services(server: Server) -> None:
    table = columns(ok("services", server=server))
    assert table[0] == ["SERVICE", "TYPE", "HANDLER", "KIND", "INPUT", "OUTPUT"]
    assert ["Greeter", "Service", "order", "-", "Order", "Receipt"] in table
    assert ["Counter", "VirtualObject", "get", "shared", "-", "integer"] in table
    assert as_json("services", server=server) == httpx.get(f"{server.admin}/services").json()
    assert [row[2] for row in columns(ok("services", "Counter", server=server))[1:]] == ["add", "note", "get"]


def test_invocations_and_journal(server: Server) -> None:
    key = uuid.uuid4().hex[:8]
    first = httpx.post(f"{server.ingress}/Counter/{key}/add", json=5).headers["x-restate-id"]
    second = httpx.post(f"{server.ingress}/Counter/{key}/add", json=6).headers["x-restate-id"]
    table = columns(ok("invocations", "--service", "Counter", "--key", key, server=server))
    assert table[0] == ["ID", "TARGET", "STATUS", "OUTCOME", "ATTEMPTS", "CREATED", "ERROR"]
    assert [row[:4] for row in table[1:]] == [
        [second, f"Counter/{key}/add", "completed", "succeeded"],
        [first, f"Counter/{key}/add", "completed", "succeeded"],
    ]
    listed = as_json("invocations", "--key", key, "--status", "completed", "--limit", "1", server=server)
    assert [i["id"] for i in listed["invocations"]] == [second]

    journal = ok("journal", second, server=server)
    facts, entries = journal.split("\n\n")
    assert "status      completed" in facts and "result      11" in facts and "input       6" in facts
    assert "outcome     succeeded" in facts
    assert columns(entries)[0] == ["INDEX", "KIND", "NAME", "STATUS", "STARTED", "DURATION", "VALUE"]
    assert columns(entries)[1][:2] == ["0", "get_state"]
    assert columns(entries)[1][5].endswith("ms")
    detail = as_json("journal", second, server=server)
    assert detail["id"] == second and [e["kind"] for e in detail["journal"]] == ["get_state", "set_state"]


def test_approvals_resolve_and_reject(server: Server) -> None:
    first = httpx.post(f"{server.ingress}/Approvals/request/send", json="cli one").json()["invocationId"]
    second = httpx.post(f"{server.ingress}/Approvals/request/send", json="cli two").json()["invocationId"]
    one, two = pending_awakeable(server, first), pending_awakeable(server, second)
    table = columns(ok("approvals", server=server))
    assert table[0] == [
        "AWAKEABLE",
        "INVOCATION",
        "TARGET",
        "STEP",
        "DESCRIPTION",
        "WAITING SINCE",
        "EXPECTS",
    ]
    assert [one, first, "Approvals/request", "0", "approve cli one"] in [row[:5] for row in table]
    assert [one, '"..."'] in [[row[0], row[-1]] for row in table]  # a str: any JSON string
    assert {a["id"] for a in as_json("approvals", server=server)["awakeables"]} >= {one, two}

    # VALUE is parsed as JSON: an object is not the string the handler wants (sent as text, it would be)
    refused = failed("resolve", one, '{"by": "Ada"}', server=server)
    assert "value: Input should be a valid string" in refused and "(HTTP 400)" in refused
    assert ok("resolve", one, '"Ada"', server=server) == f"resolved {one}\n"
    assert (
        httpx.get(f"{server.ingress}/restate/invocation/{first}/attach", timeout=20).json() == "cli one: Ada"
    )
    assert as_json("reject", two, "too expensive", server=server) == {
        "awakeableId": two,
        "status": "Rejected",
    }
    rejected = httpx.get(f"{server.ingress}/restate/invocation/{second}/attach", timeout=20).json()
    assert rejected == {"message": "too expensive", "code": 500}
    assert "already completed (HTTP 409)" in failed("resolve", one, "again", server=server)

    third = httpx.post(f"{server.ingress}/Approvals/request/send", json="cli three").json()["invocationId"]
    ok("resolve", pending_awakeable(server, third), "approved", server=server)  # not JSON: sent as a string
    assert (
        httpx.get(f"{server.ingress}/restate/invocation/{third}/attach", timeout=20).json()
        == "cli three: approved"
    )


def test_cancel_kill_purge_resume(server: Server, tmp_path: Path) -> None:
    cancelled = httpx.post(f"{server.ingress}/Approvals/request/send", json="c").json()["invocationId"]
    killed = httpx.post(f"{server.ingress}/Approvals/request/send", json="k").json()["invocationId"]
    pending_awakeable(server, cancelled), pending_awakeable(server, killed)
    assert ok("cancel", cancelled, server=server).startswith(
        f"cancellation requested for {cancelled} (status: "
    )
    wait_for(lambda: status_of(server, cancelled) == "completed", "the cancellation")
    assert ok("kill", killed, server=server) == f"killed {killed} (status: completed)\n"
    assert as_json("purge", killed, server=server) == {
        "invocationId": killed,
        "action": "purge",
        "status": "purged",
    }
    assert "unknown invocation" in failed("journal", killed, server=server)

    marker = tmp_path / "flaky-marker"
    paused = httpx.post(f"{server.ingress}/Effects/flaky/send", json={"marker": str(marker)}).json()[
        "invocationId"
    ]
    wait_for(lambda: status_of(server, paused) == "paused", "the invocation to pause")
    assert "paused" in columns(ok("invocations", "--status", "paused", server=server))[1]
    marker.touch()
    assert ok("resume", paused, server=server).startswith(f"resumed {paused} (status: ")
    assert httpx.get(f"{server.ingress}/restate/invocation/{paused}/attach", timeout=20).json() == "recovered"
    assert "not paused (HTTP 409)" in failed("resume", paused, server=server)


def test_state(server: Server) -> None:
    key = uuid.uuid4().hex[:8]
    assert ok("state", "Counter", key, server=server) == f"no state for Counter/{key}\n"
    httpx.post(f"{server.ingress}/Counter/{key}/add", json=9)
    assert columns(ok("state", "Counter", key, server=server)) == [["NAME", "VALUE"], ["count", "9"]]
    assert as_json("state", "Counter", key, server=server) == {
        "service": "Counter",
        "key": key,
        "state": {"count": 9},
    }
    assert "not a virtual object" in failed("state", "Greeter", key, server=server)


def test_failures_are_one_error_line(server: Server, tmp_path: Path) -> None:
    assert failed("journal", "inv_nope", server=server) == "error: unknown invocation 'inv_nope' (HTTP 404)\n"
    assert "cannot reach http://127.0.0.1:9/services" in failed(
        "services", "--admin-url", "http://127.0.0.1:9"
    )
    assert "cannot import 'no_such_module'" in failed(
        "serve", "no_such_module:app", "--db", str(tmp_path / "x.db")
    )
    assert "not an agentdur.App" in failed("serve", "json:dumps", "--db", str(tmp_path / "x.db"))
    assert "module 'json' has no attribute 'app'" in failed(
        "serve", "json:app", "--db", str(tmp_path / "x.db")
    )
    free = ["--port", "0", "--admin-port", "0"]
    assert "cannot open the journal" in failed(
        "serve", "tests.server.app:app", *free, "--db", str(tmp_path / "no/dir/x.db")
    )
    busy = ["--port", str(server.port), "--db", str(tmp_path / "x.db")]
    assert f"cannot listen on 127.0.0.1:{server.port}" in failed("serve", "tests.server.app:app", *busy)
    usage = agentdur("frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    assert agentdur("--help").returncode == 0


def test_version_prints_the_installed_version() -> None:
    done = agentdur("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"agentdur {importlib.metadata.version('agentdur')}\n"


def test_every_option_says_its_default_or_environment_variable() -> None:
    """``--admin-url``, ``--ingress-url``, ``--log-level``: what they default to and where that comes from."""
    listing = agentdur("invocations", "--help").stdout
    for expected in (
        "$AGENTDUR_ADMIN_URL",
        "http://127.0.0.1:9070",
        "$AGENTDUR_INGRESS_URL",
        "$AGENTDUR_TOKEN",
    ):
        assert expected in " ".join(listing.split()), expected
    serve = " ".join(agentdur("serve", "--help").stdout.split())
    for expected in ("$AGENTDUR_LOG_LEVEL", "(default info", "(default 10)", "(default agentdur.db)"):
        assert expected in serve, expected


def test_call_and_send_a_service_and_an_object(server: Server) -> None:
    assert json.loads(ok("call", "Greeter/greet", "Ada", server=server)) == "Hello, Ada!"
    assert json.loads(ok("call", "Greeter/greet", '"Ada"', server=server)) == "Hello, Ada!"
    key = f"cli-{uuid.uuid4().hex[:8]}"
    assert json.loads(ok("call", "Counter/add", key, "5", server=server)) == 5
    assert json.loads(ok("call", "Counter/get", key, server=server)) == 5
    sent = ok("send", "Counter/add", key, "2", "--idempotency-key", "once", server=server).strip()
    again = ok("send", "Counter/add", key, "2", "--idempotency-key", "once", server=server).strip()
    assert sent.startswith("inv_") and again == sent  # the same idempotency key names the same invocation
    assert httpx.get(f"{server.ingress}/restate/invocation/{sent}/attach", timeout=30).json() == 7
    later = as_json("send", "Greeter/greet", "Bo", "--delay", "1s", server=server)["invocationId"]
    assert httpx.get(f"{server.ingress}/restate/invocation/{later}/attach", timeout=30).json() == "Hello, Bo!"


def test_call_and_send_say_what_is_wrong(server: Server) -> None:
    assert "expected SERVICE/HANDLER" in failed("call", "Greeter", server=server)
    assert "Counter is keyed: give the key" in failed("call", "Counter/get", server=server)
    assert "too many arguments" in failed("call", "Greeter/greet", "a", "b", server=server)
    assert "unknown handler 'nope'" in failed("call", "Greeter/nope", "x", server=server)
    assert "invalid delay" in failed("send", "Greeter/greet", "x", "--delay", "soon", server=server)


def test_tables_are_drawn_with_colour_on_a_terminal_and_plain_when_piped(server: Server) -> None:
    piped = ok("services", server=server)
    assert "\x1b[" not in piped
    coloured = subprocess.run(
        [sys.executable, "-m", "agentdur", "services", "--admin-url", server.admin],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "FORCE_COLOR": "1"},
    )
    assert coloured.returncode == 0, coloured.stderr
    assert "\x1b[" in coloured.stdout and "Greeter" in coloured.stdout
    plain = subprocess.run(
        [sys.executable, "-m", "agentdur", "services", "--admin-url", server.admin],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "FORCE_COLOR": "1", "NO_COLOR": "1"},
    )
    assert "\x1b[" not in plain.stdout
