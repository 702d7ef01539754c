"""Records in files: protobuf's JSON mapping of ``liaison.v1.Record``, as an array or JSON Lines.

Accepted layouts, told apart by the first non-blank character:

* a JSON array of Record objects (``[{...}, {...}]``), read whole;
* JSON Lines: one Record object per line, blank lines ignored, read line by line so that files
  of any size stream with constant memory;
* a single Record object, on one line or pretty-printed over several.

Errors are :class:`RecordFileError` values that say where (line, or array index) and why, and
never quote the input: records carry personal data, and error messages end up in terminals, logs
and tickets. The reasons protobuf's parser gives often embed the offending value, so they are
reduced to the field path and a fixed description.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from liaison.rules.errors import LiaisonError
from liaison.v1 import record_pb2

__all__ = ["RecordFileError", "iter_records", "record_to_json"]

_BLANK = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


class RecordFileError(LiaisonError, ValueError):
    """A record file cannot be read as records.

    Attributes:
        line: One-based line of the problem, when known.
        column: One-based column on that line, when known.
        index: Zero-based position of the record in a JSON array, when the problem is in one.
        reason: What is wrong, without any of the file's content.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        index: int | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.index = index
        self.reason = reason
        super().__init__(f"{self.location}: {reason}" if self.location else reason)

    @property
    def location(self) -> str:
        """Where the problem is, e.g. ``line 3 column 7`` or ``record [12]``; empty if unknown."""
        parts: list[str] = []
        if self.index is not None:
            parts.append(f"record [{self.index}]")
        if self.line is not None:
            parts.append(f"line {self.line}")
            if self.column is not None:
                parts.append(f"column {self.column}")
        return " ".join(parts)


def iter_records(source: bytes | IO[bytes]) -> Iterator[record_pb2.Record]:
    """Yield the records of a file, one at a time, in file order.

    Args:
        source: The file's content, or a binary file object positioned at its start (for JSON
            Lines only the current line is held in memory).

    Yields:
        Each record, parsed with unknown fields refused.

    Raises:
        RecordFileError: The content is not UTF-8 JSON, or a value is not a valid Record. Records
            before the faulty one have already been yielded.
    """
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    line_number = 0
    first = b""
    for raw in stream:
        line_number += 1
        if line_number == 1 and raw.startswith(_UTF8_BOM):
            raw = raw[len(_UTF8_BOM) :]
        if raw.strip(_BLANK):
            first = raw
            break
    if not first:
        return
    if first.lstrip(_BLANK).startswith(b"["):
        yield from _array_records(first + stream.read(), first_line=line_number)
    else:
        yield from _json_lines_records(first, line_number, stream)


