"""The Quickstart demo: ``python -m examples.demo`` (``./dev demo``), from the repository root.

An insurance-claim agent (``examples/claim_approval``) runs under ``agentdur serve`` in a child
process on a SQLite file; its model calls go through LiteLLM to the scripted model server this
process starts (no API key, no network). The demo

1. sends a claim; once both LLM steps are journaled and the agent waits for a human, SIGKILLs it;
2. starts the server again on the same file: the invocation resumes by replay;
3. approves the claim over HTTP (the awakeable found in the approvals inbox): it is paid;
4. talks to the chat sessions (``examples/chat``) as two users, each with their own history;
5. prints the claim's journal,

and checks from the model server's request log, the payment ledger and the journal that no model
call was repeated and nothing was paid twice. Exit status 0 when every check holds, 1 otherwise.

It runs in a temporary directory, removed at the end; ``--workdir DIR`` runs it in ``DIR`` instead
and keeps the SQLite file, the server logs, the ledger and the model server's request log there
(their names are in ``examples/demo/__init__.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from agentdur.testing import ModelRequest, RecordedRequest, ScriptedModelServer

from ..claim_approval.models import ClaimAssessment, ClaimData, ClaimResult
from ..claim_approval.steps import LEDGER_ENV
from . import DB_FILE, LEDGER_FILE, REQUEST_LOG_FILE
from ._server import REPO_ROOT, DemoError, ServerProcess, wait_until

CLAIM_TEXT = "Medical claim: hospital bill of 2024-10-01 for 3000 EUR for a broken leg at General Hospital."
LLM_STEPS = ["Parse claim", "Assess claim"]
CONVERSATION = [
    ("alice", "My name is Alice."),
    ("bob", "I am Bob and I like tea."),
    ("alice", "What is my name?"),
    ("bob", "What do I like?"),
]
START_WITHIN = 60.0  # importing litellm takes seconds on a busy machine
STEP_WITHIN = 30.0
# Variables that would send the child's model calls elsewhere or lock its HTTP API.
STRIPPED_ENV = (
    "OPENAI_API_KEY",
    "AGENTDUR_TOKEN",
    "AGENTDUR_MODEL",
    "AGENTDUR_REAL_MODELS",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
)


def is_claim_request(request: ModelRequest) -> bool:
    """The claim pipeline asks for structured output (a JSON schema); the chat does not."""
    return request.output_schema is not None


def chat_reply(request: ModelRequest) -> str | None:
    """The scripted model's chat answers, built from the history it is sent (None: the default policy,
    which fills the claim pipeline's JSON schemas from the claim's text)."""
    if is_claim_request(request):
        return None
    earlier = [m.content for m in request.messages if m.role == "user"][:-1]
    return "Earlier you said: " + "; ".join(f'"{m}"' for m in earlier) if earlier else "Nice to meet you!"


class Demo:
    """One run: a model server, a server process, an HTTP client, and the checks that failed."""

    def __init__(self, workdir: Path, model: ScriptedModelServer) -> None:
        self.model = model
        self.ledger = workdir / LEDGER_FILE
        env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
        env.update(
            OPENAI_BASE_URL=model.openai_base_url,
            LITELLM_LOCAL_MODEL_COST_MAP="True",
            PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
            **{LEDGER_ENV: str(self.ledger)},
        )
        self.server = ServerProcess("examples.demo.app:app", workdir / DB_FILE, env, workdir)
        self.http = httpx.Client(timeout=STEP_WITHIN)
        self.problems: list[str] = []
        self.requests_before = 0
        self.claim_before: ClaimData | None = None

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    # -- HTTP ------------------------------------------------------------------------------

    def ingress(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, self.server.ingress_url + path, json=body)
        if response.status_code >= 300:
            raise DemoError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json()

    def admin(self, path: str) -> Any:
        response = self.http.get(self.server.admin_url + path)
        if response.status_code != 200:
            raise DemoError(f"GET {path} (admin) answered {response.status_code}: {response.text}")
        return response.json()

    def claim_requests(self) -> list[ModelRequest]:
        return [r for r in self.model.model_requests() if is_claim_request(r)]

    # -- the steps -------------------------------------------------------------------------

    def crash(self) -> str:
        """Step 1: send the claim, SIGKILL the server once the LLM steps are journaled."""
        self.server.start(START_WITHIN)
        pid = self.server.pid
        inv_id = str(
            self.ingress("POST", "/ClaimReimbursement/process/send", {"message": CLAIM_TEXT})["invocationId"]
        )

        def waiting_for_approval() -> list[dict[str, Any]] | None:
            info = self.admin(f"/invocations/{inv_id}")
            if info["status"] in ("completed", "paused"):
                failure = info["failure"] or info["last_error"]
                raise DemoError(f"the claim is {info['status']} before reaching the approval: {failure}")
            done = {e["name"] for e in info["journal"] if e["kind"] == "run" and e["status"] == "completed"}
            notified = any(name.startswith("Notify approver") for name in done)
            journal: list[dict[str, Any]] = info["journal"]
            return journal if notified and set(LLM_STEPS) <= done else None

        journal = wait_until(waiting_for_approval, STEP_WITHIN, "the claim did not reach the approval")
        requests_before = len(self.claim_requests())
        self.server.kill()
        print(f"1. Server pid {pid} took the claim (POST /ClaimReimbursement/process/send, {inv_id}):")
        answers = {
            e["name"]: e["value"]["choices"][0]["message"]["content"]
            for e in journal
            if e["name"] in LLM_STEPS
        }
        claim = ClaimData.model_validate_json(answers["Parse claim"])
        assessment = ClaimAssessment.model_validate_json(answers["Assess claim"])
        print(
            f"     Parse claim  (LLM) -> {claim.amount:.2f} {claim.currency}, {claim.category}, {claim.date}"
        )
        print(
            f"     Assess claim (LLM) -> valid: {assessment.valid}, approved amount: {assessment.approved_amount:.2f}"
        )
        awakeable = next(e for e in journal if e["kind"] == "awakeable")
        print(f"     over the threshold: waits for a human to approve {awakeable['name']!r}")
        print(f"   {requests_before} model requests so far. SIGKILL while it waits.")
        self.check(requests_before == len(LLM_STEPS), f"{requests_before} model requests before the crash")
        self.requests_before, self.claim_before = requests_before, claim
        return inv_id

    def restart_and_approve(self, inv_id: str) -> None:
        """Steps 2-3: restart on the same file, find the approval in the inbox, resolve it over HTTP."""
        started = time.monotonic()
        self.server.start(START_WITHIN)
        print(
            f"2. Restarted the server on the same file (pid {self.server.pid}, up in {time.monotonic() - started:.1f} s)."
        )

        def pending() -> dict[str, Any] | None:
            found = [a for a in self.admin("/awakeables")["awakeables"] if a["invocation_id"] == inv_id]
            return found[0] if found else None

        approval = wait_until(pending, STEP_WITHIN, "the approval is not in the inbox after the restart")
        print(f"   Approvals inbox (GET /awakeables): {approval['id'][:20]}... {approval['description']!r}")
        notices = [line for n in (1, 2) for line in self.server.log_lines(n) if "approval needed:" in line]
        if notices:
            print(f"   notify hook logged: ...{notices[0].split('-> ', 1)[-1][:78]}...")
        self.check(len(notices) == 1, f"the approver was notified {len(notices)} times")

        answer = self.ingress(
            "POST", f"/restate/awakeables/{approval['id']}/resolve", {"approved": True, "by": "demo"}
        )
        print(
            f'3. POST /restate/awakeables/{approval["id"][:12]}.../resolve {{"approved": true}} -> {answer["status"]}'
        )
        result = ClaimResult.model_validate(self.ingress("GET", f"/restate/invocation/{inv_id}/attach"))
        print(
            f"   result: {result.status} {result.amount_usd or 0:.2f} USD ({result.confirmation}), approved by {result.approved_by}"
        )

        after = len(self.claim_requests()) - self.requests_before
        payments = self.ledger.read_text().splitlines() if self.ledger.exists() else []
        print(f"   model requests after the restart: {after}; payments in the ledger: {len(payments)}")
        self.check(result.status == "paid", f"the claim ended {result.status}")
        self.check(after == 0, f"{after} model requests were sent again after the restart")
        self.check(
            len(payments) == 1
            and bool(result.confirmation)
            and payments[0].startswith(str(result.confirmation)),
            f"payments in the ledger: {payments}",
        )

    def chat(self) -> None:
        """Step 4: two users, two sessions, each with its own durable history."""
        print(
            "4. Chat sessions keyed by user (POST /Chat/{user}/message; the scripted model answers from the history):"
        )
        for user, text in CONVERSATION:
            reply = self.ingress("POST", f"/Chat/{user}/message", {"message": text})
            print(f"     {user + '>':<6} {text:<26} <- {reply['reply']!r} (turns: {reply['turns']})")
        summary = []
        for user in sorted({u for u, _ in CONVERSATION}):
            history = self.ingress("GET", f"/Chat/{user}/get_history")
            said = [t["content"] for t in history if t["role"] == "user"]
            expected = [text for u, text in CONVERSATION if u == user]
            self.check(said == expected, f"{user}'s history holds {said}, expected {expected}")
            summary.append(f"{user} {len(history)} turns")
        print(
            f"   histories (GET /Chat/{{user}}/get_history): {', '.join(summary)}, none holds the other's messages"
        )

    def journal(self, inv_id: str) -> None:
        """Step 5: the claim's journal, and the checks on it."""
        info = self.admin(f"/invocations/{inv_id}")
        print(f"5. Journal of {inv_id} (GET /invocations/{{id}}, admin API): {info['status']}")
        for e in info["journal"]:
            print(f"     #{e['index']:<2} {e['kind']:<11}{clip(e['name'], 44):<45} {e['status']}")
        names = [e["name"] for e in info["journal"]]
        for step in LLM_STEPS + ["Convert currency", "Process payment"]:
            self.check(names.count(step) == 1, f"{step!r} is journaled {names.count(step)} times")
        bodies = [json.dumps(r.body, sort_keys=True) for r in self.model.model_requests()]
        self.check(len(bodies) == len(set(bodies)), "a model request was sent twice")
        self.check(info["status"] == "completed", f"the claim invocation is {info['status']}")
        final = ClaimData.model_validate(info["result"]["claim"])
        self.check(final == self.claim_before, f"the claim parsed before the crash changed: {final}")


