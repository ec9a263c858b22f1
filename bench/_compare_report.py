"""The table printed by ``python -m bench compare`` and the JSON written by its ``--json``.

One row per workload, one column per system (see :mod:`bench.compare`), then the two targets:

- the adapter: agentdur on restate-server adds at most 5% to the same handlers written against
  restate-sdk on the same server (time per unit, so for throughputs the inverse ratio);
- the embedded engine leads: it beats every other live column on every workload.

A second table splits the CPU time each workload took by process, per unit (invocation, step or
message), which is where the adapter's cost shows without the noise of a shared machine's wall clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import _report
from ._chat import CHAT_KEYS
from ._report import ROW_CONCURRENT, ROW_INV0, ROW_MARGINAL, ROW_RAW, ROW_STEP10, ROW_STEP100, Column, fmt
from .compare import AGENTDUR_RESTATE, CHAT, DBOS, EMBEDDED, LABELS, RESTATE_SDK, SYSTEMS, CompareRun
from .engine import SequentialResult

ADAPTER_MAX_OVERHEAD = 0.05
ROW_CHAT = CHAT
RAW_LABEL = "raw SQLite"
DBOS_CHAT_MARK = " †"


def rows(run: CompareRun) -> list[tuple[str, str, str]]:
    """(key, label, unit): the engine table's rows (without its derived marginal) and the chat row."""
    messages = run.budget.chat_messages_per_key
    chat = (ROW_CHAT, f"chat object, {CHAT_KEYS} keys x {messages} messages", "msg/s")
    return [*_report.ROWS, chat]


TARGET_ROWS = (ROW_INV0, ROW_STEP10, ROW_STEP100, ROW_CONCURRENT, ROW_CHAT)


def _per_second(row: str) -> bool:
    return row in (ROW_CONCURRENT, ROW_CHAT)


def _marginal(run: CompareRun, system: str) -> float | None:
    cells = run.cells[system]
    t0, t100 = cells.get(ROW_INV0), cells.get(ROW_STEP100)
    if t0 is None or t100 is None:
        return None
    r0, r100 = t0.result, t100.result
    assert isinstance(r0, SequentialResult) and isinstance(r100, SequentialResult)
    return (r100.us_per_call - r0.us_per_call) / 100


def system_column(run: CompareRun, system: str) -> Column:
    column = Column(LABELS[system])
    if system in run.unavailable:
        column.text = {key: "n/a" for key, _, _ in rows(run) if key != ROW_RAW}
        return column
    column.values = {row: cell.value for row, cell in run.cells[system].items()}
    marginal = _marginal(run, system)
    if marginal is not None:
        column.values[ROW_MARGINAL] = marginal
    if system == DBOS and ROW_CHAT in column.values:
        column.text[ROW_CHAT] = fmt(column.values[ROW_CHAT]) + DBOS_CHAT_MARK
    return column


def raw_column(run: CompareRun) -> Column:
    """The raw commit as the floor of every row: µs per commit, or commits per second."""
    raw = run.raw_commit_us
    values = {key: (1e6 / raw if _per_second(key) else raw) for key, _, _ in rows(run)}
    return Column(RAW_LABEL, values)


# ---------------------------------------------------------------- targets


@dataclass
class Verdicts:
    adapter_overhead: float | None  # agentdur on Restate vs restate-sdk: time added per unit (0.03 = +3%)
    adapter_pass: bool | None
    embedded_margin: float | None  # how many times better than the best other live column
    embedded_best_other: str | None
    embedded_pass: bool | None


def _time_ratio(row: str, ours: float, theirs: float) -> float:
    """ours / theirs as time per unit (> 1: ours is slower)."""
    return theirs / ours if _per_second(row) else ours / theirs


def verdicts(run: CompareRun, row: str) -> Verdicts:
    ours_r, sdk = run.value(AGENTDUR_RESTATE, row), run.value(RESTATE_SDK, row)
    overhead = None if ours_r is None or sdk is None else _time_ratio(row, ours_r, sdk) - 1
    embedded = run.value(EMBEDDED, row)
    others = {s: v for s in (AGENTDUR_RESTATE, RESTATE_SDK, DBOS) if (v := run.value(s, row)) is not None}
    margin = best = None
    if embedded is not None and others:
        # the other column closest to the embedded engine, and how many times faster the engine is
        best = max(others, key=lambda s: _time_ratio(row, embedded, others[s]))
        margin = 1 / _time_ratio(row, embedded, others[best])
    return Verdicts(
        overhead,
        None if overhead is None else overhead <= ADAPTER_MAX_OVERHEAD,
        margin,
        best,
        None if margin is None else margin > 1,
    )


