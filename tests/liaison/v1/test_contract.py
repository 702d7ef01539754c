"""Tests of the liaison.v1 contract: encodings, naming conventions, shape, documentation.

Three groups:

* Property tests: every message type of every liaison.v1 file survives the binary encoding and
  both JSON spellings (lowerCamel and proto field names) unchanged. The types are discovered from
  the generated modules, so a new message is covered without touching this file.
* Shape tests that pin the conventions the gateway and adapters rely on (enum zero values, the
  Record body oneof and its RecordKind twin, the services and their streaming shapes, the package)
  and concrete JSON examples of the mapping integrators will see.
* Tests of the strategy builder itself, against a schema built at run time that uses every
  scalar type, maps, recursion, oneofs and proto3 ``optional``: the contract alone does not use
  all of them, and a builder that quietly never drew some state would make the properties above
  weaker than they look.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import math
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pytest
from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    message_factory,
    symbol_database,
    timestamp_pb2,
)
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import liaison.v1
from liaison.v1 import (
    common_pb2,
    exchange_pb2,
    exchange_pb2_grpc,
    notice_pb2,
    person_pb2,
    record_pb2,
    translation_pb2,
    translation_pb2_grpc,
    travel_document_pb2,
)
from tests.support.contract_strategies import (
    DURATION_MAX_SECONDS,
    NANOS_MAX,
    TIMESTAMP_MAX_SECONDS,
    TIMESTAMP_MIN_SECONDS,
    messages,
    reproducible_settings,
    timestamps,
)

PACKAGE: Final = "liaison.v1"
CONTRACT_DIR: Final = Path(liaison.v1.__file__).parent
CONTRACT_DOC: Final = Path(__file__).resolve().parents[3] / "docs" / "contract.md"

# Examples per message type and property. The whole contract (60-odd types) at this count runs
# in about ten seconds on one core, which keeps the unit suite fast on two shared CI cores.
EXAMPLES_PER_TYPE: Final = 50


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


def _contract_modules() -> list[ModuleType]:
    """Every generated message module of liaison.v1 (``*_pb2``, not the gRPC ``*_pb2_grpc``)."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(liaison.v1.__path__)
        if info.name.endswith("_pb2")
    )
    return [importlib.import_module(f"{PACKAGE}.{name}") for name in names]


def _with_nested(descriptors: Iterator[Descriptor]) -> Iterator[Descriptor]:
    for descriptor in descriptors:
        # Map entries are synthetic types, not part of the contract's vocabulary.
        if descriptor.GetOptions().map_entry:
            continue
        yield descriptor
        yield from _with_nested(iter(descriptor.nested_types))


def _contract_messages() -> list[Descriptor]:
    found = [
        descriptor
        for module in _contract_modules()
        for descriptor in _with_nested(iter(module.DESCRIPTOR.message_types_by_name.values()))
    ]
    return sorted(found, key=lambda descriptor: descriptor.full_name)


def _contract_enums() -> list[EnumDescriptor]:
    found: list[EnumDescriptor] = []
    for module in _contract_modules():
        found.extend(module.DESCRIPTOR.enum_types_by_name.values())
    for message in _contract_messages():
        found.extend(message.enum_types)
    return sorted(found, key=lambda enum: enum.full_name)


CONTRACT_MODULES: Final = _contract_modules()
CONTRACT_MESSAGES: Final = _contract_messages()
CONTRACT_ENUMS: Final = _contract_enums()


def test_every_proto_file_has_a_generated_module() -> None:
    # Guards the discovery itself: a .proto without generated code would silently go untested.
    on_disk = {f"liaison/v1/{path.name}" for path in CONTRACT_DIR.glob("*.proto")}
    generated = {module.DESCRIPTOR.name for module in CONTRACT_MODULES}
    assert len(on_disk) >= 10
    assert generated == on_disk


def test_discovery_finds_the_contract_vocabulary() -> None:
    names = {descriptor.name for descriptor in CONTRACT_MESSAGES}
    assert len(names) >= 50
    assert len(names) == len(CONTRACT_MESSAGES), "message names must be unique across files"
    expected = {
        "Record",
        "Provenance",
        "Handling",
        "Link",
        "PartialDate",
        "CountryCode",
        "Name",
        "Transliteration",
        "Person",
        "TravelDocument",
        "Vehicle",
        "Seizure",
        "Notice",
        "ArrestWarrant",
        "PassengerManifest",
        "CulturalObject",
        "NistSource",
        "SubmitRequest",
        "SubmitStreamRequest",
        "GetRequest",
        "SearchRequest",
        "SubscribeRequest",
        "ListAdaptersRequest",
        "TranslateRequest",
        "IngestRequest",
        "ExportRequest",
    }
    assert expected <= names, f"missing: {sorted(expected - names)}"


