"""examples/chat over HTTP: the README's conversation, one history per user, sent whole to the model."""

from __future__ import annotations

from agentdur.testing import ScriptedModelServer

from ..harness import EngineUnderTest
from ._served import example_fixture

served = example_fixture("chat")


def test_each_user_has_their_own_durable_history(
    served: EngineUnderTest, example_model_server: ScriptedModelServer
) -> None:
    answers = [
        served.post(f"/Chat/{user}/message", {"message": text}).json()
        for user, text in [("alice", "Hi, I am Alice"), ("alice", "What did I just say?"), ("bob", "Hello")]
    ]
    assert answers == [
        {"reply": "Echo: Hi, I am Alice", "turns": 2},
        {"reply": "Echo: What did I just say?", "turns": 4},
        {"reply": "Echo: Hello", "turns": 2},
    ]

    alice = served.client.get(f"{served.ingress_url}/Chat/alice/get_history").json()
    assert [(t["role"], t["content"]) for t in alice] == [
        ("user", "Hi, I am Alice"),
        ("assistant", "Echo: Hi, I am Alice"),
        ("user", "What did I just say?"),
        ("assistant", "Echo: What did I just say?"),
    ]
    bob = served.client.get(f"{served.ingress_url}/Chat/bob/get_history").json()
    assert [t["content"] for t in bob] == ["Hello", "Echo: Hello"]
    state = served.client.get(f"{served.admin_url}/state/Chat/alice").json()["state"]
    assert state["history"] == alice

    # The model got alice's whole conversation, after the system prompt, and nothing of bob's.
    second = next(
        r for r in example_model_server.model_requests() if r.last_user_message == "What did I just say?"
    )
    assert second.messages[0].role == "system" and second.system
    assert [(m.role, m.content) for m in second.messages[1:]] == [
        (t["role"], t["content"]) for t in alice[:3]
    ]

    cleared = served.post("/Chat/alice/clear")
    assert cleared.status_code == 200, cleared.text
    assert served.client.get(f"{served.ingress_url}/Chat/alice/get_history").json() == []
    assert len(served.client.get(f"{served.ingress_url}/Chat/bob/get_history").json()) == 2


def test_an_empty_message_is_a_400(served: EngineUnderTest) -> None:
    response = served.post("/Chat/carol/message", {"message": ""})
    assert response.status_code == 400
