"""The sizes the built-in adapters' conformance tests decode hostile payloads at.

Smaller than the kit's defaults (5 MiB, 256 KiB), which third-party adapters get: the built-in
adapters have more hostile kinds each (their own, in ``*/hostile.py``), and the suite runs on a
shared two-core machine. 2 MiB is issue 12's payload of terminators; 128 KiB and four times it
still show a quadratic term (``adapters.testing.cost``). The issue's full sizes (a 10 MB
passenger list, a 50 MB MRZ file) are measured by ``python -m tests.adapters.hostile_figures``.
"""

from __future__ import annotations

HUGE_PAYLOAD_BYTES = 2 * 1024 * 1024
COST_PAYLOAD_BYTES = 128 * 1024
