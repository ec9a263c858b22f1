"""examples/chaining over HTTP: the README's request, each link journaled, LLM and plain links mixed."""

from __future__ import annotations

from agentdur.testing import ScriptedModelServer

from ..harness import EngineUnderTest
from ._served import example_fixture

LINKS = ["Prepare brief", "Draft copy", "Polish copy", "Fit to post"]
MAX_CHARS, DISCLOSURE = 280, " #ad"  # one social-media post, as the README says

served = example_fixture("chaining")


def requests_about(server: ScriptedModelServer, product: str) -> list[str]:
    return [
        r.last_user_message or "" for r in server.model_requests() if product in (r.last_user_message or "")
    ]


def test_the_readme_request_runs_every_link_once(
    served: EngineUnderTest, example_model_server: ScriptedModelServer
) -> None:
    brief = {
        "product": "the Aurora desk lamp",
        "audience": "people working from home",
        "features": ["warm light", "USB-C charging", " warm light", "dimmable"],
    }
    response = served.post("/MarketingCopy/write", brief)
    assert response.status_code == 200, response.text
    post = response.json()
    assert post["text"].endswith(DISCLOSURE) and post["characters"] == len(post["text"]) <= MAX_CHARS
    assert post["shortened"] is False

    journal = served.client.get(f"{served.admin_url}/invocations/{response.headers['x-restate-id']}").json()[
        "journal"
    ]
    assert [(e["kind"], e["name"], e["status"]) for e in journal] == [("run", n, "completed") for n in LINKS]
    # The plain link de-duplicated the features before the LLM link used them.
    assert journal[0]["value"]["features"] == ["warm light", "USB-C charging", "dimmable"]
    prompts = requests_about(example_model_server, "Aurora desk lamp")
    assert len(prompts) == 2  # one request per LLM link
    assert prompts[0].endswith("Mention: warm light, USB-C charging, dimmable.")
    assert prompts[1].startswith("Rewrite this copy") and journal[1]["value"] in prompts[1]
    assert journal[3]["value"] == post


def test_a_long_draft_is_cut_to_one_post(
    served: EngineUnderTest, example_model_server: ScriptedModelServer
) -> None:
    features = [f"feature number {i} with a rather long description" for i in range(8)]
    response = served.post(
        "/MarketingCopy/write",
        {"product": "the Borealis lamp", "audience": "night owls", "features": features},
    )
    assert response.status_code == 200, response.text
    post = response.json()
    assert post["shortened"] is True
    assert post["characters"] == len(post["text"]) <= MAX_CHARS and post["text"].endswith("…" + DISCLOSURE)
    draft_prompt = requests_about(example_model_server, "Borealis lamp")[0]
    assert "feature number 4" in draft_prompt and "feature number 5" not in draft_prompt  # the first five


def test_invalid_input_is_a_400(served: EngineUnderTest) -> None:
    response = served.post("/MarketingCopy/write", {"product": "", "audience": "anyone"})
    assert response.status_code == 400
    assert "product" in response.json()["message"]