def test_every_file_is_in_package_liaison_v1() -> None:
    for module in CONTRACT_MODULES:
        assert module.DESCRIPTOR.package == PACKAGE, module.DESCRIPTOR.name
        assert module.DESCRIPTOR.name.startswith("liaison/v1/"), module.DESCRIPTOR.name
    for descriptor in CONTRACT_MESSAGES:
        assert descriptor.full_name.startswith(f"{PACKAGE}.")


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


def _assert_round_trips(message: Message) -> None:
    """The message survives the binary encoding and both JSON spellings unchanged."""
    cls = type(message)
    decoded = cls.FromString(message.SerializeToString())
    assert decoded == message, "binary round trip changed the message"
    # A content hash over the deterministic encoding (SubmitAck.content_sha256 hashes canonical
    # content) is only stable if that encoding survives a decode/encode cycle unchanged.
    assert decoded.SerializeToString(deterministic=True) == message.SerializeToString(
        deterministic=True
    )
    for preserving in (False, True):
        text = json_format.MessageToJson(message, preserving_proto_field_name=preserving)
        parsed = json_format.Parse(text, cls())
        assert parsed == message, (
            f"JSON round trip (preserving_proto_field_name={preserving}) changed:\n{text}"
        )


@pytest.mark.parametrize("descriptor", CONTRACT_MESSAGES, ids=lambda d: d.full_name)
@reproducible_settings(EXAMPLES_PER_TYPE)
@given(data=st.data())
def test_every_message_round_trips(descriptor: Descriptor, data: st.DataObject) -> None:
    message = data.draw(messages(descriptor))
    assert message.DESCRIPTOR is descriptor
    _assert_round_trips(message)


# --------------------------------------------------------------------------------------------
# Conventions
# --------------------------------------------------------------------------------------------


def _upper_snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).upper()


@pytest.mark.parametrize("enum", CONTRACT_ENUMS, ids=lambda e: e.full_name)
def test_enum_zero_value_is_unspecified(enum: EnumDescriptor) -> None:
    prefix = _upper_snake(enum.name)
    first = enum.values[0]
    assert (first.number, first.name) == (0, f"{prefix}_UNSPECIFIED")
    # buf STANDARD (ENUM_VALUE_PREFIX) too: values are prefixed so that they are unique in the
    # package scope and readable in JSON, where enums travel by name.
    assert [value.name for value in enum.values if not value.name.startswith(f"{prefix}_")] == []


def test_contract_has_enums() -> None:
    names = {enum.name for enum in CONTRACT_ENUMS}
    assert {"RecordKind", "Sex", "CountryCodeSystem", "HandlingCode", "LinkType"} <= names


BODIES: Final = (
    ("person", "liaison.v1.Person"),
    ("travel_document", "liaison.v1.TravelDocument"),
    ("vehicle", "liaison.v1.Vehicle"),
    ("seizure", "liaison.v1.Seizure"),
    ("notice", "liaison.v1.Notice"),
    ("passenger_manifest", "liaison.v1.PassengerManifest"),
    ("cultural_object", "liaison.v1.CulturalObject"),
    ("screening_hit", "liaison.v1.ScreeningHit"),
    ("withdrawal", "liaison.v1.Withdrawal"),
    ("request", "liaison.v1.InformationRequest"),
    ("reply", "liaison.v1.InformationReply"),
    ("receipt", "liaison.v1.ThreadReceipt"),
)


def test_record_body_oneof_holds_exactly_the_listed_bodies() -> None:
    record = record_pb2.Record.DESCRIPTOR
    assert [oneof.name for oneof in record.oneofs] == ["body"]
    body = record.oneofs_by_name["body"]
    shape = [(field.name, getattr(field.message_type, "full_name", None)) for field in body.fields]
    assert shape == list(BODIES)


def test_record_kind_has_one_value_per_body() -> None:
    # The gateway derives a record's kind from the body it carries; both lists must stay in step.
    kinds = {value.name for value in record_pb2.RecordKind.DESCRIPTOR.values if value.number != 0}
    bodies = {f"RECORD_KIND_{name.upper()}" for name, _ in BODIES}
    assert kinds == bodies


def test_record_kind_values_map_to_body_fields() -> None:
    # Each RECORD_KIND_X names an existing body field x, so `name.lower()` is a valid lookup.
    body_fields = record_pb2.Record.DESCRIPTOR.oneofs_by_name["body"].fields
    names = {field.name for field in body_fields}
    for value in record_pb2.RecordKind.DESCRIPTOR.values[1:]:
        assert value.name.removeprefix("RECORD_KIND_").lower() in names


