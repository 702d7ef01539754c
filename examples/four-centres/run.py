"""Four centres on this machine exchanging records over mutual TLS: ``make demo``.

WCO-I2C (Brussels), INTERPOL-CCC-LYON, INTERPOL-IGCI-SINGAPORE and INTERPOL-RB-BUENOSAIRES each
run their own gateway (``liaison serve``, a separate process) with certificates from a
development CA. Then:

1. Lyon ingests an INTERPOL red notice (H0): its rule sends notices to every other centre;
2. Lyon ingests a yellow notice marked H2 (no onward dissemination): withheld everywhere;
3. Lyon loads an extract of stolen and lost travel documents (SLTD) with ``liaison submit``'s
   path (JSON Lines of TravelDocument records): its rule sends its documents everywhere;
4. the i2c ingests a PAXLST passenger list, releasable to Lyon only: its routing rule sends API
   data to Lyon and Singapore, so Lyon receives it and Singapore's copy is withheld;
5. the i2c screens the committed manifest (``[screening] screen_on_commit``): one traveller
   matches Lyon's red notice under another spelling, another travels on a passport of the
   extract. Each hit is a ``ScreeningHit`` record with its explanation, and the i2c's rule sends
   hits to INTERPOL: Lyon, which issued the entries, receives them; Singapore's copy is withheld
   (the manifest is not releasable to it, so neither is a hit on it);
6. an analyst at the i2c confirms the notice hit (``liaison decide HIT --match``); the decision,
   a new version of the hit, reaches Lyon too;
7. Lyon cancels its red notice (``liaison withdraw``): the tombstone reaches every centre that
   received the notice, each serves it as gone and acknowledges, and Lyon's recipient ledger
   (``liaison recipients``) shows the three acknowledgements;
8. the i2c asks Lyon about the traveller (an urgent request for information); Lyon reads it
   and answers; the i2c sees the thread's states and times (``liaison threads``), which Lyon's
   gateway reported back as receipts.

The demo prints the hits with their explanations, where each record arrived, the delivery
status at the senders, stops every gateway, verifies every centre's audit log, and exits 0 only
when everything went where the rules and handling say - and nowhere else.

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
from gateway.cli.jsonio import iter_records
from gateway.client import LiaisonClient, RecordNotFoundError
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from liaison.v1 import exchange_pb2, federation_pb2, record_pb2, screening_hit_pb2, thread_pb2

I2C = "WCO-I2C"
LYON = "INTERPOL-CCC-LYON"
SINGAPORE = "INTERPOL-IGCI-SINGAPORE"
BUENOS_AIRES = "INTERPOL-RB-BUENOSAIRES"
CENTRES = (I2C, LYON, SINGAPORE, BUENOS_AIRES)
CITY = {I2C: "Brussels", LYON: "Lyon", SINGAPORE: "Singapore", BUENOS_AIRES: "Buenos Aires"}
OPERATOR = "demo-operator"
DATA = Path(__file__).parent / "data"
# The i2c screens what it commits; the others screen nothing on commit here, so that every hit
# the demo shows is the i2c's.
SCREENED_KINDS = ("passenger_manifest", "person", "travel_document")
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
                Route(name="hits-to-interpol", peers=(LYON, SINGAPORE), kinds=("screening_hit",)),
            ),
            clients=everyone,
            screen_on_commit=SCREENED_KINDS,
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
                Route(
                    name="sltd-worldwide",
                    peers=(SINGAPORE, BUENOS_AIRES, I2C),
                    kinds=("travel_document",),
                    originating_centres=(LYON,),
                ),
            ),
            clients=everyone,
            screen_on_commit=(),
        ),
        CentrePlan(
            SINGAPORE, ports[SINGAPORE], peers=(I2C, LYON), clients=everyone, screen_on_commit=()
        ),
        CentrePlan(
            BUENOS_AIRES,
            ports[BUENOS_AIRES],
            peers=(I2C, LYON),
            clients=everyone,
            screen_on_commit=(),
        ),
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
        expected = publish(clients)
        wait_for(lambda: all_settled(clients[LYON]), "Lyon's deliveries to settle")
        expected |= ingest_manifest(clients)
        hits = wait_for_hits(clients[I2C])
        ok = show_hits(clients[I2C], hits)
        for hit in hits:
            expected[hit.record_id] = {I2C, LYON}
        wait_for(lambda: all_settled(clients[I2C], clients[LYON]), "deliveries to settle")
        ok = show_hits_delivered(clients, hits) and ok
        ok = decide(clients, hits) and ok
        ok = show_arrivals(clients, expected) and ok
        show_deliveries(clients)
        ok = withdraw_red_notice(clients, red_notice_id(expected, clients[LYON])) and ok
        ok = ask_and_answer(clients, hits) and ok
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


def publish(clients: dict[str, LiaisonClient]) -> dict[str, set[str]]:
    """Lyon's notices and SLTD extract; return, per record id, the centres it must reach."""
    print("\n== Lyon publishes")
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
    # What `liaison submit sltd-extract.jsonl` does: TravelDocument records whose status is
    # STOLEN or LOST are entries of the sltd list once committed.
    with (DATA / "sltd-extract.jsonl").open("rb") as extract:
        sltd = clients[LYON].submit_many(iter_records(extract))
    print(
        f"   {LYON}: SLTD extract (liaison submit sltd-extract.jsonl) -> "
        f"{sltd.stored} stolen or lost passports"
    )
    expected: dict[str, set[str]] = {}
    for ack in red.acks:
        expected[ack.record_id] = set(CENTRES)
    for ack in yellow.acks:
        expected[ack.record_id] = {LYON}
    for result in sltd.results:
        expected[result.ack.record_id] = set(CENTRES)
    return expected


