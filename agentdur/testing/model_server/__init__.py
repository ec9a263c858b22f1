"""The scripted model server: a real HTTP server that fakes OpenAI and Gemini model providers.

The SDKs run against it unmodified, with only their base URL changed (see ``docs/model-server.md``).
Needs the ``testing`` extra (``pip install "agentdur[testing]"``) for its HTTP parser, h11.
"""

from __future__ import annotations

from ._main import main
from ._script import ModelFaults, ModelScript
from ._server import CONFLICTING_ENV, ScriptedModelServer
from ._types import (
    ModelError,
    ModelMessage,
    ModelReply,
    ModelRequest,
    ModelTool,
    ModelToolCall,
    RecordedRequest,
)

__all__ = [
    "CONFLICTING_ENV",
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
    "main",
]