# (service, method) -> (request, response, client streaming, server streaming)
SERVICES: Final = {
    "RecordExchange": {
        "Submit": ("SubmitRequest", "SubmitResponse", False, False),
        "SubmitStream": ("SubmitStreamRequest", "SubmitStreamResponse", True, False),
        "Get": ("GetRequest", "GetResponse", False, False),
        "Search": ("SearchRequest", "SearchResponse", False, True),
        "Subscribe": ("SubscribeRequest", "SubscribeResponse", False, True),
        "Withdraw": ("WithdrawRequest", "WithdrawResponse", False, False),
        "ExtendRetention": ("ExtendRetentionRequest", "ExtendRetentionResponse", False, False),
        "ListReviews": ("ListReviewsRequest", "ListReviewsResponse", False, False),
        "ListThreads": ("ListThreadsRequest", "ListThreadsResponse", False, False),
    },
    "Translation": {
        "ListAdapters": ("ListAdaptersRequest", "ListAdaptersResponse", False, False),
        "Translate": ("TranslateRequest", "TranslateResponse", False, False),
        "Ingest": ("IngestRequest", "IngestResponse", False, False),
        "Export": ("ExportRequest", "ExportResponse", False, False),
    },
    "Federation": {
        "Deliver": ("DeliverRequest", "DeliverResponse", False, False),
        "KeepCheckpoint": ("KeepCheckpointRequest", "KeepCheckpointResponse", False, False),
        "Identify": ("IdentifyRequest", "IdentifyResponse", False, False),
    },
    "FederationAdmin": {
        "ListDeliveries": ("ListDeliveriesRequest", "ListDeliveriesResponse", False, False),
        "ReplayDeadLetters": (
            "ReplayDeadLettersRequest",
            "ReplayDeadLettersResponse",
            False,
            False,
        ),
        "ListCheckpoints": ("ListCheckpointsRequest", "ListCheckpointsResponse", False, False),
        "VerifyAuditLog": ("VerifyAuditLogRequest", "VerifyAuditLogResponse", False, False),
    },
    "Screening": {
        "Screen": ("ScreenRequest", "ScreenResponse", False, False),
        "Decide": ("DecideRequest", "DecideResponse", False, False),
        "ListHits": ("ListHitsRequest", "ListHitsResponse", False, False),
    },
}


def test_services_and_streaming_shapes() -> None:
    services = {
        service.full_name: service
        for module in CONTRACT_MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
    }
    assert set(services) == {f"{PACKAGE}.{name}" for name in SERVICES}
    for name, expected in SERVICES.items():
        service = services[f"{PACKAGE}.{name}"]
        actual = {
            method.name: (
                method.input_type.name,
                method.output_type.name,
                method.client_streaming,
                method.server_streaming,
            )
            for method in service.methods
        }
        assert actual == expected, name


def test_grpc_stubs_are_generated() -> None:
    # The generated gRPC modules must match the services (regenerated together by `make protos`).
    assert hasattr(exchange_pb2_grpc, "RecordExchangeStub")
    assert hasattr(exchange_pb2_grpc, "RecordExchangeServicer")
    assert hasattr(translation_pb2_grpc, "TranslationStub")
    assert hasattr(translation_pb2_grpc, "TranslationServicer")


def test_subscribe_after_sequence_and_charge_translation_have_presence() -> None:
    # Both distinguish "absent" from zero/empty, which the behaviour documented on them needs.
    assert exchange_pb2.SubscribeRequest.DESCRIPTOR.fields_by_name["after_sequence"].has_presence
    warrant = notice_pb2.ArrestWarrant.DESCRIPTOR
    assert warrant.fields_by_name["charge_translation"].has_presence
    assert not warrant.fields_by_name["charge"].has_presence


# --------------------------------------------------------------------------------------------
# Concrete JSON examples
# --------------------------------------------------------------------------------------------


def _to_dict(message: Message) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json_format.MessageToJson(message))
    return result


