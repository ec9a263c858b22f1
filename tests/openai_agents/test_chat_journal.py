"""Journal bytes per chat turn stay proportional to what the turn adds, however long the history.

A ``DurableSession`` chat (OpenAI Agents against the scripted model server) and a
``patterns.sessions`` chat run many turns on one key. On the embedded engine the bytes a turn
journals (the values of its journal rows in the SQLite file) must stay within 1.5x the JSON of what
it adds: the new history items and the model's responses (the steps' results). On Restate,
restate-server journals every state read, so a full read still puts the history in the journal once
per turn; what must stay proportional there is what a turn *writes* (its SetState commands).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from ..harness import EngineUnderTest, engine_fixture

engine = engine_fixture("tests.openai_agents.journal_app:app", env="handler_env")

RATIO = 1.5
# On Restate a turn also writes the list's header and names each state key it writes or clears.
RESTATE_FIXED = 100
# Turns run one by one (measured at 1, 20 and the last), then, for DurableSession, the history is
# grown to what LONG_TURN turns leave (two items per turn) and turn LONG_TURN is measured. A
# chat_session keeps at most 50 items, so its history stops growing after 25 turns.
TURNS = 40
LONG_TURN = 500


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def embedded_turn(engine: EngineUnderTest, invocation_id: str) -> tuple[int, int]:
    """(bytes journaled, bytes of the model's responses) of one invocation, from the SQLite file."""
    with sqlite3.connect(f"file:{engine.workdir / 'agentdur.db'}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT kind, ifnull(value, '') || ifnull(failure, '') FROM journal WHERE invocation_id=?",
            (invocation_id,),
        ).fetchall()
    journaled = sum(len(text.encode()) for _, text in rows)
    responses = sum(len(text.encode()) for kind, text in rows if kind == "run")
    return journaled, responses


def restate_turn(engine: EngineUnderTest, invocation_id: str) -> tuple[int, int, int]:
    """(bytes of every entry, bytes of the state writes, bytes of the model's responses) of one
    invocation, as restate-server stores them (``raw_length``)."""
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={
            "query": "SELECT entry_type, raw_length, entry_json FROM sys_journal"
            f" WHERE id = '{invocation_id}'"
        },
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    total = written = responses = 0
    for row in response.json()["rows"]:
        kind, size = str(row["entry_type"]), int(row["raw_length"])
        total += size
        if kind in ("Command: SetState", "Command: ClearState", "Command: ClearAllState"):
            written += size
        elif kind == "Notification: Run":
            result = json.loads(row["entry_json"])["Notification"]["Completion"]["Run"]["result"]
            responses += len(result.get("Success", []))
    return total, written, responses


def run_turns(
    engine: EngineUnderTest, path: str, history: str, turns: int, long_turn: int | None
) -> list[dict[str, int]]:
    """Run ``turns`` turns, then grow the history to ``long_turn - 1`` turns and run turn
    ``long_turn``; measure turns 1, 20, ``turns`` and ``long_turn``: journaled and added bytes."""
    measured = []
    numbers = list(range(1, turns + 1)) + ([long_turn] if long_turn is not None else [])
    for turn in numbers:
        measure = turn in (1, 20, turns, long_turn)
        if turn == long_turn:
            seeded = engine.post(path.replace("/message", "/seed"), 2 * (long_turn - 1))
            assert seeded.status_code == 200 and seeded.json() == 2 * (long_turn - 1), seeded.text
        body = {"message": f"message number {turn}"} if "Talk" in path else f"message number {turn}"
        if not measure:
            reply = engine.post(path, body)
            assert reply.status_code == 200, reply.text
            continue
        before = engine.post(history).json()
        inv = engine.send(path, body)
        reply = engine.attach(inv)
        assert reply.status_code == 200, reply.text
        after = engine.post(history).json()
        added = after[len(before) :] if len(after) > len(before) else after[-2:]
        if engine.name == "embedded":
            journaled, responses = embedded_turn(engine, inv)
            measured.append({"turn": turn, "journaled": journaled, "adds": compact(added) + responses})
        else:
            total, written, responses = restate_turn(engine, inv)
            adds = compact(added) + responses
            measured.append({"turn": turn, "journaled": total, "written": written, "adds": adds})
    return measured


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("path", "history"),
    [("/Chat/{key}/message", "/Chat/{key}/get_history"), ("/Talk/{key}/message", "/Talk/{key}/get_history")],
    ids=["DurableSession", "patterns.sessions"],
)
def test_journal_bytes_per_turn_stay_proportional_to_what_it_adds(
    engine: EngineUnderTest, path: str, history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = f"journal-{engine.name}"
    long_turn = LONG_TURN if "Chat" in path else None
    measured = run_turns(engine, path.format(key=key), history.format(key=key), TURNS, long_turn)
    turns = long_turn or TURNS
    with capsys.disabled():
        print(f"\n{engine.name} {path}: {measured}")
    history_now = engine.post(history.format(key=key)).json()
    if "Talk" in path:  # trimmed to max_history=50 by keep_last, newest last
        assert len(history_now) == min(2 * turns, 50)
        assert history_now[-2:] == [
            {"role": "user", "content": f"message number {turns}"},
            {"role": "assistant", "content": f"you said: message number {turns}"},
        ]
    else:  # the user's input item and the model's message per turn
        assert len(history_now) == 2 * turns
        assert history_now[-2]["content"] == f"message number {turns}"
    for m in measured:
        if engine.name == "embedded":
            assert m["journaled"] <= RATIO * m["adds"], m
        else:
            assert m["written"] <= RATIO * m["adds"] + RESTATE_FIXED, m
    first, last = measured[0], measured[-1]
    if engine.name == "embedded":  # flat: the last turn journals about what the first did
        assert last["journaled"] <= RATIO * max(first["journaled"], last["adds"]), measured
    else:
        assert last["written"] <= RATIO * max(first["written"], last["adds"]), measured
