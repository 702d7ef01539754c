"""``python -m bench.screening.worker_rss``: the screening worker process's resident memory.

Starts a real worker process (:class:`gateway.services.screening_worker.ProcessIndexWorker`, as
the gateway does), reads its RSS at rest, then loads and builds an index of each size asked for
(the screened Submit scenario's 20,000 seeded entries, the rebuild bench's 1,000,000 records),
each in a fresh worker, and prints one line per size. Records are those of the screening bench
(half red notices, half stolen passports), sent over the pipe as a rebuild sends them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc

from bench.screening.speed import list_records
from gateway.screening import DEFAULT_LISTS
from gateway.services.screening_worker import ProcessIndexWorker

__all__ = ["main", "worker_rss_mib"]

_CHUNK = 5000


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def worker_rss_mib(records: int) -> tuple[float, float, int]:
    """(RSS at rest, RSS with ``records`` list records indexed, entries) of a fresh worker."""
    worker = ProcessIndexWorker(DEFAULT_LISTS, lambda: None)
    await worker.start()
    try:
        pid = worker.pid
        assert pid is not None
        await worker.build()  # the modules a build imports, on an empty index
        rest = _rss_mib(pid)
        payloads = list_records(records)
        for start in range(0, len(payloads), _CHUNK):
            chunk = payloads[start : start + _CHUNK]
            await worker.load([(f"R:{start + n}", 1, payload) for n, payload in enumerate(chunk)])
        del payloads
        gc.collect()
        entries, _ = await worker.build()
        return rest, _rss_mib(pid), entries
    finally:
        await worker.stop()


async def _measure(sizes: list[int]) -> None:
    for size in sizes:
        rest, loaded, entries = await worker_rss_mib(size)
        per_entry = (loaded - rest) * 1024 * 1024 / max(entries, 1)
        print(
            f"{size:>9,} records, {entries:>9,} entries: worker RSS {loaded:,.0f} MiB "
            f"(at rest {rest:,.0f} MiB; +{per_entry:,.0f} B/entry)",
            flush=True,
        )


def main(arguments: list[str] | None = None) -> None:
    """Print the worker's RSS for each ``--records`` size."""
    parser = argparse.ArgumentParser(prog="python -m bench.screening.worker_rss")
    parser.add_argument("--records", type=int, action="append", help="default 20000 and 1000000")
    args = parser.parse_args(arguments)
    asyncio.run(_measure(args.records or [20_000, 1_000_000]))


if __name__ == "__main__":
    main()
