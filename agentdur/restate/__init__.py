"""The Restate backend: the same agentdur services served as a restate-sdk deployment.

Importing this module needs restate-sdk (``pip install "agentdur[restate]"``). Use it through
:func:`agentdur.restate.restate_app`, or ``agentdur serve module:app --backend restate``.
"""

from __future__ import annotations

try:
    import restate
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('the Restate backend needs restate-sdk: pip install "agentdur[restate]"') from error

from ._app import restate_app, restate_services
from ._context import RestateContext
from ._serve import DeploymentApp, deployment_asgi

__all__ = ["DeploymentApp", "RestateContext", "deployment_asgi", "restate", "restate_app", "restate_services"]
