"""Smoke test of the benchmark harness: it runs and writes its figures (no timing thresholds)."""

from __future__ import annotations

import importlib.util
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


def test_bench_compare_quick_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "compare", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "PASS" in proc.stdout or "MISS" in proc.stdout
    data = json.loads(out.read_text())
    assert _positive(data["raw_sqlite"]["commit_us"])
    rows = {"inv0", "step10", "step100", "concurrent", "chat"}
    systems = data["systems"]
    assert set(systems) == {"embedded", "agentdur_restate", "restate_sdk", "dbos"}
    # restate-server comes with the test dependencies; DBOS only with the bench extra.
    required = {"embedded", "agentdur_restate", "restate_sdk"}
    if importlib.util.find_spec("dbos") is not None:
        required.add("dbos")
    for name, system in systems.items():
        if name not in required and not system["available"]:
            assert system["reason"], name
            continue
        assert system["available"], (name, system.get("reason"))
        figures = system["figures"]
        assert set(figures) >= rows, (name, figures)
        for row in rows:
            assert _positive(figures[row]), (name, row, figures[row])
    for row in rows:
        result = data["targets"]["results"][row]
        assert isinstance(result["adapter_pass"], bool), row
        assert isinstance(result["embedded_leads"], bool), row


def test_bench_agents_quick_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "agents.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "agents", "--sdk", "adk", "--runs", "2", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "per tool round" in proc.stdout
    assert "restate ADK" in proc.stdout
    data = json.loads(out.read_text())["adk"]
    assert data["runs"] == 2
    systems = ["plain", "in_process", "embedded", "restate", "restate_adk"]
    # restate-server comes with the test dependencies; dbos-google-adk only with the bench extra.
    if importlib.util.find_spec("dbos_google_adk") is not None:
        systems.append("dbos")
        assert data["unavailable"] == {}
    else:
        assert set(data["unavailable"]) == {"dbos"}, data["unavailable"]
        assert "DBOS ADK: n/a (not installed" in proc.stdout
    for kind in ("tools", "answer"):
        for system in systems:
            assert _positive(data["median_ms"][kind][system]), (kind, system)
    for system in systems[1:]:
        assert isinstance(data["overhead_turn_ms"][system], float), system
        assert isinstance(data["overhead_tool_round_ms"][system], float), system


def test_bench_agents_openai_sections_write_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "agents.json"
    command = [
        sys.executable,
        "-m",
        "bench",
        "agents",
        "--sdk",
        "openai",
        "--runs",
        "2",
        "--latency-ms",
        "20",
    ]
    command += ["--concurrent", "3", "--chat-turns", "2", "--json", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for heading in (
        "added latency, p99 (ms)",
        "< 5 embedded",
        "< 50",
        "ratio turn 2 / turn 1",
        "restart to run",
    ):
        assert heading in proc.stdout, heading
    data = json.loads(out.read_text())
    assert set(data) == {"openai"}, set(data)
    figures = data["openai"]
    assert figures["unavailable"] == {}  # restate-server comes with the test dependencies
    columns = {"plain", "in_process", "embedded", "restate", "restate_openai"}
    assert set(figures["sequential"]) == columns
    for column, row in figures["sequential"].items():
        for name in ("median_ms", "p99_ms", "cpu_ms_per_run", "rss_mb"):
            assert _positive(row[name]), (column, name, row[name])
        assert isinstance(row["added_p99_ms"], float), column
        if column != "plain":
            assert _positive(row["journal_bytes_per_run"]), (column, row)
        if column.startswith("restate"):
            assert _positive(row["server_rss_mb"]), (column, row)
    assert set(figures["concurrent"]) == {"plain", "in_process", "embedded"}
    for column, row in figures["concurrent"].items():
        assert row["runs"] == 3 and row["failed"] == 0, (column, row)
        assert _positive(row["runs_per_s"]) and _positive(row["p99_ms"]), (column, row)
    assert set(figures["chat_journal_bytes"]) == {"in_process", "restate", "restate_openai"}
    for column, turns in figures["chat_journal_bytes"].items():
        assert _positive(turns["1"]) and _positive(turns["2"]) and _positive(turns["ratio"]), (column, turns)
    assert set(figures["resume_s"]) == {"embedded", "restate", "restate_openai"}
    for column, resume in figures["resume_s"].items():
        assert _positive(resume["total"]), (column, resume)
        assert resume["process_start"] <= resume["total"], (column, resume)
