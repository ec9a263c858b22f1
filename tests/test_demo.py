"""The Quickstart demo: `python -m examples.demo` survives a SIGKILL without repeating a model call or a payment.

The demo checks itself, but this test does not take its word: it runs the demo with ``--workdir`` and
checks what the run left there, the model server's request log, the payments ledger, the SQLite
file and the two server processes' logs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from examples.demo import DB_FILE, LEDGER_FILE, REQUEST_LOG_FILE, SERVER_LOG_FILE

REPO_ROOT = Path(__file__).resolve().parents[1]
CLAIM_STEPS = ["Parse claim", "Assess claim", "Notify approver (1)", "Convert currency", "Process payment"]
CHATS = {
    "alice": (["My name is Alice.", "What is my name?"], 'Earlier you said: "My name is Alice."'),
    "bob": (["I am Bob and I like tea.", "What do I like?"], 'Earlier you said: "I am Bob and I like tea."'),
}


def test_the_demo_resumes_the_claim_without_repeating_model_calls_or_payments(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--workdir", str(workdir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{proc.stderr}"
    assert "FAILED" not in out
    assert len(out.splitlines()) <= 45, out
    assert out.rstrip().splitlines()[-1].startswith("OK: 2 LLM calls made once")

    db = sqlite3.connect(f"file:{workdir / DB_FILE}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        claim, journal = claim_invocation(db)
        histories: dict[str, list[dict[str, str]]] = {}
        for row in db.execute(CHAT_HISTORIES):  # a state list: one row per item, oldest first
            histories.setdefault(row["obj_key"], []).append(json.loads(row["value"]))
    finally:
        db.close()
    requests = [json.loads(line) for line in (workdir / REQUEST_LOG_FILE).read_text().splitlines()]
    ledger = (workdir / LEDGER_FILE).read_text().splitlines()
    first, second = (server_log(workdir, start) for start in (1, 2))

    check_the_restart(first, second)
    check_the_claim(claim, journal, ledger)
    check_the_model_requests(requests, journal)
    check_the_approval(journal, first, second)
    check_the_chats(histories)


CHAT_HISTORIES = (
    "SELECT obj_key, value FROM state_items WHERE service='Chat' AND name='history' AND removed_v IS NULL"
    " ORDER BY obj_key, seq"
)


def claim_invocation(db: sqlite3.Connection) -> tuple[sqlite3.Row, list[sqlite3.Row]]:
    """The one claim invocation and its journal, in order."""
    claims = db.execute("SELECT * FROM invocations WHERE service='ClaimReimbursement'").fetchall()
    assert len(claims) == 1, [dict(row) for row in claims]
    journal = db.execute(
        "SELECT * FROM journal WHERE invocation_id=? ORDER BY idx", (claims[0]["id"],)
    ).fetchall()
    return claims[0], journal


def server_log(workdir: Path, start: int) -> str:
    return (workdir / SERVER_LOG_FILE.format(start=start)).read_text()


def check_the_restart(first: str, second: str) -> None:
    """Two server processes: the first was killed (no shutdown), the second recovered the claim."""
    pids = [re.findall(r"Started server process \[(\d+)\]", log) for log in (first, second)]
    assert pids[0] and pids[1] and set(pids[0]).isdisjoint(pids[1]), pids
    assert "shutting down" not in first, "the first server was stopped, not killed"
    assert "recovered 1 unfinished invocations" in second, second


def check_the_claim(claim: sqlite3.Row, journal: list[sqlite3.Row], ledger: list[str]) -> None:
    """The claim was paid once, as the ledger shows; each of its steps was journaled once, in order."""
    assert claim["status"] == "completed", dict(claim)
    result: dict[str, Any] = json.loads(claim["output"])
    assert result["status"] == "paid" and result["amount_usd"] == 3240.0 and result["approved_by"] == "demo"
    parsed = result["claim"]
    assert (parsed["amount"], parsed["currency"], parsed["category"], parsed["date"]) == (
        3000.0,
        "EUR",
        "medical",
        "2024-10-01",
    )
    assert ledger == [f"{result['confirmation']} {result['claim_id']} 3240.00 USD"]
    assert [row["idx"] for row in journal] == list(range(len(journal)))
    runs = [(row["name"], row["status"]) for row in journal if row["kind"] == "run"]
    assert runs == [(name, "completed") for name in CLAIM_STEPS]


def check_the_model_requests(requests: list[dict[str, Any]], journal: list[sqlite3.Row]) -> None:
    """Two LLM requests for the claim, both before it waited for the human; one per chat message; none twice."""
    calls = [r for r in requests if r["body"] is not None]
    bodies = [json.dumps(r["body"], sort_keys=True) for r in calls]
    assert len(bodies) == len(set(bodies)), "a model request was sent twice"
    claim_calls = [r for r in calls if "response_format" in r["body"]]  # the pipeline asks for JSON
    assert len(claim_calls) == 2, claim_calls
    assert len(calls) - len(claim_calls) == sum(len(said) for said, _ in CHATS.values())
    journaled = {row["name"]: row["created_at"] for row in journal}
    # Each answer was journaled after its request; both before the claim waited for the approver.
    assert claim_calls[0]["timestamp"] < journaled["Parse claim"] < claim_calls[1]["timestamp"]
    assert claim_calls[1]["timestamp"] < journaled["Assess claim"] < journaled["Notify approver (1)"]


def check_the_approval(journal: list[sqlite3.Row], first: str, second: str) -> None:
    """The approver was notified once (by the first server); the restarted one got the resolve over HTTP."""
    awakeables = [row for row in journal if row["kind"] == "awakeable"]
    assert len(awakeables) == 1 and awakeables[0]["status"] == "completed"
    target = awakeables[0]["target"]
    assert target.startswith("prom_")
    assert [line for line in first.splitlines() if "approval needed:" in line and target in line]
    assert "approval needed:" not in second
    assert f"POST /restate/awakeables/{target}/resolve HTTP/1.1" in second, second


def check_the_chats(histories: dict[str, list[dict[str, str]]]) -> None:
    """Each user's history holds their own messages only, and the model answered from it."""
    assert histories.keys() == CHATS.keys()
    for user, (said, last_reply) in CHATS.items():
        history = histories[user]
        assert [turn["content"] for turn in history if turn["role"] == "user"] == said, history
        assert len(history) == 4 and history[-1] == {"role": "assistant", "content": last_reply}, history