def _mark(passed: bool | None) -> str:
    return "" if passed is None else "PASS" if passed else "MISS"


# ---------------------------------------------------------------- tables


def render_table(run: CompareRun) -> list[str]:
    columns = [system_column(run, s) for s in SYSTEMS] + [raw_column(run)]
    header = ["figure", "unit", *(c.label for c in columns)]
    header += ["adapter vs sdk", f"<= +{ADAPTER_MAX_OVERHEAD:.0%}", "embedded vs best other", "leads"]
    lines = [header]
    for key, label, unit in rows(run):
        line = [label, unit, *(c.cell(key) for c in columns)]
        if key in TARGET_ROWS:
            v = verdicts(run, key)
            line.append("-" if v.adapter_overhead is None else f"{v.adapter_overhead:+.1%}")
            line.append(_mark(v.adapter_pass))
            line.append(
                "-"
                if v.embedded_margin is None
                else f"{v.embedded_margin:.2f}x {LABELS[v.embedded_best_other or '']}"
            )
            line.append(_mark(v.embedded_pass))
        else:
            line += ["", "", "", ""]
        lines.append(line)
    return _report.render_grid(lines)


CPU_PARTS = ("restate-server", "deployment", "bench process")


def deployment_cpu_overhead(run: CompareRun, row: str) -> float | None:
    """CPU the agentdur deployment spends per unit over what the restate-sdk one spends (0.03 = +3%)."""
    ours, sdk = run.cells[AGENTDUR_RESTATE].get(row), run.cells[RESTATE_SDK].get(row)
    if ours is None or sdk is None:
        return None
    a, b = ours.cpu_us_per_unit().get("deployment"), sdk.cpu_us_per_unit().get("deployment")
    return None if a is None or b is None or b == 0 else a / b - 1


def _cpu_cell(run: CompareRun, system: str, row: str, part: str) -> str:
    measured = run.cells[system].get(row)
    if measured is None:
        return "n/a" if system in run.unavailable else "-"
    value = measured.cpu_us_per_unit().get(part)
    return "-" if value is None or math.isnan(value) else fmt(value)


def render_cpu_table(run: CompareRun) -> list[str]:
    """CPU µs per unit of each workload, per process."""
    header = ["CPU per unit", "unit", LABELS[EMBEDDED]]
    for system in (AGENTDUR_RESTATE, RESTATE_SDK):
        header += [f"{LABELS[system]}: server", "deployment", "client"]
    header += [LABELS[DBOS], "agentdur deployment vs sdk"]
    lines = [header]
    for key, label, _ in rows(run):
        if key in (ROW_RAW, ROW_MARGINAL):
            continue
        per = "msg" if key == ROW_CHAT else "inv" if key == ROW_INV0 else "step"
        line = [label, f"µs/{per}", _cpu_cell(run, EMBEDDED, key, "bench process")]
        for system in (AGENTDUR_RESTATE, RESTATE_SDK):
            line += [_cpu_cell(run, system, key, part) for part in CPU_PARTS]
        line.append(_cpu_cell(run, DBOS, key, "bench process"))
        overhead = deployment_cpu_overhead(run, key)
        line.append("-" if overhead is None else f"{overhead:+.1%}")
        lines.append(line)
    return _report.render_grid(lines)


