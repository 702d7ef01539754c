"""Properties every decode result must have, whatever the input: checked on every decode the kit
makes, golden, mutated or random.

Each check returns a list of problems (empty when all is well) so that a test can report them all
at once. Problems describe structure (record indexes, diagnostic codes), never payload values.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Sequence

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from adapters.base import Adapter, DecodeResult
from adapters.collector import DIAGNOSTICS_OMITTED, TOO_MANY_ERRORS
from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.options import DecodeOptions
from liaison.rules.text import FREE_TEXT_FIELDS, describe, forbidden_in
from liaison.v1 import record_pb2

__all__ = [
    "DIAGNOSTIC_CODE_PATTERN",
    "limit_problems",
    "provenance_problems",
    "result_problems",
    "structure_problems",
    "text_problems",
]

DIAGNOSTIC_CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
"""Stable codes are UPPER_SNAKE with a format prefix: ``MRZ_CHECK_DIGIT``."""


def provenance_problems(
    adapter_class: type[Adapter], payload: bytes, records: Sequence[record_pb2.Record]
) -> list[str]:
    """Every record names the adapter, its version, the format and the payload's SHA-256."""
    digest = hashlib.sha256(payload).digest()
    expected = {
        "adapter_name": adapter_class.name,
        "adapter_version": adapter_class.version,
        "source_format": adapter_class.source_format,
    }
    problems = []
    for index, record in enumerate(records):
        where = f"records[{index}] ({record.record_id or 'no id'})"
        if not record.HasField("provenance"):
            problems.append(f"{where}: no provenance")
            continue
        provenance = record.provenance
        for name, value in expected.items():
            if getattr(provenance, name) != value:
                problems.append(f"{where}: provenance.{name} is not {value!r}")
        if provenance.payload_sha256 != digest:
            problems.append(f"{where}: provenance.payload_sha256 is not the payload's SHA-256")
    return problems


def _diagnostic_problems(index: int, diagnostic: object, record_ids: set[str]) -> list[str]:
    where = f"diagnostics[{index}]"
    if not isinstance(diagnostic, Diagnostic):
        return [f"{where} is a {type(diagnostic).__name__}, not an adapters.Diagnostic"]
    # Typed as object: adapters are third-party code, and dataclasses do not check types.
    severity: object = diagnostic.severity
    code: object = diagnostic.code
    message: object = diagnostic.message
    location: object = diagnostic.location
    problems = []
    if not isinstance(severity, Severity):
        problems.append(f"{where}: severity is not an adapters.Severity")
    if not (isinstance(code, str) and DIAGNOSTIC_CODE_PATTERN.fullmatch(code)):
        problems.append(f"{where}: code {code!r} is not UPPER_SNAKE with a format prefix")
    if not (isinstance(message, str) and message.strip()):
        problems.append(f"{where} ({code}): empty message")
    if not isinstance(location, Location):
        problems.append(f"{where} ({code}): location is not an adapters.Location")
    if severity is Severity.ERROR:
        for record_id in diagnostic.record_ids:
            if record_id not in record_ids:
                problems.append(
                    f"{where} ({code}): names record {record_id!r}, "
                    "which is not a record of the result"
                )
    return problems


def structure_problems(result: object) -> list[str]:
    """What is wrong with the shape of a decode result: types, diagnostic codes, references.

    An error diagnostic may only name records of the same result: a dangling id leaves the
    record the error is about looking clean, and Ingest would store it.
    """
    if not isinstance(result, DecodeResult):
        return [f"decode returned a {type(result).__name__}, not an adapters.DecodeResult"]
    problems = []
    records = []
    items: tuple[object, ...] = result.records
    for index, record in enumerate(items):
        if isinstance(record, record_pb2.Record):
            records.append(record)
        else:
            problems.append(f"records[{index}] is a {type(record).__name__}, not a Record")
    record_ids = {record.record_id for record in records}
    for index, diagnostic in enumerate(result.diagnostics):
        problems.extend(_diagnostic_problems(index, diagnostic, record_ids))
    return problems


def result_problems(adapter_class: type[Adapter], payload: bytes, result: object) -> list[str]:
    """Everything wrong with what ``decode(payload)`` returned: structure and provenance."""
    problems = structure_problems(result)
    if isinstance(result, DecodeResult):
        items: tuple[object, ...] = result.records
        records = [r for r in items if isinstance(r, record_pb2.Record)]
        problems.extend(provenance_problems(adapter_class, payload, records))
    return problems


def limit_problems(result: DecodeResult, options: DecodeOptions) -> list[str]:
    """How ``result`` exceeds the limits of ``options`` (``adapters.collector``).

    At most ``max_errors`` errors and then one ``TOO_MANY_ERRORS``, which is the last error and
    names every record of the result; at most ``max_per_code`` warnings or infos of one code.
    A result within the limits has no problem: an adapter that builds its ``DecodeResult``
    without the ``DecodeBuilder`` must keep to them all the same.
    """
    problems: list[str] = []
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    if len(errors) > options.max_errors + 1:
        problems.append(
            f"{len(errors):,} error diagnostics: decoding must stop after {options.max_errors:,} "
            f"with one {TOO_MANY_ERRORS} error (the DecodeBuilder does it)"
        )
    elif len(errors) == options.max_errors + 1 and errors[-1].code != TOO_MANY_ERRORS:
        problems.append(
            f"{len(errors):,} errors, the last not {TOO_MANY_ERRORS}: decoding must stop at "
            "the error after the limit"
        )
    stops = [index for index, d in enumerate(errors) if d.code == TOO_MANY_ERRORS]
    if stops and stops != [len(errors) - 1]:
        problems.append(f"{TOO_MANY_ERRORS} must be the last error, and only once")
    if stops:
        named = set(errors[stops[0]].record_ids)
        missing = [r.record_id for r in result.records if r.record_id not in named]
        if missing:
            problems.append(
                f"{TOO_MANY_ERRORS} does not name {len(missing)} record(s) of the result: "
                "no record of a stopped decode counts as clean"
            )
    notes = Counter(
        d.code
        for d in result.diagnostics
        if d.severity is not Severity.ERROR and d.code != DIAGNOSTICS_OMITTED
    )
    for code, count in sorted(notes.items()):
        if count > options.max_per_code:
            problems.append(
                f"{count:,} warnings or infos with code {code}: at most "
                f"{options.max_per_code:,} of one code may be listed"
            )
    return problems


def text_problems(records: Sequence[record_pb2.Record]) -> list[str]:
    """Text in ``records`` that the gateway refuses (``liaison.rules.text``): a clean record
    must hold none, the adapter reports ``FORBIDDEN_CHARACTER`` where it reads such a value."""
    return [
        f"records[{index}] ({record.record_id}): {path} {describe(forbidden)}"
        for index, record in enumerate(records)
        for path, value, free_text in _strings(record, "")
        if (forbidden := forbidden_in(value, free_text=free_text)) is not None
    ]


def _strings(message: Message, prefix: str) -> Iterator[tuple[str, str, bool]]:
    # Any: ListFields pairs a descriptor with a value whose type depends on the field.
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            free_text = field.full_name in FREE_TEXT_FIELDS
            items = value if field.is_repeated else [value]
            for index, item in enumerate(items):
                yield (f"{path}[{index}]" if field.is_repeated else path), item, free_text
        elif field.message_type is not None:
            children = value if field.is_repeated else [value]
            for index, child in enumerate(children):
                where = f"{path}[{index}]." if field.is_repeated else f"{path}."
                yield from _strings(child, where)
