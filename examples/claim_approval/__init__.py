"""The insurance-claim pipeline with human approval: ``agentdur serve examples.claim_approval:app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import app


def __getattr__(name: str) -> Any:
    # `app` is imported on first use, so that `.models` and `.steps` can be used without LiteLLM
    # (a slow import) being loaded: the demo process needs the types, not the model client.
    if name == "app":
        from .app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app"]
