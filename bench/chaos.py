"""``python -m bench chaos``: a randomized SIGKILL campaign against a served app, on both engines.

The app is :mod:`bench.chaos_app`: jobs mixing recorded steps, sleeps, parallel steps, an awakeable
resolved over HTTP, a call and sends to a counter object. The campaign sends batches of jobs and,
while they run, SIGKILLs the process that runs the handlers at random moments (``agentdur serve`` on
the embedded engine; the deployment on Restate, where every fifth kill SIGKILLs restate-server
itself), starting it again each time. Then it checks:

- every job completed, with the result it has when nothing interrupts it;
- no completed step ran again: no step started after the handler had its result (the handler
  records that right after its ``await``, by which time the engine has journaled the result). A
  step whose result was lost with a killed process before that runs again, as it must: such
  reruns are counted, not violations;
- every counter object counts exactly the calls and sends made to it;
- no invocation is left paused.

Everything is drawn from ``--seed``: the jobs, the moments of the kills.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agentdur.testing import RestateDeployment, RestateServer, ServedApp, WaitTimeout, wait_for

from .chaos_app import LOG_ENV, Job, expected_result

APP = "bench.chaos_app:app"
ROOT = Path(__file__).resolve().parents[1]
BATCH = 6  # jobs sent per round
KILLS_PER_ROUND = 2
COUNTERS = 3
SERVER_KILL_EVERY = 5  # on Restate, every fifth kill is a SIGKILL of restate-server
SETTLE_WITHIN = 180.0


@dataclass
class Figures:
    """What one campaign on one engine did and found."""

    engine: str
    seed: int
    kills: int = 0
    server_kills: int = 0
    invocations: int = 0
    completed: int = 0
    steps_rerun_after_kill: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)


class Target:
    """The served app under attack: where to send requests, and what to kill."""

    ingress_url: str
    admin_url: str

    def start(self) -> None:
        """Start everything and wait until it answers."""
        raise NotImplementedError

    def kill(self, rng: random.Random, number: int) -> bool:
        """SIGKILL a process and start it again; whether it was restate-server."""
        raise NotImplementedError

    def paused(self, client: httpx.Client) -> list[str]:
        """The ids of the paused invocations."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop everything started."""
        raise NotImplementedError


POISON_AFTER = 1000


class Embedded(Target):
    """``agentdur serve`` on a SQLite file."""

    def __init__(self, workdir: Path, log: Path) -> None:
        # Kills come faster than a step can make progress on a busy machine: poison detection (an
        # invocation in flight at N crashes in a row is paused) would pause innocent jobs here.
        self.served = ServedApp(
            APP,
            db=workdir / "chaos.db",
            log_path=workdir / "serve.log",
            env={LOG_ENV: str(log)},
            cwd=ROOT,
            args=["--poison-after", str(POISON_AFTER)],
        )
        self.ingress_url, self.admin_url = self.served.ingress_url, self.served.admin_url

    def start(self) -> None:
        self.served.start()

    def kill(self, rng: random.Random, number: int) -> bool:
        self.served.kill()
        self.served.start()
        return False

    def paused(self, client: httpx.Client) -> list[str]:
        found = client.get(f"{self.admin_url}/invocations", params={"status": "paused"}).json()
        return [str(i["id"]) for i in found["invocations"]]

    def close(self) -> None:
        self.served.close()


class OnRestate(Target):
    """restate-server with the app's deployment (``agentdur serve --backend restate``)."""

    def __init__(self, workdir: Path, log: Path) -> None:
        self.server = RestateServer(base_dir=workdir / "restate", log_path=workdir / "restate-server.log")
        self.deployment = RestateDeployment(
            APP,
            workdir=workdir,
            server=self.server,
            env={LOG_ENV: str(log)},
            cwd=ROOT,
            log_path=workdir / "deployment.log",
        )
        self.ingress_url, self.admin_url = self.server.ingress_url, self.server.admin_url

    def start(self) -> None:
        self.server.start()
        self.deployment.start()

    def kill(self, rng: random.Random, number: int) -> bool:
        if number % SERVER_KILL_EVERY == SERVER_KILL_EVERY - 1:
            self.server.restart(kill=True)
            return True
        self.deployment.kill()
        self.deployment.start()
        return False

    def paused(self, client: httpx.Client) -> list[str]:
        response = client.post(
            f"{self.admin_url}/query",
            json={"query": "SELECT id FROM sys_invocation WHERE status = 'paused'"},
            headers={"accept": "application/json"},
        )
        return [str(row["id"]) for row in response.json()["rows"]]

    def close(self) -> None:
        self.deployment.close()
        self.server.close()


