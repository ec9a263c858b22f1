"""MCP tools in a durable run, on both engines: the ``mcp`` package's own server over stdio.

The agent calls the MCP server's ``book`` tool, then a tool that holds; the handler process is
SIGKILLed meanwhile. Before the restart the server is made to list no tools at all: the replay must
use the journaled list and the journaled result, never calling ``book`` again.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdur.testing import ScriptedModelServer, free_port

from ..conformance._journal import journal
from ..effects import LOG_ENV
from ..harness import ROOT, EngineUnderTest, wait_for
from .test_approvals import assert_no_request_twice


def test_a_finished_mcp_call_is_not_repeated_after_a_sigkill(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    run = f"mcp{uuid.uuid4().hex[:8]}"
    hidden = Path(f"{engine.log_path}.mcp-hidden")
    invocation = engine.send("/Agents/mcp", run)
    wait_for(lambda: engine.count(f"hold {run}") == 1, what="the run holding after the MCP call")
    assert engine.count(f"mcp book {run}") == 1
    engine.kill()
    hidden.touch()  # from now on the server offers no tools
    try:
        engine.release(run)
        engine.start()
        result = engine.attach(invocation)
    finally:
        hidden.unlink()
    assert result.status_code == 200, result.text
    assert result.json() == f"done {run}: booked {run}; released {run}"
    assert engine.count(f"mcp book {run}") == 1  # journaled: not called again
    assert engine.count(f"hold {run}") == 2  # in flight at the crash: ran again
    assert_no_request_twice(shared_model_server, run)
    names = [name for _, name in journal(engine, invocation)]
    assert names.count("MCP tools: bookings") == 1, names  # listed once for the whole run
    assert names.count("MCP: bookings/book") == 1, names


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def mcp_over_http(engine: EngineUnderTest) -> Iterator[str]:
    """The test MCP server over streamable HTTP, in its own process (it outlives the handler's)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "openai_agents" / "mcp_server.py"), "http", str(port)],
        env={"PATH": "", LOG_ENV: str(engine.log_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _listening(port), within=60, what="the MCP server listening")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.kill()
        server.wait()


def test_a_finished_mcp_call_over_streamable_http_is_not_repeated_after_a_sigkill(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer, mcp_over_http: str
) -> None:
    run = f"mcph{uuid.uuid4().hex[:8]}"
    invocation = engine.send("/Agents/mcp_http", {"label": run, "url": mcp_over_http})
    wait_for(lambda: engine.count(f"hold {run}") == 1, what="the run holding after the MCP call")
    engine.kill()
    engine.release(run)
    engine.start()
    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    assert result.json() == f"done {run}: booked {run}; released {run}"
    assert engine.count(f"mcp book {run}") == 1
    assert_no_request_twice(shared_model_server, run)
    names = [name for _, name in journal(engine, invocation)]
    assert names.count("MCP tools: bookings") == 1 and names.count("MCP: bookings/book") == 1, names
