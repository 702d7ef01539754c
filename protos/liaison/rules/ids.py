"""Identifier patterns of the contract, and the bound on version numbers."""

from __future__ import annotations

import re

__all__ = [
    "CENTRE_ID_PATTERN",
    "LIST_NAME_PATTERN",
    "MAX_VERSION",
    "RECORD_ID_PATTERN",
    "in_namespace",
    "namespace_of",
]

RECORD_ID_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._:\-]{0,126}[A-Za-z0-9])?$")
"""Record ids: 1-128 letters, digits, ``.``, ``_``, ``:``, ``-``; alphanumeric at both ends."""

CENTRE_ID_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,62}[A-Z0-9])?$")
"""Centre ids: 1-64 capitals, digits and inner hyphens ("WCO-I2C", "INTERPOL-CCC-LYON")."""

LIST_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
"""Screening list names: 1-64 lower-case letters, digits and inner hyphens ("notices")."""

MAX_VERSION = 2**63 - 1
"""The highest version number: stores keep versions as signed 64-bit integers."""


def namespace_of(record_id: str) -> str | None:
    """The centre whose namespace ``record_id`` is in, or ``None`` for an id in no namespace.

    An id is in centre C's namespace when it starts with ``C:`` and C is a centre id
    ("WCO-I2C:person:0001"). A centre mints the ids of the records it publishes to its peers in
    its own namespace, so that no two centres' records can ever share an id: one centre cannot
    block, overwrite or probe another's records by choosing an id.
    """
    prefix, colon, _ = record_id.partition(":")
    return prefix if colon and CENTRE_ID_PATTERN.fullmatch(prefix) else None


def in_namespace(record_id: str, centre: str) -> str:
    """``record_id`` in ``centre``'s namespace (prefixed with ``centre:`` unless it already is)."""
    return record_id if namespace_of(record_id) == centre else f"{centre}:{record_id}"
