"""Identifier patterns of the contract, and the bound on version numbers."""

from __future__ import annotations

import re

__all__ = ["CENTRE_ID_PATTERN", "LIST_NAME_PATTERN", "MAX_VERSION", "RECORD_ID_PATTERN"]

RECORD_ID_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._:\-]{0,126}[A-Za-z0-9])?$")
"""Record ids: 1-128 letters, digits, ``.``, ``_``, ``:``, ``-``; alphanumeric at both ends."""

CENTRE_ID_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,62}[A-Z0-9])?$")
"""Centre ids: 1-64 capitals, digits and inner hyphens ("WCO-I2C", "INTERPOL-CCC-LYON")."""

LIST_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
"""Screening list names: 1-64 lower-case letters, digits and inner hyphens ("notices")."""

MAX_VERSION = 2**63 - 1
"""The highest version number: stores keep versions as signed 64-bit integers."""
