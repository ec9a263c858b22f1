"""Retention on a served app: ``agentdur purge --completed-before``, its admin endpoint, the options,
and a soak run whose file must stop growing."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.soak import render_soak_report, run_soak

from .helpers import Server, wait_for
from .test_admin import status_of
from .test_cli import agentdur, as_json, failed, ok
from .test_ingress import pending_awakeable


def completed(server: Server) -> set[str]:
    found = httpx.get(f"{server.admin}/invocations", params={"status": "completed"}).json()
    return {item["id"] for item in found["invocations"]}


def test_purge_completed_before_from_the_cli_and_the_admin_api(serve: Callable[..., Server]) -> None:
    server = serve("--retention-interval", "off")
    done = [
        httpx.post(f"{server.ingress}/Greeter/greet/send", json=name).json()["invocationId"]
        for name in ("ann", "bob")
    ]
    wait_for(lambda: all(status_of(server, inv_id) == "completed" for inv_id in done), "the greetings")
    waiting = httpx.post(f"{server.ingress}/Approvals/request/send", json="keep").json()["invocationId"]
    pending_awakeable(server, waiting)

    older = as_json("purge", "--completed-before", "7d", server=server)
    assert older["purged"] == 0 and older["completed_before"].endswith("Z")
    assert ok("purge", "--completed-before", "2000-01-01T00:00:00Z", server=server) == (
        "purged 0 invocation(s) completed before 2000-01-01T00:00:00Z\n"
    )
    assert completed(server) >= set(done)
    assert as_json("purge", "--completed-before", "0s", server=server)["purged"] >= 2
    assert completed(server) & set(done) == set()
    assert status_of(server, waiting) in ("running", "suspended")  # unfinished ones are never purged
    assert "unknown invocation" in failed("journal", done[0], server=server)

    assert "either an invocation ID or --completed-before" in failed("purge", server=server)
    assert "not both" in failed("purge", waiting, "--completed-before", "1d", server=server)
    error = failed("purge", "--completed-before", "yesterday", server=server)
    assert "completed_before" in error and "(HTTP 400)" in error

    for params, field in (({}, "completed_before: required"), ({"before": "1d"}, "unknown query parameter")):
        response = httpx.post(f"{server.admin}/invocations/purge", params=params)
        assert response.status_code == 400
        assert field in response.json()["message"]


def test_a_short_retention_removes_completed_invocations_in_the_background(
    serve: Callable[..., Server],
) -> None:
    server = serve("--journal-retention", "0.3s", "--retention-interval", "100ms")
    inv_id = httpx.post(f"{server.ingress}/Greeter/greet/send", json="cy").json()["invocationId"]
    waiting = httpx.post(f"{server.ingress}/Approvals/request/send", json="stay").json()["invocationId"]
    pending_awakeable(server, waiting)

    def gone() -> bool:
        return httpx.get(f"{server.admin}/invocations/{inv_id}").status_code == 404

    wait_for(gone, "the completed invocation removed by the retention sweep")
    assert status_of(server, waiting) in ("running", "suspended")


def test_serve_help_shows_the_retention_defaults() -> None:
    result = agentdur("serve", "--help")
    text = " ".join(result.stdout.split())
    for flag, default, env in (
        ("--journal-retention", "1d", "AGENTDUR_JOURNAL_RETENTION"),
        ("--idempotency-retention", "1d", "AGENTDUR_IDEMPOTENCY_RETENTION"),
        ("--retention-interval", "1m", "AGENTDUR_RETENTION_INTERVAL"),
    ):
        assert flag in text
        assert f"(default {default}; ${env})" in text


def test_a_bad_retention_names_the_option(serve: Callable[..., Any]) -> None:
    error = failed("serve", "tests.server.app:app", "--journal-retention", "soon")
    assert error.startswith("error: --journal-retention: ")


def test_soak_the_file_stops_growing_under_a_steady_stream(tmp_path: Path) -> None:
    """A real server with a 2.5 s retention takes invocations for 45 s without pause.

    What the file holds per invocation the retention keeps (peak size over the invocations of the
    last two windows) must stay flat from the first windows on: without retention it grows with every
    window (about 3x between the middle and the end of this run) and the check fails.
    """
    result = run_soak(45.0, 2.5, 0.5, workdir=tmp_path)
    assert result.integrity == "ok"
    assert result.auto_vacuum == 2  # a new file reclaims space incrementally
    ratios = result.bytes_per_retained()
    assert len(ratios) >= 12, result
    middle, late = ratios[2 : len(ratios) // 2], ratios[len(ratios) // 2 :]
    assert max(late) <= 1.75 * statistics.median(middle), render_soak_report(result, 2.5)
    assert result.rows_left * 4 <= result.invocations, result  # most completed ones were removed
