"""Restate's tour of durable agents with the OpenAI Agents SDK, on agentdur (see README.md).

Each module is one example and exposes ``app``: ``agentdur serve examples.openai_agents.<name>:app``;
``examples.openai_agents.tour:app`` serves them all.
"""
