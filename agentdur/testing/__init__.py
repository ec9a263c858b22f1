"""Testing kit: processes for tests (restate-server, ``agentdur serve``), a scripted model server, fixtures.

- :class:`RestateServer`, :class:`ServedApp`, :class:`RestateDeployment`, :class:`ChildProcess` and
  :func:`wait_for` start real processes on free ports, wait until they are healthy, SIGKILL or stop them.
- :mod:`agentdur.testing.model_server` is the scripted model server (needs ``agentdur[testing]``);
  its names are importable from here too, loaded on first use.
- :mod:`agentdur.testing.pytest_plugin` exposes fixtures to any test suite (docs/testing.md),
  ``model_server`` and ``model_server_env`` among them.

Nothing here imports pytest, so ``agentdur model-server`` runs without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._exceptions import WaitTimeout
from ._ports import free_port, free_ports
from ._processes import ChildProcess, RestateDeployment, ServedApp
from ._restate_server import RestateServer, find_restate_server
from ._wait import http_ok, wait_for, wait_for_async

if TYPE_CHECKING:
    from .model_server import (
        ModelError,
        ModelFaults,
        ModelMessage,
        ModelReply,
        ModelRequest,
        ModelScript,
        ModelTool,
        ModelToolCall,
        RecordedRequest,
        ScriptedModelServer,
    )

# Loaded on first use, so the process harness works without the testing extra (h11).
_LAZY = frozenset(
    (
        "ModelError",
        "ModelFaults",
        "ModelMessage",
        "ModelReply",
        "ModelRequest",
        "ModelScript",
        "ModelTool",
        "ModelToolCall",
        "RecordedRequest",
        "ScriptedModelServer",
    )
)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".model_server", __name__), name)


__all__ = [
    "ChildProcess",
    "ModelError",
    "ModelFaults",
    "ModelMessage",
    "ModelReply",
    "ModelRequest",
    "ModelScript",
    "ModelTool",
    "ModelToolCall",
    "RecordedRequest",
    "RestateDeployment",
    "RestateServer",
    "ScriptedModelServer",
    "ServedApp",
    "WaitTimeout",
    "find_restate_server",
    "free_port",
    "free_ports",
    "http_ok",
    "wait_for",
    "wait_for_async",
]
