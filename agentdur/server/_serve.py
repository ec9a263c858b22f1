"""``agentdur serve``: the ingress and the admin API on uvicorn, in one process sharing one engine.

On SIGTERM or SIGINT the server stops accepting connections, gives running steps ``grace`` seconds to
finish and be journaled, closes the engine and exits normally; whatever is left resumes at the next
start. Sync steps still running then are abandoned (their daemon threads do not hold the exit). If
the shutdown still has not finished ``SHUTDOWN_BOUND`` seconds after the grace period (a handler
holding the event loop, say), the process exits anyway. A second signal exits at once, even while
the loop is blocked (the journal is still consistent: unfinished steps re-run at the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sqlite3
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from .._exceptions import UserError
from .._http import DEFAULT_ADMIN_PORT, DEFAULT_INGRESS_PORT, LOCALHOST
from .._options import InvocationRetryPolicy
from .._service import App
from .._shutdown import exit_on_next, start_watchdog
from ..engine import Engine
from ..engine._lock import check_unlocked
from ..engine._retention import (
    DEFAULT_IDEMPOTENCY_RETENTION,
    DEFAULT_JOURNAL_RETENTION,
    DEFAULT_RETENTION_INTERVAL,
)
from ._admin import admin_app
from ._auth import BearerAuth
from ._body import DEFAULT_MAX_BODY
from ._console import UI_PATH
from ._ingress import ingress_app
from ._state import ServerState

log = logging.getLogger("agentdur.server")

DEFAULT_HOST = LOCALHOST
DEFAULT_GRACE = 10.0
# The console's static files are served without a token: the page asks for it (``/ui`` redirects).
CONSOLE_FILES = (f"{UI_PATH}/",)
# Extra time uvicorn gives open requests after the engine's grace period, before it cancels them.
RESPONSE_GRACE = 5.0
# How long after the grace period a shutdown may still take before the process exits regardless.
SHUTDOWN_BOUND = RESPONSE_GRACE + 5.0


@dataclass(frozen=True)
class ServeOptions:
    """How ``agentdur serve`` runs.

    Attributes:
        host: the interface both servers bind (loopback unless told otherwise).
        port: the ingress port.
        admin_port: the admin API port.
        db: the engine's SQLite file.
        token: when set, both servers require ``Authorization: Bearer <token>`` (health checks excepted).
        max_body: the largest request body accepted, in bytes.
        grace: seconds running steps get to finish at shutdown.
        max_attempts: handler attempts before a failing invocation is paused (engine default if None).
        suspend_after: seconds a waiting invocation stays in memory before it is released (engine
            default if None).
        poison_after: crashes in a row an invocation may be running at before the next start pauses
            it (engine default if None).
        max_entry_size: the largest journal entry in bytes (engine default if None).
        blocked_loop_warning: seconds a handler may hold the event loop before a warning names it
            (engine default if None).
        journal_retention: seconds a completed invocation and its journal are kept (``None``:
            until purged).
        idempotency_retention: seconds an idempotency key answers with its invocation's result; it
            caps the journal retention of such invocations (``None``: until purged).
        retention_interval: seconds between retention sweeps (``None``: no background sweep).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_INGRESS_PORT
    admin_port: int = DEFAULT_ADMIN_PORT
    db: str = "agentdur.db"
    token: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    grace: float = DEFAULT_GRACE
    max_attempts: int | None = None
    suspend_after: float | None = None
    poison_after: int | None = None
    max_entry_size: int | None = None
    blocked_loop_warning: float | None = None
    journal_retention: float | None = DEFAULT_JOURNAL_RETENTION
    idempotency_retention: float | None = DEFAULT_IDEMPOTENCY_RETENTION
    retention_interval: float | None = DEFAULT_RETENTION_INTERVAL


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound before the engine starts so a busy port fails fast and clearly.

    It is made with protocol ``IPPROTO_TCP`` (``socket.create_server`` leaves it 0): asyncio sets
    ``TCP_NODELAY`` only on connections of such a socket, and without it every response whose body
    is written after its headers waited for the client's delayed ACK (about 40 ms).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    return sock


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`run`, which stops both servers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _protect(
    app: ASGIApp, token: str | None, open_paths: frozenset[str], open_prefixes: tuple[str, ...] = ()
) -> ASGIApp:
    return app if token is None else BearerAuth(app, token, open_paths, open_prefixes)


