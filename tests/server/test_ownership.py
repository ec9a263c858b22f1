"""One owner per database, between real ``agentdur serve`` processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from agentdur.testing import free_ports

from .conftest import ServerFactory
from .helpers import APP, REPO, START_DEADLINE, Server


def serve_once(db: Path, port: int, admin_port: int) -> subprocess.CompletedProcess[str]:
    """Run ``agentdur serve`` expecting it to refuse to start (the deadline only guards a hang)."""
    command = [
        sys.executable, "-m", "agentdur", "serve", APP,
        "--port", str(port), "--admin-port", str(admin_port), "--db", str(db),
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=START_DEADLINE)


def test_a_second_server_on_one_file_is_refused_and_a_killed_owner_never_blocks_a_restart(
    serve: ServerFactory, tmp_path: Path
) -> None:
    first = serve()
    assert first.process is not None

    # The very same command a second time, and another one on other ports: both refused.
    for port, admin_port in [(first.port, first.admin_port), free_ports(2)]:
        second = serve_once(first.db, port, admin_port)
        assert second.returncode != 0
        assert f"already in use by process {first.process.pid}" in second.stderr
        assert "agentdur serve" in second.stderr  # the owner's command line
        assert "Restate backend" in second.stderr
        assert "Traceback" not in second.stderr
    assert httpx.post(f"{first.ingress}/Greeter/greet", json="Ada", timeout=20).json() == "Hello, Ada!"

    first.kill()  # SIGKILL: the owner never released anything itself
    third = Server(db=first.db, log=tmp_path / "third.log").start()
    try:
        assert httpx.post(f"{third.ingress}/Greeter/greet", json="Bo", timeout=20).json() == "Hello, Bo!"
    finally:
        third.stop()
