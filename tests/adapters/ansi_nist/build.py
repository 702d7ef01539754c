"""Building ANSI/NIST-ITL transactions from bytes in tests, independently of the adapter's encoder.

``record(2, (18, b"DOE,JOHN"))`` gives ``2.001:<LEN><GS>2.018:DOE,JOHN<FS>`` with LEN counted here
by trial, so tests can compare the adapter's LEN logic against a second implementation.
"""

from __future__ import annotations

FS = b"\x1c"
GS = b"\x1d"
RS = b"\x1e"
US = b"\x1f"

Value = bytes | str | list[list[str]]


def value(data: Value) -> bytes:
    """Bytes as they are, text as UTF-8, ``[["a", "b"], ["c"]]`` as ``a<US>b<RS>c``."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return RS.join(US.join(item.encode("utf-8") for item in items) for items in data)


def record(record_type: int, *fields: tuple[int, Value], len_delta: int = 0) -> bytes:
    """A tagged record of ``fields`` (LEN excluded), its LEN off by ``len_delta`` if asked."""
    raw = [f"{record_type}.{number:03d}:".encode() + value(v) for number, v in fields]
    return raw_record(record_type, *raw, len_delta=len_delta)


def raw_record(
    record_type: int, *fields: bytes, len_delta: int = 0, len_tag: bytes | None = None
) -> bytes:
    """A record of already tagged ``fields`` (which may be malformed) behind a counted LEN.

    ``len_tag`` replaces the usual ``R.001:`` tag of the LEN field (to vary its leading zeros).
    """
    body = GS.join(fields)
    tag = len_tag if len_tag is not None else f"{record_type}.001:".encode()
    for digits in range(1, 10):
        length = len(tag) + digits + len(GS) + len(body) + len(FS)
        if len(str(length)) == digits:
            return tag + str(length + len_delta).encode() + GS + body + FS
    raise AssertionError("unreachable: some digit count always fits")


def content(*entries: tuple[int, int]) -> list[list[str]]:
    """A 1.003 CNT value listing ``(record type, IDC)`` for the records after Type-1."""
    return [["1", str(len(entries))], *[[str(kind), f"{idc:02d}"] for kind, idc in entries]]


HEADER: tuple[tuple[int, Value], ...] = (
    (2, "0502"),
    (4, "MPR"),
    (5, "20240315"),
    (7, "IPSG00000"),
    (8, "FRINTPOL0"),
    (9, "TCN-0001"),
    (11, "00.00"),
    (12, "00.00"),
)
"""The mandatory Type-1 fields besides LEN and CNT, with plain values."""


def type1(
    *entries: tuple[int, int], extra: tuple[tuple[int, Value], ...] = (), len_delta: int = 0
) -> bytes:
    """A Type-1 record with the mandatory fields, CNT listing ``entries``, then ``extra``."""
    fields = [HEADER[0], (3, content(*entries)), *HEADER[1:], *extra]
    return record(1, *fields, len_delta=len_delta)


def binary(idc: int, data: bytes, *, header_size: int = 18, len_delta: int = 0) -> bytes:
    """A binary record (Types 3-8): 4-byte big-endian LEN, IDC, the rest of a zeroed header."""
    length = header_size + len(data)
    return (length + len_delta).to_bytes(4, "big") + bytes([idc]) + bytes(header_size - 5) + data


def transaction(*type2_fields: tuple[int, Value]) -> bytes:
    """Type-1 and one Type-2 record (IDC 00) holding ``type2_fields`` after 2.002."""
    return type1((2, 0)) + record(2, (2, "00"), *type2_fields)


SEPARATOR_BYTES = bytes([0x1C, 0x1D, 0x1E, 0x1F])
"""What image data is full of, and what a separator-splitting reader would break on."""
