"""A Restate deployment in its own process: ``python -m bench._deployment KIND --port N``.

``agentdur`` serves :data:`bench._chat.compare_app` exactly as ``agentdur serve --backend restate``
does (:func:`agentdur.restate._serve.serve`: hypercorn, HTTP/2 over cleartext); ``plain`` serves the
hand-written restate-sdk services of :mod:`bench._plain_restate` with the same hypercorn settings, and
``restate_adk`` the ``restate.ext.adk`` agent of :mod:`bench._restate_adk` and ``restate_openai`` the
``restate.ext.openai`` agent of :mod:`bench._restate_openai` (for ``bench agents``) too.
SIGTERM stops the server; with ``--profile PATH`` the process runs under cProfile and writes its
stats to PATH when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

KINDS = ("agentdur", "plain", "restate_adk", "restate_openai")


async def _serve_plain(host: str, port: int, stop: asyncio.Event) -> None:
    from ._plain_restate import plain_app

    await _serve_asgi(plain_app(), host, port, stop)


async def _serve_restate_adk(host: str, port: int, stop: asyncio.Event) -> None:
    from ._restate_adk import restate_adk_app

    await _serve_asgi(restate_adk_app(), host, port, stop)


async def _serve_restate_openai(host: str, port: int, stop: asyncio.Event) -> None:
    from ._restate_openai import restate_openai_app

    await _serve_asgi(restate_openai_app(), host, port, stop)


async def _serve_asgi(app: Any, host: str, port: int, stop: asyncio.Event) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from agentdur.restate._serve import _with_lifespan

    config = Config()  # the settings of agentdur.restate._serve.serve
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    await serve(_with_lifespan(app), config, shutdown_trigger=stop.wait, mode="asgi")


async def _serve_agentdur(host: str, port: int, stop: asyncio.Event) -> None:
    from agentdur.restate._serve import serve

    from ._chat import compare_app

    await serve(compare_app, host=host, port=port, shutdown=stop)


async def _main(kind: str, host: str, port: int) -> None:
    from restate.server import install_shutdown_hook

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # restate-sdk's ASGI app takes over SIGTERM on its first request (loop.add_signal_handler keeps one
    # handler per signal); its hook registry keeps ours alongside.
    install_shutdown_hook(loop, stop.set, signal.SIGTERM)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    serve = {
        "agentdur": _serve_agentdur,
        "plain": _serve_plain,
        "restate_adk": _serve_restate_adk,
        "restate_openai": _serve_restate_openai,
    }[kind]
    await serve(host, port, stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._deployment")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", metavar="PATH", help="run under cProfile; write the stats to PATH")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    profile = cProfile.Profile() if args.profile else None
    if profile is not None:
        profile.enable()
    try:
        asyncio.run(_main(args.kind, args.host, args.port))
    finally:
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
