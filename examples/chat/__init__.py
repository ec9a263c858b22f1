"""Chat sessions keyed by user: ``agentdur serve examples.chat:app``."""

from .app import app

__all__ = ["app"]
