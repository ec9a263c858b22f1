"""A real ``agentdur serve`` against what kills or hangs it: poison invocations, hung steps, signals,
a database file removed underneath it.

Every process here is real and killed for real (SIGKILL, ``os._exit``); every wait polls a condition
with a deadline, and the only time bounds are generous guards against a hang.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdur.testing import ServedApp, WaitTimeout

from .helpers import REPO, lines, wait_for

APP = "tests.server.reliability_app:app"
HANG_GUARD = 60.0  # only against a hang: a shutdown that never ends fails the test instead of blocking it


def served(tmp_path: Path, *args: str) -> ServedApp:
    return ServedApp(
        APP,
        db=tmp_path / "r.db",
        log_path=tmp_path / "serve.log",
        args=list(args),
        cwd=REPO,
        startup_within=60,
    )


def send(server: ServedApp, handler: str, body: Any = None) -> str:
    answered = httpx.post(f"{server.ingress_url}/Poison/{handler}/send", json=body, timeout=20)
    assert answered.status_code == 202, answered.text
    return str(answered.json()["invocationId"])


def invocation(server: ServedApp, inv_id: str) -> dict[str, Any]:
    return dict(httpx.get(f"{server.admin_url}/invocations/{inv_id}", timeout=20).json())


def test_an_invocation_running_at_repeated_sigkills_is_paused_and_the_server_comes_up(tmp_path: Path) -> None:
    marker = tmp_path / "marker.log"
    server = served(tmp_path, "--poison-after", "3")
    try:
        server.start()
        inv_id = send(server, "hang", str(marker))
        waiting = send(server, "wait_approval")  # in memory too, but only waiting: never paused for it
        wait_for(lambda: invocation(server, waiting)["journal"], "the awakeable to be journaled")
        for crash in (1, 2, 3):
            wait_for(lambda n=crash: len(lines(marker)) == n, f"the step to run (time {crash})")  # type: ignore[misc]
            wait_for(
                lambda: invocation(server, inv_id)["status"] == "running", "the invocation to be running"
            )
            server.kill()
            server.start()  # answers /health: recovery resumed it, or (the third time) paused it
        info = invocation(server, inv_id)
        assert info["status"] == "paused", info
        assert "crashed 3 times in a row" in info["last_error"]
        assert len(lines(marker)) == 3  # paused before its step could run a fourth time
        assert invocation(server, waiting)["status"] in ("running", "suspended")
        assert httpx.post(f"{server.ingress_url}/Poison/ok", timeout=20).json() == "ok"
        assert httpx.get(f"{server.admin_url}/health").json() == {"status": "ok"}
    finally:
        server.close()


def test_a_step_that_ends_its_process_is_paused_after_the_crash_loop(tmp_path: Path) -> None:
    marker = tmp_path / "marker.log"
    server = served(tmp_path, "--poison-after", "2")
    try:
        server.start()
        inv_id = send(server, "exit_process", str(marker))
        starts = 1
        while True:
            assert server.process is not None
            assert server.process.wait(HANG_GUARD) == 3  # the poison step ended the server
            starts += 1
            assert starts <= 4, server.log_path.read_text()[-3000:]
            try:
                server.start()  # recovery runs the step again (it may answer /health first)...
                info = invocation(server, inv_id)
            except (WaitTimeout, httpx.HTTPError):
                continue
            if info["status"] == "paused":  # ...until a start pauses it instead
                break
        assert starts == 3  # crashes 1 and 2, then the start that paused it
        assert "crashed 2 times in a row" in info["last_error"]
        assert httpx.post(f"{server.ingress_url}/Poison/ok", timeout=20).json() == "ok"
        assert lines(marker) == ["started", "started"]
    finally:
        server.close()


def test_a_step_raising_system_exit_fails_its_attempts_and_the_server_stays_up(tmp_path: Path) -> None:
    marker = tmp_path / "marker.log"
    server = served(tmp_path, "--max-attempts", "2")
    try:
        server.start()
        inv_id = send(server, "system_exit", str(marker))
        info = wait_for(
            lambda: (found := invocation(server, inv_id))["status"] == "paused" and found,
            "the invocation to pause",
        )
        assert "StepAbortedError" in info["last_error"] and "SystemExit" in info["last_error"]
        assert lines(marker) == ["started", "started"]  # attempts 1 and 2
        assert server.child is not None and server.child.running
        assert httpx.post(f"{server.ingress_url}/Poison/ok", timeout=20).json() == "ok"
    finally:
        server.close()


def test_sigterm_with_a_hung_sync_step_finishes_after_the_grace_period(tmp_path: Path) -> None:
    marker = tmp_path / "marker.log"
    server = served(tmp_path, "--grace", "0.5")
    try:
        server.start()
        send(server, "hang", str(marker))
        wait_for(lambda: lines(marker) == ["started"], "the step to hang")
        assert server.child is not None
        server.child.signal_group(signal.SIGTERM)
        assert server.process is not None
        assert server.process.wait(HANG_GUARD) == 0  # a clean exit, though the thread never ends
        log = server.log_path.read_text()
        assert log.index("shutting down") < log.index("was abandoned") < log.index("stopped;")
    finally:
        server.close()


def test_a_second_sigterm_exits_at_once(tmp_path: Path) -> None:
    marker = tmp_path / "marker.log"
    server = served(tmp_path, "--grace", "600")  # the first signal alone would wait ten minutes
    try:
        server.start()
        send(server, "hang", str(marker))
        wait_for(lambda: lines(marker) == ["started"], "the step to hang")
        assert server.child is not None and server.process is not None
        server.child.signal_group(signal.SIGTERM)
        wait_for(lambda: "shutting down" in server.log_path.read_text(), "the graceful shutdown to begin")
        server.child.signal_group(signal.SIGTERM)
        assert server.process.wait(HANG_GUARD) == 128 + signal.SIGTERM
        assert "second SIGTERM: exiting now" in server.log_path.read_text()
    finally:
        server.close()


def test_a_removed_database_file_makes_health_answer_503(tmp_path: Path) -> None:
    server = served(tmp_path)
    try:
        server.start()
        assert httpx.post(f"{server.ingress_url}/Poison/ok", timeout=20).json() == "ok"
        (tmp_path / "r.db").unlink()
        for url in (f"{server.admin_url}/health", f"{server.ingress_url}/restate/health"):
            answered = httpx.get(url, timeout=20)
            assert answered.status_code == 503
            assert "was removed" in answered.json()["reason"]
        refused = httpx.post(f"{server.ingress_url}/Poison/ok", timeout=20)
        assert refused.status_code == 503 and "was removed" in refused.json()["message"]
    finally:
        server.close()


@pytest.mark.parametrize("flag", ["--poison-after", "--max-entry-size"])
def test_serve_refuses_a_nonsense_limit(tmp_path: Path, flag: str) -> None:
    server = served(tmp_path, flag, "0")
    with pytest.raises(WaitTimeout, match="must be an int of at least 1"):
        server.start()
