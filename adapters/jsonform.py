"""The JSON form of a decode result: ``{"records": [...], "diagnostics": [...]}``.

One form everywhere: ``liaison translate`` prints it, golden files store it (as
``NAME.expected.json`` beside the input ``NAME.<ext>``), and the conformance kit compares against
it. Records and diagnostics use protobuf's standard JSON mapping (lowerCamel field names).
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from adapters.base import DecodeResult
from adapters.diagnostics import Diagnostic
from liaison.v1 import record_pb2, translation_pb2

__all__ = ["dumps", "result_from_dict", "result_to_dict"]


def result_to_dict(result: DecodeResult) -> dict[str, Any]:
    return {
        "records": [json_format.MessageToDict(record) for record in result.records],
        "diagnostics": [json_format.MessageToDict(d.to_proto()) for d in result.diagnostics],
    }


def result_from_dict(document: dict[str, Any]) -> DecodeResult:
    """Parse the JSON form back (strict: unknown fields are refused)."""
    records = tuple(
        json_format.ParseDict(item, record_pb2.Record()) for item in document.get("records", [])
    )
    diagnostics = tuple(
        Diagnostic.from_proto(json_format.ParseDict(item, translation_pb2.Diagnostic()))
        for item in document.get("diagnostics", [])
    )
    return DecodeResult(records, diagnostics)


def dumps(result: DecodeResult) -> str:
    """Pretty, stable JSON (sorted keys, UTF-8 kept readable), ending with a newline."""
    return json.dumps(result_to_dict(result), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