def test_json_person_record_with_partial_birth_date() -> None:
    record = record_pb2.Record(
        record_id="INTERPOL-CCC-LYON:red:2024-12345",
        version=3,
        person=person_pb2.Person(
            names=[
                common_pb2.Name(
                    type=common_pb2.NAME_TYPE_PRIMARY,
                    family="DOE",
                    given="JOHN PAUL",
                )
            ],
            birth_date=common_pb2.PartialDate(year=1975, month=3),
            sex=common_pb2.SEX_MALE,
        ),
    )
    expected = {
        "recordId": "INTERPOL-CCC-LYON:red:2024-12345",
        # uint64 is a string in JSON: JavaScript numbers cannot hold every 64-bit value.
        "version": "3",
        "person": {
            "names": [{"type": "NAME_TYPE_PRIMARY", "family": "DOE", "given": "JOHN PAUL"}],
            # A date known to the month: the unknown day is zero and so omitted.
            "birthDate": {"year": 1975, "month": 3},
            "sex": "SEX_MALE",
        },
    }
    assert _to_dict(record) == expected
    assert json_format.ParseDict(expected, record_pb2.Record()) == record
    # Readers must also accept a bare number for 64-bit integers.
    assert json_format.ParseDict({**expected, "version": 3}, record_pb2.Record()) == record


def test_json_non_iso_country_codes_keep_the_raw_value() -> None:
    document = travel_document_pb2.TravelDocument(
        document_type=travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
        issuing_state=common_pb2.CountryCode(
            code="D", system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, raw="D<<"
        ),
        holder_nationality=common_pb2.CountryCode(
            system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, raw="914"
        ),
    )
    expected = {
        "documentType": "DOCUMENT_TYPE_PASSPORT",
        "issuingState": {"code": "D", "system": "COUNTRY_CODE_SYSTEM_ICAO9303", "raw": "D<<"},
        "holderNationality": {"system": "COUNTRY_CODE_SYSTEM_UNMAPPED", "raw": "914"},
    }
    assert _to_dict(document) == expected
    assert json_format.ParseDict(expected, travel_document_pb2.TravelDocument()) == document


def test_json_optional_charge_translation_absent_differs_from_empty() -> None:
    absent = notice_pb2.ArrestWarrant(charge="Escroquerie")
    empty = notice_pb2.ArrestWarrant(charge="Escroquerie", charge_translation="")
    assert absent != empty

    assert _to_dict(absent) == {"charge": "Escroquerie"}
    assert _to_dict(empty) == {"charge": "Escroquerie", "chargeTranslation": ""}

    for original, has_translation in ((absent, False), (empty, True)):
        from_json = json_format.Parse(
            json_format.MessageToJson(original), notice_pb2.ArrestWarrant()
        )
        from_wire = notice_pb2.ArrestWarrant.FromString(original.SerializeToString())
        assert from_json.HasField("charge_translation") is has_translation
        assert from_wire.HasField("charge_translation") is has_translation

    # INTERPOL's JSON null for "no translation" reads as absent, like an omitted key.
    parsed_null = json_format.ParseDict(
        {"charge": "Escroquerie", "chargeTranslation": None}, notice_pb2.ArrestWarrant()
    )
    assert not parsed_null.HasField("charge_translation")


def test_json_bytes_are_base64() -> None:
    digest = hashlib.sha256(b"UNA:+.? 'UNB+UNOA:4+...").digest()
    payload = b"\x00\xfb\xff\xfe binary \x80"
    provenance = record_pb2.Provenance(payload_sha256=digest)
    request = translation_pb2.TranslateRequest(adapter="paxlst", payload=payload)

    assert _to_dict(provenance) == {"payloadSha256": base64.b64encode(digest).decode("ascii")}
    assert _to_dict(request) == {
        "adapter": "paxlst",
        "payload": base64.b64encode(payload).decode("ascii"),
    }
    assert json_format.ParseDict(_to_dict(request), translation_pb2.TranslateRequest()) == request
    # Readers accept the URL-safe alphabet too (proto3 JSON mapping), as some clients send it.
    urlsafe = {"adapter": "paxlst", "payload": base64.urlsafe_b64encode(payload).decode("ascii")}
    assert json_format.ParseDict(urlsafe, translation_pb2.TranslateRequest()) == request


def test_json_timestamps_are_rfc3339() -> None:
    provenance = record_pb2.Provenance(
        received_at=timestamp_pb2.Timestamp(seconds=1_795_768_500, nanos=500_000_000)
    )
    assert _to_dict(provenance) == {"receivedAt": "2026-11-27T08:35:00.500Z"}


def test_json_non_finite_doubles_round_trip() -> None:
    # JSON has no NaN or infinity literals: the mapping writes them as strings.
    description = person_pb2.PhysicalDescription(height_m=math.nan, weight_kg=-math.inf)
    as_dict = _to_dict(description)
    assert as_dict == {"heightM": "NaN", "weightKg": "-Infinity"}
    parsed = json_format.ParseDict(as_dict, person_pb2.PhysicalDescription())
    assert math.isnan(parsed.height_m)
    assert parsed.weight_kg == -math.inf
    from_wire = person_pb2.PhysicalDescription.FromString(description.SerializeToString())
    assert math.isnan(from_wire.height_m)
    assert from_wire.weight_kg == -math.inf


