"""Diagnostic codes of the ``ansi-nist`` adapter (stable: tools and tests match on them).

An error about the transaction as a whole (its structure or its Type-1 header) leaves it without
person records: nothing decoded from an invalid transaction is returned. Other errors taint the
person record of the Type-2 record they concern.

Structure (the transaction cannot be walked past the problem, decoding stops there):

* ``NIST_EMPTY`` — the payload is empty.
* ``NIST_TAG_INVALID`` — a field does not start with a ``R.FFF:`` tag (missing colon, not
  digits, field number zero, wrong record type), a record does not start with ``R.001:``, or a
  second Type-1 record follows the first.
* ``NIST_LEN_INVALID`` — a LEN (x.001, or the 4-byte length of a binary record) is not a number,
  or is too small to hold the record's own header.
* ``NIST_LEN_BEYOND_END`` — a LEN points past the end of the payload.
* ``NIST_LEN_MISMATCH`` — a LEN differs from the record's actual length.
* ``NIST_TRUNCATED`` — the payload ends inside a record.

Transaction header (errors; ANSI/NIST-ITL 1-2011 Section 8.1):

* ``NIST_FIELD_MISSING`` — a mandatory Type-1 field (1.002-1.005, 1.007-1.009, 1.011, 1.012) is
  absent or empty.
* ``NIST_CNT_INVALID`` — field 1.003 CNT is not in its fixed layout.
* ``NIST_CNT_MISMATCH`` — the records present differ from those CNT lists (type, IDC, number).
* ``NIST_RECORD_TYPE`` — a record type the standard does not define (Table 3), in CNT or a tag.
* ``NIST_VERSION_INVALID`` — 1.002 VER is not four digits.
* ``NIST_VERSION_UNKNOWN`` (warning) — 1.002 VER is four digits but names no published version
  of the standard (``PUBLISHED_VERSIONS``); the transaction is read as 1-2011.
* ``NIST_DUPLICATE_FIELD``, ``NIST_FIELD_STRUCTURE`` — a Type-1 field occurs twice, or a
  mandatory one has more subfields or items than it may (in Type-2: warnings, kept verbatim).

Transaction content (not errors):

* ``NIST_TRAILING_DATA`` — bytes after the last record that are not a record.
* ``NIST_RECORD_SKIPPED`` (info) — a record of a type this adapter does not map, skipped by LEN.
* ``NIST_NO_DESCRIPTIVE_TEXT`` (info) — the transaction has no Type-2 record.

Fields:

* ``NIST_FIELD_ORDER`` (warning) — IDC (or VER) is not the second field.
* ``NIST_FIELD_MISSING`` (error) — a Type-2 record without 2.002 IDC.
* ``NIST_IDC_INVALID`` — field 2.002 is not an integer from 0 to 99.
* ``NIST_DATE_INVALID``, ``NIST_TIME_INVALID``, ``NIST_PRIORITY_INVALID``,
  ``NIST_RESOLUTION_INVALID``, ``NIST_NAME_FORMAT``,
  ``NIST_SEX_CODE``, ``NIST_COUNTRY_CODE`` (warnings) — a value that does not have the form its
  field requires; kept verbatim.
* ``NIST_NAME_MISSING`` (warning) — a Type-2 record without any name: Section 8.2 leaves Type-2
  content to the domain, and a person needs a name only when the source has one (the person is
  identified by the transaction's biometric records, see ``docs/contract.md``).
* ``NIST_TEXT_ENCODING``, ``NIST_TYPE1_NOT_ASCII``, ``NIST_CHARSET_UNSUPPORTED`` — text that the
  declared character encoding (1.015 DCS) cannot decode, or an encoding this adapter cannot read.
* ``FORBIDDEN_CHARACTER`` (error, shared by every adapter) — an information item holds a control
  character (other than the separators), a bidi override or a noncharacter: in Type-1 the
  transaction is invalid, in Type-2 the person record is not clean. Fields the adapter maps are
  single-line text; fields kept verbatim are free text (TAB, LF, CR allowed).

Encoding:

* ``NIST_SEPARATOR_IN_DATA`` — a value holds a separator or reserved control character; removed.
* ``NIST_NAME_UNREPRESENTABLE`` — a name the ``SURNAME,GIVEN`` form cannot carry unambiguously.
* ``NIST_NOT_CARRIED`` — record content the Type-1/Type-2 mapping has no place for.
* ``NIST_HEADER_CONFLICT`` — records from different transactions encoded into one.
* ``NIST_HEADER_INCOMPLETE`` (error) — mandatory Type-1 values the records do not provide: the
  transaction written would be refused by decoding.
* ``NIST_IDC_REASSIGNED`` — a duplicate IDC replaced by a free one.
"""

