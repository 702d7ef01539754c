"""Four centres on this machine exchanging records over mutual TLS: ``make demo``.

WCO-I2C (Brussels), INTERPOL-CCC-LYON, INTERPOL-IGCI-SINGAPORE and INTERPOL-RB-BUENOSAIRES each
run their own gateway (``liaison serve``, a separate process) with certificates from a
development CA. Then:

1. the i2c ingests a PAXLST passenger list, releasable to Lyon only: its routing rule sends API
   data to Lyon and Singapore, so Lyon receives it and Singapore's copy is withheld;
2. Lyon ingests an INTERPOL red notice (H0): its rule sends notices to every other centre;
3. Lyon ingests a yellow notice marked H2 (no onward dissemination): withheld everywhere.

The demo prints where each record arrived, the delivery status at the senders, stops every
gateway, verifies every centre's audit log, and exits 0 only when everything went where the
rules and handling say - and nowhere else.

Run from the repository root: ``python examples/four-centres/run.py [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from devkit.cluster import (
    CentrePlan,
    CentreProcess,
    Route,
    audit_key_path,
    free_port,
    write_cluster,
)
from gateway.audit.keys import read_key_file
from gateway.audit.log import verify_file
from gateway.client import LiaisonClient, RecordNotFoundError
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from liaison.v1 import federation_pb2, record_pb2

I2C = "WCO-I2C"
LYON = "INTERPOL-CCC-LYON"
SINGAPORE = "INTERPOL-IGCI-SINGAPORE"
BUENOS_AIRES = "INTERPOL-RB-BUENOSAIRES"
CENTRES = (I2C, LYON, SINGAPORE, BUENOS_AIRES)
CITY = {I2C: "Brussels", LYON: "Lyon", SINGAPORE: "Singapore", BUENOS_AIRES: "Buenos Aires"}
OPERATOR = "demo-operator"
DATA = Path(__file__).parent / "data"
SETTLED = {
    federation_pb2.DELIVERY_STATE_DELIVERED,
    federation_pb2.DELIVERY_STATE_WITHHELD,
    federation_pb2.DELIVERY_STATE_DEAD_LETTERED,
}


def plans() -> list[CentrePlan]:
    ports = {centre: free_port() for centre in CENTRES}
    everyone = {OPERATOR: ("*",)}
    return [
        CentrePlan(
            I2C,
            ports[I2C],
            peers=(LYON, SINGAPORE, BUENOS_AIRES),
            routes=(
                Route(
                    name="api-data-to-interpol",
                    peers=(LYON, SINGAPORE),
                    kinds=("passenger_manifest", "person", "travel_document"),
                ),
            ),
            clients=everyone,
        ),
        CentrePlan(
            LYON,
            ports[LYON],
            peers=(I2C, SINGAPORE, BUENOS_AIRES),
            routes=(
                Route(
                    name="notices-worldwide",
                    peers=(SINGAPORE, BUENOS_AIRES, I2C),
                    kinds=("notice",),
                ),
            ),
            clients=everyone,
        ),
        CentrePlan(SINGAPORE, ports[SINGAPORE], peers=(I2C, LYON), clients=everyone),
        CentrePlan(BUENOS_AIRES, ports[BUENOS_AIRES], peers=(I2C, LYON), clients=everyone),
    ]


def client(directory: Path, centre: str, port: int) -> LiaisonClient:
    pki = directory / "pki"
    tls = TlsConfig(
        pki / "clients" / f"{OPERATOR}.pem", pki / "clients" / f"{OPERATOR}-key.pem", pki / "ca.pem"
    )
    return LiaisonClient(
        f"127.0.0.1:{port}",
        timeout=15.0,
        credentials=channel_credentials(tls),
        options=peer_channel_options(centre),
    )


def wait_for(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out waiting for {what}")
        time.sleep(0.1)


def handling(code: int, releasable_to: tuple[str, ...] = ()) -> record_pb2.Handling:
    return record_pb2.Handling(code=code, releasable_to=releasable_to)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep)
    with tempfile.TemporaryDirectory(prefix="liaison-demo-") as directory:
        return run(Path(directory))


def run(directory: Path) -> int:
    cluster = plans()
    configs = write_cluster(directory, cluster)
    ports = {plan.centre_id: plan.port for plan in cluster}
    processes = {c: CentreProcess(c, configs[c]) for c in CENTRES}
    print(f"== Four centres, mutual TLS, certificates from a development CA in {directory}/pki")
    clients: dict[str, LiaisonClient] = {}
    try:
        for centre in CENTRES:
            address = processes[centre].start()
            clients[centre] = client(directory, centre, ports[centre])
            print(f"   {centre:<24} ({CITY[centre]}) listening on {address}")
        expected = ingest(clients)
        wait_for(lambda: all_settled(clients[I2C], clients[LYON]), "deliveries to settle")
        ok = show_arrivals(clients, expected)
        show_deliveries(clients)
    finally:
        for each in clients.values():
            each.close()
        print("\n== Stopping the gateways (SIGTERM)")
        for centre, process in processes.items():
            if process.running:
                code = process.terminate()
                print(f"   {centre:<24} exited with {code}")
    ok = verify_audit_logs(directory) and ok
    print("\n== Demo " + ("passed" if ok else "FAILED: see above"))
    return 0 if ok else 1


def ingest(clients: dict[str, LiaisonClient]) -> dict[str, set[str]]:
    """Ingest the three payloads; return, per record id, the centres it must reach."""
    print("\n== Ingesting")
    manifest = clients[I2C].ingest(
        "paxlst",
        (DATA / "manifest-ua123.edi").read_bytes(),
        source_reference="manifest-ua123.edi",
        handling=handling(record_pb2.HANDLING_CODE_H1, (I2C, LYON)),
    )
    print(f"   {I2C}: PAXLST UA123 -> {len(manifest.acks)} records (H1, releasable to Lyon)")
    red = clients[LYON].ingest(
        "interpol-notice",
        (DATA / "red-notice.json").read_bytes(),
        source_reference="red-notice.json",
        handling=handling(record_pb2.HANDLING_CODE_H0),
    )
    print(f"   {LYON}: red notice -> {len(red.acks)} record (H0)")
    yellow = clients[LYON].ingest(
        "interpol-notice",
        (DATA / "yellow-notice.json").read_bytes(),
        source_reference="yellow-notice.json",
        handling=handling(record_pb2.HANDLING_CODE_H2),
    )
    print(f"   {LYON}: yellow notice -> {len(yellow.acks)} record (H2: no onward dissemination)")
    expected: dict[str, set[str]] = {}
    for ack in manifest.acks:
        expected[ack.record_id] = {I2C, LYON}
    for ack in red.acks:
        expected[ack.record_id] = set(CENTRES)
    for ack in yellow.acks:
        expected[ack.record_id] = {LYON}
    return expected


def all_settled(*senders: LiaisonClient) -> bool:
    for sender in senders:
        found = sender.deliveries(limit=1000)
        if not found or any(d.state not in SETTLED for d in found):
            return False
    return True


def show_arrivals(clients: dict[str, LiaisonClient], expected: dict[str, set[str]]) -> bool:
    print("\n== Where each record is (x: stored and readable there)")
    header = "   " + f"{'kind':<19}{'record id':<40}" + "".join(f"{CITY[c]:>13}" for c in CENTRES)
    print(header)
    ok = True
    for record_id, wanted in expected.items():
        cells = []
        kind = ""
        for centre in CENTRES:
            try:
                response = clients[centre].get(record_id)
                present = True
                kind = response.record.WhichOneof("body") or ""
            except RecordNotFoundError:
                present = False
            cells.append(f"{'x' if present else '-':>13}")
            if present != (centre in wanted):
                ok = False
                cells[-1] = f"{'WRONG':>13}"
        print(f"   {kind:<19}{record_id:<40}" + "".join(cells))
    return ok


def show_deliveries(clients: dict[str, LiaisonClient]) -> None:
    for sender in (I2C, LYON):
        print(f"\n== Delivery status at {sender} (liaison deliveries)")
        for status in clients[sender].deliveries(limit=1000):
            state = federation_pb2.DeliveryState.Name(status.state).removeprefix("DELIVERY_STATE_")
            why = status.reason if status.state != federation_pb2.DELIVERY_STATE_DELIVERED else ""
            print(f"   {status.record_id:<40} -> {status.peer:<24} {state.lower():<10} {why}")


def verify_audit_logs(directory: Path) -> bool:
    print("\n== Audit logs (liaison audit verify)")
    ok = True
    for centre in CENTRES:
        path = directory / centre / "var" / f"{centre.lower()}.audit.db"
        report = verify_file(path, key=read_key_file(audit_key_path(directory, centre)))
        verdict = "chain intact, MACs checked" if report.ok else f"BROKEN: {report.first_break}"
        print(f"   {centre:<24} {report.checked:>4} entries, {verdict}")
        ok = ok and report.ok and report.checked > 0
    return ok


if __name__ == "__main__":
    sys.exit(main())