@reproducible_settings(EXAMPLES_PER_TYPE)
@given(messages(person_pb2.PhysicalDescription, allow_non_finite=True))
def test_non_finite_doubles_survive_both_encodings(message: person_pb2.PhysicalDescription) -> None:
    # NaN != NaN, so compare encodings: the wire keeps the exact bits, JSON text is a fixpoint.
    wire = message.SerializeToString(deterministic=True)
    assert type(message).FromString(wire).SerializeToString(deterministic=True) == wire
    text = json_format.MessageToJson(message)
    assert json_format.MessageToJson(json_format.Parse(text, type(message)())) == text


# --------------------------------------------------------------------------------------------
# Examples in docs/contract.md
# --------------------------------------------------------------------------------------------

_DOC_EXAMPLE = re.compile(r"<!-- json: (?P<type>[\w.]+) -->\s*```json\n(?P<body>.*?)```", re.DOTALL)


def test_documented_json_examples_are_canonical() -> None:
    # Every example marked `<!-- json: liaison.v1.Type -->` must parse as that type and be
    # exactly what the JSON mapping writes, so that the guide cannot drift from the contract.
    examples = list(_DOC_EXAMPLE.finditer(CONTRACT_DOC.read_text(encoding="utf-8")))
    assert len(examples) >= 2
    database = symbol_database.Default()
    for example in examples:
        cls = database.GetSymbol(example["type"])
        document = json.loads(example["body"])
        message = json_format.ParseDict(document, cls())
        assert _to_dict(message) == document, example["type"]


# --------------------------------------------------------------------------------------------
# The strategy builder
# --------------------------------------------------------------------------------------------

_F = descriptor_pb2.FieldDescriptorProto
SCALAR_TYPES: Final = {
    "double": _F.TYPE_DOUBLE,
    "float": _F.TYPE_FLOAT,
    "int32": _F.TYPE_INT32,
    "int64": _F.TYPE_INT64,
    "uint32": _F.TYPE_UINT32,
    "uint64": _F.TYPE_UINT64,
    "sint32": _F.TYPE_SINT32,
    "sint64": _F.TYPE_SINT64,
    "fixed32": _F.TYPE_FIXED32,
    "fixed64": _F.TYPE_FIXED64,
    "sfixed32": _F.TYPE_SFIXED32,
    "sfixed64": _F.TYPE_SFIXED64,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}
INTEGER_BOUNDS: Final = {
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "fixed32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "sint64": (-(2**63), 2**63 - 1),
    "sfixed64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
    "fixed64": (0, 2**64 - 1),
}
COLOURS: Final = {"COLOUR_UNSPECIFIED": 0, "COLOUR_RED": 1, "COLOUR_BLUE": 7, "COLOUR_BELOW": -3}


class _SchemaBuilder:
    """Adds fields to a DescriptorProto the way protoc would, numbering them in order."""

    def __init__(self, message: descriptor_pb2.DescriptorProto, full_name: str) -> None:
        self.message = message
        self.full_name = full_name

    def add(
        self, name: str, kind: int, *, repeated: bool = False, type_name: str = ""
    ) -> descriptor_pb2.FieldDescriptorProto:
        label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
        number = len(self.message.field) + 1
        field = self.message.field.add(name=name, number=number, label=label, type=kind)
        if type_name:  # an empty type_name still counts as set, and scalars must not have one
            field.type_name = type_name
        return field

    def oneof(self, name: str, members: list[tuple[str, int, str]]) -> None:
        index = len(self.message.oneof_decl)
        self.message.oneof_decl.add(name=name)
        for member, kind, type_name in members:
            self.add(member, kind, type_name=type_name).oneof_index = index

    def optional(self, name: str, kind: int) -> None:
        # proto3 `optional`: protoc wraps the field in a synthetic oneof named after it.
        index = len(self.message.oneof_decl)
        self.message.oneof_decl.add(name=f"_{name}")
        field = self.add(name, kind)
        field.oneof_index = index
        field.proto3_optional = True

    def map(self, name: str, key: int, value: int, value_type: str = "") -> None:
        entry_name = "".join(part.title() for part in name.split("_")) + "Entry"
        entry = self.message.nested_type.add(name=entry_name)
        entry.options.map_entry = True
        entry_builder = _SchemaBuilder(entry, f"{self.full_name}.{entry_name}")
        entry_builder.add("key", key)
        entry_builder.add("value", value, type_name=value_type)
        self.add(name, _F.TYPE_MESSAGE, repeated=True, type_name=f".{entry_builder.full_name}")