def _notes(run: CompareRun) -> list[str]:
    env = run.environment
    samples = ", ".join(fmt(s.mean_us) for s in run.raw)
    notes = [
        "columns: agentdur embedded = agentdur.Engine in this process on a fresh SQLite file per workload"
        " (WAL, synchronous=FULL), `await engine.call(...)`, no HTTP;"
        " agentdur on Restate = the same agentdur app served by agentdur.restate.restate_app(app) (hypercorn, HTTP/2) in a"
        " child process, registered with one restate-server, invoked through its ingress;"
        " restate-sdk = the same handlers hand-written on restate-sdk (ctx.run_typed, ctx.get/set), another"
        " child process on the same restate-server, the same client;"
        f" DBOS/SQLite = DBOS {env.get('dbos', '?')} workflows with @DBOS.step() steps in this process on a"
        f" fresh SQLite system database per workload (journal_mode={run.dbos_journal_mode}, synchronous=FULL"
        " (SQLite's default; DBOS leaves it));"
        " raw SQLite = one-row commits on a fresh WAL file, synchronous=FULL: the cost of one durable write"
        " (µs/commit), or one commit per unit as a rate (commits/s) in the throughput rows.",
        f"raw SQLite: {sum(s.commits for s in run.raw):,} commits sampled before every workload and after"
        f" the last: {samples} µs/commit.",
        f"Restate: restate-server {env.get('restate_server', '?')} (single node, default configuration: its"
        f" log fsyncs before acknowledging), restate-sdk {env.get('restate_sdk', '?')}; the client is one"
        f" httpx {env.get('httpx', '?')} AsyncClient speaking HTTP/2 on one connection to the ingress, the"
        " same for both Restate columns. Within a workload the systems take turns in slices (forward, then"
        " backward), so a noisy neighbour hits all columns alike.",
        f"chat: {CHAT_KEYS} keys at once, each sending its {run.budget.chat_messages_per_key} messages one"
        " after the other (each: read the history from state, one no-op step for the model, write the"
        f" history); messages/s over those messages, after one warm-up message on {CHAT_KEYS} other keys.",
        f"{DBOS_CHAT_MARK.strip()} DBOS has no virtual objects: message i of key k is the workflow k-i; it"
        " reads the history event of workflow k-(i-1) (DBOS.get_event), runs the step and publishes the new"
        " history as its own event (DBOS.set_event). Ordering per key comes from the client, as for all"
        " columns.",
        "concurrent: 20 invocations kept in flight; sequential rows: one invocation at a time;"
        " embedded and DBOS are called in-process, the Restate columns over HTTP through restate-server"
        " (its CPU, the deployment's and the client's are split in the CPU table; on 2 CPUs they compete).",
    ]
    for system, reason in run.unavailable.items():
        notes.append(f"n/a: {LABELS[system]} not measured: {reason}")
    load = env.get("loadavg_1min_at_start")
    if isinstance(load, float) and load >= 0.8:
        notes.append(
            f"warning: the 1-minute load average was {load:.2f} at the start: other processes share this"
            " machine's CPUs and disk, the figures are noisy."
        )
    return notes


def render_compare_report(run: CompareRun) -> str:
    env = run.environment
    title = (
        f"agentdur vs Restate vs DBOS, same workloads, one run{' (--quick: rough figures)' if run.quick else ''}"
        f" - Python {env.get('python')}, SQLite {env.get('sqlite')}, {env.get('cpus')} CPUs"
    )
    return "\n".join([title, "", *render_table(run), "", *render_cpu_table(run), "", *_notes(run)])


# ---------------------------------------------------------------- JSON


def compare_json(run: CompareRun) -> dict[str, Any]:
    units = {key: unit for key, _, unit in rows(run)}
    systems: dict[str, Any] = {}
    for system in SYSTEMS:
        column = system_column(run, system)
        entry: dict[str, Any] = {"label": LABELS[system], "available": system not in run.unavailable}
        if system in run.unavailable:
            entry["reason"] = run.unavailable[system]
        entry["figures"] = dict(column.values)
        entry["cpu_us_per_unit"] = {row: m.cpu_us_per_unit() for row, m in run.cells[system].items()}
        entry["runs"] = {row: _detail(m.result) for row, m in run.cells[system].items()}
        systems[system] = entry
    results = {}
    for row in TARGET_ROWS:
        v = verdicts(run, row)
        results[row] = {
            "adapter_overhead": v.adapter_overhead,
            "adapter_pass": v.adapter_pass,
            "embedded_margin": v.embedded_margin,
            "embedded_best_other": v.embedded_best_other,
            "embedded_leads": v.embedded_pass,
            "adapter_deployment_cpu_overhead": deployment_cpu_overhead(run, row),
        }
    checks = [r[k] for r in results.values() for k in ("adapter_pass", "embedded_leads") if r[k] is not None]
    return {
        "benchmark": "compare",
        "quick": run.quick,
        "units": units,
        "systems": systems,
        "raw_sqlite": {
            "label": RAW_LABEL,
            "commit_us": run.raw_commit_us,
            "commits": sum(s.commits for s in run.raw),
            "commit_us_samples": [s.mean_us for s in run.raw],
            "figures": raw_column(run).values,
        },
        "dbos_journal_mode": run.dbos_journal_mode,
        "chat": {"keys": CHAT_KEYS, "messages_per_key": run.budget.chat_messages_per_key},
        "targets": {
            "adapter_max_overhead": ADAPTER_MAX_OVERHEAD,
            "results": results,
            "all_pass": all(checks) if checks else None,
        },
        "environment": run.environment,
    }


def _detail(result: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(result).items() if isinstance(v, int | float) or v is None}
