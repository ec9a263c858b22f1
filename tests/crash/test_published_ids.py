"""An id a step tells the outside world is durable: the step body starts only once the entries
before it are committed (embedded engine)."""

from __future__ import annotations

from pathlib import Path

import httpx

from agentdur.testing import ServedApp, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_an_awakeable_id_published_by_a_step_survives_a_sigkill_right_after(tmp_path: Path) -> None:
    served = ServedApp(
        "tests.crash.published_app:app",
        db=tmp_path / "published.db",
        cwd=ROOT,
        env={"PUBLISHED_DIR": str(tmp_path)},
    )
    with served:
        sent = httpx.post(f"{served.ingress_url}/Published/ask/send", timeout=30)
        assert sent.status_code == 202, sent.text
        # the step body wrote the id and killed its own process with SIGKILL
        wait_for(lambda: (tmp_path / "killed-once").exists(), within=60, what="the step to kill its process")
        child = served.child
        assert child is not None
        wait_for(lambda: not child.running, within=30, what="the process to be gone")
        published = (tmp_path / "awakeable.txt").read_text()
        served.start()
        resolved = httpx.post(
            f"{served.ingress_url}/restate/awakeables/{published}/resolve", json="yes", timeout=30
        )
        assert resolved.status_code in (200, 202), resolved.text
        result = httpx.get(
            f"{served.ingress_url}/restate/invocation/{sent.json()['invocationId']}/attach", timeout=60
        )
        assert result.json() == "answered yes"