def ingest_manifest(clients: dict[str, LiaisonClient]) -> dict[str, set[str]]:
    """The i2c's passenger list; return, per record id, the centres it must reach."""
    print("\n== The i2c ingests API data")
    manifest = clients[I2C].ingest(
        "paxlst",
        (DATA / "manifest-ua123.edi").read_bytes(),
        source_reference="manifest-ua123.edi",
        handling=handling(record_pb2.HANDLING_CODE_H1, (I2C, LYON)),
    )
    print(f"   {I2C}: PAXLST UA123 -> {len(manifest.acks)} records (H1, releasable to Lyon)")
    return {ack.record_id: {I2C, LYON} for ack in manifest.acks}


def wait_for_hits(i2c: LiaisonClient) -> list[record_pb2.Record]:
    """The i2c's hits, once it has screened the manifest (a commit's hits are stored together)."""
    found: list[record_pb2.Record] = []

    def screened() -> bool:
        found[:] = list(i2c.hits())
        return {hit.screening_hit.list for hit in found} >= {"notices", "sltd"}

    wait_for(screened, "the i2c to screen the manifest")
    return found


def show_hits(i2c: LiaisonClient, hits: list[record_pb2.Record]) -> bool:
    print(f"\n== Screening hits at {I2C} (liaison hits)")
    for record in hits:
        hit = record.screening_hit
        subject = i2c.get(hit.subject_record_id).record
        band = screening_hit_pb2.ScreeningBand.Name(hit.band).removeprefix("SCREENING_BAND_")
        print(
            f"   {record.record_id}\n"
            f"     {_described(subject)} ~ {hit.list} entry {hit.entry_record_id}\n"
            f"     score {hit.score:.3f}, band {band}; contact {hit.entry_centre}"
        )
        for line in hit.explanation:
            print(f"      {line.weight:+6.2f} {line.feature:<12} {line.outcome:<16} {line.detail}")
    lists = {hit.screening_hit.list for hit in hits}
    transliterated = any(
        line.feature == "name" and line.outcome == "transliteration"
        for hit in hits
        for line in hit.screening_hit.explanation
    )
    ok = lists == {"notices", "sltd"} and transliterated
    if not ok:
        print("   WRONG: expected a notice hit on a transliteration variant and an sltd hit")
    return ok


