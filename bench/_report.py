"""The table printed by ``python -m bench ...`` and the JSON written by ``--json``.

The table has one row per figure and one column per system. The embedded engine's column comes first,
then the targets with a PASS/MISS mark, then any other live columns, then the anchors: constants
measured earlier on this machine. ``python -m bench compare`` measures Restate and DBOS live instead
(``bench/_compare_report.py``, which reuses :class:`Column`, :func:`fmt`, the rows and :func:`render_grid`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine import CONCURRENCY, CONCURRENT_STEPS, EngineRun

# ---------------------------------------------------------------- targets

SEQUENTIAL_STEP_MAX_RATIO = 3.0  # a sequential step costs at most 3x the raw commit of the same run
CONCURRENT_MIN_STEPS_PER_S = 15_000.0  # 20 concurrent invocations of 10 steps

# ---------------------------------------------------------------- anchors (not measured in this run)

ANCHOR_NOTE = "measured earlier on this machine (constants, not measured in this run)"
ANCHOR_DETAIL = "Restate = restate-server with restate-sdk; DBOS/SQLite = DBOS on SQLite"
ANCHORS: dict[str, dict[str, Any]] = {
    "restate": {
        "label": "Restate",
        "description": "restate-server with restate-sdk",
        "step_ms_sequential": [1.5, 2.5],
        "steps_per_s_concurrent_20": 800,
    },
    "dbos_sqlite": {
        "label": "DBOS/SQLite",
        "description": "DBOS on SQLite",
        "step_ms_sequential": [3.4, 4.3],
        "steps_per_s_concurrent_20": None,
    },
}

# ---------------------------------------------------------------- rows

ROW_RAW = "raw"
ROW_INV0 = "inv0"
ROW_STEP10 = "step10"
ROW_STEP100 = "step100"
ROW_MARGINAL = "marginal"
ROW_CONCURRENT = "concurrent"

ROWS: list[tuple[str, str, str]] = [  # key, label, unit
    (ROW_RAW, "raw SQLite commit (physical limit)", "µs/commit"),
    (ROW_INV0, "sequential, 0-step invocation", "µs/inv"),
    (ROW_STEP10, "sequential, 10-step handler", "µs/step"),
    (ROW_STEP100, "sequential, 100-step handler", "µs/step"),
    (ROW_MARGINAL, "sequential, marginal (t100-t0)/100", "µs/step"),
    (ROW_CONCURRENT, f"concurrent, {CONCURRENCY} x {CONCURRENT_STEPS}-step handler", "steps/s"),
]
STEP_ROWS = (ROW_STEP10, ROW_STEP100)


@dataclass
class Column:
    """One system's figures, keyed by row; a missing row prints as a dash."""

    label: str
    values: dict[str, float] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # overrides, e.g. ranges of anchors

    def cell(self, row: str) -> str:
        if row in self.text:
            return self.text[row]
        if row not in self.values:
            return "-"
        return fmt(self.values[row])


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def engine_column(run: EngineRun) -> Column:
    seq = run.sequential
    values: dict[str, float] = {ROW_RAW: run.raw_commit_us}
    if 0 in seq:
        values[ROW_INV0] = seq[0].us_per_unit
    if 10 in seq:
        values[ROW_STEP10] = seq[10].us_per_unit
    if 100 in seq:
        values[ROW_STEP100] = seq[100].us_per_unit
    if 0 in seq and 100 in seq:
        values[ROW_MARGINAL] = (seq[100].us_per_call - seq[0].us_per_call) / 100
    if run.concurrent is not None:
        values[ROW_CONCURRENT] = run.concurrent.steps_per_s
    return Column(f"agentdur ({run.synchronous})", values)


def anchor_columns() -> list[Column]:
    columns = []
    for anchor in ANCHORS.values():
        low, high = anchor["step_ms_sequential"]
        step = f"{low * 1000:,.0f}-{high * 1000:,.0f}"
        text = {ROW_STEP10: step, ROW_STEP100: step}
        if anchor["steps_per_s_concurrent_20"] is not None:
            text[ROW_CONCURRENT] = f"~{anchor['steps_per_s_concurrent_20']:,}"
        columns.append(Column(f"{anchor['label']} *", text=text))
    return columns


@dataclass
class Verdict:
    target: str
    passed: bool | None  # None: no target for this row


def verdicts(ours: Column) -> dict[str, Verdict]:
    out: dict[str, Verdict] = {}
    raw = ours.values.get(ROW_RAW)
    for row in STEP_ROWS:
        if raw is None or row not in ours.values:
            continue
        limit = SEQUENTIAL_STEP_MAX_RATIO * raw
        out[row] = Verdict(f"<= {SEQUENTIAL_STEP_MAX_RATIO:g}x raw = {fmt(limit)}", ours.values[row] <= limit)
    if ROW_CONCURRENT in ours.values:
        out[ROW_CONCURRENT] = Verdict(
            f">= {CONCURRENT_MIN_STEPS_PER_S:,.0f}", ours.values[ROW_CONCURRENT] >= CONCURRENT_MIN_STEPS_PER_S
        )
    return out


