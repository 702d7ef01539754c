"""The ``postgresql`` scenario: gateway replicas on one PostgreSQL database against the echo.

In each round, back to back: the raw echo (Submit at 64 in flight, SubmitStream); one replica on
PostgreSQL (the same two measurements, each on a fresh schema); then two replicas on one schema,
Submit at 32 in flight on each (64 in all) - their aggregate. Screening on commit is off, as in
the ``submit`` scenario, so that the figures compare with SQLite's.

The database is ``LIAISON_BENCH_DSN`` (default: the development machines' server,
``postgresql://postgres@127.0.0.1:5432/test``); each measurement works in a schema of its own,
dropped after it.
"""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.records import BENCH_CENTRE
from bench.report import Row
from bench.servers import ServerProcess, running_server
from devkit.replicas import write_replica

__all__ = [
    "BENCH_DSN_VARIABLE",
    "ONE_REPLICA_SUBMIT_GOAL",
    "STREAM_GOAL_RECORDS_PER_S",
    "VARIANTS",
    "bench_dsn",
    "replicas_on_one_schema",
    "summarize_postgresql",
]

BENCH_DSN_VARIABLE = "LIAISON_BENCH_DSN"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
ONE_REPLICA_SUBMIT_GOAL = 0.45
"""Issue 16: one replica's Submit at 64 in flight, as a share of the echo's."""
STREAM_GOAL_RECORDS_PER_S = 8_000.0
"""Issue 16: one replica's SubmitStream, records per second."""
VARIANTS = ("echo-submit", "echo-stream", "one-submit", "one-stream", "two-submit")
"""The measurements of a round, in order (``role`` baseline for the echo's)."""
POOL_SIZE = 8


def bench_dsn() -> str:
    return os.environ.get(BENCH_DSN_VARIABLE, DEFAULT_DSN)


def _drop(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@asynccontextmanager
async def replicas_on_one_schema(
    count: int, scratch: Path, *, extra: str = ""
) -> AsyncIterator[list[ServerProcess]]:
    """``count`` gateway replicas (screening on commit off) on a fresh schema; dropped after.
    ``extra`` is added to their centre files (more TOML tables)."""
    dsn = bench_dsn()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    configs = [
        write_replica(
            scratch / schema / f"replica-{n}",
            BENCH_CENTRE,
            dsn=dsn,
            schema=schema,
            pool_size=POOL_SIZE,
            extra="[screening]\nscreen_on_commit = []\n" + (f"\n{extra}" if extra else ""),
        )
        for n in range(1, count + 1)
    ]
    try:
        async with AsyncExitStack() as stack:
            servers = [
                # One after the other: the first creates the schema.
                await stack.enter_async_context(
                    running_server("gateway-postgresql", scratch=scratch, config=config)
                )
                for config in configs
            ]
            yield servers
    finally:
        _drop(dsn, schema)


def as_run(
    round_number: int, variant: str, servers: Sequence[ServerProcess], result: Any
) -> dict[str, Any]:
    """One measurement as a run of the JSON document (``result`` a measurement dataclass)."""
    return {
        "round": round_number,
        "scenario": "postgresql",
        "role": "baseline" if variant.startswith("echo") else "target",
        "variant": variant,
        "server": servers[0].kind,
        "replicas": len(servers),
        "server_exit_code": max((s.exit_code or 0) for s in servers),
        "server_killed": any(s.killed for s in servers),
        **(result if isinstance(result, dict) else asdict(result)),
    }


def _median(runs: Sequence[dict[str, Any]], variant: str, field: str) -> tuple[float, list[Any]]:
    chosen = [r for r in runs if r["variant"] == variant]
    values = [r[field] for r in chosen]
    return (statistics.median(values) if values else float("nan")), chosen


def summarize_postgresql(runs: Sequence[dict[str, Any]]) -> list[Row]:
    """Rows: one replica's Submit and SubmitStream against the echo's, two replicas' aggregate
    Submit against one replica's. Ratios from the same rounds."""
    chosen = [r for r in runs if r["scenario"] == "postgresql"]
    if not chosen:
        return []
    rows: list[Row] = []

    def row(metric: str, base: str, target: str, field: str, goal: float | None) -> None:
        baseline, base_runs = _median(chosen, base, field)
        value, target_runs = _median(chosen, target, field)
        ratio = value / baseline if baseline else float("nan")
        by_round = {r["round"]: r[field] for r in base_runs}
        verdict = ""
        if goal is not None:
            invalid = any(r["errors"] for r in base_runs + target_runs)
            verdict = "INVALID" if invalid else ("PASS" if ratio >= goal else "MISS")
        rows.append(
            Row(
                scenario=f"postgresql {target}",
                metric=metric,
                baseline=baseline,
                target=value,
                ratio=ratio,
                round_ratios=[
                    r[field] / by_round[r["round"]] for r in target_runs if by_round.get(r["round"])
                ],
                goal=f">= {goal:.2f}" if goal is not None else "",
                verdict=verdict,
            )
        )

    row("calls/s vs echo", "echo-submit", "one-submit", "calls_per_s", ONE_REPLICA_SUBMIT_GOAL)
    row("p99 latency ms vs echo", "echo-submit", "one-submit", "p99_ms", None)
    row("records/s vs echo", "echo-stream", "one-stream", "records_per_s", None)
    stream, stream_runs = _median(chosen, "one-stream", "records_per_s")
    rows.append(
        Row(
            scenario="postgresql one-stream",
            metric="records/s",
            baseline=float("nan"),
            target=stream,
            ratio=float("nan"),
            round_ratios=[],
            goal=f">= {STREAM_GOAL_RECORDS_PER_S:,.0f}/s",
            verdict=(
                "INVALID"
                if any(r["errors"] for r in stream_runs)
                else ("PASS" if stream >= STREAM_GOAL_RECORDS_PER_S else "MISS")
            ),
        )
    )
    row("aggregate calls/s vs one replica", "one-submit", "two-submit", "calls_per_s", None)
    return rows
