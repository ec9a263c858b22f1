"""``agentdur watch ID`` against a real server: live output, journal entries, the outcome, a restart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

import agentdur
from agentdur.testing import ServedApp, wait_for

from .conftest import REPO
from .helpers import WITHIN


def _watch(served: ServedApp, invocation_id: str, *extra: str, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "agentdur", "watch", invocation_id,
        "--ingress-url", served.ingress_url, "--admin-url", served.admin_url, *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _talk(tmp_path: Path) -> dict[str, object]:
    return {"words": ["alpha", "beta"], "marker": str(tmp_path / "m.log"), "release": str(tmp_path / "go")}


def test_watch_prints_output_and_journal_live_then_the_outcome(served: ServedApp, tmp_path: Path) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "talk", _talk(tmp_path))
    log = tmp_path / "watch.log"
    watcher = _watch(served, inv_id, log=log)
    try:
        wait_for(lambda: 'output   {"text":"second-a"}' in log.read_text(), within=WITHIN, what="live output")
        wait_for(lambda: "journal  #0 run 'first' completed" in log.read_text(), within=WITHIN, what="a step")
        assert "succeeded" not in log.read_text()
        (tmp_path / "go").touch()
        assert watcher.wait(WITHIN) == 0
    finally:
        watcher.kill()
    lines = log.read_text().splitlines()
    # A watcher that connects late gets the buffered output and the journal side by side: their
    # interleaving depends on when it connected, the order within each does not.
    assert [line for line in lines if line.startswith("output")][0] == 'output   {"kind":"start"}'
    assert 'output   {"text":"alpha"}  (step first)' in lines
    assert "journal  #1 run 'second' completed \"done\"" in lines
    assert lines[-1] == 'succeeded "alpha beta done"'


def test_watch_follows_across_a_sigkill_and_restart(served: ServedApp, tmp_path: Path) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "talk", _talk(tmp_path))
    log = tmp_path / "watch.log"
    watcher = _watch(served, inv_id, "--json", log=log)
    try:
        wait_for(lambda: "second-a" in log.read_text(), within=WITHIN, what="live output")
        served.kill()
        served.start()
        wait_for(lambda: '"type":"replay"' in log.read_text(), within=WITHIN, what="the replay marker")
        (tmp_path / "go").touch()
        assert watcher.wait(WITHIN) == 0
    finally:
        watcher.kill()
    messages = [json.loads(line) for line in log.read_text().splitlines()]
    texts = [m["data"] for m in messages if m["type"] == "output" and not m["replayed"]]
    # The interrupted step streams again after the marker; nothing else is repeated unflagged.
    assert texts == [
        {"kind": "start"},
        {"text": "alpha"},
        {"text": "beta"},
        {"kind": "between"},
        {"text": "second-a"},
        {"text": "second-a"},
        {"text": "second-b"},
    ]
    marker_at = next(i for i, m in enumerate(messages) if m["type"] == "replay")
    assert [m["data"] for m in messages[marker_at:] if m["type"] == "output"][-2:] == [
        {"text": "second-a"},
        {"text": "second-b"},
    ]
    assert messages[-1]["outcome"] == "succeeded"
    assert httpx.get(f"{served.ingress_url}/restate/invocation/{inv_id}/output").json() == "alpha beta done"
