"""Issue 12's hostile inputs at their full sizes: time, memory and diagnostics of each decode.

Run ``python -m tests.adapters.hostile_figures`` (a few minutes: the 50 MB MRZ file dominates),
or ``--case NAME`` for one. Each case runs in a process of its own, twice: once timed (wall and
CPU time, growth of the peak resident set), once under ``tracemalloc`` (the peak of what Python
allocates, the kit's measure). Figures are printed, never asserted: the conformance kit asserts
ratios (``adapters.testing.cost``); this is the report of what the issue's inputs cost now.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

from adapters import Adapter, Severity, get_adapter
from adapters.icao_mrz import IcaoMrzAdapter
from tests.adapters.ansi_nist import hostile as nist
from tests.adapters.icao_mrz import hostile as mrz
from tests.adapters.interpol_notice import hostile as notices
from tests.adapters.paxlst import hostile as paxlst

MB = 1_000_000
MIB = 1024 * 1024

CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "paxlst-2mib-of-terminators": ("paxlst", lambda: b"'" * (2 * MIB)),
    "paxlst-10mb-passenger-list": ("paxlst", lambda: paxlst.large_passenger_list(10 * MB)),
    "paxlst-4mib-release-errors": ("paxlst", lambda: paxlst.release_errors(4 * MIB)),
    "mrz-50mb-file": ("icao-mrz", lambda: mrz.distinct_mrzs(50 * MB)),
    "mrz-50mb-bad-check-digits": ("icao-mrz", lambda: mrz.bad_check_digits(50 * MB)),
    "nist-4mib-type2-records": ("ansi-nist", lambda: nist.many_type2_records(4 * MIB)),
    "nist-4mib-tagged-records": ("ansi-nist", lambda: nist.many_tagged_records(4 * MIB)),
    "nist-4mib-fields": ("ansi-nist", lambda: nist.many_fields(4 * MIB)),
    "nist-4mib-empty-fields": ("ansi-nist", lambda: nist.empty_fields(4 * MIB)),
    "json-2mib-nested-arrays": ("interpol-notice", lambda: b"[" * (2 * MIB)),
    "json-4mib-dense-objects": ("interpol-notice", lambda: notices.dense_objects(4 * MIB)),
    "json-4mib-nameless-notices": ("interpol-notice", lambda: notices.many_notices(4 * MIB)),
}


def _adapter(name: str) -> Adapter:
    if name == "icao-mrz":
        return IcaoMrzAdapter(today=datetime.date(2026, 1, 15))
    return get_adapter(name)


def measure(case: str, traced: bool) -> dict[str, object]:
    """Decode one case in this process; its figures."""
    name, build = CASES[case]
    payload = build()
    adapter = _adapter(name)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures: dict[str, object] = {"case": case, "bytes": len(payload)}
    if traced:
        tracemalloc.start()
        result = adapter.decode(payload)
        figures["tracemalloc_peak_x"] = round(tracemalloc.get_traced_memory()[1] / len(payload), 2)
        tracemalloc.stop()
        return figures
    wall, cpu = time.perf_counter(), time.process_time()
    result = adapter.decode(payload)
    figures["seconds"] = round(time.perf_counter() - wall, 2)
    figures["cpu_seconds"] = round(time.process_time() - cpu, 2)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss
    figures["rss_growth_x"] = round(grown * 1024 / len(payload), 2)
    figures["records"] = len(result.records)
    figures["diagnostics"] = len(result.diagnostics)
    figures["errors"] = result.count(Severity.ERROR)
    figures["codes"] = sorted({d.code for d in result.diagnostics})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", choices=sorted(CASES), help="one case, in this process")
    parser.add_argument("--traced", action="store_true", help="measure under tracemalloc")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.traced)))
        return 0
    for case in CASES:
        runs = []
        for traced in (False, True):
            command = [sys.executable, "-m", "tests.adapters.hostile_figures", "--case", case]
            output = subprocess.run(
                command + (["--traced"] if traced else []),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(output))
        print(json.dumps({**runs[0], **runs[1]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
