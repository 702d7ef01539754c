"""The ``ansi-nist`` adapter: ANSI/NIST-ITL 1-2011 (Update 2015) transactions, Type-1 and Type-2."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from adapters.ansi_nist.decoder import decode_transaction
from adapters.ansi_nist.encoder import encode_transaction
from adapters.base import Adapter, DecodeResult, EncodeResult
from liaison.v1 import record_pb2

__all__ = ["AnsiNistAdapter"]


class AnsiNistAdapter(Adapter):
    """ANSI/NIST-ITL 1-2011 traditional encoding: one person record per Type-2 record.

    Decoding reads the Type-1 transaction header into ``Provenance.nist`` and the EBTS person
    fields of each Type-2 record into a ``Person`` (see ``adapters.ansi_nist.person``); other
    Type-2 fields are kept verbatim. Image and other records are stepped over by their length
    with an info diagnostic. A Type-1 header that is not valid as 1-2011 Section 8.1 says
    (mandatory fields, 1.003 CNT in its fixed layout and listing exactly the records present,
    record types of Table 3, one Type-1), or a record structure that cannot be walked, is an
    error and the transaction gives no person record. A Type-2 record without a name is a
    warning: Section 8.2 leaves its content to the domain. Encoding writes a Type-1 record and
    one Type-2 record per person.
    """

    name: ClassVar[str] = "ansi-nist"
    version: ClassVar[str] = "1.1.0"
    description: ClassVar[str] = (
        "ANSI/NIST-ITL 1-2011 traditional encoding: Type-1 header and Type-2 person text (EBTS)"
    )
    source_format: ClassVar[str] = "ANSI/NIST-ITL 1-2011 Update 2015, traditional encoding"
    media_types: ClassVar[tuple[str, ...]] = ()
    file_extensions: ClassVar[tuple[str, ...]] = ("an2", "eft", "nist")

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        """Decode one transaction. Never raises on bad input; an invalid header or structure
        gives errors and no record."""
        return decode_transaction(self.builder(payload, source_reference), payload)

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        """Encode the person records into one transaction (Type-1 and Type-2 records)."""
        return encode_transaction(records)
