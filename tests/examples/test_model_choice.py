"""examples/_model.py: which provider the examples call, and reading JSON out of a model's text."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import agentdur
from examples._model import DEFAULT_BASE_URL, choose_model, parse_json, scripted_gemini_root


def test_offline_by_default_even_with_a_key_set() -> None:
    """A key that happens to be in the environment is not used: nobody spends money by accident."""
    for env in (
        {},
        {"OPENAI_API_KEY": "sk-test"},
        {"OPENAI_API_KEY": "sk-test", "AGENTDUR_REAL_MODELS": "0"},
    ):
        offline = choose_model(env)
        assert (
            offline.scripted
            and offline.kwargs()["api_base"] == DEFAULT_BASE_URL == "http://127.0.0.1:8765/v1"
        )
        assert (
            offline.kwargs()["api_key"] == "scripted"
        )  # litellm needs some key, the scripted server takes any
    moved = choose_model({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert moved.scripted and moved.kwargs()["api_base"] == "http://127.0.0.1:9/v1"


def test_a_real_model_only_when_opted_in_with_a_key() -> None:
    real = choose_model({"OPENAI_API_KEY": "sk-test", "AGENTDUR_REAL_MODELS": "1"})
    assert real.kwargs() == {"model": "openai/gpt-4o-mini"} and not real.scripted
    chosen = choose_model(
        {"OPENAI_API_KEY": "sk-test", "AGENTDUR_REAL_MODELS": "1", "AGENTDUR_MODEL": "openai/gpt-4o"}
    )
    assert chosen.model == "openai/gpt-4o"
    proxied = choose_model(
        {"OPENAI_API_KEY": "k", "AGENTDUR_REAL_MODELS": "1", "OPENAI_BASE_URL": "http://proxy/v1"}
    )
    assert proxied.real and proxied.kwargs()["api_base"] == "http://proxy/v1"
    with pytest.raises(
        agentdur.TerminalError, match="AGENTDUR_REAL_MODELS=1 asks for a real model, but OPENAI_API_KEY"
    ):
        choose_model({"AGENTDUR_REAL_MODELS": "1"})


def test_the_gemini_stand_in_follows_the_standard_variables() -> None:
    assert scripted_gemini_root({}) == "http://127.0.0.1:8765/"
    assert scripted_gemini_root({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}) == "http://127.0.0.1:9/"
    assert scripted_gemini_root({"GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:7"}) == "http://127.0.0.1:7/"


class Verdict(BaseModel):
    valid: bool


def test_json_is_found_in_prose_or_a_fence_and_garbage_is_terminal() -> None:
    assert parse_json(Verdict, '{"valid": true}') == Verdict(valid=True)
    assert parse_json(Verdict, 'Sure! ```json\n{"valid": false}\n```') == Verdict(valid=False)
    with pytest.raises(agentdur.TerminalError, match="did not answer with a Verdict"):
        parse_json(Verdict, "I cannot help with that.")
