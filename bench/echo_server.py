"""The baseline: raw grpc.aio serving liaison.v1.RecordExchange with no validation and no store.

Every benchmark figure of the gateway is divided by this server's figure measured in the same
run, so the baseline has to do the work any gateway must do and nothing more: receive and parse
the same messages through the same generated servicer base class, and answer with responses of
the same shape and size (an ack with id, version, sequence, commit time and a SHA-256). What it
leaves out (validation, canonicalisation, indexing, SQLite and durability) is what the ratio
charges to the gateway.

Run it as ``python -m bench.echo_server --listen 127.0.0.1:0``; it prints
``bench.echo_server: listening on 127.0.0.1:PORT`` to stderr and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import signal
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeAlias

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.config import LimitsConfig
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, record_pb2

__all__ = ["EchoRecordExchange", "main", "serve"]

_DESCRIPTION = (
    "Baseline RecordExchange server for the Liaison benchmarks (no validation, no store)."
)
_ONLY_SUBMIT = "the benchmark echo server implements Submit and SubmitStream only"

# Typed empty iterables make Search and Subscribe async generators that yield nothing, which is
# what the generated base class expects of server-streaming methods.
_NO_SEARCH_RESPONSES: tuple[exchange_pb2.SearchResponse, ...] = ()
_NO_SUBSCRIBE_RESPONSES: tuple[exchange_pb2.SubscribeResponse, ...] = ()

if TYPE_CHECKING:
    # Only the type stubs make the context generic; the runtime class cannot be subscripted.
    Context: TypeAlias = grpc.aio.ServicerContext[object, object]


class EchoRecordExchange(exchange_pb2_grpc.RecordExchangeServicer):
    """Acknowledges every record as if it had been stored, without looking at it."""

    def __init__(self) -> None:
        """Start the sequence numbers at 1, as a fresh store would."""
        self._sequence = itertools.count(1)

    def _ack(self, record: record_pb2.Record) -> exchange_pb2.SubmitAck:
        # The gateway hashes a canonical serialization; hashing the plain serialization costs
        # the same and gives a 32-byte digest, so the response size matches too.
        ack = exchange_pb2.SubmitAck(
            record_id=record.record_id,
            version=1,
            sequence=next(self._sequence),
            content_sha256=hashlib.sha256(record.SerializeToString()).digest(),
        )
        ack.committed_at.CopyFrom(_now())
        return ack

    async def Submit(
        self, request: exchange_pb2.SubmitRequest, context: Context
    ) -> exchange_pb2.SubmitResponse:
        """Acknowledge the record as version 1."""
        return exchange_pb2.SubmitResponse(ack=self._ack(request.record))

    async def SubmitStream(
        self,
        request_iterator: AsyncIterator[exchange_pb2.SubmitStreamRequest],
        context: Context,
    ) -> exchange_pb2.SubmitStreamResponse:
        """Consume the whole stream, then acknowledge every record in stream order."""
        response = exchange_pb2.SubmitStreamResponse()
        index = 0
        async for message in request_iterator:
            for record in message.records:
                response.results.append(
                    exchange_pb2.SubmitResult(index=index, ack=self._ack(record))
                )
                index += 1
        response.received = index
        response.stored = index
        return response

    async def Get(
        self, request: exchange_pb2.GetRequest, context: Context
    ) -> exchange_pb2.GetResponse:
        """Not part of the baseline: UNIMPLEMENTED."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, _ONLY_SUBMIT)

    async def Search(
        self, request: exchange_pb2.SearchRequest, context: Context
    ) -> AsyncIterator[exchange_pb2.SearchResponse]:
        """Not part of the baseline: UNIMPLEMENTED."""
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details(_ONLY_SUBMIT)
        for response in _NO_SEARCH_RESPONSES:
            yield response

    async def Subscribe(
        self, request: exchange_pb2.SubscribeRequest, context: Context
    ) -> AsyncIterator[exchange_pb2.SubscribeResponse]:
        """Not part of the baseline: UNIMPLEMENTED."""
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details(_ONLY_SUBMIT)
        for response in _NO_SUBSCRIBE_RESPONSES:
            yield response

    async def Withdraw(
        self, request: exchange_pb2.WithdrawRequest, context: Context
    ) -> exchange_pb2.WithdrawResponse:
        """Not part of the baseline: UNIMPLEMENTED."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, _ONLY_SUBMIT)

    async def ExtendRetention(
        self, request: exchange_pb2.ExtendRetentionRequest, context: Context
    ) -> exchange_pb2.ExtendRetentionResponse:
        """Not part of the baseline: UNIMPLEMENTED."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, _ONLY_SUBMIT)

    async def ListReviews(
        self, request: exchange_pb2.ListReviewsRequest, context: Context
    ) -> exchange_pb2.ListReviewsResponse:
        """Not part of the baseline: UNIMPLEMENTED."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, _ONLY_SUBMIT)

    async def ListThreads(
        self, request: exchange_pb2.ListThreadsRequest, context: Context
    ) -> exchange_pb2.ListThreadsResponse:
        """Not part of the baseline: UNIMPLEMENTED."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, _ONLY_SUBMIT)


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


async def serve(listen: str, grace_seconds: float = 5.0) -> None:
    """Serve on ``listen`` until SIGTERM or SIGINT, then stop with ``grace_seconds`` of grace."""
    # The same message-size limit as the gateway's default, so both refuse the same inputs.
    limit = LimitsConfig().max_message_bytes
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", -1),
        ]
    )
    exchange_pb2_grpc.add_RecordExchangeServicer_to_server(EchoRecordExchange(), server)
    try:
        port = server.add_insecure_port(listen)
    except RuntimeError as error:
        # Recent grpcio raises on a failed bind; older versions returned port 0.
        raise SystemExit(f"bench.echo_server: cannot listen on {listen}: {error}") from None
    if port == 0:
        raise SystemExit(f"bench.echo_server: cannot listen on {listen}")
    await server.start()
    host = listen.rpartition(":")[0]
    print(f"bench.echo_server: listening on {host}:{port}", file=sys.stderr, flush=True)

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await server.stop(grace_seconds)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.echo_server", description=_DESCRIPTION)
    parser.add_argument(
        "--listen", default="127.0.0.1:0", help="host:port to bind (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
