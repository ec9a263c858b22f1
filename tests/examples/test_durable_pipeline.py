"""The model-free example: `python -m examples.durable_pipeline` survives a SIGKILL mid-step and runs every step once."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STEPS = ["Parse claim", "Assess risk", "Convert currency", "Pay out", "Notify customer"]
ROW = re.compile(r"^\s*(\d)\s+(.+?)\s+(\d+)x\s+(.+)$")


def test_durable_pipeline_demo_runs_every_step_exactly_once() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "examples.durable_pipeline"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{proc.stderr}"
    assert "FAILED" not in out
    assert len(out.splitlines()) <= 30, out

    rows = [m.groups() for line in out.splitlines() if (m := ROW.match(line))]
    assert [(int(n), name) for n, name, _, _ in rows] == list(enumerate(STEPS, 1)), out
    runs = {name: int(count) for _, name, count, _ in rows}
    assert runs == dict.fromkeys(STEPS, 1), out
    how = {name: what for _, name, _, what in rows}
    for step in STEPS[:2]:
        assert how[step] == "ran before the crash; replayed from the journal", out
    assert how["Convert currency"] == "interrupted by the crash; executed after the restart", out
    for step in STEPS[3:]:
        assert how[step] == "executed after the restart", out

    assert "got SIGKILL during 'Convert currency'" in out
    assert re.search(r"#0 run Parse claim\s+completed", out) and re.search(
        r"#1 run Assess risk\s+completed", out
    )
    assert "#2 run" not in out  # nothing past step 2 was journaled before the crash
    assert "resumed the invocation -> completed" in out
    assert out.rstrip().splitlines()[-1] == (
        "steps 1-2 ran once and were replayed from the journal; steps 3-5 ran after the restart; no step ran twice"
    )
