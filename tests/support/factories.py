"""Small builders of valid records for tests. Values are synthetic; nothing here is real data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.protobuf.message import Message

from gateway.store.base import StoredVersion
from liaison.rules.intake import prepare_replica
from liaison.v1 import common_pb2, record_pb2, travel_document_pb2

if TYPE_CHECKING:
    from gateway.server import Gateway


def person(
    record_id: str,
    family: str = "DOE",
    given: str = "JANE",
    birth: tuple[int, int, int] = (1975, 3, 12),
    *,
    centre: str = "",
) -> record_pb2.Record:
    """A Person record with one primary name, a birth date and a nationality."""
    record = record_pb2.Record(record_id=record_id)
    record.person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family=family, given=given)
    year, month, day = birth
    record.person.birth_date.year, record.person.birth_date.month = year, month
    record.person.birth_date.day = day
    record.person.sex = common_pb2.SEX_FEMALE
    record.person.nationalities.add(
        code="FRA", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    if centre:
        record.provenance.originating_centre = centre
    return record


def travel_document(
    record_id: str,
    number: str = "L898902C3",
    issuing_state: str = "UTO",
    family: str = "ERIKSSON",
    birth: tuple[int, int, int] = (1974, 8, 12),
) -> record_pb2.Record:
    """A passport record with its holder's data (ICAO 9303 specimen-like values)."""
    record = record_pb2.Record(record_id=record_id)
    document = record.travel_document
    document.document_type = travel_document_pb2.DOCUMENT_TYPE_PASSPORT
    document.document_code = "P<"
    document.document_number = number
    if issuing_state == "UTO":
        # Utopia, ICAO's specimen state, is no real code: carried as an unmapped raw value.
        document.issuing_state.system = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
        document.issuing_state.raw = "UTO"
    else:
        document.issuing_state.code = issuing_state
    document.holder_name.family = family
    document.holder_name.given = "ANNA MARIA"
    year, month, day = birth
    document.holder_birth_date.year = year
    document.holder_birth_date.month = month
    document.holder_birth_date.day = day
    document.expiry_date.year, document.expiry_date.month, document.expiry_date.day = 2032, 4, 15
    return record


def set_path(message: Message, path: str, value: object) -> None:
    """Set (or, with ``None``, clear) the field at a dotted path such as ``person.birth_date.day``.

    Tests use it to write values the typed API refuses, such as enum numbers the contract does not
    define.
    """
    *parents, name = path.split(".")
    target = message
    for part in parents:
        target = getattr(target, part)
    if value is None:
        target.ClearField(name)
    else:
        setattr(target, name, value)


async def store_replica(gateway: Gateway, record: record_pb2.Record, version: int = 1) -> None:
    """Store ``record`` at ``gateway`` as a version forwarded from its originating centre (as
    ``Federation.Deliver`` does once the origin's signature has verified)."""
    record.version = version
    [outcome] = await gateway.store.write([prepare_replica(record)])
    assert isinstance(outcome, StoredVersion), outcome