from __future__ import annotations

EMPTY = "NIST_EMPTY"
TAG_INVALID = "NIST_TAG_INVALID"
LEN_INVALID = "NIST_LEN_INVALID"
LEN_BEYOND_END = "NIST_LEN_BEYOND_END"
LEN_MISMATCH = "NIST_LEN_MISMATCH"
TRUNCATED = "NIST_TRUNCATED"
CNT_INVALID = "NIST_CNT_INVALID"
CNT_MISMATCH = "NIST_CNT_MISMATCH"
RECORD_TYPE = "NIST_RECORD_TYPE"
TRAILING_DATA = "NIST_TRAILING_DATA"
RECORD_SKIPPED = "NIST_RECORD_SKIPPED"
NO_DESCRIPTIVE_TEXT = "NIST_NO_DESCRIPTIVE_TEXT"
FIELD_MISSING = "NIST_FIELD_MISSING"
FIELD_STRUCTURE = "NIST_FIELD_STRUCTURE"
DUPLICATE_FIELD = "NIST_DUPLICATE_FIELD"
FIELD_ORDER = "NIST_FIELD_ORDER"
IDC_INVALID = "NIST_IDC_INVALID"
DATE_INVALID = "NIST_DATE_INVALID"
TIME_INVALID = "NIST_TIME_INVALID"
PRIORITY_INVALID = "NIST_PRIORITY_INVALID"
RESOLUTION_INVALID = "NIST_RESOLUTION_INVALID"
VERSION_INVALID = "NIST_VERSION_INVALID"
VERSION_UNKNOWN = "NIST_VERSION_UNKNOWN"
NAME_FORMAT = "NIST_NAME_FORMAT"
NAME_MISSING = "NIST_NAME_MISSING"
SEX_CODE = "NIST_SEX_CODE"
COUNTRY_CODE = "NIST_COUNTRY_CODE"
TEXT_ENCODING = "NIST_TEXT_ENCODING"
TYPE1_NOT_ASCII = "NIST_TYPE1_NOT_ASCII"
CHARSET_UNSUPPORTED = "NIST_CHARSET_UNSUPPORTED"
SEPARATOR_IN_DATA = "NIST_SEPARATOR_IN_DATA"
NAME_UNREPRESENTABLE = "NIST_NAME_UNREPRESENTABLE"
NOT_CARRIED = "NIST_NOT_CARRIED"
HEADER_CONFLICT = "NIST_HEADER_CONFLICT"
HEADER_INCOMPLETE = "NIST_HEADER_INCOMPLETE"
IDC_REASSIGNED = "NIST_IDC_REASSIGNED"

PUBLISHED_VERSIONS = frozenset({"0200", "0201", "0300", "0400", "0500", "0501", "0502", "0600"})
"""1.002 VER values of the published versions: 0200 (ANSI/NIST-CSL 1-1993), 0201 (ANSI/NIST-ITL
1a-1997), 0300 (1-2000), 0400 (1-2007 and 2-2008), 0500 (1-2011), 0501 (1-2011 Update:2013),
0502 (1-2011 Update:2015), 0600 (the edition after them)."""
