"""Red team: SIGTERM of ``liaison serve`` with everything that could hold it up at once.

A peer that is not there (127.0.0.1:9), screening in its worker process, Submits, Subscribes
and an HTTP Server-Sent Events subscription in flight, and an OTLP collector that does not
answer. The process must end with exit code 0 (the operator guide: within ``[server]
grace_seconds`` + 1 s), lose nothing it acknowledged, and every traveller it acknowledged must be
screened exactly once - before the stop or after the restart, never twice.

Measured when written (``grace_seconds = 2``, 10 rounds, load average 5-7): SIGTERM to exit
3.15-3.7 s before the fix - the interpreter's own finalisation took 0.4-1 s after the last
telemetry export, and the export's abandoned flush was not counted in its budget; 2.8 s after.
The assertion below is only a hang detector, generous for a loaded machine (as
``test_streams_and_inputs.py``'s); the figures are in the red team's report.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from pathlib import Path

import grpc
import httpx

from devkit.cluster import CentrePlan, CentreProcess, Route, free_port, write_cluster
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, screening_pb2, screening_pb2_grpc
from tests.e2e.cluster import wait_for
from tests.support.screening_records import red_notice, traveller

I2C, ABSENT = "WCO-I2C", "INTERPOL-CCC-LYON"
GRACE_SECONDS = 2.0
SUBMITTERS, SUBSCRIBERS = 3, 2


def _centre(tmp_path: Path) -> tuple[CentreProcess, int, TlsConfig]:
    port, http, collector = free_port(), free_port(), free_port()
    plans = [
        CentrePlan(
            I2C,
            port,
            peers=(ABSENT,),
            routes=(Route(peers=(ABSENT,)),),
            clients={"operator": ("liaison.v1.*",)},
        ),
        CentrePlan(ABSENT, 9, peers=(I2C,)),  # never started: nothing listens on port 9
    ]
    config = write_cluster(tmp_path, plans)[I2C]
    text = config.read_text(encoding="utf-8").replace(
        "grace_seconds = 2.0", f"grace_seconds = {GRACE_SECONDS}"
    )
    text += "\n".join(
        [
            "",
            "[http]",
            f'listen = "127.0.0.1:{http}"',
            "[telemetry]",
            'exporter = "otlp"',
            f'endpoint = "http://127.0.0.1:{collector}"',
            "[screening]",
            'worker = "process"',
            "",
        ]
    )
    config.write_text(text, encoding="utf-8")
    pki = tmp_path / "pki"
    tls = TlsConfig(
        pki / "clients" / "operator.pem", pki / "clients" / "operator-key.pem", pki / "ca.pem"
    )
    return CentreProcess(I2C, config), http, tls


def _stub(port: str, tls: TlsConfig) -> tuple[grpc.Channel, exchange_pb2_grpc.RecordExchangeStub]:
    opened = grpc.secure_channel(port, channel_credentials(tls), options=peer_channel_options(I2C))
    return opened, exchange_pb2_grpc.RecordExchangeStub(opened)


def test_sigterm_with_everything_in_flight_ends_cleanly_and_loses_nothing(
    tmp_path: Path,
) -> None:
    centre, http_port, tls = _centre(tmp_path)
    address = centre.start()
    opened, stub = _stub(address, tls)
    acknowledged: list[str] = []
    failures: list[str] = []
    done = threading.Event()
    stub.Submit(exchange_pb2.SubmitRequest(record=red_notice(f"{I2C}:notice:1")), timeout=10)

    def submit(worker: int) -> None:
        for number in range(100_000):
            record_id = f"{I2C}:pax:{worker}-{number}"
            try:
                stub.Submit(exchange_pb2.SubmitRequest(record=traveller(record_id)), timeout=10)
            except grpc.RpcError as error:
                # UNAVAILABLE - refused at the stop, or ended by the gateway when the grace ran
                # out - is what clients retry; a retry with the same id and version answers the
                # original acknowledgement. CANCELLED (gRPC's stop cutting the calls it had
                # received but not handed over: 3 rounds in 8 before the drain) is not retried.
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    failures.append(f"Submit: {error.code()} {error.details()}")
                return
            acknowledged.append(record_id)
            if done.is_set():
                return

    def subscribe() -> None:
        try:
            for _ in stub.Subscribe(exchange_pb2.SubscribeRequest(), timeout=60):
                pass
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                failures.append(f"Subscribe: {error.code()} {error.details()}")
        else:
            failures.append("Subscribe ended OK at a stop (clients would not resume)")

    def follow_sse() -> None:
        context = ssl.create_default_context(cafile=str(tls.trusted_cas))
        context.load_cert_chain(tls.certificate, tls.private_key)
        context.check_hostname = False
        message = json.dumps({"afterSequence": "0"})
        with (
            httpx.Client(verify=context, timeout=60) as client,
            client.stream(
                "GET",
                f"https://127.0.0.1:{http_port}/liaison.v1.RecordExchange/Subscribe",
                params={"message": message},
            ) as answer,
        ):
            try:
                for _ in answer.iter_lines():
                    pass
            except httpx.RemoteProtocolError:
                pass  # the stream cut at the stop: a browser reconnects with Last-Event-ID

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(SUBMITTERS)]
    threads += [threading.Thread(target=subscribe) for _ in range(SUBSCRIBERS)]
    threads.append(threading.Thread(target=follow_sse, daemon=True))
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 30, what="Submits in flight")
    started = time.monotonic()
    code = centre.terminate(timeout=30)
    elapsed = time.monotonic() - started
    done.set()
    for thread in threads[:-1]:
        thread.join(timeout=30)
    opened.close()
    assert code == 0, "".join(centre.output[-30:])
    assert elapsed < GRACE_SECONDS + 3, f"{elapsed:.1f} s"
    assert failures == []

    again = CentreProcess(I2C, centre.config)
    address = again.start()
    opened, stub = _stub(address, tls)
    try:
        for record_id in acknowledged:
            stub.Get(exchange_pb2.GetRequest(record_id=record_id), timeout=10)  # NOT_FOUND raises
        screening = screening_pb2_grpc.ScreeningStub(opened)

        def subjects_of_hits() -> list[str]:
            listed = screening.ListHits(screening_pb2.ListHitsRequest(page_size=1000), timeout=10)
            assert not listed.has_more
            return [hit.screening_hit.subject_record_id for hit in listed.hits]

        wait_for(lambda: len(subjects_of_hits()) >= len(acknowledged), what="screening")
        subjects = subjects_of_hits()
        assert sorted(set(subjects)) == sorted(subjects), "a traveller screened twice"
        assert set(acknowledged) <= set(subjects)
    finally:
        opened.close()
        assert again.terminate(timeout=30) == 0
