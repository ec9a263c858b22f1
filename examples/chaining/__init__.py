"""Prompt chaining (LLM and plain steps): ``agentdur serve examples.chaining:app``."""

from .app import app

__all__ = ["app"]
