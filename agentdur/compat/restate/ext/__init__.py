"""restate-sdk's ``restate.ext`` on agentdur: ``openai`` (the OpenAI Agents SDK integration)."""
