"""Restate's tour of agents with Google ADK, ported to ``agentdur.integrations.adk``."""
