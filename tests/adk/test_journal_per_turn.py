"""What one chat turn through ``DurableSessionService`` journals, on both engines, as the history grows.

Turns on one user and session (the ``Chat`` object of ``app.py``: 40 one by one, then turn 500 after
the session is grown to 499 turns' events in one call); for some turns the test measures
the journal bytes of that turn's invocation and the JSON of the events the turn added to the session
(the user's message and the model's response, as ADK dumps them, without ``None`` fields). On the
embedded engine the bytes are what the invocation's journal rows in the SQLite file hold: each
entry's name, value and failure (the fixed columns, its kind, status and times, are left out); on
Restate, the size restate-server gives each journal entry of the invocation
(``sys_journal.raw_length``), where what must stay proportional is the turn's state writes:
restate-server journals the values read, and ADK's Runner reads the whole session each turn. On both
engines, what is neither a state read nor the request stays flat from the first turn to the last.

A SIGKILL of the process running the handlers in the middle of a turn leaves the session with every
event once, and no model request is sent twice.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from agentdur.testing import ScriptedModelServer

from ..harness import EngineUnderTest, wait_for
from .test_both_engines import LLM_CALL, conversations, journaled

# Turns run one by one (measured at 1, 20 and the last), then the session grows to what LONG_TURN - 1
# turns leave (two events a turn, in one call: 500 turns one by one take minutes on a busy machine)
# and turn LONG_TURN is measured.
TURNS = 40
LONG_TURN = 500
RATIO = 1.5

# Entry kinds: state reads (restate-server journals the values read) and state writes.
READS = {
    "embedded": ("get_state", "state_keys", "list_items", "list_length"),
    "restate": ("GetEagerState", "GetLazyState", "GetEagerStateKeys", "GetLazyStateKeys"),
}
WRITES = {
    "embedded": ("set_state", "clear_state", "clear_all_state", "list_append", "list_pop", "list_keep_last"),
    "restate": ("SetState", "ClearState", "ClearAllState"),
}


@dataclass
class Turn:
    """One measured turn: its journal bytes (all of them, its state reads, its state writes, its
    request entry) and the bytes of the events it added."""

    number: int
    journal: int
    reads: int
    writes: int
    request: int
    added: int

    @property
    def not_read(self) -> int:
        """The journal bytes of everything but state reads and the request."""
        return self.journal - self.reads - self.request


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def journal_entries(engine: EngineUnderTest, invocation_id: str) -> list[tuple[str, int]]:
    """(kind, bytes) of each journal entry of the invocation."""
    if engine.name == "embedded":
        with sqlite3.connect(f"file:{engine.workdir / 'agentdur.db'}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT kind, length(CAST(name AS BLOB)) + coalesce(length(CAST(value AS BLOB)), 0)"
                " + coalesce(length(CAST(failure AS BLOB)), 0) FROM journal WHERE invocation_id = ?",
                (invocation_id,),
            ).fetchall()
        db.close()
        return [(str(kind), int(size)) for kind, size in rows]
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={"query": f"SELECT entry_type, raw_length FROM sys_journal WHERE id = '{invocation_id}'"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    return [(str(row["entry_type"]), int(row["raw_length"])) for row in response.json()["rows"]]


def measure(engine: EngineUnderTest, number: int, invocation_id: str, added: int) -> Turn:
    entries = journal_entries(engine, invocation_id)

    def of(kinds: tuple[str, ...]) -> int:
        return sum(size for kind, size in entries if kind.removeprefix("Command: ") in kinds)

    return Turn(
        number,
        journal=sum(size for _, size in entries),
        reads=of(READS[engine.name]),
        writes=of(WRITES[engine.name]),
        request=of(("Input",)),
        added=added,
    )


def chat_events(engine: EngineUnderTest, key: str) -> list[dict[str, Any]]:
    response = engine.client.get(f"{engine.ingress_url}/Chat/{key}/get_events")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


@pytest.mark.timeout(600)
def test_a_turn_journals_what_it_adds_not_the_history(engine: EngineUnderTest) -> None:
    key = f"journal-{uuid.uuid4().hex[:8]}"
    measured: list[Turn] = []
    for number in [*range(1, TURNS + 1), LONG_TURN]:
        if number == LONG_TURN:
            seeded = engine.post(f"/Chat/{key}/seed", 2 * (LONG_TURN - 1))
            assert seeded.status_code == 200 and seeded.json() == 2 * (LONG_TURN - 1), seeded.text
        checkpoint = number in (1, 20, TURNS, LONG_TURN)
        before = len(chat_events(engine, key)) if checkpoint else 0
        invocation = engine.send(f"/Chat/{key}/message", f"turn {number}")
        answer = engine.attach(invocation)
        assert answer.status_code == 200 and answer.json() == f"Echo: turn {number}", answer.text
        if checkpoint:
            added = chat_events(engine, key)[before:]
            assert [event["author"] for event in added] == ["user", "assistant"]
            measured.append(measure(engine, number, invocation, compact(added)))
    for turn in measured:
        print(  # the figures docs/google-adk.md quotes (pytest -s shows them)
            f"{engine.name} turn {turn.number}: journal {turn.journal} B (state reads {turn.reads} B,"
            f" state writes {turn.writes} B, request {turn.request} B) for {turn.added} B of new events"
        )
    for turn in measured:
        # restate-server journals the values read: what must be proportional there is what is written
        assert (turn.journal if engine.name == "embedded" else turn.writes) <= RATIO * turn.added, turn
    first, final = measured[0], measured[-1]
    assert final.not_read <= first.not_read * 1.2, (first, final)  # flat: no history written again

    # A runner that reads only the newest events (RunConfig.get_session_config) reads only those,
    # so on Restate too the turn's journal does not hold the history.
    before = len(chat_events(engine, key))
    invocation = engine.send(f"/Chat/{key}/message_seeing_recent", "recent turn")
    assert engine.attach(invocation).json() == "Echo: recent turn"
    recent = measure(engine, LONG_TURN + 1, invocation, compact(chat_events(engine, key)[before:]))
    print(f"{engine.name} turn {recent.number} reading 10 events: {recent}")
    assert recent.reads <= 6 * recent.added, recent  # 10 events: 5 turns' worth, and small entries
    assert recent.not_read <= first.not_read * 1.2, (first, recent)


def test_sigkill_mid_turn_neither_loses_nor_doubles_an_event(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    """Three plain turns, then a turn whose second tool holds while the process is killed."""
    run = uuid.uuid4().hex[:8]
    for number in range(3):
        said = engine.post(f"/Agents/{run}/say", f"hello {number}")
        assert said.status_code == 200 and said.json() == f"Echo: hello {number}", said.text
    earlier = engine.client.get(f"{engine.ingress_url}/Agents/{run}/events").json()
    assert len(earlier) == 6

    invocation = engine.send(f"/Agents/{run}/run", {"kind": "weather", "label": run})
    wait_for(lambda: engine.count(f"hold {run}") == 1, what="holding")
    wait_for(lambda: journaled(engine, invocation, LLM_CALL) == 2, what="two model calls journaled")
    engine.kill()
    engine.release(run)
    engine.start()
    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    assert result.json() == f"done {run}: sunny in Paris; released {run}"

    stored = engine.client.get(f"{engine.ingress_url}/Agents/{run}/events").json()
    assert stored[:6] == earlier  # the history before the turn is untouched
    turn = stored[6:]
    calls = [
        part["function_call"]["name"]
        for event in turn
        for part in event["content"]["parts"]
        if "function_call" in part
    ]
    answers = [
        part["function_response"]["name"]
        for event in turn
        for part in event["content"]["parts"]
        if "function_response" in part
    ]
    assert [event["author"] for event in turn] == ["user"] + ["weather"] * 5
    assert calls == ["get_weather", "hold"] and answers == ["get_weather", "hold"]
    assert len({event["id"] for event in stored}) == len(stored) == 12, "an event was stored twice"
    assert [event["timestamp"] for event in stored] == sorted(event["timestamp"] for event in stored)
    sent = conversations(shared_model_server, run)
    assert len(sent) == 3 and len(set(sent)) == 3, "a model request was sent twice"
    assert engine.count(f"weather {run}") == 1
