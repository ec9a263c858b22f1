"""Smoke test of the benchmark harness: it runs and writes its figures (no timing thresholds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_bench_engine_quick_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "engine", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert proc.returncode == 0, proc.stderr
    assert "PASS" in proc.stdout or "MISS" in proc.stdout
    data = json.loads(out.read_text())
    assert _positive(data["raw_sqlite_commit_us"])
    steps = data["step_us_sequential"]
    assert set(steps) >= {"0", "10", "100"}
    for key in ("0", "10", "100"):
        assert _positive(steps[key]), (key, steps[key])
    assert _positive(data["steps_per_s_concurrent"])