def render_table(ours: Column, others: Sequence[Column] = (), anchors: Sequence[Column] | None = None) -> str:
    """The figures side by side: ours, x raw, target, PASS/MISS, other live columns, anchors."""
    anchors = anchor_columns() if anchors is None else list(anchors)
    marks = verdicts(ours)
    raw = ours.values.get(ROW_RAW)
    header = ["figure", "unit", ours.label, "x raw", "target", "result"]
    header += [c.label for c in others] + [c.label for c in anchors]
    lines: list[list[str]] = [header]
    for key, label, unit in ROWS:
        ratio = "-"
        if raw and key in ours.values and unit.startswith("µs") and key != ROW_RAW:
            ratio = f"{ours.values[key] / raw:.2f}"
        verdict = marks.get(key)
        row = [label, unit, ours.cell(key), ratio]
        if verdict is None:
            row += ["-", ""]
        else:
            row += [verdict.target, "PASS" if verdict.passed else "MISS"]
        row += [c.cell(key) for c in others] + [c.cell(key) for c in anchors]
        lines.append(row)
    out = render_grid(lines)
    if anchors:
        out.append(f"* {ANCHOR_NOTE}: {ANCHOR_DETAIL}.")
    return "\n".join(out)


def render_grid(lines: Sequence[Sequence[str]], text_columns: int = 2) -> list[str]:
    """A header line, a rule and the rows; the first ``text_columns`` left-aligned, the rest right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def render(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i < text_columns else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [render(lines[0]), rule] + [render(line) for line in lines[1:]]


def render_engine_report(run: EngineRun) -> str:
    ours = engine_column(run)
    env = run.environment
    title = (
        f"agentdur embedded engine, synchronous={run.synchronous}{' (--quick: rough figures)' if run.quick else ''}"
        f" - Python {env.get('python')}, SQLite {env.get('sqlite')}, {env.get('cpus')} CPUs"
    )
    samples = ", ".join(fmt(sample.mean_us) for sample in run.raw)
    notes = [
        f"raw SQLite: {run.raw_commits:,} commits of one row on fresh WAL files, synchronous={run.synchronous},"
        f" sampled before each engine workload and after the last: {samples} µs/commit"
        f" (median commit {fmt(run.raw_commit_p50_us)} µs)."
    ]
    seq_parts = []
    for steps, res in sorted(run.sequential.items()):
        part = f"{steps} steps: {res.calls:,} invocations in {res.seconds:.1f} s"
        if res.commits is not None:
            part += f", {res.commits / res.calls:.1f} commits/invocation"
        seq_parts.append(part)
    notes.append("sequential: " + "; ".join(seq_parts) + ".")
    if run.concurrent is not None:
        c = run.concurrent
        part = f"concurrent: {c.calls:,} invocations ({c.steps:,} steps) in {c.seconds:.1f} s"
        if c.commits is not None:
            part += f", {c.commits:,} commits = {c.commits / c.steps:.2f} commits/step (group commit)"
        notes.append(part + ".")
    if run.synchronous == "NORMAL":
        notes.append(
            "note: with synchronous=NORMAL a WAL commit does not fsync, so the raw commit is a memory copy"
            " and the 3x target measures the engine's CPU overhead per step alone."
        )
    load = env.get("loadavg_1min_at_start")
    if isinstance(load, float) and load >= 0.8:
        notes.append(
            f"warning: the 1-minute load average was {load:.2f} at the start: other processes share this"
            " machine's CPUs and disk, the figures are noisy."
        )
    return "\n".join([title, "", render_table(ours), "", *notes])


def engine_json(run: EngineRun) -> dict[str, Any]:
    ours = engine_column(run)
    marks = verdicts(ours)
    seq = run.sequential
    data: dict[str, Any] = {
        "benchmark": "engine",
        "synchronous": run.synchronous,
        "quick": run.quick,
        "raw_sqlite_commit_us": run.raw_commit_us,
        "raw_sqlite_commits": run.raw_commits,
        "raw_sqlite_commit_us_samples": [sample.mean_us for sample in run.raw],
        "raw_sqlite_commit_p50_us": run.raw_commit_p50_us,
        # "0": µs per invocation of a handler without steps; "10", "100": µs per step.
        "step_us_sequential": {str(n): res.us_per_unit for n, res in sorted(seq.items())},
        "invocation_us_sequential": {str(n): res.us_per_call for n, res in sorted(seq.items())},
        "invocations_sequential": {str(n): res.calls for n, res in sorted(seq.items())},
        "commits_per_invocation_sequential": {
            str(n): res.commits / res.calls for n, res in sorted(seq.items()) if res.commits is not None
        },
        "step_over_raw_ratio": {
            str(n): res.us_per_unit / run.raw_commit_us for n, res in sorted(seq.items()) if n > 0
        },
    }
    if ROW_MARGINAL in ours.values:
        data["step_us_marginal"] = ours.values[ROW_MARGINAL]
    if run.concurrent is not None:
        c = run.concurrent
        data["steps_per_s_concurrent"] = c.steps_per_s
        data["concurrent"] = {
            "concurrency": c.concurrency,
            "steps_per_invocation": c.steps_per_call,
            "invocations": c.calls,
            "steps": c.steps,
            "seconds": c.seconds,
            "commits": c.commits,
        }
    data["targets"] = {
        "sequential_step_max_ratio_to_raw": SEQUENTIAL_STEP_MAX_RATIO,
        "concurrent_min_steps_per_s": CONCURRENT_MIN_STEPS_PER_S,
        "results": {key: {"target": v.target, "pass": v.passed} for key, v in marks.items()},
        "all_pass": all(v.passed for v in marks.values()),
    }
    data["anchors"] = {"note": ANCHOR_NOTE, **ANCHORS}
    data["environment"] = run.environment
    return data


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=False)
        handle.write("\n")
