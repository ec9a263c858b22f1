"""Demo: kill a durable pipeline with SIGKILL in the middle of step 3, restart it, count step runs.

``python -m examples.durable_pipeline`` (from the repository root). The pipeline runs in a child
process on a SQLite file; the parent kills that process while step 3 is in flight, reopens the
engine on the same file (which resumes the unfinished invocation) and proves from the side-effect
log and the journal that completed steps were replayed, not re-executed. Exit status 0 when every
step ran exactly once, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import agentdur

from .app import EFFECTS_LOG_ENV, HANG_AT_ENV, STEPS, Claim, app

CRASH_IN = "Convert currency"  # the step in flight when the process is killed
IDEMPOTENCY_KEY = "claim-42"
CLAIM = Claim(
    claim_id="claim-42",
    customer="Ada Lovelace",
    text="Burst pipe in the kitchen, water damage to floor and cabinets.",
    amount=1850.0,
    currency="USD",
)
REPO_ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 20.0


class DemoError(Exception):
    """The demo could not run, or an invariant it checks was violated."""


# ------------------------------------------------------------------ the child: runs until killed


async def child(db: str) -> None:
    async with agentdur.Engine(app, path=db) as engine:
        inv_id = await engine.send(
            "ClaimPipeline", "run", CLAIM.model_dump(), idempotency_key=IDEMPOTENCY_KEY
        )
        print(inv_id, flush=True)
        await engine.attach(inv_id)  # never returns: step 3 stalls until the parent kills us


# ------------------------------------------------------------------ the parent


def read_log(path: Path) -> list[tuple[int, str, str]]:
    """The side-effect log as (pid, event, step) lines."""
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:  # skip a line still being written
        pid, event, step = line.split(" ", 2)
        lines.append((int(pid), event, step))
    return lines


def crash_child(db: Path, log: Path) -> tuple[str, int, float]:
    """Run the pipeline in a child process and SIGKILL it once step 3 is in flight."""
    env = {
        **os.environ,
        HANG_AT_ENV: CRASH_IN,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.durable_pipeline", "--child", str(db)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        while (proc.pid, "started", CRASH_IN) not in read_log(log):
            if proc.poll() is not None:
                stderr = proc.stderr.read() if proc.stderr else ""
                raise DemoError(f"the child exited early ({proc.returncode}):\n{stderr}")
            if time.monotonic() > deadline:
                raise DemoError(f"the child did not reach {CRASH_IN!r} within {DEADLINE_S:.0f} s")
            time.sleep(0.01)
        proc.kill()  # SIGKILL: no cleanup, no flush, no goodbye
    finally:
        if proc.poll() is None:
            proc.kill()
        out, _ = proc.communicate(timeout=DEADLINE_S)
    killed_at = time.time()
    inv_id = out.strip()
    if not inv_id.startswith("inv_"):
        raise DemoError(f"the child did not report its invocation id (stdout: {out!r})")
    return inv_id, proc.pid, killed_at


def short(value: object, width: int = 52) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 3] + "..."


def ranges(numbers: list[int]) -> str:
    if not numbers:
        return "none"
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 1:
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))


async def restart(db: Path, inv_id: str) -> tuple[agentdur.InvocationInfo, float]:
    """Reopen the engine on the crashed file: it resumes the invocation; wait for its result."""
    started = time.monotonic()
    async with agentdur.Engine(app, path=db) as engine:
        await asyncio.wait_for(engine.attach(inv_id), timeout=DEADLINE_S)
        info = await engine.invocation(inv_id)
    return info, time.monotonic() - started


def demo(workdir: Path) -> list[str]:
    """Run the demo, print its report; returns the violated invariants (empty when all hold)."""
    db, log = workdir / "claims.db", workdir / "side_effects.log"
    os.environ[EFFECTS_LOG_ENV] = str(log)
    print("agentdur demo: a claim pipeline is killed mid-run and resumes from its journal")
    print(f"(embedded engine on {db.name} in a temp dir; no model, no API key, no network)\n")

    inv_id, child_pid, killed_at = crash_child(db, log)
    done_before = [s for pid, e, s in read_log(log) if pid == child_pid and e == "done"]
    print(f"1. Child process {child_pid} ran {len(done_before)} steps, then got SIGKILL during {CRASH_IN!r}.")

    info, took = asyncio.run(restart(db, inv_id))
    # Entries the killed process committed (everything written after the restart is newer than the kill).
    crash_journal = [e for e in info.journal if e.created_at < datetime.fromtimestamp(killed_at, UTC)]
    print(f"2. Journal of invocation {inv_id} at the time of the crash:")
    for e in crash_journal:
        print(f"     #{e.index} {e.kind} {e.name:<18} {e.status:<9} {short(e.value)}")
    print(f"     (nothing for {CRASH_IN!r}: a step is journaled when it completes)")
    print(
        f"3. Restarted the engine on the same file: it resumed the invocation -> {info.status} "
        f"in {took:.2f} s"
    )
    if info.result is not None:
        payout = info.result["payout"]
        print(f"   result: paid {payout['amount']:.2f} {payout['currency']} ({info.result['payment_id']})\n")

    effects = read_log(log)
    runs = Counter(s for _, e, s in effects if e == "done")
    interrupted = {s for pid, e, s in effects if e == "started" and pid == child_pid} - set(done_before)
    journaled_early = {e.name for e in crash_journal}
    replayed, after = [], []
    print("   step                 runs  what happened")
    for n, step in enumerate(STEPS, 1):
        ran_in_child = any(pid == child_pid and e == "done" and s == step for pid, e, s in effects)
        ran_after = any(pid != child_pid and e == "done" and s == step for pid, e, s in effects)
        if ran_in_child and not ran_after and step in journaled_early:
            replayed.append(n)
            how = "ran before the crash; replayed from the journal"
        elif ran_after and not ran_in_child:
            after.append(n)
            how = "executed after the restart"
            if step in interrupted:
                how = "interrupted by the crash; executed after the restart"
        else:
            how = "?"
        print(f"   {n} {step:<18} {runs[step]:>4}x  {how}")

    problems = [f"{step!r} ran {runs[step]} times" for step in STEPS if runs[step] != 1]
    if info.status != "completed" or info.failure is not None:
        problems.append(f"the invocation ended {info.status} ({info.failure or info.last_error})")
    if [e.name for e in info.journal if e.kind == "run"] != STEPS:
        problems.append(f"unexpected journal: {[e.name for e in info.journal]}")
    if not replayed or not after or sorted(replayed + after) != list(range(1, len(STEPS) + 1)):
        problems.append(f"steps replayed {replayed}, executed after restart {after}")
    print()
    if problems:
        print("FAILED: " + "; ".join(problems))
    else:
        print(
            f"steps {ranges(replayed)} ran once and were replayed from the journal; "
            f"steps {ranges(after)} ran after the restart; no step ran twice"
        )
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        asyncio.run(child(argv[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="agentdur-demo-") as tmp:
        try:
            return 1 if demo(Path(tmp)) else 0
        except DemoError as error:
            print(f"FAILED: {error}")
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
