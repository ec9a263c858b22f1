"""What the notebooks show: an invocation's journal as a table and as a timeline, a request log.

Plain HTML and SVG, no plotting library: the notebooks run offline in the test suite.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from IPython.display import HTML

from agentdur.testing import RecordedRequest

BAR_HEIGHT = 22
LABEL_WIDTH = 230
CHART_WIDTH = 560
COLOURS = {"run": "#4c78a8", "sleep": "#f58518", "awakeable": "#e45756", "call": "#54a24b"}


def invocation(admin_url: str, invocation_id: str) -> dict[str, Any]:
    """An invocation with its journal, from the admin API (``GET /invocations/{id}``)."""
    response = httpx.get(f"{admin_url}/invocations/{invocation_id}", timeout=30)
    response.raise_for_status()
    return dict(response.json())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> HTML:
    """Rows under headers, as an HTML table."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(_text(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def journal_table(info: dict[str, Any]) -> HTML:
    """The journal of an invocation: one row per entry, with its status, duration and value."""
    rows = [
        (e["index"], e["kind"], e["name"], e["status"], _duration(e.get("duration")), e.get("value"))
        for e in info["journal"]
    ]
    return table(("#", "kind", "name", "status", "duration", "value"), rows)


def timeline(info: dict[str, Any]) -> HTML:
    """The journal as a Gantt chart: one bar per entry, from its start to its completion."""
    entries = info["journal"]
    if not entries:
        return HTML("<p>no journal entries</p>")
    starts = [_seconds(e["started_at"]) for e in entries]
    ends = [
        _seconds(e["completed_at"]) if e.get("completed_at") else start
        for e, start in zip(entries, starts, strict=True)
    ]
    origin, span = min(starts), max(max(ends) - min(starts), 1e-3)
    scale = CHART_WIDTH / span
    height = BAR_HEIGHT * len(entries) + 30
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{LABEL_WIDTH + CHART_WIDTH + 80}' height='{height}'>"
    ]
    for row, (entry, start, end) in enumerate(zip(entries, starts, ends, strict=True)):
        y = row * BAR_HEIGHT + 4
        x = LABEL_WIDTH + (start - origin) * scale
        width = max((end - start) * scale, 2)
        colour = COLOURS.get(entry["kind"], "#72b7b2")
        label = html.escape(f"{entry['index']}. {entry['kind']} {entry['name']}"[:34])
        parts.append(f"<text x='0' y='{y + 15}' font-size='12' font-family='monospace'>{label}</text>")
        parts.append(
            f"<rect x='{x:.1f}' y='{y}' width='{width:.1f}' height='{BAR_HEIGHT - 6}' fill='{colour}'/>"
        )
        parts.append(
            f"<text x='{x + width + 4:.1f}' y='{y + 15}' font-size='11'>{_duration(end - start)}</text>"
        )
    axis_y = height - 8
    parts.append(
        f"<text x='{LABEL_WIDTH}' y='{axis_y}' font-size='11'>0 s</text>"
        f"<text x='{LABEL_WIDTH + CHART_WIDTH - 30}' y='{axis_y}' font-size='11'>{span:.2f} s</text></svg>"
    )
    return HTML("".join(parts))


def requests_table(requests: Sequence[RecordedRequest]) -> HTML:
    """The scripted model server's request log: what was asked, and what answered."""
    rows = [
        (n, r.path, r.model, r.status or ("dropped" if r.dropped else "-"), r.answered_by, _last_message(r))
        for n, r in enumerate(requests, start=1)
        if r.api not in ("models", "unknown")
    ]
    return table(("#", "path", "model", "status", "answered by", "last message"), rows)


def _last_message(record: RecordedRequest) -> str:
    if record.request is None or not record.request.messages:
        return ""
    message = record.request.messages[-1]
    return f"{message.role}: {message.content or ''}"[:60]


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
