"""Compatibility layers that let code written for other durable-execution SDKs run on agentdur."""
