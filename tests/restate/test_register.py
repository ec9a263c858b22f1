"""A starting deployment registers with restate-server even when the admin API comes up after it
(a restate-server restarting beside it), and says clearly, without a traceback, when it never does."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from agentdur import UserError
from agentdur.restate._serve import register_when_reachable
from agentdur.testing import free_port


class _Admin(BaseHTTPRequestHandler):
    """A stand-in for the admin API's ``POST /deployments`` (the edge, not our engine)."""

    bodies: list[dict[str, Any]] = []
    status = 201

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        _Admin.bodies.append(json.loads(self.rfile.read(length)))
        body = json.dumps({"id": "dp_test"} if self.status == 201 else {"message": "no"}).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def admin_port() -> Iterator[int]:
    _Admin.bodies, _Admin.status = [], 201
    yield free_port()


def start_admin(port: int) -> HTTPServer:
    server = HTTPServer(("127.0.0.1", port), _Admin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def test_registration_waits_for_an_admin_api_that_comes_up_later(
    admin_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{admin_port}"
    started: list[HTTPServer] = []

    def come_up_after_the_first_refusal() -> None:
        started.append(start_admin(admin_port))

    loop = asyncio.get_running_loop()
    registering = asyncio.ensure_future(register_when_reachable(url, "http://127.0.0.1:1", within=60))
    while "not reachable" not in caplog.text:  # the first attempt was refused
        assert not registering.done(), registering
        await asyncio.sleep(0.05)
    await loop.run_in_executor(None, come_up_after_the_first_refusal)
    try:
        assert await registering == {"id": "dp_test"}
        assert _Admin.bodies == [{"uri": "http://127.0.0.1:1", "force": True}]
    finally:
        started[0].shutdown()


async def test_an_admin_api_that_never_comes_up_is_a_clear_error(admin_port: int) -> None:
    with pytest.raises(UserError, match=r"stayed unreachable for 1 s \(.*[Rr]efused"):
        await register_when_reachable(f"http://127.0.0.1:{admin_port}", "http://x", within=1, first_delay=0.2)


async def test_an_error_answer_is_final(admin_port: int) -> None:
    _Admin.status = 400
    server = start_admin(admin_port)
    try:
        with pytest.raises(UserError, match=r"failed \(400\)"):
            await register_when_reachable(f"http://127.0.0.1:{admin_port}", "http://x", within=30)
        assert len(_Admin.bodies) == 1  # not retried
    finally:
        server.shutdown()
