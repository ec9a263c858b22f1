"""Where the engines differ on purpose (docs/engines.md): each difference is pinned by a test."""

from __future__ import annotations

import uuid

from ..harness import EngineUnderTest


def test_pending_approvals_are_listed_by_the_embedded_admin_api_only(engine: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    inv = engine.send("/Flows/approval", label)
    aid = engine.awakeable(label)
    listed = engine.client.get(f"{engine.admin_url}/awakeables")
    if engine.name == "embedded":
        assert listed.status_code == 200
        assert aid in [item["id"] for item in listed.json()["awakeables"]]
    else:  # restate-server has no approvals inbox; its admin API answers 404
        assert listed.status_code == 404
    assert engine.resolve(aid, {"by": "carol"}).status_code in (200, 202)
    assert engine.attach(inv).json() == "approved by carol"


def test_invocation_id_formats(engine: EngineUnderTest) -> None:
    inv = engine.send("/Ops/square", 3)
    assert inv.startswith("inv_")
    if engine.name == "embedded":
        assert len(inv) == len("inv_") + 32 and all(c in "0123456789abcdef" for c in inv[4:])
    assert engine.attach(inv).json() == 9


def test_error_bodies_carry_message_and_code_and_restate_adds_source(engine: EngineUnderTest) -> None:
    body = engine.post("/Ops/refuse", 451).json()
    assert body["message"] == "card declined" and body["code"] == 451
    assert ("source" in body) == (engine.name == "restate")


def test_a_wrongly_typed_awakeable_value_is_refused_by_the_embedded_engine_only(
    engine: EngineUnderTest,
) -> None:
    label = uuid.uuid4().hex[:8]
    inv = engine.send("/Flows/approval", label)  # awaits a dict[str, str]
    aid = engine.awakeable(label)
    answer = engine.resolve(aid, {"by": 3})
    if engine.name == "embedded":  # checked at resolve time against the recorded schema
        assert answer.status_code == 400
        assert (
            answer.json()["code"] == 400 and "by: Input should be a valid string" in answer.json()["message"]
        )
        assert engine.resolve(aid, {"by": "carol"}).status_code == 202  # it stayed pending
        assert engine.attach(inv).json() == "approved by carol"
    else:  # restate-server takes any value; the handler gets a TerminalError naming the field
        assert answer.status_code in (200, 202)
        result = engine.attach(inv).json()
        assert result.startswith("rejected: ") and "by: Input should be a valid string" in result
