"""The Tour of Workflows on agentdur: one app per section, and an agent on a workflow (README.md)."""
