"""The ``agentdur`` command: serve an app, and operate a running server through its admin API.

Every command except ``serve`` is an HTTP client (admin API, or the ingress for ``resolve`` and
``reject``), so it works the same against a local or a remote server. Output is an aligned table, or
the server's JSON with ``--json``; a failure prints one ``error:`` line and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TextIO
from urllib.parse import quote

import httpx

from ._exceptions import TerminalError, UserError
from ._http import (
    DEFAULT_ADMIN_PORT,
    DEFAULT_ADMIN_URL,
    DEFAULT_DEPLOYMENT_PORT,
    DEFAULT_INGRESS_PORT,
    DEFAULT_INGRESS_URL,
    FIRST_HTTP_ERROR,
    HTTP_UNAUTHORIZED,
    LOCALHOST,
)
from ._watch import cmd_watch
from .client import Client, error_from_response

TOKEN_ENV = "AGENTDUR_TOKEN"
ADMIN_URL_ENV = "AGENTDUR_ADMIN_URL"
INGRESS_URL_ENV = "AGENTDUR_INGRESS_URL"
LOG_LEVEL_ENV = "AGENTDUR_LOG_LEVEL"
SUSPEND_AFTER_ENV = "AGENTDUR_SUSPEND_AFTER"
# Retention options of ``serve``: (flag, environment variable, default shown in --help, what it sets).
RETENTION_OPTIONS = (
    (
        "--journal-retention",
        "AGENTDUR_JOURNAL_RETENTION",
        "1d",
        "how long a completed invocation and its journal are kept",
    ),
    (
        "--idempotency-retention",
        "AGENTDUR_IDEMPOTENCY_RETENTION",
        "1d",
        "how long an idempotency key answers with its invocation's result; caps the journal retention "
        "of such invocations",
    ),
    (
        "--retention-interval",
        "AGENTDUR_RETENTION_INTERVAL",
        "1m",
        "how often expired invocations are removed",
    ),
)


def _env_float(name: str) -> float | None:
    """A float option's default from the environment (``None`` when unset or empty)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise SystemExit(f"agentdur: ${name} must be a number of seconds, not {text!r}") from None


EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
CELL_WIDTH = 60

Command = Callable[[argparse.Namespace, TextIO], int]

# ====================================================================== output