def _build_zoo() -> tuple[type[Message], type[Message]]:
    """Two proto3 messages, built at run time, with every field shape the builder handles.

    ``Scalars`` has every scalar type (singular and repeated), an enum with a gap and a negative
    value, a oneof and a proto3 ``optional``; ``Tree`` nests itself through a singular field, a
    repeated field, a map and a oneof, and carries Timestamp, Duration and other maps. They are
    kept apart so that the searches for scalar edge cases draw small messages.
    """
    file = descriptor_pb2.FileDescriptorProto(
        name="zoo/v1/zoo.proto",
        package="zoo.v1",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"],
    )
    colour = file.enum_type.add(name="Colour")
    for name, number in COLOURS.items():
        colour.value.add(name=name, number=number)

    scalars = _SchemaBuilder(file.message_type.add(name="Scalars"), "zoo.v1.Scalars")
    for name, kind in SCALAR_TYPES.items():
        scalars.add(f"s_{name}", kind)
        scalars.add(f"r_{name}", kind, repeated=True)
    scalars.add("colour", _F.TYPE_ENUM, type_name=".zoo.v1.Colour")
    scalars.add("colours", _F.TYPE_ENUM, repeated=True, type_name=".zoo.v1.Colour")
    scalars.oneof(
        "choice",
        [
            ("choice_text", _F.TYPE_STRING, ""),
            ("choice_colour", _F.TYPE_ENUM, ".zoo.v1.Colour"),
            ("choice_bytes", _F.TYPE_BYTES, ""),
        ],
    )
    scalars.optional("opt_int64", _F.TYPE_INT64)

    tree = _SchemaBuilder(file.message_type.add(name="Tree"), "zoo.v1.Tree")
    tree.add("value", _F.TYPE_INT32)
    tree.add("child", _F.TYPE_MESSAGE, type_name=".zoo.v1.Tree")
    tree.add("children", _F.TYPE_MESSAGE, repeated=True, type_name=".zoo.v1.Tree")
    tree.map("by_name", _F.TYPE_STRING, _F.TYPE_MESSAGE, ".zoo.v1.Tree")
    tree.oneof(
        "shape", [("label", _F.TYPE_STRING, ""), ("branch", _F.TYPE_MESSAGE, ".zoo.v1.Tree")]
    )
    tree.add("at", _F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp")
    # A Python keyword as a field name: the builder passes fields as constructor keywords.
    tree.add("for", _F.TYPE_MESSAGE, type_name=".google.protobuf.Duration")
    tree.map("colour_by_id", _F.TYPE_SINT64, _F.TYPE_ENUM, ".zoo.v1.Colour")
    tree.map("time_by_flag", _F.TYPE_BOOL, _F.TYPE_MESSAGE, ".google.protobuf.Timestamp")
    tree.map("bytes_by_number", _F.TYPE_UINT32, _F.TYPE_BYTES)

    # A private pool keeps the test schema out of the default pool the contract lives in.
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(duration_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(file)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("zoo.v1.Scalars")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName("zoo.v1.Tree")),
    )


Scalars, Tree = _build_zoo()


def _children(message: Message) -> Iterator[tuple[FieldDescriptor, Any]]:
    """Every value set in `message` (one level), with the field that carries it."""
    for field, value in message.ListFields():
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            for key, item in value.items():
                yield entry.fields_by_name["key"], key
                yield entry.fields_by_name["value"], item
        elif field.is_repeated:
            for item in value:
                yield field, item
        else:
            yield field, value


def _depth(message: Message) -> int:
    """Levels of nested messages below `message` (zero when it holds only scalars)."""
    nested = [value for _, value in _children(message) if isinstance(value, Message)]
    return 1 + max(map(_depth, nested)) if nested else 0


def _get(message: Message, path: str) -> Any:
    """The value at a dotted attribute path (the zoo classes are dynamic; mypy cannot see them)."""
    value: Any = message
    for name in path.split("."):
        value = getattr(value, name)
    return value


