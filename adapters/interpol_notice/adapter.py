"""``InterpolNoticeAdapter``: INTERPOL public notices JSON (red, yellow, UN) in and out."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.base import Adapter, DecodeResult, EncodeResult
from adapters.interpol_notice.decode import decode_value
from adapters.interpol_notice.document import load_json
from adapters.interpol_notice.encode import encode_records
from liaison.v1 import record_pb2

__all__ = ["InterpolNoticeAdapter"]


class InterpolNoticeAdapter(Adapter):
    """INTERPOL public notices as served by ws-public.interpol.int.

    Decodes a notice detail document (``/notices/v1/red/2019-12345``) or a search result page
    (``/notices/v1/red``, ``/notices/v1/yellow``, ``/notices/v1/un/persons``) into one ``Notice``
    record per notice, the subject embedded. Encodes one notice record as a detail document and
    any other number as a search result page.
    """

    name = "interpol-notice"
    version = "1.2.0"
    description = "INTERPOL public notices JSON (red, yellow, UN): detail documents and pages"
    source_format = "INTERPOL public notices JSON (ws-public.interpol.int /notices/v1)"
    media_types = ("application/json",)
    file_extensions = ("json",)

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        """Decode a detail document or a search page. Never raises on bad input.

        Args:
            payload: The JSON document as the API serves it (UTF-8).
            source_reference: Where the payload came from (a file name); a record's own
                reference in its provenance is its notice's entity id when it has one.

        Returns:
            One record per notice and every diagnostic, with RFC 6901 pointers.
        """
        out = self.builder(payload, source_reference)
        loaded = load_json(payload)
        if loaded.problem is not None:
            out.extend([loaded.problem])
        else:
            decode_value(loaded.value, out, loaded.duplicate_keys, loaded.more_duplicate_keys)
        return out.result()

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        """Write one notice record as a detail document, any other number as a search page.

        Args:
            records: Notice records; records of other kinds are left out with an error.

        Returns:
            The UTF-8 JSON document and a diagnostic for each thing it could not carry.
        """
        return encode_records(records)