def request_log_line(record: RecordedRequest) -> str:
    """One request the model server received, as a JSON line: when, where, what it answered, the body."""
    body = None if record.request is None else record.request.body
    return json.dumps(
        {
            "timestamp": record.timestamp,
            "api": record.api,
            "path": record.path,
            "status": record.status,
            "body": body,
        }
    )


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def run(workdir: Path, where: str = "a temp dir") -> list[str]:
    """Run the demo in ``workdir``, named ``where`` in the output; returns the violated invariants (none: ok)."""
    started = time.monotonic()
    print("agentdur demo: a claim agent is killed with SIGKILL while it waits for a human, and resumes")
    print(
        f"(embedded engine on a SQLite file in {where}; the scripted model server; no API key, no network)\n"
    )
    with ScriptedModelServer() as model:
        model.script.respond_with(chat_reply)
        demo = Demo(workdir, model)
        try:
            inv_id = demo.crash()
            demo.restart_and_approve(inv_id)
            demo.chat()
            demo.journal(inv_id)
        except Exception:
            if demo.server.process is not None:
                print(f"server log (last lines):\n{demo.server.log_tail()}")
            raise
        finally:
            demo.server.stop()
            demo.http.close()
            lines = [request_log_line(record) for record in model.requests]
            (workdir / REQUEST_LOG_FILE).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print()
    if demo.problems:
        print("FAILED: " + "; ".join(demo.problems))
    else:
        print(
            f"OK: {len(LLM_STEPS)} LLM calls made once and replayed after the SIGKILL, 1 payment, "
            f"the approval survived the restart ({time.monotonic() - started:.1f} s)"
        )
    return demo.problems


def run_reporting(workdir: Path, where: str) -> int:
    """Run the demo in ``workdir``; the exit status (1 when a check failed or the demo could not run)."""
    try:
        return 1 if run(workdir, where) else 0
    except DemoError as error:
        print(f"FAILED: {error}")
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        help="run in this directory (missing or empty) and keep the files the demo leaves there",
    )
    workdir: Path | None = parser.parse_args(argv).workdir
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="agentdur-demo-") as tmp:
            return run_reporting(Path(tmp), "a temp dir")
    if workdir.exists() and any(workdir.iterdir()):
        parser.error(f"--workdir {workdir} is not empty")
    workdir.mkdir(parents=True, exist_ok=True)
    return run_reporting(workdir, str(workdir))


if __name__ == "__main__":
    sys.exit(main())