async def run(app: App, options: ServeOptions) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then shut down gracefully.

    Raises:
        DatabaseLockedError: another process owns the database (checked before binding the ports,
            so that starting the same server twice names the owner rather than a busy port).
    """
    check_unlocked(options.db)
    sockets = [listen(options.host, options.port), listen(options.host, options.admin_port)]
    stop = asyncio.Event()
    servers: list[_Server] = []
    _on_signals(stop, servers, options.grace)  # a signal during recovery stops right after it
    engine = _engine(app, options)
    try:
        await engine.start()
    except BaseException as error:
        for sock in sockets:
            sock.close()
        if isinstance(error, (sqlite3.Error, OSError)):
            raise UserError(f"cannot open the journal {options.db!r}: {error}") from error
        raise
    ingress_url, admin_url = (url_of(options.host, sock.getsockname()[1]) for sock in sockets)
    state = ServerState(engine, max_body=options.max_body, ingress_url=ingress_url, admin_url=admin_url)
    servers += [
        _server(_protect(ingress_app(state), options.token, frozenset({"/restate/health"})), options),
        _server(
            _protect(admin_app(state), options.token, frozenset({"/health", UI_PATH}), CONSOLE_FILES), options
        ),
    ]
    tasks = [
        asyncio.create_task(server.serve(sockets=[sock]))
        for server, sock in zip(servers, sockets, strict=True)
    ]
    log.info(
        "serving %s on %s (admin %s, console %s/ui/), journal %s",
        ", ".join(app.services),
        ingress_url,
        admin_url,
        admin_url,
        options.db,
    )
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down: running steps get %.1fs to finish", options.grace)
    state.closing = True
    for server in servers:
        server.should_exit = True
    await engine.close(grace_period=options.grace)
    await asyncio.gather(*tasks, return_exceptions=True)
    stopped.cancel()
    log.info("stopped; unfinished invocations resume at the next start")


def _engine(app: App, options: ServeOptions) -> Engine:
    """The engine with the options given (the engine's own defaults for the others)."""
    given: dict[str, Any] = {
        "suspend_after": options.suspend_after,
        "poison_after": options.poison_after,
        "max_entry_size": options.max_entry_size,
        "blocked_loop_warning": options.blocked_loop_warning,
    }
    if options.max_attempts is not None:
        given["retry_policy"] = InvocationRetryPolicy(max_attempts=options.max_attempts)
    given = {name: value for name, value in given.items() if value is not None}
    return Engine(
        app,
        path=options.db,
        journal_retention=options.journal_retention,  # None here means "kept until purged"
        idempotency_retention=options.idempotency_retention,
        retention_interval=options.retention_interval,
        **given,
    )


def _server(app: ASGIApp, options: ServeOptions) -> _Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        ws="none",
        timeout_graceful_shutdown=int(options.grace + RESPONSE_GRACE),
    )
    return _Server(config)


def _on_signals(stop: asyncio.Event, servers: list[_Server], grace: float) -> None:
    """The first SIGTERM/SIGINT starts the graceful shutdown, bounded by a watchdog thread; the
    second one exits at once, from a plain signal handler that runs even while the loop is blocked."""
    loop = asyncio.get_running_loop()

    def first(sig: signal.Signals) -> None:
        if stop.is_set():
            return
        stop.set()
        for other in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(other)
        exit_on_next(signal.SIGTERM, signal.SIGINT)
        start_watchdog(grace + SHUTDOWN_BOUND)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, first, sig)