def _described(record: record_pb2.Record) -> str:
    if record.WhichOneof("body") == "person" and record.person.names:
        name = record.person.names[0]
        return f"traveller {name.family}, {name.given}"
    if record.WhichOneof("body") == "travel_document":
        document = record.travel_document
        return f"passport {document.document_number} ({document.issuing_state.code})"
    return record.record_id


def show_hits_delivered(clients: dict[str, LiaisonClient], hits: list[record_pb2.Record]) -> bool:
    print("\n== Each hit at the centre that issued its entry")
    ok = True
    for record in hits:
        issuer = record.screening_hit.entry_centre
        try:
            clients[issuer].get(record.record_id)
            verdict = "delivered"
        except RecordNotFoundError:
            verdict, ok = "WRONG: missing", False
        print(f"   {record.record_id:<48} {record.screening_hit.list:<8} -> {issuer}: {verdict}")
    return ok


def decide(clients: dict[str, LiaisonClient], hits: list[record_pb2.Record]) -> bool:
    notice_hit = next(h for h in hits if h.screening_hit.list == "notices")
    note = "identity confirmed at the gate; Lyon informed"
    print(f"\n== An analyst at the i2c decides (liaison decide {notice_hit.record_id} --match)")
    decided = clients[I2C].decide(
        notice_hit.record_id,
        screening_hit_pb2.SCREENING_DECISION_KIND_MATCH,
        note,
        expected_version=notice_hit.version,
    )
    print(f"   {I2C}: hit now at version {decided.ack.version}: match, {note!r}")

    def arrived() -> bool:
        try:
            found = clients[LYON].get(notice_hit.record_id).record
        except RecordNotFoundError:
            return False
        return found.version == decided.ack.version

    wait_for(arrived, "the decision to reach Lyon")
    decision = clients[LYON].get(notice_hit.record_id).record.screening_hit.decision
    kind = screening_hit_pb2.ScreeningDecisionKind.Name(decision.kind)
    ok = decision.kind == screening_hit_pb2.SCREENING_DECISION_KIND_MATCH and decision.note == note
    print(
        f"   {LYON}: sees version {decided.ack.version}: "
        f"{kind.removeprefix('SCREENING_DECISION_KIND_').lower()} by {decision.analyst}"
        + ("" if ok else "  WRONG")
    )
    return ok


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


def red_notice_id(expected: dict[str, set[str]], lyon: LiaisonClient) -> str:
    return next(
        record_id
        for record_id, wanted in expected.items()
        if wanted == set(CENTRES) and lyon.get(record_id).record.WhichOneof("body") == "notice"
    )


def _withdrawn_at(client: LiaisonClient, record_id: str) -> bool:
    try:
        return client.get(record_id).record.WhichOneof("body") == "withdrawal"
    except RecordNotFoundError:
        return False


def withdraw_red_notice(clients: dict[str, LiaisonClient], record_id: str) -> bool:
    """Lyon cancels its red notice; it is gone everywhere, acknowledged in Lyon's ledger."""
    print(f"\n== Lyon cancels its red notice (liaison withdraw {record_id} --reason cancelled)")
    started = time.monotonic()
    ack = clients[LYON].withdraw(
        record_id, record_pb2.WITHDRAWAL_REASON_CANCELLED, "notice cancelled by the requesting NCB"
    )
    print(f"   {LYON}: tombstone stored as version {ack.version}")
    others = [c for c in CENTRES if c != LYON]
    wait_for(
        lambda: all(_withdrawn_at(clients[c], record_id) for c in others),
        "the withdrawal to reach every centre",
    )
    ok = True
    for centre in others:
        record = clients[centre].get(record_id).record
        # Every version is served as the tombstone: no content of the notice is left there.
        first = clients[centre].get(record_id, 1).record
        gone = record.WhichOneof("body") == "withdrawal" == first.WhichOneof("body")
        verdict = "gone (withdrawn: cancelled; no content served)" if gone else "WRONG: served"
        ok = ok and gone
        print(f"   {centre:<24} ({CITY[centre]}): {verdict}")

    def acknowledged() -> list[federation_pb2.DeliveryStatus]:
        return [
            d
            for d in clients[LYON].deliveries(record_id=record_id, limit=100)
            if d.version == ack.version and d.state == federation_pb2.DELIVERY_STATE_DELIVERED
        ]

    wait_for(lambda: len(acknowledged()) == len(others), "the acknowledgements in Lyon's ledger")
    print(f"   Lyon's recipient ledger for version {ack.version} (liaison recipients {record_id}):")
    for status in sorted(acknowledged(), key=lambda d: d.peer):
        print(
            f"     -> {status.peer:<24} delivered, acknowledged as version "
            f"{status.receiver_ack.version} at {status.receiver_ack.committed_at.ToJsonString()}"
        )
    print(f"   everywhere in {time.monotonic() - started:.2f} s")
    return ok and {d.peer for d in acknowledged()} == set(others)


