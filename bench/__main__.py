"""``python -m bench`` (``make bench``): the gateway against the raw grpc.aio echo baseline.

For each round and each scenario a fresh echo server is measured, then a fresh gateway, each in
its own subprocess on 127.0.0.1. The medians over rounds and the ratios gateway/echo are printed
as a table and written to ``bench/results/latest.json``. See ``bench/README.md``. The ``adapters``
scenario runs in process instead: each adapter's decode against the tokenizing underneath it.

Exit status: 0 when every measurement completed without errors (whether the goals were met is in
the report), 1 when a server refused records or an RPC failed, 2 when a server could not be run
(or an adapter refused the benchmark's input), 130 on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.adapter_inputs import InputError
from bench.adapters import AdapterBench, describe_run, summarize_adapters
from bench.health_load import HEALTH_VARIANTS, as_run, measure_health, summarize_health
from bench.http_load import HTTP_CONCURRENCIES, measure_http, summarize_http
from bench.load import (
    RecordNumbers,
    SubmitMeasurement,
    measure_memory,
    measure_stream,
    measure_submit,
)
from bench.postgresql import as_run as postgresql_run
from bench.postgresql import replicas_on_one_schema, summarize_postgresql
from bench.records import BENCH_CENTRE, RecordEncoder, new_run_tag
from bench.report import format_table, machine_info, summarize
from bench.screening_load import screening_caught_up, seed_entries
from bench.servers import (
    REPO_ROOT,
    ServerFailedError,
    ServerProcess,
    kill_leftovers,
    read_cpu_seconds,
    running_server,
)
from bench.signing import sign_and_verify_costs
from bench.subscribers import (
    SUBSCRIBER_BACKENDS,
    SUBSCRIBER_VARIANTS,
    open_subscribers,
    subscribers_limits,
    summarize_subscribers,
)
from bench.telemetry import OFFICIAL_VARIANTS, VARIANTS, OtlpReceiver, summarize_telemetry
from bench.withdrawals import run_as_scenario as run_withdrawals
from bench.withdrawals import summarize_withdrawals
from gateway.config import LimitsConfig

SCENARIOS = (
    "submit",
    "screened",
    "stream",
    "memory",
    "signing",
    "subscribers",
    "health",
    "http",
    "telemetry",
    "adapters",
    "screening",
    "postgresql",
    "withdrawals",
)
DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "latest.json"


@dataclass(frozen=True, slots=True)
class Plan:
    """What one benchmark run does."""

    rounds: int
    scenarios: tuple[str, ...]
    target: str
    """The server measured against the echo baseline: "gateway", or "echo" to check the harness."""
    concurrency: int
    submit_seconds: float
    submit_warmup_seconds: float
    stream_records: int
    batch_size: int
    """Records per SubmitStream message sent to the gateway (and to the like-for-like echo)."""
    stream_warmup_records: int
    memory_records: int
    memory_stream_records: int
    official: bool = False
    """Telemetry scenario: also measure the official OpenTelemetry gRPC interceptor."""
    screening_scale: float = 1.0
    """Screening scenario: share of the full size (1,000,000 notice names, 10,000,000 documents,
    1,000,000 records to rebuild from); --quick runs 1 %."""
    withdrawal_records: int = 10_000
    """Withdrawals scenario: records published to the three other centres, then withdrawn
    (issue 15's size; --quick 1,000)."""


def plan_output_dir() -> Path:
    """Where scenario-specific result files go (beside the main JSON document)."""
    return DEFAULT_OUTPUT.parent


def _plan(args: argparse.Namespace) -> Plan:
    quick = bool(args.quick)
    return Plan(
        rounds=args.rounds or (1 if quick else 3),
        scenarios=tuple(s for s in SCENARIOS if s in (args.only or SCENARIOS)),
        target=args.target,
        concurrency=64,
        submit_seconds=args.seconds or (2.0 if quick else 10.0),
        submit_warmup_seconds=0.5 if quick else 2.0,
        stream_records=args.stream_records or (5_000 if quick else 50_000),
        batch_size=500,
        stream_warmup_records=1_000 if quick else 2_000,
        memory_records=20_000 if quick else 200_000,
        # The gateway refuses more than 100,000 records per stream; 50,000 stays well under.
        memory_stream_records=5_000 if quick else 50_000,
        official=bool(args.official),
        screening_scale=0.01 if quick else 1.0,
        withdrawal_records=1_000 if quick else 10_000,
    )


_MAX_STREAM_RECORDS = LimitsConfig().max_records_per_stream
"""More records in one stream than the gateway's default cap would measure a refusal."""


def _positive(kind: type[int] | type[float], most: float = math.inf) -> Callable[[str], float]:
    """An argparse type: a number of ``kind`` above zero and at most ``most``."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value <= most:
            limit = "" if math.isinf(most) else f" and at most {most:,}"
            raise argparse.ArgumentTypeError(f"must be above 0{limit}: {text}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the Liaison gateway against a raw grpc.aio echo baseline.",
    )
    parser.add_argument(
        "--rounds", type=_positive(int), default=0, help="interleaved rounds (default 3, --quick 1)"
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeat for several)",
    )
    parser.add_argument(
        "--target",
        choices=("gateway", "echo"),
        default="gateway",
        help="server to measure against echo; 'echo' checks the harness (ratios near 1)",
    )
    parser.add_argument(
        "--seconds",
        type=_positive(float),
        default=0.0,
        help="Submit measuring time (default 10, --quick 2)",
    )
    parser.add_argument(
        "--stream-records",
        type=_positive(int, most=_MAX_STREAM_RECORDS),
        default=0,
        help="records in the SubmitStream scenario (default 50000, --quick 5000)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file (%(default)s)"
    )
    parser.add_argument(
        "--official",
        action="store_true",
        help="telemetry scenario: also measure the official OpenTelemetry gRPC interceptor",
    )
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _describe(scenario: str, result: dict[str, Any]) -> str:
    if scenario in ("submit", "screened", "telemetry", "signing"):
        text = (
            f"{result['calls_per_s']:,.0f} calls/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms"
        )
    elif scenario == "stream":
        text = (
            f"{result['records_per_s']:,.0f} records/s in {result['elapsed_s']:.1f} s "
            f"({result['batch_size']} per message)"
        )
        if result["single_records"]:
            text += f", {result['single_records_per_s']:,.0f} records/s (1 per message)"
    else:
        checkpoints = " ".join(f"{c:.0f}" for c in result["checkpoints_mib"])
        peaks = " ".join(f"{c:.0f}" for c in result["peaks_mib"])
        text = (
            f"RSS start {result['start_mib']:.0f} MiB, after each stream {checkpoints}, "
            f"peak after each stream {peaks} MiB"
        )
    if result["errors"]:
        text += f"  ERRORS {result['errors']}: {result['error_examples']}"
    return text


async def _measure(
    scenario: str,
    plan: Plan,
    server: ServerProcess,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    *,
    baseline: bool,
) -> dict[str, Any]:
    if scenario in ("submit", "screened", "telemetry", "signing"):
        if scenario == "screened" and not baseline:
            await seed_entries(server.address)
            await screening_caught_up(server.address)  # the seed's passports are screened too
        submit = await measure_submit(
            server,
            encoder,
            numbers,
            concurrency=plan.concurrency,
            seconds=plan.submit_seconds,
            warmup_seconds=plan.submit_warmup_seconds,
        )
        measured = asdict(submit)
        if scenario == "screened" and not baseline:
            # Screening runs after the commit: how far behind the load it was, in seconds.
            measured["screening_lag_s"] = await screening_caught_up(server.address)
        return measured
    if scenario == "stream":
        stream = await measure_stream(
            server,
            encoder,
            numbers,
            records=plan.stream_records,
            batch_size=plan.batch_size,
            warmup_records=plan.stream_warmup_records,
            # The issue measures the echo with one record per message; the gateway takes batches.
            single_records=plan.stream_records if baseline else 0,
        )
        return asdict(stream)
    memory = await measure_memory(
        server,
        encoder,
        numbers,
        records=plan.memory_records,
        stream_records=plan.memory_stream_records,
        batch_size=plan.batch_size,
        warmup_records=plan.stream_warmup_records,
    )
    return asdict(memory)


async def _run_rounds(plan: Plan, runs: list[dict[str, Any]]) -> None:
    """Measure every (round, scenario) with echo then the target, appending to ``runs``."""
    encoder = RecordEncoder(new_run_tag())
    adapter_bench = AdapterBench()
    encoder.check()
    numbers = RecordNumbers()
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as scratch:
        for round_number in range(1, plan.rounds + 1):
            for scenario in plan.scenarios:
                if scenario == "screening":
                    # Once: quality on the evaluation set (with nomenklatura beside it) in
                    # process, then speed at 1M notices + 10M documents and the rebuild from 1M
                    # records in a process of their own (bench/screening/run.py).
                    if round_number == 1:
                        from bench.screening.run import run as run_screening

                        run_screening(
                            plan_output_dir() / "screening.json", scale=plan.screening_scale
                        )
                    continue
                if scenario == "withdrawals":
                    # Once: four centres as processes, each phase of issue 15's propagation
                    # (bench/withdrawals.py); blocking, so on a thread of its own.
                    if round_number == 1:
                        run = await asyncio.to_thread(
                            run_withdrawals, plan.withdrawal_records, Path(scratch)
                        )
                        runs.append(run)
                        for line in summarize_withdrawals(runs):
                            _say(f"[round 1/{plan.rounds}] {line}")
                    continue
                if scenario == "adapters":
                    # In process, no server: the adapters' decode and encode against the raw
                    # tokenizing of the same payloads (bench/adapters.py).
                    for run in adapter_bench.measure_round(round_number):
                        runs.append(run)
                        _say(f"[round {round_number}/{plan.rounds}] adapters " + describe_run(run))
                    continue
                if scenario == "health":
                    # One fresh gateway per round: Health/Check probed idle, then while hostile
                    # payloads decode (bench/health_load.py).
                    async with running_server("gateway", scratch=Path(scratch)) as server:
                        for variant in HEALTH_VARIANTS:
                            measured = await measure_health(
                                server.address, variant, plan.submit_seconds
                            )
                            runs.append(as_run(measured, round_number))
                            _say(
                                f"[round {round_number}/{plan.rounds}] health {variant:<18} "
                                f"p50 {measured.p50_ms:.1f} ms, p99 {measured.p99_ms:.1f} ms, "
                                f"max {measured.max_ms:.1f} ms, {measured.translations} "
                                f"translations {measured.translation_codes}"
                            )
                    continue
                if scenario == "http":
                    # One gateway serving both: Submit over gRPC, then over HTTP/JSON (Connect),
                    # at each number of calls in flight (bench/http_load.py).
                    async with running_server("gateway-http", scratch=Path(scratch)) as server:
                        for concurrency in HTTP_CONCURRENCIES:
                            for measured_http in await measure_http(
                                server,
                                encoder,
                                numbers,
                                concurrency=concurrency,
                                seconds=plan.submit_seconds,
                                warmup_seconds=plan.submit_warmup_seconds,
                            ):
                                runs.append(measured_http.as_run(round_number))
                                _say(
                                    f"[round {round_number}/{plan.rounds}] http "
                                    f"{measured_http.transport:<4} {concurrency:>2} in flight: "
                                    f"{measured_http.calls_per_s:,.0f} calls/s, p50 "
                                    f"{measured_http.p50_ms:.2f} ms, p99 "
                                    f"{measured_http.p99_ms:.2f} ms, "
                                    f"{measured_http.failures} failed"
                                )
                    continue
                if scenario == "subscribers":
                    await _subscribers_round(
                        plan, round_number, Path(scratch), encoder, numbers, runs
                    )
                    continue
                if scenario == "postgresql":
                    await _postgresql_round(
                        plan, round_number, Path(scratch), encoder, numbers, runs
                    )
                    continue
                if scenario == "telemetry":
                    await _telemetry_round(
                        plan, round_number, Path(scratch), encoder, numbers, runs
                    )
                    continue
                # The signing scenario measures the gateway against itself, signing every version.
                scenario_roles = (
                    (("baseline", "gateway"), ("target", "gateway-signed"))
                    if scenario == "signing"
                    else _roles(scenario, plan.target)
                )
                for role, kind in scenario_roles:
                    async with running_server(kind, scratch=Path(scratch)) as server:
                        result = await _measure(
                            scenario, plan, server, encoder, numbers, baseline=role == "baseline"
                        )
                    if server.killed or server.exit_code != 0:
                        how = "was killed" if server.killed else f"exited {server.exit_code}"
                        _say(f"  warning: {kind} server {how} on SIGTERM")
                    runs.append(
                        {
                            "round": round_number,
                            "scenario": scenario,
                            "role": role,
                            "server": kind,
                            "server_exit_code": server.exit_code,
                            "server_killed": server.killed,
                            **result,
                        }
                    )
                    _say(
                        f"[round {round_number}/{plan.rounds}] {scenario:<6} {kind:<7} "
                        + _describe(scenario, result)
                    )


def _screened_note(runs: list[dict[str, Any]]) -> str:
    """The screened gateway against the unscreened one (same rounds), and how far behind the
    load its screening was; empty without both."""
    screened = {
        r["round"]: r for r in runs if r["scenario"] == "screened" and r["role"] == "target"
    }
    unscreened = {
        r["round"]: r for r in runs if r["scenario"] == "submit" and r["role"] == "target"
    }
    lags = [r["screening_lag_s"] for r in screened.values() if "screening_lag_s" in r]
    if not lags:
        return ""
    text = "screened: screening caught up " + ", ".join(f"{lag:.1f}" for lag in lags)
    text += " s after each round's load ended"
    ratios = [
        screened[n]["calls_per_s"] / unscreened[n]["calls_per_s"]
        for n in sorted(screened)
        if n in unscreened and unscreened[n]["calls_per_s"]
    ]
    if ratios:
        text += "; screened / unscreened gateway " + " ".join(f"{x:.2f}" for x in ratios)
    return text + "."


def _roles(scenario: str, target: str) -> tuple[tuple[str, str], ...]:
    """Echo against the gateway: for ``submit`` with screening off (comparable with the rounds
    before screening), for ``screened`` as shipped (screening every commit, index seeded)."""
    if target == "gateway" and scenario == "submit":
        target = "gateway-unscreened"
    return (("baseline", "echo"), ("target", target))


async def _subscribers_round(
    plan: Plan,
    round_number: int,
    scratch: Path,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    runs: list[dict[str, Any]],
) -> None:
    """One round of the subscribers scenario, on each backend: no subscriber, then each
    variant, each on a fresh gateway (a fresh schema on PostgreSQL)."""
    for backend in SUBSCRIBER_BACKENDS:
        for variant in ("none", *SUBSCRIBER_VARIANTS):
            async with _subscribers_server(backend, scratch) as server:
                result, extra = await _subscribers_measure(plan, server, encoder, numbers, variant)
            runs.append(
                {
                    "round": round_number,
                    "scenario": "subscribers",
                    "role": "baseline" if variant == "none" else "target",
                    "backend": backend,
                    "variant": variant,
                    "server": server.kind,
                    "server_exit_code": server.exit_code,
                    "server_killed": server.killed,
                    **extra,
                    **result,
                }
            )
            _say(
                f"[round {round_number}/{plan.rounds}] subscribers {backend:<10} {variant:<16} "
                + _describe("submit", result)
                + (
                    f", subscriber CPU {extra['subscriber_cpu_share']:.2f}"
                    f", delivered {extra['delivered_share']:.2f}"
                    if extra
                    else ""
                )
            )


@contextlib.asynccontextmanager
async def _subscribers_server(backend: str, scratch: Path) -> AsyncIterator[ServerProcess]:
    if backend == "sqlite":
        async with running_server("gateway-subscribers", scratch=scratch) as server:
            yield server
        return
    async with replicas_on_one_schema(1, scratch, extra=subscribers_limits()) as servers:
        yield servers[0]


async def _subscribers_measure(
    plan: Plan,
    server: ServerProcess,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    variant: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submit measured on ``server`` with ``variant``'s subscribers open; (the measurement,
    what the subscribers received)."""
    if variant == "none":
        return await _measure("submit", plan, server, encoder, numbers, baseline=True), {}
    async with open_subscribers(server.address, variant) as subscribers:
        first = numbers.issued
        cpu_before, started = read_cpu_seconds(subscribers.pid), time.perf_counter()
        result = await _measure("submit", plan, server, encoder, numbers, baseline=False)
        cpu = read_cpu_seconds(subscribers.pid) - cpu_before
        elapsed = time.perf_counter() - started
        stored = numbers.issued - first
        received = await subscribers.collect(stored)
    extra = {
        "subscribers": len(received.events),
        "subscriber_cpu_share": cpu / elapsed,
        "delivered_share": received.delivered_share(stored),
        "subscriber_failures": received.failures[:5],
        "subscriber_backwards": received.backwards,
    }
    errors = dict(result["errors"])
    if received.failures:
        errors["SUBSCRIBER_FAILED"] = len(received.failures)
    if received.backwards:
        errors["SUBSCRIBER_BACKWARDS"] = received.backwards
    result["errors"] = errors
    return result, extra


async def _postgresql_round(
    plan: Plan,
    round_number: int,
    scratch: Path,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    runs: list[dict[str, Any]],
) -> None:
    """One round of the postgresql scenario (bench/postgresql.py): the echo, one replica, two."""

    def note(run: dict[str, Any]) -> None:
        runs.append(run)
        kind = "stream" if run["variant"].endswith("stream") else "submit"
        _say(
            f"[round {round_number}/{plan.rounds}] postgresql {run['variant']:<11} "
            + _describe(kind, run)
        )

    async with running_server("echo", scratch=scratch) as echo:
        submit = await _measure("submit", plan, echo, encoder, numbers, baseline=True)
        stream = await _measure("stream", plan, echo, encoder, numbers, baseline=False)
    note(postgresql_run(round_number, "echo-submit", [echo], submit))
    note(postgresql_run(round_number, "echo-stream", [echo], stream))
    async with replicas_on_one_schema(1, scratch) as servers:
        submit = await _measure("submit", plan, servers[0], encoder, numbers, baseline=False)
    note(postgresql_run(round_number, "one-submit", servers, submit))
    async with replicas_on_one_schema(1, scratch) as servers:
        stream = await _measure("stream", plan, servers[0], encoder, numbers, baseline=False)
    note(postgresql_run(round_number, "one-stream", servers, stream))
    async with replicas_on_one_schema(2, scratch) as servers:
        halves = await asyncio.gather(
            *(
                measure_submit(
                    server,
                    encoder,
                    numbers,
                    concurrency=plan.concurrency // len(servers),
                    seconds=plan.submit_seconds,
                    warmup_seconds=plan.submit_warmup_seconds,
                )
                for server in servers
            )
        )
    note(postgresql_run(round_number, "two-submit", servers, _aggregate(halves)))


def _aggregate(halves: Sequence[SubmitMeasurement]) -> dict[str, Any]:
    """Submit measured on several replicas at once, as one: calls add up, latency the worst."""
    errors: dict[str, int] = {}
    for half in halves:
        for kind, count in half.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    calls = sum(half.calls for half in halves)
    elapsed = max(half.elapsed_s for half in halves)
    return {
        "concurrency": sum(half.concurrency for half in halves),
        "calls": calls,
        "elapsed_s": elapsed,
        "calls_per_s": sum(half.calls_per_s for half in halves),
        "p50_ms": max(half.p50_ms for half in halves),
        "p99_ms": max(half.p99_ms for half in halves),
        "server_cpu_us_per_call": statistics.mean(h.server_cpu_us_per_call for h in halves),
        "client_cpu_share": sum(half.client_cpu_share for half in halves),
        "errors": errors,
        "error_examples": {k: v for half in halves for k, v in half.error_examples.items()},
        "per_replica_calls_per_s": [half.calls_per_s for half in halves],
    }


async def _telemetry_round(
    plan: Plan,
    round_number: int,
    scratch: Path,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    runs: list[dict[str, Any]],
) -> None:
    """One round of the telemetry scenario: every variant, back to back, against one receiver."""
    receiver = OtlpReceiver()
    await receiver.start()
    try:
        variants = VARIANTS + (OFFICIAL_VARIANTS if plan.official else ())
        # Rotated every round, so that no variant always runs first (or last) in a round: on a
        # shared machine the load drifts within a round, and a fixed order would bias the ratios.
        shift = (round_number - 1) % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            spans_before = receiver.spans
            environment = variant.environment(receiver.endpoint)
            async with running_server(
                variant.server, scratch=scratch, environment=environment
            ) as server:
                result = await _measure(
                    "telemetry", plan, server, encoder, numbers, baseline=variant.ratio is None
                )
            # Stopping the server flushed its last spans to the receiver.
            spans = receiver.spans - spans_before
            runs.append(
                {
                    "round": round_number,
                    "scenario": "telemetry",
                    "role": "baseline" if variant.ratio is None else "target",
                    "variant": variant.name,
                    "server": variant.server,
                    "sampling_ratio": variant.ratio,
                    "server_exit_code": server.exit_code,
                    "server_killed": server.killed,
                    "spans_exported": spans,
                    # Warm-up calls are traced too; this is spans per measured call, roughly.
                    "spans_per_call": spans / max(result["calls"], 1),
                    **result,
                }
            )
            _say(
                f"[round {round_number}/{plan.rounds}] telemetry {variant.name:<16} "
                + _describe("telemetry", result)
                + f", {spans:,} spans exported"
            )
    finally:
        await receiver.stop()


def _clean(value: Any) -> Any:
    """NaN and infinities as null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


async def _collect(plan: Plan, runs: list[dict[str, Any]]) -> tuple[int, str | None]:
    """Run the rounds into ``runs``; (exit status, error) even when stopped early."""
    # SIGTERM (e.g. from a CI timeout) must stop the servers too: treat it as Ctrl-C.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await _run_rounds(plan, runs)
    except (ServerFailedError, InputError) as failure:
        _say(f"liaison bench: {failure}")
        return 2, str(failure)
    except asyncio.CancelledError:
        # The servers were stopped by the context managers while the cancellation unwound; what
        # was measured so far is still reported.
        _say("liaison bench: interrupted; servers stopped")
        return 130, "interrupted"
    return (1 if any(run["errors"] for run in runs) else 0), None


def _report(
    plan: Plan,
    runs: list[dict[str, Any]],
    error: str | None,
    started: float,
    load_before: tuple[float, float, float],
    machine: dict[str, Any],
    output: Path,
) -> None:
    """Write the JSON document and print the table."""
    rows = summarize(
        [
            run
            for run in runs
            if run["scenario"]
            not in ("telemetry", "adapters", "subscribers", "http", "postgresql", "withdrawals")
        ]
    )
    postgresql_rows = summarize_postgresql(runs)
    telemetry_rows = summarize_telemetry(runs)
    subscriber_rows = summarize_subscribers(runs)
    health_rows = summarize_health(runs)
    adapter_rows = summarize_adapters(runs)
    target_name = "echo (target)" if plan.target == "echo" else plan.target
    load_after = os.getloadavg()
    document = {
        "benchmark": "liaison gateway vs raw grpc.aio echo",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "complete": error is None,
        "error": error,
        "plan": asdict(plan),
        "machine": machine,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "summary": [
            asdict(row)
            for row in rows + telemetry_rows + subscriber_rows + adapter_rows + postgresql_rows
        ],
        "runs": runs,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(_clean(document), indent=2) + "\n", encoding="utf-8")
    if rows:
        print()
        print(format_table(rows, "echo", target_name))
        print()
    if telemetry_rows:
        print(format_table(telemetry_rows, "off", "on"))
        print()
    if subscriber_rows:
        print(format_table(subscriber_rows, "none", "with"))
        print()
    if postgresql_rows:
        print(format_table(postgresql_rows, "baseline", "postgresql"))
        print()
    if health_rows:
        print(format_table(health_rows, "idle", "hostile"))
        print()
    if adapter_rows:
        print(format_table(adapter_rows, "baseline", "adapter"))
        print()
    for line in summarize_http(runs):
        print(line)
    for line in summarize_withdrawals(runs):
        print(line)
    if "signing" in plan.scenarios:
        with tempfile.TemporaryDirectory() as keys:
            sign_us, verify_us = sign_and_verify_costs(Path(keys), BENCH_CENTRE)
        per_call = [
            1e6 / run["calls_per_s"]
            for run in runs
            if run["scenario"] == "signing" and run["role"] == "baseline" and run["calls_per_s"]
        ]
        share = (
            f"; one unsigned Submit takes {min(per_call):.0f} µs of wall time" if per_call else ""
        )
        document["signing_micro"] = {"sign_us": sign_us, "verify_us": verify_us}
        output.write_text(json.dumps(_clean(document), indent=2) + "\n", encoding="utf-8")
        print(
            f"signing: {sign_us:.0f} µs to sign a version, {verify_us:.0f} µs to verify one "
            f"(in process, one core){share}. Signing ratio = signed / unsigned gateway."
        )
    screened_note = _screened_note(runs)
    if screened_note:
        print(screened_note)
    print(
        f"{plan.rounds} round(s) on {machine['nproc']} CPU(s), 1-minute load average "
        f"{load_before[0]:.2f} -> {load_after[0]:.2f}. Medians over rounds; "
        f"ratio = {target_name} / echo"
        + ("; adapters: ratio = adapter / baseline time per record" if adapter_rows else "")
        + f". Results: {output}"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    args = _parser().parse_args(argv)
    plan = _plan(args)
    started = time.time()
    load_before = os.getloadavg()
    machine = machine_info()
    _say(
        f"liaison bench: {plan.rounds} round(s) of {', '.join(plan.scenarios)}, echo vs "
        f"{plan.target}; {machine['nproc']} CPU(s) {machine['cpu_model']}; "
        f"load average {load_before[0]:.2f}"
    )
    runs: list[dict[str, Any]] = []
    try:
        status, error = asyncio.run(_collect(plan, runs))
    except KeyboardInterrupt:
        # A second Ctrl-C while stopping: asyncio.run gave up; kill what is left below.
        status, error = 130, "interrupted"
    finally:
        kill_leftovers()
    _report(plan, runs, error, started, load_before, machine, args.output)
    return status


if __name__ == "__main__":
    sys.exit(main())
