"""Reading an invocation's journal and status over each engine's admin API."""

from __future__ import annotations

import json
from typing import Any

from ..harness import EngineUnderTest


def journal(engine: EngineUnderTest, invocation_id: str) -> list[tuple[str, str]]:
    """The (kind, name) of every journal entry, in journal order."""
    if engine.name == "embedded":
        body = engine.client.get(f"{engine.admin_url}/invocations/{invocation_id}").json()
        return [(e["kind"], e["name"]) for e in body["journal"]]
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={
            "query": f"SELECT index, entry_type, name FROM sys_journal WHERE id = '{invocation_id}' ORDER BY index"
        },
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return [(str(row["entry_type"]), str(row.get("name") or "")) for row in rows]


def journaled(engine: EngineUnderTest, invocation_id: str, step: str) -> bool:
    """True once step ``step``'s result is in the journal (a finished body may not be journaled yet)."""
    if engine.name == "embedded":
        body = engine.client.get(f"{engine.admin_url}/invocations/{invocation_id}").json()
        return any(e["name"] == step and e["status"] == "completed" for e in body["journal"])
    # Restate journals a run's result as a separate notification carrying the command's completion id
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={
            "query": f"SELECT entry_lite_json FROM sys_journal WHERE id = '{invocation_id}' ORDER BY index"
        },
        headers={"accept": "application/json"},
    )
    entries = [json.loads(row["entry_lite_json"]) for row in response.json()["rows"]]
    ids = {
        e["Command"]["Run"]["completion_id"]
        for e in entries
        if e.get("Command", {}).get("Run", {}).get("name") == step
    }
    done = {e["Notification"]["id"].get("CompletionId") for e in entries if "Notification" in e}
    return bool(ids & done)


def status(engine: EngineUnderTest, invocation_id: str) -> str:
    if engine.name == "embedded":
        return str(engine.client.get(f"{engine.admin_url}/invocations/{invocation_id}").json()["status"])
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={"query": f"SELECT status FROM sys_invocation WHERE id = '{invocation_id}'"},
        headers={"accept": "application/json"},
    )
    rows = response.json()["rows"]
    return str(rows[0]["status"]) if rows else "unknown"