def _assert_valid(message: Message) -> None:
    """Everything drawn is within what the contract means, not merely what the wire accepts."""
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        assert TIMESTAMP_MIN_SECONDS <= _get(message, "seconds") <= TIMESTAMP_MAX_SECONDS
        assert 0 <= _get(message, "nanos") <= NANOS_MAX
    if name == "google.protobuf.Duration":
        seconds, nanos = _get(message, "seconds"), _get(message, "nanos")
        assert abs(seconds) <= DURATION_MAX_SECONDS
        assert abs(nanos) <= NANOS_MAX
        assert seconds * nanos >= 0, "nanos must have the sign of seconds"
    for field, value in _children(message):
        if isinstance(value, Message):
            _assert_valid(value)
        elif field.enum_type is not None:
            assert value in field.enum_type.values_by_number, f"{field.full_name}={value}"
        elif isinstance(value, float):
            assert math.isfinite(value), field.full_name


@reproducible_settings(EXAMPLES_PER_TYPE)
@given(messages(Scalars))
def test_builder_draws_valid_scalars(message: Message) -> None:
    assert isinstance(message, Scalars)
    _assert_valid(message)
    _assert_round_trips(message)


@pytest.mark.parametrize("max_depth", [0, 1, 2])
@reproducible_settings(EXAMPLES_PER_TYPE)
@given(data=st.data())
def test_builder_draws_valid_trees_within_depth(max_depth: int, data: st.DataObject) -> None:
    tree = data.draw(messages(Tree, max_depth=max_depth, max_repeated=2))
    assert isinstance(tree, Tree)
    assert _depth(tree) <= max_depth
    _assert_valid(tree)
    _assert_round_trips(tree)


@reproducible_settings(EXAMPLES_PER_TYPE)
@given(messages(record_pb2.Record, max_depth=6))
def test_builder_draws_valid_records(record: record_pb2.Record) -> None:
    assert _depth(record) <= 6
    _assert_valid(record)


def _equals(path: str, expected: object) -> Callable[[Message], bool]:
    return lambda message: bool(_get(message, path) == expected)


# States the builder must be able to reach; a builder that never drew one of them would leave
# the round-trip properties silently weaker.
REACHABLE_SCALARS: Final[dict[str, Callable[[Message], bool]]] = {
    **{
        f"{kind} at {bound}": _equals(f"s_{kind}", bound)
        for kind, bounds in INTEGER_BOUNDS.items()
        for bound in bounds
    },
    "negative double": lambda m: _get(m, "s_double") < 0,
    "fractional float": lambda m: not float(_get(m, "s_float")).is_integer(),
    "non-ASCII string": lambda m: any(ord(c) > 0x7F for c in _get(m, "s_string")),
    "non-empty bytes": lambda m: len(_get(m, "s_bytes")) > 0,
    "full repeated field": lambda m: len(_get(m, "r_uint64")) == 3,
    "negative enum value": _equals("colour", COLOURS["COLOUR_BELOW"]),
    "highest enum value": _equals("colour", COLOURS["COLOUR_BLUE"]),
    "optional absent": lambda m: not m.HasField("opt_int64"),
    "optional present at default": lambda m: m.HasField("opt_int64") and _get(m, "opt_int64") == 0,
    "optional present non-default": lambda m: _get(m, "opt_int64") != 0,
    "oneof unset": lambda m: m.WhichOneof("choice") is None,
    "oneof string": lambda m: m.WhichOneof("choice") == "choice_text",
    "oneof enum": lambda m: m.WhichOneof("choice") == "choice_colour",
    "oneof bytes": lambda m: m.WhichOneof("choice") == "choice_bytes",
}
REACHABLE_TREES: Final[dict[str, Callable[[Message], bool]]] = {
    "singular message absent": lambda m: not m.HasField("child"),
    "singular message present": lambda m: m.HasField("child"),
    "repeated messages": lambda m: len(_get(m, "children")) == 2,
    "map of messages": lambda m: len(_get(m, "by_name")) > 0,
    "map of enums": lambda m: len(_get(m, "colour_by_id")) > 0,
    "map of bytes": lambda m: len(_get(m, "bytes_by_number")) > 0,
    "oneof message": lambda m: m.WhichOneof("shape") == "branch",
    "earliest timestamp": _equals("at.seconds", TIMESTAMP_MIN_SECONDS),
    "latest timestamp": _equals("at.seconds", TIMESTAMP_MAX_SECONDS),
    "largest nanos": _equals("at.nanos", NANOS_MAX),
    "negative duration": lambda m: _get(m, "for.seconds") < 0 and _get(m, "for.nanos") < 0,
}


def _find_settings() -> settings:
    # Stop at the first hit: shrinking it would only cost time.
    return settings(reproducible_settings(1000), phases=[Phase.generate])


@pytest.mark.parametrize("state", list(REACHABLE_SCALARS))
def test_builder_reaches_scalar_state(state: str) -> None:
    find(messages(Scalars), REACHABLE_SCALARS[state], settings=_find_settings())


