"""``GET /restate/invocation/{id}/stream`` over real HTTP from a real ``agentdur serve`` process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import agentdur
from agentdur.testing import ServedApp, wait_for

from .conftest import Serve
from .helpers import WITHIN, Watcher, outputs

TOKEN = "stream-s3cret"


def _talk(tmp_path: Path, release: bool = True) -> dict[str, object]:
    return {
        "words": ["alpha", "beta"],
        "marker": str(tmp_path / "marker.log"),
        "release": str(tmp_path / "release") if release else None,
    }


def _pending_awakeable(served: ServedApp, invocation_id: str) -> str:
    def find() -> str | None:
        items = httpx.get(f"{served.admin_url}/awakeables", headers=served.headers).json()["awakeables"]
        return next((a["id"] for a in items if a["invocation_id"] == invocation_id), None)

    return str(wait_for(find, within=WITHIN, what=f"an awakeable of {invocation_id}"))


def test_a_watcher_gets_every_published_event_then_the_outcome(served: ServedApp, tmp_path: Path) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "talk", _talk(tmp_path))
    watcher = Watcher(served.ingress_url, inv_id)
    watcher.wait_for_output({"text": "second-a"})  # live: the step is still running
    assert not any(m["type"] == "end" for m in watcher.messages)
    (tmp_path / "release").touch()
    messages = watcher.join()

    assert watcher.error is None
    assert outputs(messages) == [
        {"kind": "start"},
        {"text": "alpha"},
        {"text": "beta"},
        {"kind": "between"},
        {"text": "second-a"},
        {"text": "second-b"},
    ]
    steps = [m["step"] for m in messages if m["type"] == "output"]
    assert steps == [None, "first", "first", None, "second", "second"]
    assert not any(m["replayed"] for m in messages if m["type"] == "output")
    seqs = [m["seq"] for m in messages if m["type"] == "output"]
    assert seqs == sorted(seqs)
    assert messages[-1] == {
        "type": "end",
        "invocationId": inv_id,
        "status": "completed",
        "outcome": "succeeded",
        "result": "alpha beta done",
    }


def test_the_wire_format_is_server_sent_events(served: ServedApp, tmp_path: Path) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "talk", _talk(tmp_path, release=False))
        client.attach(inv_id)
    # A completed invocation: its buffer is gone, only the outcome is answered.
    response = httpx.get(f"{served.ingress_url}/restate/invocation/{inv_id}/stream", timeout=WITHIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-restate-id"] == inv_id
    assert response.text.startswith("event: end\ndata: {")
    assert response.text.endswith("\n\n")


def test_a_late_subscriber_gets_what_is_buffered_and_the_end(served: ServedApp) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "waits", 3)
        awakeable = _pending_awakeable(served, inv_id)  # all three were published before it
        watcher = Watcher(served.ingress_url, inv_id)
        watcher.wait_for_output(2)
        client.resolve_awakeable(awakeable, "go")
    messages = watcher.join()
    assert outputs(messages) == [0, 1, 2]
    assert messages[-1]["result"] == "go"


def test_a_failed_invocation_ends_with_its_failure(served: ServedApp) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "fails")
        with pytest.raises(agentdur.TerminalError):
            client.attach(inv_id)
        messages = list(client.watch(inv_id))
    assert messages == [
        {
            "type": "end",
            "invocationId": inv_id,
            "status": "completed",
            "outcome": "failed",
            "failure": {"message": "it failed", "code": 422},
        }
    ]


def test_an_event_that_is_not_json_is_a_clear_error_in_the_handler(served: ServedApp) -> None:
    with agentdur.Client(served.ingress_url) as client:
        message = client.call("Live", "unserializable")
    assert "ctx.publish() needs a JSON-serializable event" in message


def test_unknown_invocations_and_wrong_methods_are_json_errors(served: ServedApp) -> None:
    base = f"{served.ingress_url}/restate/invocation"
    unknown = httpx.get(f"{base}/inv_nope/stream")
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "unknown invocation 'inv_nope'", "code": 404}
    posted = httpx.post(f"{base}/inv_nope/stream")
    assert posted.status_code == 405
    with agentdur.Client(served.ingress_url) as client, pytest.raises(agentdur.NotFoundError):
        list(client.watch("inv_nope"))


def test_the_token_is_required_for_the_stream(serve: Serve, tmp_path: Path) -> None:
    served = serve(token=TOKEN)
    with agentdur.Client(served.ingress_url, token=TOKEN) as client:
        inv_id = client.send("Live", "waits", 1)
    refused = httpx.get(f"{served.ingress_url}/restate/invocation/{inv_id}/stream")
    assert refused.status_code == 401
    watcher = Watcher(served.ingress_url, inv_id, token=TOKEN)
    watcher.wait_for_output(0)
    with agentdur.Client(served.ingress_url, token=TOKEN) as client:
        client.resolve_awakeable(_pending_awakeable(served, inv_id), "ok")
    assert watcher.join()[-1]["result"] == "ok"


def test_the_openapi_document_lists_the_stream(served: ServedApp) -> None:
    document = httpx.get(f"{served.admin_url}/openapi.json").json()
    operation = document["paths"]["/restate/invocation/{invocationId}/stream"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]


def test_a_client_that_goes_away_is_forgotten_quietly(served: ServedApp, tmp_path: Path) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "waits", 2)
        awakeable = _pending_awakeable(served, inv_id)
        for _ in range(3):  # read one event, then hang up
            with httpx.stream("GET", f"{served.ingress_url}/restate/invocation/{inv_id}/stream") as response:
                next(response.iter_lines())
        client.resolve_awakeable(awakeable, "still fine")
        assert client.attach(inv_id) == "still fine"
        assert [m["type"] for m in client.watch(inv_id)] == ["end"]
    log = served.log_path.read_text()
    assert "Traceback" not in log and "unexpected error" not in log


def test_after_sigkill_the_stream_resumes_with_a_replay_marker(served: ServedApp, tmp_path: Path) -> None:
    talk = _talk(tmp_path)
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "talk", talk)
    before = Watcher(served.ingress_url, inv_id)
    before.wait_for_output({"text": "second-a"})  # the first step is journaled, the second runs
    served.kill()
    before.join()
    assert isinstance(before.error, httpx.HTTPError)  # the stream broke, it did not end
    assert outputs(before.messages)[-1] == {"text": "second-a"}

    served.start()
    after = Watcher(served.ingress_url, inv_id)
    after.wait_for_output({"text": "second-a"})  # the interrupted step runs again
    (tmp_path / "release").touch()
    messages = after.join()

    assert messages[0]["type"] == "replay"
    output = [m for m in messages if m["type"] == "output"]
    # The journaled first step publishes nothing again; handler code re-run on replay is flagged.
    assert [(m["data"], m["replayed"], m["step"]) for m in output] == [
        ({"kind": "start"}, True, None),
        ({"kind": "between"}, True, None),
        ({"text": "second-a"}, False, "second"),
        ({"text": "second-b"}, False, "second"),
    ]
    assert messages[-1]["result"] == "alpha beta done"
    assert Path(str(talk["marker"])).read_text().splitlines() == ["first", "second"]


def test_a_retried_attempt_is_marked_and_its_repeated_output_flagged(
    served: ServedApp, tmp_path: Path
) -> None:
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "flaky", str(tmp_path / "flaky.log"))
        messages = list(client.watch(inv_id))
    kinds = [(m["type"], m.get("data"), m.get("replayed")) for m in messages[:-1]]
    assert kinds == [("output", "attempt", False), ("replay", None, None), ("output", "attempt", True)]
    assert messages[-1]["result"] == "finished"


def test_a_paused_invocation_ends_the_stream_with_its_reason(serve: Serve) -> None:
    served = serve("--max-attempts", "2")
    with agentdur.Client(served.ingress_url) as client:
        inv_id = client.send("Live", "broken")
        messages = list(client.watch(inv_id))
    assert [m["type"] for m in messages] == ["output", "replay", "output", "end"]
    end = messages[-1]
    assert end["status"] == "paused" and end["outcome"] is None
    assert "always broken" in end["reason"]
