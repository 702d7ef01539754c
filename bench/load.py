"""The load generator: the three scenarios, run from this process with a grpc.aio client.

The client calls the methods through multi-callables without serializers: requests are bytes
pre-serialized by :class:`bench.records.RecordEncoder`, responses arrive as bytes, and a call is
timed until its bytes arrive. The client shares the machine's two cores with the server it
measures, and every microsecond it spends on protobuf is one the server does not get; that caps
the faster server (the baseline) most and would flatter the ratio. Responses are still parsed
and checked after timing, so a server that refuses records cannot look fast.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc

from bench.records import RecordEncoder
from bench.servers import ServerProcess, read_cpu_seconds, read_rss_kib
from liaison.v1 import exchange_pb2

__all__ = [
    "MemoryMeasurement",
    "RecordNumbers",
    "StreamMeasurement",
    "SubmitMeasurement",
    "measure_memory",
    "measure_stream",
    "measure_submit",
    "open_channel",
]

_SERVICE = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"].full_name
_SUBMIT = f"/{_SERVICE}/Submit"
_SUBMIT_STREAM = f"/{_SERVICE}/SubmitStream"

# A SubmitStream response carries one result (about 100 bytes) per record, so a 50,000-record
# stream answers with about 5 MB: over gRPC's default 4 MiB receive limit.
_MAX_RECEIVE_BYTES = 256 * 1024 * 1024

_CALL_TIMEOUT_S = 120.0
"""Per call; generous because a 50,000-record stream to a busy gateway takes many seconds."""


def open_channel(address: str) -> grpc.aio.Channel:
    """A channel to ``address`` (always 127.0.0.1:PORT) able to receive large stream responses."""
    return grpc.aio.insecure_channel(
        address, options=[("grpc.max_receive_message_length", _MAX_RECEIVE_BYTES)]
    )


def _submit_callable(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    # No serializers: requests go out as the given bytes, responses come back as bytes.
    return channel.unary_unary(_SUBMIT, request_serializer=None, response_deserializer=None)


def _stream_callable(
    channel: grpc.aio.Channel,
) -> grpc.aio.StreamUnaryMultiCallable[bytes, bytes]:
    return channel.stream_unary(_SUBMIT_STREAM, request_serializer=None, response_deserializer=None)


class RecordNumbers:
    """Hands out record numbers, never twice in a run, so every submitted record id is new."""

    def __init__(self) -> None:
        """Start at zero."""
        self._next = 0

    def take(self, count: int) -> range:
        """The next ``count`` numbers. Blocks start even so that persons precede their documents."""
        first = self._next + self._next % 2
        self._next = first + count
        return range(first, first + count)

    @property
    def issued(self) -> int:
        """How many numbers were handed out (or skipped) so far."""
        return self._next

    def one(self) -> int:
        """The next number."""
        number = self._next
        self._next += 1
        return number


@dataclass(slots=True)
class _Errors:
    """RPC failures and refused records, by kind, with the first message of each kind."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        self.examples.setdefault(kind, message[:500])


def _rpc_error(errors: _Errors, error: grpc.aio.AioRpcError) -> None:
    errors.add(error.code().name, error.details() or "")


