"""``python -m agentdur.restate module:app``: serve an App as a Restate deployment."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .._exceptions import UserError
from .._loader import load_app
from .._service import App
from ._serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentdur.restate", description=__doc__)
    parser.add_argument("app", help="the App to serve, as MODULE:ATTRIBUTE")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9080)
    parser.add_argument("--register", metavar="ADMIN_URL", help="register with this restate-server admin API")
    parser.add_argument("--advertised-uri", help="the URI restate-server uses to reach this deployment")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = load_app(args.app)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run(app, args))


async def _run(app: App, args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(
        app,
        host=args.host,
        port=args.port,
        register=args.register,
        advertised_uri=args.advertised_uri,
        shutdown=stop,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
