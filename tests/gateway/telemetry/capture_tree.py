"""Print the trace trees of a few calls, as ``docs/operations.md`` shows them.

    .venv/bin/python -m tests.gateway.telemetry.capture_tree

A gateway and a traced client run in this process, exporting to memory; the output is the real
trace of each call (durations vary from run to run).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.client import AsyncLiaisonClient
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.conftest import make_config
from tests.gateway.telemetry.conftest import recording
from tests.gateway.telemetry.spans import format_tree
from tests.support.factories import person, travel_document
from tests.support.translation_adapters import lines, lines_registry


async def capture(folder: Path, pipeline: str = "fast") -> str:
    """Run a Submit, a SubmitStream, a Search and an Ingest; their trace trees, one per call."""
    recorded = recording(pipeline=pipeline)
    gateway = Gateway(make_config(folder), telemetry=recorded.telemetry, registry=lines_registry())
    await gateway.start()
    sections: list[str] = []
    try:
        interceptors = recorded.telemetry.aio_client_interceptors(gateway.address)
        async with AsyncLiaisonClient(gateway.address, interceptors=interceptors) as client:
            calls: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
                ("Submit", lambda: client.submit(person("TEST-CENTRE:tree-1"))),
                (
                    "SubmitStream (2 messages)",
                    lambda: client.submit_many(
                        [travel_document(f"TEST-CENTRE:tree-doc-{n}") for n in range(3)],
                        batch_size=2,
                    ),
                ),
                ("Search", lambda: _search(client)),
                (
                    "Ingest (one record refused by its diagnostics)",
                    lambda: client.ingest(
                        "lines", lines("DOE;JANE;1975-03-12", "ROE;;1980-13"), accept_partial=True
                    ),
                ),
            )
            for title, call in calls:
                recorded.spans.clear()
                await call()
                # The client span ends just after the call returns.
                await asyncio.sleep(0.05)
                tree = format_tree(recorded.spans.get_finished_spans())
                sections.append(f"# {title}\n{tree}")
    finally:
        await gateway.stop(grace=0)
        recorded.telemetry.shutdown()
    return "\n\n".join(sections)


async def _search(client: AsyncLiaisonClient) -> None:
    async for _ in client.search_all(exchange_pb2.SearchRequest(document_number="L898902C3")):
        pass


def main() -> None:
    """Print the trees."""
    with tempfile.TemporaryDirectory(prefix="liaison-trace-") as folder:
        print(asyncio.run(capture(Path(folder))))


if __name__ == "__main__":
    main()
