"""Representative inputs for the adapter benchmark, made by the adapters' own encoders.

Each workload is built from synthetic records (the people and passports of ``bench.records``,
deterministic) encoded by the adapter under test, so the payload is valid for it by construction:
a 500-traveller PAXLST, 10,000 MRZs, a 160-notice result page, 1,000 ANSI/NIST transactions.
Each comes with the raw baseline the adapter's meaning layer sits on: pydifact's tokenizer, a
plain split of lines, ``json.loads``, a walk of the records by their LEN fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydifact.control.characters import Characters
from pydifact.tokenizer import Tokenizer

from adapters import Adapter, Severity, get_adapter
from bench.records import build_record
from liaison.v1 import manifest_pb2, nist_pb2, notice_pb2, record_pb2

__all__ = ["InputError", "Workload", "build_workloads", "walk_nist_records"]

_RUN_TAG = "adapters"


class InputError(RuntimeError):
    """An adapter refused the benchmark's own synthetic input: nothing valid to measure."""


@dataclass(frozen=True, slots=True)
class Workload:
    """One adapter's benchmark input: payloads, the records they encode, and the baseline."""

    adapter: Adapter
    label: str
    """What the input is, e.g. "10,000 MRZs"."""
    payloads: tuple[bytes, ...]
    batches: tuple[tuple[record_pb2.Record, ...], ...]
    """The records of each payload as the adapter decodes them: what encode is timed on."""
    baseline_name: str
    baseline: Callable[[bytes], object]
    """The raw tokenizing (or parsing) of one payload, without meaning."""

    @property
    def records(self) -> int:
        return sum(len(batch) for batch in self.batches)

    @property
    def payload_bytes(self) -> int:
        return sum(len(payload) for payload in self.payloads)


def _people(count: int) -> list[tuple[record_pb2.Record, record_pb2.Record]]:  # (person, doc)
    """``count`` (person, travel document) pairs with distinct document numbers."""
    pairs = []
    for index in range(count):
        person = build_record(_RUN_TAG, 2 * index)
        document = build_record(_RUN_TAG, 2 * index + 1)
        # bench.records repeats its templates after 1,024 people; a distinct number keeps every
        # MRZ and every traveller distinct. The MRZ is regenerated from the fields.
        number = document.travel_document.document_number
        document.travel_document.document_number = f"{number[:2]}{index:07d}"
        document.travel_document.ClearField("mrz")
        pairs.append((person, document))
    return pairs


