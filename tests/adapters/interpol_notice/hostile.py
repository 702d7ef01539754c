"""Hostile INTERPOL notice documents of any size: many notices, dense objects, deep nesting,
repeated keys."""

from __future__ import annotations

import json

from adapters.testing import PayloadBuilder

_PAGE_START = b'{"_embedded":{"notices":['
_PAGE_END = b"]}}"


def _notice(index: int) -> bytes:
    entity = f"{2000 + index % 25}/{index:06d}"
    href = f"https://ws-public.interpol.int/notices/v1/red/{entity.replace('/', '-')}"
    document = {
        "entity_id": entity,
        "name": "-",
        "forename": None,
        "date_of_birth": "1980/01/02",
        "nationalities": ["FR"],
        "_links": {"self": {"href": href}},
    }
    return json.dumps(document, separators=(",", ":")).encode("ascii")


_NOTICE_BYTES = len(_notice(0)) + 1


def many_notices(size: int) -> bytes:
    """A search page of distinct nameless notices (a warning each), about ``size`` bytes."""
    count = max(1, size // _NOTICE_BYTES)
    return _PAGE_START + b",".join(_notice(index) for index in range(count)) + _PAGE_END


def dense_objects(size: int) -> bytes:
    """A page of empty notices, ``{}`` after ``{}``: 25 times its size once parsed."""
    return _PAGE_START + b",".join([b"{}"] * max(1, size // 3)) + _PAGE_END


def deep_notice(size: int) -> bytes:
    """A notice whose unknown field nests arrays as deep as the payload is long."""
    depth = max(1, size // 2)
    return b'{"entity_id":"2019/1","x":' + b"[" * depth + b"]" * depth + b"}"


def repeated_keys(size: int) -> bytes:
    """A notice with one key repeated over and over: a duplicate-key error at each object."""
    unit = b'{"name":"A","name":"B"},'
    return _PAGE_START + unit * max(1, size // len(unit)) + b"{}" + _PAGE_END


def deep_repeated_keys(size: int) -> bytes:
    """Objects nested as deep as the decoder allows, a repeated key at the bottom, many times:
    the pointers of the repeats are long, and must not make the decode quadratic."""
    depth = 500
    unit = b'{"a":' * depth + b'{"k":1,"k":2}' + b"}" * depth
    count = max(1, size // (len(unit) + 1))
    return b"[" + b",".join([unit] * count) + b"]"


HOSTILE_PAYLOADS: dict[str, PayloadBuilder] = {
    "many-notices": many_notices,
    "dense-objects": dense_objects,
    "deep-notice": deep_notice,
    "repeated-keys": repeated_keys,
    "deep-repeated-keys": deep_repeated_keys,
}
