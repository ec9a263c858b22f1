"""Runnable example apps built on agentdur (not installed; run them from the repository root)."""