def record_to_json(message: Message) -> str:
    """``message`` in the standard protobuf JSON mapping (lowerCamel names), compact, one line."""
    # ensure_ascii=False keeps names written in non-Latin scripts readable in terminals and jq.
    return json.dumps(
        json_format.MessageToDict(message, preserving_proto_field_name=False),
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _json_lines_records(
    first: bytes, first_number: int, stream: IO[bytes]
) -> Iterator[record_pb2.Record]:
    try:
        value = _load_json(first, line=first_number)
    except RecordFileError:
        # A single object pretty-printed over several lines fails as JSON Lines on its first
        # line with an "unfinished document" error: read it as one document instead.
        if not _is_unfinished(first):
            raise
        document = _load_json(first + stream.read(), line=first_number)
        yield _to_record(document, line=first_number)
        return
    yield _to_record(value, line=first_number)
    for line_number, raw in enumerate(stream, start=first_number + 1):
        if raw.strip(_BLANK):
            yield _to_record(_load_json(raw, line=line_number), line=line_number)


def _array_records(content: bytes, *, first_line: int) -> Iterator[record_pb2.Record]:
    # The content starts with "[", so whatever parses is an array.
    for index, value in enumerate(_load_json(content, line=first_line)):
        yield _to_record(value, index=index)


def _is_unfinished(line: bytes) -> bool:
    """True when ``line`` is the start of a JSON value that continues on the following lines."""
    text = line.decode("utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error.pos >= len(text.rstrip())
    return False


def _load_json(data: bytes, *, line: int) -> Any:
    """Parse one JSON document that starts on ``line`` of the file."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        raise RecordFileError(
            "not valid UTF-8",
            line=line + before.count(b"\n"),
            column=error.start - (before.rfind(b"\n") + 1) + 1,
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as error:
        # error.msg is the fixed description ("Expecting ',' delimiter"); str(error) is the same
        # plus the position, which is reported apart.
        raise RecordFileError(
            f"invalid JSON: {error.msg}", line=line + error.lineno - 1, column=error.colno
        ) from None
    except _DuplicateKeyError as error:
        raise RecordFileError(str(error), line=line) from None


class _DuplicateKeyError(RecordFileError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of duplicate keys; in a record that silently drops a value.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"invalid JSON: key {_safe_name(key)} given twice")
        result[key] = value
    return result


def _to_record(
    value: Any, *, line: int | None = None, index: int | None = None
) -> record_pb2.Record:
    if not isinstance(value, dict):
        raise RecordFileError(
            f"expected a JSON object (one Record), got {_json_type(value)}", line=line, index=index
        )
    record = record_pb2.Record()
    try:
        json_format.ParseDict(value, record, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        path, reason = _locate(value, record_pb2.Record.DESCRIPTOR, "", str(error))
        where = f"{path}: " if path else ""
        raise RecordFileError(where + reason, line=line, index=index) from None
    return record


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ENUM = re.compile(r"Invalid enum value .* for enum type ([\w.]+)", re.DOTALL)
_ONEOF = re.compile(r'should not have multiple "(\w+)" oneof fields')
# Protobuf's reasons, matched by their fixed wording and replaced by a description without the
# value they quote. Order matters: the first match wins.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"time data|Timestamp|timezone|RFC ?3339"), "not a valid RFC 3339 timestamp"),
    (re.compile(r"Value out of range"), "number out of range"),
    (
        re.compile(r"parse integer|literal for int|non-integer|not acceptable for integer"),
        "not a valid integer",
    ),
    (re.compile(r"[Ff]loat|NaN|Infinity"), "not a valid number"),
    (re.compile(r"true or .?false"), "not a valid boolean"),
    (re.compile(r"expected string or bytes-like"), "expected a JSON string"),
    (re.compile(r"base64|[Pp]adding|has no len"), "expected a base64 string"),
    (re.compile(r"must be in \[\]"), "expected a JSON array"),
    (re.compile(r"Unpaired surrogate"), "string with an unpaired surrogate"),
    (re.compile(r"too deep"), "nested too deeply"),
)


def _locate(
    value: dict[str, Any], descriptor: Descriptor, path: str, message: str
) -> tuple[str, str]:
    """Find the field of ``value`` that failed to parse; return its JSON path and a safe reason.

    Protobuf's message names the field only partially and quotes the bad value, so the failing
    field is found again by parsing the members one at a time, descending into sub-messages.
    Only runs after a failure, so the repeated parsing costs nothing on valid input.
    """
    message_class = GetMessageClass(descriptor)
    for key, member in value.items():
        try:
            json_format.ParseDict({key: member}, message_class(), ignore_unknown_fields=False)
        except json_format.ParseError as error:
            member_path = f"{path}.{key}" if path else key
            field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(
                key
            )
            if field is None:
                return path, f"unknown field {_safe_name(key)}"
            sub_type = field.message_type
            if sub_type is None or sub_type.full_name.startswith("google.protobuf."):
                # Scalars, enums and well-known types (Timestamp) have no members to descend into.
                return member_path, _reason(str(error))
            if field.is_repeated:
                return _locate_in_list(member, sub_type, member_path, str(error))
            if isinstance(member, dict):
                return _locate(member, sub_type, member_path, str(error))
            return member_path, f"expected a JSON object, got {_json_type(member)}"
    # Every member parses alone: the members conflict (two fields of one oneof).
    return path, _reason(message)


def _locate_in_list(value: Any, descriptor: Descriptor, path: str, message: str) -> tuple[str, str]:
    """:func:`_locate` for the value of a repeated message field."""
    if not isinstance(value, list):
        return path, f"expected a JSON array, got {_json_type(value)}"
    message_class = GetMessageClass(descriptor)
    for position, item in enumerate(value):
        item_path = f"{path}[{position}]"
        if not isinstance(item, dict):
            return item_path, f"expected a JSON object, got {_json_type(item)}"
        try:
            json_format.ParseDict(item, message_class(), ignore_unknown_fields=False)
        except json_format.ParseError as error:
            return _locate(item, descriptor, item_path, str(error))
    return path, _reason(message)


def _reason(message: str) -> str:
    """A content-free description of a json_format.ParseError message."""
    if match := _ENUM.search(message):
        return f"not a {match.group(1)} value"
    if match := _ONEOF.search(message):
        return f"more than one field of oneof {match.group(1)}"
    for pattern, reason in _REASONS:
        if pattern.search(message):
            return reason
    return "invalid value"


def _safe_name(key: str) -> str:
    """A JSON key for an error message: quoted when it looks like a field name, else withheld."""
    return f'"{key}"' if _IDENTIFIER.fullmatch(key) else "(a key that is not a field name)"
