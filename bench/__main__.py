"""``python -m bench <subcommand>``: the benchmark harness of agentdur.

Subcommands:
    engine   the embedded engine against the raw SQLite commit of the same run, with targets.
    profile  the concurrent engine workload under cProfile, per thread.
    compare  the same workloads on agentdur embedded, agentdur on Restate, plain restate-sdk, DBOS on
             SQLite and the raw SQLite commit, in one run and one table, with targets.
    agents   an OpenAI Agents SDK agent (3 model calls, 2 tools) plain, with agentdur in process, on the
             embedded server and on Restate, and with restate-sdk's restate.ext.openai: added latency,
             CPU, journal bytes and RSS per run, concurrent runs, journal bytes per chat turn, resume
             after SIGKILL; and a Google ADK agent likewise (with dbos-google-adk and restate.ext.adk).
    chaos    a randomized SIGKILL campaign against a served app on both engines: kills, invocations,
             violations.
    soak     a steady stream of invocations against ``agentdur serve`` with a short retention: the
             database file size per retention window (it must level off) and its integrity check.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from . import _report
from .engine import run_engine_bench


def _add_engine(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    parser = sub.add_parser(
        "engine",
        help="embedded engine: per-step overhead and throughput vs. the raw SQLite commit",
        description="Measure the raw SQLite commit, the per-step cost of sequential invocations of 0, 10 "
        "and 100 no-op steps, and the throughput of 20 concurrent 10-step invocations; print them against "
        "the targets.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run (seconds; rough figures)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL"),
        default="FULL",
        type=str.upper,
        help="SQLite synchronous mode of the engine and of the raw commit (default FULL)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed (default: always 0)"
    )

    def run(args: argparse.Namespace) -> int:
        result = asyncio.run(run_engine_bench(args.synchronous, quick=args.quick))
        print(_report.render_engine_report(result), flush=True)
        data = _report.engine_json(result)
        if args.json:
            _report.write_json(args.json, data)
            print(f"\nwrote {args.json}")
        return 1 if args.strict and not data["targets"]["all_pass"] else 0

    return run


def _add_profile(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    parser = sub.add_parser(
        "profile",
        help="cProfile the concurrent engine workload (event-loop and writer threads)",
        description="Run the concurrent workload of 'engine' under cProfile and print per-thread CPU time, "
        "commit counters and the top functions of each thread.",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to run the workload (default 5)")
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="FULL", type=str.upper)
    parser.add_argument("--top", type=int, default=30, help="functions to list per thread (default 30)")
    parser.add_argument(
        "--sort", default="tottime", help="pstats sort key (default tottime; e.g. cumulative)"
    )

    def run(args: argparse.Namespace) -> int:
        from .profile import run_profile

        print(run_profile(args.synchronous, args.seconds, args.top, args.sort), flush=True)
        return 0

    return run


def _add_compare(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    parser = sub.add_parser(
        "compare",
        help="the same workloads on agentdur embedded, agentdur on Restate, restate-sdk, DBOS and raw SQLite",
        description="Run sequential invocations of 0, 10 and 100 no-op steps, 20 concurrent 10-step "
        "invocations and a chat object on 100 keys on five columns in one run (agentdur's embedded engine, "
        "agentdur on a restate-server, the same handlers on plain restate-sdk, DBOS on SQLite, the raw "
        "SQLite commit); print them side by side with the targets (~3 minutes; --quick: ~30 s).",
    )
    parser.add_argument("--quick", action="store_true", help="a short run (rough figures)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument(
        "--dbos-journal-mode",
        choices=("WAL", "DELETE"),
        default="WAL",
        type=str.upper,
        help="SQLite journal mode of DBOS's system database: WAL like agentdur (default), or DELETE, "
        "DBOS's own default",
    )
    parser.add_argument(
        "--profile-deployments",
        metavar="DIR",
        help="run both Restate deployments under cProfile and keep their stats in DIR "
        "(agentdur.pstats, plain.pstats); the Restate figures are slower for it",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed (default: always 0)"
    )

    def run(args: argparse.Namespace) -> int:
        from pathlib import Path

        from ._compare_report import compare_json, render_compare_report
        from .compare import run_compare

        profile_dir = Path(args.profile_deployments).resolve() if args.profile_deployments else None
        result = asyncio.run(
            run_compare(args.quick, dbos_journal_mode=args.dbos_journal_mode, profile_dir=profile_dir)
        )
        print(render_compare_report(result), flush=True)
        data = compare_json(result)
        if args.json:
            _report.write_json(args.json, data)
            print(f"\nwrote {args.json}")
        if profile_dir is not None:
            print(f"deployment profiles in {profile_dir}: python -m pstats {profile_dir / 'agentdur.pstats'}")
        return 1 if args.strict and data["targets"]["all_pass"] is False else 0

    return run


def _add_agents(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    parser = sub.add_parser(
        "agents",
        help="an OpenAI Agents SDK and a Google ADK agent, plain and durable on every engine and peer",
        description="OpenAI Agents SDK: one agent (3 model calls, 2 function tools) against the scripted "
        "model server answering after a simulated latency, as the plain SDK, with agentdur in process, on "
        "the embedded server and on Restate, and with restate-sdk's restate.ext.openai on the same "
        "restate-server: added latency (median, p99), CPU, journal bytes and RSS per run; concurrent runs; "
        "journal bytes per chat turn; the time to resume after a SIGKILL; with the targets. Google ADK: "
        "an agent with 3 model calls and 2 tool calls and one with a single model call, as plain ADK, with "
        "DurablePlugin in process, on the embedded server and on Restate, with dbos-google-adk (bench "
        "extra) and with restate.ext.adk: the medians and the overhead per agent turn and per tool round.",
    )
    parser.add_argument(
        "--sdk", choices=("openai", "adk", "all"), default="all", help="which agents (default all)"
    )
    parser.add_argument("--quick", action="store_true", help="a short run (rough figures)")
    parser.add_argument(
        "--runs", type=int, metavar="N", help="sequential runs per agent and column (default 40; --quick: 8)"
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=300.0,
        metavar="MS",
        help="the model server's simulated latency per call, OpenAI part (default 300)",
    )
    parser.add_argument(
        "--concurrent",
        type=int,
        metavar="N",
        help="agent runs started at once, OpenAI part (default 1000; --quick: 20; 0 skips the section)",
    )
    parser.add_argument(
        "--chat-turns",
        type=int,
        metavar="N",
        help="turns of the chat on one key, OpenAI part (default 100; --quick: 10; 0 skips the section)",
    )
    parser.add_argument("--no-resume", action="store_true", help="skip the resume-after-SIGKILL section")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")

    def run(args: argparse.Namespace) -> int:
        for name in ("runs", "concurrent", "chat_turns"):
            value = getattr(args, name)
            if value is not None and value < (1 if name == "runs" else 0):
                parser.error(f"--{name.replace('_', '-')} must be at least {1 if name == 'runs' else 0}")
        if args.latency_ms < 0:
            parser.error("--latency-ms must not be negative")
        data: dict[str, object] = {}
        if args.sdk in ("openai", "all"):
            from .agents_openai import OpenAIOptions, openai_json, render_openai_report, run_openai_bench

            options = OpenAIOptions(
                runs=args.runs if args.runs is not None else 8 if args.quick else 40,
                latency_ms=args.latency_ms,
                concurrent=args.concurrent if args.concurrent is not None else 20 if args.quick else 1000,
                chat_turns=args.chat_turns if args.chat_turns is not None else 10 if args.quick else 100,
                resume=not args.no_resume,
            )
            openai_result = asyncio.run(run_openai_bench(options))
            print(render_openai_report(openai_result), flush=True)
            data["openai"] = openai_json(openai_result)
        if args.sdk in ("adk", "all"):
            from .agents import agents_json, render_agents_report, run_agents_bench

            if "openai" in data:
                print()
            result = asyncio.run(run_agents_bench(args.quick, args.runs))
            print(render_agents_report(result), flush=True)
            data["adk"] = agents_json(result)
        if args.json:
            _report.write_json(args.json, data)
            print(f"\nwrote {args.json}")
        return 0

    return run


def _add_chaos(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    parser = sub.add_parser(
        "chaos",
        help="a randomized SIGKILL campaign against a served app, on both engines",
        description="Send jobs mixing recorded steps, sleeps, parallel steps, awakeables resolved over "
        "HTTP, object state, calls and sends, SIGKILL the process running them at random moments (and "
        "restate-server on Restate), then check every result, step, counter and that nothing is paused.",
    )
    parser.add_argument("--kills", type=int, default=50, metavar="N", help="kills per engine (default 50)")
    parser.add_argument("--engine", choices=("embedded", "restate", "both"), default="both")
    parser.add_argument(
        "--seed", type=int, default=1, help="what the jobs and the kill moments are drawn from"
    )
    parser.add_argument(
        "--workdir", metavar="DIR", help="keep the databases and logs here (default: a temp dir)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")

    def run(args: argparse.Namespace) -> int:
        import tempfile
        from pathlib import Path

        from .chaos import run_chaos

        if args.kills < 1:
            parser.error("--kills must be at least 1")
        engines = ["embedded", "restate"] if args.engine == "both" else [args.engine]
        if args.workdir:
            return run_chaos(engines, args.kills, args.seed, Path(args.workdir), args.json)
        with tempfile.TemporaryDirectory(prefix="agentdur-chaos-") as workdir:
            return run_chaos(engines, args.kills, args.seed, Path(workdir), args.json)

    return run


def _add_soak(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    parser = sub.add_parser(
        "soak",
        help="retention soak: the file size stays bounded under a steady stream of invocations",
        description="Serve a small app with a short retention, stream invocations at it and print the "
        "largest database file size of each retention window, then the integrity check.",
    )
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to stream (default 300)")
    parser.add_argument("--retention", type=float, default=10.0, help="retention in seconds (default 10)")
    parser.add_argument("--interval", type=float, default=1.0, help="sweep interval in seconds (default 1)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")

    def run(args: argparse.Namespace) -> int:
        from dataclasses import asdict

        from .soak import render_soak_report, run_soak

        result = run_soak(args.seconds, args.retention, args.interval, concurrency=args.concurrency)
        print(render_soak_report(result, args.retention), flush=True)
        if args.json:
            _report.write_json(args.json, asdict(result))
            print(f"\nwrote {args.json}")
        return 0 if result.integrity == "ok" else 1

    return run


SUBCOMMANDS = [_add_engine, _add_profile, _add_compare, _add_agents, _add_chaos, _add_soak]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="agentdur benchmark harness")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    runners = {}
    for add in SUBCOMMANDS:
        runner = add(sub)
        runners[list(sub.choices)[-1]] = runner
    args = parser.parse_args(argv)
    return runners[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
