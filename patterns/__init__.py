"""Durable agent patterns, installed as ``agentdur.patterns``.

Patterns depend on the agentdur core only, never on an integration: they take a model-call function.
"""
