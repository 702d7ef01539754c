"""Bytes to a JSON value, with a located diagnostic for anything that is not valid JSON text.

The standard library's C decoder does the tokenizing. What it reports is turned into a
diagnostic that says where (line, column, byte offset) and what kind of problem, never the text
around it: payloads hold personal data.

Memory is bounded before decoding: Python spends 60-200 bytes on every object or array, so a
document of nothing but ``{}`` takes 25 times its size once decoded. Notices spend 50 to 120
bytes per object or array (the samples); a large document denser than one per
``MIN_BYTES_PER_CONTAINER`` bytes is refused unread (``NOTICE_JSON_DENSITY``).

Duplicate keys in one object are valid JSON text (RFC 8259 only says names "SHOULD be unique")
but ambiguous: receivers differ on which value counts, and Python's decoder silently keeps the
last. A document where a key repeats is therefore decoded, and the pointer of every repeated key
(its object's pointer and the key) is returned, for the mapper to report as an error. Detection
costs one ``dict`` per object in the decoder's ``object_pairs_hook``; the pointers are found by
one walk of the value, only when a repeat was seen: linear either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.interpol_notice.values import json_pointer

__all__ = [
    "DENSITY_CHECKED_BYTES",
    "MAX_LOCATED_DUPLICATES",
    "MIN_BYTES_PER_CONTAINER",
    "LoadedJson",
    "load_json",
]

MIN_BYTES_PER_CONTAINER = 16
"""A document holds at least this many bytes per object or array (notices: 50-120)."""

MAX_LOCATED_DUPLICATES = 1000
"""Objects whose repeated keys are located; past them, a document only says there are more (a
decode stops at its error limit anyway - 1,000 errors by default - and memory stays bounded)."""

DENSITY_CHECKED_BYTES = 64 * 1024
"""Documents from this size on are checked for density; smaller ones cannot cost much."""

_BOM = b"\xef\xbb\xbf"
# A \uD800-\uDFFF escape: the only way a lone surrogate (which no UTF-8 text can hold, and
# protobuf refuses) gets into a decoded string. Its absence lets almost every payload skip the
# search for one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class LoadedJson(NamedTuple):
    """A decoded document, or why it could not be decoded."""

    value: Any
    """The decoded value; None when ``problem`` is set."""
    problem: Diagnostic | None
    """Why the payload is not a JSON document (nothing was decoded), or None."""
    duplicate_keys: tuple[str, ...] = ()
    """RFC 6901 pointers of the keys that repeat in their object (the last value was kept)."""
    more_duplicate_keys: bool = False
    """More objects repeat keys than ``MAX_LOCATED_DUPLICATES``: the others are not located."""


def load_json(payload: bytes) -> LoadedJson:
    """Decode ``payload`` (UTF-8 JSON, an optional BOM) into a value, or say why it cannot be."""
    skip = len(_BOM) if payload.startswith(_BOM) else 0
    if len(payload) >= DENSITY_CHECKED_BYTES:
        # An upper bound (brackets in strings count too), found in C without decoding.
        containers = payload.count(b"{") + payload.count(b"[")
        if containers * MIN_BYTES_PER_CONTAINER > len(payload):
            return _failed(
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
        return _failed(
            "NOTICE_UTF8",
            "the payload is not valid UTF-8",
            Location(line=line, column=column, byte_offset=offset),
        )
    # id of an object -> (the object, kept alive so that no id is reused; its repeated keys)
    repeating: dict[int, tuple[dict[str, Any], tuple[str, ...]]] = {}
    more: list[bool] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) != len(pairs):
            if len(repeating) < MAX_LOCATED_DUPLICATES:
                repeating[id(built)] = (built, _repeated(pairs))
            elif not more:
                more.append(True)
        return built

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as error:
        offset = skip + len(text[: error.pos].encode("utf-8"))
        # error.msg is the decoder's fixed description ("Expecting ',' delimiter"), no content.
        return _failed(
            "NOTICE_JSON",
            f"invalid JSON: {error.msg}",
            Location(line=error.lineno, column=error.colno, byte_offset=offset),
        )
    except RecursionError:
        return _failed(
            "NOTICE_JSON_DEPTH", "the JSON nests deeper than the decoder's recursion limit"
        )
    except ValueError:
        # The only other ValueError json.loads raises: an integer longer than Python converts.
        return _failed("NOTICE_JSON", "invalid JSON: a number has too many digits")
    if _SURROGATE_ESCAPE.search(text):
        pointer = _lone_surrogate_at(value)
        if pointer is not None:
            return _failed(
                "NOTICE_JSON",
                "invalid JSON text: a string escapes an unpaired UTF-16 surrogate",
                Location(json_pointer=pointer),
            )
    if not repeating:
        return LoadedJson(value, None)
    return LoadedJson(value, None, _repeated_keys(value, repeating), bool(more))


def _failed(code: str, message: str, location: Location | None = None) -> LoadedJson:
    return LoadedJson(None, Diagnostic(Severity.ERROR, code, message, location or Location()))


def _repeated(pairs: list[tuple[str, Any]]) -> tuple[str, ...]:
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for key, _ in pairs:
        if key in seen:
            repeated[key] = None
        seen.add(key)
    return tuple(repeated)


def _repeated_keys(
    value: Any, repeating: dict[int, tuple[dict[str, Any], tuple[str, ...]]]
) -> tuple[str, ...]:
    """Pointers of the repeated keys of the objects in ``repeating``: an object's own before
    those of the objects inside it, objects in document order.

    Depth first with a stack of iterators, so memory grows with the depth (bounded by the
    decoder's recursion limit), not the width; it stops once every object is found. An object
    that was the earlier value of a repeated key is no longer in the document: the key that
    replaced it is reported.
    """
    found: list[str] = []
    left = len(repeating)
    stack: list[tuple[str, Iterator[tuple[str | int, Any]]]] = []

    def enter(pointer: str, item: Any) -> None:
        nonlocal left
        if isinstance(item, dict):
            entry = repeating.get(id(item))
            if entry is not None:
                found.extend(json_pointer(pointer, key) for key in entry[1])
                left -= 1
            stack.append((pointer, iter(item.items())))
        else:
            stack.append((pointer, enumerate(item)))

    if isinstance(value, dict | list):
        enter("", value)
    while stack and left:
        pointer, children = stack[-1]
        for key, child in children:
            if isinstance(child, dict | list):
                enter(json_pointer(pointer, key), child)
                break
        else:
            stack.pop()
    return tuple(found)


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
