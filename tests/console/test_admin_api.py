"""The admin endpoints the console reads: invocation filters and paging, step timing and attempts, model
calls, the approvals inbox with typed resolutions, object keys; and ``/ui`` behind ``--token``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agentdur.testing import ServedApp, wait_for

from .app import FLAKY_FAILURES
from .conftest import client


def start_answer(served: ServedApp, question: str) -> str:
    with client(served) as http:
        sent = http.post(f"{served.ingress_url}/Agent/answer/send", json=question)
    assert sent.status_code == 202, sent.text
    inv_id: str = sent.json()["invocationId"]
    return inv_id


def pending_approval(served: ServedApp, inv_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        with client(served) as http:
            items = http.get(f"{served.admin_url}/awakeables").json()["awakeables"]
        return next((item for item in items if item["invocation_id"] == inv_id), None)

    found: dict[str, Any] = wait_for(find, within=30, what="the approval to be pending")
    return found


def test_journal_has_timing_attempts_and_the_model_call(served: ServedApp) -> None:
    inv_id = start_answer(served, "What is durable execution?")
    pending_approval(served, inv_id)
    with client(served) as http:
        info = http.get(f"{served.admin_url}/invocations/{inv_id}").json()
    steps = {entry["name"]: entry for entry in info["journal"]}

    model = steps["LLM call: openai/gpt-4o"]["model_call"]
    assert model["model"] and "gpt-4o" in model["model"]
    assert model["input_tokens"] > 0 and model["output_tokens"] > 0
    assert model["text"]
    assert steps["Tool: lookup"]["model_call"] is None

    draft = steps["Draft email"]
    assert draft["attempts"] == FLAKY_FAILURES + 1
    failed = draft["failed_attempts"]
    assert [a["error"] for a in failed] == [
        f"ConnectionError: the mail server hung up (attempt {n})" for n in range(1, FLAKY_FAILURES + 1)
    ]
    # The attempts follow each other, and the step's own span covers all of them.
    started = [datetime.fromisoformat(a["started_at"]) for a in failed]
    assert started == sorted(started)
    assert datetime.fromisoformat(failed[-1]["completed_at"]) <= datetime.fromisoformat(draft["completed_at"])
    assert datetime.fromisoformat(draft["started_at"]) <= started[0]
    for entry in info["journal"]:
        if entry["completed_at"] is not None:
            assert entry["duration"] >= 0
    assert steps["Tool: lookup"]["attempts"] == 1 and steps["Tool: lookup"]["failed_attempts"] == []


def test_approve_with_a_typed_value_is_checked_against_the_schema(served: ServedApp) -> None:
    inv_id = start_answer(served, "Ship it?")
    approval = pending_approval(served, inv_id)
    assert approval["value_schema"]["properties"]["approved"]["type"] == "boolean"
    url = f"{served.admin_url}/awakeables/{approval['id']}"
    with client(served) as http:
        wrong = http.post(f"{url}/resolve", json={"approved": "perhaps"})
        assert wrong.status_code == 400
        assert "approved" in wrong.json()["message"]
        assert (
            http.post(
                f"{url}/resolve", content=b"{", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        done = http.post(f"{url}/resolve", json={"approved": True, "by": "carol"})
        assert done.status_code == 202, done.text
        again = http.post(f"{url}/resolve", json={"approved": True})
        assert again.status_code == 409
        result = http.get(f"{served.ingress_url}/restate/invocation/{inv_id}/attach").json()
    assert result.endswith("approved by carol]")


def test_reject_fails_the_approval_with_the_reason(served: ServedApp) -> None:
    inv_id = start_answer(served, "Delete the database?")
    approval = pending_approval(served, inv_id)
    with client(served) as http:
        bad = http.post(f"{served.admin_url}/awakeables/{approval['id']}/reject", json={"reason": 3})
        assert bad.status_code == 400 and "reason" in bad.json()["message"]
        rejected = http.post(
            f"{served.admin_url}/awakeables/{approval['id']}/reject", json={"reason": "too risky"}
        )
        assert rejected.status_code == 202
        outcome = http.get(f"{served.ingress_url}/restate/invocation/{inv_id}/attach")
    assert outcome.status_code >= 400
    assert "too risky" in outcome.json()["message"]


def test_invocations_filter_by_time_and_page(served: ServedApp) -> None:
    admin = served.admin_url
    with client(served) as http:
        for n in range(5):
            key = "paging" if n % 2 else "paging-even"
            done = http.post(f"{served.ingress_url}/Memory/{key}/remember", json=f"note {n}")
            assert done.status_code == 200

        def listed(**params: Any) -> dict[str, Any]:
            answer = http.get(f"{admin}/invocations", params={"service": "Memory", **params})
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        first = listed(key="paging-even", limit=2)
        assert len(first["invocations"]) == 2 and first["next_offset"] == 2
        last = listed(key="paging-even", limit=2, offset=2)
        assert len(last["invocations"]) == 1 and last["next_offset"] is None
        page_ids = [i["id"] for page in (first, last) for i in page["invocations"]]
        assert len(set(page_ids)) == 3

        mine = listed(key="paging")["invocations"] + listed(key="paging-even")["invocations"]
        created = sorted(datetime.fromisoformat(i["created_at"]) for i in mine)
        later = (created[-1] + timedelta(seconds=1)).isoformat()
        assert listed(since=later)["invocations"] == []
        middle = created[2].astimezone(UTC).replace(tzinfo=None).isoformat()  # no zone: UTC
        assert len(listed(key="paging-even", since=middle)["invocations"]) == 2  # notes 2 and 4
        assert len(listed(key="paging-even", until=middle)["invocations"]) == 1  # note 0
        assert len(listed(key="paging", status="succeeded")["invocations"]) == 2

        bad = http.get(f"{admin}/invocations", params={"since": "yesterday"})
        assert bad.status_code == 400 and "since" in bad.json()["message"]
        assert http.get(f"{admin}/invocations", params={"offset": "-1"}).status_code == 400
        assert {"paging", "paging-even"} <= set(http.get(f"{admin}/state/Memory").json()["keys"])
        state = http.get(f"{admin}/state/Memory/paging-even").json()["state"]
        assert state == {"notes": ["note 0", "note 2", "note 4"]}
        assert http.get(f"{admin}/state/Agent").status_code == 404


def test_the_console_files_are_open_and_the_data_is_not(guarded: ServedApp) -> None:
    served = guarded
    with httpx.Client(timeout=20.0) as anonymous:
        assert anonymous.get(f"{served.admin_url}/ui", follow_redirects=False).status_code == 308
        page = anonymous.get(f"{served.admin_url}/ui/")
        assert page.status_code == 200 and "agentdur console" in page.text
        assert anonymous.get(f"{served.admin_url}/ui/console.js").status_code == 200
        assert anonymous.get(f"{served.admin_url}/invocations").status_code == 401
        assert anonymous.get(f"{served.admin_url}/awakeables").status_code == 401
        assert anonymous.get(f"{served.admin_url}/uix").status_code == 401
    with client(served) as http:
        assert http.get(f"{served.admin_url}/invocations").status_code == 200
