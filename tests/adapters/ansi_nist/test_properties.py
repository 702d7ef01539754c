"""Properties: records -> encode -> decode gives them back; any bytes decode without raising."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ansi_nist import AnsiNistAdapter
from adapters.ansi_nist.codes import PUBLISHED_VERSIONS
from adapters.ansi_nist.encoder import with_length
from adapters.diagnostics import Severity
from liaison.codes import ICAO_CODES, ISO_ALPHA2_TO_ALPHA3, ISO_ALPHA3
from liaison.rules.text import forbidden_in
from liaison.v1 import common_pb2, nist_pb2, person_pb2, record_pb2
from tests.adapters.ansi_nist.build import binary, record, type1

ADAPTER = AnsiNistAdapter()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAPPED_NUMBERS = {1, 2, 18, 19, 20, 21, 22, 24}

# Letters of several scripts (no separators, no whitespace, no commas).
_letters = st.characters(categories=("Lu", "Ll", "Lo"), max_codepoint=0x9FFF)
_word = st.text(_letters, min_size=1, max_size=8)
_words = st.lists(_word, max_size=3).map(" ".join)
# Any text a kept field may hold: free text (liaison.rules.text), so no control character but
# TAB, LF and CR - the separators and reserved characters are controls too.
_free_text = st.text(
    st.characters(codec="utf-8").filter(lambda c: forbidden_in(c, free_text=True) is None),
    max_size=12,
)
_ascii_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=10
)


@st.composite
def names(draw: st.DrawFn, name_type: common_pb2.NameType.ValueType) -> common_pb2.Name:
    family = draw(_words)
    given_names = draw(_words.filter(lambda g: bool(g or family)))
    return common_pb2.Name(type=name_type, family=family, given=given_names)


@st.composite
def dates(draw: st.DrawFn) -> common_pb2.PartialDate:
    year = draw(st.integers(1, 9999))
    month = draw(st.integers(0, 12))
    if not month:
        return common_pb2.PartialDate(year=year)
    day = draw(st.integers(0, 28))
    return common_pb2.PartialDate(year=year, month=month, day=day)


_countries = st.one_of(
    st.sampled_from(sorted(ISO_ALPHA3)).map(
        lambda c: common_pb2.CountryCode(
            code=c, system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
        )
    ),
    st.sampled_from(sorted(ISO_ALPHA2_TO_ALPHA3.items())).map(
        lambda pair: common_pb2.CountryCode(
            code=pair[1], system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, raw=pair[0]
        )
    ),
    st.sampled_from(sorted(ICAO_CODES)).map(
        lambda c: common_pb2.CountryCode(code=c, system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303)
    ),
    st.from_regex(r"[0-9]{1,3}", fullmatch=True).map(
        lambda raw: common_pb2.CountryCode(system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, raw=raw)
    ),
)


@st.composite
def kept_fields(
    draw: st.DrawFn, record_type: int, numbers: st.SearchStrategy[int], text: st.SearchStrategy[str]
) -> list[nist_pb2.NistField]:
    chosen = sorted(draw(st.sets(numbers, max_size=3)))
    fields = []
    for number in chosen:
        field = nist_pb2.NistField(record_type=record_type, field_number=number)
        for items in draw(st.lists(st.lists(text, min_size=1, max_size=3), min_size=1, max_size=3)):
            field.subfields.add().items.extend(items)
        fields.append(field)
    return fields


@st.composite
def persons(draw: st.DrawFn) -> person_pb2.Person:
    person = person_pb2.Person()
    person.names.append(draw(names(common_pb2.NAME_TYPE_PRIMARY)))
    person.names.extend(draw(st.lists(names(common_pb2.NAME_TYPE_ALIAS), max_size=3)))
    if draw(st.booleans()):
        person.birth_date.CopyFrom(draw(dates()))
        person.alternative_birth_dates.extend(draw(st.lists(dates(), max_size=2)))
    if draw(st.booleans()):
        person.birth_place.country.CopyFrom(draw(_countries))
    person.nationalities.extend(draw(st.lists(_countries, max_size=3)))
    person.sex = draw(st.sampled_from(list(common_pb2.Sex.values())))
    return person


@st.composite
def headers(draw: st.DrawFn) -> nist_pb2.NistTransactionHeader:
    header = nist_pb2.NistTransactionHeader(
        version=draw(st.sampled_from(sorted(PUBLISHED_VERSIONS))),
        transaction_type=draw(_ascii_text),
        date=draw(st.dates()).strftime("%Y%m%d").rjust(8, "0"),
        priority=draw(st.integers(0, 9)),
        destination_agency=draw(_ascii_text),
        originating_agency=draw(_ascii_text),
        control_number=draw(_ascii_text),
        control_reference=draw(st.just("") | _ascii_text),
        native_scanning_resolution="00.00",
        nominal_transmitting_resolution=draw(st.sampled_from(["00.00", "19.69"])),
    )
    header.domain.extend(draw(st.sampled_from([[], ["NORAM"], ["INT-I", "6.0"]])))
    if draw(st.booleans()):
        header.character_sets.add().items.extend(["003", "UTF-8"])
    header.other_fields.extend(draw(kept_fields(1, st.integers(16, 999), _ascii_text)))
    return header


@st.composite
def transactions(draw: st.DrawFn) -> list[record_pb2.Record]:
    header = draw(headers())
    idcs = draw(st.lists(st.integers(0, 99), min_size=1, max_size=4, unique=True))
    records = []
    for index, idc in enumerate(idcs):
        record_ = record_pb2.Record(record_id=f"person-{index}")
        record_.person.CopyFrom(draw(persons()))
        source = record_.provenance.nist
        source.header.CopyFrom(header)
        source.idc = idc
        numbers = st.integers(3, 999).filter(lambda n: n not in MAPPED_NUMBERS)
        source.unmapped_fields.extend(draw(kept_fields(2, numbers, _free_text)))
        records.append(record_)
    return records


def _needs_utf8(records: list[record_pb2.Record]) -> bool:
    return any(not str(r.person).isascii() or not str(r.provenance.nist).isascii() for r in records)


@SETTINGS
@given(records=transactions())
def test_records_survive_encode_then_decode(records: list[record_pb2.Record]) -> None:
    """Person bodies, IDC, header and kept fields come back equal; DCS gains UTF-8 if needed."""
    encoded = ADAPTER.encode(records)
    assert [d for d in encoded.diagnostics if d.severity is Severity.ERROR] == []
    decoded = ADAPTER.decode(encoded.payload)
    assert decoded.diagnostics == ()
    assert [r.person for r in decoded.records] == [r.person for r in records]
    expected_header = nist_pb2.NistTransactionHeader()
    expected_header.CopyFrom(records[0].provenance.nist.header)
    if _needs_utf8(records) and not expected_header.character_sets:
        expected_header.character_sets.add().items.extend(["003", "UTF-8"])
    for before, after in zip(records, decoded.records, strict=True):
        assert after.provenance.nist.header == expected_header
        assert after.provenance.nist.idc == before.provenance.nist.idc
        assert after.provenance.nist.unmapped_fields == before.provenance.nist.unmapped_fields


@SETTINGS
@given(records=transactions())
def test_decode_encode_decode_is_stable(records: list[record_pb2.Record]) -> None:
    first = ADAPTER.decode(ADAPTER.encode(records).payload)
    again = ADAPTER.decode(ADAPTER.encode(first.records).payload)
    assert [r.record_id for r in again.records] == [r.record_id for r in first.records]
    assert [r.person for r in again.records] == [r.person for r in first.records]
    assert [r.provenance.nist for r in again.records] == [r.provenance.nist for r in first.records]


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise_and_locations_stay_inside(payload: bytes) -> None:
    result = ADAPTER.decode(payload)
    assert result.diagnostics
    for diagnostic in result.diagnostics:
        offset = diagnostic.location.byte_offset
        assert offset is not None
        assert 0 <= offset <= len(payload)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from([b"1.001:", b"1.001:50\x1d1.003:1\x1f1\x1e4\x1f01\x1d"]),
    rest=st.binary(max_size=512),
)
def test_bytes_after_a_plausible_start_never_raise(prefix: bytes, rest: bytes) -> None:
    result = ADAPTER.decode(prefix + rest)
    assert all(d.location.byte_offset is not None for d in result.diagnostics)


@SETTINGS
@given(image=st.binary(max_size=600), idc=st.integers(1, 99))
def test_binary_image_data_never_splits_the_transaction(image: bytes, idc: int) -> None:
    """Whatever the bytes of a Type-4 image, the Type-2 records around it decode cleanly."""
    payload = (
        type1((2, 0), (4, idc), (2, 2))
        + record(2, (2, "00"), (18, "DOE,JOHN"))
        + binary(idc, image)
        + record(2, (2, "02"), (18, "ROE,RICHARD"))
    )
    result = ADAPTER.decode(payload)
    assert [d.code for d in result.diagnostics] == ["NIST_RECORD_SKIPPED"]
    assert [r.person.names[0].family for r in result.records] == ["DOE", "ROE"]


@SETTINGS
@given(sizes=st.lists(st.integers(0, 1200), min_size=0, max_size=4))
def test_len_always_equals_the_record_length(sizes: list[int]) -> None:
    fields = [f"2.{70 + i:03d}:".encode() + b"x" * size for i, size in enumerate(sizes)]
    written = with_length(2, fields)
    digits_end = written.index(b"\x1d") if fields else written.index(b"\x1c")
    assert int(written[len(b"2.001:") : digits_end]) == len(written)
