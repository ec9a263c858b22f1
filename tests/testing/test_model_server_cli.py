"""``agentdur model-server``: a request log on stdout, a script from a file, faults from the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from agentdur.testing import free_port, wait_for

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Weather in Paris?"}]}


def test_requests_are_logged_with_what_answered_them(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "Sunny"}, {"error": 400, "message": "no such model"}]))
    port = free_port()
    log = tmp_path / "model-server.log"
    command = [sys.executable, "-m", "agentdur", "model-server", "--port", str(port)]
    command += ["--script", str(script), "--fail-next", "1", "--fail-status", "503"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(
            lambda: "agentdur model server on" in log.read_text(), within=30, what="model server announced"
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        statuses = [httpx.post(url, json=CHAT, timeout=10).status_code for _ in range(4)]
        first_text = httpx.post(url, json=CHAT, timeout=10).json()["choices"][0]["message"]["content"]
        assert statuses == [503, 200, 400, 200]  # the fault, the script's two entries, the policy
        assert first_text  # the default policy still answers once the script is used up
        wait_for(lambda: log.read_text().count("->") == 5, within=10, what="five request lines")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    lines = [line for line in log.read_text().splitlines() if "->" in line]
    assert lines == [
        "POST /v1/chat/completions model=gpt-4o-mini -> 503 (fault)",
        "POST /v1/chat/completions model=gpt-4o-mini -> 200 (script entry 1)",
        "POST /v1/chat/completions model=gpt-4o-mini -> 400 (script entry 2)",
        "POST /v1/chat/completions model=gpt-4o-mini -> 200 (default policy)",
        "POST /v1/chat/completions model=gpt-4o-mini -> 200 (default policy)",
    ]


def test_a_malformed_script_names_the_entry(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "ok"}, {"error": 200}]))
    done = subprocess.run(
        [sys.executable, "-m", "agentdur", "model-server", "--port", "0", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{script}: entry 1" in done.stderr and "expected e.g." in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "agentdur", "model-server", "--script", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "cannot read the script" in missing.stderr
