"""Comparing records across a round trip, where provenance legitimately changes.

A record decoded from an encoded payload comes from different bytes (another SHA-256) and may
carry another source reference; everything else must survive ``decode -> encode -> decode``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import json_format

from adapters.testing.golden import json_diff
from liaison.v1 import record_pb2

__all__ = ["records_difference", "round_trip_form"]


def round_trip_form(
    records: Iterable[record_pb2.Record], *, ignore_provenance: bool = False
) -> list[dict[str, Any]]:
    """The records as JSON documents without what a round trip may change.

    ``provenance.payload_sha256`` and ``provenance.source_reference`` are always dropped; the
    whole provenance too with ``ignore_provenance`` (records built by hand carry none).
    """
    documents = []
    for record in records:
        copy = record_pb2.Record()
        copy.CopyFrom(record)
        if ignore_provenance:
            copy.ClearField("provenance")
        elif copy.HasField("provenance"):
            copy.provenance.ClearField("payload_sha256")
            copy.provenance.ClearField("source_reference")
        documents.append(json_format.MessageToDict(copy))
    return documents


def records_difference(
    before: Sequence[record_pb2.Record],
    after: Sequence[record_pb2.Record],
    *,
    ignore_provenance: bool = False,
    before_name: str = "before",
    after_name: str = "after",
) -> str | None:
    """A diff of the two record lists in round-trip form; None when they are the same."""
    expected = round_trip_form(before, ignore_provenance=ignore_provenance)
    actual = round_trip_form(after, ignore_provenance=ignore_provenance)
    if expected == actual:
        return None
    return json_diff(expected, actual, expected_name=before_name, actual_name=after_name)