@dataclass(frozen=True)
class Execution:
    """One line of the side-effect log."""

    pid: int
    at: float
    event: str
    job: str
    step: str


def read_log(path: Path) -> list[Execution]:
    """The side-effect log of the app (see :mod:`bench.chaos_app`)."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5:
            found.append(Execution(int(parts[0]), float(parts[1]), parts[2], parts[3], parts[4]))
    return found


def draw_job(rng: random.Random, number: int) -> Job:
    """Job ``number`` of the campaign, what it does drawn from ``rng``."""
    return Job(
        id=f"j{number}",
        counter=f"c{rng.randrange(COUNTERS)}",
        sleep_ms=rng.choice((0, 0, 50, 200, 600)),
        parallel=rng.choice((0, 2, 3)),
        sends=rng.choice((0, 1, 2)),
        awakeable=rng.random() < 0.5,
    )


class Resolver(threading.Thread):
    """Resolves, over HTTP, every awakeable a job publishes, with the job's id (retrying while the
    ingress is down)."""

    def __init__(self, target: Target, log: Path) -> None:
        super().__init__(name="chaos-resolver", daemon=True)
        self.target, self.log = target, log
        self.stopped = threading.Event()
        self.resolved: set[str] = set()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stopped.wait(0.05):
                for entry in read_log(self.log):
                    if entry.event == "awakeable" and entry.step not in self.resolved:
                        self._resolve(client, entry.step, entry.job)

    def _resolve(self, client: httpx.Client, awakeable_id: str, job: str) -> None:
        url = f"{self.target.ingress_url}/restate/awakeables/{awakeable_id}/resolve"
        try:
            response = client.post(url, json=job)
        except httpx.HTTPError:
            return  # down: next time round
        if response.status_code < 300:
            self.resolved.add(awakeable_id)


def send(client: httpx.Client, target: Target, job: Job) -> str:
    """Start ``job`` (idempotently: a retry after a lost answer starts nothing new); its invocation id."""

    def sent() -> str | None:
        try:
            response = client.post(
                f"{target.ingress_url}/ChaosJob/run/send",
                json=job.model_dump(),
                headers={"idempotency-key": job.id},
            )
        except httpx.HTTPError:
            return None
        return str(response.json()["invocationId"]) if response.status_code in (200, 202) else None

    return str(wait_for(sent, within=SETTLE_WITHIN, what=f"job {job.id} accepted", interval=0.1))


def outcome(client: httpx.Client, target: Target, invocation: str) -> httpx.Response:
    """The answer of ``invocation`` once it is done (attaching again while the ingress is down)."""

    def attached() -> httpx.Response | None:
        try:
            return client.get(f"{target.ingress_url}/restate/invocation/{invocation}/attach", timeout=60)
        except httpx.HTTPError:
            return None

    return wait_for(attached, within=SETTLE_WITHIN, what=f"{invocation} attached", interval=0.2)


def counter_value(client: httpx.Client, target: Target, key: str) -> int | None:
    """The count of the counter object ``key`` (None while the ingress does not answer)."""
    try:
        response = client.post(f"{target.ingress_url}/ChaosCounter/{key}/count")
    except httpx.HTTPError:
        return None
    return int(response.json()) if response.status_code == 200 else None


def check_steps(log: list[Execution], figures: Figures) -> None:
    """No step may start again once the handler had its result (see the module docstring)."""
    observed: dict[tuple[str, str], float] = {}
    runs: dict[tuple[str, str], list[Execution]] = defaultdict(list)
    for entry in log:
        if entry.event == "after":
            observed.setdefault((entry.job, entry.step), entry.at)
        elif entry.event in ("start", "awakeable"):
            runs[(entry.job, entry.step if entry.event == "start" else "publish")].append(entry)
    for (job, step), started in sorted(runs.items()):
        seen = observed.get((job, step))
        again = [run for run in started if seen is not None and run.at > seen]
        figures.steps_rerun_after_kill += len(started) - 1 - len(again)
        figures.violations.extend(
            f"step {step} of job {job} started again at {run.at:.3f} (pid {run.pid}) after the handler "
            f"had its result at {seen:.3f}"
            for run in again
        )


def campaign(engine: str, kills: int, seed: int, workdir: Path, *, quiet: bool = False) -> Figures:
    """Run the campaign on ``engine`` ("embedded" or "restate") until ``kills`` kills are done."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "effects.log"
    rng = random.Random(seed)
    figures = Figures(engine=engine, seed=seed)
    target: Target = Embedded(workdir, log) if engine == "embedded" else OnRestate(workdir, log)
    started = time.monotonic()
    target.start()
    resolver = Resolver(target, log)
    resolver.start()
    sent: dict[str, tuple[Job, str]] = {}
    try:
        with httpx.Client(timeout=30) as client:
            while figures.kills < kills:
                for _ in range(BATCH):
                    job = draw_job(rng, len(sent))
                    sent[job.id] = (job, send(client, target, job))
                for _ in range(min(KILLS_PER_ROUND, kills - figures.kills)):
                    time.sleep(rng.uniform(0.05, 1.0))  # a random moment: the campaign's point
                    figures.server_kills += target.kill(rng, figures.kills)
                    figures.kills += 1
                if not quiet:
                    print(f"  {engine}: {figures.kills}/{kills} kills, {len(sent)} invocations", flush=True)
            figures.invocations = len(sent)
            check_results(client, target, sent, figures)
            check_counters(client, target, sent, figures)
            figures.violations.extend(f"invocation {inv} left paused" for inv in target.paused(client))
    finally:
        resolver.stopped.set()
        resolver.join(5)
        target.close()
    check_steps(read_log(log), figures)
    figures.seconds = round(time.monotonic() - started, 1)
    return figures


