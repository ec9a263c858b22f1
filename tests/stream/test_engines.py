"""``ctx.publish`` on both engines: the same handler runs alike; only the embedded server streams it."""

from __future__ import annotations

from pathlib import Path

from ..harness import EngineUnderTest, engine_fixture

engine = engine_fixture("tests.stream.app:app")


def test_a_publishing_handler_gives_the_same_result_and_only_embedded_streams_it(
    engine: EngineUnderTest, tmp_path: Path
) -> None:
    talk = {"words": ["alpha", "beta"], "marker": str(tmp_path / "marker.log")}
    inv_id = engine.send("/Live/talk", talk)
    assert engine.attach(inv_id).json() == "alpha beta done"
    assert (tmp_path / "marker.log").read_text().splitlines() == ["first", "second"]
    refused = engine.post("/Live/unserializable")
    assert "ctx.publish() needs a JSON-serializable event" in refused.json()

    stream = engine.client.get(f"{engine.ingress_url}/restate/invocation/{inv_id}/stream")
    if engine.name == "embedded":
        assert stream.status_code == 200
        assert stream.text.startswith("event: end\n")
    else:  # restate-server has no such URL: the events were dropped in the deployment process
        assert stream.status_code == 404, stream.text
