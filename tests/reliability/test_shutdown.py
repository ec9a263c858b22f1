"""A Restate deployment whose sync step hangs still stops on SIGTERM (its thread is a daemon of
agentdur's step threads, not restate-sdk's executor, which the process would wait for at exit)."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from agentdur.testing import RestateDeployment

from ..harness import ROOT, wait_for

HANG_GUARD = 60.0  # only against a hang


def test_a_deployment_with_a_hung_sync_step_exits_on_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "marker.log"
    with RestateDeployment("tests.server.reliability_app:app", workdir=tmp_path, cwd=ROOT) as deployment:
        answered = httpx.post(f"{deployment.ingress_url}/Poison/hang/send", json=str(marker), timeout=20)
        assert answered.status_code == 202, answered.text
        wait_for(lambda: marker.exists() and marker.read_text() == "started\n", what="the step to hang")
        assert deployment.child is not None and deployment.process is not None
        deployment.child.signal_group(signal.SIGTERM)
        assert deployment.process.wait(HANG_GUARD) == 0
