"""A 3-node restate-server cluster from the npm binary, on free local ports, no Docker.

Every node runs every role (metadata server, admin, worker, log server, ingress); the metadata is
replicated by the nodes' metadata servers and the log by the replicated loglet, both with
replication 2, so the cluster keeps working with one node down. The first node provisions the
cluster. Each node is a :class:`~agentdur.testing.RestateServer` (its ports, its admin API, its
health checks) started with a configuration file of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from agentdur.testing import RestateServer

CLUSTER_NAME = "agentdur-cluster"
REPLICATION = 2


class ClusterNode(RestateServer):
    """One node of :class:`RestateCluster`."""

    def __init__(self, name: str, workdir: Path, *, provision: bool) -> None:
        super().__init__(base_dir=workdir / name, log_path=workdir / f"{name}.log", startup_timeout=120.0)
        self.name = name
        self.provision = provision
        self.config_path = workdir / f"{name}.toml"

    @property
    def node_address(self) -> str:
        """Where the other nodes reach this one (its metadata server among others)."""
        return f"http://127.0.0.1:{self.node_port}"

    def write_config(self, peers: list[str]) -> None:
        """This node's configuration, with the addresses of every node's metadata server."""
        addresses = ", ".join(f'"{peer}"' for peer in peers)
        self.config_path.write_text(
            f'node-name = "{self.name}"\n'
            f'cluster-name = "{CLUSTER_NAME}"\n'
            f"auto-provision = {'true' if self.provision else 'false'}\n"
            f"default-replication = {REPLICATION}\n"
            f'bind-address = "127.0.0.1:{self.node_port}"\n'
            f'advertised-address = "{self.node_address}"\n'
            "\n[metadata-client]\n"
            f"addresses = [{addresses}]\n"
            "\n[bifrost]\n"
            'default-provider = "replicated"\n'
            "\n[admin]\n"
            f'bind-address = "127.0.0.1:{self.admin_port}"\n'
            "\n[ingress]\n"
            f'bind-address = "127.0.0.1:{self.ingress_port}"\n'
        )

    def launch(self) -> None:
        """Start the process without waiting: a node that does not provision waits for the cluster."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "RESTATE_LOG_FILTER": "warn", "DO_NOT_TRACK": "true"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--config-file",
                    str(self.config_path),
                    "--base-dir",
                    str(self.base_dir),
                    "--listen-mode",
                    "tcp",
                    "--no-logo",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def start(self) -> ClusterNode:
        """Start (again, on the same ports and data) and wait until healthy."""
        if self.process is None or self.process.poll() is not None:
            self.launch()
        self._wait_healthy()
        return self

    def sigkill(self) -> None:
        """SIGKILL the node's process group; its data stays for :meth:`start`."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self.process = None


class RestateCluster:
    """Three :class:`ClusterNode` s forming one cluster (see the module docstring)."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.nodes = [ClusterNode(f"n{i + 1}", workdir, provision=i == 0) for i in range(size)]
        peers = [node.node_address for node in self.nodes]
        for node in self.nodes:
            node.write_config(peers)

    def start(self) -> RestateCluster:
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.start()
        return self

    def close(self) -> None:
        for node in self.nodes:
            node.close()
