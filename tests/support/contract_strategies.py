"""Hypothesis strategies for protobuf messages, built from their descriptors.

``messages(Record)`` (or ``messages(Record.DESCRIPTOR)``) draws messages of any type without a
hand-written list of fields, so a field added to the contract is exercised by every property test
the day it lands. Every drawn message is valid on the wire *and* in the proto3 JSON mapping:

* integers stay within their proto type's range (int32, uint32, int64, uint64 and the
  sint/fixed/sfixed variants), with the edges of the range (and 2**53 + 1) drawn often;
* floats and doubles are finite unless ``allow_non_finite=True`` (JSON spells NaN and the
  infinities as strings, and NaN is never equal to itself, so most properties want them apart);
* strings are any Unicode text that UTF-8 can encode (no lone surrogates); bytes are arbitrary;
* enums take only their defined values;
* repeated and map fields hold small collections;
* nested messages stop at ``max_depth`` levels below the drawn message;
* a real oneof has at most one member set; a proto3 ``optional`` field (and any other field with
  presence) is either absent or present, possibly with its default value;
* ``google.protobuf.Timestamp`` stays within 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z with
  nanos 0..999,999,999, and ``google.protobuf.Duration`` within +-10,000 years with nanos of the
  same sign as seconds, which is what the JSON mapping can represent.

Import it from other test modules as ``from tests.support.contract_strategies import messages``
(or relatively, from inside ``tests.unit``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "DURATION_MAX_SECONDS",
    "NANOS_MAX",
    "TIMESTAMP_MAX_SECONDS",
    "TIMESTAMP_MIN_SECONDS",
    "messages",
    "reproducible_settings",
    "timestamps",
]

M = TypeVar("M", bound=Message)

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
UINT32_MAX: Final = 2**32 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT64_MAX: Final = 2**64 - 1

#: 0001-01-01T00:00:00Z, the earliest instant the Timestamp JSON mapping (RFC 3339) can write.
TIMESTAMP_MIN_SECONDS: Final = -62_135_596_800
#: 9999-12-31T23:59:59Z, the latest.
TIMESTAMP_MAX_SECONDS: Final = 253_402_300_799
#: Largest fractional part of a Timestamp or Duration, in nanoseconds.
NANOS_MAX: Final = 999_999_999
#: About 10,000 years, the bound google/protobuf/duration.proto sets on Duration.seconds.
DURATION_MAX_SECONDS: Final = 315_576_000_000

DEFAULT_MAX_DEPTH: Final = 3
DEFAULT_MAX_REPEATED: Final = 3
DEFAULT_MAX_TEXT: Final = 12

_FD = FieldDescriptor

# The integer range each integer wire type can carry; the protobuf runtime refuses anything else,
# so a strategy drawing outside these would fail at construction rather than test anything.
_INTEGER_RANGES: Final[dict[int, tuple[int, int]]] = {
    _FD.TYPE_INT32: (INT32_MIN, INT32_MAX),
    _FD.TYPE_SINT32: (INT32_MIN, INT32_MAX),
    _FD.TYPE_SFIXED32: (INT32_MIN, INT32_MAX),
    _FD.TYPE_UINT32: (0, UINT32_MAX),
    _FD.TYPE_FIXED32: (0, UINT32_MAX),
    _FD.TYPE_INT64: (INT64_MIN, INT64_MAX),
    _FD.TYPE_SINT64: (INT64_MIN, INT64_MAX),
    _FD.TYPE_SFIXED64: (INT64_MIN, INT64_MAX),
    _FD.TYPE_UINT64: (0, UINT64_MAX),
    _FD.TYPE_FIXED64: (0, UINT64_MAX),
}

# Well-known types whose JSON mapping constrains their content beyond what the wire allows (an Any
# needs a resolvable type URL, a Value's numbers must be finite, FieldMask paths must convert to
# lowerCamel and back). Drawing them field by field would produce messages that fail the JSON
# round trip for reasons unrelated to the contract, so they are refused until someone needs them.
_UNSUPPORTED_WELL_KNOWN: Final = frozenset(
    {
        "google.protobuf.Any",
        "google.protobuf.Struct",
        "google.protobuf.Value",
        "google.protobuf.ListValue",
        "google.protobuf.FieldMask",
    }
)


@dataclasses.dataclass(frozen=True)
class _Options:
    """The knobs of one ``messages`` call; frozen so that built strategies can be cached by it."""

    max_depth: int
    max_repeated: int
    max_text: int
    allow_non_finite: bool


def reproducible_settings(max_examples: int = 50) -> settings:
    """Hypothesis settings for CI: the same examples on every run, no flaky deadlines.

    ``derandomize`` seeds from the test function, so a failure seen in CI reproduces locally;
    the example database is off because with a fixed seed it adds nothing but state. Deadlines and
    the too-slow health check are off because CI runs on two shared cores, where a slow draw of a
    large nested message says nothing about the code under test (pytest-timeout still bounds it).
    """
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def timestamps() -> st.SearchStrategy[Timestamp]:
    """``google.protobuf.Timestamp`` values that the JSON mapping can write (years 1 to 9999)."""
    return _timestamps(Timestamp)


@overload
def messages(
    message: type[M],
    *,
    max_depth: int = ...,
    max_repeated: int = ...,
    max_text: int = ...,
    allow_non_finite: bool = ...,
) -> st.SearchStrategy[M]: ...
@overload
def messages(
    message: Descriptor,
    *,
    max_depth: int = ...,
    max_repeated: int = ...,
    max_text: int = ...,
    allow_non_finite: bool = ...,
) -> st.SearchStrategy[Message]: ...
def messages(
    message: type[Message] | Descriptor,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_repeated: int = DEFAULT_MAX_REPEATED,
    max_text: int = DEFAULT_MAX_TEXT,
    allow_non_finite: bool = False,
) -> st.SearchStrategy[Message]:
    """A strategy drawing valid messages of the given type (a generated class or a descriptor).

    Args:
        message: The message class (e.g. ``record_pb2.Record``) or its descriptor. Descriptors
            from any pool work, so tests can use schemas built at run time.
        max_depth: How many levels of nested messages may appear below the drawn message; message
            fields deeper than that are left unset (repeated and map ones empty). Zero draws only
            the top-level scalars.
        max_repeated: Largest number of elements drawn for a repeated or map field.
        max_text: Largest length of a drawn string (bytes fields get twice as many bytes).
        allow_non_finite: Also draw NaN and the infinities for float and double fields.

    Raises:
        ValueError: When a size limit is negative.
        NotImplementedError: When the type reaches a well-known type this builder does not draw
            (Any, Struct, Value, ListValue, FieldMask) within ``max_depth``.
    """
    if min(max_depth, max_repeated, max_text) < 0:
        raise ValueError("max_depth, max_repeated and max_text must not be negative")
    descriptor = message if isinstance(message, Descriptor) else message.DESCRIPTOR
    options = _Options(max_depth, max_repeated, max_text, allow_non_finite)
    return _cached_message_strategy(descriptor, options)


@functools.cache
def _cached_message_strategy(
    descriptor: Descriptor, options: _Options
) -> st.SearchStrategy[Message]:
    # Strategies are immutable, so the tree built for a (type, options) pair, which walks every
    # descriptor it reaches, can serve every test that asks for it again.
    return _Builder(options).message(descriptor, depth=0)


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    """Integers in [low, high], with the edges of the range drawn often.

    Hypothesis draws the exact bounds of a wide range only rarely, yet they are where encodings
    break: the largest uint64, the smallest int64, and 2**53 + 1, the first integer a JSON
    number (an IEEE double) cannot hold, which is why the JSON mapping writes 64-bit integers as
    strings. Half the draws come from these edges, the other half from the whole range.
    """
    edges = {low, high, 0, 2**53 + 1, -(2**53 + 1)}
    return st.sampled_from(sorted(e for e in edges if low <= e <= high)) | st.integers(low, high)


def _timestamps(cls: type[M]) -> st.SearchStrategy[M]:
    # `cls` rather than timestamp_pb2.Timestamp: a descriptor from another pool has its own class,
    # and a message field only accepts instances of exactly its own class.
    return st.builds(
        cls,
        seconds=_integers(TIMESTAMP_MIN_SECONDS, TIMESTAMP_MAX_SECONDS),
        nanos=_integers(0, NANOS_MAX),
    )


def _durations(cls: type[M]) -> st.SearchStrategy[M]:
    # duration.proto requires nanos to have the sign of seconds (either sign when seconds is 0),
    # so draw the magnitude and give it the sign of seconds.
    def build(seconds: int, nanos: int, negative: bool) -> M:
        if seconds < 0 or (seconds == 0 and negative):
            nanos = -nanos
        return cls(seconds=seconds, nanos=nanos)

    return st.builds(
        build,
        _integers(-DURATION_MAX_SECONDS, DURATION_MAX_SECONDS),
        _integers(0, NANOS_MAX),
        st.booleans(),
    )


_SPECIAL_WELL_KNOWN: Final[dict[str, Callable[[type[Message]], st.SearchStrategy[Message]]]] = {
    "google.protobuf.Timestamp": _timestamps,
    "google.protobuf.Duration": _durations,
}


def _map_entry(field: FieldDescriptor) -> Descriptor | None:
    """The synthetic key/value entry type when the field is a map, else None."""
    entry = field.message_type
    if field.is_repeated and entry is not None and entry.GetOptions().map_entry:
        return entry
    return None


def _is_synthetic(oneof: OneofDescriptor) -> bool:
    """True for the hidden oneof protoc wraps around a proto3 ``optional`` field.

    Such a oneof always has the optional field as its only member, and a field in a real oneof
    can never be ``optional``, so the member's flag decides.
    """
    return len(oneof.fields) == 1 and _proto3_optional(oneof.fields[0])


def _proto3_optional(field: FieldDescriptor) -> bool:
    # FieldDescriptor has no `proto3_optional` attribute in the Python API; the flag is only in
    # the descriptor proto, so copy the containing message's proto once and look it up there.
    return field.name in _proto3_optional_names(field.containing_type)


@functools.cache
def _proto3_optional_names(descriptor: Descriptor) -> frozenset[str]:
    proto = descriptor_pb2.DescriptorProto()
    descriptor.CopyToProto(proto)
    return frozenset(f.name for f in proto.field if f.proto3_optional)


@dataclasses.dataclass(frozen=True, eq=False)
class _MessagePlan:
    """The strategies for one message type at one depth.

    Its repr names the type instead of spelling out the strategy tree: a Record's tree prints to
    tens of kilobytes, which Hypothesis warns about (an error under ``filterwarnings = error``)
    when it reports a failure, hiding the failure itself.
    """

    cls: type[Message]
    depth: int
    fields: st.SearchStrategy[dict[str, Any]]
    oneofs: st.SearchStrategy[tuple[tuple[str, Any] | None, ...]]

    def __repr__(self) -> str:
        return f"<{self.cls.DESCRIPTOR.full_name} at depth {self.depth}>"


@st.composite
def _drawn_message(draw: st.DrawFn, plan: _MessagePlan) -> Message:
    """Draw one message by its plan; a None value stands for an absent field."""
    kwargs = {name: value for name, value in draw(plan.fields).items() if value is not None}
    for choice in draw(plan.oneofs):
        if choice is not None:
            name, value = choice
            kwargs[name] = value
    # The constructor copies nested messages, lists and dicts in one call, which keeps drawing
    # a large Record cheap compared to setting fields one by one.
    return plan.cls(**kwargs)


class _Builder:
    """Builds (and memoises, per nesting depth) the strategy tree for one set of options."""

    def __init__(self, options: _Options) -> None:
        self._options = options
        self._cache: dict[tuple[Descriptor, int], st.SearchStrategy[Message]] = {}

    def message(self, descriptor: Descriptor, depth: int) -> st.SearchStrategy[Message]:
        """The strategy for a message at ``depth`` levels below the drawn one."""
        key = (descriptor, depth)
        if key not in self._cache:
            self._cache[key] = self._build_message(descriptor, depth)
        return self._cache[key]

    def _build_message(self, descriptor: Descriptor, depth: int) -> st.SearchStrategy[Message]:
        if descriptor.full_name in _UNSUPPORTED_WELL_KNOWN:
            raise NotImplementedError(f"drawing {descriptor.full_name} is not supported")
        cls = message_factory.GetMessageClass(descriptor)
        special = _SPECIAL_WELL_KNOWN.get(descriptor.full_name)
        if special is not None:
            return special(cls)

        fields: dict[str, st.SearchStrategy[Any]] = {}
        for field in descriptor.fields:
            oneof = field.containing_oneof
            if oneof is not None and not _is_synthetic(oneof):
                continue  # drawn below, one choice per oneof
            strategy = self._field(field, depth)
            if strategy is not None:
                fields[field.name] = strategy

        oneofs = [
            self._oneof(oneof, depth) for oneof in descriptor.oneofs if not _is_synthetic(oneof)
        ]
        return _drawn_message(
            _MessagePlan(cls, depth, st.fixed_dictionaries(fields), st.tuples(*oneofs))
        )

    def _oneof(
        self, oneof: OneofDescriptor, depth: int
    ) -> st.SearchStrategy[tuple[str, Any] | None]:
        choices: list[st.SearchStrategy[tuple[str, Any] | None]] = [st.none()]
        for field in oneof.fields:
            value = self._value(field, depth)
            if value is not None:
                choices.append(st.tuples(st.just(field.name), value))
        return st.one_of(choices)

    def _field(self, field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
        """Strategy for a field outside real oneofs; None when it must stay unset (too deep)."""
        limit = self._options.max_repeated
        entry = _map_entry(field)
        if entry is not None:
            key = self._value(entry.fields_by_name["key"], depth)
            value = self._value(entry.fields_by_name["value"], depth)
            if key is None or value is None:
                return None
            return st.dictionaries(key, value, max_size=limit)
        value = self._value(field, depth)
        if value is None:
            return None
        if field.is_repeated:
            return st.lists(value, max_size=limit)
        if field.has_presence and not field.is_required:
            # Absent and present-with-any-value (including the default) are distinct states that
            # the wire and JSON must both preserve.
            return st.none() | value
        return value

    def _value(self, field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
        """Strategy for one value of the field's type; None for a message beyond the depth."""
        if field.message_type is not None:
            # A required field must be set whatever the depth (proto2 only; the contract is proto3).
            if depth >= self._options.max_depth and not field.is_required:
                return None
            return self.message(field.message_type, depth + 1)
        if field.enum_type is not None:
            # Proto3 enums are open on the wire, but the contract only means its defined values,
            # and JSON writes undefined ones as bare numbers.
            return st.sampled_from(sorted({value.number for value in field.enum_type.values}))
        return self._scalar(field.type)

    def _scalar(self, field_type: int) -> st.SearchStrategy[Any]:
        options = self._options
        if field_type in _INTEGER_RANGES:
            return _integers(*_INTEGER_RANGES[field_type])
        if field_type == _FD.TYPE_DOUBLE:
            return st.floats(
                allow_nan=options.allow_non_finite, allow_infinity=options.allow_non_finite
            )
        if field_type == _FD.TYPE_FLOAT:
            return st.floats(
                width=32,
                allow_nan=options.allow_non_finite,
                allow_infinity=options.allow_non_finite,
            )
        if field_type == _FD.TYPE_BOOL:
            return st.booleans()
        if field_type == _FD.TYPE_STRING:
            # st.text() never draws surrogates, which UTF-8 (and so protobuf) cannot encode.
            return st.text(max_size=options.max_text)
        if field_type == _FD.TYPE_BYTES:
            return st.binary(max_size=2 * options.max_text)
        raise NotImplementedError(f"unknown protobuf field type {field_type}")
