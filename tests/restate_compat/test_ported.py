"""A file written for restate-sdk runs after swapping the import, on both engines.

``restate.app(services=[...])`` gives an ASGI app that an ASGI server (hypercorn, as restate-sdk's
docs run it) serves to a real restate-server; the same file runs on ``agentdur serve`` too.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import agentdur
from agentdur.testing import RestateServer, free_port

from ..harness import ROOT, start_engine, wait_for
from .ported import app


def test_the_restate_sdk_names_are_agentdur_types() -> None:
    assert agentdur.RestateDurableCallFuture is agentdur.DurableCallFuture
    assert agentdur.RestateDurableFuture is agentdur.DurableFuture
    assert isinstance(app, agentdur.App) and list(app.services) == ["Greeter"]


@pytest.fixture
def hypercorn_on_restate(tmp_path: Path) -> Iterator[RestateServer]:
    """restate-server, and ``hypercorn tests.restate_compat.ported:app`` registered with it."""
    port = free_port()
    with RestateServer(base_dir=tmp_path / "restate", log_path=tmp_path / "restate.log") as server:
        log = (tmp_path / "hypercorn.log").open("wb")
        command = [sys.executable, "-m", "hypercorn", "tests.restate_compat.ported:app"]
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for(lambda: _listening(port), 60, "hypercorn listening")
            server.register(f"http://127.0.0.1:{port}")
            yield server
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_hypercorn_serves_the_ported_app_to_restate(hypercorn_on_restate: RestateServer) -> None:
    response = httpx.post(f"{hypercorn_on_restate.ingress_url}/Greeter/greet", json="ada", timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == "Hello ADA!"


def test_the_ported_file_runs_on_the_embedded_engine(tmp_path: Path) -> None:
    engine = start_engine("embedded", tmp_path, "tests.restate_compat.ported:app")
    try:
        response = engine.post("/Greeter/greet", "ada")
        assert response.status_code == 200 and response.json() == "Hello ADA!"
    finally:
        engine.close()


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
    except httpx.HTTPError:
        return False
    return True
