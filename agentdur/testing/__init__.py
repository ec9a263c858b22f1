"""Testing kit: a Docker-free restate-server harness, a scripted model server, and helpers for tests.

The pytest fixtures ``model_server`` and ``model_server_env`` are imported on first use, so
``agentdur.testing`` itself does not need pytest (``agentdur model-server`` runs without it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._model_script import ModelFaults, ModelScript
from ._model_server import ScriptedModelServer
from ._model_types import (
    ModelError,
    ModelMessage,
    ModelReply,
    ModelRequest,
    ModelTool,
    ModelToolCall,
    RecordedRequest,
)
from ._ports import free_port, free_ports
from ._restate_server import RestateServer, find_restate_server

if TYPE_CHECKING:
    from ._model_fixtures import model_server, model_server_env
else:

    def __getattr__(name: str) -> Any:
        if name in ("model_server", "model_server_env"):
            from . import _model_fixtures

            return getattr(_model_fixtures, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ModelError",
    "ModelFaults",
    "ModelMessage",
    "ModelReply",
    "ModelRequest",
    "ModelScript",
    "ModelTool",
    "ModelToolCall",
    "RecordedRequest",
    "RestateServer",
    "ScriptedModelServer",
    "find_restate_server",
    "free_port",
    "free_ports",
    "model_server",
    "model_server_env",
]
