"""Testing kit: a Docker-free restate-server harness and helpers for tests of agentdur apps."""

from ._ports import free_port
from ._restate_server import RestateServer, find_restate_server

__all__ = ["RestateServer", "find_restate_server", "free_port"]
