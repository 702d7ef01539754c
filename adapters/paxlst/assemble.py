"""From parsed messages to records: multi-part messages joined, ids assigned, records linked.

A PAXLST too large for one message is sent as several UNH messages that share the common
access reference (UNH 0068) and number themselves in S010: sequence of transfers (0070,
``01``, ``02``...) and first/last transfer (0073, ``C`` on the first, ``F`` on the last). Each
part repeats the header (BGM, NAD+MS, TDT and its itinerary) and carries the next travellers.
The parts are joined here into one manifest; a gap in the numbering, a missing final part, or
parts that disagree on the header are reported.

Ids are those of ``ids``; the manifest links its travellers' persons (TRAVELLER) and documents
(DOCUMENT), each document its holder (HOLDER).
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.base import DecodeBuilder
from adapters.paxlst.findings import Findings
from adapters.paxlst.ids import document_record_id, manifest_record_id, person_record_id
from adapters.paxlst.parsed import ParsedMessage, ParsedTraveller
from liaison.v1 import record_pb2

__all__ = ["assemble"]

_TRAVELLER_LINK = record_pb2.LINK_TYPE_TRAVELLER
_DOCUMENT_LINK = record_pb2.LINK_TYPE_DOCUMENT
_HOLDER_LINK = record_pb2.LINK_TYPE_HOLDER


def assemble(
    messages: Sequence[ParsedMessage], findings: Findings, out: DecodeBuilder
) -> list[record_pb2.Record]:
    """Emit the records of ``messages`` into ``out``, in source order; return them."""
    emitted: list[record_pb2.Record] = []
    for ordinal, group in enumerate(_groups(messages)):
        _check_group(group, findings)
        emitted.extend(_records(group, ordinal, findings))
    for record in emitted:
        out.add_record(record)
    return emitted


def _groups(messages: Sequence[ParsedMessage]) -> list[list[ParsedMessage]]:
    groups: list[list[ParsedMessage]] = []
    open_groups: dict[str, list[ParsedMessage]] = {}
    for message in messages:
        key = message.common_access_reference
        if message.part_number and key:
            group = open_groups.get(key)
            if (
                group is not None
                and group[-1].part_number < message.part_number
                and group[-1].part_indicator != "F"
            ):
                group.append(message)
                continue
            open_groups[key] = group = [message]
            groups.append(group)
        else:
            groups.append([message])
    return groups


def _header(message: ParsedMessage) -> tuple[object, ...]:
    manifest = message.manifest
    return (
        manifest.manifest_type,
        manifest.flight_number,
        manifest.carrier_code,
        tuple(leg.SerializeToString(deterministic=True) for leg in manifest.legs),
        manifest.final_destination.SerializeToString(deterministic=True),
        manifest.reporting_party.SerializeToString(deterministic=True),
        manifest.envelope.message_identifier,
        manifest.envelope.document_identifier,
    )


def _check_group(group: list[ParsedMessage], findings: Findings) -> None:
    first = group[0]
    if len(group) == 1 and first.part_indicator != "C" and first.part_number <= 1:
        return
    header = _header(first)
    for number, part in enumerate(group, start=1):
        if part.part_number != number:
            findings.warning(
                "PAXLST_PART_SEQUENCE",
                f"UNH S010: part {number} of the multi-part message is missing or out of order "
                f"(this part is numbered {part.part_number})",
                part.unh,
            )
        elif number > 1 and part.part_indicator == "C":
            findings.warning(
                "PAXLST_PART_SEQUENCE",
                "UNH S010: a later part is marked as the first (0073 C)",
                part.unh,
            )
        if number > 1 and _header(part) != header:
            findings.warning(
                "PAXLST_PART_MISMATCH",
                f"part {number} of the multi-part message differs from the first part in its "
                "header (BGM, NAD+MS, TDT or itinerary); the first part's header is kept",
                part.unh,
            )
    last = group[-1]
    if last.part_indicator != "F":
        findings.warning(
            "PAXLST_PART_INCOMPLETE",
            "the multi-part message has no final part (UNH S010 0073 F): travellers may be missing",
            last.unh,
        )


def _declared_count(group: list[ParsedMessage], total: int, findings: Findings) -> int:
    """CNT of the group: per part (each counts its own travellers) or a total in the last."""
    counts = [part.declared for part in group]
    if all(
        count is not None and count == len(part.travellers)
        for count, part in zip(counts, group, strict=True)
    ):
        return total
    given = [part for part in group if part.cnt is not None]
    if not given:
        findings.warning(
            "PAXLST_MISSING_SEGMENT",
            "no CNT control total: the number of travellers is not declared",
            group[-1].unh,
        )
        return 0
    last = given[-1]
    declared = last.declared or 0
    assert last.cnt is not None
    if declared != total:
        findings.warning(
            "PAXLST_TRAVELLER_COUNT",
            f"CNT: the declared number of travellers is not the number listed ({total})",
            last.cnt,
        )
    return declared


def _records(
    group: list[ParsedMessage], ordinal: int, findings: Findings
) -> list[record_pb2.Record]:
    first = group[0]
    record = first.record
    manifest = record.passenger_manifest
    travellers: list[ParsedTraveller] = list(first.travellers)
    for part in group:
        part.group_record = record
    for part in group[1:]:
        manifest.travellers.extend(part.manifest.travellers)
        travellers.extend(part.travellers)
    last = group[-1]
    envelope = manifest.envelope
    envelope.part_number = last.part_number
    envelope.last_part = last.part_indicator == "F"
    manifest.declared_traveller_count = _declared_count(group, len(travellers), findings)

    manifest_id = manifest_record_id(manifest, ordinal)
    record.record_id = manifest_id
    records = [record]
    links = record.links
    for index, (traveller, entry) in enumerate(zip(travellers, manifest.travellers, strict=True)):
        person_record = traveller.person
        person_id = person_record_id(manifest_id, index)
        person_record.record_id = person_id
        entry.person_record_id = person_id
        links.add(type=_TRAVELLER_LINK, target_record_id=person_id)
        records.append(person_record)
        person = person_record.person
        for number, document_record in enumerate(traveller.documents):
            document_id = document_record_id(manifest_id, index, number)
            document_record.record_id = document_id
            entry.document_record_ids.append(document_id)
            links.add(type=_DOCUMENT_LINK, target_record_id=document_id)
            document_record.links.add(type=_HOLDER_LINK, target_record_id=person_id)
            document = document_record.travel_document
            # The traveller's data in PAXLST is the data of the document presented.
            if person.names:
                document.holder_name.CopyFrom(person.names[0])
            if person.nationalities:
                document.holder_nationality.CopyFrom(person.nationalities[0])
            if person.HasField("birth_date"):
                document.holder_birth_date.CopyFrom(person.birth_date)
            document.holder_sex = person.sex
            records.append(document_record)
    return records