def table(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under headers in left-aligned columns (cells cut at ``CELL_WIDTH``).

    On a terminal that takes colour (and without ``NO_COLOR``) the table is drawn with rich; piped
    or redirected, it is plain aligned text that scripts can split on whitespace.
    """
    cells = [[_cell(value) for value in row] for row in rows]
    if _colour(out):
        _rich_table(out, headers, cells)
        return
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        out.write(
            "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() + "\n"
        )


def _colour(out: TextIO) -> bool:
    """Whether ``out`` is a terminal that takes colour (``NO_COLOR`` set: no; ``FORCE_COLOR``: yes)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _rich_table(out: TextIO, headers: Sequence[str], cells: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    drawn = Table(*headers, header_style="bold cyan", box=None, pad_edge=False)
    for row in cells:
        drawn.add_row(*(_styled(value) for value in row))
    Console(file=out, force_terminal=True, soft_wrap=True).print(drawn)


STATUS_STYLES = {
    "completed": "green",
    "succeeded": "green",
    "running": "yellow",
    "pending": "yellow",
    "suspended": "blue",
    "backing-off": "magenta",
    "paused": "bold red",
    "failed": "red",
    "cancelled": "red",
    "killed": "red",
    "abandoned": "dim",
}


def _styled(value: str) -> Any:
    from rich.text import Text

    return Text(value, style=STATUS_STYLES.get(value, ""))


def _cell(value: Any) -> str:
    text = "-" if value is None or value == "" else str(value)
    text = " ".join(text.split())
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def compact(value: Any) -> str:
    """A JSON value on one line."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def when(timestamp: str | None) -> str | None:
    """``2026-05-01T12:00:03.123456Z`` as ``2026-05-01 12:00:03`` (UTC)."""
    return None if timestamp is None else timestamp.replace("T", " ")[:19]


def schema_summary(schema: dict[str, Any] | None) -> str:
    """A short name for a JSON schema: the model name, the type, or ``-`` for no input."""
    if schema is None:
        return "-"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(schema_summary(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "object" and "title" in schema:
        return str(schema["title"])
    if kind == "array":
        return f"array[{schema_summary(schema.get('items', {}))}]"
    return str(kind) if kind else "any"


def target_of(item: dict[str, Any]) -> str:
    """``Service/handler`` or ``Object/key/handler``."""
    key = item.get("key")
    return (
        f"{item['service']}/{key}/{item['handler']}"
        if key is not None
        else f"{item['service']}/{item['handler']}"
    )


# ====================================================================== HTTP


def _headers(args: argparse.Namespace) -> dict[str, str]:
    return {"authorization": f"Bearer {args.token}"} if args.token else {}


def admin(args: argparse.Namespace, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """One admin API request; its JSON, or a TerminalError carrying the server's message."""
    with httpx.Client(base_url=args.admin_url.rstrip("/"), headers=_headers(args), timeout=30.0) as http:
        response = http.request(
            method, path, params={k: v for k, v in (params or {}).items() if v is not None}
        )
    if response.status_code >= FIRST_HTTP_ERROR:
        raise error_from_response(response)
    return response.json()


def _emit_json(out: TextIO, payload: Any) -> int:
    out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return 0


# ====================================================================== commands


def cmd_services(args: argparse.Namespace, out: TextIO) -> int:
    payload = admin(args, "GET", f"/services/{quote(args.name, safe='')}" if args.name else "/services")
    if args.json:
        return _emit_json(out, payload)
    services = [payload] if args.name else payload["services"]
    rows = [
        (
            s["name"],
            s["ty"],
            h["name"],
            h["kind"],
            schema_summary(h["input_json_schema"]),
            schema_summary(h["output_json_schema"]),
        )
        for s in services
        for h in s["handlers"]
    ]
    if not rows:
        out.write("no services\n")
        return 0
    table(out, ("SERVICE", "TYPE", "HANDLER", "KIND", "INPUT", "OUTPUT"), rows)
    return 0


def cmd_invocations(args: argparse.Namespace, out: TextIO) -> int:
    params = {
        "status": args.status,
        "outcome": args.outcome,
        "service": args.service,
        "key": args.key,
        "limit": args.limit,
    }
    payload = admin(args, "GET", "/invocations", params)
    if args.json:
        return _emit_json(out, payload)
    items = payload["invocations"]
    if not items:
        out.write("no invocations\n")
        return 0
    rows = [
        (
            i["id"],
            target_of(i),
            i["status"],
            i.get("outcome"),
            i["attempts"],
            when(i["created_at"]),
            _error_of(i),
        )
        for i in items
    ]
    table(out, ("ID", "TARGET", "STATUS", "OUTCOME", "ATTEMPTS", "CREATED", "ERROR"), rows)
    return 0


def _error_of(info: dict[str, Any]) -> str | None:
    """The failure of a failed invocation, or the last error of one that is paused or retrying."""
    if info["failure"] and info.get("outcome") == "failed":
        return str(info["failure"]["message"])
    if info["status"] != "completed":
        return info["last_error"]  # type: ignore[no-any-return]
    return None


def cmd_journal(args: argparse.Namespace, out: TextIO) -> int:
    info = admin(args, "GET", f"/invocations/{quote(args.id, safe='')}")
    if args.json:
        return _emit_json(out, info)
    _print_facts(out, info)
    out.write("\n")
    _print_journal(out, info)
    return 0


def cmd_invocation(args: argparse.Namespace, out: TextIO) -> int:
    """A readable summary: status, outcome, attempts, the last error with its traceback, the journal."""
    info = admin(args, "GET", f"/invocations/{quote(args.id, safe='')}")
    if args.json:
        return _emit_json(out, info)
    _print_facts(out, info)
    error = info.get("error")
    if error and (info["status"] != "completed" or info.get("outcome") != "succeeded"):
        out.write(
            "\n" + (error.get("traceback") or f"{error['type']}: {error['message']}").rstrip("\n") + "\n"
        )
    if info["status"] == "paused":
        out.write(f"\nfix the cause, then: agentdur resume {info['id']}\n")
    out.write("\n")
    _print_journal(out, info)
    return 0


def _print_facts(out: TextIO, info: dict[str, Any]) -> None:
    facts: list[tuple[str, Any]] = [
        ("invocation", info["id"]),
        ("target", target_of(info)),
        ("status", info["status"]),
        ("outcome", info.get("outcome")),
        ("attempts", info["attempts"]),
        ("created", when(info["created_at"])),
        ("input", compact(info["input"])),
    ]
    if info["failure"]:
        facts.append(("failure", f"[{info['failure']['code']}] {info['failure']['message']}"))
    elif info["status"] == "completed":
        facts.append(("result", compact(info["result"])))
    if info["last_error"]:
        facts.append(("last error", info["last_error"]))
    width = max(len(name) for name, _ in facts)
    for name, value in facts:
        out.write(f"{name.ljust(width)}  {_cell(value)}\n")


def _print_journal(out: TextIO, info: dict[str, Any]) -> None:
    if not info["journal"]:
        out.write("no journal entries\n")
        return
    rows = [
        (
            e["index"],
            e["kind"],
            e["name"],
            e["status"],
            when(e.get("started_at")),
            duration_text(e.get("duration"), e["status"]),
            _entry_outcome(e),
        )
        for e in info["journal"]
    ]
    table(out, ("INDEX", "KIND", "NAME", "STATUS", "STARTED", "DURATION", "VALUE"), rows)


def duration_text(seconds: float | None, status: str) -> str | None:
    """A step's duration: ``12ms``, ``3.2s``, ``4m05s``; ``running`` for a step executing now."""
    if seconds is None:
        return status if status in ("running", "pending", "abandoned") else None
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def _entry_outcome(entry: dict[str, Any]) -> str | None:
    if entry["failure"]:
        return f"[{entry['failure']['code']}] {entry['failure']['message']}"
    if entry["status"] in ("pending", "running", "abandoned"):
        return None if entry["target"] is None else str(entry["target"])
    return compact(entry["value"])


OPERATION_WORDS = {
    "cancel": "cancellation requested for",
    "kill": "killed",
    "resume": "resumed",
    "purge": "purged",
}


def cmd_operate(args: argparse.Namespace, out: TextIO) -> int:
    payload = admin(args, "PATCH", f"/invocations/{quote(args.id, safe='')}/{args.command}")
    if args.json:
        return _emit_json(out, payload)
    status = "" if args.command == "purge" else f" (status: {payload['status']})"
    out.write(f"{OPERATION_WORDS[args.command]} {args.id}{status}\n")
    return 0


def cmd_purge(args: argparse.Namespace, out: TextIO) -> int:
    """``agentdur purge ID`` or ``agentdur purge --completed-before TIME``."""
    if (args.id is None) == (args.completed_before is None):
        raise UserError("give either an invocation ID or --completed-before TIME (not both)")
    if args.id is not None:
        return cmd_operate(args, out)
    payload = admin(args, "POST", "/invocations/purge", {"completed_before": args.completed_before})
    if args.json:
        return _emit_json(out, payload)
    out.write(f"purged {payload['purged']} invocation(s) completed before {payload['completed_before']}\n")
    return 0


def cmd_approvals(args: argparse.Namespace, out: TextIO) -> int:
    payload = admin(args, "GET", "/awakeables")
    if args.json:
        return _emit_json(out, payload)
    items = payload["awakeables"]
    if not items:
        out.write("no pending approvals\n")
        return 0
    rows = [
        (
            a["id"],
            a["invocation_id"],
            target_of(a),
            a["index"],
            a["description"],
            when(a["created_at"]),
            expected_value(a),
        )
        for a in items
    ]
    headers = ("AWAKEABLE", "INVOCATION", "TARGET", "STEP", "DESCRIPTION", "WAITING SINCE", "EXPECTS")
    table(out, headers, rows)
    return 0


def expected_value(item: dict[str, Any]) -> str:
    """What to resolve a pending awakeable with: an example body, or ``any JSON``."""
    if item.get("value_schema") is None:
        return "any JSON"
    return compact(item.get("example"))


def parse_value(text: str) -> Any:
    """VALUE as JSON, or as a JSON string when it does not parse (``approved`` means ``"approved"``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_resolve(args: argparse.Namespace, out: TextIO) -> int:
    with Client(args.ingress_url, token=args.token, timeout=30.0) as client:
        if args.command == "resolve":
            client.resolve_awakeable(args.id, parse_value(args.value))
        else:
            client.reject_awakeable(args.id, args.message)
    status = "Resolved" if args.command == "resolve" else "Rejected"
    if args.json:
        return _emit_json(out, {"awakeableId": args.id, "status": status})
    out.write(f"{status.lower()} {args.id}\n")
    return 0


def cmd_invoke(args: argparse.Namespace, out: TextIO) -> int:
    """``agentdur call|send SERVICE/HANDLER [KEY] [JSON]`` through the ingress."""
    service, _, handler = args.target.partition("/")
    if not service or not handler or "/" in handler:
        raise UserError(f"expected SERVICE/HANDLER (like Greeter/greet), got {args.target!r}")
    keyed = _is_keyed(args, service)
    rest = list(args.args)
    key = rest.pop(0) if keyed and rest else None
    if keyed and key is None:
        raise UserError(
            f"{service} is keyed: give the key, as in agentdur {args.command} {args.target} KEY [JSON]"
        )
    if len(rest) > 1:
        raise UserError(
            f"too many arguments: {args.command} takes SERVICE/HANDLER [KEY] [JSON], got {args.args!r}"
        )
    value = parse_value(rest[0]) if rest else None
    with Client(args.ingress_url, token=args.token, timeout=args.timeout) as client:
        if args.command == "call":
            result = client.call(service, handler, value, key=key, idempotency_key=args.idempotency_key)
            return _emit_json(out, result)
        delay = None if args.delay is None else parse_delay(args.delay)
        invocation_id = client.send(
            service, handler, value, key=key, idempotency_key=args.idempotency_key, delay=delay
        )
    if args.json:
        return _emit_json(out, {"invocationId": invocation_id})
    out.write(f"{invocation_id}\n")
    return 0


def _is_keyed(args: argparse.Namespace, service: str) -> bool:
    """Whether ``service`` takes a key (a virtual object or workflow), from the admin API."""
    return bool(admin(args, "GET", f"/services/{quote(service, safe='')}").get("ty") != "Service")


def parse_delay(text: str) -> float:
    """``--delay``: seconds (``30``), or a duration such as ``10s``, ``1h30m``, ``PT10S``."""
    try:
        return float(text)
    except ValueError:
        from .server._durations import parse_delay as parse_duration

        try:
            return parse_duration(text)
        except TerminalError as error:
            raise UserError(error.message) from None


def cmd_state(args: argparse.Namespace, out: TextIO) -> int:
    payload = admin(args, "GET", f"/state/{quote(args.service, safe='')}/{quote(args.key, safe='')}")
    if args.json:
        return _emit_json(out, payload)
    if not payload["state"]:
        out.write(f"no state for {args.service}/{args.key}\n")
        return 0
    table(out, ("NAME", "VALUE"), [(name, compact(value)) for name, value in payload["state"].items()])
    return 0


def cmd_usage(args: argparse.Namespace, out: TextIO) -> int:
    payload = admin(args, "GET", "/usage", {"by": args.by, "since": args.since})
    if args.json:
        return _emit_json(out, payload)
    rows = [*payload["rows"], {"group": "TOTAL", **payload["total"]}]
    table(
        out,
        (args.by.upper(), "INVOCATIONS", "CALLS", "IN", "OUT", "CACHED", "COST $", "SAVED CALLS", "SAVED $"),
        [
            (
                row["group"],
                str(row["invocations"]),
                str(row["model_calls"]),
                str(row["input_tokens"]),
                str(row["output_tokens"]),
                str(row["cached_tokens"]),
                f"{row['cost_usd']:.6f}",
                str(row["saved_model_calls"]),
                f"{row['saved_cost_usd']:.6f}",
            )
            for row in rows
        ],
    )
    return 0


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from ._loader import load_app
    from .server import ServeOptions, run
    from .tracing import configure_from_env

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    configure_from_env()  # OTEL_TRACES_EXPORTER=console|otlp turns tracing on
    try:
        app = load_app(args.target)
    except UserError:
        raise
    except Exception as error:  # the user's module failed while importing: say where, briefly
        where = traceback.extract_tb(error.__traceback__)[-1]
        raise UserError(
            f"importing {args.target} failed: {type(error).__name__}: {error} ({where.filename}:{where.lineno})"
        ) from error
    if args.backend == "restate":
        return _serve_restate(app, args)
    if args.register or args.advertised_uri:
        raise UserError("--register and --advertised-uri only apply with --backend restate")
    given = {
        "host": args.host,
        "port": args.port,
        "admin_port": args.admin_port,
        "db": args.db,
        "token": args.token or None,
        "max_body": args.max_body,
        "grace": args.grace,
        "max_attempts": args.max_attempts,
        "suspend_after": args.suspend_after,
        "poison_after": args.poison_after,
        "max_entry_size": args.max_entry_size,
        "blocked_loop_warning": args.blocked_loop_warning,
    }
    given = {name: value for name, value in given.items() if value is not None}
    options = ServeOptions(**given, **_retention_options(args))
    asyncio.run(run(app, options))
    return 0


def _retention_options(args: argparse.Namespace) -> dict[str, Any]:
    """The retention options given (flag or environment): seconds, or ``None`` for ``off``."""
    from ._exceptions import InvalidInputError
    from .server._durations import parse_delay

    given: dict[str, Any] = {}
    for flag, _, _, _ in RETENTION_OPTIONS:
        name = flag[2:].replace("-", "_")
        text = getattr(args, name)
        if text is None:
            continue
        if text.strip().lower() in ("off", "none", "forever"):
            given[name] = None
            continue
        try:
            given[name] = float(text) if text.strip().replace(".", "", 1).isdigit() else parse_delay(text)
        except InvalidInputError as error:
            raise UserError(f"{flag}: {error.message}") from None
    return given


def _serve_restate(app: Any, args: argparse.Namespace) -> int:
    """Serve the app as a Restate deployment (restate-server runs the journal, not us)."""
    try:
        from .restate._serve import run_deployment
    except ImportError as error:
        raise UserError(str(error)) from None
    embedded_only = {
        "--admin-port": args.admin_port,
        "--db": args.db,
        "--max-body": args.max_body,
        "--grace": args.grace,
        "--suspend-after": args.suspend_after,
        "--poison-after": args.poison_after,
        "--max-entry-size": args.max_entry_size,
        "--blocked-loop-warning": args.blocked_loop_warning,
        **{flag: getattr(args, flag[2:].replace("-", "_")) for flag, _, _, _ in RETENTION_OPTIONS},
    }
    given = [flag for flag, value in embedded_only.items() if value]
    if given:
        raise UserError(f"{', '.join(given)} only apply to the embedded backend; restate-server owns them")
    policy = None
    if args.max_attempts:
        from ._options import InvocationRetryPolicy

        policy = InvocationRetryPolicy(max_attempts=args.max_attempts)
    asyncio.run(
        run_deployment(
            app,
            host=args.host or LOCALHOST,
            port=args.port or DEFAULT_DEPLOYMENT_PORT,
            register=args.register,
            advertised_uri=args.advertised_uri,
            retry_policy=policy,
        )
    )
    return 0


# ====================================================================== parser


def build_parser() -> argparse.ArgumentParser:
    """The ``agentdur`` argument parser."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="agentdur", description="Durable AI agents: serve and operate.")
    parser.add_argument("--version", action="version", version=f"agentdur {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    client = argparse.ArgumentParser(add_help=False)
    client.add_argument(
        "--admin-url",
        default=os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL),
        help=f"the server's admin API (default {DEFAULT_ADMIN_URL}; ${ADMIN_URL_ENV})",
    )
    client.add_argument(
        "--ingress-url",
        default=os.environ.get(INGRESS_URL_ENV, DEFAULT_INGRESS_URL),
        help=f"the server's ingress, for resolve and reject (default {DEFAULT_INGRESS_URL}; ${INGRESS_URL_ENV})",
    )
    client.add_argument(
        "--token", default=os.environ.get(TOKEN_ENV), help=f"bearer token (default ${TOKEN_ENV})"
    )
    client.add_argument("--json", action="store_true", help="print JSON for scripts")

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[client], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    _add_serve(commands)
    # Listed for --help only: main() hands `model-server ...` to the model server's own parser.
    commands.add_parser(
        "model-server", help="run the scripted model server (OpenAI and Gemini APIs, offline, deterministic)"
    )
    add("services", cmd_services, "list services, handlers and their input/output types").add_argument(
        "name", nargs="?", help="only this service"
    )
    listing = add("invocations", cmd_invocations, "list invocations, newest first")
    listing.add_argument(
        "--status",
        help="scheduled, pending, ready, running, suspended, backing-off, paused, completed; or an "
        "outcome: succeeded, failed (also matches paused ones), cancelled, killed",
    )
    listing.add_argument("--outcome", help="succeeded, failed (also matches paused ones), cancelled, killed")
    listing.add_argument("--service", help="only this service's invocations")
    listing.add_argument("--key", help="only this object key's invocations")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add("journal", cmd_journal, "show an invocation and its journal, with step durations").add_argument("id")
    add(
        "invocation",
        cmd_invocation,
        "show an invocation: status, outcome, last error with traceback, journal",
    ).add_argument("id")
    for verb, text in (
        ("cancel", "cancel an invocation (its compensation runs)"),
        ("kill", "kill an invocation at once, without compensation"),
        ("resume", "resume a paused invocation"),
    ):
        add(verb, cmd_operate, text).add_argument("id")
    purge = add(
        "purge", cmd_purge, "delete a completed invocation and its journal, or all completed before a time"
    )
    purge.add_argument("id", nargs="?")
    purge.add_argument(
        "--completed-before",
        metavar="TIME",
        help="delete every invocation completed before TIME: an ISO 8601 time (2026-01-31T12:00:00Z) or "
        "a duration meaning that long ago (7d, 12h, P7D)",
    )
    add("approvals", cmd_approvals, "list pending awakeables: the approvals inbox")
    resolve = add("resolve", cmd_resolve, "resolve an awakeable with a JSON value")
    resolve.add_argument("id")
    resolve.add_argument("value", help="JSON; text that is not JSON is sent as a JSON string")
    reject = add("reject", cmd_resolve, "reject an awakeable with a reason")
    reject.add_argument("id")
    reject.add_argument("message")
    for verb, text in (
        ("call", "call a handler and print its JSON result"),
        ("send", "start a handler without waiting; prints the invocation id"),
    ):
        invoke = add(verb, cmd_invoke, text)
        invoke.add_argument("target", metavar="SERVICE/HANDLER")
        invoke.add_argument(
            "args",
            nargs="*",
            metavar="[KEY] [JSON]",
            help="the object key (virtual objects and workflows), then the input as JSON; text that is "
            "not JSON is sent as a JSON string",
        )
        invoke.add_argument("--idempotency-key", help="the same key names the same invocation: it runs once")
        invoke.add_argument(
            "--timeout", type=float, default=None, help="seconds to wait for the answer (default: no limit)"
        )
        if verb == "send":
            invoke.add_argument(
                "--delay", help="start it later: seconds, or a duration like 10s, 1h30m, PT10S"
            )
    watch = add("watch", cmd_watch, "follow an invocation: its live output and journal, then its outcome")
    watch.add_argument("id")
    watch.add_argument(
        "--reconnect",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="keep retrying this long when the server is away (default 60)",
    )
    state = add("state", cmd_state, "show the state of one virtual object key")
    state.add_argument("service")
    state.add_argument("key")
    usage = add("usage", cmd_usage, "tokens and cost of model calls: spent, and saved by replay")
    usage.add_argument("--by", choices=["service", "key", "model", "invocation"], default="service")
    usage.add_argument("--since", help="ISO 8601 time, e.g. 2026-12-01T00:00:00Z")
    return parser


def _add_serve(commands: Any) -> None:
    # Defaults left as None take ServeOptions' own (not imported here: client commands stay light).
    serve = commands.add_parser(
        "serve", help="serve an app: ingress and admin API", description="Serve an agentdur.App."
    )
    serve.set_defaults(handler=cmd_serve)
    serve.add_argument("target", help="module:app, imported with the current directory on sys.path")
    serve.add_argument("--host", help=f"interface to bind (default {LOCALHOST})")
    serve.add_argument("--port", type=int, help=f"ingress port (default {DEFAULT_INGRESS_PORT})")
    serve.add_argument("--admin-port", type=int, help=f"admin API port (default {DEFAULT_ADMIN_PORT})")
    serve.add_argument("--db", help="SQLite journal file (default agentdur.db)")
    serve.add_argument(
        "--token", default=os.environ.get(TOKEN_ENV), help=f"require this bearer token (default ${TOKEN_ENV})"
    )
    serve.add_argument("--max-body", type=int, help="largest request body in bytes (default 10 MiB)")
    serve.add_argument(
        "--grace", type=float, help="seconds running steps get to finish at shutdown (default 10)"
    )
    serve.add_argument(
        "--max-attempts", type=int, help="handler attempts before an invocation is paused (default 10)"
    )
    serve.add_argument(
        "--suspend-after",
        type=float,
        default=_env_float(SUSPEND_AFTER_ENV),
        metavar="SECONDS",
        help="seconds an invocation that only waits (timer, approval, call) stays in memory before it is "
        f"released and later resumed by replay (default 10; ${SUSPEND_AFTER_ENV})",
    )
    for flag, env, default, text in RETENTION_OPTIONS:
        serve.add_argument(
            flag,
            default=os.environ.get(env) or None,
            metavar="DURATION",
            help=f"{text}: seconds or a duration like 7d, 12h, P7D; off disables (default {default}; ${env})",
        )
    serve.add_argument(
        "--poison-after",
        type=int,
        metavar="N",
        help="pause, at start, an invocation that was running at N crashes in a row (default 3)",
    )
    serve.add_argument(
        "--max-entry-size", type=int, metavar="BYTES", help="largest journal entry (default 32 MiB)"
    )
    serve.add_argument(
        "--blocked-loop-warning",
        type=float,
        metavar="SECONDS",
        help="warn (once per handler) when a handler holds the event loop this long (default 1)",
    )
    serve.add_argument(
        "--log-level",
        default=os.environ.get(LOG_LEVEL_ENV, "info").lower(),
        choices=["debug", "info", "warning", "error"],
        help=f"how much the server logs (default info; ${LOG_LEVEL_ENV})",
    )
    serve.add_argument(
        "--backend",
        choices=["embedded", "restate"],
        default="embedded",
        help="embedded: our SQLite engine (default); restate: a deployment for a restate-server "
        f"(default port {DEFAULT_DEPLOYMENT_PORT})",
    )
    serve.add_argument(
        "--register", metavar="ADMIN_URL", help="restate backend: register with this restate-server"
    )
    serve.add_argument("--advertised-uri", help="restate backend: the URI restate-server uses to reach us")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``agentdur`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["model-server"]:
        from .testing.model_server import main as model_server_main

        return model_server_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, sys.stdout))
    except TerminalError as error:
        hint = f"; pass --token or set {TOKEN_ENV}" if error.status_code == HTTP_UNAUTHORIZED else ""
        print(f"error: {error.message} (HTTP {error.status_code}){hint}", file=sys.stderr)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
    except httpx.HTTPError as error:
        print(f"error: cannot reach {_url_of(error)}: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_FAILURE


def _url_of(error: httpx.HTTPError) -> str:
    try:
        return str(error.request.url)
    except RuntimeError:
        return "the server"