def _valid(
    adapter: Adapter, records: Sequence[record_pb2.Record]
) -> tuple[bytes, tuple[record_pb2.Record, ...]]:
    encoded = adapter.encode(records)
    errors = [str(d) for d in encoded.diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise InputError(f"{adapter.name} refused the synthetic records: {errors[:3]}")
    decoded = adapter.decode(encoded.payload)
    errors = [str(d) for d in decoded.diagnostics if d.severity is Severity.ERROR]
    if errors or not decoded.records:
        raise InputError(f"{adapter.name} cannot decode what it encoded: {errors[:3]}")
    return encoded.payload, tuple(decoded.records)


def _mrz_workload(count: int) -> Workload:
    adapter = get_adapter("icao-mrz")
    records = [record for pair in _people(count) for record in pair]
    payload, batch = _valid(adapter, records)
    return Workload(
        adapter, f"{count:,} MRZs", (payload,), (batch,), "split lines", lambda p: p.split(b"\n")
    )


def _manifest(
    travellers: Sequence[tuple[record_pb2.Record, record_pb2.Record]],
) -> record_pb2.Record:
    record = record_pb2.Record(record_id="bench-manifest")
    manifest = record.passenger_manifest
    manifest.manifest_type = manifest_pb2.MANIFEST_TYPE_PASSENGER
    manifest.carrier_code = "LH"
    manifest.flight_number = "LH400"
    manifest.declared_traveller_count = len(travellers)
    manifest.reporting_party.name = "LUFTHANSA API"
    envelope = manifest.envelope
    envelope.sender, envelope.recipient = "LH", "USCBP"
    envelope.prepared_at = "261127:0830"
    envelope.interchange_reference = envelope.message_reference = "1"
    leg = manifest.legs.add()
    leg.departure.iata_code, leg.arrival.iata_code = "FRA", "JFK"
    for moment, hour in ((leg.scheduled_departure, 10), (leg.scheduled_arrival, 13)):
        moment.date.year, moment.date.month, moment.date.day = 2026, 11, 27
        moment.has_time, moment.hour = True, hour
    for person, document in travellers:
        traveller = manifest.travellers.add(role=manifest_pb2.TRAVELLER_ROLE_PASSENGER)
        traveller.person_record_id = person.record_id
        traveller.document_record_ids.append(document.record_id)
    return record


def _paxlst_workload(count: int) -> Workload:
    adapter = get_adapter("paxlst")
    travellers = _people(count)
    records = [_manifest(travellers), *(record for pair in travellers for record in pair)]
    payload, batch = _valid(adapter, records)
    characters = Characters()  # type: ignore[no-untyped-call]

    def tokenize(data: bytes) -> object:
        return list(Tokenizer().get_tokens(data.decode("utf-8"), characters))

    return Workload(
        adapter, f"{count} travellers", (payload,), (batch,), "pydifact tokenizer", tokenize
    )


def _notice_workload(count: int) -> Workload:
    adapter = get_adapter("interpol-notice")
    records = []
    for index, (person, _) in enumerate(_people(count)):
        record = record_pb2.Record(record_id=f"bench-notice-{index}")
        notice = record.notice
        notice.notice_type = notice_pb2.NOTICE_TYPE_RED
        notice.entity_id = f"{2010 + index % 15}/{40000 + index}"
        notice.subject.CopyFrom(person.person)
        warrant = notice.arrest_warrants.add(charge="Trafficking in narcotic drugs")
        warrant.issuing_country.code = "ARG"
        records.append(record)
    payload, batch = _valid(adapter, records)
    return Workload(adapter, f"{count}-notice page", (payload,), (batch,), "json.loads", json.loads)


def walk_nist_records(payload: bytes) -> list[bytes]:
    """The tagged records of a transaction, found by their LEN field (``n.001:LEN``) alone."""
    records = []
    position = 0
    while position < len(payload):
        colon = payload.index(b":", position)
        end = colon + 1
        while payload[end] in b"0123456789":
            end += 1
        length = int(payload[colon + 1 : end])
        records.append(payload[position : position + length])
        position += length
    return records


def _nist_workload(count: int) -> Workload:
    adapter = get_adapter("ansi-nist")
    payloads, batches = [], []
    for index, (person, _) in enumerate(_people(count)):
        header = person.provenance.nist.header
        header.CopyFrom(
            nist_pb2.NistTransactionHeader(
                version="0502",
                transaction_type="CPR",
                date="20261127",
                priority=4,
                destination_agency="INTERPOL",
                originating_agency="FRNCB0001",
                control_number=f"FR-2026-{index:06d}",
                native_scanning_resolution="00.00",
                nominal_transmitting_resolution="00.00",
                domain=["INT-I", "6.0"],
            )
        )
        person.provenance.nist.idc = 1
        payload, batch = _valid(adapter, [person])
        payloads.append(payload)
        batches.append(batch)
    return Workload(
        adapter,
        f"{count:,} transactions",
        tuple(payloads),
        tuple(batches),
        "LEN walk",
        walk_nist_records,
    )


def build_workloads(
    *, mrzs: int, travellers: int, notices: int, transactions: int
) -> list[Workload]:
    """The four built-in adapters' workloads, in a fixed order."""
    return [
        _paxlst_workload(travellers),
        _mrz_workload(mrzs),
        _notice_workload(notices),
        _nist_workload(transactions),
    ]
