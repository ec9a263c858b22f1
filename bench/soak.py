"""``python -m bench soak``: a steady stream of invocations against ``agentdur serve`` with a short
retention; the database file must stop growing after the first retention windows.

The file size (the database plus its write-ahead log) is sampled all along; the report gives the
largest size seen in each retention window. Without retention it grows with every window; with it,
it levels off once the first completed invocations expire and their pages are reused or given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from agentdur.testing import ServedApp

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EVERY = 0.1


@dataclass
class SoakResult:
    """What a soak run measured.

    Attributes:
        window_peaks: the largest database file size (bytes) seen in each retention window, in order.
        window_invocations: invocations completed in each retention window.
        wal_peak: the largest size of the write-ahead log (bounded by SQLite's auto-checkpoint).
        invocations: invocations that completed during the run.
        rows_left: invocation rows in the file at the end (the ones still within the retention).
        integrity: ``PRAGMA integrity_check`` of the file after the server stopped.
        auto_vacuum: the file's auto-vacuum mode (2: incremental).
    """

    window_peaks: list[int] = field(default_factory=list)
    window_invocations: list[int] = field(default_factory=list)
    wal_peak: int = 0

    def bytes_per_retained(self) -> list[float]:
        """Each window's peak size over the invocations of that window and the one before: what the
        retention keeps. Flat once the file stops growing, whatever the request rate does."""
        counts = self.window_invocations
        return [
            peak / max(1, counts[k] + (counts[k - 1] if k else 0)) for k, peak in enumerate(self.window_peaks)
        ]

    invocations: int = 0
    rows_left: int = 0
    integrity: str = ""
    auto_vacuum: int = 0


def file_size(path: Path) -> int:
    """A file's size in bytes (0 while it does not exist)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


async def _stream(url: str, stop: asyncio.Event, concurrency: int, done: list[int]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as http:

        async def worker(offset: int) -> None:
            n = offset
            while not stop.is_set():
                response = await http.post("/Soak/work", json=n)
                response.raise_for_status()
                done[0] += 1
                n += concurrency

        await asyncio.gather(*(worker(i) for i in range(concurrency)))


async def _sample(
    db: Path,
    stop: asyncio.Event,
    window: float,
    done: list[int],
    peaks: list[int],
    counts: list[int],
    wal: list[int],
) -> None:
    """Per retention window: the largest database size and the invocations completed in it."""
    started = time.monotonic()
    counted = 0
    while not stop.is_set():
        index = int((time.monotonic() - started) // window)
        while len(peaks) <= index:
            peaks.append(0)
            counts.append(0)
        peaks[index] = max(peaks[index], file_size(db))
        counts[index] += done[0] - counted
        counted = done[0]
        wal[0] = max(wal[0], file_size(db.with_name(db.name + "-wal")))
        await asyncio.sleep(SAMPLE_EVERY)


async def _drive(
    url: str, db: Path, seconds: float, window: float, concurrency: int, result: SoakResult
) -> None:
    stop = asyncio.Event()
    done, wal = [0], [0]
    peaks: list[int] = []
    counts: list[int] = []
    tasks = [
        asyncio.create_task(_stream(url, stop, concurrency, done)),
        asyncio.create_task(_sample(db, stop, window, done, peaks, counts, wal)),
    ]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        stop.set()
    for task in tasks:
        await task  # a failed request fails the run
    whole = max(1, len(peaks) - 1)  # the last window is partial
    result.window_peaks, result.window_invocations = peaks[:whole], counts[:whole]
    result.invocations, result.wal_peak = done[0], wal[0]


def run_soak(
    seconds: float, retention: float, interval: float, *, concurrency: int = 8, workdir: Path | None = None
) -> SoakResult:
    """Serve the soak app with this retention (seconds) and stream invocations at it for ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="agentdur-soak-") as scratch:
        directory = workdir or Path(scratch)
        db = directory / "soak.db"
        args = [
            "--journal-retention",
            str(retention),
            "--idempotency-retention",
            str(retention),
            "--retention-interval",
            str(interval),
            "--log-level",
            "warning",
        ]
        result = SoakResult()
        with ServedApp("bench._soak_app:app", db=db, args=args, cwd=ROOT) as served:
            asyncio.run(_drive(served.ingress_url, db, seconds, retention, concurrency, result))
            served.stop()
        with contextlib.closing(sqlite3.connect(db)) as conn:
            result.integrity = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
            result.auto_vacuum = int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])
            result.rows_left = int(conn.execute("SELECT count(*) FROM invocations").fetchone()[0])
        return result


def render_soak_report(result: SoakResult, retention: float) -> str:
    """The soak run as text: the peak file size of each retention window, then the totals."""
    lines = [f"retention {retention:g}s; largest database file size per retention window:"]
    lines.append("  window   database  invocations  bytes per retained invocation")
    rows = zip(result.window_peaks, result.window_invocations, result.bytes_per_retained(), strict=True)
    for index, (peak, count, ratio) in enumerate(rows):
        lines.append(f"  {index + 1:6d} {peak / 1024:8.0f} KiB {count:12d} {ratio:12.0f}")
    lines += [
        f"largest write-ahead log: {result.wal_peak / 1024:.0f} KiB",
        f"invocations completed: {result.invocations}",
        f"invocation rows left at the end: {result.rows_left}",
        f"auto_vacuum: {result.auto_vacuum} (2 = incremental); integrity_check: {result.integrity}",
    ]
    return "\n".join(lines)