def ask_and_answer(clients: dict[str, LiaisonClient], hits: list[record_pb2.Record]) -> bool:
    """The i2c asks Lyon an urgent question; Lyon reads and answers; the i2c sees each state."""
    notice_hit = next(h for h in hits if h.screening_hit.list == "notices")
    thread_id = f"{I2C}:rfi:ua123-1"
    request = record_pb2.Record(record_id=f"{I2C}:rfi:ua123-1:request")
    request.request.thread_id = thread_id
    request.request.subject = "Traveller on UA123 matching a red notice"
    request.request.body = "Is the traveller on UA123 the subject of your red notice? Urgent."
    request.request.linked_record_ids.append(notice_hit.screening_hit.subject_record_id)
    request.request.urgency = thread_pb2.URGENCY_URGENT
    request.handling.code = record_pb2.HANDLING_CODE_H1
    request.handling.releasable_to.extend([I2C, LYON])
    print(f"\n== The i2c asks Lyon an urgent question (thread {thread_id})")
    clients[I2C].submit(request)
    wait_for(lambda: _present(clients[LYON], request.record_id), "the request at Lyon")
    asked = clients[LYON].get(request.record_id).record  # Lyon's analyst reads it
    print(f"   {LYON}: reads {asked.request.subject!r}")
    answer = record_pb2.Record(record_id=f"{LYON}:rfi-answer:ua123-1")
    answer.reply.thread_id = thread_id
    answer.reply.body = "Yes: same person as our red notice; the notice was cancelled today."
    answer.handling.code = record_pb2.HANDLING_CODE_H1
    answer.handling.releasable_to.extend([I2C, LYON])
    clients[LYON].submit(answer)
    print(f"   {LYON}: answers ({answer.record_id})")

    def answered() -> exchange_pb2.Thread | None:
        for thread in clients[I2C].threads():
            if (
                thread.thread_id == thread_id
                and thread.HasField("read_at")
                and thread.state == exchange_pb2.THREAD_STATE_ANSWERED
            ):
                return thread
        return None

    wait_for(lambda: answered() is not None, "the answered thread at the i2c")
    thread = answered()
    assert thread is not None
    print(f"   {I2C} (liaison threads): thread with {thread.addressed_centre}, urgent")
    for label, stamp in (
        ("sent", thread.sent_at),
        ("delivered", thread.delivered_at),
        ("read", thread.read_at),
        ("answered", thread.answered_at),
        ("deadline", thread.reply_deadline),
    ):
        print(f"     {label:<10} {stamp.ToJsonString()}")
    state = exchange_pb2.ThreadState.Name(thread.state).removeprefix("THREAD_STATE_").lower()
    print(f"     state {state}, overdue {thread.overdue}, replies {list(thread.reply_record_ids)}")
    return state == "answered" and list(thread.reply_record_ids) == [answer.record_id]


def _present(client: LiaisonClient, record_id: str) -> bool:
    try:
        client.get(record_id)
    except RecordNotFoundError:
        return False
    return True


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