def check_results(
    client: httpx.Client, target: Target, sent: dict[str, tuple[Job, str]], figures: Figures
) -> None:
    """Every job done, with its uninterrupted result."""
    for job, invocation in sent.values():
        response = outcome(client, target, invocation)
        if response.status_code != 200:
            figures.violations.append(
                f"job {job.id} ({invocation}) failed: {response.status_code} {response.text}"
            )
        elif response.json() != expected_result(job):
            figures.violations.append(
                f"job {job.id} answered {response.json()!r}, not {expected_result(job)!r}"
            )
        else:
            figures.completed += 1


def check_counters(
    client: httpx.Client, target: Target, sent: dict[str, tuple[Job, str]], figures: Figures
) -> None:
    """Every counter at the number of calls and sends made to it (sends may land late)."""
    expected: dict[str, int] = defaultdict(int)
    for job, _ in sent.values():
        expected[job.counter] += 1 + job.sends
    for key, want in sorted(expected.items()):
        try:
            wait_for(
                lambda key=key, want=want: counter_value(client, target, key) == want,  # type: ignore[misc]
                within=60,
                what=f"counter {key} at {want}",
                interval=0.2,
            )
        except WaitTimeout:
            figures.violations.append(f"counter {key} is {counter_value(client, target, key)}, not {want}")


def render(results: list[Figures]) -> str:
    """The figures as a table, then every violation."""
    lines = ["engine    kills  (server)  invocations  completed  reruns-after-kill  violations  seconds"]
    for f in results:
        lines.append(
            f"{f.engine:<9} {f.kills:>5}  {f.server_kills:>8}  {f.invocations:>11}  {f.completed:>9}  "
            f"{f.steps_rerun_after_kill:>17}  {len(f.violations):>10}  {f.seconds:>7}"
        )
    for f in results:
        lines.extend(f"VIOLATION ({f.engine}): {v}" for v in f.violations)
    return "\n".join(lines)


def run_chaos(engines: list[str], kills: int, seed: int, workdir: Path, json_path: str | None) -> int:
    """The campaign on each engine (``kills`` on each); 1 when anything was violated."""
    results = [campaign(engine, kills, seed, workdir / engine) for engine in engines]
    print(render(results), flush=True)
    if json_path:
        data: dict[str, Any] = {"seed": seed, "results": [asdict(f) for f in results]}
        Path(json_path).write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nwrote {json_path}")
    return 1 if any(f.violations for f in results) else 0
