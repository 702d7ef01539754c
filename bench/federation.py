"""Forwarding between two centres: mutual TLS against plaintext, in the same run.

For each transport (plaintext on loopback, then mutual TLS, alternating over rounds) two fresh
gateways run as separate processes, the sender routing every record to the receiver:

* **throughput** - the sender stores N records while the receiver is down; the receiver then
  starts, and the time from its start until its Subscribe stream has delivered all N records
  gives the forwarding rate (records/s): the outbox draining at full speed, not the submit rate;
* **latency** - both up, one record at a time: the time from ``Submit`` at the sender to the
  record's arrival on a ``Subscribe`` stream at the receiver, p50 and p99.

Both scenarios include the receiver's commit (durable) and the audit log on both sides: what a
deployed pair of centres does. Ratios are mTLS / plaintext of medians over rounds.

Run: ``python -m bench.federation [--rounds 3] [--records 5000] [--samples 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.records import build_record, new_run_tag
from devkit.cluster import CentrePlan, CentreProcess, Route, free_port, write_cluster
from gateway.client import AsyncLiaisonClient, LiaisonClient
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from liaison.v1 import record_pb2

SENDER, RECEIVER = "BENCH-SENDER", "BENCH-RECEIVER"
CLIENT = "bench"


@dataclass(frozen=True, slots=True)
class Figures:
    records_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float


class Pair:
    """Two centres on loopback, sender -> receiver, with clients for both."""

    def __init__(self, directory: Path, tls: bool) -> None:
        self.tls = tls
        self.directory = directory
        ports = {SENDER: free_port(), RECEIVER: free_port()}
        self.ports = ports
        plans = [
            CentrePlan(
                SENDER,
                ports[SENDER],
                peers=(RECEIVER,),
                routes=(Route(peers=(RECEIVER,)),),
                clients={CLIENT: ("*",)},
                delivery={"initial_backoff_seconds": 0.02, "max_backoff_seconds": 0.1},
                tls=tls,
            ),
            CentrePlan(
                RECEIVER, ports[RECEIVER], peers=(SENDER,), clients={CLIENT: ("*",)}, tls=tls
            ),
        ]
        configs = write_cluster(directory, plans)
        self.sender = CentreProcess(SENDER, configs[SENDER])
        self.receiver = CentreProcess(RECEIVER, configs[RECEIVER])

    def _secure(self, centre: str) -> dict[str, object]:
        if not self.tls:
            return {}
        pki = self.directory / "pki"
        tls = TlsConfig(
            pki / "clients" / f"{CLIENT}.pem", pki / "clients" / f"{CLIENT}-key.pem", pki / "ca.pem"
        )
        return {
            "credentials": channel_credentials(tls),
            "options": peer_channel_options(centre),
        }

    def client(self, centre: str) -> LiaisonClient:
        return LiaisonClient(f"127.0.0.1:{self.ports[centre]}", **self._secure(centre))  # type: ignore[arg-type]

    def async_client(self, centre: str) -> AsyncLiaisonClient:
        return AsyncLiaisonClient(f"127.0.0.1:{self.ports[centre]}", **self._secure(centre))  # type: ignore[arg-type]

    def stop(self) -> None:
        for process in (self.sender, self.receiver):
            if process.running:
                process.terminate()


def _records(count: int) -> list[record_pb2.Record]:
    """Bench records with open handling: they carry H2 and releasability restrictions, which
    would (rightly) keep some from being forwarded."""
    tag = new_run_tag()
    records = [build_record(tag, n) for n in range(count)]
    for record in records:
        record.handling.Clear()
        record.handling.code = record_pb2.HANDLING_CODE_H0
    return records


async def _receive(client: AsyncLiaisonClient, count: int) -> float:
    """Wait for ``count`` record events from now on; return when the last arrived."""
    seen = 0
    async for item in client.subscribe(after_sequence=0):
        if item.HasField("record_event"):
            seen += 1
            if seen >= count:
                return time.perf_counter()
    raise RuntimeError("the subscription ended early")


def throughput(pair: Pair, count: int) -> float:
    pair.sender.start()
    with pair.client(SENDER) as sender:
        result = sender.submit_many(_records(count))
        if result.stored != count:
            raise RuntimeError(f"the sender stored {result.stored} of {count}")
    started = time.perf_counter()
    pair.receiver.start()

    async def drain() -> float:
        client = pair.async_client(RECEIVER)
        try:
            return await asyncio.wait_for(_receive(client, count), 600)
        finally:
            await client.close()

    finished = asyncio.run(drain())
    return count / (finished - started)


def latency(pair: Pair, samples: int) -> list[float]:
    """Submit at the sender -> Subscribe at the receiver, one record at a time (ms)."""

    async def measure() -> list[float]:
        sender, receiver = pair.async_client(SENDER), pair.async_client(RECEIVER)
        try:
            stream = receiver.subscribe().__aiter__()  # from now on
            # The call starts with the first read; its caught-up marker says it is live.
            first = await asyncio.wait_for(stream.__anext__(), 60)
            if not first.HasField("caught_up"):
                raise RuntimeError("expected the caught-up marker first")
            waits: list[float] = []
            for record in _records(samples):
                start = time.perf_counter()
                await sender.submit(record)
                while True:
                    item = await asyncio.wait_for(stream.__anext__(), 60)
                    if item.HasField("record_event"):
                        break
                waits.append((time.perf_counter() - start) * 1000)
            return waits
        finally:
            await sender.close()
            await receiver.close()

    return asyncio.run(measure())


def run_round(tls: bool, records: int, samples: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="liaison-bench-fed-") as directory:
        pair = Pair(Path(directory), tls)
        try:
            rate = throughput(pair, records)
            waits = latency(pair, samples)
        finally:
            pair.stop()
    cuts = statistics.quantiles(waits, n=100)
    return Figures(rate, statistics.median(waits), cuts[98])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    results: dict[bool, list[Figures]] = {False: [], True: []}
    for round_number in range(1, args.rounds + 1):
        for tls in (False, True):
            figures = run_round(tls, args.records, args.samples)
            results[tls].append(figures)
            label = "mTLS" if tls else "plaintext"
            print(
                f"round {round_number} {label:>9}: {figures.records_per_second:8.0f} records/s, "
                f"p50 {figures.latency_p50_ms:6.1f} ms, p99 {figures.latency_p99_ms:6.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    print(f"{'metric':<28}{'plaintext':>12}{'mTLS':>12}{'ratio':>8}")
    for name, unit in (
        ("records_per_second", "forwarded records/s"),
        ("latency_p50_ms", "end-to-end p50 ms"),
        ("latency_p99_ms", "end-to-end p99 ms"),
    ):
        plain = statistics.median(getattr(f, name) for f in results[False])
        secure = statistics.median(getattr(f, name) for f in results[True])
        print(f"{unit:<28}{plain:>12,.1f}{secure:>12,.1f}{secure / plain:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
