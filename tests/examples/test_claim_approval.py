"""examples/claim_approval over HTTP: the README's flows (paid at once, approved, rejected) and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from agentdur.testing import ScriptedModelServer

from ..harness import ROOT, EngineUnderTest, wait_for
from ._served import example_fixture

STEPS = ["Parse claim", "Assess claim", "Convert currency", "Process payment"]
LARGE_CLAIM = "Medical claim: hospital bill of 2024-10-01 for 3000 EUR for a broken leg at General Hospital."

served = example_fixture("claim_approval")


def journal_names(served: EngineUnderTest, invocation_id: str) -> list[str]:
    info = served.client.get(f"{served.admin_url}/invocations/{invocation_id}").json()
    return [e["name"] for e in info["journal"] if e["kind"] == "run"]


def payments(ledger: Path, claim_id: str) -> list[str]:
    lines = ledger.read_text().splitlines() if ledger.exists() else []
    return [line for line in lines if f" {claim_id} " in line]


def model_requests_mentioning(server: ScriptedModelServer, text: str) -> int:
    return sum(1 for r in server.model_requests() if any(text in m.content for m in r.messages))


def pending_approval(served: EngineUnderTest, invocation_id: str) -> dict[str, Any]:
    def found() -> list[dict[str, Any]]:
        awakeables = served.client.get(f"{served.admin_url}/awakeables").json()["awakeables"]
        return [a for a in awakeables if a["invocation_id"] == invocation_id]

    approvals: list[dict[str, Any]] = wait_for(found, what="the claim in the approvals inbox")
    return approvals[0]


def cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "agentdur", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_small_claim_is_paid_at_once(served: EngineUnderTest, ledger: Path) -> None:
    response = served.post(
        "/ClaimReimbursement/process", {"message": "Dental claim: filling on 2024-11-03, 250 USD."}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "paid" and result["approved_by"] is None
    assert result["claim"] | {"description": ""} == {
        "amount": 250.0,
        "currency": "USD",
        "category": "dental",
        "date": "2024-11-03",
        "description": "",
    }
    assert result["amount_usd"] == 250.0
    assert payments(ledger, result["claim_id"]) == [
        f"{result['confirmation']} {result['claim_id']} 250.00 USD"
    ]
    assert journal_names(served, response.headers["x-restate-id"]) == STEPS


def test_a_large_claim_waits_for_approval_then_is_paid(
    served: EngineUnderTest, example_model_server: ScriptedModelServer, ledger: Path
) -> None:
    invocation_id = served.send("/ClaimReimbursement/process", {"message": LARGE_CLAIM})
    approval = pending_approval(served, invocation_id)
    assert approval["description"].startswith("pay 3000.00 EUR for medical claim claim-")
    waiting = served.client.get(f"{served.ingress_url}/restate/invocation/{invocation_id}/output")
    assert waiting.status_code == 470  # not finished: it waits for a human
    # The notify hook logged the exact URL that resolves this approval.
    log = (served.workdir / "embedded-process.log").read_text()
    assert f"/restate/awakeables/{approval['id']}/resolve" in log

    resolved = served.resolve(approval["id"], {"approved": True, "by": "alice"})
    assert resolved.status_code == 202, resolved.text
    result = served.attach(invocation_id).json()
    assert result["status"] == "paid" and result["approved_by"] == "alice"
    assert result["claim"]["amount"] == 3000.0 and result["claim"]["currency"] == "EUR"
    assert result["amount_usd"] == 3240.0  # 3000 EUR at the stand-in's fixed rate
    assert len(payments(ledger, result["claim_id"])) == 1
    assert model_requests_mentioning(example_model_server, "broken leg") == 2  # parse, assess: once each
    names = journal_names(served, invocation_id)
    assert [n for n in names if n in STEPS] == STEPS and "Notify approver (1)" in names


def test_a_rejected_claim_is_not_paid_and_the_cli_sees_the_inbox(
    served: EngineUnderTest, ledger: Path
) -> None:
    invocation_id = served.send(
        "/ClaimReimbursement/process", {"message": "Property claim: storm damage on 2024-09-14, 5000 GBP."}
    )
    approval = pending_approval(served, invocation_id)
    inbox = cli("approvals", "--admin-url", served.admin_url)
    assert approval["id"] in inbox and "ClaimReimbursement/process" in inbox and "5000.00 GBP" in inbox

    assert cli(
        "reject", approval["id"], "no photos of the damage", "--ingress-url", served.ingress_url
    ).startswith("rejected")
    result = served.attach(invocation_id).json()
    assert result["status"] == "rejected" and result["review_comment"] == "no photos of the damage"
    assert result["amount_usd"] is None and result["approved_by"] is None
    assert payments(ledger, result["claim_id"]) == []
    assert "Process payment" not in journal_names(served, invocation_id)
