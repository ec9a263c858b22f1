"""The events example of the Tour of Workflows; see README.md."""

from .app import app

__all__ = ["app"]
