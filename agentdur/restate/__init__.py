"""The Restate backend: the same agentdur services served as a restate-sdk deployment.

Importing this module needs restate-sdk (``pip install "agentdur[restate]"``). Use it through
:meth:`agentdur.App.restate_app`, or ``agentdur serve module:app --backend restate``.
"""

from __future__ import annotations

try:
    import restate
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('the Restate backend needs restate-sdk: pip install "agentdur[restate]"') from error

from ._app import restate_app, restate_services
from ._context import RestateContext
from ._serve import deployment_asgi

__all__ = ["RestateContext", "deployment_asgi", "restate", "restate_app", "restate_services"]
