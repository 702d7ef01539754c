"""Bytes to a JSON value, with a located diagnostic for anything that is not valid JSON text.

The standard library's C decoder does the tokenizing. What it reports is turned into a
diagnostic that says where (line, column, byte offset) and what kind of problem, never the text
around it: payloads hold personal data.

Memory is bounded before decoding: Python spends 60-200 bytes on every object or array, so a
document of nothing but ``{}`` takes 25 times its size once decoded. Notices spend 50 to 120
bytes per object or array (the samples); a large document denser than one per
``MIN_BYTES_PER_CONTAINER`` bytes is refused unread (``NOTICE_JSON_DENSITY``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.interpol_notice.values import json_pointer

__all__ = ["DENSITY_CHECKED_BYTES", "MIN_BYTES_PER_CONTAINER", "load_json"]

MIN_BYTES_PER_CONTAINER = 16
"""A document holds at least this many bytes per object or array (notices: 50-120)."""

DENSITY_CHECKED_BYTES = 64 * 1024
"""Documents from this size on are checked for density; smaller ones cannot cost much."""

_BOM = b"\xef\xbb\xbf"
# A \uD800-\uDFFF escape: the only way a lone surrogate (which no UTF-8 text can hold, and
# protobuf refuses) gets into a decoded string. Its absence lets almost every payload skip the
# search for one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def load_json(payload: bytes) -> tuple[Any, Diagnostic | None]:
    """Decode ``payload`` (UTF-8 JSON, an optional BOM) into a value, or say why it cannot be."""
    skip = len(_BOM) if payload.startswith(_BOM) else 0
    if len(payload) >= DENSITY_CHECKED_BYTES:
        # An upper bound (brackets in strings count too), found in C without decoding.
        containers = payload.count(b"{") + payload.count(b"[")
        if containers * MIN_BYTES_PER_CONTAINER > len(payload):
            return None, _error(
                "NOTICE_JSON_DENSITY",
                f"the document holds an object or array every {len(payload) / containers:.1f} "
                f"bytes on average; notices take at least {MIN_BYTES_PER_CONTAINER}, so it is "
                "not decoded (it would take more than 20 times its size in memory)",
                Location(byte_offset=0),
            )
    try:
        text = payload[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skip + error.start
        line, column = _line_and_column(payload, offset)
        return None, _error(
            "NOTICE_UTF8",
            "the payload is not valid UTF-8",
            Location(line=line, column=column, byte_offset=offset),
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        offset = skip + len(text[: error.pos].encode("utf-8"))
        # error.msg is the decoder's fixed description ("Expecting ',' delimiter"), no content.
        return None, _error(
            "NOTICE_JSON",
            f"invalid JSON: {error.msg}",
            Location(line=error.lineno, column=error.colno, byte_offset=offset),
        )
    except RecursionError:
        return None, _error(
            "NOTICE_JSON_DEPTH", "the JSON nests deeper than the decoder's recursion limit"
        )
    except ValueError:
        # The only other ValueError json.loads raises: an integer longer than Python converts.
        return None, _error("NOTICE_JSON", "invalid JSON: a number has too many digits")
    if _SURROGATE_ESCAPE.search(text):
        pointer = _lone_surrogate_at(value)
        if pointer is not None:
            return None, _error(
                "NOTICE_JSON",
                "invalid JSON text: a string escapes an unpaired UTF-16 surrogate",
                Location(json_pointer=pointer),
            )
    return value, None


def _error(code: str, message: str, location: Location | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, location or Location())


def _line_and_column(payload: bytes, offset: int) -> tuple[int, int]:
    before = payload[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def _lone_surrogate_at(value: Any) -> str | None:
    """JSON pointer of a string holding a lone surrogate (of its object, for a key), or ``None``.

    Iterative, so a document as deep as the decoder accepts cannot exhaust the Python stack.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        pointer, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return pointer
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _encodable(key):
                    return pointer
                stack.append((json_pointer(pointer, key), child))
        elif isinstance(item, list):
            stack.extend((json_pointer(pointer, index), child) for index, child in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
