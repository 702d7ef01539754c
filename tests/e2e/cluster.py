"""A few centres as real ``liaison serve`` processes, and clients for them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from devkit.cluster import CentrePlan, CentreProcess, write_cluster
from gateway.client import LiaisonClient, RecordNotFoundError
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from liaison.v1 import federation_pb2

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
OPERATOR = "operator"
"""A client granted every method at every centre."""
ALL_METHODS = ("liaison.v1.*",)

SETTLED = {
    federation_pb2.DELIVERY_STATE_DELIVERED,
    federation_pb2.DELIVERY_STATE_WITHHELD,
    federation_pb2.DELIVERY_STATE_DEAD_LETTERED,
}


class Cluster:
    """Plans written to disk, processes started on demand, clients per centre and identity."""

    def __init__(self, directory: Path, plans: Sequence[CentrePlan]) -> None:
        self.directory = directory
        self.configs = write_cluster(directory, plans)
        self.processes = {
            p.centre_id: CentreProcess(p.centre_id, self.configs[p.centre_id]) for p in plans
        }
        self.ports = {p.centre_id: p.port for p in plans}
        self._clients: list[LiaisonClient] = []

    def start(self, *centres: str) -> None:
        for centre in centres or tuple(self.processes):
            self.processes[centre].start()

    def client(self, centre: str, identity: str = OPERATOR) -> LiaisonClient:
        pki = self.directory / "pki"
        tls = TlsConfig(
            pki / "clients" / f"{identity}.pem",
            pki / "clients" / f"{identity}-key.pem",
            pki / "ca.pem",
        )
        client = LiaisonClient(
            f"127.0.0.1:{self.ports[centre]}",
            timeout=10.0,
            credentials=channel_credentials(tls),
            options=peer_channel_options(centre),
        )
        self._clients.append(client)
        return client

    def audit_log(self, centre: str) -> Path:
        return self.directory / centre / "var" / f"{centre.lower()}.audit.db"

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for process in self.processes.values():
            if process.running:
                process.terminate()


def has(client: LiaisonClient, record_id: str) -> bool:
    try:
        client.get(record_id)
    except RecordNotFoundError:
        return False
    return True


def wait_for(condition: Callable[[], bool], within: float = 30.0, what: str = "") -> None:
    """Poll a condition another process makes true (nothing to wait on across processes)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def settled(client: LiaisonClient, expected: int) -> bool:
    """All ``expected`` deliveries of the centre behind ``client`` have reached a final state."""
    found = client.deliveries(limit=10_000)
    return len(found) >= expected and all(d.state in SETTLED for d in found)


def states(client: LiaisonClient) -> dict[tuple[str, str], int]:
    return {(d.record_id, d.peer): d.state for d in client.deliveries(limit=10_000)}
