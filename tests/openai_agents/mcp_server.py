"""An MCP server for the tests, over stdio (or streamable HTTP): the ``mcp`` package's own ``MCPServer``.

Its ``book`` tool records a side effect in the tests' log. A file ``<log>.mcp-hidden`` hides the tool
from the list, so a test can prove that a replay does not ask the server for its tools again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.effects import LOG_ENV, record  # after the path is set

server: MCPServer = MCPServer("bookings")

if not Path(os.environ.get(LOG_ENV, "") + ".mcp-hidden").exists():

    @server.tool()
    def book(label: str) -> str:
        """Book the trip."""
        record(f"mcp book {label}")
        return f"booked {label}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:  # streamable HTTP on 127.0.0.1:<port>/mcp
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
