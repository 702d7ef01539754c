"""Records for screening tests beyond the service's own: a red notice, a traveller who matches
it, a stolen passport, and waiting for a gateway's screening desk to catch up with its commits."""

from __future__ import annotations

from gateway.server import Gateway
from liaison.v1 import common_pb2, notice_pb2, record_pb2, travel_document_pb2
from tests.support.factories import person, travel_document
from tests.support.polling import until

BIRTH = (1971, 5, 4)


def red_notice(
    record_id: str,
    family: str = "IVANOV",
    given: str = "SERGEI",
    *,
    releasable_to: tuple[str, ...] = (),
) -> record_pb2.Record:
    """A red notice on a Russian man born 1971-05-04."""
    record = record_pb2.Record(record_id=record_id)
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_RED
    subject = record.notice.subject
    subject.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family=family, given=given)
    subject.birth_date.year, subject.birth_date.month, subject.birth_date.day = BIRTH
    subject.sex = common_pb2.SEX_MALE
    subject.nationalities.add(code="RUS", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3)
    record.handling.releasable_to.extend(releasable_to)
    return record


def traveller(record_id: str, family: str = "IVANOFF", given: str = "SERGEY") -> record_pb2.Record:
    """A traveller with the notice's birth date, sex and nationality (a spelling variant by
    default: IVANOFF SERGEY for IVANOV SERGEI)."""
    record = person(record_id, family, given, BIRTH)
    record.person.sex = common_pb2.SEX_MALE
    del record.person.nationalities[:]
    record.person.nationalities.add(
        code="RUS", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    return record


def stolen_passport(record_id: str, number: str = "X1234567") -> record_pb2.Record:
    """A French passport reported stolen: an entry of the ``sltd`` list."""
    record = travel_document(record_id, number=number, issuing_state="FRA")
    record.travel_document.status = travel_document_pb2.DOCUMENT_STATUS_STOLEN
    return record


async def screened(gateway: Gateway) -> None:
    """Wait until the gateway's screening desk has applied every commit (it screens after the
    commit, on a task of its own)."""
    last = await gateway.store.last_sequence()
    await until(lambda: gateway.screening.applied_through >= last)
