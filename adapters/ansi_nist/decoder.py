"""Bytes -> records: read the Type-1 header, walk the transaction, one person per Type-2 record.

Findings go to the builder as they are found, in payload order: the Type-1 record and its
header first, then the walk of the other records and the check of 1.003 CNT against them, then
each Type-2 record's fields as its person is built. A person record names the diagnostics of
its own Type-2 record. A transaction whose header or structure is invalid (an error of
transaction scope) gives no person record at all: its records are not built.
"""

from __future__ import annotations

from adapters.ansi_nist import codes
from adapters.ansi_nist.charsets import TextCodec, character_set_indexes, unreadable_indexes
from adapters.ansi_nist.findings import Findings, Scope
from adapters.ansi_nist.header import read_header
from adapters.ansi_nist.person import read_person
from adapters.ansi_nist.transaction import RawRecord, TransactionReader
from adapters.base import DecodeBuilder, DecodeResult, stable_record_id
from liaison.v1 import nist_pb2

__all__ = ["RECORD_ID_PREFIX", "decode_transaction"]

RECORD_ID_PREFIX = "ansi-nist"


def decode_transaction(out: DecodeBuilder, payload: bytes) -> DecodeResult:
    """Decode ``payload`` into ``out`` (which carries the adapter and the source reference)."""
    findings = Findings(out)
    reader = TransactionReader(payload, findings)
    type1 = reader.read_type1()
    if type1 is None:
        return out.result()
    header = read_header(type1, findings)
    indexes = character_set_indexes(s.items for s in header.character_sets)
    _report_unreadable(indexes, type1, findings)
    records = reader.read_records(type1)
    if findings.transaction_invalid:
        return out.result()
    type2 = [raw for raw in records if raw.record_type == 2]
    if not type2:
        findings.info(
            codes.NO_DESCRIPTIVE_TEXT,
            "the transaction has no Type-2 record: no person record is produced",
            type1.offset,
            0,
        )
        return out.result()
    _people(out, reader, findings, header, type2, TextCodec.from_indexes(indexes))
    return out.result()


def _people(
    out: DecodeBuilder,
    reader: TransactionReader,
    findings: Findings,
    header: nist_pb2.NistTransactionHeader,
    type2: list[RawRecord],
    codec: TextCodec,
) -> None:
    """One person record per Type-2 record, in transaction order."""
    # Identity of the transaction: its originator and control number (both mandatory), which
    # 1-2011 makes unique per originating agency.
    identity = [header.originating_agency, header.control_number]
    reference = header.control_number
    for ordinal, raw in enumerate(type2):
        record_id = stable_record_id(RECORD_ID_PREFIX, *identity, str(ordinal), str(raw.idc))
        record = out.new_record(record_id, source_reference=reference)
        findings.people[raw.index] = record
        source = record.provenance.nist
        source.header.CopyFrom(header)
        read_person(raw, reader.fields_of(raw), codec, record.person, source, findings)


def _report_unreadable(indexes: list[int | None], type1: RawRecord, findings: Findings) -> None:
    unreadable = unreadable_indexes(indexes)
    if not unreadable:
        return
    offset = next((f.offset for f in type1.fields if f.number == 15), type1.offset)
    listed = ", ".join("malformed" if index is None else f"{index:03d}" for index in unreadable)
    findings.warning(
        codes.CHARSET_UNSUPPORTED,
        f"1.015 DCS declares character encodings this adapter cannot read ({listed}); text "
        "in them is reported as undecodable",
        offset,
        0,
        Scope.TRANSACTION,
    )
