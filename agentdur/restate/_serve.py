"""Serve an App as a Restate deployment (HTTP/2 over cleartext, as restate-server connects)."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from .._exceptions import UserError
from .._http import DEFAULT_DEPLOYMENT_PORT, LOCALHOST
from .._loop_watch import DEFAULT_BLOCKED_LOOP_WARNING, LoopWatch, app_describer
from .._options import InvocationRetryPolicy
from .._service import App
from .._shutdown import exit_now, start_watchdog
from ._app import restate_app

log = logging.getLogger("agentdur.restate")


def register_deployment(
    admin_url: str, uri: str, *, token: str | None = None, force: bool = True
) -> dict[str, Any]:
    """Register ``uri`` as a deployment with a restate-server's admin API and return its answer."""
    request = urllib.request.Request(
        admin_url.rstrip("/") + "/deployments",
        data=json.dumps({"uri": uri, "force": force}).encode(),
        method="POST",
        headers={
            "content-type": "application/json",
            **({"authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.loads(response.read().decode() or "{}")
            return answer
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"registering {uri} with {admin_url} failed ({error.code}): {error.read().decode()}"
        ) from None


# How long a starting deployment keeps trying to reach restate-server's admin API (a restate-server
# restarting beside it, or started a moment later) before it gives up.
REGISTER_WITHIN = 120.0


async def register_when_reachable(
    admin_url: str, uri: str, *, within: float = REGISTER_WITHIN, first_delay: float = 0.5
) -> dict[str, Any]:
    """Register ``uri``, retrying while the admin API cannot be reached (connection refused, a
    timeout), with a growing delay, for ``within`` seconds; an HTTP error answer is final.

    Raises:
        UserError: the admin API answered with an error, or stayed unreachable for ``within`` s.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    delay = first_delay
    while True:
        try:
            return await asyncio.to_thread(register_deployment, admin_url, uri)
        except RuntimeError as refused:  # the admin API answered with an error: final
            raise UserError(str(refused)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if loop.time() + delay > deadline:
                raise UserError(
                    f"cannot register {uri}: restate-server's admin API at {admin_url} stayed "
                    f"unreachable for {within:.0f} s ({reason})"
                ) from None
            log.warning(
                "restate-server's admin API at %s is not reachable (%s); retrying the registration in %.1f s",
                admin_url,
                reason,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def serve(
    app: App,
    *,
    host: str = LOCALHOST,
    port: int = DEFAULT_DEPLOYMENT_PORT,
    register: str | None = None,
    advertised_uri: str | None = None,
    retry_policy: InvocationRetryPolicy | None = None,
    shutdown: asyncio.Event | None = None,
) -> None:
    """Serve ``app`` as a Restate deployment until ``shutdown`` is set.

    Args:
        register: a restate-server admin URL to register this deployment with once it listens.
        advertised_uri: the URI restate-server uses to reach this deployment (default ``http://host:port``).
    """
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    stop = shutdown or asyncio.Event()
    watch = LoopWatch(asyncio.get_running_loop(), DEFAULT_BLOCKED_LOOP_WARNING, app_describer(app))
    watch.start()
    server = asyncio.ensure_future(
        hypercorn_serve(
            _with_lifespan(restate_app(app, retry_policy)), config, shutdown_trigger=stop.wait, mode="asgi"
        )
    )
    try:
        if register:
            await _wait_listening(host, port, server)
            uri = advertised_uri or f"http://{host}:{port}"
            answer = await register_when_reachable(register, uri)
            log.info("registered %s with %s as %s", uri, register, answer.get("id"))
        await server
    finally:
        watch.stop()
        stop.set()
        if not server.done():
            await server


# How long a deployment's shutdown may take after SIGTERM before the process exits regardless.
SHUTDOWN_BOUND = 30.0


async def run_deployment(
    app: App,
    *,
    host: str = LOCALHOST,
    port: int = DEFAULT_DEPLOYMENT_PORT,
    register: str | None = None,
    advertised_uri: str | None = None,
    retry_policy: InvocationRetryPolicy | None = None,
) -> None:
    """Serve ``app`` as a Restate deployment until SIGTERM or SIGINT (what ``agentdur serve
    --backend restate`` runs)."""
    import signal

    from restate.server import install_shutdown_hook

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        # The first signal shuts down gracefully, within a bound; the second one exits at once.
        if stop.is_set():
            exit_now("second signal")
        stop.set()
        start_watchdog(SHUTDOWN_BOUND)

    # restate-sdk installs its own SIGTERM dispatcher on its first request, replacing any plain
    # loop handler; its hook registry is the one place a SIGTERM handler survives that.
    install_shutdown_hook(loop, on_signal, signal.SIGTERM)
    loop.add_signal_handler(signal.SIGINT, on_signal)
    await serve(
        app,
        host=host,
        port=port,
        register=register,
        advertised_uri=advertised_uri,
        retry_policy=retry_policy,
        shutdown=stop,
    )


async def _wait_listening(host: str, port: int, server: asyncio.Future[Any], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if server.done():
            server.result()  # raises why it stopped
            raise RuntimeError("the deployment server stopped before listening")
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"the deployment server did not listen on {host}:{port} within {within}s")


def deployment_asgi(app: App, retry_policy: InvocationRetryPolicy | None = None) -> Any:
    """``app``'s Restate deployment as an ASGI app for any ASGI server (lifespan answered)."""
    return _with_lifespan(restate_app(app, retry_policy))


class DeploymentApp(App):
    """An :class:`~agentdur.App` that is also the ASGI app of its Restate deployment, as an app made
    by restate-sdk's ``restate.app(services=[...])`` is: ``hypercorn module:app`` serves it."""

    _asgi: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._asgi is None:
            self._asgi = deployment_asgi(self)
        await self._asgi(scope, receive, send)


def _with_lifespan(inner: Any) -> Any:
    """restate-sdk's ASGI app has no lifespan support; answer the lifespan protocol in front of it."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await inner(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return asgi
