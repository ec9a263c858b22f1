"""examples/_model.py: which provider the examples call, and reading JSON out of a model's text."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import agentdur
from examples._model import DEFAULT_BASE_URL, choose_model, parse_json


def test_a_real_openai_model_only_with_a_key_and_no_base_url() -> None:
    real = choose_model({"OPENAI_API_KEY": "sk-test"})
    assert real.kwargs() == {"model": "openai/gpt-4o-mini"} and not real.scripted
    assert (
        choose_model({"OPENAI_API_KEY": "sk-test", "AGENTDUR_MODEL": "openai/gpt-4o"}).model
        == "openai/gpt-4o"
    )

    pinned = choose_model({"OPENAI_API_KEY": "sk-test", "AGENTDUR_MODEL_BASE_URL": "http://127.0.0.1:9/v1"})
    assert pinned.scripted and pinned.kwargs()["api_base"] == "http://127.0.0.1:9/v1"
    offline = choose_model({})
    assert offline.scripted and offline.kwargs()["api_base"] == DEFAULT_BASE_URL == "http://127.0.0.1:8765/v1"
    assert offline.kwargs()["api_key"]  # litellm needs some key, the scripted server takes any


class Verdict(BaseModel):
    valid: bool


def test_json_is_found_in_prose_or_a_fence_and_garbage_is_terminal() -> None:
    assert parse_json(Verdict, '{"valid": true}') == Verdict(valid=True)
    assert parse_json(Verdict, 'Sure! ```json\n{"valid": false}\n```') == Verdict(valid=False)
    with pytest.raises(agentdur.TerminalError, match="did not answer with a Verdict"):
        parse_json(Verdict, "I cannot help with that.")
