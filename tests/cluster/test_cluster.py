"""agentdur on a 3-node restate-server cluster: one node SIGKILLed mid-run, nothing lost.

The chaos campaign's app (``bench.chaos_app``: recorded steps, sleeps, parallel steps, awakeables
resolved over HTTP, calls and sends to counter objects) is deployed once and registered with the
first node; jobs go in through the first node's ingress. While they run, the second node (a
metadata server, log server and worker like the others, leading some partitions) is SIGKILLed and
stays down. Every job must still complete with its uninterrupted result, every counter count
exactly, no completed step run again and nothing be left paused.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdur.testing import RestateDeployment, wait_for
from bench.chaos import (
    Figures,
    Resolver,
    Target,
    check_counters,
    check_results,
    check_steps,
    draw_job,
    read_log,
    send,
)
from bench.chaos_app import LOG_ENV, Job, expected_result

from ._cluster import REPLICATION, RestateCluster

ROOT = Path(__file__).resolve().parents[2]
JOBS = 24


class OnCluster(Target):
    """Requests go to the first node; nothing here kills (the test does)."""

    def __init__(self, cluster: RestateCluster) -> None:
        self.ingress_url = cluster.nodes[0].ingress_url
        self.admin_url = cluster.nodes[0].admin_url


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RestateCluster]:
    started = RestateCluster(tmp_path)
    try:
        yield started.start()
    finally:
        started.close()


def test_the_nodes_replicate_metadata_and_log(cluster: RestateCluster) -> None:
    node = cluster.nodes[0]
    dumped = subprocess.run(
        [node.binary, "--config-file", str(node.config_path), "--dump-config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"default-replication = {REPLICATION}" in dumped
    assert 'default-provider = "replicated"' in dumped
    assert all(peer.node_address in dumped for peer in cluster.nodes)  # every metadata server


def test_a_node_killed_mid_run_loses_nothing(cluster: RestateCluster, tmp_path: Path) -> None:
    log = tmp_path / "effects.log"
    deployment = RestateDeployment(
        "bench.chaos_app:app",
        workdir=tmp_path,
        server=cluster.nodes[0],
        env={LOG_ENV: str(log)},
        cwd=ROOT,
        log_path=tmp_path / "deployment.log",
    )
    deployment.start()
    target = OnCluster(cluster)
    resolver = Resolver(target, log)
    resolver.start()
    figures = Figures(engine="restate-cluster", seed=3)
    try:
        with httpx.Client(timeout=30) as client:
            rng = random.Random(3)
            jobs: list[Job] = [draw_job(rng, i) for i in range(JOBS)]
            sent = {job.id: (job, send(client, target, job)) for job in jobs}
            wait_for(lambda: len(read_log(log)) >= 10, within=60, what="the jobs under way")
            cluster.nodes[1].sigkill()
            figures.kills = 1
            figures.invocations = len(sent)
            check_results(client, target, sent, figures)
            check_counters(client, target, sent, figures)
            paused = client.post(
                f"{target.admin_url}/query",
                json={"query": "SELECT id FROM sys_invocation WHERE status = 'paused'"},
                headers={"accept": "application/json"},
            )
            assert paused.status_code == 200 and paused.json()["rows"] == []
            # the surviving third node answers too
            other = cluster.nodes[2].ingress_url
            job, invocation = next(iter(sent.values()))
            assert client.get(f"{other}/restate/invocation/{invocation}/attach").json() == expected_result(
                job
            )
    finally:
        resolver.stopped.set()
        resolver.join(5)
        deployment.close()
    check_steps(read_log(log), figures)
    assert figures.violations == []
    assert figures.completed == JOBS