def _percentile_ms(sorted_ns: list[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted nanosecond latencies, in milliseconds."""
    if not sorted_ns:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


@dataclass(frozen=True, slots=True)
class SubmitMeasurement:
    """Unary Submit with a fixed number of calls in flight for a fixed time."""

    concurrency: int
    calls: int
    """Calls completed with a correct ack."""
    elapsed_s: float
    calls_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_call: float
    """Server CPU time (all threads) per completed call: less noisy than throughput."""
    client_cpu_share: float
    """Load generator CPU seconds per second; near 1.0 it may be what limits the rate."""
    errors: dict[str, int]
    error_examples: dict[str, str]


async def _submit_for(
    channel: grpc.aio.Channel,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    concurrency: int,
    seconds: float,
    errors: _Errors,
) -> tuple[list[int], float]:
    """Run ``concurrency`` closed-loop callers for ``seconds``; (latencies in ns, elapsed s)."""
    call = _submit_callable(channel)
    latencies: list[int] = []
    start = time.perf_counter()
    deadline = start + seconds

    async def caller() -> None:
        while time.perf_counter() < deadline:
            number = numbers.one()
            request = encoder.entry(number)
            began = time.perf_counter_ns()
            try:
                raw = await call(request, timeout=_CALL_TIMEOUT_S)
            except grpc.aio.AioRpcError as error:
                _rpc_error(errors, error)
                continue
            latencies.append(time.perf_counter_ns() - began)
            ack = exchange_pb2.SubmitResponse.FromString(raw).ack
            if ack.record_id != encoder.record_id(number) or ack.duplicate:
                errors.add("BAD_ACK", f"sent {encoder.record_id(number)}, got ack {ack}")

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return latencies, time.perf_counter() - start


async def measure_submit(
    server: ServerProcess,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    *,
    concurrency: int,
    seconds: float,
    warmup_seconds: float,
) -> SubmitMeasurement:
    """Closed-loop Submit: ``concurrency`` callers, each sending its next record on each ack."""
    async with open_channel(server.address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        # Warm-up fills connection windows, caches and the gateway's lazily built state.
        await _submit_for(channel, encoder, numbers, concurrency, warmup_seconds, _Errors())
        errors = _Errors()
        cpu_before, client_before = read_cpu_seconds(server.pid), time.process_time()
        latencies, elapsed = await _submit_for(
            channel, encoder, numbers, concurrency, seconds, errors
        )
        server_cpu = read_cpu_seconds(server.pid) - cpu_before
        client_cpu = time.process_time() - client_before
    server.check_alive()
    latencies.sort()
    calls = len(latencies) - errors.counts["BAD_ACK"]
    return SubmitMeasurement(
        concurrency=concurrency,
        calls=calls,
        elapsed_s=elapsed,
        calls_per_s=calls / elapsed,
        p50_ms=_percentile_ms(latencies, 0.50),
        p99_ms=_percentile_ms(latencies, 0.99),
        server_cpu_us_per_call=server_cpu / max(calls, 1) * 1e6,
        client_cpu_share=client_cpu / elapsed,
        errors=dict(errors.counts),
        error_examples=errors.examples,
    )


@dataclass(frozen=True, slots=True)
class _StreamOutcome:
    elapsed_s: float
    client_cpu_s: float
    """Load generator CPU while the clock ran (encoding the batches happens before)."""
    stored: int
    """Records acknowledged (stored or duplicate) in the response."""


async def _stream(
    call: grpc.aio.StreamUnaryMultiCallable[bytes, bytes],
    encoder: RecordEncoder,
    numbers: range,
    batch_size: int,
    errors: _Errors,
) -> _StreamOutcome:
    """One SubmitStream of ``numbers`` in messages of ``batch_size`` records, checked."""
    # Serialized before the clock starts: the measure is the server's, not the encoder's.
    batches = [
        encoder.batch(first, min(batch_size, numbers.stop - first))
        for first in range(numbers.start, numbers.stop, batch_size)
    ]
    start, client_start = time.perf_counter(), time.process_time()
    try:
        stream = call(None, timeout=_CALL_TIMEOUT_S)
        for batch in batches:
            await stream.write(batch)
        await stream.done_writing()
        raw = await stream
    except grpc.aio.AioRpcError as error:
        _rpc_error(errors, error)
        return _StreamOutcome(time.perf_counter() - start, 0.0, 0)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_start
    response = exchange_pb2.SubmitStreamResponse.FromString(raw)
    acked = 0
    for result in response.results:
        if result.WhichOneof("outcome") == "ack":
            acked += 1
        else:
            errors.add(
                f"REFUSED_{result.error.code}",
                f"record {result.index}: {result.error.message} "
                + "; ".join(f"{v.field}: {v.description}" for v in result.error.field_violations),
            )
    if response.received != len(numbers) or len(response.results) != len(numbers):
        errors.add(
            "BAD_RESPONSE",
            f"sent {len(numbers)} records, response says received={response.received} "
            f"with {len(response.results)} results",
        )
    return _StreamOutcome(elapsed, client_cpu, acked)


@dataclass(frozen=True, slots=True)
class StreamMeasurement:
    """One client-streaming SubmitStream of many records, batched; for the baseline, also one
    stream of the same length with one record per message (the issue's definition of the echo).
    """

    records: int
    batch_size: int
    elapsed_s: float
    records_per_s: float
    """Records acknowledged per second, from the first write to the response."""
    server_cpu_us_per_record: float
    client_cpu_share: float
    single_records: int
    """Records acknowledged in the stream of one record per message (0: not measured)."""
    single_records_per_s: float
    """Records/s of that stream (NaN when not measured)."""
    single_server_cpu_us_per_record: float
    single_client_cpu_share: float
    errors: dict[str, int]
    error_examples: dict[str, str]


async def measure_stream(
    server: ServerProcess,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    *,
    records: int,
    batch_size: int,
    warmup_records: int,
    single_records: int = 0,
) -> StreamMeasurement:
    """SubmitStream throughput: one stream of ``records`` records in messages of ``batch_size``
    after a short warm-up stream; then, when ``single_records`` is not 0, a stream of that many
    records with one record per message (after its own warm-up)."""
    async with open_channel(server.address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        call = _stream_callable(channel)
        await _stream(call, encoder, numbers.take(warmup_records), batch_size, _Errors())
        errors = _Errors()
        batched, server_cpu = await _timed_stream(
            server, call, encoder, numbers.take(records), batch_size, errors
        )
        single, single_cpu = _StreamOutcome(math.nan, math.nan, 0), math.nan
        if single_records:
            await _stream(call, encoder, numbers.take(warmup_records), 1, _Errors())
            single, single_cpu = await _timed_stream(
                server, call, encoder, numbers.take(single_records), 1, errors
            )
    server.check_alive()
    return StreamMeasurement(
        records=batched.stored,
        batch_size=batch_size,
        elapsed_s=batched.elapsed_s,
        records_per_s=batched.stored / batched.elapsed_s,
        server_cpu_us_per_record=server_cpu / max(batched.stored, 1) * 1e6,
        client_cpu_share=batched.client_cpu_s / batched.elapsed_s,
        single_records=single.stored,
        single_records_per_s=single.stored / single.elapsed_s,
        single_server_cpu_us_per_record=single_cpu / max(single.stored, 1) * 1e6,
        single_client_cpu_share=single.client_cpu_s / single.elapsed_s,
        errors=dict(errors.counts),
        error_examples=errors.examples,
    )


async def _timed_stream(
    server: ServerProcess,
    call: grpc.aio.StreamUnaryMultiCallable[bytes, bytes],
    encoder: RecordEncoder,
    numbers: range,
    batch_size: int,
    errors: _Errors,
) -> tuple[_StreamOutcome, float]:
    """One checked stream and the server CPU seconds it took."""
    cpu_before = read_cpu_seconds(server.pid)
    outcome = await _stream(call, encoder, numbers, batch_size, errors)
    return outcome, read_cpu_seconds(server.pid) - cpu_before


@dataclass(frozen=True, slots=True)
class MemoryMeasurement:
    """Server RSS while it takes many records in several streams.

    While a stream runs, a server holds that stream's messages and its response on top of what
    it keeps, so RSS swings with every stream and the value at any instant depends on when the
    allocator happened to hand memory back. Flatness is therefore judged on the kernel's exact
    high-water mark (VmHWM): the first stream sets the peak a stream needs, and a server that
    keeps nothing per record does not raise that peak in the following streams.
    """

    records: int
    stream_records: int
    start_mib: float
    """RSS after the warm-up, before the measured streams."""
    checkpoints_mib: list[float]
    """RSS after each stream of ``stream_records`` records (once its response has arrived)."""
    peaks_mib: list[float]
    """VmHWM after each stream: the highest RSS of the process so far."""
    max_mib: float
    """Highest RSS of the process (VmHWM at the end; start-up included)."""
    growth_after_first_mib: float
    """VmHWM at the end minus VmHWM after the first stream: judged for flatness."""
    growth_bytes_per_record: float
    """That growth spread over the records sent after the first stream."""
    kept_growth_after_first_mib: float
    """Highest RSS between later streams minus the RSS after the first (noisier)."""
    records_per_s: float
    errors: dict[str, int]
    error_examples: dict[str, str]


async def measure_memory(
    server: ServerProcess,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    *,
    records: int,
    stream_records: int,
    batch_size: int,
    warmup_records: int,
    settle_s: float = 0.3,
) -> MemoryMeasurement:
    """RSS of the server at the start, after each stream, and its peak."""
    async with open_channel(server.address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        call = _stream_callable(channel)
        await _stream(call, encoder, numbers.take(warmup_records), batch_size, _Errors())
        # Let the warm-up's garbage settle so that "start" is the idle working set.
        await asyncio.sleep(2 * settle_s)
        start_kib = read_rss_kib(server.pid)[0]
        checkpoints: list[tuple[int, int]] = []
        errors = _Errors()
        stored = 0
        elapsed = 0.0
        for first in range(0, records, stream_records):
            count = min(stream_records, records - first)
            outcome = await _stream(call, encoder, numbers.take(count), batch_size, errors)
            stored += outcome.stored
            elapsed += outcome.elapsed_s
            # The server drops the stream's messages and response after sending it; a short
            # pause lets that happen so that the checkpoint shows what it keeps.
            await asyncio.sleep(settle_s)
            checkpoints.append(read_rss_kib(server.pid))
    server.check_alive()
    rss = [kib for kib, _ in checkpoints]
    peaks = [hwm for _, hwm in checkpoints]
    growth_kib = peaks[-1] - peaks[0]
    after_first = stored - stream_records
    return MemoryMeasurement(
        records=stored,
        stream_records=stream_records,
        start_mib=start_kib / 1024,
        checkpoints_mib=[kib / 1024 for kib in rss],
        peaks_mib=[kib / 1024 for kib in peaks],
        max_mib=peaks[-1] / 1024,
        growth_after_first_mib=growth_kib / 1024,
        growth_bytes_per_record=growth_kib * 1024 / after_first if after_first > 0 else math.nan,
        kept_growth_after_first_mib=(max(rss[1:]) - rss[0]) / 1024 if len(rss) > 1 else 0.0,
        records_per_s=stored / elapsed if elapsed else math.nan,
        errors=dict(errors.counts),
        error_examples=errors.examples,
    )
