"""The console in a real headless Chromium: the invocations list, one invocation's timeline, approving
from the inbox until the invocation completes, object state, usage, and the login prompt of ``--token``.

Each test saves screenshots of the pages it looks at (see ``screenshots`` in conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from agentdur.testing import ServedApp

from .app import FLAKY_FAILURES
from .conftest import TOKEN, client
from .test_admin_api import pending_approval, start_answer

DURATION = re.compile(r"^\d+(\.\d+)? (ms|s)$|^\d+ min \d+ s$")


def test_list_timeline_and_approval_until_the_invocation_completes(
    page: Page, served: ServedApp, screenshots: Path
) -> None:
    question = "What does a durable agent remember?"
    inv_id = start_answer(served, question)
    pending_approval(served, inv_id)

    page.goto(f"{served.admin_url}/ui/")
    row = page.locator(f'#invocation-list tr[data-id="{inv_id}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-status]")).to_have_text(re.compile("^(running|suspended)$"))  # waits
    page.screenshot(path=screenshots / "1-invocations.png", full_page=True)

    row.get_by_role("link").click()
    expect(page.locator("#invocation")).to_have_attribute("data-id", inv_id)
    steps = page.locator("#timeline details.step")
    names = steps.locator(".name").all_inner_texts()
    assert names[:3] == ["LLM call: openai/gpt-4o", "Tool: lookup", "Draft email"]
    assert "Send the answer to 'What does a durable agent remember?'?" in names
    for name in ("LLM call: openai/gpt-4o", "Tool: lookup", "Draft email"):
        step = steps.filter(has=page.locator(".name", has_text=name))
        assert DURATION.match(step.locator(".duration").inner_text()), name
        expect(step.locator(".track .bar").last).to_be_visible()
    draft = steps.filter(has=page.locator(".name", has_text="Draft email"))
    expect(draft.locator(".attempts")).to_have_text(f"{FLAKY_FAILURES + 1} attempts")
    expect(draft.locator(".bar.attempt-failed")).to_have_count(FLAKY_FAILURES)
    waiting = steps.filter(has=page.locator(".name", has_text="Send the answer"))
    expect(waiting).to_have_attribute("data-status", "pending")

    model = steps.filter(has=page.locator(".name", has_text="LLM call"))
    model.locator(":scope > summary").click()
    call = model.locator(".model-call")
    expect(call).to_contain_text("gpt-4o")
    expect(call).to_contain_text(re.compile(r"\d+ input, \d+ output"))
    expect(call.locator("pre.response")).not_to_be_empty()
    draft.locator(":scope > summary").click()
    expect(draft.locator(".details")).to_contain_text("Attempt 1 failed")
    expect(draft.locator(".details")).to_contain_text("ConnectionError: the mail server hung up (attempt 1)")
    page.screenshot(path=screenshots / "2-invocation-timeline.png", full_page=True)

    page.locator('a[data-nav="approvals"]').click()
    card = page.locator(f'article.approval[data-invocation="{inv_id}"]')
    expect(card).to_be_visible()
    card.locator('input[name="by"]').fill("dana")
    card.locator('input[name="comment"]').fill("looks right")
    page.screenshot(path=screenshots / "3-approvals.png", full_page=True)
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("decision recorded")

    with client(served) as http:
        result = http.get(f"{served.ingress_url}/restate/invocation/{inv_id}/attach").json()
    assert result.endswith("approved by dana]")
    page.goto(f"{served.admin_url}/ui/#/invocations/{inv_id}")
    expect(page.locator("#invocation h1 [data-status]")).to_have_text("succeeded")
    expect(page.locator("#result")).to_contain_text("approved by dana")
    expect(page.locator("#timeline details.step").filter(has_text="Send the answer")).to_have_attribute(
        "data-status", "completed"
    )
    page.screenshot(path=screenshots / "4-invocation-completed.png", full_page=True)


def test_filters_narrow_the_list(page: Page, served: ServedApp, screenshots: Path) -> None:
    with client(served) as http:
        for note in ("milk", "eggs"):
            assert http.post(f"{served.ingress_url}/Memory/shopping/remember", json=note).status_code == 200
    page.goto(f"{served.admin_url}/ui/")
    form = page.locator("#filters")
    form.locator('select[name="service"]').select_option("Memory")
    form.locator('input[name="key"]').fill("shopping")
    form.get_by_role("button", name="Filter").click()
    rows = page.locator("#invocation-list tbody tr")
    expect(rows).to_have_count(2)
    for text in rows.all_inner_texts():
        assert "Memory/shopping/remember" in text
    form = page.locator("#filters")
    form.locator('select[name="status"]').select_option("failed")
    form.get_by_role("button", name="Filter").click()
    expect(page.locator("#no-invocations")).to_be_visible()
    page.screenshot(path=screenshots / "5-invocations-filtered.png", full_page=True)


def test_object_state_and_usage(page: Page, served: ServedApp, screenshots: Path) -> None:
    with client(served) as http:
        for note in ("call mum", "buy stamps"):
            assert http.post(f"{served.ingress_url}/Memory/todo/remember", json=note).status_code == 200
    page.goto(f"{served.admin_url}/ui/#/state")
    page.locator('#state-form input[name="key"]').fill("todo")
    page.locator("#state-form").get_by_role("button", name="Show").click()
    table = page.locator("#state-table")
    expect(table).to_contain_text("notes")
    expect(table).to_contain_text("call mum")
    expect(table).to_contain_text("buy stamps")
    page.screenshot(path=screenshots / "6-object-state.png", full_page=True)

    page.locator('a[data-nav="usage"]').click()
    # Without the usage ledger the endpoint is missing (404): the page says so instead of failing.
    expect(page.locator("#no-usage, #usage-table")).to_be_visible()
    expect(page.locator("#view .error")).to_have_count(0)
    page.screenshot(path=screenshots / "7-usage.png", full_page=True)


def test_with_a_token_the_page_asks_for_it_and_shows_nothing_without_it(
    page: Page, guarded: ServedApp, screenshots: Path
) -> None:
    with httpx.Client(headers=guarded.headers, timeout=20.0) as http:
        assert http.post(f"{guarded.ingress_url}/Memory/secret/remember", json="hidden").status_code == 200
    page.goto(f"{guarded.admin_url}/ui/")
    dialog = page.locator("dialog#login")
    expect(dialog).to_be_visible()
    expect(page.locator("#refused")).to_be_visible()
    expect(page.locator("#invocation-list")).to_have_count(0)
    page.screenshot(path=screenshots / "8-login.png", full_page=True)

    page.locator("#login-token").fill("not-the-token")
    page.locator("#login-form").get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("That token was refused.")
    expect(page.locator("#invocation-list")).to_have_count(0)

    page.locator("#login-token").fill(TOKEN)
    page.locator("#login-form").get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#invocation-list")).to_contain_text("Memory/secret/remember")
    assert page.evaluate("sessionStorage.getItem('agentdur-token')") == TOKEN
    page.screenshot(path=screenshots / "9-signed-in.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(dialog).to_be_visible()


def test_a_typed_approval_is_checked_against_its_schema_on_the_page(
    page: Page, served: ServedApp, screenshots: Path
) -> None:
    with client(served) as http:
        sent = http.post(f"{served.ingress_url}/Agent/spend/send", json="team lunch")
    inv_id = sent.json()["invocationId"]
    pending_approval(served, inv_id)
    page.goto(f"{served.admin_url}/ui/#/approvals")
    card = page.locator(f'article.approval[data-invocation="{inv_id}"]')
    expect(card.locator("h2")).to_have_text("Budget for team lunch")
    expect(card.locator('select[name="currency"]')).to_be_visible()
    card.locator('input[name="amount"]').fill("0")
    card.get_by_role("button", name="Resolve").click()
    error = card.locator(".result")
    expect(error).to_contain_text("amount")  # the server's 400 names the field
    expect(error).to_contain_text("greater than or equal to 1")
    page.screenshot(path=screenshots / "10-approval-refused.png", full_page=True)
    card.locator('input[name="amount"]').fill("42")
    card.locator('select[name="currency"]').select_option("USD")
    card.get_by_role("button", name="Resolve").click()
    expect(card).to_contain_text("decision recorded")
    with client(served) as http:
        result = http.get(f"{served.ingress_url}/restate/invocation/{inv_id}/attach").json()
    assert result == "42 USD for team lunch"


def test_a_failed_invocation_shows_its_traceback(page: Page, served: ServedApp, screenshots: Path) -> None:
    with client(served) as http:
        failed = http.post(f"{served.ingress_url}/Agent/crash", json="no reason")
    assert failed.status_code == 422
    inv_id = failed.headers["x-restate-id"]
    page.goto(f"{served.admin_url}/ui/#/invocations/{inv_id}")
    expect(page.locator("#invocation h1 [data-status]")).to_have_text("failed")
    expect(page.locator("#failure")).to_have_text("422: refusing: no reason")
    expect(page.locator("#traceback")).to_contain_text("Traceback (most recent call last)")
    expect(page.locator("#traceback")).to_contain_text("TerminalError: refusing: no reason")
    page.screenshot(path=screenshots / "11-invocation-failed.png", full_page=True)
