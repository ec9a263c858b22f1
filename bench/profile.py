"""``python -m bench profile``: where the concurrent workload spends its time.

Runs the concurrent workload of ``bench engine`` (20 invocations of 10 no-op steps in flight) under
cProfile, with one profiler on the event-loop thread and one on every thread the engine starts (its
SQLite writer), and prints per thread: CPU time, the top functions, and the engine's commit counters.
Profiling slows the engine down a lot; compare shapes, not absolute throughput.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import sysconfig
import threading
from dataclasses import dataclass, field
from typing import Any

import agentdur

from .engine import (
    CONCURRENCY,
    CONCURRENT_STEPS,
    ConcurrentResult,
    Synchronous,
    _commits,
    _concurrent,
    _with_engine,
)


@dataclass
class _Threads:
    """One profiler per thread started while profiling, enabled from inside that thread."""

    profiles: dict[str, cProfile.Profile] = field(default_factory=dict)
    native_ids: dict[str, int] = field(default_factory=dict)

    def hook(self, *_: Any) -> None:
        thread = threading.current_thread()
        name = f"{thread.name} (thread {thread.native_id})"
        profile = cProfile.Profile()
        self.profiles[name] = profile
        self.native_ids[name] = thread.native_id or 0
        profile.enable()  # replaces this hook for the rest of the thread's life


def _thread_cpu_seconds(native_id: int) -> float | None:
    """User + system CPU seconds of one thread of this process (Linux only)."""
    try:
        with open(f"/proc/self/task/{native_id}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _wchar() -> int | None:
    """Bytes this process passed to write() so far (Linux only)."""
    try:
        with open("/proc/self/io") as handle:
            for line in handle:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _stats_text(profile: cProfile.Profile, sort: str, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(sort).print_stats(top)
    text = out.getvalue()
    prefixes = {os.path.dirname(os.path.dirname(agentdur.__file__))}
    prefixes |= {sysconfig.get_path(p) for p in ("stdlib", "purelib", "platlib")}
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = text.replace(prefix + os.sep, "")
    return text


def run_profile(synchronous: Synchronous, seconds: float, top: int, sort: str) -> str:
    threads = _Threads()
    main_profile = cProfile.Profile()
    lines: list[str] = []

    async def body(engine: agentdur.Engine) -> ConcurrentResult:
        await asyncio.gather(*(engine.call("Bench", "steps", CONCURRENT_STEPS) for _ in range(CONCURRENCY)))
        main_id = threading.get_native_id()
        cpu_before = {name: _thread_cpu_seconds(tid) for name, tid in threads.native_ids.items()}
        main_before = _thread_cpu_seconds(main_id)
        wchar_before, commits_before = _wchar(), _commits(engine)
        main_profile.enable()
        result = await _concurrent(engine, CONCURRENCY, CONCURRENT_STEPS, seconds)
        main_profile.disable()
        commits = None if commits_before is None else (_commits(engine) or 0) - commits_before
        lines.append(
            f"profiled: {CONCURRENCY} x {CONCURRENT_STEPS}-step invocations, synchronous={synchronous}: "
            f"{result.steps_per_s:,.0f} steps/s under the profiler, {result.seconds:.1f} s wall"
        )
        main_after = _thread_cpu_seconds(main_id)
        if main_before is not None and main_after is not None:
            lines.append(
                f"  event-loop thread CPU: {main_after - main_before:.2f} s"
                f" = {(main_after - main_before) / result.steps * 1e6:.1f} µs/step"
            )
        for name, tid in threads.native_ids.items():
            before, after = cpu_before.get(name), _thread_cpu_seconds(tid)
            if before is not None and after is not None:
                lines.append(
                    f"  {name} CPU: {after - before:.2f} s = {(after - before) / result.steps * 1e6:.1f} µs/step"
                )
        if commits:
            lines.append(f"  commits: {commits:,} = {result.steps / commits:.1f} steps/commit")
            wchar_after = _wchar()
            if wchar_before is not None and wchar_after is not None:
                lines.append(
                    f"  write() bytes per commit: {(wchar_after - wchar_before) / commits / 1024:.1f} KiB"
                )
        return result

    threading.setprofile(threads.hook)
    try:
        asyncio.run(_with_engine(synchronous, "profile", body))
    finally:
        threading.setprofile(None)
    lines += ["", "=" * 30 + " event-loop thread", _stats_text(main_profile, sort, top)]
    for name, profile in threads.profiles.items():
        lines += ["=" * 30 + f" {name}", _stats_text(profile, sort, top)]
    return "\n".join(lines)