@pytest.mark.parametrize("state", list(REACHABLE_TREES))
def test_builder_reaches_tree_state(state: str) -> None:
    strategy = messages(Tree, max_depth=1, max_repeated=2)
    find(strategy, REACHABLE_TREES[state], settings=_find_settings())


def test_builder_reaches_max_depth() -> None:
    strategy = messages(Tree, max_depth=3, max_repeated=1)
    find(strategy, lambda tree: _depth(tree) == 3, settings=_find_settings())


def test_builder_draws_non_finite_only_when_asked() -> None:
    def non_finite(message: Message) -> bool:
        values = (_get(message, "s_double"), _get(message, "s_float"))
        return not all(map(math.isfinite, values))

    find(messages(Scalars, allow_non_finite=True), non_finite, settings=_find_settings())
    # The finite default is checked by _assert_valid in test_builder_draws_valid_scalars.


def test_builder_accepts_class_or_descriptor() -> None:
    by_class = find(messages(record_pb2.Record), lambda _: True, settings=_find_settings())
    by_descriptor = find(
        messages(record_pb2.Record.DESCRIPTOR), lambda _: True, settings=_find_settings()
    )
    assert type(by_class) is type(by_descriptor) is record_pb2.Record


@reproducible_settings(EXAMPLES_PER_TYPE)
@given(timestamps())
def test_timestamps_are_writable_as_json(timestamp: timestamp_pb2.Timestamp) -> None:
    text = timestamp.ToJsonString()  # raises outside years 1 to 9999
    parsed = timestamp_pb2.Timestamp()
    parsed.FromJsonString(text)
    assert parsed == timestamp


def test_builder_refuses_unsupported_well_known_types() -> None:
    with pytest.raises(NotImplementedError, match=r"google\.protobuf\.Any"):
        messages(any_pb2.Any)


def test_builder_refuses_negative_limits() -> None:
    with pytest.raises(ValueError, match="negative"):
        messages(record_pb2.Record, max_depth=-1)


# -- fields the adapters' encoders account for ------------------------------------------------

# The encoders write what their format can hold and report the rest (NOT_CARRIED warnings); the
# ANSI/NIST writer, for one, lists the Person fields Type-2 has no place for. A field added to
# one of these messages is silently dropped by every encoder that does not know it, so adding
# one must be a deliberate step: check each adapter's encoder writes or reports the new field,
# then add it here.
_FIELDS_THE_ENCODERS_ACCOUNT_FOR: Final[dict[str, tuple[str, ...]]] = {
    "liaison.v1.Person": (
        "names",
        "birth_date",
        "alternative_birth_dates",
        "birth_place",
        "sex",
        "nationalities",
        "residence_country",
        "languages",
        "physical_description",
        "identifiers",
        "mother_names",
        "father_names",
        "occupation",
        "addresses",
    ),
    "liaison.v1.Name": (
        "type",
        "family",
        "given",
        "middle",
        "full",
        "script",
        "transliteration",
        "qualification",
    ),
    "liaison.v1.Place": ("name", "country", "unlocode", "iata_code", "other_code"),
    "liaison.v1.Notice": (
        "notice_type",
        "entity_id",
        "subject",
        "arrest_warrants",
        "event_date",
        "event_place",
        "un_reference",
        "un_reference_date",
        "image_uris",
        "source_uri",
        "countries_likely_to_be_visited",
        "un_resolution",
        "summary",
    ),
    "liaison.v1.PassengerManifest": (
        "manifest_type",
        "carrier_code",
        "flight_number",
        "legs",
        "reporting_party",
        "travellers",
        "declared_traveller_count",
        "envelope",
        "transmitted_at",
        "final_destination",
    ),
    "liaison.v1.FlightLeg": (
        "departure",
        "scheduled_departure",
        "arrival",
        "scheduled_arrival",
        "routing",
        "carrier_code",
        "flight_number",
    ),
}


@pytest.mark.parametrize("full_name", sorted(_FIELDS_THE_ENCODERS_ACCOUNT_FOR))
def test_a_field_added_where_encoders_enumerate_fields_is_deliberate(full_name: str) -> None:
    # record_pb2 (imported above) loads every file whose messages a record can hold.
    descriptor = descriptor_pool.Default().FindMessageTypeByName(full_name)
    fields = tuple(field.name for field in descriptor.fields)
    assert fields == _FIELDS_THE_ENCODERS_ACCOUNT_FOR[full_name], (
        f"{full_name} changed: make sure every adapter's encoder writes or reports the new "
        "field (NOT_CARRIED), then update _FIELDS_THE_ENCODERS_ACCOUNT_FOR"
    )
