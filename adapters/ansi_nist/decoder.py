"""Bytes -> records: walk the transaction, read the header, build one person per Type-2 record.

Findings from every stage are turned into diagnostics in byte order once the person records
exist, so that an error names the records it concerns: a record-level problem its own person, a
damaged header or structure every person of the transaction.
"""

from __future__ import annotations

from itertools import chain

from adapters.ansi_nist import codes
from adapters.ansi_nist.charsets import TextCodec, character_set_indexes, unreadable_indexes
from adapters.ansi_nist.findings import Finding, Findings, Scope
from adapters.ansi_nist.header import read_header
from adapters.ansi_nist.person import read_person
from adapters.ansi_nist.transaction import RawRecord, read_transaction
from adapters.base import DecodeBuilder, DecodeResult, stable_record_id
from adapters.diagnostics import Location

__all__ = ["RECORD_ID_PREFIX", "decode_transaction"]

RECORD_ID_PREFIX = "ansi-nist"


def decode_transaction(out: DecodeBuilder, payload: bytes) -> DecodeResult:
    """Decode ``payload`` into ``out`` (which carries the adapter and the source reference)."""
    transaction = read_transaction(payload)
    stages = [transaction.findings]
    ids: dict[int, str] = {}
    if transaction.records:
        type1 = transaction.records[0]
        header_result = read_header(type1)
        header = header_result.header
        stages.append(header_result.findings)
        people = Findings()
        stages.append(people)
        indexes = character_set_indexes(s.items for s in header.character_sets)
        _report_unreadable(indexes, type1, people)
        codec = TextCodec.from_indexes(indexes)
        # Identity of the transaction: its originator and control number, which 1-2011 makes
        # unique per originating agency; without a TCN only the payload itself identifies it.
        identity = [header.originating_agency, header.control_number]
        if not header.control_number:
            identity.append(out.payload_sha256.hex())
        reference = header.control_number or out.source_reference
        type2 = [raw for raw in transaction.records if raw.record_type == 2]
        for ordinal, raw in enumerate(type2):
            record_id = stable_record_id(RECORD_ID_PREFIX, *identity, str(ordinal), str(raw.idc))
            record = out.new_record(record_id, source_reference=reference)
            source = record.provenance.nist
            source.header.CopyFrom(header)
            read_person(raw, codec, record.person, source, people)
            ids[raw.index] = record_id
        if not type2:
            people.info(
                codes.NO_DESCRIPTIVE_TEXT,
                "the transaction has no Type-2 record: no person record is produced",
                type1.offset,
                0,
            )
    _emit(out, chain.from_iterable(stage.items for stage in stages), ids)
    return out.result()


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


def _emit(out: DecodeBuilder, findings: chain[Finding], ids: dict[int, str]) -> None:
    everyone = tuple(ids.values())
    for finding in sorted(findings, key=lambda f: f.offset):
        if finding.scope is Scope.TRANSACTION:
            named: tuple[str, ...] = everyone
        elif finding.scope is Scope.RECORD and finding.record_index in ids:
            named = (ids[finding.record_index],)
        else:
            named = ()
        out.add(
            finding.severity,
            finding.code,
            finding.message,
            Location(byte_offset=finding.offset, segment_index=finding.record_index),
            records=named,
        )
