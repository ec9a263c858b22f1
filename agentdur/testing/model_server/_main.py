"""``agentdur model-server``: the scripted model server in the foreground, with a request log.

Each answered request is logged on stdout as one line (route, model, status, and what answered it:
a script entry, the default policy, a fault), so a person can see that no model call was repeated.
A script can be given as a JSON file and faults on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ._server import DEFAULT_HOST, ScriptedModelServer
from ._types import ModelError, ModelReply, ModelToolCall, RecordedRequest

CLI_PORT = 8765
SCRIPT_EXAMPLE = (
    '[{"text": "Sunny"}, {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}, '
    '{"error": 429, "retry_after": 1}]'
)


class _ToolCallEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class _ReplyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    tool_calls: list[_ToolCallEntry] = Field(default_factory=list)


class _ErrorEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    error: Annotated[int, Field(ge=400, le=599)]
    message: str | None = None
    retry_after: float | None = None


_SCRIPT = TypeAdapter(list[dict[str, Any]])


def load_script(path: Path) -> list[ModelReply | ModelError]:
    """The answers a JSON script file queues, in order.

    The file holds a list; each entry is ``{"text": ...}``, ``{"tool_calls": [{"name", "arguments"}]}``
    (both may be given), or ``{"error": STATUS, "message": ..., "retry_after": SECONDS}``.

    Raises:
        ValueError: the file cannot be read or an entry is malformed (the message names it).
    """
    try:
        raw = _SCRIPT.validate_json(path.read_bytes())
    except OSError as error:
        raise ValueError(f"cannot read the script {path}: {error.strerror}") from None
    except ValidationError as error:
        raise ValueError(f"{path}: {_first_problem(error)} (expected e.g. {SCRIPT_EXAMPLE})") from None
    answers: list[ModelReply | ModelError] = []
    for index, item in enumerate(raw):
        try:
            answers.append(_answer_of(item))
        except ValidationError as error:
            raise ValueError(
                f"{path}: entry {index}: {_first_problem(error)} (expected e.g. {SCRIPT_EXAMPLE})"
            ) from None
    return answers


def _answer_of(item: dict[str, Any]) -> ModelReply | ModelError:
    if "error" in item:
        failure = _ErrorEntry.model_validate(item)
        return ModelError(failure.error, failure.message, failure.retry_after)
    reply = _ReplyEntry.model_validate(item)
    calls = tuple(ModelToolCall(call.name, call.arguments) for call in reply.tool_calls)
    return ModelReply(text=reply.text, tool_calls=calls)


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def log_line(record: RecordedRequest) -> str:
    """``POST /v1/chat/completions model=gpt-4o -> 200 (script entry 2)``."""
    parts = [record.method, record.path]
    if record.model is not None:
        parts.append(f"model={record.model}")
    outcome = "dropped" if record.dropped else str(record.status)
    parts += ["->", outcome]
    if record.answered_by is not None:
        parts.append(f"({record.answered_by})")
    if record.delay:
        parts.append(f"after {record.delay:g}s")
    return " ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    """The ``agentdur model-server`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="agentdur model-server",
        description="A deterministic offline model provider (OpenAI Chat/Responses and Gemini APIs) for "
        "local runs. Logs one line per request on stdout.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument("--port", type=int, default=CLI_PORT, help=f"port to listen on (default {CLI_PORT})")
    parser.add_argument(
        "--script",
        type=Path,
        metavar="FILE",
        help="a JSON list of answers to give first, in order, before the default policy; e.g. "
        + SCRIPT_EXAMPLE.replace("%", "%%"),
    )
    parser.add_argument(
        "--fail-next",
        type=int,
        default=0,
        metavar="N",
        help="answer the first N model requests with an error",
    )
    parser.add_argument(
        "--fail-status",
        type=int,
        default=429,
        metavar="STATUS",
        help="the HTTP status of --fail-next errors (default 429, sent with retry-after: 1)",
    )
    parser.add_argument(
        "--drop-next",
        type=int,
        default=0,
        metavar="N",
        help="close the connection of N model requests without answering (after the --fail-next ones)",
    )
    parser.add_argument(
        "--delay", type=float, default=0.0, metavar="SECONDS", help="hold back every answer (default 0)"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``agentdur model-server``: serve in the foreground until SIGINT/SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    server = ScriptedModelServer(args.host, args.port, on_request=None if args.quiet else _print_line)
    try:
        _configure(server, args)
    except ValueError as error:
        print(f"agentdur model-server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve_until_signalled(server))
    except OSError as error:  # the port is taken, the host is not ours, ...
        print(f"agentdur model-server: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


def _configure(server: ScriptedModelServer, args: argparse.Namespace) -> None:
    if args.fail_next < 0 or args.drop_next < 0 or args.delay < 0:
        raise ValueError("--fail-next, --drop-next and --delay must not be negative")
    if not 400 <= args.fail_status <= 599:
        raise ValueError(f"--fail-status must be an HTTP error status (400-599), not {args.fail_status}")
    if args.script is not None:
        for answer in load_script(args.script):
            if isinstance(answer, ModelError):
                server.script.error(answer.status, answer.message, retry_after=answer.retry_after)
            else:
                server.script.reply(answer.text, tool_calls=answer.tool_calls)
    if args.fail_next:
        server.faults.fail_next(args.fail_next, args.fail_status)
    if args.drop_next:
        server.faults.drop_next(args.drop_next)
    if args.delay:
        server.faults.delay(args.delay)


def _print_line(record: RecordedRequest) -> None:
    print(log_line(record), flush=True)


async def _serve_until_signalled(server: ScriptedModelServer) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)

    def announce() -> None:
        print(
            f"agentdur model server on {server.url}\n"
            f"  OpenAI (openai, LiteLLM, OpenAI Agents): base_url={server.openai_base_url}\n"
            f"  Gemini (google-genai, ADK):              base_url={server.gemini_base_url}",
            flush=True,
        )

    await server.serve(stopped, on_ready=announce)
